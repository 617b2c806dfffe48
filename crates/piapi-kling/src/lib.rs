//! The ergonomic SDK for PiAPI's Kling video API.
//!
//! - One builder, [`TaskBuilder`], for every task type of the spec, with a
//!   setter per input field generated from the spec; named constructors
//!   ([`Client::text_to_video`], [`Client::omni`] …) take what a task
//!   requires. `send()` checks everything locally and returns every problem
//!   at once, before any request.
//! - Local files are accepted wherever the API wants a URL: checked, uploaded,
//!   and their URL put in the request.
//! - [`TaskHandle::wait`] polls on a schedule tuned to Kling's task lengths and
//!   returns a typed [`TaskResult`]; [`TaskHandle::status_stream`] follows the
//!   status for progress displays.
//! - Reads are retried on transient failures; a create is never blindly sent
//!   twice (PiAPI has no idempotency key) — see [`Error::AmbiguousCreate`].
//! - [`webhook`] verifies, parses and deduplicates webhook deliveries.
//! - The API key and webhook secrets never appear in `Debug`, `Display`,
//!   errors or logs.
//!
//! The types of the API are [`piapi_kling_models`], re-exported as [`models`]
//! (the common ones also at the root).
//!
//! # Layers
//!
//! This crate is a thin layer over [`piapi_kling_client`], the client
//! generated from the OpenAPI spec: every API request (create, read, cancel,
//! batch cancel, upload, account info) is built and sent by it, and it carries
//! the API key as a sensitive `x-api-key` header, with the `User-Agent` and
//! any per-request headers, in its `RequestContext`, on the SDK's HTTP client
//! or on yours ([`ClientBuilder::http_client`]). On top of it this crate adds
//! local validation, uploads of local files, retries, polling, webhooks and
//! one [`Error`] type.
//!
//! One limit follows from it: when the answer to a create is cut short (the
//! connection closes before the announced length), the generated client keeps
//! none of the bytes that arrived, so [`Error::AmbiguousCreate`] then has no
//! `task_id` to offer. An answer that arrives whole but does not decode still
//! yields the task id.
//!
//! # Examples
//!
//! A client reads `PIAPI_API_KEY` (and optionally `PIAPI_BASE_URL`,
//! `PIAPI_UPLOAD_BASE_URL`):
//!
//! ```no_run
//! # async fn run() -> Result<(), piapi_kling::Error> {
//! use piapi_kling::{AspectRatio, Client, Mode, VideoDuration};
//!
//! let client = Client::from_env()?;
//!
//! // Text to video.
//! let video = client
//!     .text_to_video("White egrets fly over the vast paddy fields")
//!     .negative_prompt("blurry")
//!     .duration(VideoDuration::Seconds5)
//!     .aspect_ratio(AspectRatio::Landscape16x9)
//!     .mode(Mode::Standard)
//!     .send()
//!     .await?
//!     .wait()
//!     .await?;
//! println!("{}", video.video_url().unwrap_or_default());
//! # Ok(()) }
//! ```
//!
//! Image to video, from a local file (uploaded first) with a tail frame URL:
//!
//! ```no_run
//! # async fn run(client: piapi_kling::Client) -> Result<(), piapi_kling::Error> {
//! use std::path::Path;
//! let handle = client
//!     .image_to_video(Path::new("first-frame.png"))
//!     .prompt("the camera slowly pulls back")
//!     .tail_frame("https://example.com/last-frame.png")
//!     .send()
//!     .await?;
//! println!("created {}", handle.id());
//! let result = handle.wait().await?;
//! # Ok(()) }
//! ```
//!
//! Extend a finished video, then add sound to it:
//!
//! ```no_run
//! # async fn run(client: piapi_kling::Client, video_task_id: &str) -> Result<(), piapi_kling::Error> {
//! let longer = client.extend(video_task_id).send().await?.wait().await?;
//! let sound = client
//!     .sound()
//!     .for_video(longer.id())
//!     .prompt("waves and seagulls")
//!     .send()
//!     .await?
//!     .wait()
//!     .await?;
//! println!("{:?}", sound.audio_url());
//! # Ok(()) }
//! ```
//!
//! Lip-sync with a Kling voice, or with your own audio (URL or local mp3/wav):
//!
//! ```no_run
//! # async fn run(client: piapi_kling::Client, video_task_id: &str) -> Result<(), piapi_kling::Error> {
//! let spoken = client
//!     .lip_sync(video_task_id)
//!     .text("Hello there!", "Rock")
//!     .speed(1.2)
//!     .send()
//!     .await?;
//! let dubbed = client.lip_sync(video_task_id).audio("voice-over.wav").send().await?;
//! # Ok(()) }
//! ```
//!
//! Kling 3.0 with native audio, and several shots in one video:
//!
//! ```no_run
//! # async fn run(client: piapi_kling::Client) -> Result<(), piapi_kling::Error> {
//! use piapi_kling::{Mode, Shot, Version};
//! let talking = client
//!     .text_to_video("a woman by the sea introduces herself")
//!     .version(Version::V3_0)
//!     .mode(Mode::Professional)
//!     .audio(true)
//!     .duration(15)
//!     .send()
//!     .await?;
//! let cut = client
//!     .multi_shot([Shot::new("a door opens", 3), Shot::new("a cat walks in", 2)])
//!     .send()
//!     .await?
//!     .wait()
//!     .await?;
//! println!("{}", cut.video_url().unwrap_or_default()); // `output.video` on 3.0
//! # Ok(()) }
//! ```
//!
//! Kling omni with a reference image, motion control, an avatar, Kling Turbo:
//!
//! ```no_run
//! # async fn run(client: piapi_kling::Client) -> Result<(), piapi_kling::Error> {
//! use piapi_kling::{OmniVersion, Resolution};
//! let omni = client
//!     .omni("@image_1 walks along the harbour")
//!     .reference_image("hero.png") // a local file: uploaded
//!     .resolution(Resolution::P1080)
//!     .duration(5)
//!     .send()
//!     .await?;
//! let o1 = client.omni("a paper boat").version(OmniVersion::O1).duration(10).send().await?;
//! let dance = client
//!     .motion_control("dancer.png")
//!     .preset("Heart Gesture Dance")
//!     .send()
//!     .await?;
//! let copy = client
//!     .motion_control("dancer.png")
//!     .reference_video("https://example.com/moves.mp4")
//!     .send()
//!     .await?;
//! let speaker = client.avatar("face.png", "hello.mp3").send().await?;
//! let quick = client.turbo("a red kite in the wind").duration(5).send().await?;
//! # Ok(()) }
//! ```
//!
//! Any task type, from its input, with a setter per field (a field or task
//! type added to the spec has them after `cargo xtask generate`):
//!
//! ```no_run
//! # async fn run(client: piapi_kling::Client) -> Result<(), piapi_kling::Error> {
//! use piapi_kling::models::MotionControlInput;
//! let task = client
//!     .new_task(MotionControlInput::new("dancer.png"))
//!     .video_url("moves.mp4")
//!     .keep_original_sound(true)
//!     .send()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! An effect, and a virtual try-on:
//!
//! ```no_run
//! # async fn run(client: piapi_kling::Client) -> Result<(), piapi_kling::Error> {
//! use piapi_kling::Effect;
//! let squish = client
//!     .effect("https://example.com/cat.png", Effect::Squish)
//!     .professional(true)
//!     .send()
//!     .await?;
//! let outfits = client
//!     .try_on("https://example.com/person.jpg")
//!     .upper("https://example.com/shirt.png")
//!     .lower("https://example.com/jeans.png")
//!     .batch_size(2)
//!     .send()
//!     .await?
//!     .wait()
//!     .await?;
//! for image in &outfits.images {
//!     println!("{}", image.url);
//! }
//! # Ok(()) }
//! ```
//!
//! Webhooks instead of polling, and errors worth telling apart:
//!
//! ```no_run
//! # async fn run(client: piapi_kling::Client) -> Result<(), piapi_kling::Error> {
//! use piapi_kling::Error;
//! match client
//!     .text_to_video("a lighthouse at dusk")
//!     .webhook("https://example.com/hooks/piapi", "my-webhook-secret")
//!     .send()
//!     .await
//! {
//!     Ok(handle) => println!("created {}; PiAPI will call back", handle.id()),
//!     Err(Error::Validation(violations)) => {
//!         for v in &violations {
//!             eprintln!("{}: {}", v.path, v.message);
//!         }
//!     }
//!     Err(Error::AmbiguousCreate { task_id, .. }) => {
//!         eprintln!("a task may exist ({task_id:?}); check before re-sending");
//!     }
//!     Err(other) => return Err(other),
//! }
//! # Ok(()) }
//! ```
//!
//! A raw request, for anything the builders do not cover:
//!
//! ```no_run
//! # async fn run(client: piapi_kling::Client) -> Result<(), piapi_kling::Error> {
//! use piapi_kling::models::{ExtendVideoInput, ExtendVideoRequest, Model};
//! let request = ExtendVideoRequest::new(Model::Kling, ExtendVideoInput::new("6e269e8c-..."));
//! let handle = client.create(request).await?;
//! # Ok(()) }
//! ```
//!
//! See the [`guide`] for when to poll and when to use webhooks.
#![deny(missing_docs)]

