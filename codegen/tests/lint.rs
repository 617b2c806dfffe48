//! The linter and the IR builder reject, with a clear message, every construct
//! that would otherwise panic progenitor/typify or silently mis-generate.

use piapi_kling_codegen::{Spec, generate_models, models::ModelsOptions};
use std::path::PathBuf;

/// The error text of generating from `tests/bad/{name}.yaml`.
fn error_of(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/bad")
        .join(format!("{name}.yaml"));
    let text = std::fs::read_to_string(path).unwrap();
    let result = Spec::parse(text, &format!("{name}.yaml"))
        .and_then(|spec| generate_models(&spec, &ModelsOptions::default()).map(|_| ()));
    format!("{:#}", result.expect_err("the bad spec must be rejected"))
}

fn assert_rejects(name: &str, expected: &[&str]) {
    let message = error_of(name);
    for part in expected {
        assert!(
            message.contains(part),
            "{name}: expected the message to contain {part:?}, got:\n{message}"
        );
    }
}

#[test]
fn rejects_openapi_31() {
    assert_rejects("openapi31", &["3.1.0", "OpenAPI 3.0.x only"]);
}

#[test]
fn rejects_missing_operation_id() {
    assert_rejects(
        "missing_operation_id",
        &["paths./x.get", "missing operationId"],
    );
}

#[test]
fn rejects_unquoted_number_enum() {
    // Quoting lint (line) and typing lint (schema path) both name the problem.
    assert_rejects(
        "unquoted_enum",
        &[
            "enum value `1.0` is not quoted",
            "components.schemas.Version",
            "is not a string",
        ],
    );
}

#[test]
fn rejects_yaml11_ambiguous_enum() {
    assert_rejects(
        "yaml11_enum",
        &["line 9", "enum value `16:9` is not quoted"],
    );
}

#[test]
fn rejects_inline_enum() {
    assert_rejects(
        "inline_enum",
        &["components.schemas.Thing.properties.mode", "inline enum"],
    );
}

#[test]
fn rejects_type_null() {
    assert_rejects("type_null", &["type: null", "nullable: true"]);
}

#[test]
fn rejects_variant_name_collision() {
    assert_rejects(
        "collision",
        &[
            "`1-6` and `1.6` would both be named `V1_6`",
            "x-enum-varnames",
        ],
    );
}

#[test]
fn rejects_value_named_unknown() {
    assert_rejects(
        "unknown_value",
        &["`unknown` would be named `Unknown`", "reserved"],
    );
}

#[test]
fn rejects_rule_with_unknown_value() {
    assert_rejects("bad_rule", &["`rockett`", "not a value of Effect"]);
}

#[test]
fn the_real_spec_is_clean() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let spec = Spec::load(&root.join("spec/piapi-kling.yaml"), "spec/piapi-kling.yaml").unwrap();
    piapi_kling_codegen::lint_spec(&spec).unwrap();
}

#[test]
fn rejects_a_price_rule_naming_no_field() {
    assert_rejects(
        "bad_price",
        &["x-price", "`depht`", "not a field of the input"],
    );
}

#[test]
fn rejects_a_billing_charged_at_an_unknown_time() {
    assert_rejects(
        "bad_billing",
        &["x-simulate", "later", "creation", "completion"],
    );
}

#[test]
fn rejects_media_on_a_number() {
    assert_rejects("bad_media", &["x-media belongs on a string property"]);
}

/// `cargo xtask lint` and `generate` accept exactly the same specs: every
/// bad fixture is rejected by the linter alone too.
#[test]
fn lint_rejects_whatever_generate_rejects() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let linted =
            Spec::parse(text, &name).and_then(|spec| piapi_kling_codegen::lint_spec(&spec));
        assert!(
            linted.is_err(),
            "{name}: lint accepts what generate rejects"
        );
    }
}
