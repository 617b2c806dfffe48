//! Every enum of the spec round-trips: known values, unknown values, the
//! capitalised statuses of PiAPI's schema, and the `""` its examples send.

use piapi_kling_models::*;
use piapi_kling_tests::spec;
use serde::{Serialize, de::DeserializeOwned};
use std::fmt::Display;
use std::str::FromStr;

/// Known values: serde, `as_str`/`Display`, `FromStr` and `VALUES` agree.
fn check_string_enum<T>(values: &[&str], all: &[T], unknown: &str)
where
    T: Serialize + DeserializeOwned + Display + FromStr + PartialEq + std::fmt::Debug + AsRef<str>,
    <T as FromStr>::Err: std::fmt::Debug,
{
    assert_eq!(values.len(), all.len());
    for (value, known) in values.iter().zip(all) {
        let parsed: T = serde_json::from_value(serde_json::json!(value)).unwrap();
        assert_eq!(&parsed, known);
        assert_eq!(parsed.as_ref(), *value);
        assert_eq!(parsed.to_string(), *value);
        assert_eq!(
            serde_json::to_value(&parsed).unwrap(),
            serde_json::json!(value)
        );
        assert_eq!(&value.parse::<T>().unwrap(), known);
    }
    let other: T = serde_json::from_value(serde_json::json!(unknown)).unwrap();
    assert!(!all.contains(&other), "{unknown} must not be a known value");
    assert_eq!(other.as_ref(), unknown);
    assert_eq!(
        serde_json::to_value(&other).unwrap(),
        serde_json::json!(unknown)
    );
}

macro_rules! string_enums {
    ($($t:ident),* $(,)?) => {
        const STRING_ENUMS: &[&str] = &[$(stringify!($t)),*];
        #[test]
        fn every_string_enum_round_trips() {
            $(
                check_string_enum::<$t>($t::VALUES, $t::ALL, "a-value-from-the-future");
                assert!($t::ALL.iter().all($t::is_known));
                assert!(!$t::from("a-value-from-the-future").is_known());
            )*
        }
    };
}

string_enums!(
    Model,
    MotionDirection,
    OmniVersion,
    Resolution,
    TaskType,
    TaskStatus,
    ServiceMode,
    AspectRatio,
    Mode,
    Version,
    CameraType,
    Effect,
    CancelModel,
);

#[test]
fn every_enum_of_the_spec_is_covered() {
    let spec = spec();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let mut string_enums: Vec<&str> = Vec::new();
    let mut int_enums: Vec<&str> = Vec::new();
    for (name, schema) in schemas {
        if schema.get("enum").is_some() {
            match schema["type"].as_str() {
                Some("string") => string_enums.push(name),
                Some("integer") => int_enums.push(name),
                other => panic!("{name}: unexpected enum type {other:?}"),
            }
        }
    }
    let mut covered: Vec<&str> = STRING_ENUMS.to_vec();
    covered.sort();
    string_enums.sort();
    assert_eq!(covered, string_enums);
    assert_eq!(int_enums, ["VideoDuration"]);
}

#[test]
fn integer_enum_round_trips() {
    assert_eq!(VideoDuration::ALL.len(), 13);
    for (known, value) in VideoDuration::ALL.iter().zip(3..=15) {
        let parsed: VideoDuration = serde_json::from_str(&value.to_string()).unwrap();
        assert_eq!(&parsed, known);
        assert_eq!(serde_json::to_string(&parsed).unwrap(), value.to_string());
        assert_eq!(parsed.to_string().parse::<VideoDuration>().unwrap(), parsed);
    }
    let other: VideoDuration = serde_json::from_str("20").unwrap();
    assert_eq!(other, VideoDuration::Unknown(20));
    assert_eq!(serde_json::to_string(&other).unwrap(), "20");
    assert!("five".parse::<VideoDuration>().is_err());
    assert!(
        serde_json::from_str::<VideoDuration>("\"5\"").is_err(),
        "a string is not a Duration"
    );
}

#[test]
fn status_parses_any_casing_and_writes_lowercase() {
    for (doc_spelling, status) in [
        ("Completed", TaskStatus::Completed),
        ("Processing", TaskStatus::Processing),
        ("Pending", TaskStatus::Pending),
        ("Failed", TaskStatus::Failed),
        ("Staged", TaskStatus::Staged),
        ("COMPLETED", TaskStatus::Completed),
    ] {
        let parsed: TaskStatus = serde_json::from_value(serde_json::json!(doc_spelling)).unwrap();
        assert_eq!(parsed, status);
        assert_eq!(
            serde_json::to_value(&parsed).unwrap(),
            serde_json::json!(status.as_str())
        );
        assert_eq!(status.as_str(), doc_spelling.to_lowercase());
    }
}

#[test]
fn empty_values_round_trip() {
    // The seeds send `""` for service_mode and, in the create example, for status.
    let mode: ServiceMode = serde_json::from_str("\"\"").unwrap();
    assert_eq!(mode, ServiceMode::WorkspaceDefault);
    assert_eq!(serde_json::to_string(&mode).unwrap(), "\"\"");
    let status: TaskStatus = serde_json::from_str("\"\"").unwrap();
    assert_eq!(status, TaskStatus::Unknown(String::new()));
    assert_eq!(serde_json::to_string(&status).unwrap(), "\"\"");
}

#[test]
fn unknown_compares_equal_to_the_known_variant_with_that_value() {
    assert_eq!(
        TaskStatus::Unknown("completed".into()),
        TaskStatus::Completed
    );
    let mut set = std::collections::HashSet::new();
    set.insert(TaskStatus::Completed);
    assert!(set.contains(&TaskStatus::Unknown("completed".into())));
}

#[test]
fn numeric_looking_values_keep_their_spelling() {
    assert_eq!(Version::V1_6.as_str(), "1.6");
    assert_eq!(Version::V2_1Master.as_str(), "2.1-master");
    assert_eq!(AspectRatio::Landscape16x9.as_str(), "16:9");
    assert_eq!("2.6".parse::<Version>().unwrap(), Version::V2_6);
    assert!(!"4.0".parse::<Version>().unwrap().is_known());
}
