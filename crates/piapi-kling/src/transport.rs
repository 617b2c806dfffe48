//! Sending one API request: headers, retries, decoding, and the mapping of
//! failures to [`Error`].
//!
//! Requests are built here rather than through the generated
//! `piapi-kling-client` builders because the SDK needs three things those
//! builders cannot give: adding the key to each request of a caller's own
//! `reqwest::Client` (progenitor has no per-request hook), extra per-request
//! headers, and the partial body of a response cut short (progenitor drops it,
//! and a create's task id must be salvaged from it). Paths, bodies and
//! responses are the same spec types the generated client uses.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{
    ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER, USER_AGENT,
};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::Instrument;

use crate::client::Client;
use crate::error::{Error, is_retryable_status};
use crate::redact;
use crate::retry::parse_retry_after;

/// The header carrying the API key.
pub(crate) const API_KEY_HEADER: HeaderName = HeaderName::from_static("x-api-key");

/// The API operations, with what the retry rules need to know about them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    CreateTask,
    GetTask,
    CancelTask,
    CancelTasks,
    Upload,
    AccountInfo,
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
        }
    }

    fn method(self) -> Method {
        match self {
            Op::CreateTask | Op::Upload => Method::POST,
            Op::GetTask | Op::AccountInfo => Method::GET,
            Op::CancelTask | Op::CancelTasks => Method::DELETE,
        }
    }

    /// A create bills a task; everything else is safe to repeat.
    fn is_create(self) -> bool {
        self == Op::CreateTask
    }
}

/// One request to make.
pub(crate) struct Call<'a> {
    pub(crate) op: Op,
    pub(crate) url: Url,
    pub(crate) body: Option<Bytes>,
    pub(crate) task_id: Option<&'a str>,
    /// Extra headers (never able to replace the key).
    pub(crate) headers: Option<&'a HeaderMap>,
    /// Secrets of this request (a webhook secret) to scrub from errors.
    pub(crate) secrets: &'a [&'a str],
}

/// Why one attempt failed, before it becomes an [`Error`].
enum Failure {
    /// Nothing reached the server: the connection could not be opened, or the
    /// request could not be built.
    NotSent(reqwest::Error),
    /// The request may have reached the server (timeout, connection reset).
    Send(reqwest::Error),
    /// An error status.
    Status {
        status: u16,
        retry_after: Option<Duration>,
        body: Vec<u8>,
    },
    /// A success status whose body could not be read to the end.
    Body {
        status: u16,
        partial: Vec<u8>,
        source: reqwest::Error,
    },
    /// A success status whose body is not the expected JSON.
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
            Failure::Send(e) => write!(f, "request failed: {e}"),
            Failure::Status { status, .. } => write!(f, "HTTP {status}"),
            Failure::Body { status, source, .. } => {
                write!(f, "HTTP {status} body cut short: {source}")
            }
            Failure::Decode { status, source, .. } => {
                write!(f, "HTTP {status} body undecodable: {source}")
            }
        }
    }
}

impl Failure {
    fn status(&self) -> Option<u16> {
        match self {
            Failure::NotSent(_) | Failure::Send(_) => None,
            Failure::Status { status, .. }
            | Failure::Body { status, .. }
            | Failure::Decode { status, .. } => Some(*status),
        }
    }

