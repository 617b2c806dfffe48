//! The commands on existing tasks (get, wait, cancel, cancel-all) and the
//! account, end to end against the simulator.

mod common;

use common::{Sim, files_in, media_kind, stdout_json, text};
use piapi_kling_sim::Simulator;

#[test]
fn wait_and_get_follow_a_task_by_id_and_download_it() {
    let sim = Sim::fast();
    let created = sim
        .kling()
        .args([
            "--json",
            "sound",
            "--prompt",
            "rain on a tin roof",
            "--duration",
            "5",
        ])
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", text(&created.stderr));
    let id = stdout_json(&created.stdout)["task"]["task_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let dir = tempfile::tempdir().unwrap();
    let waited = sim
        .kling()
        .args(["--json", "wait", &id, "--download"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(waited.status.success(), "{}", text(&waited.stderr));
    let result = stdout_json(&waited.stdout);
    assert_eq!(result["task"]["status"], "completed");
    assert_eq!(result["files"].as_array().unwrap().len(), 4);
    let files = files_in(dir.path());
    assert_eq!(files.len(), 4);
    assert!(files.iter().all(|f| media_kind(f) == "wav"));
    assert!(files[0].ends_with(format!("{id}-1.wav")), "{files:?}");

    let got = sim.kling().args(["get", &id]).output().unwrap();
    assert!(got.status.success());
    let stdout = text(&got.stdout);
    assert!(stdout.contains(&format!("task    {id}")), "{stdout}");
    assert!(stdout.contains("status  completed"), "{stdout}");
    assert_eq!(stdout.matches("audio   http://").count(), 4, "{stdout}");
    assert!(stdout.contains("cost    $0.07"), "{stdout}");
}

#[test]
fn a_timed_out_wait_names_the_task_and_resumes_with_wait() {
    // A video takes about 600 ms here.
    let sim = Sim::start(Simulator::builder().speed(200.0));
    let out = sim
        .kling()
        .args(["video", "a slow dawn", "--wait", "--timeout", "20ms"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let id = stderr
        .split("kling wait ")
        .nth(1)
        .map(|rest| rest.trim().to_owned())
        .unwrap_or_else(|| panic!("the resume command is printed: {stderr}"));
    assert!(text(&out.stdout).contains(&format!("created {id}")));

    let resumed = sim.kling().args(["wait", &id]).output().unwrap();
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    assert!(text(&resumed.stdout).contains("status  completed"));
    assert_eq!(sim.creates(), 1);
}

#[test]
fn cancel_stops_a_pending_task_which_then_reads_as_failed() {
    // Speed 1: a new task stays pending for 3 s.
    let sim = Sim::start(Simulator::builder());
    let created = sim
        .kling()
        .args(["--json", "video", "cancel me"])
        .output()
        .unwrap();
    let task = stdout_json(&created.stdout);
    assert_eq!(task["task"]["status"], "pending");
    let id = task["task"]["task_id"].as_str().unwrap().to_owned();

    let cancel = sim.kling().args(["cancel", &id]).output().unwrap();
    assert!(cancel.status.success(), "{}", text(&cancel.stderr));
    assert_eq!(text(&cancel.stdout).trim(), format!("cancelled {id}"));
    let stored = sim.sim.task(&id).unwrap();
    assert_eq!(stored.error.code, 10001);

    // Waiting for it now reports the failure, code and message.
    let waited = sim.kling().args(["wait", &id]).output().unwrap();
    assert_eq!(waited.status.code(), Some(3));
    let stderr = text(&waited.stderr);
    assert!(stderr.contains("code: 10001"), "{stderr}");

    // A failed task cannot be cancelled again: PiAPI answers 400.
    let again = sim.kling().args(["cancel", &id]).output().unwrap();
    assert_eq!(again.status.code(), Some(4), "{}", text(&again.stderr));
}

#[test]
fn cancel_all_cancels_the_pending_tasks_created_before_a_time() {
    let sim = Sim::start(Simulator::builder());
    let ids: Vec<String> = (0..3)
        .map(|i| {
            let out = sim
                .kling()
                .args(["--json", "video", &format!("clip {i}")])
                .output()
                .unwrap();
            stdout_json(&out.stdout)["task"]["task_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();

    let none = sim
        .kling()
        .args(["--json", "cancel-all", "--before", "1970-01-02T00:00:00Z"])
        .output()
        .unwrap();
    assert!(none.status.success(), "{}", text(&none.stderr));
    assert_eq!(
        stdout_json(&none.stdout)["cancelled"],
        serde_json::json!([])
    );

    let all = sim
        .kling()
        .args([
            "--json",
            "cancel-all",
            "--before",
            "now",
            "--model",
            "kling",
        ])
        .output()
        .unwrap();
    assert!(all.status.success(), "{}", text(&all.stderr));
    let mut cancelled: Vec<String> = stdout_json(&all.stdout)["cancelled"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    cancelled.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(cancelled, expected);
    assert!(
        ids.iter()
            .all(|id| sim.sim.task(id).unwrap().error.code == 10001)
    );

    let bad = sim
        .kling()
        .args(["cancel-all", "--before", "yesterday"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn account_shows_the_balance() {
    let sim = Sim::fast();
    let human = sim.kling().arg("account").output().unwrap();
    assert!(human.status.success(), "{}", text(&human.stderr));
    let stdout = text(&human.stdout);
    assert!(stdout.contains("credit  $10000.00"), "{stdout}");
    let json = sim.kling().args(["account", "--json"]).output().unwrap();
    let account = stdout_json(&json.stdout);
    assert!(
        account["account"]["account_id"]
            .as_str()
            .unwrap()
            .starts_with("sim-")
    );
    assert_eq!(account["account"]["credits"], 100_000_000_000i64);
}
