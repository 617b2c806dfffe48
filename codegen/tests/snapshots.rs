//! Snapshot tests of the models generator on small fixture specs, each covering
//! edge cases (numeric-looking values, keywords, a value named unknown, nullable
//! vs optional, integer enums, a tagged oneOf), compared with `expectorate`
//! (as progenitor and typify do): `EXPECTORATE=overwrite cargo test -p
//! piapi-kling-codegen` rewrites them; the trybuild pass proves each compiles and
//! behaves (the `compile/*.rs` mains assert on the generated types).

use piapi_kling_codegen::{Spec, generate_models, models::ModelsOptions};
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// Generates a fixture's enums and types into one module, as the snapshot holds it.
fn generate(name: &str) -> String {
    let path = dir().join("fixtures").join(format!("{name}.yaml"));
    let text = std::fs::read_to_string(&path).unwrap();
    let spec = Spec::parse(text, &format!("codegen/tests/fixtures/{name}.yaml")).unwrap();
    let options = ModelsOptions {
        enums_module: None,
        ..ModelsOptions::default()
    };
    let out = generate_models(&spec, &options).unwrap();
    // Both files carry the same header; keep it once.
    let types_body = out.types.split_once('\n').map(|(_, rest)| rest).unwrap();
    format!("{}{}", out.enums, types_body)
}

fn assert_snapshot(name: &str) {
    let path = dir().join("snapshots").join(format!("{name}.rs"));
    expectorate::assert_contents(path, &generate(name));
}

#[test]
fn enums_snapshot() {
    assert_snapshot("enums");
}

#[test]
fn structs_snapshot() {
    assert_snapshot("structs");
}

#[test]
fn tagged_snapshot() {
    assert_snapshot("tagged");
}

#[test]
fn generation_is_deterministic() {
    for name in ["enums", "structs", "tagged"] {
        assert_eq!(
            generate(name),
            generate(name),
            "{name} differs between runs"
        );
    }
}

#[test]
fn snapshots_compile_and_behave() {
    trybuild::TestCases::new().pass("tests/compile/*.rs");
}
