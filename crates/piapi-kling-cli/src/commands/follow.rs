//! Following a task to its end with a progress spinner fed by the SDK's
//! status stream.

use futures_util::StreamExt;
use piapi_kling::models::{TaskData, TaskStatus};
use piapi_kling::{Error, TaskHandle};
use serde_json::json;

use super::Ctx;
use crate::exit::CliError;
use crate::progress::WaitProgress;

/// Waits for the task of `handle` with the client's wait policy: the
/// completed task, or [`Error::TaskFailed`], [`Error::Timeout`], ...
pub async fn follow(ctx: &Ctx, handle: &TaskHandle) -> Result<TaskData, CliError> {
    let progress = WaitProgress::new(ctx.out.show_progress(), handle.id());
    let mut stream = handle.status_stream();
    let mut last: Option<TaskData> = None;
    while let Some(change) = stream.next().await {
        let task = change?;
        progress.status(&task.status);
        ctx.out.event(json!({
            "event": "status",
            "task_id": task.task_id,
            "status": task.status.as_str(),
        }));
        last = Some(task);
    }
    progress.finish();
    match last {
        Some(task) if task.status == TaskStatus::Completed => Ok(task),
        Some(task) if task.status == TaskStatus::Failed => Err(CliError::Sdk(task_failed(task))),
        // The stream ends only after a terminal status or an error; kept
        // total rather than panicking.
        _ => Err(CliError::Network(format!(
            "stopped following task {} before it finished; resume with: kling wait {}",
            handle.id(),
            handle.id()
        ))),
    }
}

/// The SDK's error for a task that ended in `failed`.
fn task_failed(task: TaskData) -> Error {
    Error::TaskFailed {
        task_id: task.task_id.clone(),
        code: task.error.code,
        message: task.error_message().unwrap_or("task failed").to_owned(),
        raw_message: task.error.raw_message.clone().filter(|m| !m.is_empty()),
        task: Box::new(task),
    }
}
