//! A video, then the same video lip-synced: with a Kling voice in one call,
//! and with a local audio file.
//!
//! `cargo run -p piapi-kling --example lip_sync` runs against an in-process
//! simulator; with `PIAPI_API_KEY` set it runs against PiAPI.

mod common;

use piapi_kling::{Error, LipSyncSpec};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _sim) = common::client().await?;

    let both = match client
        .generate_and_lip_sync(
            client.text_to_video("a news anchor facing the camera, studio lights"),
            LipSyncSpec::text("Good evening, here is the news.", "Rock").speed(1.1),
        )
        .await
    {
        Ok(both) => both,
        // The video task is never lost: it is in the error.
        Err(Error::Pipeline {
            video_task_id,
            source,
            ..
        }) => {
            eprintln!("video task {video_task_id} was created, then: {source}");
            return Err(source.into());
        }
        Err(other) => return Err(other.into()),
    };
    println!("video:     {}", both.video.video_url().unwrap_or_default());
    println!(
        "lip-synced: {}",
        both.lip_sync.video_url().unwrap_or_default()
    );

    // Your own audio: a local WAV (one second of silence here), checked for
    // format, size and length, uploaded, then used.
    let dir = std::env::temp_dir().join("piapi-kling-example");
    std::fs::create_dir_all(&dir)?;
    let voice = dir.join("voice.wav");
    std::fs::write(&voice, common::silent_wav(1))?;
    let dubbed = client
        .lip_sync(both.video.id())
        .audio(&voice)
        .send()
        .await?
        .wait()
        .await?;
    println!("dubbed:    {}", dubbed.video_url().unwrap_or_default());
    Ok(())
}
