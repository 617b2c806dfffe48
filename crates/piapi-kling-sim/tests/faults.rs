//! Fault injection, per request (`x-sim-fault`) and per server (`Faults`):
//! what the client sees, and whether the operation ran.

mod common;

use std::time::{Duration, Instant};

use common::{Api, video};
use piapi_kling_models::{ErrorResponse, TaskResponse, TaskStatus, TaskType};
use piapi_kling_sim::{Faults, Simulator};
use reqwest::StatusCode;

async fn get_with_fault(api: &Api, id: &str, fault: &str) -> reqwest::Result<reqwest::Response> {
    api.http
        .get(api.url(&format!("/api/v1/task/{id}")))
        .header("x-api-key", &api.key)
        .header("x-sim-fault", fault)
        .send()
        .await
}

#[tokio::test]
async fn faults_before_the_operation_do_not_run_it() {
    let api = Api::start(Simulator::builder()).await;
    let body = video("never created").to_string();
    for (fault, status) in [
        ("500", 500),
        ("502", 502),
        ("503", 503),
        ("504", 504),
        ("429", 429),
    ] {
        let response = api.post_raw(&body, &[("x-sim-fault", fault)]).await;
        assert_eq!(response.status().as_u16(), status);
        if status == 429 {
            let retry_after: u64 = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(retry_after >= 1);
        }
        let err: ErrorResponse = response.json().await.unwrap();
        assert_eq!(err.code, i64::from(status));
        assert!(err.message.contains("simulated"), "{}", err.message);
    }
    assert_eq!(api.sim.task_count(), 0, "no faulted create created a task");

    // A dropped connection is a transport error, not an HTTP status.
    let dropped = api
        .http
        .post(api.url("/api/v1/task"))
        .header("x-api-key", &api.key)
        .header("x-sim-fault", "drop")
        .body(body.clone())
        .send()
        .await;
    let error = dropped.expect_err("no response at all");
    assert!(error.status().is_none());
    assert!(
        error.is_request() || error.is_connect() || error.is_body(),
        "{error:?}"
    );
    assert_eq!(api.sim.task_count(), 0);
    let log = api.sim.request_log();
    assert_eq!(log.last().unwrap().status, 0, "logged as unanswered");
    assert_eq!(api.sim.count_requests("POST", "/api/v1/task"), 6);
}

