//! The simulator's command line, as a `clap` argument group (feature `cli`):
//! the `piapi-kling-sim` binary and the `kling sim` subcommand both flatten
//! [`SimArgs`], so their flags and defaults cannot drift apart.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::{DEFAULT_API_KEY, Faults, Simulator, SimulatorBuilder};

/// Every option of the simulator, shared by the `piapi-kling-sim` binary and
/// `kling sim`: one definition, one set of defaults.
#[derive(Clone, Debug, clap::Args)]
pub struct SimArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,
    /// The key clients must send in x-api-key.
    #[arg(long, default_value = DEFAULT_API_KEY, hide_default_value = true)]
    pub api_key: String,
    /// Divide every duration by this factor (50 turns a 2-minute render into 2.4 s).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// At most N tasks pending or processing; the rest are staged.
    #[arg(long, value_name = "N")]
    pub concurrency_cap: Option<usize>,
    /// At most N stored tasks; the oldest finished ones are evicted first.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub max_tasks: usize,
    /// Base of the URLs in responses (default http://HOST:PORT).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Probability of answering 500/503 without running the operation.
    #[arg(long, default_value_t = 0.0)]
    pub server_error_rate: f64,
    /// Probability of answering 429 without running the operation.
    #[arg(long, default_value_t = 0.0)]
    pub too_many_requests_rate: f64,
    /// Retry-After seconds of injected 429s.
    #[arg(long, default_value_t = 1)]
    pub retry_after_secs: u64,
    /// Probability of closing the connection without an answer.
    #[arg(long, default_value_t = 0.0)]
    pub drop_connection_rate: f64,
    /// Probability of closing the connection without an answer after the operation ran.
    #[arg(long, default_value_t = 0.0)]
    pub dropped_answer_rate: f64,
    /// Probability of a body cut short of its Content-Length (after the operation ran).
    #[arg(long, default_value_t = 0.0)]
    pub truncated_body_rate: f64,
    /// Probability of an invalid JSON body (after the operation ran).
    #[arg(long, default_value_t = 0.0)]
    pub malformed_body_rate: f64,
    /// Probability of unknown enum values in task bodies.
    #[arg(long, default_value_t = 0.0)]
    pub unknown_enum_rate: f64,
    /// Probability of extra unknown fields in every object of bodies.
    #[arg(long, default_value_t = 0.0)]
    pub extra_fields_rate: f64,
    /// Probability of a task body in a newer shape (an unknown task type,
    /// the video in `output.video`).
    #[arg(long, default_value_t = 0.0)]
    pub new_shape_rate: f64,
    /// Added latency per answer, uniform in MIN-MAX milliseconds (e.g. 20-200).
    #[arg(long, value_name = "MIN-MAX", value_parser = parse_latency)]
    pub latency_ms: Option<(Duration, Duration)>,
    /// Seed of the random faults.
    #[arg(long, default_value_t = 0)]
    pub fault_seed: u64,
    /// Accept task types the spec does not list, run as standard videos.
    #[arg(long)]
    pub accept_unknown_task_types: bool,
    /// Restrict random faults to these methods (comma-separated, e.g. POST,DELETE).
    #[arg(long, value_delimiter = ',')]
    pub fault_methods: Option<Vec<String>>,
}

/// `MIN-MAX` (or one number) in milliseconds.
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

impl SimArgs {
    /// A simulator builder with every option applied.
    pub fn builder(&self) -> SimulatorBuilder {
        let faults = Faults {
            server_error_rate: self.server_error_rate,
            too_many_requests_rate: self.too_many_requests_rate,
            retry_after_secs: self.retry_after_secs,
            drop_connection_rate: self.drop_connection_rate,
            dropped_answer_rate: self.dropped_answer_rate,
            latency: self.latency_ms,
            truncated_body_rate: self.truncated_body_rate,
            malformed_body_rate: self.malformed_body_rate,
            unknown_enum_rate: self.unknown_enum_rate,
            extra_fields_rate: self.extra_fields_rate,
            new_shape_rate: self.new_shape_rate,
            seed: self.fault_seed,
            methods: self.fault_methods.clone(),
        };
        let mut builder = Simulator::builder()
            .api_key(&self.api_key)
            .speed(self.speed)
            .max_tasks(self.max_tasks)
            .faults(faults)
            .bind(SocketAddr::new(self.host, self.port))
            .accept_unknown_task_types(self.accept_unknown_task_types);
        if let Some(cap) = self.concurrency_cap {
            builder = builder.concurrency_cap(cap);
        }
        if let Some(url) = &self.public_url {
            builder = builder.public_url(url);
        }
        builder
    }
}
