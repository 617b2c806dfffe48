//! Media inputs given as a URL or as a local file, and the local checks a file
//! must pass before it is uploaded.
//!
//! PiAPI only takes URLs. A local file is checked here (exists, size, format by
//! extension *and* content), then sent base64-encoded to the upload API, and
//! the URL it returns goes into the request.

use std::path::{Path, PathBuf};

use piapi_kling_models::validation::Rule;

use crate::audio;

/// The most the upload API stores: 10 MB after decoding.
pub const MAX_UPLOAD_BYTES: u64 = 10 * 1024 * 1024;
/// Kling's limit for lip-sync audio: under 20 MB.
pub const MAX_LIP_SYNC_AUDIO_BYTES: u64 = 20 * 1024 * 1024;
/// Kling's limit for lip-sync audio: under 60 s.
pub const MAX_LIP_SYNC_AUDIO_SECS: f64 = 60.0;

/// A media input: a URL PiAPI can fetch, or a local file the SDK uploads.
///
/// From a string: one starting with `http://` or `https://` is a URL, anything
/// else names a file (which must exist when the request is sent; otherwise
/// `send()` returns a validation error naming the field).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaSource {
    /// A publicly fetchable http(s) URL, sent as is.
    Url(String),
    /// A local file, uploaded before the task is created.
    File(PathBuf),
}

impl MediaSource {
    /// Classifies `text`: http(s) URL or file path.
    pub fn parse(text: &str) -> MediaSource {
        let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            MediaSource::Url(text.to_owned())
        } else {
            MediaSource::File(PathBuf::from(text))
        }
    }
}

impl From<&str> for MediaSource {
    fn from(text: &str) -> Self {
        MediaSource::parse(text)
    }
}

impl From<String> for MediaSource {
    fn from(text: String) -> Self {
        MediaSource::parse(&text)
    }
}

impl From<&String> for MediaSource {
    fn from(text: &String) -> Self {
        MediaSource::parse(text)
    }
}

impl From<&Path> for MediaSource {
    fn from(path: &Path) -> Self {
        MediaSource::File(path.to_owned())
    }
}

impl From<PathBuf> for MediaSource {
    fn from(path: PathBuf) -> Self {
        MediaSource::File(path)
    }
}

impl From<&PathBuf> for MediaSource {
    fn from(path: &PathBuf) -> Self {
        MediaSource::File(path.clone())
    }
}

impl From<reqwest::Url> for MediaSource {
    fn from(url: reqwest::Url) -> Self {
        MediaSource::Url(url.into())
    }
}

impl From<&reqwest::Url> for MediaSource {
    fn from(url: &reqwest::Url) -> Self {
        MediaSource::Url(url.as_str().to_owned())
    }
}

/// What a field expects, which decides the formats and limits of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MediaKind {
    /// jpg, jpeg, png, webp.
    Image,
    /// mp3, wav, flac, ogg (Kling's lip-sync list); only mp3 and wav upload.
    LipSyncAudio,
    /// Anything the upload API takes (`Client::upload`).
    Uploadable,
}

/// A file format, told by extension and checked against the content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Jpeg,
    Png,
    Webp,
    Mp4,
    Wav,
    Mp3,
    Flac,
    Ogg,
}

