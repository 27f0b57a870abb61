//! The served `/openapi.json` against the server itself, by a schema-driven fuzzer
//! (schemathesis, installed by `.ci/run`): every operation gets generated and mutated
//! requests, and every answer must be no server error, have a documented status, and match
//! its documented schema. Bounded in examples per operation and seeded, so a run takes a
//! minute or two and a failure can be replayed. Any finding fails the test.
//!
//! Four runs, each with the credentials its operations take: the back office with a
//! secret key; the self-service calls made before sign-in with a public key; then a
//! signed-in contact's own calls (its id in every `{id}`), with the calls that end its
//! session or unregister it in a run of their own, last.
//!
//! Without schemathesis on the PATH the test says so and passes, unless `CI` is set.

use crate::helpers::*;
use serde_json::json;
use std::process::Command;

const CHECKS: &str = "not_a_server_error,status_code_conformance,response_schema_conformance";

fn examples_per_operation() -> String {
    std::env::var("REWARDS_FUZZ_EXAMPLES").unwrap_or_else(|_| "20".into())
}

fn schemathesis_available() -> bool {
    Command::new("schemathesis")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

struct Run<'a> {
    name: &'a str,
    headers: Vec<String>,
    include_path_regex: &'a str,
    exclude_path_regex: Option<&'a str>,
    /// Operations left out by name (`DELETE /self-service/v2/contacts/{id}`).
    exclude_names: &'a [&'a str],
    /// `path.id` for every operation (the signed-in contact's own id).
    path_id: Option<String>,
}

/// Runs schemathesis against `app`; returns its output when it found something.
async fn fuzz(app: &TestApp, run: Run<'_>) -> Result<(), String> {
    let dir = tempfile::TempDir::new().unwrap();
    let config = dir.path().join("schemathesis.toml");
    let mut toml = String::new();
    if let Some(id) = &run.path_id {
        toml.push_str(&format!("[parameters]\n\"path.id\" = \"{id}\"\n"));
    }
    std::fs::write(&config, toml).unwrap();
    let mut command = Command::new("schemathesis");
    command
        .current_dir(dir.path())
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(app.url("/openapi.json"))
        .args(["--checks", CHECKS])
        .args(["--max-examples", &examples_per_operation()])
        .args(["--seed", "20261201"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--generation-database", "none"])
        .args(["--request-timeout", "20"])
        .args(["--workers", "1"])
        .arg("--no-color")
        .args(["--include-path-regex", run.include_path_regex]);
    if let Some(exclude) = run.exclude_path_regex {
        command.args(["--exclude-path-regex", exclude]);
    }
    for name in run.exclude_names {
        command.args(["--exclude-name", name]);
    }
    for header in &run.headers {
        command.args(["--header", header]);
    }
    let name = run.name.to_string();
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("schemathesis runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = text
        .lines()
        .rev()
        .find(|line| line.contains(" in ") && line.starts_with('='))
        .unwrap_or("")
        .to_string();
    eprintln!("schemathesis, {name}: {summary}");
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("schemathesis found problems in the {name} run:\n{text}"))
    }
}

#[tokio::test]
async fn the_served_openapi_document_matches_the_server_under_a_schema_driven_fuzzer() {
    if !schemathesis_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "schemathesis is not installed; .ci/run installs it (pip install schemathesis)"
        );
        eprintln!("schemathesis not found: the contract fuzz test is skipped (pip install schemathesis)");
        return;
    }
    let mut findings = Vec::new();

    // The back office and the engine's own additions, with a secret key.
    let back_office = spawn_app().await;
    let outcome = fuzz(
        &back_office,
        Run {
            name: "back office",
            headers: vec![format!("api_key: {SECRET_KEY}")],
            include_path_regex: "^/(backoffice|health|openapi|\\.well-known)",
            exclude_path_regex: None,
            exclude_names: &[],
            path_id: None,
        },
    )
    .await;
    findings.extend(outcome.err());

    // Self-service before sign-in, with the app's public key; then a signed-in contact.
    let app = spawn_app().await;
    let outcome = fuzz(
        &app,
        Run {
            name: "self-service before sign-in",
            headers: vec![format!("api_key: {PUBLIC_KEY}")],
            include_path_regex: "^/self-service/",
            exclude_path_regex: Some(
                "^/self-service/v2/(contacts/\\{id\\}($|/(organisations|sign_out))|organisations/)",
            ),
            exclude_names: &[],
            path_id: None,
        },
    )
    .await;
    findings.extend(outcome.err());
    let registered = app
        .with_key(
            PUBLIC_KEY,
            "POST",
            "/self-service/v2/contacts/register",
            Some(&json!({"first_name": "Fuzz", "last_name": "Er",
                "identification": {"provider": "EMAIL", "email": "fuzz.contract@example.com", "password": "a long enough password"}})),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let token = registered.body["access_token"].as_str().unwrap().to_string();
    let contact_id = registered.body["contact"]["id"].as_str().unwrap().to_string();
    let keep_the_contact: &[&str] = &["DELETE /self-service/v2/contacts/{id}"];
    for (name, include, exclude_names) in [
        (
            "a signed-in contact",
            "^/self-service/v2/(contacts/\\{id\\}($|/organisations)|organisations/)",
            keep_the_contact,
        ),
        (
            "a contact signing out and unregistering",
            "^/self-service/v2/contacts/\\{id\\}($|/sign_out)",
            &[],
        ),
    ] {
        let outcome = fuzz(
            &app,
            Run {
                name,
                headers: vec![format!("Authorization: Bearer {token}")],
                include_path_regex: include,
                exclude_path_regex: None,
                exclude_names,
                path_id: Some(contact_id.clone()),
            },
        )
        .await;
        findings.extend(outcome.err());
    }
    assert!(findings.is_empty(), "{}", findings.join("\n\n"));
}
