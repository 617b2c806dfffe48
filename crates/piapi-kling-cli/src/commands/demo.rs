//! `kling demo`: a text-to-video, a lip-sync of that video, an effect and a
//! Kling 3.0 video with native audio, each waited for and downloaded. Without `PIAPI_API_KEY` it runs against
//! an embedded simulator, so it costs nothing and takes seconds.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use piapi_kling::models::{Effect, TaskData, Version, VideoDuration};
use piapi_kling::{Client, ENV_API_KEY, LipSync, TaskHandle, TaskResult, TextToVideo, WaitPolicy};
use piapi_kling_sim::{RunningSimulator, Simulator};
use serde_json::json;

use super::{Ctx, follow};
use crate::cli::DemoArgs;
use crate::download::Downloader;
use crate::exit::CliError;
use crate::output::{err_line, out_line};

/// The embedded simulator's speed: the four tasks take about 5 s.
const SIM_SPEED: f64 = 100.0;
/// Polling the embedded simulator this often keeps the demo snappy.
const SIM_POLL: Duration = Duration::from_millis(50);
/// Stands in for the first video's id and image while the later steps are
/// priced (their price does not depend on them).
const PLACEHOLDER_TASK: &str = "demo-video";
const PLACEHOLDER_IMAGE: &str = "https://example.com/demo.png";

/// One finished step, for the summary.
#[derive(Debug)]
struct Step {
    name: &'static str,
    task_id: String,
    status: String,
    files: Vec<PathBuf>,
}

/// Runs the demo.
pub async fn run(ctx: &Ctx, args: DemoArgs) -> Result<(), CliError> {
    let key_set = std::env::var(ENV_API_KEY).is_ok_and(|k| !k.trim().is_empty());
    let mut sim: Option<RunningSimulator> = None;
    let client = if key_set && !args.sim {
        if !confirm(ctx, &args)? {
            ctx.out.line("cancelled: nothing was created");
            return Ok(());
        }
        ctx.client()?
    } else {
        let running = Simulator::builder()
            .speed(SIM_SPEED)
            .start()
            .await
            .map_err(|e| CliError::Local(format!("cannot start the embedded simulator: {e}")))?;
        let why = if key_set {
            "--sim given"
        } else {
            "PIAPI_API_KEY is not set"
        };
        announce(
            ctx,
            &format!(
                "{why}: running against the embedded simulator at {}; no money is spent",
                running.base_url()
            ),
        );
        let policy = WaitPolicy::fixed(SIM_POLL)
            .with_deadline(ctx.global.timeout.unwrap_or(Duration::from_secs(60)));
        let client = Client::builder()
            .api_key(running.api_key())
            .base_url(running.base_url())
            .wait_policy(policy)
            .build()?;
        sim = Some(running);
        client
    };

    let mut steps = Vec::new();
    let outcome = run_steps(ctx, &client, &args, &mut steps).await;
    report(ctx, &args.out, sim.as_ref(), &steps, outcome.is_ok());
    if let Some(sim) = sim {
        sim.shutdown().await;
    }
    outcome
}

/// The four tasks, in order; each finished step is pushed to `steps`.
async fn run_steps(
    ctx: &Ctx,
    client: &Client,
    args: &DemoArgs,
    steps: &mut Vec<Step>,
) -> Result<(), CliError> {
    let downloader = ctx.downloader()?;
    let video = first_video(client, args).send().await?;
    let video = step(ctx, "text-to-video", video, &downloader, &args.out, steps).await?;

    let lip_sync = lip_sync(client, args, &video.task_id).send().await?;
    step(ctx, "lip-sync", lip_sync, &downloader, &args.out, steps).await?;

    // The first video's cover is a real picture to animate; without one, a
    // generated image goes through the upload API instead.
    let cover = TaskResult::from(video.clone())
        .videos
        .first()
        .and_then(|v| v.cover_url.clone());
    let source = match cover {
        Some(url) => url,
        None => {
            let path = args.out.join("demo-source.png");
            tokio::fs::create_dir_all(&args.out).await?;
            // A 512×512 gradient, from the simulator's PNG encoder.
            let image = piapi_kling_sim::encode_png(512, 512, |x, y| {
                [(x * 255 / 512) as u8, (y * 255 / 512) as u8, 160]
            });
            tokio::fs::write(&path, image).await?;
            path.to_string_lossy().into_owned()
        }
    };
    let effect = client
        .effect(source.as_str(), Effect::Squish)
        .send()
        .await?;
    step(ctx, "effect", effect, &downloader, &args.out, steps).await?;

    let talking = kling_3(client, args).send().await?;
    step(
        ctx,
        "kling-3.0-audio",
        talking,
        &downloader,
        &args.out,
        steps,
    )
    .await?;
    Ok(())
}

/// A 5 s standard 1.6 video: the cheapest with a published price.
fn first_video(client: &Client, args: &DemoArgs) -> TextToVideo {
    client
        .text_to_video(&args.prompt)
        .version(Version::V1_6)
        .duration(VideoDuration::Seconds5)
}

