//! The batch ledger of `kling batch`: one row per line of a batch file,
//! recording what was done so that any number of runners, on one machine or
//! many, can share the work, die at any moment, and never create a line twice
//! nor lose a task id.
//!
//! Two backends sit behind one trait, [`Ledger`]:
//!
//! - [`SqliteLedger`]: a file, for runners on one machine (the default);
//! - `PgLedger` (feature `postgres`, on by default): a PostgreSQL database
//!   shared by runners on many machines; claims use `FOR UPDATE SKIP
//!   LOCKED`, completions are announced with `LISTEN/NOTIFY`.
//!
//! The promises, kept by both:
//!
//! - the *intent* is durably recorded before a create is sent, and only by
//!   the runner holding the line's lease ([`Ledger::record_intent`]); the
//!   *task id* right after it returns. An intent whose runner is gone becomes
//!   [`State::Unknown`]: reported, never re-sent silently.
//! - a line is worked on by the runner holding its *lease*; leases are renewed
//!   by a heartbeat ([`Ledger::renew`]) and expire, so a dead runner's lines
//!   are claimed by the others ([`Ledger::claim`], [`Ledger::reap`]).
//! - every webhook delivery is recorded ([`Ledger::record_delivery`]); one
//!   carrying a line's correlation token links the task to the line even when
//!   the create's answer was lost.
#![deny(missing_docs)]

mod owner;
#[cfg(feature = "postgres")]
mod postgres;
mod sqlite;
mod types;

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use owner::{Owner, is_alive};
#[cfg(feature = "postgres")]
pub use postgres::PgLedger;
pub use sqlite::SqliteLedger;
pub use types::{
    ClaimRequest, Delivery, Intent, LineSpec, Mismatch, Row, State, StoredDelivery, new_token,
};

/// Why a ledger operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The database refused or failed; the message names the ledger.
    #[error("ledger {ledger}: {message}")]
    Database {
        /// The ledger (a path, or a PostgreSQL URL without its password).
        ledger: String,
        /// What went wrong.
        message: String,
    },
    /// The ledger was written by a newer version.
    #[error("ledger {ledger}: schema version {found} is newer than this version knows ({known})")]
    TooNew {
        /// The ledger.
        ledger: String,
        /// Its schema version.
        found: i64,
        /// The newest version this crate knows.
        known: i64,
    },
    /// The location cannot be used.
    #[error("ledger {0}")]
    Location(String),
}

/// A ledger result.
pub type Result<T, E = LedgerError> = std::result::Result<T, E>;

/// The operations of a batch ledger. Every write is one statement (or one
/// transaction): a runner killed between two of them leaves a consistent
/// ledger.
#[async_trait::async_trait]
pub trait Ledger: Send + Sync + fmt::Debug {
    /// Where the ledger is, for messages (never with a password).
    fn describe(&self) -> &str;

    /// Adds the lines not in the ledger yet as `pending`. A line already
    /// recorded with another fingerprint is a mismatch: then nothing is added
    /// and the mismatches are returned.
    async fn register(&self, lines: &[LineSpec]) -> Result<Vec<Mismatch>>;

    /// The ledger's clock, in unix milliseconds (PostgreSQL's for a shared
    /// ledger, so that runners with skewed clocks agree on lease expiry).
    async fn now_ms(&self) -> Result<i64>;

    /// Ends the leases of runners that are gone: those expired, and those of
    /// `dead` owners (runners of this machine whose process has exited).
    /// Their intents become `unknown`. Returns how many intents did.
    async fn reap(&self, dead: &[String]) -> Result<usize>;

    /// The owners holding unexpired leases.
    async fn lease_owners(&self) -> Result<Vec<String>>;

    /// Claims up to `limit` lines that need work and are not leased, for
    /// `request.owner`, and returns them.
    async fn claim(&self, request: &ClaimRequest) -> Result<Vec<Row>>;

    /// Extends every lease of `owner` by `lease` from now. Returns how many.
    async fn renew(&self, owner: &str, lease: Duration) -> Result<u64>;

    /// Durably records that a create for `id` is about to be sent with the
    /// correlation `token`, if `owner` still holds the line's lease. `false`
    /// means the lease was lost: the create must not be sent.
    async fn record_intent(&self, owner: &str, id: &str, token: &str) -> Result<bool> {
        let intent = self
            .record_intent_within(owner, id, token, None, None)
            .await?;
        Ok(intent == Intent::Recorded)
    }

