//! The create subcommands: the named ones (flags onto the SDK's builders)
//! and `kling create TASK_TYPE` (flags made from the spec), then the shared
//! ending (print the id at once, optionally wait and download).

use std::io::IsTerminal;

use piapi_kling::models::{CameraConfig, CameraControl, CreateTaskRequest, VideoGenerationInput};
use piapi_kling::{BuildRequest, TaskBuilder, TaskHandle};

use super::{Ctx, follow};
use crate::cli::{
    AvatarArgs, EffectArgs, ExtendArgs, ImageToVideoArgs, LipSyncArgs, MotionArgs, OmniArgs,
    RawCreateArgs, SoundArgs, TaskOpts, TryOnArgs, TurboArgs, VideoArgs, VideoSettings,
};
use crate::exit::CliError;
use crate::spec_flags::CreateCommand;

/// Applies the options every builder has (webhook, service mode, headers),
/// then either shows what would be sent (`--dry-run`) or states the estimate,
/// sends the task and follows it as the options say.
async fn run<I: BuildRequest + Clone>(
    ctx: &Ctx,
    builder: TaskBuilder<I>,
    opts: &TaskOpts,
) -> Result<(), CliError> {
    let mut builder = builder;
    if let Some((endpoint, secret)) = webhook(opts)? {
        builder = builder.webhook(endpoint, secret);
    }
    if let Some(mode) = &opts.service_mode {
        builder = builder.service_mode(mode.clone());
    }
    for (name, value) in &opts.headers {
        builder = builder.header(name.clone(), value.clone());
    }
    if opts.dry_run {
        let dry = builder.dry_run().await?;
        ctx.out.dry_run(&dry);
        return Ok(());
    }
    ctx.out.estimate(&builder.estimate_cost());
    let handle = builder.send().await?;
    finish(ctx, handle, opts).await
}

/// Applies the settings both video subcommands have.
fn video_settings(
    builder: TaskBuilder<VideoGenerationInput>,
    settings: &VideoSettings,
) -> TaskBuilder<VideoGenerationInput> {
    let mut builder = builder;
    if let Some(text) = &settings.negative_prompt {
        builder = builder.negative_prompt(text);
    }
    if let Some(duration) = &settings.duration {
        builder = builder.duration(*duration);
    }
    if let Some(ratio) = &settings.aspect_ratio {
        builder = builder.aspect_ratio(ratio.clone());
    }
    if let Some(mode) = &settings.mode {
        builder = builder.mode(mode.clone());
    }
    if let Some(version) = &settings.version {
        builder = builder.version(version.clone());
    }
    if let Some(scale) = settings.cfg_scale {
        builder = builder.cfg_scale(scale);
    }
    if let Some(camera) = camera(settings) {
        builder = builder.camera_control(camera);
    }
    for element in &settings.element {
        builder = builder.element(element.as_str());
    }
    if settings.audio {
        builder = builder.audio(true);
    }
    if !settings.shots.is_empty() {
        builder = builder.shots(settings.shots.clone());
    }
    if let Some(resolution) = &settings.resolution {
        builder = builder.resolution(resolution.clone());
    }
    for image in &settings.images {
        builder = builder.reference_image(image.as_str());
    }
    builder
}

/// `kling video`.
pub async fn video(ctx: &Ctx, args: VideoArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    // Shots without a prompt: Kling 3.0 multi-shot (the shots are added below).
    let start = match &args.prompt {
        Some(prompt) => client.text_to_video(prompt),
        None => client.multi_shot([]),
    };
    let builder = video_settings(start, &args.settings);
    run(ctx, builder, &args.task).await
}

