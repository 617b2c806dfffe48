//! The PostgreSQL backend: one database shared by runners on many machines.
//!
//! A few `tokio-postgres` connections per ledger carry the statements,
//! pipelined, so many lines in flight do not wait for each other's round
//! trips. Every write is a single statement (atomic without a transaction
//! held across awaits). The writes that decide safety (intent, task id,
//! deliveries) go through connections with synchronous commits, spread
//! over several so that their WAL flushes overlap; the others (claims,
//! renewals, ends, reads) through one with `synchronous_commit = off`: a
//! crash of the server may lose the last of those, which only makes a line
//! be claimed or waited for again. WAL order keeps that safe: an intent's
//! flush also flushes the claim committed before it. Claims pick lines with `FOR UPDATE SKIP LOCKED`, so
//! concurrent runners never claim the same line and never block each other.
//! Times are the server's (`clock_timestamp()`), so runners with skewed
//! clocks agree on when a lease expires. A second connection `LISTEN`s for
//! the notifications the webhook endpoint sends with each delivery.
//!
//! The URL is libpq's (`postgres://user[:password]@host[:port]/db`) plus an
//! optional `schema=NAME`: the ledger's tables live in that schema (created
//! if absent; default `public`), so one database can hold many ledgers.
//! TLS is not supported: use it on a trusted network or through a tunnel.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, OnceCell};
use tokio_postgres::{AsyncMessage, Client, NoTls};

use crate::types::{
    ClaimRequest, Delivery, Intent, LineSpec, Mismatch, Row, State, StoredDelivery, redact_url,
};
use crate::{Ledger, LedgerError, Result};

/// The server's clock in unix milliseconds.
const NOW: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

const COLUMNS: &str = "line_id, line_no, state, task_id, attempts, error, consume, files, \
                       lease_owner, lease_until, token, updated_at, task, estimate";

/// What the lines other than `$1` have committed, in 1e-7 USD (see the
/// SQLite ledger's `COMMITTED`).
const COMMITTED: &str = "SELECT COALESCE(SUM(CASE
        WHEN state = 'completed' THEN COALESCE(consume, estimate, 0)
        WHEN state = 'failed' THEN COALESCE(consume, 0)
        WHEN state IN ('intent', 'created', 'unknown') THEN COALESCE(estimate, 0)
        ELSE 0 END), 0)::bigint
    FROM kling_lines WHERE line_id <> $1";

/// The advisory lock that serializes budget checks across runners.
const BUDGET_LOCK: i64 = 0x6b6c_696e_6762;

/// Versioned migrations: `MIGRATIONS[n]` takes version n to n + 1, each in
/// the transaction that records it.
const MIGRATIONS: [&str; 3] = ["
    CREATE TABLE kling_lines (
        line_id     text PRIMARY KEY,
        line_no     bigint NOT NULL,
        fingerprint text NOT NULL,
        state       text NOT NULL CHECK (state IN
                    ('pending', 'intent', 'created', 'completed', 'failed', 'create_failed', 'unknown')),
        task_id     text,
        attempts    bigint NOT NULL DEFAULT 0,
        error       text,
        consume     bigint,
        files       text,
        lease_owner text,
        lease_until bigint,
        token       text UNIQUE,
        updated_at  bigint NOT NULL
    );
    CREATE INDEX kling_lines_state ON kling_lines (state, line_no);
    CREATE TABLE kling_deliveries (
        id          bigserial PRIMARY KEY,
        received_at bigint NOT NULL,
        token       text,
        task_id     text NOT NULL,
        status      text NOT NULL,
        event_ts    bigint NOT NULL,
        line_id     text
    );
", "
    ALTER TABLE kling_lines ADD COLUMN task text;
", "
    ALTER TABLE kling_lines ADD COLUMN estimate bigint;
"];

/// A ledger in a PostgreSQL database.
pub struct PgLedger {
    name: String,
    url: String,
    schema: String,
    /// Synchronous commits, used in turn.
    durable: Vec<Client>,
    next: std::sync::atomic::AtomicUsize,
    /// `synchronous_commit = off`.
    relaxed: Client,
    /// The `LISTEN` session and what its notifications wake.
    listener: OnceCell<(Client, Arc<Notify>)>,
    /// The session of budget checks, which need a transaction of their own.
    budget: OnceCell<tokio::sync::Mutex<Client>>,
    trips: AtomicU64,
}

impl std::fmt::Debug for PgLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgLedger")
            .field("ledger", &self.name)
            .finish()
    }
}

