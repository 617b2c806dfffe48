//! One builder per task kind. What the API requires is a constructor argument
//! (so forgetting it does not compile); everything else is a method.
//!
//! `send()` consumes the builder and, before any request:
//! 1. checks every local file (exists, size, format, audio length),
//! 2. runs the spec's [`Validate`](piapi_kling_models::Validate) on the request,
//!
//! and returns *every* problem at once as [`Error::Validation`]. Only then are
//! local files uploaded (no upload is spent on a request that would be
//! rejected) and the task created.

mod custom;
mod effect;
mod extend;
mod lip_sync;
mod sound;
mod try_on;
mod video;

pub use custom::CustomTask;
pub use effect::Effects;
pub use extend::ExtendVideo;
pub use lip_sync::LipSync;
pub use sound::Sound;
pub use try_on::TryOn;
pub(crate) use video::prepare_video;
pub use video::{ImageToVideo, TextToVideo, VideoBuilder};

use std::path::PathBuf;

use piapi_kling_models::validation::Rule;
use piapi_kling_models::{
    CreateTaskRequest, ServiceMode, TaskConfig, Violation, Violations, WebhookConfig,
};
use reqwest::header::HeaderMap;

use std::future::Future;
use std::pin::Pin;

use crate::core::Core;
use crate::error::{Error, Result};
use crate::handle::TaskHandle;
use crate::source::{self, LocalFile, MediaKind, MediaSource};
use std::sync::Arc;

/// Stands in for a file's URL until the file is uploaded, so the rest of the
/// request can be validated first.
const PENDING_UPLOAD_URL: &str = "https://upload.pending.invalid/file";

/// Task options every builder has: webhook, service mode, extra headers, and
/// input fields the spec does not know yet.
#[derive(Clone, Debug, Default)]
pub(crate) struct Options {
    webhook: Option<WebhookConfig>,
    service_mode: Option<ServiceMode>,
    headers: HeaderMap,
    extra: Vec<(String, serde_json::Value)>,
}

impl Options {
    /// Sets the webhook and service mode given to the builder, keeping the
    /// rest of a config the request already has (a raw request's).
    fn apply(&self, config: &mut Option<TaskConfig>) {
        if self.webhook.is_none() && self.service_mode.is_none() {
            return;
        }
        let config = config.get_or_insert_with(TaskConfig::default);
        if let Some(webhook) = &self.webhook {
            config.webhook_config = Some(webhook.clone());
        }
        if let Some(mode) = &self.service_mode {
            config.service_mode = Some(mode.clone());
        }
    }
}

/// Puts the `.extra()` fields into the request's input. A name the spec knows
/// is refused (its typed setter checks it), as a violation naming the field.
fn place_extra(
    request: &mut CreateTaskRequest,
    extra: Vec<(String, serde_json::Value)>,
) -> Vec<Violation> {
    let mut problems = Vec::new();
    for (name, value) in extra {
        if request.input_fields().contains(&name.as_str()) {
            problems.push(Violation::new(
                format!("input.{name}"),
                Rule::Conflicts,
                "is a field the spec knows: set it with the builder's typed method, not `.extra()`",
            ));
        } else {
            request.input_extra_mut().insert(name, value);
        }
    }
    problems
}