    /// See the module documentation of [`crate::retry`] for the rules.
    fn is_retryable(&self, op: Op) -> bool {
        match self {
            Failure::NotSent(e) => e.is_connect(),
            Failure::Send(_) | Failure::Body { .. } => !op.is_create(),
            Failure::Status { status, .. } => {
                *status == 429 || (!op.is_create() && is_retryable_status(*status))
            }
            Failure::Decode { .. } => false,
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
            Failure::NotSent(_) => return self.into_plain_error(secrets),
            Failure::Status { status, .. } if *status < 500 => {
                return self.into_plain_error(secrets);
            }
            _ => {}
        }
        let raw = match &self {
            Failure::Status { body, .. } | Failure::Decode { body, .. } => Some(body.clone()),
            Failure::Body { partial, .. } => Some(partial.clone()),
            Failure::NotSent(_) | Failure::Send(_) => None,
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
                    .map(|m| redact::scrub_text(&m, secrets))
                    .unwrap_or_else(|| {
                        let text = redact::scrub_body(&body, secrets);
                        let text = text.trim();
                        if text.is_empty() {
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

impl Client {
    /// Sends `call`, retrying as the client's [`RetryPolicy`](crate::RetryPolicy)
    /// and the operation allow, and decodes the body as `T`.
    pub(crate) async fn call<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, Error> {
        let span = request_span(call.op, call.task_id);
        self.call_in(span, call).await
    }

    /// [`call`](Self::call) inside `span` (made by [`request_span`]), for a
    /// caller that records more on it afterwards (a create's task id).
    pub(crate) async fn call_in<T: DeserializeOwned>(
        &self,
        span: tracing::Span,
        call: Call<'_>,
    ) -> Result<T, Error> {
        self.call_with_retries(call).instrument(span).await
    }

    async fn call_with_retries<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, Error> {
        let policy = &self.inner().retry;
        let first = Instant::now();
        let mut secrets: Vec<&str> = call.secrets.to_vec();
        secrets.push(&self.inner().key_text);
        let mut attempt = 1u32;
        loop {
            let started = Instant::now();
            let outcome = self.attempt::<T>(&call).await;
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
            let error = failure.into_error(call.op, &secrets);
            tracing::debug!(error = %error, "request failed");
            return Err(error);
        }
    }

    async fn attempt<T: DeserializeOwned>(&self, call: &Call<'_>) -> Result<(u16, T), Failure> {
        let inner = self.inner();
        let mut headers = call.headers.cloned().unwrap_or_default();
        headers.insert(API_KEY_HEADER, inner.key.clone());
        headers
            .entry(ACCEPT)
            .or_insert(HeaderValue::from_static("application/json"));
        headers
            .entry(USER_AGENT)
            .or_insert(inner.user_agent.clone());
        let mut request = inner
            .http
            .request(call.op.method(), call.url.clone())
            .timeout(inner.timeout);
        if let Some(body) = &call.body {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            request = request.body(body.clone());
        }
        let mut response = match request.headers(headers).send().await {
            Ok(response) => response,
            Err(e) if e.is_connect() || e.is_builder() => return Err(Failure::NotSent(e)),
            Err(e) => return Err(Failure::Send(e)),
        };
        let status = response.status().as_u16();
        let success = response.status().is_success();
        let retry_after = parse_retry_after(response.headers().get(RETRY_AFTER));
        let body = match read_body(&mut response).await {
            Ok(body) => body,
            Err((partial, source)) if success => {
                return Err(Failure::Body {
                    status,
                    partial,
                    source,
                });
            }
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

/// `base` with `segments` appended, each percent-encoded.
pub(crate) fn endpoint(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    url.path_segments_mut()
        .expect("base URLs are checked to be http(s) when the client is built")
        .pop_if_empty()
        .extend(segments);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_keep_a_base_path_and_encode_ids() {
        let base = Url::parse("http://127.0.0.1:9/proxy").unwrap();
        assert_eq!(
            endpoint(&base, &["api", "v1", "task", "a/b c"]).as_str(),
            "http://127.0.0.1:9/proxy/api/v1/task/a%2Fb%20c"
        );
        let base = Url::parse("https://api.piapi.ai/").unwrap();
        assert_eq!(
            endpoint(&base, &["api", "v1", "task"]).as_str(),
            "https://api.piapi.ai/api/v1/task"
        );
    }

    #[test]
    fn create_is_retried_only_when_nothing_can_have_been_created() {
        let status = |s| Failure::Status {
            status: s,
            retry_after: None,
            body: Vec::new(),
        };
        assert!(status(429).is_retryable(Op::CreateTask));
        for s in [500, 502, 503, 504] {
            assert!(!status(s).is_retryable(Op::CreateTask), "{s}");
            assert!(status(s).is_retryable(Op::GetTask), "{s}");
            assert!(status(s).is_retryable(Op::Upload), "{s}");
            assert!(status(s).is_retryable(Op::CancelTask), "{s}");
        }
        assert!(!status(400).is_retryable(Op::GetTask));
        assert!(!status(401).is_retryable(Op::GetTask));
    }

    #[test]
    fn a_server_error_on_create_is_ambiguous_and_keeps_a_salvaged_id() {
        let failure = Failure::Status {
            status: 500,
            retry_after: None,
            body: br#"{"code":500,"data":{"task_id":"6e269e8c-2091-46c4-b4a5-40a4704a766a"}"#
                .to_vec(),
        };
        match failure.into_error(Op::CreateTask, &[]) {
            Error::AmbiguousCreate {
                task_id, source, ..
            } => {
                assert_eq!(
                    task_id.as_deref(),
                    Some("6e269e8c-2091-46c4-b4a5-40a4704a766a")
                );
                assert_eq!(source.status(), Some(500));
            }
            other => panic!("{other:?}"),
        }
        let refused = Failure::Status {
            status: 400,
            retry_after: None,
            body: br#"{"code":400,"message":"input.prompt: too long"}"#.to_vec(),
        };
        match refused.into_error(Op::CreateTask, &[]) {
            Error::Api {
                status: 400,
                code: Some(400),
                message,
                ..
            } => {
                assert_eq!(message, "input.prompt: too long");
            }
            other => panic!("{other:?}"),
        }
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
        let empty = Failure::Status {
            status: 503,
            retry_after: None,
            body: Vec::new(),
        };
        assert!(
            empty
                .into_error(Op::GetTask, &[])
                .to_string()
                .contains("Service Unavailable")
        );
    }
}
