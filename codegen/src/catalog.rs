//! The task-type catalog of the models crate: media visitors on every struct
//! that holds a media URL, `origin_task_id()` and `TaskInput` for the create
//! request, and the `TASK_TYPES` table (fields, media, simulation, price) that
//! the SDK, the simulator and the CLI read instead of naming task types.

use std::collections::BTreeSet;

use crate::ir::{Field, FieldType, Model, NamedKind, StructDef, TaggedDef, TypeDef};
use crate::meta::{
    BillingDef, CaseDef, ChargedAtDef, MediaDef, MediaKindDef, OutputDef, PerDef, PriceDef,
    ShapeDef, SimulateDef, when_text,
};
use heck::ToShoutySnakeCase;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use crate::tokens::ident;

/// The tag of the request enum the catalog describes.
pub const TASK_TAG: &str = "task_type";

/// Structs that hold a media URL, directly or in a nested struct.
pub fn structs_with_media(model: &Model) -> BTreeSet<String> {
    let mut found: BTreeSet<String> = BTreeSet::new();
    loop {
        let before = found.len();
        for def in &model.types {
            if let TypeDef::Struct(s) = def
                && !found.contains(&s.name)
                && s.fields.iter().any(|f| holds_media(f, &found))
            {
                found.insert(s.name.clone());
            }
        }
        if found.len() == before {
            return found;
        }
    }
}

fn nested_struct(ty: &FieldType) -> Option<&str> {
    match ty {
        FieldType::Named(name, NamedKind::Object) => Some(name),
        FieldType::Array(item) => nested_struct(item),
        _ => None,
    }
}

fn holds_media(f: &Field, with_media: &BTreeSet<String>) -> bool {
    f.media.is_some() || nested_struct(&f.ty).is_some_and(|n| with_media.contains(n))
}

fn media_static(owner: &str, f: &Field) -> Ident {
    format_ident!(
        "__MEDIA_{}_{}",
        owner.to_shouty_snake_case(),
        f.wire.to_shouty_snake_case()
    )
}

