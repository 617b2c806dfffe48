//! Throughput and memory of the simulator over loopback.
//!
//! ```text
//! cargo bench -p piapi-kling-sim --bench throughput
//! ```
//!
//! Starts a simulator in this process, then:
//! 1. creates up to 100,000 tasks over 64 keep-alive connections (bounded to
//!    60 s) and reports creates/s and the resident memory they added;
//! 2. reads random tasks with 200,000 GETs over 64 connections (bounded to
//!    30 s) and reports GETs/s with p50/p99 latency;
//! 3. if `wrk` is installed, runs it for 10 s against one task as an external
//!    load generator (it costs less CPU than the in-process one, which shares
//!    the machine's cores with the server).
//!
//! Env: `BENCH_TASKS` (100000), `BENCH_GETS` (200000), `BENCH_CONNECTIONS` (64),
//! `BENCH_REQUEST_LOG` (0; the log's capacity, 0 = off so that the memory
//! figure is the tasks' alone).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use piapi_kling_sim::Simulator;
use tokio::net::TcpStream;
use uuid::Uuid;

const KEY: &str = "bench-key";
const CREATE_BODY: &str = r#"{"model":"kling","task_type":"video_generation","input":{"prompt":"White egrets fly over the vast paddy fields","negative_prompt":"","cfg_scale":0.5,"duration":5,"aspect_ratio":"1:1","camera_control":{"type":"simple","config":{"horizontal":0,"vertical":0,"pan":-10,"tilt":0,"roll":0,"zoom":0}},"mode":"std"},"config":{"service_mode":"","webhook_config":{"endpoint":"","secret":""}}}"#;

/// Builds request number `i` of a phase.
type MakeRequest = Arc<dyn Fn(usize) -> Request<Full<Bytes>> + Send + Sync>;
/// Sees each response body of a phase.
type SeeBody = Arc<dyn Fn(&[u8]) + Send + Sync>;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Resident set size of this process in bytes (Linux).
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

struct PhaseResult {
    done: usize,
    errors: usize,
    elapsed: Duration,
    latencies_us: Vec<u32>,
}

impl PhaseResult {
    fn rate(&self) -> f64 {
        self.done as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&mut self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        self.latencies_us.sort_unstable();
        let index = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        f64::from(self.latencies_us[index]) / 1000.0
    }
}

