//! The library entry point: configure with [`SimulatorBuilder`], start on a
//! (by default ephemeral loopback) port, inspect and stop through
//! [`RunningSimulator`].

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use piapi_kling_models::TaskData;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::faults::{FaultInjector, Faults};
use crate::files::FileStore;
use crate::reqlog::{LoggedRequest, RequestLog};
use crate::routes;
use crate::server;
use crate::state::{AppState, Settings};

/// The API key the simulator accepts unless told otherwise.
pub const DEFAULT_API_KEY: &str = "sim-test-key";

/// The entry point: `Simulator::builder()...start().await`.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// A builder with the defaults: key `sim-test-key`, speed 1, no
    /// concurrency cap, 100,000 stored tasks, no faults, `127.0.0.1:0`.
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder::default()
    }
}

/// How to run a simulator; see [`Simulator::builder`].
#[derive(Clone, Debug)]
pub struct SimulatorBuilder {
    api_key: String,
    speed: f64,
    concurrency_cap: Option<usize>,
    max_tasks: usize,
    faults: Faults,
    bind: SocketAddr,
    public_url: Option<String>,
    initial_credits: i64,
    request_log_capacity: usize,
    upload_capacity_bytes: usize,
    accept_unknown_task_types: bool,
}

impl Default for SimulatorBuilder {
    fn default() -> Self {
        SimulatorBuilder {
            api_key: DEFAULT_API_KEY.to_owned(),
            speed: 1.0,
            concurrency_cap: None,
            max_tasks: 100_000,
            faults: Faults::default(),
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            public_url: None,
            // $10,000: enough that no test runs out.
            initial_credits: 100_000_000_000,
            request_log_capacity: 100_000,
            upload_capacity_bytes: 256 * 1024 * 1024,
            accept_unknown_task_types: false,
        }
    }
}

impl SimulatorBuilder {
    /// The key clients must send in `x-api-key` (default `sim-test-key`).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = key.into();
        self
    }

    /// Divides every duration (queueing, rendering, upload retention,
    /// webhook backoff) by `factor`; 1.0 is real time, 1000 turns a
    /// two-minute render into 120 ms. Must be positive.
    pub fn speed(mut self, factor: f64) -> Self {
        self.speed = factor;
        self
    }

    /// At most `n` tasks pending or processing at once; the others are
    /// `staged` until a slot frees (default: no cap). Must be at least 1.
    pub fn concurrency_cap(mut self, n: usize) -> Self {
        self.concurrency_cap = Some(n);
        self
    }

    /// At most `n` stored tasks (default 100,000). A create beyond it evicts
    /// the oldest finished task; if none has finished it is answered 429.
    pub fn max_tasks(mut self, n: usize) -> Self {
        self.max_tasks = n;
        self
    }

    /// Random faults from the start; see [`Faults`].
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// The address to listen on (default `127.0.0.1:0`, an ephemeral port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// The base of the URLs in responses and of [`RunningSimulator::base_url`]
    /// (default `http://<bound address>`, with `127.0.0.1` for `0.0.0.0`);
    /// for a simulator reached through a proxy or a container port.
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }

    /// The account's starting balance in units of 1e-7 USD (default
    /// 100,000,000,000 = $10,000).
    pub fn initial_credits(mut self, credits: i64) -> Self {
        self.initial_credits = credits;
        self
    }

    /// How many requests [`RunningSimulator::request_log`] keeps, newest
    /// last (default 100,000; 0 keeps none). Counts stay exact regardless.
    pub fn request_log_capacity(mut self, n: usize) -> Self {
        self.request_log_capacity = n;
        self
    }

    /// Total bytes of uploads kept; the oldest go first (default 256 MiB).
    pub fn upload_capacity_bytes(mut self, bytes: usize) -> Self {
        self.upload_capacity_bytes = bytes;
        self
    }

    /// Accept a `task_type` the spec does not list (default: refused with 400,
    /// as PiAPI refuses a type it does not have) and run it as a standard
    /// video task: for testing that clients can send task types newer than
    /// their models.
    pub fn accept_unknown_task_types(mut self, accept: bool) -> Self {
        self.accept_unknown_task_types = accept;
        self
    }

    /// Binds and starts serving in the background. Must be called inside a
    /// Tokio runtime, which then runs the server.
    pub async fn start(self) -> io::Result<RunningSimulator> {
        let invalid =
            |message: &str| io::Error::new(io::ErrorKind::InvalidInput, message.to_owned());
        if !(self.speed.is_finite() && self.speed > 0.0) {
            return Err(invalid("speed must be a positive number"));
        }
        if self.max_tasks == 0 {
            return Err(invalid("max_tasks must be at least 1"));
        }
        if self.concurrency_cap == Some(0) {
            return Err(invalid("concurrency_cap must be at least 1"));
        }
        let listener = TcpListener::bind(self.bind).await?;
        let addr = listener.local_addr()?;
        let base_url = match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", reachable(addr)),
        };
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let settings = Settings {
            api_key: self.api_key.clone(),
            speed: self.speed,
            max_tasks: self.max_tasks,
            base_url: base_url.clone(),
            initial_credits: self.initial_credits,
            account_id: format!("sim-{}", Uuid::new_v4().simple()),
            accept_unknown_task_types: self.accept_unknown_task_types,
        };
        let state = Arc::new(AppState::new(
            settings,
            self.concurrency_cap,
            FaultInjector::new(self.faults),
            RequestLog::new(self.request_log_capacity),
            FileStore::new(self.upload_capacity_bytes, self.speed),
            shutdown_rx.clone(),
        ));
        let router = routes::router(state.clone());
        let server = tokio::spawn(server::serve(
            listener,
            state.clone(),
            router,
            shutdown_rx.clone(),
        ));
        let scheduler = tokio::spawn(state.clone().run_scheduler(shutdown_rx));
        tracing::info!(%base_url, speed = self.speed, "simulator listening");
        Ok(RunningSimulator {
            addr,
            base_url,
            api_key: self.api_key,
            state,
            shutdown: shutdown_tx,
            tasks: Some((server, scheduler)),
        })
    }
}

