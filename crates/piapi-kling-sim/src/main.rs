//! `piapi-kling-sim`: runs the simulator until Ctrl-C (or SIGTERM).
//!
//! ```text
//! piapi-kling-sim --port 8080 --api-key KEY --speed 50 [--concurrency-cap N] [--max-tasks N] [--host 127.0.0.1]
//! ```
//! Prints the base URL on stdout once it listens; logs go to stderr
//! (`RUST_LOG=debug` shows every request).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use clap::Parser;
use piapi_kling_sim::{DEFAULT_API_KEY, Faults, Simulator};
use tracing_subscriber::EnvFilter;

/// A local simulator of PiAPI's Kling task API.
#[derive(Debug, Parser)]
#[command(name = "piapi-kling-sim", version, about)]
struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// The key clients must send in x-api-key.
    #[arg(long, default_value = DEFAULT_API_KEY, hide_default_value = true)]
    api_key: String,
    /// Divide every duration by this factor (50 turns a 2-minute render into 2.4 s).
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// At most N tasks pending or processing; the rest are staged.
    #[arg(long, value_name = "N")]
    concurrency_cap: Option<usize>,
    /// At most N stored tasks; the oldest finished ones are evicted first.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    max_tasks: usize,
    /// Base of the URLs in responses (default http://HOST:PORT).
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Probability of answering 500/503 without running the operation.
    #[arg(long, default_value_t = 0.0)]
    server_error_rate: f64,
    /// Probability of answering 429 without running the operation.
    #[arg(long, default_value_t = 0.0)]
    too_many_requests_rate: f64,
    /// Retry-After seconds of injected 429s.
    #[arg(long, default_value_t = 1)]
    retry_after_secs: u64,
    /// Probability of closing the connection without an answer.
    #[arg(long, default_value_t = 0.0)]
    drop_connection_rate: f64,
    /// Probability of closing the connection without an answer after the operation ran.
    #[arg(long, default_value_t = 0.0)]
    dropped_answer_rate: f64,
    /// Probability of a body cut short of its Content-Length (after the operation ran).
    #[arg(long, default_value_t = 0.0)]
    truncated_body_rate: f64,
    /// Probability of an invalid JSON body (after the operation ran).
    #[arg(long, default_value_t = 0.0)]
    malformed_body_rate: f64,
    /// Probability of unknown enum values in task bodies.
    #[arg(long, default_value_t = 0.0)]
    unknown_enum_rate: f64,
    /// Probability of extra unknown fields in every object of bodies.
    #[arg(long, default_value_t = 0.0)]
    extra_fields_rate: f64,
    /// Probability of a task body in a newer shape (an unknown task type,
    /// the video in `output.video`).
    #[arg(long, default_value_t = 0.0)]
    new_shape_rate: f64,
    /// Added latency per answer, uniform in MIN-MAX milliseconds (e.g. 20-200).
    #[arg(long, value_name = "MIN-MAX", value_parser = parse_latency)]
    latency_ms: Option<(Duration, Duration)>,
    /// Seed of the random faults.
    #[arg(long, default_value_t = 0)]
    fault_seed: u64,
    /// Accept task types the spec does not list, run as standard videos.
    #[arg(long)]
    accept_unknown_task_types: bool,
    /// Restrict random faults to these methods (comma-separated, e.g. POST,DELETE).
    #[arg(long, value_delimiter = ',')]
    fault_methods: Option<Vec<String>>,
}

fn parse_latency(value: &str) -> Result<(Duration, Duration), String> {
    let (lo, hi) = value.split_once('-').unwrap_or((value, value));
    let ms = |v: &str| {
        v.trim()
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|e| format!("`{v}`: {e}"))
    };
    Ok((ms(lo)?, ms(hi)?))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    let faults = Faults {
        server_error_rate: args.server_error_rate,
        too_many_requests_rate: args.too_many_requests_rate,
        retry_after_secs: args.retry_after_secs,
        drop_connection_rate: args.drop_connection_rate,
        dropped_answer_rate: args.dropped_answer_rate,
        latency: args.latency_ms,
        truncated_body_rate: args.truncated_body_rate,
        malformed_body_rate: args.malformed_body_rate,
        unknown_enum_rate: args.unknown_enum_rate,
        extra_fields_rate: args.extra_fields_rate,
        new_shape_rate: args.new_shape_rate,
        seed: args.fault_seed,
        methods: args.fault_methods,
    };
    let mut builder = Simulator::builder()
        .api_key(args.api_key)
        .speed(args.speed)
        .max_tasks(args.max_tasks)
        .faults(faults)
        .bind(SocketAddr::new(args.host, args.port))
        .accept_unknown_task_types(args.accept_unknown_task_types);
    if let Some(cap) = args.concurrency_cap {
        builder = builder.concurrency_cap(cap);
    }
    if let Some(url) = args.public_url {
        builder = builder.public_url(url);
    }
    let simulator = builder.start().await?;
    println!("{}", simulator.base_url());
    wait_for_signal().await;
    tracing::info!("shutting down");
    simulator.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
