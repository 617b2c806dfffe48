//! Local validation: every problem comes back at once, named by field, and
//! nothing reaches the simulator (not even an upload).

mod common;

use common::*;
use piapi_kling::models::validation::Rule;
use piapi_kling::{Effect, Error, VideoDuration, Violations};

fn violations(result: Result<piapi_kling::TaskHandle, Error>) -> Violations {
    match result {
        Err(Error::Validation(v)) => v,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn paths(v: &Violations) -> Vec<String> {
    v.iter()
        .map(|v| format!("{} {}", v.path, v.rule.name()))
        .collect()
}

#[tokio::test]
async fn every_violation_is_returned_before_any_request() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let dir = tempfile::tempdir().unwrap();
    let good = png(dir.path(), "good.png");
    let v = violations(
        client
            .image_to_video(&good)
            .prompt("x".repeat(2501))
            .cfg_scale(1.5)
            .duration(VideoDuration::Unknown(7))
            .tail_frame(dir.path().join("missing.png"))
            .element("not-a-file.png")
            .webhook("not a url", SECRET)
            .send()
            .await,
    );
    let found = paths(&v);
    for expected in [
        "input.prompt maxLength",
        "input.cfg_scale maximum",
        "input.elements requires-value",
        "config.webhook_config.endpoint format",
        "input.image_tail_url format",
        "input.elements[0].image_url format",
    ] {
        assert!(
            found.iter().any(|f| f == expected),
            "{expected} missing from {found:?}"
        );
    }
    // Nothing was sent: no upload of the good file, no create.
    assert!(sim.request_log().is_empty(), "{:?}", sim.request_log());
}

#[tokio::test]
async fn local_file_checks_name_the_field_and_the_problem() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let dir = tempfile::tempdir().unwrap();
    let gif = write_file(dir.path(), "anim.gif", b"GIF89a....");
    let fake_png = write_file(dir.path(), "fake.png", b"this is text");
    let empty = write_file(dir.path(), "empty.jpg", b"");
    let big = dir.path().join("big.png");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(11 * 1024 * 1024).unwrap();

    let v = violations(
        client
            .try_on(&gif)
            .upper(&fake_png)
            .lower(&empty)
            .dress(&big)
            .send()
            .await,
    );
    let found: Vec<(String, &'static str, String)> = v
        .iter()
        .map(|v| (v.path.clone(), v.rule.name(), v.message.clone()))
        .collect();
    let has = |path: &str, rule: &str, text: &str| {
        found
            .iter()
            .any(|(p, r, m)| p == path && *r == rule && m.contains(text))
    };
    assert!(
        has(
            "input.model_input",
            "x-allowed-extensions",
            "jpg, jpeg, png"
        ),
        "{found:?}"
    );
    assert!(
        has("input.upper_input", "format", "not a PNG file"),
        "{found:?}"
    );
    assert!(has("input.lower_input", "minLength", "empty"), "{found:?}");
    assert!(
        has("input.dress_input", "maximum", "at most 10485760 bytes"),
        "{found:?}"
    );
    // The spec's own rule is reported alongside the file problems.
    assert!(has("input.upper_input", "conflicts", ""), "{found:?}");
    assert!(sim.request_log().is_empty());
}

#[tokio::test]
async fn lip_sync_audio_files_are_checked_for_format_and_length() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let dir = tempfile::tempdir().unwrap();
    let long = write_file(dir.path(), "long.wav", &wav_bytes(61.0));
    let v = violations(client.lip_sync("task-1").audio(&long).send().await);
    assert_eq!(v.len(), 1, "{v}");
    let problem = v.iter().next().unwrap();
    assert_eq!(problem.path, "input.local_dubbing_url");
    assert_eq!(problem.rule, Rule::Maximum(60.0));
    assert!(problem.message.contains("61.0 s"), "{}", problem.message);

    let flac = write_file(dir.path(), "voice.flac", b"fLaC\0\0\0\x22");
    let v = violations(client.lip_sync("task-1").audio(&flac).send().await);
    assert!(
        v.iter().next().unwrap().message.contains("upload API"),
        "{v}"
    );

    let renamed = write_file(dir.path(), "voice.mp3", &wav_bytes(1.0));
    let v = violations(client.lip_sync("task-1").audio(&renamed).send().await);
    assert!(
        v.iter().next().unwrap().message.contains("not a MP3 file"),
        "{v}"
    );

    let v = violations(client.lip_sync("task-1").audio("voice.ogg").send().await);
    assert!(
        v.iter()
            .next()
            .unwrap()
            .message
            .contains("neither an http(s) URL nor an existing file")
    );
    assert!(sim.request_log().is_empty());
}

