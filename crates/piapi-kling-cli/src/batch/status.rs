//! `kling batch status --journal …`: a batch's progress, from any machine.

use piapi_kling_ledger::Row;
use serde_json::json;

use super::summary;
use crate::cli::BatchStatusArgs;
use crate::commands::Ctx;
use crate::exit::CliError;

/// Prints the ledger's counts, its lines needing attention, and how many
/// runners hold lines now.
pub async fn run(ctx: &Ctx, args: &BatchStatusArgs) -> Result<(), CliError> {
    let ledger = piapi_kling_ledger::open(&args.journal).await?;
    let rows = ledger.rows().await?;
    let now = ledger.now_ms().await?;
    let (runners, leased) = leases(&rows, now);
    let summary = summary::Summary::of(&rows, 0);
    let mut object = summary::to_json(&summary, &rows, &[], &[]);
    object["runners"] = json!({"active": runners, "lines_held": leased});
    ctx.out.object(&object);
    for line in summary::to_lines(&summary, &rows, &[]) {
        ctx.out.line(line);
    }
    ctx.out.line(format!(
        "runners: {runners} active, holding {leased} line{}",
        if leased == 1 { "" } else { "s" }
    ));
    Ok(())
}

/// Distinct runners with an unexpired lease, and the lines they hold.
fn leases(rows: &[Row], now: i64) -> (usize, usize) {
    let held: Vec<&str> = rows
        .iter()
        .filter(|r| r.lease_until.is_some_and(|until| until >= now))
        .filter_map(|r| r.lease_owner.as_deref())
        .collect();
    let mut owners = held.clone();
    owners.sort_unstable();
    owners.dedup();
    (owners.len(), held.len())
}