impl Format {
    fn from_extension(ext: &str) -> Option<Format> {
        Some(match ext.to_ascii_lowercase().as_str() {
            "jpg" | "jpeg" => Format::Jpeg,
            "png" => Format::Png,
            "webp" => Format::Webp,
            "mp4" => Format::Mp4,
            "wav" => Format::Wav,
            "mp3" => Format::Mp3,
            "flac" => Format::Flac,
            "ogg" => Format::Ogg,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "JPEG",
            Format::Png => "PNG",
            Format::Webp => "WebP",
            Format::Mp4 => "MP4",
            Format::Wav => "WAV",
            Format::Mp3 => "MP3",
            Format::Flac => "FLAC",
            Format::Ogg => "Ogg",
        }
    }

    /// True when the first bytes are this format's signature.
    fn matches(self, b: &[u8]) -> bool {
        let riff = |kind: &[u8]| b.len() >= 12 && &b[0..4] == b"RIFF" && &b[8..12] == kind;
        match self {
            Format::Jpeg => b.starts_with(&[0xff, 0xd8, 0xff]),
            Format::Png => b.starts_with(b"\x89PNG\r\n\x1a\n"),
            Format::Webp => riff(b"WEBP"),
            Format::Mp4 => b.len() >= 8 && &b[4..8] == b"ftyp",
            Format::Wav => riff(b"WAVE"),
            Format::Mp3 => {
                b.starts_with(b"ID3") || (b.len() >= 2 && b[0] == 0xff && b[1] & 0xe0 == 0xe0)
            }
            Format::Flac => b.starts_with(b"fLaC"),
            Format::Ogg => b.starts_with(b"OggS"),
        }
    }

    /// The upload API takes jpg, jpeg, png, webp, mp4, wav and mp3 only.
    fn uploadable(self) -> bool {
        !matches!(self, Format::Flac | Format::Ogg)
    }
}

impl MediaKind {
    fn formats(self) -> &'static [&'static str] {
        match self {
            MediaKind::Image => &["jpg", "jpeg", "png", "webp"],
            MediaKind::LipSyncAudio => &["mp3", "wav", "flac", "ogg"],
            MediaKind::Uploadable => &["jpg", "jpeg", "png", "webp", "mp4", "wav", "mp3"],
        }
    }
}

/// A local file that passed every check, read into memory for the upload.
#[derive(Debug)]
pub(crate) struct LocalFile {
    pub(crate) path: PathBuf,
    /// The name sent to the upload API (which requires a known extension).
    pub(crate) upload_name: String,
    pub(crate) bytes: Vec<u8>,
}

/// A reason a file cannot be used, as a validation rule and a message.
pub(crate) type Problem = (Rule, String);

