//! Typed results of a completed task: its videos, images and audio clips.

use std::time::Duration;

use piapi_kling_models::{MediaResource, TaskData, TaskStatus, TaskWork};

/// A completed task and the media it produced.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TaskResult {
    /// The task as PiAPI last reported it.
    pub task: TaskData,
    /// Videos (text/image-to-video, extend, lip-sync, effects).
    pub videos: Vec<Video>,
    /// Images (virtual try-on).
    pub images: Vec<Image>,
    /// Audio clips (Kling Sound).
    pub audio: Vec<Audio>,
    /// http(s) URLs found in the output where no documented shape puts media
    /// (a shape newer than this SDK), in the order found; only looked for when
    /// no documented shape held any media. A guess: check before relying on it.
    pub guessed_urls: Vec<String>,
}

/// One produced video.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Video {
    /// The video, watermark-free where PiAPI gives one.
    pub url: String,
    /// Kling's watermarked copy, when it differs from `url`.
    pub watermarked_url: Option<String>,
    /// The cover image.
    pub cover_url: Option<String>,
    /// The video's length.
    pub duration: Duration,
    /// Width in pixels (0 when unknown).
    pub width: u32,
    /// Height in pixels (0 when unknown).
    pub height: u32,
}

/// One produced image.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Image {
    /// The image, watermark-free where PiAPI gives one.
    pub url: String,
    /// The watermarked copy, when it differs from `url`.
    pub watermarked_url: Option<String>,
    /// Width in pixels (0 when unknown).
    pub width: u32,
    /// Height in pixels (0 when unknown).
    pub height: u32,
}

/// One produced audio clip.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Audio {
    /// The audio file.
    pub url: String,
    /// The clip's length.
    pub duration: Duration,
}

impl TaskResult {
    /// What PiAPI charged for the task (`meta.usage.consume`), if it says.
    pub fn charged(&self) -> Option<piapi_kling_models::catalog::Usd> {
        self.task
            .meta
            .usage
            .as_ref()
            .and_then(|usage| usage.consume)
            .map(piapi_kling_models::catalog::Usd::from_units)
    }

    /// The task's id.
    pub fn id(&self) -> &str {
        &self.task.task_id
    }

    /// The first video's URL (watermark-free where given).
    pub fn video_url(&self) -> Option<&str> {
        self.videos
            .first()
            .map(|v| v.url.as_str())
            .or_else(|| self.task.video_url())
    }

    /// The first image's URL.
    pub fn image_url(&self) -> Option<&str> {
        self.images.first().map(|i| i.url.as_str())
    }

    /// The first audio clip's URL.
    pub fn audio_url(&self) -> Option<&str> {
        self.audio.first().map(|a| a.url.as_str())
    }

    /// True when no media was found, not even a guess.
    pub fn is_empty(&self) -> bool {
        self.videos.is_empty()
            && self.images.is_empty()
            && self.audio.is_empty()
            && self.guessed_urls.is_empty()
    }
}

impl Video {
    fn bare(url: String) -> Video {
        Video {
            url,
            watermarked_url: None,
            cover_url: None,
            duration: Duration::ZERO,
            width: 0,
            height: 0,
        }
    }

    fn from_work(
        url: String,
        watermarked_url: Option<String>,
        work: &TaskWork,
        video: &MediaResource,
    ) -> Video {
        Video {
            url,
            watermarked_url,
            cover_url: work
                .cover
                .as_ref()
                .and_then(|c| c.best_url())
                .map(str::to_owned),
            duration: millis(video.duration),
            width: pixels(video.width),
            height: pixels(video.height),
        }
    }
}

/// Every http(s) URL in `value`, depth first, in document order.
fn urls_in(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s)
            if piapi_kling_models::validation::is_http_url(s) && !out.contains(s) =>
        {
            out.push(s.clone());
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| urls_in(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| urls_in(v, out)),
        _ => {}
    }
}

fn non_empty(url: Option<&String>) -> Option<String> {
    url.filter(|u| !u.is_empty()).cloned()
}

fn pixels(value: Option<i64>) -> u32 {
    value.and_then(|v| u32::try_from(v).ok()).unwrap_or(0)
}

fn millis(value: Option<i64>) -> Duration {
    Duration::from_millis(value.and_then(|v| u64::try_from(v).ok()).unwrap_or(0))
}

/// The clean URL and, when it differs, the watermarked one.
fn urls(media: &MediaResource) -> Option<(String, Option<String>)> {
    let url = media.best_url()?.to_owned();
    let watermarked = non_empty(media.resource.as_ref()).filter(|w| *w != url);
    Some((url, watermarked))
}

