//! A local HTTP server that behaves like PiAPI's Kling task API
//! (`https://api.piapi.ai/api/v1/task`), for tests, demos and CI.
//!
//! It serves every operation of `spec/piapi-kling.yaml` on one loopback
//! address, decodes and validates requests with the generated models of
//! [`piapi_kling_models`] (so the simulator and the SDK cannot disagree), runs
//! tasks through `staged → pending → processing → completed | failed` with
//! realistic durations divided by a speed factor, delivers webhooks, serves
//! small valid media files for the results, and injects faults on demand.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use piapi_kling_sim::{Faults, Simulator};
//!
//! let sim = Simulator::builder()
//!     .api_key("test-key")
//!     .speed(1000.0) // a 2-minute render takes 120 ms
//!     .concurrency_cap(4)
//!     .faults(Faults { server_error_rate: 0.1, seed: 7, ..Faults::default() })
//!     .start()
//!     .await?;
//! let base = sim.base_url(); // "http://127.0.0.1:PORT"
//! // ... point the client under test at `base` with key "test-key" ...
//! assert_eq!(sim.count_requests("POST", "/api/v1/task"), 0);
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Test controls
//!
//! | Control | Where | Effect |
//! |---|---|---|
//! | `x-sim-fault: 500 \| 502 \| 503 \| 504 \| 429 \| drop \| drop-after \| truncate \| malformed \| unknown-enum \| extra-fields \| new-shape \| delay=<ms>` | request header, comma-separated | injects exactly these faults into this request (server-wide random faults are not rolled for it) |
//! | `x-sim-scenario: content-filter \| upstream-failure \| slow` | request header of a create, comma-separated | makes the new task fail or run slowly |
//! | `[sim:content-filter]`, `[sim:upstream-failure]`, `[sim:slow]` | anywhere in a string of the create request's `input` (usually `prompt`) | the same as the header |
//!
//! Faults decided before the operation runs (`drop`, `429`, `5xx`) never run
//! it: a create answered with 503 created no task. `truncate`, `malformed`,
//! `unknown-enum` and `extra-fields` change the answer of an operation that
//! did run: a create whose body was truncated did create its task;
//! `drop-after` runs the operation and then drops the connection; `new-shape`
//! answers a get in a shape newer than the spec. Durations, results and
//! prices come from the spec (`x-simulate`, `x-price`); the crate README
//! lists them with the memory figures.
#![deny(missing_docs)]

mod admission;
#[cfg(feature = "cli")]
pub mod cli;
mod error;
mod faults;
mod files;
mod lifecycle;
mod media;
mod output;
mod reqlog;
mod request;
mod rng;
mod routes;
mod scenarios;
mod scheduler;
mod server;
mod simulator;
mod state;
mod time;
mod webhook;
mod wire;

pub use faults::Faults;
pub use reqlog::LoggedRequest;
pub use simulator::{DEFAULT_API_KEY, RunningSimulator, Simulator, SimulatorBuilder};

/// A valid RGB PNG of `width`×`height` pixels colored by `pixel(x, y)`: the
/// encoder behind the simulator's images, for tests and demos that need a
/// real image file without an image crate.
pub fn encode_png(width: u32, height: u32, pixel: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
    media::encode_png(width, height, pixel)
}
