//! Property tests of the models against the spec itself:
//! - JSON that the spec's component schema allows always decodes into the Rust
//!   type, re-encodes to equal JSON, and `validate()` never panics on it;
//! - arbitrary JSON into every response model never panics.
//!
//! The strategy for each component is built from the spec (properties,
//! required, nullable, enums, arrays, $refs), so a new field in the spec is
//! exercised without touching this file.

use piapi_kling_models::*;
use piapi_kling_tests::{json_eq_modulo_nulls, spec};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};

/// A strategy for values valid against `schema` (resolving `$ref` in `spec`).
fn valid(spec: &Value, schema: &Value, depth: u32) -> BoxedStrategy<Value> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        return valid(spec, &spec["components"]["schemas"][name], depth);
    }
    let nullable = schema.get("nullable") == Some(&Value::Bool(true));
    let inner = valid_non_null(spec, schema, depth);
    if nullable {
        prop_oneof![1 => Just(Value::Null), 3 => inner].boxed()
    } else {
        inner
    }
}

fn valid_non_null(spec: &Value, schema: &Value, depth: u32) -> BoxedStrategy<Value> {
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        return valid(spec, &all[0], depth);
    }
    if let Some(variants) = schema.get("oneOf").and_then(Value::as_array) {
        let options: Vec<BoxedStrategy<Value>> =
            variants.iter().map(|v| valid(spec, v, depth)).collect();
        return proptest::strategy::Union::new(options).boxed();
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return proptest::sample::select(values.clone()).boxed();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("string") => {
            let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
            let max = schema
                .get("maxLength")
                .and_then(Value::as_u64)
                .unwrap_or(40)
                .min(40) as usize;
            if schema.get("format").and_then(Value::as_str) == Some("uri") {
                "[a-z]{1,8}"
                    .prop_map(|h| json!(format!("https://{h}.example/x.png")))
                    .boxed()
            } else if let Some(exts) = schema.get("x-allowed-extensions").and_then(Value::as_array)
            {
                let exts: Vec<String> = exts
                    .iter()
                    .map(|e| e.as_str().unwrap().to_owned())
                    .collect();
                ("[a-z]{1,10}", proptest::sample::select(exts))
                    .prop_map(|(s, e)| json!(format!("{s}.{e}")))
                    .boxed()
            } else {
                proptest::collection::vec(any::<char>(), min..=max.max(min))
                    .prop_map(|c| json!(c.into_iter().collect::<String>()))
                    .boxed()
            }
        }
        Some("number") => {
            let lo = schema
                .get("minimum")
                .and_then(Value::as_f64)
                .unwrap_or(-1e6);
            let hi = schema.get("maximum").and_then(Value::as_f64).unwrap_or(1e6);
            (lo..=hi).prop_map(|x| json!(x)).boxed()
        }
        Some("integer") => {
            let lo = schema
                .get("minimum")
                .and_then(Value::as_i64)
                .unwrap_or(-1_000_000);
            let hi = schema
                .get("maximum")
                .and_then(Value::as_i64)
                .unwrap_or(1_000_000_000);
            (lo..=hi).prop_map(|x| json!(x)).boxed()
        }
        Some("boolean") => any::<bool>().prop_map(Value::Bool).boxed(),
        Some("array") => {
            let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
            let max = schema
                .get("maxItems")
                .and_then(Value::as_u64)
                .unwrap_or(3)
                .min(3) as usize;
            let item = if depth == 0 {
                Just(json!({})).boxed()
            } else {
                valid(spec, &schema["items"], depth - 1)
            };
            if depth == 0 && min == 0 {
                return Just(json!([])).boxed();
            }
            proptest::collection::vec(item, min..=max.max(min))
                .prop_map(Value::Array)
                .boxed()
        }
        Some("object") => object(spec, schema, depth),
        _ => prop_oneof![
            Just(Value::Null),
            any::<i32>().prop_map(|x| json!(x)),
            "[a-z]{0,5}".prop_map(|s| json!(s))
        ]
        .boxed(),
    }
}

fn object(spec: &Value, schema: &Value, depth: u32) -> BoxedStrategy<Value> {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        // A free-form object.
        return proptest::collection::btree_map("[a-z]{1,6}", any::<i32>(), 0..3)
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k, json!(v))).collect()))
            .boxed();
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let fields: Vec<BoxedStrategy<(String, Option<Value>)>> = props
        .iter()
        .map(|(name, prop)| {
            let name = name.clone();
            let value = valid(spec, prop, depth.saturating_sub(1));
            if required.contains(&name.as_str()) {
                value.prop_map(move |v| (name.clone(), Some(v))).boxed()
            } else {
                proptest::option::of(value)
                    .prop_map(move |v| (name.clone(), v))
                    .boxed()
            }
        })
        .collect();
    fields
        .prop_map(|fields| {
            Value::Object(
                fields
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| (k, v)))
                    .collect::<Map<_, _>>(),
            )
        })
        .boxed()
}

