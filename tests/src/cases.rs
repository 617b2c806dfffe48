//! One create-task body per documented constraint, each breaking exactly that
//! constraint. The same list drives three checks: `validate()` (models), the SDK
//! (refuses locally, sends nothing) and the simulator (answers 400).

use serde_json::{Value, json};

/// A body that breaks one rule, and where the violation must be reported.
#[derive(Debug, Clone)]
pub struct Case {
    /// What the case breaks, for messages.
    pub name: String,
    /// The create-task body.
    pub body: Value,
    /// The JSON path of the violation.
    pub path: &'static str,
    /// The rule's name (`Rule::name()`).
    pub rule: &'static str,
}

/// A valid body of `task_type` (`lip_sync_origin`: a lip-sync input with only its origin).
pub fn base(task_type: &str) -> Value {
    let id = "6e269e8c-2091-46c4-b4a5-40a4704a766a";
    let (task_type, input) = match task_type {
        "video_generation" => (
            task_type,
            json!({"prompt": "egrets over paddy fields", "aspect_ratio": "16:9"}),
        ),
        "extend_video" => (task_type, json!({"origin_task_id": id})),
        "lip_sync_origin" => ("lip_sync", json!({"origin_task_id": id})),
        "lip_sync" => (
            task_type,
            json!({"origin_task_id": id, "tts_text": "hello", "tts_timbre": "oversea_male1"}),
        ),
        "effects" => (
            task_type,
            json!({"image_url": "https://example.com/cat.png", "effect": "squish"}),
        ),
        "ai_try_on" => (
            task_type,
            json!({"model_input": "https://example.com/person.png", "dress_input": "https://example.com/dress.png"}),
        ),
        "sound" => (task_type, json!({"prompt": "violin"})),
        "omni_video_generation" => (
            task_type,
            json!({"version": "3.0", "prompt": "a harbour at dawn", "resolution": "720p",
                   "duration": 5, "aspect_ratio": "16:9"}),
        ),
        "motion_control" => (
            task_type,
            json!({"image_url": "https://example.com/person.png",
                   "video_url": "https://example.com/dance.mp4", "version": "2.6"}),
        ),
        "avatar" => (
            task_type,
            json!({"image_url": "https://example.com/face.png",
                   "local_dubbing_url": "https://example.com/hello.mp3"}),
        ),
        other => panic!("no base for {other}"),
    };
    json!({"model": "kling", "task_type": task_type, "input": input})
}

