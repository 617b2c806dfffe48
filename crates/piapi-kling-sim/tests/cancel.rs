//! Cancelling: only staged and pending tasks; what a cancelled task reports
//! afterwards (the spec's decision); batch cancel by time and model.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{Api, video};
use piapi_kling_models::{
    CancelTaskResponse, CancelTasksResponse, ErrorResponse, TaskStatus, ZERO_TIME,
};
use piapi_kling_sim::Simulator;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_pending_task_cancels_and_then_reads_as_failed_10001() {
    // Speed 1: pending for 3 s, plenty of time to cancel.
    let api = Api::start(Simulator::builder()).await;
    let task = api.create(video("cancel me")).await;
    assert_eq!(task.status, TaskStatus::Pending);
    let (status, body) = api.cancel(&task.task_id).await;
    assert_eq!(status, StatusCode::OK);
    let body: CancelTaskResponse = serde_json::from_value(body).unwrap();
    assert_eq!(body.code, 200);
    assert_eq!(body.message, format!("task {} canceled", task.task_id));

    let after = api.get(&task.task_id).await;
    assert_eq!(after.status, TaskStatus::Failed);
    assert_eq!(after.error.code, 10001);
    assert_eq!(after.error.message, "task canceled");
    assert!(!after.error.raw_message.as_deref().unwrap().is_empty());
    let usage = after.meta.usage.as_ref().unwrap();
    assert_eq!((usage.frozen, usage.consume), (Some(2_600_000), Some(0)));
    assert_eq!(after.meta.started_at.as_deref(), Some(ZERO_TIME));
    assert!(after.meta.ended().is_some());
    assert!(after.works().is_empty());
    assert_eq!(
        api.sim.task(&task.task_id).unwrap().status,
        TaskStatus::Failed
    );

    // It stays failed and cannot be cancelled twice.
    let (status, body) = api.cancel(&task.task_id).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"code": 400, "message": "task is not pending, can not be canceled", "data": null})
    );
}

#[tokio::test]
async fn processing_and_finished_tasks_cannot_be_cancelled() {
    // Pending 30 ms, processing 1.2 s.
    let api = Api::start(Simulator::builder().speed(100.0)).await;
    let task = api.create(video("busy")).await;
    api.wait_status(
        &task.task_id,
        TaskStatus::Processing,
        Duration::from_secs(5),
    )
    .await;
    let (status, body) = api.cancel(&task.task_id).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let err: ErrorResponse = serde_json::from_value(body).unwrap();
    assert_eq!(err.message, "task is not pending, can not be canceled");
    let done = api
        .wait_terminal(&task.task_id, Duration::from_secs(5))
        .await;
    assert_eq!(
        done.status,
        TaskStatus::Completed,
        "a refused cancel changed nothing"
    );
    assert_eq!(api.cancel(&task.task_id).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_staged_task_can_be_cancelled_and_frees_its_place() {
    let api = Api::start(Simulator::builder().concurrency_cap(1)).await;
    let running = api.create(video("first")).await;
    let staged = api.create(video("second")).await;
    let next = api.create(video("third")).await;
    assert_eq!(
        (staged.status.clone(), next.status.clone()),
        (TaskStatus::Staged, TaskStatus::Staged)
    );
    assert_eq!(api.cancel(&staged.task_id).await.0, StatusCode::OK);
    assert_eq!(api.get(&staged.task_id).await.status, TaskStatus::Failed);
    // Cancelling the pending one frees the only slot: the next staged task moves up.
    assert_eq!(api.cancel(&running.task_id).await.0, StatusCode::OK);
    assert_eq!(api.get(&next.task_id).await.status, TaskStatus::Pending);
}

async fn cancel_many(api: &Api, query: &str) -> (StatusCode, serde_json::Value) {
    let response = api
        .http
        .delete(api.url(&format!("/api/v1/tasks?{query}")))
        .header("x-api-key", &api.key)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn batch_cancel_stops_pending_tasks_created_before_a_time() {
    let api = Api::start(Simulator::builder()).await;
    let old_a = api.create(video("a")).await;
    let old_b = api.create(video("b")).await;
    // Tasks created strictly before `cutoff` are cancelled; later ones are
    // not. Wait into the next whole second, which becomes the cutoff.
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let cutoff = since_epoch.as_secs() + 1;
    tokio::time::sleep(Duration::from_secs(cutoff) - since_epoch + Duration::from_millis(5)).await;
    let young = api.create(video("c")).await;

    for model in ["midjourney", "suno", "luma"] {
        let (status, body) =
            cancel_many(&api, &format!("created_before={cutoff}&model={model}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body["data"]["task_ids"],
            json!([]),
            "{model} cancels no Kling task"
        );
    }
    let (status, body) = cancel_many(&api, &format!("created_before={cutoff}&model=kling")).await;
    assert_eq!(status, StatusCode::OK);
    let body: CancelTasksResponse = serde_json::from_value(body).unwrap();
    assert_eq!(
        (body.code, body.message.as_deref()),
        (Some(200), Some("success"))
    );
    assert_eq!(
        body.data.and_then(|d| d.task_ids).unwrap(),
        vec![old_a.task_id.clone(), old_b.task_id.clone()]
    );
    assert_eq!(api.get(&old_a.task_id).await.error.code, 10001);
    assert_eq!(api.get(&young.task_id).await.status, TaskStatus::Pending);

    // `all` includes Kling; already cancelled tasks are not cancelled again.
    let later = cutoff + 3600;
    let (_, body) = cancel_many(&api, &format!("created_before={later}&model=all")).await;
    assert_eq!(body["data"]["task_ids"], json!([young.task_id]));
}

#[tokio::test]
async fn batch_cancel_validates_its_query() {
    let api = Api::start(Simulator::builder()).await;
    let cases = [
        ("model=kling", "created_before: is required (required)"),
        ("created_before=10", "model: is required (required)"),
        (
            "created_before=-1&model=kling",
            "created_before: must be at least 0, got -1 (minimum)",
        ),
        (
            "created_before=soon&model=kling",
            "created_before: must be an integer",
        ),
        (
            "created_before=10&model=sora",
            "model: `sora` is not one of `kling`, `midjourney`, `suno`, `luma`, `all` (enum)",
        ),
    ];
    for (query, expected) in cases {
        let (status, body) = cancel_many(&api, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(expected), "{query}: {message}");
        assert_eq!(body["data"], serde_json::Value::Null);
    }
    let (_, body) = cancel_many(&api, "").await;
    assert!(
        body["message"].as_str().unwrap().contains("; "),
        "both problems reported"
    );
}
