//! The JSON schema schemars derives for each model agrees with the spec's
//! component schema (properties, required set, enum values), so the spec and
//! the generated code cannot drift apart.

use piapi_kling_tests::spec;
use serde_json::Value;
use std::collections::BTreeSet;

fn strings(v: Option<&Value>) -> BTreeSet<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| x.to_string())
                })
                .collect()
        })
        .unwrap_or_default()
}

fn keys(v: Option<&Value>) -> BTreeSet<String> {
    v.and_then(Value::as_object)
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn every_component_agrees_with_its_derived_schema() {
    let spec = spec();
    let components = spec["components"]["schemas"].as_object().unwrap();
    let derived = piapi_kling_models::component_schemas();
    let derived_names: BTreeSet<&str> = derived.iter().map(|(n, _)| *n).collect();
    let spec_names: BTreeSet<&str> = components.keys().map(String::as_str).collect();
    assert_eq!(derived_names, spec_names, "one model per component schema");

    for (name, schema) in derived {
        let ours = schema.as_value();
        let theirs = &components[name];
        if let Some(values) = theirs.get("enum") {
            assert_eq!(
                strings(ours.get("enum")),
                strings(Some(values)),
                "{name}: enum values"
            );
        } else if let Some(variants) = theirs.get("oneOf").and_then(Value::as_array) {
            // Tag values of the spec's variants against those of the derived oneOf.
            let tag_of = |v: &Value| -> BTreeSet<String> {
                let tag = v["properties"]["task_type"].clone();
                let mut s = strings(tag.get("enum"));
                if let Some(c) = tag.get("const").and_then(Value::as_str) {
                    s.insert(c.to_owned());
                }
                s
            };
            let spec_tags: BTreeSet<String> = variants.iter().flat_map(tag_of).collect();
            // The derived schema nests the tagged variants beside the catch-all
            // `Unknown` one (a plain object whose tag is any string).
            fn variants_of(schema: &Value, out: &mut Vec<Value>) {
                let nested = ["oneOf", "anyOf"]
                    .iter()
                    .filter_map(|k| schema.get(*k).and_then(Value::as_array))
                    .flatten()
                    .collect::<Vec<_>>();
                if nested.is_empty() {
                    out.push(schema.clone());
                }
                for v in nested {
                    variants_of(v, out);
                }
            }
            let mut all = Vec::new();
            variants_of(ours, &mut all);
            let derived_variants: Vec<Value> =
                all.into_iter().filter(|v| !tag_of(v).is_empty()).collect();
            let derived_tags: BTreeSet<String> = derived_variants.iter().flat_map(tag_of).collect();
            assert_eq!(derived_tags, spec_tags, "{name}: variant tags");
            assert_eq!(
                derived_variants.len(),
                variants.len(),
                "{name}: variant count"
            );
        } else {
            assert_eq!(
                keys(ours.get("properties")),
                keys(theirs.get("properties")),
                "{name}: properties"
            );
            // The models always write a nullable field (null when unset), so the
            // serialization schema lists it as required even where the spec does not.
            let mut expected = strings(theirs.get("required"));
            for (prop, s) in theirs["properties"].as_object().into_iter().flatten() {
                let target = match s.get("$ref").and_then(Value::as_str) {
                    Some(r) => &components[r.trim_start_matches("#/components/schemas/")],
                    None => s,
                };
                if target.get("nullable") == Some(&Value::Bool(true)) {
                    expected.insert(prop.clone());
                }
            }
            assert_eq!(strings(ours.get("required")), expected, "{name}: required");
        }
    }
}

#[test]
fn nullable_properties_are_nullable_in_the_derived_schema() {
    let derived = piapi_kling_models::component_schemas();
    let task_data = derived
        .iter()
        .find(|(n, _)| *n == "TaskData")
        .unwrap()
        .1
        .as_value()
        .clone();
    for field in ["output", "logs"] {
        let text = task_data["properties"][field].to_string();
        assert!(
            text.contains("null"),
            "TaskData.{field} must accept null: {text}"
        );
    }
}
