#[allow(dead_code, unexpected_cfgs)]
mod generated {
    include!("../snapshots/tagged.rs");
}
use generated::*;
use piapi_kling_models::Validate;

fn main() {
    let r: Request = serde_json::from_str(r#"{"shape":"square","input":{"corners":[{"radius":1}]}}"#).unwrap();
    assert_eq!(r.shape(), "square");
    assert!(matches!(&r, Request::Square(_)));
    r.validate().unwrap();

    let r: Request = serde_json::from_str(r#"{"shape":"circle","input":{"radius":-1,"url":"x"}}"#).unwrap();
    let paths: Vec<String> = r.validate().unwrap_err().iter().map(|v| format!("{v}")).collect();
    assert_eq!(
        paths,
        [
            "input.radius: must be at least 0, got -1 (minimum)",
            "input.url: must be an absolute http(s) URL, got `x` (format)",
            "input.url: needs `label` to be set (a linked circle needs a label) (requires)",
        ]
    );
    let empty: Request = serde_json::from_str(r#"{"shape":"square","input":{}}"#).unwrap();
    assert_eq!(empty.validate().unwrap_err().iter().next().unwrap().path, "input");
    // A tag the spec does not list decodes as `Unknown`, round-trips whole and
    // only warns; a listed tag with a broken body is still an error.
    let body = serde_json::json!({"shape": "triangle", "input": {"sides": 3}, "note": true});
    let r: Request = serde_json::from_value(body.clone()).unwrap();
    assert!(!r.is_known());
    assert_eq!(r.shape(), "triangle");
    assert_eq!(r.input_json()["sides"], 3);
    assert_eq!(r.extra()["note"], true);
    assert_eq!(serde_json::to_value(&r).unwrap(), body);
    r.validate().unwrap();
    let warnings: Vec<String> = r.report().warnings().map(|v| v.to_string()).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].starts_with("warning: shape:"), "{warnings:?}");
    assert!(serde_json::from_str::<Request>(r#"{"shape":"square","input":{"corners":3}}"#).is_err());
    assert!(serde_json::from_str::<Request>(r#"{"input":{}}"#).is_err());
}
