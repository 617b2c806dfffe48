//! The seeds' and the spec's examples parse into the models, re-serialise to
//! equal JSON, and pass (or fail exactly as documented) `validate()`.

use piapi_kling_models::*;
use piapi_kling_tests::{json_eq, seed, seed_request_body, spec};
use serde_json::Value;

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(json: &Value) -> T {
    let parsed: T = serde_json::from_value(json.clone()).unwrap();
    let again = serde_json::to_value(&parsed).unwrap();
    assert!(
        json_eq(json, &again),
        "not JSON-equal after a round trip:\n{json:#}\n{again:#}"
    );
    parsed
}

#[test]
fn seed_create_task_sample_round_trips_and_validates() {
    let body = seed_request_body("001_5c07371d7491c16c.txt");
    let request: CreateTaskRequest = round_trip(&body);
    assert_eq!(request.task_type(), "video_generation");
    request.validate().unwrap();
    let CreateTaskRequest::VideoGeneration(v) = &request else {
        unreachable!()
    };
    assert_eq!(v.input.cfg_scale, Some(0.5));
    assert_eq!(
        v.config.as_ref().unwrap().service_mode,
        Some(ServiceMode::WorkspaceDefault)
    );
}

#[test]
fn seed_effects_sample_round_trips_and_only_its_placeholders_fail() {
    let body = seed_request_body("000_2c6159b13dd78cfb.txt");
    let request: CreateTaskRequest = round_trip(&body);
    assert_eq!(request.task_type(), "effects");
    // The page's literal "string" placeholders are not URLs; nothing else is wrong.
    let found: Vec<(String, &str)> = request
        .validate()
        .unwrap_err()
        .iter()
        .map(|v| (v.path.clone(), v.rule.name()))
        .collect();
    assert_eq!(
        found,
        [
            ("input.image_url".to_owned(), "format"),
            ("config.webhook_config.endpoint".to_owned(), "format"),
        ]
    );
}

#[test]
fn spec_request_examples_round_trip_and_validate() {
    let spec = spec();
    let examples = spec["paths"]["/api/v1/task"]["post"]["requestBody"]["content"]["application/json"]["examples"]
        .as_object()
        .unwrap();
    assert_eq!(examples.len(), 2);
    for (name, example) in examples {
        let request: CreateTaskRequest = round_trip(&example["value"]);
        request.validate().unwrap_or_else(|v| panic!("{name}: {v}"));
    }
    // The spec's copy of the curl sample is the seed's body.
    assert!(json_eq(
        &examples["seed_text_to_video"]["value"],
        &seed_request_body("001_5c07371d7491c16c.txt")
    ));
}

#[test]
fn spec_task_examples_round_trip() {
    let spec = spec();
    let examples = spec["components"]["examples"].as_object().unwrap();
    let mut statuses = Vec::new();
    for name in [
        "TaskPending",
        "TaskProcessing",
        "TaskCompleted",
        "TaskFailed",
    ] {
        let response: TaskResponse = round_trip(&examples[name]["value"]);
        statuses.push(response.data.status.clone());
        assert!(response.data.status.is_known());
    }
    assert_eq!(
        statuses,
        [
            TaskStatus::Pending,
            TaskStatus::Processing,
            TaskStatus::Completed,
            TaskStatus::Failed
        ]
    );
}

#[test]
fn completed_task_exposes_its_results() {
    let spec = spec();
    let response: TaskResponse =
        serde_json::from_value(spec["components"]["examples"]["TaskCompleted"]["value"].clone())
            .unwrap();
    let task = &response.data;
    assert!(task.is_terminal());
    assert_eq!(
        task.video_url(),
        Some("https://storage.goapi.ai/kling/6e269e8c.mp4")
    );
    let work = &task.works()[0];
    assert_eq!(work.video.as_ref().unwrap().duration, Some(5100));
    assert_eq!(
        work.cover.as_ref().unwrap().best_url(),
        Some("https://cdn.klingai.example/cover.png")
    );
    assert_eq!(task.meta.ended(), Some("2025-07-10T08:17:41.330918202Z"));
    assert_eq!(task.meta.usage.as_ref().unwrap().consume, Some(2_600_000));
    let input: VideoGenerationInput = task.input_as().unwrap();
    assert_eq!(input.duration, Some(VideoDuration::Seconds5));
}

