//! The batch journal: one SQLite row per line, recording what was done so a
//! batch killed at any moment resumes without creating a task twice.
//!
//! The two writes that decide safety are made durable (`synchronous=FULL`,
//! committed before going on): the *intent* before a create is sent, and
//! the *task id* right after it returns. A row left in `intent` therefore
//! means the create may or may not have reached PiAPI: it is reported as
//! `unknown`, never re-sent silently. Every other write can be lost without
//! harm (the line is just waited for or re-checked again), so those use
//! WAL's cheaper `synchronous=NORMAL`.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Params, params};

use super::input::Line;
use crate::exit::CliError;

/// The schema version, in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS lines (
    line_id     TEXT PRIMARY KEY,
    line_no     INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN
                ('pending', 'intent', 'created', 'completed', 'failed', 'create_failed', 'unknown')),
    task_id     TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    consume     INTEGER,
    files       TEXT,
    updated_at  INTEGER NOT NULL
);
";

/// Where a line is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Never attempted (or nothing recorded yet).
    Pending,
    /// A create is being sent; its outcome is not recorded yet.
    Intent,
    /// The task exists (its id is recorded) and has not finished.
    Created,
    /// The task completed.
    Completed,
    /// The task failed.
    Failed,
    /// The create was refused or never reached PiAPI: no task exists.
    CreateFailed,
    /// The create may have made a task: reconcile before re-sending.
    Unknown,
}

impl State {
    /// The spelling in the `state` column.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Intent => "intent",
            State::Created => "created",
            State::Completed => "completed",
            State::Failed => "failed",
            State::CreateFailed => "create_failed",
            State::Unknown => "unknown",
        }
    }

    fn parse(text: &str) -> Option<State> {
        Some(match text {
            "pending" => State::Pending,
            "intent" => State::Intent,
            "created" => State::Created,
            "completed" => State::Completed,
            "failed" => State::Failed,
            "create_failed" => State::CreateFailed,
            "unknown" => State::Unknown,
            _ => return None,
        })
    }
}

/// One line as the journal has it.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The line's id.
    pub id: String,
    /// Its line number.
    pub line: i64,
    /// Where it is.
    pub state: State,
    /// The task, once created (or salvaged from an ambiguous create).
    pub task_id: Option<String>,
    /// How many creates were sent for it.
    pub attempts: i64,
    /// The last problem: why a create or the task failed, or why a wait stopped.
    pub error: Option<String>,
    /// `meta.usage.consume` of the finished task (1e-7 USD).
    pub consume: Option<i64>,
    /// The files saved from its results.
    pub files: Option<Vec<String>>,
}

