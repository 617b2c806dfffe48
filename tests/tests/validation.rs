//! `validate()` accepts a valid request of every task type and rejects each
//! documented constraint violation with exactly one violation naming the field
//! (as a JSON path) and the rule.

use piapi_kling_models::{CreateTaskRequest, UploadRequest, Validate};
use serde_json::{Value, json};

fn base(task_type: &str) -> Value {
    let input = match task_type {
        "video_generation" => json!({"prompt": "egrets over paddy fields", "aspect_ratio": "16:9"}),
        "extend_video" | "lip_sync_origin" => {
            json!({"origin_task_id": "6e269e8c-2091-46c4-b4a5-40a4704a766a"})
        }
        "lip_sync" => {
            json!({"origin_task_id": "6e269e8c-2091-46c4-b4a5-40a4704a766a", "tts_text": "hello", "tts_timbre": "oversea_male1"})
        }
        "effects" => json!({"image_url": "https://example.com/cat.png", "effect": "squish"}),
        "ai_try_on" => {
            json!({"model_input": "https://example.com/person.png", "dress_input": "https://example.com/dress.png"})
        }
        "sound" => json!({"prompt": "violin"}),
        other => panic!("no base for {other}"),
    };
    json!({"model": "kling", "task_type": task_type, "input": input})
}

/// Sets (or with `Value::Null` for a `-` path, removes) a field by JSON pointer.
fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    if let Some(path) = pointer.strip_prefix('-') {
        let (parent, key) = path.rsplit_once('/').unwrap();
        body.pointer_mut(parent)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove(key);
        return body;
    }
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = if parent.is_empty() {
        &mut body
    } else {
        body.pointer_mut(parent).unwrap()
    };
    target
        .as_object_mut()
        .unwrap()
        .insert(key.to_owned(), value);
    body
}

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

fn assert_one(case: &str, body: Value, path: &str, rule: &str) {
    let found = violations(&body);
    assert_eq!(
        found.len(),
        1,
        "{case}: expected exactly one violation, got {found:#?}"
    );
    let (p, r, text) = &found[0];
    assert_eq!((p.as_str(), r.as_str()), (path, rule), "{case}: {text}");
    assert!(
        text.starts_with(path) && text.ends_with(&format!("({rule})")),
        "{case}: {text}"
    );
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
}

#[test]
fn video_generation_constraints() {
    let v = || base("video_generation");
    let long = "x".repeat(2501);
    assert_one(
        "prompt length",
        with(v(), "/input/prompt", json!(long)),
        "input.prompt",
        "maxLength",
    );
    assert_one(
        "2500 is fine, 2501 is not",
        with(v(), "/input/negative_prompt", json!(long)),
        "input.negative_prompt",
        "maxLength",
    );
    assert_eq!(
        violations(&with(v(), "/input/prompt", json!("é".repeat(2500)))),
        Vec::new(),
        "chars, not bytes"
    );
    assert_one(
        "cfg_scale high",
        with(v(), "/input/cfg_scale", json!(1.5)),
        "input.cfg_scale",
        "maximum",
    );
    assert_one(
        "cfg_scale low",
        with(v(), "/input/cfg_scale", json!(-0.1)),
        "input.cfg_scale",
        "minimum",
    );
    assert_one(
        "duration",
        with(v(), "/input/duration", json!(7)),
        "input.duration",
        "enum",
    );
    assert_one(
        "aspect ratio",
        with(v(), "/input/aspect_ratio", json!("4:3")),
        "input.aspect_ratio",
        "enum",
    );
    assert_one(
        "mode",
        with(v(), "/input/mode", json!("ultra")),
        "input.mode",
        "enum",
    );
    assert_one(
        "version",
        with(v(), "/input/version", json!("3.0")),
        "input.version",
        "enum",
    );
    assert_one(
        "model",
        with(v(), "/model", json!("kling-x")),
        "model",
        "enum",
    );
    assert_one(
        "image url",
        with(v(), "/input/image_url", json!("/home/me/cat.png")),
        "input.image_url",
        "format",
    );
    assert_one(
        "tail needs head",
        with(
            v(),
            "/input/image_tail_url",
            json!("https://example.com/b.png"),
        ),
        "input.image_tail_url",
        "requires",
    );
    assert_one(
        "t2v prompt",
        with(v(), "-/input/prompt", Value::Null),
        "input.prompt",
        "required-unless",
    );
    assert_one(
        "t2v aspect",
        with(v(), "-/input/aspect_ratio", Value::Null),
        "input.aspect_ratio",
        "required-unless",
    );
    let element = json!({"image_url": "https://example.com/e.png"});
    let v16 = || with(v(), "/input/version", json!("1.6"));
    assert_one(
        "elements max",
        with(v16(), "/input/elements", json!(vec![element.clone(); 5])),
        "input.elements",
        "maxItems",
    );
    assert_one(
        "elements min",
        with(v16(), "/input/elements", json!([])),
        "input.elements",
        "minItems",
    );
    assert_one(
        "elements version",
        with(v(), "/input/elements", json!([element])),
        "input.elements",
        "requires-value",
    );
    assert_one(
        "element url",
        with(
            v16(),
            "/input/elements",
            json!([{"image_url": "https://example.com/e.png"}, {"image_url": "nope"}]),
        ),
        "input.elements[1].image_url",
        "format",
    );
    assert_one(
        "mask url",
        with(v(), "/input/motion_brush", json!({"mask_url": "mask.png"})),
        "input.motion_brush.mask_url",
        "format",
    );
}

