//! Helpers shared by the workspace-level tests in `tests/tests/`.
#![deny(missing_docs)]

use serde_json::Value;
use std::path::{Path, PathBuf};

pub mod cases;
pub mod soak;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The spec as a JSON tree.
pub fn spec() -> Value {
    let text = std::fs::read_to_string(root().join("spec/piapi-kling.yaml")).unwrap();
    serde_norway::from_str(&text).unwrap()
}

/// A seed page's text (`../shared/seeds/NAME`), or the copy under `tests/data/seeds`
/// when the shared folder is not beside the checkout.
pub fn seed(name: &str) -> String {
    let shared = root().join("../shared/seeds").join(name);
    let local = root().join("tests/data/seeds").join(name);
    std::fs::read_to_string(&shared)
        .or_else(|_| std::fs::read_to_string(&local))
        .unwrap_or_else(|e| {
            panic!(
                "seed {name} not found at {} or {}: {e}",
                shared.display(),
                local.display()
            )
        })
}

/// The JSON body of a seed's request sample: the curl `--data-raw '...'`, or
/// the body of the raw HTTP sample (`POST /api/v1/task HTTP/1.1 ...`).
pub fn seed_request_body(name: &str) -> Value {
    let text = seed(name);
    let start = text
        .find("--data-raw '")
        .or_else(|| text.find("POST /api/v1/task HTTP/1.1"))
        .expect("the seed has a request sample");
    let body = start + text[start..].find('{').unwrap();
    // The first complete JSON value after the marker.
    serde_json::Deserializer::from_str(&text[body..])
        .into_iter::<Value>()
        .next()
        .unwrap()
        .unwrap()
}

/// [`json_eq`], except that a field absent in `original` may come back as
/// `null`: the models write every nullable field, as PiAPI does.
pub fn json_eq_modulo_nulls(original: &Value, again: &Value) -> bool {
    match (original, again) {
        (Value::Object(a), Value::Object(b)) => {
            b.iter().all(|(k, v)| match a.get(k) {
                Some(w) => json_eq_modulo_nulls(w, v),
                None => v.is_null(),
            }) && a.keys().all(|k| b.contains_key(k))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| json_eq_modulo_nulls(x, y))
        }
        _ => json_eq(original, again),
    }
}

/// JSON equality where numbers compare by value (`0` equals `0.0`).
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}
