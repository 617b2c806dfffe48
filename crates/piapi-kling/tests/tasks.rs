//! Every task kind end to end against the simulator: create → wait → typed
//! result → download one media file. Local files go through the upload API.

mod common;

use std::time::Duration;

use common::*;
use piapi_kling::{
    AspectRatio, CameraControl, CameraType, Effect, LipSyncSpec, Mode, TaskStatus, VideoDuration,
};

#[tokio::test]
async fn text_to_video_defaults_to_16_9_and_yields_a_downloadable_video() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let handle = client
        .text_to_video("White egrets fly over the vast paddy fields")
        .negative_prompt("blurry")
        .duration(VideoDuration::Seconds5)
        .mode(Mode::Standard)
        .camera_control(CameraControl::new(CameraType::ForwardUp))
        .send()
        .await
        .unwrap();
    assert_eq!(handle.created_task().unwrap().status, TaskStatus::Pending);
    let stored = sim.task(handle.id()).expect("the simulator has the task");
    assert_eq!(stored.input["aspect_ratio"], "16:9");

    let result = handle.wait().await.unwrap();
    assert_eq!(result.id(), handle.id());
    assert_eq!(result.task.status, TaskStatus::Completed);
    let video = &result.videos[0];
    assert_eq!(video.duration, Duration::from_millis(5100));
    assert_eq!((video.width, video.height), (1280, 720));
    assert!(video.cover_url.is_some());
    assert_eq!(result.video_url(), Some(video.url.as_str()));
    assert!(is_mp4(&download(&video.url).await));
}

#[tokio::test]
async fn an_explicit_aspect_ratio_is_kept() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let result = client
        .text_to_video("a tall tower")
        .aspect_ratio(AspectRatio::Portrait9x16)
        .send()
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(result.task.input["aspect_ratio"], "9:16");
    assert_eq!(
        (result.videos[0].width, result.videos[0].height),
        (720, 1280)
    );
}

#[tokio::test]
async fn image_to_video_uploads_local_frames_first() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let dir = tempfile::tempdir().unwrap();
    let first = png(dir.path(), "first frame.png");
    let last = png(dir.path(), "last.png");

    let handle = client
        .image_to_video(&first)
        .prompt("the camera pulls back")
        .tail_frame(last.to_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(count(&sim, "POST", "/api/ephemeral_resource"), 2);
    let stored = sim.task(handle.id()).unwrap();
    for field in ["image_url", "image_tail_url"] {
        let url = stored.input[field].as_str().unwrap();
        assert!(url.starts_with(&sim.base_url()), "{field} = {url}");
        // The uploaded file is served back intact.
        assert_eq!(download(url).await, *PNG);
    }

    let result = handle.wait().await.unwrap();
    assert!(is_mp4(&download(result.video_url().unwrap()).await));
}

/// One generated client serves both hosts: its request hook sends the
/// upload operation to the upload host and everything else to the API host.
#[tokio::test]
async fn uploads_go_to_the_upload_host_and_creates_to_the_api_host() {
    let api = start_sim().await;
    let upload_host = start_sim().await;
    let client = builder_for(&api)
        .upload_base_url(upload_host.base_url())
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let first = png(dir.path(), "first.png");

    let handle = client.image_to_video(&first).send().await.unwrap();
    assert_eq!(count(&upload_host, "POST", "/api/ephemeral_resource"), 1);
    assert_eq!(count(&upload_host, "POST", "/api/v1/task"), 0);
    assert_eq!(count(&api, "POST", "/api/ephemeral_resource"), 0);
    assert_eq!(count(&api, "POST", "/api/v1/task"), 1);
    let url = api.task(handle.id()).unwrap().input["image_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.starts_with(&upload_host.base_url()), "{url}");
    assert_eq!(download(&url).await, *PNG);
}

#[tokio::test]
async fn extend_lip_sync_and_sound_build_on_a_finished_video() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let video = client
        .text_to_video("a presenter facing the camera")
        .send()
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();

    let extended = client
        .extend(video.id())
        .send()
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(
        extended.videos[0].duration,
        video.videos[0].duration + Duration::from_secs(5)
    );
    assert!(is_mp4(&download(extended.video_url().unwrap()).await));

    let spoken = client
        .lip_sync(video.id())
        .text("Good evening.", "Rock")
        .speed(1.2)
        .send()
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(spoken.task.input["tts_speed"], 1.2);
    assert!(is_mp4(&download(spoken.video_url().unwrap()).await));

    let dir = tempfile::tempdir().unwrap();
    let voice = write_file(dir.path(), "voice.wav", &wav_bytes(2.0));
    let dubbed = client
        .lip_sync(video.id())
        .audio(&voice)
        .send()
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    let dubbing = dubbed.task.input["local_dubbing_url"].as_str().unwrap();
    assert_eq!(download(dubbing).await, wav_bytes(2.0));
    assert_eq!(dubbed.videos.len(), 1);

    let text_helper = client
        .lip_sync(video.id())
        .text("Hello", "Rock")
        .send()
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(text_helper.task.status, TaskStatus::Completed);

    let soundtrack = client
        .sound()
        .for_video(video.id())
        .send()
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(soundtrack.audio.len(), 4);
    assert_eq!(soundtrack.audio[0].duration, video.videos[0].duration);
    assert!(is_wav(&download(soundtrack.audio_url().unwrap()).await));
}