#[test]
fn failed_task_with_null_output_and_logs() {
    let spec = spec();
    let response: TaskResponse =
        serde_json::from_value(spec["components"]["examples"]["TaskFailed"]["value"].clone())
            .unwrap();
    let task = &response.data;
    assert!(task.output.is_none());
    assert!(task.logs.is_none());
    assert!(task.error.is_error());
    assert_eq!(task.error_message(), Some("task failed"));
    assert_eq!(task.video_url(), None);
    assert!(task.works().is_empty());
}

#[test]
fn pending_task_has_zero_times() {
    let spec = spec();
    let response: TaskResponse =
        serde_json::from_value(spec["components"]["examples"]["TaskPending"]["value"].clone())
            .unwrap();
    assert_eq!(response.data.meta.started_at.as_deref(), Some(ZERO_TIME));
    assert_eq!(response.data.meta.started(), None);
    assert!(response.data.meta.created().is_some());
    assert!(!response.data.error.is_error());
}

#[test]
fn seed_response_example_parses_despite_its_gaps() {
    // The Create Task page's response example: `"status": ""` followed by a
    // comment, `input: {}`, `meta: {}`, and an output with only video_url.
    let text = seed("001_5c07371d7491c16c.txt");
    let start = text.rfind("Example\n{").unwrap() + "Example\n".len();
    let json: String = text[start..]
        .lines()
        .map(|l| l.split("//").next().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let response: TaskResponse = serde_json::from_str(&json).unwrap();
    assert_eq!(response.code, 200);
    assert_eq!(response.data.status, TaskStatus::Unknown(String::new()));
    assert!(!response.data.is_terminal());
    assert_eq!(response.data.meta, TaskMeta::default());
    assert_eq!(response.data.video_url(), None);
}

#[test]
fn unknown_values_and_extra_fields_do_not_break_a_response() {
    let spec = spec();
    let mut json = spec["components"]["examples"]["TaskCompleted"]["value"].clone();
    json["data"]["status"] = "queued".into();
    json["data"]["task_type"] = "kling_hologram".into();
    json["data"]["brand_new_field"] = serde_json::json!({"x": 1});
    json["data"]["output"]["works"][0]["surprise"] = 1.into();
    let response: TaskResponse = serde_json::from_value(json).unwrap();
    assert_eq!(response.data.status.as_str(), "queued");
    assert!(!response.data.task_type.is_known());
}

#[test]
fn webhook_event_parses_and_redacts_the_secret() {
    let spec = spec();
    let data = spec["components"]["examples"]["TaskCompleted"]["value"]["data"].clone();
    let event: WebhookEvent =
        serde_json::from_value(serde_json::json!({"timestamp": 1752135461, "data": data})).unwrap();
    assert_eq!(event.data.status, TaskStatus::Completed);
    let debug = format!("{event:?}");
    assert!(
        !debug.contains("s3cr3t"),
        "the webhook secret leaked into Debug: {debug}"
    );
    assert!(debug.contains("<redacted>"));
}

#[test]
fn optional_fields_left_unset_are_never_sent() {
    let input = LipSyncInput::default()
        .with_origin_task_id("6e269e8c-2091-46c4-b4a5-40a4704a766a")
        .with_tts_text("hello");
    let request = CreateTaskRequest::from(LipSyncRequest::new(Model::Kling, input));
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        serde_json::json!({
            "task_type": "lip_sync",
            "model": "kling",
            "input": {"origin_task_id": "6e269e8c-2091-46c4-b4a5-40a4704a766a", "tts_text": "hello"}
        })
    );
}

#[test]
fn numeric_string_cfg_scale_is_accepted() {
    let input: VideoGenerationInput =
        serde_json::from_str(r#"{"prompt":"p","cfg_scale":"0.5"}"#).unwrap();
    assert_eq!(input.cfg_scale, Some(0.5));
    assert!(serde_json::from_str::<VideoGenerationInput>(r#"{"cfg_scale":"half"}"#).is_err());
}
