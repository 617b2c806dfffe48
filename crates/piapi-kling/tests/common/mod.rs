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
pub const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x01\x40\x00\x00\x01\x40\x08\x00\x00\x00\x00\xe8\xfb\xfa\x76\x00\x00\x01\x98\x49\x44\x41\x54\x78\xda\xed\xd0\x31\x01\x00\x00\x0c\x02\x20\xa3\x1b\xdd\x10\x3b\x07\x11\x48\x39\x89\x02\x81\
      \x02\x05\x0a\x44\xa0\x40\x81\x02\x11\x28\x50\xa0\x40\x04\x0a\x14\x28\x10\x81\x02\x05\x0a\x44\xa0\x40\x81\x02\x11\x28\x50\xa0\x40\x04\x0a\x14\x28\x10\x81\x02\x05\x0a\x44\xa0\x40\x81\x02\x11\x28\x50\xa0\x40\x81\x08\x14\x28\x50\x20\x02\x05\x0a\x14\x88\x40\x81\
      \x02\x05\x22\x50\xa0\x40\x81\x08\x14\x28\x50\x20\x02\x05\x0a\x14\x88\x40\x81\x02\x05\x22\x50\xa0\x40\x81\x08\x14\x28\x50\x20\x02\x05\x0a\x14\x28\x50\x81\x40\x81\x02\x05\x22\x50\xa0\x40\x81\x08\x14\x28\x50\x20\x02\x05\x0a\x14\x88\x40\x81\x02\x05\x22\x50\xa0\
      \x40\x81\x08\x14\x28\x50\x20\x02\x05\x0a\x14\x88\x40\x81\x02\x05\x22\x50\xa0\x40\x81\x08\x14\x28\x50\xa0\x40\x04\x0a\x14\x28\x10\x81\x02\x05\x0a\x44\xa0\x40\x81\x02\x11\x28\x50\xa0\x40\x04\x0a\x14\x28\x10\x81\x02\x05\x0a\x44\xa0\x40\x81\x02\x11\x28\x50\xa0\
      \x40\x04\x0a\x14\x28\x10\x81\x02\x05\x0a\x14\xa8\x40\xa0\x40\x81\x02\x11\x28\x50\xa0\x40\x04\x0a\x14\x28\x10\x81\x02\x05\x0a\x44\xa0\x40\x81\x02\x11\x28\x50\xa0\x40\x04\x0a\x14\x28\x10\x81\x02\x05\x0a\x44\xa0\x40\x81\x02\x11\x28\x50\xa0\x40\x04\x0a\x14\x28\
      \x50\x20\x02\x05\x0a\x14\x88\x40\x81\x02\x05\x22\x50\xa0\x40\x81\x08\x14\x28\x50\x20\x02\x05\x0a\x14\x88\x40\x81\x02\x05\x22\x50\xa0\x40\x81\x08\x14\x28\x50\x20\x02\x05\x0a\x14\x88\x40\x81\x02\x05\x0a\x54\x20\x50\xa0\x40\x81\x08\x14\x28\x50\x20\x02\x05\x0a\
      \x14\x88\x40\x81\x02\x05\x22\x50\xa0\x40\x81\x08\x14\x28\x50\x20\x02\x05\x0a\x14\x88\x40\x81\x02\x05\x22\x50\xa0\x40\x81\x08\x14\x28\x50\x20\x02\x05\x0a\x14\x28\x10\x81\x02\x05\x0a\x44\xa0\x40\x81\x02\x11\x28\x50\xa0\x40\x04\x0a\x14\xf8\xc3\x00\x2e\x1f\x0b\
      \xb9\xa0\x79\x60\x49\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";

pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write test file");
    path
}

pub fn png(dir: &Path, name: &str) -> PathBuf {
    write_file(dir, name, PNG)
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
