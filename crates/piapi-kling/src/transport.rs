//! Running one API operation of the generated `piapi-kling-client`: the retry
//! loop around it, the mapping of its failures to [`Error`], and the tracing
//! span of the request.
//!
//! Every API request is built and sent by `piapi_kling_client::Client` (the
//! key and any extra headers travel in its `RequestContext`). This module only
//! decides what to do with the outcome:
//!
//! | `piapi_kling_client::Error` | becomes |
//! |---|---|
//! | `CommunicationError`, connection not opened (`is_connect`) or request not built | [`Error::Transport`]; nothing was sent |
//! | `CommunicationError`, any other (timeout, reset) | [`Error::Transport`] |
//! | `ErrorResponse` (a documented error status) | [`Error::Api`], with `Retry-After` |
//! | `UnexpectedResponse` (an undocumented status) | [`Error::Api`], its body read for the message; a 2xx is decoded |
//! | `ResponseBodyError` from the size cap ([`piapi_kling_client::ResponseTooLarge`] in its sources) | [`Error::ResponseTooLarge`], not retried |
//! | `ResponseBodyError` (the body could not be read, e.g. cut short) | [`Error::Api`] for an error status, else [`Error::Transport`]; the bytes that did arrive are lost |
//! | `InvalidResponsePayload` (bytes that do not decode) | [`Error::Api`] for an error status (a proxy's HTML 502), else [`Error::Decode`] |
//!
//! The status of those last two comes from [`piapi_kling_client::observe`]:
//! the generated error does not carry it.
//! | `InvalidRequest`, `Custom` | [`Error::Config`]; nothing was sent |
//!
//! A create that fails after it may have reached PiAPI becomes
//! [`Error::AmbiguousCreate`] around the error above (see [`crate::retry`]).

use std::fmt;
use std::future::Future;
use std::time::Duration;

use piapi_kling_client::{ResponseMeta, ResponseTooLarge, ResponseValue};
use piapi_kling_models::ErrorResponse;
use reqwest::header::RETRY_AFTER;
use serde::de::DeserializeOwned;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;
use tracing::Instrument;

use crate::error::{Error, is_retryable_status};
use crate::redact;
use crate::retry::parse_retry_after;

/// What one operation of the generated client returns.
pub(crate) type ApiResult<T> =
    std::result::Result<ResponseValue<T>, piapi_kling_client::Error<ErrorResponse>>;

/// The API operations, with what the retry rules need to know about them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    CreateTask,
    GetTask,
    CancelTask,
    CancelTasks,
    Upload,
    AccountInfo,
    ActiveTasks,
}

impl Op {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::CreateTask => "create_task",
            Op::GetTask => "get_task",
            Op::CancelTask => "cancel_task",
            Op::CancelTasks => "cancel_tasks",
            Op::Upload => "upload_file",
            Op::AccountInfo => "get_account_info",
            Op::ActiveTasks => "get_active_tasks",
        }
    }

    /// A create bills a task; everything else is safe to repeat.
    fn is_create(self) -> bool {
        self == Op::CreateTask
    }
}

/// What a request is, for the retry rules, the span and the scrubbing of
/// errors.
pub(crate) struct Call<'a> {
    pub(crate) op: Op,
    pub(crate) task_id: Option<&'a str>,
    /// Secrets of this request (a webhook secret) to scrub from errors.
    pub(crate) secrets: &'a [&'a str],
}

/// Why one attempt failed, before it becomes an [`Error`].
enum Failure {
    /// Nothing reached the server: the connection could not be opened, or the
    /// request could not be built.
    NotSent(reqwest::Error),
    /// The generated client refused the request before sending it.
    Unsendable(String),
    /// The request may have reached the server (timeout, connection reset).
    Send(reqwest::Error),
    /// No complete answer within the client's timeout, when it is applied
    /// around each attempt (requests through a caller's `reqwest::Client`).
    TimedOut(Duration),
    /// An error status.
    Status {
        status: u16,
        retry_after: Option<Duration>,
        body: Vec<u8>,
    },
    /// A body that could not be read to the end. The generated client keeps
    /// neither the status nor the bytes that arrived; `partial` is only filled
    /// for an undocumented status, whose body this module reads itself.
    Body {
        status: Option<u16>,
        partial: Vec<u8>,
        source: reqwest::Error,
    },
    /// A body larger than the client's `max_response_bytes`.
    TooLarge { status: u16, limit: u64 },
    /// A body that is not the expected JSON.
    Decode {
        status: u16,
        body: Vec<u8>,
        source: serde_json::Error,
    },
}