/// `kling image-to-video`.
pub async fn image_to_video(ctx: &Ctx, args: ImageToVideoArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    let mut builder = client.image_to_video(args.image.as_str());
    if let Some(prompt) = &args.prompt {
        builder = builder.prompt(prompt);
    }
    if let Some(tail) = &args.tail_frame {
        builder = builder.tail_frame(tail.as_str());
    }
    if let Some(mask) = &args.motion_mask {
        builder = builder.brush(
            mask.as_str(),
            args.static_mask.clone(),
            args.dynamic_mask.clone(),
        );
    }
    let builder = video_settings(builder, &args.settings);
    run(ctx, builder, &args.task).await
}

/// `kling extend`.
pub async fn extend(ctx: &Ctx, args: ExtendArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    run(ctx, client.extend(&args.task_id), &args.task).await
}

/// `kling lip-sync`.
pub async fn lip_sync(ctx: &Ctx, args: LipSyncArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    let mut builder = client.lip_sync(&args.task_id);
    if let (Some(text), Some(voice)) = (&args.text, &args.voice) {
        builder = builder.text(text, voice);
    }
    if let Some(speed) = args.speed {
        builder = builder.speed(speed);
    }
    if let Some(audio) = &args.audio {
        builder = builder.audio(audio.as_str());
    }
    // Neither --text nor --audio is left to the SDK, which names the rule.
    run(ctx, builder, &args.task).await
}

/// `kling effect`.
pub async fn effect(ctx: &Ctx, args: EffectArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    let mut builder = client.effect(args.image.as_str(), args.effect.clone());
    if let Some(prompt) = &args.prompt {
        builder = builder.prompt(prompt);
    }
    if args.professional {
        builder = builder.professional(true);
    }
    run(ctx, builder, &args.task).await
}

/// `kling try-on`.
pub async fn try_on(ctx: &Ctx, args: TryOnArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    let mut builder = client.try_on(args.model_image.as_str());
    if let Some(dress) = &args.dress {
        builder = builder.dress(dress.as_str());
    }
    if let Some(upper) = &args.upper {
        builder = builder.upper(upper.as_str());
    }
    if let Some(lower) = &args.lower {
        builder = builder.lower(lower.as_str());
    }
    if let Some(n) = args.batch_size {
        builder = builder.batch_size(n);
    }
    run(ctx, builder, &args.task).await
}

/// `kling sound`.
pub async fn sound(ctx: &Ctx, args: SoundArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    let mut builder = client.sound();
    if let Some(prompt) = &args.prompt {
        builder = builder.prompt(prompt);
    }
    if let Some(id) = &args.video_task_id {
        builder = builder.for_video(id);
    }
    if let Some(duration) = &args.duration {
        builder = builder.duration(*duration);
    }
    run(ctx, builder, &args.task).await
}

/// `kling omni`.
pub async fn omni(ctx: &Ctx, args: OmniArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    let mut builder = client.omni(args.prompt.clone().unwrap_or_default());
    if args.prompt.is_none() {
        builder.input_mut().prompt = None;
    }
    if let Some(version) = &args.version {
        builder = builder.version(version.clone());
    }
    if let Some(resolution) = &args.resolution {
        builder = builder.resolution(resolution.clone());
    }
    if let Some(duration) = &args.duration {
        builder = builder.duration(*duration);
    }
    if let Some(ratio) = &args.aspect_ratio {
        builder = builder.aspect_ratio(ratio.clone());
    }
    if args.audio {
        builder = builder.audio(true);
    }
    for image in &args.images {
        builder = builder.reference_image(image.as_str());
    }
    if let Some(video) = &args.video {
        builder = builder.reference_video(video.as_str());
    }
    if args.keep_audio {
        builder = builder.keep_original_audio(true);
    }
    if !args.shots.is_empty() {
        builder = builder.shots(args.shots.clone());
    }
    run(ctx, builder, &args.task).await
}

