//! The SDK's private execution core: the generated clients, the transport
//! (limits, retries, deadlines), the local check and every API operation.
//! Builders, handles and the poller hold an `Arc<Core>`; [`crate::Client`] is
//! the public facade over it, and nothing inside imports the facade.

use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use piapi_kling_models::validation::Rule;
use piapi_kling_models::{
    AccountInfo, ActiveTasks, CancelModel, CreateTaskRequest, TaskData, TaskResponse,
    UploadRequest, Validate, Violation, Violations,
};
use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderMap};

use crate::budget::Reservation;
use crate::error::{Error, Result};
use crate::source::LocalFile;
use crate::transport::{Call, Op, Transport, request_span};
use crate::wait_policy::WaitPolicy;

/// Everything a client is, shared by all clones of it.
pub(crate) struct Core {
    /// The generated client; its context carries the key (a sensitive
    /// header), the `User-Agent` and the upload host.
    pub(crate) api: piapi_kling_client::Client,
    pub(crate) base_url: Url,
    pub(crate) upload_base_url: Url,
    pub(crate) timeout: std::time::Duration,
    pub(crate) transport: Transport,
    pub(crate) wait: WaitPolicy,
    /// Warnings of the local check are errors ([`crate::ClientBuilder::strict`]).
    pub(crate) strict: bool,
    /// Bounds the creates in flight (one permit per create, uploads included).
    pub(crate) creates: tokio::sync::Semaphore,
    /// Webhook deliveries that end waits early, when attached.
    pub(crate) webhooks: Option<crate::webhook::WebhookReceiver>,
    /// The spending cap, when set.
    pub(crate) budget: Option<crate::budget::Budget>,
}

// What a builder's or a handle's `Debug` shows of the client: where it
// points, never the key.
impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url.as_str())
            .field("upload_base_url", &self.upload_base_url.as_str())
            .field("api_key", &"<redacted>")
            .field("timeout", &self.timeout)
            .field("retry", &self.transport.retry)
            .field("wait", &self.wait)
            .finish()
    }
}

impl Core {
    /// The wait policy of `wait()`.
    pub(crate) fn wait_policy(&self) -> &WaitPolicy {
        &self.wait
    }

    /// The local check of a create request: `Ok(warnings)` (each logged), or
    /// the errors; with [`ClientBuilder::strict`](crate::ClientBuilder::strict),
    /// warnings are errors.
    pub(crate) fn review(
        &self,
        request: &CreateTaskRequest,
    ) -> std::result::Result<Vec<Violation>, Violations> {
        let warnings = request.report().into_result(self.strict)?;
        for warning in &warnings {
            tracing::warn!(path = %warning.path, rule = warning.rule.name(), "{}", warning.message);
        }
        Ok(warnings)
    }

    /// Reserves `request`'s estimated cost when the client has a budget:
    /// asked before anything is uploaded or sent, so a refused create costs
    /// nothing at all.
    pub(crate) fn reserve(&self, request: &CreateTaskRequest) -> Result<Option<Reservation>> {
        self.budget
            .as_ref()
            .map(|budget| budget.reserve(request.estimate()))
            .transpose()
    }

    /// Settles `reservation` (from [`reserve`](Self::reserve)) by what the
    /// create did.
    pub(crate) fn settle(
        &self,
        reservation: Option<Reservation>,
        sent: &Result<Box<TaskResponse>>,
    ) {
        if let (Some(budget), Some(reservation)) = (&self.budget, reservation) {
            budget.settle(reservation, sent.as_ref().map(|response| &response.data));
        }
    }