/// Sends up to `total` requests over `connections` keep-alive connections,
/// stopping at `limit`. `make(i)` builds request `i`; `seen` gets each body.
async fn phase(
    addr: SocketAddr,
    connections: usize,
    total: usize,
    limit: Duration,
    make: MakeRequest,
    seen: SeeBody,
) -> PhaseResult {
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..connections {
        let (next, errors, make, seen) = (next.clone(), errors.clone(), make.clone(), seen.clone());
        workers.push(tokio::spawn(async move {
            let stream = TcpStream::connect(addr).await.expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .expect("handshake");
            tokio::spawn(connection);
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total || started.elapsed() > limit {
                    return latencies;
                }
                let sent = Instant::now();
                let ok = async {
                    sender.ready().await.ok()?;
                    let response = sender.send_request(make(i)).await.ok()?;
                    let status = response.status();
                    let body = response.into_body().collect().await.ok()?.to_bytes();
                    seen(&body);
                    status.is_success().then_some(())
                }
                .await;
                latencies.push(sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                if ok.is_none() {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let mut latencies_us = Vec::new();
    for worker in workers {
        latencies_us.extend(worker.await.expect("worker"));
    }
    let elapsed = started.elapsed();
    PhaseResult {
        done: latencies_us.len(),
        errors: errors.load(Ordering::Relaxed),
        elapsed,
        latencies_us,
    }
}

fn task_id_of(body: &[u8]) -> Option<Uuid> {
    let marker = b"\"task_id\":\"";
    let start = body.windows(marker.len()).position(|w| w == marker)? + marker.len();
    Uuid::try_parse_ascii(body.get(start..start + 36)?).ok()
}

fn wrk(url: &str) -> Option<String> {
    let output = std::process::Command::new("wrk")
        .args([
            "-t1",
            "-c64",
            "-d10s",
            "-H",
            &format!("x-api-key: {KEY}"),
            url,
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    output.status.success().then_some(text)
}

#[tokio::main]
async fn main() {
    let tasks = env_usize("BENCH_TASKS", 100_000);
    let gets = env_usize("BENCH_GETS", 200_000);
    let connections = env_usize("BENCH_CONNECTIONS", 64);
    let request_log = env_usize("BENCH_REQUEST_LOG", 0);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());

    // Tasks complete at once at this speed, so GETs render the largest body
    // (a completed task with its works).
    let sim = Simulator::builder()
        .api_key(KEY)
        .speed(1_000_000.0)
        .max_tasks(tasks.max(1))
        .request_log_capacity(request_log)
        .start()
        .await
        .expect("simulator starts");
    let addr = sim.addr();
    println!(
        "piapi-kling-sim throughput: {cores} cores, {connections} connections, request log {request_log}"
    );

    let ids = Arc::new(Mutex::new(Vec::with_capacity(tasks)));
    let rss_before = rss_bytes();
    let create: MakeRequest = Arc::new(move |_| {
        Request::post("/api/v1/task")
            .header("host", addr.to_string())
            .header("x-api-key", KEY)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(CREATE_BODY.as_bytes())))
            .expect("request")
    });
    let collect = {
        let ids = ids.clone();
        Arc::new(move |body: &[u8]| {
            if let Some(id) = task_id_of(body) {
                ids.lock().push(id);
            }
        })
    };
    let mut creates = phase(
        addr,
        connections,
        tasks,
        Duration::from_secs(60),
        create,
        collect,
    )
    .await;
    let (p50, p99) = (creates.percentile(0.5), creates.percentile(0.99));
    let rss_after = rss_bytes();
    let stored = sim.task_count();
    println!(
        "create: {} tasks in {:.2} s = {:.0} req/s (p50 {:.2} ms, p99 {:.2} ms, {} errors)",
        creates.done,
        creates.elapsed.as_secs_f64(),
        creates.rate(),
        p50,
        p99,
        creates.errors
    );
    let grown = rss_after.saturating_sub(rss_before);
    println!(
        "memory: {stored} stored tasks added {:.1} MiB RSS = {:.0} bytes/task = {:.1} MiB per 100,000 tasks",
        grown as f64 / 1_048_576.0,
        grown as f64 / stored.max(1) as f64,
        grown as f64 / stored.max(1) as f64 * 100_000.0 / 1_048_576.0
    );

    let ids: Arc<Vec<Uuid>> = Arc::new(std::mem::take(&mut *ids.lock()));
    assert!(!ids.is_empty(), "no task was created");
    let get: MakeRequest = {
        let ids = ids.clone();
        Arc::new(move |i| {
            // A multiplicative hash spreads reads over all tasks.
            let id = ids[i.wrapping_mul(2_654_435_761) % ids.len()];
            Request::get(format!("/api/v1/task/{id}"))
                .header("host", addr.to_string())
                .header("x-api-key", KEY)
                .body(Full::new(Bytes::new()))
                .expect("request")
        })
    };
    let mut reads = phase(
        addr,
        connections,
        gets,
        Duration::from_secs(30),
        get,
        Arc::new(|_| {}),
    )
    .await;
    let (p50, p99) = (reads.percentile(0.5), reads.percentile(0.99));
    println!(
        "get:    {} reads in {:.2} s = {:.0} req/s (p50 {:.2} ms, p99 {:.2} ms, {} errors)",
        reads.done,
        reads.elapsed.as_secs_f64(),
        reads.rate(),
        p50,
        p99,
        reads.errors
    );

    let url = format!("http://{addr}/api/v1/task/{}", ids[0]);
    match wrk(&url) {
        Some(report) => {
            let line = |key: &str| {
                report
                    .lines()
                    .find(|l| l.trim_start().starts_with(key))
                    .map_or(String::new(), |l| l.trim().to_owned())
            };
            println!(
                "wrk -t1 -c64 -d10s GET one task: {} | {}",
                line("Requests/sec"),
                line("Latency")
            );
        }
        None => println!("wrk: not installed, skipped (apt-get install wrk)"),
    }
    sim.shutdown().await;
}
