//! The HTTP status and `Retry-After` of the response an operation received,
//! for the errors that do not carry them.
//!
//! progenitor's [`Error`](crate::Error) drops them when a body is not the
//! documented JSON (`InvalidResponsePayload`: a proxy's HTML 502) or cannot
//! be read to the end (`ResponseBodyError`). [`with_response_meta`] keeps
//! them: the client's `post` hook writes them into a task-local slot that only
//! exists while `with_response_meta` runs, so there is no allocation and no
//! sharing between requests, and nothing is recorded outside it.

use reqwest::StatusCode;
use reqwest::header::{HeaderValue, RETRY_AFTER};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// What the response of one operation said, besides its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseMeta {
    /// The HTTP status.
    pub status: StatusCode,
    /// The `Retry-After` header, as sent.
    pub retry_after: Option<HeaderValue>,
}

tokio::task_local! {
    static LAST_RESPONSE: RefCell<Option<ResponseMeta>>;
}

/// Awaits `operation` (a generated builder's `send()`) and returns its
/// result with the status and `Retry-After` of the last response it
/// received, or `None` when no response arrived (the connection failed).
///
/// Only responses received while `operation` runs, on the task awaiting it,
/// are seen: wrap the `send()` whose errors you need the status of. An
/// operation awaited outside any `with_response_meta` records nothing and
/// costs nothing.
///
/// ```no_run
/// # async fn run(client: piapi_kling_client::Client) {
/// use piapi_kling_client::{Error, with_response_meta};
///
/// let (result, meta) = with_response_meta(client.get_task().task_id("some-id").send()).await;
/// if let Err(Error::InvalidResponsePayload(..)) = result {
///     // A body that is not the documented JSON: the status is only here.
///     println!("status {:?}", meta.map(|m| m.status));
/// }
/// # }
/// ```
pub fn with_response_meta<F: Future>(
    operation: F,
) -> impl Future<Output = (F::Output, Option<ResponseMeta>)> {
    // A hand-written future rather than an `async` block: an async block
    // keeps its captured operation and the operation being awaited as two
    // copies in its state, and a generated operation's future is kilobytes,
    // which every move of the wrapper then copies (BENCHMARKS.md, overhead).
    LAST_RESPONSE.scope(RefCell::new(None), Recorded { operation })
}

pin_project_lite::pin_project! {
    /// `operation`, then the slot's contents once it is done.
    struct Recorded<F> {
        #[pin]
        operation: F,
    }
}

impl<F: Future> Future for Recorded<F> {
    type Output = (F::Output, Option<ResponseMeta>);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let output = std::task::ready!(self.project().operation.poll(cx));
        let meta = LAST_RESPONSE.with(|slot| slot.borrow_mut().take());
        Poll::Ready((output, meta))
    }
}

/// Called by the `post` hook: keeps the response's status for
/// [`with_response_meta`] (a no-op outside it).
pub(crate) fn record(response: &reqwest::Response) {
    let meta = ResponseMeta {
        status: response.status(),
        retry_after: response.headers().get(RETRY_AFTER).cloned(),
    };
    let _ = LAST_RESPONSE.try_with(|slot| *slot.borrow_mut() = Some(meta));
}
