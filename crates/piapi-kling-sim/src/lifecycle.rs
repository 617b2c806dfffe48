//! A task's life, computed from timestamps instead of driven by timers:
//! `staged → pending → processing → completed | failed`. A read compares the
//! task's instants with "now", so 100,000 stored tasks cost no timers; only
//! webhooks and the concurrency cap need the scheduler.
//!
//! How long each task type takes, what it makes and what it costs come from
//! the spec (`x-simulate`, `x-price`), through the models' catalog.

use std::time::{Duration, Instant};

use piapi_kling_models::catalog::{self, Billing, OutputKind, OutputShape, Simulation};
use piapi_kling_models::{CreateTaskRequest, Model, TaskConfig, TaskStatus, TaskType};
use serde_json::Value;
use uuid::Uuid;

use crate::scenarios::{Failure, SLOW_FACTOR, Scenario};

/// Where a task is at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Accepted but held: the concurrency cap was reached.
    Staged,
    /// Queued; the only phase (with `Staged`) that can be cancelled.
    Pending,
    /// Rendering since `started`.
    Processing { started: Instant },
    /// Done; results available.
    Completed { started: Instant, ended: Instant },
    /// Failed, or cancelled (`started` is `None` then: it never started).
    Failed {
        started: Option<Instant>,
        ended: Instant,
        failure: Failure,
    },
}

impl Phase {
    pub(crate) fn status(&self) -> TaskStatus {
        match self {
            Phase::Staged => TaskStatus::Staged,
            Phase::Pending => TaskStatus::Pending,
            Phase::Processing { .. } => TaskStatus::Processing,
            Phase::Completed { .. } => TaskStatus::Completed,
            Phase::Failed { .. } => TaskStatus::Failed,
        }
    }

    pub(crate) fn is_terminal(&self) -> bool {
        matches!(self, Phase::Completed { .. } | Phase::Failed { .. })
    }

    pub(crate) fn is_cancellable(&self) -> bool {
        matches!(self, Phase::Staged | Phase::Pending)
    }
}

/// What a finished task produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Media {
    /// One video (with its cover image); sizes in pixels, length in ms.
    Video { width: i64, height: i64, ms: i64 },
    /// `count` still images (try-on).
    Images {
        count: usize,
        width: i64,
        height: i64,
    },
    /// `count` audio clips (Kling Sound makes four).
    Audio { count: usize, ms: i64 },
}

/// One stored task. Everything but `pending_at`, `canceled_at` and
/// `terminal_notified` is fixed at creation.
#[derive(Debug)]
pub(crate) struct Task {
    pub id: Uuid,
    pub task_type: TaskType,
    /// The input echo as compact JSON: a third of the memory of a parsed
    /// map, and parsing it back costs about what cloning a map would.
    pub input: Box<str>,
    /// Boxed: with the maps of fields the spec does not list, a config is
    /// larger than the rest of the record, and every stored task has one.
    pub config: Box<TaskConfig>,
    pub created: Instant,
    /// When the task left `staged` (at creation unless the cap held it).
    pub pending_at: Option<Instant>,
    pub queue: Duration,
    /// From processing start to completion or failure.
    pub processing: Duration,
    pub failure: Option<Failure>,
    pub canceled_at: Option<Instant>,
    /// The price, in `meta.usage` units.
    pub frozen: i64,
    /// How the price shows in `meta.usage` (the spec's, so a reference:
    /// every stored task has one).
    pub billing: &'static Billing,
    /// The model family, echoed in the task.
    pub model: Model,
    /// Kling's own task type string for `output.type`.
    pub kling_type: Box<str>,
    pub media: Media,
    /// Where the result goes in `output`.
    pub shape: OutputShape,
    pub private_pool: bool,
    /// The terminal webhook has been queued (so cancel and the scheduler do
    /// not both send it).
    pub terminal_notified: bool,
}

impl Task {
    pub(crate) fn phase(&self, now: Instant) -> Phase {
        if let Some(ended) = self.canceled_at {
            return Phase::Failed {
                started: None,
                ended,
                failure: Failure::Canceled,
            };
        }
        let Some(pending_at) = self.pending_at else {
            return Phase::Staged;
        };
        let started = pending_at + self.queue;
        if now < started {
            return Phase::Pending;
        }
        let ended = started + self.processing;
        if now < ended {
            return Phase::Processing { started };
        }
        match self.failure {
            Some(failure) => Phase::Failed {
                started: Some(started),
                ended,
                failure,
            },
            None => Phase::Completed { started, ended },
        }
    }

    /// When the task will end, once it has left `staged`.
    pub(crate) fn end_at(&self) -> Option<Instant> {
        self.pending_at.map(|p| p + self.queue + self.processing)
    }

    pub(crate) fn webhook(&self) -> Option<(&str, Option<&str>)> {
        let hook = self.config.webhook_config.as_ref()?;
        let endpoint = hook.endpoint.as_deref().filter(|e| !e.is_empty())?;
        Some((endpoint, hook.secret.as_deref().filter(|s| !s.is_empty())))
    }

