//! Decoding request bodies into the models crate's types, with error messages
//! that name the field, as PiAPI's 400 answers should.

use piapi_kling_models::{
    AiTryOnRequest, CreateTaskRequest, EffectsRequest, ExtendVideoRequest, LipSyncRequest,
    SoundRequest, TaskConfig, VideoGenerationRequest,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Parses a body as JSON, naming the serde error when it is not.
pub(crate) fn parse_json(body: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|e| format!("(body): invalid JSON: {e}"))
}

/// Decodes `value` as `T`, prefixing serde's message with the JSON path of
/// the field it failed on (`input.duration: invalid type: ...`).
pub(crate) fn decode<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." {
            "(body)".to_owned()
        } else {
            path
        };
        format!("{path}: {}", e.into_inner())
    })
}

/// Decodes a create body. `task_type` is looked at first so that an unknown
/// value gets a message listing the allowed ones (serde's internally tagged
/// enums would only say "unknown variant"), and each variant is decoded on its
/// own so that errors carry a path.
pub(crate) fn decode_create(value: Value) -> Result<CreateTaskRequest, String> {
    let Some(object) = value.as_object() else {
        return Err("(body): must be a JSON object".to_owned());
    };
    let allowed = || {
        CreateTaskRequest::VALUES
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let task_type = match object.get("task_type") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(format!(
                "task_type: must be a string, one of {}, got {other} (enum)",
                allowed()
            ));
        }
        None => {
            return Err(format!(
                "task_type: is required, one of {} (required)",
                allowed()
            ));
        }
    };
    Ok(match task_type.as_str() {
        "video_generation" => decode::<VideoGenerationRequest>(value)?.into(),
        "extend_video" => decode::<ExtendVideoRequest>(value)?.into(),
        "lip_sync" => decode::<LipSyncRequest>(value)?.into(),
        "effects" => decode::<EffectsRequest>(value)?.into(),
        "ai_try_on" => decode::<AiTryOnRequest>(value)?.into(),
        "sound" => decode::<SoundRequest>(value)?.into(),
        other => {
            return Err(format!(
                "task_type: `{other}` is not one of {} (enum)",
                allowed()
            ));
        }
    })
}

/// Decodes with `decode`, then refuses `null` given for a field the type
/// knows. No request field of the spec is nullable, but serde reads `null`
/// as "absent"; unknown fields (which the spec allows) may hold anything.
pub(crate) fn decode_strict<T>(
    value: Value,
    decode: impl Fn(Value) -> Result<T, String>,
) -> Result<T, String> {
    let mut nulls = Vec::new();
    null_paths(&value, &mut Vec::new(), &mut nulls);
    if nulls.is_empty() {
        return decode(value);
    }
    let decoded = decode(value.clone())?;
    for path in nulls {
        // A known field rejects a `true` or a string in place of the null
        // (each field type accepts at most one of them); an unknown one is
        // ignored whatever it holds.
        let known = [Value::Bool(true), Value::String("\u{0}".into())]
            .into_iter()
            .any(|probe| {
                let mut probed = value.clone();
                if let Some(slot) = probed.pointer_mut(&pointer(&path)) {
                    *slot = probe;
                }
                decode(probed).is_err()
            });
        if known {
            return Err(format!("{}: must not be null (type)", dotted(&path)));
        }
    }
    Ok(decoded)
}

