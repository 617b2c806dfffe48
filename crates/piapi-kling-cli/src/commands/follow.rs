//! Following a task to its end with a progress spinner, fed by the SDK's
//! `TaskHandle::follow` (progress and result from one poll loop).

use piapi_kling::TaskHandle;
use piapi_kling::models::TaskData;
use serde_json::json;

use super::Ctx;
use crate::exit::CliError;
use crate::progress::WaitProgress;

/// Waits for the task of `handle` with the client's wait policy: the
/// completed task, or the SDK's error (`TaskFailed`, `Timeout`, ...).
pub async fn follow(ctx: &Ctx, handle: &TaskHandle) -> Result<TaskData, CliError> {
    let progress = WaitProgress::new(ctx.out.show_progress(), handle.id());
    let result = handle
        .follow(|task| {
            progress.status(&task.status);
            ctx.out.event(json!({
                "event": "status",
                "task_id": task.task_id,
                "status": task.status.as_str(),
            }));
        })
        .await;
    progress.finish();
    Ok(result?.task)
}
