//! Retries under injected faults, counted in the simulator's request log:
//! reads and uploads are retried; a create only when it provably reached
//! nothing or was refused with 429.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use piapi_kling::{Client, Error, RetryPolicy};
use piapi_kling_sim::Faults;
use reqwest::header::{HeaderName, HeaderValue};
use tokio::net::{TcpListener, TcpStream};

const SOME_TASK: &str = "6e269e8c-2091-46c4-b4a5-40a4704a766a";

fn faults_on(method: &str, faults: Faults) -> Faults {
    Faults {
        methods: Some(vec![method.to_owned()]),
        seed: 1,
        ..faults
    }
}

fn fault_header(value: &'static str) -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static("x-sim-fault"),
        HeaderValue::from_static(value),
    )
}

#[tokio::test]
async fn reads_are_retried_on_server_errors_up_to_the_attempt_limit() {
    let sim = start_sim().await;
    sim.set_faults(faults_on(
        "GET",
        Faults {
            server_error_rate: 1.0,
            ..Faults::default()
        },
    ));
    let err = client_for(&sim).get_task(SOME_TASK).await.unwrap_err();
    assert!(matches!(err.status(), Some(500 | 503)), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(
        count(&sim, "GET", "/api/v1/task/"),
        fast_retry().max_attempts as usize
    );
}

#[tokio::test]
async fn reads_honour_retry_after_on_429() {
    let sim = start_sim().await;
    sim.set_faults(faults_on(
        "GET",
        Faults {
            too_many_requests_rate: 1.0,
            retry_after_secs: 1,
            ..Faults::default()
        },
    ));
    let client = builder_for(&sim)
        .retry_policy(
            fast_retry()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.get_task(SOME_TASK).await.unwrap_err();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.status(), Some(429));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(count(&sim, "GET", "/api/v1/task/"), 2);
}

#[tokio::test]
async fn a_dropped_read_is_retried() {
    let sim = start_sim().await;
    sim.set_faults(faults_on(
        "GET",
        Faults {
            drop_connection_rate: 1.0,
            ..Faults::default()
        },
    ));
    let err = client_for(&sim).get_task(SOME_TASK).await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(count(&sim, "GET", "/api/v1/task/"), 4);
}

#[tokio::test]
async fn a_wait_rides_out_a_burst_of_failing_polls() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let handle = client.sound().prompt("rain").send().await.unwrap();
    sim.set_faults(faults_on(
        "GET",
        Faults {
            server_error_rate: 1.0,
            ..Faults::default()
        },
    ));
    let clear = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        sim.set_faults(Faults::default());
    };
    let (result, ()) = tokio::join!(handle.wait(), clear);
    result.unwrap();
    let failed_polls = sim
        .request_log()
        .iter()
        .filter(|r| r.method == "GET" && r.status >= 500)
        .count();
    assert!(
        failed_polls > fast_retry().max_attempts as usize,
        "{failed_polls}"
    );
}

#[tokio::test]
async fn a_create_is_never_resent_after_a_server_error() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    for (i, status) in ["500", "502", "503", "504"].into_iter().enumerate() {
        let (name, value) = fault_header(status);
        let err = client
            .text_to_video("a fox")
            .header(name, value)
            .send()
            .await
            .unwrap_err();
        match &err {
            Error::AmbiguousCreate {
                task_id: None,
                source,
                ..
            } => {
                assert_eq!(source.status().unwrap().to_string(), status);
            }
            other => panic!("{status}: {other:?}"),
        }
        assert_eq!(
            sim.count_requests("POST", "/api/v1/task"),
            i + 1,
            "{status} was re-sent"
        );
    }
    assert_eq!(sim.task_count(), 0);
}

