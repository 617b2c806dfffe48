//! One response body per documented output shape (`tests/data/responses/`):
//! each decodes, re-encodes to the same JSON (nothing PiAPI sends is lost),
//! and `TaskResult` finds its media where that shape puts it.

use piapi_kling::TaskResult;
use piapi_kling::models::TaskResponse;
use piapi_kling_tests::{json_eq_modulo_nulls, root};
use serde_json::Value;

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
            json_eq_modulo_nulls(&sent, &again),
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