impl fmt::Display for Failure {
    // A short reason for logs: never a body or a header.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::NotSent(e) => write!(f, "not sent: {e}"),
            Failure::Unsendable(m) => write!(f, "not sent: {m}"),
            Failure::Send(e) => write!(f, "request failed: {e}"),
            Failure::TimedOut(limit) => write!(f, "no complete answer within {limit:?}"),
            Failure::Status { status, .. } => write!(f, "HTTP {status}"),
            Failure::Body { source, .. } => write!(f, "body cut short: {source}"),
            Failure::TooLarge { status, limit } => {
                write!(f, "HTTP {status} body larger than {limit} bytes")
            }
            Failure::Decode { status, source, .. } => {
                write!(f, "HTTP {status} body undecodable: {source}")
            }
        }
    }
}

impl Failure {
    /// Sorts out a failure of the generated client. An undocumented status
    /// (`UnexpectedResponse`) is read here: its body gives the message of an
    /// error, and a 2xx one is decoded (`Ok`).
    ///
    /// `meta` is what [`piapi_kling_client::observe`] saw of the response: the
    /// status and `Retry-After` the generated error drops when a body is not
    /// the documented JSON (a proxy's HTML 502) or is cut short.
    async fn from_client<T: DeserializeOwned>(
        error: piapi_kling_client::Error<ErrorResponse>,
        meta: Option<ResponseMeta>,
    ) -> Result<(u16, T), Failure> {
        use piapi_kling_client::Error as E;
        Err(match error {
            E::CommunicationError(e) if e.is_connect() || e.is_builder() => Failure::NotSent(e),
            E::CommunicationError(e) | E::InvalidUpgrade(e) => Failure::Send(e),
            E::InvalidRequest(m) | E::Custom(m) => Failure::Unsendable(m),
            E::ErrorResponse(response) => Failure::Status {
                status: response.status().as_u16(),
                retry_after: parse_retry_after(response.headers().get(RETRY_AFTER)),
                // Back to JSON, so that a salvaged id or the message is read
                // the same way as from an undocumented status's body.
                body: serde_json::to_vec(&response.into_inner()).unwrap_or_default(),
            },
            E::ResponseBodyError(source) if ResponseTooLarge::find(&source).is_some() => {
                Failure::too_large(&source, meta.map(|m| m.status.as_u16()))
            }
            E::ResponseBodyError(source) => match meta {
                // An error status stays an error status, whatever its body.
                Some(meta) if !meta.status.is_success() => Failure::Status {
                    status: meta.status.as_u16(),
                    retry_after: parse_retry_after(meta.retry_after.as_ref()),
                    body: Vec::new(),
                },
                meta => Failure::Body {
                    status: source
                        .status()
                        .or(meta.map(|m| m.status))
                        .map(|s| s.as_u16()),
                    partial: Vec::new(),
                    source,
                },
            },
            E::InvalidResponsePayload(bytes, source) => match meta {
                Some(meta) if !meta.status.is_success() => Failure::Status {
                    status: meta.status.as_u16(),
                    retry_after: parse_retry_after(meta.retry_after.as_ref()),
                    body: bytes.to_vec(),
                },
                Some(meta) => Failure::Decode {
                    status: meta.status.as_u16(),
                    body: bytes.to_vec(),
                    source,
                },
                None => Failure::undecodable(bytes.to_vec(), source),
            },
            E::UnexpectedResponse(response) => return Failure::unexpected(response).await,
        })
    }

    /// A body stopped at the client's limit. The status is the one observed,
    /// else 200 (the documented status whose body is read for its content).
    fn too_large(source: &reqwest::Error, status: Option<u16>) -> Failure {
        Failure::TooLarge {
            status: status.unwrap_or(200),
            limit: ResponseTooLarge::find(source).map_or(0, |t| t.limit),
        }
    }

