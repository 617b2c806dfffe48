//! The one error type of the SDK.
//!
//! Every variant says what happened and, where a task exists, its id: a task id
//! is never dropped on the way to the caller. No variant ever prints the API
//! key or a webhook secret (response bodies kept for diagnosis are scrubbed,
//! see [`crate::redact`]).

use std::path::PathBuf;
use std::time::Duration;

use piapi_kling_models::{TaskData, TaskStatus, Violations};

use crate::result::TaskResult;
use crate::retry::FailureKind;

/// `Result` with this crate's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when talking to PiAPI.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request breaks the spec's rules; nothing was sent. Holds every
    /// violation at once, each naming the field (`input.prompt`, ...).
    #[error("invalid request: {0}")]
    Validation(Violations),

    /// PiAPI answered with an error status (HTTP 4xx/5xx).
    #[error("PiAPI answered HTTP {status}{}: {message}", fmt_code(*code))]
    Api {
        /// The HTTP status.
        status: u16,
        /// The `code` of PiAPI's error body, when it had one.
        code: Option<i64>,
        /// PiAPI's message (for 400, every broken rule).
        message: String,
        /// How long PiAPI asked to wait (`Retry-After`), for 429 and 503.
        retry_after: Option<Duration>,
    },

    /// The task ended in `failed` (a cancelled task is a failed task with
    /// code 10001, see the spec's cancel decision).
    #[error("task {task_id} failed (code {code}): {message}")]
    TaskFailed {
        /// The failed task's id.
        task_id: String,
        /// PiAPI's `error.code`.
        code: i64,
        /// PiAPI's `error.message`, else `error.raw_message`.
        message: String,
        /// Kling's own message (`error.raw_message`), verbatim.
        raw_message: Option<String>,
        /// The task as last read.
        task: Box<TaskData>,
    },

    /// The wait's deadline passed before the task finished. The task itself
    /// goes on: resume with `client.task(task_id).wait()`.
    #[error(
        "stopped waiting for task {task_id} after {elapsed:?} (last status: {}); the task goes on, resume with client.task(id).wait()",
        last_status.as_ref().map_or("unknown", |s| s.as_str())
    )]
    Timeout {
        /// The task that did not finish in time.
        task_id: String,
        /// How long the wait lasted.
        elapsed: Duration,
        /// The last status read, if any poll succeeded.
        last_status: Option<TaskStatus>,
    },

    /// The HTTP exchange failed (connection, TLS, timeout, reading the body).
    ///
    /// A body cut short is this error too; the part of it that arrived is not
    /// kept (the generated `piapi-kling-client` drops it).
    #[error("HTTP transport error: {0}")]
    Transport(#[source] reqwest::Error),

    /// A request sent through a caller's `reqwest::Client`
    /// ([`ClientBuilder::http_client`](crate::ClientBuilder::http_client)) got
    /// no complete answer within [`ClientBuilder::timeout`](crate::ClientBuilder::timeout).
    /// With the SDK's own HTTP client, the same timeout is an
    /// [`Error::Transport`] whose error `is_timeout()`.
    #[error("no complete answer within the request timeout of {timeout:?}")]
    RequestTimeout {
        /// The timeout that passed.
        timeout: Duration,
    },

    /// An API response body larger than
    /// [`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes):
    /// reading stopped at the limit (or before reading, when the announced
    /// `Content-Length` was already over it). Not retried.
    #[error(
        "the HTTP {status} response{} is larger than the limit of {limit} bytes (ClientBuilder::max_response_bytes)",
        task_id.as_deref().map(|id| format!(" about task {id}")).unwrap_or_default()
    )]
    ResponseTooLarge {
        /// The HTTP status of the response.
        status: u16,
        /// The limit, in bytes.
        limit: u64,
        /// The task the request was about, if any.
        task_id: Option<String>,
    },

    /// A response whose body is not what the spec says.
    #[error("could not decode the HTTP {status} response: {source}")]
    Decode {
        /// The HTTP status. The generated client does not report the status of
        /// a documented answer whose body does not decode, so it is then read
        /// from the body's leading `code` (PiAPI repeats the status there), and
        /// is 200 when the body does not say.
        status: u16,
        /// The body, truncated and with secrets scrubbed.
        body: String,
        /// Why decoding failed.
        source: serde_json::Error,
    },

    /// A create request failed after it may have reached PiAPI, so a task may
    /// exist (and be billed) although no task id came back intact. PiAPI has
    /// no idempotency key, so the SDK never re-sends it by itself.
    ///
    /// `task_id` is salvaged from the bytes of an answer that arrived whole
    /// but does not decode (malformed JSON, an error body naming the task).
    /// An answer whose body was cut short (the connection closed before the
    /// announced length) leaves nothing to salvage: the generated
    /// `piapi-kling-client` does not keep the bytes that did arrive, so
    /// `task_id` and `raw_body` are `None` and the task must be looked up in
    /// the PiAPI dashboard or announced by a webhook.
    #[error(
        "the create request may have created a task ({}): {source}. Before re-sending, {}; re-sending may create a second task that is billed too",
        task_id.as_deref().map_or_else(|| "no task id could be read".to_owned(), |id| format!("task id {id}")),
        if task_id.is_some() { "look the task up with client.task(id).get()" } else { "check the PiAPI dashboard or your webhook for a new task" }
    )]
    AmbiguousCreate {
        /// The task id, when it could be salvaged from a damaged body (never
        /// from a body cut short, see above).
        task_id: Option<String>,
        /// What went wrong.
        source: Box<Error>,
        /// The raw body received, if any was kept (truncated to 2048
        /// characters, secrets scrubbed).
        raw_body: Option<String>,
    },

    /// A video + lip-sync pipeline stopped after the video task was created.
    /// `video_task_id` is that task; `video` its result when it completed.
    #[error("lip-sync pipeline stopped after video task {video_task_id} was created: {source}")]
    Pipeline {
        /// The video task of the first step.
        video_task_id: String,
        /// The video's result, when the failure came after it completed.
        video: Option<Box<TaskResult>>,
        /// What went wrong.
        source: Box<Error>,
    },

    /// The client is misconfigured (e.g. `PIAPI_API_KEY` is not set).
    #[error("configuration error: {0}")]
    Config(String),

    /// The client's bound on requests or creates in flight was closed (the
    /// client is shutting down), so the request was not sent. Not the
    /// caller's input, unlike [`Error::Config`].
    #[error("the client's {0} limiter is closed: nothing was sent")]
    Closed(&'static str),

    /// The client's budget ([`ClientBuilder::budget`](crate::ClientBuilder::budget))
    /// refuses the create: its estimate would take the reserved plus the spent
    /// over the cap, or the price table cannot price it. Nothing was sent.
    #[error("{}", over_budget(estimate, spending))]
    OverBudget {
        /// The create's estimate (unknown when the table cannot price it).
        estimate: piapi_kling_models::catalog::Estimate,
        /// The budget and what is committed against it.
        spending: crate::spending::Spending,
    },

    /// A checked local file cannot be uploaded: the upload request built from
    /// it breaks the upload endpoint's rules (e.g. a name or type the spec
    /// does not allow). Nothing was sent.
    #[error("file {}: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

fn fmt_code(code: Option<i64>) -> String {
    code.map(|c| format!(" (code {c})")).unwrap_or_default()
}

impl Error {
    /// The [`Error::TaskFailed`] of a task that ended in `failed`: PiAPI's code,
    /// its message (`error.message`, else `error.raw_message`) and the raw
    /// upstream message, with the task itself.
    pub fn from_failed_task(task: TaskData) -> Error {
        Error::TaskFailed {
            task_id: task.task_id.clone(),
            code: task.error.code,
            message: task.error_message().unwrap_or("task failed").to_owned(),
            raw_message: task.error.raw_message.clone().filter(|m| !m.is_empty()),
            task: Box::new(task),
        }
    }

    /// True when the same read may succeed if tried again, by the rules of
    /// [`RetryPolicy`](crate::RetryPolicy) for reads (the SDK has already
    /// retried it as that policy allows). [`Error::AmbiguousCreate`] is never
    /// retryable: re-sending a create may bill a second task.
    pub fn is_retryable(&self) -> bool {
        crate::retry::may_retry(self.failure_kind(), false)
    }

    /// What this error says about sending the same read again.
    fn failure_kind(&self) -> FailureKind {
        match self {
            Error::Transport(e) if e.is_builder() || e.is_redirect() => FailureKind::Permanent,
            Error::Transport(e) if e.is_connect() => FailureKind::NotConnected,
            // A body cut short is a transport error too.
            Error::Transport(_) | Error::RequestTimeout { .. } => FailureKind::MaybeReceived,
            Error::Api { status, .. } => FailureKind::Status(*status),
            _ => FailureKind::Permanent,
        }
    }

    /// The HTTP status involved, where there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. }
            | Error::Decode { status, .. }
            | Error::ResponseTooLarge { status, .. } => Some(*status),
            Error::Transport(e) => e.status().map(|s| s.as_u16()),
            Error::AmbiguousCreate { source, .. } | Error::Pipeline { source, .. } => {
                source.status()
            }
            _ => None,
        }
    }

    /// The id of the task this error is about, where one is known. For
    /// [`Error::Pipeline`] it is the video task (the lip-sync task, if one was
    /// created, is `source.task_id()`).
    pub fn task_id(&self) -> Option<&str> {
        match self {
            Error::TaskFailed { task_id, .. } | Error::Timeout { task_id, .. } => Some(task_id),
            Error::AmbiguousCreate { task_id, .. } | Error::ResponseTooLarge { task_id, .. } => {
                task_id.as_deref()
            }
            Error::Pipeline { video_task_id, .. } => Some(video_task_id),
            _ => None,
        }
    }

    /// How long PiAPI asked to wait before the next request, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// True for a task that failed because it was cancelled (PiAPI reports a
    /// cancelled task as `failed` with error code 10001).
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Error::TaskFailed { code: 10001, .. })
    }

    /// True for HTTP 404 (no task has this id).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

/// The message of [`Error::OverBudget`]: the figures that decided it.
fn over_budget(
    estimate: &piapi_kling_models::catalog::Estimate,
    spending: &crate::spending::Spending,
) -> String {
    if estimate.amount().is_some() {
        format!(
            "refused by the budget: this create is estimated at {estimate}; with {} reserved and {} \
             spent it would go over the budget of {} ({} left); nothing was sent",
            spending.reserved,
            spending.spent,
            spending.budget,
            spending.remaining(),
        )
    } else {
        format!(
            "refused by the budget: this create's price is {estimate}, and a client with a budget \
             creates only what the spec's price table prices; nothing was sent"
        )
    }
}