fn lip_sync(client: &Client, args: &DemoArgs, video_task_id: &str) -> LipSync {
    client.lip_sync(video_task_id).text(&args.say, &args.voice)
}

/// Kling 3.0 speaking the lip-sync's line with native audio, 5 s at 720p.
fn kling_3(client: &Client, args: &DemoArgs) -> TextToVideo {
    client
        .text_to_video(format!("{} A narrator says: \"{}\"", args.prompt, args.say))
        .version(Version::V3_0)
        .audio(true)
        .duration(VideoDuration::Seconds5)
}

/// What the four steps cost by the spec's price table: the total, and a
/// line per step ("unknown" where PiAPI publishes no price).
fn estimate(client: &Client, args: &DemoArgs) -> (i64, Vec<String>, bool) {
    let requests = [
        ("text-to-video", first_video(client, args).request()),
        (
            "lip-sync",
            lip_sync(client, args, PLACEHOLDER_TASK).request(),
        ),
        (
            "effect",
            client.effect(PLACEHOLDER_IMAGE, Effect::Squish).request(),
        ),
        ("kling-3.0-audio", kling_3(client, args).request()),
    ];
    let mut total = 0;
    let mut complete = true;
    let lines = requests
        .iter()
        .map(|(name, request)| {
            let estimate = request.estimate();
            match estimate.units() {
                Some(units) => total += units,
                None => complete = false,
            }
            format!("  {name:<16} {estimate}")
        })
        .collect();
    (total, lines, complete)
}

/// Announces a created task, waits for it and downloads its results.
async fn step(
    ctx: &Ctx,
    name: &'static str,
    handle: TaskHandle,
    downloader: &Downloader,
    out: &Path,
    steps: &mut Vec<Step>,
) -> Result<TaskData, CliError> {
    ctx.out.line(format!("{name}: created {}", handle.id()));
    ctx.out
        .event(json!({"event": "created", "step": name, "task_id": handle.id()}));
    let task = match follow(ctx, &handle).await {
        Ok(task) => task,
        Err(error) => {
            steps.push(Step {
                name,
                task_id: handle.id().to_owned(),
                status: error.exit().kind().to_owned(),
                files: Vec::new(),
            });
            return Err(error);
        }
    };
    let files = downloader.save_task(out, &task, true).await?;
    ctx.out.line(format!(
        "{name}: {} ({} file{})",
        task.status.as_str(),
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    ));
    steps.push(Step {
        name,
        task_id: task.task_id.clone(),
        status: task.status.as_str().to_owned(),
        files,
    });
    Ok(task)
}

/// A notice people must see even with `--quiet`: stdout, or a JSON event.
fn announce(ctx: &Ctx, text: &str) {
    ctx.out.line(text);
    ctx.out.event(json!({"event": "notice", "message": text}));
}

/// States the cost and asks before spending money (`--yes` skips asking).
fn confirm(ctx: &Ctx, args: &DemoArgs) -> Result<bool, CliError> {
    let client = ctx.client()?;
    let (total, lines, complete) = estimate(&client, args);
    let text = format!(
        "This demo creates 4 tasks on PiAPI with your key: a 5 s standard text-to-video, \
         a lip-sync of it, a squish effect and a 5 s Kling 3.0 video with audio; by the \
         spec's price table {}{} in all:\n{}\nResults go to {}.",
        if complete { "" } else { "at least " },
        crate::output::dollars(total),
        lines.join("\n"),
        args.out.display()
    );
    if ctx.out.is_json() {
        ctx.out.event(json!({"event": "notice", "message": text}));
    } else {
        err_line(&text);
    }
    if args.yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::invalid(
            "the demo spends money: pass --yes to confirm (stdin is not a terminal to ask)",
        ));
    }
    {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "Proceed? [y/N] ");
        let _ = err.flush();
    }
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// The summary: each task id, its status and the files written.
fn report(ctx: &Ctx, out: &Path, sim: Option<&RunningSimulator>, steps: &[Step], ok: bool) {
    let tasks: Vec<_> = steps
        .iter()
        .map(
            |s| json!({"step": s.name, "task_id": s.task_id, "status": s.status, "files": s.files}),
        )
        .collect();
    let summary = json!({
        "simulator": sim.map(|s| s.base_url()),
        "out": out,
        "tasks": tasks,
    });
    if ctx.out.is_json() {
        // On failure stdout carries the error object; the summary goes with
        // the other events.
        if ok {
            ctx.out.object(&summary);
        } else {
            ctx.out
                .event(json!({"event": "summary", "summary": summary}));
        }
        return;
    }
    let mut lines = vec!["summary:".to_owned()];
    // The names' column is as wide as the longest name, so the ids line up.
    let width = steps
        .iter()
        .map(|s| s.name.chars().count())
        .max()
        .unwrap_or(0);
    for s in steps {
        lines.push(format!("  {:<width$}  {}  {}", s.name, s.task_id, s.status));
        lines.extend(s.files.iter().map(|f| format!("    {}", f.display())));
    }
    let text = lines.join("\n");
    if ok {
        out_line(&text);
    } else {
        err_line(&text);
    }
}
