//! `POST /api/ephemeral_resource`: validation, decoding, the returned URL and
//! downloading the stored file from it.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::Api;
use piapi_kling_models::{ErrorResponse, UploadResponse};
use piapi_kling_sim::Simulator;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn upload(api: &Api, body: Value) -> reqwest::Response {
    api.http
        .post(api.url("/api/ephemeral_resource"))
        .header("x-api-key", &api.key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn refused(api: &Api, body: Value) -> String {
    let response = upload(api, body).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let err: ErrorResponse = response.json().await.unwrap();
    assert_eq!(err.code, 400);
    err.message
}

#[tokio::test]
async fn an_uploaded_file_downloads_byte_for_byte() {
    let api = Api::start(Simulator::builder()).await;
    let bytes: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let cases = [
        ("frame 1.png", STANDARD.encode(&bytes), "image/png"),
        (
            "voice.WAV",
            format!("data:audio/wav;base64,{}", STANDARD.encode(&bytes)),
            "audio/wav",
        ),
        ("clip.mp4", STANDARD.encode(&bytes), "video/mp4"),
    ];
    for (name, data, content_type) in cases {
        let response = upload(&api, json!({"file_name": name, "file_data": data})).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: UploadResponse = response.json().await.unwrap();
        assert_eq!((body.code, body.message.as_str()), (200, "success"));
        let url = body.data.url;
        assert!(url.starts_with(&format!("{}/files/", api.base)), "{url}");
        assert!(!url.contains(' '), "the name is percent-encoded: {url}");
        // Like PiAPI's storage, the URL needs no key.
        let download = api.http.get(&url).send().await.unwrap();
        assert_eq!(download.status(), StatusCode::OK);
        assert_eq!(download.headers()["content-type"], content_type);
        assert_eq!(download.bytes().await.unwrap().to_vec(), bytes);
    }
    let response = api
        .http
        .get(api.url("/files/6e269e8c-2091-46c4-b4a5-40a4704a766a/x.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invalid_uploads_are_400_naming_the_field() {
    let api = Api::start(Simulator::builder()).await;
    let data = STANDARD.encode(b"hello");
    let message = refused(&api, json!({"file_name": "notes.txt", "file_data": data})).await;
    assert!(
        message.starts_with("file_name: must end with .jpg, .jpeg, .png"),
        "{message}"
    );
    assert!(message.ends_with("(x-allowed-extensions)"), "{message}");

    let long = format!("{}.png", "a".repeat(130));
    let message = refused(&api, json!({"file_name": long, "file_data": data})).await;
    assert!(
        message.contains("file_name: must be at most 128 characters"),
        "{message}"
    );

    let message = refused(&api, json!({"file_name": "a.png", "file_data": ""})).await;
    assert!(
        message.contains("file_data: must not be empty (minLength)"),
        "{message}"
    );

    let message = refused(
        &api,
        json!({"file_name": "a.jpg", "file_data": format!("data:image/png;base64,{data}")}),
    )
    .await;
    assert!(
        message.starts_with("file_data: the data URI type `image/png` does not match"),
        "{message}"
    );

    let message = refused(
        &api,
        json!({"file_name": "a.jpg", "file_data": "%%%not base64"}),
    )
    .await;
    assert!(
        message.starts_with("file_data: not valid base64"),
        "{message}"
    );

    let message = refused(&api, json!({"file_name": "a.jpg"})).await;
    assert!(message.contains("missing field `file_data`"), "{message}");

    // Just over 10 MB once decoded.
    let big = STANDARD.encode(vec![0u8; 10 * 1024 * 1024 + 1]);
    let message = refused(&api, json!({"file_name": "big.mp4", "file_data": big})).await;
    assert!(
        message.starts_with("file_data: the decoded file is 10485761 bytes"),
        "{message}"
    );
}
