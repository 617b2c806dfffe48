//! The generators of the piapi-kling workspace, as a library.
//!
//! - [`lint`]: rejects specs that would panic or mis-generate, with a clear message;
//! - [`ir`] + [`models`]: our own generator of the models crate (forward-compatible
//!   enums, structs, the tagged create request, `validate()`);
//! - [`client`]: progenitor for the low-level client, using the models' types;
//! - [`mod@format`]: prettyplease formatting and the `@generated` header.
//!
//! `cargo xtask generate` calls [`generate_workspace`] and writes what it returns.
#![deny(missing_docs)]

pub mod catalog;
pub mod client;
pub mod format;
pub mod ir;
pub mod lint;
pub mod load;
pub mod meta;
pub mod models;
pub mod rules;
pub mod sdk;
mod tokens;

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

pub use load::Spec;

/// The spec, relative to the workspace root.
pub const SPEC_PATH: &str = "spec/piapi-kling.yaml";
/// The generated enums of the models crate.
pub const MODELS_ENUMS_PATH: &str = "crates/piapi-kling-models/src/generated/enums.rs";
/// The generated structs of the models crate.
pub const MODELS_TYPES_PATH: &str = "crates/piapi-kling-models/src/generated/types.rs";
/// The generated progenitor client.
pub const CLIENT_PATH: &str = "crates/piapi-kling-client/src/generated.rs";
/// The servers the spec names (the API's, and those of operations with a host of their own).
pub const CLIENT_SERVERS_PATH: &str = "crates/piapi-kling-client/src/servers.rs";
/// The SDK's typed setters, one per input field of every task type.
pub const SDK_SETTERS_PATH: &str = "crates/piapi-kling/src/generated/setters.rs";

/// One file the generators produce.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedFile {
    /// Path relative to the workspace root.
    pub path: PathBuf,
    /// The full text, header included.
    pub contents: String,
}

/// The models generated from one spec.
pub struct ModelsOutput {
    /// `enums.rs`.
    pub enums: String,
    /// `types.rs`.
    pub types: String,
}

/// Lints a spec and fails with every problem listed: the linter's rules,
/// then everything the generator would reject (name collisions, a value
/// named `Unknown`, `x-rules`, `x-media`, `x-simulate`, `x-price`), so that
/// `cargo xtask lint` and `generate` accept exactly the same specs.
pub fn lint_spec(spec: &Spec) -> Result<()> {
    checked_model(spec).map(drop)
}

/// The linter's rules, then the model the generators work from (building it
/// is the generator's own check).
fn checked_model(spec: &Spec) -> Result<ir::Model> {
    let errors = lint::lint(&spec.text, &spec.raw);
    if errors.is_empty() {
        return ir::build(&spec.openapi)
            .with_context(|| format!("{}: the generator rejects it", spec.display_path));
    }
    let list: Vec<String> = errors.iter().map(|e| format!("  - {e}")).collect();
    bail!(
        "{} has {} problem(s):\n{}",
        spec.display_path,
        errors.len(),
        list.join("\n")
    )
}

/// Lints the spec and generates the models (used by the workspace and the snapshot tests).
pub fn generate_models(spec: &Spec, options: &models::ModelsOptions) -> Result<ModelsOutput> {
    let model = checked_model(spec)?;
    format_models(spec, &model, options)
}

fn format_models(
    spec: &Spec,
    model: &ir::Model,
    options: &models::ModelsOptions,
) -> Result<ModelsOutput> {
    let tokens = models::generate(model, options);
    let header = format::header(&spec.display_path, &spec.sha256);
    Ok(ModelsOutput {
        enums: format::format_file(&header, tokens.enums)?,
        types: format::format_file(&header, tokens.types)?,
    })
}

/// Generates every file of the workspace from `root/spec/piapi-kling.yaml`, in memory.
pub fn generate_workspace(root: &Path) -> Result<Vec<GeneratedFile>> {
    let spec = Spec::load(&root.join(SPEC_PATH), SPEC_PATH)?;
    // One model serves every generator.
    let model = checked_model(&spec)?;
    let out = format_models(&spec, &model, &models::ModelsOptions::default())?;
    let client_tokens = client::generate(&spec.openapi, &model, "::piapi_kling_models")?;
    let header = format::header(&spec.display_path, &spec.sha256);
    let client = format::format_file(&header, client_tokens)?;
    Ok(vec![
        GeneratedFile {
            path: MODELS_ENUMS_PATH.into(),
            contents: out.enums,
        },
        GeneratedFile {
            path: MODELS_TYPES_PATH.into(),
            contents: out.types,
        },
        GeneratedFile {
            path: CLIENT_PATH.into(),
            contents: client,
        },
        GeneratedFile {
            path: CLIENT_SERVERS_PATH.into(),
            contents: format::format_file(&header, client::servers(&spec.openapi)?)?,
        },
        GeneratedFile {
            path: SDK_SETTERS_PATH.into(),
            contents: format::format_file(&header, sdk::generate(&model))?,
        },
    ])
}

/// A generated file whose committed text differs from what the spec produces.
#[derive(Debug, Clone)]
pub struct StaleFile {
    /// Path relative to the workspace root.
    pub path: PathBuf,
    /// What is on disk (empty when missing).
    pub committed: String,
    /// What the generators produce now.
    pub expected: String,
}

/// Compares the generated files with those on disk (line endings normalised).
pub fn stale_files(root: &Path, files: &[GeneratedFile]) -> Vec<StaleFile> {
    files
        .iter()
        .filter_map(|f| {
            let committed = std::fs::read_to_string(root.join(&f.path))
                .unwrap_or_default()
                .replace("\r\n", "\n");
            (committed != f.contents).then(|| StaleFile {
                path: f.path.clone(),
                committed,
                expected: f.contents.clone(),
            })
        })
        .collect()
}

/// Writes the files whose content changed, and returns their paths; untouched
/// files keep their modification time, so cargo does not rebuild for nothing.
pub fn write_changed(root: &Path, files: &[GeneratedFile]) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for stale in stale_files(root, files) {
        let path = root.join(&stale.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, &stale.expected)?;
        written.push(stale.path);
    }
    Ok(written)
}