/// `kling motion`.
pub async fn motion(ctx: &Ctx, args: MotionArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    let mut builder = client.motion_control(args.image.as_str());
    if let Some(preset) = &args.preset {
        builder = builder.preset(preset);
    }
    if let Some(video) = &args.video {
        builder = builder.reference_video(video.as_str());
    }
    if let Some(direction) = &args.direction {
        builder = builder.motion_direction(direction.clone());
    }
    if args.keep_sound {
        builder = builder.keep_original_sound(true);
    }
    if let Some(mode) = &args.mode {
        builder = builder.mode(mode.clone());
    }
    if let Some(version) = &args.version {
        builder = builder.version(version.clone());
    }
    // Neither --preset nor --video is left to the SDK, which names the rule.
    run(ctx, builder, &args.task).await
}

/// `kling avatar`.
pub async fn avatar(ctx: &Ctx, args: AvatarArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    let mut builder = client.avatar(args.image.as_str(), args.audio.as_str());
    if let Some(prompt) = &args.prompt {
        builder = builder.prompt(prompt);
    }
    if let Some(mode) = &args.mode {
        builder = builder.mode(mode.clone());
    }
    run(ctx, builder, &args.task).await
}

/// `kling turbo`.
pub async fn turbo(ctx: &Ctx, args: TurboArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    let mut builder = client.turbo(&args.prompt);
    if let Some(frame) = &args.start_frame {
        builder = builder.start_frame(frame.as_str());
    }
    if let Some(frame) = &args.end_frame {
        builder = builder.end_frame(frame.as_str());
    }
    if let Some(duration) = &args.duration {
        builder = builder.duration(*duration);
    }
    if let Some(ratio) = &args.aspect_ratio {
        builder = builder.aspect_ratio(ratio.clone());
    }
    if let Some(text) = &args.negative_prompt {
        builder = builder.negative_prompt(text);
    }
    run(ctx, builder, &args.task).await
}

/// `kling create TASK_TYPE [--FIELD VALUE]… [--input JSON] [--set input.NAME=VALUE]…`:
/// any task type; its input from `--input`, then the field flags, then
/// `--set`. What the spec knows is checked, the rest sent as given; a media
/// field holding a local path is checked and uploaded by the SDK.
pub async fn create(ctx: &Ctx, command: CreateCommand<RawCreateArgs>) -> Result<(), CliError> {
    let CreateCommand {
        task_type,
        args,
        fields,
    } = command;
    let mut input = match read_input(&args.input)? {
        serde_json::Value::Object(map) => map,
        other => {
            return Err(CliError::invalid(format!(
                "--input: must be a JSON object, got {other}"
            )));
        }
    };
    input.extend(fields);
    input.extend(args.sets);
    let body = serde_json::json!({
        "model": args.model,
        "task_type": task_type,
        "input": input,
    });
    let request: CreateTaskRequest = serde_json::from_value(body)
        .map_err(|e| CliError::invalid(format!("not a valid {task_type} request: {e}")))?;
    run(ctx, ctx.client()?.custom(request), &args.task).await
}

/// The text of `--input`: the JSON itself, `@FILE`, or `-` for stdin.
fn read_input(arg: &str) -> Result<serde_json::Value, CliError> {
    let text = if arg == "-" {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| CliError::Local(format!("cannot read --input from stdin: {e}")))?
    } else if let Some(path) = arg.strip_prefix('@') {
        std::fs::read_to_string(path)
            .map_err(|e| CliError::invalid(format!("--input: cannot read {path}: {e}")))?
    } else {
        arg.to_owned()
    };
    serde_json::from_str(&text)
        .map_err(|e| CliError::invalid(format!("--input: not valid JSON: {e}")))
}

/// After a create: the id at once, then (with --wait or --download) the
/// wait, the downloads and the final report.
pub async fn finish(ctx: &Ctx, handle: TaskHandle, opts: &TaskOpts) -> Result<(), CliError> {
    ctx.out.warnings(handle.warnings());
    let created = handle.created_task().cloned();
    if !opts.wait && opts.download.is_none() {
        if let Some(task) = &created {
            ctx.out.task(task, &[]);
        }
        ctx.out
            .note(format!("follow it with: kling wait {}", handle.id()));
        return Ok(());
    }
    if let Some(task) = &created {
        ctx.out.created(task);
    }
    let task = follow(ctx, &handle).await?;
    let files = match &opts.download {
        Some(dir) => ctx.downloader()?.save_task(dir, &task, opts.covers).await?,
        None => Vec::new(),
    };
    ctx.out.task(&task, &files);
    Ok(())
}

