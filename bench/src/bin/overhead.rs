//! SDK overhead (issue 6.1): a create + get round trip through the SDK against
//! raw reqwest + serde_json::Value, same simulator, same run, interleaved in
//! blocks so drift hits both alike. Reports medians and the ratio (goal ≤ 1.10).
//!
//! `cargo run --release -p piapi-kling-bench --bin overhead -- [--rounds 4000]`

use piapi_kling::{Client, RetryPolicy};
use piapi_kling_bench::{arg, median};
use piapi_kling_sim::Simulator;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const PROMPT: &str = "White egrets fly over the vast paddy fields";

async fn sdk_round_trip(client: &Client) -> Duration {
    let started = Instant::now();
    let handle = client.text_to_video(PROMPT).send().await.expect("create");
    let task = client.get_task(handle.id()).await.expect("get");
    std::hint::black_box(task);
    started.elapsed()
}

async fn raw_round_trip(http: &reqwest::Client, base: &str, key: &str, body: &Value) -> Duration {
    let started = Instant::now();
    let task = piapi_kling_bench::raw_round_trip(http, base, key, body, || {}).await;
    std::hint::black_box(task);
    started.elapsed()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rounds: usize = arg("--rounds", 4000);
    let sim = Simulator::builder()
        .api_key("bench-key")
        .speed(1.0)
        .max_tasks(rounds * 3)
        .request_log_capacity(16)
        .start()
        .await
        .expect("simulator");
    let base = sim.base_url();
    let client = Client::builder()
        .base_url(base.clone())
        .api_key("bench-key")
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("client");
    let http = reqwest::Client::new();
    // The same body the SDK's text_to_video sends (it defaults to 16:9).
    let body = json!({"model": "kling", "task_type": "video_generation",
                      "input": {"prompt": PROMPT, "aspect_ratio": "16:9"}});

    // Warm up both paths (connections, allocator).
    for _ in 0..200 {
        sdk_round_trip(&client).await;
        raw_round_trip(&http, &base, "bench-key", &body).await;
    }
    let (mut sdk, mut raw) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    // Blocks of 50 + 50; even blocks run the SDK first, odd blocks raw first.
    const HALF: usize = 50;
    for block in 0..rounds / (2 * HALF) {
        for sdk_turn in [block % 2 == 0, block % 2 != 0] {
            for _ in 0..HALF {
                if sdk_turn {
                    sdk.push(sdk_round_trip(&client).await);
                } else {
                    raw.push(raw_round_trip(&http, &base, "bench-key", &body).await);
                }
            }
        }
    }
    let mean = |v: &[Duration]| v.iter().sum::<Duration>() / v.len() as u32;
    let (sdk_mean, raw_mean) = (mean(&sdk), mean(&raw));
    let (sdk_median, raw_median) = (median(sdk.clone()), median(raw.clone()));
    println!(
        "round trips: {} SDK, {} raw (create + get, loopback, in-process simulator)",
        sdk.len(),
        raw.len()
    );
    println!(
        "SDK:  median {:>8.1} µs  mean {:>8.1} µs",
        sdk_median.as_secs_f64() * 1e6,
        sdk_mean.as_secs_f64() * 1e6
    );
    println!(
        "raw:  median {:>8.1} µs  mean {:>8.1} µs",
        raw_median.as_secs_f64() * 1e6,
        raw_mean.as_secs_f64() * 1e6
    );
    println!(
        "ratio SDK / raw: median {:.3}  mean {:.3}  (goal <= 1.10)",
        sdk_median.as_secs_f64() / raw_median.as_secs_f64(),
        sdk_mean.as_secs_f64() / raw_mean.as_secs_f64()
    );
    sim.shutdown().await;
}
