//! The create subcommands (`kling video`, `kling omni`, … and `kling create
//! TASK_TYPE`) and what they share: the settings of both video subcommands
//! and what to do once a task exists.

use std::path::PathBuf;

use clap::Args;
use piapi_kling::models::{
    AspectRatio, CameraType, Effect, Mode, MotionDirection, MotionMask, OmniVersion, Resolution,
    ServiceMode, Shot, Version, VideoDuration,
};
use reqwest::header::{HeaderName, HeaderValue};

use super::parse::{known, parse_header, parse_points, parse_set, parse_shot};

/// `kling create TASK_TYPE`: a subcommand per task type of the spec, with a
/// flag per input field (see `spec_flags`).
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The task type and its flags.
    #[command(subcommand)]
    pub create: crate::spec_flags::CreateCommand<RawCreateArgs>,
}

/// The flags `kling create` has for every task type.
#[derive(Debug, Args)]
pub struct RawCreateArgs {
    /// The `input` object: JSON text, @FILE to read it from a file, or - for
    /// stdin. Field flags and --set are applied on top of it.
    #[arg(long, value_name = "JSON|@FILE|-", default_value = "{}")]
    pub input: String,
    /// A field of `input` (repeatable): VALUE is JSON when it parses as JSON
    /// (3, true, {"a":1}, "quoted"), else the text as a string.
    #[arg(long = "set", value_name = "input.NAME=VALUE", value_parser = parse_set)]
    pub sets: Vec<(String, serde_json::Value)>,
    /// The `model`.
    #[arg(long, default_value = "kling")]
    pub model: String,
    /// Task options.
    #[command(flatten)]
    pub task: TaskOpts,
}

