//! The late-2026 kinds through the CLI, end to end against the simulator:
//! `kling video` with audio and shots, `kling omni`, `kling motion`,
//! `kling avatar`, `kling turbo` and `kling create` with flags made from the
//! spec. Each waits, downloads its result (checked by magic bytes) and sends
//! what its flags say.

mod common;

use std::path::Path;

use common::{Sim, files_in, media_kind, png_file, stdout_json, text};

/// Runs `kling --json <args> --download DIR` and returns the finished task.
fn create(sim: &Sim, args: &[&str], dir: &Path) -> serde_json::Value {
    let out = sim
        .kling()
        .arg("--json")
        .args(args)
        .arg("--download")
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kling {args:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let task = stdout_json(&out.stdout)["task"].clone();
    assert_eq!(task["status"], "completed", "{task}");
    let files = files_in(dir);
    assert!(
        files.iter().any(|f| media_kind(f) == "mp4"),
        "kling {args:?} downloaded {files:?}"
    );
    task
}

#[test]
fn video_with_audio_and_shots_is_kling_3_multi_shot() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let task = create(
        &sim,
        &[
            "video",
            "--shot",
            "3s:a door opens",
            "--shot",
            "2:a cat walks in",
            "--audio",
            "--resolution",
            "1080p",
        ],
        dir.path(),
    );
    let input = stored_input(&sim, &task);
    assert_eq!(input["version"], "3.0");
    assert_eq!(input["enable_audio"], true);
    assert_eq!(input["multi_shots"][0]["prompt"], "a door opens");
    assert_eq!(input["multi_shots"][1]["duration"], 2);
    assert!(input.get("prompt").is_none());
    assert!(
        task["output"]["video"]
            .as_str()
            .is_some_and(|v| !v.is_empty())
    );

    let bad = sim
        .kling()
        .args(["video", "--shot", "three:a door"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("not a whole number"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn omni_uploads_a_local_reference_image() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let hero = png_file(dir.path(), "hero.png");
    let out = tempfile::tempdir().unwrap();
    let task = create(
        &sim,
        &[
            "omni",
            "@image_1 walks along the harbour",
            "--reference-image",
            hero.to_str().unwrap(),
            "--resolution",
            "720p",
            "--duration",
            "3",
            "--audio",
        ],
        out.path(),
    );
    let input = stored_input(&sim, &task);
    assert_eq!(input["version"], "3.0");
    assert!(input["images"][0].as_str().unwrap().starts_with("http"));
    assert_eq!(task["task_type"], "omni_video_generation");
}

#[test]
fn motion_takes_a_preset_or_a_video_and_needs_one() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let dancer = png_file(dir.path(), "dancer.png");
    let out = tempfile::tempdir().unwrap();
    let task = create(
        &sim,
        &[
            "motion",
            dancer.to_str().unwrap(),
            "--preset",
            "Heart Gesture Dance",
            "--direction",
            "image",
            "--keep-sound",
            "--version",
            "2.6",
        ],
        out.path(),
    );
    let input = stored_input(&sim, &task);
    assert_eq!(input["preset_motion"], "Heart Gesture Dance");
    assert_eq!(input["motion_direction"], "image");
    assert_eq!(input["keep_original_sound"], true);

    let creates = sim.creates();
    let neither = sim
        .kling()
        .args(["motion", "https://example.com/d.png"])
        .output()
        .unwrap();
    assert_eq!(neither.status.code(), Some(2));
    assert!(
        text(&neither.stderr).contains("video_url"),
        "{}",
        text(&neither.stderr)
    );
    assert_eq!(sim.creates(), creates, "nothing was sent");
}

#[test]
fn avatar_and_turbo_download_their_videos() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let face = png_file(dir.path(), "face.png");
    let out = tempfile::tempdir().unwrap();
    let task = create(
        &sim,
        &[
            "avatar",
            face.to_str().unwrap(),
            "https://example.com/hello.mp3",
            "--prompt",
            "smiles",
            "--mode",
            "pro",
        ],
        out.path(),
    );
    assert_eq!(task["task_type"], "avatar");

    let out = tempfile::tempdir().unwrap();
    let task = create(
        &sim,
        &[
            "turbo",
            "a red kite in the wind",
            "--start-frame",
            face.to_str().unwrap(),
            "--duration",
            "10",
        ],
        out.path(),
    );
    assert_eq!(task["model"], "kling-turbo");
    let input = stored_input(&sim, &task);
    assert_eq!(input["version"], "2.5-turbo");
    assert!(
        input["start_image_url"]
            .as_str()
            .unwrap()
            .starts_with("http")
    );
}

#[test]
fn create_has_a_typed_flag_per_field_of_the_spec() {
    let sim = Sim::fast();
    let out = tempfile::tempdir().unwrap();
    let task = create(
        &sim,
        &[
            "create",
            "omni_video_generation",
            "--prompt",
            "a paper boat",
            "--version",
            "o1",
            "--duration",
            "10",
            "--keep-original-audio",
            "--set",
            "input.seed=7",
        ],
        out.path(),
    );
    let input = stored_input(&sim, &task);
    assert_eq!(input["version"], "o1");
    assert_eq!(input["duration"], 10);
    assert_eq!(input["keep_original_audio"], true);
    assert_eq!(input["seed"], 7);

    let help = sim
        .kling()
        .args(["create", "motion_control", "--help"])
        .output()
        .unwrap();
    let help = text(&help.stdout);
    assert!(help.contains("--preset-motion"), "{help}");
    assert!(help.contains("--motion-direction"), "{help}");
    assert!(help.contains("[possible values: video, image]"), "{help}");

    let bad = sim
        .kling()
        .args([
            "create",
            "ai_try_on",
            "--model-input",
            "x.png",
            "--batch-size",
            "9",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("above the maximum 4"),
        "{}",
        text(&bad.stderr)
    );
}

/// The input the simulator stored for the task `kling` printed.
fn stored_input(sim: &Sim, task: &serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    sim.sim
        .task(task["task_id"].as_str().unwrap())
        .expect("the simulator has the task")
        .input
}
