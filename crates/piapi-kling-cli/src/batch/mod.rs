//! `kling batch FILE.jsonl`: many creates, bounded in flight, resumable and
//! shareable through a ledger (`piapi-kling-ledger`: a SQLite file, or a
//! PostgreSQL database shared by runners on many machines). `input` reads
//! and checks the file, `run` claims and executes lines, `feed` turns the
//! ledger's webhook deliveries into wake-ups, `summary` reports, `status`
//! shows a batch's progress.

mod feed;
mod input;
mod run;
mod status;
mod summary;

use std::collections::HashSet;
use std::sync::Arc;

use piapi_kling::Usd;
use piapi_kling_ledger::{Ledger, LedgerError, LineSpec, Row};

use crate::cli::{BatchArgs, BatchCommand};
use crate::commands::Ctx;
use crate::exit::{CliError, Exit};

impl From<LedgerError> for CliError {
    fn from(error: LedgerError) -> Self {
        CliError::Local(error.to_string())
    }
}

/// Runs `kling batch`: a file, or `kling batch status`.
pub async fn run(ctx: &Ctx, args: BatchArgs) -> Result<(), CliError> {
    if let Some(BatchCommand::Status(status)) = &args.command {
        return status::run(ctx, status).await;
    }
    // clap requires both when no subcommand is given.
    let (Some(file), Some(journal)) = (args.file.clone(), args.journal.clone()) else {
        return Err(CliError::invalid("kling batch needs FILE and --journal"));
    };
    let text = tokio::fs::read_to_string(&file)
        .await
        .map_err(|e| CliError::invalid(format!("cannot read {}: {e}", file.display())))?;
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
            file.display()
        )));
    }
    let webhook = match &args.webhook_url {
        Some(url) => Some(run::Webhook {
            url: url.clone(),
            secret: webhook_secret(args.webhook_secret_env.as_deref())?,
        }),
        None => None,
    };

    let client = ctx.client_with(webhook.as_ref().map(|_| {
        piapi_kling::webhook::WebhookReceiver::with_fallback_interval(args.fallback_poll)
    }))?;
    let ledger: Arc<dyn Ledger> = piapi_kling_ledger::open(&journal).await?;
    let specs: Vec<LineSpec> = parsed
        .lines
        .iter()
        .map(|l| LineSpec {
            id: l.id.clone(),
            number: l.number as i64,
            fingerprint: l.fingerprint.clone(),
        })
        .collect();
    let mismatches = ledger.register(&specs).await?;
    if !mismatches.is_empty() {
        let number = |id: &str| {
            parsed
                .lines
                .iter()
                .find(|l| l.id == id)
                .map_or(0, |l| l.number)
        };
        return Err(CliError::Invalid(
            mismatches
                .iter()
                .map(|m| format!(
                    "line {} (id {}): the request differs from the one this journal recorded for that id; use the original file or another journal",
                    number(&m.id), m.id
                ))
                .collect(),
        ));
    }
    let ids: HashSet<String> = parsed.lines.iter().map(|l| l.id.clone()).collect();
    let rows = of_file(ledger.rows().await?, &ids);
    check_money(ctx, &client, &parsed.lines, &rows, &args).await?;
    let settings = run::Settings {
        concurrency: args.concurrency as usize,
        download: args.download.clone(),
        covers: args.covers,
        max_download_bytes: ctx.global.max_download_bytes,
        resend_unknown: args.resend_unknown,
        lease: args.lease,
        webhook,
        budget: args.budget,
    };
    let outcome = run::run(
        client,
        ledger.clone(),
        parsed.lines.clone(),
        settings,
        ctx.out,
    )
    .await;

    let rows = of_file(ledger.rows().await?, &ids);
    let summary = summary::Summary::of(&rows, parsed.invalid.len());
    let costs = summary::costs(&rows, &parsed.lines);
    ctx.out
        .object(&summary::to_json(&summary, &rows, &parsed.invalid, &costs));
    for line in summary::to_lines(&summary, &rows, &costs) {
        ctx.out.line(line);
    }
    if let Ok(Some(committed)) = &outcome {
        let budget = args.budget.unwrap_or_default();
        let text = format!(
            "budget reached: {committed} committed of {budget}; {} line{} not created. The journal \
             remembers what was spent: resume with a higher budget, e.g. `kling batch {} --journal {} --budget {}`",
            summary.pending,
            if summary.pending == 1 { "" } else { "s" },
            file.display(),
            piapi_kling_ledger::describe_location(&journal),
            Usd::from_dollars((budget.dollars() * 2.0).max(1.0)).dollars(),
        );
        ctx.out.note(&text);
        ctx.out.event(serde_json::json!({
            "event": "budget_reached",
            "committed_usd": committed.dollars(),
            "budget_usd": budget.dollars(),
            "not_created": summary.pending,
        }));
    }
    ctx.out.event(serde_json::json!({
        "event": "ledger",
        "round_trips": ledger.round_trips(),
        "lines": rows.len(),
    }));
    outcome?;
    match summary.exit() {
        Exit::Success => Ok(()),
        exit => Err(CliError::Reported(exit)),
    }
}