mod audio;
mod budget;
mod builders;
mod client;
mod config;
mod core;
mod error;
mod handle;
mod lipsync;
mod redact;
mod result;
mod retry;
mod source;
mod spending;
mod transport;
mod wait;
mod wait_policy;
pub mod webhook;

/// When to poll and when to use webhooks, and how the default polling
/// schedule was chosen.
pub mod guide {
    #![doc = include_str!("docs/polling_vs_webhooks.md")]
}

pub use piapi_kling_models as models;

pub use builders::{
    Avatar, BuildRequest, CustomTask, DryRun, Effects, ExtendVideo, ImageToVideo, LipSync,
    MotionControl, Omni, RawRequest, Sound, TaskBuilder, TextToVideo, TryOn,
};
pub use client::Client;
pub use config::{
    ClientBuilder, DEFAULT_BASE_URL, DEFAULT_MAX_CONCURRENT_REQUESTS, DEFAULT_UPLOAD_BASE_URL,
    ENV_API_KEY, ENV_BASE_URL, ENV_UPLOAD_BASE_URL,
};
pub use error::{Error, Result};
pub use handle::TaskHandle;
pub use lipsync::{LipSyncOutcome, LipSyncSpec};
pub use piapi_kling_client::DEFAULT_MAX_RESPONSE_BYTES;
pub use piapi_kling_models::catalog::{Estimate, Usd};
pub use result::{Audio, Image, TaskResult, Video};
pub use retry::RetryPolicy;
pub use source::{MAX_UPLOAD_BYTES, MediaSource};
pub use spending::Spending;
pub use wait::StatusStream;
pub use wait_policy::WaitPolicy;

pub use piapi_kling_models::{
    AccountInfo, AspectRatio, CameraConfig, CameraControl, CameraType, CancelModel,
    CreateTaskRequest, Effect, Mode, MotionDirection, MotionMask, MotionPoint, OmniVersion, Report,
    Resolution, ServiceMode, Severity, Shot, TaskData, TaskStatus, TaskType, Validate, Version,
    VideoDuration, Violation, Violations, WebhookEvent,
};
