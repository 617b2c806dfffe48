#[allow(dead_code, unexpected_cfgs)]
mod generated {
    include!("../snapshots/enums.rs");
}
use generated::*;

fn main() {
    // Mechanical names for numeric-looking values, wire values kept.
    assert_eq!(Version::V1_0.as_str(), "1.0");
    assert_eq!(Version::V16.as_str(), "16");
    assert_eq!(Version::V2_1Master.as_str(), "2.1-master");
    assert_eq!(Ratio::Wide.to_string(), "16:9");
    // Case-insensitive parsing writes the spec's spelling.
    let s: Status = serde_json::from_str("\"COMPLETED\"").unwrap();
    assert_eq!(s, Status::Completed);
    assert_eq!(serde_json::to_string(&s).unwrap(), "\"completed\"");
    assert_eq!("".parse::<Status>().unwrap(), Status::Empty);
    // The value spelled unknown is a known variant; other values are Unknown.
    assert!("unknown".parse::<Outcome>().unwrap().is_known());
    let other: Outcome = serde_json::from_str("\"later\"").unwrap();
    assert_eq!(other, Outcome::Unknown("later".into()));
    assert_eq!(serde_json::to_string(&other).unwrap(), "\"later\"");
    // Integer enums keep unknown numbers.
    let n: Seconds = serde_json::from_str("7").unwrap();
    assert_eq!(n.as_i64(), 7);
    assert!(!n.is_known());
    assert_eq!(Seconds::ALL.len(), 2);
}
