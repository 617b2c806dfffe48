//! Renders a stored task as the models crate's `TaskData` at one instant:
//! status, timestamps, usage, error and the results shaped like Kling's.

use std::time::Instant;

use piapi_kling_models::catalog::{Billing, OutputShape};
use piapi_kling_models::{
    MediaResource, TaskConfig, TaskData, TaskError, TaskMeta, TaskOutput, TaskUsage, TaskWork,
    ZERO_TIME,
};

use crate::lifecycle::{Media, Phase, Task};
use crate::time::{Clock, rfc3339};

/// Kling's numeric status of a submitted job and of a finished one.
const KLING_SUBMITTED: i64 = 5;
const KLING_DONE: i64 = 99;

/// The task as a client would read it at `now`.
pub(crate) fn render(task: &Task, now: Instant, clock: &Clock, base_url: &str) -> TaskData {
    let phase = task.phase(now);
    let wall = |at: Instant| rfc3339(clock.wall(at));
    let zero = || ZERO_TIME.to_owned();
    let (started_at, ended_at) = match phase {
        Phase::Staged | Phase::Pending => (zero(), zero()),
        Phase::Processing { started } => (wall(started), zero()),
        Phase::Completed { started, ended } => (wall(started), wall(ended)),
        Phase::Failed { started, ended, .. } => (started.map_or_else(zero, wall), wall(ended)),
    };
    let (frozen, consume) = usage(task.billing, task.frozen, phase);
    let usage = TaskUsage::default()
        .with_type(task.billing.usage_type)
        .with_frozen(frozen)
        .with_consume(consume);
    let meta = TaskMeta::default()
        .with_created_at(wall(task.created))
        .with_started_at(started_at)
        .with_ended_at(ended_at)
        .with_usage(usage)
        .with_is_using_private_pool(task.private_pool);
    let error = match phase {
        Phase::Failed { failure, .. } => TaskError::new(failure.code(), failure.message())
            .with_raw_message(failure.raw_message()),
        _ => TaskError::new(0, "").with_raw_message(""),
    };
    let mut data = TaskData::new(
        task.id.to_string(),
        task.model.clone(),
        task.task_type.clone(),
        phase.status(),
        serde_json::from_str(&task.input).unwrap_or_default(),
        meta,
        error,
    )
    .with_config(TaskConfig::clone(&task.config))
    .with_output(output(task, phase, base_url))
    .with_logs([]);
    data.detail = None;
    data
}

/// `(usage.frozen, usage.consume)` of a task of `price` units in `phase`.
/// Kling's tasks freeze the price, consume it on completion and release it
/// on failure or cancel; one charged at creation (kling-turbo) consumes it
/// at once, with nothing frozen, and is refunded on failure or cancel (an
/// assumption: see the spec's `x-decision-usage-units`).
fn usage(billing: &Billing, price: i64, phase: Phase) -> (i64, i64) {
    let failed = matches!(phase, Phase::Failed { .. });
    match (billing.charged_at_creation, failed) {
        (true, false) => (0, price),
        (true, true) => (0, 0),
        (false, _) if matches!(phase, Phase::Completed { .. }) => (price, price),
        (false, _) => (price, 0),
    }
}

fn output(task: &Task, phase: Phase, base_url: &str) -> TaskOutput {
    if task.shape == OutputShape::Video {
        // Kling 3.0 and omni: `output.video` only, empty until completed.
        let url = match (phase, task.media) {
            (Phase::Completed { .. }, Media::Video { .. }) => {
                format!("{base_url}/media/{}/video.mp4", task.id)
            }
            _ => String::new(),
        };
        return TaskOutput::default().with_video(url);
    }
    match phase {
        Phase::Processing { .. } => TaskOutput::default()
            .with_video_url("")
            .with_type(&*task.kling_type)
            .with_status(KLING_SUBMITTED)
            .with_works([]),
        Phase::Completed { .. } => completed(task, base_url),
        _ => TaskOutput::default()
            .with_video_url("")
            .with_type("")
            .with_status(0),
    }
}

fn completed(task: &Task, base_url: &str) -> TaskOutput {
    let dir = format!("{base_url}/media/{}", task.id);
    let work = |content_type: Option<&str>| {
        let work = TaskWork::default()
            .with_status(KLING_DONE)
            .with_type(&*task.kling_type);
        match content_type {
            Some(content_type) => work.with_content_type(content_type),
            None => work,
        }
    };
    // `resource` stands for Kling's watermarked CDN copy and
    // `resource_without_watermark` for PiAPI's clean copy; both are served.
    let resource = |file: &str, width: i64, height: i64, ms: i64| {
        MediaResource::default()
            .with_resource(format!("{dir}/{file}?watermark=1"))
            .with_resource_without_watermark(format!("{dir}/{file}"))
            .with_height(height)
            .with_width(width)
            .with_duration(ms)
    };
    let (video_url, works) = match task.media {
        Media::Video { width, height, ms } => {
            let video = resource("video.mp4", width, height, ms);
            let cover = MediaResource::default()
                .with_resource(format!("{dir}/cover.png"))
                .with_resource_without_watermark("")
                .with_height(height)
                .with_width(width)
                .with_duration(0);
            let url = video.resource_without_watermark.clone();
            let work = work(None).with_cover(cover).with_video(video);
            (url.unwrap_or_default(), vec![work])
        }
        Media::Images {
            count,
            width,
            height,
        } => {
            let works = (0..count)
                .map(|i| {
                    work(Some("image")).with_image(resource(
                        &format!("image-{i}.png"),
                        width,
                        height,
                        0,
                    ))
                })
                .collect();
            (String::new(), works)
        }
        Media::Audio { count, ms } => {
            let works = (0..count)
                .map(|i| {
                    work(Some("audio")).with_audio(resource(&format!("audio-{i}.wav"), 0, 0, ms))
                })
                .collect();
            (String::new(), works)
        }
    };
    TaskOutput::default()
        .with_video_url(video_url)
        .with_type(&*task.kling_type)
        .with_status(KLING_DONE)
        .with_works(works)
}
