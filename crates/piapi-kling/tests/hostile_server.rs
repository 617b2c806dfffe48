//! The SDK against servers that are not PiAPI (SECURITY.md): plain HTTP to a
//! remote host is refused unless opted in, the API key never follows a
//! redirect to another host, response bodies are capped, and malformed or
//! absurd bodies are clear errors rather than crashes. Every server is a
//! loopback server of this test (`common/hostile.rs`).

#[path = "common/hostile.rs"]
mod hostile;

use std::time::Duration;

use hostile::{Hostile, Reply, envelope, task};
use piapi_kling::{Client, ClientBuilder, DEFAULT_MAX_RESPONSE_BYTES, Error, RetryPolicy};

const ID: &str = "6e269e8c-2091-46c4-b4a5-40a4704a766a";
const KEY: &str = "sk-hostile-KEY-91c2e7";

/// Three attempts, quickly: a failure that is retried shows in the request
/// count.
fn builder(url: &str) -> ClientBuilder {
    Client::builder()
        .api_key(KEY)
        .base_url(url)
        .timeout(Duration::from_secs(5))
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(20))
                .with_max_elapsed(Duration::from_secs(5)),
        )
}

fn config_message(result: Result<Client, Error>) -> String {
    match result {
        Err(Error::Config(message)) => message,
        Err(other) => panic!("expected a configuration error, got {other:?}"),
        Ok(client) => panic!("expected a configuration error, got {client:?}"),
    }
}

// ------------------------------------------------------------ plain HTTP

#[test]
fn plain_http_to_a_host_that_is_not_loopback_is_refused() {
    let message = config_message(
        Client::builder()
            .api_key(KEY)
            .base_url("http://api.example.com")
            .build(),
    );
    assert!(message.contains("http://api.example.com"), "{message}");
    assert!(message.contains("allow_insecure_http"), "{message}");
    assert!(!message.contains(KEY), "{message}");

    // The upload host is held to the same rule.
    let message = config_message(
        Client::builder()
            .api_key(KEY)
            .base_url("https://api.example.com")
            .upload_base_url("http://upload.example.com:8080")
            .build(),
    );
    assert!(message.contains("upload base URL"), "{message}");
    assert!(
        message.contains("http://upload.example.com:8080"),
        "{message}"
    );

    // A private address is still a network away.
    for url in [
        "http://10.0.0.5",
        "http://192.168.1.2:8080",
        "http://[fe80::1]",
    ] {
        config_message(Client::builder().api_key(KEY).base_url(url).build());
    }
}

#[test]
fn loopback_and_https_need_no_opt_in() {
    for url in [
        "http://127.0.0.1:8080",
        "http://127.10.20.30",
        "http://[::1]:8080",
        "http://[::ffff:127.0.0.1]",
        "http://localhost:9",
        "http://LOCALHOST.",
        "https://api.example.com",
    ] {
        Client::builder()
            .api_key(KEY)
            .base_url(url)
            .build()
            .unwrap_or_else(|e| panic!("{url}: {e}"));
    }
}

#[test]
fn allow_insecure_http_opts_in() {
    let client = Client::builder()
        .api_key(KEY)
        .base_url("http://api.example.com")
        .upload_base_url("http://upload.example.com")
        .allow_insecure_http(true)
        .build()
        .unwrap();
    assert_eq!(client.base_url().as_str(), "http://api.example.com/");
}

// ------------------------------------------------------------- redirects

#[tokio::test]
async fn the_key_never_follows_a_redirect_to_another_host() {
    // The same loopback server under another name is another host.
    let elsewhere = Hostile::start(|_, _| Reply::json(envelope(&task(ID, "pending", "")))).await;
    let target = format!("http://localhost:{}", elsewhere.port);
    let redirecting = Hostile::start(move |seen, _| Reply::Full {
        // 307 keeps the method and the body: a create would be re-sent.
        status: 307,
        headers: vec![("location".into(), format!("{target}{}", seen.path))],
        body: Vec::new(),
    })
    .await;
    let client = builder(&redirecting.url).build().unwrap();

    let error = client.get_task(ID).await.unwrap_err();
    let text = error_chain(&error);
    assert!(text.contains("refused a redirect"), "{text}");
    assert!(!text.contains(KEY), "{text}");
    let error = client
        .text_to_video("a heron")
        .send()
        .await
        .map(|h| h.id().to_owned())
        .unwrap_err();
    assert!(
        error_chain(&error).contains("refused a redirect"),
        "{error}"
    );
    assert!(
        elsewhere.seen().is_empty(),
        "the other host was reached: {:?}",
        elsewhere.seen()
    );
    // A refused redirect is not retried.
    assert_eq!(redirecting.seen().len(), 2);
    assert!(
        redirecting
            .seen()
            .iter()
            .all(|s| s.header("x-api-key") == Some(KEY))
    );
}

