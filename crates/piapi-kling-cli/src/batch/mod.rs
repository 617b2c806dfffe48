//! `kling batch FILE.jsonl`: many creates, bounded in flight, resumable
//! through a SQLite journal. `input` reads and checks the file, `journal`
//! records progress durably, `run` executes, `summary` reports.

mod input;
mod journal;
mod run;
mod summary;

use std::collections::HashSet;
use std::sync::Arc;

use crate::cli::BatchArgs;
use crate::commands::Ctx;
use crate::exit::{CliError, Exit};

/// Runs a batch: validate every line, journal, create and wait, summarize.
pub async fn run(ctx: &Ctx, args: BatchArgs) -> Result<(), CliError> {
    let text = tokio::fs::read_to_string(&args.file)
        .await
        .map_err(|e| CliError::invalid(format!("cannot read {}: {e}", args.file.display())))?;
    let parsed = input::parse(&text);
    let problems: Vec<String> = parsed
        .invalid
        .iter()
        .flat_map(|invalid| {
            let label = match &invalid.id {
                Some(id) if *id != invalid.number.to_string() => {
                    format!("line {} (id {id})", invalid.number)
                }
                _ => format!("line {}", invalid.number),
            };
            invalid
                .problems
                .iter()
                .map(move |p| format!("{label}: {p}"))
        })
        .collect();
    if !problems.is_empty() {
        if !args.skip_invalid {
            // Nothing is created while any line is invalid: a half-run
            // batch is harder to fix than a rejected one.
            return Err(CliError::Invalid(problems));
        }
        ctx.out.note(format!(
            "skipping {} invalid line{} (--skip-invalid):",
            parsed.invalid.len(),
            if parsed.invalid.len() == 1 { "" } else { "s" }
        ));
        for problem in &problems {
            ctx.out.note(format!("  {problem}"));
        }
    }
    for line in &parsed.lines {
        for warning in &line.warnings {
            ctx.out
                .note(format!("line {} (id {}): {warning}", line.number, line.id));
            ctx.out.event(serde_json::json!({
                "event": "warning", "line": line.number, "id": line.id, "message": warning,
            }));
        }
    }
    if parsed.lines.is_empty() && parsed.invalid.is_empty() {
        return Err(CliError::invalid(format!(
            "{} has no request lines",
            args.file.display()
        )));
    }

    let client = ctx.client()?;
    let journal = Arc::new(journal::Journal::open(&args.journal)?);
    let mismatches = journal.register(&parsed.lines)?;
    if !mismatches.is_empty() {
        return Err(CliError::Invalid(mismatches));
    }
    let interrupted = journal.mark_interrupted()?;
    if interrupted > 0 {
        ctx.out.note(format!(
            "{interrupted} line{} of an interrupted run may have created tasks: reported as unknown{}",
            if interrupted == 1 { "" } else { "s" },
            if args.resend_unknown { ", re-sent (--resend-unknown)" } else { ", not re-sent" }
        ));
    }
    let ids: HashSet<&str> = parsed.lines.iter().map(|l| l.id.as_str()).collect();
    let of_file = |rows: Vec<journal::Row>| -> Vec<journal::Row> {
        rows.into_iter()
            .filter(|r| ids.contains(r.id.as_str()))
            .collect()
    };
    let rows = of_file(journal.rows()?);
    let settings = run::Settings {
        concurrency: args.concurrency as usize,
        download: args.download.clone(),
        covers: args.covers,
        max_download_bytes: ctx.global.max_download_bytes,
        resend_unknown: args.resend_unknown,
    };
    let outcome = run::run(
        client,
        journal.clone(),
        parsed.lines.clone(),
        rows,
        settings,
        ctx.out,
    )
    .await;

    let rows = of_file(journal.rows()?);
    let summary = summary::Summary::of(&rows, parsed.invalid.len());
    ctx.out
        .object(&summary::to_json(&summary, &rows, &parsed.invalid));
    for line in summary::to_lines(&summary, &rows) {
        ctx.out.line(line);
    }
    outcome?;
    match summary.exit() {
        Exit::Success => Ok(()),
        exit => Err(CliError::Reported(exit)),
    }
}
