//! Uploaded files: decoding `file_data` (base64, optionally as a `data:` URI
//! whose type must match the extension) and keeping the files, bounded in
//! total size, for 24 hours of simulated time.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT;
use bytes::Bytes;
use parking_lot::Mutex;
use uuid::Uuid;

/// The largest decoded file PiAPI accepts: 10 MB (as 10 MiB).
pub(crate) const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

/// How long PiAPI keeps an upload, before the speed factor.
const RETENTION: Duration = Duration::from_secs(24 * 3600);

/// The MIME types a `data:` URI may declare for each extension; the first is
/// the one the file is served with.
fn mime_types(extension: &str) -> &'static [&'static str] {
    match extension {
        "jpg" | "jpeg" => &["image/jpeg", "image/jpg"],
        "png" => &["image/png"],
        "webp" => &["image/webp"],
        "mp4" => &["video/mp4"],
        "wav" => &["audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"],
        "mp3" => &["audio/mpeg", "audio/mp3"],
        _ => &["application/octet-stream"],
    }
}

fn extension(file_name: &str) -> String {
    file_name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default()
}

/// The bytes of `file_data`, or a 400 message naming `file_data`.
pub(crate) fn decode_file_data(file_name: &str, file_data: &str) -> Result<Vec<u8>, String> {
    let ext = extension(file_name);
    let payload = match file_data.strip_prefix("data:") {
        Some(uri) => {
            let (head, payload) = uri
                .split_once(',')
                .ok_or("file_data: a data URI needs a `,` before the data (format)")?;
            let mime = head.strip_suffix(";base64").ok_or(
                "file_data: a data URI must be base64: `data:<mime>;base64,<data>` (format)",
            )?;
            let allowed = mime_types(&ext);
            if !allowed.iter().any(|m| m.eq_ignore_ascii_case(mime)) {
                return Err(format!(
                    "file_data: the data URI type `{mime}` does not match the extension .{ext} \
                     (expected {}) (mime-type)",
                    allowed[0]
                ));
            }
            payload
        }
        None => file_data,
    };
    // Reject before decoding what cannot fit: 4 base64 characters make 3 bytes.
    if payload.len() / 4 * 3 > MAX_FILE_BYTES + 3 {
        return Err(too_large(payload.len() / 4 * 3));
    }
    let compact: String;
    let payload = if payload.bytes().any(|b| b.is_ascii_whitespace()) {
        compact = payload
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        compact.as_str()
    } else {
        payload
    };
    let bytes = STANDARD_PAD_INDIFFERENT
        .decode(payload)
        .map_err(|e| format!("file_data: not valid base64: {e} (format)"))?;
    if bytes.is_empty() {
        return Err("file_data: the decoded file is empty (minLength)".to_owned());
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(too_large(bytes.len()));
    }
    Ok(bytes)
}

fn too_large(bytes: usize) -> String {
    format!(
        "file_data: the decoded file is {bytes} bytes, at most {MAX_FILE_BYTES} (10 MB) allowed (maxSize)"
    )
}

/// One stored upload.
#[derive(Clone, Debug)]
pub(crate) struct StoredFile {
    pub name: String,
    pub content_type: &'static str,
    pub data: Bytes,
    stored: Instant,
}

/// Uploads by id, oldest dropped first when `capacity_bytes` is exceeded.
pub(crate) struct FileStore {
    inner: Mutex<Inner>,
    capacity_bytes: usize,
    retention: Duration,
}

struct Inner {
    files: HashMap<Uuid, StoredFile>,
    order: VecDeque<Uuid>,
    total: usize,
}

impl FileStore {
    pub(crate) fn new(capacity_bytes: usize, speed: f64) -> Self {
        FileStore {
            inner: Mutex::new(Inner {
                files: HashMap::new(),
                order: VecDeque::new(),
                total: 0,
            }),
            capacity_bytes,
            retention: RETENTION.div_f64(speed),
        }
    }

    pub(crate) fn store(&self, name: &str, data: Vec<u8>) -> Uuid {
        let id = Uuid::new_v4();
        let file = StoredFile {
            name: name.to_owned(),
            content_type: mime_types(&extension(name))[0],
            data: Bytes::from(data),
            stored: Instant::now(),
        };
        let mut inner = self.inner.lock();
        inner.total += file.data.len();
        inner.files.insert(id, file);
        inner.order.push_back(id);
        while inner.total > self.capacity_bytes && inner.order.len() > 1 {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            if let Some(old) = inner.files.remove(&oldest) {
                inner.total -= old.data.len();
            }
        }
        id
    }

    /// The file, unless it expired or was dropped for space.
    pub(crate) fn get(&self, id: &Uuid) -> Option<StoredFile> {
        let inner = self.inner.lock();
        inner
            .files
            .get(id)
            .filter(|f| f.stored.elapsed() < self.retention)
            .cloned()
    }
}

/// Percent-encodes one URL path segment (everything but RFC 3986 unreserved).
pub(crate) fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plain_and_data_uri_base64() {
        assert_eq!(decode_file_data("a.png", "aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_file_data("a.png", "aGVsbG8").unwrap(), b"hello");
        assert_eq!(
            decode_file_data("a.PNG", "data:image/png;base64,aGVs\nbG8=").unwrap(),
            b"hello"
        );
        assert_eq!(
            decode_file_data("a.mp3", "data:audio/mpeg;base64,aGVsbG8=").unwrap(),
            b"hello"
        );
    }

    #[test]
    fn rejects_mismatched_types_bad_base64_and_big_files() {
        let err = decode_file_data("a.jpg", "data:image/png;base64,aGVsbG8=").unwrap_err();
        assert!(
            err.starts_with("file_data:") && err.contains("image/jpeg"),
            "{err}"
        );
        assert!(
            decode_file_data("a.jpg", "data:image/jpeg,aGVsbG8=")
                .unwrap_err()
                .contains("base64")
        );
        assert!(
            decode_file_data("a.jpg", "!!!")
                .unwrap_err()
                .contains("not valid base64")
        );
        let big = "A".repeat((MAX_FILE_BYTES / 3 + 2) * 4);
        assert!(
            decode_file_data("a.jpg", &big)
                .unwrap_err()
                .contains("at most")
        );
    }

    #[test]
    fn store_drops_oldest_beyond_capacity_and_expires() {
        let store = FileStore::new(10, 1.0);
        let a = store.store("a.png", vec![0; 6]);
        let b = store.store("b.png", vec![0; 6]);
        assert!(store.get(&a).is_none());
        let file = store.get(&b).unwrap();
        assert_eq!(
            (file.name.as_str(), file.content_type),
            ("b.png", "image/png")
        );
        let fast = FileStore::new(100, 1e12);
        let c = fast.store("c.wav", vec![1]);
        std::thread::sleep(Duration::from_millis(2));
        assert!(fast.get(&c).is_none());
    }

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(encode_segment("my cat#1.png"), "my%20cat%231.png");
        assert_eq!(encode_segment("é.png"), "%C3%A9.png");
    }
}
