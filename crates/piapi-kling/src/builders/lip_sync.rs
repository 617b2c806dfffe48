//! Lip-syncing a finished video (`task_type: lip_sync`).

use std::future::Future;

use piapi_kling_models::{LipSyncInput, LipSyncRequest, Model};

use super::{Files, Options, Prepared, Slot, admit_create, task_options};
use crate::core::Core;
use crate::error::Result;
use crate::handle::TaskHandle;
use crate::source::MediaSource;
use std::sync::Arc;

/// A lip-sync task; see [`Client::lip_sync`](crate::Client::lip_sync). Give either `.text(..)` (with
/// an optional `.speed(..)`) or `.audio(..)`: both, or neither, is a
/// validation error.
///
/// A local audio file must be mp3 or wav (what PiAPI's upload takes; Kling
/// also reads flac and ogg from a URL), at most 10 MB (the upload limit) and
/// shorter than 60 s. The length is read from a WAV header, from an MP3's VBR
/// header, or estimated from an MP3's bitrate; a file whose length cannot be
/// read locally is left for PiAPI to check.
#[derive(Debug)]
#[must_use = "a builder does nothing until `.send().await`"]
pub struct LipSync {
    client: Arc<Core>,
    input: LipSyncInput,
    audio: Option<MediaSource>,
    options: Options,
}

impl LipSync {
    pub(crate) fn new(client: Arc<Core>, origin_task_id: String) -> Self {
        LipSync {
            client,
            input: LipSyncInput::new(origin_task_id),
            audio: None,
            options: Options::default(),
        }
    }

    /// Speech from `text`, spoken by the Kling voice `voice` (`tts_timbre`).
    pub fn text(mut self, text: impl Into<String>, voice: impl Into<String>) -> Self {
        self.input.tts_text = Some(text.into());
        self.input.tts_timbre = Some(voice.into());
        self
    }

    /// Speech speed for `.text()`, 0.8 to 2 (PiAPI's default is 1).
    pub fn speed(mut self, speed: f64) -> Self {
        self.input.tts_speed = Some(speed);
        self
    }

    /// Your own audio: a URL, or a local mp3/wav file to upload.
    pub fn audio(mut self, audio: impl Into<MediaSource>) -> Self {
        self.audio = Some(audio.into());
        self
    }

    task_options!();

    pub(crate) fn prepare(self) -> Prepared {
        let mut files = Files::default();
        let mut input = self.input;
        if let Some(audio) = self.audio {
            input.local_dubbing_url = Some(files.put(Slot::Dubbing, audio));
        }
        let request = LipSyncRequest::new(Model::Kling, input);
        Prepared::new(self.client, request, files, self.options)
    }

    /// Checks everything locally, uploads a local audio file, creates the task.
    pub fn send(self) -> impl Future<Output = Result<TaskHandle>> + Send + 'static {
        let client = self.client.clone();
        admit_create(client, move || self.prepare())
    }
}
