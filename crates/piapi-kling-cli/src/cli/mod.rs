//! The command line, as clap types: every subcommand and flag of `kling`.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use clap_complete::Shell;
use piapi_kling::Usd;
use piapi_kling::models::{
    AspectRatio, CameraType, CancelModel, Effect, Mode, MotionDirection, MotionMask, MotionPoint,
    OmniVersion, Resolution, ServiceMode, Shot, Version, VideoDuration,
};
use reqwest::header::{HeaderName, HeaderValue};

/// The exit codes, as `--help` shows them (the crate README repeats them).
const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  a local failure (writing a file, the batch journal)
  2  invalid input: a usage error, a request that breaks the API's rules
     (every violation is printed, one per line), or missing configuration
  3  the task failed (its code, message and raw message are printed)
  4  a transport or API error (connection, HTTP error status, bad response)
  5  timed out waiting; the task goes on: resume with `kling wait ID`
  6  a create whose outcome is unknown: a task may exist (any salvaged id is
     printed); check before re-sending

Environment:
  PIAPI_API_KEY          the API key (never printed); `kling demo` runs
                         against an embedded simulator when it is unset
  PIAPI_BASE_URL         the API base URL (default https://api.piapi.ai)
  PIAPI_UPLOAD_BASE_URL  the upload base URL (default: the base URL when it
                         is set, else https://upload.theapi.app)";

/// `kling`: create, follow and download PiAPI Kling video tasks.
#[derive(Debug, Parser)]
#[command(name = "kling", version, about, after_long_help = EXIT_CODES, after_help = EXIT_CODES)]
// A repeated option overrides the earlier one, so wrappers and aliases can
// set defaults the command line then changes.
#[command(args_override_self = true)]
pub struct Cli {
    /// Options every subcommand takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Print machine-readable JSON: one object on stdout (errors too, as
    /// `{"error": {...}}`); progress events go to stderr as JSON lines.
    #[arg(long, global = true)]
    pub json: bool,
    /// No progress display and no hints.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Log what the SDK does to stderr (RUST_LOG refines it); the API key and
    /// webhook secrets are never logged.
    #[arg(long, short, global = true)]
    pub verbose: bool,
    /// The API base URL.
    #[arg(
        long,
        global = true,
        env = "PIAPI_BASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub base_url: Option<String>,
    /// The upload base URL.
    #[arg(
        long,
        global = true,
        env = "PIAPI_UPLOAD_BASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub upload_base_url: Option<String>,
    /// Poll a task every DURATION (e.g. 2s, 500ms) instead of the SDK's
    /// schedule (first poll after 4 s, then every 10 to 30 s).
    #[arg(long, global = true, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub poll_interval: Option<Duration>,
    /// Stop waiting for a task after DURATION (default 15m); exit code 5.
    #[arg(long, global = true, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub timeout: Option<Duration>,
    /// Allow a plain http:// base URL on a host that is not loopback. The API
    /// key then crosses the network in clear text: only on a network you trust.
    #[arg(long, global = true)]
    pub allow_insecure_http: bool,
    /// Refuse to download a result file larger than SIZE (bytes, or with a
    /// unit: 500MB, 1.5GiB); the partial file is removed.
    // 2 GiB is far above a Kling result (a 10 s 1080p video is tens of MB)
    // and still stops a result URL from filling the disk.
    #[arg(
        long,
        global = true,
        value_name = "SIZE",
        default_value = "2GiB",
        value_parser = parse_size
    )]
    pub max_download_bytes: u64,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Text to video.
    Video(VideoArgs),
    /// Image to video (the image is a URL or a local file, uploaded first).
    ImageToVideo(ImageToVideoArgs),
    /// Extend a finished video by about 5 seconds.
    Extend(ExtendArgs),
    /// Lip-sync a finished video with spoken text or your own audio.
    LipSync(LipSyncArgs),
    /// Turn an image into a video with a Kling effect preset.
    Effect(EffectArgs),
    /// Virtual try-on: dress the person of an image.
    TryOn(TryOnArgs),
    /// Kling Sound: audio from a prompt and/or for a finished video.
    Sound(SoundArgs),
    /// Kling omni (3.0 or o1): a video from a prompt, reference images and a
    /// reference video.
    Omni(OmniArgs),
    /// Motion control: the character of an image moves like a reference
    /// video or a named preset.
    Motion(MotionArgs),
    /// Avatar: a portrait speaks the given audio.
    Avatar(AvatarArgs),
    /// Kling Turbo (model kling-turbo, version 2.5-turbo).
    Turbo(TurboArgs),
    /// Any task type, with its input as JSON: for a task type or field newer
    /// than this release (sent as given, with a warning), or any known one.
    Create(CreateArgs),
    /// Show a task.
    Get(GetArgs),
    /// Cancel pending tasks.
    Cancel(CancelArgs),
    /// Cancel every pending task created before a time.
    CancelAll(CancelAllArgs),
    /// Wait for a task to finish (e.g. after exit code 5).
    Wait(WaitArgs),
    /// Upload a local file; prints its URL (valid for 24 hours).
    Upload(UploadArgs),
    /// Show the account and its balance.
    Account,
    /// Create many tasks from a JSONL file, resumably, from one or many
    /// machines (see the README).
    Batch(BatchArgs),
    /// Receive PiAPI's webhooks into a batch ledger.
    Webhook(WebhookArgs),
    /// Run the PiAPI simulator in the foreground (Ctrl-C stops it).
    Sim(piapi_kling_sim::cli::SimArgs),
    /// Make a video, lip-sync it, apply an effect and make a Kling 3.0 video
    /// with audio, end to end (states the cost first when it spends money).
    Demo(DemoArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
}

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

/// Where and what to download, for `get` and `wait`.
#[derive(Debug, Args)]
pub struct DownloadOpts {
    /// Save the results of a completed task into DIR.
    #[arg(long, value_name = "DIR")]
    pub download: Option<PathBuf>,
    /// With --download, also save the cover image of each video.
    #[arg(long)]
    pub covers: bool,
}

/// `kling get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The task.
    pub task_id: String,
    /// Downloads.
    #[command(flatten)]
    pub download: DownloadOpts,
}

