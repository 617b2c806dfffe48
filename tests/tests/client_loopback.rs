//! The generated client against a small loopback server: the x-api-key header
//! is sent, and method, path, query and body are what the spec says.

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, Uri},
};
use piapi_kling_client::Client;
use piapi_kling_models::*;
use piapi_kling_tests::spec;
use reqwest::header::{HeaderName, HeaderValue};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    uri: String,
    api_key: Option<String>,
    headers: HeaderMap,
    body: Option<serde_json::Value>,
}

type Log = Arc<Mutex<Vec<Seen>>>;

async fn record(
    State((log, reply)): State<(Log, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ([(String, String); 1], String) {
    log.lock().unwrap().push(Seen {
        method,
        uri: uri.to_string(),
        api_key: headers
            .get("x-api-key")
            .map(|v| v.to_str().unwrap().to_owned()),
        headers,
        body: (!body.is_empty()).then(|| serde_json::from_slice(&body).unwrap()),
    });
    ([("content-type".into(), "application/json".into())], reply)
}

/// Starts a server that records every request and answers `reply`.
async fn server(reply: serde_json::Value) -> (String, Log) {
    let log: Log = Arc::default();
    let app = Router::new()
        .fallback(record)
        .with_state((log.clone(), reply.to_string()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, log)
}

fn client(url: &str) -> Client {
    Client::with_api_key(url, reqwest::Client::new(), "test-key-123").unwrap()
}

fn example(name: &str) -> serde_json::Value {
    spec()["components"]["examples"][name]["value"].clone()
}

#[tokio::test]
async fn create_task_posts_the_body_with_the_key() {
    let (url, log) = server(example("TaskPending")).await;
    let input =
        EffectsInput::new("https://example.com/cat.png", Effect::Birthday).with_prompt("a party");
    let request = CreateTaskRequest::from(EffectsRequest::new(Model::Kling, input));
    let response = client(&url)
        .create_task()
        .body(request.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.data.status, TaskStatus::Pending);
    let seen = log.lock().unwrap()[0].clone();
    assert_eq!(seen.method, Method::POST);
    assert_eq!(seen.uri, "/api/v1/task");
    assert_eq!(seen.api_key.as_deref(), Some("test-key-123"));
    assert_eq!(seen.body.unwrap(), serde_json::to_value(&request).unwrap());
}

#[tokio::test]
async fn get_and_cancel_use_the_task_path() {
    let (url, log) = server(example("TaskCompleted")).await;
    let c = client(&url);
    let task = c
        .get_task()
        .task_id("6e269e8c-2091-46c4-b4a5-40a4704a766a")
        .send()
        .await
        .unwrap();
    assert_eq!(
        task.data.video_url(),
        Some("https://storage.goapi.ai/kling/6e269e8c.mp4")
    );
    let _ = c.cancel_task().task_id("abc/def").send().await;
    let seen = log.lock().unwrap().clone();
    assert_eq!(
        (seen[0].method.clone(), seen[0].uri.as_str()),
        (
            Method::GET,
            "/api/v1/task/6e269e8c-2091-46c4-b4a5-40a4704a766a"
        )
    );
    // Path parameters are percent-encoded.
    assert_eq!(
        (seen[1].method.clone(), seen[1].uri.as_str()),
        (Method::DELETE, "/api/v1/task/abc%2Fdef")
    );
    assert!(
        seen.iter()
            .all(|s| s.api_key.as_deref() == Some("test-key-123") && s.body.is_none())
    );
}

#[tokio::test]
async fn batch_cancel_sends_its_query() {
    let reply =
        serde_json::json!({"code": 200, "data": {"task_ids": ["a", "b"]}, "message": "success"});
    let (url, log) = server(reply).await;
    let response = client(&url)
        .cancel_tasks()
        .created_before(1728570429)
        .model(CancelModel::Kling)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.into_inner().data.unwrap().task_ids.unwrap(),
        ["a", "b"]
    );
    let seen = log.lock().unwrap()[0].clone();
    assert_eq!(seen.method, Method::DELETE);
    assert_eq!(
        seen.uri,
        "/api/v1/tasks?created_before=1728570429&model=kling"
    );
}

#[tokio::test]
async fn upload_and_account_info() {
    let reply = serde_json::json!({"code": 200, "data": {"url": "https://img.theapi.app/ephemeral/x.png", "account_id": "acc"}, "message": "success"});
    let (url, log) = server(reply).await;
    let c = client(&url);
    let up = c
        .upload_file()
        .body(UploadRequest::new("x.png", "aGVsbG8="))
        .send()
        .await
        .unwrap();
    assert_eq!(up.data.url, "https://img.theapi.app/ephemeral/x.png");
    let info = c.get_account_info().send().await.unwrap();
    assert_eq!(info.data.account_id.as_deref(), Some("acc"));
    let seen = log.lock().unwrap().clone();
    assert_eq!(
        (seen[0].method.clone(), seen[0].uri.as_str()),
        (Method::POST, "/api/ephemeral_resource")
    );
    assert_eq!(seen[0].body.as_ref().unwrap()["file_name"], "x.png");
    assert_eq!(
        (seen[1].method.clone(), seen[1].uri.as_str()),
        (Method::GET, "/account/info")
    );
}

#[tokio::test]
async fn an_unknown_status_from_the_server_still_decodes() {
    let mut reply = example("TaskProcessing");
    reply["data"]["status"] = "queued".into();
    let (url, _log) = server(reply).await;
    let task = client(&url).get_task().task_id("x").send().await.unwrap();
    assert_eq!(task.data.status, TaskStatus::Unknown("queued".into()));
}

#[tokio::test]
async fn context_headers_are_added_and_api_version_is_not_sent() {
    let (url, log) = server(example("TaskPending")).await;
    let base = client(&url);
    let context = base.context().clone().with_header(
        HeaderName::from_static("x-sim-fault"),
        HeaderValue::from_static("delay=1"),
    );
    base.with_context(context)
        .get_task()
        .task_id("t")
        .send()
        .await
        .unwrap();
    base.get_task().task_id("t").send().await.unwrap();
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen[0].headers.get("x-sim-fault").unwrap(), "delay=1");
    assert!(
        seen[1].headers.get("x-sim-fault").is_none(),
        "the context is per client"
    );
    assert!(seen.iter().all(|s| s.headers.get("api-version").is_none()));
    assert!(
        seen.iter()
            .all(|s| s.api_key.as_deref() == Some("test-key-123"))
    );
    // The key never shows in Debug.
    assert!(!format!("{base:?}").contains("test-key-123"));
}

#[tokio::test]
async fn a_callers_own_reqwest_client_is_authenticated_too() {
    let (url, log) = server(example("TaskPending")).await;
    let http = reqwest::Client::builder()
        .user_agent("mine/1.0")
        .build()
        .unwrap();
    let c = Client::with_api_key(&url, http, "k2").unwrap();
    c.get_task().task_id("t").send().await.unwrap();
    let seen = log.lock().unwrap()[0].clone();
    assert_eq!(seen.api_key.as_deref(), Some("k2"));
    assert_eq!(seen.headers.get("user-agent").unwrap(), "mine/1.0");
    assert!(Client::with_api_key(&url, reqwest::Client::new(), "bad\nkey").is_err());
}
