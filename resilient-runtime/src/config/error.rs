//! What went wrong with a configuration, and what a successful one did.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// A configuration that was rejected as a whole: nothing of it was applied.
///
/// Its `Display` lists every problem, each with the file, the table and the key, and what is
/// allowed there:
///
/// ```text
/// shop.toml: ["shop::pay".circuit_breaker] threshold: expected the number of failures within `window` that opens the circuit: a whole number from 1 to 1000000
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    file: Option<PathBuf>,
    problems: Vec<Problem>,
}

/// One problem of a [`ConfigError`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The table, as written: `["shop::pay".circuit_breaker]`.
    pub table: Option<String>,
    /// The key within it.
    pub key: Option<String>,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(table: Option<String>, key: Option<String>, message: String) -> Self {
        Self { table, key, message }
    }
}

impl ConfigError {
    pub(crate) fn new(file: Option<PathBuf>, problems: Vec<Problem>) -> Self {
        Self { file, problems }
    }

    /// The file, when the configuration came from one.
    pub fn file(&self) -> Option<&std::path::Path> {
        self.file.as_deref()
    }

    /// Every problem found (at least one).
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            if let Some(file) = &self.file {
                write!(f, "{}: ", file.display())?;
            }
            if let Some(table) = &p.table {
                write!(f, "{table} ")?;
            }
            if let Some(key) = &p.key {
                write!(f, "{key}: ")?;
            }
            f.write_str(&p.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// What an applied configuration did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// Each table that matched live policies, with their names.
    pub matched: Vec<Matched>,
    /// Tables (`"name".kind`) that match no live policy yet. They are kept: a policy that
    /// first runs later starts with them.
    pub pending: Vec<String>,
}

/// A table and the live policies it applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Matched {
    /// `"pattern".kind`.
    pub table: String,
    /// The names of the policies it matched.
    pub policies: Vec<String>,
}