/// What to do once a task is created: every create subcommand has these.
#[derive(Debug, Args)]
#[command(next_help_heading = "Task options")]
pub struct TaskOpts {
    /// Check the request and the local files, print the exact JSON it would
    /// send and its estimated cost, and send nothing.
    #[arg(long, conflicts_with_all = ["wait", "download"])]
    pub dry_run: bool,
    /// Wait for the task to finish, showing its status.
    #[arg(long)]
    pub wait: bool,
    /// Save the results into DIR as `<task_id>-<n>.<ext>` (implies --wait).
    #[arg(long, value_name = "DIR")]
    pub download: Option<PathBuf>,
    /// With --download, also save the cover image of each video.
    #[arg(long)]
    pub covers: bool,
    /// Have PiAPI POST the task to URL when it is created and when it ends.
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    /// Read the webhook secret from this environment variable (without it,
    /// the secret is asked for, hidden, when stdin is a terminal).
    #[arg(long, value_name = "VAR", requires = "webhook")]
    pub webhook_secret_env: Option<String>,
    /// Who pays: public (pay as you go) or private (your Kling account).
    #[arg(long, value_name = "MODE", value_parser = known::<ServiceMode>(ServiceMode::VALUES, ServiceMode::OPEN))]
    pub service_mode: Option<ServiceMode>,
    /// An extra header on the create request (repeatable), e.g. a tracing id.
    #[arg(long = "header", value_name = "NAME:VALUE", value_parser = parse_header)]
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// The settings of both video subcommands.
#[derive(Debug, Args)]
pub struct VideoSettings {
    /// What the video must not show.
    #[arg(long, value_name = "TEXT")]
    pub negative_prompt: Option<String>,
    /// Native audio (Kling 2.6 and 3.0).
    #[arg(long)]
    pub audio: bool,
    /// A shot of a multi-shot video (Kling 3.0), repeatable, e.g. --shot
    /// "3s:a door opens": its length in seconds and what it shows.
    #[arg(long = "shot", value_name = "SECONDS:TEXT", value_parser = parse_shot)]
    pub shots: Vec<Shot>,
    /// Output resolution, where the version takes one (720p, 1080p).
    #[arg(long, value_name = "RESOLUTION", value_parser = known::<Resolution>(Resolution::VALUES, Resolution::OPEN))]
    pub resolution: Option<Resolution>,
    /// A reference image the prompt names as @image_1, @image_2… (repeatable):
    /// a URL or a local file.
    #[arg(long = "reference-image", value_name = "IMAGE")]
    pub images: Vec<String>,
    /// Video length in seconds.
    #[arg(long, value_name = "SECONDS", value_parser = known::<VideoDuration>(VideoDuration::VALUES, VideoDuration::OPEN))]
    pub duration: Option<VideoDuration>,
    /// Aspect ratio (text-to-video sends 16:9 unless set).
    #[arg(long, value_name = "RATIO", value_parser = known::<AspectRatio>(AspectRatio::VALUES, AspectRatio::OPEN))]
    pub aspect_ratio: Option<AspectRatio>,
    /// Quality: std or pro.
    #[arg(long, value_name = "MODE", value_parser = known::<Mode>(Mode::VALUES, Mode::OPEN))]
    pub mode: Option<Mode>,
    /// Kling model version.
    #[arg(long, value_name = "VERSION", value_parser = known::<Version>(Version::VALUES, Version::OPEN))]
    pub version: Option<Version>,
    /// How closely to follow the prompt, 0 to 1.
    #[arg(long, value_name = "SCALE")]
    pub cfg_scale: Option<f64>,
    /// A camera movement; `simple` takes exactly one `--camera-<axis>`.
    #[arg(long, value_name = "TYPE", value_parser = known::<CameraType>(CameraType::VALUES, CameraType::OPEN))]
    pub camera: Option<CameraType>,
    /// Simple camera: move along x (-10 to 10).
    #[arg(
        long,
        value_name = "N",
        requires = "camera",
        allow_hyphen_values = true
    )]
    pub camera_horizontal: Option<f64>,
    /// Simple camera: move along y (-10 to 10).
    #[arg(
        long,
        value_name = "N",
        requires = "camera",
        allow_hyphen_values = true
    )]
    pub camera_vertical: Option<f64>,
    /// Simple camera: rotate around y (-10 to 10).
    #[arg(
        long,
        value_name = "N",
        requires = "camera",
        allow_hyphen_values = true
    )]
    pub camera_pan: Option<f64>,
    /// Simple camera: rotate around x (-10 to 10).
    #[arg(
        long,
        value_name = "N",
        requires = "camera",
        allow_hyphen_values = true
    )]
    pub camera_tilt: Option<f64>,
    /// Simple camera: rotate around z (-10 to 10).
    #[arg(
        long,
        value_name = "N",
        requires = "camera",
        allow_hyphen_values = true
    )]
    pub camera_roll: Option<f64>,
    /// Simple camera: change the focal length (-10 to 10).
    #[arg(
        long,
        value_name = "N",
        requires = "camera",
        allow_hyphen_values = true
    )]
    pub camera_zoom: Option<f64>,
    /// A Kling Elements reference image, URL or local file (repeatable, 1 to 4; version 1.6).
    #[arg(long, value_name = "IMAGE")]
    pub element: Vec<String>,
}

/// `kling video`.
#[derive(Debug, Args)]
pub struct VideoArgs {
    /// What the video shows (optional with --shot, which sends Kling 3.0
    /// multi-shot unless --version says otherwise).
    pub prompt: Option<String>,
    /// The video's settings.
    #[command(flatten)]
    pub settings: VideoSettings,
    /// What to do once the task exists.
    #[command(flatten)]
    pub task: TaskOpts,
}

/// `kling image-to-video`.
#[derive(Debug, Args)]
pub struct ImageToVideoArgs {
    /// The first frame: a URL or a local jpg/png file.
    pub image: String,
    /// What the video shows.
    #[arg(long, value_name = "TEXT")]
    pub prompt: Option<String>,
    /// The last frame: a URL or a local file.
    #[arg(long, value_name = "IMAGE")]
    pub tail_frame: Option<String>,
    /// A motion brush's composite mask PNG (same size as the image): a URL or
    /// a local file. Regions come with --static-mask and --dynamic-mask.
    #[arg(long, value_name = "MASK")]
    pub motion_mask: Option<String>,
    /// A region that must not move (repeatable; with --motion-mask): its
    /// points as JSON, e.g. `[[10,20],[30,40]]` (or `[]`).
    #[arg(long, value_name = "POINTS", value_parser = parse_points, requires = "motion_mask")]
    pub static_mask: Vec<MotionMask>,
    /// A region that moves along its trajectory (repeatable; with
    /// --motion-mask): its points as JSON, e.g. `[[10,20],[200,40]]`.
    #[arg(long, value_name = "POINTS", value_parser = parse_points, requires = "motion_mask")]
    pub dynamic_mask: Vec<MotionMask>,
    /// The video's settings.
    #[command(flatten)]
    pub settings: VideoSettings,
    /// What to do once the task exists.
    #[command(flatten)]
    pub task: TaskOpts,
}

