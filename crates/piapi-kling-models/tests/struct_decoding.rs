//! How the generated structs decode: listed fields checked as the spec says,
//! unlisted ones kept in `extra` at every level, lenient numbers where the
//! spec accepts them, and errors that name the field and the position.

use piapi_kling_models::{TaskResponse, TaskStatus, VideoGenerationInput};
use serde_json::{Value, json};

const COMPLETED: &str = include_str!("../benches/data/task_completed.json");

fn completed() -> Value {
    serde_json::from_str(COMPLETED).unwrap()
}

fn decode<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, String> {
    // Through text, as a response arrives (keys borrowed from the input).
    serde_json::from_str(&value.to_string()).map_err(|e| e.to_string())
}

#[test]
fn unlisted_fields_are_kept_at_every_level_and_written_back() {
    let mut sent = completed();
    sent["trace"] = json!({"id": "abc", "spans": [1, 2]});
    sent["data"]["queue_position"] = json!(7);
    sent["data"]["meta"]["region"] = json!("sg");
    let response: TaskResponse = decode(&sent).unwrap();
    assert_eq!(
        response.extra["trace"],
        json!({"id": "abc", "spans": [1, 2]})
    );
    assert_eq!(response.data.extra["queue_position"], json!(7));
    assert_eq!(response.data.meta.extra["region"], json!("sg"));
    assert_eq!(response.data.status, TaskStatus::Completed);
    let again = serde_json::to_value(&response).unwrap();
    assert_eq!(again["trace"], sent["trace"]);
    assert_eq!(again["data"]["queue_position"], json!(7));
    assert_eq!(again["data"]["meta"]["region"], json!("sg"));
}

#[test]
fn a_missing_required_field_is_an_error_naming_it() {
    let mut sent = completed();
    sent["data"].as_object_mut().unwrap().remove("task_id");
    let err = decode::<TaskResponse>(&sent).unwrap_err();
    assert!(err.contains("missing field `task_id`"), "{err}");
}

#[test]
fn a_listed_field_twice_is_an_error_and_an_unlisted_one_keeps_the_last() {
    let twice = COMPLETED.replacen("{", r#"{"code": 200,"#, 1);
    let err = serde_json::from_str::<TaskResponse>(&twice).unwrap_err();
    assert!(err.to_string().contains("duplicate field `code`"), "{err}");

    let unlisted = COMPLETED.replacen("{", r#"{"x": 1, "x": 2,"#, 1);
    let response: TaskResponse = serde_json::from_str(&unlisted).unwrap();
    assert_eq!(response.extra["x"], json!(2));
}

#[test]
fn an_optional_field_absent_or_null_is_none_and_a_nullable_required_one_may_be_absent() {
    let mut sent = completed();
    sent["data"]["meta"]["usage"] = Value::Null;
    sent["data"]["meta"]
        .as_object_mut()
        .unwrap()
        .remove("created_at");
    // `output` is required but nullable: absent decodes as null did.
    sent["data"].as_object_mut().unwrap().remove("output");
    let response: TaskResponse = decode(&sent).unwrap();
    assert_eq!(response.data.meta.usage, None);
    assert_eq!(response.data.meta.created_at, None);
    assert_eq!(response.data.output, None);
}

#[test]
fn an_escaped_key_is_matched_after_unescaping() {
    let escaped = COMPLETED.replacen(r#""message""#, r#""mess\u0061ge""#, 1);
    assert_ne!(escaped, COMPLETED);
    let response: TaskResponse = serde_json::from_str(&escaped).unwrap();
    let plain: TaskResponse = serde_json::from_str(COMPLETED).unwrap();
    // Equal, `extra` maps included: the escaped key was taken as the listed one.
    assert_eq!(response, plain);
}

#[test]
fn a_wrong_type_names_the_position_in_the_input() {
    let mut sent = completed();
    sent["code"] = json!("two hundred");
    let err = decode::<TaskResponse>(&sent).unwrap_err();
    assert!(
        err.contains("invalid type: string \"two hundred\", expected i64"),
        "{err}"
    );
    assert!(err.contains("line 1 column"), "{err}");

    let err = decode::<TaskResponse>(&json!([1, 2])).unwrap_err();
    assert!(err.contains("expected struct TaskResponse"), "{err}");
}

#[test]
fn numeric_strings_decode_where_the_spec_accepts_them() {
    for (sent, expected) in [
        (json!("0.5"), Some(0.5)),
        (json!(0.25), Some(0.25)),
        (json!(1), Some(1.0)),
        (Value::Null, None),
    ] {
        let input: VideoGenerationInput =
            decode(&json!({"prompt": "p", "cfg_scale": sent})).unwrap();
        assert_eq!(input.cfg_scale, expected, "{sent}");
    }
    let input: VideoGenerationInput = decode(&json!({"prompt": "p"})).unwrap();
    assert_eq!(input.cfg_scale, None);
    let err = decode::<VideoGenerationInput>(&json!({"cfg_scale": "high"})).unwrap_err();
    assert!(
        err.contains("a number, a string holding a number, or null"),
        "{err}"
    );
}

#[test]
fn a_struct_decodes_from_a_value_too() {
    // `serde_json::from_value` hands keys over as owned strings.
    let sent = completed();
    let from_value: TaskResponse = serde_json::from_value(sent.clone()).unwrap();
    let from_text: TaskResponse = decode(&sent).unwrap();
    assert_eq!(from_value, from_text);
}
