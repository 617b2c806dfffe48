//! [`TaskBuilder`]: the one builder of every task type, typed by its input.

use std::future::Future;
use std::sync::Arc;

use piapi_kling_models::Violation;
use piapi_kling_models::catalog::{Estimate, TaskInput};
use piapi_kling_models::{CreateTaskRequest, Model, ServiceMode, WebhookConfig};
use reqwest::header::{HeaderName, HeaderValue};

use super::{Options, Prepared, admit_create};
use crate::core::Core;
use crate::error::Result;
use crate::handle::TaskHandle;

/// A task being built: its input (`I`, e.g. `VideoGenerationInput`), the
/// model, and the options every task has (webhook, service mode, headers,
/// fields the spec does not know yet).
///
/// Every input field has a setter named after it (generated from the spec);
/// media fields take a URL or a local file. Build one with
/// [`Client::new_task`](crate::Client::new_task) or a named constructor such
/// as [`Client::text_to_video`](crate::Client::text_to_video).
///
/// ```no_run
/// # async fn run(client: piapi_kling::Client) -> Result<(), piapi_kling::Error> {
/// use piapi_kling::models::{Mode, VideoGenerationInput};
/// let task = client
///     .new_task(VideoGenerationInput::default())
///     .prompt("a lighthouse at dusk")
///     .mode(Mode::Professional)
///     .image_url("start.png") // a local file: checked, then uploaded
///     .send()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a builder does nothing until `.send().await`"]
pub struct TaskBuilder<I> {
    pub(super) core: Arc<Core>,
    pub(super) model: Option<Model>,
    /// Boxed: an input is up to a kilobyte, and the builder waits inside the
    /// create's future until the create is admitted; boxed, a task's future
    /// is that much smaller for the rest of its life (BENCHMARKS.md, scale).
    pub(super) input: Box<I>,
    pub(super) options: Options,
}

mod sealed {
    pub trait Sealed {}
    impl<I: piapi_kling_models::catalog::TaskInput> Sealed for I {}
    impl Sealed for super::RawRequest {}
}

/// What a [`TaskBuilder`] builds from: a typed input ([`TaskInput`]) or a
/// whole request ([`RawRequest`]). Sealed.
pub trait BuildRequest: sealed::Sealed + Send + 'static {
    /// The request, with `model` when the builder was given one.
    #[doc(hidden)]
    fn build_request(self, model: Option<Model>) -> CreateTaskRequest;
}

impl<I: TaskInput> BuildRequest for I {
    fn build_request(self, model: Option<Model>) -> CreateTaskRequest {
        self.into_request(model.unwrap_or(Model::Kling))
    }
}

/// A whole create request of any task type, typed or not: the input of
/// [`CustomTask`].
#[derive(Clone, Debug, PartialEq)]
pub struct RawRequest(pub CreateTaskRequest);

impl BuildRequest for RawRequest {
    fn build_request(self, model: Option<Model>) -> CreateTaskRequest {
        let mut request = self.0;
        if let Some(model) = model {
            *request.model_mut() = model;
        }
        request
    }
}

/// A create request of any task type, typed or raw; see
/// [`Client::custom`](crate::Client::custom).
///
/// What the spec knows is checked (for an unknown task type: the envelope,
/// the config and the webhook); everything else is sent as given, with a
/// warning for what the spec does not list.
pub type CustomTask = TaskBuilder<RawRequest>;

impl<I: BuildRequest> TaskBuilder<I> {
    pub(crate) fn with_input(core: Arc<Core>, input: I) -> Self {
        TaskBuilder {
            core,
            model: None,
            input: Box::new(input),
            options: Options::default(),
        }
    }

    /// The input as set so far.
    pub fn input(&self) -> &I {
        &self.input
    }

    /// The input, to change it directly.
    pub fn input_mut(&mut self) -> &mut I {
        &mut self.input
    }

    /// The model family (`kling` unless set; `kling-turbo` for Kling Turbo).
    pub fn model(mut self, model: impl Into<Model>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Has PiAPI POST the task to `endpoint` when it is created and when it
    /// ends, with `secret` in the `x-webhook-secret` header (see
    /// [`crate::webhook`]). The secret is never printed by this SDK.
    pub fn webhook(mut self, endpoint: impl Into<String>, secret: impl Into<String>) -> Self {
        let secret = secret.into();
        let mut hook = WebhookConfig::default().with_endpoint(endpoint);
        hook.secret = (!secret.is_empty()).then_some(secret);
        self.options.webhook = Some(hook);
        self
    }

    /// Puts a field this SDK does not know yet into `input`, sent as given:
    /// for a parameter PiAPI added after this release. A field the spec knows
    /// is refused at `send()`; use its typed method.
    pub fn extra(mut self, name: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.options.extra.push((name.into(), value.into()));
        self
    }

    /// Who pays: `Public` (pay as you go) or `Private` (your own Kling
    /// account). Unset, the workspace setting applies.
    pub fn service_mode(mut self, mode: ServiceMode) -> Self {
        self.options.service_mode = Some(mode);
        self
    }

    /// Adds a header to the create request (e.g. a tracing id for a proxy).
    /// It cannot replace the API key.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.options.headers.append(name, value);
        self
    }

    /// The request `send()` would create, before local files are uploaded
    /// (a local file's field holds its path): for a dry run or a log.
    pub fn request(&self) -> CreateTaskRequest
    where
        I: Clone,
    {
        let mut request = (*self.input).clone().build_request(self.model.clone());
        self.options.apply(request.config_mut());
        for (name, value) in &self.options.extra {
            request
                .input_extra_mut()
                .insert(name.clone(), value.clone());
        }
        request
    }

    /// What the task will cost by the spec's price table (unknown, never
    /// zero, for a request the table cannot price).
    pub fn estimate_cost(&self) -> Estimate
    where
        I: Clone,
    {
        self.request().estimate()
    }

    /// Everything `send()` does before sending, and nothing after: checks the
    /// local files and the spec's rules (every problem at once, as
    /// [`Error::Validation`](crate::Error::Validation)), and returns the request that
    /// would be sent (a local file's field still holds its path; `send()`
    /// uploads it first), its estimate and the warnings. Nothing is uploaded
    /// or created.
    pub async fn dry_run(self) -> Result<DryRun>
    where
        I: Clone,
    {
        let request = self.request();
        let estimate = request.estimate();
        let prepared = self.prepare();
        let (files, warnings) = prepared.check().await?;
        Ok(DryRun {
            request,
            estimate,
            warnings,
            uploads: files
                .into_iter()
                .map(|(field, file)| (field, file.path))
                .collect(),
        })
    }

    pub(crate) fn prepare(self) -> Prepared {
        let request = (*self.input).build_request(self.model);
        Prepared::new(self.core, request, self.options)
    }

    /// Checks everything locally, uploads local files, creates the task.
    pub fn send(self) -> impl Future<Output = Result<TaskHandle>> + Send + 'static {
        let core = self.core.clone();
        admit_create(core, move || self.prepare())
    }
}

/// What [`TaskBuilder::dry_run`] found: the request that would be sent and
/// what it would cost.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DryRun {
    /// The request, as it would be sent (local files still named by path).
    pub request: CreateTaskRequest,
    /// Its estimate by the spec's price table.
    pub estimate: Estimate,
    /// What the local check warns about (sent anyway).
    pub warnings: Vec<Violation>,
    /// The local files `send()` would upload first: field path and file.
    pub uploads: Vec<(String, std::path::PathBuf)>,
}
