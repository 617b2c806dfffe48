//! Forward-compatible string and integer enums.

use crate::ir::{IntEnum, StringEnum};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::tokens::*;

pub(super) fn string_enum(e: &StringEnum, rt: &syn::Path) -> TokenStream {
    let name = ident(&e.name);
    let doc = docs(&e.doc);
    let name_str = &e.name;
    let idents: Vec<Ident> = e.variants.iter().map(|(n, _)| ident(n)).collect();
    let values: Vec<&str> = e.variants.iter().map(|(_, v)| v.as_str()).collect();
    let variant_docs = values.iter().map(|v| {
        let d = format!(" `{v:?}`");
        quote!(#[doc = #d])
    });
    let from_str_body = if e.case_insensitive {
        quote! {
            match value {
                #(#values => #name::#idents,)*
                _ => {
                    #(if value.eq_ignore_ascii_case(#values) { return #name::#idents; })*
                    #name::Unknown(value.into())
                }
            }
        }
    } else {
        quote! {
            match value {
                #(#values => #name::#idents,)*
                _ => #name::Unknown(value.into()),
            }
        }
    };
    let case_note = if e.case_insensitive {
        " Parsing ignores ASCII case; writing uses the spec's spelling."
    } else {
        ""
    };
    let unknown_doc =
        format!(" A value the spec does not list, kept verbatim so it round-trips.{case_note}");
    let expecting = format!("a {name_str} string");
    let schema = schemars_enum(
        name_str,
        quote!({ "type": "string", "enum": [#(#values),*] }),
    );
    let open = open_const(e.open.as_deref());
    quote! {
        #doc
        #[derive(Clone, Debug)]
        #[non_exhaustive]
        pub enum #name {
            #(#variant_docs #idents,)*
            #[doc = #unknown_doc]
            Unknown(::std::string::String),
        }

        impl #name {
            /// Every value the spec lists, in spec order.
            pub const ALL: &'static [#name] = &[#(#name::#idents),*];
            /// The wire spelling of every value the spec lists.
            pub const VALUES: &'static [&'static str] = &[#(#values),*];
            #open

            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #(#name::#idents => #values,)*
                    #name::Unknown(value) => value.as_str(),
                }
            }

            /// False for a value the spec does not list.
            pub fn is_known(&self) -> bool {
                !matches!(self, #name::Unknown(_))
            }

            fn parse(value: &str) -> Self {
                #from_str_body
            }
        }

        // Equality is on the wire value, so `Unknown("x")` equals the variant for "x".
        impl ::std::cmp::PartialEq for #name {
            fn eq(&self, other: &Self) -> bool {
                self.as_str() == other.as_str()
            }
        }
        impl ::std::cmp::Eq for #name {}
        impl ::std::hash::Hash for #name {
            fn hash<H: ::std::hash::Hasher>(&self, state: &mut H) {
                self.as_str().hash(state)
            }
        }
        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl ::std::str::FromStr for #name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(#name::parse(value))
            }
        }
        impl ::std::convert::From<&str> for #name {
            fn from(value: &str) -> Self {
                #name::parse(value)
            }
        }
        impl ::std::convert::From<::std::string::String> for #name {
            fn from(value: ::std::string::String) -> Self {
                match #name::parse(&value) {
                    #name::Unknown(_) => #name::Unknown(value),
                    known => known,
                }
            }
        }
        impl ::std::convert::AsRef<str> for #name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                #rt::__private::string_enum(deserializer, #expecting)
            }
        }
        impl #rt::__private::Presence for #name {
            fn is_present(&self) -> bool {
                !self.as_str().is_empty()
            }
        }
        #schema
    }
}

pub(super) fn int_enum(e: &IntEnum, rt: &syn::Path) -> TokenStream {
    let name = ident(&e.name);
    let doc = docs(&e.doc);
    let name_str = &e.name;
    let idents: Vec<Ident> = e.variants.iter().map(|(n, _)| ident(n)).collect();
    let values: Vec<i64> = e.variants.iter().map(|(_, v)| *v).collect();
    let texts: Vec<String> = values.iter().map(i64::to_string).collect();
    let variant_docs = values.iter().map(|v| {
        let d = format!(" `{v}`");
        quote!(#[doc = #d])
    });
    let expecting = format!("a {name_str} integer");
    let schema = schemars_enum(
        name_str,
        quote!({ "type": "integer", "enum": [#(#values),*] }),
    );
    let open = open_const(e.open.as_deref());
    quote! {
        #doc
        #[derive(Clone, Copy, Debug)]
        #[non_exhaustive]
        pub enum #name {
            #(#variant_docs #idents,)*
            /// A value the spec does not list, kept verbatim so it round-trips.
            Unknown(i64),
        }

        impl #name {
            /// Every value the spec lists, in spec order.
            pub const ALL: &'static [#name] = &[#(#name::#idents),*];
            /// Every value the spec lists, as text.
            pub const VALUES: &'static [&'static str] = &[#(#texts),*];
            #open

            /// The value as sent on the wire.
            pub fn as_i64(&self) -> i64 {
                match self {
                    #(#name::#idents => #values,)*
                    #name::Unknown(value) => *value,
                }
            }

            /// False for a value the spec does not list.
            pub fn is_known(&self) -> bool {
                !matches!(self, #name::Unknown(_))
            }
        }

        impl ::std::cmp::PartialEq for #name {
            fn eq(&self, other: &Self) -> bool {
                self.as_i64() == other.as_i64()
            }
        }
        impl ::std::cmp::Eq for #name {}
        impl ::std::hash::Hash for #name {
            fn hash<H: ::std::hash::Hasher>(&self, state: &mut H) {
                self.as_i64().hash(state)
            }
        }
        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.as_i64(), f)
            }
        }
        impl ::std::str::FromStr for #name {
            type Err = ::std::num::ParseIntError;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                value.trim().parse::<i64>().map(#name::from)
            }
        }
        impl ::std::convert::From<i64> for #name {
            fn from(value: i64) -> Self {
                match value {
                    #(#values => #name::#idents,)*
                    _ => #name::Unknown(value),
                }
            }
        }
        // So that a literal (`15`, an `i32`) converts too.
        impl ::std::convert::From<i32> for #name {
            fn from(value: i32) -> Self {
                #name::from(i64::from(value))
            }
        }
        impl ::std::convert::From<#name> for i64 {
            fn from(value: #name) -> i64 {
                value.as_i64()
            }
        }
        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_i64(self.as_i64())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                #rt::__private::int_enum(deserializer, #expecting)
            }
        }
        impl #rt::__private::Presence for #name {
            fn is_present(&self) -> bool {
                true
            }
        }
        #schema
    }
}

/// `OPEN`: whether a value the spec does not list is sent with a warning
/// (`x-open-enum`) or refused.
pub(super) fn open_const(reason: Option<&str>) -> TokenStream {
    let (open, doc) = match reason {
        Some(reason) => (
            true,
            format!(" Open: a value the spec does not list is sent, with a warning. Why: {reason}"),
        ),
        None => (
            false,
            " Closed: a value the spec does not list is refused by `validate()`.".to_owned(),
        ),
    };
    let lines = docs(&doc);
    quote!(#lines pub const OPEN: bool = #open;)
}

pub(super) fn schemars_enum(name: &str, schema: TokenStream) -> TokenStream {
    let ty = ident(name);
    quote! {
        #[cfg(feature = "schemars")]
        impl ::schemars::JsonSchema for #ty {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                #name.into()
            }
            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                ::schemars::json_schema!(#schema)
            }
        }
    }
}