/// `kling cancel`.
#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The pending tasks to cancel.
    #[arg(required = true)]
    pub task_ids: Vec<String>,
}

/// `kling cancel-all`.
#[derive(Debug, Args)]
pub struct CancelAllArgs {
    /// Cancel the tasks created before this time: unix seconds, RFC 3339
    /// (2025-06-01T12:00:00Z) or `now`.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub before: std::time::SystemTime,
    /// The model whose tasks to cancel.
    #[arg(long, value_name = "MODEL", default_value = "kling", value_parser = known::<CancelModel>(CancelModel::VALUES, CancelModel::OPEN))]
    pub model: CancelModel,
}

/// `kling wait`.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// The task.
    pub task_id: String,
    /// Downloads.
    #[command(flatten)]
    pub download: DownloadOpts,
}

/// `kling upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The file: jpg, jpeg, png, webp, mp4, wav or mp3, at most 10 MB.
    pub file: PathBuf,
}

/// `kling batch`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BatchArgs {
    /// `status`: show a batch's progress (from any machine).
    #[command(subcommand)]
    pub command: Option<BatchCommand>,
    /// The JSONL file: one create request per line, optionally with an "id".
    #[arg(required = true)]
    pub file: Option<PathBuf>,
    /// How many tasks may be in flight (created and not finished) at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// The ledger that makes the batch resumable and shareable: a SQLite
    /// file (created if absent), or postgres://user@host/db[?schema=NAME],
    /// shared by runners on any number of machines.
    #[arg(long, value_name = "FILE|URL", required = true)]
    pub journal: Option<String>,
    /// Save the results of each task into DIR.
    #[arg(long, value_name = "DIR")]
    pub download: Option<PathBuf>,
    /// With --download, also save the cover image of each video.
    #[arg(long)]
    pub covers: bool,
    /// Create the valid lines even when some lines are invalid.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Stop creating once the next line would take what the journal's lines
    /// have committed (charges of finished tasks, estimates of the others)
    /// over USD dollars; the tasks in flight finish. A line the spec's price
    /// table cannot price is not created under a budget.
    #[arg(long, value_name = "USD", value_parser = parse_usd)]
    pub budget: Option<Usd>,
    /// Start even when the account's balance cannot cover the batch's
    /// estimate.
    #[arg(long, short)]
    pub yes: bool,
    /// Re-send the lines whose create outcome is unknown. RISK: if their
    /// first create did reach PiAPI, this makes a duplicate task, billed too.
    #[arg(long)]
    pub resend_unknown: bool,
    /// How long a runner's claim on a line lasts without a heartbeat; the
    /// lines of a runner gone that long are taken over by the others.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    pub lease: Duration,
    /// Creates carry this webhook endpoint (`kling webhook serve`), with a
    /// per-line token; runners then learn of completions from the ledger and
    /// poll PiAPI only every --fallback-poll.
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,
    /// The environment variable holding the webhook secret (with --webhook-url).
    #[arg(long, value_name = "VAR", requires = "webhook_url")]
    pub webhook_secret_env: Option<String>,
    /// With --webhook-url, poll PiAPI this often in case a delivery is lost.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = humantime::parse_duration)]
    pub fallback_poll: Duration,
}