/// One step of a JSON path.
#[derive(Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn null_paths(value: &Value, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match value {
        Value::Null => out.push(path.clone()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Step::Index(i));
                null_paths(item, path, out);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                path.push(Step::Key(key.clone()));
                null_paths(item, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// RFC 6901 JSON pointer of `path`.
fn pointer(path: &[Step]) -> String {
    path.iter()
        .map(|step| match step {
            Step::Key(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
            Step::Index(i) => format!("/{i}"),
        })
        .collect()
}

/// `input.elements[0].image_url`, as violations name fields.
fn dotted(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) if out.is_empty() => out.push_str(k),
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() {
        "(body)".to_owned()
    } else {
        out
    }
}

/// The parts of a create request every task type has.
pub(crate) trait CreateParts {
    /// The request's input, as the models crate serializes it (only what was set).
    fn input_map(&self) -> Map<String, Value>;
    /// The request's config, if sent.
    fn config(&self) -> Option<&TaskConfig>;
    /// The `origin_task_id` of the task types that build on another task.
    fn origin_task_id(&self) -> Option<&str>;
}

fn to_map<T: serde::Serialize>(input: &T) -> Map<String, Value> {
    match serde_json::to_value(input) {
        Ok(Value::Object(map)) => map,
        // Every input type is a struct, which serializes to an object.
        _ => Map::new(),
    }
}

impl CreateParts for CreateTaskRequest {
    fn input_map(&self) -> Map<String, Value> {
        match self {
            CreateTaskRequest::VideoGeneration(r) => to_map(&r.input),
            CreateTaskRequest::ExtendVideo(r) => to_map(&r.input),
            CreateTaskRequest::LipSync(r) => to_map(&r.input),
            CreateTaskRequest::Effects(r) => to_map(&r.input),
            CreateTaskRequest::AiTryOn(r) => to_map(&r.input),
            CreateTaskRequest::Sound(r) => to_map(&r.input),
        }
    }

    fn config(&self) -> Option<&TaskConfig> {
        match self {
            CreateTaskRequest::VideoGeneration(r) => r.config.as_ref(),
            CreateTaskRequest::ExtendVideo(r) => r.config.as_ref(),
            CreateTaskRequest::LipSync(r) => r.config.as_ref(),
            CreateTaskRequest::Effects(r) => r.config.as_ref(),
            CreateTaskRequest::AiTryOn(r) => r.config.as_ref(),
            CreateTaskRequest::Sound(r) => r.config.as_ref(),
        }
    }

    fn origin_task_id(&self) -> Option<&str> {
        match self {
            CreateTaskRequest::ExtendVideo(r) => Some(&r.input.origin_task_id),
            CreateTaskRequest::LipSync(r) => Some(&r.input.origin_task_id),
            CreateTaskRequest::Sound(r) => r.input.origin_task_id.as_deref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_task_type_lists_the_allowed_values() {
        let err = decode_create(json!({"model": "kling", "task_type": "future_type", "input": {}}))
            .unwrap_err();
        assert!(
            err.starts_with("task_type: `future_type` is not one of"),
            "{err}"
        );
        assert!(
            err.contains("`ai_try_on`") && err.ends_with("(enum)"),
            "{err}"
        );
        let err = decode_create(json!({"model": "kling", "input": {}})).unwrap_err();
        assert!(err.starts_with("task_type: is required"), "{err}");
        assert!(
            decode_create(json!([1]))
                .unwrap_err()
                .contains("JSON object")
        );
    }

    #[test]
    fn decode_errors_carry_the_field_path() {
        let err = decode_create(json!({"model": "kling", "task_type": "video_generation",
                                       "input": {"prompt": 5}}))
        .unwrap_err();
        assert!(err.starts_with("input.prompt: invalid type"), "{err}");
        let err =
            decode_create(json!({"model": "kling", "task_type": "extend_video", "input": {}}))
                .unwrap_err();
        assert!(err.contains("missing field `origin_task_id`"), "{err}");
    }

    #[test]
    fn nulls_are_refused_for_known_fields_only() {
        let strict = |v: Value| decode_strict(v, decode_create);
        let err = strict(json!({"model": "kling", "task_type": "sound",
                                "input": {"prompt": "x"}, "config": {"service_mode": null}}))
        .unwrap_err();
        assert_eq!(err, "config.service_mode: must not be null (type)");
        let err = strict(json!({"model": "kling", "task_type": "effects",
            "input": {"image_url": "https://e.com/a.png", "effect": "squish", "professional_mode": null}}))
        .unwrap_err();
        assert_eq!(err, "input.professional_mode: must not be null (type)");
        let ok = strict(
            json!({"model": "kling", "task_type": "sound", "input": {"prompt": "x"},
                               "extra": [1, null], "a/b~": null}),
        );
        assert!(ok.is_ok(), "{ok:?}");
        assert!(
            strict(json!({"model": "kling", "task_type": "sound", "input": {"prompt": "x"}}))
                .is_ok()
        );
    }

    #[test]
    fn parts_expose_input_config_and_origin() {
        let req = decode_create(json!({"model": "kling", "task_type": "sound",
            "input": {"prompt": "violin", "origin_task_id": "abc"},
            "config": {"webhook_config": {"endpoint": "http://127.0.0.1:1/h"}}}))
        .unwrap();
        assert_eq!(req.origin_task_id(), Some("abc"));
        assert_eq!(req.input_map()["prompt"], "violin");
        assert!(req.config().unwrap().webhook_config.is_some());
        assert!(
            parse_json(b"{")
                .unwrap_err()
                .starts_with("(body): invalid JSON")
        );
    }
}