/// The camera of `--camera` and its axes.
fn camera(settings: &VideoSettings) -> Option<CameraControl> {
    let mut camera = CameraControl::new(settings.camera.clone()?);
    let axes = [
        settings.camera_horizontal,
        settings.camera_vertical,
        settings.camera_pan,
        settings.camera_tilt,
        settings.camera_roll,
        settings.camera_zoom,
    ];
    if axes.iter().any(Option::is_some) {
        let mut config = CameraConfig::default();
        config.horizontal = settings.camera_horizontal;
        config.vertical = settings.camera_vertical;
        config.pan = settings.camera_pan;
        config.tilt = settings.camera_tilt;
        config.roll = settings.camera_roll;
        config.zoom = settings.camera_zoom;
        camera.config = Some(config);
    }
    Some(camera)
}

/// The webhook endpoint and its secret: from `--webhook-secret-env`, else
/// asked for (hidden) on a terminal. The secret is never printed.
fn webhook(opts: &TaskOpts) -> Result<Option<(String, String)>, CliError> {
    let Some(endpoint) = &opts.webhook else {
        return Ok(None);
    };
    let secret = match &opts.webhook_secret_env {
        Some(var) => std::env::var(var).map_err(|_| {
            CliError::invalid(format!(
                "--webhook-secret-env: the environment variable {var} is not set (or not UTF-8)"
            ))
        })?,
        None if std::io::stdin().is_terminal() => {
            rpassword::prompt_password("webhook secret (hidden, empty for none): ")
                .map_err(|e| CliError::Local(format!("cannot read the webhook secret: {e}")))?
        }
        None => {
            return Err(CliError::invalid(
                "--webhook needs a secret: pass --webhook-secret-env VAR (stdin is not a terminal to ask for it)",
            ));
        }
    };
    Ok(Some((endpoint.clone(), secret)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn settings(args: &[&str]) -> VideoSettings {
        let mut argv = vec!["kling", "video", "p"];
        argv.extend_from_slice(args);
        match crate::cli::Cli::parse_from(argv).command {
            crate::cli::Command::Video(v) => v.settings,
            _ => unreachable!("parsed as video"),
        }
    }

    #[test]
    fn camera_axes_go_into_a_config_only_when_given() {
        let preset = camera(&settings(&["--camera", "down_back"])).unwrap();
        assert!(preset.config.is_none());
        let simple = camera(&settings(&["--camera", "simple", "--camera-zoom", "-5"])).unwrap();
        assert_eq!(simple.config.unwrap().zoom, Some(-5.0));
        assert!(camera(&settings(&[])).is_none());
    }

    #[test]
    fn a_webhook_secret_comes_from_the_named_variable() {
        let opts = |env: Option<&str>| TaskOpts {
            dry_run: false,
            wait: false,
            download: None,
            covers: false,
            webhook: Some("https://example.com/hook".into()),
            webhook_secret_env: env.map(str::to_owned),
            service_mode: None,
            headers: Vec::new(),
        };
        // PATH is set in every test environment; its value stands in for a secret.
        let path = std::env::var("PATH").unwrap();
        let (endpoint, secret) = webhook(&opts(Some("PATH"))).unwrap().unwrap();
        assert_eq!(
            (endpoint.as_str(), secret.as_str()),
            ("https://example.com/hook", path.as_str())
        );
        let err = webhook(&opts(Some("KLING_TEST_SURELY_UNSET_VARIABLE"))).unwrap_err();
        assert_eq!(err.exit().code(), 2);
    }
}
