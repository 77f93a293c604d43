//! The macros never panic, whatever tokens they are given: random argument lists, every
//! truncation of valid ones, and mangled items all end in an expansion or a spanned error.

use std::str::FromStr;

use proc_macro2::TokenStream;

use crate::expand::attribute;
use crate::layers::Kind;

const KINDS: [Kind; 6] = [
    Kind::Retry,
    Kind::CircuitBreaker,
    Kind::Timeout,
    Kind::Idempotent,
    Kind::Hedge,
    Kind::RateLimit,
];

/// Valid argument lists, whose every prefix is also tried.
const VALID_ARGS: &[&str] = &[
    r#"max = 3, backoff = "exp", base = "100ms", max_delay = "10s", jitter = 0.1, when = is_transient, budget = "20%""#,
    r#"threshold = 5, window = "30s", cooldown = "10s", probes = 2, when = |e| e.is_x(), name = "db""#,
    r#"failure_rate = 0.5, min_calls = 10"#,
    r#""p99.9*3", initial = "1s", min = "5ms", max = "5s", warmup = 100, window = "60s""#,
    r#"key = request.id, ttl = "24h", store = "redis", fingerprint = (a, b), wait_in_flight = "1s""#,
    r#""250ms", on_cancel = Self::reset, cancel_safe = false, name = "t""#,
    r#"after = "p95", max = 3, budget = "10%", warmup = 50, window = "30s", per = id, name = "h""#,
    r#""100/s", burst = 20, wait = "250ms", per = self.id, max_partitions = 10, name = "r""#,
];

/// Functions the attributes are applied to, whose every prefix is also tried.
const ITEMS: &[&str] = &[
    "async fn f(&mut self, id: u64, name: String, request: Req) -> Result<u32, AppError> { self.x += 1; Ok(id) }",
    "pub(crate) async fn g<T: Clone>(x: T, (a, b): (u8, u8), _: u8) -> io::Result<T> where T: Send { Ok(x) }",
    "fn h(&self) -> Pin<Box<dyn Future<Output = Result<(), E>> + Send + 'async_trait>> { Box::pin(async move { Ok(()) }) }",
    "async fn nothing() {}",
    "struct S;",
    "impl<T> C<T> where T: Send { #[resilient::skip] async fn a(&self) -> u8 { 1 } #[retry(max = 2)] async fn b(&self, x: String) -> Result<(), E> { Ok(()) } fn c() {} const K: u8 = 1; }",
    "#[circuit_breaker(threshold = 2)] #[other] #[retry = 3] impl Tr for D { fn h<'async_trait>(&self) -> Pin<Box<dyn Future<Output = Result<(), E>> + Send + 'async_trait>> { Box::pin(async move { Ok(()) }) } }",
];

const VOCABULARY: &[&str] = &[
    "max",
    "backoff",
    "base",
    "jitter",
    "when",
    "budget",
    "threshold",
    "window",
    "cooldown",
    "probes",
    "failure_rate",
    "min_calls",
    "key",
    "ttl",
    "store",
    "fingerprint",
    "name",
    "initial",
    "min",
    "warmup",
    "on_cancel",
    "cancel_safe",
    "=",
    "==",
    ",",
    ";",
    ":",
    "::",
    "*",
    "-",
    "!",
    "&",
    "|e|",
    "0",
    "1",
    "-1",
    "1.5",
    "1e309",
    "18446744073709551616",
    "\"\"",
    "\"p\"",
    "\"p99*\"",
    "\"p*2\"",
    "\"p99*2\"",
    "\"p0*1\"",
    "\"100\"",
    "\"1.5.5s\"",
    "\"ms\"",
    "\"9999999999999999999999h\"",
    "\"full\"",
    "\"off\"",
    "\"-5%\"",
    "\"NaN%\"",
    "\"µs\"",
    "'a'",
    "b\"x\"",
    "true",
    "self",
    "async",
    "fn",
    "r#type",
    "()",
    "[]",
    "{}",
    "(1, 2)",
    "#",
    "#[x]",
    "__resilient_consumed",
    "resilient",
    "retry",
];

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn prefixes(text: &str) -> Vec<TokenStream> {
    let tokens: Vec<_> = TokenStream::from_str(text).unwrap().into_iter().collect();
    (0..=tokens.len()).map(|n| tokens[..n].iter().cloned().collect()).collect()
}

