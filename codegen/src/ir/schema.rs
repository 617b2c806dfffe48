//! Reading one schema: its doc, its `x-` extensions, what kind it is.

use anyhow::{Result, anyhow, bail};
use openapiv3::{ReferenceOr, Schema, SchemaKind, Type};
use serde_json::Value;

use crate::meta::{self, MediaDef};

/// `x-media` of a string property, or of the string items of an array.
pub(super) fn media_of(schema: &Schema) -> Result<Option<MediaDef>> {
    if let Some(v) = ext(schema, "x-media") {
        if !matches!(schema.schema_kind, SchemaKind::Type(Type::String(_))) {
            bail!("x-media belongs on a string property or on the `items` of a list of strings");
        }
        return meta::media(v).map(Some);
    }
    if let SchemaKind::Type(Type::Array(a)) = &schema.schema_kind
        && let Some(ReferenceOr::Item(items)) = &a.items
        && let Some(v) = ext(items, "x-media")
    {
        if !matches!(items.schema_kind, SchemaKind::Type(Type::String(_))) {
            bail!("x-media on `items` needs string items");
        }
        return meta::media(v).map(Some);
    }
    Ok(None)
}

/// The text of `description`, trimmed; empty when there is none.
pub(super) fn doc_of(schema: &Schema) -> String {
    schema
        .schema_data
        .description
        .as_deref()
        .unwrap_or("")
        .trim()
        .to_owned()
}

pub(super) fn ext<'a>(schema: &'a Schema, key: &str) -> Option<&'a Value> {
    schema.schema_data.extensions.get(key)
}

pub(super) fn ext_bool(schema: &Schema, key: &str) -> bool {
    ext(schema, key).and_then(Value::as_bool).unwrap_or(false)
}

/// The reason of `x-open-enum`, which must be a non-empty string.
pub(super) fn open_enum_reason(schema: &Schema) -> Result<Option<String>> {
    match ext(schema, "x-open-enum") {
        None => Ok(None),
        Some(Value::String(reason)) if !reason.trim().is_empty() => {
            Ok(Some(reason.trim().to_owned()))
        }
        Some(_) => bail!("x-open-enum must be a non-empty string: the reason the list grows"),
    }
}

pub(super) fn string_list(value: &Value, what: &str) -> Result<Vec<String>> {
    value
        .as_array()
        .ok_or_else(|| anyhow!("{what} must be a list of strings"))?
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| anyhow!("{what} must be a list of strings, found {v}"))
        })
        .collect()
}

pub(super) fn kind_label(kind: &SchemaKind) -> &'static str {
    match kind {
        SchemaKind::Type(Type::String(_)) => "a plain string schema",
        SchemaKind::Type(Type::Number(_)) => "a number schema",
        SchemaKind::Type(Type::Integer(_)) => "an integer schema",
        SchemaKind::Type(Type::Boolean(_)) => "a boolean schema",
        SchemaKind::Type(Type::Array(_)) => "an array schema",
        SchemaKind::Type(Type::Object(_)) => "an object schema",
        SchemaKind::OneOf { .. } => "oneOf",
        SchemaKind::AllOf { .. } => "allOf",
        SchemaKind::AnyOf { .. } => "anyOf",
        SchemaKind::Not { .. } => "not",
        SchemaKind::Any(_) => "an untyped schema",
    }
}
