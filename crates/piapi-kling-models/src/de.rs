//! Lenient decoders the generated code uses where PiAPI's documentation and its
//! examples disagree about a field's JSON type (`x-accept-numeric-string`).

use serde::de::{self, Deserializer, Visitor};
use std::fmt;

struct NumberOrString;

impl<'de> Visitor<'de> for NumberOrString {
    type Value = Option<f64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, a string holding a number, or null")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        v.trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(NumberOrString)
    }
}

/// Decodes an optional number sent either as a JSON number or as a numeric string.
pub fn option_f64_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    d.deserialize_any(NumberOrString)
}

/// Decodes a required number sent either as a JSON number or as a numeric string.
pub fn f64_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    d.deserialize_any(NumberOrString)?
        .ok_or_else(|| de::Error::custom("expected a number, got null"))
}

struct EnumVisitor<T> {
    expecting: &'static str,
    marker: std::marker::PhantomData<T>,
}

impl<'de, T: for<'a> From<&'a str> + From<String>> Visitor<'de> for EnumVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Ok(T::from(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<T, E> {
        Ok(T::from(v))
    }
}

/// Decodes a generated string enum (unknown values become `Unknown`).
pub fn string_enum<'de, D, T>(d: D, expecting: &'static str) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: for<'a> From<&'a str> + From<String>,
{
    d.deserialize_str(EnumVisitor {
        expecting,
        marker: std::marker::PhantomData,
    })
}

struct IntVisitor<T> {
    expecting: &'static str,
    marker: std::marker::PhantomData<T>,
}

impl<'de, T: From<i64>> Visitor<'de> for IntVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Ok(T::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        i64::try_from(v)
            .map(T::from)
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }
}

/// Decodes a generated integer enum (unknown values become `Unknown`).
pub fn int_enum<'de, D, T>(d: D, expecting: &'static str) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: From<i64>,
{
    d.deserialize_i64(IntVisitor {
        expecting,
        marker: std::marker::PhantomData,
    })
}

/// Prints `"<redacted>"` in place of a secret in Debug output.
#[derive(Clone, Copy)]
pub struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

/// Decodes one variant of a tagged request from its JSON object, naming the
/// path of the field that failed (`input.prompt: invalid type: …`).
pub fn from_object<T, E>(map: serde_json::Map<String, serde_json::Value>) -> Result<T, E>
where
    T: serde::de::DeserializeOwned,
    E: de::Error,
{
    serde_path_to_error::deserialize(serde_json::Value::Object(map)).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            E::custom(e.into_inner())
        } else {
            E::custom(format!("{path}: {}", e.into_inner()))
        }
    })
}
