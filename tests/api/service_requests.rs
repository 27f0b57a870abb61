//! Service requests over HTTP: the back office sets up queues; a contact raises requests
//! and adds notes; the back office moves them through stages and the state table and adds
//! notes the contact never sees; another contact or business finds nothing.

use crate::helpers::*;
use serde_json::{json, Value};

async fn queue(app: &TestApp) -> Value {
    let made = app
        .post(
            "/backoffice/v2/queues",
            &json!({
                "name": "Repairs",
                "classification": "SUPPORT",
                "default_priority": {"urgency": "HIGH", "impact": "LOW"},
                "categories": [{"name": "Coffee machine", "description": "Anything that brews"}, {"name": "Card"}],
                "stages": [{"name": "Received", "colour": "#999999"}, {"name": "With a technician"}, {"name": "Fixed"}],
            }),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    made.body
}

async fn raise(app: &TestApp, token: &str, contact: &str, body: Value) -> Reply {
    let path = format!("/self-service/v2/contacts/{contact}/service_requests");
    with_token(app, token, "POST", &path, Some(&body)).await
}

#[tokio::test]
async fn a_contact_raises_a_request_the_back_office_moves_it_and_each_side_keeps_its_notes() {
    let app = spawn_app().await;
    let queue = queue(&app).await;
    let queue_id = queue["id"].as_str().unwrap();
    let (kim, token) = registered_contact(&app, "kim@example.com", "kim-password-1").await;

    let queues = with_token(&app, &token, "GET", "/self-service/v2/queues?name=rep", None).await;
    assert_eq!(queues.status, 200, "{}", queues.body);
    assert_eq!(queues.body["content"][0]["id"], queue_id);
    assert_eq!(queues.body["content"][0]["default_priority"]["priority"], "HIGH");
    assert_eq!(queues.body["content"][0]["categories"][0]["name"], "Coffee machine");
    let none = with_token(
        &app,
        &token,
        "GET",
        "/self-service/v2/queues?search_value=billing",
        None,
    )
    .await;
    assert_eq!(none.body["content"], json!([]));

    let category = queue["categories"][0]["id"].as_str().unwrap();
    let raised = raise(
        &app,
        &token,
        &kim,
        json!({"queue_id": queue_id, "description": "The machine leaks since Monday.", "categories": [{"id": category}], "custom_fields": [{"key": "model", "value": "X2"}]}),
    )
    .await;
    assert_eq!(raised.status, 200, "{}", raised.body);
    let id = raised.body["id"].as_str().unwrap().to_string();
    let mine = format!("/self-service/v2/contacts/{kim}/service_requests");
    let listed = with_token(&app, &token, "GET", &mine, None).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let request = &listed.body["content"][0];
    assert_eq!(request["id"], id.as_str());
    assert_eq!(request["stage"]["name"], "Received");
    assert_eq!(request["stage"]["order"], 1);
    assert_eq!(request["state"], "NEW");
    assert_eq!(request["is_resolved"], false);
    assert_eq!(request["classification"], "SUPPORT");
    let number = request["number"].as_str().unwrap().to_string();
    assert!(number.starts_with('S') && number.len() == 9, "{number}");
    let found = with_token(
        &app,
        &token,
        "GET",
        &format!("{mine}?search_value={}", &number[3..]),
        None,
    )
    .await;
    assert_eq!(found.body["content"].as_array().unwrap().len(), 1, "{}", found.body);
    let closed = with_token(&app, &token, "GET", &format!("{mine}?states=CLOSED"), None).await;
    assert_eq!(closed.body["content"], json!([]));

    // Notes: the contact's (a retry adds it once), and the back office's, which it never sees.
    let notes = format!("/self-service/v2/service_requests/{id}/notes");
    let note = json!({"id": "0b7d0b35-5d7c-4d57-9a70-3fa3d6e0b9a1", "note": "It is the blue one."});
    let added = with_token(&app, &token, "POST", &notes, Some(&note)).await;
    assert_eq!(added.status, 200, "{}", added.body);
    let again = with_token(&app, &token, "POST", &notes, Some(&note)).await;
    assert_eq!(again.body["id"], added.body["id"]);
    let other_text = json!({"id": "0b7d0b35-5d7c-4d57-9a70-3fa3d6e0b9a1", "note": "Red."});
    assert_eq!(
        with_token(&app, &token, "POST", &notes, Some(&other_text)).await.status,
        409
    );
    let backoffice = format!("/backoffice/v2/service_requests/{id}");
    let internal = app
        .post(&format!("{backoffice}/notes"), &json!({"note": "Customer is a VIP"}))
        .await;
    assert_eq!(internal.status, 201, "{}", internal.body);
    let seen = with_token(&app, &token, "GET", &notes, None).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert_eq!(seen.body["content"].as_array().unwrap().len(), 1, "{}", seen.body);
    assert_eq!(seen.body["content"][0]["note"], "It is the blue one.");
    let whole = app.get(&backoffice).await;
    assert_eq!(whole.status, 200, "{}", whole.body);
    assert_eq!(whole.body["notes"].as_array().unwrap().len(), 2);
    assert_eq!(whole.body["notes"][1]["author"], "BACKOFFICE");
    assert_eq!(whole.body["contact"]["id"], kim.as_str());

    // The back office moves it as the table allows.
    let stage = queue["stages"][1]["id"].as_str().unwrap();
    let moved = app
        .put(
            &backoffice,
            &json!({"state": "IN_PROGRESS", "stage_id": stage, "comments": "A technician comes on Friday."}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let back = app.put(&backoffice, &json!({"state": "NEW"})).await;
    assert_eq!(back.status, 409, "{}", back.body);
    assert_eq!(
        app.put(&backoffice, &json!({"state": "CLOSED", "is_resolved": true}))
            .await
            .status,
        200
    );
    let listed = with_token(&app, &token, "GET", &format!("{mine}?states=CLOSED,IN_PROGRESS"), None).await;
    let request = &listed.body["content"][0];
    assert_eq!(request["state"], "CLOSED", "{}", listed.body);
    assert_eq!(request["stage"]["name"], "With a technician");
    assert_eq!(request["comments"], "A technician comes on Friday.");
    assert_eq!(request["is_resolved"], true);
    let reopened = app.put(&backoffice, &json!({"state": "IN_PROGRESS"})).await;
    assert_eq!(
        reopened.status, 200,
        "a closed request may be reopened: {}",
        reopened.body
    );
    let listed = app
        .get(&format!("/backoffice/v2/contacts/{kim}/service_requests"))
        .await;
    assert_eq!(listed.body["content"][0]["state"], "IN_PROGRESS", "{}", listed.body);
}

#[tokio::test]
async fn another_contact_or_business_finds_no_request_and_bad_input_changes_nothing() {
    let app = spawn_app().await;
    let queue = queue(&app).await;
    let queue_id = queue["id"].as_str().unwrap();
    let (kim, token) = registered_contact(&app, "kim@example.com", "kim-password-1").await;
    let (lee, lee_token) = registered_contact(&app, "lee@example.com", "lee-password-1").await;
    let raised = raise(&app, &token, &kim, json!({"queue_id": queue_id, "description": "Help"})).await;
    let id = raised.body["id"].as_str().unwrap().to_string();
    let notes = format!("/self-service/v2/service_requests/{id}/notes");

    // Lee reaches none of Kim's.
    assert_eq!(with_token(&app, &lee_token, "GET", &notes, None).await.status, 404);
    let poked = with_token(&app, &lee_token, "POST", &notes, Some(&json!({"note": "hi"}))).await;
    assert_eq!(poked.status, 404, "{}", poked.body);
    let path = format!("/self-service/v2/contacts/{kim}/service_requests");
    assert_eq!(with_token(&app, &lee_token, "GET", &path, None).await.status, 403);
    let forged = raise(
        &app,
        &lee_token,
        &kim,
        json!({"queue_id": queue_id, "description": "x"}),
    )
    .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let lees = with_token(
        &app,
        &lee_token,
        "GET",
        &format!("/self-service/v2/contacts/{lee}/service_requests"),
        None,
    )
    .await;
    assert_eq!(lees.body["content"], json!([]));

    // Another business's key finds nothing, and its queues are its own.
    let theirs = "sk_live_secret_key_of_another_business_2";
    another_business(&app, theirs, "Elsewhere").await;
    let foreign = app
        .with_key(theirs, "GET", &format!("/backoffice/v2/service_requests/{id}"), None)
        .await;
    assert_eq!(foreign.status, 404, "{}", foreign.body);
    let foreign = app
        .with_key(
            theirs,
            "PUT",
            &format!("/backoffice/v2/service_requests/{id}"),
            Some(&json!({"state": "CLOSED"})),
        )
        .await;
    assert_eq!(foreign.status, 404, "{}", foreign.body);
    let theirs_listed = app.with_key(theirs, "GET", "/backoffice/v2/queues", None).await;
    assert_eq!(theirs_listed.body["content"], json!([]));

    // Bad requests, queues, moves and notes are refused.
    let other_queue = app
        .post(
            "/backoffice/v2/queues",
            &json!({"name": "Billing", "categories": [{"name": "Refund"}]}),
        )
        .await;
    assert_eq!(other_queue.status, 201, "{}", other_queue.body);
    assert_eq!(
        other_queue.body["stages"].as_array().unwrap().len(),
        3,
        "default stages"
    );
    let foreign_category = other_queue.body["categories"][0]["id"].as_str().unwrap();
    for (why, body) in [
        ("no description", json!({"queue_id": queue_id})),
        ("no queue", json!({"description": "x"})),
        (
            "an unknown queue",
            json!({"queue_id": "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "description": "x"}),
        ),
        (
            "another queue's category",
            json!({"queue_id": queue_id, "description": "x", "categories": [{"id": foreign_category}]}),
        ),
        (
            "a control character",
            json!({"queue_id": queue_id, "description": "a\u{1b}b"}),
        ),
        (
            "a long description",
            json!({"queue_id": queue_id, "description": "d".repeat(4_001)}),
        ),
        (
            "an address not kept",
            json!({"queue_id": queue_id, "description": "x", "address": {"other": {"address_line_1": "1 Main St"}}}),
        ),
        (
            "an unknown field",
            json!({"queue_id": queue_id, "description": "x", "urgent": true}),
        ),
        (
            "a description as a number",
            json!({"queue_id": queue_id, "description": 7}),
        ),
    ] {
        let refused = raise(&app, &token, &kim, body).await;
        assert_eq!(refused.status, 400, "{why}: {}", refused.body);
    }
    let listed = with_token(&app, &token, "GET", &path, None).await;
    assert_eq!(
        listed.body["content"].as_array().unwrap().len(),
        1,
        "nothing refused was kept"
    );
    let duplicate = app.post("/backoffice/v2/queues", &json!({"name": "repairs"})).await;
    assert_eq!(duplicate.status, 409, "{}", duplicate.body);
    for body in [
        json!({"stages": [{"name": ""}], "name": "Empty"}),
        json!({"name": "Q", "default_priority": {"urgency": "NOW"}}),
    ] {
        assert_eq!(app.post("/backoffice/v2/queues", &body).await.status, 400, "{body}");
    }
    let backoffice = format!("/backoffice/v2/service_requests/{id}");
    let foreign_stage = other_queue.body["stages"][0]["id"].as_str().unwrap();
    for (why, body) in [
        ("another queue's stage", json!({"stage_id": foreign_stage})),
        ("an unknown state", json!({"state": "DONE"})),
        ("a bad stage id", json!({"stage_id": "7"})),
    ] {
        let refused = app.put(&backoffice, &body).await;
        assert_eq!(refused.status, 400, "{why}: {}", refused.body);
    }
    for body in [json!({"note": ""}), json!({"note": "x", "id": "not-a-uuid"}), json!({})] {
        assert_eq!(
            with_token(&app, &token, "POST", &notes, Some(&body)).await.status,
            400,
            "{body}"
        );
    }
    let bad_filter = with_token(&app, &token, "GET", &format!("{path}?states=OPEN"), None).await;
    assert_eq!(bad_filter.status, 400, "{}", bad_filter.body);
    let whole = app.get(&backoffice).await;
    assert_eq!(whole.body["state"], "NEW");
    assert_eq!(whole.body["notes"], json!([]));
}
