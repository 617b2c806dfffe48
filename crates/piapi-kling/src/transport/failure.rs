//! Why one attempt failed: the generated client's error sorted out (see the
//! table in [`super`]), whether it may be retried, and the [`Error`] it
//! becomes.

use std::fmt;
use std::time::Duration;

use piapi_kling_client::{ResponseMeta, ResponseTooLarge};
use piapi_kling_models::ErrorResponse;
use reqwest::header::RETRY_AFTER;
use serde::de::DeserializeOwned;

use super::body::{leading_code, read_body};
use super::op::Op;
use crate::error::Error;
use crate::redact;
use crate::retry::{FailureKind, parse_retry_after};

/// Why one attempt failed, before it becomes an [`Error`].
pub(super) enum Failure {
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
    /// `meta` is what [`piapi_kling_client::with_response_meta`] saw of the response: the
    /// status and `Retry-After` the generated error drops when a body is not
    /// the documented JSON (a proxy's HTML 502) or is cut short.
    pub(super) async fn from_client<T: DeserializeOwned>(
        error: piapi_kling_client::Error<ErrorResponse>,
        meta: Option<ResponseMeta>,
    ) -> Result<(u16, Box<T>), Failure> {
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
    ) -> Result<(u16, Box<T>), Failure> {
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
            Ok(value) => Ok((status, Box::new(value))),
            Err(source) => Err(Failure::Decode {
                status,
                body,
                source,
            }),
        }
    }

    pub(super) fn status(&self) -> Option<u16> {
        match self {
            Failure::NotSent(_) | Failure::Unsendable(_) | Failure::Send(_) => None,
            Failure::TimedOut(_) => None,
            Failure::Body { status, .. } => *status,
            Failure::Status { status, .. }
            | Failure::Decode { status, .. }
            | Failure::TooLarge { status, .. } => Some(*status),
        }
    }

    /// What this failure says about sending the request again.
    fn kind(&self) -> FailureKind {
        match self {
            Failure::NotSent(e) if e.is_connect() => FailureKind::NotConnected,
            // A request that could not be built, or a refused redirect,
            // would fail the same way again.
            Failure::NotSent(_) | Failure::Unsendable(_) => FailureKind::Permanent,
            Failure::Send(e) if e.is_redirect() => FailureKind::Permanent,
            Failure::Send(_) | Failure::Body { .. } | Failure::TimedOut(_) => {
                FailureKind::MaybeReceived
            }
            Failure::Status { status, .. } => FailureKind::Status(*status),
            // The same server would send the same body again.
            Failure::Decode { .. } | Failure::TooLarge { .. } => FailureKind::Permanent,
        }
    }

    /// The rules of [`RetryPolicy`](crate::RetryPolicy) for this failure of `op`.
    pub(super) fn is_retryable(&self, op: Op) -> bool {
        crate::retry::may_retry(self.kind(), op.is_create())
    }

    pub(super) fn retry_after(&self) -> Option<Duration> {
        match self {
            Failure::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub(super) fn into_error(self, op: Op, secrets: &[&str]) -> Error {
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

#[cfg(test)]
mod tests {
    use super::*;
    use piapi_kling_client::Error as ClientError;
    use piapi_kling_client::ResponseValue;
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

    /// Maps `error` as if `with_response_meta` had seen `meta`.
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
}