#[tokio::test]
async fn a_create_whose_connection_dropped_is_not_resent() {
    let sim = start_sim().await;
    let (name, value) = fault_header("drop");
    let err = client_for(&sim)
        .text_to_video("a fox")
        .header(name, value)
        .send()
        .await
        .unwrap_err();
    match &err {
        Error::AmbiguousCreate {
            task_id: None,
            source,
            ..
        } => {
            assert!(matches!(**source, Error::Transport(_)), "{source:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.count_requests("POST", "/api/v1/task"), 1);
    assert_eq!(sim.task_count(), 0);
}

#[tokio::test]
async fn a_create_refused_with_429_is_retried_after_retry_after() {
    let sim = start_sim().await;
    let client = builder_for(&sim)
        .retry_policy(
            fast_retry()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    let (name, value) = fault_header("429");
    let started = Instant::now();
    let err = client
        .text_to_video("a fox")
        .header(name, value)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api { status: 429, .. }), "{err:?}");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(sim.count_requests("POST", "/api/v1/task"), 2);
    assert_eq!(sim.task_count(), 0);
}

/// Forwards every connection on `listener` to `target`.
async fn forward(listener: TcpListener, target: SocketAddr) {
    while let Ok((mut inbound, _)) = listener.accept().await {
        tokio::spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(target).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}

#[tokio::test]
async fn a_create_is_retried_while_the_connection_is_refused() {
    let sim = start_sim().await;
    // A port with nothing listening on it, for now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::builder()
        .api_key(KEY)
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(40)
                .with_initial_backoff(Duration::from_millis(25))
                .with_max_backoff(Duration::from_millis(50))
                .with_max_elapsed(Duration::from_secs(10)),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    let create = tokio::spawn(async move { client.text_to_video("a fox").send().await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!create.is_finished(), "the create must still be retrying");
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    tokio::spawn(forward(listener, sim.addr()));

    let handle = create.await.unwrap().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(sim.task(handle.id()).is_some());
    assert_eq!(sim.count_requests("POST", "/api/v1/task"), 1);
    assert_eq!(sim.task_count(), 1);
}

#[tokio::test]
async fn uploads_are_retried_like_reads() {
    let sim = start_sim().await;
    sim.set_faults(faults_on(
        "POST",
        Faults {
            server_error_rate: 1.0,
            ..Faults::default()
        },
    ));
    let dir = tempfile::tempdir().unwrap();
    let err = client_for(&sim)
        .upload(png(dir.path(), "a.png"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api { .. }), "{err:?}");
    assert_eq!(count(&sim, "POST", "/api/ephemeral_resource"), 4);

    sim.set_faults(Faults::default());
    let url = client_for(&sim)
        .upload(png(dir.path(), "a.png"))
        .await
        .unwrap();
    assert_eq!(download(&url).await, *PNG);
}

#[tokio::test]
async fn no_retry_policy_sends_once() {
    let sim = start_sim().await;
    sim.set_faults(faults_on(
        "GET",
        Faults {
            server_error_rate: 1.0,
            ..Faults::default()
        },
    ));
    let client = builder_for(&sim)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    client.get_task(SOME_TASK).await.unwrap_err();
    assert_eq!(count(&sim, "GET", "/api/v1/task/"), 1);
}

#[tokio::test]
async fn a_read_whose_body_is_cut_short_is_retried() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let handle = client.sound().prompt("rain").send().await.unwrap();
    sim.set_faults(faults_on(
        "GET",
        Faults {
            truncated_body_rate: 1.0,
            ..Faults::default()
        },
    ));
    let err = handle.get().await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(count(&sim, "GET", "/api/v1/task/"), 4);
}

#[tokio::test]
async fn the_timeout_holds_requests_through_a_callers_client() {
    let sim = start_sim().await;
    let client = builder_for(&sim)
        .http_client(reqwest::Client::new())
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let handle = client_for(&sim)
        .sound()
        .prompt("rain")
        .send()
        .await
        .unwrap();
    sim.set_faults(faults_on(
        "GET",
        Faults {
            latency: Some((Duration::from_millis(400), Duration::from_millis(400))),
            ..Faults::default()
        },
    ));
    // A read is retried (4 attempts of 100 ms each), then reports the timeout.
    let started = Instant::now();
    let err = client.get_task(handle.id()).await.unwrap_err();
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(err, Error::RequestTimeout { timeout } if timeout == Duration::from_millis(100)),
        "{err:?}"
    );
    assert!(err.is_retryable());
    // A create that timed out may have created a task: ambiguous, not re-sent.
    let (name, value) = fault_header("delay=400");
    let err = client
        .sound()
        .prompt("rain")
        .header(name, value)
        .send()
        .await
        .unwrap_err();
    match &err {
        Error::AmbiguousCreate {
            task_id: None,
            source,
            ..
        } => assert!(
            matches!(**source, Error::RequestTimeout { .. }),
            "{source:?}"
        ),
        other => panic!("{other:?}"),
    }
    // (The simulator logs no request whose client hung up, so attempts are
    // not counted in its log here.)
}
