//! Reading a batch file: one create request per line, each checked locally
//! before anything is sent.

use std::collections::HashMap;

use piapi_kling::models::{CreateTaskRequest, Validate};

/// Stands in for a local file while the rest of its line is checked.
const LOCAL_FILE_STAND_IN: &str = "https://local.file.invalid/upload";
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A valid line: a request ready to send.
#[derive(Clone, Debug)]
pub struct Line {
    /// The line's `"id"`, else its line number.
    pub id: String,
    /// The 1-based line number in the file.
    pub number: usize,
    /// The request, without the `"id"`.
    pub request: CreateTaskRequest,
    /// SHA-256 of the request, to notice a file that changed between runs.
    pub fingerprint: String,
    /// What the local check warned about (values the spec does not list,
    /// sent as given), printed before the batch starts.
    pub warnings: Vec<String>,
}

/// A line that cannot be sent, with every problem found in it.
#[derive(Clone, Debug, PartialEq)]
pub struct Invalid {
    /// The 1-based line number.
    pub number: usize,
    /// The line's id, when it could be read.
    pub id: Option<String>,
    /// What is wrong, one problem each (a violation names field and rule).
    pub problems: Vec<String>,
}

/// Every line of a file, sorted into valid and invalid.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The valid lines, in file order.
    pub lines: Vec<Line>,
    /// The invalid lines, in file order.
    pub invalid: Vec<Invalid>,
}

/// Parses and validates every non-blank line of `text`.
pub fn parse(text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        match parse_line(raw, number) {
            Ok(line) => {
                if let Some(first) = seen.get(&line.id) {
                    parsed.invalid.push(Invalid {
                        number,
                        problems: vec![format!("id `{}` is already used by line {first}", line.id)],
                        id: Some(line.id),
                    });
                } else {
                    seen.insert(line.id.clone(), number);
                    parsed.lines.push(line);
                }
            }
            Err(invalid) => parsed.invalid.push(invalid),
        }
    }
    parsed
}

fn parse_line(raw: &str, number: usize) -> Result<Line, Invalid> {
    let fail = |id: Option<String>, problems: Vec<String>| Invalid {
        number,
        id,
        problems,
    };
    let mut value: Value =
        serde_json::from_str(raw).map_err(|e| fail(None, vec![format!("not valid JSON: {e}")]))?;
    let Some(object) = value.as_object_mut() else {
        return Err(fail(None, vec!["not a JSON object".to_owned()]));
    };
    let id = match object.remove("id") {
        None => number.to_string(),
        Some(Value::String(id)) if !id.trim().is_empty() => id,
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => {
            return Err(fail(
                None,
                vec!["id: must be a non-empty string or a number".to_owned()],
            ));
        }
    };
    let request: CreateTaskRequest = serde_json::from_value(value).map_err(|e| {
        fail(
            Some(id.clone()),
            vec![format!("not a create-task request: {e}")],
        )
    })?;
    // A media field may name a local file (relative to the working
    // directory): the SDK checks and uploads it when the line is sent. Here
    // it must exist, and the rest of the line is checked around it.
    let mut checked = request.clone();
    let mut problems = Vec::new();
    for slot in checked.media_mut() {
        if !slot.names_local_file() {
            continue;
        }
        if !std::path::Path::new(slot.url.as_str()).is_file() {
            problems.push(format!(
                "{}: `{}` is neither an http(s) URL nor an existing file (format)",
                slot.path, slot.url
            ));
        }
        *slot.url = LOCAL_FILE_STAND_IN.to_owned();
    }
    let warnings = match checked.report().into_result(false) {
        Ok(warnings) if problems.is_empty() => warnings.iter().map(ToString::to_string).collect(),
        Ok(_) => return Err(fail(Some(id), problems)),
        Err(violations) => {
            problems.extend(violations.iter().map(ToString::to_string));
            return Err(fail(Some(id), problems));
        }
    };
    let encoded = serde_json::to_vec(&request).unwrap_or_default();
    let fingerprint = Sha256::digest(&encoded)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Line {
        id,
        number,
        request,
        fingerprint,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIDEO: &str = r#"{"model":"kling","task_type":"video_generation","input":{"prompt":"a fox","aspect_ratio":"16:9"}}"#;

    #[test]
    fn ids_default_to_line_numbers_and_must_be_unique() {
        let text = format!(
            "{VIDEO}\n\n{}\n{}\n",
            VIDEO.replacen('{', r#"{"id":"fox","#, 1),
            VIDEO.replacen('{', r#"{"id":"fox","#, 1)
        );
        let parsed = parse(&text);
        let ids: Vec<_> = parsed
            .lines
            .iter()
            .map(|l| (l.id.as_str(), l.number))
            .collect();
        assert_eq!(ids, [("1", 1), ("fox", 3)]);
        assert_eq!(parsed.invalid.len(), 1);
        assert_eq!(parsed.invalid[0].number, 4);
        assert!(parsed.invalid[0].problems[0].contains("line 3"));
        assert_eq!(parsed.lines[0].fingerprint, parsed.lines[1].fingerprint);
        assert_eq!(parsed.lines[0].fingerprint.len(), 64);
    }

    #[test]
    fn every_problem_of_every_line_is_reported() {
        let long = "x".repeat(2501);
        let text = format!(
            "not json\n[1]\n{}\n{}\n",
            r#"{"model":"kling","task_type":"video_generation","input":{"prompt":5}}"#,
            VIDEO
                .replace("a fox", &long)
                .replace("16:9", "")
                .replace(r#""aspect_ratio""#, r#""mode":"","negative_prompt""#)
        );
        let parsed = parse(&text);
        assert!(parsed.lines.is_empty(), "{:?}", parsed.lines);
        let numbers: Vec<_> = parsed.invalid.iter().map(|i| i.number).collect();
        assert_eq!(numbers, [1, 2, 3, 4]);
        assert!(
            parsed.invalid[2].problems[0].contains("input.prompt: invalid type"),
            "{:?}",
            parsed.invalid[2]
        );
        let last = &parsed.invalid[3].problems;
        assert_eq!(last.len(), 2, "{last:?}");
        assert!(last.iter().any(|p| p.contains("input.prompt")));
        assert!(last.iter().any(|p| p.contains("input.aspect_ratio")));
    }

    #[test]
    fn newer_values_task_types_and_fields_are_kept_with_warnings() {
        let text = concat!(
            r#"{"model":"kling","task_type":"video_generation","input":{"prompt":"p","aspect_ratio":"4:3","version":"4.0","duration":20,"native_voice":true}}"#,
            "\n",
            r#"{"model":"kling","task_type":"kling_hologram","input":{"image_url":"https://e.com/a.png"},"config":{"service_mode":"public"}}"#,
            "\n"
        );
        let parsed = parse(text);
        assert!(parsed.invalid.is_empty(), "{:?}", parsed.invalid);
        let first = &parsed.lines[0];
        assert_eq!(first.warnings.len(), 3, "{:?}", first.warnings);
        let sent = serde_json::to_value(&first.request).unwrap();
        assert_eq!(sent["input"]["native_voice"], true);
        assert_eq!(sent["input"]["duration"], 20);
        let second = &parsed.lines[1];
        assert_eq!(second.request.task_type(), "kling_hologram");
        assert_eq!(second.warnings.len(), 1, "{:?}", second.warnings);
        assert_eq!(
            serde_json::to_value(&second.request).unwrap()["input"]["image_url"],
            "https://e.com/a.png"
        );
    }
}
