//! Every `/self-service/v2` call the tests make is checked against CRM.COM's contract
//! (`../shared/crmcom/self-service-v2.openapi.yaml`, loaded once per test binary): the
//! status must be one the operation declares, a success's body must match the operation's
//! response schema (required fields, types, enums, nullability), and the JSON body a test
//! sent with a call that succeeded must match the request schema, so the tests never reach
//! the server in a way a real app could not. (A call the server refused may carry a body no
//! app would send: refusing it is what such a test tests.) Any violation fails the test
//! that made the call, naming the operation, the JSON path and the rule.
//!
//! The contract is OpenAPI 3.0: its schemas become JSON Schema draft 4 by turning
//! `nullable: true` into "or null" and dropping annotations. Formats are not checked:
//! the contract's own are not JSON Schema's (`epoch`, and `date` on epoch-second values).
//!
//! Where the contract's annotations are wrong, `ALLOWED` below says so, one line per
//! exception with its reason. That list is part of every review.

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Statuses any operation may answer though the contract declares none of them.
const STATUSES_ALWAYS_ALLOWED: &[(u16, &str)] = &[
    (409, "a conflict (a reference, an email, an Idempotency-Key already used); CRM.COM answers 400 with its own code, we keep the status apart so a client can tell"),
    (413, "a body over http.body_bytes_max; the contract declares no size limits"),
    (429, "rate limited, with Retry-After: API-NOTES 1.6 lists it as observed by clients though the contract declares it nowhere"),
];

/// Known faults of the contract's annotations: errors whose operation, direction and
/// schema path (a fragment of it) match an entry are not violations.
const ALLOWED: &[Allowed] = &[
    Allowed {
        operation: "*",
        direction: Direction::Response,
        schema_path: "/pattern",
        message: "",
        reason: "the contract's patterns are prose, not regular expressions (\"3-letter ISO 3166-1 country code\"); the enum beside each still applies",
    },
    Allowed {
        operation: "*",
        direction: Direction::Request,
        schema_path: "/pattern",
        message: "",
        reason: "as for responses: the patterns are prose",
    },
    Allowed {
        operation: "POST /self-service/v2/contacts/authenticate",
        direction: Direction::Request,
        schema_path: "/required",
        message: "",
        reason: "lists every provider's fields (username, password, token, phone, mac_address) as required; each provider needs only its own, as the operation's own examples show",
    },
    Allowed {
        operation: "POST /self-service/v2/contacts/register",
        direction: Direction::Request,
        schema_path: "/required",
        message: "",
        reason: "lists fields of every provider as required; each provider needs only its own, as the operation's own examples show",
    },
    Allowed {
        operation: "POST /self-service/v2/contacts/otp",
        direction: Direction::Request,
        schema_path: "/required",
        message: "\"method\" is a required property",
        reason: "`method` is listed as required, yet the operation's own example omits it: the credentials say where the code goes",
    },
    Allowed {
        operation: "POST /self-service/v2/contacts/otp",
        direction: Direction::Request,
        schema_path: "/properties/method/enum",
        message: "",
        reason: "`method` lists EMAIL only, yet PHONE credentials are sent their code by SMS (API-NOTES: method SMS|EMAIL)",
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Request,
    Response,
}

pub struct Allowed {
    operation: &'static str,
    direction: Direction,
    schema_path: &'static str,
    /// A fragment of the error's text, when the schema path alone would allow too much.
    message: &'static str,
    #[allow(dead_code)] // read by reviewers, not by code
    reason: &'static str,
}

struct Operation {
    /// `POST /self-service/v2/contacts/{id}`
    name: String,
    method: String,
    segments: Vec<String>,
    /// Declared statuses, each with its JSON body schema when it has one.
    responses: HashMap<u16, Option<Value>>,
    request: Option<Value>,
    compiled: Mutex<HashMap<(Direction, u16), Arc<jsonschema::Validator>>>,
}

impl Operation {
    /// How well `path` matches: `None` when it does not, else the literal segments matched
    /// (so `/contacts/register` wins over `/contacts/{id}`).
    fn matches(&self, method: &str, path: &[&str]) -> Option<usize> {
        if !self.method.eq_ignore_ascii_case(method) || self.segments.len() != path.len() {
            return None;
        }
        let mut literal = 0;
        for (template, given) in self.segments.iter().zip(path) {
            if template.starts_with('{') {
                continue;
            }
            if template != given {
                return None;
            }
            literal += 1;
        }
        Some(literal)
    }

    fn validator(&self, direction: Direction, status: u16, schema: &Value) -> Arc<jsonschema::Validator> {
        let mut compiled = self.compiled.lock().unwrap();
        compiled
            .entry((direction, status))
            .or_insert_with(|| {
                let schema = json_schema(schema);
                Arc::new(
                    jsonschema::draft4::options()
                        .should_validate_formats(false)
                        .build(&schema)
                        .unwrap_or_else(|error| {
                            panic!("{}: the contract's schema does not compile: {error}", self.name)
                        }),
                )
            })
            .clone()
    }
}

struct Contract {
    operations: Vec<Operation>,
}

fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/crmcom/self-service-v2.openapi.yaml"
        );
        let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{path}: {error}"));
        let document: Value = serde_norway::from_str(&text).unwrap_or_else(|error| panic!("{path}: {error}"));
        let mut operations = Vec::new();
        for (path, item) in document["paths"].as_object().expect("the contract has paths") {
            for (method, operation) in item.as_object().into_iter().flatten() {
                if !["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                    continue;
                }
                let responses = operation["responses"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(status, response)| {
                        let schema = response["content"]["application/json"]["schema"].clone();
                        Some((status.parse().ok()?, (!schema.is_null()).then_some(schema)))
                    })
                    .collect();
                let request = operation["requestBody"]["content"]["application/json"]["schema"].clone();
                operations.push(Operation {
                    name: format!("{} {path}", method.to_uppercase()),
                    method: method.clone(),
                    segments: path.split('/').map(str::to_string).collect(),
                    responses,
                    request: (!request.is_null()).then_some(request),
                    compiled: Mutex::new(HashMap::new()),
                });
            }
        }
        Contract { operations }
    })
}

