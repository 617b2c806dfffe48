//! Forward compatibility through the SDK and the simulator: every field of
//! every input type, plus fields the spec does not know, reaches the server;
//! values an open enum does not list are sent with a warning (or refused in
//! strict mode); a task type the spec does not list can be created, waited
//! for and read; and a response in a newer shape keeps its media.

mod common;

use std::collections::BTreeSet;

use common::{builder_for, client_for, sim_builder, start_sim};
use piapi_kling::models::TaskStatus;
use piapi_kling::{CreateTaskRequest, Error, Severity};
use piapi_kling_sim::Faults;
use serde_json::{Value, json};

const IMG: &str = "https://example.com/person-600.png";

/// Equal JSON, numbers compared by value (a typed `f64` field writes `0` as `0.0`).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

fn request(task_type: &str, input: Value) -> CreateTaskRequest {
    serde_json::from_value(json!({"model": "kling", "task_type": task_type, "input": input}))
        .unwrap_or_else(|e| panic!("{task_type}: {e}"))
}

/// The bodies the test sends: together they set every field of every input
/// type (some fields exclude each other, hence several per type), each with a
/// field the spec does not know.
fn bodies(origin: &str) -> Vec<(&'static str, Value)> {
    vec![
        (
            "video_generation",
            json!({
                "prompt": "egrets", "negative_prompt": "blur", "cfg_scale": 0.5, "duration": 5,
                "aspect_ratio": "16:9", "mode": "std", "version": "1.6", "image_url": IMG,
                "image_tail_url": IMG, "elements": [{"image_url": IMG, "future_weight": 0.3}],
                "camera_control": {"type": "simple", "config": {"horizontal": 0, "vertical": 0,
                    "pan": 5, "tilt": 0, "roll": 0, "zoom": 0}},
                "native_voice": true
            }),
        ),
        (
            "video_generation",
            json!({
                "image_url": IMG, "mode": "pro",
                "motion_brush": {"mask_url": IMG, "static_masks": [{"points": []}],
                    "dynamic_masks": [{"points": [{"x": 1, "y": 2}]}], "brush_strength": 2},
                "auto_cut": false
            }),
        ),
        (
            "extend_video",
            json!({"origin_task_id": origin, "prompt": "and then"}),
        ),
        (
            "video_generation",
            json!({
                "version": "3.0", "enable_audio": true, "prefer_multi_shots": true,
                "multi_shots": [{"prompt": "a door opens", "duration": 3, "camera": "dolly"},
                                {"prompt": "a cat walks in", "duration": 2}],
                "images": [IMG], "resolution": "1080p", "aspect_ratio": "9:16", "shot_mode": 1
            }),
        ),
        (
            "video_generation",
            json!({"prompt": "turbo", "version": "2.5-turbo", "duration": 5, "aspect_ratio": "16:9",
                   "start_image_url": IMG, "end_image_url": IMG, "seed": 3}),
        ),
        (
            "lip_sync",
            json!({"origin_task_id": origin, "tts_text": "hi", "tts_timbre": "Rock",
                            "tts_speed": 1.2}),
        ),
        (
            "lip_sync",
            json!({"video_url": "https://example.com/v.mp4", "tts_text": "hi", "emotion": "calm"}),
        ),
        (
            "omni_video_generation",
            json!({"version": "3.0", "prompt": "a harbour", "resolution": "720p", "duration": 3,
                   "aspect_ratio": "16:9", "enable_audio": false,
                   "multi_shots": [{"prompt": "boats", "duration": 3}], "images": [IMG],
                   "video": "https://example.com/ref.mp4", "keep_original_audio": true,
                   "reference_strength": 0.4}),
        ),
        (
            "motion_control",
            json!({"image_url": IMG, "video_url": "https://example.com/dance.mp4",
                   "motion_direction": "video", "keep_original_sound": true, "mode": "std",
                   "version": "2.6", "smoothing": 1}),
        ),
        (
            "motion_control",
            json!({"image_url": IMG, "preset_motion": "Heart Gesture Dance", "version": "3.0"}),
        ),
        (
            "avatar",
            json!({"image_url": IMG, "local_dubbing_url": "https://example.com/a.mp3",
                   "prompt": "smiles", "mode": "pro", "batch_size": 1, "fps": 48}),
        ),
        (
            "lip_sync",
            json!({"origin_task_id": origin, "local_dubbing_url": "https://example.com/a.mp3",
                            "audio_gain": 2}),
        ),
        (
            "effects",
            json!({"image_url": IMG, "effect": "birthday", "prompt": "a party",
                           "professional_mode": true, "version": "2.6"}),
        ),
        (
            "ai_try_on",
            json!({"model_input": IMG, "dress_input": IMG, "batch_size": 2,
                             "seed": 7}),
        ),
        (
            "ai_try_on",
            json!({"model_input": IMG, "upper_input": IMG, "lower_input": IMG,
                             "fit": "loose"}),
        ),
        (
            "sound",
            json!({"prompt": "violin", "duration": 5, "origin_task_id": origin,
                         "loudness": -14}),
        ),
    ]
}

