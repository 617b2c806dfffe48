//! `GET /media/{task_id}/{file}`: the result files of completed tasks, valid
//! MP4, PNG and WAV with exact Content-Type and Content-Length.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use uuid::Uuid;

use crate::error::ApiError;
use crate::lifecycle::{Media, Phase};
use crate::media;
use crate::state::AppState;

pub(super) async fn serve(
    State(state): State<Arc<AppState>>,
    Path((task_id, file)): Path<(String, String)>,
) -> Response {
    let now = Instant::now();
    let media = Uuid::parse_str(&task_id).ok().and_then(|id| {
        state
            .with_task(&id, |task| {
                matches!(task.phase(now), Phase::Completed { .. }).then_some(task.media)
            })
            .flatten()
    });
    match media.and_then(|m| file_of(m, &file)) {
        Some((bytes, content_type)) => file_response(bytes, content_type),
        None => ApiError::new(StatusCode::NOT_FOUND, "media not found").into_response(),
    }
}

/// The bytes and type of `file` if the task's results include it.
fn file_of(media: Media, file: &str) -> Option<(Bytes, &'static str)> {
    let index = |prefix: &str, suffix: &str| {
        file.strip_prefix(prefix)?
            .strip_suffix(suffix)?
            .parse::<usize>()
            .ok()
    };
    match media {
        Media::Video { .. } if file == "video.mp4" => Some((media::mp4(), "video/mp4")),
        Media::Video { .. } if file == "cover.png" => Some((media::png(), "image/png")),
        Media::Images { count, .. } if index("image-", ".png").is_some_and(|i| i < count) => {
            Some((media::png(), "image/png"))
        }
        Media::Audio { count, .. } if index("audio-", ".wav").is_some_and(|i| i < count) => {
            Some((media::wav(), "audio/wav"))
        }
        _ => None,
    }
}

/// A download with its exact length and type.
pub(super) fn file_response(bytes: Bytes, content_type: &str) -> Response {
    let length = bytes.len();
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_files_of_the_results_exist() {
        let video = Media::Video {
            width: 1,
            height: 1,
            ms: 1,
        };
        assert_eq!(file_of(video, "video.mp4").unwrap().1, "video/mp4");
        assert_eq!(file_of(video, "cover.png").unwrap().1, "image/png");
        assert!(file_of(video, "image-0.png").is_none());
        let images = Media::Images {
            count: 2,
            width: 1,
            height: 1,
        };
        assert!(file_of(images, "image-1.png").is_some());
        assert!(file_of(images, "image-2.png").is_none());
        let audio = Media::Audio { count: 4, ms: 1 };
        assert_eq!(file_of(audio, "audio-3.wav").unwrap().1, "audio/wav");
        assert!(file_of(audio, "audio-x.wav").is_none());
    }
}
