//! The spec linter: rejects, with a message that says where and what to write
//! instead, every construct that would make progenitor or typify panic or that
//! would silently mis-generate.

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// One problem found in the spec.
#[derive(Debug, Clone, PartialEq)]
pub struct LintError {
    /// Where: a JSON-pointer-like path or `line N`.
    pub at: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for LintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Lints the spec text and its parsed tree; an empty result means clean.
pub fn lint(text: &str, raw: &Value) -> Vec<LintError> {
    let mut errors = Vec::new();
    let mut err = |at: String, message: String| errors.push(LintError { at, message });

    let version = raw.get("openapi").and_then(Value::as_str).unwrap_or("");
    if !version.starts_with("3.0.") {
        err(
            "openapi".into(),
            format!(
                "`{version}` is not supported: progenitor reads OpenAPI 3.0.x only (write 3.0.3)"
            ),
        );
    }

    lint_operations(raw, &mut err);
    lint_unquoted_enums(text, &mut err);
    if let Some(schemas) = raw
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in schemas {
            lint_schema(
                schema,
                &format!("components.schemas.{name}"),
                true,
                false,
                &mut err,
            );
        }
    }
    lint_tree(raw, "", &mut err);
    errors
}

fn lint_operations(raw: &Value, err: &mut impl FnMut(String, String)) {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let Some(paths) = raw.get("paths").and_then(Value::as_object) else {
        err("paths".into(), "the spec has no paths".into());
        return;
    };
    for (path, item) in paths {
        if item.get("$ref").is_some() {
            err(
                format!("paths.{path}"),
                "path items must not be $ref (progenitor cannot follow them)".into(),
            );
        }
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let at = format!("paths.{path}.{method}");
            match op.get("operationId").and_then(Value::as_str) {
                None => err(
                    at.clone(),
                    "missing operationId (progenitor names methods after it)".into(),
                ),
                Some(id) => {
                    if let Some(prev) = seen.insert(id.to_owned(), at.clone()) {
                        err(
                            at.clone(),
                            format!("operationId `{id}` is also used by {prev}"),
                        );
                    }
                }
            }
            let successes: Vec<String> = op
                .get("responses")
                .and_then(Value::as_object)
                .map(|r| {
                    r.iter()
                        .filter(|(code, body)| {
                            code.starts_with('2') && body.get("content").is_some()
                        })
                        .map(|(code, _)| code.clone())
                        .collect()
                })
                .unwrap_or_default();
            if successes.len() > 1 {
                err(
                    at.clone(),
                    format!(
                        "more than one success response with a body ({}); progenitor asserts at most one",
                        successes.join(", ")
                    ),
                );
            }
            if let Some(content) = op
                .pointer("/requestBody/content")
                .and_then(Value::as_object)
            {
                for media in content.keys() {
                    if media != "application/json" {
                        err(
                            at.clone(),
                            format!(
                                "request body `{media}` is not supported; use application/json"
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// Enum values must be quoted in the text: YAML reads `1.0` as a number, and a
/// YAML 1.1 tool (Python) reads `16:9` as 969 and `no` as false.
fn lint_unquoted_enums(text: &str, err: &mut impl FnMut(String, String)) {
    let mut in_block: Option<usize> = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if let Some(block_indent) = in_block {
            if trimmed.starts_with("- ") && indent >= block_indent {
                let item = trimmed[2..].trim();
                if !is_quoted(item) {
                    err(
                        format!("line {}", n + 1),
                        format!("enum value `{item}` is not quoted; write \"{item}\""),
                    );
                }
                continue;
            }
            in_block = None;
        }
        for key in ["enum:", "x-enum-varnames:"] {
            if let Some(rest) = trimmed.strip_prefix(key) {
                let rest = rest.trim();
                if rest.is_empty() {
                    in_block = Some(indent);
                } else if let Some(inner) = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']'))
                {
                    for item in split_flow(inner) {
                        if !is_quoted(&item) {
                            err(
                                format!("line {}", n + 1),
                                format!("enum value `{item}` is not quoted; write \"{item}\""),
                            );
                        }
                    }
                }
            }
        }
    }
}

/// Quoted, or a plain integer (integer enums are typed by the tree check, and
/// an integer reads the same in every YAML version).
fn is_quoted(item: &str) -> bool {
    let integer = !item.is_empty()
        && item
            .trim_start_matches('-')
            .chars()
            .all(|c| c.is_ascii_digit())
        && item != "-";
    integer
        || (item.starts_with('"') && item.ends_with('"') && item.len() >= 2)
        || (item.starts_with('\'') && item.ends_with('\'') && item.len() >= 2)
}

/// Splits a YAML flow sequence body on commas outside quotes.
fn split_flow(inner: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in inner.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                cur.push(c);
            }
            (Some(q), _) if c == q => {
                quote = None;
                cur.push(c);
            }
            (None, ',') => {
                items.push(cur.trim().to_owned());
                cur.clear();
            }
            _ => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        items.push(cur.trim().to_owned());
    }
    items
}

/// Checks one schema: enum typing, inline enums (allowed only as the pinned tag
/// of a oneOf variant), nested objects.
fn lint_schema(
    schema: &Value,
    at: &str,
    component: bool,
    in_variant: bool,
    err: &mut impl FnMut(String, String),
) {
    let Some(obj) = schema.as_object() else {
        return;
    };
    if obj.contains_key("$ref") {
        return;
    }
    let ty = obj.get("type").and_then(Value::as_str);
    if let Some(values) = obj.get("enum").and_then(Value::as_array) {
        let pinned_tag = in_variant && values.len() == 1;
        if !component && !pinned_tag {
            err(
                at.into(),
                "inline enum: make it a named component schema so the client and the models share \
                 one forward-compatible type"
                    .into(),
            );
        }
        match ty {
            Some("string") => {
                for v in values {
                    if !v.is_string() {
                        err(
                            at.into(),
                            format!(
                                "enum value {v} is not a string under `type: string`; quote it"
                            ),
                        );
                    }
                }
            }
            Some("integer") => {
                for v in values {
                    if !v.is_i64() {
                        err(
                            at.into(),
                            format!("enum value {v} is not an integer under `type: integer`"),
                        );
                    }
                }
            }
            other => err(
                at.into(),
                format!("enums must be `type: string` or `type: integer`, found {other:?}"),
            ),
        }
        if let Some(names) = obj.get("x-enum-varnames") {
            match names.as_array() {
                Some(n) if n.len() == values.len() && n.iter().all(Value::is_string) => {}
                _ => err(
                    at.into(),
                    format!(
                        "x-enum-varnames must list one string name per value ({} values)",
                        values.len()
                    ),
                ),
            }
        }
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            lint_schema(
                prop,
                &format!("{at}.properties.{name}"),
                false,
                in_variant,
                err,
            );
        }
    }
    if let Some(items) = obj.get("items") {
        lint_schema(items, &format!("{at}.items"), false, false, err);
    }
    if let Some(variants) = obj.get("oneOf").and_then(Value::as_array) {
        for (i, v) in variants.iter().enumerate() {
            lint_schema(v, &format!("{at}.oneOf[{i}]"), false, true, err);
        }
    }
    for key in ["allOf", "anyOf"] {
        if let Some(list) = obj.get(key).and_then(Value::as_array) {
            if key == "anyOf" {
                err(
                    at.into(),
                    "anyOf is not supported (typify flattens it into optional fields); use oneOf"
                        .into(),
                );
            }
            for (i, v) in list.iter().enumerate() {
                lint_schema(v, &format!("{at}.{key}[{i}]"), false, false, err);
            }
        }
    }
    if let (Some(pattern), Some(exts)) = (
        obj.get("pattern").and_then(Value::as_str),
        obj.get("x-allowed-extensions").and_then(Value::as_array),
    ) {
        // Case-insensitive without `(?i)`, which ECMA regexes (JSON Schema) lack.
        let classes: Vec<String> = exts
            .iter()
            .filter_map(Value::as_str)
            .map(|e| {
                e.chars()
                    .map(|c| match (c.to_ascii_uppercase(), c.to_ascii_lowercase()) {
                        (u, l) if u != l => format!("[{u}{l}]"),
                        _ => c.to_string(),
                    })
                    .collect()
            })
            .collect();
        let expected = format!("\\.({})$", classes.join("|"));
        if pattern != expected {
            err(
                at.into(),
                format!(
                    "pattern `{pattern}` and x-allowed-extensions disagree; write `{expected}`"
                ),
            );
        }
    }
}

/// Checks that hold anywhere in the document.
fn lint_tree(value: &Value, at: &str, err: &mut impl FnMut(String, String)) {
    match value {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("null") {
                err(
                    at.into(),
                    "`type: null` is OpenAPI 3.1; write `nullable: true` (typify panics on it)"
                        .into(),
                );
            }
            if let Some(Value::Array(types)) = map.get("type") {
                err(
                    at.into(),
                    format!(
                        "`type: {types:?}` (a list) is OpenAPI 3.1; use one type and `nullable: true`"
                    ),
                );
            }
            for (k, v) in map {
                if k == "example" || k == "examples" || k == "value" {
                    continue;
                }
                lint_tree(v, &format!("{at}/{k}"), err);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                lint_tree(v, &format!("{at}/{i}"), err);
            }
        }
        _ => {}
    }
}