#[tokio::test]
async fn every_field_and_every_extra_reaches_the_simulator() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let origin = client
        .text_to_video("an origin video")
        .send()
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    let mut covered: std::collections::BTreeMap<&str, BTreeSet<String>> = Default::default();
    for (task_type, input) in bodies(origin.id()) {
        let handle = client
            .create(request(task_type, input.clone()))
            .await
            .unwrap();
        let echo = sim.task(handle.id()).expect("the task is stored");
        let received = Value::Object(echo.input.clone());
        assert!(
            same_json(&received, &input),
            "{task_type}: the simulator received something else:\n{received}\n{input}"
        );
        covered
            .entry(task_type)
            .or_default()
            .extend(input.as_object().unwrap().keys().cloned());
    }
    // A task type or a field added to the spec must be added to the bodies above.
    for info in piapi_kling::models::catalog::TASK_TYPES {
        for field in info.input {
            assert!(
                covered
                    .get(info.task_type)
                    .is_some_and(|sent| sent.contains(field.name)),
                "{}.{} is never sent by this test",
                info.task_type,
                field.name
            );
        }
    }
}

#[tokio::test]
async fn builder_extras_are_sent_and_known_names_are_refused() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let handle = client
        .text_to_video("a fox")
        .extra("native_voice", true)
        .extra("storyboard", json!([{"prompt": "a", "duration": 3}]))
        .send()
        .await
        .unwrap();
    let echo = sim.task(handle.id()).unwrap().input;
    assert_eq!(echo["native_voice"], true);
    assert_eq!(echo["storyboard"][0]["duration"], 3);

    let before = sim.count_requests("POST", "/api/v1/task");
    let err = client
        .text_to_video("a fox")
        .extra("negative_prompt", "blur")
        .send()
        .await
        .unwrap_err();
    let Error::Validation(violations) = err else {
        panic!("not a validation error: {err}")
    };
    let text = violations.to_string();
    assert!(
        text.contains("input.negative_prompt") && text.contains("typed method"),
        "{text}"
    );
    assert_eq!(
        sim.count_requests("POST", "/api/v1/task"),
        before,
        "nothing is sent"
    );
}

