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
    /// Hosts chosen for single operations, by operation id.
    operation_servers: Vec<(String, String)>,
}

impl Default for RequestContext {
    /// No key, no extra header, bodies capped at
    /// [`DEFAULT_MAX_RESPONSE_BYTES`](crate::DEFAULT_MAX_RESPONSE_BYTES).
    fn default() -> Self {
        RequestContext {
            api_key: None,
            headers: HeaderMap::new(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            operation_servers: Vec::new(),
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

    /// The same context sending operation `operation_id` (e.g. `"upload_file"`)
    /// to `base_url` instead of the client's base URL. Without it, an
    /// operation the spec serves on a host of its own
    /// ([`OPERATION_SERVERS`](crate::servers::OPERATION_SERVERS)) goes to that
    /// host when the client's base URL is the API's own
    /// ([`DEFAULT_SERVER`](crate::servers::DEFAULT_SERVER)), and to the
    /// client's base URL otherwise (a proxy or a simulator serves every
    /// operation on one address).
    pub fn with_operation_server(mut self, operation_id: &str, base_url: &str) -> Self {
        let base_url = base_url.trim_end_matches('/').to_owned();
        match self
            .operation_servers
            .iter_mut()
            .find(|(id, _)| id == operation_id)
        {
            Some(entry) => entry.1 = base_url,
            None => self
                .operation_servers
                .push((operation_id.to_owned(), base_url)),
        }
        self
    }

    /// The host operation `operation_id` goes to when the client's base URL
    /// is `client_base_url`, when that is not the client's base URL.
    pub fn operation_server<'a>(
        &'a self,
        operation_id: &str,
        client_base_url: &str,
    ) -> Option<&'a str> {
        if let Some((_, url)) = self
            .operation_servers
            .iter()
            .find(|(id, _)| id == operation_id)
        {
            return Some(url);
        }
        if client_base_url.trim_end_matches('/') != crate::servers::DEFAULT_SERVER {
            return None;
        }
        crate::servers::OPERATION_SERVERS
            .iter()
            .find(|(id, _)| *id == operation_id)
            .map(|(_, url)| *url)
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
            .field("operation_servers", &self.operation_servers)
            .finish()
    }
}