/// Checks the file at `path` for a field of `kind` and reads it. Returns every
/// problem found, so one `send()` reports them all.
pub(crate) async fn load(path: &Path, kind: MediaKind) -> Result<LocalFile, Vec<Problem>> {
    let shown = path.display();
    let meta = match tokio::fs::metadata(path).await {
        Ok(meta) if meta.is_file() => meta,
        Ok(_) => {
            return Err(vec![(
                Rule::Format("file"),
                format!("`{shown}` is not a regular file"),
            )]);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(vec![(
                Rule::Format("uri"),
                format!("`{shown}` is neither an http(s) URL nor an existing file"),
            )]);
        }
        Err(e) => {
            return Err(vec![(
                Rule::Format("file"),
                format!("cannot read `{shown}`: {e}"),
            )]);
        }
    };

    let mut problems = Vec::new();
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let allowed = kind.formats();
    let format =
        Format::from_extension(ext).filter(|_| allowed.iter().any(|a| a.eq_ignore_ascii_case(ext)));
    match format {
        None => problems.push((
            Rule::Extension,
            format!("`{shown}` must be a {} file", allowed.join(", ")),
        )),
        Some(f) if !f.uploadable() => problems.push((
            Rule::Extension,
            format!(
                "`{shown}`: {} files are accepted by Kling but not by PiAPI's upload API (jpg, jpeg, png, webp, mp4, wav, mp3); convert it, or host it and pass its URL",
                f.name()
            ),
        )),
        Some(_) => {}
    }

    let size = meta.len();
    if size == 0 {
        problems.push((Rule::MinLength(1), format!("`{shown}` is empty")));
    } else if size > MAX_UPLOAD_BYTES {
        let lip_sync = if kind == MediaKind::LipSyncAudio && size < MAX_LIP_SYNC_AUDIO_BYTES {
            " (Kling takes lip-sync audio up to 20 MB, but only from a URL: host it yourself)"
        } else {
            ""
        };
        problems.push((
            Rule::Maximum(MAX_UPLOAD_BYTES as f64),
            format!("`{shown}` is {size} bytes; PiAPI uploads at most {MAX_UPLOAD_BYTES} bytes (10 MB){lip_sync}"),
        ));
        // Too big to be read for the content checks.
        return Err(problems);
    }

    let bytes = match tokio::fs::read(path).await {
        Ok(bytes) => bytes,
        Err(e) => {
            problems.push((Rule::Format("file"), format!("cannot read `{shown}`: {e}")));
            return Err(problems);
        }
    };
    if let Some(format) = format
        && size > 0
    {
        if !format.matches(&bytes) {
            problems.push((
                Rule::Format("file"),
                format!(
                    "`{shown}` is not a {} file (its content does not match the extension)",
                    format.name()
                ),
            ));
        } else if kind == MediaKind::LipSyncAudio {
            let length = match format {
                Format::Wav => audio::wav_duration(&bytes),
                Format::Mp3 => audio::mp3_duration(&bytes),
                _ => None,
            };
            if let Some(length) = length.filter(|d| d.as_secs_f64() >= MAX_LIP_SYNC_AUDIO_SECS) {
                problems.push((
                    Rule::Maximum(MAX_LIP_SYNC_AUDIO_SECS),
                    format!(
                        "`{shown}` is {:.1} s long; lip-sync audio must be shorter than 60 s",
                        length.as_secs_f64()
                    ),
                ));
            }
        }
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(LocalFile {
        path: path.to_owned(),
        upload_name: upload_name(path, ext),
        bytes,
    })
}

/// A name the upload API accepts: the file's stem reduced to safe characters
/// and at most 100 of them, plus its (known) extension.
fn upload_name(path: &Path, ext: &str) -> String {
    let stem: String = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(100)
        .collect();
    let stem = if stem.is_empty() {
        "upload".to_owned()
    } else {
        stem
    };
    format!("{stem}.{}", ext.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_urls_or_paths() {
        assert_eq!(
            MediaSource::from("https://x/a.png"),
            MediaSource::Url("https://x/a.png".into())
        );
        assert_eq!(
            MediaSource::from("HTTP://x/a.png"),
            MediaSource::Url("HTTP://x/a.png".into())
        );
        assert_eq!(
            MediaSource::from("cat.png"),
            MediaSource::File(PathBuf::from("cat.png"))
        );
        assert_eq!(
            MediaSource::from("data:image/png;base64,AAAA"),
            MediaSource::File(PathBuf::from("data:image/png;base64,AAAA"))
        );
        assert_eq!(
            MediaSource::from("ht"),
            MediaSource::File(PathBuf::from("ht"))
        );
    }

    #[test]
    fn signatures() {
        assert!(Format::Png.matches(b"\x89PNG\r\n\x1a\nrest"));
        assert!(!Format::Png.matches(b"GIF89a"));
        assert!(Format::Jpeg.matches(&[0xff, 0xd8, 0xff, 0xe0]));
        assert!(Format::Webp.matches(b"RIFF\0\0\0\0WEBPVP8 "));
        assert!(!Format::Wav.matches(b"RIFF\0\0\0\0WEBPVP8 "));
        assert!(Format::Mp4.matches(b"\0\0\0\x18ftypmp42"));
        assert!(Format::Mp3.matches(b"ID3\x04"));
        assert!(Format::Flac.matches(b"fLaC"));
        assert!(Format::Ogg.matches(b"OggS"));
    }

    #[test]
    fn upload_names_are_safe() {
        assert_eq!(
            upload_name(Path::new("/tmp/my cat!.PNG"), "PNG"),
            "mycat.png"
        );
        assert_eq!(upload_name(Path::new("/tmp/!!!.jpg"), "jpg"), "upload.jpg");
        let long = format!("/tmp/{}.wav", "a".repeat(300));
        assert_eq!(upload_name(Path::new(&long), "wav").len(), 104);
    }
}