/// States what the lines still to create are estimated to cost and what the
/// account holds, and refuses to start when the balance cannot cover the
/// estimate (unless `--yes`).
async fn check_money(
    ctx: &Ctx,
    client: &piapi_kling::Client,
    lines: &[input::Line],
    rows: &[Row],
    args: &BatchArgs,
) -> Result<(), CliError> {
    let to_create: HashSet<&str> = rows
        .iter()
        .filter(|r| {
            matches!(
                r.state,
                piapi_kling_ledger::State::Pending | piapi_kling_ledger::State::CreateFailed
            )
        })
        .map(|r| r.id.as_str())
        .collect();
    let mut total = Usd::ZERO;
    let mut unpriced = 0;
    let mut count = 0;
    for line in lines.iter().filter(|l| to_create.contains(l.id.as_str())) {
        count += 1;
        match line.request.estimate().amount() {
            Some(amount) => total += amount,
            None => unpriced += 1,
        }
    }
    if count == 0 {
        return Ok(());
    }
    let unpriced_note = if unpriced > 0 {
        format!(" ({unpriced} with a price the spec's table does not know, not counted)")
    } else {
        String::new()
    };
    let balance = match client.account_info().await {
        Ok(info) => info.balance_usd().map(Usd::from_dollars),
        Err(e) => {
            ctx.out
                .note(format!("cannot read the account's balance: {e}"));
            None
        }
    };
    ctx.out.note(format!(
        "batch estimate: {}{total} for {count} line{} to create{unpriced_note}; account balance: {}{}",
        if unpriced > 0 { "at least " } else { "" },
        if count == 1 { "" } else { "s" },
        balance.map_or_else(|| "unknown".to_owned(), |b| b.to_string()),
        args.budget
            .map(|b| format!("; budget: {b}"))
            .unwrap_or_default(),
    ));
    ctx.out.event(serde_json::json!({
        "event": "estimate",
        "lines": count,
        "estimate_usd": total.dollars(),
        "unpriced_lines": unpriced,
        "balance_usd": balance.map(Usd::dollars),
        "budget_usd": args.budget.map(Usd::dollars),
    }));
    // What the run can spend: the estimate, or less under a budget.
    let spend = args.budget.map_or(total, |b| b.min(total));
    if let Some(balance) = balance
        && balance < spend
        && !args.yes
    {
        return Err(CliError::invalid(format!(
            "the account's balance ({balance}) cannot cover the batch's estimate ({spend}): \
             nothing was created; pass --yes to start anyway, or --budget to cap the spending"
        )));
    }
    Ok(())
}

/// The rows of the file's lines (a ledger may hold other files' lines too).
fn of_file(rows: Vec<Row>, ids: &HashSet<String>) -> Vec<Row> {
    rows.into_iter().filter(|r| ids.contains(&r.id)).collect()
}

/// The webhook secret from `var`; required, since the endpoint faces the
/// internet. Never printed.
pub fn webhook_secret(var: Option<&str>) -> Result<secrecy::SecretString, CliError> {
    let Some(var) = var else {
        return Err(CliError::invalid(
            "--webhook-url needs --webhook-secret-env VAR (the endpoint refuses deliveries without the secret)",
        ));
    };
    match std::env::var(var) {
        Ok(secret) if !secret.is_empty() => Ok(secret.into()),
        _ => Err(CliError::invalid(format!(
            "the environment variable {var} (the webhook secret) is not set, empty or not UTF-8"
        ))),
    }
}
