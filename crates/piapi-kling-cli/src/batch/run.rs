//! Running the lines of a batch: claim lines from the ledger (at most N in
//! flight), take each from where the ledger says it is, renew the claims
//! while working, and stop once no line of the file needs anyone.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar};
use piapi_kling::Usd;
use piapi_kling::models::{CreateTaskRequest, TaskData};
use piapi_kling::{Client, Error, TaskHandle};
use piapi_kling_ledger::{ClaimRequest, Intent, Ledger, Owner, Row, State};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::feed;
use super::input::Line;
use crate::download::Downloader;
use crate::exit::CliError;
use crate::output::Output;
use crate::progress;

/// How long an idle runner waits before looking at the ledger again.
const IDLE: Duration = Duration::from_millis(500);

/// After a create's outcome turned unknown, how long its webhook may take to
/// link the task (the run waits that long before ending).
const CORRELATION_GRACE: Duration = Duration::from_secs(10);

/// The webhook endpoint creates carry.
#[derive(Clone, Debug)]
pub struct Webhook {
    /// `kling webhook serve`'s public URL.
    pub url: String,
    /// The secret PiAPI sends back (never printed: `Debug` shows `[REDACTED]`).
    pub secret: SecretString,
}

/// How to run the lines.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Tasks in flight at once.
    pub concurrency: usize,
    /// Where to save results, if anywhere.
    pub download: Option<PathBuf>,
    /// Save video covers too.
    pub covers: bool,
    /// The largest result file saved (`--max-download-bytes`).
    pub max_download_bytes: u64,
    /// Re-send the lines whose create outcome is unknown.
    pub resend_unknown: bool,
    /// How long a claim lasts without renewal.
    pub lease: Duration,
    /// The webhook creates carry, if any.
    pub webhook: Option<Webhook>,
    /// What the journal's lines may commit in all (`--budget`).
    pub budget: Option<Usd>,
}

/// What a claimed line needs, decided from its ledger row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plan {
    /// Send its create (never sent, or sent and refused).
    Create,
    /// Wait for its task.
    Wait,
    /// Completed, but its results are not saved yet.
    Download,
    /// Nothing: finished, or unknown and left to the user.
    Nothing,
}

fn plan(row: &Row, settings: &Settings) -> Plan {
    match row.state {
        State::Pending | State::CreateFailed => Plan::Create,
        State::Unknown | State::Intent if settings.resend_unknown => Plan::Create,
        State::Unknown | State::Intent => Plan::Nothing,
        State::Created if row.task_id.is_some() => Plan::Wait,
        // A created row always has its id; should one not, waiting is
        // impossible and re-sending unsafe: leave it to the user.
        State::Created => Plan::Nothing,
        State::Completed if settings.download.is_some() && row.files.is_none() => Plan::Download,
        State::Completed | State::Failed => Plan::Nothing,
    }
}

/// True when `row` needs no runner any more (in this run): what decides that
/// a batch is over, the same way on every runner.
fn settled(row: &Row, now: i64, settings: &Settings) -> bool {
    let leased = row.lease_until.is_some_and(|until| until >= now);
    match row.state {
        State::Pending | State::Intent => false,
        // A stopped wait is retried by a later run.
        State::Created => row.error.is_some() && !leased,
        State::Completed if settings.download.is_some() => {
            row.files.is_some() || (row.error.is_some() && !leased)
        }
        // A lost create answer may still be linked by its webhook.
        State::Unknown if settings.webhook.is_some() && row.token.is_some() => {
            now - row.updated_at >= CORRELATION_GRACE.as_millis() as i64
        }
        State::Completed | State::Failed | State::CreateFailed | State::Unknown => true,
    }
}

/// Shared by the line jobs.
struct Shared {
    client: Client,
    ledger: Arc<dyn Ledger>,
    owner: Owner,
    settings: Settings,
    downloader: Downloader,
    report: Reporter,
    /// Set once a line was not created for the budget: no more claims.
    budget_reached: AtomicBool,
    /// What the journal had committed when the budget stopped a line.
    committed: AtomicI64,
}

/// Prints per-line events without tearing the progress bar.
struct Reporter {
    out: Output,
    visible: bool,
    multi: MultiProgress,
    bar: ProgressBar,
}