fn media_spec(m: &MediaDef, rt: &syn::Path) -> TokenStream {
    let kind = match m.kind {
        MediaKindDef::Image => quote!(Image),
        MediaKindDef::Video => quote!(Video),
        MediaKindDef::Audio => quote!(Audio),
    };
    let ext = &m.extensions;
    let opt_u64 = |v: Option<u64>| match v {
        Some(v) => quote!(::std::option::Option::Some(#v)),
        None => quote!(::std::option::Option::None),
    };
    let opt_u32 = |v: Option<u32>| match v {
        Some(v) => quote!(::std::option::Option::Some(#v)),
        None => quote!(::std::option::Option::None),
    };
    let opt_f64 = |v: Option<f64>| match v {
        Some(v) => quote!(::std::option::Option::Some(#v)),
        None => quote!(::std::option::Option::None),
    };
    let (max_bytes, min_side) = (opt_u64(m.max_bytes), opt_u32(m.min_side));
    let (max_s, min_s) = (opt_f64(m.max_seconds), opt_f64(m.min_seconds));
    quote! {
        #rt::catalog::MediaSpec {
            kind: #rt::catalog::MediaKind::#kind,
            extensions: &[#(#ext),*],
            max_bytes: #max_bytes,
            min_side: #min_side,
            max_seconds: #max_s,
            min_seconds: #min_s,
        }
    }
}

/// The statics and the two visitors of a struct holding media.
pub fn struct_media(s: &StructDef, with_media: &BTreeSet<String>, rt: &syn::Path) -> TokenStream {
    if !with_media.contains(&s.name) {
        return TokenStream::new();
    }
    let name = ident(&s.name);
    let mut statics = TokenStream::new();
    let mut visits = TokenStream::new();
    let mut visits_mut = TokenStream::new();
    for f in &s.fields {
        let id = ident(&f.ident);
        let wire = &f.wire;
        let at = quote!(#rt::__private::check::join(path, #wire));
        if let Some(m) = &f.media {
            let st = media_static(&s.name, f);
            let spec = media_spec(m, rt);
            statics.extend(quote!(static #st: #rt::catalog::MediaSpec = #spec;));
            match (&f.ty, f.is_option()) {
                (FieldType::String, true) => {
                    visits.extend(quote!(if let ::std::option::Option::Some(v) = &self.#id { f(#at, &#st, v); }));
                    visits_mut.extend(quote!(if let ::std::option::Option::Some(v) = &mut self.#id { f(#at, &#st, v); }));
                }
                (FieldType::String, false) => {
                    visits.extend(quote!(f(#at, &#st, &self.#id);));
                    visits_mut.extend(quote!(f(#at, &#st, &mut self.#id);));
                }
                (FieldType::Array(_), true) => {
                    visits.extend(quote!(if let ::std::option::Option::Some(list) = &self.#id { for (i, v) in list.iter().enumerate() { f(#rt::__private::check::index(&#at, i), &#st, v); } }));
                    visits_mut.extend(quote!(if let ::std::option::Option::Some(list) = &mut self.#id { for (i, v) in list.iter_mut().enumerate() { f(#rt::__private::check::index(&#at, i), &#st, v); } }));
                }
                (FieldType::Array(_), false) => {
                    visits.extend(quote!(for (i, v) in self.#id.iter().enumerate() { f(#rt::__private::check::index(&#at, i), &#st, v); }));
                    visits_mut.extend(quote!(for (i, v) in self.#id.iter_mut().enumerate() { f(#rt::__private::check::index(&#at, i), &#st, v); }));
                }
                _ => {}
            }
        } else if nested_struct(&f.ty).is_some_and(|n| with_media.contains(n)) {
            let list = matches!(f.ty, FieldType::Array(_));
            let (each, each_mut) = if list {
                (
                    quote!(for (i, v) in list.iter().enumerate() { v.__visit_media(&#rt::__private::check::index(&#at, i), f); }),
                    quote!(for (i, v) in list.iter_mut().enumerate() { v.__visit_media_mut(&#rt::__private::check::index(&#at, i), f); }),
                )
            } else {
                (
                    quote!(list.__visit_media(&#at, f);),
                    quote!(list.__visit_media_mut(&#at, f);),
                )
            };
            if f.is_option() {
                visits
                    .extend(quote!(if let ::std::option::Option::Some(list) = &self.#id { #each }));
                visits_mut.extend(
                    quote!(if let ::std::option::Option::Some(list) = &mut self.#id { #each_mut }),
                );
            } else {
                visits.extend(quote!({ let list = &self.#id; #each }));
                visits_mut.extend(quote!({ let list = &mut self.#id; #each_mut }));
            }
        }
    }
    quote! {
        #statics
        impl #name {
            /// Calls `f` with the path, limits and value of every media URL
            /// (support for `CreateTaskRequest::media`).
            #[doc(hidden)]
            pub fn __visit_media<'a>(&'a self, path: &str, f: &mut dyn FnMut(::std::string::String, &'static #rt::catalog::MediaSpec, &'a str)) {
                #visits
            }
            /// [`Self::__visit_media`], to change the values.
            #[doc(hidden)]
            pub fn __visit_media_mut<'a>(&'a mut self, path: &str, f: &mut dyn FnMut(::std::string::String, &'static #rt::catalog::MediaSpec, &'a mut ::std::string::String)) {
                #visits_mut
            }
        }
    }
}

/// The input struct of a variant's payload: its `input` field's type.
fn input_of<'m>(model: &'m Model, payload: &str) -> Option<(&'m StructDef, &'m StructDef)> {
    let Some(TypeDef::Struct(p)) = model.get(payload) else {
        return None;
    };
    let input = p.fields.iter().find(|f| f.wire == "input")?;
    match &input.ty {
        FieldType::Named(n, NamedKind::Object) => match model.get(n) {
            Some(TypeDef::Struct(s)) => Some((p, s)),
            _ => None,
        },
        _ => None,
    }
}

/// Everything the catalog adds for a request enum tagged by `task_type`.
pub fn tagged_catalog(
    t: &TaggedDef,
    model: &Model,
    with_media: &BTreeSet<String>,
    rt: &syn::Path,
) -> TokenStream {
    if t.tag != TASK_TAG {
        return TokenStream::new();
    }
    let name = ident(&t.name);
    let mut visit_arms = Vec::new();
    let mut visit_mut_arms = Vec::new();
    let mut origin_arms = Vec::new();
    let mut impls = TokenStream::new();
    let mut entries = Vec::new();
    let mut seen_inputs = BTreeSet::new();
    for v in &t.variants {
        let variant = ident(&v.ident);
        if with_media.contains(&v.payload) {
            visit_arms.extend(quote!(#name::#variant(v) => v.__visit_media("", f),));
            visit_mut_arms.extend(quote!(#name::#variant(v) => v.__visit_media_mut("", f),));
        }
        let Some((payload, input)) = input_of(model, &v.payload) else {
            continue;
        };
        if let Some(origin) = input.fields.iter().find(|f| f.origin_task) {
            let id = ident(&origin.ident);
            let get = if origin.is_option() {
                quote!(v.input.#id.as_deref())
            } else {
                quote!(::std::option::Option::Some(v.input.#id.as_str()))
            };
            origin_arms.extend(quote!(#name::#variant(v) => #get,));
        }
        // `TaskInput` needs a payload of `model`, `input` and optional fields.
        let model_field = payload.fields.iter().find(|f| f.wire == "model");
        let buildable = model_field.is_some_and(|m| !m.is_option())
            && payload
                .fields
                .iter()
                .all(|f| f.wire == "model" || f.wire == "input" || f.is_option());
        if buildable && seen_inputs.insert(input.name.clone()) {
            let input_ty = ident(&input.name);
            let payload_ty = ident(&payload.name);
            let model_ty = match &model_field.map(|m| &m.ty) {
                Some(FieldType::Named(n, _)) => {
                    let n = ident(n);
                    quote!(#n)
                }
                _ => quote!(::std::string::String),
            };
            let value = &v.value;
            let others = payload
                .fields
                .iter()
                .filter(|f| f.wire != "model" && f.wire != "input")
                .map(|f| {
                    let id = ident(&f.ident);
                    quote!(#id: ::std::option::Option::None,)
                });
            impls.extend(quote! {
                impl #rt::catalog::TaskInput for #input_ty {
                    const TASK_TYPE: &'static str = #value;
                    fn into_request(self, model: #model_ty) -> #name {
                        #name::#variant(#payload_ty {
                            model,
                            input: self,
                            #(#others)*
                            extra: ::serde_json::Map::new(),
                        })
                    }
                }
            });
        }
        entries.push(entry(
            v.value.as_str(),
            &v.payload,
            input,
            &v.doc,
            v.simulate.as_ref(),
            v.price.as_ref(),
            model,
            rt,
        ));
    }
    let default = simulate_tokens(t.default_simulate.as_deref(), rt);
    quote! {
        impl #name {
            /// Calls `f` with every media URL (support for `media()`).
            #[doc(hidden)]
            pub fn __visit_media<'a>(&'a self, f: &mut dyn FnMut(::std::string::String, &'static #rt::catalog::MediaSpec, &'a str)) {
                #[allow(unreachable_patterns)]
                match self {
                    #(#visit_arms)*
                    _ => { let _ = f; }
                }
            }
            /// Calls `f` with every media URL, to change it.
            #[doc(hidden)]
            pub fn __visit_media_mut<'a>(&'a mut self, f: &mut dyn FnMut(::std::string::String, &'static #rt::catalog::MediaSpec, &'a mut ::std::string::String)) {
                #[allow(unreachable_patterns)]
                match self {
                    #(#visit_mut_arms)*
                    _ => { let _ = f; }
                }
            }
            /// The id of the finished task this one builds on (`x-origin-task`),
            /// if its task type has one and it is set.
            pub fn origin_task_id(&self) -> ::std::option::Option<&str> {
                #[allow(unreachable_patterns)]
                let id: ::std::option::Option<&str> = match self {
                    #(#origin_arms)*
                    _ => ::std::option::Option::None,
                };
                id.filter(|id| !id.is_empty())
            }
        }
        #impls
        /// Every task type the spec lists, with its fields, media, simulation and price.
        pub static TASK_TYPES: &[#rt::catalog::TaskTypeInfo] = &[#(#entries),*];
        /// How the simulator runs a task type the spec does not list.
        pub static DEFAULT_SIMULATION: &#rt::catalog::Simulate = &#default;
    }
}

#[allow(clippy::too_many_arguments)]
fn entry(
    task_type: &str,
    payload: &str,
    input: &StructDef,
    doc: &str,
    simulate: Option<&SimulateDef>,
    price: Option<&PriceDef>,
    model: &Model,
    rt: &syn::Path,
) -> TokenStream {
    let fields = input.fields.iter().map(|f| field_info(f, model, rt));
    let sim = simulate_tokens(simulate, rt);
    let price = match price {
        Some(p) => {
            let read = &p.read;
            let rules = p.rules.iter().map(|r| {
                let when = when_tokens(&r.when, rt);
                let units = match r.usd {
                    Some(usd) => {
                        let units = (usd * 1e7).round() as i64;
                        quote!(::std::option::Option::Some(#units))
                    }
                    None => quote!(::std::option::Option::None),
                };
                let per = match r.per {
                    PerDef::Task => quote!(Task),
                    PerDef::Item => quote!(Item),
                    PerDef::Second => quote!(Second),
                    PerDef::FiveSeconds => quote!(FiveSeconds),
                };
                let source = &r.source;
                quote!(#rt::catalog::PriceRule { when: #when, units: #units, per: #rt::catalog::PricePer::#per, source: #source })
            });
            quote!(::std::option::Option::Some(&#rt::catalog::Price { read: #read, rules: &[#(#rules),*] }))
        }
        None => quote!(::std::option::Option::None),
    };
    let input_type = &input.name;
    let doc = doc.trim();
    quote! {
        #rt::catalog::TaskTypeInfo {
            task_type: #task_type,
            request: #payload,
            input_type: #input_type,
            doc: #doc,
            input: &[#(#fields),*],
            simulate: &#sim,
            price: #price,
        }
    }
}

fn field_info(f: &Field, model: &Model, rt: &syn::Path) -> TokenStream {
    let name = &f.wire;
    let doc = f.doc.trim();
    let c = &f.constraints;
    let kind = match &f.ty {
        FieldType::String => quote!(String),
        FieldType::Number => quote!(Number),
        FieldType::Integer => quote!(Integer),
        FieldType::Boolean => quote!(Boolean),
        FieldType::Named(n, NamedKind::StringEnum | NamedKind::IntEnum) => {
            let (values, open, integer): (Vec<String>, bool, bool) = match model.get(n) {
                Some(TypeDef::StringEnum(e)) => (
                    e.variants.iter().map(|(_, v)| v.clone()).collect(),
                    e.open.is_some(),
                    false,
                ),
                Some(TypeDef::IntEnum(e)) => (
                    e.variants.iter().map(|(_, v)| v.to_string()).collect(),
                    e.open.is_some(),
                    true,
                ),
                _ => (Vec::new(), true, false),
            };
            quote!(Enum { values: &[#(#values),*], open: #open, integer: #integer })
        }
        FieldType::Array(item) if **item == FieldType::String => quote!(StringList),
        _ => quote!(Json),
    };
    let pick = |a: Option<f64>, b: Option<u64>, c2: Option<u64>| {
        a.or(b.map(|v| v as f64)).or(c2.map(|v| v as f64))
    };
    let opt = |v: Option<f64>| match v {
        Some(v) => quote!(::std::option::Option::Some(#v)),
        None => quote!(::std::option::Option::None),
    };
    let min = opt(pick(c.minimum, c.min_length, c.min_items));
    let max = opt(pick(c.maximum, c.max_length, c.max_items));
    let media = match &f.media {
        Some(m) => {
            let spec = media_spec(m, rt);
            quote!(::std::option::Option::Some(&#spec))
        }
        None => quote!(::std::option::Option::None),
    };
    let required = f.required;
    quote! {
        #rt::catalog::FieldInfo {
            name: #name,
            doc: #doc,
            kind: #rt::catalog::FieldKind::#kind,
            required: #required,
            min: #min,
            max: #max,
            media: #media,
        }
    }
}

fn shape_tokens(s: ShapeDef) -> TokenStream {
    match s {
        ShapeDef::Classic => quote!(Classic),
        ShapeDef::Video => quote!(Video),
    }
}

fn when_tokens(
    when: &std::collections::BTreeMap<String, Vec<serde_json::Value>>,
    rt: &syn::Path,
) -> TokenStream {
    let pairs = when.iter().map(|(field, values)| {
        // Checked when the IR was built.
        let values: Vec<String> = values.iter().filter_map(|v| when_text(v).ok()).collect();
        quote!((#field, &[#(#values),*]))
    });
    quote!(#rt::catalog::When { fields: &[#(#pairs),*] })
}

fn opt_str(v: Option<&String>) -> TokenStream {
    match v {
        Some(v) => quote!(::std::option::Option::Some(#v)),
        None => quote!(::std::option::Option::None),
    }
}

/// A `&Billing` literal (promoted to a static); without `billing`, Kling's own: points, frozen
/// until completion.
fn billing_tokens(billing: Option<&BillingDef>, rt: &syn::Path) -> TokenStream {
    let (usage_type, at_creation) = match billing {
        Some(b) => (
            b.usage_type.as_str(),
            b.charged_at == ChargedAtDef::Creation,
        ),
        None => ("point", false),
    };
    quote! {
        &#rt::catalog::Billing {
            usage_type: #usage_type,
            charged_at_creation: #at_creation,
        }
    }
}

/// A `Simulate` literal; the documented defaults fill what the spec leaves out.
fn simulate_tokens(sim: Option<&SimulateDef>, rt: &syn::Path) -> TokenStream {
    let default = SimulateDef {
        output: OutputDef::Video,
        shape: None,
        kling_type: None,
        pending_seconds: None,
        processing_seconds: None,
        seconds: Vec::new(),
        default_seconds: None,
        count_field: None,
        count: None,
        size: Some([1280, 720]),
        from_origin: None,
        billing: None,
        cases: Vec::new(),
    };
    let s = sim.unwrap_or(&default);
    let billing = billing_tokens(s.billing.as_ref(), rt);
    let output = match s.output {
        OutputDef::Video => quote!(Video),
        OutputDef::Images => quote!(Images),
        OutputDef::Audio => quote!(Audio),
    };
    let shape = shape_tokens(s.shape.unwrap_or(ShapeDef::Classic));
    let kling_type = opt_str(s.kling_type.as_ref());
    let pending = s.pending_seconds.unwrap_or(3.0);
    let processing = s.processing_seconds.unwrap_or(120.0);
    let seconds = &s.seconds;
    let default_seconds = s.default_seconds.unwrap_or(5.0);
    let count_field = opt_str(s.count_field.as_ref());
    let count = s.count.unwrap_or(1);
    let size = match s.size {
        Some([w, h]) => quote!(::std::option::Option::Some((#w, #h))),
        None => quote!(::std::option::Option::None),
    };
    let from_origin = match s.from_origin {
        Some(v) => quote!(::std::option::Option::Some(#v)),
        None => quote!(::std::option::Option::None),
    };
    let cases = s.cases.iter().map(|c: &CaseDef| {
        let when = when_tokens(&c.when, rt);
        let kt = opt_str(c.kling_type.as_ref());
        let suffix = opt_str(c.kling_type_suffix.as_ref());
        let pf = c.processing_factor.unwrap_or(1.0);
        let sf = c.size_factor.unwrap_or(1.0);
        let case_origin = match c.from_origin {
            Some(v) => quote!(::std::option::Option::Some(#v)),
            None => quote!(::std::option::Option::None),
        };
        let shape = match c.shape {
            Some(s) => {
                let s = shape_tokens(s);
                quote!(::std::option::Option::Some(#rt::catalog::OutputShape::#s))
            }
            None => quote!(::std::option::Option::None),
        };
        let case_billing = match &c.billing {
            Some(b) => {
                let b = billing_tokens(Some(b), rt);
                quote!(::std::option::Option::Some(#b))
            }
            None => quote!(::std::option::Option::None),
        };
        quote! {
            #rt::catalog::SimulateCase {
                when: #when,
                kling_type: #kt,
                kling_type_suffix: #suffix,
                processing_factor: #pf,
                size_factor: #sf,
                shape: #shape,
                from_origin: #case_origin,
                billing: #case_billing,
            }
        }
    });
    quote! {
        #rt::catalog::Simulate {
            output: #rt::catalog::OutputKind::#output,
            shape: #rt::catalog::OutputShape::#shape,
            kling_type: #kling_type,
            pending_seconds: #pending,
            processing_seconds: #processing,
            seconds: &[#(#seconds),*],
            default_seconds: #default_seconds,
            count_field: #count_field,
            count: #count,
            size: #size,
            from_origin: #from_origin,
            billing: #billing,
            cases: &[#(#cases),*],
        }
    }
}
