#[allow(dead_code, unexpected_cfgs)]
mod generated {
    include!("../snapshots/structs.rs");
}
use generated::*;
use piapi_kling_models::Validate;

fn main() {
    // Keywords are raw identifiers, camelCase is renamed, optional fields are not sent.
    let k = Keywords::new(Kind::A);
    assert_eq!(serde_json::to_string(&k).unwrap(), r#"{"type":"a"}"#);
    let k: Keywords = serde_json::from_str(r#"{"type":"b","ref":"x","self":true,"camelCase":12}"#).unwrap();
    assert_eq!(k.r#ref.as_deref(), Some("x"));
    let v = k.validate().unwrap_err();
    assert_eq!(v.iter().next().unwrap().path, "camelCase");

    // Required nullable is sent as null; optional absent is not sent; numeric strings decode.
    let n: Nullability = serde_json::from_str(
        r#"{"required_plain":"p","required_nullable":null,"required_any":null,"optional_plain":"0.5"}"#,
    )
    .unwrap();
    assert_eq!(n.optional_plain, Some(0.5));
    let json = serde_json::to_value(&n).unwrap();
    assert_eq!(json["required_nullable"], serde_json::Value::Null);
    // Nullable fields are written as null; other optional fields are omitted.
    assert_eq!(json["optional_nullable"], serde_json::Value::Null);
    assert!(json.get("optional_plain").is_some());
    assert!(json.get("secret").is_none());
    assert!(json.get("free_form").is_none());

    // Sensitive fields never reach Debug.
    let mut n = n;
    n.secret = Some("hunter2".into());
    assert!(!format!("{n:?}").contains("hunter2"));

    // Fields the spec does not list survive a round trip, nested ones too.
    let body = serde_json::json!({"type": "a", "ref": "x", "new_knob": {"deep": [1, null]}, "n": 3});
    let k: Keywords = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(k.extra["new_knob"]["deep"][0], 1);
    assert_eq!(serde_json::to_value(&k).unwrap(), body);

    // Setters build a struct field by field; `with_extra` adds an unlisted field.
    let k = Keywords::new(Kind::A).with_ref("r").with_extra("later", 5);
    assert_eq!(
        serde_json::to_value(&k).unwrap(),
        serde_json::json!({"type": "a", "ref": "r", "later": 5})
    );
    assert!(Keywords::FIELDS.contains(&"camelCase"));
}