/// `kling extend`.
#[derive(Debug, Args)]
pub struct ExtendArgs {
    /// The finished video task to extend.
    pub task_id: String,
    /// What to do once the task exists.
    #[command(flatten)]
    pub task: TaskOpts,
}

/// `kling lip-sync`.
#[derive(Debug, Args)]
pub struct LipSyncArgs {
    /// The finished video task to lip-sync.
    pub task_id: String,
    /// The text to speak (with --voice).
    #[arg(
        long,
        value_name = "TEXT",
        requires = "voice",
        conflicts_with = "audio"
    )]
    pub text: Option<String>,
    /// The Kling voice speaking --text.
    #[arg(long, value_name = "VOICE", requires = "text")]
    pub voice: Option<String>,
    /// Speech speed for --text, 0.8 to 2.
    #[arg(long, value_name = "SPEED", requires = "text")]
    pub speed: Option<f64>,
    /// Your own audio: a URL or a local mp3/wav file.
    #[arg(long, value_name = "AUDIO")]
    pub audio: Option<String>,
    /// What to do once the task exists.
    #[command(flatten)]
    pub task: TaskOpts,
}

/// `kling effect`.
#[derive(Debug, Args)]
pub struct EffectArgs {
    /// The effect preset.
    #[arg(value_parser = known::<Effect>(Effect::VALUES, Effect::OPEN))]
    pub effect: Effect,
    /// The image: a URL or a local jpg/png/webp file.
    pub image: String,
    /// Text, for the effects that need one (rocket, hearting, fighting,
    /// kissing, hugging, birthday, water).
    #[arg(long, value_name = "TEXT")]
    pub prompt: Option<String>,
    /// Professional mode (dearer, better).
    #[arg(long)]
    pub professional: bool,
    /// What to do once the task exists.
    #[command(flatten)]
    pub task: TaskOpts,
}

/// `kling try-on`.
#[derive(Debug, Args)]
pub struct TryOnArgs {
    /// The person: a URL or a local image file.
    pub model_image: String,
    /// A full-body garment (excludes --upper and --lower).
    #[arg(long, value_name = "IMAGE", conflicts_with_all = ["upper", "lower"])]
    pub dress: Option<String>,
    /// An upper-body garment.
    #[arg(long, value_name = "IMAGE")]
    pub upper: Option<String>,
    /// A lower-body garment.
    #[arg(long, value_name = "IMAGE")]
    pub lower: Option<String>,
    /// How many images to make, 1 to 4.
    #[arg(long, value_name = "N")]
    pub batch_size: Option<u32>,
    /// What to do once the task exists.
    #[command(flatten)]
    pub task: TaskOpts,
}

/// `kling sound`.
#[derive(Debug, Args)]
pub struct SoundArgs {
    /// What the sound is.
    #[arg(long, value_name = "TEXT")]
    pub prompt: Option<String>,
    /// Score the finished video of this task.
    #[arg(long = "video", value_name = "TASK_ID")]
    pub video_task_id: Option<String>,
    /// Length in seconds.
    #[arg(long, value_name = "SECONDS", value_parser = known::<VideoDuration>(VideoDuration::VALUES, VideoDuration::OPEN))]
    pub duration: Option<VideoDuration>,
    /// What to do once the task exists.
    #[command(flatten)]
    pub task: TaskOpts,
}

