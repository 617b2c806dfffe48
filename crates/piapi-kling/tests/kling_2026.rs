//! The Kling of late 2026, end to end against the simulator: 3.0 with audio
//! and multi-shot, omni (3.0 and o1), motion control, avatar and turbo. Each
//! is created through its builder (local files uploaded), waited for, its
//! video found whatever the output shape, and billed as the spec's price
//! table estimates.

mod common;

use common::{PNG, client_for, download, start_sim, wav_bytes, write_file};
use piapi_kling::models::{CreateTaskRequest, Model, Shot};
use piapi_kling::{
    BuildRequest, Mode, OmniVersion, Resolution, TaskBuilder, TaskResult, TaskStatus, Version,
};
use piapi_kling_sim::RunningSimulator;

/// A few bytes with an MP4 signature: enough for the local checks.
const MP4: &[u8] = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom";

/// Sends `builder`, waits, and checks the bill against the estimate made
/// before sending and the video against the simulator's file.
async fn run<I: BuildRequest + Clone>(
    sim: &RunningSimulator,
    builder: TaskBuilder<I>,
) -> (CreateTaskRequest, TaskResult) {
    let estimate = builder.request().estimate();
    let handle = builder.send().await.unwrap();
    let stored = sim.task(handle.id()).unwrap();
    let request: CreateTaskRequest = serde_json::from_value(serde_json::json!({
        "model": stored.model,
        "task_type": stored.task_type,
        "input": stored.input,
    }))
    .unwrap();
    let result = handle.wait().await.unwrap();
    assert_eq!(result.task.status, TaskStatus::Completed);
    let consumed = result.task.meta.usage.as_ref().and_then(|u| u.consume);
    assert_eq!(
        consumed,
        estimate.units(),
        "{}: billed as estimated ({estimate})",
        result.task.task_type
    );
    let url = result.video_url().expect("a video").to_owned();
    assert_eq!(&download(&url).await[4..8], b"ftyp", "a real MP4 at {url}");
    (request, result)
}

#[tokio::test]
async fn kling_3_with_audio_returns_output_video() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let builder = client
        .text_to_video("a woman by the sea introduces herself")
        .version(Version::V3_0)
        .mode(Mode::Professional)
        .audio(true)
        .duration(8);
    let (sent, result) = run(&sim, builder).await;
    assert_eq!(sent.input_json()["enable_audio"], true);
    let output = result.task.output.as_ref().unwrap();
    assert!(output.video.as_deref().is_some_and(|v| !v.is_empty()));
    assert!(
        output.video_url.is_none(),
        "3.0 answers with output.video only"
    );
    // $0.20 per second for 1080p with audio.
    assert_eq!(
        result.task.meta.usage.as_ref().unwrap().consume,
        Some(8 * 2_000_000)
    );
}

#[tokio::test]
async fn multi_shot_sends_every_shot_and_warns_about_an_ignored_prompt() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let builder = client
        .multi_shot([Shot::new("a door opens", 3), Shot::new("a cat walks in", 2)])
        .prompt("ignored by PiAPI");
    let handle = builder.send().await.unwrap();
    let warnings: Vec<String> = handle.warnings().iter().map(|w| w.path.clone()).collect();
    assert_eq!(warnings, ["input.prompt"], "{:?}", handle.warnings());
    let stored = sim.task(handle.id()).unwrap();
    assert_eq!(stored.input["multi_shots"][1]["duration"], 2);
    assert_eq!(stored.input["version"], "3.0");
    let result = handle.wait().await.unwrap();
    // 5 s of 720p without audio at $0.10 per second.
    assert_eq!(
        result.task.meta.usage.as_ref().unwrap().consume,
        Some(5_000_000)
    );
    assert!(result.video_url().is_some());
}

