//! Extending a finished video (`task_type: extend_video`).

use std::future::Future;

use piapi_kling_models::{ExtendVideoInput, ExtendVideoRequest, Model};

use super::{Files, Options, Prepared, admit_create, task_options};
use crate::core::Core;
use crate::error::Result;
use crate::handle::TaskHandle;
use std::sync::Arc;

/// An extend-video task; see [`Client::extend`](crate::Client::extend).
#[derive(Debug)]
#[must_use = "a builder does nothing until `.send().await`"]
pub struct ExtendVideo {
    client: Arc<Core>,
    origin_task_id: String,
    options: Options,
}

impl ExtendVideo {
    pub(crate) fn new(client: Arc<Core>, origin_task_id: String) -> Self {
        ExtendVideo {
            client,
            origin_task_id,
            options: Options::default(),
        }
    }

    task_options!();

    pub(crate) fn prepare(self) -> Prepared {
        let request =
            ExtendVideoRequest::new(Model::Kling, ExtendVideoInput::new(self.origin_task_id));
        Prepared::new(self.client, request, Files::default(), self.options)
    }

    /// Checks the request locally and creates the task.
    pub fn send(self) -> impl Future<Output = Result<TaskHandle>> + Send + 'static {
        let client = self.client.clone();
        admit_create(client, move || self.prepare())
    }
}