    /// A body of a documented status that did not decode. The generated
    /// client does not say which status it came with; PiAPI repeats the status
    /// as the body's leading `code`, so that is used when present, else 200
    /// (the documented status whose body is decoded for its content).
    fn undecodable(body: Vec<u8>, source: serde_json::Error) -> Failure {
        match leading_code(&body) {
            Some(status) if !(200..300).contains(&status) => Failure::Status {
                status,
                retry_after: None,
                body,
            },
            status => Failure::Decode {
                status: status.unwrap_or(200),
                body,
                source,
            },
        }
    }

    async fn unexpected<T: DeserializeOwned>(
        mut response: reqwest::Response,
    ) -> Result<(u16, T), Failure> {
        let status = response.status().as_u16();
        let success = response.status().is_success();
        let retry_after = parse_retry_after(response.headers().get(RETRY_AFTER));
        let body = match read_body(&mut response).await {
            Ok(body) => body,
            Err((_, source)) if ResponseTooLarge::find(&source).is_some() => {
                return Err(Failure::too_large(&source, Some(status)));
            }
            Err((partial, source)) if success => {
                return Err(Failure::Body {
                    status: Some(status),
                    partial,
                    source,
                });
            }
            // An error status stays an error status, whatever its body.
            Err((partial, _)) => partial,
        };
        if !success {
            return Err(Failure::Status {
                status,
                retry_after,
                body,
            });
        }
        match serde_json::from_slice(&body) {
            Ok(value) => Ok((status, value)),
            Err(source) => Err(Failure::Decode {
                status,
                body,
                source,
            }),
        }
    }

    fn status(&self) -> Option<u16> {
        match self {
            Failure::NotSent(_) | Failure::Unsendable(_) | Failure::Send(_) => None,
            Failure::TimedOut(_) => None,
            Failure::Body { status, .. } => *status,
            Failure::Status { status, .. }
            | Failure::Decode { status, .. }
            | Failure::TooLarge { status, .. } => Some(*status),
        }
    }

