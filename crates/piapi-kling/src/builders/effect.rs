//! Kling effect presets (`task_type: effects`).

use std::future::Future;

use piapi_kling_models::{Effect, EffectsInput, EffectsRequest, Model};

use super::{Files, Options, Prepared, Slot, admit_create, task_options};
use crate::core::Core;
use crate::error::Result;
use crate::handle::TaskHandle;
use crate::source::MediaSource;
use std::sync::Arc;

/// An effects task; see [`Client::effect`](crate::Client::effect). The effects `rocket`, `hearting`,
/// `fighting`, `kissing`, `hugging`, `birthday` and `water` need a
/// `.prompt()` (PiAPI says they very likely fail without one).
#[derive(Debug)]
#[must_use = "a builder does nothing until `.send().await`"]
pub struct Effects {
    client: Arc<Core>,
    image: MediaSource,
    input: EffectsInput,
    options: Options,
}

impl Effects {
    pub(crate) fn new(client: Arc<Core>, image: MediaSource, effect: Effect) -> Self {
        Effects {
            client,
            image,
            // The URL is filled in by `prepare`, once a local file is known.
            input: EffectsInput::new(String::new(), effect),
            options: Options::default(),
        }
    }

    /// Text for the effects that need one.
    pub fn prompt(mut self, prompt: impl Into<String>) -> Self {
        self.input.prompt = Some(prompt.into());
        self
    }

    /// Professional mode (dearer, better).
    pub fn professional(mut self, on: bool) -> Self {
        self.input.professional_mode = Some(on);
        self
    }

    task_options!();

    pub(crate) fn prepare(self) -> Prepared {
        let mut files = Files::default();
        let mut input = self.input;
        input.image_url = files.put(Slot::EffectImage, self.image);
        let request = EffectsRequest::new(Model::Kling, input);
        Prepared::new(self.client, request, files, self.options)
    }

    /// Checks everything locally, uploads a local image, creates the task.
    pub fn send(self) -> impl Future<Output = Result<TaskHandle>> + Send + 'static {
        let client = self.client.clone();
        admit_create(client, move || self.prepare())
    }
}
