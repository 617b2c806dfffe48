//! Virtual try-on (`task_type: ai_try_on`).

use std::future::Future;

use piapi_kling_models::{AiTryOnInput, AiTryOnRequest, Model};

use super::{Files, Options, Prepared, Slot, admit_create, task_options};
use crate::core::Core;
use crate::error::Result;
use crate::handle::TaskHandle;
use crate::source::MediaSource;
use std::sync::Arc;

/// A virtual try-on task; see [`Client::try_on`](crate::Client::try_on). Give one full-body garment
/// (`.dress()`) or an upper and/or lower garment (`.upper()`, `.lower()`).
#[derive(Debug)]
#[must_use = "a builder does nothing until `.send().await`"]
pub struct TryOn {
    client: Arc<Core>,
    model: MediaSource,
    dress: Option<MediaSource>,
    upper: Option<MediaSource>,
    lower: Option<MediaSource>,
    batch_size: Option<i64>,
    options: Options,
}

impl TryOn {
    pub(crate) fn new(client: Arc<Core>, model: MediaSource) -> Self {
        TryOn {
            client,
            model,
            dress: None,
            upper: None,
            lower: None,
            batch_size: None,
            options: Options::default(),
        }
    }

    /// A full-body garment (excludes `.upper()` and `.lower()`).
    pub fn dress(mut self, garment: impl Into<MediaSource>) -> Self {
        self.dress = Some(garment.into());
        self
    }

    /// An upper-body garment.
    pub fn upper(mut self, garment: impl Into<MediaSource>) -> Self {
        self.upper = Some(garment.into());
        self
    }

    /// A lower-body garment.
    pub fn lower(mut self, garment: impl Into<MediaSource>) -> Self {
        self.lower = Some(garment.into());
        self
    }

    /// How many images to make, 1 to 4.
    pub fn batch_size(mut self, n: u32) -> Self {
        self.batch_size = Some(i64::from(n));
        self
    }

    task_options!();

    pub(crate) fn prepare(self) -> Prepared {
        let mut files = Files::default();
        let mut input = AiTryOnInput::new(files.put(Slot::Model, self.model));
        input.dress_input = self.dress.map(|g| files.put(Slot::Dress, g));
        input.upper_input = self.upper.map(|g| files.put(Slot::Upper, g));
        input.lower_input = self.lower.map(|g| files.put(Slot::Lower, g));
        input.batch_size = self.batch_size;
        let request = AiTryOnRequest::new(Model::Kling, input);
        Prepared::new(self.client, request, files, self.options)
    }

    /// Checks everything locally, uploads local images, creates the task.
    pub fn send(self) -> impl Future<Output = Result<TaskHandle>> + Send + 'static {
        let client = self.client.clone();
        admit_create(client, move || self.prepare())
    }
}
