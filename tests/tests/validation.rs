//! `validate()` accepts a valid request of every task type and rejects each
//! documented constraint violation (the shared list in `cases.rs`) with exactly
//! one violation naming the field (as a JSON path) and the rule.

use piapi_kling_models::{CreateTaskRequest, UploadRequest, Validate, Violation};
use piapi_kling_tests::cases::{base, constraint_cases, open_value_cases, with};
use serde_json::{Value, json};

fn violations(body: &Value) -> Vec<(String, String, String)> {
    let request: CreateTaskRequest = serde_json::from_value(body.clone())
        .unwrap_or_else(|e| panic!("does not decode: {e}\n{body:#}"));
    match request.validate() {
        Ok(()) => Vec::new(),
        Err(v) => v
            .iter()
            .map(|v| (v.path.clone(), v.rule.name().to_owned(), v.to_string()))
            .collect(),
    }
}

fn rules(body: &Value) -> Vec<(String, String)> {
    violations(body)
        .into_iter()
        .map(|(p, r, _)| (p, r))
        .collect()
}

#[test]
fn every_constraint_case_is_exactly_one_violation_naming_field_and_rule() {
    let cases = constraint_cases();
    assert!(
        cases.len() >= 40,
        "the list covers every documented constraint"
    );
    for case in cases {
        let found = violations(&case.body);
        assert_eq!(
            found.len(),
            1,
            "{}: expected one violation, got {found:#?}",
            case.name
        );
        let (path, rule, text) = &found[0];
        assert_eq!(
            (path.as_str(), rule.as_str()),
            (case.path, case.rule),
            "{}: {text}",
            case.name
        );
        assert!(
            text.starts_with(case.path) && text.ends_with(&format!("({})", case.rule)),
            "{}: the message must name the field and the rule: {text}",
            case.name
        );
    }
}

#[test]
fn every_open_enum_case_is_exactly_one_warning_and_no_error() {
    let cases = open_value_cases();
    assert!(cases.len() >= 8);
    for case in cases {
        let request: CreateTaskRequest = serde_json::from_value(case.body.clone()).unwrap();
        request
            .validate()
            .unwrap_or_else(|e| panic!("{}: refused: {e}", case.name));
        let report = request.report();
        let warnings: Vec<&Violation> = report.warnings().collect();
        assert_eq!(warnings.len(), 1, "{}: {warnings:#?}", case.name);
        assert_eq!(
            (warnings[0].path.as_str(), warnings[0].rule.name()),
            (case.path, case.rule),
            "{}",
            case.name
        );
        assert!(
            warnings[0].to_string().contains("sent as given"),
            "{}: {}",
            case.name,
            warnings[0]
        );
        assert_eq!(
            report.into_result(true).unwrap_err().len(),
            1,
            "{}: strict",
            case.name
        );
    }
}

#[test]
fn valid_requests_of_every_task_type_pass() {
    for t in [
        "video_generation",
        "extend_video",
        "lip_sync",
        "effects",
        "ai_try_on",
        "sound",
    ] {
        assert_eq!(violations(&base(t)), Vec::new(), "{t}");
    }
    let full = json!({
        "model": "kling", "task_type": "video_generation",
        "input": {
            "prompt": "p", "negative_prompt": "", "cfg_scale": 0.5, "duration": 10,
            "aspect_ratio": "9:16", "mode": "pro", "version": "1.6",
            "image_url": "https://example.com/a.png", "image_tail_url": "https://example.com/b.png",
            "elements": [{"image_url": "https://example.com/e.png"}],
            "camera_control": {"type": "simple", "config": {"zoom": 5}},
            "motion_brush": {"mask_url": "https://example.com/m.png", "static_masks": [{"points": []}],
                             "dynamic_masks": [{"points": [{"x": 1, "y": 2}]}]}
        },
        "config": {"service_mode": "private", "webhook_config": {"endpoint": "https://example.com/h", "secret": "s"}}
    });
    assert_eq!(violations(&full), Vec::new());
    // Image-to-video needs neither a prompt nor an aspect ratio.
    let i2v = json!({"model": "kling", "task_type": "video_generation", "input": {"image_url": "https://example.com/a.png"}});
    assert_eq!(violations(&i2v), Vec::new());
    // 2500 characters, not bytes.
    let multibyte = with(
        base("video_generation"),
        "/input/prompt",
        json!("é".repeat(2500)),
    );
    assert_eq!(violations(&multibyte), Vec::new());
    // A preset camera move takes no config.
    let preset = with(
        base("video_generation"),
        "/input/camera_control",
        json!({"type": "forward_up"}),
    );
    assert_eq!(violations(&preset), Vec::new());
    // Empty webhook endpoint and service mode mean "not set", as in PiAPI's examples.
    let blanks = with(
        base("sound"),
        "/config",
        json!({"service_mode": "", "webhook_config": {"endpoint": "", "secret": ""}}),
    );
    assert_eq!(violations(&blanks), Vec::new());
}

