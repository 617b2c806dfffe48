//! The API key and webhook secrets never show: not in `Debug` or `Display` of
//! anything that held them, nor in any error (the logs: `tests/logs.rs`).

mod common;

use std::time::Duration;

use common::*;
use piapi_kling::{Error, LipSyncSpec, WaitPolicy};
use piapi_kling_sim::Faults;
use reqwest::header::{HeaderName, HeaderValue};

const WRONG_KEY: &str = "sk-WRONG-KEY-0b9a77";
// Loopback with nothing listening: the simulator's deliveries fail at once,
// and nothing leaves the machine.
const HOOK: &str = "http://127.0.0.1:9/piapi-hook";

fn assert_clean(what: &str, text: &str) {
    for secret in [KEY, SECRET, WRONG_KEY] {
        assert!(!text.contains(secret), "{what} shows a secret: {text}");
    }
}

/// Display, Debug, pretty Debug and the source chain of an error.
fn assert_error_clean(err: &Error) {
    assert_clean("Display", &err.to_string());
    assert_clean("Debug", &format!("{err:?}"));
    assert_clean("pretty Debug", &format!("{err:#?}"));
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        assert_clean("source", &s.to_string());
        source = s.source();
    }
}

fn malformed() -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static("x-sim-fault"),
        HeaderValue::from_static("malformed"),
    )
}

#[tokio::test]
async fn no_error_variant_shows_the_key_or_the_webhook_secret() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let mut errors: Vec<Error> = Vec::new();

    // Validation, with a webhook secret in the request.
    errors.push(
        client
            .text_to_video("x".repeat(2501))
            .webhook(HOOK, SECRET)
            .send()
            .await
            .unwrap_err(),
    );
    // Api 401 with a wrong key.
    let wrong = builder_for(&sim).api_key(WRONG_KEY).build().unwrap();
    errors.push(
        wrong
            .text_to_video("a fox")
            .webhook(HOOK, SECRET)
            .send()
            .await
            .unwrap_err(),
    );
    // Api 400 from the server for a request carrying the secret.
    let bad: piapi_kling::CreateTaskRequest = serde_json::from_value(serde_json::json!({
        "model": "kling", "task_type": "sound", "input": {"prompt": "x".repeat(2501)},
        "config": {"webhook_config": {"endpoint": HOOK, "secret": SECRET}}
    }))
    .unwrap();
    errors.push(client.create_unvalidated(bad).await.unwrap_err());
    // TaskFailed: the task echoes its webhook config, secret included.
    let failing = client
        .sound()
        .prompt("[sim:content-filter] x")
        .webhook(HOOK, SECRET)
        .send()
        .await
        .unwrap();
    assert_clean("TaskHandle Debug", &format!("{failing:?}"));
    errors.push(failing.wait().await.unwrap_err());
    // Timeout.
    let slow = client
        .sound()
        .prompt("[sim:slow] x")
        .webhook(HOOK, SECRET)
        .send()
        .await
        .unwrap();
    errors.push(
        slow.wait_with(WaitPolicy::fixed(Duration::from_millis(5)).with_deadline(Duration::ZERO))
            .await
            .unwrap_err(),
    );
    // AmbiguousCreate whose raw body holds the echoed secret (a malformed
    // answer: the bytes of one cut short are not kept).
    let (name, value) = malformed();
    let ambiguous = client
        .sound()
        .prompt("x")
        .webhook(HOOK, SECRET)
        .header(name, value)
        .send()
        .await
        .unwrap_err();
    match &ambiguous {
        Error::AmbiguousCreate {
            raw_body: Some(raw),
            ..
        } => assert!(
            raw.contains("<redacted>"),
            "the echoed secret is scrubbed: {raw}"
        ),
        other => panic!("{other:?}"),
    }
    errors.push(ambiguous);
    // Decode: a malformed answer to a read of a task that has a secret.
    sim.set_faults(Faults {
        malformed_body_rate: 1.0,
        methods: Some(vec!["GET".into()]),
        ..Faults::default()
    });
    let decode = client.get_task(slow.id()).await.unwrap_err();
    assert!(matches!(decode, Error::Decode { .. }), "{decode:?}");
    errors.push(decode);
    sim.set_faults(Faults::default());
    // Pipeline, whose video task carries the secret.
    errors.push(
        client
            .generate_and_lip_sync(
                client.text_to_video("an anchor").webhook(HOOK, SECRET),
                LipSyncSpec::text("[sim:upstream-failure] hi", "Rock"),
            )
            .await
            .unwrap_err(),
    );
    // Transport: nothing listens on port 9 of loopback.
    let nowhere = piapi_kling::Client::builder()
        .api_key(KEY)
        .base_url("http://127.0.0.1:9")
        .retry_policy(piapi_kling::RetryPolicy::none())
        .build()
        .unwrap();
    errors.push(
        nowhere
            .text_to_video("a fox")
            .webhook(HOOK, SECRET)
            .send()
            .await
            .unwrap_err(),
    );
    // Config and File.
    errors.push(
        piapi_kling::Client::builder()
            .api_key(format!("{KEY}\nX"))
            .base_url("not a url")
            .build()
            .unwrap_err(),
    );
    errors.push(Error::File {
        path: "/tmp/x.png".into(),
        reason: "unreadable".into(),
    });

    let kinds: Vec<&str> = errors
        .iter()
        .map(|e| match e {
            Error::Validation(_) => "Validation",
            Error::Api { .. } => "Api",
            Error::TaskFailed { .. } => "TaskFailed",
            Error::Timeout { .. } => "Timeout",
            Error::Transport(_) => "Transport",
            Error::Decode { .. } => "Decode",
            Error::AmbiguousCreate { .. } => "AmbiguousCreate",
            Error::Pipeline { .. } => "Pipeline",
            Error::Config(_) => "Config",
            Error::File { .. } => "File",
            _ => "other",
        })
        .collect();
    for kind in [
        "Validation",
        "Api",
        "TaskFailed",
        "Timeout",
        "Transport",
        "Decode",
        "AmbiguousCreate",
        "Pipeline",
        "Config",
        "File",
    ] {
        assert!(kinds.contains(&kind), "no {kind} error built: {kinds:?}");
    }
    for err in &errors {
        assert_error_clean(err);
    }
}

#[tokio::test]
async fn debug_of_clients_builders_and_results_is_redacted() {
    let sim = start_sim().await;
    let builder = builder_for(&sim);
    assert_clean("ClientBuilder", &format!("{builder:?}"));
    let client = builder.build().unwrap();
    assert_clean("Client", &format!("{client:?}"));
    let task = client.text_to_video("a fox").webhook(HOOK, SECRET);
    assert_clean("builder", &format!("{task:?}"));
    let handle = task.send().await.unwrap();
    assert_clean("TaskHandle", &format!("{handle:#?}"));
    let result = handle.wait().await.unwrap();
    assert!(
        result
            .task
            .config
            .as_ref()
            .unwrap()
            .webhook_config
            .as_ref()
            .unwrap()
            .secret
            .as_deref()
            == Some(SECRET),
        "the secret is in the data, so the redaction is what is tested"
    );
    assert_clean("TaskResult", &format!("{result:#?}"));
}
