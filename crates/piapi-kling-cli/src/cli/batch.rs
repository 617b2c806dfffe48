//! `kling batch` and `kling webhook`: the subcommands around a batch ledger.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use piapi_kling::Usd;

use super::parse::parse_usd;

/// `kling batch`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BatchArgs {
    /// `status`: show a batch's progress (from any machine).
    #[command(subcommand)]
    pub command: Option<BatchCommand>,
    /// The JSONL file: one create request per line, optionally with an "id".
    #[arg(required = true)]
    pub file: Option<PathBuf>,
    /// How many tasks may be in flight (created and not finished) at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// The ledger that makes the batch resumable and shareable: a SQLite
    /// file (created if absent), or postgres://user@host/db[?schema=NAME],
    /// shared by runners on any number of machines.
    #[arg(long, value_name = "FILE|URL", required = true)]
    pub journal: Option<String>,
    /// Save the results of each task into DIR.
    #[arg(long, value_name = "DIR")]
    pub download: Option<PathBuf>,
    /// With --download, also save the cover image of each video.
    #[arg(long)]
    pub covers: bool,
    /// Create the valid lines even when some lines are invalid.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Stop creating once the next line would take what the journal's lines
    /// have committed (charges of finished tasks, estimates of the others)
    /// over USD dollars; the tasks in flight finish. A line the spec's price
    /// table cannot price is not created under a budget.
    #[arg(long, value_name = "USD", value_parser = parse_usd)]
    pub budget: Option<Usd>,
    /// Start even when the account's balance cannot cover the batch's
    /// estimate.
    #[arg(long, short)]
    pub yes: bool,
    /// Re-send the lines whose create outcome is unknown. RISK: if their
    /// first create did reach PiAPI, this makes a duplicate task, billed too.
    #[arg(long)]
    pub resend_unknown: bool,
    /// How long a runner's claim on a line lasts without a heartbeat; the
    /// lines of a runner gone that long are taken over by the others.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    pub lease: Duration,
    /// Creates carry this webhook endpoint (`kling webhook serve`), with a
    /// per-line token; runners then learn of completions from the ledger and
    /// poll PiAPI only every --fallback-poll.
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,
    /// The environment variable holding the webhook secret (with --webhook-url).
    #[arg(long, value_name = "VAR", requires = "webhook_url")]
    pub webhook_secret_env: Option<String>,
    /// With --webhook-url, poll PiAPI this often in case a delivery is lost.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = humantime::parse_duration)]
    pub fallback_poll: Duration,
}

/// The subcommands of `kling batch`.
#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// Show a batch's progress and the runners holding its lines.
    Status(BatchStatusArgs),
}

/// `kling batch status`.
#[derive(Debug, Args)]
pub struct BatchStatusArgs {
    /// The ledger: a SQLite file or a postgres:// URL.
    #[arg(long, value_name = "FILE|URL")]
    pub journal: String,
}

/// `kling webhook`.
#[derive(Debug, Args)]
pub struct WebhookArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: WebhookCommand,
}

/// The subcommands of `kling webhook`.
#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Receive PiAPI's webhooks into a batch ledger (runs until Ctrl-C).
    Serve(WebhookServeArgs),
}

/// `kling webhook serve`.
#[derive(Debug, Args)]
pub struct WebhookServeArgs {
    /// The ledger the batch runners use: a SQLite file or a postgres:// URL.
    #[arg(long, value_name = "FILE|URL")]
    pub journal: String,
    /// The environment variable holding the webhook secret (required: the
    /// endpoint faces the internet).
    #[arg(long, value_name = "VAR")]
    pub secret_env: String,
    /// The address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8787")]
    pub listen: std::net::SocketAddr,
}
