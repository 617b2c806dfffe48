//! SDK overhead with the simulator in another process (issue 12): a create +
//! get round trip through the SDK against raw reqwest + `serde_json::Value`
//! with the same body, interleaved in blocks of 50 so drift hits both alike.
//!
//! The simulator runs as its own process (`piapi-kling-sim`, found next to
//! this binary), so this process's CPU time is the client's alone. The client
//! runs on a single-threaded runtime: every client task (hyper's connection
//! tasks included) runs on the main thread, whose CPU time is read around each
//! block. Reports, per run, the median wall time per round trip and the median
//! client CPU per round trip of each side, and their ratios (goals ≤ 1.05 wall,
//! ≤ 1.10 CPU); then the median of the runs' ratios.
//!
//! `cargo build --release -p piapi-kling-sim -p piapi-kling-bench`, then
//! `target/release/overhead_process --rounds 3000 --runs 5`
//!
//! `--only sdk` (or `raw`) runs one side alone and prints nothing, for a
//! profiler: `perf record -g target/release/overhead_process --only sdk`.
//! `--raw-timeouts` gives the raw client the SDK's timeouts,
//! `--sdk-plain-client` gives the SDK a plain `reqwest::Client`, `--raw-spin-us N`
//! busy-waits N µs before each raw request, and `--decode-cost` times the
//! decoding of this simulator's answers: each isolates one suspect of the
//! difference (BENCHMARKS.md).

use std::time::{Duration, Instant};

use piapi_kling::{Client, RetryPolicy};
use piapi_kling_bench::{arg, median, start_simulator, thread_cpu};
use serde_json::{Value, json};

const PROMPT: &str = "White egrets fly over the vast paddy fields";
const KEY: &str = "bench-key";
/// Round trips per block; one side's block, then the other's.
const BLOCK: usize = 50;

async fn sdk_round_trip(client: &Client) {
    let handle = client.text_to_video(PROMPT).send().await.expect("create");
    let task = client.get_task(handle.id()).await.expect("get");
    std::hint::black_box(task);
}