    /// Sends a create and returns the task as PiAPI answered it; the caller
    /// makes the handle (the core knows nothing of handles).
    ///
    /// The answer stays boxed as the transport decoded it: the caller moves
    /// the task once, into its handle (BENCHMARKS.md, overhead).
    pub(crate) async fn send_create(
        &self,
        request: &CreateTaskRequest,
        headers: &HeaderMap,
    ) -> Result<Box<TaskResponse>> {
        let webhook_secret = config_secret(request);
        let secrets: Vec<&str> = webhook_secret.into_iter().collect();
        let api = self.api_with_headers(headers);
        let api = &*api;
        let span = request_span(Op::CreateTask, None);
        let response = self
            .transport
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
        let task = &response.data;
        span.record("task_id", task.task_id.as_str());
        span.in_scope(|| {
            tracing::info!(task_id = %task.task_id, task_type = %task.task_type, status = %task.status, "task created");
        });
        Ok(response)
    }

    /// The generated client, sending `headers` too (never in place of the key
    /// or the body's `Content-Type`): the client itself when there are none,
    /// else a copy sharing its connection pool.
    fn api_with_headers(&self, headers: &HeaderMap) -> Cow<'_, piapi_kling_client::Client> {
        let api = &self.api;
        let mut extra = headers
            .iter()
            .filter(|(name, _)| name.as_str() != "x-api-key" && *name != CONTENT_TYPE)
            .peekable();
        if extra.peek().is_none() {
            return Cow::Borrowed(api);
        }
        let context = extra.fold(api.context().clone(), |context, (name, value)| {
            context.with_header(name.clone(), value.clone())
        });
        Cow::Owned(api.with_context(context))
    }

    /// Reads a task.
    pub(crate) async fn get_task(&self, task_id: &str) -> Result<TaskData> {
        check_task_id(task_id)?;
        let api = &self.api;
        let response = self
            .transport
            .call(Call::new(Op::GetTask, Some(task_id)), move || {
                api.get_task().task_id(task_id).send()
            })
            .await?;
        if let Some(budget) = &self.budget {
            budget.observe(&response.data);
        }
        Ok(response.data)
    }

    /// Cancels a pending task. It then reads back as `failed` with error code
    /// 10001; a task that already started cannot be cancelled (HTTP 400).
    pub(crate) async fn cancel_task(&self, task_id: &str) -> Result<()> {
        check_task_id(task_id)?;
        let api = &self.api;
        self.transport
            .call(Call::new(Op::CancelTask, Some(task_id)), move || {
                api.cancel_task().task_id(task_id).send()
            })
            .await?;
        tracing::info!(task_id, "task cancelled");
        Ok(())
    }

    /// Cancels every pending task of `model` created before `created_before`;
    /// returns the ids of the cancelled tasks. PiAPI marks this "Developing".
    pub(crate) async fn cancel_tasks(
        &self,
        created_before: SystemTime,
        model: CancelModel,
    ) -> Result<Vec<String>> {
        let secs = created_before
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let secs = i64::try_from(secs).unwrap_or(i64::MAX);
        let api = &self.api;
        let model = &model;
        let response = self
            .transport
            .call(Call::new(Op::CancelTasks, None), move || {
                api.cancel_tasks()
                    .created_before(secs)
                    .model(model.clone())
                    .send()
            })
            .await?;
        // The reply is undocumented: no field of it is required, and an
        // answer without ids means none are known to have been cancelled.
        Ok(response.data.and_then(|d| d.task_ids).unwrap_or_default())
    }

    /// The account's name, id and remaining credit.
    pub(crate) async fn account_info(&self) -> Result<AccountInfo> {
        let api = &self.api;
        let response = self
            .transport
            .call(Call::new(Op::AccountInfo, None), move || {
                api.get_account_info().send()
            })
            .await?;
        Ok(response.data)
    }

    /// The account's unfinished tasks, counted per provider.
    pub(crate) async fn active_tasks(&self) -> Result<ActiveTasks> {
        let api = &self.api;
        let response = self
            .transport
            .call(Call::new(Op::ActiveTasks, None), move || {
                api.get_active_tasks().send()
            })
            .await?;
        Ok(response.data)
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
        let api = &self.api;
        let request = &request;
        let response = self
            .transport
            .call(
                Call::new(Op::Upload, None),
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
