//! Saving a task's results: videos (and optionally their covers), images and
//! audio, streamed to `<task_id>-<n>.<ext>` with a byte progress bar.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;
use piapi_kling::TaskResult;
use piapi_kling::models::{TaskData, TaskStatus};
use tokio::io::AsyncWriteExt;

use crate::exit::CliError;
use crate::progress;

/// What a result file is; decides the extension when neither the URL nor
/// the response says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A produced video.
    Video,
    /// The cover image of a video.
    Cover,
    /// A produced image.
    Image,
    /// A produced audio clip.
    Audio,
}

impl Kind {
    fn default_extension(self) -> &'static str {
        match self {
            Kind::Video => "mp4",
            Kind::Cover | Kind::Image => "png",
            Kind::Audio => "mp3",
        }
    }
}

/// One file to fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    /// Where it is.
    pub url: String,
    /// What it is.
    pub kind: Kind,
}

/// The files of a task's results, in the order they are numbered: videos
/// (each followed by its cover when `covers`), images, audio.
pub fn wanted(task: &TaskData, covers: bool) -> Vec<Wanted> {
    let result = TaskResult::from(task.clone());
    let mut files = Vec::new();
    for video in &result.videos {
        files.push(Wanted {
            url: video.url.clone(),
            kind: Kind::Video,
        });
        if covers && let Some(cover) = &video.cover_url {
            files.push(Wanted {
                url: cover.clone(),
                kind: Kind::Cover,
            });
        }
    }
    files.extend(result.images.iter().map(|i| Wanted {
        url: i.url.clone(),
        kind: Kind::Image,
    }));
    files.extend(result.audio.iter().map(|a| Wanted {
        url: a.url.clone(),
        kind: Kind::Audio,
    }));
    // A URL in a shape newer than this release: saved (its extension comes
    // from the URL or the content type), and said to be a guess.
    for url in &result.guessed_urls {
        tracing::warn!(task_id = %task.task_id, %url, "media found outside every documented output shape; saving it as a guess");
        files.push(Wanted {
            url: url.clone(),
            kind: Kind::Video,
        });
    }
    files
}

/// Fetches result files over plain HTTP.
#[derive(Clone, Debug)]
pub struct Downloader {
    // Its own client, not the SDK's: result URLs are public CDN links and
    // must never receive the API key.
    http: reqwest::Client,
    visible: bool,
}

impl Downloader {
    /// A downloader drawing progress bars when `visible`.
    pub fn new(visible: bool) -> Result<Self, CliError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| CliError::Local(format!("cannot build the HTTP client: {e}")))?;
        Ok(Downloader { http, visible })
    }

    /// Saves the results of `task` into `dir` (created if needed); returns
    /// the files written.
    pub async fn save_task(
        &self,
        dir: &Path,
        task: &TaskData,
        covers: bool,
    ) -> Result<Vec<PathBuf>, CliError> {
        tokio::fs::create_dir_all(dir).await.map_err(|e| {
            CliError::Local(format!("cannot create directory {}: {e}", dir.display()))
        })?;
        let files = wanted(task, covers);
        if files.is_empty() && task.status == TaskStatus::Completed {
            // Exiting 0 with nothing saved would look like success.
            let output = serde_json::to_string(&task.output).unwrap_or_default();
            return Err(CliError::NoMedia(format!(
                "task {} completed, but its output holds no media to download; output as PiAPI sent it: {output}",
                task.task_id
            )));
        }
        let mut written = Vec::new();
        for (n, file) in files.iter().enumerate() {
            let stem = format!("{}-{}", task.task_id, n + 1);
            written.push(self.save(dir, &stem, file).await?);
        }
        Ok(written)
    }

    /// Streams one file to `dir/<stem>.<ext>`.
    async fn save(&self, dir: &Path, stem: &str, file: &Wanted) -> Result<PathBuf, CliError> {
        let response = self
            .http
            .get(&file.url)
            .send()
            .await
            .map_err(|e| CliError::Network(format!("downloading {}: {e}", file.url)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(CliError::Network(format!(
                "downloading {}: HTTP {status}",
                file.url
            )));
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let ext = extension(&file.url, content_type.as_deref(), file.kind);
        let path = dir.join(format!("{stem}.{ext}"));
        // Written under a temporary name and renamed at the end, so a file
        // with the final name is always complete.
        let partial = dir.join(format!("{stem}.{ext}.part"));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bar = progress::download_bar(self.visible, response.content_length(), &name);
        let local =
            |e: std::io::Error| CliError::Local(format!("writing {}: {e}", partial.display()));
        let mut out = tokio::fs::File::create(&partial).await.map_err(local)?;
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk =
                chunk.map_err(|e| CliError::Network(format!("downloading {}: {e}", file.url)))?;
            out.write_all(&chunk).await.map_err(local)?;
            bar.inc(chunk.len() as u64);
        }
        out.flush().await.map_err(local)?;
        drop(out);
        tokio::fs::rename(&partial, &path).await.map_err(local)?;
        bar.finish_and_clear();
        tracing::debug!(url = %file.url, path = %path.display(), bytes = bar.position(), "result saved");
        Ok(path)
    }
}