#[tokio::test]
async fn open_enum_values_are_sent_with_warnings_unless_strict() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let handle = client
        .text_to_video("a fox")
        .version("4.0")
        .duration(20)
        .element("https://example.com/e.png")
        .send()
        .await
        .unwrap();
    let paths: Vec<&str> = handle.warnings().iter().map(|w| w.path.as_str()).collect();
    assert_eq!(
        paths,
        ["input.duration", "input.version", "input.elements"],
        "{:?}",
        handle.warnings()
    );
    assert!(
        handle
            .warnings()
            .iter()
            .all(|w| w.severity == Severity::Warning)
    );
    let echo = sim.task(handle.id()).unwrap().input;
    assert_eq!(
        (echo["version"].clone(), echo["duration"].clone()),
        (json!("4.0"), json!(20))
    );

    // A documented rule still refuses a listed value that breaks it.
    let err = client
        .text_to_video("a fox")
        .version("1.5")
        .element("https://example.com/e.png")
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("input.elements"), "{err}");

    let before = sim.count_requests("POST", "/api/v1/task");
    let strict = builder_for(&sim).strict(true).build().unwrap();
    let err = strict
        .text_to_video("a fox")
        .version("4.0")
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("input.version"), "{err}");
    assert_eq!(sim.count_requests("POST", "/api/v1/task"), before);
}

#[tokio::test]
async fn empty_strings_and_nulls_mean_unset() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    // PiAPI's own motion-brush demo sends an empty tail frame.
    let body = json!({"image_url": IMG, "image_tail_url": "", "mode": "", "negative_prompt": ""});
    client
        .create(request("video_generation", body))
        .await
        .unwrap();
    let with_null =
        json!({"prompt": "p", "aspect_ratio": "16:9", "image_url": null, "cfg_scale": null});
    client
        .create(request("video_generation", with_null))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_unknown_task_type_is_created_waited_for_and_read() {
    let sim = sim_builder()
        .accept_unknown_task_types(true)
        .start()
        .await
        .unwrap();
    let client = client_for(&sim);
    let request: CreateTaskRequest = serde_json::from_value(json!({
        "model": "kling", "task_type": "kling_hologram",
        "input": {"image_url": IMG, "local_dubbing_url": "https://example.com/hi.mp3", "mode": "std"},
        "config": {"service_mode": "public"}
    }))
    .unwrap();
    assert!(!request.is_known());
    let handle = client.custom(request).webhook("", "").send().await.unwrap();
    assert_eq!(handle.warnings().len(), 1, "{:?}", handle.warnings());
    assert_eq!(handle.warnings()[0].path, "task_type");
    let result = handle.wait().await.unwrap();
    assert_eq!(result.task.task_type.as_str(), "kling_hologram");
    assert!(!result.task.task_type.is_known());
    assert_eq!(result.task.status, TaskStatus::Completed);
    assert!(result.video_url().is_some());
    assert_eq!(
        sim.task(handle.id()).unwrap().input["local_dubbing_url"],
        "https://example.com/hi.mp3"
    );

    // The envelope is still checked: a bad webhook URL is refused locally.
    let bad: CreateTaskRequest = serde_json::from_value(json!({
        "model": "kling", "task_type": "kling_hologram", "input": {},
        "config": {"webhook_config": {"endpoint": "not a url"}}
    }))
    .unwrap();
    let err = client.create(bad).await.unwrap_err();
    assert!(
        err.to_string().contains("config.webhook_config.endpoint"),
        "{err}"
    );
}

#[tokio::test]
async fn a_newer_response_shape_keeps_its_video_and_every_field() {
    let sim = sim_builder()
        .faults(Faults {
            new_shape_rate: 1.0,
            extra_fields_rate: 1.0,
            methods: Some(vec!["GET".into()]),
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let client = client_for(&sim);
    let handle = client.text_to_video("a fox").send().await.unwrap();
    let result = handle.wait().await.unwrap();
    assert_eq!(result.task.task_type.as_str(), "kling_hologram");
    let url = result
        .video_url()
        .expect("the video in output.video is found");
    assert!(url.ends_with("video.mp4"), "{url}");
    let output = result.task.output.as_ref().unwrap();
    assert_eq!(output.video.as_deref(), Some(url));
    assert!(output.extra.contains_key("sim_extra"));
    assert!(
        result
            .task
            .meta
            .usage
            .as_ref()
            .unwrap()
            .extra
            .contains_key("sim_extra")
    );
    assert_eq!(result.task.extra["sim_extra_field"], "extra");
}
