//! The command line, as clap types: every subcommand and flag of `kling`.
//! This module has the root (`Cli`, the global options, the list of
//! subcommands); the subcommands' flags are in `create`, `tasks` and
//! `batch`, and the parsers of flag values in `parse`.

mod batch;
mod create;
mod parse;
mod tasks;

pub use batch::{
    BatchArgs, BatchCommand, BatchStatusArgs, WebhookArgs, WebhookCommand, WebhookServeArgs,
};
pub use create::*;
pub use tasks::{CancelAllArgs, CancelArgs, DownloadOpts, GetArgs, UploadArgs, WaitArgs};

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use clap_complete::Shell;

use parse::parse_size;

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

#[cfg(test)]
mod tests {
    use super::parse::{parse_header, parse_time};
    use super::*;
    use clap::CommandFactory;
    use piapi_kling::models::{AspectRatio, VideoDuration};

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