/// The journal file, opened for this run.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl Journal {
    /// Opens (or creates) the journal at `path`.
    pub fn open(path: &Path) -> Result<Journal, CliError> {
        let fail = |e: rusqlite::Error| journal_error(path, e);
        let conn = Connection::open(path).map_err(fail)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(fail)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(fail)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(CliError::Local(format!(
                "journal {}: cannot use WAL mode (got {mode})",
                path.display()
            )));
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(fail)?;
        if version > SCHEMA_VERSION {
            return Err(CliError::Local(format!(
                "journal {}: schema version {version} is newer than this kling knows ({SCHEMA_VERSION})",
                path.display()
            )));
        }
        conn.execute_batch(SCHEMA).map_err(fail)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(fail)?;
        tracing::debug!(path = %path.display(), "journal opened");
        Ok(Journal {
            path: path.to_owned(),
            conn: Mutex::new(conn),
        })
    }

    /// Adds the lines not journaled yet as `pending`. A journaled line whose
    /// request differs from the file's is a mismatch: then nothing is added
    /// and the mismatches are returned, one message each.
    pub fn register(&self, lines: &[Line]) -> Result<Vec<String>, CliError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| self.error(e))?;
        let mut mismatches = Vec::new();
        for line in lines {
            let known: Option<String> = tx
                .query_row(
                    "SELECT fingerprint FROM lines WHERE line_id = ?1",
                    [&line.id],
                    |row| row.get(0),
                )
                .optional()
                .map_err(|e| self.error(e))?;
            match known {
                Some(fingerprint) if fingerprint != line.fingerprint => mismatches.push(format!(
                    "line {} (id {}): the request differs from the one this journal recorded for that id; use the original file or another journal",
                    line.number, line.id
                )),
                Some(_) => {}
                None => {
                    tx.execute(
                        "INSERT INTO lines (line_id, line_no, fingerprint, state, updated_at)
                         VALUES (?1, ?2, ?3, 'pending', ?4)",
                        params![line.id, line.number as i64, line.fingerprint, now()],
                    )
                    .map_err(|e| self.error(e))?;
                }
            }
        }
        if mismatches.is_empty() {
            tx.commit().map_err(|e| self.error(e))?;
        }
        Ok(mismatches)
    }

    /// Turns the rows a previous run left in `intent` into `unknown`: that
    /// run stopped between sending a create and recording its task id.
    pub fn mark_interrupted(&self) -> Result<usize, CliError> {
        self.write(
            false,
            "UPDATE lines SET state = 'unknown', updated_at = ?1,
                 error = 'the previous run stopped after sending the create and before recording a task id: a task may exist'
             WHERE state = 'intent'",
            params![now()],
        )
    }

    /// Every row, in line order.
    pub fn rows(&self) -> Result<Vec<Row>, CliError> {
        let conn = self.lock();
        let mut statement = conn
            .prepare(
                "SELECT line_id, line_no, state, task_id, attempts, error, consume, files
                 FROM lines ORDER BY line_no, line_id",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], |row| {
                let state: String = row.get(2)?;
                let files: Option<String> = row.get(7)?;
                Ok(Row {
                    id: row.get(0)?,
                    line: row.get(1)?,
                    state: State::parse(&state).unwrap_or(State::Unknown),
                    task_id: row.get(3)?,
                    attempts: row.get(4)?,
                    error: row.get(5)?,
                    consume: row.get(6)?,
                    files: files.and_then(|f| serde_json::from_str(&f).ok()),
                })
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))
    }

    /// Durably records that a create for `id` is about to be sent.
    pub fn record_intent(&self, id: &str) -> Result<(), CliError> {
        self.write(
            true,
            "UPDATE lines SET state = 'intent', attempts = attempts + 1, task_id = NULL,
                 error = NULL, updated_at = ?2
             WHERE line_id = ?1",
            params![id, now()],
        )
        .map(drop)
    }

    /// Durably records the task the create for `id` made.
    pub fn record_created(&self, id: &str, task_id: &str) -> Result<(), CliError> {
        self.write(
            true,
            "UPDATE lines SET state = 'created', task_id = ?2, error = NULL, updated_at = ?3
             WHERE line_id = ?1",
            params![id, task_id, now()],
        )
        .map(drop)
    }

    /// Durably records that the create for `id` may have made a task, with
    /// the id salvaged from the damaged answer, if any.
    pub fn record_unknown(
        &self,
        id: &str,
        task_id: Option<&str>,
        error: &str,
    ) -> Result<(), CliError> {
        self.write(
            true,
            "UPDATE lines SET state = 'unknown', task_id = ?2, error = ?3, updated_at = ?4
             WHERE line_id = ?1",
            params![id, task_id, error, now()],
        )
        .map(drop)
    }

    /// Records that the create for `id` made no task.
    pub fn record_create_failed(&self, id: &str, error: &str) -> Result<(), CliError> {
        self.write(
            false,
            "UPDATE lines SET state = 'create_failed', error = ?2, updated_at = ?3
             WHERE line_id = ?1",
            params![id, error, now()],
        )
        .map(drop)
    }

    /// Records the end of the task of `id`: completed or failed, its cost.
    pub fn record_finished(
        &self,
        id: &str,
        state: State,
        consume: Option<i64>,
        error: Option<&str>,
    ) -> Result<(), CliError> {
        self.write(
            false,
            "UPDATE lines SET state = ?2, consume = ?3, error = ?4, updated_at = ?5
             WHERE line_id = ?1",
            params![id, state.as_str(), consume, error, now()],
        )
        .map(drop)
    }

    /// Records why waiting for the task of `id` stopped (it is still `created`).
    pub fn record_wait_error(&self, id: &str, error: &str) -> Result<(), CliError> {
        self.write(
            false,
            "UPDATE lines SET error = ?2, updated_at = ?3 WHERE line_id = ?1",
            params![id, error, now()],
        )
        .map(drop)
    }

    /// Records the files saved from the results of `id`.
    pub fn record_files(&self, id: &str, files: &[PathBuf]) -> Result<(), CliError> {
        let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        let files = serde_json::to_string(&files).unwrap_or_else(|_| "[]".to_owned());
        self.write(
            false,
            "UPDATE lines SET files = ?2, updated_at = ?3 WHERE line_id = ?1",
            params![id, files, now()],
        )
        .map(drop)
    }

    /// One autocommitted statement; `durable` ones are synced to disk
    /// (`synchronous=FULL`) before this returns.
    fn write(&self, durable: bool, sql: &str, params: impl Params) -> Result<usize, CliError> {
        let conn = self.lock();
        if durable {
            conn.pragma_update(None, "synchronous", "FULL")
                .map_err(|e| self.error(e))?;
        }
        let result = conn.execute(sql, params).map_err(|e| self.error(e));
        if durable {
            conn.pragma_update(None, "synchronous", "NORMAL")
                .map_err(|e| self.error(e))?;
        }
        result
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic elsewhere cannot leave SQLite half-written: each write is
        // one statement, so the connection is still usable.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn error(&self, e: rusqlite::Error) -> CliError {
        journal_error(&self.path, e)
    }
}

