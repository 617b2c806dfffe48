//! Client configuration: [`ClientBuilder`] and the environment variables.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use piapi_kling_client::{DEFAULT_MAX_RESPONSE_BYTES, RequestContext};
use piapi_kling_models::catalog::Usd;
use reqwest::Url;
use reqwest::header::{HeaderValue, USER_AGENT};
use secrecy::{ExposeSecret, SecretString};

use crate::core::Core;
use crate::error::{Error, Result};
use crate::retry::RetryPolicy;
use crate::transport::{Op, Transport};
use crate::wait_policy::WaitPolicy;

/// PiAPI's API host (the spec's server).
pub const DEFAULT_BASE_URL: &str = piapi_kling_client::servers::DEFAULT_SERVER;
/// PiAPI's upload host (the upload operation's own server in the spec).
pub const DEFAULT_UPLOAD_BASE_URL: &str = piapi_kling_client::servers::UPLOAD_FILE_SERVER;
/// The environment variable holding the API key (required by `from_env`).
pub const ENV_API_KEY: &str = "PIAPI_API_KEY";
/// The environment variable overriding the API base URL.
pub const ENV_BASE_URL: &str = "PIAPI_BASE_URL";
/// The environment variable overriding the upload base URL.
pub const ENV_UPLOAD_BASE_URL: &str = "PIAPI_UPLOAD_BASE_URL";

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
// Long enough for a 10 MB upload (13 MB of base64) on a modest uplink.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// Builds a [`Client`](crate::Client).
///
/// ```no_run
/// # fn run() -> Result<(), piapi_kling::Error> {
/// use std::time::Duration;
/// let client = piapi_kling::Client::builder()
///     .api_key("my-key")
///     .timeout(Duration::from_secs(30))
///     .retry_policy(piapi_kling::RetryPolicy::none())
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct ClientBuilder {
    api_key: Option<SecretString>,
    base_url: Option<String>,
    upload_base_url: Option<String>,
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
    user_agent: Option<String>,
    retry: RetryPolicy,
    wait: WaitPolicy,
    http: Option<reqwest::Client>,
    max_concurrent_requests: Option<usize>,
    strict: bool,
    allow_insecure_http: bool,
    max_response_bytes: Option<u64>,
    webhooks: Option<crate::webhook::WebhookReceiver>,
    budget: Option<Usd>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key)
            .field("base_url", &self.base_url)
            .field("upload_base_url", &self.upload_base_url)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field("wait", &self.wait)
            .field("budget", &self.budget)
            .field(
                "http",
                &self.http.as_ref().map(|_| "<caller's reqwest::Client>"),
            )
            .field("max_concurrent_requests", &self.max_concurrent_requests)
            .field("strict", &self.strict)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

impl ClientBuilder {
    /// A builder with every setting at its default and no API key.
    pub fn new() -> Self {
        ClientBuilder::default()
    }

