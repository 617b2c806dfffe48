//! A request on its way out: the builder's options applied, its local files
//! found (in every media field the spec marks with `x-media`), checked,
//! uploaded, and the task created.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use piapi_kling_models::catalog::MediaSpec;
use piapi_kling_models::validation::Rule;
use piapi_kling_models::{
    CreateTaskRequest, ServiceMode, TaskConfig, Violation, Violations, WebhookConfig,
};
use reqwest::header::HeaderMap;

use crate::core::Core;
use crate::error::{Error, Result};
use crate::handle::TaskHandle;
use crate::source::{self, LocalFile};

/// Stands in for a file's URL until the file is uploaded, so the rest of the
/// request can be validated first.
const PENDING_UPLOAD_URL: &str = "https://upload.pending.invalid/file";

/// Task options every builder has: webhook, service mode, extra headers, and
/// input fields the spec does not know yet.
#[derive(Clone, Debug, Default)]
pub(crate) struct Options {
    pub(crate) webhook: Option<WebhookConfig>,
    pub(crate) service_mode: Option<ServiceMode>,
    pub(crate) headers: HeaderMap,
    pub(crate) extra: Vec<(String, serde_json::Value)>,
}

impl Options {
    /// Sets the webhook and service mode given to the builder, keeping the
    /// rest of a config the request already has (a raw request's).
    pub(crate) fn apply(&self, config: &mut Option<TaskConfig>) {
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

/// A local file named in a media field, waiting for its upload.
#[derive(Debug)]
struct LocalMedia {
    /// The field's path (`input.image_url`), as violations name it.
    field: String,
    spec: &'static MediaSpec,
    file: PathBuf,
}

/// Takes every media value that is not an http(s) URL out of the request (it
/// names a local file), leaving a stand-in URL until the upload.
fn take_local_files(request: &mut CreateTaskRequest) -> Vec<LocalMedia> {
    let mut files = Vec::new();
    for slot in request.media_mut() {
        if !slot.names_local_file() {
            continue;
        }
        let path = std::mem::replace(slot.url, PENDING_UPLOAD_URL.to_owned());
        files.push(LocalMedia {
            field: slot.path,
            spec: slot.spec,
            file: PathBuf::from(path),
        });
    }
    files
}

/// A request ready to be checked and sent.
pub(crate) struct Prepared {
    client: Arc<Core>,
    /// Boxed: a request is over a kilobyte, and a `Prepared` is moved into
    /// the create's future and that future into its box (BENCHMARKS.md,
    /// overhead).
    request: Box<CreateTaskRequest>,
    files: Vec<LocalMedia>,
    headers: HeaderMap,
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
    /// Uploads the local files into their fields, then sends the create.
    async fn upload_and_create(
        &mut self,
        files: Vec<(String, LocalFile)>,
    ) -> Result<Box<piapi_kling_models::TaskResponse>> {
        for (field, file) in files {
            let upload = Box::pin(self.client.upload_file(&file));
            let url = upload.await?;
            let placed = self.request.set_media(&field, url);
            debug_assert!(placed, "{field} is no media field of this request");
        }
        self.client.send_create(&self.request, &self.headers).await
    }

    pub(crate) fn new(client: Arc<Core>, request: CreateTaskRequest, options: Options) -> Self {
        let mut request = request;
        options.apply(request.config_mut());
        let problems = place_extra(&mut request, options.extra);
        let files = take_local_files(&mut request);
        Prepared {
            client,
            request: Box::new(request),
            files,
            headers: options.headers,
            problems,
        }
    }

    /// Every local check: the files, then the spec's rules. All problems at
    /// once; the warnings when there is no error.
    pub(crate) async fn check(&self) -> Result<(Vec<(String, LocalFile)>, Vec<Violation>)> {
        let mut violations: Vec<Violation> = self.problems.clone();
        let warnings = match self.client.review(&self.request) {
            Ok(warnings) => warnings,
            Err(found) => {
                violations.extend(found);
                Vec::new()
            }
        };
        let mut loaded = Vec::new();
        for media in &self.files {
            match source::load(&media.file, media.spec).await {
                Ok(file) => loaded.push((media.field.clone(), file)),
                Err(problems) => violations.extend(
                    problems
                        .into_iter()
                        .map(|(rule, message)| Violation::new(media.field.clone(), rule, message)),
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
        // The budget is asked before any upload.
        let reservation = self.client.reserve(&self.request)?;
        let sent = self.upload_and_create(files).await;
        self.client.settle(reservation, &sent);
        let response = sent?;
        Ok(TaskHandle::created(
            self.client,
            response.data,
            warnings,
            tokio::time::Instant::now(),
        ))
    }
}
