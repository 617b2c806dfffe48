//! Any create request, whatever its `task_type`: the generic builder.

use std::future::Future;

use piapi_kling_models::CreateTaskRequest;

use super::{Files, Options, Prepared, admit_create, task_options};
use crate::core::Core;
use crate::error::Result;
use crate::handle::TaskHandle;
use std::sync::Arc;

/// A create request of any task type, typed or raw; see [`Client::custom`](crate::Client::custom).
///
/// What the spec knows is checked (for an unknown task type: the envelope,
/// the config and the webhook); everything else is sent as given, with a
/// warning for what the spec does not list.
#[derive(Debug)]
#[must_use = "a builder does nothing until `.send().await`"]
pub struct CustomTask {
    client: Arc<Core>,
    request: CreateTaskRequest,
    options: Options,
}

impl CustomTask {
    pub(crate) fn new(client: Arc<Core>, request: CreateTaskRequest) -> Self {
        CustomTask {
            client,
            request,
            options: Options::default(),
        }
    }

    task_options!();

    /// Checks what the spec knows, then creates the task.
    pub fn send(self) -> impl Future<Output = Result<TaskHandle>> + Send + 'static {
        let client = self.client.clone();
        admit_create(client, move || {
            Prepared::new(self.client, self.request, Files::default(), self.options)
        })
    }
}
