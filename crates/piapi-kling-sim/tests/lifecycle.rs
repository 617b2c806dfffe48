//! Task lifecycles: the concurrency cap, usage, every task type's output,
//! valid media downloads, origin task rules and eviction.

mod common;

use std::time::Duration;

use common::{Api, body, video};
use piapi_kling_models::{ErrorResponse, TaskData, TaskStatus, TaskType};
use piapi_kling_sim::Simulator;
use reqwest::StatusCode;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(5);

fn usage(task: &TaskData) -> (Option<i64>, Option<i64>) {
    let usage = task.meta.usage.as_ref().unwrap();
    assert_eq!(usage.r#type.as_deref(), Some("point"));
    (usage.frozen, usage.consume)
}

#[tokio::test]
async fn over_the_concurrency_cap_tasks_are_staged_then_run_in_order() {
    // A try-on with batch 1 takes 20 ms pending + 300 ms processing here.
    let api = Api::start(Simulator::builder().speed(100.0).concurrency_cap(1)).await;
    let try_on = || {
        body(
            "ai_try_on",
            json!({"model_input": "https://example.com/m.png",
                                 "dress_input": "https://example.com/d.png"}),
        )
    };
    let first = api.create(try_on()).await;
    let second = api.create(try_on()).await;
    let third = api.create(try_on()).await;
    assert_eq!(first.status, TaskStatus::Pending);
    assert_eq!(second.status, TaskStatus::Staged);
    assert_eq!(third.status, TaskStatus::Staged);
    assert_eq!(second.meta.started(), None);
    assert_eq!(
        usage(&second),
        (Some(700_000), Some(0)),
        "frozen at creation even when staged"
    );

    api.wait_status(&first.task_id, TaskStatus::Completed, WAIT)
        .await;
    // The scheduler releases the next staged task once the slot frees.
    api.wait_until(&second.task_id, WAIT, |t| t.status != TaskStatus::Staged)
        .await;
    assert_eq!(api.get(&third.task_id).await.status, TaskStatus::Staged);
    let second_done = api.wait_terminal(&second.task_id, WAIT).await;
    let third_done = api.wait_terminal(&third.task_id, WAIT).await;
    assert_eq!(third_done.status, TaskStatus::Completed);
    assert!(third_done.meta.started().unwrap() >= second_done.meta.ended().unwrap());
}

#[tokio::test]
async fn usage_is_frozen_at_creation_and_consumed_on_completion() {
    let api = Api::start(Simulator::builder().speed(1000.0)).await;
    let cases = [
        (
            json!({"prompt": "a", "aspect_ratio": "16:9", "version": "1.6"}),
            2_600_000,
        ),
        (
            json!({"prompt": "a", "aspect_ratio": "16:9", "version": "1.6", "duration": 10}),
            5_200_000,
        ),
        (
            json!({"prompt": "a", "aspect_ratio": "16:9", "version": "1.6", "mode": "pro"}),
            4_600_000,
        ),
        (
            json!({"prompt": "a", "aspect_ratio": "16:9", "version": "3.0", "mode": "pro",
                   "enable_audio": true, "duration": 8}),
            16_000_000,
        ),
    ];
    for (input, price) in cases {
        let task = api.create(body("video_generation", input)).await;
        assert_eq!(usage(&task), (Some(price), Some(0)));
        let done = api
            .wait_terminal(&task.task_id, Duration::from_secs(10))
            .await;
        assert_eq!(usage(&done), (Some(price), Some(price)));
    }
    let pro_effect = api
        .create(body(
            "effects",
            json!({"image_url": "https://example.com/c.png",
                                        "effect": "squish", "professional_mode": true}),
        ))
        .await;
    assert_eq!(usage(&pro_effect), (Some(4_600_000), Some(0)));
}

#[tokio::test]
async fn kling_turbo_bills_as_llm_consumed_at_creation_and_refunded_when_canceled() {
    let turbo = || {
        json!({"model": "kling-turbo", "task_type": "video_generation",
               "input": {"prompt": "a", "aspect_ratio": "16:9", "version": "2.5-turbo", "mode": "pro",
                         "duration": 5}})
    };
    let llm = |task: &TaskData| {
        let usage = task.meta.usage.as_ref().unwrap();
        assert_eq!(usage.r#type.as_deref(), Some("llm"), "{usage:?}");
        (usage.frozen, usage.consume)
    };
    // $0.28 per 5 s, consumed while pending, nothing frozen (the spec's
    // turbo example), and still so once completed.
    let api = Api::start(Simulator::builder().speed(1000.0)).await;
    let task = api.create(turbo()).await;
    assert_eq!(task.status, TaskStatus::Pending);
    assert_eq!(llm(&task), (Some(0), Some(2_800_000)));
    let done = api.wait_terminal(&task.task_id, WAIT).await;
    assert_eq!(done.status, TaskStatus::Completed, "{:?}", done.error);
    assert_eq!(llm(&done), (Some(0), Some(2_800_000)));

    // Speed 1: pending for 3 s, time to cancel; a canceled one is refunded.
    let api = Api::start(Simulator::builder()).await;
    let task = api.create(turbo()).await;
    assert_eq!(api.cancel(&task.task_id).await.0, StatusCode::OK);
    let canceled = api.get(&task.task_id).await;
    assert_eq!(canceled.status, TaskStatus::Failed);
    assert_eq!(llm(&canceled), (Some(0), Some(0)));
}

async fn completed(api: &Api, body: serde_json::Value) -> TaskData {
    let task = api.create(body).await;
    let done = api
        .wait_terminal(&task.task_id, Duration::from_secs(10))
        .await;
    assert_eq!(done.status, TaskStatus::Completed, "{:?}", done.error);
    done
}

/// Downloads `url` (no API key: result URLs are public) and checks its type.
async fn download(api: &Api, url: &str, content_type: &str) -> Vec<u8> {
    let response = api.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    assert_eq!(response.headers()["content-type"], content_type);
    let length: usize = response.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let bytes = response.bytes().await.unwrap().to_vec();
    assert_eq!(bytes.len(), length);
    bytes
}

fn assert_png(bytes: &[u8]) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&bytes[12..16], b"IHDR");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert!(width > 0 && height > 0);
    assert!(bytes.windows(4).any(|w| w == b"IDAT"));
    assert_eq!(&bytes[bytes.len() - 8..bytes.len() - 4], b"IEND");
}

