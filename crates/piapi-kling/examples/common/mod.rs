//! Shared by the examples: a client for PiAPI when `PIAPI_API_KEY` is set,
//! otherwise for a simulator started in this process.

use piapi_kling::{Client, WaitPolicy};
use piapi_kling_sim::{RunningSimulator, Simulator};
use std::time::Duration;

/// The client, and the simulator it talks to when there is no key.
pub async fn client() -> Result<(Client, Option<RunningSimulator>), Box<dyn std::error::Error>> {
    if std::env::var_os(piapi_kling::ENV_API_KEY).is_some() {
        return Ok((Client::from_env()?, None));
    }
    // Speed 50: a two-minute render takes under three seconds.
    let sim = Simulator::builder()
        .api_key("example-key")
        .speed(50.0)
        .start()
        .await?;
    eprintln!(
        "PIAPI_API_KEY is not set: using a simulator at {}",
        sim.base_url()
    );
    let client = Client::builder()
        .api_key(sim.api_key())
        .base_url(sim.base_url())
        .wait_policy(WaitPolicy::fixed(Duration::from_millis(200)))
        .build()?;
    Ok((client, Some(sim)))
}

/// A 16-bit mono PCM WAV file of silence at 8 kHz.
// Not every example speaks.
#[allow(dead_code)]
pub fn silent_wav(seconds: u32) -> Vec<u8> {
    let data_len = 8000 * 2 * seconds;
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    for field in [
        16u32.to_le_bytes().as_slice(),
        &1u16.to_le_bytes(),
        &1u16.to_le_bytes(),
    ] {
        wav.extend_from_slice(field);
    }
    wav.extend_from_slice(&8000u32.to_le_bytes());
    wav.extend_from_slice(&16000u32.to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    wav.resize(wav.len() + data_len as usize, 0);
    wav
}
