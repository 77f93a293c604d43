//! Compile-fail and compile-pass tests for the attributes. Each `.stderr` is what a user sees;
//! regenerate them with `TRYBUILD=overwrite cargo test -p resilient-tests --test ui` and read
//! every one as a user would before committing.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/*/pass/*.rs");
    t.compile_fail("ui/*/fail/*.rs");
}