impl Reporter {
    fn say(&self, text: String, event: Value) {
        if self.visible {
            let _ = self.multi.println(&text);
        } else {
            self.out.note(&text);
        }
        self.out.event(event);
    }
}

/// Claims and runs lines of the file until none needs anyone, or until the
/// budget stops the creates (then `Some(committed)`, once the lines in
/// flight finished). Returns the first ledger error, after letting the lines
/// in flight finish.
pub async fn run(
    client: Client,
    ledger: Arc<dyn Ledger>,
    lines: Vec<Line>,
    settings: Settings,
    out: Output,
) -> Result<Option<Usd>, CliError> {
    let owner = Owner::new();
    let run_started = ledger.now_ms().await?;
    let lines: HashMap<String, Line> = lines.into_iter().map(|l| (l.id.clone(), l)).collect();
    let visible = out.show_progress();
    let (multi, bar) = progress::batch_bar(visible, lines.len() as u64);
    let shared = Arc::new(Shared {
        client: client.clone(),
        ledger: ledger.clone(),
        owner: owner.clone(),
        downloader: Downloader::new(false, settings.max_download_bytes)?,
        settings: settings.clone(),
        report: Reporter {
            out,
            visible,
            multi,
            bar,
        },
        budget_reached: AtomicBool::new(false),
        committed: AtomicI64::new(0),
    });
    let changed = Arc::new(Notify::new());
    let feed = settings.webhook.as_ref().map(|_| {
        feed::spawn(
            ledger.clone(),
            client.webhook_receiver().cloned(),
            changed.clone(),
        )
    });
    let heartbeat = tokio::spawn(heartbeat(ledger.clone(), owner.clone(), settings.lease));

    let result = claim_loop(&shared, &lines, run_started, &changed).await;

    heartbeat.abort();
    if let Some(feed) = feed {
        feed.abort();
    }
    shared.report.bar.finish_and_clear();
    result?;
    Ok(shared
        .budget_reached
        .load(Ordering::SeqCst)
        .then(|| Usd::from_units(shared.committed.load(Ordering::SeqCst))))
}