#[tokio::test]
async fn a_redirect_on_the_same_origin_is_followed() {
    let server = Hostile::start(|seen, _| {
        if seen.path.ends_with("/old") {
            Reply::redirect(&format!("/api/v1/task/{ID}"))
        } else {
            Reply::json(envelope(&task(ID, "pending", "")))
        }
    })
    .await;
    let client = builder(&server.url).build().unwrap();
    assert_eq!(client.get_task("old").await.unwrap().task_id, ID);
    assert_eq!(server.seen().len(), 2);
}

// ------------------------------------------------------------ body sizes

fn too_large(error: &Error) -> (u16, u64, Option<&str>) {
    match error {
        Error::ResponseTooLarge {
            status,
            limit,
            task_id,
        } => (*status, *limit, task_id.as_deref()),
        other => panic!("expected ResponseTooLarge, got {other:?}"),
    }
}

#[tokio::test]
async fn an_announced_oversized_body_fails_at_once_naming_the_limit() {
    let server = Hostile::start(|_, _| Reply::Announced {
        length: 1 << 40,
        sent: b"{\"code\":200,".to_vec(),
    })
    .await;
    let client = builder(&server.url).build().unwrap();
    let started = std::time::Instant::now();
    let error = client.get_task(ID).await.unwrap_err();
    // Not a wait for the body until the 5 s timeout.
    assert!(started.elapsed() < Duration::from_secs(2), "{error}");
    assert_eq!(
        too_large(&error),
        (200, DEFAULT_MAX_RESPONSE_BYTES, Some(ID))
    );
    let text = error.to_string();
    assert!(text.contains("16777216 bytes"), "{text}");
    assert!(text.contains("max_response_bytes"), "{text}");
    assert!(text.contains(ID), "{text}");
    assert_eq!(error.task_id(), Some(ID));
    // The same body would come again: not retried.
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn an_endless_body_stops_at_the_limit() {
    let server = Hostile::start(|_, _| Reply::Endless {
        status: 200,
        chunk: vec![b' '; 64 * 1024],
    })
    .await;
    // The default limit.
    let client = builder(&server.url).build().unwrap();
    let error = client.get_task(ID).await.unwrap_err();
    assert_eq!(
        too_large(&error),
        (200, DEFAULT_MAX_RESPONSE_BYTES, Some(ID))
    );
    // A limit of the caller's.
    let client = builder(&server.url)
        .max_response_bytes(100_000)
        .build()
        .unwrap();
    let error = client.account_info().await.unwrap_err();
    assert_eq!(too_large(&error), (200, 100_000, None));
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn an_oversized_error_body_is_too_large_and_not_retried() {
    let server = Hostile::start(|_, _| Reply::Endless {
        status: 500,
        chunk: vec![b'x'; 8 * 1024],
    })
    .await;
    let client = builder(&server.url)
        .max_response_bytes(64 * 1024)
        .build()
        .unwrap();
    let error = client.get_task(ID).await.unwrap_err();
    assert_eq!(too_large(&error), (500, 64 * 1024, Some(ID)));
    assert_eq!(server.seen().len(), 1);
    // An undocumented status is read by the SDK itself: capped too.
    let server = Hostile::start(|_, _| Reply::Endless {
        status: 502,
        chunk: vec![b'x'; 8 * 1024],
    })
    .await;
    let client = builder(&server.url)
        .max_response_bytes(64 * 1024)
        .build()
        .unwrap();
    let error = client.get_task(ID).await.unwrap_err();
    assert_eq!(too_large(&error), (502, 64 * 1024, Some(ID)));
}

#[tokio::test]
async fn an_oversized_create_answer_is_ambiguous() {
    let server = Hostile::start(|_, _| Reply::Endless {
        status: 200,
        chunk: vec![b' '; 8 * 1024],
    })
    .await;
    let client = builder(&server.url)
        .max_response_bytes(64 * 1024)
        .build()
        .unwrap();
    match client.text_to_video("a heron").send().await {
        Err(Error::AmbiguousCreate { source, .. }) => {
            assert_eq!(too_large(&source).1, 64 * 1024);
        }
        Err(other) => panic!("expected AmbiguousCreate, got {other:?}"),
        Ok(handle) => panic!("created {}", handle.id()),
    }
    assert_eq!(server.seen().len(), 1, "a create is never re-sent");
}

#[tokio::test]
async fn a_body_of_exactly_the_limit_is_read() {
    let body = envelope(&task(ID, "pending", ""));
    let length = body.len() as u64;
    let server = Hostile::start(move |_, _| Reply::json(body.clone())).await;
    let at_limit = builder(&server.url)
        .max_response_bytes(length)
        .build()
        .unwrap();
    assert_eq!(at_limit.get_task(ID).await.unwrap().task_id, ID);
    let below = builder(&server.url)
        .max_response_bytes(length - 1)
        .build()
        .unwrap();
    assert_eq!(
        too_large(&below.get_task(ID).await.unwrap_err()),
        (200, length - 1, Some(ID))
    );
}

// ------------------------------------------------------- malformed bodies

#[tokio::test]
async fn malformed_utf8_is_a_decode_error() {
    let mut body = envelope(&task(ID, "pending", "")).into_bytes();
    let at = body.windows(7).position(|w| w == b"pending").unwrap();
    body[at] = 0xff;
    let server = Hostile::start(move |_, _| Reply::bytes("application/json", body.clone())).await;
    let client = builder(&server.url).build().unwrap();
    match client.get_task(ID).await.unwrap_err() {
        Error::Decode { status, body, .. } => {
            assert_eq!(status, 200);
            assert!(body.contains('\u{fffd}'), "{body}");
        }
        other => panic!("expected Decode, got {other:?}"),
    }
}

#[tokio::test]
async fn deeply_nested_json_is_a_decode_error_not_a_crash() {
    let depth = 200_000;
    let nested = |status: u16| {
        format!(
            r#"{{"code":{status},"message":"x","data":{{"task_id":"{ID}","input":{}{}}}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        )
    };
    let ok = nested(200);
    let server = Hostile::start(move |_, _| Reply::json(ok.clone())).await;
    let client = builder(&server.url).build().unwrap();
    let error = client.get_task(ID).await.unwrap_err();
    assert!(
        matches!(&error, Error::Decode { status: 200, .. }),
        "{error}"
    );
    // An error status with such a body keeps its status.
    let failing = nested(400);
    let server = Hostile::start(move |_, _| Reply::status_json(400, failing.clone())).await;
    let client = builder(&server.url).build().unwrap();
    let error = client.get_task(ID).await.unwrap_err();
    assert_eq!(error.status(), Some(400), "{error}");
}

/// The error and its sources, as one line.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

// -------------------------------------------------------------- webhooks

/// A webhook receiver reads at most axum's default 2 MB body, before the
/// secret is even checked: a flood of large deliveries cannot exhaust it.
#[cfg(feature = "axum")]
#[tokio::test]
async fn an_oversized_webhook_delivery_is_refused() {
    let (endpoint, mut events) = piapi_kling::webhook::axum::channel("whsec-hostile", 4);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, endpoint).await });
    let event = serde_json::json!({"timestamp": 1, "data": task(ID, "completed", "")});
    let mut padded = event.to_string();
    padded.truncate(padded.len() - 1);
    padded.push_str(&format!(r#","padding":"{}"}}"#, " ".repeat(3 << 20)));
    let status = reqwest::Client::new()
        .post(format!("http://{addr}/"))
        .header(piapi_kling::webhook::SECRET_HEADER, "whsec-hostile")
        .body(padded)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 413);
    assert!(events.try_recv().is_err());
}
