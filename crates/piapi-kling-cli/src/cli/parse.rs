//! The parsers of flag values that clap does not have: enum flags that list
//! the spec's values, dollars, shots, motion-brush points, `--set`, headers,
//! sizes and times.

use std::str::FromStr;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use piapi_kling::Usd;
use piapi_kling::models::{MotionMask, MotionPoint, Shot};
use reqwest::header::{HeaderName, HeaderValue};

/// Dollars (`12.50`, `$12.50`).
pub(super) fn parse_usd(text: &str) -> Result<Usd, String> {
    let dollars: f64 = text
        .trim()
        .trim_start_matches('$')
        .parse()
        .map_err(|_| format!("`{text}` is not an amount of dollars, e.g. 12.50"))?;
    if !(dollars.is_finite() && dollars >= 0.0) {
        return Err(format!("`{text}` must be zero or more dollars"));
    }
    Ok(Usd::from_dollars(dollars))
}

/// A shot from `3s:a door opens` (or `3:a door opens`).
pub(super) fn parse_shot(text: &str) -> Result<Shot, String> {
    let (seconds, prompt) = text
        .split_once(':')
        .ok_or_else(|| format!("expected SECONDS:TEXT, e.g. 3s:a door opens, got `{text}`"))?;
    let seconds: i64 = seconds
        .trim()
        .trim_end_matches('s')
        .parse()
        .map_err(|_| format!("`{seconds}` is not a whole number of seconds"))?;
    if prompt.trim().is_empty() {
        return Err("a shot needs a text after the colon".into());
    }
    Ok(Shot::new(prompt.trim(), seconds))
}

/// A motion-brush region from `[[x, y], …]` (pixels of the input image).
pub(super) fn parse_points(text: &str) -> Result<MotionMask, String> {
    let points: Vec<(i64, i64)> = serde_json::from_str(text)
        .map_err(|e| format!("expected points as JSON, e.g. [[10,20],[30,40]]: {e}"))?;
    Ok(MotionMask::new(
        points
            .into_iter()
            .map(|(x, y)| MotionPoint::new(x, y))
            .collect::<Vec<_>>(),
    ))
}

/// The parser of an enum flag: help lists the values the spec knows; a
/// closed enum takes only those (clap prints the list on a typo), an open one
/// (`x-open-enum`: versions, durations, effects …) also takes a value PiAPI
/// added after this release, which the SDK sends with a warning.
pub(super) fn known<T>(values: &'static [&'static str], open: bool) -> EnumParser<T>
where
    T: FromStr + Clone + Send + Sync + 'static,
{
    EnumParser {
        // Some enums list "" (unset) as a value; it is not a useful flag value.
        listed: values.iter().copied().filter(|v| !v.is_empty()).collect(),
        open,
        marker: std::marker::PhantomData,
    }
}

/// See [`known`].
#[derive(Clone)]
pub struct EnumParser<T> {
    listed: Vec<&'static str>,
    open: bool,
    marker: std::marker::PhantomData<fn() -> T>,
}

impl<T> TypedValueParser for EnumParser<T>
where
    T: FromStr + Clone + Send + Sync + 'static,
{
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let text = if self.open {
            clap::builder::NonEmptyStringValueParser::new().parse_ref(cmd, arg, value)?
        } else {
            PossibleValuesParser::new(self.listed.clone()).parse_ref(cmd, arg, value)?
        };
        text.parse::<T>().map_err(|_| {
            clap::Error::raw(
                clap::error::ErrorKind::InvalidValue,
                format!("`{text}` is not a valid value\n"),
            )
            .with_cmd(cmd)
        })
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            self.listed
                .iter()
                .map(|v| clap::builder::PossibleValue::new(*v)),
        ))
    }
}

/// `input.NAME=VALUE` into the field's name and JSON value.
pub(super) fn parse_set(text: &str) -> Result<(String, serde_json::Value), String> {
    let (path, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not input.NAME=VALUE"))?;
    let name = path
        .trim()
        .strip_prefix("input.")
        .filter(|n| !n.is_empty() && !n.contains('.'))
        .ok_or_else(|| format!("`{path}`: only fields of input can be set (input.NAME)"))?;
    let value = serde_json::from_str(value).unwrap_or_else(|_| value.to_owned().into());
    Ok((name.to_owned(), value))
}

/// `NAME:VALUE` into a header.
pub(super) fn parse_header(text: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("`{text}` is not NAME:VALUE"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|e| format!("invalid header name `{}`: {e}", name.trim()))?;
    let value = HeaderValue::from_str(value.trim())
        .map_err(|e| format!("invalid value for header `{name}`: {e}"))?;
    Ok((name, value))
}

/// A size in bytes: `1048576`, or a number with a unit, decimal (kB, MB, GB)
/// or binary (KiB, MiB, GiB), case-insensitive.
pub(super) fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        other => {
            return Err(format!(
                "unknown unit `{other}` (use B, kB, MB, GB, KiB, MiB or GiB)"
            ));
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size (e.g. 2GiB, 500MB, 1048576)"))?;
    let bytes = value * multiplier as f64;
    if !(bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("`{text}` is not a size of at least 1 byte"));
    }
    Ok(bytes as u64)
}

/// `now`, unix seconds, or RFC 3339.
pub(super) fn parse_time(text: &str) -> Result<std::time::SystemTime, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("now") {
        // PiAPI takes whole seconds and the SDK rounds down, which would
        // spare the tasks created during the current second: round up.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| format!("the clock is before 1970: {e}"))?;
        return Ok(std::time::UNIX_EPOCH + Duration::from_secs(now.as_secs() + 1));
    }
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(std::time::UNIX_EPOCH + Duration::from_secs(secs));
    }
    humantime::parse_rfc3339_weak(text)
        .map_err(|e| format!("`{text}` is not `now`, unix seconds or RFC 3339 ({e})"))
}