fn journal_error(path: &Path, e: rusqlite::Error) -> CliError {
    CliError::Local(format!("journal {}: {e}", path.display()))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::input;

    fn lines() -> Vec<Line> {
        input::parse(
            r#"{"id":"a","model":"kling","task_type":"sound","input":{"prompt":"rain"}}
{"id":"b","model":"kling","task_type":"sound","input":{"prompt":"wind"}}"#,
        )
        .lines
    }

    #[test]
    fn a_line_goes_through_its_states_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite");
        let journal = Journal::open(&path).unwrap();
        assert!(journal.register(&lines()).unwrap().is_empty());
        journal.record_intent("a").unwrap();
        journal.record_created("a", "task-a").unwrap();
        journal
            .record_finished("a", State::Completed, Some(700_000), None)
            .unwrap();
        journal
            .record_files("a", &[PathBuf::from("out/task-a-1.wav")])
            .unwrap();
        journal.record_intent("b").unwrap();
        drop(journal);

        let journal = Journal::open(&path).unwrap();
        assert!(
            journal.register(&lines()).unwrap().is_empty(),
            "same file, no mismatch"
        );
        assert_eq!(journal.mark_interrupted().unwrap(), 1);
        let rows = journal.rows().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].state, State::Completed);
        assert_eq!(rows[0].task_id.as_deref(), Some("task-a"));
        assert_eq!(rows[0].consume, Some(700_000));
        assert_eq!(
            rows[0].files.as_deref(),
            Some(&["out/task-a-1.wav".to_owned()][..])
        );
        assert_eq!(rows[1].state, State::Unknown);
        assert_eq!((rows[1].attempts, rows[1].task_id.as_deref()), (1, None));
    }

    #[test]
    fn a_changed_line_is_a_mismatch_and_adds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(&dir.path().join("j.sqlite")).unwrap();
        journal.register(&lines()[..1]).unwrap();
        let changed = input::parse(
            r#"{"id":"a","model":"kling","task_type":"sound","input":{"prompt":"thunder"}}
{"id":"b","model":"kling","task_type":"sound","input":{"prompt":"wind"}}"#,
        )
        .lines;
        let mismatches = journal.register(&changed).unwrap();
        assert_eq!(mismatches.len(), 1);
        assert!(mismatches[0].contains("id a"));
        assert_eq!(journal.rows().unwrap().len(), 1, "b was not added");
    }
}
