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
        Some(task) if task.status == TaskStatus::Failed => {
            Err(CliError::Sdk(Error::from_failed_task(task)))
        }
        // The stream ends only after a terminal status or an error; kept
        // total rather than panicking.
        _ => Err(CliError::Network(format!(
            "stopped following task {} before it finished; resume with: kling wait {}",
            handle.id(),
            handle.id()
        ))),
    }
}
