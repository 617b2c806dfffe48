//! [`Client`]: the entry point, holding the configuration and the operations
//! that are not task builders.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use piapi_kling_models::catalog::TaskInput;
use piapi_kling_models::{
    AccountInfo, AiTryOnInput, AspectRatio, AvatarInput, CancelModel, CreateTaskRequest, Effect,
    EffectsInput, ExtendVideoInput, Model, MotionControlInput, OmniVersion,
    OmniVideoGenerationInput, Shot, SoundInput, TaskData, Version, VideoGenerationInput, Violation,
    Violations,
};
use reqwest::Url;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

use crate::builders::{
    Avatar, BuildRequest, CustomTask, Effects, ExtendVideo, ImageToVideo, LipSync, MotionControl,
    Omni, RawRequest, Sound, TaskBuilder, TextToVideo, TryOn,
};
use crate::config::ClientBuilder;
use crate::core::Core;
use crate::error::{Error, Result};
use crate::handle::TaskHandle;
use crate::lipsync::{LipSyncOutcome, LipSyncSpec};
use crate::source::{self, MediaSource};
use crate::wait_policy::WaitPolicy;

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
    core: Arc<Core>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.core, f)
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

    /// The API base URL requests go to.
    pub fn base_url(&self) -> &Url {
        &self.core.base_url
    }

    /// The base URL uploads go to.
    pub fn upload_base_url(&self) -> &Url {
        &self.core.upload_base_url
    }

    /// The budget and what is committed against it, when the client has one
    /// ([`ClientBuilder::budget`]).
    pub fn spending(&self) -> Option<crate::spending::Spending> {
        self.core
            .budget
            .as_ref()
            .map(crate::budget::Budget::spending)
    }

    /// The wait policy of `wait()`.
    pub fn wait_policy(&self) -> &WaitPolicy {
        &self.core.wait
    }

    /// The webhook receiver that ends waits early, if one is attached.
    pub fn webhook_receiver(&self) -> Option<&crate::webhook::WebhookReceiver> {
        self.core.webhooks.as_ref()
    }

    // ----------------------------------------------------------- builders

    /// A task of any type the spec lists, from its input: every input field
    /// has a setter on the builder (generated from the spec), media fields
    /// take a URL or a local file.
    ///
    /// ```no_run
    /// # async fn run(client: piapi_kling::Client) -> Result<(), piapi_kling::Error> {
    /// use piapi_kling::models::SoundInput;
    /// let task = client.new_task(SoundInput::default()).prompt("rain on a tin roof").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn new_task<I: TaskInput>(&self, input: I) -> TaskBuilder<I> {
        TaskBuilder::with_input(self.core.clone(), input)
    }

    /// Text-to-video. Sends `aspect_ratio` 16:9 unless set (PiAPI requires one).
    pub fn text_to_video(&self, prompt: impl Into<String>) -> TextToVideo {
        TaskBuilder::with_input(
            self.core.clone(),
            VideoGenerationInput::default()
                .with_prompt(prompt)
                .with_aspect_ratio(AspectRatio::Landscape16x9),
        )
    }

    /// Several shots in one Kling 3.0 video, each with its prompt and length
    /// (they add up to at most 15 s). Sends version 3.0 and aspect ratio
    /// 16:9 unless set.
    ///
    /// ```no_run
    /// # async fn run(client: piapi_kling::Client) -> Result<(), piapi_kling::Error> {
    /// use piapi_kling::models::Shot;
    /// let task = client
    ///     .multi_shot([Shot::new("a door opens", 3), Shot::new("a cat walks in", 2)])
    ///     .audio(true)
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn multi_shot(&self, shots: impl IntoIterator<Item = Shot>) -> TextToVideo {
        TaskBuilder::with_input(
            self.core.clone(),
            VideoGenerationInput::default()
                .with_version(Version::V3_0)
                .with_aspect_ratio(AspectRatio::Landscape16x9)
                .with_multi_shots(shots),
        )
    }

    /// Kling Turbo (`model: kling-turbo`, version 2.5-turbo): a fast, cheaper
    /// text- or image-to-video. Sends aspect ratio 16:9 unless set; add
    /// `.start_frame()` / `.end_frame()` for frames.
    pub fn turbo(&self, prompt: impl Into<String>) -> TextToVideo {
        TaskBuilder::with_input(
            self.core.clone(),
            VideoGenerationInput::default()
                .with_prompt(prompt)
                .with_version(Version::V2_5Turbo)
                .with_aspect_ratio(AspectRatio::Landscape16x9),
        )
        .model(Model::KlingTurbo)
    }

    /// Kling omni (`omni_video_generation`): a video from a prompt that can
    /// name reference images (`@image_1`…) and a reference video. Version 3.0
    /// unless set (`.version(OmniVersion::O1)`).
    pub fn omni(&self, prompt: impl Into<String>) -> Omni {
        TaskBuilder::with_input(
            self.core.clone(),
            OmniVideoGenerationInput::default()
                .with_prompt(prompt)
                .with_version(OmniVersion::V3_0),
        )
    }

    /// Motion control: the character in `image` (a URL or a local file)
    /// moves like a reference video (`.reference_video()`) or a named preset
    /// (`.preset()`).
    pub fn motion_control(&self, image: impl Into<MediaSource>) -> MotionControl {
        TaskBuilder::with_input(
            self.core.clone(),
            MotionControlInput::new(image.into().into_text()),
        )
    }

    /// Avatar: the portrait in `image` speaks `audio` (each a URL or a local
    /// file).
    pub fn avatar(&self, image: impl Into<MediaSource>, audio: impl Into<MediaSource>) -> Avatar {
        TaskBuilder::with_input(
            self.core.clone(),
            AvatarInput::new(image.into().into_text())
                .with_local_dubbing_url(audio.into().into_text()),
        )
    }

    /// Image-to-video from `image` (a URL or a local file to upload).
    pub fn image_to_video(&self, image: impl Into<MediaSource>) -> ImageToVideo {
        TaskBuilder::with_input(
            self.core.clone(),
            VideoGenerationInput::default().with_image_url(image.into().into_text()),
        )
    }

    /// Extends the finished video of task `origin_task_id` by about 5 s.
    pub fn extend(&self, origin_task_id: impl Into<String>) -> ExtendVideo {
        TaskBuilder::with_input(self.core.clone(), ExtendVideoInput::new(origin_task_id))
    }

    /// Lip-syncs the finished video of task `origin_task_id`; choose `.text()`
    /// or `.audio()`.
    pub fn lip_sync(&self, origin_task_id: impl Into<String>) -> LipSync {
        LipSync::of_video(self.core.clone(), origin_task_id)
    }

    /// Creates a video, waits for it, lip-syncs it, and waits again.
    ///
    /// The lip-sync step is checked (text, speed, audio file) *before* the
    /// video is created, so a mistake there costs nothing. Once the video task
    /// exists, any failure is [`Error::Pipeline`], which carries the video
    /// task's id (and its result when it completed), so it is never lost.
    ///
    /// ```no_run
    /// # async fn run(client: piapi_kling::Client) -> Result<(), piapi_kling::Error> {
    /// use piapi_kling::LipSyncSpec;
    /// let both = client
    ///     .generate_and_lip_sync(
    ///         client.text_to_video("a news anchor facing the camera"),
    ///         LipSyncSpec::text("Good evening.", "Rock").speed(1.2),
    ///     )
    ///     .await?;
    /// println!("{:?}", both.lip_sync.video_url());
    /// # Ok(()) }
    /// ```
    pub async fn generate_and_lip_sync<I: BuildRequest>(
        &self,
        video: TaskBuilder<I>,
        lip_sync: LipSyncSpec,
    ) -> Result<LipSyncOutcome> {
        crate::lipsync::generate_and_lip_sync(&self.core, video, lip_sync).await
    }

    /// Turns `image` into a video with a Kling effect preset.
    pub fn effect(&self, image: impl Into<MediaSource>, effect: impl Into<Effect>) -> Effects {
        TaskBuilder::with_input(
            self.core.clone(),
            EffectsInput::new(image.into().into_text(), effect.into()),
        )
    }

    /// Virtual try-on on the person in `model_image`; add `.dress()` or
    /// `.upper()`/`.lower()`.
    pub fn try_on(&self, model_image: impl Into<MediaSource>) -> TryOn {
        TaskBuilder::with_input(
            self.core.clone(),
            AiTryOnInput::new(model_image.into().into_text()),
        )
    }

    /// Kling Sound; give `.prompt()` and/or `.for_video()`.
    pub fn sound(&self) -> Sound {
        TaskBuilder::with_input(self.core.clone(), SoundInput::default())
    }

    /// A builder around any create request, typed or decoded from JSON, of
    /// any task type (one the spec does not list is sent as given, with a
    /// warning): the same webhook, service-mode, header and `.extra()`
    /// options as the named builders.
    ///
    /// ```no_run
    /// # async fn run(client: piapi_kling::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let request: piapi_kling::CreateTaskRequest = serde_json::from_value(serde_json::json!({
    ///     "model": "kling", "task_type": "kling_hologram",
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
        TaskBuilder::with_input(self.core.clone(), RawRequest(request.into()))
    }

    // ------------------------------------------------------------ tasks

    /// Creates a task from a raw request, after checking what the spec knows
    /// of it ([`Validate::report`](piapi_kling_models::Validate::report)): errors refuse it, warnings (a value an
    /// open enum does not list, a task type the spec does not know) are
    /// logged and kept on the handle ([`TaskHandle::warnings`]). Any task
    /// type can be sent: an unknown one is checked for its envelope and
    /// config and sent as given. A media field holding a local path is
    /// checked and uploaded first, as with the builders.
    pub async fn create(&self, request: impl Into<CreateTaskRequest>) -> Result<TaskHandle> {
        self.custom(request).send().await
    }

    /// Creates a task from a raw request without checking it locally: for a
    /// value PiAPI accepts that the spec does not list yet (a new model
    /// version, say). PiAPI answers a broken request with HTTP 400.
    pub async fn create_unvalidated(
        &self,
        request: impl Into<CreateTaskRequest>,
    ) -> Result<TaskHandle> {
        let request = request.into();
        // Unchecked, but never over the budget.
        let reservation = self.core.reserve(&request)?;
        let sent = self.core.send_create(&request, &HeaderMap::new()).await;
        self.core.settle(reservation, &sent);
        let response = sent?;
        Ok(TaskHandle::created(
            self.core.clone(),
            response.data,
            Vec::new(),
            Instant::now(),
        ))
    }

    /// Reads a task.
    pub async fn get_task(&self, task_id: &str) -> Result<TaskData> {
        self.core.get_task(task_id).await
    }

    /// Cancels a pending task. It then reads back as `failed` with error code
    /// 10001; a task that already started cannot be cancelled (HTTP 400).
    pub async fn cancel_task(&self, task_id: &str) -> Result<()> {
        self.core.cancel_task(task_id).await
    }

    /// Cancels every pending task of `model` created before `created_before`;
    /// returns the ids of the cancelled tasks. PiAPI marks this "Developing".
    pub async fn cancel_tasks(
        &self,
        created_before: SystemTime,
        model: CancelModel,
    ) -> Result<Vec<String>> {
        self.core.cancel_tasks(created_before, model).await
    }

    /// The account's name, id and remaining credit.
    pub async fn account_info(&self) -> Result<AccountInfo> {
        self.core.account_info().await
    }

    /// How many of the account's tasks are staged, pending and processing,
    /// per provider (`GET /account/active_tasks`); read one provider's counts
    /// with [`ActiveTasks::provider`](piapi_kling_models::ActiveTasks::provider).
    pub async fn active_tasks(&self) -> Result<piapi_kling_models::ActiveTasks> {
        self.core.active_tasks().await
    }

    /// A handle on an existing task, e.g. to resume waiting after
    /// [`Error::Timeout`]. Its first poll happens at once.
    pub fn task(&self, task_id: impl Into<String>) -> TaskHandle {
        TaskHandle::resumed(self.core.clone(), task_id.into())
    }

    // ----------------------------------------------------------- uploads

    /// Uploads a local file (jpg, jpeg, png, webp, mp4, wav, mp3; at most
    /// 10 MB) and returns its URL, valid for 24 hours. A URL is returned as is.
    pub async fn upload(&self, source: impl Into<MediaSource>) -> Result<String> {
        match source.into() {
            MediaSource::Url(url) => Ok(url),
            MediaSource::File(path) => {
                let file = source::load(&path, &source::UPLOADABLE)
                    .await
                    .map_err(|problems| {
                        Error::Validation(Violations(
                            problems
                                .into_iter()
                                .map(|(rule, message)| Violation::new("file", rule, message))
                                .collect(),
                        ))
                    })?;
                self.core.upload_file(&file).await
            }
        }
    }
}

impl ClientBuilder {
    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<Client> {
        Ok(Client {
            core: Arc::new(self.into_core()?),
        })
    }
}
