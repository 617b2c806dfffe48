//! Saving a task's results: videos (and optionally their covers), images and
//! audio, streamed to `<task_id>-<n>.<ext>` with a byte progress bar.
//!
//! Everything here comes from the server and is not trusted (SECURITY.md):
//! a file is named only after a task id made of `[A-Za-z0-9_-]` and an
//! alphanumeric extension, and the final path is checked to be a plain file
//! name inside the directory; each file is capped in size
//! (`--max-download-bytes`); a partial file is removed on any failure; a
//! redirect to another scheme or from https to http is not followed.

use std::path::{Component, Path, PathBuf};
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

/// The longest task id used in a file name (PiAPI's are 36-character UUIDs).
const MAX_ID_LEN: usize = 128;

/// At most this many redirects are followed for one file.
const MAX_REDIRECTS: usize = 10;

/// Fetches result files over HTTP(S).
#[derive(Clone, Debug)]
pub struct Downloader {
    // Its own client, not the SDK's: result URLs are public CDN links and
    // must never receive the API key.
    http: reqwest::Client,
    visible: bool,
    max_bytes: u64,
}

impl Downloader {
    /// A downloader drawing progress bars when `visible`, refusing files
    /// larger than `max_bytes`.
    pub fn new(visible: bool, max_bytes: u64) -> Result<Self, CliError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::custom(
                |attempt| match redirect_refusal(attempt.previous(), attempt.url()) {
                    Some(reason) => attempt.error(reason),
                    None => attempt.follow(),
                },
            ))
            .build()
            .map_err(|e| CliError::Local(format!("cannot build the HTTP client: {e}")))?;
        Ok(Downloader {
            http,
            visible,
            max_bytes,
        })
    }

    /// Saves the results of `task` into `dir` (created if needed); returns
    /// the files written. Every error names the task.
    pub async fn save_task(
        &self,
        dir: &Path,
        task: &TaskData,
        covers: bool,
    ) -> Result<Vec<PathBuf>, CliError> {
        let id = file_safe_id(&task.task_id)?;
        let about_task = |error: CliError| match error {
            CliError::Network(m) => CliError::Network(format!("task {id}: {m}")),
            CliError::Local(m) => CliError::Local(format!("task {id}: {m}")),
            other => other,
        };
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| CliError::Local(format!("cannot create directory {}: {e}", dir.display())))
            .map_err(about_task)?;
        let files = wanted(task, covers);
        if files.is_empty() && task.status == TaskStatus::Completed {
            // Exiting 0 with nothing saved would look like success.
            let output = serde_json::to_string(&task.output).unwrap_or_default();
            return Err(CliError::NoMedia(format!(
                "task {id} completed, but its output holds no media to download; output as PiAPI sent it: {output}"
            )));
        }
        let mut written = Vec::new();
        for (n, file) in files.iter().enumerate() {
            let stem = format!("{id}-{}", n + 1);
            written.push(self.save(dir, &stem, file).await.map_err(about_task)?);
        }
        Ok(written)
    }

    /// Streams one file to `dir/<stem>.<ext>`; on any failure nothing is
    /// left behind.
    async fn save(&self, dir: &Path, stem: &str, file: &Wanted) -> Result<PathBuf, CliError> {
        let network = |e: reqwest::Error| {
            CliError::Network(format!("downloading {}: {}", file.url, error_chain(&e)))
        };
        let response = self.http.get(&file.url).send().await.map_err(network)?;
        let status = response.status();
        if status.is_redirection() {
            // reqwest stops without asking the policy at a location that
            // is no http URI at all (`file:`, `data:`).
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|v| {
                    String::from_utf8_lossy(v.as_bytes())
                        .escape_debug()
                        .to_string()
                })
                .unwrap_or_default();
            return Err(CliError::Network(format!(
                "downloading {}: HTTP {status}: a redirect to `{location}` was not followed (only http and https redirects are)",
                file.url
            )));
        }
        if !status.is_success() {
            return Err(CliError::Network(format!(
                "downloading {}: HTTP {status}",
                file.url
            )));
        }
        if let Some(length) = response.content_length().filter(|&n| n > self.max_bytes) {
            return Err(self.too_large(&file.url, Some(length)));
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let ext = extension(&file.url, content_type.as_deref(), file.kind);
        let path = inside(dir, &format!("{stem}.{ext}"))?;
        // Written under a temporary name and renamed at the end, so a file
        // with the final name is always complete.
        let partial = inside(dir, &format!("{stem}.{ext}.part"))?;
        let name = format!("{stem}.{ext}");
        let bar = progress::download_bar(self.visible, response.content_length(), &name);
        let written = self.write_part(response, &partial, &file.url, &bar).await;
        let renamed = match written {
            Ok(()) => tokio::fs::rename(&partial, &path)
                .await
                .map_err(|e| CliError::Local(format!("writing {}: {e}", path.display()))),
            Err(e) => Err(e),
        };
        bar.finish_and_clear();
        if let Err(error) = renamed {
            // Best effort: the error says what went wrong either way.
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(error);
        }
        tracing::debug!(url = %file.url, path = %path.display(), bytes = bar.position(), "result saved");
        Ok(path)
    }

    /// Streams `response` into `partial`, stopping past the size limit.
    async fn write_part(
        &self,
        response: reqwest::Response,
        partial: &Path,
        url: &str,
        bar: &indicatif::ProgressBar,
    ) -> Result<(), CliError> {
        let local =
            |e: std::io::Error| CliError::Local(format!("writing {}: {e}", partial.display()));
        // A leftover (or planted) `.part` is removed, not followed: the new
        // one is created fresh, so a symlink in its place is never written
        // through.
        match tokio::fs::remove_file(partial).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(local(e)),
            _ => {}
        }
        let mut out = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(partial)
            .await
            .map_err(local)?;
        let mut received: u64 = 0;
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                CliError::Network(format!("downloading {url}: {}", error_chain(&e)))
            })?;
            received = received.saturating_add(chunk.len() as u64);
            if received > self.max_bytes {
                return Err(self.too_large(url, None));
            }
            out.write_all(&chunk).await.map_err(local)?;
            bar.inc(chunk.len() as u64);
        }
        out.flush().await.map_err(local)?;
        Ok(())
    }

    fn too_large(&self, url: &str, announced: Option<u64>) -> CliError {
        let size = match announced {
            Some(length) => format!("the file is {length} bytes"),
            None => "the file is larger than that".to_owned(),
        };
        CliError::Network(format!(
            "downloading {url}: refused past the limit of {} bytes (--max-download-bytes); {size}",
            self.max_bytes
        ))
    }
}

