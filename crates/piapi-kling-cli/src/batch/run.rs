//! Running the lines of a batch: at most N tasks in flight, each line taken
//! from where the journal says it is.

use std::path::PathBuf;
use std::sync::Arc;

use indicatif::{MultiProgress, ProgressBar};
use piapi_kling::models::{CreateTaskRequest, TaskData};
use piapi_kling::{Client, Error, TaskHandle};
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::input::Line;
use super::journal::{Journal, Row, State};
use crate::download::Downloader;
use crate::exit::CliError;
use crate::output::Output;
use crate::progress;

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
}

/// What a line needs, decided from its journal row.
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

/// Shared by the line jobs.
struct Shared {
    client: Client,
    journal: Arc<Journal>,
    settings: Settings,
    downloader: Downloader,
    report: Reporter,
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

/// Runs every line the journal says still needs something. Returns the
/// first journal error, after letting the other lines finish.
pub async fn run(
    client: Client,
    journal: Arc<Journal>,
    lines: Vec<Line>,
    rows: Vec<Row>,
    settings: Settings,
    out: Output,
) -> Result<(), CliError> {
    let todo: Vec<(Line, Row, Plan)> = lines
        .into_iter()
        .filter_map(|line| {
            let row = rows.iter().find(|r| r.id == line.id)?.clone();
            let plan = plan(&row, &settings);
            tracing::debug!(line = line.number, id = %line.id, state = row.state.as_str(), ?plan, "line planned");
            (plan != Plan::Nothing).then_some((line, row, plan))
        })
        .collect();
    let visible = out.show_progress();
    let (multi, bar) = progress::batch_bar(visible, todo.len() as u64);
    let shared = Arc::new(Shared {
        client,
        journal,
        downloader: Downloader::new(false, settings.max_download_bytes)?,
        settings: settings.clone(),
        report: Reporter {
            out,
            visible,
            multi,
            bar,
        },
    });
    let slots = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let mut jobs = JoinSet::new();
    for (line, row, plan) in todo {
        let shared = shared.clone();
        let slots = slots.clone();
        jobs.spawn(async move {
            // The semaphore is never closed, so acquiring cannot fail.
            let _slot = slots.acquire_owned().await.ok();
            let result = run_line(&shared, &line, &row, plan).await;
            shared.report.bar.inc(1);
            result
        });
    }
    let mut first_error = None;
    while let Some(joined) = jobs.join_next().await {
        let result =
            joined.unwrap_or_else(|e| Err(CliError::Local(format!("a batch job stopped: {e}"))));
        if let Err(e) = result {
            first_error.get_or_insert(e);
        }
    }
    shared.report.bar.finish_and_clear();
    first_error.map_or(Ok(()), Err)
}

/// Takes one line from its journaled state to its end.
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

/// Sends the create of `line`, journaling the intent first and the task id
/// right after. `None` when no task can be waited for.
async fn create(shared: &Shared, line: &Line) -> Result<Option<TaskHandle>, CliError> {
    let id = line.id.clone();
    // Nothing is sent unless the intent is on disk: a crash after this point
    // leaves `intent`, which the next run reports instead of re-sending.
    journal(shared, move |j| j.record_intent(&id)).await?;
    let request: CreateTaskRequest = line.request.clone();
    match shared.client.create(request).await {
        Ok(handle) => {
            let (id, task_id) = (line.id.clone(), handle.id().to_owned());
            if let Err(e) = journal(shared, move |j| j.record_created(&id, &task_id)).await {
                // The journal still says `intent` (reported as unknown next
                // time); the id must at least reach the user.
                crate::output::err_line(&format!(
                    "line {} (id {}): created task {} but could not journal it",
                    line.number,
                    line.id,
                    handle.id()
                ));
                return Err(e);
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
            let (id, salvaged, text) = (line.id.clone(), task_id.clone(), message.clone());
            journal(shared, move |j| {
                j.record_unknown(&id, salvaged.as_deref(), &text)
            })
            .await?;
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
            let (id, text) = (line.id.clone(), message.clone());
            journal(shared, move |j| j.record_create_failed(&id, &text)).await?;
            shared.report.say(
                format!("line {} (id {}): create failed: {message}", line.number, line.id),
                json!({"event": "create_failed", "line": line.number, "id": line.id, "error": message}),
            );
            Ok(None)
        }
    }
}

/// Waits for the task of `line` and journals its end.
async fn wait(shared: &Shared, line: &Line, handle: &TaskHandle) -> Result<(), CliError> {
    let id = line.id.clone();
    match handle.wait().await {
        Ok(result) => {
            let consume = consume(&result.task);
            journal(shared, move |j| {
                j.record_finished(&id, State::Completed, consume, None)
            })
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
            let consume = consume(&task);
            let error = text.clone();
            journal(shared, move |j| {
                j.record_finished(&id, State::Failed, consume, Some(&error))
            })
            .await?;
            shared.report.say(
                format!("line {} (id {}): task {} failed, {text}", line.number, line.id, handle.id()),
                json!({"event": "failed", "line": line.number, "id": line.id, "task_id": handle.id(), "error": text}),
            );
            Ok(())
        }
        Err(error) => {
            // Timeout or a lasting transport error: the task goes on and the
            // line stays `created`, so the next run waits again.
            let text = error.to_string();
            let message = text.clone();
            journal(shared, move |j| j.record_wait_error(&id, &message)).await?;
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
            let id = line.id.clone();
            journal(shared, move |j| j.record_files(&id, &files)).await
        }
        // The task is done and journaled; a failed download is retried by
        // the next run (its files are still unrecorded).
        Err(error) => {
            let text = crate::output::error_lines(&error).join(" ");
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

/// Runs a journal write off the async workers: a durable write waits for
/// the disk.
async fn journal<T: Send + 'static>(
    shared: &Shared,
    write: impl FnOnce(&Journal) -> Result<T, CliError> + Send + 'static,
) -> Result<T, CliError> {
    let journal = shared.journal.clone();
    tokio::task::spawn_blocking(move || write(&journal))
        .await
        .map_err(|e| CliError::Local(format!("journal write stopped: {e}")))?
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
        }
    }

    #[test]
    fn unknown_lines_are_resent_only_when_asked() {
        let mut settings = Settings {
            concurrency: 1,
            download: None,
            covers: false,
            max_download_bytes: 1,
            resend_unknown: false,
        };
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
}