/// The methods of [`Options`] on a builder with an `options` field.
macro_rules! task_options {
    () => {
        /// Has PiAPI POST the task to `endpoint` when it is created and when
        /// it ends, with `secret` in the `x-webhook-secret` header (see
        /// [`crate::webhook`]). The secret is never printed by this SDK.
        pub fn webhook(mut self, endpoint: impl Into<String>, secret: impl Into<String>) -> Self {
            let secret = secret.into();
            let mut hook = piapi_kling_models::WebhookConfig::default().with_endpoint(endpoint);
            hook.secret = (!secret.is_empty()).then_some(secret);
            self.options.webhook = Some(hook);
            self
        }

        /// Puts a field this SDK does not know yet into `input`, sent as
        /// given: for a parameter PiAPI added after this release. A field the
        /// spec knows is refused at `send()`; use its typed method.
        pub fn extra(
            mut self,
            name: impl Into<String>,
            value: impl Into<serde_json::Value>,
        ) -> Self {
            self.options.extra.push((name.into(), value.into()));
            self
        }

        /// Who pays: `Public` (pay as you go) or `Private` (your own Kling
        /// account). Unset, the workspace setting applies.
        pub fn service_mode(mut self, mode: piapi_kling_models::ServiceMode) -> Self {
            self.options.service_mode = Some(mode);
            self
        }

        /// Adds a header to the create request (e.g. a tracing id for a proxy).
        /// It cannot replace the API key.
        pub fn header(
            mut self,
            name: reqwest::header::HeaderName,
            value: reqwest::header::HeaderValue,
        ) -> Self {
            self.options.headers.append(name, value);
            self
        }
    };
}
pub(crate) use task_options;

/// Where a file's URL goes in the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    Image,
    ImageTail,
    Element(usize),
    MotionMask,
    EffectImage,
    Model,
    Dress,
    Upper,
    Lower,
    Dubbing,
}

impl Slot {
    /// The field's JSON path, as validation errors name it.
    fn path(self) -> String {
        match self {
            Slot::Image => "input.image_url".into(),
            Slot::ImageTail => "input.image_tail_url".into(),
            Slot::Element(i) => format!("input.elements[{i}].image_url"),
            Slot::MotionMask => "input.motion_brush.mask_url".into(),
            Slot::EffectImage => "input.image_url".into(),
            Slot::Model => "input.model_input".into(),
            Slot::Dress => "input.dress_input".into(),
            Slot::Upper => "input.upper_input".into(),
            Slot::Lower => "input.lower_input".into(),
            Slot::Dubbing => "input.local_dubbing_url".into(),
        }
    }

    fn kind(self) -> MediaKind {
        match self {
            Slot::Dubbing => MediaKind::LipSyncAudio,
            _ => MediaKind::Image,
        }
    }

    /// Puts `url` into the field; false if the request has no such field.
    fn set(self, request: &mut CreateTaskRequest, url: String) -> bool {
        use CreateTaskRequest as R;
        let field = match (self, request) {
            (Slot::Image, R::VideoGeneration(r)) => &mut r.input.image_url,
            (Slot::ImageTail, R::VideoGeneration(r)) => &mut r.input.image_tail_url,
            (Slot::Element(i), R::VideoGeneration(r)) => {
                match r.input.elements.as_mut().and_then(|e| e.get_mut(i)) {
                    Some(element) => {
                        element.image_url = url;
                        return true;
                    }
                    None => return false,
                }
            }
            (Slot::MotionMask, R::VideoGeneration(r)) => match r.input.motion_brush.as_mut() {
                Some(brush) => {
                    brush.mask_url = url;
                    return true;
                }
                None => return false,
            },
            (Slot::EffectImage, R::Effects(r)) => {
                r.input.image_url = url;
                return true;
            }
            (Slot::Model, R::AiTryOn(r)) => {
                r.input.model_input = url;
                return true;
            }
            (Slot::Dress, R::AiTryOn(r)) => &mut r.input.dress_input,
            (Slot::Upper, R::AiTryOn(r)) => &mut r.input.upper_input,
            (Slot::Lower, R::AiTryOn(r)) => &mut r.input.lower_input,
            (Slot::Dubbing, R::LipSync(r)) => &mut r.input.local_dubbing_url,
            _ => return false,
        };
        *field = Some(url);
        true
    }
}

/// Collects the local files of a request while the builder fills it in.
#[derive(Default)]
pub(crate) struct Files(Vec<(Slot, PathBuf)>);

impl Files {
    /// The string to put in the request now: the URL itself, or a stand-in
    /// for a file that is uploaded once everything is valid.
    pub(crate) fn put(&mut self, slot: Slot, source: MediaSource) -> String {
        match source {
            MediaSource::Url(url) => url,
            MediaSource::File(path) => {
                self.0.push((slot, path));
                PENDING_UPLOAD_URL.to_owned()
            }
        }
    }
}

