//! The status stream and forward compatibility of the wait.

mod common;

use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use piapi_kling::{Error, TaskStatus, WaitPolicy};
use piapi_kling_sim::Faults;

async fn statuses(stream: piapi_kling::StatusStream) -> Vec<TaskStatus> {
    stream
        .map(|change| change.expect("no error").status)
        .collect()
        .await
}

#[tokio::test]
async fn each_status_is_reported_once_in_order_and_the_stream_ends() {
    // Speed 100: the second task waits ~0.5 s behind the first, is pending
    // for 20 ms and processes for 450 ms; polls every 5 ms see each phase.
    let sim = sim_builder()
        .speed(100.0)
        .concurrency_cap(1)
        .start()
        .await
        .unwrap();
    let client = client_for(&sim);
    let first = client.sound().prompt("rain").send().await.unwrap();
    let second = client.sound().prompt("wind").send().await.unwrap();

    let seen =
        statuses(second.status_stream_with(WaitPolicy::fixed(Duration::from_millis(5)))).await;
    assert_eq!(
        seen,
        [
            TaskStatus::Staged,
            TaskStatus::Pending,
            TaskStatus::Processing,
            TaskStatus::Completed
        ]
    );
    // The first task is done by now: watching it yields its end only.
    first.wait().await.unwrap();
    assert_eq!(
        statuses(client.task(first.id()).status_stream()).await,
        [TaskStatus::Completed]
    );
}

#[tokio::test]
async fn a_failed_task_ends_the_stream_with_its_status() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let handle = client
        .sound()
        .prompt("[sim:content-filter] noise")
        .send()
        .await
        .unwrap();
    let seen = statuses(handle.status_stream()).await;
    assert_eq!(seen.last(), Some(&TaskStatus::Failed));
    assert_eq!(seen.iter().filter(|s| **s == TaskStatus::Failed).count(), 1);
}

#[tokio::test]
async fn a_stream_ends_with_the_error_that_stopped_it() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let changes: Vec<_> = client
        .task("6e269e8c-2091-46c4-b4a5-40a4704a766a")
        .status_stream()
        .collect()
        .await;
    assert_eq!(changes.len(), 1);
    assert!(matches!(&changes[0], Err(e) if e.is_not_found()));
}

#[tokio::test]
async fn unknown_statuses_keep_the_wait_going() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let handle = client.sound().prompt("rain").send().await.unwrap();
    // Every poll now answers a status this SDK does not know.
    sim.set_faults(Faults {
        unknown_enum_rate: 1.0,
        methods: Some(vec!["GET".into()]),
        ..Faults::default()
    });
    let err = handle
        .wait_with(
            WaitPolicy::fixed(Duration::from_millis(10)).with_deadline(Duration::from_millis(200)),
        )
        .await
        .unwrap_err();
    match err {
        Error::Timeout {
            last_status: Some(status),
            ..
        } => assert!(!status.is_known(), "{status:?}"),
        other => panic!("{other:?}"),
    }
    sim.set_faults(Faults::default());
    handle.wait().await.unwrap();
}

#[tokio::test]
async fn extra_fields_do_not_break_decoding() {
    let sim = start_sim().await;
    sim.set_faults(Faults {
        extra_fields_rate: 1.0,
        ..Faults::default()
    });
    let client = client_for(&sim);
    let result = client
        .sound()
        .prompt("rain")
        .send()
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(result.audio.len(), 4);
}

#[tokio::test]
async fn follow_reports_each_status_and_ends_with_the_result_in_one_loop() {
    let sim = sim_builder().concurrency_cap(1).start().await.unwrap();
    let client = client_for(&sim);
    let _first = client.sound().prompt("rain").send().await.unwrap();
    let second = client.sound().prompt("wind").send().await.unwrap();
    let gets_before = sim.count_requests("GET", &format!("/api/v1/task/{}", second.id()));
    let mut seen = Vec::new();
    let result = second
        .follow_with(WaitPolicy::fixed(Duration::from_millis(5)), |task| {
            seen.push(task.status.clone())
        })
        .await
        .unwrap();
    // Each status once, in order (a short one may pass between two polls).
    let order = [
        TaskStatus::Staged,
        TaskStatus::Pending,
        TaskStatus::Processing,
        TaskStatus::Completed,
    ];
    assert_eq!(seen.first(), Some(&TaskStatus::Staged), "{seen:?}");
    assert_eq!(seen.last(), Some(&TaskStatus::Completed), "{seen:?}");
    let positions: Vec<usize> = seen
        .iter()
        .map(|s| order.iter().position(|o| o == s).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert_eq!(result.task.status, TaskStatus::Completed);
    // The result came from the loop's own last poll: no extra request.
    let gets = sim.count_requests("GET", &format!("/api/v1/task/{}", second.id())) - gets_before;
    assert!(gets >= 1);

    // A failed task ends the follow with its error, after reporting `failed`.
    let failing = client
        .sound()
        .prompt("[sim:content-filter] noise")
        .send()
        .await
        .unwrap();
    let mut last = None;
    let err = failing
        .follow(|task| last = Some(task.status.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, piapi_kling::Error::TaskFailed { .. }),
        "{err}"
    );
    assert_eq!(last, Some(TaskStatus::Failed));
}
