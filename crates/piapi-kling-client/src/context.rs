//! What every request carries besides its own parameters.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, InvalidHeaderValue};
use std::fmt;

use crate::limit::DEFAULT_MAX_RESPONSE_BYTES;

/// The API key and extra headers a [`crate::Client`] adds to each request,
/// and the cap on the size of the bodies it reads.
#[derive(Clone)]
pub struct RequestContext {
    api_key: Option<HeaderValue>,
    headers: HeaderMap,
    max_response_bytes: u64,
}

impl Default for RequestContext {
    /// No key, no extra header, bodies capped at
    /// [`DEFAULT_MAX_RESPONSE_BYTES`](crate::DEFAULT_MAX_RESPONSE_BYTES).
    fn default() -> Self {
        RequestContext {
            api_key: None,
            headers: HeaderMap::new(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

impl RequestContext {
    /// A context that authenticates with `api_key` (kept as a sensitive header).
    pub fn new(api_key: &str) -> Result<Self, InvalidHeaderValue> {
        let mut key = HeaderValue::from_str(api_key)?;
        key.set_sensitive(true);
        Ok(RequestContext {
            api_key: Some(key),
            ..RequestContext::default()
        })
    }

    /// The same context reading response bodies of at most `limit` bytes
    /// (default [`DEFAULT_MAX_RESPONSE_BYTES`](crate::DEFAULT_MAX_RESPONSE_BYTES));
    /// a larger body fails with [`ResponseTooLarge`](crate::ResponseTooLarge)
    /// in the error's source chain.
    pub fn with_max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// The cap on response bodies, in bytes.
    pub fn max_response_bytes(&self) -> u64 {
        self.max_response_bytes
    }

    /// The same context with `name: value` added to every request.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// The extra headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Whether an API key is set.
    pub fn has_api_key(&self) -> bool {
        self.api_key.is_some()
    }

    /// Writes the key and the extra headers into `headers`. progenitor's
    /// `api-version` header is dropped: PiAPI defines no such header.
    pub(crate) fn apply(&self, headers: &mut HeaderMap) {
        headers.remove("api-version");
        if let Some(key) = &self.api_key {
            headers.insert("x-api-key", key.clone());
        }
        for (name, value) in &self.headers {
            headers.insert(name, value.clone());
        }
    }
}

impl fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.keys().map(HeaderName::as_str).collect();
        f.debug_struct("RequestContext")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("headers", &names)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}