#[tokio::test]
async fn cross_field_rules_of_every_builder() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let cases: Vec<(Result<piapi_kling::TaskHandle, Error>, &str)> = vec![
        (client.lip_sync("t").send().await, "input at-least-one"),
        (
            client
                .lip_sync("t")
                .text("hi", "Rock")
                .audio("https://example.com/a.mp3")
                .send()
                .await,
            "input.tts_text conflicts",
        ),
        (
            client
                .lip_sync("t")
                .text("hi", "Rock")
                .speed(3.0)
                .send()
                .await,
            "input.tts_speed maximum",
        ),
        (
            client
                .lip_sync("t")
                .speed(1.0)
                .audio("https://e.com/a.mp3")
                .send()
                .await,
            "input.tts_speed requires",
        ),
        (
            client.lip_sync("").text("hi", "Rock").send().await,
            "input.origin_task_id required-unless",
        ),
        (
            client
                .effect("https://example.com/cat.png", Effect::Rocket)
                .send()
                .await,
            "input.prompt required-when",
        ),
        (
            client.try_on("https://example.com/p.png").send().await,
            "input at-least-one",
        ),
        (client.sound().send().await, "input at-least-one"),
        (
            client.extend("").send().await,
            "input.origin_task_id minLength",
        ),
        (
            client.text_to_video("x".repeat(2501)).send().await,
            "input.prompt maxLength",
        ),
        (
            client
                .try_on("https://example.com/p.png")
                .dress("https://example.com/d.png")
                .batch_size(5)
                .send()
                .await,
            "input.batch_size maximum",
        ),
    ];
    for (result, expected) in cases {
        let found = paths(&violations(result));
        assert!(
            found.iter().any(|f| f == expected),
            "{expected} missing from {found:?}"
        );
    }
    assert!(sim.request_log().is_empty());
}

#[tokio::test]
async fn raw_requests_and_ids_are_checked_too() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let request: piapi_kling::CreateTaskRequest = serde_json::from_value(serde_json::json!({
        "model": "kling", "task_type": "video_generation", "input": {"version": "4.0"}
    }))
    .unwrap();
    let found = match client.create(request).await {
        Err(Error::Validation(v)) => paths(&v),
        other => panic!("{other:?}"),
    };
    assert!(
        found.contains(&"input.prompt required-unless".to_owned()),
        "{found:?}"
    );
    // A version the spec does not list is only a warning (sent as given).
    assert!(
        !found.iter().any(|f| f.starts_with("input.version")),
        "{found:?}"
    );
    assert!(matches!(
        client.get_task(" ").await,
        Err(Error::Validation(_))
    ));
    assert!(matches!(
        client.cancel_task("").await,
        Err(Error::Validation(_))
    ));
    assert!(sim.request_log().is_empty());
}

#[tokio::test]
async fn generate_and_lip_sync_checks_the_lip_sync_before_creating_the_video() {
    let sim = start_sim().await;
    let client = client_for(&sim);
    let result = client
        .generate_and_lip_sync(
            client.text_to_video("an anchor"),
            piapi_kling::LipSyncSpec::text("hello", "Rock").speed(9.0),
        )
        .await;
    match result {
        Err(Error::Validation(v)) => assert_eq!(paths(&v), ["input.tts_speed maximum"]),
        other => panic!("{other:?}"),
    }
    assert!(sim.request_log().is_empty());
}