/// The extension of a result: the URL's, else the content type's, else the
/// kind's usual one.
fn extension(url: &str, content_type: Option<&str>, kind: Kind) -> String {
    let from_url = reqwest::Url::parse(url).ok().and_then(|u| {
        let last = u.path_segments()?.next_back()?.to_owned();
        let (_, ext) = last.rsplit_once('.')?;
        let ok = (1..=5).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_alphanumeric());
        ok.then(|| ext.to_ascii_lowercase())
    });
    if let Some(ext) = from_url {
        return ext;
    }
    let mime = content_type
        .and_then(|t| t.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase());
    let from_type = match mime.as_deref() {
        Some("video/mp4") => Some("mp4"),
        Some("image/png") => Some("png"),
        Some("image/jpeg") => Some("jpg"),
        Some("image/webp") => Some("webp"),
        Some("audio/wav" | "audio/x-wav" | "audio/wave") => Some("wav"),
        Some("audio/mpeg") => Some("mp3"),
        _ => None,
    };
    from_type.unwrap_or(kind.default_extension()).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_come_from_the_url_then_the_type_then_the_kind() {
        assert_eq!(
            extension("http://h/media/t/video.mp4", None, Kind::Video),
            "mp4"
        );
        assert_eq!(
            extension("http://h/x/cover.PNG?sig=1", None, Kind::Cover),
            "png"
        );
        assert_eq!(
            extension("http://h/x/blob", Some("audio/wav"), Kind::Audio),
            "wav"
        );
        assert_eq!(
            extension("http://h/x/blob", Some("image/jpeg; q=1"), Kind::Image),
            "jpg"
        );
        assert_eq!(extension("http://h/x/blob", None, Kind::Video), "mp4");
        assert_eq!(extension("not a url", None, Kind::Audio), "mp3");
    }

    #[test]
    fn results_are_numbered_videos_then_covers_then_images_then_audio() {
        let task: TaskData = serde_json::from_value(serde_json::json!({
            "task_id": "t", "model": "kling", "task_type": "video_generation",
            "status": "completed", "input": {}, "meta": {}, "detail": null, "logs": [],
            "error": {"code": 0, "message": ""},
            "output": {"works": [
                {"video": {"resource": "http://h/v.mp4"}, "cover": {"resource": "http://h/c.png"}},
                {"audio": {"resource": "http://h/a.wav"}}
            ]}
        }))
        .unwrap();
        let kinds: Vec<Kind> = wanted(&task, true).iter().map(|w| w.kind).collect();
        assert_eq!(kinds, [Kind::Video, Kind::Cover, Kind::Audio]);
        assert_eq!(wanted(&task, false).len(), 2);
    }
}
