//! Documented error statuses (whose body progenitor tries to decode as the
//! spec's error JSON) with a body that is not JSON, such as a proxy's HTML
//! page, keep their HTTP status: a read answered "500 <html>" is retried, a
//! create answered "429 <html>" is retried after its Retry-After, and a create
//! answered "500 <html>" is reported as ambiguous with the 500 inside. An
//! undocumented status (502) keeps its status too. A small loopback server
//! plays the proxy; the simulator has no HTML errors.

use piapi_kling::{Client, Error, RetryPolicy};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const TASK: &str = r#"{"code":200,"message":"success","data":{"task_id":"6e269e8c-2091-46c4-b4a5-40a4704a766a","model":"kling","task_type":"video_generation","status":"pending","input":{},"output":null,"meta":{},"detail":null,"logs":[],"error":{"code":0,"message":""}}}"#;

fn html(status: &str, extra: &str) -> String {
    let body = "<html><body>Bad gateway</body></html>";
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/html\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn json(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Serves `script` in order, one response per connection; returns the base
/// URL and the request lines seen.
async fn proxy(script: Vec<String>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        for response in script {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // Read the head, then the body its content-length announces.
            loop {
                let n = socket.read(&mut buf).await.unwrap();
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length || n == 0 {
                        break;
                    }
                }
            }
            let first = String::from_utf8_lossy(&request)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned();
            log.lock().unwrap().push(first);
            socket.write_all(response.as_bytes()).await.unwrap();
            socket.shutdown().await.ok();
        }
    });
    (url, seen)
}

fn client(url: &str) -> Client {
    Client::builder()
        .base_url(url)
        .api_key("k")
        .retry_policy(RetryPolicy::default().with_initial_backoff(Duration::from_millis(5)))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_read_answered_by_an_html_500_is_retried() {
    let (url, seen) = proxy(vec![html("500 Internal Server Error", ""), json(TASK)]).await;
    let task = client(&url)
        .get_task("6e269e8c-2091-46c4-b4a5-40a4704a766a")
        .await
        .unwrap();
    assert_eq!(task.task_id, "6e269e8c-2091-46c4-b4a5-40a4704a766a");
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_read_that_keeps_failing_reports_the_status_not_a_decode_error() {
    let (url, _seen) = proxy(vec![html("500 Internal Server Error", ""); 4]).await;
    match client(&url)
        .get_task("6e269e8c-2091-46c4-b4a5-40a4704a766a")
        .await
    {
        Err(Error::Api { status, .. }) => assert_eq!(status, 500),
        other => panic!("expected an API error with status 500, got {other:?}"),
    }
}

#[tokio::test]
async fn a_create_refused_by_an_html_429_is_retried_after_retry_after() {
    let (url, seen) = proxy(vec![
        html("429 Too Many Requests", "retry-after: 0\r\n"),
        json(TASK),
    ])
    .await;
    let handle = client(&url).text_to_video("egrets").send().await.unwrap();
    assert_eq!(handle.id(), "6e269e8c-2091-46c4-b4a5-40a4704a766a");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|l| l.starts_with("POST /api/v1/task ")));
}

#[tokio::test]
async fn a_create_answered_by_an_html_500_is_ambiguous_and_not_resent() {
    let (url, seen) = proxy(vec![html("500 Internal Server Error", ""), json(TASK)]).await;
    match client(&url).text_to_video("egrets").send().await {
        Err(Error::AmbiguousCreate { source, .. }) => {
            assert!(
                matches!(*source, Error::Api { status: 500, .. }),
                "{source:?}"
            )
        }
        other => panic!("expected an ambiguous create, got {other:?}"),
    }
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "a create that may exist is never re-sent"
    );
}

#[tokio::test]
async fn an_undocumented_html_502_on_a_read_is_retried_too() {
    let (url, seen) = proxy(vec![html("502 Bad Gateway", ""), json(TASK)]).await;
    client(&url)
        .get_task("6e269e8c-2091-46c4-b4a5-40a4704a766a")
        .await
        .unwrap();
    assert_eq!(seen.lock().unwrap().len(), 2);
}
