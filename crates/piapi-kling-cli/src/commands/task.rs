//! The commands on existing tasks: `get`, `wait`, `cancel`, `cancel-all`.

use std::path::PathBuf;

use piapi_kling::models::{TaskData, TaskStatus};
use serde_json::json;

use super::{Ctx, follow};
use crate::cli::{CancelAllArgs, CancelArgs, DownloadOpts, GetArgs, WaitArgs};
use crate::exit::CliError;

/// `kling get ID`: the task as it is now.
pub async fn get(ctx: &Ctx, args: GetArgs) -> Result<(), CliError> {
    let task = ctx.client()?.get_task(&args.task_id).await?;
    let files = if task.status == TaskStatus::Completed {
        save(ctx, &task, &args.download).await?
    } else {
        if args.download.download.is_some() {
            ctx.out.note(format!(
                "task {} is {}: nothing to download yet (kling wait {} --download DIR)",
                task.task_id,
                task.status.as_str(),
                task.task_id
            ));
        }
        Vec::new()
    };
    ctx.out.task(&task, &files);
    Ok(())
}

/// `kling wait ID`: follows the task to its end.
pub async fn wait(ctx: &Ctx, args: WaitArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    let task = follow(ctx, &client.task(&args.task_id)).await?;
    let files = save(ctx, &task, &args.download).await?;
    ctx.out.task(&task, &files);
    Ok(())
}

/// The downloads `opts` asks for, if any.
async fn save(ctx: &Ctx, task: &TaskData, opts: &DownloadOpts) -> Result<Vec<PathBuf>, CliError> {
    match &opts.download {
        Some(dir) => ctx.downloader()?.save_task(dir, task, opts.covers).await,
        None => Ok(Vec::new()),
    }
}

/// `kling cancel ID...`: stops at the first task that cannot be cancelled.
pub async fn cancel(ctx: &Ctx, args: CancelArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    let mut cancelled = Vec::new();
    for id in &args.task_ids {
        client.cancel_task(id).await?;
        ctx.out.line(format!("cancelled {id}"));
        cancelled.push(id.clone());
    }
    ctx.out.object(&json!({ "cancelled": cancelled }));
    Ok(())
}

/// `kling cancel-all --before TIME --model MODEL`.
pub async fn cancel_all(ctx: &Ctx, args: CancelAllArgs) -> Result<(), CliError> {
    let ids = ctx.client()?.cancel_tasks(args.before, args.model).await?;
    ctx.out.object(&json!({ "cancelled": ids }));
    ctx.out.line(format!(
        "cancelled {} task{}",
        ids.len(),
        if ids.len() == 1 { "" } else { "s" }
    ));
    for id in &ids {
        ctx.out.line(format!("  {id}"));
    }
    Ok(())
}
