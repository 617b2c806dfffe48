//! Decoding request bodies into the models crate's types, with error messages
//! that name the field, as PiAPI's 400 answers should.

use piapi_kling_models::CreateTaskRequest;
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
/// own so that errors carry a path. A task type the spec does not list is
/// accepted (as `Unknown`) only when `accept_unknown` says so.
pub(crate) fn decode_create(
    value: Value,
    accept_unknown: bool,
) -> Result<CreateTaskRequest, String> {
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
    if !accept_unknown && !CreateTaskRequest::VALUES.contains(&task_type.as_str()) {
        return Err(format!(
            "task_type: `{task_type}` is not one of {} (enum)",
            allowed()
        ));
    }
    // The models' decoder picks the variant by `task_type` and names the
    // field it fails on (`input.prompt: invalid type: …`).
    serde_json::from_value(value).map_err(|e| {
        let message = e.to_string();
        if message.contains(": ") && !message.starts_with("missing field") {
            message
        } else {
            format!("(body): {message}")
        }
    })
}

/// Refuses a media URL whose file extension is not one the spec lists for
/// its field (`x-media`); a URL without an extension is left to the fetch.
pub(crate) fn check_media(request: &CreateTaskRequest) -> Result<(), String> {
    for media in request.media() {
        let path = media.url.split(['?', '#']).next().unwrap_or("");
        let name = path.rsplit('/').next().unwrap_or("");
        let Some((_, ext)) = name.rsplit_once('.') else {
            continue;
        };
        if !media
            .spec
            .extensions
            .iter()
            .any(|e| e.eq_ignore_ascii_case(ext))
        {
            return Err(format!(
                "{}: a .{ext} file is not accepted here; use one of .{} (x-media)",
                media.path,
                media.spec.extensions.join(", .")
            ));
        }
    }
    Ok(())
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
}

impl CreateParts for CreateTaskRequest {
    fn input_map(&self) -> Map<String, Value> {
        match self.input_json() {
            Value::Object(map) => map,
            // Every input type is a struct, which serializes to an object.
            _ => Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_task_type_lists_the_allowed_values() {
        let err = decode_create(
            json!({"model": "kling", "task_type": "future_type", "input": {}}),
            false,
        )
        .unwrap_err();
        assert!(
            err.starts_with("task_type: `future_type` is not one of"),
            "{err}"
        );
        assert!(
            err.contains("`ai_try_on`") && err.ends_with("(enum)"),
            "{err}"
        );
        let err = decode_create(json!({"model": "kling", "input": {}}), false).unwrap_err();
        assert!(err.starts_with("task_type: is required"), "{err}");
        assert!(
            decode_create(json!([1]), false)
                .unwrap_err()
                .contains("JSON object")
        );
    }

    #[test]
    fn decode_errors_carry_the_field_path() {
        let err = decode_create(
            json!({"model": "kling", "task_type": "video_generation", "input": {"prompt": 5}}),
            false,
        )
        .unwrap_err();
        assert!(err.starts_with("input.prompt: invalid type"), "{err}");
        let err = decode_create(
            json!({"model": "kling", "task_type": "extend_video", "input": {}}),
            false,
        )
        .unwrap_err();
        assert!(err.contains("missing field `origin_task_id`"), "{err}");
    }

    #[test]
    fn unknown_task_types_are_accepted_when_asked() {
        let body = json!({"model": "kling-next", "task_type": "future_type",
                          "input": {"prompt": "x", "new_knob": 3}, "extra_top": true});
        let req = decode_create(body.clone(), true).unwrap();
        assert!(!req.is_known());
        assert_eq!(req.task_type(), "future_type");
        assert_eq!(req.input_map()["new_knob"], 3);
        assert_eq!(serde_json::to_value(&req).unwrap(), body);
    }

    #[test]
    fn null_means_unset_in_optional_fields() {
        let req = decode_create(
            json!({"model": "kling", "task_type": "effects",
                   "input": {"image_url": "https://e.com/a.png", "effect": "squish",
                             "professional_mode": null, "prompt": null}}),
            false,
        )
        .unwrap();
        assert!(req.input_map().get("professional_mode").is_none());
        let err = decode_create(
            json!({"model": "kling", "task_type": "effects",
                   "input": {"image_url": null, "effect": "squish"}}),
            false,
        )
        .unwrap_err();
        assert!(
            err.starts_with("input.image_url: invalid type: null"),
            "{err}"
        );
    }

    #[test]
    fn parts_expose_input_config_and_origin() {
        let req = decode_create(
            json!({"model": "kling", "task_type": "sound",
            "input": {"prompt": "violin", "origin_task_id": "abc"},
            "config": {"webhook_config": {"endpoint": "http://127.0.0.1:1/h"}}}),
            false,
        )
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
