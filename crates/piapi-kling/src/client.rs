//! [`Client`]: the entry point, holding the configuration and the operations
//! that are not task builders.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use piapi_kling_models::validation::Rule;
use piapi_kling_models::{
    AccountInfo, CancelModel, CreateTaskRequest, Effect, TaskData, UploadRequest, Validate,
    Violation, Violations,
};
use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use tokio::time::Instant;

use crate::builders::{
    CustomTask, Effects, ExtendVideo, ImageToVideo, LipSync, Sound, TextToVideo, TryOn,
};
use crate::config::ClientBuilder;
use crate::error::{Error, Result};
use crate::handle::TaskHandle;
use crate::retry::RetryPolicy;
use crate::source::{self, LocalFile, MediaKind, MediaSource};
use crate::transport::{Call, Op, request_span};
use crate::wait::{Poller, StatusStream, WaitPolicy};

/// A PiAPI Kling client. Cheap to clone (the configuration is shared).
///
/// A thin layer over the generated [`piapi_kling_client::Client`]: every API
/// request goes through it (the key and extra headers in its
/// `RequestContext`); this type adds validation, uploads of local files,
/// retries, polling and typed errors.
///
/// ```no_run
/// # async fn run() -> Result<(), piapi_kling::Error> {
/// let client = piapi_kling::Client::from_env()?;
/// let video = client.text_to_video("a red fox in the snow").send().await?.wait().await?;
/// println!("{}", video.video_url().unwrap_or_default());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    /// The generated client of the API host; its context carries the key
    /// (a sensitive header) and the `User-Agent`.
    pub(crate) api: piapi_kling_client::Client,
    /// The same for the upload host (same HTTP client and context).
    pub(crate) upload_api: piapi_kling_client::Client,
    pub(crate) base_url: Url,
    pub(crate) upload_base_url: Url,
    /// The key as text, only to scrub it from error messages.
    pub(crate) key_text: String,
    pub(crate) timeout: Duration,
    /// A deadline around each request, set when the HTTP client is the
    /// caller's (whose own timeout cannot be set).
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) retry: RetryPolicy,
    pub(crate) wait: WaitPolicy,
    /// Bounds the HTTP requests in flight (one permit per attempt).
    pub(crate) requests: Arc<tokio::sync::Semaphore>,
    /// Warnings of the local check are errors ([`ClientBuilder::strict`]).
    pub(crate) strict: bool,
    /// Bounds the creates in flight (one permit per create, uploads included).
    pub(crate) creates: tokio::sync::Semaphore,
    /// Webhook deliveries that end waits early, when attached.
    pub(crate) webhooks: Option<crate::webhook::WebhookReceiver>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Client")
            .field("base_url", &inner.base_url.as_str())
            .field("upload_base_url", &inner.upload_base_url.as_str())
            .field("api_key", &"<redacted>")
            .field("timeout", &inner.timeout)
            .field("retry", &inner.retry)
            .field("wait", &inner.wait)
            .finish()
    }
}

impl Client {
    /// A [`ClientBuilder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client configured from `PIAPI_API_KEY` (required), `PIAPI_BASE_URL`
    /// and `PIAPI_UPLOAD_BASE_URL` (optional).
    pub fn from_env() -> Result<Client> {
        ClientBuilder::from_env().build()
    }

