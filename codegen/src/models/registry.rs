//! `component_schemas()`: the schemars registry for the spec agreement test.

use crate::ir::{Model, TypeDef};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// `component_schemas()`: the schemars schema of every component, for the spec
/// agreement test.
pub(super) fn registry(model: &Model) -> TokenStream {
    let entries = model.types.iter().filter_map(|t| {
        let is_component = match t {
            TypeDef::Struct(s) => s.component,
            _ => true,
        };
        is_component.then(|| {
            let name = t.name();
            let ty = format_ident!("{}", name);
            quote!((#name, generator.root_schema_for::<#ty>()))
        })
    });
    quote! {
        /// The JSON schema schemars derives for every component schema of the spec, by name.
        ///
        /// Derived for serialization: a field is required when it is always
        /// written, which is what the spec's `required` lists say.
        #[cfg(feature = "schemars")]
        pub fn component_schemas() -> ::std::vec::Vec<(&'static str, ::schemars::Schema)> {
            let mut generator = ::schemars::generate::SchemaSettings::default()
                .for_serialize()
                .into_generator();
            ::std::vec![#(#entries),*]
        }
    }
}
