//! The subcommands about existing tasks (`get`, `cancel`, `cancel-all`,
//! `wait`) and `upload`.

use std::path::PathBuf;

use clap::Args;
use piapi_kling::models::CancelModel;

use super::parse::{known, parse_time};

/// Where and what to download, for `get` and `wait`.
#[derive(Debug, Args)]
pub struct DownloadOpts {
    /// Save the results of a completed task into DIR.
    #[arg(long, value_name = "DIR")]
    pub download: Option<PathBuf>,
    /// With --download, also save the cover image of each video.
    #[arg(long)]
    pub covers: bool,
}

/// `kling get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The task.
    pub task_id: String,
    /// Downloads.
    #[command(flatten)]
    pub download: DownloadOpts,
}

/// `kling cancel`.
#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The pending tasks to cancel.
    #[arg(required = true)]
    pub task_ids: Vec<String>,
}

/// `kling cancel-all`.
#[derive(Debug, Args)]
pub struct CancelAllArgs {
    /// Cancel the tasks created before this time: unix seconds, RFC 3339
    /// (2025-06-01T12:00:00Z) or `now`.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub before: std::time::SystemTime,
    /// The model whose tasks to cancel.
    #[arg(long, value_name = "MODEL", default_value = "kling", value_parser = known::<CancelModel>(CancelModel::VALUES, CancelModel::OPEN))]
    pub model: CancelModel,
}

/// `kling wait`.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// The task.
    pub task_id: String,
    /// Downloads.
    #[command(flatten)]
    pub download: DownloadOpts,
}

/// `kling upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The file: jpg, jpeg, png, webp, mp4, wav or mp3, at most 10 MB.
    pub file: PathBuf,
}
