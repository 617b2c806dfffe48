//! The HTTP contract: auth, validation errors, 404s, the seed sample, the
//! exact envelope, account info and the request log.

mod common;

use std::time::{Duration, SystemTime};

use common::{Api, SEED_BODY, video};
use piapi_kling_models::{AccountInfoResponse, ErrorResponse, TaskStatus, ZERO_TIME};
use piapi_kling_sim::Simulator;
use reqwest::StatusCode;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn missing_or_wrong_api_key_is_401_on_every_operation() {
    let api = Api::start(Simulator::builder().api_key("right-key")).await;
    let calls = [
        ("POST", "/api/v1/task"),
        ("GET", "/api/v1/task/6e269e8c-2091-46c4-b4a5-40a4704a766a"),
        (
            "DELETE",
            "/api/v1/task/6e269e8c-2091-46c4-b4a5-40a4704a766a",
        ),
        ("DELETE", "/api/v1/tasks?created_before=1&model=all"),
        ("POST", "/api/ephemeral_resource"),
        ("GET", "/account/info"),
    ];
    for (method, path) in calls {
        for key in [None, Some("wrong-key"), Some("")] {
            let mut request = api
                .http
                .request(method.parse().unwrap(), api.url(path))
                .body(SEED_BODY);
            if let Some(key) = key {
                request = request.header("x-api-key", key);
            }
            let response = request.send().await.unwrap();
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {path} {key:?}"
            );
            let body: Value = response.json().await.unwrap();
            assert_eq!(
                body,
                json!({"code": 401, "message": "Unauthorized", "data": null})
            );
        }
    }
    assert_eq!(
        api.sim.task_count(),
        0,
        "an unauthorized create created nothing"
    );
    // The header name is case-insensitive.
    let response = api
        .http
        .post(api.url("/api/v1/task"))
        .header("X-API-KEY", "right-key")
        .body(SEED_BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn invalid_requests_are_400_naming_every_field_and_rule() {
    let api = Api::start(Simulator::builder()).await;
    let (status, err) = api
        .create_err(
            json!({"model": "kling", "task_type": "video_generation", "input": {
                "prompt": "x".repeat(2501),
                "cfg_scale": 1.5,
                "duration": 7,
                "aspect_ratio": "4:3",
                "camera_control": {"type": "simple", "config": {"pan": 1, "tilt": 2}},
                "image_tail_url": "https://example.com/tail.png"
            }}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for expected in [
        "input.prompt: must be at most 2500 characters, got 2501 (maxLength)",
        "input.cfg_scale: must be between 0 and 1, got 1.5 (maximum)",
        "input.camera_control.config",
        "(exactly-one-nonzero)",
        "input.image_tail_url",
        "(requires)",
    ] {
        assert!(
            err.message.contains(expected),
            "missing {expected:?} in {}",
            err.message
        );
    }
    assert!(err.message.contains("; "), "violations are joined by '; '");

    let (status, err) = api
        .create_err(json!({"model": "kling", "task_type": "effects",
                           "input": {"image_url": "not a url", "effect": "birthday"}}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        err.message
            .contains("input.image_url: must be an absolute http(s) URL"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("input.prompt") && err.message.contains("(required-when)"),
        "{}",
        err.message
    );

    let (_, err) = api
        .create_err(json!({"model": "kling", "task_type": "future_type", "input": {}}))
        .await;
    assert!(
        err.message
            .starts_with("task_type: `future_type` is not one of `video_generation`"),
        "{}",
        err.message
    );
    assert!(err.message.contains("`sound`"));

    let (_, err) = api
        .create_err(
            json!({"model": "kling", "task_type": "sound", "input": {"prompt": "x"},
                           "config": {"service_mode": "hybrid"}}),
        )
        .await;
    assert!(
        err.message
            .contains("config.service_mode: `hybrid` is not one of"),
        "{}",
        err.message
    );

    let (_, err) = api
        .create_err(json!({"model": "kling", "task_type": "video_generation",
                                          "input": {"prompt": 42}}))
        .await;
    assert!(
        err.message
            .starts_with("input.prompt: invalid type: integer `42`"),
        "{}",
        err.message
    );

    let (_, err) = api
        .create_err(json!({"model": "kling", "task_type": "extend_video", "input": {}}))
        .await;
    assert!(
        err.message.contains("missing field `origin_task_id`"),
        "{}",
        err.message
    );

    let response = api.post_raw("{\"model\": \"kling\",", &[]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let err: ErrorResponse = response.json().await.unwrap();
    assert!(
        err.message.starts_with("(body): invalid JSON: EOF"),
        "{}",
        err.message
    );
    assert_eq!(api.sim.task_count(), 0);
}

#[tokio::test]
async fn unknown_tasks_and_routes_are_404_with_the_error_shape() {
    let api = Api::start(Simulator::builder()).await;
    for id in ["6e269e8c-2091-46c4-b4a5-40a4704a766a", "not-a-uuid"] {
        let response = api.get_raw(id).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body,
            json!({"code": 404, "message": "task not found", "data": null})
        );
        let (status, body) = api.cancel(id).await;
        assert_eq!(
            (status, &body["message"]),
            (StatusCode::NOT_FOUND, &json!("task not found"))
        );
    }
    let response = api
        .http
        .get(api.url("/api/v2/whatever"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: ErrorResponse = response.json().await.unwrap();
    assert_eq!((body.code, body.message.as_str()), (404, "not found"));
    let response = api
        .http
        .put(api.url("/api/v1/task"))
        .header("x-api-key", &api.key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "POST");
}

#[tokio::test]
async fn the_seed_sample_is_accepted_pending_and_completes() {
    let api = Api::start(Simulator::builder().speed(1000.0)).await;
    let response = api.post_raw(SEED_BODY, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    let raw: Value = response.json().await.unwrap();
    // The exact envelope PiAPI sends, nulls included.
    assert_eq!(raw["code"], 200);
    assert_eq!(raw["message"], "success");
    let data = &raw["data"];
    assert_eq!(data["status"], "pending");
    assert_eq!(data["model"], "kling");
    assert_eq!(data["task_type"], "video_generation");
    assert_eq!(data["detail"], Value::Null);
    assert_eq!(data["logs"], json!([]));
    assert_eq!(
        data["error"],
        json!({"code": 0, "raw_message": "", "message": "", "detail": null})
    );
    assert_eq!(
        data["output"],
        json!({"video_url": "", "type": "", "status": 0, "works": null})
    );
    assert_eq!(
        data["config"],
        json!({"service_mode": "public",
                                       "webhook_config": {"endpoint": "", "secret": ""}})
    );
    assert_eq!(
        data["input"]["prompt"],
        "White egrets fly over the vast paddy fields"
    );
    assert_eq!(data["input"]["camera_control"]["config"]["pan"], -10.0);
    assert_eq!(
        data["meta"]["usage"],
        json!({"type": "point", "frozen": 2_600_000, "consume": 0})
    );
    assert_eq!(data["meta"]["started_at"], ZERO_TIME);
    assert_eq!(data["meta"]["ended_at"], ZERO_TIME);
    let id = data["task_id"].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);
    assert_eq!(id, id.to_lowercase());

    let done = api.wait_terminal(id, WAIT).await;
    assert_eq!(done.status, TaskStatus::Completed);
    let url = done.video_url().expect("video_url");
    assert_eq!(url, format!("{}/media/{id}/video.mp4", api.base));
    let work = &done.works()[0];
    assert_eq!(
        work.video
            .as_ref()
            .unwrap()
            .resource_without_watermark
            .as_deref(),
        Some(url)
    );
    assert_eq!(work.video.as_ref().unwrap().duration, Some(5100));
    assert_eq!(done.meta.usage.as_ref().unwrap().consume, Some(2_600_000));
}

#[tokio::test]
async fn timestamps_are_rfc3339_nanos_and_zero_until_reached() {
    // Pending 30 ms, processing 1.2 s.
    let api = Api::start(Simulator::builder().speed(100.0)).await;
    let created = api.create(video("a heron")).await;
    let meta = &created.meta;
    let created_at = meta.created_at.as_deref().unwrap();
    assert_eq!(
        created_at.len(),
        "2025-07-10T08:15:02.118273641Z".len(),
        "{created_at}"
    );
    assert!(created_at.ends_with('Z') && created_at.as_bytes()[19] == b'.');
    assert_eq!((meta.started(), meta.ended()), (None, None));

    let processing = api
        .wait_status(&created.task_id, TaskStatus::Processing, WAIT)
        .await;
    let started = processing
        .meta
        .started()
        .expect("started_at set")
        .to_owned();
    assert!(
        started.as_str() > created_at,
        "{started} after {created_at}"
    );
    assert_eq!(processing.meta.ended(), None);
    let output = processing.output.as_ref().unwrap();
    assert_eq!(
        (output.status, output.r#type.as_deref()),
        (Some(5), Some("m2v_txt2video"))
    );
    assert_eq!(processing.meta.usage.as_ref().unwrap().consume, Some(0));

    let done = api.wait_terminal(&created.task_id, WAIT).await;
    assert_eq!(done.meta.started(), Some(started.as_str()));
    assert!(done.meta.ended().unwrap() > started.as_str());
    assert_eq!(done.meta.created(), Some(created_at));
}

#[tokio::test]
async fn account_credits_fall_by_what_completed_tasks_consume() {
    let api = Api::start(
        Simulator::builder()
            .speed(1000.0)
            .initial_credits(50_000_000),
    )
    .await;
    let account = || async {
        let response = api
            .http
            .get(api.url("/account/info"))
            .header("x-api-key", &api.key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json::<AccountInfoResponse>().await.unwrap()
    };
    let before = account().await;
    assert_eq!((before.code, before.message.as_str()), (200, "success"));
    assert_eq!(before.data.account_name.as_deref(), Some("simulator"));
    assert!(
        before
            .data
            .account_id_text()
            .is_some_and(|id| !id.is_empty())
    );
    assert_eq!(before.data.credits, Some(50_000_000));
    assert_eq!(before.data.equivalent_in_usd, Some(5.0));

    let task = api
        .create(common::body(
            "sound",
            json!({"prompt": "rain", "duration": 5}),
        ))
        .await;
    api.wait_terminal(&task.task_id, WAIT).await;
    let after = account().await;
    assert_eq!(after.data.credits, Some(50_000_000 - 700_000));
    assert_eq!(after.data.equivalent_in_usd, Some(4.93));
    assert_eq!(after.data.account_id, before.data.account_id);
}

#[tokio::test]
async fn the_request_log_records_method_path_status_and_task() {
    let api = Api::start(Simulator::builder().speed(1000.0)).await;
    let started = SystemTime::now();
    let task = api.create(video("log me")).await;
    api.get(&task.task_id).await;
    let missing = "6e269e8c-2091-46c4-b4a5-40a4704a766a";
    assert_eq!(api.get_raw(missing).await.status(), StatusCode::NOT_FOUND);
    let _ = api
        .http
        .get(api.url("/api/v1/task/x"))
        .send()
        .await
        .unwrap();

    let log = api.sim.request_log();
    assert_eq!(log.len(), 4);
    assert_eq!(
        (log[0].method.as_str(), log[0].path.as_str(), log[0].status),
        ("POST", "/api/v1/task", 200)
    );
    assert_eq!(log[0].task_id.as_deref(), Some(task.task_id.as_str()));
    let get_path = format!("/api/v1/task/{}", task.task_id);
    assert_eq!(
        (log[1].method.as_str(), log[1].path.as_str(), log[1].status),
        ("GET", get_path.as_str(), 200)
    );
    assert_eq!(log[1].task_id.as_deref(), Some(task.task_id.as_str()));
    assert_eq!(
        (log[2].status, log[2].task_id.as_deref()),
        (404, Some(missing))
    );
    assert_eq!(log[3].status, 401);
    assert!(
        log.iter()
            .all(|entry| entry.at >= started && entry.latency < Duration::from_secs(5))
    );
    assert!(log.windows(2).all(|w| w[0].at <= w[1].at));

    assert_eq!(api.sim.count_requests("POST", "/api/v1/task"), 1);
    assert_eq!(api.sim.count_requests("GET", &get_path), 1);
    assert_eq!(api.sim.count_requests("DELETE", &get_path), 0);
}

#[tokio::test]
async fn the_running_simulator_reports_its_address_and_tasks() {
    let sim = Simulator::builder().api_key("k").start().await.unwrap();
    assert_eq!(sim.base_url(), format!("http://{}", sim.addr()));
    assert!(sim.addr().ip().is_loopback() && sim.addr().port() != 0);
    assert!(!sim.base_url().ends_with('/'));
    assert_eq!(sim.api_key(), "k");
    assert!(sim.task("6e269e8c-2091-46c4-b4a5-40a4704a766a").is_none());
    assert!(
        !format!("{sim:?}").contains("\"k\""),
        "Debug never shows the key"
    );
    let addr = sim.addr();
    sim.shutdown().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "closed after shutdown"
    );
    assert!(Simulator::builder().speed(0.0).start().await.is_err());
    assert!(
        Simulator::builder()
            .concurrency_cap(0)
            .start()
            .await
            .is_err()
    );
}