    /// The rules documented on [`RetryPolicy`](crate::RetryPolicy), for one
    /// failure of `op`.
    fn is_retryable(&self, op: Op) -> bool {
        match self {
            Failure::NotSent(e) => e.is_connect(),
            // A refused redirect would be refused again.
            Failure::Send(e) if e.is_redirect() => false,
            Failure::Send(_) | Failure::Body { .. } | Failure::TimedOut(_) => !op.is_create(),
            Failure::Status { status, .. } => {
                *status == 429 || (!op.is_create() && is_retryable_status(*status))
            }
            // The same server would send the same oversized body again.
            Failure::Decode { .. } | Failure::Unsendable(_) | Failure::TooLarge { .. } => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Failure::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    fn into_error(self, op: Op, secrets: &[&str]) -> Error {
        if !op.is_create() {
            return self.into_plain_error(secrets);
        }
        // A create that provably did not reach PiAPI, or that PiAPI refused
        // with a 4xx, created nothing.
        match &self {
            Failure::NotSent(_) | Failure::Unsendable(_) => return self.into_plain_error(secrets),
            Failure::Status { status, .. } if *status < 500 => {
                return self.into_plain_error(secrets);
            }
            _ => {}
        }
        let raw = match &self {
            Failure::Status { body, .. } | Failure::Decode { body, .. } => Some(body.clone()),
            Failure::Body { partial, .. } => Some(partial.clone()),
            Failure::NotSent(_)
            | Failure::Unsendable(_)
            | Failure::Send(_)
            | Failure::TimedOut(_)
            | Failure::TooLarge { .. } => None,
        }
        .filter(|b| !b.is_empty());
        Error::AmbiguousCreate {
            task_id: raw.as_deref().and_then(redact::salvage_task_id),
            raw_body: raw.as_deref().map(|b| redact::scrub_body(b, secrets)),
            source: Box::new(self.into_plain_error(secrets)),
        }
    }

    fn into_plain_error(self, secrets: &[&str]) -> Error {
        match self {
            Failure::NotSent(e) | Failure::Send(e) | Failure::Body { source: e, .. } => {
                Error::Transport(e)
            }
            Failure::Unsendable(message) => Error::Config(format!(
                "the request could not be sent: {}",
                redact::scrub_text(&message, secrets)
            )),
            Failure::TimedOut(timeout) => Error::RequestTimeout { timeout },
            Failure::TooLarge { status, limit } => Error::ResponseTooLarge {
                status,
                limit,
                task_id: None,
            },
            Failure::Status {
                status,
                retry_after,
                body,
            } => {
                let parsed: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
                let code = parsed.as_ref().and_then(|v| v.get("code")?.as_i64());
                let message = parsed
                    .as_ref()
                    .and_then(|v| v.get("message")?.as_str().map(str::to_owned))
                    .filter(|m| !m.trim().is_empty())
                    .map(|m| redact::scrub_text(&m, secrets))
                    .unwrap_or_else(|| {
                        let text = redact::scrub_body(&body, secrets);
                        let text = text.trim();
                        // An empty `message` says nothing; the reason phrase does.
                        let said_nothing =
                            parsed.as_ref().is_some_and(|v| v.get("message").is_some());
                        if text.is_empty() || said_nothing {
                            reqwest::StatusCode::from_u16(status)
                                .ok()
                                .and_then(|s| s.canonical_reason())
                                .unwrap_or("no message")
                                .to_owned()
                        } else {
                            text.to_owned()
                        }
                    });
                Error::Api {
                    status,
                    code,
                    message,
                    retry_after,
                }
            }
            Failure::Decode {
                status,
                body,
                source,
            } => Error::Decode {
                status,
                body: redact::scrub_body(&body, secrets),
                source,
            },
        }
    }
}

/// What every request needs besides the request itself: the bound on
/// requests in flight, the retry policy, the attempt deadline, and the key
/// to scrub from messages. Owned by the SDK's core; knows nothing else of it.
pub(crate) struct Transport {
    /// Bounds the HTTP requests in flight (one permit per attempt).
    pub(crate) requests: std::sync::Arc<tokio::sync::Semaphore>,
    pub(crate) retry: crate::retry::RetryPolicy,
    /// A deadline around each request, set when the HTTP client is the
    /// caller's (whose own timeout cannot be set).
    pub(crate) attempt_timeout: Option<Duration>,
    /// The key, only to scrub it from error messages.
    pub(crate) key_text: secrecy::SecretString,
}

impl Transport {
    /// Runs `call` through `send` (one request of the generated client per
    /// call), retrying as the client's [`RetryPolicy`](crate::RetryPolicy)
    /// and the operation allow.
    pub(crate) async fn call<T, F, Fut>(&self, call: Call<'_>, send: F) -> Result<T, Error>
    where
        T: DeserializeOwned,
        F: FnMut() -> Fut,
        Fut: Future<Output = ApiResult<T>>,
    {
        let span = request_span(call.op, call.task_id);
        self.call_in(span, call, send).await
    }

    /// [`call`](Self::call) inside `span` (made by [`request_span`]), for a
    /// caller that records more on it afterwards (a create's task id).
    pub(crate) async fn call_in<T, F, Fut>(
        &self,
        span: tracing::Span,
        call: Call<'_>,
        send: F,
    ) -> Result<T, Error>
    where
        T: DeserializeOwned,
        F: FnMut() -> Fut,
        Fut: Future<Output = ApiResult<T>>,
    {
        // Take a request slot before the request's state exists, and keep that
        // state on the heap only while the request runs: a task that sleeps
        // between polls or waits for a slot then costs a few bytes, not the
        // kilobytes of an HTTP exchange (see BENCHMARKS.md, scale).
        let slot = self.request_slot().await?;
        // Bound first: a temporary in the awaited expression would stay in
        // this future's state, defeating the box.
        let exchange = Box::pin(self.call_with_retries(call, send, slot).instrument(span));
        exchange.await
    }

    /// A permit of the client's bound on requests in flight.
    async fn request_slot(&self) -> Result<OwnedSemaphorePermit, Error> {
        self.requests
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Closed("request"))
    }

    async fn call_with_retries<T, F, Fut>(
        &self,
        call: Call<'_>,
        mut send: F,
        first_slot: OwnedSemaphorePermit,
    ) -> Result<T, Error>
    where
        T: DeserializeOwned,
        F: FnMut() -> Fut,
        Fut: Future<Output = ApiResult<T>>,
    {
        let mut slot = Some(first_slot);
        let policy = &self.retry;
        let first = Instant::now();
        let mut secrets: Vec<&str> = call.secrets.to_vec();
        secrets.push(secrecy::ExposeSecret::expose_secret(&self.key_text));
        let mut attempt = 1u32;
        loop {
            let started = Instant::now();
            // One slot per attempt, released before any backoff sleep.
            let held = match slot.take() {
                Some(held) => held,
                None => self.request_slot().await?,
            };
            let outcome = self.attempt::<T>(send()).await;
            drop(held);
            let span = tracing::Span::current();
            span.record("attempts", attempt);
            span.record("latency_ms", started.elapsed().as_millis() as u64);
            let failure = match outcome {
                Ok((status, value)) => {
                    span.record("status", status);
                    tracing::debug!(status, "request succeeded");
                    return Ok(value);
                }
                Err(failure) => failure,
            };
            if let Some(status) = failure.status() {
                span.record("status", status);
            }
            if failure.is_retryable(call.op) && attempt < policy.max_attempts {
                let delay = policy.delay(attempt, failure.retry_after());
                if first.elapsed() + delay <= policy.max_elapsed {
                    tracing::warn!(
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        reason = %failure,
                        "retrying request"
                    );
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                    continue;
                }
            }
            let mut error = failure.into_error(call.op, &secrets);
            if let Error::ResponseTooLarge { task_id, .. } = &mut error {
                *task_id = call.task_id.map(str::to_owned);
            }
            tracing::debug!(error = %error, "request failed");
            return Err(error);
        }
    }

    /// One request: the generated client's answer, within the attempt
    /// deadline when the client has one.
    async fn attempt<T: DeserializeOwned>(
        &self,
        sent: impl Future<Output = ApiResult<T>>,
    ) -> Result<(u16, T), Failure> {
        let exchange = async {
            match piapi_kling_client::observe(sent).await {
                (Ok(response), _) => Ok((response.status().as_u16(), response.into_inner())),
                (Err(error), meta) => Failure::from_client(error, meta).await,
            }
        };
        match self.attempt_timeout {
            Some(limit) => tokio::time::timeout(limit, exchange)
                .await
                .unwrap_or(Err(Failure::TimedOut(limit))),
            None => exchange.await,
        }
    }
}

/// The span of one API request: operation, task id, and (recorded when known)
/// status, latency and attempts. Never a header or a body.
pub(crate) fn request_span(op: Op, task_id: Option<&str>) -> tracing::Span {
    let span = tracing::info_span!(
        "piapi_kling.request",
        operation = op.name(),
        task_id = tracing::field::Empty,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
        attempts = tracing::field::Empty,
    );
    if let Some(id) = task_id {
        span.record("task_id", id);
    }
    span
}

/// Reads the whole body, keeping what arrived if the body is cut short.
async fn read_body(response: &mut reqwest::Response) -> Result<Vec<u8>, (Vec<u8>, reqwest::Error)> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => return Ok(body),
            Err(e) => return Err((body, e)),
        }
    }
}

