//! What the types forbid, checked by compiling programs that must not compile.
//! Refresh the expected output with `TRYBUILD=overwrite cargo test -p piapi-kling --test compile_fail`.

#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
