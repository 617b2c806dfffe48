//! The SQLite backend: a file for the runners of one machine.
//!
//! The two writes that decide safety are made durable (`synchronous=FULL`,
//! committed before going on): the intent before a create is sent, and the
//! task id right after it returns. Every other write can be lost without
//! harm (the line is just waited for or re-checked again), so those use
//! WAL's cheaper `synchronous=NORMAL`. Several processes may share the file:
//! a claim is one `UPDATE … RETURNING` statement, serialized by SQLite's
//! write lock. Runners learn of webhook deliveries by polling the file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use crate::types::{
    ClaimRequest, Delivery, Intent, LineSpec, Mismatch, Row, State, StoredDelivery,
};
use crate::{Ledger, LedgerError, Result};

/// The schema version, in `PRAGMA user_version`.
pub(crate) const SCHEMA_VERSION: i64 = 4;

/// Versioned migrations: `MIGRATIONS[n]` takes version n to n + 1.
const MIGRATIONS: [&str; 4] = [
    // 1: the journal of the single-process `kling batch`.
    "CREATE TABLE IF NOT EXISTS lines (
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
    );",
    // 2: leases, correlation tokens, webhook deliveries; times in ms.
    "ALTER TABLE lines ADD COLUMN lease_owner TEXT;
     ALTER TABLE lines ADD COLUMN lease_until INTEGER;
     ALTER TABLE lines ADD COLUMN token TEXT;
     UPDATE lines SET updated_at = updated_at * 1000;
     CREATE UNIQUE INDEX lines_token ON lines (token);
     CREATE INDEX lines_state ON lines (state, line_no);
     CREATE TABLE deliveries (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        received_at INTEGER NOT NULL,
        token       TEXT,
        task_id     TEXT NOT NULL,
        status      TEXT NOT NULL,
        event_ts    INTEGER NOT NULL,
        line_id     TEXT
     );",
    // 3: the finished task as PiAPI sent it (JSON), for `kling batch --json`.
    "ALTER TABLE lines ADD COLUMN task TEXT;",
    // 4: each line's estimate (1e-7 USD), for budgets and the summary.
    "ALTER TABLE lines ADD COLUMN estimate INTEGER;",
];

const COLUMNS: &str = "line_id, line_no, state, task_id, attempts, error, consume, files, \
                       lease_owner, lease_until, token, updated_at, task, estimate";

/// What the lines other than `?1` have committed, in 1e-7 USD: the charges
/// of finished tasks (a failed one is refunded) and the estimates of the
/// creates sent and not finished.
pub(crate) const COMMITTED: &str = "SELECT COALESCE(SUM(CASE
        WHEN state = 'completed' THEN COALESCE(consume, estimate, 0)
        WHEN state = 'failed' THEN COALESCE(consume, 0)
        WHEN state IN ('intent', 'created', 'unknown') THEN COALESCE(estimate, 0)
        ELSE 0 END), 0)
    FROM lines WHERE line_id <> ?1";

/// How often runners look for new deliveries in the file.
const POLL: Duration = Duration::from_millis(200);

/// A ledger in a SQLite file.
#[derive(Debug)]
pub struct SqliteLedger {
    path: String,
    conn: Arc<Mutex<Connection>>,
    trips: Arc<AtomicU64>,
}