/// `body` with the field at `pointer` set to `value`; a pointer starting with
/// `-` removes the field instead.
pub fn with(mut body: Value, pointer: &str, value: Value) -> Value {
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

/// Every single-violation case.
pub fn constraint_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |name: &str, body: Value, path: &'static str, rule: &'static str| {
        cases.push(Case {
            name: name.to_owned(),
            body,
            path,
            rule,
        });
    };
    let long = "x".repeat(2501);
    let element = json!({"image_url": "https://example.com/e.png"});
    let url = |u: &str| json!(u);

    // video_generation
    let v = || base("video_generation");
    let v16 = || with(v(), "/input/version", json!("1.6"));
    add(
        "prompt longer than 2500",
        with(v(), "/input/prompt", json!(long)),
        "input.prompt",
        "maxLength",
    );
    add(
        "negative prompt longer than 2500",
        with(v(), "/input/negative_prompt", json!(long)),
        "input.negative_prompt",
        "maxLength",
    );
    add(
        "cfg_scale above 1",
        with(v(), "/input/cfg_scale", json!(1.5)),
        "input.cfg_scale",
        "maximum",
    );
    add(
        "cfg_scale below 0",
        with(v(), "/input/cfg_scale", json!(-0.1)),
        "input.cfg_scale",
        "minimum",
    );
    add(
        "image_url not a URL",
        with(v(), "/input/image_url", json!("/home/me/cat.png")),
        "input.image_url",
        "format",
    );
    add(
        "tail frame without image_url",
        with(
            v(),
            "/input/image_tail_url",
            url("https://example.com/b.png"),
        ),
        "input.image_tail_url",
        "requires",
    );
    add(
        "text-to-video without prompt",
        with(v(), "-/input/prompt", Value::Null),
        "input.prompt",
        "required-unless",
    );
    add(
        "text-to-video without aspect ratio",
        with(v(), "-/input/aspect_ratio", Value::Null),
        "input.aspect_ratio",
        "required-unless",
    );
    add(
        "five elements",
        with(v16(), "/input/elements", json!(vec![element.clone(); 5])),
        "input.elements",
        "maxItems",
    );
    add(
        "no elements",
        with(v16(), "/input/elements", json!([])),
        "input.elements",
        "minItems",
    );
    add(
        "elements without version 1.6",
        with(v(), "/input/elements", json!([element.clone()])),
        "input.elements",
        "requires-value",
    );
    add(
        "element URL",
        with(
            v16(),
            "/input/elements",
            json!([element, {"image_url": "nope"}]),
        ),
        "input.elements[1].image_url",
        "format",
    );
    add(
        "motion brush mask URL",
        with(v(), "/input/motion_brush", json!({"mask_url": "mask.png"})),
        "input.motion_brush.mask_url",
        "format",
    );

    // camera_control
    let cam = |c: Value| with(base("video_generation"), "/input/camera_control", c);
    add(
        "simple camera with two axes",
        cam(json!({"type": "simple", "config": {"pan": 1, "zoom": 2}})),
        "input.camera_control.config",
        "exactly-one-nonzero",
    );
    add(
        "simple camera with no axis",
        cam(json!({"type": "simple", "config": {"pan": 0}})),
        "input.camera_control.config",
        "exactly-one-nonzero",
    );
    add(
        "camera axis above 10",
        cam(json!({"type": "simple", "config": {"tilt": 11}})),
        "input.camera_control.config.tilt",
        "maximum",
    );
    add(
        "camera axis below -10",
        cam(json!({"type": "simple", "config": {"roll": -10.5}})),
        "input.camera_control.config.roll",
        "minimum",
    );
    add(
        "simple camera without config",
        cam(json!({"type": "simple"})),
        "input.camera_control.config",
        "required-when",
    );
    add(
        "preset camera with config",
        cam(json!({"type": "down_back", "config": {"pan": 1}})),
        "input.camera_control.config",
        "forbidden-unless",
    );

    // extend_video
    add(
        "empty origin task id",
        with(base("extend_video"), "/input/origin_task_id", json!("")),
        "input.origin_task_id",
        "minLength",
    );

    // lip_sync
    let l = || base("lip_sync");
    let audio_only = || {
        with(
            base("lip_sync_origin"),
            "/input/local_dubbing_url",
            url("https://example.com/hello.mp3"),
        )
    };
    add(
        "lip-sync with neither text nor audio",
        base("lip_sync_origin"),
        "input",
        "at-least-one",
    );
    add(
        "lip-sync with audio and text",
        with(
            with(l(), "-/input/tts_timbre", Value::Null),
            "/input/local_dubbing_url",
            url("https://example.com/a.mp3"),
        ),
        "input.tts_text",
        "conflicts",
    );
    add(
        "tts_speed below 0.8",
        with(l(), "/input/tts_speed", json!(0.5)),
        "input.tts_speed",
        "minimum",
    );
    add(
        "tts_speed above 2",
        with(l(), "/input/tts_speed", json!(2.5)),
        "input.tts_speed",
        "maximum",
    );
    add(
        "audio URL not a URL",
        with(audio_only(), "/input/local_dubbing_url", json!("hello.mp3")),
        "input.local_dubbing_url",
        "format",
    );

    // effects
    let e = || base("effects");
    add(
        "effect image not a URL",
        with(e(), "/input/image_url", json!("string")),
        "input.image_url",
        "format",
    );
    add(
        "effect prompt longer than 2500",
        with(e(), "/input/prompt", json!(long)),
        "input.prompt",
        "maxLength",
    );
    for effect in [
        "rocket", "hearting", "fighting", "kissing", "hugging", "birthday", "water",
    ] {
        add(
            &format!("{effect} without a prompt"),
            with(e(), "/input/effect", json!(effect)),
            "input.prompt",
            "required-when",
        );
    }

    // ai_try_on
    let t = || base("ai_try_on");
    add(
        "try-on without a garment",
        with(t(), "-/input/dress_input", Value::Null),
        "input",
        "at-least-one",
    );
    add(
        "try-on with dress and upper",
        with(t(), "/input/upper_input", url("https://example.com/u.png")),
        "input.upper_input",
        "conflicts",
    );
    add(
        "try-on with dress and lower",
        with(t(), "/input/lower_input", url("https://example.com/l.png")),
        "input.lower_input",
        "conflicts",
    );
    add(
        "batch_size 0",
        with(t(), "/input/batch_size", json!(0)),
        "input.batch_size",
        "minimum",
    );
    add(
        "batch_size 5",
        with(t(), "/input/batch_size", json!(5)),
        "input.batch_size",
        "maximum",
    );
    add(
        "model image as data URI",
        with(
            t(),
            "/input/model_input",
            json!("data:image/png;base64,AAAA"),
        ),
        "input.model_input",
        "format",
    );

    // sound
    let s = || base("sound");
    add(
        "sound with neither prompt nor video",
        with(s(), "-/input/prompt", Value::Null),
        "input",
        "at-least-one",
    );
    add(
        "sound prompt longer than 2500",
        with(s(), "/input/prompt", json!(long)),
        "input.prompt",
        "maxLength",
    );
    add(
        "sound duration 7",
        with(s(), "/input/duration", json!(7)),
        "input.duration",
        "values-when",
    );

    // Kling 3.0 and the newer fields of video_generation
    let v3 = || with(v(), "/input/version", json!("3.0"));
    let shot = |prompt: &str, duration: i64| json!({"prompt": prompt, "duration": duration});
    add(
        "more than 6 shots",
        with(v3(), "/input/multi_shots", json!(vec![shot("a", 2); 7])),
        "input.multi_shots",
        "maxItems",
    );
    add(
        "shot prompt longer than 512",
        with(
            v3(),
            "/input/multi_shots",
            json!([shot(&"x".repeat(513), 3)]),
        ),
        "input.multi_shots[0].prompt",
        "maxLength",
    );
    add(
        "shot shorter than 1 s",
        with(v3(), "/input/multi_shots", json!([shot("a", 0)])),
        "input.multi_shots[0].duration",
        "minimum",
    );
    add(
        "version 1.6 with 7 seconds",
        with(v16(), "/input/duration", json!(7)),
        "input.duration",
        "values-when",
    );
    add(
        "reference image not a URL",
        with(v3(), "/input/images", json!(["ftp://example.com/a.png"])),
        "input.images[0]",
        "format",
    );
    add(
        "lip-sync with neither a task nor a video",
        with(base("lip_sync"), "-/input/origin_task_id", Value::Null),
        "input.origin_task_id",
        "required-unless",
    );

    // omni_video_generation
    let o = || base("omni_video_generation");
    add(
        "omni reference video not a URL",
        with(o(), "/input/video", json!("clip.mp4")),
        "input.video",
        "format",
    );
    add(
        "omni prompt longer than 2500",
        with(o(), "/input/prompt", json!(long)),
        "input.prompt",
        "maxLength",
    );

    // motion_control
    let m = || base("motion_control");
    add(
        "motion control with neither video nor preset",
        with(m(), "-/input/video_url", Value::Null),
        "input",
        "at-least-one",
    );
    add(
        "motion control image not a URL",
        with(m(), "/input/image_url", json!("person.png")),
        "input.image_url",
        "format",
    );

    // avatar
    add(
        "avatar audio not a URL",
        with(
            base("avatar"),
            "/input/local_dubbing_url",
            json!("hello.mp3"),
        ),
        "input.local_dubbing_url",
        "format",
    );

    // config
    let c = |config: Value| with(base("sound"), "/config", config);
    add(
        "webhook endpoint not a URL",
        c(json!({"webhook_config": {"endpoint": "localhost:8080/hook"}})),
        "config.webhook_config.endpoint",
        "format",
    );
    add(
        "unknown service mode",
        c(json!({"service_mode": "hybrid"})),
        "config.service_mode",
        "enum",
    );
    cases
}

