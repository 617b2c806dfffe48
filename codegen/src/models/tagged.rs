//! The tagged create-request enum and the accessors its variants share.

use crate::ir::{FieldType, Model, NamedKind, StructDef, TaggedDef, TypeDef, field_ident};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::structs::*;
use crate::tokens::*;

pub(super) fn tagged(t: &TaggedDef, model: &Model, rt: &syn::Path) -> TokenStream {
    let name = ident(&t.name);
    let doc = docs(&t.doc);
    let tag = &t.tag;
    let method = ident(&field_ident(tag));
    let unknown = ident(&t.unknown.name);
    let variants = t.variants.iter().map(|v| {
        let id = ident(&v.ident);
        let payload = ident(&v.payload);
        let value = &v.value;
        let d = docs(&v.doc);
        quote!(#d #[serde(rename = #value)] #id(#payload),)
    });
    let idents: Vec<Ident> = t.variants.iter().map(|v| ident(&v.ident)).collect();
    let values: Vec<&str> = t.variants.iter().map(|v| v.value.as_str()).collect();
    let froms = t.variants.iter().map(|v| {
        let id = ident(&v.ident);
        let payload = ident(&v.payload);
        quote! {
            impl ::std::convert::From<#payload> for #name {
                fn from(value: #payload) -> Self {
                    #name::#id(value)
                }
            }
        }
    });
    let method_doc = format!(" The `{tag}` this value is sent with.");
    let values_doc = format!(" Every `{tag}` value the spec lists, in spec order.");
    let unknown_doc = format!(
        " A `{tag}` the spec does not list, kept whole: it decodes, validates what is \
         known (the shared fields) and is sent as given."
    );
    let accessors = shared_accessors(t, model);
    let payload_struct = structure(&t.unknown, model, rt);
    let unlisted = format!("`{{}}` is not a `{tag}` this SDK knows; it is sent as given");
    quote! {
        #doc
        // Variants differ in size; boxing them would cost every user a `Box::new`
        // for a value built once per request.
        #[allow(clippy::large_enum_variant)]
        #[derive(Clone, Debug, PartialEq, ::serde::Serialize)]
        #[serde(tag = #tag)]
        #[cfg_attr(feature = "schemars", derive(::schemars::JsonSchema))]
        #[non_exhaustive]
        pub enum #name {
            #(#variants)*
            #[doc = #unknown_doc]
            #[serde(untagged)]
            Unknown(#unknown),
        }

        impl #name {
            #[doc = #values_doc]
            pub const VALUES: &'static [&'static str] = &[#(#values),*];

            #[doc = #method_doc]
            pub fn #method(&self) -> &str {
                match self {
                    #(#name::#idents(_) => #values,)*
                    #name::Unknown(v) => v.#method.as_str(),
                }
            }

            /// False for a value whose tag the spec does not list.
            pub fn is_known(&self) -> bool {
                !matches!(self, #name::Unknown(_))
            }

            #accessors
        }

        #(#froms)*

        impl ::std::convert::From<#unknown> for #name {
            fn from(value: #unknown) -> Self {
                #name::Unknown(value)
            }
        }

        // By hand: the tag picks the variant, so that a known tag with a bad body
        // is an error naming the field, and only an unlisted tag is `Unknown`.
        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                use ::serde::de::Error as _;
                let mut map = <::serde_json::Map<::std::string::String, ::serde_json::Value> as ::serde::Deserialize>::deserialize(deserializer)?;
                let tag = match map.get(#tag) {
                    ::std::option::Option::Some(::serde_json::Value::String(tag)) => tag.clone(),
                    ::std::option::Option::Some(other) => {
                        return ::std::result::Result::Err(D::Error::custom(::std::format!("`{}` must be a string, got {}", #tag, other)));
                    }
                    ::std::option::Option::None => return ::std::result::Result::Err(D::Error::missing_field(#tag)),
                };
                match tag.as_str() {
                    #(#values => {
                        map.remove(#tag);
                        #rt::__private::from_object(map).map(#name::#idents)
                    })*
                    _ => #rt::__private::from_object(map).map(#name::Unknown),
                }
            }
        }

        impl #rt::validation::Validate for #name {
            fn validate_at(&self, path: &str, out: &mut ::std::vec::Vec<#rt::validation::Violation>) {
                match self {
                    #(#name::#idents(v) => #rt::validation::Validate::validate_at(v, path, out),)*
                    #name::Unknown(v) => {
                        if !v.#method.is_empty() {
                            out.push(#rt::validation::Violation::warning(
                                #rt::__private::check::join(path, #tag),
                                #rt::validation::Rule::Enum,
                                ::std::format!(#unlisted, v.#method),
                            ));
                        }
                        #rt::validation::Validate::validate_at(v, path, out)
                    }
                }
            }
        }
        impl #rt::__private::Presence for #name {
            fn is_present(&self) -> bool {
                true
            }
        }

        #payload_struct
    }
}

