//! Text to video, following the status while it renders.
//!
//! `cargo run -p piapi-kling --example text_to_video` runs against an
//! in-process simulator; with `PIAPI_API_KEY` set it runs against PiAPI.

mod common;

use piapi_kling::{AspectRatio, TaskStatus, VideoDuration};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _sim) = common::client().await?;

    let handle = client
        .text_to_video("White egrets fly over the vast paddy fields")
        .aspect_ratio(AspectRatio::Landscape16x9)
        .duration(VideoDuration::Seconds5)
        .send()
        .await?;
    println!("created task {}", handle.id());

    // Progress and the result from one poll loop.
    let result = handle
        .follow(|task| {
            println!("  {}", task.status);
            if task.status == TaskStatus::Failed {
                println!("  failed: {}", task.error_message().unwrap_or("no message"));
            }
        })
        .await?;
    for video in &result.videos {
        println!(
            "video: {} ({}x{}, {:.1} s)",
            video.url,
            video.width,
            video.height,
            video.duration.as_secs_f64()
        );
    }
    Ok(())
}