/// An OpenAPI 3.0 schema as JSON Schema draft 4: `nullable` becomes "or null"; annotations
/// go. Recurses through the keywords that hold schemas only, so a property named like a
/// keyword (`description`, `example`) is kept.
fn json_schema(schema: &Value) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        let converted = match key.as_str() {
            "nullable" | "example" | "examples" | "description" | "deprecated" | "readOnly" | "writeOnly" | "xml"
            | "externalDocs" | "discriminator" | "title" => continue,
            "properties" | "patternProperties" => Value::Object(
                value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, schema)| (name.clone(), json_schema(schema)))
                    .collect(),
            ),
            "items" | "not" | "additionalProperties" => json_schema(value),
            "allOf" | "anyOf" | "oneOf" => {
                Value::Array(value.as_array().into_iter().flatten().map(json_schema).collect())
            }
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    if map.get("nullable") == Some(&Value::Bool(true)) {
        return serde_json::json!({"anyOf": [Value::Object(out), {"type": "null"}]});
    }
    Value::Object(out)
}

fn allowed(operation: &str, direction: Direction, schema_path: &str, message: &str) -> bool {
    ALLOWED.iter().any(|entry| {
        (entry.operation == "*" || entry.operation == operation)
            && entry.direction == direction
            && schema_path.contains(entry.schema_path)
            && message.contains(entry.message)
    })
}

fn violations(operation: &Operation, direction: Direction, status: u16, schema: &Value, body: &Value) -> Vec<String> {
    let validator = operation.validator(direction, status, schema);
    validator
        .iter_errors(body)
        .filter_map(|error| {
            let schema_path = error.schema_path().to_string();
            if allowed(&operation.name, direction, &schema_path, &error.to_string()) {
                return None;
            }
            Some(format!(
                "{direction:?} at `{}`: {error} (rule {schema_path})",
                error.instance_path()
            ))
        })
        .collect()
}

/// Checks one call, failing the test on any violation: `path` may carry a query;
/// `request` is the JSON body sent, if any.
pub fn check(method: &str, path: &str, request: Option<&Value>, status: u16, body: &Value) {
    let found = violations_of(method, path, request, status, body);
    assert!(
        found.is_empty(),
        "contract: {method} {path} ({status}) breaks CRM.COM's contract:\n  {}\nrequest: {}\nresponse: {body}",
        found.join("\n  "),
        request.map_or("none".to_string(), Value::to_string),
    );
}

