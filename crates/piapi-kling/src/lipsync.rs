//! The video → lip-sync pipeline behind [`Client::generate_and_lip_sync`](crate::Client::generate_and_lip_sync).

use std::sync::Arc;

use crate::builders::{BuildRequest, LipSync, TaskBuilder};
use crate::core::Core;
use crate::error::{Error, Result};
use crate::result::TaskResult;
use crate::source::MediaSource;

/// Stands in for the video task id while the lip-sync step is checked
/// before the video exists.
const PENDING_VIDEO_TASK: &str = "pending-video-task";

/// What a lip-sync says: text for a Kling voice, or your own audio.
#[derive(Clone, Debug, PartialEq)]
pub struct LipSyncSpec {
    speech: Speech,
    speed: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
enum Speech {
    Text { text: String, voice: String },
    Audio(MediaSource),
}

impl LipSyncSpec {
    /// `text` spoken by the Kling voice `voice`.
    pub fn text(text: impl Into<String>, voice: impl Into<String>) -> Self {
        LipSyncSpec {
            speech: Speech::Text {
                text: text.into(),
                voice: voice.into(),
            },
            speed: None,
        }
    }

    /// Your own audio: a URL, or a local mp3/wav file (< 10 MB, < 60 s).
    pub fn audio(audio: impl Into<MediaSource>) -> Self {
        LipSyncSpec {
            speech: Speech::Audio(audio.into()),
            speed: None,
        }
    }

    /// Speech speed, 0.8 to 2 (text only; with audio it is a validation error).
    pub fn speed(mut self, speed: f64) -> Self {
        self.speed = Some(speed);
        self
    }

    fn builder(&self, core: &Arc<Core>, video_task_id: &str) -> LipSync {
        let builder = LipSync::of_video(core.clone(), video_task_id);
        let builder = match &self.speech {
            Speech::Text { text, voice } => builder.text(text, voice),
            Speech::Audio(audio) => builder.audio(audio.clone()),
        };
        match self.speed {
            Some(speed) => builder.speed(speed),
            None => builder,
        }
    }
}

/// The two results of [`Client::generate_and_lip_sync`](crate::Client::generate_and_lip_sync).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct LipSyncOutcome {
    /// The generated video.
    pub video: TaskResult,
    /// The lip-synced video.
    pub lip_sync: TaskResult,
}

/// Runs the pipeline: checks the lip-sync step, creates and awaits the
/// video, then lip-syncs it (see the method's docs).
pub(crate) async fn generate_and_lip_sync<I: BuildRequest>(
    core: &Arc<Core>,
    video: TaskBuilder<I>,
    lip_sync: LipSyncSpec,
) -> Result<LipSyncOutcome> {
    lip_sync
        .builder(core, PENDING_VIDEO_TASK)
        .prepare()
        .check()
        .await?;
    let handle = video.send().await?;
    let video_task_id = handle.id().to_owned();
    let video = handle.wait().await.map_err(|source| Error::Pipeline {
        video_task_id: video_task_id.clone(),
        video: None,
        source: Box::new(source),
    })?;
    let step = async {
        lip_sync
            .builder(core, &video_task_id)
            .send()
            .await?
            .wait()
            .await
    };
    match step.await {
        Ok(lip_sync) => Ok(LipSyncOutcome { video, lip_sync }),
        Err(source) => Err(Error::Pipeline {
            video_task_id,
            video: Some(Box::new(video)),
            source: Box::new(source),
        }),
    }
}
