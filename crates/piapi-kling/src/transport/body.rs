//! Reading a response body by hand: whole, or as much as arrived, and the
//! status a PiAPI body names at its start even when the rest is cut short.

/// Reads the whole body, keeping what arrived if the body is cut short.
pub(super) async fn read_body(
    response: &mut reqwest::Response,
) -> Result<Vec<u8>, (Vec<u8>, reqwest::Error)> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => return Ok(body),
            Err(e) => return Err((body, e)),
        }
    }
}

/// The status a PiAPI body names in its leading `"code": <status>` (every
/// PiAPI body starts with it), read even from a body that is cut short or
/// malformed further on.
pub(super) fn leading_code(body: &[u8]) -> Option<u16> {
    let rest = body.trim_ascii_start().strip_prefix(b"{")?;
    let rest = rest.trim_ascii_start().strip_prefix(b"\"code\"")?;
    let rest = rest.trim_ascii_start().strip_prefix(b":")?;
    let rest = rest.trim_ascii_start();
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits != 3
        || rest
            .get(digits)
            .is_some_and(|b| b.is_ascii_digit() || *b == b'.')
    {
        return None;
    }
    let code: u16 = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    (100..600).contains(&code).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_leading_code_is_read_strictly() {
        assert_eq!(leading_code(br#" { "code" : 404 , "message""#), Some(404));
        assert_eq!(leading_code(br#"{"code":200,"data":{"#), Some(200));
        assert_eq!(leading_code(br#"{"data":{},"code":500}"#), None);
        assert_eq!(leading_code(br#"{"code":5000}"#), None);
        assert_eq!(leading_code(br#"{"code":50"#), None);
        assert_eq!(leading_code(br#"{"code":200.5}"#), None);
        assert_eq!(leading_code(b"<html>"), None);
        assert_eq!(leading_code(b""), None);
    }
}
