//! Where the SDK's overhead lives (issue 12): the client CPU time and wall
//! time of one create and of one get, through each layer in turn, with the
//! simulator in another process.
//!
//! | layer | a request is sent by | and decoded into |
//! |---|---|---|
//! | `raw` | reqwest | `serde_json::Value` |
//! | `typed` | reqwest | the models' `TaskResponse` |
//! | `generated` | `piapi-kling-client` (progenitor, our hooks) | `TaskResponse` |
//! | `sdk` | `piapi-kling` over the same `reqwest::Client` | `TaskData`, a handle |
//! | `sdk-own` | `piapi-kling` with its own HTTP client (the default) | the same |
//!
//! The first four share one `reqwest::Client`, so one connection: what
//! differs between them is only the code a request runs through. (Two
//! connections to the same simulator can differ by 10%, BENCHMARKS.md.)
//! `sdk-own` is the SDK as a user builds it, with its own connection, timeouts
//! and redirect policy.
//!
//! Blocks of 50 requests of each variant, in rotating order; per variant the
//! median over blocks of the CPU time per request (this thread, on a
//! single-threaded runtime that also runs hyper's connection tasks) and of the
//! wall time per request.
//!
//! `cargo build --release -p piapi-kling-sim -p piapi-kling-bench`, then
//! `target/release/overhead_layers --blocks 60`; `--only sdk create` runs one
//! variant alone, for a profiler (`valgrind --tool=callgrind`, `perf`).

use std::time::{Duration, Instant};

use piapi_kling::{Client, RetryPolicy};
use piapi_kling_bench::{arg, median, raw_create, raw_get, start_simulator, thread_cpu};
use piapi_kling_models::TaskResponse;
use serde_json::{Value, json};

const PROMPT: &str = "White egrets fly over the vast paddy fields";
const KEY: &str = "bench-key";
/// Requests per block.
const BLOCK: u32 = 50;

/// The layers, in the order of the table.
const LAYERS: [&str; 5] = ["raw", "typed", "generated", "sdk", "sdk-own"];

/// Everything a request needs, one client per layer.
struct Clients {
    base: String,
    http: reqwest::Client,
    generated: piapi_kling_client::Client,
    sdk: Client,
    sdk_own: Client,
    /// The create body of the raw layers (what the SDK's text_to_video sends).
    body: Value,
    /// The create request of the generated layer.
    request: piapi_kling_models::CreateTaskRequest,
}

impl Clients {
    /// One create through `layer`; returns the new task's id.
    async fn create(&self, layer: usize) -> String {
        let (http, base) = (&self.http, self.base.as_str());
        match LAYERS[layer] {
            "raw" => {
                let created: Value = raw_create(http, base, KEY, &self.body).await;
                created["data"]["task_id"].as_str().expect("id").to_owned()
            }
            "typed" => {
                let created: TaskResponse = raw_create(http, base, KEY, &self.body).await;
                created.data.task_id
            }
            "generated" => {
                let created = self
                    .generated
                    .create_task()
                    .body(self.request.clone())
                    .send()
                    .await
                    .expect("create");
                created.into_inner().data.task_id
            }
            "sdk" => self.sdk_create(&self.sdk).await,
            _ => self.sdk_create(&self.sdk_own).await,
        }
    }

    async fn sdk_create(&self, client: &Client) -> String {
        let handle = client.text_to_video(PROMPT).send().await.expect("create");
        handle.id().to_owned()
    }

    /// One get of task `id` through `layer`.
    async fn get(&self, layer: usize, id: &str) {
        let (http, base) = (&self.http, self.base.as_str());
        match LAYERS[layer] {
            "raw" => {
                let task: Value = raw_get(http, base, KEY, id).await;
                std::hint::black_box(task);
            }
            "typed" => {
                let task: TaskResponse = raw_get(http, base, KEY, id).await;
                std::hint::black_box(task);
            }
            "generated" => {
                let task = self.generated.get_task().task_id(id).send().await;
                std::hint::black_box(task.expect("get"));
            }
            "sdk" => {
                std::hint::black_box(self.sdk.get_task(id).await.expect("get"));
            }
            _ => {
                std::hint::black_box(self.sdk_own.get_task(id).await.expect("get"));
            }
        }
    }
}

