//! Webhooks, delivered to a small axum receiver on loopback: the secret
//! header, the `{timestamp, data}` body, creation and terminal events, and
//! retries after a refusal.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::{Api, video};
use parking_lot::Mutex;
use piapi_kling_models::{TaskStatus, WebhookEvent};
use piapi_kling_sim::Simulator;
use serde_json::{Value, json};

/// What the receiver saw: (secret header, content type, raw body).
type Seen = Arc<Mutex<Vec<(Option<String>, Option<String>, Value)>>>;

struct Receiver {
    url: String,
    seen: Seen,
    calls: Arc<AtomicUsize>,
}

/// A receiver that answers 500 to its first `refuse` calls, then 200.
async fn receiver(refuse: usize) -> Receiver {
    #[derive(Clone)]
    struct Shared {
        seen: Seen,
        calls: Arc<AtomicUsize>,
        refuse: usize,
    }
    async fn hook(State(s): State<Shared>, headers: HeaderMap, body: String) -> StatusCode {
        let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
        s.seen.lock().push((
            header("x-webhook-secret"),
            header("content-type"),
            serde_json::from_str(&body).unwrap(),
        ));
        if s.calls.fetch_add(1, Ordering::SeqCst) < s.refuse {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::OK
        }
    }
    let shared = Shared {
        seen: Seen::default(),
        calls: Arc::default(),
        refuse,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state(shared.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Receiver {
        url,
        seen: shared.seen,
        calls: shared.calls,
    }
}

impl Receiver {
    async fn wait_for(&self, count: usize) -> Vec<(Option<String>, Option<String>, Value)> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let seen = self.seen.lock().clone();
            if seen.len() >= count {
                return seen;
            }
            assert!(
                Instant::now() < deadline,
                "only {} webhooks arrived",
                seen.len()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

fn with_hook(mut body: Value, endpoint: &str, secret: &str) -> Value {
    body["config"] = json!({"webhook_config": {"endpoint": endpoint, "secret": secret}});
    body
}

#[tokio::test]
async fn creation_and_completion_are_posted_with_the_secret() {
    let hook = receiver(0).await;
    let api = Api::start(Simulator::builder().speed(1000.0)).await;
    let before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let task = api
        .create(with_hook(video("notify me"), &hook.url, "s3cr3t"))
        .await;
    // The secret is echoed in the task's config, as PiAPI does.
    let echoed = task
        .config
        .as_ref()
        .unwrap()
        .webhook_config
        .as_ref()
        .unwrap();
    assert_eq!(echoed.secret.as_deref(), Some("s3cr3t"));

    let seen = hook.wait_for(2).await;
    let mut statuses = Vec::new();
    for (secret, content_type, raw) in &seen {
        assert_eq!(secret.as_deref(), Some("s3cr3t"));
        assert_eq!(content_type.as_deref(), Some("application/json"));
        assert_eq!(
            raw["data"]["error"]["detail"],
            Value::Null,
            "same nulls as getTask"
        );
        let event: WebhookEvent = serde_json::from_value(raw.clone()).unwrap();
        assert!(event.timestamp >= before && event.timestamp <= before + 60);
        assert_eq!(event.data.task_id, task.task_id);
        statuses.push(event.data.status.clone());
        if event.data.status == TaskStatus::Completed {
            assert!(event.data.video_url().is_some());
            assert_eq!(event.data.meta.usage.unwrap().consume, Some(2_600_000));
        }
    }
    statuses.sort_by_key(|s| s.to_string());
    assert_eq!(statuses, [TaskStatus::Completed, TaskStatus::Pending]);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        hook.calls.load(Ordering::SeqCst),
        2,
        "nothing sent twice after 2xx"
    );
}

#[tokio::test]
async fn refused_deliveries_are_retried_with_backoff() {
    // The first two attempts get 500; at speed 100 both waits hit the 10 ms floor.
    let hook = receiver(2).await;
    let api = Api::start(Simulator::builder().speed(100.0)).await;
    let started = Instant::now();
    let task = api.create(with_hook(video("retry"), &hook.url, "k")).await;
    let seen = hook.wait_for(3).await;
    assert!(started.elapsed() >= Duration::from_millis(20));
    assert!(
        seen.iter()
            .all(|(_, _, raw)| raw["data"]["task_id"] == task.task_id.as_str())
    );
    assert!(
        seen.iter()
            .all(|(_, _, raw)| raw["data"]["status"] == "pending"),
        "three tries of the creation event"
    );
    // The terminal event follows on its own schedule.
    let seen = hook.wait_for(4).await;
    assert_eq!(seen[3].2["data"]["status"], "completed");
}

#[tokio::test]
async fn failures_and_cancels_are_notified_and_unreachable_endpoints_do_not_block() {
    let hook = receiver(0).await;
    let api = Api::start(Simulator::builder().speed(1000.0)).await;
    let failing = video("[sim:upstream-failure] fail");
    api.create(with_hook(failing, &hook.url, "")).await;
    let seen = hook.wait_for(2).await;
    let terminal = seen
        .iter()
        .find(|(_, _, raw)| raw["data"]["status"] == "failed")
        .unwrap();
    assert_eq!(terminal.0, None, "no secret header without a secret");
    assert_eq!(terminal.2["data"]["error"]["code"], 10000);

    let slow = Api::start(Simulator::builder().speed(1.0)).await;
    let task = slow
        .create(with_hook(video("cancelled"), &hook.url, "x"))
        .await;
    assert_eq!(slow.cancel(&task.task_id).await.0, StatusCode::OK);
    let seen = hook.wait_for(4).await;
    let cancelled: Vec<_> = seen
        .iter()
        .filter(|(_, _, raw)| raw["data"]["task_id"] == task.task_id.as_str())
        .map(|(_, _, raw)| raw["data"]["status"].as_str().unwrap().to_owned())
        .collect();
    assert!(cancelled.contains(&"failed".to_owned()), "{cancelled:?}");

    // An endpoint nobody listens on: the create still answers at once.
    let dead = with_hook(video("nobody home"), "http://127.0.0.1:9/hook", "x");
    let started = Instant::now();
    api.create(dead).await;
    assert!(started.elapsed() < Duration::from_secs(1));
}