fn expand_all(args: &TokenStream, item: &TokenStream) {
    for kind in KINDS {
        let _ = attribute(kind, args.clone(), item.clone());
    }
}

#[test]
fn every_truncation_of_valid_input_expands_or_errors() {
    let full_item = TokenStream::from_str(ITEMS[0]).unwrap();
    for args in VALID_ARGS {
        for prefix in prefixes(args) {
            expand_all(&prefix, &full_item);
        }
    }
    for item in ITEMS {
        for prefix in prefixes(item) {
            expand_all(&TokenStream::new(), &prefix);
        }
    }
}

#[test]
fn random_token_soup_never_panics() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let items: Vec<TokenStream> = ITEMS.iter().map(|i| TokenStream::from_str(i).unwrap()).collect();
    for _ in 0..3_000 {
        let len = rng.below(12);
        let text: Vec<&str> = (0..len).map(|_| VOCABULARY[rng.below(VOCABULARY.len())]).collect();
        let Ok(args) = TokenStream::from_str(&text.join(" ")) else { continue };
        let item = &items[rng.below(items.len())];
        let _ = attribute(KINDS[rng.below(KINDS.len())], args, item.clone());
    }
}

#[test]
fn stacked_soup_never_panics() {
    let mut rng = Rng(42);
    for _ in 0..500 {
        let attrs: Vec<String> = (0..rng.below(4))
            .map(|_| {
                let kind = [
                    "retry",
                    "circuit_breaker",
                    "timeout",
                    "idempotent",
                    "resilient::retry",
                    "other",
                ][rng.below(6)];
                let args = VALID_ARGS[rng.below(VALID_ARGS.len())];
                format!("#[{kind}({args})]")
            })
            .collect();
        let item = format!("{} {}", attrs.join(" "), ITEMS[rng.below(2)]);
        let args = TokenStream::from_str(VALID_ARGS[rng.below(VALID_ARGS.len())]).unwrap();
        let _ =
            attribute(KINDS[rng.below(KINDS.len())], args, TokenStream::from_str(&item).unwrap());
    }
}

#[test]
fn the_soup_is_seasoned_with_valid_input() {
    // The no-panic tests would prove little if nothing ever reached code generation.
    let item = TokenStream::from_str(ITEMS[0]).unwrap();
    for (kind, args) in [
        (Kind::Retry, VALID_ARGS[0]),
        (Kind::CircuitBreaker, VALID_ARGS[1]),
        (Kind::CircuitBreaker, VALID_ARGS[2]),
        (Kind::Timeout, VALID_ARGS[3]),
        (Kind::Idempotent, VALID_ARGS[4]),
        (Kind::Timeout, VALID_ARGS[5]),
        (Kind::RateLimit, VALID_ARGS[7]),
    ] {
        let out = attribute(kind, TokenStream::from_str(args).unwrap(), item.clone()).to_string();
        assert!(!out.contains("compile_error"), "{kind:?}: {out}");
        assert!(out.contains("__resilient_self"), "{kind:?} generated the pipeline");
    }
}

#[test]
fn an_impl_block_puts_its_attributes_on_its_async_fns() {
    let out =
        attribute(Kind::Retry, TokenStream::from_str("max = 2").unwrap(), item(5)).to_string();
    assert!(!out.contains("compile_error"), "{out}");
    // On `b`, whose own `#[retry]` replaces the block's: nothing added; `a` is skipped.
    assert!(!out.contains(":: resilient :: retry"), "{out}");
    let out =
        attribute(Kind::Timeout, TokenStream::from_str("\"1s\"").unwrap(), item(5)).to_string();
    assert_eq!(out.matches(":: resilient :: timeout").count(), 1, "{out}");
    let out =
        attribute(Kind::Timeout, TokenStream::from_str("\"1s\"").unwrap(), item(6)).to_string();
    assert!(out.contains("compile_error"), "`#[retry = 3]` is an error: {out}");
}

fn item(i: usize) -> TokenStream {
    TokenStream::from_str(ITEMS[i]).unwrap()
}