#[test]
fn lip_sync_combinations() {
    let audio_only = with(
        base("lip_sync_origin"),
        "/input/local_dubbing_url",
        json!("https://example.com/hello.mp3"),
    );
    assert_eq!(violations(&audio_only), Vec::new());
    let s = |v: &str| v.to_owned();
    assert_eq!(
        rules(&with(audio_only, "/input/tts_speed", json!(1.5))),
        [
            (s("input.tts_speed"), s("conflicts")),
            (s("input.tts_speed"), s("requires"))
        ]
    );
    // A voice with audio and no text conflicts with the audio and needs text.
    let voice_and_audio = with(
        with(base("lip_sync"), "-/input/tts_text", Value::Null),
        "/input/local_dubbing_url",
        json!("https://example.com/a.wav"),
    );
    assert_eq!(
        rules(&voice_and_audio),
        [
            (s("input.tts_timbre"), s("conflicts")),
            (s("input.tts_timbre"), s("requires"))
        ]
    );
}

#[test]
fn effects_that_need_a_prompt_accept_one_and_the_others_need_none() {
    for effect in [
        "rocket", "hearting", "fighting", "kissing", "hugging", "birthday", "water",
    ] {
        let without = with(base("effects"), "/input/effect", json!(effect));
        let empty = with(without.clone(), "/input/prompt", json!(""));
        assert_eq!(
            rules(&empty),
            [("input.prompt".to_owned(), "required-when".to_owned())],
            "an empty prompt counts as missing"
        );
        let ok = with(without, "/input/prompt", json!("a party"));
        assert_eq!(violations(&ok), Vec::new(), "{effect} with a prompt");
    }
    for effect in [
        "squish",
        "expansion",
        "jellycat_oversea",
        "spinoff",
        "figure",
        "vstack",
        "surfing",
    ] {
        assert_eq!(
            violations(&with(base("effects"), "/input/effect", json!(effect))),
            Vec::new(),
            "{effect}"
        );
    }
}

#[test]
fn try_on_with_upper_and_lower_garments() {
    let split = with(
        with(base("ai_try_on"), "-/input/dress_input", Value::Null),
        "/input/upper_input",
        json!("https://example.com/u.png"),
    );
    assert_eq!(violations(&split), Vec::new());
    assert_eq!(
        violations(&with(
            split,
            "/input/lower_input",
            json!("https://example.com/l.png")
        )),
        Vec::new()
    );
}

#[test]
fn sound_for_a_video_needs_no_prompt() {
    let for_video = with(
        with(base("sound"), "-/input/prompt", Value::Null),
        "/input/origin_task_id",
        json!("abc"),
    );
    assert_eq!(violations(&for_video), Vec::new());
}

#[test]
fn every_violation_is_reported_at_once() {
    let body = json!({"model": "kling", "task_type": "video_generation",
        "input": {"cfg_scale": 3, "duration": 7, "image_tail_url": "x"}});
    let found: Vec<String> = rules(&body)
        .into_iter()
        .map(|(p, r)| format!("{p} {r}"))
        .collect();
    assert_eq!(
        found,
        [
            "input.cfg_scale maximum",
            "input.image_tail_url format",
            "input.prompt required-unless",
            "input.aspect_ratio required-unless",
            "input.image_tail_url requires",
        ]
    );
}

#[test]
fn upload_request_constraints() {
    let check = |name: &str| -> Vec<String> {
        match UploadRequest::new(name, "aGVsbG8=").validate() {
            Ok(()) => Vec::new(),
            Err(v) => v
                .iter()
                .map(|v| format!("{} {}", v.path, v.rule.name()))
                .collect(),
        }
    };
    assert_eq!(check("cat.PNG"), Vec::<String>::new());
    assert_eq!(check("clip.mp4"), Vec::<String>::new());
    assert_eq!(check("tool.exe"), ["file_name x-allowed-extensions"]);
    assert_eq!(check(".png"), ["file_name x-allowed-extensions"]);
    assert_eq!(
        check(&format!("{}.png", "a".repeat(125))),
        ["file_name maxLength"]
    );
    assert_eq!(
        check(""),
        ["file_name minLength", "file_name x-allowed-extensions"]
    );
}
