//! Communities over HTTP: an owner invites people (registered contacts by email or phone,
//! or new ones), they accept or reject once, only accepted members are listed; an admin
//! member the owner lets manage people reaches them too; members leave; others get 403/404.

use crate::helpers::*;
use serde_json::{json, Value};

async fn relation(app: &TestApp, token: &str, name: &str) -> String {
    let listed = with_token(
        app,
        token,
        "GET",
        &format!("/self-service/v2/communities/relations?name={name}"),
        None,
    )
    .await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["content"].as_array().unwrap().len(), 1, "{}", listed.body);
    listed.body["content"][0]["id"].as_str().unwrap().to_string()
}

async fn invite(app: &TestApp, token: &str, owner: &str, body: Value) -> Reply {
    with_token(
        app,
        token,
        "POST",
        &format!("/self-service/v2/contacts/{owner}/people"),
        Some(&body),
    )
    .await
}

async fn people(app: &TestApp, token: &str, owner: &str) -> Reply {
    with_token(
        app,
        token,
        "GET",
        &format!("/self-service/v2/contacts/{owner}/people"),
        None,
    )
    .await
}

#[tokio::test]
async fn an_owner_invites_people_who_accept_once_and_can_leave() {
    let app = spawn_app().await;
    let (kim, kim_token) = registered_contact(&app, "kim@example.com", "kim-password-1").await;
    let (lee, lee_token) = registered_contact(&app, "lee@example.com", "lee-password-1").await;
    let child = relation(&app, &kim_token, "chi").await;

    let invited = invite(
        &app,
        &kim_token,
        &kim,
        json!({
            "email": "LEE@example.com",
            "phone": {"number": "35799000001"},
            "relation_id": child,
            "group": "Family",
            "wallet_sharing": {"is_enabled": true, "method": "AUTO", "max_amount": 50},
            "usage_allowance": {"accumulated_allowance": {"cash_limits": {"per_transaction": 10, "per_day": 20}}},
        }),
    )
    .await;
    assert_eq!(invited.status, 201, "{}", invited.body);
    let relationship = invited.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        people(&app, &kim_token, &kim).await.body["content"],
        json!([]),
        "not accepted yet"
    );

    // Lee sees the invitation and accepts it, once.
    let communities = format!("/self-service/v2/contacts/{lee}/communities");
    let pending = with_token(&app, &lee_token, "GET", &communities, None).await;
    assert_eq!(pending.status, 200, "{}", pending.body);
    assert_eq!(pending.body["content"][0]["state"], "PENDING");
    assert_eq!(pending.body["content"][0]["community_owner"]["id"], kim.as_str());
    assert_eq!(pending.body["content"][0]["relationship_id"], relationship.as_str());
    let actions = format!("/self-service/v2/contacts/{lee}/people/{relationship}/actions");
    let accepted = with_token(&app, &lee_token, "POST", &actions, Some(&json!({"action": "ACCEPT"}))).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let twice = with_token(&app, &lee_token, "POST", &actions, Some(&json!({"action": "REJECT"}))).await;
    assert_eq!(twice.status, 409, "{}", twice.body);

    // Kim lists Lee, with what Lee may spend.
    let listed = people(&app, &kim_token, &kim).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let person = &listed.body["content"][0];
    assert_eq!(person["contact"]["id"], lee.as_str());
    assert_eq!(person["relation"]["name"], "Child");
    assert_eq!(person["group"], "Family");
    assert_eq!(person["wallet_sharing"]["max_amount"].to_string(), "50.00");
    assert_eq!(
        person["usage_allowance"]["accumulated_allowance"]["cash_limits"]["per_day"].to_string(),
        "20.00"
    );
    let path = format!("/self-service/v2/contacts/{kim}/people/{relationship}");
    let changed = with_token(
        &app,
        &kim_token,
        "PUT",
        &path,
        Some(&json!({"group": "Kids", "is_admin": true, "permissions": ["CONTACT_MANAGEMENT"]})),
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let read = with_token(&app, &kim_token, "GET", &path, None).await;
    assert_eq!(read.body["group"], "Kids");
    assert_eq!(read.body["permissions"], json!(["CONTACT_MANAGEMENT"]));

    // Lee, an admin allowed to manage people, reaches Kim's people, but grants no rights.
    assert_eq!(people(&app, &lee_token, &kim).await.status, 200);
    let grant = with_token(&app, &lee_token, "PUT", &path, Some(&json!({"is_admin": false}))).await;
    assert_eq!(grant.status, 403, "{}", grant.body);

    // Someone not registered: a new contact is made, invited.
    let max = invite(
        &app,
        &kim_token,
        &kim,
        json!({"phone": {"number": "35799000009"}, "contact": {"first_name": "Max", "last_name": "Doe"}}),
    )
    .await;
    assert_eq!(max.status, 201, "{}", max.body);
    let max_path = format!(
        "/self-service/v2/contacts/{kim}/people/{}",
        max.body["id"].as_str().unwrap()
    );
    let read = with_token(&app, &kim_token, "GET", &max_path, None).await;
    assert_eq!(read.body["contact"]["first_name"], "Max", "{}", read.body);
    assert_eq!(read.body["state"], "PENDING");
    let again = invite(
        &app,
        &kim_token,
        &kim,
        json!({"email": "lee@example.com", "phone": {"number": "35799000001"}}),
    )
    .await;
    assert_eq!(again.status, 409, "{}", again.body);

    // Lee leaves; Kim removes Max.
    let leave = format!("/self-service/v2/contacts/{lee}/communities/{kim}");
    assert_eq!(with_token(&app, &lee_token, "DELETE", &leave, None).await.status, 204);
    assert_eq!(
        with_token(&app, &lee_token, "GET", &communities, None).await.body["content"],
        json!([])
    );
    assert_eq!(people(&app, &kim_token, &kim).await.body["content"], json!([]));
    assert_eq!(with_token(&app, &lee_token, "DELETE", &leave, None).await.status, 404);
    assert_eq!(
        with_token(&app, &kim_token, "DELETE", &max_path, None).await.status,
        204
    );
    assert_eq!(with_token(&app, &kim_token, "GET", &max_path, None).await.status, 404);
}

