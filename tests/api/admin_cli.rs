//! `rewards admin` on a data dir, then the server on the same dir: the business, key and user
//! made from the command line work over HTTP, and stay apart from the bootstrap business.

use crate::helpers::*;
use serde_json::{json, Value};
use std::process::Command;

fn admin(dir: &std::path::Path, arguments: &[&str]) -> (bool, Value, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_rewards"))
        .arg("admin")
        .args(arguments)
        .env("REWARDS__STORAGE__DATA_DIR", dir)
        .env("REWARDS__STORAGE__CACHE_CAPACITY_BYTES", "16777216")
        .env("REWARDS__BOOTSTRAP__SECRET_API_KEY", SECRET_KEY)
        .env("REWARDS__BOOTSTRAP__PUBLIC_API_KEY", PUBLIC_KEY)
        .env("REWARDS__BOOTSTRAP__ADMIN_EMAIL", ADMIN_EMAIL)
        .env("REWARDS__BOOTSTRAP__ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("REWARDS_ADMIN_PASSWORD", "cli-user-password-1")
        .output()
        .expect("rewards admin runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    (
        output.status.success(),
        serde_json::from_str(&stdout).unwrap_or(Value::Null),
        stderr,
    )
}

#[tokio::test]
async fn the_admin_cli_makes_a_business_its_key_and_user() {
    let dir = temp_dir();
    let (ok, business, stderr) = admin(
        dir.path(),
        &[
            "create-organisation",
            "--name",
            "Cli Coffee",
            "--type",
            "BUSINESS",
            "--currency",
            "GBP",
        ],
    );
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("bootstrapped"),
        "the empty dir is bootstrapped first: {stderr}"
    );
    let business_id = business["id"].as_str().unwrap().to_string();
    assert_eq!(business["currency_code"], "GBP");
    let (ok, key, stderr) = admin(dir.path(), &["create-key", "--organisation", &business_id]);
    assert!(ok, "{stderr}");
    let key = key["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("sk_live_"));
    let (ok, user, stderr) = admin(
        dir.path(),
        &[
            "create-user",
            "--email",
            "owner@cli.example",
            "--organisation",
            &business_id,
        ],
    );
    assert!(ok, "{stderr}");
    assert_eq!(user["role"], "ADMIN");
    let (ok, merchant, stderr) = admin(
        dir.path(),
        &[
            "create-organisation",
            "--name",
            "Cli Kiosk",
            "--type",
            "MERCHANT",
            "--parent",
            &business_id,
        ],
    );
    assert!(ok, "{stderr}");
    assert_eq!(merchant["parent_id"], business_id);
    assert_eq!(merchant["currency_code"], "GBP");

    // Refusals exit non-zero with the reason, and make nothing.
    for arguments in [
        vec!["create-organisation", "--name", "X", "--type", "VENUE"],
        vec!["create-organisation", "--name", "X", "--type", "EMPIRE"],
        vec![
            "create-organisation",
            "--name",
            "Evil\u{1b}[2JCorp",
            "--type",
            "BUSINESS",
        ],
        vec![
            "create-user",
            "--email",
            "owner@cli.example",
            "--organisation",
            &business_id,
        ],
        vec!["create-key", "--organisation", &business_id, "--mode", "STAGING"],
    ] {
        let (ok, _, stderr) = admin(dir.path(), &arguments);
        assert!(!ok, "{arguments:?} must fail");
        assert!(stderr.starts_with("rewards admin:"), "{stderr}");
    }
    let (ok, rotated, stderr) = admin(dir.path(), &["rotate-signing-key"]);
    assert!(ok, "{stderr}");

    let app = spawn_app_with(dir, rewards_engine::ManualClock::new(START_S), &[]).await;
    let network = app
        .with_key(
            &key,
            "GET",
            &format!("/backoffice/v2/organisations/{business_id}/network"),
            None,
        )
        .await;
    assert_eq!(network.status, 200, "{}", network.body);
    assert_eq!(network.body["content"][0]["name"], "Cli Kiosk");
    let contact = app
        .with_key(
            &key,
            "POST",
            "/backoffice/v2/contacts",
            Some(&json!({"first_name": "Cy", "last_name": "Li"})),
        )
        .await;
    assert_eq!(contact.status, 201, "{}", contact.body);
    assert_eq!(
        app.get(&format!(
            "/backoffice/v2/contacts/{}",
            contact.body["id"].as_str().unwrap()
        ))
        .await
        .status,
        404,
        "the bootstrap business does not see the CLI business's contacts"
    );
    let signed_in = app
        .with_key(
            PUBLIC_KEY,
            "POST",
            "/backoffice/v2/users/authenticate",
            Some(&json!({"username": "owner@cli.example", "password": "cli-user-password-1"})),
        )
        .await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    assert_eq!(signed_in.body["organisation_id"], business_id);
    let jwks = app.call("GET", "/.well-known/jwks.json", &[], None).await;
    let kids: Vec<&str> = jwks.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(kids.contains(&rotated["kid"].as_str().unwrap()), "{kids:?}");

    // A user locked out by wrong passwords gets a new one from the operator: its old session
    // ends, the lockout is lifted, the old password no longer works.
    for _ in 0..5 {
        assert_eq!(
            user_sign_in(&app, PUBLIC_KEY, "owner@cli.example", "wrong-password")
                .await
                .status,
            401
        );
    }
    assert_eq!(
        user_sign_in(&app, PUBLIC_KEY, "owner@cli.example", "cli-user-password-1")
            .await
            .status,
        429
    );
    let old_token = signed_in.body["access_token"].as_str().unwrap().to_string();
    let bearer = format!("Bearer {old_token}");
    let business_path = format!("/backoffice/v2/organisations/{business_id}");
    let old_session = app
        .call("GET", &business_path, &[("authorization", &bearer)], None)
        .await;
    assert_eq!(old_session.status, 200, "{}", old_session.body);
    let (dir, clock) = app.stop().await;
    let (ok, _, stderr) = admin(dir.path(), &["set-password", "--email", "nobody@cli.example"]);
    assert!(!ok && stderr.contains("user"), "{stderr}");
    let (ok, reset, stderr) = admin(
        dir.path(),
        &[
            "set-password",
            "--email",
            "Owner@cli.example",
            "--password",
            "cli-new-password-2",
        ],
    );
    assert!(ok, "{stderr}");
    assert_eq!(reset["email"], "owner@cli.example");
    let app = spawn_app_with(dir, clock, &[]).await;
    let old_session = app
        .call("GET", &business_path, &[("authorization", &bearer)], None)
        .await;
    assert_eq!(old_session.status, 401, "{}", old_session.body);
    assert_eq!(
        user_sign_in(&app, PUBLIC_KEY, "owner@cli.example", "cli-user-password-1")
            .await
            .status,
        401
    );
    assert_eq!(
        user_sign_in(&app, PUBLIC_KEY, "owner@cli.example", "cli-new-password-2")
            .await
            .status,
        200
    );
}