fn db_error(name: &str, e: tokio_postgres::Error) -> LedgerError {
    // `{:#}` of a server error carries its detail; never the password,
    // which the server does not echo.
    let message = match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    };
    LedgerError::Database {
        ledger: name.to_owned(),
        message,
    }
}

/// Splits `schema=NAME` off the URL (libpq does not know it).
fn split_schema(url: &str) -> Result<(String, String)> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), "public".to_owned()));
    };
    let mut schema = "public".to_owned();
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("schema", value)) => schema = value.to_owned(),
            _ => rest.push(pair),
        }
    }
    let valid = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !schema.starts_with(|c: char| c.is_ascii_digit());
    if !valid {
        return Err(LedgerError::Location(format!(
            "{}: schema `{schema}` must be 1 to 63 lowercase letters, digits or _, not starting with a digit",
            redact_url(url)
        )));
    }
    let url = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    Ok((url, schema))
}

impl PgLedger {
    /// Connects to the database at `url`, creates the schema if needed and
    /// applies the migrations (serialized across runners by an advisory lock).
    pub async fn connect(url: &str) -> Result<PgLedger> {
        let name = redact_url(url);
        let (url, schema) = split_schema(url)?;
        let client = connect(&name, &url).await?;
        let fail = |e| db_error(&name, e);
        client
            .batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path TO {schema};"
            ))
            .await
            .or_else(|e| {
                // Two runners creating the schema at once: one loses the race.
                if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
                    Ok(())
                } else {
                    Err(e)
                }
            })
            .map_err(fail)?;
        client
            .batch_execute(&format!("SET search_path TO {schema}"))
            .await
            .map_err(fail)?;
        migrate(&name, &client).await?;
        let mut durable = vec![client];
        for _ in 1..DURABLE_CONNECTIONS {
            durable.push(session(&name, &url, &schema, false).await?);
        }
        let relaxed = session(&name, &url, &schema, true).await?;
        Ok(PgLedger {
            name,
            url,
            schema,
            durable,
            next: std::sync::atomic::AtomicUsize::new(0),
            relaxed,
            listener: OnceCell::new(),
            budget: OnceCell::new(),
            trips: AtomicU64::new(0),
        })
    }

    /// The next connection with synchronous commits.
    fn durable(&self) -> &Client {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        &self.durable[i % self.durable.len()]
    }

    fn fail(&self, e: tokio_postgres::Error) -> LedgerError {
        db_error(&self.name, e)
    }

    fn trip(&self) {
        self.trips.fetch_add(1, Ordering::Relaxed);
    }

    /// The notification channel of this ledger's schema.
    fn channel(&self) -> String {
        format!("kling_ledger_{}", self.schema)
    }

    /// The `LISTEN` connection, started on first use: its task wakes the
    /// returned `Notify` on each notification (a permit is stored when no
    /// one waits, so none is missed).
    async fn listener(&self) -> Result<Arc<Notify>> {
        self.listener
            .get_or_try_init(|| async {
                let (client, mut connection) = tokio_postgres::connect(&self.url, NoTls)
                    .await
                    .map_err(|e| self.fail(e))?;
                let notify = Arc::new(Notify::new());
                let wake = notify.clone();
                tokio::spawn(async move {
                    let mut messages =
                        futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                    use futures_util::StreamExt;
                    while let Some(message) = messages.next().await {
                        match message {
                            Ok(AsyncMessage::Notification(_)) => wake.notify_one(),
                            Ok(_) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "ledger notifications stopped; polling instead");
                                break;
                            }
                        }
                    }
                });
                client
                    .batch_execute(&format!("LISTEN {}", self.channel()))
                    .await
                    .map_err(|e| self.fail(e))?;
                Ok((client, notify))
            })
            .await
            .map(|(_, notify)| notify.clone())
    }
}