    /// A builder configured from `PIAPI_API_KEY`, `PIAPI_BASE_URL` and
    /// `PIAPI_UPLOAD_BASE_URL` (empty values count as unset).
    pub fn from_env() -> Self {
        ClientBuilder::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup`.
    pub(crate) fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name| lookup(name).filter(|v: &String| !v.trim().is_empty());
        ClientBuilder {
            api_key: get(ENV_API_KEY).map(SecretString::from),
            base_url: get(ENV_BASE_URL),
            upload_base_url: get(ENV_UPLOAD_BASE_URL),
            ..ClientBuilder::default()
        }
    }

    /// The PiAPI API key (sent as `x-api-key`, marked sensitive, never printed).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// The API base URL (default `https://api.piapi.ai`). When it is set and the
    /// upload base URL is not, uploads go to this URL too (a proxy or the
    /// simulator serves both).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The upload base URL (default `https://upload.theapi.app`).
    pub fn upload_base_url(mut self, url: impl Into<String>) -> Self {
        self.upload_base_url = Some(url.into());
        self
    }

    /// How long opening a connection may take (default 10 s). Not available
    /// with [`http_client`](Self::http_client): set it on that client.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long one HTTP request may take in all (default 120 s, enough for a
    /// 10 MB upload). Applies to a caller's `reqwest::Client` too.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The `User-Agent` sent (default `piapi-kling/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Retries of single requests (default: [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How `wait()` polls (default: [`WaitPolicy::default`]).
    pub fn wait_policy(mut self, policy: WaitPolicy) -> Self {
        self.wait = policy;
        self
    }

    /// Sends requests through the caller's own `reqwest::Client` (proxies,
    /// TLS roots, connection pool). The key is added to each request by the
    /// generated `piapi-kling-client` (its `RequestContext`); the
    /// [`timeout`](Self::timeout) is applied around each request, failing
    /// with [`Error::RequestTimeout`].
    ///
    /// That client's redirect policy is its own: reqwest's default follows
    /// redirects to other hosts *with* the `x-api-key` header. Give it
    /// `reqwest::redirect::Policy::none()` (or a same-host policy) unless the
    /// network path is trusted; the SDK's own client follows only redirects
    /// to the same origin.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// At most `n` HTTP requests of this client (and its clones) in flight at
    /// once; the others wait their turn. Default 64.
    ///
    /// Each request in flight holds a connection, so this bounds the sockets
    /// and memory of a process that waits on thousands of tasks at once (they
    /// poll in turn over a small pool instead of opening one connection each),
    /// and keeps bursts within what PiAPI's rate limits tolerate.
    pub fn max_concurrent_requests(mut self, n: usize) -> Self {
        self.max_concurrent_requests = Some(n.max(1));
        self
    }

    /// Refuse what the local check only warns about (default `false`): a value
    /// an open enum does not list (a newer version or duration), a task type
    /// or model the spec does not know. By default those are sent as given,
    /// logged with `tracing` and kept on the handle
    /// ([`TaskHandle::warnings`](crate::TaskHandle::warnings)), since PiAPI
    /// may well accept them.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Lets the base URLs be plain `http://` on a host that is not loopback.
    /// Off by default: over plain HTTP anyone on the path reads the API key
    /// in every request. Loopback (`127.0.0.0/8`, `::1`, `localhost`), where
    /// the simulator and local proxies run, never needs it.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The largest API response body read, in bytes (default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`], 16 MiB; PiAPI's answers are a few
    /// KiB). A larger body fails with [`Error::ResponseTooLarge`] as soon as
    /// its `Content-Length` or the bytes read pass the limit.
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = Some(limit);
        self
    }

    /// Ends waits on webhook deliveries: `wait()` and the status streams
    /// read the task as soon as `receiver` gets a delivery for it, and
    /// otherwise poll only every [`WebhookReceiver::fallback_interval`]
    /// (a delivery can be lost).
    ///
    /// [`WebhookReceiver::fallback_interval`]: crate::webhook::WebhookReceiver::fallback_interval
    pub fn webhook_receiver(mut self, receiver: crate::webhook::WebhookReceiver) -> Self {
        self.webhooks = Some(receiver);
        self
    }

    /// Caps what this client may spend: each create reserves its estimate
    /// (from the spec's price table) and is refused with
    /// [`Error::OverBudget`] when the reserved plus the spent would go over
    /// `budget`, or when the table cannot price it. A finished task's
    /// reservation becomes what PiAPI charged once the client reads it
    /// (`wait()`, `get_task`…); see [`Client::spending`](crate::Client::spending).
    pub fn budget(mut self, budget: Usd) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Checks the settings and builds the client's core
    /// ([`ClientBuilder::build`] wraps it in the public `Client`).
    pub(crate) fn into_core(self) -> Result<Core> {
        let key = self
            .api_key
            .filter(|k| !k.expose_secret().trim().is_empty())
            .ok_or_else(|| {
                Error::Config(format!(
                    "no API key: set {ENV_API_KEY} or call ClientBuilder::api_key"
                ))
            })?;
        // The key travels in the generated client's context, as a sensitive
        // `x-api-key` header added to every request.
        let context = RequestContext::new(key.expose_secret().trim())
            .map_err(|_| {
                Error::Config(
                    "the API key contains characters not allowed in an HTTP header".into(),
                )
            })?
            .with_max_response_bytes(
                self.max_response_bytes
                    .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
            );

        let base_overridden = self.base_url.is_some();
        let base_url = parse_base(
            "base URL",
            self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL),
        )?;
        let upload_base_url = match (&self.upload_base_url, base_overridden) {
            (Some(url), _) => parse_base("upload base URL", url)?,
            (None, true) => base_url.clone(),
            (None, false) => parse_base("upload base URL", DEFAULT_UPLOAD_BASE_URL)?,
        };
        for (what, url) in [
            ("base URL", &base_url),
            ("upload base URL", &upload_base_url),
        ] {
            check_transport(what, url, self.allow_insecure_http)?;
        }

