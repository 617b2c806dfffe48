//! The values the ledger stores and returns.

use std::time::Duration;

/// Where a line is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Never attempted (or nothing recorded yet).
    Pending,
    /// A create is being sent; its outcome is not recorded yet.
    Intent,
    /// The task exists (its id is recorded) and has not been seen finished.
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

    /// Reads the `state` column; an unexpected value reads as `unknown`,
    /// the state that is never re-sent silently.
    pub fn parse(text: &str) -> State {
        match text {
            "pending" => State::Pending,
            "intent" => State::Intent,
            "created" => State::Created,
            "completed" => State::Completed,
            "failed" => State::Failed,
            "create_failed" => State::CreateFailed,
            _ => State::Unknown,
        }
    }
}

/// What [`Ledger::record_intent_within`](crate::Ledger::record_intent_within) decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    /// The intent is recorded (with its estimate): send the create.
    Recorded,
    /// The line is no longer this runner's (its lease passed to another, or
    /// its state changed): do not send.
    Lost,
    /// Sending it would take what the ledger's lines have committed over the
    /// budget: do not send; the line stays as it was.
    OverBudget {
        /// What the other lines have committed, in 1e-7 USD: the charges of
        /// finished tasks and the estimates of the others sent.
        committed: i64,
    },
}

/// A line of a batch file as the ledger registers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineSpec {
    /// The line's id (unique in the file).
    pub id: String,
    /// Its 1-based line number.
    pub number: i64,
    /// A hash of its request, to notice a file that changed between runs.
    pub fingerprint: String,
}

/// A line recorded with another request than the file's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The line's id.
    pub id: String,
}

/// One line as the ledger has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The line's id.
    pub id: String,
    /// Its line number.
    pub line: i64,
    /// Where it is.
    pub state: State,
    /// The task, once created (or salvaged, or linked by a webhook).
    pub task_id: Option<String>,
    /// How many creates were sent for it.
    pub attempts: i64,
    /// The last problem: why a create or the task failed, or why work stopped.
    pub error: Option<String>,
    /// `meta.usage.consume` of the finished task (1e-7 USD).
    pub consume: Option<i64>,
    /// The files saved from its results.
    pub files: Option<Vec<String>>,
    /// The runner holding its lease, if any.
    pub lease_owner: Option<String>,
    /// When that lease ends (unix ms).
    pub lease_until: Option<i64>,
    /// The correlation token of its latest create.
    pub token: Option<String>,
    /// When it last changed (unix ms, the ledger's clock).
    pub updated_at: i64,
    /// The task as PiAPI last sent it when it ended (fields the spec does not
    /// list included; a webhook secret redacted by the caller).
    pub task: Option<serde_json::Value>,
    /// The estimate recorded with the line's last intent, in 1e-7 USD.
    pub estimate: Option<i64>,
}

/// What a runner asks [`Ledger::claim`](crate::Ledger::claim) for.
#[derive(Clone, Debug)]
pub struct ClaimRequest {
    /// The runner.
    pub owner: String,
    /// How long the lease lasts unless renewed.
    pub lease: Duration,
    /// At most this many lines.
    pub limit: usize,
    /// When this runner started (ledger clock, unix ms): lines that failed
    /// or stopped after it are left to later runs, so a run never loops on
    /// a line that keeps failing.
    pub run_started: i64,
    /// Also claim completed lines whose results are not saved yet.
    pub download: bool,
    /// Also claim `unknown` lines (`--resend-unknown`: may duplicate a task).
    pub resend_unknown: bool,
}

/// A webhook delivery, as the endpoint received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The correlation token in the endpoint's query, if any.
    pub token: Option<String>,
    /// The task the delivery is about.
    pub task_id: String,
    /// The status it reports (lowercase). Only a hint: the task is read
    /// from PiAPI before anything is recorded from it.
    pub status: String,
    /// The event's timestamp (unix seconds).
    pub timestamp: i64,
}

/// A delivery as the ledger stored it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDelivery {
    /// Its id: increasing in the order deliveries were recorded.
    pub id: i64,
    /// The delivery.
    pub delivery: Delivery,
    /// The line it was linked to, if any.
    pub line_id: Option<String>,
}

/// A fresh correlation token: 128 random bits in hex, unguessable, so a
/// forged delivery cannot name a line it does not know.
pub fn new_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// A PostgreSQL URL without its password.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:***@{host}"),
            None => format!("{user}@{host}"),
        },
        None => authority.to_owned(),
    };
    // The query may hold a password too (`?password=`).
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                        format!("{key}=***")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db?schema=x"),
            "postgres://u:***@h:5432/db?schema=x"
        );
        assert_eq!(
            redact_url("postgres://h/db?password=secret&schema=x"),
            "postgres://h/db?password=***&schema=x"
        );
        assert_eq!(redact_url("postgres://u@h"), "postgres://u@h");
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn states_round_trip() {
        for state in [
            State::Pending,
            State::Intent,
            State::Created,
            State::Completed,
            State::Failed,
            State::CreateFailed,
            State::Unknown,
        ] {
            assert_eq!(State::parse(state.as_str()), state);
        }
        assert_eq!(State::parse("bogus"), State::Unknown);
    }
}
