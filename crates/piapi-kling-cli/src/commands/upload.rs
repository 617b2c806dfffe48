//! `kling upload FILE`: uploads a local file, prints its URL.

use serde_json::json;

use super::Ctx;
use crate::cli::UploadArgs;
use crate::exit::CliError;

/// Checks and uploads `args.file`; the URL is valid for 24 hours.
pub async fn run(ctx: &Ctx, args: UploadArgs) -> Result<(), CliError> {
    let url = ctx.client()?.upload(args.file.as_path()).await?;
    ctx.out.object(&json!({ "file": args.file, "url": url }));
    ctx.out.line(&url);
    Ok(())
}
