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
    assert!(serde_json::from_str::<Request>(r#"{"shape":"triangle","input":{}}"#).is_err());
}
