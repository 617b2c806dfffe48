//! A task's life, computed from timestamps instead of driven by timers:
//! `staged → pending → processing → completed | failed`. A read compares the
//! task's instants with "now", so 100,000 stored tasks cost no timers; only
//! webhooks and the concurrency cap need the scheduler.
//!
//! Also here: how long each task type takes and what it costs (the tables
//! the README documents).

use std::time::{Duration, Instant};

use piapi_kling_models::{AspectRatio, CreateTaskRequest, Mode, TaskConfig, TaskStatus, TaskType};
use uuid::Uuid;

use crate::scenarios::{Failure, SLOW_FACTOR, Scenario};

/// Base price of a standard 5-second video, in units of 1e-7 USD ($0.26).
const VIDEO_STD_5S: i64 = 2_600_000;
/// Kling Effects in professional mode ($0.46).
const EFFECTS_PRO: i64 = 4_600_000;
/// One try-on image, or one Kling Sound generation ($0.07).
const PER_IMAGE_OR_SOUND: i64 = 700_000;

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
    pub frozen: i64,
    /// Kling's own task type string for `output.type`.
    pub kling_type: &'static str,
    pub media: Media,
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
    pub queue: Duration,
    pub processing: Duration,
    pub failure: Option<Failure>,
    pub frozen: i64,
    pub kling_type: &'static str,
    pub media: Media,
}

/// Seconds at speed 1: (pending, processing).
fn base_seconds(req: &CreateTaskRequest) -> (f64, f64) {
    match req {
        CreateTaskRequest::VideoGeneration(r) => {
            let pro = matches!(r.input.mode, Some(Mode::Professional));
            let long = r.input.duration.is_some_and(|d| d.as_i64() == 10);
            let base = 120.0 * if pro { 2.0 } else { 1.0 } * if long { 2.0 } else { 1.0 };
            (3.0, base)
        }
        CreateTaskRequest::ExtendVideo(_) => (3.0, 180.0),
        CreateTaskRequest::LipSync(_) => (3.0, 90.0),
        CreateTaskRequest::Effects(r) => {
            let pro = r.input.professional_mode == Some(true);
            (3.0, if pro { 240.0 } else { 120.0 })
        }
        CreateTaskRequest::AiTryOn(r) => (2.0, 20.0 + 10.0 * batch_size(r.input.batch_size) as f64),
        CreateTaskRequest::Sound(r) => {
            let long = r.input.duration.is_none_or(|d| d.as_i64() == 10);
            (2.0, if long { 45.0 } else { 30.0 })
        }
        // A task type the spec does not list: timed like a standard video.
        _ => (3.0, 120.0),
    }
}

fn batch_size(requested: Option<i64>) -> usize {
    requested.unwrap_or(1).clamp(1, 4) as usize
}

/// Frozen at creation, consumed on completion (units of 1e-7 USD).
fn price(req: &CreateTaskRequest) -> i64 {
    match req {
        CreateTaskRequest::VideoGeneration(r) => {
            let long = r.input.duration.is_some_and(|d| d.as_i64() == 10);
            let base = VIDEO_STD_5S * if long { 2 } else { 1 };
            if matches!(r.input.mode, Some(Mode::Professional)) {
                base * 17 / 10
            } else {
                base
            }
        }
        // Priced as a standard 5-second video: PiAPI publishes no 1.x price.
        CreateTaskRequest::ExtendVideo(_) | CreateTaskRequest::LipSync(_) => VIDEO_STD_5S,
        CreateTaskRequest::Effects(r) => {
            if r.input.professional_mode == Some(true) {
                EFFECTS_PRO
            } else {
                VIDEO_STD_5S
            }
        }
        CreateTaskRequest::AiTryOn(r) => PER_IMAGE_OR_SOUND * batch_size(r.input.batch_size) as i64,
        CreateTaskRequest::Sound(_) => PER_IMAGE_OR_SOUND,
        // A task type the spec does not list: priced like a standard video.
        _ => VIDEO_STD_5S,
    }
}

/// Nominal 720p sizes for std, 1080p for pro; the served file is tiny.
fn video_size(aspect: Option<&AspectRatio>, pro: bool) -> (i64, i64) {
    let (w, h) = match aspect {
        Some(AspectRatio::Portrait9x16) => (720, 1280),
        Some(AspectRatio::Square1x1) => (960, 960),
        _ => (1280, 720),
    };
    if pro { (w * 3 / 2, h * 3 / 2) } else { (w, h) }
}

/// Kling renders a 5 s clip as 5.1 s.
fn clip_ms(seconds: i64) -> i64 {
    seconds * 1000 + 100
}