/// Accessors for the fields every variant shares: typed where all variants
/// agree on the type, as JSON (`<field>_json`) where they differ; plus `extra`.
pub(super) fn shared_accessors(t: &TaggedDef, model: &Model) -> TokenStream {
    let name = ident(&t.name);
    let idents: Vec<Ident> = t.variants.iter().map(|v| ident(&v.ident)).collect();
    let payloads: Vec<&StructDef> = t
        .variants
        .iter()
        .filter_map(|v| match model.get(&v.payload) {
            Some(TypeDef::Struct(s)) => Some(s),
            _ => None,
        })
        .collect();
    let mut out = TokenStream::new();
    for f in t.unknown.fields.iter().skip(1) {
        let id = ident(&f.ident);
        let same = payloads.iter().all(|p| {
            p.fields
                .iter()
                .any(|g| g.wire == f.wire && g.ty == f.ty && g.is_option() == f.is_option())
        });
        if same {
            let ty = value_type(&f.ty);
            let mut_name = format_ident!("{}_mut", rust_name(f));
            let doc = format!(" The `{}` of whichever variant this is.", f.wire);
            let mut_doc = format!(
                " The `{}` of whichever variant this is, to change it.",
                f.wire
            );
            let (ret, ret_mut, get) = if f.is_option() {
                (
                    quote!(::std::option::Option<&#ty>),
                    quote!(&mut ::std::option::Option<#ty>),
                    quote!(.as_ref()),
                )
            } else {
                (quote!(&#ty), quote!(&mut #ty), quote!())
            };
            let borrow = if f.is_option() { quote!() } else { quote!(&) };
            out.extend(quote! {
                #[doc = #doc]
                pub fn #id(&self) -> #ret {
                    match self {
                        #(#name::#idents(v) => #borrow v.#id #get,)*
                        #name::Unknown(v) => #borrow v.#id #get,
                    }
                }
                #[doc = #mut_doc]
                pub fn #mut_name(&mut self) -> #ret_mut {
                    match self {
                        #(#name::#idents(v) => &mut v.#id,)*
                        #name::Unknown(v) => &mut v.#id,
                    }
                }
            });
        } else {
            let json_name = format_ident!("{}_json", rust_name(f));
            let doc = format!(
                " The `{}` of whichever variant this is, as the JSON it is sent as.",
                f.wire
            );
            // Where every variant holds a generated struct here, name its fields
            // and reach its extra map (the whole object for `Unknown`).
            let structs: Option<Vec<Ident>> = payloads
                .iter()
                .map(|p| {
                    p.fields
                        .iter()
                        .find(|g| g.wire == f.wire)
                        .and_then(|g| match &g.ty {
                            FieldType::Named(n, NamedKind::Object) => Some(ident(n)),
                            _ => None,
                        })
                })
                .collect();
            if let Some(structs) = structs.filter(|_| f.ty == FieldType::Map) {
                let fields_name = format_ident!("{}_fields", rust_name(f));
                let extra_name = format_ident!("{}_extra_mut", rust_name(f));
                let fields_doc = format!(
                    " The wire names of the fields the spec lists in `{}` for this variant (none for `Unknown`).",
                    f.wire
                );
                let extra_doc = format!(
                    " The fields of `{}` the spec does not list, to add to (the whole object for `Unknown`).",
                    f.wire
                );
                out.extend(quote! {
                    #[doc = #fields_doc]
                    pub fn #fields_name(&self) -> &'static [&'static str] {
                        match self {
                            #(#name::#idents(_) => #structs::FIELDS,)*
                            #name::Unknown(_) => &[],
                        }
                    }
                    #[doc = #extra_doc]
                    pub fn #extra_name(&mut self) -> &mut ::serde_json::Map<::std::string::String, ::serde_json::Value> {
                        match self {
                            #(#name::#idents(v) => &mut v.#id.extra,)*
                            #name::Unknown(v) => &mut v.#id,
                        }
                    }
                });
            }
            out.extend(quote! {
                #[doc = #doc]
                pub fn #json_name(&self) -> ::serde_json::Value {
                    // Serializing generated types to a Value cannot fail: every
                    // map key is a string.
                    let value = match self {
                        #(#name::#idents(v) => ::serde_json::to_value(&v.#id),)*
                        #name::Unknown(v) => ::serde_json::to_value(&v.#id),
                    };
                    value.unwrap_or(::serde_json::Value::Null)
                }
            });
        }
    }
    out.extend(quote! {
        /// The fields the spec does not list, at the top level of the body.
        pub fn extra(&self) -> &::serde_json::Map<::std::string::String, ::serde_json::Value> {
            match self {
                #(#name::#idents(v) => &v.extra,)*
                #name::Unknown(v) => &v.extra,
            }
        }
        /// The fields the spec does not list, at the top level of the body, to change them.
        pub fn extra_mut(&mut self) -> &mut ::serde_json::Map<::std::string::String, ::serde_json::Value> {
            match self {
                #(#name::#idents(v) => &mut v.extra,)*
                #name::Unknown(v) => &mut v.extra,
            }
        }
    });
    out
}
