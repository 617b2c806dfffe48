//! Media inputs given as a URL or as a local file, and the local checks a file
//! must pass before it is uploaded.
//!
//! PiAPI only takes URLs. A local file is checked here (exists, size, format by
//! extension *and* content), then sent base64-encoded to the upload API, and
//! the URL it returns goes into the request.

use std::path::{Path, PathBuf};

use piapi_kling_models::catalog::{MediaKind, MediaSpec};
use piapi_kling_models::validation::Rule;

use crate::audio;

/// The most the upload API stores: 10 MB after decoding.
pub const MAX_UPLOAD_BYTES: u64 = 10 * 1024 * 1024;

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
    /// The text a request field holds for this source: the URL, or the path
    /// (which `send()` recognises as a local file, checks and uploads).
    pub fn into_text(self) -> String {
        match self {
            MediaSource::Url(url) => url,
            MediaSource::File(path) => path.to_string_lossy().into_owned(),
        }
    }

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

/// What `Client::upload` takes: anything the upload API stores.
pub(crate) static UPLOADABLE: MediaSpec = MediaSpec {
    kind: MediaKind::Image,
    extensions: &["jpg", "jpeg", "png", "webp", "mp4", "wav", "mp3"],
    max_bytes: Some(MAX_UPLOAD_BYTES),
    min_side: None,
    max_seconds: None,
    min_seconds: None,
};

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
pub(crate) async fn load(path: &Path, spec: &MediaSpec) -> Result<LocalFile, Vec<Problem>> {
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
    let allowed = spec.extensions;
    let listed = allowed.iter().any(|a| a.eq_ignore_ascii_case(ext));
    let format = Format::from_extension(ext).filter(|_| listed);
    match format {
        None if !listed => problems.push((
            Rule::Extension,
            format!("`{shown}` must be a {} file", allowed.join(", ")),
        )),
        Some(f) if f.uploadable() => {}
        _ => problems.push((
            Rule::Extension,
            format!(
                "`{shown}`: .{ext} files are accepted by Kling but not by PiAPI's upload API (jpg, jpeg, png, webp, mp4, wav, mp3); convert it, or host it and pass its URL"
            ),
        )),
    }

    let size = meta.len();
    let limit = spec
        .max_bytes
        .unwrap_or(MAX_UPLOAD_BYTES)
        .min(MAX_UPLOAD_BYTES);
    if size == 0 {
        problems.push((Rule::MinLength(1), format!("`{shown}` is empty")));
    } else if size > limit {
        let hosted = if spec.max_bytes.is_some_and(|max| size <= max) {
            " (Kling takes larger files, but only from a URL: host it yourself)"
        } else {
            ""
        };
        problems.push((
            Rule::Maximum(limit as f64),
            format!("`{shown}` is {size} bytes; at most {limit} bytes can be uploaded for this field{hosted}"),
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
        } else {
            problems.extend(content_limits(&shown.to_string(), format, &bytes, spec));
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

/// The limits of `spec` that the content tells: an audio clip's length, an
/// image's shortest side. What cannot be read locally is left to PiAPI.
fn content_limits(shown: &str, format: Format, bytes: &[u8], spec: &MediaSpec) -> Vec<Problem> {
    let mut problems = Vec::new();
    if spec.kind == MediaKind::Audio {
        let length = match format {
            Format::Wav => audio::wav_duration(bytes),
            Format::Mp3 => audio::mp3_duration(bytes),
            _ => None,
        };
        if let Some(secs) = length.map(|d| d.as_secs_f64()) {
            if let Some(max) = spec.max_seconds.filter(|max| secs >= *max) {
                problems.push((
                    Rule::Maximum(max),
                    format!(
                        "`{shown}` is {secs:.1} s long; this field takes audio shorter than {max} s"
                    ),
                ));
            }
            if let Some(min) = spec.min_seconds.filter(|min| secs < *min) {
                problems.push((
                    Rule::Minimum(min),
                    format!(
                        "`{shown}` is {secs:.1} s long; this field takes audio of at least {min} s"
                    ),
                ));
            }
        }
    }
    if let (Some(min), Some((w, h))) = (spec.min_side, image_size(format, bytes))
        && w.min(h) < min
    {
        problems.push((
            Rule::Minimum(f64::from(min)),
            format!("`{shown}` is {w}×{h} px; each side must be at least {min} px"),
        ));
    }
    problems
}

/// Width and height of a PNG or JPEG, from its header.
fn image_size(format: Format, b: &[u8]) -> Option<(u32, u32)> {
    let be32 = |i: usize| Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?));
    let be16 = |i: usize| {
        Some(u32::from(u16::from_be_bytes(
            b.get(i..i + 2)?.try_into().ok()?,
        )))
    };
    match format {
        // IHDR is the first chunk: width and height at bytes 16 and 20.
        Format::Png => Some((be32(16)?, be32(20)?)),
        Format::Jpeg => {
            // Walk the markers to the first start-of-frame.
            let mut i = 2;
            while i + 9 < b.len() {
                if b[i] != 0xff {
                    return None;
                }
                let marker = b[i + 1];
                let length = be16(i + 2)? as usize;
                if matches!(marker, 0xc0..=0xcf) && !matches!(marker, 0xc4 | 0xc8 | 0xcc) {
                    return Some((be16(i + 7)?, be16(i + 5)?));
                }
                i += 2 + length;
            }
            None
        }
        _ => None,
    }
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
