//! Scrubbing secrets out of text kept for diagnosis.
//!
//! PiAPI echoes `config.webhook_config.secret` in every task it returns, so a
//! raw body kept in an error would print the webhook secret. Bodies are
//! scrubbed before they are stored: the value of every JSON key that ends in
//! `secret` or `key` is replaced, even in a truncated or malformed body, and
//! the known secrets of the request are removed verbatim as well.

/// How many characters of a body an error keeps.
pub(crate) const BODY_LIMIT: usize = 2048;

const MASK: &str = "<redacted>";

/// `body` as text, truncated to [`BODY_LIMIT`] characters, with the values of
/// secret-looking JSON keys and every string of `known` replaced.
pub(crate) fn scrub_body(body: &[u8], known: &[&str]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out = scrub_json_values(&text);
    for secret in known.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret, MASK);
    }
    truncate(out)
}

/// Removes every string of `known` from `text` (for messages from servers).
pub(crate) fn scrub_text(text: &str, known: &[&str]) -> String {
    let mut out = scrub_json_values(text);
    for secret in known.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret, MASK);
    }
    out
}

fn truncate(mut text: String) -> String {
    if let Some((cut, _)) = text.char_indices().nth(BODY_LIMIT) {
        text.truncate(cut);
        text.push_str("…(truncated)");
    }
    text
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.ends_with("secret") || key.ends_with("key")
}

/// Replaces the string value after `"<secret-ish key>"\s*:\s*"` up to its
/// closing quote (or the end of a truncated body).
fn scrub_json_values(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        let Some(key_end) = closing_quote(bytes, i + 1) else {
            break;
        };
        let key = &text[i + 1..key_end];
        let mut j = skip_ws(bytes, key_end + 1);
        if j < bytes.len() && bytes[j] == b':' && is_secret_key(key) {
            j = skip_ws(bytes, j + 1);
            if j < bytes.len() && bytes[j] == b'"' {
                let value_end = closing_quote(bytes, j + 1).unwrap_or(bytes.len());
                out.push_str(&text[copied..=j]);
                out.push_str(MASK);
                copied = value_end;
                i = value_end + 1;
                continue;
            }
        }
        i = key_end + 1;
    }
    out.push_str(&text[copied.min(text.len())..]);
    out
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The index of the unescaped `"` closing a string that starts at `from`.
fn closing_quote(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Reads `"task_id":"<id>"` out of a body that could not be decoded, so that a
/// truncated or malformed create response still yields the task id. The id
/// must be complete (closing quote seen) and look like an id.
pub(crate) fn salvage_task_id(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(pos) = text[from..].find("\"task_id\"") {
        let start = from + pos + "\"task_id\"".len();
        from = start;
        let mut j = skip_ws(bytes, start);
        if j >= bytes.len() || bytes[j] != b':' {
            continue;
        }
        j = skip_ws(bytes, j + 1);
        if j >= bytes.len() || bytes[j] != b'"' {
            continue;
        }
        let Some(end) = closing_quote(bytes, j + 1) else {
            continue;
        };
        let id = &text[j + 1..end];
        let plausible = (8..=64).contains(&id.len())
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if plausible {
            return Some(id.to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_secret_values_even_when_truncated() {
        let body = br#"{"config":{"webhook_config":{"endpoint":"https://x","secret":"s3cr3t"}},"api_key" : "k-123"}"#;
        let out = scrub_body(body, &[]);
        assert!(!out.contains("s3cr3t"), "{out}");
        assert!(!out.contains("k-123"), "{out}");
        assert!(out.contains("https://x"));

        let cut = br#"{"webhook_config":{"secret":"s3cr"#;
        let out = scrub_body(cut, &[]);
        assert!(!out.contains("s3cr"), "{out}");
    }

    #[test]
    fn scrubs_known_strings_anywhere() {
        let out = scrub_body(b"bad key KEY-42 given", &["KEY-42"]);
        assert_eq!(out, "bad key <redacted> given");
    }

    #[test]
    fn escaped_quotes_do_not_end_a_secret_early() {
        let out = scrub_body(br#"{"secret":"a\"b","x":"y"}"#, &[]);
        assert_eq!(out, r#"{"secret":"<redacted>","x":"y"}"#);
    }

    #[test]
    fn truncates_long_bodies() {
        let body = "x".repeat(BODY_LIMIT + 10);
        let out = scrub_body(body.as_bytes(), &[]);
        assert!(out.ends_with("…(truncated)"));
        assert_eq!(out.chars().filter(|c| *c == 'x').count(), BODY_LIMIT);
    }

    #[test]
    fn salvages_complete_ids_only() {
        let body =
            br#"{"code":200,"data":{"task_id":"6e269e8c-2091-46c4-b4a5-40a4704a766a","model":"kl"#;
        assert_eq!(
            salvage_task_id(body).as_deref(),
            Some("6e269e8c-2091-46c4-b4a5-40a4704a766a")
        );
        assert_eq!(salvage_task_id(br#"{"data":{"task_id":"6e269e8c-20"#), None);
        assert_eq!(salvage_task_id(br#"{"task_id": "x"}"#), None);
        assert_eq!(salvage_task_id(b"<html>502</html>"), None);
    }
}