    /// What an extend/lip-sync/sound task needs to know about its origin.
    pub(crate) fn as_origin(&self, now: Instant) -> Result<Origin, String> {
        let Media::Video { width, height, ms } = self.media else {
            return Err(format!(
                "task {} is a {} task, not a video task",
                self.id, self.task_type
            ));
        };
        match self.phase(now) {
            Phase::Completed { .. } => Ok(Origin { width, height, ms }),
            other => Err(format!(
                "task {} is not completed (status: {})",
                self.id,
                other.status()
            )),
        }
    }
}

/// The finished video a derived task builds on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Origin {
    pub width: i64,
    pub height: i64,
    pub ms: i64,
}

/// Everything about a new task that follows from its request.
#[derive(Debug)]
pub(crate) struct Plan {
    pub task_type: TaskType,
    pub model: Model,
    pub queue: Duration,
    pub processing: Duration,
    pub failure: Option<Failure>,
    pub frozen: i64,
    pub billing: &'static Billing,
    pub kling_type: Box<str>,
    pub media: Media,
    pub shape: OutputShape,
}

/// What a task costs when the spec's price table cannot price it (a task
/// type or version it does not list): a standard 5-second video of mid-2025
/// ($0.26), so the simulated bill is never zero. Estimates say "unknown".
pub const UNPRICED_UNITS: i64 = 2_600_000;

/// Kling renders a 5 s clip as 5.1 s.
fn clip_ms(seconds: f64) -> i64 {
    (seconds * 1000.0).round() as i64 + 100
}

fn origin_or_default(origin: Option<&Origin>) -> Origin {
    origin.copied().unwrap_or(Origin {
        width: 1280,
        height: 720,
        ms: clip_ms(5.0),
    })
}

/// The media a resolved simulation makes, from the origin task's video when
/// the task type builds on one.
fn media(sim: &Simulation, origin: Option<&Origin>) -> Media {
    let (width, height) = (i64::from(sim.size.0), i64::from(sim.size.1));
    match sim.output {
        OutputKind::Images => Media::Images {
            count: sim.count as usize,
            width,
            height,
        },
        OutputKind::Audio => Media::Audio {
            count: sim.count as usize,
            ms: match (sim.from_origin, origin) {
                (Some(add), Some(o)) => o.ms + (add * 1000.0) as i64,
                _ => (sim.seconds * 1000.0).round() as i64,
            },
        },
        // A kind this simulator does not know yet is served as a video.
        _ => match sim.from_origin {
            Some(add) => {
                let o = origin_or_default(origin);
                Media::Video {
                    width: o.width,
                    height: o.height,
                    ms: o.ms + (add * 1000.0) as i64,
                }
            }
            None => Media::Video {
                width,
                height,
                ms: clip_ms(sim.seconds),
            },
        },
    }
}

