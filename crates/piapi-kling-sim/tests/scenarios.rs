//! The documented scenarios: content filter, upstream failure and slow, by
//! prompt marker or by header.

mod common;

use std::time::Duration;

use common::{Api, body, video};
use piapi_kling_models::{TaskData, TaskStatus};
use piapi_kling_sim::Simulator;
use reqwest::StatusCode;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(5);

fn assert_failed(task: &TaskData, code: i64, message: &str, raw: &str) {
    assert_eq!(task.status, TaskStatus::Failed);
    assert_eq!(task.error.code, code);
    assert_eq!(task.error.message, message);
    assert_eq!(task.error.raw_message.as_deref(), Some(raw));
    assert_eq!(task.error_message(), Some(message));
    assert_eq!(
        task.meta.usage.as_ref().unwrap().consume,
        Some(0),
        "a failed task is not billed"
    );
    assert!(task.meta.started().is_some() && task.meta.ended().is_some());
    assert!(task.works().is_empty() && task.video_url().is_none());
}

#[tokio::test]
async fn content_filter_by_marker_or_header_fails_with_10002() {
    let api = Api::start(Simulator::builder().speed(1000.0)).await;
    let by_marker = api.create(video("a cat [sim:content-filter]")).await;
    let by_header = api
        .create_with(video("a cat"), &[("x-sim-scenario", "content-filter")])
        .await;
    for task in [by_marker, by_header] {
        assert_eq!(
            task.status,
            TaskStatus::Pending,
            "it fails later, like Kling's review"
        );
        let done = api.wait_terminal(&task.task_id, WAIT).await;
        assert_failed(
            &done,
            10002,
            "content filtered",
            "The content you submitted failed the review, please modify it and try again",
        );
    }
}

#[tokio::test]
async fn upstream_failure_fails_with_10000_after_processing() {
    let api = Api::start(Simulator::builder().speed(1000.0)).await;
    let task = api.create(video("[sim:upstream-failure]")).await;
    let processing = api
        .wait_status(&task.task_id, TaskStatus::Processing, WAIT)
        .await;
    assert_eq!(processing.error.code, 0);
    let done = api.wait_terminal(&task.task_id, WAIT).await;
    assert_failed(
        &done,
        10000,
        "task failed",
        "kling task failed: upstream service unavailable",
    );
    let by_header = api
        .create_with(
            body("sound", json!({"prompt": "rain"})),
            &[("x-sim-scenario", "upstream-failure")],
        )
        .await;
    let done = api.wait_terminal(&by_header.task_id, WAIT).await;
    assert_failed(
        &done,
        10000,
        "task failed",
        "kling task failed: upstream service unavailable",
    );
}

#[tokio::test]
async fn slow_makes_a_task_ten_times_longer() {
    let api = Api::start(Simulator::builder().speed(1000.0)).await;
    let input = json!({"prompt": "rain", "duration": 5});
    let normal = api.create(body("sound", input.clone())).await;
    let slow = api
        .create(body(
            "sound",
            json!({"prompt": "rain [sim:slow]", "duration": 5}),
        ))
        .await;
    let slow_by_header = api
        .create_with(body("sound", input), &[("x-sim-scenario", "slow")])
        .await;
    let normal = api.wait_terminal(&normal.task_id, WAIT).await;
    assert_eq!(normal.status, TaskStatus::Completed);
    // Normal: 2 ms + 30 ms. Slow: 20 ms + 300 ms, so still running now.
    assert!(!api.get(&slow.task_id).await.status.is_terminal());
    for id in [&slow.task_id, &slow_by_header.task_id] {
        let done = api.wait_terminal(id, WAIT).await;
        assert_eq!(done.status, TaskStatus::Completed);
    }
}

#[tokio::test]
async fn unknown_scenarios_are_refused() {
    let api = Api::start(Simulator::builder()).await;
    let response = api
        .post_raw(
            &video("x").to_string(),
            &[("x-sim-scenario", "meteor-strike")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("unknown scenario `meteor-strike`")
    );
    assert_eq!(api.sim.task_count(), 0);
}