/// The task id for a file name: only ASCII letters, digits, `-` and `_`, at
/// most 128 of them. Anything else (`../x`, `/etc/x`, `a\b`, control
/// characters, an empty id) is refused, not rewritten: an id that needs
/// rewriting did not come from PiAPI.
fn file_safe_id(id: &str) -> Result<&str, CliError> {
    let plain = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if plain {
        Ok(id)
    } else {
        Err(CliError::Network(format!(
            "task {}: refusing to name files after this task id from the server: only letters, digits, '-' and '_' (at most {MAX_ID_LEN}) are allowed",
            id.escape_debug()
        )))
    }
}

/// `dir/name`, checked to be a plain file name directly inside `dir`.
fn inside(dir: &Path, name: &str) -> Result<PathBuf, CliError> {
    let mut components = Path::new(name).components();
    match (components.next(), components.next()) {
        (Some(Component::Normal(single)), None) if single == name => Ok(dir.join(name)),
        _ => Err(CliError::Network(format!(
            "refusing to write {} outside {}",
            name.escape_debug(),
            dir.display()
        ))),
    }
}

/// Why a redirect of a download is not followed, if it is not: a scheme
/// other than http(s), a step down from https to http anywhere in the
/// chain, or too many hops. Other hosts are fine: results live on CDNs, and
/// this client sends no key.
fn redirect_refusal(previous: &[reqwest::Url], next: &reqwest::Url) -> Option<String> {
    if !matches!(next.scheme(), "http" | "https") {
        return Some(format!(
            "refused a redirect to a {}: URL (only http and https are followed)",
            next.scheme()
        ));
    }
    if next.scheme() == "http" && previous.iter().any(|u| u.scheme() == "https") {
        return Some(format!(
            "refused a redirect from https to plain http ({})",
            next.origin().ascii_serialization()
        ));
    }
    if previous.len() > MAX_REDIRECTS {
        return Some(format!("more than {MAX_REDIRECTS} redirects"));
    }
    None
}

