//! Extending a finished video (`task_type: extend_video`).

use piapi_kling_models::{ExtendVideoInput, ExtendVideoRequest, Model};

use super::{Files, Options, Prepared, task_options};
use crate::client::Client;
use crate::error::Result;
use crate::handle::TaskHandle;

/// An extend-video task; see [`Client::extend`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `.send().await`"]
pub struct ExtendVideo {
    client: Client,
    origin_task_id: String,
    options: Options,
}

impl ExtendVideo {
    pub(crate) fn new(client: Client, origin_task_id: String) -> Self {
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
    pub async fn send(self) -> Result<TaskHandle> {
        let client = self.client.clone();
        client.admit_create(move || self.prepare()).await
    }
}
