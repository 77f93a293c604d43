#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/bulkhead/pass/*.rs");
    t.compile_fail("ui/bulkhead/fail/*.rs");
}