#[tokio::test]
async fn other_contacts_reach_no_community_and_bad_terms_are_refused() {
    let app = spawn_app().await;
    let (kim, kim_token) = registered_contact(&app, "kim@example.com", "kim-password-1").await;
    let (lee, lee_token) = registered_contact(&app, "lee@example.com", "lee-password-1").await;
    let (zoe, zoe_token) = registered_contact(&app, "zoe@example.com", "zoe-password-1").await;
    let invited = invite(
        &app,
        &kim_token,
        &kim,
        json!({"email": "lee@example.com", "phone": {"number": "35799000001"}}),
    )
    .await;
    let relationship = invited.body["id"].as_str().unwrap().to_string();

    // Zoe reaches none of Kim's community, nor Lee's invitation.
    assert_eq!(people(&app, &zoe_token, &kim).await.status, 403);
    let path = format!("/self-service/v2/contacts/{kim}/people/{relationship}");
    for (method, body) in [("GET", None), ("PUT", Some(json!({"group": "x"}))), ("DELETE", None)] {
        let refused = with_token(&app, &zoe_token, method, &path, body.as_ref()).await;
        assert_eq!(refused.status, 403, "{method}: {}", refused.body);
    }
    assert_eq!(
        invite(
            &app,
            &zoe_token,
            &kim,
            json!({"email": "zoe@example.com", "phone": {"number": "35799000002"}})
        )
        .await
        .status,
        403
    );
    let hers = format!("/self-service/v2/contacts/{zoe}/people/{relationship}/actions");
    let taken = with_token(&app, &zoe_token, "POST", &hers, Some(&json!({"action": "ACCEPT"}))).await;
    assert_eq!(taken.status, 404, "{}", taken.body);
    let his = format!("/self-service/v2/contacts/{lee}/people/{relationship}/actions");
    let forged = with_token(&app, &zoe_token, "POST", &his, Some(&json!({"action": "ACCEPT"}))).await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let theirs = format!("/self-service/v2/contacts/{lee}/communities");
    assert_eq!(with_token(&app, &zoe_token, "GET", &theirs, None).await.status, 403);

    // Bad terms are refused, and nothing is kept.
    for (why, body) in [
        ("no phone", json!({"email": "zoe@example.com"})),
        (
            "no one by that phone or email and no details",
            json!({"email": "nobody@example.com", "phone": {"number": "35799000003"}}),
        ),
        (
            "the owner itself",
            json!({"email": "kim@example.com", "phone": {"number": "35799000004"}}),
        ),
        (
            "an unknown relation",
            json!({"email": "zoe@example.com", "phone": {"number": "35799000002"}, "relation_id": "3f2504e0-4f89-11d3-9a0c-0305e82c3301"}),
        ),
        (
            "a bad permission",
            json!({"email": "zoe@example.com", "phone": {"number": "35799000002"}, "permissions": ["EVERYTHING"]}),
        ),
        (
            "a bad method",
            json!({"email": "zoe@example.com", "phone": {"number": "35799000002"}, "wallet_sharing": {"is_enabled": true, "method": "SOMETIMES"}}),
        ),
        (
            "an over-precise max",
            json!({"email": "zoe@example.com", "phone": {"number": "35799000002"}, "wallet_sharing": {"is_enabled": true, "method": "AUTO", "max_amount": 1.001}}),
        ),
        (
            "a negative max",
            json!({"email": "zoe@example.com", "phone": {"number": "35799000002"}, "wallet_sharing": {"is_enabled": true, "method": "AUTO", "max_amount": -1}}),
        ),
        (
            "an unknown pool",
            json!({"email": "zoe@example.com", "phone": {"number": "35799000002"}, "wallet_sharing": {"is_enabled": true, "method": "AUTO", "commerce_pools": ["3f2504e0-4f89-11d3-9a0c-0305e82c3301"]}}),
        ),
        (
            "limits that disagree",
            json!({"email": "zoe@example.com", "phone": {"number": "35799000002"}, "usage_allowance": {"accumulated_allowance": {"cash_limits": {"per_transaction": 30, "per_day": 20}}}}),
        ),
        (
            "devices",
            json!({"email": "zoe@example.com", "phone": {"number": "35799000002"}, "devices": ["d1"]}),
        ),
        (
            "a control character",
            json!({"email": "zoe@example.com", "phone": {"number": "35799000002"}, "group": "a\u{7}"}),
        ),
        (
            "an unknown field",
            json!({"email": "zoe@example.com", "phone": {"number": "35799000002"}, "colour": "red"}),
        ),
        (
            "a bad phone",
            json!({"phone": {"number": "12"}, "contact": {"first_name": "A", "last_name": "B"}}),
        ),
    ] {
        let refused = invite(&app, &kim_token, &kim, body).await;
        assert_eq!(refused.status, 400, "{why}: {}", refused.body);
    }
    let zoes = with_token(
        &app,
        &zoe_token,
        "GET",
        &format!("/self-service/v2/contacts/{zoe}/communities"),
        None,
    )
    .await;
    assert_eq!(zoes.body["content"], json!([]), "no refused invitation was kept");
    let bad_action = with_token(&app, &lee_token, "POST", &his, Some(&json!({"action": "MAYBE"}))).await;
    assert_eq!(bad_action.status, 400, "{}", bad_action.body);
    let pending = with_token(&app, &lee_token, "GET", &theirs, None).await;
    assert_eq!(pending.body["content"][0]["state"], "PENDING");
    // Rejected: it is not shown, and cannot be accepted after.
    assert_eq!(
        with_token(&app, &lee_token, "POST", &his, Some(&json!({"action": "REJECT"})))
            .await
            .status,
        200
    );
    assert_eq!(
        with_token(&app, &lee_token, "GET", &theirs, None).await.body["content"],
        json!([])
    );
    assert_eq!(
        with_token(&app, &lee_token, "POST", &his, Some(&json!({"action": "ACCEPT"})))
            .await
            .status,
        409
    );
}