    /// [`Ledger::record_intent`] with the create's `estimate` (1e-7 USD),
    /// recorded with the intent, and a `budget` for the whole ledger: when
    /// the other lines' committed money (charges of finished tasks,
    /// estimates of the others sent) plus `estimate` would exceed it, nothing
    /// is recorded and the answer is [`Intent::OverBudget`]. The check and
    /// the record are one transaction, serialized across runners, so runners
    /// sharing a ledger never overspend together.
    async fn record_intent_within(
        &self,
        owner: &str,
        id: &str,
        token: &str,
        estimate: Option<i64>,
        budget: Option<i64>,
    ) -> Result<Intent>;

    /// Durably records the task the create for `id` made.
    async fn record_created(&self, id: &str, task_id: &str) -> Result<()>;

    /// Durably records that the create for `id` may have made a task (with
    /// the id salvaged from the damaged answer, if any), unless a webhook
    /// delivery linked its task meanwhile. Returns the row as it now is.
    async fn record_unknown(&self, id: &str, task_id: Option<&str>, error: &str) -> Result<Row>;

    /// Records that the create for `id` made no task (after its intent), or
    /// that a pending line was not sent (e.g. a budget cannot price it); ends
    /// the lease. The next run retries it.
    async fn record_create_failed(&self, id: &str, error: &str) -> Result<()>;

    /// Records the end of the task of `id`, with the task as PiAPI sent it
    /// (`task`, JSON); ends the lease unless `keep_lease` (the runner goes on
    /// to download its results).
    async fn record_finished(
        &self,
        id: &str,
        state: State,
        consume: Option<i64>,
        error: Option<&str>,
        task: Option<&str>,
        keep_lease: bool,
    ) -> Result<()>;

    /// Records why work on `id` stopped (a wait or a download); ends the
    /// lease. The line is retried by runs started later.
    async fn record_stopped(&self, id: &str, error: &str) -> Result<()>;

    /// Ends `owner`'s lease on `id` without changing the line (a line this
    /// runner has nothing to do for, e.g. one of another file).
    async fn release(&self, owner: &str, id: &str) -> Result<()>;

    /// Records the files saved from the results of `id`; ends the lease.
    async fn record_files(&self, id: &str, files: &[String]) -> Result<()>;

    /// Every row, in line order.
    async fn rows(&self) -> Result<Vec<Row>>;

    /// Records a webhook delivery and, when its token names a line whose
    /// task id is not known, links the task to that line. Returns the linked
    /// line's id.
    async fn record_delivery(&self, delivery: &Delivery) -> Result<Option<String>>;

    /// The deliveries recorded after `cursor` (a delivery id), oldest first.
    async fn deliveries_after(&self, cursor: i64, limit: i64) -> Result<Vec<StoredDelivery>>;

    /// Returns when the ledger may have changed (a PostgreSQL notification)
    /// or after at most `max` (SQLite polls).
    async fn wait_for_change(&self, max: Duration);

    /// Statements sent to the database so far (for the benchmarks).
    fn round_trips(&self) -> u64;
}

/// Opens the ledger at `location`: a `postgres://` or `postgresql://` URL
/// selects PostgreSQL, anything else is a SQLite file path. Migrations are
/// applied on open.
pub async fn open(location: &str) -> Result<Arc<dyn Ledger>> {
    if is_postgres_url(location) {
        #[cfg(feature = "postgres")]
        {
            return Ok(Arc::new(PgLedger::connect(location).await?));
        }
        #[cfg(not(feature = "postgres"))]
        {
            return Err(LedgerError::Location(format!(
                "{}: this build has no PostgreSQL support (feature `postgres`)",
                types::redact_url(location)
            )));
        }
    }
    let path = Path::new(location).to_owned();
    let ledger = tokio::task::spawn_blocking(move || SqliteLedger::open(&path))
        .await
        .map_err(|e| LedgerError::Location(format!("{location}: open stopped: {e}")))??;
    Ok(Arc::new(ledger))
}

/// True for a location that names a PostgreSQL database.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// `location` fit for messages: a URL without its password.
pub fn describe_location(location: &str) -> String {
    if is_postgres_url(location) {
        types::redact_url(location)
    } else {
        location.to_owned()
    }
}

#[cfg(feature = "testing")]
pub mod testing;
