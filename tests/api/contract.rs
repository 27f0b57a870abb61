//! Every call the tests make through `TestApp` is checked against what CRM.COM's clients
//! expect. Every `/self-service/v2` call is checked against CRM.COM's contract
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
//! The back office has no contract file: its calls are checked as far as API-NOTES gives
//! their shapes (`BACK_OFFICE`: purchases and wallet reads share the self-service
//! schemas, users' tokens have the fields of API-NOTES 1.2), every list must be
//! `{paging, content}`, and every error in either API must be CRM.COM's error body.
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
        reason: "requires identification.email for every provider, and the names even where the provider supplies them (FACEBOOK, OIDC_OAUTH); each provider needs only its own fields, as the operation's own examples show",
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
    Allowed {
        operation: "PUT /self-service/v2/wallets/{id}",
        direction: Direction::Request,
        schema_path: "/type",
        message: "null is not of type \"object\"",
        reason: "`null` switches an auto or termed top-up off: the contract gives no other way to opt out of what the contact opted in to",
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

pub(crate) struct Operation {
    /// `POST /self-service/v2/contacts/{id}`
    pub(crate) name: String,
    /// The operation as the contract has it (parameters and all).
    pub(crate) raw: Value,
    method: String,
    segments: Vec<String>,
    /// Declared statuses, each with its JSON body schema when it has one.
    responses: HashMap<u16, Option<Value>>,
    request: Option<Value>,
    compiled: Mutex<HashMap<(Direction, u16), Arc<jsonschema::Validator>>>,
}

impl Operation {
    fn matches(&self, method: &str, path: &[&str]) -> Option<usize> {
        template_matches(&self.method, &self.segments.join("/"), method, path)
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

pub(crate) struct Contract {
    pub(crate) operations: Vec<Operation>,
}

impl Contract {
    /// The operation `path` (no query) calls: the one matching with most literal segments
    /// (so `/contacts/register` wins over `/contacts/{id}`).
    pub(crate) fn operation(&self, method: &str, path: &str) -> Option<&Operation> {
        let given: Vec<&str> = path.split('/').collect();
        self.operations
            .iter()
            .filter_map(|operation| Some((operation.matches(method, &given)?, operation)))
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, operation)| operation)
    }
}

/// How well `path` matches `METHOD template`: `None` when it does not, else the literal
/// segments matched.
fn template_matches(verb: &str, template: &str, method: &str, path: &[&str]) -> Option<usize> {
    let segments: Vec<&str> = template.split('/').collect();
    if !verb.eq_ignore_ascii_case(method) || segments.len() != path.len() {
        return None;
    }
    let mut literal = 0;
    for (template, given) in segments.iter().zip(path) {
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

pub(crate) fn contract() -> &'static Contract {
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
                    raw: operation.clone(),
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
/// rule; empty when nothing does.
pub fn violations_of(method: &str, path: &str, request: Option<&Value>, status: u16, body: &Value) -> Vec<String> {
    let path = path.split('?').next().unwrap_or(path);
    let mut found = error_body_violations(method, path, status, body);
    if path.starts_with("/self-service/v2/") {
        found.extend(self_service_violations(method, path, request, status, body));
    } else if path.starts_with("/backoffice/v2/") {
        found.extend(back_office_violations(method, path, status, body));
    }
    found
}

/// Every error with a body, in either API, is CRM.COM's error body (API-NOTES 1.6): all of
/// `status` (the HTTP status), `message`, `error` and `parameters`.
fn error_body_violations(method: &str, path: &str, status: u16, body: &Value) -> Vec<String> {
    if status < 400 || body.is_null() || !(path.starts_with("/self-service/") || path.starts_with("/backoffice/")) {
        return Vec::new();
    }
    let schema = serde_json::json!({
        "type": "object",
        "required": ["status", "message", "error", "parameters"],
        "properties": {
            "status": {"type": "integer", "enum": [status]},
            "message": {"type": ["string", "null"]},
            "error": {"type": ["string", "null"]},
            "parameters": {"type": ["array", "null"], "items": {"type": "string"}}
        }
    });
    let validator = jsonschema::draft4::new(&schema).expect("the error body's schema compiles");
    validator
        .iter_errors(body)
        .map(|error| {
            format!(
                "{method} {path} ({status}): error body at `{}`: {error}",
                error.instance_path()
            )
        })
        .collect()
}

fn self_service_violations(
    method: &str,
    path: &str,
    request: Option<&Value>,
    status: u16,
    body: &Value,
) -> Vec<String> {
    let Some(operation) = contract().operation(method, path) else {
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

/// The back office has no contract file; these are its shapes as far as API-NOTES gives
/// them. A back-office purchase is the self-service purchase (API-NOTES 4.2), its wallet
/// reads are the self-service wallet reads, and a user's sign-in answers the fields of
/// API-NOTES 1.2. Our own additions (`/api_keys`, `/purchases/bulk`) are exempt.
const BACK_OFFICE: &[(&str, u16, Shape)] = &[
    (
        "POST /backoffice/v2/purchases",
        201,
        Shape::SelfService("GET /self-service/v2/purchases/{id}"),
    ),
    (
        "GET /backoffice/v2/purchases/{id}",
        200,
        Shape::SelfService("GET /self-service/v2/purchases/{id}"),
    ),
    (
        "POST /backoffice/v2/purchases/{id}/cancel",
        200,
        Shape::SelfService("GET /self-service/v2/purchases/{id}"),
    ),
    (
        "GET /backoffice/v2/wallets/{id}",
        200,
        Shape::SelfService("GET /self-service/v2/wallets/{id}"),
    ),
    (
        "GET /backoffice/v2/wallets/{id}/journals",
        200,
        Shape::SelfService("GET /self-service/v2/wallets/{id}/journals"),
    ),
    ("POST /backoffice/v2/users/authenticate", 200, Shape::UserToken),
    ("POST /backoffice/v2/users/refresh", 200, Shape::UserToken),
    ("POST /backoffice/v2/organisations/switch/{id}", 200, Shape::UserToken),
];

#[derive(Debug, Clone, Copy)]
enum Shape {
    /// The 200 response of this self-service operation.
    SelfService(&'static str),
    /// A user's tokens (API-NOTES 1.2).
    UserToken,
}

fn user_token_schema() -> Value {
    serde_json::json!({
        "type": "object",
        "required": ["access_token", "refresh_token", "expiration_date", "mode", "password_expired"],
        "properties": {
            "access_token": {"type": "string"},
            "refresh_token": {"type": "string"},
            "expiration_date": {"type": "integer"},
            "mode": {"enum": ["LIVE", "TEST"]},
            "lockout_date": {"type": ["integer", "null"]},
            "password_expired": {"type": "boolean"}
        }
    })
}

fn back_office_violations(method: &str, path: &str, status: u16, body: &Value) -> Vec<String> {
    let mut found = Vec::new();
    // Every list is {paging, content} (API-NOTES 1.5).
    if (200..300).contains(&status) && body.get("content").is_some_and(Value::is_array) {
        let paging = &body["paging"];
        if !(paging["page"].is_u64() && paging["size"].is_u64() && paging["has_more"].is_boolean()) {
            found.push(format!(
                "{method} {path}: a list without paging {{page, size, has_more}}"
            ));
        }
    }
    let given: Vec<&str> = path.split('/').collect();
    let shape = BACK_OFFICE.iter().find(|(name, answered, _)| {
        *answered == status && {
            let (verb, template) = name.split_once(' ').expect("METHOD /path");
            template_matches(verb, template, method, &given).is_some()
        }
    });
    let Some((name, _, shape)) = shape else {
        return found;
    };
    let (operation, schema) = match shape {
        Shape::SelfService(operation) => {
            let (verb, template) = operation.split_once(' ').expect("METHOD /path");
            let operation = contract()
                .operations
                .iter()
                .find(|candidate| {
                    candidate.method.eq_ignore_ascii_case(verb) && candidate.segments.join("/") == template
                })
                .unwrap_or_else(|| panic!("{operation} is in the contract"));
            let schema = operation.responses[&200].clone().expect("a response schema");
            (operation, schema)
        }
        Shape::UserToken => {
            let operation = contract()
                .operation("POST", "/self-service/v2/contacts/refresh")
                .expect("an operation to cache the schema with");
            (operation, user_token_schema())
        }
    };
    let key = match shape {
        Shape::SelfService(_) => 200,
        Shape::UserToken => 1,
    };
    found.extend(
        violations(operation, Direction::Response, key, &schema, body)
            .into_iter()
            .map(|violation| format!("{name} (as {shape:?}): {violation}")),
    );
    found
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
    // The back office: a purchase is the self-service purchase; lists are paged; errors
    // are CRM.COM's error body.
    let purchase = serde_json::json!({"id": "p", "state": 7});
    let found = violations_of("GET", "/backoffice/v2/purchases/p", None, 200, &purchase).join("\n");
    assert!(found.contains("`/state`"), "{found}");
    let unpaged = serde_json::json!({"content": []});
    let found = violations_of("GET", "/backoffice/v2/organisations/o/network", None, 200, &unpaged);
    assert!(found[0].contains("without paging"), "{found:?}");
    let error = serde_json::json!({"status": 400, "message": "bad", "error": "CRM.EXCEPTIONS.X"});
    let found = violations_of("GET", "/backoffice/v2/purchases/p", None, 400, &error).join("\n");
    assert!(found.contains("\"parameters\" is a required property"), "{found}");
    let user = serde_json::json!({"access_token": "a", "refresh_token": "r", "expiration_date": "soon", "mode": "LIVE", "password_expired": false});
    let found = violations_of("POST", "/backoffice/v2/users/authenticate", None, 200, &user).join("\n");
    assert!(found.contains("`/expiration_date`"), "{found}");
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