impl From<TaskData> for TaskResult {
    /// Finds the media in every documented shape, in this order:
    /// `output.video_url`; `works[].video` (`resource_without_watermark`, then
    /// `resource`); `output.video` (Kling 3.0, omni); image and audio works.
    /// When none holds anything and the task completed, any http(s) URL in the
    /// output is kept in [`TaskResult::guessed_urls`].
    fn from(task: TaskData) -> Self {
        let mut videos: Vec<Video> = Vec::new();
        let mut images = Vec::new();
        let mut audio = Vec::new();
        let output = task.output.as_ref();
        let video_url = output.and_then(|o| non_empty(o.video_url.as_ref()));
        if let Some(url) = video_url {
            videos.push(Video::bare(url));
        }
        for work in task.works() {
            if let Some(video) = &work.video
                && let Some((url, watermarked_url)) = urls(video)
            {
                let full = Video::from_work(url, watermarked_url, work, video);
                // `output.video_url` is usually the first work's clean video:
                // one video, with the work's details.
                match videos.iter_mut().find(|v| v.url == full.url) {
                    Some(known) => *known = full,
                    None => videos.push(full),
                }
            }
            if let Some(image) = &work.image
                && let Some((url, watermarked_url)) = urls(image)
            {
                images.push(Image {
                    url,
                    watermarked_url,
                    width: pixels(image.width),
                    height: pixels(image.height),
                });
            }
            if let Some(clip) = &work.audio
                && let Some(url) = clip.best_url()
            {
                audio.push(Audio {
                    url: url.to_owned(),
                    duration: millis(clip.duration),
                });
            }
        }
        if let Some(url) = output.and_then(|o| non_empty(o.video.as_ref()))
            && !videos.iter().any(|v| v.url == url)
        {
            videos.push(Video::bare(url));
        }
        let mut guessed_urls = Vec::new();
        if videos.is_empty()
            && images.is_empty()
            && audio.is_empty()
            && task.status == TaskStatus::Completed
            && let Some(output) = output
            && let Ok(value) = serde_json::to_value(output)
        {
            urls_in(&value, &mut guessed_urls);
        }
        TaskResult {
            task,
            videos,
            images,
            audio,
            guessed_urls,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(output: serde_json::Value) -> TaskData {
        serde_json::from_value(serde_json::json!({
            "task_id": "t-1", "model": "kling", "task_type": "video_generation",
            "status": "completed", "input": {}, "output": output, "meta": {},
            "detail": null, "logs": [], "error": {"code": 0, "message": ""}
        }))
        .unwrap()
    }

    #[test]
    fn video_works_become_videos() {
        let result = TaskResult::from(task(serde_json::json!({
            "video_url": "https://s/clean.mp4",
            "works": [{
                "cover": {"resource": "https://s/cover.png", "resource_without_watermark": ""},
                "video": {"resource": "https://k/wm.mp4", "resource_without_watermark": "https://s/clean.mp4",
                          "width": 1280, "height": 720, "duration": 5100}
            }]
        })));
        assert_eq!(result.videos.len(), 1);
        let video = &result.videos[0];
        assert_eq!(video.url, "https://s/clean.mp4");
        assert_eq!(video.watermarked_url.as_deref(), Some("https://k/wm.mp4"));
        assert_eq!(video.cover_url.as_deref(), Some("https://s/cover.png"));
        assert_eq!(video.duration, Duration::from_millis(5100));
        assert_eq!((video.width, video.height), (1280, 720));
        assert_eq!(result.video_url(), Some("https://s/clean.mp4"));
        assert!(result.images.is_empty() && result.audio.is_empty());
    }

    #[test]
    fn images_and_audio_are_typed() {
        let result = TaskResult::from(task(serde_json::json!({
            "works": [
                {"image": {"resource": "https://s/a.png", "width": 768, "height": 1024}},
                {"audio": {"resource": "https://s/a.wav", "duration": 3000}}
            ]
        })));
        assert_eq!(result.image_url(), Some("https://s/a.png"));
        assert_eq!(result.images[0].watermarked_url, None);
        assert_eq!(result.audio[0].duration, Duration::from_secs(3));
        assert_eq!(result.video_url(), None);
    }

    #[test]
    fn output_video_of_kling_3_and_omni_is_a_video() {
        let result = TaskResult::from(task(serde_json::json!({"video": "https://s/omni.mp4"})));
        assert_eq!(result.video_url(), Some("https://s/omni.mp4"));
        assert_eq!(result.videos.len(), 1);
        assert!(result.guessed_urls.is_empty());
    }

    #[test]
    fn a_url_in_an_unknown_place_is_a_flagged_guess() {
        let result = TaskResult::from(task(serde_json::json!({
            "video_url": "", "clips": [{"file": {"href": "https://s/new-shape.mp4"}}], "note": "no url"
        })));
        assert!(result.videos.is_empty());
        assert_eq!(result.guessed_urls, ["https://s/new-shape.mp4"]);
        assert!(!result.is_empty());
        let empty = TaskResult::from(task(serde_json::json!({"video_url": ""})));
        assert!(empty.is_empty());
    }

    #[test]
    fn documented_shapes_are_read_in_order_without_duplicates() {
        let result = TaskResult::from(task(serde_json::json!({
            "video_url": "https://s/a.mp4",
            "works": [
                {"video": {"resource": "https://k/a-wm.mp4", "resource_without_watermark": "https://s/a.mp4", "width": 640}},
                {"video": {"resource": "https://k/b.mp4", "resource_without_watermark": ""}}
            ],
            "video": "https://s/c.mp4"
        })));
        let urls: Vec<&str> = result.videos.iter().map(|v| v.url.as_str()).collect();
        assert_eq!(
            urls,
            ["https://s/a.mp4", "https://k/b.mp4", "https://s/c.mp4"]
        );
        assert_eq!(result.videos[0].width, 640);
    }

    #[test]
    fn a_bare_video_url_is_a_video() {
        let result = TaskResult::from(task(
            serde_json::json!({"video_url": "https://s/v.mp4", "works": null}),
        ));
        assert_eq!(result.video_url(), Some("https://s/v.mp4"));
        assert_eq!(result.videos.len(), 1);
    }
}