#[tokio::test]
async fn omni_uploads_reference_media_and_prices_by_version() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let dir = tempfile::tempdir().unwrap();
    let hero = write_file(dir.path(), "hero.png", &PNG);
    let moves = write_file(dir.path(), "moves.mp4", MP4);
    let builder = client
        .omni("@image_1 walks along the harbour")
        .reference_image(&hero)
        .reference_video(&moves)
        .resolution(Resolution::P1080)
        .duration(4);
    let (sent, result) = run(&sim, builder).await;
    let input = sent.input_json();
    assert!(input["images"][0].as_str().unwrap().starts_with("http"));
    assert!(input["video"].as_str().unwrap().ends_with(".mp4"));
    assert!(result.task.output.unwrap().video.is_some());

    let o1 = client
        .omni("a paper boat")
        .version(OmniVersion::O1)
        .duration(10);
    let (_, result) = run(&sim, o1).await;
    // o1 720p: $0.39 per 5 s.
    assert_eq!(
        result.task.meta.usage.as_ref().unwrap().consume,
        Some(7_800_000)
    );
}

#[tokio::test]
async fn motion_control_by_preset_or_reference_video() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let dir = tempfile::tempdir().unwrap();
    let dancer = write_file(dir.path(), "dancer.png", &PNG);
    let moves = write_file(dir.path(), "moves.mp4", MP4);
    let preset = client
        .motion_control(&dancer)
        .preset("Heart Gesture Dance")
        .version(Version::V2_6);
    let (sent, result) = run(&sim, preset).await;
    assert_eq!(sent.input_json()["preset_motion"], "Heart Gesture Dance");
    assert!(result.task.output.unwrap().video_url.is_some());
    let copy = client
        .motion_control(&dancer)
        .reference_video(&moves)
        .version(Version::V3_0)
        .mode(Mode::Professional);
    let (sent, _) = run(&sim, copy).await;
    assert!(
        sent.input_json()["video_url"]
            .as_str()
            .unwrap()
            .starts_with("http")
    );

    // Neither a preset nor a video: refused locally, nothing sent.
    let creates = sim.count_requests("POST", "/api/v1/task");
    let err = client.motion_control(&dancer).send().await.unwrap_err();
    assert!(err.to_string().contains("video_url"), "{err}");
    assert_eq!(sim.count_requests("POST", "/api/v1/task"), creates);
}

#[tokio::test]
async fn avatar_speaks_a_local_audio_file() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let dir = tempfile::tempdir().unwrap();
    let face = write_file(dir.path(), "face.png", &PNG);
    let hello = write_file(dir.path(), "hello.wav", &wav_bytes(2.0));
    let (sent, _) = run(&sim, client.avatar(&face, &hello).prompt("smiles")).await;
    let input = sent.input_json();
    assert!(
        input["local_dubbing_url"]
            .as_str()
            .unwrap()
            .ends_with(".wav")
    );
    assert!(input["image_url"].as_str().unwrap().starts_with("http"));

    let long = write_file(dir.path(), "long.wav", &wav_bytes(61.0));
    let err = client.avatar(&face, &long).send().await.unwrap_err();
    assert!(err.to_string().contains("input.local_dubbing_url"), "{err}");
}

#[tokio::test]
async fn turbo_sends_its_model_and_start_frame() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let dir = tempfile::tempdir().unwrap();
    let first = write_file(dir.path(), "first.png", &PNG);
    let builder = client
        .turbo("a red kite in the wind")
        .start_frame(&first)
        .duration(10);
    let (sent, result) = run(&sim, builder).await;
    assert_eq!(*sent.model(), Model::KlingTurbo);
    assert_eq!(sent.input_json()["version"], "2.5-turbo");
    assert!(
        sent.input_json()["start_image_url"]
            .as_str()
            .unwrap()
            .starts_with("http")
    );
    assert_eq!(result.task.model, Model::KlingTurbo);
    // $0.28 per 5 s.
    assert_eq!(
        result.task.meta.usage.as_ref().unwrap().consume,
        Some(5_600_000)
    );
}