/// Connections with synchronous commits per ledger.
const DURABLE_CONNECTIONS: usize = 3;

/// A connection in `schema`, with asynchronous commits when `relaxed`.
async fn session(name: &str, url: &str, schema: &str, relaxed: bool) -> Result<Client> {
    let client = connect(name, url).await?;
    let commit = if relaxed { "off" } else { "on" };
    client
        .batch_execute(&format!(
            "SET search_path TO {schema}; SET synchronous_commit TO {commit}"
        ))
        .await
        .map_err(|e| db_error(name, e))?;
    Ok(client)
}

async fn connect(name: &str, url: &str) -> Result<Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|e| db_error(name, e))?;
    let ledger = name.to_owned();
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(%ledger, error = %e, "ledger connection closed");
        }
    });
    Ok(client)
}

/// Applies the missing migrations, each with its version, in one
/// transaction holding an advisory lock: runners starting together apply
/// each migration once.
async fn migrate(name: &str, client: &Client) -> Result<()> {
    let fail = |e| db_error(name, e);
    client.batch_execute("BEGIN").await.map_err(fail)?;
    let result = async {
        client
            .execute(
                "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.kling_migrations'))",
                &[],
            )
            .await
            .map_err(fail)?;
        // Under the lock: `CREATE TABLE IF NOT EXISTS` is not safe against a
        // concurrent twin (it can fail on the table's type, 42710).
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS kling_migrations (
                     version    bigint PRIMARY KEY,
                     applied_at timestamptz NOT NULL DEFAULT now()
                 )",
            )
            .await
            .map_err(fail)?;
        let version: i64 = client
            .query_one(
                "SELECT COALESCE(max(version), 0) FROM kling_migrations",
                &[],
            )
            .await
            .map_err(fail)?
            .get(0);
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(LedgerError::TooNew {
                ledger: name.to_owned(),
                found: version,
                known,
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            client.batch_execute(sql).await.map_err(fail)?;
            client
                .execute(
                    "INSERT INTO kling_migrations (version) VALUES ($1)",
                    &[&(index as i64 + 1)],
                )
                .await
                .map_err(fail)?;
            tracing::debug!(ledger = %name, version = index + 1, "migration applied");
        }
        Ok(())
    }
    .await;
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    client.batch_execute(end).await.map_err(fail)?;
    result
}

fn row_of(row: &tokio_postgres::Row) -> Row {
    let state: String = row.get(2);
    let files: Option<String> = row.get(7);
    Row {
        id: row.get(0),
        line: row.get(1),
        state: State::parse(&state),
        task_id: row.get(3),
        attempts: row.get(4),
        error: row.get(5),
        consume: row.get(6),
        files: files.and_then(|f| serde_json::from_str(&f).ok()),
        lease_owner: row.get(8),
        lease_until: row.get(9),
        token: row.get(10),
        updated_at: row.get(11),
        task: row
            .get::<_, Option<String>>(12)
            .and_then(|t| serde_json::from_str(&t).ok()),
        estimate: row.get(13),
    }
}

fn ms(d: Duration) -> i64 {
    d.as_millis().min(i64::MAX as u128) as i64
}

#[async_trait::async_trait]
impl Ledger for PgLedger {
    fn describe(&self) -> &str {
        &self.name
    }

