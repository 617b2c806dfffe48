//! One response body per documented output shape (`tests/data/responses/`):
//! each decodes, re-encodes to the same JSON (nothing PiAPI sends is lost),
//! and `TaskResult` finds its media where that shape puts it.

use piapi_kling::TaskResult;
use piapi_kling::models::TaskResponse;
use piapi_kling_tests::{json_eq, root};
use serde_json::Value;

/// Equal JSON, except that a nullable field absent in `sent` may come back as
/// `null` (the models write every nullable field, as PiAPI does).
fn same_modulo_nulls(sent: &Value, again: &Value) -> bool {
    match (sent, again) {
        (Value::Object(a), Value::Object(b)) => {
            b.iter().all(|(k, v)| match a.get(k) {
                Some(w) => same_modulo_nulls(w, v),
                None => v.is_null(),
            }) && a.keys().all(|k| b.contains_key(k))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_modulo_nulls(x, y))
        }
        _ => json_eq(sent, again),
    }
}

fn urls(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_documented_output_shape_round_trips_and_yields_its_media() {
    let dir = root().join("tests/data/responses");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let sent: Value = serde_json::from_str(&text).unwrap();
        let response: TaskResponse =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} does not decode: {e}"));
        let again = serde_json::to_value(&response).unwrap();
        assert!(
            same_modulo_nulls(&sent, &again),
            "{name} changed in a round trip:\n{sent}\n{again}"
        );

        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(path.with_extension("expected")).unwrap(),
        )
        .unwrap();
        let result = TaskResult::from(response.data);
        let videos: Vec<String> = result.videos.iter().map(|v| v.url.clone()).collect();
        let images: Vec<String> = result.images.iter().map(|i| i.url.clone()).collect();
        let audio: Vec<String> = result.audio.iter().map(|a| a.url.clone()).collect();
        assert_eq!(videos, urls(&expected["videos"]), "{name}: videos");
        assert_eq!(images, urls(&expected["images"]), "{name}: images");
        assert_eq!(audio, urls(&expected["audio"]), "{name}: audio");
        assert_eq!(
            result.guessed_urls,
            urls(&expected["guessed"]),
            "{name}: guesses"
        );
        assert!(
            !result.is_empty(),
            "{name}: a completed task with media found none"
        );
        seen += 1;
    }
    assert!(seen >= 9, "the corpus has {seen} bodies");
}