/// The status a PiAPI body names in its leading `"code": <status>` (every
/// PiAPI body starts with it), read even from a body that is cut short or
/// malformed further on.
fn leading_code(body: &[u8]) -> Option<u16> {
    let rest = body.trim_ascii_start().strip_prefix(b"{")?;
    let rest = rest.trim_ascii_start().strip_prefix(b"\"code\"")?;
    let rest = rest.trim_ascii_start().strip_prefix(b":")?;
    let rest = rest.trim_ascii_start();
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits != 3
        || rest
            .get(digits)
            .is_some_and(|b| b.is_ascii_digit() || *b == b'.')
    {
        return None;
    }
    let code: u16 = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    (100..600).contains(&code).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use piapi_kling_client::Error as ClientError;
    use piapi_kling_models::TaskResponse;
    use reqwest::StatusCode;
    use reqwest::header::{HeaderMap, HeaderValue};

    const ID: &str = "6e269e8c-2091-46c4-b4a5-40a4704a766a";

    fn status(s: u16) -> Failure {
        Failure::Status {
            status: s,
            retry_after: None,
            body: Vec::new(),
        }
    }

    async fn map(error: ClientError<ErrorResponse>) -> Failure {
        map_seen(error, None).await
    }

    /// Maps `error` as if `observe` had seen `meta`.
    async fn map_seen(error: ClientError<ErrorResponse>, meta: Option<ResponseMeta>) -> Failure {
        match Failure::from_client::<TaskResponse>(error, meta).await {
            Ok(_) => panic!("a failure must not decode"),
            Err(failure) => failure,
        }
    }

    #[tokio::test]
    async fn an_undecodable_body_keeps_the_observed_error_status() {
        let html: &[u8] = b"<html>oops</html>";
        let source = serde_json::from_slice::<serde_json::Value>(html).unwrap_err();
        let meta = ResponseMeta {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(HeaderValue::from_static("2")),
        };
        match map_seen(
            ClientError::InvalidResponsePayload(html.to_vec().into(), source),
            Some(meta),
        )
        .await
        {
            Failure::Status {
                status,
                retry_after,
                body,
            } => {
                assert_eq!((status, retry_after), (429, Some(Duration::from_secs(2))));
                assert_eq!(body, b"<html>oops</html>");
            }
            other => panic!("expected the 429, got {other}"),
        }
    }

    fn error_response(
        status: u16,
        body: ErrorResponse,
        retry_after: Option<&str>,
    ) -> ClientError<ErrorResponse> {
        let mut headers = HeaderMap::new();
        if let Some(secs) = retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from_str(secs).unwrap());
        }
        ClientError::ErrorResponse(ResponseValue::new(
            body,
            StatusCode::from_u16(status).unwrap(),
            headers,
        ))
    }

    fn payload(body: &[u8]) -> ClientError<ErrorResponse> {
        let source = serde_json::from_slice::<serde_json::Value>(body)
            .err()
            .unwrap_or_else(|| serde_json::from_str::<u8>("x").unwrap_err());
        ClientError::InvalidResponsePayload(body.to_vec().into(), source)
    }

    #[test]
    fn create_is_retried_only_when_nothing_can_have_been_created() {
        assert!(status(429).is_retryable(Op::CreateTask));
        for s in [500, 502, 503, 504] {
            assert!(!status(s).is_retryable(Op::CreateTask), "{s}");
            assert!(status(s).is_retryable(Op::GetTask), "{s}");
            assert!(status(s).is_retryable(Op::Upload), "{s}");
            assert!(status(s).is_retryable(Op::CancelTask), "{s}");
        }
        assert!(!status(400).is_retryable(Op::GetTask));
        assert!(!status(401).is_retryable(Op::GetTask));
        let timed_out = Failure::TimedOut(Duration::from_secs(1));
        assert!(timed_out.is_retryable(Op::GetTask));
        assert!(!timed_out.is_retryable(Op::CreateTask));
        assert!(!Failure::Unsendable("bad".into()).is_retryable(Op::GetTask));
    }

    #[tokio::test]
    async fn an_error_response_keeps_status_code_message_and_retry_after() {
        let failure = map(error_response(
            429,
            ErrorResponse::new(429, "slow down"),
            Some("2"),
        ))
        .await;
        assert!(failure.is_retryable(Op::CreateTask));
        assert_eq!(failure.retry_after(), Some(Duration::from_secs(2)));
        match failure.into_error(Op::GetTask, &[]) {
            Error::Api {
                status: 429,
                code: Some(429),
                message,
                retry_after: Some(wait),
            } => {
                assert_eq!(message, "slow down");
                assert_eq!(wait, Duration::from_secs(2));
            }
            other => panic!("{other:?}"),
        }
        // An empty message falls back to the reason phrase.
        let failure = map(error_response(401, ErrorResponse::new(401, ""), None)).await;
        assert!(
            failure
                .into_error(Op::GetTask, &[])
                .to_string()
                .contains("Unauthorized")
        );
    }

    #[tokio::test]
    async fn a_server_error_on_create_is_ambiguous_and_keeps_a_salvaged_id() {
        let mut body = ErrorResponse::new(500, "internal error");
        body.data = serde_json::json!({"task_id": ID}).as_object().cloned();
        match map(error_response(500, body, None))
            .await
            .into_error(Op::CreateTask, &[])
        {
            Error::AmbiguousCreate {
                task_id,
                source,
                raw_body: Some(raw),
            } => {
                assert_eq!(task_id.as_deref(), Some(ID));
                assert_eq!(source.status(), Some(500));
                assert!(raw.contains("internal error"), "{raw}");
            }
            other => panic!("{other:?}"),
        }
        let refused = error_response(400, ErrorResponse::new(400, "input.prompt: too long"), None);
        match map(refused).await.into_error(Op::CreateTask, &[]) {
            Error::Api {
                status: 400,
                code: Some(400),
                message,
                ..
            } => assert_eq!(message, "input.prompt: too long"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn an_undecodable_create_answer_yields_its_task_id() {
        let body = format!(
            r#"{{"code":200,"data":{{"task_id":"{ID}","model":"kling","status":"pend<html>502 Bad Gateway</html>"#
        );
        let failure = map(payload(body.as_bytes())).await;
        assert!(!failure.is_retryable(Op::GetTask));
        match failure.into_error(Op::CreateTask, &["KEY-1"]) {
            Error::AmbiguousCreate {
                task_id,
                source,
                raw_body: Some(raw),
            } => {
                assert_eq!(task_id.as_deref(), Some(ID));
                assert!(
                    matches!(*source, Error::Decode { status: 200, .. }),
                    "{source:?}"
                );
                assert!(raw.starts_with(r#"{"code":200"#), "{raw}");
            }
            other => panic!("{other:?}"),
        }
        // Cut before the id is complete: no id is guessed.
        let cut = format!(r#"{{"code":200,"data":{{"task_id":"{}"#, &ID[..10]);
        match map(payload(cut.as_bytes()))
            .await
            .into_error(Op::CreateTask, &[])
        {
            Error::AmbiguousCreate { task_id: None, .. } => {}
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn an_undecodable_error_body_is_an_api_error_when_it_names_its_status() {
        let failure = map(payload(br#"{"code":503,"message":"busy"#)).await;
        assert_eq!(failure.status(), Some(503));
        assert!(failure.is_retryable(Op::GetTask));
        assert!(matches!(
            failure.into_error(Op::GetTask, &[]),
            Error::Api { status: 503, .. }
        ));
        // Nothing to go by: a decode error of the success status.
        let failure = map(payload(b"<html>oops</html>")).await;
        match failure.into_error(Op::GetTask, &[]) {
            Error::Decode {
                status: 200, body, ..
            } => assert_eq!(body, "<html>oops</html>"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn requests_never_built_are_config_errors_and_not_ambiguous() {
        let failure = map(ClientError::InvalidRequest(
            "body was not initialized".into(),
        ))
        .await;
        assert!(matches!(
            failure.into_error(Op::CreateTask, &[]),
            Error::Config(m) if m.contains("body was not initialized")
        ));
    }

    #[test]
    fn error_bodies_without_json_keep_a_readable_message() {
        let failure = Failure::Status {
            status: 502,
            retry_after: Some(Duration::from_secs(1)),
            body: b"<html>bad gateway</html>".to_vec(),
        };
        match failure.into_error(Op::GetTask, &[]) {
            Error::Api {
                message,
                code: None,
                retry_after,
                ..
            } => {
                assert_eq!(message, "<html>bad gateway</html>");
                assert_eq!(retry_after, Some(Duration::from_secs(1)));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            status(503)
                .into_error(Op::GetTask, &[])
                .to_string()
                .contains("Service Unavailable")
        );
    }

    #[test]
    fn the_leading_code_is_read_strictly() {
        assert_eq!(leading_code(br#" { "code" : 404 , "message""#), Some(404));
        assert_eq!(leading_code(br#"{"code":200,"data":{"#), Some(200));
        assert_eq!(leading_code(br#"{"data":{},"code":500}"#), None);
        assert_eq!(leading_code(br#"{"code":5000}"#), None);
        assert_eq!(leading_code(br#"{"code":50"#), None);
        assert_eq!(leading_code(br#"{"code":200.5}"#), None);
        assert_eq!(leading_code(b"<html>"), None);
        assert_eq!(leading_code(b""), None);
    }
}
