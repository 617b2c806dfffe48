//! `TaskHandle::wait` with a webhook receiver attached: it ends on the
//! delivery (confirmed with a GET, so a forged delivery plants nothing) and
//! falls back to slow polling when a delivery is lost. GETs are counted in
//! the simulator's request log.
#![cfg(feature = "axum")]

mod common;

use std::time::{Duration, Instant};

use common::*;
use piapi_kling::webhook::{self, WebhookReceiver};
use piapi_kling::{TaskStatus, WaitPolicy, WebhookEvent};

fn gets(sim: &piapi_kling_sim::RunningSimulator, task_id: &str) -> usize {
    sim.count_requests("GET", &format!("/api/v1/task/{task_id}"))
}

/// The SDK's default schedule (first poll after 4 s), with a deadline: a
/// wait that missed the delivery would take seconds or time out.
fn default_wait() -> WaitPolicy {
    WaitPolicy::default().with_deadline(Duration::from_secs(20))
}

#[tokio::test]
async fn a_wait_ends_on_the_delivery_with_one_get_per_delivery() {
    let sim = start_sim().await;
    let receiver = WebhookReceiver::with_fallback_interval(Duration::from_secs(3600));
    let feed = receiver.clone();
    let app = axum::Router::new().nest(
        "/hooks",
        webhook::axum::router(SECRET, move |event: WebhookEvent| {
            let feed = feed.clone();
            async move { feed.deliver(&event) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = builder_for(&sim)
        .wait_policy(default_wait())
        .webhook_receiver(receiver)
        .build()
        .unwrap();

    let started = Instant::now();
    let result = client
        .sound()
        .prompt("rain on a tin roof")
        .webhook(format!("http://{addr}/hooks"), SECRET)
        .send()
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(result.task.status, TaskStatus::Completed);
    // The simulator's task takes ~32 ms; the fallback poll would come
    // after an hour and the schedule's first poll after 4 s.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // One GET per delivery at most (created, then completed): never a poll.
    let n = gets(&sim, result.task.task_id.as_str());
    assert!((1..=2).contains(&n), "{n} GETs");
}

#[tokio::test]
async fn a_lost_delivery_is_caught_by_the_fallback_poll() {
    let sim = start_sim().await;
    let receiver = WebhookReceiver::with_fallback_interval(Duration::from_millis(300));
    let client = builder_for(&sim)
        .wait_policy(
            WaitPolicy::fixed(Duration::from_millis(10)).with_deadline(Duration::from_secs(20)),
        )
        .webhook_receiver(receiver)
        .build()
        .unwrap();
    // No webhook at all: every delivery is "lost".
    let handle = client.sound().prompt("wind").send().await.unwrap();
    let result = handle.wait().await.unwrap();
    assert_eq!(result.task.status, TaskStatus::Completed);
    // Polls every 300 ms instead of the policy's 10 ms: a handful of GETs.
    let n = gets(&sim, handle.id());
    assert!((1..=3).contains(&n), "{n} GETs");
}

#[tokio::test]
async fn a_forged_delivery_is_only_a_hint() {
    let sim = start_sim().await;
    let receiver = WebhookReceiver::with_fallback_interval(Duration::from_secs(3600));
    let client = builder_for(&sim)
        .wait_policy(default_wait())
        .webhook_receiver(receiver.clone())
        .build()
        .unwrap();
    // A slow task (10× its durations): still processing when the forgery comes.
    let handle = client
        .sound()
        .prompt("thunder [sim:slow]")
        .send()
        .await
        .unwrap();
    let forged: WebhookEvent = serde_json::from_value(serde_json::json!({
        "timestamp": 1,
        "data": {"task_id": handle.id(), "model": "kling", "task_type": "sound",
                 "status": "completed", "input": {}, "meta": {}, "detail": null, "logs": [],
                 "output": {"works": [{"content_type": "audio",
                     "audio": {"resource": "https://attacker.example/x.wav",
                               "resource_without_watermark": "https://attacker.example/x.wav"}}]},
                 "error": {"code": 0, "message": ""}}
    }))
    .unwrap();
    let waiting = {
        let handle = handle.clone();
        tokio::spawn(async move { handle.wait().await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    receiver.deliver(&forged);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !waiting.is_finished(),
        "the forged `completed` did not end the wait"
    );
    assert_eq!(gets(&sim, handle.id()), 1, "it was checked with one GET");
    // The real end comes as a (genuine) delivery: the result is PiAPI's.
    loop {
        let task = handle.get().await.unwrap();
        if task.status.is_terminal() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    receiver.notify(handle.id());
    let result = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the wait ends on the delivery")
        .unwrap()
        .unwrap();
    let url = result.audio_url().unwrap_or_default().to_owned();
    assert!(url.starts_with(&sim.base_url()), "{url}");
}