#[test]
fn camera_control_constraints() {
    let cam = |c: Value| with(base("video_generation"), "/input/camera_control", c);
    assert_one(
        "two axes",
        cam(json!({"type": "simple", "config": {"pan": 1, "zoom": 2}})),
        "input.camera_control.config",
        "exactly-one-nonzero",
    );
    assert_one(
        "no axis",
        cam(json!({"type": "simple", "config": {"pan": 0}})),
        "input.camera_control.config",
        "exactly-one-nonzero",
    );
    assert_one(
        "axis range",
        cam(json!({"type": "simple", "config": {"tilt": 11}})),
        "input.camera_control.config.tilt",
        "maximum",
    );
    assert_one(
        "simple needs config",
        cam(json!({"type": "simple"})),
        "input.camera_control.config",
        "required-when",
    );
    assert_one(
        "preset takes no config",
        cam(json!({"type": "down_back", "config": {"pan": 1}})),
        "input.camera_control.config",
        "forbidden-unless",
    );
    assert_one(
        "camera type",
        cam(json!({"type": "orbit"})),
        "input.camera_control.type",
        "enum",
    );
    assert_eq!(violations(&cam(json!({"type": "forward_up"}))), Vec::new());
}

#[test]
fn extend_video_constraints() {
    assert_one(
        "origin id",
        with(base("extend_video"), "/input/origin_task_id", json!("")),
        "input.origin_task_id",
        "minLength",
    );
}

#[test]
fn lip_sync_constraints() {
    let l = || base("lip_sync");
    let audio = json!("https://example.com/hello.mp3");
    assert_one(
        "nothing to say",
        base("lip_sync_origin").pipe(|b| with(b, "/task_type", json!("lip_sync"))),
        "input",
        "at-least-one",
    );
    assert_one(
        "audio and text",
        with(
            with(l(), "-/input/tts_timbre", Value::Null),
            "/input/local_dubbing_url",
            audio.clone(),
        ),
        "input.tts_text",
        "conflicts",
    );
    assert_one(
        "speed low",
        with(l(), "/input/tts_speed", json!(0.5)),
        "input.tts_speed",
        "minimum",
    );
    assert_one(
        "speed high",
        with(l(), "/input/tts_speed", json!(2.5)),
        "input.tts_speed",
        "maximum",
    );
    let audio_only = with(base("lip_sync_origin"), "/task_type", json!("lip_sync"));
    let audio_only = with(audio_only, "/input/local_dubbing_url", audio);
    assert_eq!(violations(&audio_only), Vec::new());
    let found = violations(&with(audio_only.clone(), "/input/tts_speed", json!(1.5)));
    let rules: Vec<(&str, &str)> = found
        .iter()
        .map(|(p, r, _)| (p.as_str(), r.as_str()))
        .collect();
    assert_eq!(
        rules,
        [
            ("input.tts_speed", "conflicts"),
            ("input.tts_speed", "requires")
        ]
    );
    // A voice with audio and no text breaks two rules: it conflicts with the audio and needs text.
    let voice_and_audio = with(
        with(l(), "-/input/tts_text", Value::Null),
        "/input/local_dubbing_url",
        json!("https://example.com/a.wav"),
    );
    let rules: Vec<(String, String)> = violations(&voice_and_audio)
        .into_iter()
        .map(|(p, r, _)| (p, r))
        .collect();
    assert_eq!(
        rules,
        [
            ("input.tts_timbre".to_owned(), "conflicts".to_owned()),
            ("input.tts_timbre".to_owned(), "requires".to_owned())
        ]
    );
    assert_one(
        "audio url",
        with(audio_only, "/input/local_dubbing_url", json!("hello.mp3")),
        "input.local_dubbing_url",
        "format",
    );
}