/// An error and its causes on one line: reqwest's own message omits why a
/// redirect or a body failed.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
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
    fn only_plain_ids_name_files() {
        assert_eq!(
            file_safe_id("6e269e8c-2091-46c4-b4a5-40a4704a766a").unwrap(),
            "6e269e8c-2091-46c4-b4a5-40a4704a766a"
        );
        assert_eq!(file_safe_id("task_1").unwrap(), "task_1");
        for hostile in [
            "",
            "..",
            "../../escaped",
            "/etc/passwd",
            "a/b",
            "a\\b",
            "C:evil",
            "x\u{0}y",
            "tab\there",
            "\u{1b}[31mred",
            "é",
            &"a".repeat(MAX_ID_LEN + 1),
        ] {
            let error = file_safe_id(hostile).unwrap_err();
            let CliError::Network(message) = &error else {
                panic!("{error:?}")
            };
            assert!(message.contains("refusing to name files"), "{message}");
            assert!(
                !message.contains('\u{1b}'),
                "control characters are escaped"
            );
        }
    }

    #[test]
    fn final_paths_stay_inside_the_directory() {
        let dir = Path::new("dl/a/b");
        assert_eq!(
            inside(dir, "id-1.mp4").unwrap(),
            Path::new("dl/a/b/id-1.mp4")
        );
        for name in ["../x.mp4", "a/b.mp4", "/abs.mp4", "..", ".", ""] {
            assert!(inside(dir, name).is_err(), "{name}");
        }
    }

    #[test]
    fn redirects_keep_to_http_and_never_step_down_from_https() {
        let url = |s: &str| reqwest::Url::parse(s).unwrap();
        let from_https = [url("https://cdn.example.com/v.mp4")];
        let from_http = [url("http://127.0.0.1:1/v.mp4")];
        assert_eq!(
            redirect_refusal(&from_https, &url("https://other-cdn.example.net/v.mp4")),
            None
        );
        assert_eq!(
            redirect_refusal(&from_http, &url("https://cdn.example.com/v.mp4")),
            None
        );
        assert_eq!(
            redirect_refusal(&from_http, &url("http://localhost:1/v.mp4")),
            None
        );
        let refused = redirect_refusal(&from_https, &url("http://cdn.example.com/v.mp4")).unwrap();
        assert!(refused.contains("https to plain http"), "{refused}");
        let chain = [
            url("https://a.example.com/1"),
            url("https://b.example.com/2"),
        ];
        assert!(redirect_refusal(&chain, &url("http://c.example.com/3")).is_some());
        for scheme in ["file:///etc/passwd", "ftp://h/x.mp4", "data:text/plain,x"] {
            let refused = redirect_refusal(&from_http, &url(scheme)).unwrap();
            assert!(refused.contains("only http and https"), "{refused}");
        }
        let many: Vec<reqwest::Url> = (0..=MAX_REDIRECTS)
            .map(|i| url(&format!("https://h/{i}")))
            .collect();
        assert!(redirect_refusal(&many, &url("https://h/next")).is_some());
    }

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