    async fn register(&self, lines: &[LineSpec]) -> Result<Vec<Mismatch>> {
        let ids: Vec<&str> = lines.iter().map(|l| l.id.as_str()).collect();
        let numbers: Vec<i64> = lines.iter().map(|l| l.number).collect();
        let prints: Vec<&str> = lines.iter().map(|l| l.fingerprint.as_str()).collect();
        // Insert only when nothing mismatches, in one statement…
        self.trip();
        self.durable()
            .execute(
                &format!(
                    "WITH input AS (
                         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])
                             AS t(line_id, line_no, fingerprint)),
                     bad AS (
                         SELECT 1 FROM input i JOIN kling_lines l USING (line_id)
                         WHERE l.fingerprint <> i.fingerprint LIMIT 1)
                     INSERT INTO kling_lines (line_id, line_no, fingerprint, state, updated_at)
                     SELECT line_id, line_no, fingerprint, 'pending', {NOW} FROM input
                     WHERE NOT EXISTS (SELECT 1 FROM bad)
                     ON CONFLICT (line_id) DO NOTHING"
                ),
                &[&ids, &numbers, &prints],
            )
            .await
            .map_err(|e| self.fail(e))?;
        // …then compare again: a runner registering another file at the same
        // moment may have won some ids.
        self.trip();
        let rows = self
            .durable()
            .query(
                "SELECT l.line_id FROM unnest($1::text[], $2::text[]) AS t(line_id, fingerprint)
                 JOIN kling_lines l USING (line_id) WHERE l.fingerprint <> t.fingerprint",
                &[&ids, &prints],
            )
            .await
            .map_err(|e| self.fail(e))?;
        Ok(rows.iter().map(|r| Mismatch { id: r.get(0) }).collect())
    }

    async fn now_ms(&self) -> Result<i64> {
        self.trip();
        let row = self
            .relaxed
            .query_one(&format!("SELECT {NOW}"), &[])
            .await
            .map_err(|e| self.fail(e))?;
        Ok(row.get(0))
    }

    async fn reap(&self, dead: &[String]) -> Result<usize> {
        self.trip();
        let row = self
            .relaxed
            .query_one(
                &format!(
                    "WITH reaped AS (
                         UPDATE kling_lines SET state = 'unknown', lease_owner = NULL,
                             lease_until = NULL, updated_at = {NOW},
                             error = 'the runner that sent the create stopped before recording a task id: a task may exist'
                         WHERE state = 'intent'
                           AND (lease_until IS NULL OR lease_until < {NOW}
                                OR lease_owner = ANY($1))
                         RETURNING 1),
                     freed AS (
                         UPDATE kling_lines SET lease_owner = NULL, lease_until = NULL
                         WHERE state <> 'intent' AND lease_until IS NOT NULL
                           AND (lease_until < {NOW} OR lease_owner = ANY($1))
                         RETURNING 1)
                     SELECT (SELECT count(*) FROM reaped), (SELECT count(*) FROM freed)"
                ),
                &[&dead],
            )
            .await
            .map_err(|e| self.fail(e))?;
        let reaped: i64 = row.get(0);
        Ok(reaped as usize)
    }

    async fn lease_owners(&self) -> Result<Vec<String>> {
        self.trip();
        let rows = self
            .relaxed
            .query(
                &format!(
                    "SELECT DISTINCT lease_owner FROM kling_lines
                     WHERE lease_owner IS NOT NULL AND lease_until >= {NOW}"
                ),
                &[],
            )
            .await
            .map_err(|e| self.fail(e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    async fn claim(&self, request: &ClaimRequest) -> Result<Vec<Row>> {
        self.trip();
        let rows = self
            .relaxed
            .query(
                &format!(
                    "WITH -- One branch per state, each an ordered range of the
                     -- (state, line_no) index: no scan of the finished lines.
                     pending AS (SELECT line_id, line_no FROM kling_lines
                         WHERE state = 'pending' AND (lease_until IS NULL OR lease_until < {NOW})
                         ORDER BY line_no LIMIT $6 FOR UPDATE SKIP LOCKED),
                     created AS (SELECT line_id, line_no FROM kling_lines
                         WHERE state = 'created' AND task_id IS NOT NULL
                           AND (error IS NULL OR updated_at < $3)
                           AND (lease_until IS NULL OR lease_until < {NOW})
                         ORDER BY line_no LIMIT $6 FOR UPDATE SKIP LOCKED),
                     retry AS (SELECT line_id, line_no FROM kling_lines
                         WHERE (state = 'create_failed' OR ($5 AND state = 'unknown'))
                           AND updated_at < $3
                           AND (lease_until IS NULL OR lease_until < {NOW})
                         ORDER BY line_no LIMIT $6 FOR UPDATE SKIP LOCKED),
                     download AS (SELECT line_id, line_no FROM kling_lines
                         WHERE $4 AND state = 'completed' AND files IS NULL
                           AND (error IS NULL OR updated_at < $3)
                           AND (lease_until IS NULL OR lease_until < {NOW})
                         ORDER BY line_no LIMIT $6 FOR UPDATE SKIP LOCKED),
                     c AS (SELECT line_id FROM (
                         SELECT * FROM created UNION ALL SELECT * FROM pending
                         UNION ALL SELECT * FROM retry UNION ALL SELECT * FROM download) u
                         ORDER BY line_no LIMIT $6)
                     UPDATE kling_lines l SET lease_owner = $1, lease_until = {NOW} + $2
                     FROM c
                     WHERE l.line_id = c.line_id
                     RETURNING {}",
                    COLUMNS
                        .split(", ")
                        .map(|c| format!("l.{c}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                &[
                    &request.owner,
                    &ms(request.lease),
                    &request.run_started,
                    &request.download,
                    &request.resend_unknown,
                    &(request.limit as i64),
                ],
            )
            .await
            .map_err(|e| self.fail(e))?;
        let mut rows: Vec<Row> = rows.iter().map(row_of).collect();
        rows.sort_by_key(|r| r.line);
        Ok(rows)
    }

    async fn renew(&self, owner: &str, lease: Duration) -> Result<u64> {
        self.trip();
        self.relaxed
            .execute(
                &format!("UPDATE kling_lines SET lease_until = {NOW} + $2 WHERE lease_owner = $1"),
                &[&owner, &ms(lease)],
            )
            .await
            .map_err(|e| self.fail(e))
    }

    async fn record_intent_within(
        &self,
        owner: &str,
        id: &str,
        token: &str,
        estimate: Option<i64>,
        budget: Option<i64>,
    ) -> Result<Intent> {
        self.trip();
        let update = format!(
            "UPDATE kling_lines SET state = 'intent', attempts = attempts + 1,
                 task_id = NULL, error = NULL, token = $3, estimate = $4, updated_at = {NOW}
             WHERE line_id = $1 AND lease_owner = $2 AND lease_until >= {NOW}
               AND state IN ('pending', 'create_failed', 'unknown')"
        );
        let Some(budget) = budget else {
            let n = self
                .durable()
                .execute(&update, &[&id, &owner, &token, &estimate])
                .await
                .map_err(|e| self.fail(e))?;
            return Ok(if n == 1 {
                Intent::Recorded
            } else {
                Intent::Lost
            });
        };
        let session = self
            .budget
            .get_or_try_init(|| async {
                session(&self.name, &self.url, &self.schema, false)
                    .await
                    .map(tokio::sync::Mutex::new)
            })
            .await?;
        let mut client = session.lock().await;
        let tx = client.transaction().await.map_err(|e| self.fail(e))?;
        // Each statement of a READ COMMITTED transaction sees what was
        // committed before it began: after the lock, every other runner's
        // recorded intent is counted.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&BUDGET_LOCK])
            .await
            .map_err(|e| self.fail(e))?;
        let committed: i64 = tx
            .query_one(COMMITTED, &[&id])
            .await
            .map_err(|e| self.fail(e))?
            .get(0);
        if committed.saturating_add(estimate.unwrap_or(0)) > budget {
            tx.rollback().await.map_err(|e| self.fail(e))?;
            return Ok(Intent::OverBudget { committed });
        }
        let n = tx
            .execute(&update, &[&id, &owner, &token, &estimate])
            .await
            .map_err(|e| self.fail(e))?;
        tx.commit().await.map_err(|e| self.fail(e))?;
        Ok(if n == 1 {
            Intent::Recorded
        } else {
            Intent::Lost
        })
    }

    async fn record_created(&self, id: &str, task_id: &str) -> Result<()> {
        self.trip();
        self.durable()
            .execute(
                &format!(
                    "UPDATE kling_lines SET state = 'created', task_id = $2, error = NULL,
                         updated_at = {NOW}
                     WHERE line_id = $1 AND state IN ('intent', 'unknown', 'created')"
                ),
                &[&id, &task_id],
            )
            .await
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    async fn record_unknown(&self, id: &str, task_id: Option<&str>, error: &str) -> Result<Row> {
        self.trip();
        let updated = self
            .durable()
            .query_opt(
                &format!(
                    "UPDATE kling_lines SET state = 'unknown',
                         task_id = COALESCE(task_id, $2), error = $3,
                         lease_owner = NULL, lease_until = NULL, updated_at = {NOW}
                     WHERE line_id = $1 AND state = 'intent'
                     RETURNING {COLUMNS}"
                ),
                &[&id, &task_id, &error],
            )
            .await
            .map_err(|e| self.fail(e))?;
        if let Some(row) = updated {
            return Ok(row_of(&row));
        }
        // A webhook linked the task meanwhile. Read the row in a statement
        // of its own: one snapshot with the UPDATE above would still show
        // the line as it was before the delivery committed.
        self.trip();
        let row = self
            .durable()
            .query_one(
                &format!("SELECT {COLUMNS} FROM kling_lines WHERE line_id = $1"),
                &[&id],
            )
            .await
            .map_err(|e| self.fail(e))?;
        Ok(row_of(&row))
    }

    async fn record_create_failed(&self, id: &str, error: &str) -> Result<()> {
        self.trip();
        self.durable()
            .execute(
                &format!(
                    "UPDATE kling_lines SET state = 'create_failed', error = $2,
                         lease_owner = NULL, lease_until = NULL, updated_at = {NOW}
                     WHERE line_id = $1 AND state IN ('intent', 'pending', 'create_failed')"
                ),
                &[&id, &error],
            )
            .await
            .map(drop)
            .map_err(|e| self.fail(e))
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
        self.trip();
        self.relaxed
            .execute(
                &format!(
                    "UPDATE kling_lines SET state = $2, consume = $3, error = $4,
                         updated_at = {NOW},
                         lease_owner = CASE WHEN $5 THEN lease_owner END,
                         lease_until = CASE WHEN $5 THEN lease_until END,
                         task = $6
                     WHERE line_id = $1"
                ),
                &[&id, &state.as_str(), &consume, &error, &keep_lease, &task],
            )
            .await
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    async fn record_stopped(&self, id: &str, error: &str) -> Result<()> {
        self.trip();
        self.relaxed
            .execute(
                &format!(
                    "UPDATE kling_lines SET error = $2, updated_at = {NOW},
                         lease_owner = NULL, lease_until = NULL
                     WHERE line_id = $1"
                ),
                &[&id, &error],
            )
            .await
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    async fn release(&self, owner: &str, id: &str) -> Result<()> {
        self.trip();
        self.relaxed
            .execute(
                "UPDATE kling_lines SET lease_owner = NULL, lease_until = NULL
                 WHERE line_id = $1 AND lease_owner = $2",
                &[&id, &owner],
            )
            .await
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    async fn record_files(&self, id: &str, files: &[String]) -> Result<()> {
        let files = serde_json::to_string(files).unwrap_or_else(|_| "[]".to_owned());
        self.trip();
        self.relaxed
            .execute(
                &format!(
                    "UPDATE kling_lines SET files = $2, error = NULL, updated_at = {NOW},
                         lease_owner = NULL, lease_until = NULL
                     WHERE line_id = $1"
                ),
                &[&id, &files],
            )
            .await
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    async fn rows(&self) -> Result<Vec<Row>> {
        self.trip();
        let rows = self
            .relaxed
            .query(
                &format!("SELECT {COLUMNS} FROM kling_lines ORDER BY line_no, line_id"),
                &[],
            )
            .await
            .map_err(|e| self.fail(e))?;
        Ok(rows.iter().map(row_of).collect())
    }

    async fn record_delivery(&self, delivery: &Delivery) -> Result<Option<String>> {
        self.trip();
        // Link, record and notify in one statement (one transaction): a
        // delivery answered 200 is in the ledger.
        let row = self
            .durable()
            .query_one(
                &format!(
                    "WITH linked AS (
                         UPDATE kling_lines SET task_id = $2, state = 'created', error = NULL,
                             updated_at = {NOW}
                         WHERE $1::text IS NOT NULL AND token = $1
                           AND state IN ('intent', 'unknown')
                           AND (task_id IS NULL OR task_id = $2)
                         RETURNING line_id),
                     stored AS (
                         INSERT INTO kling_deliveries
                             (received_at, token, task_id, status, event_ts, line_id)
                         VALUES ({NOW}, $1, $2, $3, $4, (SELECT line_id FROM linked))
                         RETURNING id)
                     SELECT (SELECT line_id FROM linked), (SELECT id FROM stored),
                            pg_notify($5, $2)"
                ),
                &[
                    &delivery.token,
                    &delivery.task_id,
                    &delivery.status,
                    &delivery.timestamp,
                    &self.channel(),
                ],
            )
            .await
            .map_err(|e| self.fail(e))?;
        Ok(row.get(0))
    }

    async fn deliveries_after(&self, cursor: i64, limit: i64) -> Result<Vec<StoredDelivery>> {
        self.trip();
        let rows = self
            .relaxed
            .query(
                "SELECT id, token, task_id, status, event_ts, line_id FROM kling_deliveries
                 WHERE id > $1 ORDER BY id LIMIT $2",
                &[&cursor, &limit],
            )
            .await
            .map_err(|e| self.fail(e))?;
        Ok(rows
            .iter()
            .map(|r| StoredDelivery {
                id: r.get(0),
                delivery: Delivery {
                    token: r.get(1),
                    task_id: r.get(2),
                    status: r.get(3),
                    timestamp: r.get(4),
                },
                line_id: r.get(5),
            })
            .collect())
    }

    async fn wait_for_change(&self, max: Duration) {
        match self.listener().await {
            Ok(notify) => {
                let _ = tokio::time::timeout(max, notify.notified()).await;
            }
            Err(e) => {
                tracing::debug!(error = %e, "no ledger notifications; polling");
                tokio::time::sleep(max.min(Duration::from_millis(500))).await;
            }
        }
    }

    fn round_trips(&self) -> u64 {
        self.trips.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_parameter_is_split_off_and_checked() {
        assert_eq!(
            split_schema("postgres://h/db?schema=kling_a&sslmode=disable").unwrap(),
            (
                "postgres://h/db?sslmode=disable".to_owned(),
                "kling_a".to_owned()
            )
        );
        assert_eq!(
            split_schema("postgres://h/db").unwrap().1,
            "public".to_owned()
        );
        let err = split_schema("postgres://u:pw@h/db?schema=x;drop").unwrap_err();
        assert!(!err.to_string().contains("pw"), "{err}");
        assert!(split_schema("postgres://h/db?schema=Upper").is_err());
    }
}