/// The subcommands of `kling batch`.
#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// Show a batch's progress and the runners holding its lines.
    Status(BatchStatusArgs),
}

/// `kling batch status`.
#[derive(Debug, Args)]
pub struct BatchStatusArgs {
    /// The ledger: a SQLite file or a postgres:// URL.
    #[arg(long, value_name = "FILE|URL")]
    pub journal: String,
}

/// `kling webhook`.
#[derive(Debug, Args)]
pub struct WebhookArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: WebhookCommand,
}

/// The subcommands of `kling webhook`.
#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Receive PiAPI's webhooks into a batch ledger (runs until Ctrl-C).
    Serve(WebhookServeArgs),
}

/// `kling webhook serve`.
#[derive(Debug, Args)]
pub struct WebhookServeArgs {
    /// The ledger the batch runners use: a SQLite file or a postgres:// URL.
    #[arg(long, value_name = "FILE|URL")]
    pub journal: String,
    /// The environment variable holding the webhook secret (required: the
    /// endpoint faces the internet).
    #[arg(long, value_name = "VAR")]
    pub secret_env: String,
    /// The address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8787")]
    pub listen: std::net::SocketAddr,
}

/// `kling demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to save the results.
    #[arg(long, value_name = "DIR", default_value = "kling-output")]
    pub out: PathBuf,
    /// Spend the money without asking (only with PIAPI_API_KEY set).
    #[arg(long, short)]
    pub yes: bool,
    /// Use the embedded simulator even when PIAPI_API_KEY is set.
    #[arg(long)]
    pub sim: bool,
    /// The prompt of the video.
    #[arg(
        long,
        value_name = "TEXT",
        default_value = "A red fox trots through fresh snow at dawn, cinematic"
    )]
    pub prompt: String,
    /// The text the lip-sync speaks.
    #[arg(
        long,
        value_name = "TEXT",
        default_value = "Good morning! What a beautiful day."
    )]
    pub say: String,
    /// The Kling voice of the lip-sync.
    #[arg(long, value_name = "VOICE", default_value = "Rock")]
    pub voice: String,
}

/// `kling completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: Shell,
}

/// The parser of an enum flag: help lists the values the spec knows; a
/// closed enum takes only those (clap prints the list on a typo), an open one
/// (`x-open-enum`: versions, durations, effects …) also takes a value PiAPI
/// added after this release, which the SDK sends with a warning.
/// Dollars (`12.50`, `$12.50`).
fn parse_usd(text: &str) -> Result<Usd, String> {
    let dollars: f64 = text
        .trim()
        .trim_start_matches('$')
        .parse()
        .map_err(|_| format!("`{text}` is not an amount of dollars, e.g. 12.50"))?;
    if !(dollars.is_finite() && dollars >= 0.0) {
        return Err(format!("`{text}` must be zero or more dollars"));
    }
    Ok(Usd::from_dollars(dollars))
}