#[tokio::test]
async fn faults_after_the_operation_ran_leave_the_task_created() {
    let api = Api::start(Simulator::builder()).await;
    let body = video("ambiguous").to_string();

    // Truncated: Content-Length promises more than arrives.
    let response = api.post_raw(&body, &[("x-sim-fault", "truncate")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let announced: usize = response.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(announced > 100);
    let read = response.bytes().await;
    assert!(read.is_err(), "the body cannot be read in full");
    assert_eq!(
        api.sim.task_count(),
        1,
        "the create ran although its answer was lost"
    );

    // Malformed: a 200 whose body is not JSON.
    let response = api.post_raw(&body, &[("x-sim-fault", "malformed")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(serde_json::from_str::<TaskResponse>(&text).is_err());
    assert!(
        serde_json::from_str::<serde_json::Value>(&text).is_err(),
        "{text}"
    );
    assert_eq!(api.sim.task_count(), 2);
}

#[tokio::test]
async fn a_dropped_answer_leaves_the_task_created_and_logs_its_id() {
    let api = Api::start(Simulator::builder()).await;
    let body = video("answer lost").to_string();
    let sent = api
        .http
        .post(api.url("/api/v1/task"))
        .header("x-api-key", &api.key)
        .header("content-type", "application/json")
        .header("x-sim-fault", "drop-after")
        .body(body.clone())
        .send()
        .await;
    assert!(sent.is_err(), "no answer at all");
    assert_eq!(api.sim.task_count(), 1, "the create ran");
    let log = api.sim.request_log();
    let entry = log.last().unwrap();
    assert_eq!(entry.status, 0);
    assert!(entry.task_id.is_some(), "the log names the task made");

    // Server-wide, at a rate: each dropped answer is a task that exists.
    api.sim.set_faults(Faults {
        dropped_answer_rate: 0.5,
        methods: Some(vec!["POST".into()]),
        seed: 3,
        ..Faults::default()
    });
    let mut lost = 0;
    for _ in 0..20 {
        let sent = api
            .http
            .post(api.url("/api/v1/task"))
            .header("x-api-key", &api.key)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await;
        if sent.is_err() {
            lost += 1;
        }
    }
    assert!((3..=17).contains(&lost), "{lost}");
    assert_eq!(api.sim.task_count(), 21);
}

#[tokio::test]
async fn unknown_enums_and_extra_fields_still_decode() {
    let api = Api::start(Simulator::builder()).await;
    let task = api.create(video("future")).await;
    let response = get_with_fault(&api, &task.task_id, "unknown-enum,extra-fields")
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let raw: serde_json::Value = response.json().await.unwrap();
    assert_eq!(raw["data"]["status"], "queued");
    assert_eq!(raw["data"]["task_type"], "future_type");
    assert!(raw["sim_extra"].is_object() && raw["data"]["meta"]["sim_extra"].is_object());
    let parsed: TaskResponse = serde_json::from_value(raw).unwrap();
    assert!(!parsed.data.status.is_known());
    assert_eq!(parsed.data.status.as_str(), "queued");
    assert_eq!(parsed.data.task_type, TaskType::from("future_type"));
    assert_eq!(parsed.data.task_id, task.task_id);
    // Only that answer was changed, not the task.
    assert_eq!(api.get(&task.task_id).await.status, TaskStatus::Pending);
}

#[tokio::test]
async fn delay_adds_latency_and_bad_fault_headers_are_refused() {
    let api = Api::start(Simulator::builder()).await;
    let task = api.create(video("wait")).await;
    let started = Instant::now();
    let response = get_with_fault(&api, &task.task_id, "delay=150")
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert!(api.sim.request_log().last().unwrap().latency >= Duration::from_millis(150));

    let response = get_with_fault(&api, &task.task_id, "explode")
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let err: ErrorResponse = response.json().await.unwrap();
    assert!(
        err.message
            .starts_with("x-sim-fault: unknown fault `explode`"),
        "{}",
        err.message
    );

    // Downloads are never faulted.
    let media = api
        .http
        .get(api.url(&format!("/media/{}/video.mp4", task.task_id)))
        .header("x-sim-fault", "drop")
        .send()
        .await
        .unwrap();
    assert_eq!(
        media.status(),
        StatusCode::NOT_FOUND,
        "not completed yet, but answered"
    );
}

/// Status codes (0 for a transport error) of `n` creates.
async fn create_statuses(api: &Api, n: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..n {
        let result = api
            .http
            .post(api.url("/api/v1/task"))
            .header("x-api-key", &api.key)
            .body(video("rates").to_string())
            .send()
            .await;
        statuses.push(match result {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = response.bytes().await;
                if body.is_err() { 1 } else { status }
            }
            Err(_) => 0,
        });
    }
    statuses
}

#[tokio::test]
async fn server_wide_rates_are_seeded_reproducible_and_changeable() {
    let faults = Faults {
        server_error_rate: 0.2,
        too_many_requests_rate: 0.1,
        retry_after_secs: 7,
        drop_connection_rate: 0.1,
        truncated_body_rate: 0.1,
        seed: 42,
        ..Faults::default()
    };
    let first = Api::start(Simulator::builder().speed(1000.0).faults(faults.clone())).await;
    let second = Api::start(Simulator::builder().speed(1000.0).faults(faults)).await;
    let a = create_statuses(&first, 60).await;
    let b = create_statuses(&second, 60).await;
    assert_eq!(a, b, "same seed, same faults");
    for kind in [0, 1, 200, 429, 500, 503] {
        assert!(a.contains(&kind), "{kind} never happened in {a:?}");
    }
    // Tasks exist for answered (200) and truncated (1) creates only.
    let created = a.iter().filter(|s| **s == 200 || **s == 1).count();
    assert_eq!(first.sim.task_count(), created);

    first.sim.set_faults(Faults::default());
    assert!(create_statuses(&first, 10).await.iter().all(|s| *s == 200));

    // Restricted to DELETE, they leave POST alone.
    first.sim.set_faults(Faults {
        server_error_rate: 1.0,
        methods: Some(vec!["DELETE".into()]),
        ..Faults::default()
    });
    assert!(create_statuses(&first, 5).await.iter().all(|s| *s == 200));
    let id = first
        .sim
        .request_log()
        .last()
        .unwrap()
        .task_id
        .clone()
        .unwrap();
    assert_eq!(first.cancel(&id).await.0.as_u16() / 100, 5);
}

#[tokio::test]
async fn latency_range_applies_to_every_api_answer() {
    let api = Api::start(Simulator::builder().faults(Faults {
        latency: Some((Duration::from_millis(40), Duration::from_millis(60))),
        ..Faults::default()
    }))
    .await;
    for _ in 0..3 {
        let started = Instant::now();
        let response = api
            .http
            .get(api.url("/account/info"))
            .header("x-api-key", &api.key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(started.elapsed() >= Duration::from_millis(40));
    }
    let latencies: Vec<Duration> = api.sim.request_log().iter().map(|e| e.latency).collect();
    assert!(
        latencies
            .iter()
            .all(|l| *l >= Duration::from_millis(40) && *l < Duration::from_secs(2))
    );
}
