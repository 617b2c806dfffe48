//! Kling as PiAPI serves it in late 2026, one task of each kind: Kling 3.0
//! with native audio, a multi-shot video, omni with a reference image, motion
//! control from a preset, an avatar speaking a local audio file, and Kling
//! Turbo. Each states its estimate first and its charge after.
//!
//! `cargo run -p piapi-kling --example kling_2026` runs against an in-process
//! simulator; with `PIAPI_API_KEY` set it runs against PiAPI (and spends money).

mod common;

use piapi_kling::{
    BuildRequest, Mode, Resolution, Shot, TaskBuilder, TaskResult, Version, VideoDuration,
};

/// States the estimate, sends, waits, and states the video and the charge.
async fn run<I: BuildRequest + Clone>(
    name: &str,
    builder: TaskBuilder<I>,
) -> Result<TaskResult, piapi_kling::Error> {
    println!("{name}: estimated {}", builder.estimate_cost());
    let result = builder.send().await?.wait().await?;
    println!(
        "{name}: {} (charged {})",
        result.video_url().unwrap_or("no video"),
        result
            .charged()
            .map_or_else(|| "unknown".to_owned(), |c| c.to_string())
    );
    Ok(result)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _sim) = common::client().await?;
    let dir = std::env::temp_dir().join("piapi-kling-example-2026");
    std::fs::create_dir_all(&dir)?;

    run(
        "kling 3.0 + audio",
        client
            .text_to_video("a woman by the sea introduces herself")
            .version(Version::V3_0)
            .audio(true)
            .duration(VideoDuration::Seconds5),
    )
    .await?;

    run(
        "multi-shot",
        client.multi_shot([
            Shot::new("a door opens onto a garden", 3),
            Shot::new("a cat walks in", 2),
        ]),
    )
    .await?;

    // A local reference image: checked against the spec's limits, uploaded.
    let hero = dir.join("hero.png");
    std::fs::write(
        &hero,
        piapi_kling_sim::encode_png(512, 512, |x, y| [(x / 2) as u8, (y / 2) as u8, 200]),
    )?;
    let omni = client
        .omni("@image_1 walks along the harbour at dawn")
        .reference_image(&hero)
        .resolution(Resolution::P720)
        .duration(5);
    run("omni", omni).await?;

    run(
        "motion control",
        client
            .motion_control(&hero)
            .preset("Heart Gesture Dance")
            .version(Version::V2_6),
    )
    .await?;

    let speech = dir.join("hello.wav");
    std::fs::write(&speech, common::silent_wav(2))?;
    run("avatar", client.avatar(&hero, &speech).mode(Mode::Standard)).await?;

    run(
        "turbo",
        client
            .turbo("a red kite in the wind")
            .duration(VideoDuration::Seconds5),
    )
    .await?;
    Ok(())
}