fn assert_mp4(bytes: &[u8]) {
    assert_eq!(&bytes[4..8], b"ftyp");
    assert!(bytes.windows(4).any(|w| w == b"moov") && bytes.windows(4).any(|w| w == b"mdat"));
    assert!(bytes.windows(4).any(|w| w == b"avc1"), "an H.264 track");
}

fn assert_wav(bytes: &[u8]) {
    assert_eq!(&bytes[..4], b"RIFF");
    assert_eq!(&bytes[8..12], b"WAVE");
    let riff_len = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    assert_eq!(riff_len + 8, bytes.len());
}

#[tokio::test]
async fn video_task_types_complete_with_a_video_and_cover_that_download() {
    let api = Api::start(Simulator::builder().speed(1000.0)).await;
    let t2v = completed(&api, video("egrets")).await;
    let i2v = completed(
        &api,
        body(
            "video_generation",
            json!({"image_url": "https://example.com/first.png", "mode": "pro"}),
        ),
    )
    .await;
    let extend = completed(
        &api,
        body("extend_video", json!({"origin_task_id": t2v.task_id})),
    )
    .await;
    let lip = completed(
        &api,
        body(
            "lip_sync",
            json!({"origin_task_id": t2v.task_id, "tts_text": "hello"}),
        ),
    )
    .await;
    let effect = completed(
        &api,
        body(
            "effects",
            json!({"image_url": "https://example.com/cat.png", "effect": "squish"}),
        ),
    )
    .await;
    let expectations = [
        (&t2v, "m2v_txt2video", 5100, (1280, 720)),
        (&i2v, "m2v_img2video_hq", 5100, (1920, 1080)),
        (&extend, "m2v_extend_video", 10100, (1280, 720)),
        (&lip, "m2v_video_lip_sync", 5100, (1280, 720)),
        (&effect, "m2v_effects", 5100, (960, 960)),
    ];
    for (task, kling_type, ms, (width, height)) in expectations {
        let output = task.output.as_ref().unwrap();
        assert_eq!(
            (output.r#type.as_deref(), output.status),
            (Some(kling_type), Some(99))
        );
        let works = task.works();
        assert_eq!(works.len(), 1);
        let work = &works[0];
        assert_eq!(
            (work.status, work.r#type.as_deref()),
            (Some(99), Some(kling_type))
        );
        let video = work.video.as_ref().unwrap();
        assert_eq!(
            (video.duration, video.width, video.height),
            (Some(ms), Some(width), Some(height))
        );
        assert_eq!(
            output.video_url.as_deref(),
            video.resource_without_watermark.as_deref()
        );
        let cover = work.cover.as_ref().unwrap();
        assert_eq!(
            (cover.duration, cover.resource_without_watermark.as_deref()),
            (Some(0), Some(""))
        );
        assert_mp4(&download(&api, task.video_url().unwrap(), "video/mp4").await);
        assert_mp4(&download(&api, video.resource.as_deref().unwrap(), "video/mp4").await);
        assert_png(&download(&api, cover.resource.as_deref().unwrap(), "image/png").await);
        assert!(work.image.is_none() && work.audio.is_none());
    }
    assert_eq!(extend.task_type, TaskType::ExtendVideo);
    assert_eq!(extend.input["origin_task_id"], t2v.task_id.as_str());
}

#[tokio::test]
async fn try_on_makes_batch_size_images_and_sound_four_clips() {
    let api = Api::start(Simulator::builder().speed(1000.0)).await;
    let try_on = completed(
        &api,
        body(
            "ai_try_on",
            json!({"model_input": "https://example.com/m.png",
                                 "upper_input": "https://example.com/u.png", "batch_size": 3}),
        ),
    )
    .await;
    let output = try_on.output.as_ref().unwrap();
    assert_eq!(output.video_url.as_deref(), Some(""));
    assert_eq!(try_on.works().len(), 3);
    for (i, work) in try_on.works().iter().enumerate() {
        assert_eq!(work.content_type.as_deref(), Some("image"));
        let image = work.image.as_ref().unwrap();
        let url = image.resource_without_watermark.as_deref().unwrap();
        assert!(url.ends_with(&format!("/image-{i}.png")), "{url}");
        assert_eq!(image.duration, Some(0));
        assert_png(&download(&api, url, "image/png").await);
    }
    assert_eq!(usage(&try_on), (Some(2_100_000), Some(2_100_000)));

    let sound = completed(
        &api,
        body("sound", json!({"prompt": "violin", "duration": 5})),
    )
    .await;
    let output = sound.output.as_ref().unwrap();
    assert_eq!(output.r#type.as_deref(), Some("kwave_txt2audio"));
    assert_eq!(sound.works().len(), 4);
    for work in sound.works() {
        assert_eq!(work.content_type.as_deref(), Some("audio"));
        let audio = work.audio.as_ref().unwrap();
        assert_eq!(audio.duration, Some(5000));
        for url in [&audio.resource, &audio.resource_without_watermark] {
            assert_wav(&download(&api, url.as_deref().unwrap(), "audio/wav").await);
        }
    }
    assert_eq!(usage(&sound), (Some(700_000), Some(700_000)));

    // Files a task did not produce do not exist.
    let base = format!("{}/media/{}", api.base, sound.task_id);
    for missing in ["video.mp4", "audio-4.wav", "image-0.png"] {
        let response = api
            .http
            .get(format!("{base}/{missing}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{missing}");
    }
}

#[tokio::test]
async fn derived_tasks_need_a_completed_video_origin() {
    // Speed 20: a 5 s std video stays pending 150 ms and renders 6 s.
    let api = Api::start(Simulator::builder().speed(20.0)).await;
    let unknown = "6e269e8c-2091-46c4-b4a5-40a4704a766a";
    let (status, err) = api
        .create_err(body("extend_video", json!({"origin_task_id": unknown})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        err.message,
        format!("input.origin_task_id: task {unknown} not found (origin-task)")
    );

    let running = api.create(video("still rendering")).await;
    let (_, err) = api
        .create_err(body(
            "lip_sync",
            json!({"origin_task_id": running.task_id, "tts_text": "hi"}),
        ))
        .await;
    assert!(
        err.message.starts_with("input.origin_task_id: task"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("is not completed (status: pending)"),
        "{}",
        err.message
    );

    let fast = Api::start(Simulator::builder().speed(1000.0)).await;
    let sound = completed(&fast, body("sound", json!({"prompt": "rain"}))).await;
    let (_, err) = fast
        .create_err(body("sound", json!({"origin_task_id": sound.task_id})))
        .await;
    assert!(
        err.message.contains("is a sound task, not a video task"),
        "{}",
        err.message
    );
    let clip = completed(&fast, video("scored")).await;
    let scored = completed(
        &fast,
        body("sound", json!({"origin_task_id": clip.task_id})),
    )
    .await;
    let output = scored.output.as_ref().unwrap();
    assert_eq!(output.r#type.as_deref(), Some("kwave_video2audio"));
    assert_eq!(
        scored.works()[0].audio.as_ref().unwrap().duration,
        Some(5100)
    );
    assert_eq!(api.sim.task_count(), 1, "refused creates stored nothing");
}

#[tokio::test]
async fn max_tasks_evicts_the_oldest_finished_task_first() {
    let api = Api::start(Simulator::builder().speed(1000.0).max_tasks(3)).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let task = api.create(video(&format!("clip {i}"))).await;
        ids.push(task.task_id);
    }
    for id in &ids {
        api.wait_terminal(id, WAIT).await;
    }
    let fourth = api.create(video("clip 3")).await;
    assert_eq!(api.sim.task_count(), 3);
    assert_eq!(api.get_raw(&ids[0]).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(api.get(&ids[1]).await.status, TaskStatus::Completed);
    assert_eq!(api.get(&fourth.task_id).await.task_id, fourth.task_id);

    // With nothing finished there is nothing to evict: 429, and no task.
    let slow = Api::start(Simulator::builder().speed(1.0).max_tasks(2)).await;
    let kept = slow.create(video("a")).await;
    slow.create(video("b")).await;
    let response = slow.post_raw(&video("c").to_string(), &[]).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    let err: ErrorResponse = response.json().await.unwrap();
    assert!(err.message.contains("max_tasks"), "{}", err.message);
    assert_eq!(slow.sim.task_count(), 2);
    // A cancelled task has finished, so it can make room.
    assert_eq!(slow.cancel(&kept.task_id).await.0, StatusCode::OK);
    slow.create(video("c")).await;
    assert_eq!(
        slow.get_raw(&kept.task_id).await.status(),
        StatusCode::NOT_FOUND
    );
}
