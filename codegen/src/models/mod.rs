//! The models generator: forward-compatible enums, structs with serde, the tagged
//! create-request enum, and `validate()` from every constraint and `x-rules` entry.
//!
//! Split by what is emitted: `enums`, `structs` (serde, setters,
//! constructors), `validate` (`validate()` from constraints and `x-rules`),
//! `tagged` (the create request and its shared accessors) and `registry`
//! (the schemars registry); the token helpers they share are in `crate::tokens`.

mod enums;
mod registry;
mod structs;
mod tagged;
mod validate;

use crate::catalog;
use crate::ir::{Model, TypeDef};
use proc_macro2::TokenStream;
use quote::quote;

use enums::{int_enum, string_enum};
use registry::registry;
use structs::structure;
use tagged::tagged;

/// Where the generated code finds its runtime support and the enums.
#[derive(Clone)]
pub struct ModelsOptions {
    /// A path such as `::piapi_kling_models` (for `validation` and `__private`).
    pub runtime: syn::Path,
    /// The module the types file imports the enums from (`super::enums`), or
    /// `None` when both are emitted into one module.
    pub enums_module: Option<syn::Path>,
}

impl Default for ModelsOptions {
    fn default() -> Self {
        ModelsOptions {
            runtime: syn::parse_quote!(::piapi_kling_models),
            enums_module: Some(syn::parse_quote!(super::enums)),
        }
    }
}

/// The generated token streams: enums, and structs with the tagged enums.
pub struct ModelsTokens {
    /// Every string and integer enum.
    pub enums: TokenStream,
    /// Every struct and tagged enum, plus the schema registry.
    pub types: TokenStream,
}

/// Generates the models from the IR.
pub fn generate(model: &Model, options: &ModelsOptions) -> ModelsTokens {
    let rt = &options.runtime;
    let mut enums = TokenStream::new();
    let mut types = TokenStream::new();
    if let Some(module) = &options.enums_module {
        types.extend(quote!(#[allow(unused_imports)] use #module::*;));
    }
    let with_media = catalog::structs_with_media(model);
    for def in &model.types {
        match def {
            TypeDef::StringEnum(e) => enums.extend(string_enum(e, rt)),
            TypeDef::IntEnum(e) => enums.extend(int_enum(e, rt)),
            TypeDef::Struct(s) => {
                types.extend(structure(s, model, rt));
                types.extend(catalog::struct_media(s, &with_media, rt));
            }
            TypeDef::Tagged(t) => {
                types.extend(tagged(t, model, rt));
                types.extend(catalog::tagged_catalog(t, model, &with_media, rt));
            }
        }
    }
    types.extend(registry(model));
    ModelsTokens { enums, types }
}