/// One body per open enum (`x-open-enum`) holding a value the spec does not
/// list: a newer version, duration, effect … Each is sent as given: exactly
/// one *warning* at `path`, no error, and the simulator accepts it.
pub fn open_value_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |name: &str, body: Value, path: &'static str, rule: &'static str| {
        cases.push(Case {
            name: name.to_owned(),
            body,
            path,
            rule,
        });
    };
    add(
        "duration the spec does not list",
        with(base("video_generation"), "/input/duration", json!(20)),
        "input.duration",
        "enum",
    );
    add(
        "unknown aspect ratio",
        with(
            base("video_generation"),
            "/input/aspect_ratio",
            json!("4:3"),
        ),
        "input.aspect_ratio",
        "enum",
    );
    add(
        "unknown mode",
        with(base("video_generation"), "/input/mode", json!("ultra")),
        "input.mode",
        "enum",
    );
    add(
        "unknown version",
        with(base("video_generation"), "/input/version", json!("4.0")),
        "input.version",
        "enum",
    );
    add(
        "unknown model",
        with(base("video_generation"), "/model", json!("kling-x")),
        "model",
        "enum",
    );
    add(
        "unknown camera type",
        with(
            base("video_generation"),
            "/input/camera_control",
            json!({"type": "orbit"}),
        ),
        "input.camera_control.type",
        "enum",
    );
    add(
        "unknown effect",
        with(base("effects"), "/input/effect", json!("explode")),
        "input.effect",
        "enum",
    );
    add(
        "unknown resolution",
        with(
            base("omni_video_generation"),
            "/input/resolution",
            json!("4k"),
        ),
        "input.resolution",
        "enum",
    );
    add(
        "unknown omni version",
        with(base("omni_video_generation"), "/input/version", json!("o2")),
        "input.version",
        "enum",
    );
    add(
        "unknown motion direction",
        with(
            base("motion_control"),
            "/input/motion_direction",
            json!("sideways"),
        ),
        "input.motion_direction",
        "enum",
    );
    cases
}
