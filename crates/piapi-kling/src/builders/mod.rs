//! Building a task: one generic builder, [`TaskBuilder`], for every task type.
//!
//! - Every input field of every task type has a typed, documented setter,
//!   generated from the spec (`generated/setters.rs`), so a field added to the
//!   spec has a setter after `cargo xtask generate`.
//! - Every media field takes a URL or a local file; the spec's `x-media` says
//!   what the file must be.
//! - On top, hand-written conveniences ([`conveniences`]): constructors on
//!   [`Client`](crate::Client) taking what a task requires, and helpers such as
//!   `.tail_frame()`, `.element()`, `.brush()`, `.shots()` or `.text(text, voice)`.
//!
//! `send()` consumes the builder and, before any request:
//! 1. checks every local file (exists, size, format, audio length),
//! 2. runs the spec's [`Validate`](piapi_kling_models::Validate) on the request,
//!
//! and returns *every* problem at once as [`Error::Validation`](crate::Error::Validation).
//! Only then are local files uploaded (no upload is spent on a request that
//! would be rejected) and the task created.

pub mod conveniences;
mod prepared;
mod task;

// Generated from the spec; rustfmt must leave it byte-identical.
#[rustfmt::skip]
#[path = "../generated/setters.rs"]
mod setters;

pub(crate) use prepared::{Options, Prepared, admit_create};
pub use task::{BuildRequest, CustomTask, DryRun, RawRequest, TaskBuilder};

use piapi_kling_models::{
    AiTryOnInput, AvatarInput, EffectsInput, ExtendVideoInput, LipSyncInput, MotionControlInput,
    OmniVideoGenerationInput, SoundInput, VideoGenerationInput,
};

/// A text-to-video task: [`Client::text_to_video`](crate::Client::text_to_video).
pub type TextToVideo = TaskBuilder<VideoGenerationInput>;
/// An image-to-video task: [`Client::image_to_video`](crate::Client::image_to_video).
pub type ImageToVideo = TaskBuilder<VideoGenerationInput>;
/// An extend-video task: [`Client::extend`](crate::Client::extend).
pub type ExtendVideo = TaskBuilder<ExtendVideoInput>;
/// A lip-sync task: [`Client::lip_sync`](crate::Client::lip_sync).
pub type LipSync = TaskBuilder<LipSyncInput>;
/// An effects task: [`Client::effect`](crate::Client::effect).
pub type Effects = TaskBuilder<EffectsInput>;
/// A virtual try-on task: [`Client::try_on`](crate::Client::try_on).
pub type TryOn = TaskBuilder<AiTryOnInput>;
/// A Kling Sound task: [`Client::sound`](crate::Client::sound).
pub type Sound = TaskBuilder<SoundInput>;
/// A Kling omni task: [`Client::omni`](crate::Client::omni).
pub type Omni = TaskBuilder<OmniVideoGenerationInput>;
/// A motion-control task: [`Client::motion_control`](crate::Client::motion_control).
pub type MotionControl = TaskBuilder<MotionControlInput>;
/// An avatar task: [`Client::avatar`](crate::Client::avatar).
pub type Avatar = TaskBuilder<AvatarInput>;