/// A shot from `3s:a door opens` (or `3:a door opens`).
fn parse_shot(text: &str) -> Result<Shot, String> {
    let (seconds, prompt) = text
        .split_once(':')
        .ok_or_else(|| format!("expected SECONDS:TEXT, e.g. 3s:a door opens, got `{text}`"))?;
    let seconds: i64 = seconds
        .trim()
        .trim_end_matches('s')
        .parse()
        .map_err(|_| format!("`{seconds}` is not a whole number of seconds"))?;
    if prompt.trim().is_empty() {
        return Err("a shot needs a text after the colon".into());
    }
    Ok(Shot::new(prompt.trim(), seconds))
}

/// A motion-brush region from `[[x, y], …]` (pixels of the input image).
fn parse_points(text: &str) -> Result<MotionMask, String> {
    let points: Vec<(i64, i64)> = serde_json::from_str(text)
        .map_err(|e| format!("expected points as JSON, e.g. [[10,20],[30,40]]: {e}"))?;
    Ok(MotionMask::new(
        points
            .into_iter()
            .map(|(x, y)| MotionPoint::new(x, y))
            .collect::<Vec<_>>(),
    ))
}

fn known<T>(values: &'static [&'static str], open: bool) -> EnumParser<T>
where
    T: FromStr + Clone + Send + Sync + 'static,
{
    EnumParser {
        // Some enums list "" (unset) as a value; it is not a useful flag value.
        listed: values.iter().copied().filter(|v| !v.is_empty()).collect(),
        open,
        marker: std::marker::PhantomData,
    }
}

/// See [`known`].
#[derive(Clone)]
pub struct EnumParser<T> {
    listed: Vec<&'static str>,
    open: bool,
    marker: std::marker::PhantomData<fn() -> T>,
}

impl<T> TypedValueParser for EnumParser<T>
where
    T: FromStr + Clone + Send + Sync + 'static,
{
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let text = if self.open {
            clap::builder::NonEmptyStringValueParser::new().parse_ref(cmd, arg, value)?
        } else {
            PossibleValuesParser::new(self.listed.clone()).parse_ref(cmd, arg, value)?
        };
        text.parse::<T>().map_err(|_| {
            clap::Error::raw(
                clap::error::ErrorKind::InvalidValue,
                format!("`{text}` is not a valid value\n"),
            )
            .with_cmd(cmd)
        })
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            self.listed
                .iter()
                .map(|v| clap::builder::PossibleValue::new(*v)),
        ))
    }
}

/// `input.NAME=VALUE` into the field's name and JSON value.
fn parse_set(text: &str) -> Result<(String, serde_json::Value), String> {
    let (path, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not input.NAME=VALUE"))?;
    let name = path
        .trim()
        .strip_prefix("input.")
        .filter(|n| !n.is_empty() && !n.contains('.'))
        .ok_or_else(|| format!("`{path}`: only fields of input can be set (input.NAME)"))?;
    let value = serde_json::from_str(value).unwrap_or_else(|_| value.to_owned().into());
    Ok((name.to_owned(), value))
}

/// `NAME:VALUE` into a header.
fn parse_header(text: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("`{text}` is not NAME:VALUE"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|e| format!("invalid header name `{}`: {e}", name.trim()))?;
    let value = HeaderValue::from_str(value.trim())
        .map_err(|e| format!("invalid value for header `{name}`: {e}"))?;
    Ok((name, value))
}

/// A size in bytes: `1048576`, or a number with a unit, decimal (kB, MB, GB)
/// or binary (KiB, MiB, GiB), case-insensitive.
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        other => {
            return Err(format!(
                "unknown unit `{other}` (use B, kB, MB, GB, KiB, MiB or GiB)"
            ));
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size (e.g. 2GiB, 500MB, 1048576)"))?;
    let bytes = value * multiplier as f64;
    if !(bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("`{text}` is not a size of at least 1 byte"));
    }
    Ok(bytes as u64)
}

