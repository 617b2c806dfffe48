//! Helpers shared by the integration tests: a simulator on loopback, a client
//! tuned for it, and small valid media files.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::time::Duration;

use piapi_kling::{Client, ClientBuilder, RetryPolicy, WaitPolicy};
use piapi_kling_sim::{RunningSimulator, Simulator, SimulatorBuilder};

/// The simulator's key in every test. Distinctive, so a leak is easy to find.
pub const KEY: &str = "sk-test-KEY-5e1f0c2d9a";
/// A webhook secret, equally distinctive.
pub const SECRET: &str = "whsec-SECRET-77aa31bd";

/// A simulator at speed 1000 (a 2-minute render takes 120 ms).
pub fn sim_builder() -> SimulatorBuilder {
    Simulator::builder().api_key(KEY).speed(1000.0)
}

pub async fn start_sim() -> RunningSimulator {
    sim_builder().start().await.expect("simulator starts")
}

/// Fast polling and retries, so the suite stays quick.
pub fn fast_wait() -> WaitPolicy {
    WaitPolicy::fixed(Duration::from_millis(10)).with_deadline(Duration::from_secs(20))
}

pub fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(4)
        .with_initial_backoff(Duration::from_millis(20))
        .with_max_backoff(Duration::from_millis(200))
        .with_max_elapsed(Duration::from_secs(10))
}

pub fn builder_for(sim: &RunningSimulator) -> ClientBuilder {
    Client::builder()
        .api_key(KEY)
        .base_url(sim.base_url())
        .wait_policy(fast_wait())
        .retry_policy(fast_retry())
        .timeout(Duration::from_secs(10))
}

pub fn client_for(sim: &RunningSimulator) -> Client {
    builder_for(sim).build().expect("client builds")
}

/// A valid 320×320 grey PNG: large enough for the spec's `min-side: 300`.
pub static PNG: std::sync::LazyLock<Vec<u8>> =
    std::sync::LazyLock::new(|| piapi_kling_sim::encode_png(320, 320, |_, _| [128, 128, 128]));

pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write test file");
    path
}

pub fn png(dir: &Path, name: &str) -> PathBuf {
    write_file(dir, name, &PNG)
}

/// A silent 16-bit mono PCM WAV file at 8 kHz, `seconds` long.
pub fn wav_bytes(seconds: f64) -> Vec<u8> {
    let rate = 8000u32;
    let data_len = (f64::from(rate) * seconds) as u32 * 2;
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out.resize(out.len() + data_len as usize, 0);
    out
}

/// Downloads a result URL (no key needed) and returns its bytes.
pub async fn download(url: &str) -> Vec<u8> {
    let response = reqwest::get(url).await.expect("media download");
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    response.bytes().await.expect("media body").to_vec()
}

pub fn is_mp4(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && &bytes[4..8] == b"ftyp"
}

pub fn is_png(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG")
}

pub fn is_wav(bytes: &[u8]) -> bool {
    bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE"
}

/// Requests of `method` to paths starting with `prefix`, from the log.
pub fn count(sim: &RunningSimulator, method: &str, prefix: &str) -> usize {
    sim.request_log()
        .iter()
        .filter(|r| r.method == method && r.path.starts_with(prefix))
        .count()
}
