//! A cap on the size of response bodies, so that a hostile or broken server
//! cannot make the client hold an unbounded body in memory.
//!
//! The `exec` hook passes each response through [`cap`]. A body whose exact
//! length is known and within the limit is left as it is: hyper delivers
//! exactly the announced length, never more, so the common case costs
//! nothing. Any other body is wrapped in [`CappedBody`]: one announcing more
//! than the limit fails at its first read, without reading anything; one of
//! unknown length (chunked, or decompressed by a caller's client) fails as
//! soon as the bytes read pass the limit, one comparison per chunk.

use std::error::Error as StdError;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};
use reqwest::ResponseBuilderExt as _;

/// The default cap on an API response body: 16 MiB, far above any PiAPI
/// answer (a task is a few KiB).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

/// The error a response body fails with when it is larger than the limit of
/// its client ([`crate::RequestContext::with_max_response_bytes`]). Find it
/// in a `reqwest::Error`'s source chain with [`ResponseTooLarge::find`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseTooLarge {
    /// The limit, in bytes.
    pub limit: u64,
    /// The length the response announced (`Content-Length`), when it was
    /// over the limit; `None` when the body passed the limit while read.
    pub announced: Option<u64>,
}

impl fmt::Display for ResponseTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.announced {
            Some(length) => write!(
                f,
                "the response body announces {length} bytes, more than the limit of {} bytes",
                self.limit
            ),
            None => write!(
                f,
                "the response body is larger than the limit of {} bytes",
                self.limit
            ),
        }
    }
}

impl StdError for ResponseTooLarge {}

impl ResponseTooLarge {
    /// The `ResponseTooLarge` in `error` or its sources, if any.
    pub fn find<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a ResponseTooLarge> {
        let mut current = Some(error);
        while let Some(e) = current {
            if let Some(found) = e.downcast_ref::<ResponseTooLarge>() {
                return Some(found);
            }
            current = e.source();
        }
        None
    }
}

/// `response` with its body capped at `limit` bytes. The status, headers,
/// version and URL are kept.
pub(crate) fn cap(response: reqwest::Response, limit: u64) -> reqwest::Response {
    let announced = response.content_length();
    if announced.is_some_and(|length| length <= limit) {
        return response;
    }
    let url = response.url().clone();
    let (parts, body) = http::Response::<reqwest::Body>::from(response).into_parts();
    let capped = CappedBody {
        inner: body,
        read: 0,
        limit,
        announced,
    };
    let mut rebuilt = http::Response::new(reqwest::Body::wrap(capped));
    *rebuilt.status_mut() = parts.status;
    *rebuilt.version_mut() = parts.version;
    *rebuilt.headers_mut() = parts.headers;
    *rebuilt.extensions_mut() = parts.extensions;
    // reqwest keeps a response's URL in a private extension that only its
    // builder extension sets; without it errors would name a placeholder URL.
    if let Ok(carrier) = http::Response::builder().url(url).body(()) {
        rebuilt
            .extensions_mut()
            .extend(carrier.into_parts().0.extensions);
    }
    reqwest::Response::from(rebuilt)
}

/// A body that fails once more than `limit` bytes were announced or read.
struct CappedBody<B> {
    inner: B,
    read: u64,
    limit: u64,
    announced: Option<u64>,
}

impl<B> Body for CappedBody<B>
where
    B: Body<Data = bytes::Bytes> + Unpin,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    type Data = bytes::Bytes;
    type Error = Box<dyn StdError + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        if let Some(length) = this.announced.filter(|&n| n > this.limit) {
            return Poll::Ready(Some(Err(Box::new(ResponseTooLarge {
                limit: this.limit,
                announced: Some(length),
            }))));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.read = this.read.saturating_add(data.len() as u64);
                    if this.read > this.limit {
                        return Poll::Ready(Some(Err(Box::new(ResponseTooLarge {
                            limit: this.limit,
                            announced: None,
                        }))));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_is_found_anywhere_in_a_source_chain() {
        #[derive(Debug)]
        struct Outer(ResponseTooLarge);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("outer")
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let inner = ResponseTooLarge {
            limit: 10,
            announced: None,
        };
        assert_eq!(ResponseTooLarge::find(&Outer(inner)), Some(&inner));
        let unrelated = std::io::Error::other("x");
        assert_eq!(ResponseTooLarge::find(&unrelated), None);
        assert!(inner.to_string().contains("limit of 10 bytes"));
    }

    #[test]
    fn a_capped_response_keeps_its_status_headers_and_url() {
        let url = reqwest::Url::parse("http://127.0.0.1:9/api/v1/task/t").unwrap();
        let response = |body: &'static str| {
            let http = http::Response::builder()
                .status(502)
                .header("retry-after", "3")
                .url(url.clone())
                .body(body)
                .unwrap();
            reqwest::Response::from(http)
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();

        let capped = cap(response("0123456789"), 4);
        assert_eq!(capped.status(), 502);
        assert_eq!(capped.headers()["retry-after"], "3");
        assert_eq!(capped.url(), &url);
        let error = rt.block_on(capped.bytes()).unwrap_err();
        assert_eq!(
            ResponseTooLarge::find(&error),
            Some(&ResponseTooLarge {
                limit: 4,
                announced: Some(10)
            })
        );

        let within = cap(response("0123456789"), 10);
        assert_eq!(rt.block_on(within.bytes()).unwrap(), "0123456789");
    }
}