#[tokio::test]
async fn sound_from_a_prompt() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let result = client
        .sound()
        .prompt("lively violin playing a marching tune")
        .duration(VideoDuration::Seconds5)
        .send()
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(result.audio[0].duration, Duration::from_secs(5));
    assert!(result.videos.is_empty());
    assert!(is_wav(&download(&result.audio[0].url).await));
}

#[tokio::test]
async fn effect_on_a_local_image() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let dir = tempfile::tempdir().unwrap();
    let cat = png(dir.path(), "cat.png");
    let result = client
        .effect(&cat, Effect::Squish)
        .professional(true)
        .send()
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(result.task.input["effect"], "squish");
    assert_eq!(count(&sim, "POST", "/api/ephemeral_resource"), 1);
    assert!(is_mp4(&download(result.video_url().unwrap()).await));
}

#[tokio::test]
async fn try_on_with_upper_and_lower_garments_yields_images() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let dir = tempfile::tempdir().unwrap();
    let person = png(dir.path(), "person.png");
    let shirt_url = client.upload(png(dir.path(), "shirt.png")).await.unwrap();
    let result = client
        .try_on(&person)
        .upper(shirt_url.as_str())
        .lower(png(dir.path(), "jeans.png"))
        .batch_size(2)
        .send()
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(result.images.len(), 2);
    assert_eq!(
        (result.images[0].width, result.images[0].height),
        (768, 1024)
    );
    assert_eq!(result.task.input["upper_input"], shirt_url.as_str());
    assert!(is_png(&download(result.image_url().unwrap()).await));
}

#[tokio::test]
async fn raw_requests_are_created_too() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let request: piapi_kling::CreateTaskRequest = serde_json::from_value(serde_json::json!({
        "model": "kling", "task_type": "effects",
        "input": {"image_url": format!("{}/any.png", sim.base_url()), "effect": "expansion"}
    }))
    .unwrap();
    let result = client.create(request).await.unwrap().wait().await.unwrap();
    assert_eq!(result.task.input["effect"], "expansion");
}

#[tokio::test]
async fn generate_and_lip_sync_returns_both_results() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let both = client
        .generate_and_lip_sync(
            client.text_to_video("a news anchor facing the camera"),
            LipSyncSpec::text("Good evening.", "Rock"),
        )
        .await
        .unwrap();
    assert_eq!(both.lip_sync.task.input["origin_task_id"], both.video.id());
    assert!(is_mp4(&download(both.lip_sync.video_url().unwrap()).await));
}

#[tokio::test]
async fn account_info_is_read() {
    let sim = start_sim().await;
    let info = client_for(&sim).account_info().await.unwrap();
    assert!(info.account_id_text().is_some_and(|id| !id.is_empty()));
}

#[tokio::test]
async fn a_callers_reqwest_client_gets_the_key_on_each_request() {
    let sim = start_sim().await;
    // No default headers: the SDK adds the key per request.
    let client = builder_for(&sim)
        .http_client(reqwest::Client::new())
        .build()
        .unwrap();
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
    assert!(sim.request_log().iter().all(|r| r.status == 200));
}

#[tokio::test]
async fn cancel_tasks_cancels_the_pending_tasks_of_a_model() {
    let sim = sim_builder().concurrency_cap(1).start().await.unwrap();
    let client = client_for(&sim);
    let busy = client
        .text_to_video("[sim:slow] hold the slot")
        .send()
        .await
        .unwrap();
    let waiting = client.text_to_video("queued behind").send().await.unwrap();
    let cancelled = client
        .cancel_tasks(
            std::time::SystemTime::now() + Duration::from_secs(60),
            piapi_kling::CancelModel::Kling,
        )
        .await
        .unwrap();
    assert!(
        cancelled.iter().any(|id| id == waiting.id()),
        "{cancelled:?}"
    );
    // (Whether the running task is still cancellable is the simulator's call.)
    let _ = busy;
    assert!(waiting.wait().await.unwrap_err().is_cancelled());
}

#[tokio::test]
async fn a_builder_header_is_sent_but_cannot_replace_the_key() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let handle = client
        .sound()
        .prompt("rain")
        .header(
            reqwest::header::HeaderName::from_static("x-api-key"),
            reqwest::header::HeaderValue::from_static("sk-WRONG"),
        )
        .send()
        .await
        .unwrap();
    assert!(sim.task(handle.id()).is_some());
    // An extra header reaches the simulator: its fault header works.
    let err = client
        .sound()
        .prompt("rain")
        .header(
            reqwest::header::HeaderName::from_static("x-sim-fault"),
            reqwest::header::HeaderValue::from_static("500"),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(500), "{err:?}");
    // The headers were for that one request: the client itself is unchanged.
    client.get_task(handle.id()).await.unwrap();
}

#[tokio::test]
async fn active_tasks_are_counted_per_provider() {
    // Speed 1: the task stays pending, then processing, for seconds.
    let sim = sim_builder().speed(1.0).start().await.unwrap();
    let client = client_for(&sim);
    let before = client.active_tasks().await.unwrap();
    let kling = before.provider("kling").unwrap();
    assert_eq!(kling.pending_count, Some(0));
    client.text_to_video("a fox").send().await.unwrap();
    let after = client.active_tasks().await.unwrap();
    let kling = after.provider("kling").unwrap();
    assert_eq!(
        kling.pending_count.unwrap() + kling.processing_count.unwrap(),
        1
    );
    assert_eq!(after.providers().len(), 1);
}