/// `now`, unix seconds, or RFC 3339.
fn parse_time(text: &str) -> Result<std::time::SystemTime, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("now") {
        // PiAPI takes whole seconds and the SDK rounds down, which would
        // spare the tasks created during the current second: round up.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| format!("the clock is before 1970: {e}"))?;
        return Ok(std::time::UNIX_EPOCH + Duration::from_secs(now.as_secs() + 1));
    }
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(std::time::UNIX_EPOCH + Duration::from_secs(secs));
    }
    humantime::parse_rfc3339_weak(text)
        .map_err(|e| format!("`{text}` is not `now`, unix seconds or RFC 3339 ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn enum_flags_take_only_listed_values() {
        let ok = Cli::try_parse_from([
            "kling",
            "video",
            "p",
            "--aspect-ratio",
            "9:16",
            "--duration",
            "10",
        ]);
        let Command::Video(args) = ok.unwrap().command else {
            panic!("not video")
        };
        assert_eq!(args.settings.aspect_ratio, Some(AspectRatio::Portrait9x16));
        assert_eq!(args.settings.duration, Some(VideoDuration::Seconds10));
        // Closed enums refuse a value the spec does not list…
        let err =
            Cli::try_parse_from(["kling", "video", "p", "--service-mode", "shared"]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("public") && text.contains("private"),
            "{text}"
        );
        assert!(Cli::try_parse_from(["kling", "video", "p", "--service-mode", ""]).is_err());
        // …open ones take a newer value (the SDK sends it with a warning).
        let newer = Cli::try_parse_from([
            "kling",
            "video",
            "p",
            "--version",
            "4.0",
            "--duration",
            "20",
            "--mode",
            "ultra",
        ]);
        let Command::Video(args) = newer.unwrap().command else {
            panic!("not video")
        };
        assert_eq!(args.settings.version.unwrap().as_str(), "4.0");
        assert_eq!(args.settings.duration.unwrap().as_i64(), 20);
        assert!(!args.settings.mode.unwrap().is_known());
        assert!(Cli::try_parse_from(["kling", "video", "p", "--duration", "long"]).is_err());
        assert!(Cli::try_parse_from(["kling", "video", "p", "--version", ""]).is_err());
    }

    #[test]
    fn create_takes_any_task_type_with_input_and_sets() {
        let cli = Cli::try_parse_from([
            "kling",
            "create",
            "kling_hologram",
            "--input",
            r#"{"prompt":"hi"}"#,
            "--set",
            "input.image_url=https://e.com/a.png",
            "--set",
            "input.count=3",
            "--model",
            "kling",
        ])
        .unwrap();
        let Command::Create(CreateArgs { create }) = cli.command else {
            panic!("not create")
        };
        assert_eq!(create.task_type, "kling_hologram");
        assert_eq!(
            create.args.sets,
            [
                (
                    "image_url".to_owned(),
                    serde_json::json!("https://e.com/a.png")
                ),
                ("count".to_owned(), serde_json::json!(3)),
            ]
        );
        assert!(Cli::try_parse_from(["kling", "create", "x", "--set", "config.a=1"]).is_err());
        assert!(Cli::try_parse_from(["kling", "create", "x", "--set", "input.a"]).is_err());
    }

    #[test]
    fn times_and_headers_parse() {
        assert_eq!(
            parse_time("10").unwrap(),
            std::time::UNIX_EPOCH + Duration::from_secs(10)
        );
        assert_eq!(
            parse_time("1970-01-01T00:01:00Z").unwrap(),
            std::time::UNIX_EPOCH + Duration::from_secs(60)
        );
        assert!(parse_time("yesterday").is_err());
        assert!(parse_time("now").unwrap() > std::time::SystemTime::now());
        let (name, value) = parse_header("x-trace: abc").unwrap();
        assert_eq!((name.as_str(), value.to_str().unwrap()), ("x-trace", "abc"));
        assert!(parse_header("no-colon").is_err());
    }

    #[test]
    fn sizes_parse_with_decimal_and_binary_units() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("1.5 kib"), Ok(1536));
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("10b"), Ok(10));
        for bad in ["", "0", "-1", "1.2.3", "5 parsecs", "GiB", "1e400"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        let cli = Cli::try_parse_from(["kling", "account"]).unwrap();
        assert_eq!(cli.global.max_download_bytes, 2 << 30);
        assert!(!cli.global.allow_insecure_http);
    }
}