fn media(req: &CreateTaskRequest, origin: Option<&Origin>) -> (&'static str, Media) {
    match req {
        CreateTaskRequest::VideoGeneration(r) => {
            let pro = matches!(r.input.mode, Some(Mode::Professional));
            let image = r.input.image_url.as_deref().is_some_and(|u| !u.is_empty());
            let kling_type = match (image, pro) {
                (false, false) => "m2v_txt2video",
                (false, true) => "m2v_txt2video_hq",
                (true, false) => "m2v_img2video",
                (true, true) => "m2v_img2video_hq",
            };
            let (width, height) = video_size(r.input.aspect_ratio.as_ref(), pro);
            let seconds = r.input.duration.map_or(5, |d| d.as_i64());
            (
                kling_type,
                Media::Video {
                    width,
                    height,
                    ms: clip_ms(seconds),
                },
            )
        }
        CreateTaskRequest::ExtendVideo(_) => {
            let o = origin_or_default(origin);
            // An extension adds about 5 seconds to the origin video.
            let media = Media::Video {
                width: o.width,
                height: o.height,
                ms: o.ms + 5_000,
            };
            ("m2v_extend_video", media)
        }
        CreateTaskRequest::LipSync(_) => {
            let o = origin_or_default(origin);
            (
                "m2v_video_lip_sync",
                Media::Video {
                    width: o.width,
                    height: o.height,
                    ms: o.ms,
                },
            )
        }
        CreateTaskRequest::Effects(r) => {
            let pro = r.input.professional_mode == Some(true);
            let (width, height) = video_size(Some(&AspectRatio::Square1x1), pro);
            (
                "m2v_effects",
                Media::Video {
                    width,
                    height,
                    ms: clip_ms(5),
                },
            )
        }
        CreateTaskRequest::AiTryOn(r) => {
            let count = batch_size(r.input.batch_size);
            (
                "kolors_virtual_try_on",
                Media::Images {
                    count,
                    width: 768,
                    height: 1024,
                },
            )
        }
        CreateTaskRequest::Sound(r) => match origin {
            Some(o) => ("kwave_video2audio", Media::Audio { count: 4, ms: o.ms }),
            None => {
                let seconds = r.input.duration.map_or(10, |d| d.as_i64());
                (
                    "kwave_txt2audio",
                    Media::Audio {
                        count: 4,
                        ms: seconds * 1000,
                    },
                )
            }
        },
        // A task type the spec does not list: one standard video.
        _ => (
            "m2v_txt2video",
            Media::Video {
                width: 1280,
                height: 720,
                ms: clip_ms(5),
            },
        ),
    }
}

fn origin_or_default(origin: Option<&Origin>) -> Origin {
    origin.copied().unwrap_or(Origin {
        width: 1280,
        height: 720,
        ms: clip_ms(5),
    })
}

/// Plans a new task: durations divided by `speed` (× 10 for `slow`), the
/// forced failure of a scenario, price and result shape.
pub(crate) fn plan(
    req: &CreateTaskRequest,
    origin: Option<&Origin>,
    scenario: &Scenario,
    speed: f64,
) -> Plan {
    let (queue_s, processing_s) = base_seconds(req);
    let slow = if scenario.slow { SLOW_FACTOR } else { 1.0 };
    let failure = scenario.failure();
    let processing_s = processing_s * failure.map_or(1.0, Failure::at_fraction);
    let scaled = |s: f64| Duration::from_secs_f64(s * slow / speed);
    let (kling_type, media) = media(req, origin);
    Plan {
        task_type: TaskType::from(req.task_type()),
        queue: scaled(queue_s),
        processing: scaled(processing_s),
        failure,
        frozen: price(req),
        kling_type,
        media,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::decode_create;
    use serde_json::{Value, json};

    fn req(task_type: &str, input: Value) -> CreateTaskRequest {
        decode_create(
            json!({"model": "kling", "task_type": task_type, "input": input}),
            false,
        )
        .unwrap()
    }

    #[test]
    fn prices_follow_the_documented_table() {
        let video = |input| price(&req("video_generation", input));
        assert_eq!(video(json!({"prompt": "a"})), 2_600_000);
        assert_eq!(video(json!({"prompt": "a", "duration": 10})), 5_200_000);
        assert_eq!(video(json!({"prompt": "a", "mode": "pro"})), 4_420_000);
        assert_eq!(
            video(json!({"prompt": "a", "mode": "pro", "duration": 10})),
            8_840_000
        );
        let effects = |pro| {
            price(&req(
                "effects",
                json!({"image_url": "https://e.com/a.png",
                                          "effect": "squish", "professional_mode": pro}),
            ))
        };
        assert_eq!((effects(false), effects(true)), (2_600_000, 4_600_000));
        let try_on = req(
            "ai_try_on",
            json!({"model_input": "https://e.com/m.png",
                                             "dress_input": "https://e.com/d.png", "batch_size": 3}),
        );
        assert_eq!(price(&try_on), 2_100_000);
        assert_eq!(price(&req("sound", json!({"prompt": "rain"}))), 700_000);
    }

    #[test]
    fn durations_scale_with_speed_and_scenarios() {
        let r = req(
            "video_generation",
            json!({"prompt": "a", "mode": "pro", "duration": 10}),
        );
        let p = plan(&r, None, &Scenario::default(), 2.0);
        assert_eq!(p.queue, Duration::from_millis(1500));
        assert_eq!(p.processing, Duration::from_secs(240));
        let slow = Scenario {
            slow: true,
            ..Scenario::default()
        };
        assert_eq!(
            plan(&r, None, &slow, 2.0).processing,
            Duration::from_secs(2400)
        );
        let filtered = Scenario {
            content_filter: true,
            ..Scenario::default()
        };
        let p = plan(&r, None, &filtered, 1.0);
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
            kling_type: "m2v_txt2video",
            media: Media::Video {
                width: 1,
                height: 1,
                ms: 1,
            },
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
