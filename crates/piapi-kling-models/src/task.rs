//! Hand-written conveniences on the generated task types: status predicates,
//! timestamps that are really set, result URLs, typed access to the input echo.

use crate::{MediaResource, TaskData, TaskError, TaskMeta, TaskStatus, TaskWork};

/// Go's zero time, which PiAPI sends for a timestamp not reached yet.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

impl TaskStatus {
    /// Completed or failed: the task will not change any more.
    pub fn is_terminal(&self) -> bool {
        matches!(self, TaskStatus::Completed | TaskStatus::Failed)
    }

    /// Only a pending task can be cancelled.
    pub fn is_cancellable(&self) -> bool {
        matches!(self, TaskStatus::Pending)
    }
}

fn reached(time: &Option<String>) -> Option<&str> {
    time.as_deref()
        .filter(|t| !t.is_empty() && !t.starts_with("0001-01-01"))
}

impl TaskMeta {
    /// When PiAPI accepted the task, if it says.
    pub fn created(&self) -> Option<&str> {
        reached(&self.created_at)
    }

    /// When processing started; `None` while it has not (zero time).
    pub fn started(&self) -> Option<&str> {
        reached(&self.started_at)
    }

    /// When the task completed or failed; `None` while it has not (zero time).
    pub fn ended(&self) -> Option<&str> {
        reached(&self.ended_at)
    }
}

impl TaskError {
    /// True when PiAPI reports an error (a non-zero code or a message).
    pub fn is_error(&self) -> bool {
        self.code != 0
            || !self.message.is_empty()
            || self.raw_message.as_deref().is_some_and(|m| !m.is_empty())
    }
}

impl MediaResource {
    /// The watermark-free URL where there is one, else the plain one.
    pub fn best_url(&self) -> Option<&str> {
        let clean = self
            .resource_without_watermark
            .as_deref()
            .filter(|u| !u.is_empty());
        clean.or(self.resource.as_deref().filter(|u| !u.is_empty()))
    }
}

impl TaskWork {
    /// The work's main media: video, image or audio, whichever it carries.
    pub fn media(&self) -> Option<&MediaResource> {
        self.video
            .as_ref()
            .or(self.image.as_ref())
            .or(self.audio.as_ref())
    }
}

impl TaskData {
    /// Completed or failed.
    pub fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }

    /// The results so far (empty before completion).
    pub fn works(&self) -> &[TaskWork] {
        self.output
            .as_ref()
            .and_then(|o| o.works.as_deref())
            .unwrap_or(&[])
    }

    /// The finished video, wherever PiAPI put it: `output.video_url`, else
    /// the first work's video (watermark-free where given), else
    /// `output.video` (Kling 3.0 and omni).
    pub fn video_url(&self) -> Option<&str> {
        fn non_empty(url: Option<&String>) -> Option<&str> {
            url.map(String::as_str).filter(|u| !u.is_empty())
        }
        let output = self.output.as_ref();
        non_empty(output.and_then(|o| o.video_url.as_ref()))
            .or_else(|| {
                self.works()
                    .iter()
                    .find_map(|w| w.video.as_ref().and_then(MediaResource::best_url))
            })
            .or_else(|| non_empty(output.and_then(|o| o.video.as_ref())))
    }

    /// Decodes the input echo as the input type of this task's `task_type`,
    /// e.g. `task.input_as::<VideoGenerationInput>()`.
    pub fn input_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(serde_json::Value::Object(self.input.clone()))
    }

    /// PiAPI's failure message: `error.message`, else `error.raw_message`.
    pub fn error_message(&self) -> Option<&str> {
        Some(self.error.message.as_str())
            .filter(|m| !m.is_empty())
            .or(self.error.raw_message.as_deref().filter(|m| !m.is_empty()))
    }
}