/// What in one call breaks the contract, each naming the operation, the JSON path and the
/// rule; empty when nothing does (and for calls outside `/self-service/v2`).
pub fn violations_of(method: &str, path: &str, request: Option<&Value>, status: u16, body: &Value) -> Vec<String> {
    let path = path.split('?').next().unwrap_or(path);
    if !path.starts_with("/self-service/v2/") {
        return Vec::new();
    }
    let given: Vec<&str> = path.split('/').collect();
    let Some(operation) = contract()
        .operations
        .iter()
        .filter_map(|operation| Some((operation.matches(method, &given)?, operation)))
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, operation)| operation)
    else {
        // Probing a path or method that does not exist is allowed; serving one is not.
        if status == 404 || status == 405 {
            return Vec::new();
        }
        return vec![format!(
            "{method} {path} answered {status}, but the contract has no such operation"
        )];
    };
    let declared = operation.responses.contains_key(&status)
        || STATUSES_ALWAYS_ALLOWED.iter().any(|(allowed, _)| *allowed == status);
    if !declared {
        let mut statuses: Vec<_> = operation.responses.keys().collect();
        statuses.sort();
        return vec![format!(
            "{} answered {status}, which it does not declare (it declares {statuses:?})",
            operation.name
        )];
    }
    if !(200..300).contains(&status) {
        return Vec::new();
    }
    let mut found = Vec::new();
    if let Some(Some(schema)) = operation.responses.get(&status) {
        found.extend(violations(operation, Direction::Response, status, schema, body));
    }
    if let (Some(schema), Some(request)) = (&operation.request, request) {
        found.extend(violations(operation, Direction::Request, 0, schema, request));
    }
    found
        .into_iter()
        .map(|violation| format!("{}: {violation}", operation.name))
        .collect()
}

/// The check itself can fail: each kind of violation is found and named.
#[test]
fn the_check_finds_and_names_what_breaks_the_contract() {
    let token = serde_json::json!({
        "access_token": "a", "refresh_token": "r", "expiration_date": 1_800_000_900,
        "contact": {"id": "c", "type": "PERSON", "is_verified": true},
        "organisations": [], "communities": [], "existing_contact": true,
    });
    let refresh = "/self-service/v2/contacts/refresh";
    assert_eq!(violations_of("POST", refresh, None, 200, &token), Vec::<String>::new());
    let mut wrong = token.clone();
    wrong["expiration_date"] = "2027-01-15".into();
    wrong["contact"]["company_name"] = Value::Null;
    wrong["contact"]["type"] = "ROBOT".into();
    let found = violations_of("POST", refresh, None, 200, &wrong).join("\n");
    for expected in [
        "`/expiration_date`",
        "`/contact/company_name`",
        "`/contact/type`",
        "POST /self-service/v2/contacts/refresh",
    ] {
        assert!(found.contains(expected), "{expected} in:\n{found}");
    }
    let undeclared = violations_of("POST", refresh, None, 418, &Value::Null);
    assert!(undeclared[0].contains("does not declare"), "{undeclared:?}");
    let served = violations_of("GET", "/self-service/v2/no_such_thing", None, 200, &Value::Null);
    assert!(served[0].contains("no such operation"), "{served:?}");
    assert!(violations_of("GET", "/self-service/v2/no_such_thing", None, 404, &Value::Null).is_empty());
    // Requests: a PUT of a contact whose phone lacks its required type.
    let put = "/self-service/v2/contacts/6e2f83ca-69e9-4ea4-96c5-73a4c641979d";
    let request = serde_json::json!({"phone": {"number": "99123456", "country_code": "CYP"}});
    let found = violations_of("PUT", put, Some(&request), 200, &serde_json::json!({"id": "x"})).join("\n");
    assert!(
        found.contains("Request at `/phone`") && found.contains("\"type\" is a required property"),
        "{found}"
    );
    // An allowed fault of the contract is not a violation: the OTP request without `method`.
    let otp = serde_json::json!({"credentials": [{"name": "EMAIL", "value": "a@example.com"}]});
    assert!(violations_of(
        "POST",
        "/self-service/v2/contacts/otp",
        Some(&otp),
        200,
        &serde_json::json!({})
    )
    .is_empty());
}
