//! Our `/openapi.json` against CRM.COM's contract, for every operation the two share (ours
//! tagged "Engine additions" are exempt): the same path and method, no parameter the
//! contract does not name, and no enum value the contract does not list, for parameters
//! and for the request body's top-level fields. Differences are printed, then fail.

use crate::contract::contract;
use crate::helpers::*;
use serde_json::Value;
use std::collections::BTreeSet;

/// Known differences, each with its reason. Part of every review.
const DIFFERENCES_ALLOWED: &[(&str, &str)] = &[
    // None today. An entry: ("<the difference as printed>", "<why the contract is wrong>").
];

fn enum_values(schema: &Value) -> BTreeSet<String> {
    let mut values = BTreeSet::new();
    let mut stack = vec![schema];
    while let Some(schema) = stack.pop() {
        if let Some(list) = schema["enum"].as_array() {
            values.extend(list.iter().filter_map(|value| value.as_str().map(str::to_string)));
        }
        for key in ["allOf", "anyOf", "oneOf"] {
            stack.extend(schema[key].as_array().into_iter().flatten());
        }
    }
    values
}

/// `ref`erences of our document resolved (the contract has none).
fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => document
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or(&Value::Null),
        None => schema,
    }
}

fn parameters(document: &Value, operation: &Value) -> Vec<(String, BTreeSet<String>)> {
    operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|parameter| resolve(document, parameter))
        .filter(|parameter| parameter["in"] == "query" || parameter["in"] == "path")
        .map(|parameter| {
            (
                parameter["name"].as_str().unwrap_or("").to_string(),
                enum_values(resolve(document, &parameter["schema"])),
            )
        })
        .collect()
}

fn body_fields(document: &Value, operation: &Value) -> Vec<(String, BTreeSet<String>)> {
    let schema = resolve(
        document,
        &operation["requestBody"]["content"]["application/json"]["schema"],
    );
    schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, field)| (name.clone(), enum_values(resolve(document, field))))
        .collect()
}

#[tokio::test]
async fn the_served_openapi_agrees_with_the_contract_on_every_shared_operation() {
    let app = spawn_app().await;
    let ours = app.call("GET", "/openapi.json", &[], None).await;
    assert_eq!(ours.status, 200);
    let document = &ours.body;
    let mut differences = Vec::new();
    let mut shared = 0;
    for (path, item) in document["paths"].as_object().expect("paths") {
        if !path.starts_with("/self-service/v2/") {
            continue;
        }
        for (method, operation) in item.as_object().into_iter().flatten() {
            let tags: Vec<&str> = operation["tags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            if tags.contains(&"Engine additions") {
                continue;
            }
            let name = format!("{} {path}", method.to_uppercase());
            let theirs = contract().operations.iter().find(|candidate| candidate.name == name);
            let Some(theirs) = theirs else {
                differences.push(format!(
                    "{name}: not in the contract (tag it \"Engine additions\" if it is ours)"
                ));
                continue;
            };
            shared += 1;
            let their_parameters: std::collections::HashMap<String, BTreeSet<String>> =
                parameters(&Value::Null, &theirs.raw).into_iter().collect();
            for (parameter, values) in parameters(document, operation) {
                match their_parameters.get(&parameter) {
                    None => differences.push(format!("{name}: parameter `{parameter}` the contract does not name")),
                    Some(allowed) if !allowed.is_empty() => {
                        for value in values.difference(allowed) {
                            differences.push(format!("{name}: parameter `{parameter}` value {value}"));
                        }
                    }
                    Some(_) => {}
                }
            }
            let their_fields: std::collections::HashMap<String, BTreeSet<String>> =
                body_fields(&Value::Null, &theirs.raw).into_iter().collect();
            for (field, values) in body_fields(document, operation) {
                if let Some(allowed) = their_fields.get(&field).filter(|allowed| !allowed.is_empty()) {
                    for value in values.difference(allowed) {
                        differences.push(format!("{name}: request body `{field}` value {value}"));
                    }
                }
            }
        }
    }
    for (allowed, _) in DIFFERENCES_ALLOWED {
        assert!(
            differences.iter().any(|difference| difference == allowed),
            "the allowed difference \"{allowed}\" no longer occurs: take it off the list"
        );
    }
    differences.retain(|difference| !DIFFERENCES_ALLOWED.iter().any(|(allowed, _)| allowed == difference));
    assert!(
        shared >= 15,
        "only {shared} operations matched the contract: the comparison is not looking"
    );
    assert!(
        differences.is_empty(),
        "/openapi.json differs from CRM.COM's contract:\n  {}",
        differences.join("\n  ")
    );
}