/// Plans a new task from the spec's catalog: its `x-simulate` (or the
/// default for a task type the spec does not list) for timing and results,
/// its `x-price` for the bill; durations divided by `speed` (× 10 for
/// `slow`), and the forced failure of a scenario.
///
/// `input` is the request's input as JSON, serialized once by the caller:
/// the simulation and the price both read it.
pub(crate) fn plan(
    req: &CreateTaskRequest,
    input: &Value,
    origin: Option<&Origin>,
    scenario: &Scenario,
    speed: f64,
) -> Plan {
    let (task_type, model) = (req.task_type(), req.model().as_str());
    let simulate = req
        .info()
        .map_or_else(catalog::default_simulation, |info| info.simulate);
    let sim = simulate.resolve_json(task_type, model, input);
    let slow = if scenario.slow { SLOW_FACTOR } else { 1.0 };
    let failure = scenario.failure();
    let processing_s = sim.processing_seconds * failure.map_or(1.0, Failure::at_fraction);
    let scaled = |s: f64| Duration::from_secs_f64(s * slow / speed);
    Plan {
        task_type: TaskType::from(req.task_type()),
        model: req.model().clone(),
        queue: scaled(sim.pending_seconds),
        processing: scaled(processing_s),
        failure,
        frozen: catalog::estimate_json(task_type, model, input)
            .units()
            .unwrap_or(UNPRICED_UNITS),
        billing: sim.billing,
        media: media(&sim, origin),
        kling_type: sim.kling_type.into_boxed_str(),
        shape: sim.shape,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `plan` with the input serialized here, as the create route does.
    fn plan_of(
        req: &CreateTaskRequest,
        origin: Option<&Origin>,
        scenario: &Scenario,
        speed: f64,
    ) -> Plan {
        plan(req, &req.input_json(), origin, scenario, speed)
    }
    use crate::request::decode_create;
    use serde_json::{Value, json};

    fn req(task_type: &str, input: Value) -> CreateTaskRequest {
        decode_create(
            json!({"model": "kling", "task_type": task_type, "input": input}),
            false,
        )
        .unwrap()
    }

    fn frozen(task_type: &str, input: Value) -> i64 {
        plan_of(&req(task_type, input), None, &Scenario::default(), 1.0).frozen
    }

    #[test]
    fn prices_follow_the_spec_table() {
        let video = |input| frozen("video_generation", input);
        assert_eq!(video(json!({"prompt": "a", "version": "1.6"})), 2_600_000);
        assert_eq!(
            video(json!({"prompt": "a", "version": "1.6", "duration": 10})),
            5_200_000
        );
        assert_eq!(
            video(json!({"prompt": "a", "version": "1.6", "mode": "pro"})),
            4_600_000
        );
        // No version: the table cannot price it; the simulator still bills.
        assert_eq!(video(json!({"prompt": "a"})), UNPRICED_UNITS);
        let effects = |pro| {
            frozen(
                "effects",
                json!({"image_url": "https://e.com/a.png", "effect": "squish", "professional_mode": pro}),
            )
        };
        assert_eq!((effects(false), effects(true)), (2_600_000, 4_600_000));
        let try_on = json!({"model_input": "https://e.com/m.png",
                            "dress_input": "https://e.com/d.png", "batch_size": 3});
        assert_eq!(frozen("ai_try_on", try_on), 2_100_000);
        assert_eq!(frozen("sound", json!({"prompt": "rain"})), 700_000);
    }

    #[test]
    fn results_follow_the_spec_simulation() {
        let p = plan_of(
            &req(
                "video_generation",
                json!({"prompt": "a", "mode": "pro", "aspect_ratio": "9:16"}),
            ),
            None,
            &Scenario::default(),
            1.0,
        );
        assert_eq!(&*p.kling_type, "m2v_txt2video_hq");
        assert_eq!(
            p.media,
            Media::Video {
                width: 1080,
                height: 1920,
                ms: 5100
            }
        );
        let origin = Origin {
            width: 640,
            height: 360,
            ms: 7100,
        };
        let p = plan_of(
            &req("extend_video", json!({"origin_task_id": "x"})),
            Some(&origin),
            &Scenario::default(),
            1.0,
        );
        assert_eq!(
            p.media,
            Media::Video {
                width: 640,
                height: 360,
                ms: 12100
            }
        );
        let p = plan_of(
            &req("sound", json!({"origin_task_id": "x"})),
            Some(&origin),
            &Scenario::default(),
            1.0,
        );
        assert_eq!(
            (&*p.kling_type, p.media),
            ("kwave_video2audio", Media::Audio { count: 4, ms: 7100 })
        );
    }

    #[test]
    fn durations_scale_with_speed_and_scenarios() {
        let r = req(
            "video_generation",
            json!({"prompt": "a", "mode": "pro", "duration": 10}),
        );
        let p = plan_of(&r, None, &Scenario::default(), 2.0);
        assert_eq!(p.queue, Duration::from_millis(1500));
        assert_eq!(p.processing, Duration::from_secs(240));
        let slow = Scenario {
            slow: true,
            ..Scenario::default()
        };
        assert_eq!(
            plan_of(&r, None, &slow, 2.0).processing,
            Duration::from_secs(2400)
        );
        let filtered = Scenario {
            content_filter: true,
            ..Scenario::default()
        };
        let p = plan_of(&r, None, &filtered, 1.0);
        assert_eq!(
            (p.processing, p.failure),
            (Duration::from_secs(96), Some(Failure::ContentFilter))
        );
    }

    #[test]
    fn a_task_record_stays_small() {
        // Memory per stored task is documented; this keeps the record in check.
        assert!(
            std::mem::size_of::<Task>() <= 320,
            "{}",
            std::mem::size_of::<Task>()
        );
    }

    #[test]
    fn phases_follow_the_timeline() {
        let t0 = Instant::now();
        let mut task = Task {
            id: Uuid::nil(),
            task_type: TaskType::VideoGeneration,
            input: "{}".into(),
            config: Box::default(),
            created: t0,
            pending_at: None,
            queue: Duration::from_secs(1),
            processing: Duration::from_secs(2),
            failure: None,
            canceled_at: None,
            frozen: 0,
            billing: catalog::default_simulation().billing,
            model: Model::Kling,
            kling_type: "m2v_txt2video".into(),
            media: Media::Video {
                width: 1,
                height: 1,
                ms: 1,
            },
            shape: OutputShape::Classic,
            private_pool: false,
            terminal_notified: false,
        };
        assert_eq!(task.phase(t0), Phase::Staged);
        task.pending_at = Some(t0);
        assert_eq!(task.phase(t0), Phase::Pending);
        let started = t0 + Duration::from_secs(1);
        assert_eq!(task.phase(started), Phase::Processing { started });
        let ended = t0 + Duration::from_secs(3);
        assert_eq!(task.phase(ended), Phase::Completed { started, ended });
        assert!(task.phase(ended).is_terminal() && !task.phase(ended).is_cancellable());
        task.failure = Some(Failure::Upstream);
        assert!(matches!(
            task.phase(ended),
            Phase::Failed {
                failure: Failure::Upstream,
                ..
            }
        ));
        task.canceled_at = Some(t0);
        assert_eq!(
            task.phase(ended),
            Phase::Failed {
                started: None,
                ended: t0,
                failure: Failure::Canceled
            }
        );
    }
}
