//! 1,000 tasks through the SDK against the simulator injecting 20 % 5xx, 5 %
//! 429 with Retry-After, 2 % dropped connections and random latency: every task
//! reaches a terminal state, no create is duplicated, no task id is lost, no
//! job panics. (`src/soak.rs`; the longer run is the `soak` binary.)

use piapi_kling_tests::soak::{SoakConfig, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_tasks_survive_the_fault_mix() {
    let report = run(SoakConfig::issue_mix(1_000, 7)).await;
    println!("{report:#?}");
    assert_eq!(report.panics, 0);
    assert_eq!(report.unfinished, 0, "every task reaches a terminal state");
    assert_eq!(report.completed + report.failed, 1_000);
    assert_eq!(report.duplicate_creates, 0, "no create is duplicated");
    assert_eq!(report.lost_task_ids, 0, "no task id is lost");
    assert_eq!(report.tasks_in_simulator, 1_000);
    // The faults really happened.
    assert!(
        report.statuses.get(&429).copied().unwrap_or(0) > 0,
        "429s were injected"
    );
    assert!(
        report.statuses.keys().any(|s| (500..600).contains(s)),
        "5xx were injected"
    );
    assert!(
        report.statuses.get(&0).copied().unwrap_or(0) > 0,
        "connections were dropped"
    );
}