/// A request ready to be checked and sent.
// `pub` (in a private module) because the sealed `VideoBuilder` trait returns it.
pub struct Prepared {
    pub(crate) client: Arc<Core>,
    pub(crate) request: CreateTaskRequest,
    pub(crate) files: Files,
    pub(crate) headers: HeaderMap,
    /// Problems found while building (an `.extra()` naming a known field).
    problems: Vec<Violation>,
}

/// Runs a builder's create once `client` admits it: at most as many creates
/// in flight as requests ([`crate::ClientBuilder::max_concurrent_requests`]).
///
/// Admission comes before the request is built and the create's state is
/// boxed, so a queued create costs its builder and little more, and the local
/// files of concurrent uploads are bounded too. The boxed create is built in a
/// plain function, and the builders' `send` are plain functions returning this
/// future, because rustc keeps an `async fn`'s arguments and some temporaries
/// in its state: written as async code all the way, every queued create would
/// carry its request two or three times (see BENCHMARKS.md, scale).
// Not an `async fn`: clippy's suggestion measured 208 bytes more per queued
// create (1,488 vs 1,280 bytes per task future in the scale benchmark).
#[allow(clippy::manual_async_fn)]
pub(crate) fn admit_create<F>(
    client: Arc<Core>,
    prepare: F,
) -> impl Future<Output = Result<TaskHandle>> + Send + 'static
where
    F: FnOnce() -> Prepared + Send + 'static,
{
    async move {
        let _admitted = client
            .creates
            .acquire()
            .await
            .map_err(|_| Error::Closed("create"))?;
        let create = boxed_create(prepare);
        create.await
    }
}

fn boxed_create(
    prepare: impl FnOnce() -> Prepared,
) -> Pin<Box<dyn Future<Output = Result<TaskHandle>> + Send>> {
    Box::pin(prepare().send())
}

impl Prepared {
    pub(crate) fn new(
        client: Arc<Core>,
        request: impl Into<CreateTaskRequest>,
        files: Files,
        options: Options,
    ) -> Self {
        let mut request = request.into();
        options.apply(request.config_mut());
        let problems = place_extra(&mut request, options.extra);
        Prepared {
            client,
            request,
            files,
            headers: options.headers,
            problems,
        }
    }

    /// Every local check: the files, then the spec's rules. All problems at
    /// once; the warnings when there is no error.
    pub(crate) async fn check(&self) -> Result<(Vec<(Slot, LocalFile)>, Vec<Violation>)> {
        let mut violations: Vec<Violation> = self.problems.clone();
        let warnings = match self.client.review(&self.request) {
            Ok(warnings) => warnings,
            Err(found) => {
                violations.extend(found);
                Vec::new()
            }
        };
        let mut loaded = Vec::new();
        for (slot, path) in &self.files.0 {
            match source::load(path, slot.kind()).await {
                Ok(file) => loaded.push((*slot, file)),
                Err(problems) => violations.extend(
                    problems
                        .into_iter()
                        .map(|(rule, message)| Violation::new(slot.path(), rule, message)),
                ),
            }
        }
        if violations.is_empty() {
            Ok((loaded, warnings))
        } else {
            Err(Error::Validation(Violations(violations)))
        }
    }

    /// Checks, uploads the local files, and creates the task.
    pub(crate) async fn send(mut self) -> Result<TaskHandle> {
        // The file checks and uploads are boxed: their state (file reads,
        // base64 bodies) exists only while they run, instead of being reserved
        // in every queued create (see BENCHMARKS.md, scale).
        let check = Box::pin(self.check());
        let (files, warnings) = check.await?;
        for (slot, file) in files {
            let upload = Box::pin(self.client.upload_file(&file));
            let url = upload.await?;
            let placed = slot.set(&mut self.request, url);
            debug_assert!(placed, "{slot:?} has no field in this request");
        }
        let task = self
            .client
            .send_create(&self.request, &self.headers)
            .await?;
        Ok(TaskHandle::created(
            self.client,
            task,
            warnings,
            tokio::time::Instant::now(),
        ))
    }
}
