//! The logs: one span per request with operation, task id, status and
//! latency; and never the API key or a webhook secret.
//!
//! Alone in its binary: the capturing subscriber is installed for this
//! thread only, and tests running beside it on other threads would race it
//! for tracing's per-callsite interest cache.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use piapi_kling::WaitPolicy;
use piapi_kling_sim::Faults;
use reqwest::header::{HeaderName, HeaderValue};
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt;

const WRONG_KEY: &str = "sk-WRONG-KEY-0b9a77";
// Loopback with nothing listening: the simulator's deliveries fail at once,
// and nothing leaves the machine.
const HOOK: &str = "http://127.0.0.1:9/piapi-hook";

fn assert_clean(what: &str, text: &str) {
    for secret in [KEY, SECRET, WRONG_KEY] {
        assert!(!text.contains(secret), "{what} shows a secret: {text}");
    }
}

fn truncate() -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static("x-sim-fault"),
        HeaderValue::from_static("truncate"),
    )
}

/// A `MakeWriter` that appends to a shared buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

struct CaptureWriter(Arc<Mutex<Vec<u8>>>);

impl Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = CaptureWriter;
    fn make_writer(&'a self) -> CaptureWriter {
        CaptureWriter(self.0.clone())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

// A current-thread runtime (the `tokio::test` default) keeps every task on
// this thread, where the capturing subscriber is installed.
#[tokio::test]
async fn logs_never_show_the_key_or_the_webhook_secret() {
    let capture = Capture::default();
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(capture.clone())
        .with_ansi(false)
        .with_span_events(FmtSpan::CLOSE)
        .with_filter(tracing_subscriber::filter::filter_fn(|meta| {
            meta.target() == "piapi_kling" || meta.target().starts_with("piapi_kling::")
        }));
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));

    let sim = start_sim().await;
    let client = client_for(&sim);
    let handle = client
        .sound()
        .prompt("rain")
        .webhook(HOOK, SECRET)
        .send()
        .await
        .unwrap();
    handle.wait().await.unwrap();
    let wrong = builder_for(&sim).api_key(WRONG_KEY).build().unwrap();
    wrong.get_task(handle.id()).await.unwrap_err();
    let (name, value) = truncate();
    client
        .sound()
        .prompt("x")
        .webhook(HOOK, SECRET)
        .header(name, value)
        .send()
        .await
        .unwrap_err();
    sim.set_faults(Faults {
        server_error_rate: 1.0,
        methods: Some(vec!["GET".into()]),
        ..Faults::default()
    });
    client.get_task(handle.id()).await.unwrap_err();
    sim.set_faults(Faults {
        unknown_enum_rate: 1.0,
        methods: Some(vec!["GET".into()]),
        ..Faults::default()
    });
    client
        .task(handle.id())
        .wait_with(
            WaitPolicy::fixed(Duration::from_millis(5)).with_deadline(Duration::from_millis(50)),
        )
        .await
        .unwrap_err();

    let logs = capture.text();
    // The create's span carries the id of the task it created.
    let task_id = format!("task_id=\"{}\"", handle.id());
    assert!(
        logs.lines()
            .any(|l| l.contains("operation=\"create_task\"") && l.contains(&task_id)),
        "no create span with {task_id}:\n{logs}"
    );
    for expected in [
        "piapi_kling.request",
        "operation=\"create_task\"",
        "task created",
        "retrying request",
        "unknown task status",
        "status=401",
    ] {
        assert!(logs.contains(expected), "`{expected}` not logged:\n{logs}");
    }
    assert_eq!(
        logs.matches("unknown task status").count(),
        1,
        "an unknown status is logged once per wait"
    );
    assert_clean("logs", &logs);
}
