//! Running one API operation of the generated `piapi-kling-client`: the bound
//! on requests in flight and the retry loop (here), what the request is
//! ([`op`]), its tracing span ([`span`]), the sorting of its failures into
//! [`Error`]s ([`failure`]) and the reading of bodies by hand ([`body`]).
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
//! | `InvalidRequest`, `Custom` | [`Error::Config`]; nothing was sent |
//!
//! The status of the `ResponseBodyError` and `InvalidResponsePayload` rows
//! comes from [`piapi_kling_client::with_response_meta`]: the generated error does not
//! carry it.
//!
//! A create that fails after it may have reached PiAPI becomes
//! [`Error::AmbiguousCreate`] around the error above (see [`crate::retry`]).

mod body;
mod failure;
mod op;
mod span;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;
use tracing::Instrument;

use crate::error::Error;
use failure::Failure;
pub(crate) use op::{ApiResult, Call, Op};
pub(crate) use span::request_span;

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
    ///
    /// The answer comes boxed: a decoded task is over a kilobyte, and boxed
    /// where it is decoded it is not copied again by each layer it passes
    /// through on its way out (BENCHMARKS.md, overhead).
    pub(crate) async fn call<T, F, Fut>(&self, call: Call<'_>, send: F) -> Result<Box<T>, Error>
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
    ) -> Result<Box<T>, Error>
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
    ) -> Result<Box<T>, Error>
    where
        T: DeserializeOwned,
        F: FnMut() -> Fut,
        Fut: Future<Output = ApiResult<T>>,
    {
        let mut slot = Some(first_slot);
        let policy = &self.retry;
        let first = Instant::now();
        let mut attempt = 1u32;
        loop {
            let started = Instant::now();
            // One slot per attempt, released before any backoff sleep.
            let held = match slot.take() {
                Some(held) => held,
                None => self.request_slot().await?,
            };
            // The generated operation's future is kilobytes (a create's is
            // about 4 KiB): boxed here, the layers around it (the response
            // meta, the deadline, this loop, the span) move a pointer instead
            // of copying it at each (BENCHMARKS.md, overhead).
            let outcome = self.attempt::<T>(Box::pin(send())).await;
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
            // The secrets to scrub are gathered only here, on the way out of a
            // failure: a success allocates nothing for them.
            let mut secrets: Vec<&str> = call.secrets.to_vec();
            secrets.push(secrecy::ExposeSecret::expose_secret(&self.key_text));
            let mut error = failure.into_error(call.op, &secrets);
            if let Error::ResponseTooLarge { task_id, .. } = &mut error {
                *task_id = call.task_id.map(str::to_owned);
            }
            tracing::debug!(error = %error, "request failed");
            return Err(error);
        }
    }

    /// One request: the generated client's answer, within the attempt
    /// deadline when the client has one. A success is boxed as soon as it is
    /// decoded, so the layers above move a pointer.
    async fn attempt<T: DeserializeOwned>(
        &self,
        sent: Pin<Box<impl Future<Output = ApiResult<T>>>>,
    ) -> Result<(u16, Box<T>), Failure> {
        let boxed = async move {
            sent.await
                .map(|response| (response.status().as_u16(), Box::new(response.into_inner())))
        };
        let exchange = async {
            match piapi_kling_client::with_response_meta(boxed).await {
                (Ok(answer), _) => Ok(answer),
                // Boxed: sorting out a failure (reading an undocumented
                // status's body) needs more state than a success, and only
                // failures should pay for it.
                (Err(error), meta) => Box::pin(Failure::from_client(error, meta)).await,
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