#[test]
fn effects_constraints() {
    let e = || base("effects");
    assert_one(
        "effect",
        with(e(), "/input/effect", json!("explode")),
        "input.effect",
        "enum",
    );
    assert_one(
        "image url",
        with(e(), "/input/image_url", json!("string")),
        "input.image_url",
        "format",
    );
    for effect in [
        "rocket", "hearting", "fighting", "kissing", "hugging", "birthday", "water",
    ] {
        assert_one(
            effect,
            with(e(), "/input/effect", json!(effect)),
            "input.prompt",
            "required-when",
        );
        let empty = with(
            with(e(), "/input/effect", json!(effect)),
            "/input/prompt",
            json!(""),
        );
        assert_one(
            "empty prompt counts as missing",
            empty,
            "input.prompt",
            "required-when",
        );
        let ok = with(
            with(e(), "/input/effect", json!(effect)),
            "/input/prompt",
            json!("a party"),
        );
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
            violations(&with(e(), "/input/effect", json!(effect))),
            Vec::new(),
            "{effect}"
        );
    }
}

#[test]
fn try_on_constraints() {
    let t = || base("ai_try_on");
    assert_one(
        "no garment",
        with(t(), "-/input/dress_input", Value::Null),
        "input",
        "at-least-one",
    );
    assert_one(
        "dress and upper",
        with(
            t(),
            "/input/upper_input",
            json!("https://example.com/u.png"),
        ),
        "input.upper_input",
        "conflicts",
    );
    assert_one(
        "batch low",
        with(t(), "/input/batch_size", json!(0)),
        "input.batch_size",
        "minimum",
    );
    assert_one(
        "batch high",
        with(t(), "/input/batch_size", json!(5)),
        "input.batch_size",
        "maximum",
    );
    assert_one(
        "model image",
        with(
            t(),
            "/input/model_input",
            json!("data:image/png;base64,AAAA"),
        ),
        "input.model_input",
        "format",
    );
    let split = with(
        with(t(), "-/input/dress_input", Value::Null),
        "/input/upper_input",
        json!("https://example.com/u.png"),
    );
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
fn sound_constraints() {
    let s = || base("sound");
    assert_one(
        "nothing to score",
        with(s(), "-/input/prompt", Value::Null),
        "input",
        "at-least-one",
    );
    assert_one(
        "duration",
        with(s(), "/input/duration", json!(7)),
        "input.duration",
        "enum",
    );
    assert_one(
        "prompt length",
        with(s(), "/input/prompt", json!("y".repeat(2501))),
        "input.prompt",
        "maxLength",
    );
    assert_eq!(
        violations(&with(
            with(s(), "-/input/prompt", Value::Null),
            "/input/origin_task_id",
            json!("abc")
        )),
        Vec::new()
    );
}

#[test]
fn config_constraints() {
    let c = |config: Value| with(base("sound"), "/config", config);
    assert_one(
        "endpoint",
        c(json!({"webhook_config": {"endpoint": "localhost:8080/hook"}})),
        "config.webhook_config.endpoint",
        "format",
    );
    assert_one(
        "service mode",
        c(json!({"service_mode": "hybrid"})),
        "config.service_mode",
        "enum",
    );
    assert_eq!(
        violations(&c(
            json!({"service_mode": "", "webhook_config": {"endpoint": "", "secret": ""}})
        )),
        Vec::new()
    );
}

#[test]
fn every_violation_is_reported_at_once() {
    let body = json!({"model": "kling", "task_type": "video_generation",
        "input": {"cfg_scale": 3, "duration": 7, "image_tail_url": "x"}});
    let rules: Vec<String> = violations(&body)
        .into_iter()
        .map(|(p, r, _)| format!("{p} {r}"))
        .collect();
    assert_eq!(
        rules,
        [
            "input.cfg_scale maximum",
            "input.duration enum",
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

trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}
impl Pipe for Value {}
