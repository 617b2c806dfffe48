//! Renders a stored task as the models crate's `TaskData` at one instant:
//! status, timestamps, usage, error and the results shaped like Kling's.

use std::time::Instant;

use piapi_kling_models::{
    MediaResource, Model, TaskData, TaskError, TaskMeta, TaskOutput, TaskUsage, TaskWork, ZERO_TIME,
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
    let completed = matches!(phase, Phase::Completed { .. });
    let meta = TaskMeta {
        created_at: Some(wall(task.created)),
        started_at: Some(started_at),
        ended_at: Some(ended_at),
        usage: Some(TaskUsage {
            r#type: Some("point".to_owned()),
            frozen: Some(task.frozen),
            // Billing: consumed on completion, released on failure or cancel.
            consume: Some(if completed { task.frozen } else { 0 }),
        }),
        is_using_private_pool: Some(task.private_pool),
    };
    let error = match phase {
        Phase::Failed { failure, .. } => TaskError {
            code: failure.code(),
            message: failure.message().to_owned(),
            raw_message: Some(failure.raw_message().to_owned()),
            detail: None,
        },
        _ => TaskError {
            code: 0,
            message: String::new(),
            raw_message: Some(String::new()),
            detail: None,
        },
    };
    TaskData {
        task_id: task.id.to_string(),
        model: Model::Kling,
        task_type: task.task_type.clone(),
        status: phase.status(),
        config: Some(task.config.clone()),
        input: serde_json::from_str(&task.input).unwrap_or_default(),
        output: Some(output(task, phase, base_url)),
        meta,
        detail: None,
        logs: Some(Vec::new()),
        error,
    }
}

fn output(task: &Task, phase: Phase, base_url: &str) -> TaskOutput {
    match phase {
        Phase::Processing { .. } => TaskOutput {
            video_url: Some(String::new()),
            r#type: Some(task.kling_type.to_owned()),
            status: Some(KLING_SUBMITTED),
            works: Some(Vec::new()),
        },
        Phase::Completed { .. } => completed(task, base_url),
        _ => TaskOutput {
            video_url: Some(String::new()),
            r#type: Some(String::new()),
            status: Some(0),
            works: None,
        },
    }
}

fn completed(task: &Task, base_url: &str) -> TaskOutput {
    let dir = format!("{base_url}/media/{}", task.id);
    let work = |content_type: Option<&str>| TaskWork {
        status: Some(KLING_DONE),
        r#type: Some(task.kling_type.to_owned()),
        content_type: content_type.map(str::to_owned),
        ..TaskWork::default()
    };
    // `resource` stands for Kling's watermarked CDN copy and
    // `resource_without_watermark` for PiAPI's clean copy; both are served.
    let resource = |file: &str, width: i64, height: i64, ms: i64| MediaResource {
        resource: Some(format!("{dir}/{file}?watermark=1")),
        resource_without_watermark: Some(format!("{dir}/{file}")),
        height: Some(height),
        width: Some(width),
        duration: Some(ms),
    };
    let (video_url, works) = match task.media {
        Media::Video { width, height, ms } => {
            let video = resource("video.mp4", width, height, ms);
            let cover = MediaResource {
                resource: Some(format!("{dir}/cover.png")),
                resource_without_watermark: Some(String::new()),
                height: Some(height),
                width: Some(width),
                duration: Some(0),
            };
            let url = video.resource_without_watermark.clone();
            let work = TaskWork {
                cover: Some(cover),
                video: Some(video),
                ..work(None)
            };
            (url.unwrap_or_default(), vec![work])
        }
        Media::Images {
            count,
            width,
            height,
        } => {
            let works = (0..count)
                .map(|i| TaskWork {
                    image: Some(resource(&format!("image-{i}.png"), width, height, 0)),
                    ..work(Some("image"))
                })
                .collect();
            (String::new(), works)
        }
        Media::Audio { count, ms } => {
            let works = (0..count)
                .map(|i| TaskWork {
                    audio: Some(resource(&format!("audio-{i}.wav"), 0, 0, ms)),
                    ..work(Some("audio"))
                })
                .collect();
            (String::new(), works)
        }
    };
    TaskOutput {
        video_url: Some(video_url),
        r#type: Some(task.kling_type.to_owned()),
        status: Some(KLING_DONE),
        works: Some(works),
    }
}
