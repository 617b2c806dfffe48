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

/// The servers of the spec, for the client's `servers` module: the API's
/// own (the first of the top-level `servers`) and, for each operation served
/// on a host of its own (path- or operation-level `servers`, first entry), a
/// constant and an entry of `OPERATION_SERVERS`. progenitor sends every
/// operation to the client's base URL; the client crate's `pre` hook sends
/// these to their own host.
pub fn servers(openapi: &openapiv3::OpenAPI) -> Result<TokenStream> {
    let default = openapi
        .servers
        .first()
        .map(|s| s.url.clone())
        .context("the spec names no server")?;
    let mut constants = Vec::new();
    let mut entries = Vec::new();
    for (path, item) in &openapi.paths.paths {
        let openapiv3::ReferenceOr::Item(item) = item else {
            continue;
        };
        for (_, operation) in item.iter() {
            let Some(server) = operation.servers.first().or(item.servers.first()) else {
                continue;
            };
            // progenitor names operations (and their `OperationInfo`) in snake case.
            let id =
                heck::ToSnakeCase::to_snake_case(operation.operation_id.as_deref().with_context(
                    || format!("an operation of {path} has its own server but no operationId"),
                )?);
            let id = id.as_str();
            let name = quote::format_ident!("{}_SERVER", id.to_uppercase());
            let url = &server.url;
            let doc = format!(
                " The host of `{id}` (`{path}`), from the spec's operation-level `servers`."
            );
            constants.push(quote! {
                #[doc = #doc]
                pub const #name: &str = #url;
            });
            entries.push(quote! { (#id, #name) });
        }
    }
    Ok(quote! {
        //! The servers the spec names.

        /// The API's host: the first of the spec's `servers`.
        pub const DEFAULT_SERVER: &str = #default;
        #(#constants)*
        /// Operations served on a host of their own, by operation id, with
        /// that host.
        pub const OPERATION_SERVERS: &[(&str, &str)] = &[#(#entries),*];
    })
}