/// Busy-waits `micros` µs (`--raw-spin-us`): user-space work before each raw
/// request, to see how the kernel's share of a send depends on the gap.
fn spin(micros: u64) {
    if micros == 0 {
        return;
    }
    let until = Instant::now() + Duration::from_micros(micros);
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

/// One raw round trip, after `spin_us` µs of busy work before each request.
async fn raw_round_trip(http: &reqwest::Client, base: &str, body: &Value, spin_us: u64) {
    let task = piapi_kling_bench::raw_round_trip(http, base, KEY, body, || spin(spin_us)).await;
    std::hint::black_box(task);
}

/// `--decode-cost`: the CPU time of decoding this simulator's create and get
/// answers into the SDK's typed `TaskResponse` and into `serde_json::Value`,
/// per round trip (one of each), to size that part of the difference.
async fn decode_cost(http: &reqwest::Client, base: &str, body: &Value) {
    let created = http
        .post(format!("{base}/api/v1/task"))
        .header("x-api-key", KEY)
        .json(body)
        .send()
        .await
        .expect("create")
        .bytes()
        .await
        .expect("create body");
    let id = serde_json::from_slice::<Value>(&created).expect("json")["data"]["task_id"]
        .as_str()
        .expect("task id")
        .to_owned();
    let got = http
        .get(format!("{base}/api/v1/task/{id}"))
        .header("x-api-key", KEY)
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("get body");
    const N: u32 = 20_000;
    let time = |f: &dyn Fn()| {
        let start = thread_cpu();
        for _ in 0..N {
            f();
        }
        (thread_cpu() - start) / N
    };
    let typed = time(&|| {
        for bytes in [&created, &got] {
            let task: piapi_kling_models::TaskResponse =
                serde_json::from_slice(bytes).expect("typed");
            std::hint::black_box(task);
        }
    });
    let value = time(&|| {
        for bytes in [&created, &got] {
            let task: Value = serde_json::from_slice(bytes).expect("value");
            std::hint::black_box(task);
        }
    });
    println!(
        "decode per round trip (create {} B + get {} B): typed {:.1} µs, Value {:.1} µs",
        created.len(),
        got.len(),
        micros(typed),
        micros(value)
    );
}

/// One side's figures in one run: wall per round trip, CPU per round trip.
struct Side {
    wall: Vec<Duration>,
    cpu: Vec<Duration>,
}

impl Side {
    fn new(rounds: usize) -> Side {
        Side {
            wall: Vec::with_capacity(rounds),
            cpu: Vec::with_capacity(rounds / BLOCK),
        }
    }
}

/// Round trips of each side before measuring, on new clients.
const WARM_UP: usize = 200;

/// [`WARM_UP`] round trips of each side (connections, allocator); the side
/// named first by `sdk_first` opens its connection first.
async fn warm_up(
    client: &Client,
    http: &reqwest::Client,
    base: &str,
    body: &Value,
    spin_us: u64,
    sdk_first: bool,
) {
    for _ in 0..WARM_UP {
        if sdk_first {
            sdk_round_trip(client).await;
        }
        raw_round_trip(http, base, body, spin_us).await;
        if !sdk_first {
            sdk_round_trip(client).await;
        }
    }
}

/// An SDK client and a raw client on the simulator at `base`, with the
/// command line's choices. Each has its own connection pool, and opens its
/// connection on its first request.
fn clients(base: &str) -> (Client, reqwest::Client) {
    let mut builder = Client::builder()
        .base_url(base.to_owned())
        .api_key(KEY)
        .retry_policy(RetryPolicy::none());
    // `--sdk-plain-client`: the SDK over a plain `reqwest::Client::new()`
    // (its timeout then a deadline around each attempt).
    if std::env::args().any(|a| a == "--sdk-plain-client") {
        builder = builder.http_client(reqwest::Client::new());
    }
    // `--raw-timeouts`: the raw client with the SDK's default timeouts
    // (120 s per request, 10 s to connect), to tell their cost apart.
    let http = if std::env::args().any(|a| a == "--raw-timeouts") {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .expect("raw client")
    } else {
        reqwest::Client::new()
    };
    (builder.build().expect("client"), http)
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    let rounds: usize = arg("--rounds", 3000);
    let runs: usize = arg("--runs", 5);
    let spin_us: u64 = arg("--raw-spin-us", 0);
    let (_sim, base) = start_simulator(KEY, (rounds + 400) * runs * 2 + 1000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        // The same body the SDK's text_to_video sends (it defaults to 16:9).
        let body = json!({"model": "kling", "task_type": "video_generation",
                          "input": {"prompt": PROMPT, "aspect_ratio": "16:9"}});
        let decode = std::env::args().any(|a| a == "--decode-cost");
        let only = std::env::args()
            .skip_while(|a| a != "--only")
            .nth(1)
            .filter(|side| side == "sdk" || side == "raw");
        if decode || only.is_some() {
            let (client, http) = clients(&base);
            warm_up(&client, &http, &base, &body, spin_us, true).await;
            if decode {
                decode_cost(&http, &base, &body).await;
            } else if only.as_deref() == Some("sdk") {
                for _ in 0..rounds * runs {
                    sdk_round_trip(&client).await;
                }
            } else {
                for _ in 0..rounds * runs {
                    raw_round_trip(&http, &base, &body, spin_us).await;
                }
            }
            return;
        }
        println!(
            "create + get round trips, simulator in another process, {rounds} per side and run, blocks of {BLOCK}"
        );
        println!("run  SDK wall µs  raw wall µs  ratio   SDK CPU µs  raw CPU µs  ratio");
        let (mut wall_ratios, mut cpu_ratios) = (Vec::new(), Vec::new());
        for run in 1..=runs {
            // Fresh clients, so fresh connections, for every run, opened in
            // turns: two connections to the same simulator can differ by 10%
            // in what a round trip costs (BENCHMARKS.md), and one pair kept
            // for every run would put that difference into every ratio.
            let (client, http) = clients(&base);
            // Odd runs open the SDK's connection first, even runs raw's.
            warm_up(&client, &http, &base, &body, spin_us, run % 2 == 1).await;
            let (mut sdk, mut raw) = (Side::new(rounds), Side::new(rounds));
            for block in 0..rounds / BLOCK {
                // Even blocks run the SDK first, odd blocks raw first.
                for sdk_turn in [block % 2 == 0, block % 2 != 0] {
                    let side = if sdk_turn { &mut sdk } else { &mut raw };
                    let cpu_start = thread_cpu();
                    for _ in 0..BLOCK {
                        let started = Instant::now();
                        if sdk_turn {
                            sdk_round_trip(&client).await;
                        } else {
                            raw_round_trip(&http, &base, &body, spin_us).await;
                        }
                        side.wall.push(started.elapsed());
                    }
                    side.cpu.push((thread_cpu() - cpu_start) / BLOCK as u32);
                }
            }
            let (sdk_wall, raw_wall) = (median(sdk.wall), median(raw.wall));
            let (sdk_cpu, raw_cpu) = (median(sdk.cpu), median(raw.cpu));
            let wall_ratio = sdk_wall.as_secs_f64() / raw_wall.as_secs_f64();
            let cpu_ratio = sdk_cpu.as_secs_f64() / raw_cpu.as_secs_f64();
            println!(
                "{run:>3}  {:>11.1}  {:>11.1}  {wall_ratio:.3}  {:>11.1}  {:>10.1}  {cpu_ratio:.3}",
                micros(sdk_wall),
                micros(raw_wall),
                micros(sdk_cpu),
                micros(raw_cpu),
            );
            wall_ratios.push(wall_ratio);
            cpu_ratios.push(cpu_ratio);
        }
        let mid = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        println!(
            "median of {runs} runs: wall ratio {:.3} (goal <= 1.05), client CPU ratio {:.3} (goal <= 1.10)",
            mid(wall_ratios),
            mid(cpu_ratios)
        );
    });
}
