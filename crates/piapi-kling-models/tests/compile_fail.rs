//! What the model types forbid, checked with trybuild.

#[test]
fn forbidden_uses_do_not_compile() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