/// An address clients can connect to: the unspecified address means
/// "every interface", of which loopback is one.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
        }
        _ => addr,
    }
}

/// A started simulator. Dropping it stops the server too (without waiting);
/// [`RunningSimulator::shutdown`] stops it gracefully.
pub struct RunningSimulator {
    addr: SocketAddr,
    base_url: String,
    api_key: String,
    state: Arc<AppState>,
    shutdown: watch::Sender<bool>,
    tasks: Option<(JoinHandle<()>, JoinHandle<()>)>,
}

impl std::fmt::Debug for RunningSimulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The API key is a secret even in a simulator: never printed.
        f.debug_struct("RunningSimulator")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl RunningSimulator {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The key it accepts in `x-api-key`.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The requests answered so far, oldest first (bounded by
    /// [`SimulatorBuilder::request_log_capacity`]).
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.state.log.entries()
    }

    /// How many requests had exactly this method and path (no query), e.g.
    /// `("POST", "/api/v1/task")`; exact even beyond the log's capacity.
    pub fn count_requests(&self, method: &str, path: &str) -> usize {
        self.state.log.count(method, path)
    }

    /// Replaces the random faults (and restarts their generator from the
    /// new seed); takes effect from the next request.
    pub fn set_faults(&self, faults: Faults) {
        self.state.faults.set(faults);
    }

    /// The task as `GET /api/v1/task/{task_id}` would show it now.
    pub fn task(&self, task_id: &str) -> Option<TaskData> {
        let id = Uuid::parse_str(task_id).ok()?;
        self.state.task(&id, Instant::now())
    }

    /// How many tasks are stored.
    pub fn task_count(&self) -> usize {
        self.state.task_count()
    }

    /// Stops accepting, lets in-flight requests finish (at most 5 s), and
    /// stops the scheduler and pending webhook retries.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some((server, scheduler)) = self.tasks.take() {
            let _ = server.await;
            let _ = scheduler.await;
        }
        tracing::info!(base_url = %self.base_url, "simulator stopped");
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_can_be_shared_across_tasks() {
        fn shareable<T: Send + Sync>() {}
        shareable::<RunningSimulator>();
        shareable::<SimulatorBuilder>();
    }

    #[test]
    fn unspecified_addresses_are_reached_on_loopback() {
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(reachable(any).to_string(), "127.0.0.1:8080");
        let any6: SocketAddr = "[::]:8080".parse().unwrap();
        assert_eq!(reachable(any6).to_string(), "[::1]:8080");
        let fixed: SocketAddr = "127.0.0.2:1".parse().unwrap();
        assert_eq!(reachable(fixed), fixed);
    }
}