/// Decodes `json` as the component `name`, re-encodes it, and validates it.
fn round_trip(name: &str, json: &Value) -> Result<Value, String> {
    macro_rules! types {
        ($($t:ident),*) => {
            match name {
                $(stringify!($t) => {
                    let v: $t = serde_json::from_value(json.clone()).map_err(|e| e.to_string())?;
                    let _ = Validate::validate(&v);
                    serde_json::to_value(&v).map_err(|e| e.to_string())
                })*
                _ => Ok(json.clone()),
            }
        };
    }
    types!(
        WebhookConfig,
        TaskConfig,
        CameraConfig,
        CameraControl,
        Element,
        MotionPoint,
        MotionMask,
        MotionBrush,
        VideoGenerationInput,
        ExtendVideoInput,
        LipSyncInput,
        EffectsInput,
        AiTryOnInput,
        SoundInput,
        CreateTaskRequest,
        MediaResource,
        TaskWork,
        TaskOutput,
        TaskUsage,
        TaskMeta,
        TaskError,
        TaskData,
        TaskResponse,
        WebhookEvent,
        ErrorResponse,
        CancelTaskResponse,
        CancelTasksData,
        CancelTasksResponse,
        UploadRequest,
        UploadData,
        UploadResponse,
        AccountInfo,
        AccountInfoResponse
    )
}

#[test]
fn schema_valid_json_decodes_and_round_trips_for_every_component() {
    let spec = spec();
    let schemas = spec["components"]["schemas"].as_object().unwrap().clone();
    for (name, schema) in &schemas {
        if schema.get("enum").is_some() {
            continue; // covered by enums_roundtrip.rs
        }
        // A nullable component is nullable where it is referenced (an
        // `Option` field); the type itself holds a value.
        let strategy = valid_non_null(&spec, schema, 4);
        let mut runner = TestRunner::new(Config {
            cases: 64,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&strategy, |json| {
                let again = round_trip(name, &json).map_err(|e| {
                    TestCaseError::fail(format!("{name} does not decode: {e}\n{json}"))
                })?;
                prop_assert!(
                    json_eq_modulo_nulls(&json, &again),
                    "{name} changed in a round trip:\n{json}\n{again}"
                );
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Adds `unknown` under a key the spec does not use to every object of `json`,
/// nested ones and array items included.
fn with_unknown_fields(json: &mut Value, unknown: &Value, depth: &mut u32) {
    match json {
        Value::Object(map) => {
            for inner in map.values_mut() {
                with_unknown_fields(inner, unknown, depth);
            }
            *depth += 1;
            map.insert(format!("x_not_in_spec_{depth}"), unknown.clone());
        }
        Value::Array(items) => {
            for item in items {
                with_unknown_fields(item, unknown, depth);
            }
        }
        _ => {}
    }
}

#[test]
fn unknown_fields_at_every_level_survive_a_round_trip() {
    let spec = spec();
    let schemas = spec["components"]["schemas"].as_object().unwrap().clone();
    for (name, schema) in &schemas {
        if schema.get("enum").is_some() {
            continue;
        }
        let strategy = (valid_non_null(&spec, schema, 4), arbitrary_json());
        let mut runner = TestRunner::new(Config {
            cases: 48,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&strategy, |(mut json, unknown)| {
                with_unknown_fields(&mut json, &unknown, &mut 0);
                let again = round_trip(name, &json).map_err(|e| {
                    TestCaseError::fail(format!(
                        "{name} with unknown fields does not decode: {e}\n{json}"
                    ))
                })?;
                prop_assert!(
                    json_eq_modulo_nulls(&json, &again),
                    "{name} lost or changed a field:\n{json}\n{again}"
                );
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|x| json!(x)),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(|x| json!(x)),
        ".{0,12}".prop_map(Value::String),
        proptest::sample::select(vec![
            "pending",
            "Completed",
            "",
            "kling",
            "video_generation",
            "5",
            "16:9"
        ])
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                proptest::sample::select(vec![
                    "code",
                    "data",
                    "message",
                    "task_id",
                    "status",
                    "task_type",
                    "model",
                    "input",
                    "output",
                    "meta",
                    "works",
                    "video",
                    "error",
                    "logs",
                    "detail",
                    "timestamp",
                    "config",
                    "usage",
                    "x",
                ])
                .prop_map(str::to_owned),
                inner,
                0..8,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(Config { cases: 512, failure_persistence: None, ..Config::default() })]

    #[test]
    fn arbitrary_json_never_panics_a_response_model(json in arbitrary_json()) {
        let text = json.to_string();
        let _ = serde_json::from_str::<TaskResponse>(&text);
        let _ = serde_json::from_str::<WebhookEvent>(&text);
        let _ = serde_json::from_str::<ErrorResponse>(&text);
        let _ = serde_json::from_str::<CancelTaskResponse>(&text);
        let _ = serde_json::from_str::<CancelTasksResponse>(&text);
        let _ = serde_json::from_str::<UploadResponse>(&text);
        let _ = serde_json::from_str::<AccountInfoResponse>(&text);
        if let Ok(request) = serde_json::from_str::<CreateTaskRequest>(&text) {
            let _ = request.validate();
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = serde_json::from_slice::<TaskResponse>(&bytes);
        let _ = serde_json::from_slice::<CreateTaskRequest>(&bytes);
    }
}
