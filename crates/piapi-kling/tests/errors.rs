//! Every error path against the simulator: refusals, failed tasks, deadlines,
//! ambiguous creates, cancellation and the lip-sync pipeline.

mod common;

use std::time::Duration;

use common::*;
use piapi_kling::{Error, LipSyncSpec, TaskStatus, WaitPolicy};
use reqwest::header::{HeaderName, HeaderValue};

fn fault(value: &'static str) -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static("x-sim-fault"),
        HeaderValue::from_static(value),
    )
}

#[tokio::test]
async fn a_wrong_key_is_401_for_reads_and_creates() {
    let sim = start_sim().await;
    let client = builder_for(&sim).api_key("wrong-key").build().unwrap();
    let err = client
        .get_task("00000000-0000-0000-0000-000000000000")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api { status: 401, .. }), "{err:?}");
    assert!(!err.is_retryable());
    let err = client.text_to_video("a fox").send().await.unwrap_err();
    // Refused before any work: not ambiguous.
    assert!(matches!(err, Error::Api { status: 401, .. }), "{err:?}");
    assert_eq!(sim.count_requests("POST", "/api/v1/task"), 1);
    assert_eq!(sim.task_count(), 0);
}

#[tokio::test]
async fn an_unknown_task_is_404() {
    let sim = start_sim().await;
    let err = client_for(&sim)
        .get_task("6e269e8c-2091-46c4-b4a5-40a4704a766a")
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn the_server_rejects_what_local_validation_would_have_caught() {
    let sim = start_sim().await;
    let request: piapi_kling::CreateTaskRequest = serde_json::from_value(serde_json::json!({
        "model": "kling", "task_type": "video_generation",
        "input": {"prompt": "x".repeat(2501), "aspect_ratio": "16:9"}
    }))
    .unwrap();
    let err = client_for(&sim)
        .create_unvalidated(request)
        .await
        .unwrap_err();
    match &err {
        Error::Api {
            status: 400,
            message,
            ..
        } => assert!(message.contains("input.prompt"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.task_count(), 0);
}

#[tokio::test]
async fn a_failed_task_ends_the_wait_with_its_details() {
    let sim = start_sim().await;
    let handle = client_for(&sim)
        .text_to_video("[sim:content-filter] something forbidden")
        .send()
        .await
        .unwrap();
    match handle.wait().await.unwrap_err() {
        Error::TaskFailed {
            task_id,
            code,
            message,
            task,
            ..
        } => {
            assert_eq!(task_id, handle.id());
            assert_ne!(code, 0);
            assert!(!message.is_empty());
            assert_eq!(task.status, TaskStatus::Failed);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_deadline_keeps_the_task_id_and_the_wait_can_resume() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let handle = client
        .text_to_video("[sim:slow] a long take")
        .send()
        .await
        .unwrap();
    let err = handle
        .wait_with(
            WaitPolicy::fixed(Duration::from_millis(5)).with_deadline(Duration::from_millis(30)),
        )
        .await
        .unwrap_err();
    match &err {
        Error::Timeout {
            task_id,
            last_status,
            elapsed,
        } => {
            assert_eq!(task_id, handle.id());
            assert!(last_status.is_some());
            assert!(*elapsed >= Duration::from_millis(30));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.task_id(), Some(handle.id()));
    let result = client.task(handle.id()).wait().await.unwrap();
    assert_eq!(result.id(), handle.id());
}

#[tokio::test]
async fn a_truncated_create_answer_is_ambiguous() {
    let sim = start_sim().await;
    let (name, value) = fault("truncate");
    let err = client_for(&sim)
        .text_to_video("a fox")
        .header(name, value)
        .send()
        .await
        .unwrap_err();
    match &err {
        // The generated client does not keep the bytes of a body cut short:
        // there is no id to salvage and no raw body (a documented limit).
        Error::AmbiguousCreate {
            task_id: None,
            raw_body: None,
            source,
        } => {
            assert!(matches!(**source, Error::Transport(_)), "{source:?}");
            assert!(err.to_string().contains("PiAPI dashboard"), "{err}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(sim.count_requests("POST", "/api/v1/task"), 1);
    assert_eq!(
        sim.task_count(),
        1,
        "the task exists although its answer was cut"
    );
}

#[tokio::test]
async fn a_malformed_create_answer_is_ambiguous_and_yields_the_real_task_id() {
    let sim = start_sim().await;
    let (name, value) = fault("malformed");
    let err = client_for(&sim)
        .sound()
        .prompt("rain")
        .header(name, value)
        .send()
        .await
        .unwrap_err();
    match &err {
        Error::AmbiguousCreate {
            task_id,
            source,
            raw_body: Some(raw),
        } => {
            assert!(
                matches!(**source, Error::Decode { status: 200, .. }),
                "{source:?}"
            );
            // The simulator keeps the first half of the body, and PiAPI (like
            // the simulator) writes `task_id` first: the id is salvaged.
            assert!(raw.starts_with(r#"{"code":200"#), "{raw}");
            let id = task_id.as_deref().expect("the task id is salvaged");
            assert!(sim.task(id).is_some(), "salvaged id {id} is not a task");
            assert_eq!(err.task_id(), Some(id));
            assert!(err.to_string().contains(id), "{err}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(sim.count_requests("POST", "/api/v1/task"), 1);
    assert_eq!(
        sim.task_count(),
        1,
        "the task exists although its answer was unreadable"
    );
}

#[tokio::test]
async fn cancel_turns_a_waiting_task_into_a_failed_one() {
    let sim = sim_builder().concurrency_cap(1).start().await.unwrap();
    let client = client_for(&sim);
    let busy = client
        .text_to_video("[sim:slow] hold the slot")
        .send()
        .await
        .unwrap();
    let waiting = client.text_to_video("queued behind").send().await.unwrap();
    waiting.cancel().await.unwrap();
    let err = waiting.wait().await.unwrap_err();
    assert!(err.is_cancelled(), "{err:?}");
    match err {
        Error::TaskFailed { code, task, .. } => {
            assert_eq!(code, 10001);
            assert_eq!(task.meta.usage.as_ref().and_then(|u| u.consume), Some(0));
        }
        other => panic!("{other:?}"),
    }
    // A task that finished can no longer be cancelled.
    busy.wait().await.unwrap();
    let err = busy.cancel().await.unwrap_err();
    assert_eq!(err.status(), Some(400), "{err:?}");
}

#[tokio::test]
async fn a_failed_lip_sync_step_keeps_the_video_task() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let err = client
        .generate_and_lip_sync(
            client.text_to_video("an anchor"),
            LipSyncSpec::text("[sim:upstream-failure] hello", "Rock"),
        )
        .await
        .unwrap_err();
    match &err {
        Error::Pipeline {
            video_task_id,
            video: Some(video),
            source,
        } => {
            assert_eq!(video.id(), video_task_id);
            assert_eq!(video.task.status, TaskStatus::Completed);
            let lip_sync_id = source.task_id().expect("the lip-sync task's id");
            assert_ne!(lip_sync_id, video_task_id);
            assert!(matches!(**source, Error::TaskFailed { .. }));
        }
        other => panic!("{other:?}"),
    }
    // `task_id()` of a pipeline error is the video task.
    let video_id = err.task_id().unwrap();
    assert_eq!(
        sim.task(video_id).unwrap().task_type.as_str(),
        "video_generation"
    );
}

#[tokio::test]
async fn a_failed_video_step_is_a_pipeline_error_with_the_video_id() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let err = client
        .generate_and_lip_sync(
            client.text_to_video("[sim:content-filter] an anchor"),
            LipSyncSpec::text("hello", "Rock"),
        )
        .await
        .unwrap_err();
    match &err {
        Error::Pipeline {
            video_task_id,
            video: None,
            source,
        } => {
            assert_eq!(source.task_id(), Some(video_task_id.as_str()));
            assert!(sim.task(video_task_id).is_some());
        }
        other => panic!("{other:?}"),
    }
    // No lip-sync task was created.
    assert_eq!(sim.task_count(), 1);
}

#[tokio::test]
async fn a_missing_key_is_a_config_error() {
    let err = piapi_kling::Client::builder().build().unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}
