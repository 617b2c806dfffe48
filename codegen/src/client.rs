//! The low-level client: progenitor, with every component schema replaced by the
//! models crate's type so no type is defined twice.

use crate::ir::{Model, TypeDef};
use anyhow::{Context, Result};
use proc_macro2::TokenStream;
use progenitor_impl::{
    GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl,
};
use quote::quote;

/// Generates the client tokens; `models_crate` is a path such as `::piapi_kling_models`.
///
/// The client carries a `crate::RequestContext` (API key, extra headers) and
/// the client crate implements `ClientHooks` itself (`HooksMode::Expected`),
/// so authentication and per-request headers work on any `reqwest::Client`.
pub fn generate(
    openapi: &openapiv3::OpenAPI,
    model: &Model,
    models_crate: &str,
) -> Result<TokenStream> {
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_inner_type(quote!(crate::RequestContext))
        .with_hooks(HooksMode::Expected);
    for def in &model.types {
        let impls: Vec<TypeImpl> = match def {
            TypeDef::StringEnum(_) | TypeDef::IntEnum(_) => {
                vec![TypeImpl::Display, TypeImpl::FromStr]
            }
            TypeDef::Struct(s) if !s.component => continue,
            TypeDef::Struct(_) | TypeDef::Tagged(_) => Vec::new(),
        };
        settings.with_replacement(
            def.name(),
            format!("{models_crate}::{}", def.name()),
            impls.into_iter(),
        );
    }
    let mut generator = Generator::new(&settings);
    generator
        .generate_tokens(openapi)
        .context("progenitor could not generate the client")
}