/// Per variant (layer × operation), the per-block figures.
#[derive(Default)]
struct Samples {
    cpu: Vec<Duration>,
    wall: Vec<Duration>,
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    let blocks: usize = arg("--blocks", 60);
    let variants = LAYERS.len() * 2;
    let (_sim, base) = start_simulator(KEY, blocks * variants * BLOCK as usize + 10_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let http = reqwest::Client::new();
        let sdk = |http: Option<reqwest::Client>| {
            let builder = Client::builder()
                .base_url(base.clone())
                .api_key(KEY)
                .retry_policy(RetryPolicy::none());
            match http {
                Some(http) => builder.http_client(http),
                None => builder,
            }
            .build()
            .expect("client")
        };
        let sdk_own = sdk(None);
        let clients = Clients {
            generated: piapi_kling_client::Client::with_api_key(&base, http.clone(), KEY)
                .expect("generated client"),
            sdk: sdk(Some(http.clone())),
            body: json!({"model": "kling", "task_type": "video_generation",
                         "input": {"prompt": PROMPT, "aspect_ratio": "16:9"}}),
            request: sdk_own.text_to_video(PROMPT).request(),
            sdk_own,
            base: base.clone(),
            http,
        };
        // Warm up every layer (connections, allocator, caches of the code).
        let id = clients.create(0).await;
        for _ in 0..100 {
            for layer in 0..LAYERS.len() {
                clients.create(layer).await;
                clients.get(layer, &id).await;
            }
        }
        // `--only LAYER create|get`: that variant alone, for a profiler.
        let only: Vec<String> = std::env::args()
            .skip_while(|a| a != "--only")
            .skip(1)
            .take(2)
            .collect();
        if let [layer, operation] = only.as_slice() {
            let layer = LAYERS
                .iter()
                .position(|l| l == layer)
                .expect("a layer of the table");
            for _ in 0..blocks * BLOCK as usize {
                if operation == "get" {
                    clients.get(layer, &id).await;
                } else {
                    std::hint::black_box(clients.create(layer).await);
                }
            }
            return;
        }
        let mut samples: Vec<Samples> = (0..variants).map(|_| Samples::default()).collect();
        for block in 0..blocks {
            for turn in 0..variants {
                let variant = (turn + block) % variants;
                let (layer, is_get) = (variant / 2, variant % 2 == 1);
                let (cpu, wall) = (thread_cpu(), Instant::now());
                for _ in 0..BLOCK {
                    if is_get {
                        clients.get(layer, &id).await;
                    } else {
                        std::hint::black_box(clients.create(layer).await);
                    }
                }
                samples[variant].cpu.push((thread_cpu() - cpu) / BLOCK);
                samples[variant].wall.push(wall.elapsed() / BLOCK);
            }
        }
        let medians: Vec<(Duration, Duration)> = samples
            .into_iter()
            .map(|s| (median(s.cpu), median(s.wall)))
            .collect();
        println!(
            "µs per request, median of {blocks} blocks of {BLOCK}; simulator in another process"
        );
        println!("layer       create CPU  create wall  get CPU  get wall  create+get CPU vs raw");
        let round_trip = |layer: usize| medians[2 * layer].0 + medians[2 * layer + 1].0;
        for (layer, name) in LAYERS.iter().enumerate() {
            let (create, get) = (medians[2 * layer], medians[2 * layer + 1]);
            println!(
                "{name:<10}  {:>10.1}  {:>11.1}  {:>7.1}  {:>8.1}  {:>6.3}",
                micros(create.0),
                micros(create.1),
                micros(get.0),
                micros(get.1),
                round_trip(layer).as_secs_f64() / round_trip(0).as_secs_f64()
            );
        }
    });
}