/// `kling omni`.
#[derive(Debug, Args)]
pub struct OmniArgs {
    /// What the video shows; name reference images as @image_1, @image_2…
    pub prompt: Option<String>,
    /// 3.0 (default) or o1.
    #[arg(long, value_name = "VERSION", value_parser = known::<OmniVersion>(OmniVersion::VALUES, OmniVersion::OPEN))]
    pub version: Option<OmniVersion>,
    /// 720p or 1080p.
    #[arg(long, value_name = "RESOLUTION", value_parser = known::<Resolution>(Resolution::VALUES, Resolution::OPEN))]
    pub resolution: Option<Resolution>,
    /// Length in seconds (3 to 15 on 3.0; 5 or 10 on o1).
    #[arg(long, value_name = "SECONDS", value_parser = known::<VideoDuration>(VideoDuration::VALUES, VideoDuration::OPEN))]
    pub duration: Option<VideoDuration>,
    /// Aspect ratio.
    #[arg(long, value_name = "RATIO", value_parser = known::<AspectRatio>(AspectRatio::VALUES, AspectRatio::OPEN))]
    pub aspect_ratio: Option<AspectRatio>,
    /// Native audio (3.0).
    #[arg(long)]
    pub audio: bool,
    /// A reference image (repeatable): a URL or a local file.
    #[arg(long = "reference-image", value_name = "IMAGE")]
    pub images: Vec<String>,
    /// The reference video: a URL or a local file.
    #[arg(long, value_name = "VIDEO")]
    pub video: Option<String>,
    /// Keep the reference video's sound.
    #[arg(long)]
    pub keep_audio: bool,
    /// A shot (3.0), repeatable, e.g. --shot "3s:a door opens".
    #[arg(long = "shot", value_name = "SECONDS:TEXT", value_parser = parse_shot)]
    pub shots: Vec<Shot>,
    /// What to do once the task exists.
    #[command(flatten)]
    pub task: TaskOpts,
}

/// `kling motion`.
#[derive(Debug, Args)]
pub struct MotionArgs {
    /// The character: a URL or a local image.
    pub image: String,
    /// A named motion preset, e.g. "Heart Gesture Dance".
    #[arg(long, value_name = "NAME", conflicts_with = "video")]
    pub preset: Option<String>,
    /// The motion reference video: a URL or a local file.
    #[arg(long, value_name = "VIDEO")]
    pub video: Option<String>,
    /// Which orientation the character follows: video or image.
    #[arg(long, value_name = "FROM", value_parser = known::<MotionDirection>(MotionDirection::VALUES, MotionDirection::OPEN))]
    pub direction: Option<MotionDirection>,
    /// Keep the reference video's sound.
    #[arg(long)]
    pub keep_sound: bool,
    /// Quality: std or pro.
    #[arg(long, value_name = "MODE", value_parser = known::<Mode>(Mode::VALUES, Mode::OPEN))]
    pub mode: Option<Mode>,
    /// Kling version (2.6 or 3.0).
    #[arg(long, value_name = "VERSION", value_parser = known::<Version>(Version::VALUES, Version::OPEN))]
    pub version: Option<Version>,
    /// What to do once the task exists.
    #[command(flatten)]
    pub task: TaskOpts,
}

/// `kling avatar`.
#[derive(Debug, Args)]
pub struct AvatarArgs {
    /// The portrait: a URL or a local image.
    pub image: String,
    /// The speech: a URL or a local audio file.
    pub audio: String,
    /// How the avatar looks and moves.
    #[arg(long, value_name = "TEXT")]
    pub prompt: Option<String>,
    /// Quality: std or pro.
    #[arg(long, value_name = "MODE", value_parser = known::<Mode>(Mode::VALUES, Mode::OPEN))]
    pub mode: Option<Mode>,
    /// What to do once the task exists.
    #[command(flatten)]
    pub task: TaskOpts,
}

/// `kling turbo`.
#[derive(Debug, Args)]
pub struct TurboArgs {
    /// What the video shows.
    pub prompt: String,
    /// The first frame: a URL or a local image.
    #[arg(long, value_name = "IMAGE")]
    pub start_frame: Option<String>,
    /// The last frame: a URL or a local image.
    #[arg(long, value_name = "IMAGE", requires = "start_frame")]
    pub end_frame: Option<String>,
    /// Length in seconds (5 or 10).
    #[arg(long, value_name = "SECONDS", value_parser = known::<VideoDuration>(VideoDuration::VALUES, VideoDuration::OPEN))]
    pub duration: Option<VideoDuration>,
    /// Aspect ratio (16:9 unless set).
    #[arg(long, value_name = "RATIO", value_parser = known::<AspectRatio>(AspectRatio::VALUES, AspectRatio::OPEN))]
    pub aspect_ratio: Option<AspectRatio>,
    /// What the video must not show.
    #[arg(long, value_name = "TEXT")]
    pub negative_prompt: Option<String>,
    /// What to do once the task exists.
    #[command(flatten)]
    pub task: TaskOpts,
}
