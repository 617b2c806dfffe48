//! Forward compatibility of the CLI against the simulator: `kling create` for
//! any task type, newer flag values sent with warnings, responses in newer
//! shapes printed whole and downloaded, and a completed task without media
//! never reported as a successful download.

mod common;

use common::{Sim, files_in, media_kind, stdout_json, text};
use piapi_kling_sim::{Faults, Simulator};

#[test]
fn create_sends_any_task_type_waits_and_downloads() {
    let sim = Sim::start(
        Simulator::builder()
            .speed(2000.0)
            .accept_unknown_task_types(true),
    );
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.json");
    std::fs::write(
        &input,
        r#"{"image_url": "https://example.com/face.png", "mode": "std"}"#,
    )
    .unwrap();
    let out = sim
        .kling()
        .args(["--json", "create", "kling_hologram", "--input"])
        .arg(format!("@{}", input.display()))
        .args([
            "--set",
            "input.local_dubbing_url=https://example.com/hi.mp3",
            "--set",
            "input.batch_size=1",
            "--download",
        ])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(r#""event":"warning""#) && stderr.contains("task_type"),
        "{stderr}"
    );
    let result = stdout_json(&out.stdout);
    assert_eq!(result["task"]["task_type"], "kling_hologram");
    let id = result["task"]["task_id"].as_str().unwrap();
    let echo = sim.sim.task(id).unwrap().input;
    assert_eq!(echo["local_dubbing_url"], "https://example.com/hi.mp3");
    assert_eq!(echo["batch_size"], 1);
    let files = files_in(&dir.path().join("out"));
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(media_kind(&files[0]), "mp4");

    // A known task type goes through the same path, typed and validated.
    let bad = sim
        .kling()
        .args(["create", "video_generation", "--input", r#"{"prompt": 5}"#])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
    assert!(
        text(&bad.stderr).contains("input.prompt: invalid type: integer `5`"),
        "{}",
        text(&bad.stderr)
    );
    let creates = sim.creates();
    let bad = sim
        .kling()
        .args(["create", "video_generation", "--input", "-"])
        .write_stdin(r#"{"prompt": "x", "cfg_scale": 7}"#)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("input.cfg_scale"),
        "{}",
        text(&bad.stderr)
    );
    assert_eq!(sim.creates(), creates, "nothing is sent");
}

#[test]
fn newer_flag_values_are_sent_with_a_warning() {
    let sim = Sim::fast();
    let out = sim
        .kling()
        .args(["video", "a fox", "--version", "4.0", "--duration", "20"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("warning: input.version"), "{stderr}");
    assert!(stderr.contains("warning: input.duration"), "{stderr}");
    let id = text(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("task    ").map(str::trim).map(str::to_owned))
        .expect("the task id is printed");
    let echo = sim.sim.task(&id).unwrap().input;
    assert_eq!(
        (echo["version"].as_str(), echo["duration"].as_i64()),
        (Some("4.0"), Some(20))
    );
}

#[test]
fn a_newer_response_shape_is_printed_whole_and_downloaded() {
    let sim = Sim::start(Simulator::builder().speed(2000.0).faults(Faults {
        new_shape_rate: 1.0,
        extra_fields_rate: 1.0,
        methods: Some(vec!["GET".into()]),
        ..Faults::default()
    }));
    let id = sim.completed_video();
    let dir = tempfile::tempdir().unwrap();
    let out = sim
        .kling()
        .args(["--json", "get", &id, "--download"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let task = &stdout_json(&out.stdout)["task"];
    assert_eq!(task["task_type"], "kling_hologram");
    let video = task["output"]["video"].as_str().unwrap();
    assert!(video.starts_with("http://"), "{task}");
    assert!(task["output"]["works"].is_null(), "{task}");
    assert_eq!(task["sim_extra_field"], "extra");
    assert_eq!(task["meta"]["usage"]["sim_extra"]["version"], 2);
    let files = files_in(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(media_kind(&files[0]), "mp4");

    let human = sim.kling().args(["get", &id]).output().unwrap();
    assert!(
        text(&human.stdout).contains(video),
        "{}",
        text(&human.stdout)
    );
}

#[test]
fn batch_json_prints_each_task_as_piapi_sent_it() {
    let sim = Sim::start(Simulator::builder().speed(2000.0).faults(Faults {
        extra_fields_rate: 1.0,
        methods: Some(vec!["GET".into()]),
        ..Faults::default()
    }));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jobs.jsonl");
    std::fs::write(
        &file,
        concat!(
            r#"{"id":"a","model":"kling","task_type":"video_generation","input":{"prompt":"a fox","aspect_ratio":"16:9","native_voice":true}}"#,
            "\n",
            r#"{"id":"b","model":"kling","task_type":"sound","input":{"prompt":"rain"}}"#,
            "\n"
        ),
    )
    .unwrap();
    let out = sim
        .kling()
        .args(["--json", "batch"])
        .arg(&file)
        .arg("--journal")
        .arg(dir.path().join("jobs.db"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = stdout_json(&out.stdout);
    let lines = summary["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    for line in lines {
        let task = &line["task"];
        assert_eq!(task["status"], "completed", "{line}");
        assert_eq!(task["task_id"], line["task_id"]);
        assert_eq!(task["sim_extra_field"], "extra", "{task}");
        assert_eq!(task["meta"]["usage"]["sim_extra"]["version"], 2, "{task}");
    }
    assert_eq!(lines[0]["task"]["input"]["native_voice"], true);
}
