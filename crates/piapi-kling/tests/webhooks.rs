//! Webhook delivery from the simulator into the SDK's axum endpoint.
#![cfg(feature = "axum")]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use common::*;
use piapi_kling::webhook;
use piapi_kling::{TaskStatus, WebhookEvent};
use tokio::sync::mpsc;

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn next_event(events: &mut mpsc::Receiver<WebhookEvent>) -> WebhookEvent {
    tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("a webhook arrives")
        .expect("the endpoint is alive")
}

#[tokio::test]
async fn events_arrive_once_even_when_redelivered() {
    let sim = start_sim().await;
    let (endpoint, mut events) = webhook::axum::channel(SECRET, 16);
    // The first delivery reaches the endpoint but is answered 500 on the way
    // out, as after a timeout: the simulator delivers it again.
    let deliveries = Arc::new(AtomicUsize::new(0));
    let counter = deliveries.clone();
    let app = endpoint.layer(middleware::from_fn(move |request, next: Next| {
        let counter = counter.clone();
        async move {
            let response = next.run(request).await;
            if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            } else {
                response
            }
        }
    }));
    let addr = serve(app).await;

    let handle = client_for(&sim)
        .sound()
        .prompt("rain")
        .webhook(format!("http://{addr}/"), SECRET)
        .send()
        .await
        .unwrap();

    let created = next_event(&mut events).await;
    assert_eq!(created.data.task_id, handle.id());
    assert!(
        !created.data.status.is_terminal(),
        "{:?}",
        created.data.status
    );
    let ended = next_event(&mut events).await;
    assert_eq!(ended.data.task_id, handle.id());
    assert_eq!(ended.data.status, TaskStatus::Completed);
    // Three deliveries reached the endpoint (one redelivered), two events came out.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(deliveries.load(Ordering::SeqCst), 3);
    assert!(events.try_recv().is_err(), "a duplicate got through");
}

#[tokio::test]
async fn the_handler_router_runs_the_handler_per_new_event() {
    let sim = start_sim().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let app = webhook::axum::router(SECRET, move |event: WebhookEvent| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(event.data.status);
        }
    });
    let addr = serve(app).await;
    let client = client_for(&sim);
    let result = client
        .effect(
            format!("{}/cat.png", sim.base_url()),
            piapi_kling::Effect::Squish,
        )
        .webhook(format!("http://{addr}/"), SECRET)
        .send()
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(result.task.status, TaskStatus::Completed);
    let mut seen = Vec::new();
    while seen.last() != Some(&TaskStatus::Completed) {
        let status = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap();
        seen.push(status);
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
}

#[tokio::test]
async fn bad_secrets_are_401_and_bad_bodies_400() {
    let (endpoint, mut events) = webhook::axum::channel(SECRET, 4);
    let addr = serve(endpoint).await;
    let http = reqwest::Client::new();
    let url = format!("http://{addr}/");
    let body = serde_json::json!({
        "timestamp": 1,
        "data": {"task_id": "t-1", "model": "kling", "task_type": "sound", "status": "completed",
                 "input": {}, "output": null, "meta": {}, "detail": null, "logs": null,
                 "error": {"code": 0, "message": ""}}
    });
    let post = |secret: Option<&'static str>, body: String| {
        let mut request = http.post(&url).body(body);
        if let Some(secret) = secret {
            request = request.header(webhook::SECRET_HEADER, secret);
        }
        request.send()
    };
    assert_eq!(post(None, body.to_string()).await.unwrap().status(), 401);
    assert_eq!(
        post(Some("nope"), body.to_string()).await.unwrap().status(),
        401
    );
    assert_eq!(post(Some(SECRET), "{".into()).await.unwrap().status(), 400);
    assert!(events.try_recv().is_err());
    assert_eq!(
        post(Some(SECRET), body.to_string()).await.unwrap().status(),
        200
    );
    assert_eq!(events.recv().await.unwrap().data.task_id, "t-1");
    // The same terminal event again: answered 200, not passed on.
    assert_eq!(
        post(Some(SECRET), body.to_string()).await.unwrap().status(),
        200
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(events.try_recv().is_err());
}

#[tokio::test]
async fn a_full_channel_answers_503_so_the_event_is_redelivered() {
    let (endpoint, mut events) = webhook::axum::channel(SECRET, 1);
    let addr = serve(endpoint).await;
    let http = reqwest::Client::new();
    let event = |task: &str| {
        serde_json::json!({
            "timestamp": 1,
            "data": {"task_id": task, "model": "kling", "task_type": "sound", "status": "completed",
                     "input": {}, "output": null, "meta": {}, "detail": null, "logs": null,
                     "error": {"code": 0, "message": ""}}
        })
        .to_string()
    };
    let post = |body: String| {
        http.post(format!("http://{addr}/"))
            .header(webhook::SECRET_HEADER, SECRET)
            .body(body)
            .send()
    };
    assert_eq!(post(event("a")).await.unwrap().status(), 200);
    assert_eq!(post(event("b")).await.unwrap().status(), 503);
    assert_eq!(events.recv().await.unwrap().data.task_id, "a");
    // "b" was forgotten, so its redelivery is accepted.
    assert_eq!(post(event("b")).await.unwrap().status(), 200);
    assert_eq!(events.recv().await.unwrap().data.task_id, "b");
}
