//! Reading the spec: the text, the raw YAML tree (for the linter and `x-` extensions)
//! and the typed `openapiv3` document (for the generators).

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use std::path::Path;

/// A loaded spec.
pub struct Spec {
    /// The YAML text as read.
    pub text: String,
    /// The YAML parsed into a JSON tree, exactly as written (numbers stay numbers).
    pub raw: serde_json::Value,
    /// The typed OpenAPI document.
    pub openapi: openapiv3::OpenAPI,
    /// Hex SHA-256 of `text`, written into every generated file's header.
    pub sha256: String,
    /// The spec's path relative to the workspace root, for headers and messages.
    pub display_path: String,
}

impl Spec {
    /// Reads and parses a spec file.
    pub fn load(path: &Path, display_path: &str) -> Result<Spec> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Spec::parse(text, display_path)
    }

    /// Parses spec text. The typed document is only built once the raw tree is an
    /// OpenAPI 3.0.x document, so a 3.1 spec gets a clear message, not a serde error.
    pub fn parse(text: String, display_path: &str) -> Result<Spec> {
        let raw: serde_json::Value = serde_norway::from_str(&text)
            .with_context(|| format!("{display_path} is not valid YAML"))?;
        let version = raw.get("openapi").and_then(|v| v.as_str()).unwrap_or("");
        if !version.starts_with("3.0.") {
            bail!(
                "{display_path}: `openapi: {version}` is not supported; progenitor and openapiv3 read \
                 OpenAPI 3.0.x only (write `openapi: 3.0.3`)"
            );
        }
        // Parsed from the text, not from `raw`: a JSON map would sort the keys,
        // and property order is the field order of the generated structs.
        let openapi: openapiv3::OpenAPI = serde_norway::from_str(&text)
            .with_context(|| format!("{display_path} is not an OpenAPI 3.0 document"))?;
        let sha256 = Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Spec {
            text,
            raw,
            openapi,
            sha256,
            display_path: display_path.to_owned(),
        })
    }
}