async fn claim_loop(
    shared: &Arc<Shared>,
    lines: &HashMap<String, Line>,
    run_started: i64,
    changed: &Notify,
) -> Result<(), CliError> {
    let settings = &shared.settings;
    let ledger = &shared.ledger;
    let mut jobs: JoinSet<Result<(), CliError>> = JoinSet::new();
    let mut first_error: Option<CliError> = None;
    let mut last_reap: Option<tokio::time::Instant> = None;
    loop {
        // Runners that died (lease expired, or a process of this machine
        // that exited) leave their lines to the others.
        if last_reap.is_none_or(|at| at.elapsed() >= settings.lease / 4) {
            reap(ledger.as_ref()).await?;
            last_reap = Some(tokio::time::Instant::now());
        }
        let free = settings.concurrency.saturating_sub(jobs.len());
        let mut claimed = Vec::new();
        // Claim in batches (an eighth of the slots): one claim serves
        // several lines.
        let batch = (settings.concurrency / 8).max(1);
        let stopped = shared.budget_reached.load(Ordering::SeqCst);
        if (free >= batch || (free > 0 && jobs.is_empty())) && first_error.is_none() && !stopped {
            claimed = ledger
                .claim(&ClaimRequest {
                    owner: shared.owner.as_str().to_owned(),
                    lease: settings.lease,
                    limit: free,
                    run_started,
                    download: settings.download.is_some(),
                    resend_unknown: settings.resend_unknown,
                })
                .await?;
        }
        let got_work = !claimed.is_empty();
        for row in claimed {
            let Some(line) = lines.get(&row.id).cloned() else {
                // Another file's line in the same ledger.
                ledger.release(shared.owner.as_str(), &row.id).await?;
                continue;
            };
            let plan = plan(&row, settings);
            tracing::debug!(line = line.number, id = %line.id, state = row.state.as_str(), ?plan, "line claimed");
            if plan == Plan::Nothing {
                ledger.release(shared.owner.as_str(), &row.id).await?;
                continue;
            }
            let shared = shared.clone();
            jobs.spawn(async move {
                let result = run_line(&shared, &line, &row, plan).await;
                shared.report.bar.inc(1);
                result
            });
        }
        if got_work && jobs.len() < settings.concurrency {
            continue;
        }
        if jobs.is_empty()
            && (first_error.is_some()
                || shared.budget_reached.load(Ordering::SeqCst)
                || batch_is_over(shared, lines).await?)
        {
            break;
        }
        // Wait for a line to finish, the ledger to change, or a moment.
        tokio::select! {
            Some(joined) = jobs.join_next(), if !jobs.is_empty() => {
                let result = joined.unwrap_or_else(|e| {
                    Err(CliError::Local(format!("a batch job stopped: {e}")))
                });
                if let Err(e) = result {
                    first_error.get_or_insert(e);
                }
            }
            _ = changed.notified() => {}
            _ = tokio::time::sleep(IDLE) => {}
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// True when no line of the file needs a runner: every runner ends at the
/// same point and prints the same summary.
async fn batch_is_over(shared: &Shared, lines: &HashMap<String, Line>) -> Result<bool, CliError> {
    let now = shared.ledger.now_ms().await?;
    let rows = shared.ledger.rows().await?;
    Ok(rows
        .iter()
        .filter(|r| lines.contains_key(&r.id))
        .all(|r| settled(r, now, &shared.settings)))
}

/// Ends the leases of runners that are gone.
async fn reap(ledger: &dyn Ledger) -> Result<(), CliError> {
    let dead: Vec<String> = ledger
        .lease_owners()
        .await?
        .into_iter()
        .filter(|owner| piapi_kling_ledger::is_alive(owner) == Some(false))
        .collect();
    let reaped = ledger.reap(&dead).await?;
    if reaped > 0 {
        tracing::info!(reaped, "intents of stopped runners are now unknown");
    }
    Ok(())
}

/// Renews this runner's leases three times per lease period.
async fn heartbeat(ledger: Arc<dyn Ledger>, owner: Owner, lease: Duration) {
    let mut tick = tokio::time::interval(lease / 3);
    loop {
        tick.tick().await;
        if let Err(e) = ledger.renew(owner.as_str(), lease).await {
            tracing::warn!(error = %e, "lease renewal failed; other runners may take over");
        }
    }
}

/// Takes one line from its ledger state to its end.
async fn run_line(shared: &Shared, line: &Line, row: &Row, plan: Plan) -> Result<(), CliError> {
    let handle = match plan {
        Plan::Create => match create(shared, line).await? {
            Some(handle) => handle,
            None => return Ok(()),
        },
        Plan::Wait => {
            let id = row.task_id.clone().unwrap_or_default();
            shared.report.say(
                format!("line {} (id {}): resuming task {id}", line.number, line.id),
                json!({"event": "resumed", "line": line.number, "id": line.id, "task_id": id}),
            );
            shared.client.task(id)
        }
        Plan::Download => {
            let id = row.task_id.clone().unwrap_or_default();
            let task = shared.client.get_task(&id).await?;
            return save(shared, line, &task).await;
        }
        Plan::Nothing => return Ok(()),
    };
    wait(shared, line, &handle).await
}

/// The request of `line`, carrying the webhook endpoint with the line's
/// correlation token when creates carry webhooks.
fn request_for(line: &Line, webhook: Option<&Webhook>, token: &str) -> CreateTaskRequest {
    let Some(webhook) = webhook else {
        return line.request.clone();
    };
    let separator = if webhook.url.contains('?') { '&' } else { '?' };
    let endpoint = format!("{}{separator}kling_token={token}", webhook.url);
    // Through JSON: the config sits in every request type alike.
    let mut value = serde_json::to_value(&line.request).unwrap_or(Value::Null);
    if let Some(object) = value.as_object_mut() {
        let config = object.entry("config").or_insert_with(|| json!({}));
        if !config.is_object() {
            *config = json!({});
        }
        config["webhook_config"] =
            json!({"endpoint": endpoint, "secret": webhook.secret.expose_secret()});
    }
    serde_json::from_value(value).unwrap_or_else(|_| line.request.clone())
}

/// Sends the create of `line`, recording the intent first and the task id
/// right after. `None` when no task can be waited for.
async fn create(shared: &Shared, line: &Line) -> Result<Option<TaskHandle>, CliError> {
    let token = piapi_kling_ledger::new_token();
    let estimate = line.request.estimate();
    let budget = shared.settings.budget;
    if budget.is_some() && estimate.amount().is_none() {
        // Never counted as free: a line the table cannot price could cost
        // anything, so a budget cannot allow it. Recorded as a create error
        // (no task exists), which the next run retries.
        let message = format!(
            "not created under --budget: its price is {estimate}; a run without --budget creates it"
        );
        shared
            .ledger
            .record_create_failed(&line.id, &message)
            .await?;
        shared.report.say(
            format!("line {} (id {}): {message}", line.number, line.id),
            json!({"event": "unpriced", "line": line.number, "id": line.id, "error": message}),
        );
        return Ok(None);
    }
    // Nothing is sent unless the intent is recorded: a crash after this
    // point leaves `intent`, which becomes `unknown` instead of re-sent.
    // The budget check and the record are one transaction of the ledger.
    let intent = shared
        .ledger
        .record_intent_within(
            shared.owner.as_str(),
            &line.id,
            &token,
            estimate.units(),
            budget.map(Usd::units),
        )
        .await?;
    if let Intent::OverBudget { committed } = intent {
        shared
            .ledger
            .release(shared.owner.as_str(), &line.id)
            .await?;
        shared.committed.store(committed, Ordering::SeqCst);
        shared.budget_reached.store(true, Ordering::SeqCst);
        let budget = budget.unwrap_or_default();
        shared.report.say(
            format!(
                "line {} (id {}): not created: its estimate {} would take the {} committed over the budget of {budget}",
                line.number,
                line.id,
                estimate.amount().unwrap_or_default(),
                Usd::from_units(committed)
            ),
            json!({"event": "over_budget", "line": line.number, "id": line.id,
                   "estimate_usd": estimate.usd(), "committed_usd": Usd::from_units(committed).dollars(),
                   "budget_usd": budget.dollars()}),
        );
        return Ok(None);
    }
    if intent != Intent::Recorded {
        shared.report.say(
            format!(
                "line {} (id {}): claim lost to another runner, not sent",
                line.number, line.id
            ),
            json!({"event": "claim_lost", "line": line.number, "id": line.id}),
        );
        return Ok(None);
    }
    let request = request_for(line, shared.settings.webhook.as_ref(), &token);
    match shared.client.create(request).await {
        Ok(handle) => {
            if let Err(e) = shared.ledger.record_created(&line.id, handle.id()).await {
                // The ledger still says `intent` (unknown later); the id
                // must at least reach the user.
                crate::output::err_line(&format!(
                    "line {} (id {}): created task {} but could not record it",
                    line.number,
                    line.id,
                    handle.id()
                ));
                return Err(e.into());
            }
            shared.report.say(
                format!("line {} (id {}): created {}", line.number, line.id, handle.id()),
                json!({"event": "created", "line": line.number, "id": line.id, "task_id": handle.id()}),
            );
            Ok(Some(handle))
        }
        Err(Error::AmbiguousCreate {
            task_id, source, ..
        }) => {
            let message = format!("the create's outcome is unknown: {source}");
            let row = shared
                .ledger
                .record_unknown(&line.id, task_id.as_deref(), &message)
                .await?;
            if row.state == State::Created
                && let Some(linked) = row.task_id
            {
                // Its creation webhook came first: no longer unknown.
                shared.report.say(
                    format!("line {} (id {}): create answer lost, task {linked} linked by its webhook", line.number, line.id),
                    json!({"event": "linked", "line": line.number, "id": line.id, "task_id": linked}),
                );
                return Ok(Some(shared.client.task(linked)));
            }
            if row.state != State::Unknown {
                // Not ours to wait for: leave the line to whoever claims it.
                shared
                    .ledger
                    .release(shared.owner.as_str(), &line.id)
                    .await?;
            }
            shared.report.say(
                format!(
                    "line {} (id {}): {message}{}",
                    line.number,
                    line.id,
                    task_id.as_deref().map(|t| format!(" (salvaged task id {t})")).unwrap_or_default()
                ),
                json!({"event": "unknown", "line": line.number, "id": line.id, "task_id": task_id, "error": message}),
            );
            Ok(None)
        }
        Err(error) => {
            let message = error.to_string();
            shared
                .ledger
                .record_create_failed(&line.id, &message)
                .await?;
            shared.report.say(
                format!("line {} (id {}): create failed: {message}", line.number, line.id),
                json!({"event": "create_failed", "line": line.number, "id": line.id, "error": message}),
            );
            Ok(None)
        }
    }
}

/// The task as PiAPI sent it, for the ledger (`kling batch --json` prints
/// it); a webhook secret echoed back is redacted, as everywhere else.
fn task_json(task: &TaskData) -> String {
    serde_json::to_string(&crate::output::redacted(task)).unwrap_or_default()
}

/// Waits for the task of `line` and records its end.
async fn wait(shared: &Shared, line: &Line, handle: &TaskHandle) -> Result<(), CliError> {
    let downloading = shared.settings.download.is_some();
    match handle.wait().await {
        Ok(result) => {
            let consume = consume(&result.task);
            let sent = task_json(&result.task);
            shared
                .ledger
                .record_finished(
                    &line.id,
                    State::Completed,
                    consume,
                    None,
                    Some(&sent),
                    downloading,
                )
                .await?;
            shared.report.say(
                format!("line {} (id {}): completed {}", line.number, line.id, handle.id()),
                json!({"event": "completed", "line": line.number, "id": line.id, "task_id": handle.id()}),
            );
            save(shared, line, &result.task).await
        }
        Err(Error::TaskFailed {
            code,
            message,
            raw_message,
            task,
            ..
        }) => {
            let mut text = format!("code {code}: {message}");
            if let Some(raw) = raw_message {
                text.push_str(&format!(" (raw: {raw})"));
            }
            let sent = task_json(&task);
            shared
                .ledger
                .record_finished(
                    &line.id,
                    State::Failed,
                    consume(&task),
                    Some(&text),
                    Some(&sent),
                    false,
                )
                .await?;
            shared.report.say(
                format!("line {} (id {}): task {} failed, {text}", line.number, line.id, handle.id()),
                json!({"event": "failed", "line": line.number, "id": line.id, "task_id": handle.id(), "error": text}),
            );
            Ok(())
        }
        Err(error) => {
            // Timeout or a lasting transport error: the task goes on and the
            // line stays `created`, so a later run waits again.
            let text = error.to_string();
            shared.ledger.record_stopped(&line.id, &text).await?;
            shared.report.say(
                format!("line {} (id {}): stopped waiting: {text}", line.number, line.id),
                json!({"event": "wait_stopped", "line": line.number, "id": line.id, "task_id": handle.id(), "error": text}),
            );
            Ok(())
        }
    }
}

/// Saves the results of a completed task when `--download` asks.
async fn save(shared: &Shared, line: &Line, task: &TaskData) -> Result<(), CliError> {
    let Some(dir) = &shared.settings.download else {
        return Ok(());
    };
    match shared
        .downloader
        .save_task(dir, task, shared.settings.covers)
        .await
    {
        Ok(files) => {
            let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            Ok(shared.ledger.record_files(&line.id, &files).await?)
        }
        // The task is done and recorded; a failed download is retried by a
        // later run (its files are still unrecorded).
        Err(error) => {
            let text = crate::output::error_lines(&error).join(" ");
            shared.ledger.record_stopped(&line.id, &text).await?;
            shared.report.say(
                format!("line {} (id {}): {text}", line.number, line.id),
                json!({"event": "download_failed", "line": line.number, "id": line.id, "error": text}),
            );
            Ok(())
        }
    }
}

fn consume(task: &TaskData) -> Option<i64> {
    task.meta.usage.as_ref().and_then(|u| u.consume)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(state: State, task_id: Option<&str>, files: Option<Vec<String>>) -> Row {
        Row {
            id: "a".into(),
            line: 1,
            state,
            task_id: task_id.map(str::to_owned),
            attempts: 0,
            error: None,
            consume: None,
            files,
            lease_owner: None,
            lease_until: None,
            token: None,
            updated_at: 0,
            task: None,
            estimate: None,
        }
    }

    fn settings() -> Settings {
        Settings {
            concurrency: 1,
            download: None,
            covers: false,
            max_download_bytes: 1,
            resend_unknown: false,
            lease: Duration::from_secs(30),
            webhook: None,
            budget: None,
        }
    }

    #[test]
    fn unknown_lines_are_resent_only_when_asked() {
        let mut settings = settings();
        assert_eq!(
            plan(&row(State::Pending, None, None), &settings),
            Plan::Create
        );
        assert_eq!(
            plan(&row(State::CreateFailed, None, None), &settings),
            Plan::Create
        );
        assert_eq!(
            plan(&row(State::Unknown, Some("t"), None), &settings),
            Plan::Nothing
        );
        assert_eq!(
            plan(&row(State::Intent, None, None), &settings),
            Plan::Nothing
        );
        assert_eq!(
            plan(&row(State::Created, Some("t"), None), &settings),
            Plan::Wait
        );
        assert_eq!(
            plan(&row(State::Completed, Some("t"), None), &settings),
            Plan::Nothing
        );
        settings.resend_unknown = true;
        settings.download = Some(PathBuf::from("out"));
        assert_eq!(
            plan(&row(State::Unknown, Some("t"), None), &settings),
            Plan::Create
        );
        assert_eq!(
            plan(&row(State::Completed, Some("t"), None), &settings),
            Plan::Download
        );
        assert_eq!(
            plan(&row(State::Completed, Some("t"), Some(vec![])), &settings),
            Plan::Nothing
        );
        assert_eq!(
            plan(&row(State::Failed, Some("t"), None), &settings),
            Plan::Nothing
        );
    }

    #[test]
    fn a_batch_is_over_only_when_no_line_needs_a_runner() {
        let mut settings = settings();
        let now = 100_000;
        assert!(!settled(&row(State::Pending, None, None), now, &settings));
        assert!(!settled(&row(State::Intent, None, None), now, &settings));
        assert!(!settled(
            &row(State::Created, Some("t"), None),
            now,
            &settings
        ));
        let mut stopped = row(State::Created, Some("t"), None);
        stopped.error = Some("timed out".into());
        assert!(settled(&stopped, now, &settings));
        stopped.lease_until = Some(now + 1);
        assert!(!settled(&stopped, now, &settings), "still leased");
        assert!(settled(&row(State::Unknown, None, None), now, &settings));
        // With webhooks, a fresh unknown may still be linked.
        settings.webhook = Some(Webhook {
            url: "http://h/".into(),
            secret: "s".into(),
        });
        let mut fresh = row(State::Unknown, None, None);
        fresh.token = Some("t".into());
        fresh.updated_at = now - 1;
        assert!(!settled(&fresh, now, &settings));
        fresh.updated_at = now - 60_000;
        assert!(settled(&fresh, now, &settings));
    }

    #[test]
    fn creates_carry_the_endpoint_with_the_lines_token() {
        let line = super::super::input::parse(
            r#"{"id":"a","model":"kling","task_type":"sound","input":{"prompt":"rain"}}"#,
        )
        .lines
        .remove(0);
        let webhook = Webhook {
            url: "https://hooks.example/piapi?team=1".into(),
            secret: "s3cr3t".into(),
        };
        let request = request_for(&line, Some(&webhook), "abc123");
        let value = serde_json::to_value(&request).unwrap();
        assert_eq!(
            value["config"]["webhook_config"]["endpoint"],
            "https://hooks.example/piapi?team=1&kling_token=abc123"
        );
        assert_eq!(value["config"]["webhook_config"]["secret"], "s3cr3t");
        let shown = format!("{webhook:?}");
        assert!(
            shown.contains("REDACTED") && !shown.contains("s3cr3t"),
            "{shown}"
        );
        let plain = serde_json::to_value(request_for(&line, None, "abc123")).unwrap();
        assert!(
            plain
                .get("config")
                .is_none_or(|c| c.get("webhook_config").is_none())
        );
    }
}
