//! Webhooks instead of polling: an axum endpoint receives the task's
//! notifications (secret checked, duplicates dropped).
//!
//! `cargo run -p piapi-kling --features axum --example webhook_receiver`
//! runs against an in-process simulator, which delivers to this process.
//! Against PiAPI (`PIAPI_API_KEY` set), PiAPI must reach the endpoint: set
//! `PIAPI_WEBHOOK_URL` to a public URL that forwards to `WEBHOOK_PORT`
//! (default 8080) on this machine, and `IMAGE_URL` to an image to animate.

mod common;

use piapi_kling::webhook;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, sim) = common::client().await?;
    let secret = "example-webhook-secret";

    let (router, mut events) = webhook::axum::channel(secret, 32);
    let (bind, public_url) = match &sim {
        Some(_) => ("127.0.0.1:0".to_owned(), None),
        None => {
            let url = std::env::var("PIAPI_WEBHOOK_URL")
                .map_err(|_| "set PIAPI_WEBHOOK_URL to a public URL forwarding to this machine")?;
            let port = std::env::var("WEBHOOK_PORT").unwrap_or_else(|_| "8080".into());
            (format!("0.0.0.0:{port}"), Some(url))
        }
    };
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    let endpoint = public_url.unwrap_or(format!("http://{}/", listener.local_addr()?));
    tokio::spawn(async move { axum::serve(listener, router).await });
    println!("listening for webhooks at {endpoint}");

    // PiAPI fetches the image; the simulator does not.
    let image = std::env::var("IMAGE_URL").unwrap_or_else(|_| "https://example.com/cat.png".into());
    let handle = client
        .effect(image, piapi_kling::Effect::Squish)
        .webhook(&endpoint, secret)
        .send()
        .await?;
    println!("created task {}", handle.id());

    while let Some(event) = events.recv().await {
        println!(
            "webhook: task {} is {}",
            event.data.task_id, event.data.status
        );
        if event.data.task_id == handle.id() && event.data.is_terminal() {
            if let Some(url) = event.data.video_url() {
                println!("video: {url}");
            }
            break;
        }
    }
    Ok(())
}