        let user_agent = self
            .user_agent
            .unwrap_or_else(|| concat!("piapi-kling/", env!("CARGO_PKG_VERSION")).to_owned());
        let user_agent = HeaderValue::from_str(&user_agent)
            .map_err(|_| Error::Config("the user agent is not a valid header value".into()))?;

        let context = context.with_header(USER_AGENT, user_agent);

        let timeout = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
        // The SDK's own HTTP client enforces the timeout itself; a caller's
        // client cannot be changed, so the timeout is then a deadline around
        // each attempt (`Error::RequestTimeout`).
        let (http, attempt_timeout) = match self.http {
            Some(_) if self.connect_timeout.is_some() => {
                return Err(Error::Config(
                    "connect_timeout cannot be applied to a caller's reqwest::Client; set it on that client".into(),
                ));
            }
            Some(http) => (http, Some(timeout)),
            None => (
                reqwest::Client::builder()
                    .connect_timeout(self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT))
                    .timeout(timeout)
                    // reqwest forwards custom headers such as `x-api-key`
                    // on a redirect to another host: follow only redirects
                    // that stay on the same origin.
                    .redirect(same_origin_redirects())
                    .build()
                    .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?,
                None,
            ),
        };

        // One generated client for every operation: its request hook sends
        // the upload to the upload host.
        let context = context.with_operation_server(Op::Upload.name(), base_str(&upload_base_url));
        let api = piapi_kling_client::Client::new_with_client(base_str(&base_url), http, context);

        let limit = self
            .max_concurrent_requests
            .unwrap_or(DEFAULT_MAX_CONCURRENT_REQUESTS);
        Ok(Core {
            api,
            base_url,
            upload_base_url,
            timeout,
            transport: Transport {
                requests: Arc::new(tokio::sync::Semaphore::new(limit)),
                retry: self.retry,
                attempt_timeout,
                key_text: SecretString::from(key.expose_secret().trim().to_owned()),
            },
            wait: self.wait,
            creates: tokio::sync::Semaphore::new(limit),
            strict: self.strict,
            webhooks: self.webhooks,
            budget: self.budget.map(crate::budget::Budget::new),
        })
    }
}

/// HTTP requests in flight per client unless
/// [`ClientBuilder::max_concurrent_requests`] says otherwise.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 64;

/// A base URL as the generated client wants it: the paths it appends start
/// with `/`.
fn base_str(url: &Url) -> &str {
    url.as_str().trim_end_matches('/')
}

/// At most this many redirects are followed, all on the origin requested.
const MAX_REDIRECTS: usize = 10;

/// The redirect policy of the SDK's own HTTP client: a redirect is followed
/// only to the same scheme, host and port, so the key reaches no host the
/// user did not configure.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let Some(first) = attempt.previous().first() else {
            return attempt.follow();
        };
        if attempt.url().origin() != first.origin() {
            let message = format!(
                "refused a redirect from {} to {}: the API key is only sent to the configured host",
                first.origin().ascii_serialization(),
                attempt.url().origin().ascii_serialization()
            );
            attempt.error(message)
        } else if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
        } else {
            attempt.follow()
        }
    })
}

/// Refuses plain `http://` to a host that is not loopback unless `allowed`:
/// the key would cross the network in clear text.
fn check_transport(what: &str, url: &Url, allowed: bool) -> Result<()> {
    if url.scheme() != "http" || is_loopback(url) {
        return Ok(());
    }
    let origin = url.origin().ascii_serialization();
    if !allowed {
        return Err(Error::Config(format!(
            "refusing to send the API key in clear text to {origin} (the {what} is plain http:// and the host is not loopback): use https://, or opt in with ClientBuilder::allow_insecure_http (kling --allow-insecure-http)"
        )));
    }
    tracing::warn!(url = %origin, "the API key is sent in clear text over plain HTTP (allow_insecure_http)");
    Ok(())
}

