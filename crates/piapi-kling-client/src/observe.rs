//! The HTTP status and `Retry-After` of the response an operation received.
//!
//! progenitor's `Error` drops them when a body is not the documented JSON (a
//! proxy's HTML 502, a body cut short). [`observe`] keeps them: the client's
//! `post` hook writes them into a task-local slot that only exists while
//! `observe` runs, so there is no allocation and no sharing between requests.

use reqwest::StatusCode;
use reqwest::header::{HeaderValue, RETRY_AFTER};
use std::cell::RefCell;
use std::future::Future;

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

/// Runs `operation` (a generated builder's `send()`) and returns its result
/// with the status and `Retry-After` of the response it received, if one was
/// received at all.
pub async fn observe<F: Future>(operation: F) -> (F::Output, Option<ResponseMeta>) {
    LAST_RESPONSE
        .scope(RefCell::new(None), async {
            let output = operation.await;
            let meta = LAST_RESPONSE.with(|slot| slot.borrow_mut().take());
            (output, meta)
        })
        .await
}

/// Called by the `post` hook: keeps the response's status for [`observe`]
/// (a no-op outside it).
pub(crate) fn record(response: &reqwest::Response) {
    let meta = ResponseMeta {
        status: response.status(),
        retry_after: response.headers().get(RETRY_AFTER).cloned(),
    };
    let _ = LAST_RESPONSE.try_with(|slot| *slot.borrow_mut() = Some(meta));
}