    pub(crate) fn from_inner(inner: Arc<Inner>) -> Client {
        Client { inner }
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// The API base URL requests go to.
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// The base URL uploads go to.
    pub fn upload_base_url(&self) -> &Url {
        &self.inner.upload_base_url
    }

    /// The wait policy of `wait()`.
    pub fn wait_policy(&self) -> &WaitPolicy {
        &self.inner.wait
    }

    /// The webhook receiver that ends waits early, if one is attached.
    pub fn webhook_receiver(&self) -> Option<&crate::webhook::WebhookReceiver> {
        self.inner.webhooks.as_ref()
    }

    // ----------------------------------------------------------- builders

    /// Text-to-video. Sends `aspect_ratio` 16:9 unless set (PiAPI requires one).
    pub fn text_to_video(&self, prompt: impl Into<String>) -> TextToVideo {
        TextToVideo::new(self.clone(), prompt.into())
    }

    /// Image-to-video from `image` (a URL or a local file to upload).
    pub fn image_to_video(&self, image: impl Into<MediaSource>) -> ImageToVideo {
        ImageToVideo::new(self.clone(), image.into())
    }

    /// Extends the finished video of task `origin_task_id` by about 5 s.
    pub fn extend(&self, origin_task_id: impl Into<String>) -> ExtendVideo {
        ExtendVideo::new(self.clone(), origin_task_id.into())
    }

    /// Lip-syncs the finished video of task `origin_task_id`; choose `.text()`
    /// or `.audio()`.
    pub fn lip_sync(&self, origin_task_id: impl Into<String>) -> LipSync {
        LipSync::new(self.clone(), origin_task_id.into())
    }

    /// Turns `image` into a video with a Kling effect preset.
    pub fn effect(&self, image: impl Into<MediaSource>, effect: impl Into<Effect>) -> Effects {
        Effects::new(self.clone(), image.into(), effect.into())
    }

    /// Virtual try-on on the person in `model_image`; add `.dress()` or
    /// `.upper()`/`.lower()`.
    pub fn try_on(&self, model_image: impl Into<MediaSource>) -> TryOn {
        TryOn::new(self.clone(), model_image.into())
    }

    /// Kling Sound; give `.prompt()` and/or `.for_video()`.
    pub fn sound(&self) -> Sound {
        Sound::new(self.clone())
    }

    /// A builder around any create request, typed or decoded from JSON, of
    /// any task type (one the spec does not list is sent as given, with a
    /// warning): the same webhook, service-mode, header and `.extra()`
    /// options as the named builders.
    ///
    /// ```no_run
    /// # async fn run(client: piapi_kling::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let request: piapi_kling::CreateTaskRequest = serde_json::from_value(serde_json::json!({
    ///     "model": "kling", "task_type": "avatar",
    ///     "input": {"image_url": "https://example.com/face.png", "audio_url": "https://example.com/hi.mp3"}
    /// }))?;
    /// let handle = client.custom(request).send().await?;
    /// for warning in handle.warnings() {
    ///     eprintln!("{warning}");
    /// }
    /// let result = handle.wait().await?;
    /// # Ok(()) }
    /// ```
    pub fn custom(&self, request: impl Into<CreateTaskRequest>) -> CustomTask {
        CustomTask::new(self.clone(), request.into())
    }

    // ------------------------------------------------------------ tasks

    /// Creates a task from a raw request, after checking what the spec knows
    /// of it ([`Validate::report`]): errors refuse it, warnings (a value an
    /// open enum does not list, a task type the spec does not know) are
    /// logged and kept on the handle ([`TaskHandle::warnings`]). Any task
    /// type can be sent: an unknown one is checked for its envelope and
    /// config and sent as given. Every URL must already be a URL.
    pub async fn create(&self, request: impl Into<CreateTaskRequest>) -> Result<TaskHandle> {
        let request = request.into();
        let warnings = self.review(&request).map_err(Error::Validation)?;
        self.send_create(&request, &HeaderMap::new(), warnings)
            .await
    }

    /// The local check of a create request: `Ok(warnings)` (each logged), or
    /// the errors; with [`ClientBuilder::strict`](crate::ClientBuilder::strict),
    /// warnings are errors.
    pub(crate) fn review(
        &self,
        request: &CreateTaskRequest,
    ) -> std::result::Result<Vec<Violation>, Violations> {
        let warnings = request.report().into_result(self.inner.strict)?;
        for warning in &warnings {
            tracing::warn!(path = %warning.path, rule = warning.rule.name(), "{}", warning.message);
        }
        Ok(warnings)
    }

    /// Creates a task from a raw request without checking it locally: for a
    /// value PiAPI accepts that the spec does not list yet (a new model
    /// version, say). PiAPI answers a broken request with HTTP 400.
    pub async fn create_unvalidated(
        &self,
        request: impl Into<CreateTaskRequest>,
    ) -> Result<TaskHandle> {
        self.send_create(&request.into(), &HeaderMap::new(), Vec::new())
            .await
    }

    pub(crate) async fn send_create(
        &self,
        request: &CreateTaskRequest,
        headers: &HeaderMap,
        warnings: Vec<Violation>,
    ) -> Result<TaskHandle> {
        let webhook_secret = config_secret(request);
        let secrets: Vec<&str> = webhook_secret.into_iter().collect();
        let api = self.api_with_headers(headers);
        let api = &api;
        let span = request_span(Op::CreateTask, None);
        let response = self
            .call_in(
                span.clone(),
                Call {
                    op: Op::CreateTask,
                    task_id: None,
                    secrets: &secrets,
                },
                move || api.create_task().body(request.clone()).send(),
            )
            .await?;
        let task = response.data;
        span.record("task_id", task.task_id.as_str());
        span.in_scope(|| {
            tracing::info!(task_id = %task.task_id, task_type = %task.task_type, status = %task.status, "task created");
        });
        Ok(TaskHandle::created(
            self.clone(),
            task,
            warnings,
            Instant::now(),
        ))
    }

    /// The generated client, sending `headers` too (never in place of the key
    /// or the body's `Content-Type`). Cheap: the connection pool is shared.
    fn api_with_headers(&self, headers: &HeaderMap) -> piapi_kling_client::Client {
        let api = &self.inner.api;
        let mut context = api.context().clone();
        let mut extra = false;
        for (name, value) in headers {
            if name.as_str() == "x-api-key" || name == CONTENT_TYPE {
                continue;
            }
            context = context.with_header(name.clone(), value.clone());
            extra = true;
        }
        if extra {
            api.with_context(context)
        } else {
            api.clone()
        }
    }

    /// Reads a task.
    pub async fn get_task(&self, task_id: &str) -> Result<TaskData> {
        check_task_id(task_id)?;
        let api = &self.inner.api;
        let response = self
            .call(
                Call {
                    op: Op::GetTask,
                    task_id: Some(task_id),
                    secrets: &[],
                },
                move || api.get_task().task_id(task_id).send(),
            )
            .await?;
        Ok(response.data)
    }

    /// Cancels a pending task. It then reads back as `failed` with error code
    /// 10001; a task that already started cannot be cancelled (HTTP 400).
    pub async fn cancel_task(&self, task_id: &str) -> Result<()> {
        check_task_id(task_id)?;
        let api = &self.inner.api;
        self.call(
            Call {
                op: Op::CancelTask,
                task_id: Some(task_id),
                secrets: &[],
            },
            move || api.cancel_task().task_id(task_id).send(),
        )
        .await?;
        tracing::info!(task_id, "task cancelled");
        Ok(())
    }

    /// Cancels every pending task of `model` created before `created_before`;
    /// returns the ids of the cancelled tasks. PiAPI marks this "Developing".
    pub async fn cancel_tasks(
        &self,
        created_before: SystemTime,
        model: CancelModel,
    ) -> Result<Vec<String>> {
        let secs = created_before
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let secs = i64::try_from(secs).unwrap_or(i64::MAX);
        let api = &self.inner.api;
        let model = &model;
        let response = self
            .call(
                Call {
                    op: Op::CancelTasks,
                    task_id: None,
                    secrets: &[],
                },
                move || {
                    api.cancel_tasks()
                        .created_before(secs)
                        .model(model.clone())
                        .send()
                },
            )
            .await?;
        Ok(response.data.task_ids)
    }

    /// The account's name, id and remaining credit.
    pub async fn account_info(&self) -> Result<AccountInfo> {
        let api = &self.inner.api;
        let response = self
            .call(
                Call {
                    op: Op::AccountInfo,
                    task_id: None,
                    secrets: &[],
                },
                move || api.get_account_info().send(),
            )
            .await?;
        Ok(response.data)
    }

    /// A handle on an existing task, e.g. to resume waiting after
    /// [`Error::Timeout`]. Its first poll happens at once.
    pub fn task(&self, task_id: impl Into<String>) -> TaskHandle {
        TaskHandle::resumed(self.clone(), task_id.into())
    }

    /// The status changes of a task, polled with the client's wait policy:
    /// each distinct status once, ending after `completed` or `failed`.
    pub fn watch(&self, task_id: impl Into<String>) -> StatusStream {
        self.watch_with(task_id, self.inner.wait.clone())
    }

    /// [`watch`](Self::watch) with another policy.
    pub fn watch_with(&self, task_id: impl Into<String>, policy: WaitPolicy) -> StatusStream {
        Poller::new(self.clone(), task_id.into(), None, None, policy).into_stream()
    }

    // ----------------------------------------------------------- uploads

    /// Uploads a local file (jpg, jpeg, png, webp, mp4, wav, mp3; at most
    /// 10 MB) and returns its URL, valid for 24 hours. A URL is returned as is.
    pub async fn upload(&self, source: impl Into<MediaSource>) -> Result<String> {
        match source.into() {
            MediaSource::Url(url) => Ok(url),
            MediaSource::File(path) => {
                let file =
                    source::load(&path, MediaKind::Uploadable)
                        .await
                        .map_err(|problems| {
                            Error::Validation(Violations(
                                problems
                                    .into_iter()
                                    .map(|(rule, message)| Violation::new("file", rule, message))
                                    .collect(),
                            ))
                        })?;
                self.upload_file(&file).await
            }
        }
    }

    /// Uploads a checked file.
    pub(crate) async fn upload_file(&self, file: &LocalFile) -> Result<String> {
        let request = UploadRequest::new(
            file.upload_name.clone(),
            base64::engine::general_purpose::STANDARD.encode(&file.bytes),
        );
        if let Err(violations) = request.validate() {
            // Names are built to pass; this guards the spec changing under us.
            return Err(Error::File {
                path: file.path.clone(),
                reason: violations.to_string(),
            });
        }
        let api = &self.inner.upload_api;
        let request = &request;
        let response = self
            .call(
                Call {
                    op: Op::Upload,
                    task_id: None,
                    secrets: &[],
                },
                // A second copy of the file costs nothing: retried like a read.
                move || api.upload_file().body(request.clone()).send(),
            )
            .await?;
        tracing::debug!(bytes = file.bytes.len(), "file uploaded");
        Ok(response.data.url)
    }
}

fn check_task_id(task_id: &str) -> Result<()> {
    if task_id.trim().is_empty() {
        return Err(Error::Validation(Violations(vec![Violation::new(
            "task_id",
            Rule::MinLength(1),
            "must not be empty",
        )])));
    }
    Ok(())
}

/// The webhook secret of a create request, to keep it out of errors.
fn config_secret(request: &CreateTaskRequest) -> Option<&str> {
    request
        .config()?
        .webhook_config
        .as_ref()?
        .secret
        .as_deref()
        .filter(|s| !s.is_empty())
}