impl SqliteLedger {
    /// Opens (or creates) the ledger at `path` and applies the migrations.
    /// Blocking: call it off the async workers.
    pub fn open(path: &Path) -> Result<SqliteLedger> {
        let name = path.display().to_string();
        let fail = |e: rusqlite::Error| db_error(&name, e);
        let mut conn = Connection::open(path).map_err(fail)?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(fail)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(fail)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(LedgerError::Location(format!(
                "{name}: cannot use WAL mode (got {mode})"
            )));
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail)?;
        // Migrations run in one immediate transaction: two runners opening
        // a new file at once apply them once.
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(fail)?;
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(fail)?;
        if version > SCHEMA_VERSION {
            return Err(LedgerError::TooNew {
                ledger: name,
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        for (from, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql).map_err(fail)?;
            tracing::debug!(ledger = %name, version = from + 1, "migration applied");
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(fail)?;
        tx.commit().map_err(fail)?;
        Ok(SqliteLedger {
            path: name,
            conn: Arc::new(Mutex::new(conn)),
            trips: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Runs `work` on the connection off the async workers. `durable` work
    /// is synced to disk before this returns.
    async fn with<T: Send + 'static>(
        &self,
        durable: bool,
        work: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T> {
        let conn = self.conn.clone();
        self.trips.fetch_add(1, Ordering::Relaxed);
        let result = tokio::task::spawn_blocking(move || {
            // A panic elsewhere cannot leave SQLite half-written: each write
            // is one statement or transaction.
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            if durable {
                conn.pragma_update(None, "synchronous", "FULL")?;
            }
            let result = work(&mut conn);
            if durable {
                conn.pragma_update(None, "synchronous", "NORMAL")?;
            }
            result
        })
        .await
        .map_err(|e| LedgerError::Location(format!("{}: a ledger call stopped: {e}", self.path)))?;
        result.map_err(|e| db_error(&self.path, e))
    }
}

fn db_error(path: &str, e: rusqlite::Error) -> LedgerError {
    LedgerError::Database {
        ledger: path.to_owned(),
        message: e.to_string(),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn row_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let state: String = row.get(2)?;
    let files: Option<String> = row.get(7)?;
    Ok(Row {
        id: row.get(0)?,
        line: row.get(1)?,
        state: State::parse(&state),
        task_id: row.get(3)?,
        attempts: row.get(4)?,
        error: row.get(5)?,
        consume: row.get(6)?,
        files: files.and_then(|f| serde_json::from_str(&f).ok()),
        lease_owner: row.get(8)?,
        lease_until: row.get(9)?,
        token: row.get(10)?,
        updated_at: row.get(11)?,
        task: row
            .get::<_, Option<String>>(12)?
            .and_then(|t| serde_json::from_str(&t).ok()),
        estimate: row.get(13)?,
    })
}

fn ms(d: Duration) -> i64 {
    d.as_millis().min(i64::MAX as u128) as i64
}

#[async_trait::async_trait]
impl Ledger for SqliteLedger {
    fn describe(&self) -> &str {
        &self.path
    }

    async fn register(&self, lines: &[LineSpec]) -> Result<Vec<Mismatch>> {
        let lines = lines.to_vec();
        self.with(false, move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let mut mismatches = Vec::new();
            let now = now_ms();
            for line in &lines {
                let known: Option<String> = tx
                    .query_row(
                        "SELECT fingerprint FROM lines WHERE line_id = ?1",
                        [&line.id],
                        |row| row.get(0),
                    )
                    .optional()?;
                match known {
                    Some(f) if f != line.fingerprint => mismatches.push(Mismatch {
                        id: line.id.clone(),
                    }),
                    Some(_) => {}
                    None => {
                        tx.execute(
                            "INSERT INTO lines (line_id, line_no, fingerprint, state, updated_at)
                             VALUES (?1, ?2, ?3, 'pending', ?4)",
                            params![line.id, line.number, line.fingerprint, now],
                        )?;
                    }
                }
            }
            if mismatches.is_empty() {
                tx.commit()?;
            }
            Ok(mismatches)
        })
        .await
    }

    async fn now_ms(&self) -> Result<i64> {
        Ok(now_ms())
    }

    async fn reap(&self, dead: &[String]) -> Result<usize> {
        let dead = dead.to_vec();
        self.with(false, move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let now = now_ms();
            for owner in &dead {
                tx.execute(
                    "UPDATE lines SET lease_until = 0 WHERE lease_owner = ?1",
                    [owner],
                )?;
            }
            let reaped = tx.execute(
                "UPDATE lines SET state = 'unknown', lease_owner = NULL, lease_until = NULL,
                     updated_at = ?1,
                     error = 'the runner that sent the create stopped before recording a task id: a task may exist'
                 WHERE state = 'intent' AND (lease_until IS NULL OR lease_until < ?1)",
                [now],
            )?;
            tx.execute(
                "UPDATE lines SET lease_owner = NULL, lease_until = NULL
                 WHERE lease_until IS NOT NULL AND lease_until < ?1",
                [now],
            )?;
            tx.commit()?;
            Ok(reaped)
        })
        .await
    }

    async fn lease_owners(&self) -> Result<Vec<String>> {
        self.with(false, |conn| {
            let mut statement = conn.prepare(
                "SELECT DISTINCT lease_owner FROM lines
                 WHERE lease_owner IS NOT NULL AND lease_until >= ?1",
            )?;
            let owners = statement.query_map([now_ms()], |row| row.get(0))?;
            owners.collect()
        })
        .await
    }

    async fn claim(&self, request: &ClaimRequest) -> Result<Vec<Row>> {
        let request = request.clone();
        self.with(false, move |conn| {
            let now = now_ms();
            let mut statement = conn.prepare(&format!(
                "UPDATE lines SET lease_owner = ?1, lease_until = ?2
                 WHERE line_id IN (
                     SELECT line_id FROM lines
                     WHERE (lease_until IS NULL OR lease_until < ?3)
                       AND (state = 'pending'
                         OR (state = 'create_failed' AND updated_at < ?4)
                         OR (state = 'created' AND task_id IS NOT NULL
                             AND (error IS NULL OR updated_at < ?4))
                         OR (?5 AND state = 'completed' AND files IS NULL
                             AND (error IS NULL OR updated_at < ?4))
                         OR (?6 AND state = 'unknown' AND updated_at < ?4))
                     ORDER BY line_no LIMIT ?7)
                 RETURNING {COLUMNS}"
            ))?;
            let rows = statement.query_map(
                params![
                    request.owner,
                    now + ms(request.lease),
                    now,
                    request.run_started,
                    request.download,
                    request.resend_unknown,
                    request.limit as i64
                ],
                row_of,
            )?;
            let mut rows = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            rows.sort_by_key(|r| r.line);
            Ok(rows)
        })
        .await
    }

    async fn renew(&self, owner: &str, lease: Duration) -> Result<u64> {
        let owner = owner.to_owned();
        self.with(false, move |conn| {
            conn.execute(
                "UPDATE lines SET lease_until = ?2 WHERE lease_owner = ?1",
                params![owner, now_ms() + ms(lease)],
            )
            .map(|n| n as u64)
        })
        .await
    }

    async fn record_intent_within(
        &self,
        owner: &str,
        id: &str,
        token: &str,
        estimate: Option<i64>,
        budget: Option<i64>,
    ) -> Result<Intent> {
        let (owner, id, token) = (owner.to_owned(), id.to_owned(), token.to_owned());
        self.with(true, move |conn| {
            // IMMEDIATE: the write lock is taken first, so no other process
            // commits between the sum and the update.
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            if let Some(budget) = budget {
                let committed: i64 = tx.query_row(COMMITTED, params![id], |r| r.get(0))?;
                if committed.saturating_add(estimate.unwrap_or(0)) > budget {
                    return Ok(Intent::OverBudget { committed });
                }
            }
            let now = now_ms();
            let n = tx.execute(
                "UPDATE lines SET state = 'intent', attempts = attempts + 1, task_id = NULL,
                     error = NULL, token = ?3, estimate = ?5, updated_at = ?4
                 WHERE line_id = ?1 AND lease_owner = ?2 AND lease_until >= ?4
                   AND state IN ('pending', 'create_failed', 'unknown')",
                params![id, owner, token, now, estimate],
            )?;
            tx.commit()?;
            Ok(if n == 1 {
                Intent::Recorded
            } else {
                Intent::Lost
            })
        })
        .await
    }

    async fn record_created(&self, id: &str, task_id: &str) -> Result<()> {
        let (id, task_id) = (id.to_owned(), task_id.to_owned());
        self.with(true, move |conn| {
            conn.execute(
                "UPDATE lines SET state = 'created', task_id = ?2, error = NULL, updated_at = ?3
                 WHERE line_id = ?1 AND state IN ('intent', 'unknown', 'created')",
                params![id, task_id, now_ms()],
            )
            .map(drop)
        })
        .await
    }

    async fn record_unknown(&self, id: &str, task_id: Option<&str>, error: &str) -> Result<Row> {
        let (id, task_id, error) = (id.to_owned(), task_id.map(str::to_owned), error.to_owned());
        self.with(true, move |conn| {
            conn.execute(
                "UPDATE lines SET state = 'unknown', task_id = COALESCE(task_id, ?2), error = ?3,
                     lease_owner = NULL, lease_until = NULL, updated_at = ?4
                 WHERE line_id = ?1 AND state = 'intent'",
                params![id, task_id, error, now_ms()],
            )?;
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM lines WHERE line_id = ?1"),
                [&id],
                row_of,
            )
        })
        .await
    }

    async fn record_create_failed(&self, id: &str, error: &str) -> Result<()> {
        let (id, error) = (id.to_owned(), error.to_owned());
        self.with(false, move |conn| {
            conn.execute(
                "UPDATE lines SET state = 'create_failed', error = ?2, lease_owner = NULL,
                     lease_until = NULL, updated_at = ?3
                 WHERE line_id = ?1 AND state IN ('intent', 'pending', 'create_failed')",
                params![id, error, now_ms()],
            )
            .map(drop)
        })
        .await
    }

    async fn record_finished(
        &self,
        id: &str,
        state: State,
        consume: Option<i64>,
        error: Option<&str>,
        task: Option<&str>,
        keep_lease: bool,
    ) -> Result<()> {
        let (id, error) = (id.to_owned(), error.map(str::to_owned));
        let task = task.map(str::to_owned);
        self.with(false, move |conn| {
            conn.execute(
                "UPDATE lines SET state = ?2, consume = ?3, error = ?4, updated_at = ?5,
                     lease_owner = CASE WHEN ?6 THEN lease_owner END,
                     lease_until = CASE WHEN ?6 THEN lease_until END,
                     task = ?7
                 WHERE line_id = ?1",
                params![
                    id,
                    state.as_str(),
                    consume,
                    error,
                    now_ms(),
                    keep_lease,
                    task
                ],
            )
            .map(drop)
        })
        .await
    }

    async fn record_stopped(&self, id: &str, error: &str) -> Result<()> {
        let (id, error) = (id.to_owned(), error.to_owned());
        self.with(false, move |conn| {
            conn.execute(
                "UPDATE lines SET error = ?2, updated_at = ?3, lease_owner = NULL,
                     lease_until = NULL
                 WHERE line_id = ?1",
                params![id, error, now_ms()],
            )
            .map(drop)
        })
        .await
    }

    async fn release(&self, owner: &str, id: &str) -> Result<()> {
        let (owner, id) = (owner.to_owned(), id.to_owned());
        self.with(false, move |conn| {
            conn.execute(
                "UPDATE lines SET lease_owner = NULL, lease_until = NULL
                 WHERE line_id = ?1 AND lease_owner = ?2",
                params![id, owner],
            )
            .map(drop)
        })
        .await
    }

    async fn record_files(&self, id: &str, files: &[String]) -> Result<()> {
        let id = id.to_owned();
        let files = serde_json::to_string(files).unwrap_or_else(|_| "[]".to_owned());
        self.with(false, move |conn| {
            conn.execute(
                "UPDATE lines SET files = ?2, error = NULL, updated_at = ?3, lease_owner = NULL,
                     lease_until = NULL
                 WHERE line_id = ?1",
                params![id, files, now_ms()],
            )
            .map(drop)
        })
        .await
    }

    async fn rows(&self) -> Result<Vec<Row>> {
        self.with(false, |conn| {
            let mut statement = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM lines ORDER BY line_no, line_id"
            ))?;
            let rows = statement.query_map([], row_of)?;
            rows.collect()
        })
        .await
    }

    async fn record_delivery(&self, delivery: &Delivery) -> Result<Option<String>> {
        let delivery = delivery.clone();
        self.with(true, move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let now = now_ms();
            let linked: Option<String> = match &delivery.token {
                Some(token) => tx
                    .query_row(
                        "UPDATE lines SET task_id = ?2, state = 'created', error = NULL,
                             updated_at = ?3
                         WHERE token = ?1 AND state IN ('intent', 'unknown')
                           AND (task_id IS NULL OR task_id = ?2)
                         RETURNING line_id",
                        params![token, delivery.task_id, now],
                        |row| row.get(0),
                    )
                    .optional()?,
                None => None,
            };
            tx.execute(
                "INSERT INTO deliveries (received_at, token, task_id, status, event_ts, line_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    now,
                    delivery.token,
                    delivery.task_id,
                    delivery.status,
                    delivery.timestamp,
                    linked
                ],
            )?;
            tx.commit()?;
            Ok(linked)
        })
        .await
    }

    async fn deliveries_after(&self, cursor: i64, limit: i64) -> Result<Vec<StoredDelivery>> {
        self.with(false, move |conn| {
            let mut statement = conn.prepare(
                "SELECT id, token, task_id, status, event_ts, line_id FROM deliveries
                 WHERE id > ?1 ORDER BY id LIMIT ?2",
            )?;
            let rows = statement.query_map([cursor, limit], |row| {
                Ok(StoredDelivery {
                    id: row.get(0)?,
                    delivery: Delivery {
                        token: row.get(1)?,
                        task_id: row.get(2)?,
                        status: row.get(3)?,
                        timestamp: row.get(4)?,
                    },
                    line_id: row.get(5)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    async fn wait_for_change(&self, max: Duration) {
        tokio::time::sleep(max.min(POLL)).await;
    }

    fn round_trips(&self) -> u64 {
        self.trips.load(Ordering::Relaxed)
    }
}

impl SqliteLedger {
    /// The file.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(&self.path)
    }
}