/// `127.0.0.0/8`, `::1` (also IPv4-mapped) and `localhost`.
fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    // An IPv6 host is written in brackets.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(std::net::IpAddr::V6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => host.trim_end_matches('.').eq_ignore_ascii_case("localhost"),
    }
}

/// Parses an http(s) base URL, without a trailing slash in its path.
fn parse_base(what: &str, url: &str) -> Result<Url> {
    let mut parsed = Url::parse(url.trim())
        .map_err(|e| Error::Config(format!("invalid {what} `{url}`: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.cannot_be_a_base() {
        return Err(Error::Config(format!(
            "invalid {what} `{url}`: must be an http(s) URL"
        )));
    }
    let path = parsed.path().trim_end_matches('/').to_owned();
    parsed.set_path(&path);
    parsed.set_query(None);
    parsed.set_fragment(None);
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use piapi_kling_client::ClientInfo as _;

    fn env(vars: &'static [(&'static str, &'static str)]) -> ClientBuilder {
        ClientBuilder::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn missing_key_is_a_config_error() {
        let err = env(&[]).build().unwrap_err();
        assert!(
            matches!(&err, Error::Config(m) if m.contains("PIAPI_API_KEY")),
            "{err}"
        );
        let err = env(&[(ENV_API_KEY, "  ")]).build().unwrap_err();
        assert!(matches!(err, Error::Config(_)));
    }

    #[test]
    fn default_hosts() {
        let client = env(&[(ENV_API_KEY, "k")]).into_core().unwrap();
        assert_eq!(client.base_url.as_str(), "https://api.piapi.ai/");
        assert_eq!(
            client.upload_base_url.as_str(),
            "https://upload.theapi.app/"
        );
        assert_eq!(client.api.baseurl(), "https://api.piapi.ai");
        assert_eq!(
            client
                .api
                .context()
                .operation_server("upload_file", client.api.baseurl()),
            Some("https://upload.theapi.app")
        );
        assert!(client.api.context().has_api_key());
        assert!(client.transport.attempt_timeout.is_none());
    }

    #[test]
    fn an_overridden_base_url_also_receives_uploads() {
        let client = env(&[
            (ENV_API_KEY, "k"),
            (ENV_BASE_URL, "http://127.0.0.1:9/proxy/"),
        ])
        .into_core()
        .unwrap();
        assert_eq!(client.base_url.as_str(), "http://127.0.0.1:9/proxy");
        assert_eq!(client.upload_base_url.as_str(), "http://127.0.0.1:9/proxy");
        // The generated clients append `/api/...` to the base path.
        assert_eq!(client.api.baseurl(), "http://127.0.0.1:9/proxy");
        assert_eq!(
            client
                .api
                .context()
                .operation_server("upload_file", client.api.baseurl()),
            Some("http://127.0.0.1:9/proxy")
        );

        let client = env(&[
            (ENV_API_KEY, "k"),
            (ENV_BASE_URL, "http://127.0.0.1:9"),
            (ENV_UPLOAD_BASE_URL, "http://127.0.0.1:10"),
        ])
        .into_core()
        .unwrap();
        assert_eq!(client.upload_base_url.as_str(), "http://127.0.0.1:10/");
    }

    #[test]
    fn bad_urls_and_keys_are_config_errors_without_the_key() {
        let err = ClientBuilder::new()
            .api_key("k")
            .base_url("ftp://x")
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)));
        let err = ClientBuilder::new()
            .api_key("bad\nkey-SECRET")
            .build()
            .unwrap_err();
        assert!(!err.to_string().contains("SECRET"));
        let err = ClientBuilder::new()
            .api_key("k")
            .http_client(reqwest::Client::new())
            .connect_timeout(Duration::from_secs(1))
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)));
    }

    #[test]
    fn debug_redacts_the_key() {
        let builder = ClientBuilder::new().api_key("KEY-VALUE-123");
        assert!(!format!("{builder:?}").contains("KEY-VALUE-123"));
        let client = builder.build().unwrap();
        assert!(!format!("{client:?}").contains("KEY-VALUE-123"));
    }
}
