//! Kling Sound (`task_type: sound`).

use std::future::Future;

use piapi_kling_models::{Model, SoundInput, SoundRequest, VideoDuration};

use super::{Files, Options, Prepared, admit_create, task_options};
use crate::core::Core;
use crate::error::Result;
use crate::handle::TaskHandle;
use std::sync::Arc;

/// A Kling Sound task; see [`Client::sound`](crate::Client::sound). Needs a `.prompt()`, a
/// `.for_video()`, or both.
#[derive(Debug)]
#[must_use = "a builder does nothing until `.send().await`"]
pub struct Sound {
    client: Arc<Core>,
    input: SoundInput,
    options: Options,
}

impl Sound {
    pub(crate) fn new(client: Arc<Core>) -> Self {
        Sound {
            client,
            input: SoundInput::default(),
            options: Options::default(),
        }
    }

    /// What the sound is, e.g. "lively violin playing a marching tune".
    pub fn prompt(mut self, prompt: impl Into<String>) -> Self {
        self.input.prompt = Some(prompt.into());
        self
    }

    /// Scores the finished video of task `origin_task_id`.
    pub fn for_video(mut self, origin_task_id: impl Into<String>) -> Self {
        self.input.origin_task_id = Some(origin_task_id.into());
        self
    }

    /// 5 or 10 seconds.
    pub fn duration(mut self, duration: impl Into<VideoDuration>) -> Self {
        self.input.duration = Some(duration.into());
        self
    }

    task_options!();

    pub(crate) fn prepare(self) -> Prepared {
        let request = SoundRequest::new(Model::Kling, self.input);
        Prepared::new(self.client, request, Files::default(), self.options)
    }

    /// Checks the request locally and creates the task.
    pub fn send(self) -> impl Future<Output = Result<TaskHandle>> + Send + 'static {
        let client = self.client.clone();
        admit_create(client, move || self.prepare())
    }
}
