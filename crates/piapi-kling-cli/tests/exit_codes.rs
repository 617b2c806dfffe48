//! Every failure has its own exit code and says what the user needs (the
//! violations, the failure's code, the task id to resume or reconcile), in
//! human and JSON form; and the API key is never printed.

mod common;

use common::{KEY, Sim, stdout_json, text};
use piapi_kling_sim::{Faults, Simulator};

#[test]
fn invalid_input_exits_2_lists_every_violation_and_sends_nothing() {
    let sim = Sim::fast();
    let long = "x".repeat(2501);
    let out = sim
        .kling()
        .args(["video", &long, "--cfg-scale", "7", "--wait"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("input.prompt") && l.contains("(maxLength)")),
        "{stderr}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("input.cfg_scale") && l.contains("(maximum)")),
        "{stderr}"
    );

    let json = sim
        .kling()
        .args(["--json", "video", &long])
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(2));
    let error = &stdout_json(&json.stdout)["error"];
    assert_eq!(error["kind"], "invalid_input");
    assert_eq!(error["violations"][0]["path"], "input.prompt");
    assert_eq!(error["violations"][0]["rule"], "maxLength");

    // A usage error is invalid input too.
    let usage = sim.kling().args(["video"]).output().unwrap();
    assert_eq!(usage.status.code(), Some(2));
    assert!(
        sim.sim.request_log().iter().all(|r| r.method != "POST"),
        "nothing reached the API: {:?}",
        sim.sim.request_log()
    );
}

#[test]
fn a_failed_task_exits_3_with_its_code_and_messages() {
    let sim = Sim::fast();
    let out = sim
        .kling()
        .args(["video", "a fox [sim:content-filter]", "--wait"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stdout = text(&out.stdout);
    let id = stdout
        .strip_prefix("created ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("the id is printed before waiting: {stdout}"));
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&format!("task {id} failed")), "{stderr}");
    assert!(stderr.contains("code: 10002"), "{stderr}");
    assert!(stderr.contains("message: content filtered"), "{stderr}");
    assert!(stderr.contains("raw message: "), "{stderr}");

    let json = sim
        .kling()
        .args(["--json", "video", "again [sim:content-filter]", "--wait"])
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(3));
    let error = &stdout_json(&json.stdout)["error"];
    assert_eq!(error["kind"], "task_failed");
    assert_eq!(error["code"], 10002);
    // The estimate, then the id, announced on stderr as JSON events before
    // the wait.
    let events: Vec<serde_json::Value> = text(&json.stderr)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(events[0]["event"], "estimate");
    assert_eq!(events[1]["event"], "created");
    assert_eq!(events[1]["task_id"], error["task_id"]);
}

#[test]
fn a_wrong_api_key_exits_4_without_printing_it() {
    let sim = Sim::fast();
    let wrong = "wrong-key-d41d8cd98f";
    let out = sim
        .kling()
        .env("PIAPI_API_KEY", wrong)
        .args(["--verbose", "video", "a fox"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(all.contains("401"), "{all}");
    assert!(!all.contains(wrong), "the key leaked: {all}");
}

#[test]
fn a_timeout_exits_5_with_the_task_id_to_resume() {
    // Speed 1: the task stays pending for seconds.
    let sim = Sim::start(Simulator::builder());
    let out = sim
        .kling()
        .args([
            "--json",
            "--timeout",
            "10ms",
            "video",
            "a slow fox",
            "--wait",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    let error = &stdout_json(&out.stdout)["error"];
    assert_eq!(error["kind"], "timeout");
    let id = error["task_id"].as_str().unwrap();
    assert_eq!(error["resume"], format!("kling wait {id}"));
    assert!(sim.sim.task(id).is_some());
}

#[test]
fn an_ambiguous_create_exits_6_and_says_a_task_may_exist() {
    let sim = Sim::fast();
    // Creates run, then their answers are cut short: the task exists but
    // the client cannot read its id.
    sim.sim.set_faults(Faults {
        truncated_body_rate: 1.0,
        methods: Some(vec!["POST".into()]),
        ..Faults::default()
    });
    let out = sim
        .kling()
        .args(["video", "a fox", "--wait"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("may have created a task"), "{stderr}");
    assert!(stderr.contains("salvaged"), "{stderr}");
    assert_eq!(sim.creates(), 1, "never re-sent by itself");
    assert_eq!(sim.sim.task_count(), 1, "the task does exist");

    // A per-request fault through --header gives the same in JSON.
    sim.sim.set_faults(Faults::default());
    let json = sim
        .kling()
        .args(["--json", "video", "a fox", "--header", "x-sim-fault: 503"])
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(6));
    assert_eq!(
        stdout_json(&json.stdout)["error"]["kind"],
        "ambiguous_create"
    );
}

#[test]
fn the_api_key_and_webhook_secret_never_appear_even_with_verbose() {
    let sim = Sim::fast();
    let secret = "whsec-5e884898da28047151d0e56f8dc6292";
    let dir = tempfile::tempdir().unwrap();
    let runs = [
        vec![
            "--verbose",
            "video",
            "a fox",
            "--download",
            dir.path().to_str().unwrap(),
        ],
        vec![
            "--verbose",
            "--json",
            "sound",
            "--prompt",
            "rain",
            "--wait",
            "--webhook",
            "http://127.0.0.1:9/hook",
            "--webhook-secret-env",
            "KLING_TEST_SECRET",
        ],
        vec!["--verbose", "video", "x [sim:content-filter]", "--wait"],
        vec!["--verbose", "account"],
        vec!["--verbose", "get", "00000000-0000-0000-0000-000000000000"],
    ];
    for args in runs {
        let out = sim
            .kling()
            .env("KLING_TEST_SECRET", secret)
            .env("RUST_LOG", "trace")
            .args(&args)
            .output()
            .unwrap();
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!all.is_empty());
        assert!(!all.contains(KEY), "the API key leaked in {args:?}: {all}");
        assert!(
            !all.contains(secret),
            "the webhook secret leaked in {args:?}: {all}"
        );
    }
}
