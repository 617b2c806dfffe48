//! The create subcommands end to end against the simulator: every task
//! kind, local files uploaded, waiting, downloads checked by magic bytes,
//! and the JSON output.

mod common;

use common::{Sim, files_in, media_kind, png_file, stdout_json, text};

#[test]
fn video_waits_and_downloads_a_real_mp4_and_cover() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let out = sim
        .kling()
        .args([
            "video",
            "white egrets over paddy fields",
            "--duration",
            "10",
            "--mode",
            "pro",
        ])
        .args([
            "--aspect-ratio",
            "9:16",
            "--negative-prompt",
            "blur",
            "--cfg-scale",
            "0.5",
        ])
        .arg("--download")
        .arg(dir.path())
        .arg("--covers")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));

    // The id comes first, on its own line, before anything else happens.
    let first = stdout.lines().next().unwrap();
    let id = first
        .strip_prefix("created ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("first line announces the task: {first}"));
    assert!(stdout.contains("status  completed"), "{stdout}");

    let files = files_in(dir.path());
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, [format!("{id}-1.mp4"), format!("{id}-2.png")]);
    assert_eq!(media_kind(&files[0]), "mp4");
    assert_eq!(media_kind(&files[1]), "png");

    // The flags reached the request.
    let task = sim.sim.task(id).unwrap();
    assert_eq!(task.input["mode"], "pro");
    assert_eq!(task.input["duration"], 10);
    assert_eq!(task.input["aspect_ratio"], "9:16");
    assert_eq!(task.input["negative_prompt"], "blur");
}

#[test]
fn without_wait_the_created_task_is_printed_at_once() {
    let sim = Sim::fast();
    let out = sim
        .kling()
        .args([
            "--json",
            "video",
            "a lighthouse",
            "--camera",
            "simple",
            "--camera-zoom",
            "5",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let task = stdout_json(&out.stdout);
    let id = task["task"]["task_id"].as_str().unwrap();
    assert_ne!(task["task"]["status"], "completed", "not waited for");
    let stored = sim.sim.task(id).unwrap();
    assert_eq!(stored.input["camera_control"]["type"], "simple");
    assert_eq!(stored.input["camera_control"]["config"]["zoom"], 5.0);
}

#[test]
fn image_to_video_uploads_a_local_png_first() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let image = png_file(dir.path(), "first frame.png");
    let tail = png_file(dir.path(), "last.png");
    let out = sim
        .kling()
        .args(["--json", "image-to-video"])
        .arg(&image)
        .args(["--prompt", "the camera pulls back", "--tail-frame"])
        .arg(&tail)
        .arg("--wait")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let task = stdout_json(&out.stdout);
    assert_eq!(task["task"]["status"], "completed");
    assert_eq!(sim.sim.count_requests("POST", "/api/ephemeral_resource"), 2);
    let input = &task["task"]["input"];
    let base = sim.sim.base_url();
    for field in ["image_url", "image_tail_url"] {
        let url = input[field].as_str().unwrap();
        assert!(
            url.starts_with(&base),
            "{field} is the uploaded file's URL: {url}"
        );
    }
}

#[test]
fn extend_lip_sync_and_sound_follow_a_completed_video() {
    let sim = Sim::fast();
    let video = sim.completed_video();
    let dir = tempfile::tempdir().unwrap();

    let extend = sim
        .kling()
        .args(["--json", "extend", &video, "--wait"])
        .output()
        .unwrap();
    assert!(extend.status.success(), "{}", text(&extend.stderr));
    let extended = stdout_json(&extend.stdout);
    assert_eq!(extended["task"]["task_type"], "extend_video");
    assert_eq!(extended["task"]["status"], "completed");

    let lip = sim
        .kling()
        .args([
            "--json",
            "lip-sync",
            &video,
            "--text",
            "hello there",
            "--voice",
            "Rock",
        ])
        .args(["--speed", "1.2", "--wait"])
        .output()
        .unwrap();
    assert!(lip.status.success(), "{}", text(&lip.stderr));
    let synced = stdout_json(&lip.stdout);
    assert_eq!(synced["task"]["task_type"], "lip_sync");
    assert_eq!(synced["task"]["input"]["tts_timbre"], "Rock");

    let sound = sim
        .kling()
        .args([
            "sound",
            "--video",
            &video,
            "--prompt",
            "waves",
            "--download",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(sound.status.success(), "{}", text(&sound.stderr));
    let files = files_in(dir.path());
    assert_eq!(files.len(), 4, "Kling Sound makes 4 clips: {files:?}");
    assert!(files.iter().all(|f| media_kind(f) == "wav"));
}

#[test]
fn a_lip_sync_needs_text_or_audio() {
    let sim = Sim::fast();
    let out = sim
        .kling()
        .args(["lip-sync", "some-task"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("tts_text") && stderr.contains("(at-least-one)"),
        "the SDK names the fields and the rule: {stderr}"
    );
    assert_eq!(sim.creates(), 0);
}

#[test]
fn effect_and_try_on_take_urls_or_local_files() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let person = png_file(dir.path(), "person.png");
    let shirt = png_file(dir.path(), "shirt.png");

    let effect = sim
        .kling()
        .args(["--json", "effect", "squish"])
        .arg(&person)
        .args(["--professional", "--wait"])
        .output()
        .unwrap();
    assert!(effect.status.success(), "{}", text(&effect.stderr));
    let task = stdout_json(&effect.stdout);
    assert_eq!(task["task"]["task_type"], "effects");
    assert_eq!(task["task"]["input"]["effect"], "squish");
    assert_eq!(task["task"]["input"]["professional_mode"], true);

    // The shirt by URL: upload it once, then pass its URL.
    let upload = sim
        .kling()
        .args(["--json", "upload"])
        .arg(&shirt)
        .output()
        .unwrap();
    assert!(upload.status.success(), "{}", text(&upload.stderr));
    let shirt_url = stdout_json(&upload.stdout)["url"]
        .as_str()
        .unwrap()
        .to_owned();

    let out_dir = dir.path().join("outfits");
    let try_on = sim
        .kling()
        .arg("try-on")
        .arg(&person)
        .args(["--upper", &shirt_url, "--lower"])
        .arg(&shirt)
        .args(["--batch-size", "2", "--download"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(try_on.status.success(), "{}", text(&try_on.stderr));
    let files = files_in(&out_dir);
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files.iter().all(|f| media_kind(f) == "png"));
    // person (effect) + shirt + person and lower (try-on); the URL was not re-uploaded.
    assert_eq!(sim.sim.count_requests("POST", "/api/ephemeral_resource"), 4);
}

#[test]
fn unknown_enum_values_are_rejected_with_the_list() {
    // A closed enum (service mode) refuses a value the spec does not list;
    // open ones (effects, versions …) take it: see forward_compat.rs.
    let sim = Sim::fast();
    let out = sim
        .kling()
        .args([
            "effect",
            "squish",
            "https://example.com/cat.png",
            "--service-mode",
            "shared",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("public") && stderr.contains("private"),
        "{stderr}"
    );
    assert_eq!(sim.creates(), 0);
}
