//! Contacts' accounts and their journals over HTTP: a contact opens and reads its accounts
//! (the primary one first), the back office posts manual journal lines (once per id), the
//! journal lists the last 12 months by default; another contact or business finds nothing.

use crate::helpers::*;
use serde_json::{json, Value};

async fn open(app: &TestApp, token: &str, contact: &str, body: Value) -> Reply {
    with_token(
        app,
        token,
        "POST",
        &format!("/self-service/v2/contacts/{contact}/accounts"),
        Some(&body),
    )
    .await
}

async fn list(app: &TestApp, token: &str, contact: &str, query: &str) -> Value {
    let path = format!("/self-service/v2/contacts/{contact}/accounts{query}");
    let listed = with_token(app, token, "GET", &path, None).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    listed.body
}

#[tokio::test]
async fn a_contact_opens_accounts_and_reads_what_the_back_office_posted() {
    let app = spawn_app().await;
    let (kim, token) = registered_contact(&app, "kim@example.com", "kim-password-1").await;
    assert_eq!(list(&app, &token, &kim, "").await["content"], json!([]));

    let first = open(&app, &token, &kim, json!({"currency_code": "EUR", "name": "Household"})).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let first = first.body["id"].as_str().unwrap().to_string();
    let second = open(
        &app,
        &token,
        &kim,
        json!({"currency_code": "USD", "is_primary": true, "custom_fields": [{"key": "team", "value": "blue"}]}),
    )
    .await;
    assert_eq!(second.status, 201, "{}", second.body);
    let second = second.body["id"].as_str().unwrap().to_string();
    let listed = list(&app, &token, &kim, "").await;
    assert_eq!(
        listed["content"][0]["id"],
        second.as_str(),
        "the primary first: {listed}"
    );
    assert_eq!(listed["content"][0]["is_primary"], true);
    assert_eq!(listed["content"][1]["is_primary"], false);
    let euros = list(&app, &token, &kim, "?currency_code=EUR").await;
    assert_eq!(euros["content"].as_array().unwrap().len(), 1);
    assert_eq!(euros["content"][0]["id"], first.as_str());
    let primary = list(&app, &token, &kim, "?is_primary=true").await;
    assert_eq!(primary["content"][0]["id"], second.as_str());

    // The contact makes the first primary again, and classifies it.
    let path = format!("/self-service/v2/accounts/{first}");
    let changed = with_token(
        &app,
        &token,
        "PUT",
        &path,
        Some(&json!({"is_primary": true, "classification_id": "RETAIL"})),
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let read = with_token(&app, &token, "GET", &path, None).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["is_primary"], true);
    assert_eq!(read.body["classification"]["id"], "RETAIL");
    assert_eq!(read.body["name"], "Household");
    assert_eq!(read.body["state"], "ACTIVE");
    assert_eq!(read.body["balance"].to_string(), "0.00");
    assert!(read.body["number"].as_str().unwrap().starts_with("AC"));
    let unset = with_token(&app, &token, "PUT", &path, Some(&json!({"is_primary": false}))).await;
    assert_eq!(unset.status, 400, "a contact keeps one primary account: {}", unset.body);

    // The back office posts manual lines: a debit, then a credit past it (paid ahead).
    let journals = format!("/backoffice/v2/accounts/{first}/journals");
    let line = json!({"id": "6f1c9c2e-8a51-4c55-9a55-0f5f2f3b9a10", "type": "DEBIT", "amount": 30, "notes": "Opening balance"});
    let debit = app.post(&journals, &line).await;
    assert_eq!(debit.status, 201, "{}", debit.body);
    assert_eq!(debit.body["balance_after"].to_string(), "30.00");
    let again = app.post(&journals, &line).await;
    assert_eq!(again.status, 201, "a retry is answered with the line: {}", again.body);
    assert_eq!(again.body["number"], debit.body["number"]);
    let reused = app
        .post(
            &journals,
            &json!({"id": "6f1c9c2e-8a51-4c55-9a55-0f5f2f3b9a10", "type": "DEBIT", "amount": 31}),
        )
        .await;
    assert_eq!(reused.status, 409, "{}", reused.body);
    app.clock.advance(60);
    let credit = app.post(&journals, &json!({"type": "CREDIT", "amount": 50.5})).await;
    assert_eq!(credit.status, 201, "{}", credit.body);
    let read = with_token(&app, &token, "GET", &path, None).await;
    assert_eq!(read.body["balance"].to_string(), "-20.50");

    // The contact's journal: newest first, filtered, one line by id.
    let mine = format!("/self-service/v2/accounts/{first}/journals");
    let all = with_token(&app, &token, "GET", &format!("{mine}?include_total=true"), None).await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.body["paging"]["total"], 2);
    assert_eq!(all.body["content"][0]["type"], "CREDIT");
    assert_eq!(all.body["content"][1]["transaction_type"], "MANUAL_JOURNAL");
    let debits = with_token(&app, &token, "GET", &format!("{mine}?type=DEBIT"), None).await;
    assert_eq!(debits.body["content"].as_array().unwrap().len(), 1, "{}", debits.body);
    assert_eq!(debits.body["content"][0]["amount"].to_string(), "30.00");
    let ascending = with_token(&app, &token, "GET", &format!("{mine}?order=ASC&size=1"), None).await;
    assert_eq!(ascending.body["content"][0]["type"], "DEBIT");
    assert_eq!(ascending.body["paging"]["has_more"], true);
    let before = debit.body["posted_date"].as_i64().unwrap() + 1;
    let early = with_token(&app, &token, "GET", &format!("{mine}?posted_on[lt]={before}"), None).await;
    assert_eq!(early.body["content"].as_array().unwrap().len(), 1, "{}", early.body);
    let id = debit.body["id"].as_str().unwrap();
    let one = with_token(&app, &token, "GET", &format!("/self-service/v2/journals/{id}"), None).await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.body["total"].to_string(), "30.00");
    assert_eq!(one.body["notes"], "Opening balance");

    // A year on, the default list shows the last 12 months only; dates reach further.
    app.clock.advance(400 * DAY_S);
    assert_eq!(
        app.post(&journals, &json!({"type": "DEBIT", "amount": 1})).await.status,
        201
    );
    let token = crate::wallets::signed_in(&app, "kim@example.com", "kim-password-1").await;
    let recent = with_token(&app, &token, "GET", &mine, None).await;
    assert_eq!(recent.body["content"].as_array().unwrap().len(), 1, "{}", recent.body);
    let everything = with_token(&app, &token, "GET", &format!("{mine}?posted_on[gte]=0"), None).await;
    assert_eq!(
        everything.body["content"].as_array().unwrap().len(),
        3,
        "{}",
        everything.body
    );

    // Suspended: the back office still posts; terminated: nothing, and for good.
    let backoffice = format!("/backoffice/v2/accounts/{first}");
    let suspended = app
        .put(&backoffice, &json!({"state": "SUSPENDED", "credit_limit": 100}))
        .await;
    assert_eq!(suspended.status, 200, "{}", suspended.body);
    assert_eq!(suspended.body["credit_limit"].to_string(), "100.00");
    assert_eq!(
        app.post(&journals, &json!({"type": "CREDIT", "amount": 1}))
            .await
            .status,
        201
    );
    assert_eq!(app.put(&backoffice, &json!({"state": "TERMINATED"})).await.status, 200);
    let closed = app.post(&journals, &json!({"type": "CREDIT", "amount": 1})).await;
    assert_eq!(closed.status, 409, "{}", closed.body);
    let reopened = app.put(&backoffice, &json!({"state": "ACTIVE"})).await;
    assert_eq!(reopened.status, 409, "{}", reopened.body);
    let listed = app.get(&format!("/backoffice/v2/contacts/{kim}/accounts")).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["content"][0]["state"], "TERMINATED");
}

#[tokio::test]
async fn another_contact_or_business_finds_no_account_and_bad_input_changes_nothing() {
    let app = spawn_app().await;
    let (kim, token) = registered_contact(&app, "kim@example.com", "kim-password-1").await;
    let (lee, lee_token) = registered_contact(&app, "lee@example.com", "lee-password-1").await;
    let opened = open(&app, &token, &kim, json!({"currency_code": "EUR"})).await;
    let account = opened.body["id"].as_str().unwrap().to_string();
    let journals = format!("/backoffice/v2/accounts/{account}/journals");
    let line = app.post(&journals, &json!({"type": "DEBIT", "amount": 5})).await;
    let line = line.body["id"].as_str().unwrap().to_string();

    // Lee reaches none of Kim's.
    for (method, path, body) in [
        ("GET", format!("/self-service/v2/accounts/{account}"), None),
        (
            "PUT",
            format!("/self-service/v2/accounts/{account}"),
            Some(json!({"is_primary": true})),
        ),
        ("GET", format!("/self-service/v2/accounts/{account}/journals"), None),
        ("GET", format!("/self-service/v2/journals/{line}"), None),
    ] {
        let refused = with_token(&app, &lee_token, method, &path, body.as_ref()).await;
        assert_eq!(refused.status, 404, "{method} {path}: {}", refused.body);
    }
    for (method, body) in [("GET", None), ("POST", Some(json!({"currency_code": "EUR"})))] {
        let path = format!("/self-service/v2/contacts/{kim}/accounts");
        let refused = with_token(&app, &lee_token, method, &path, body.as_ref()).await;
        assert_eq!(refused.status, 403, "{method}: {}", refused.body);
    }
    assert_eq!(list(&app, &lee_token, &lee, "").await["content"], json!([]));

    // Another business's key finds nothing.
    let theirs = "sk_live_secret_key_of_another_business_2";
    another_business(&app, theirs, "Elsewhere").await;
    let foreign = app
        .with_key(theirs, "GET", &format!("/backoffice/v2/accounts/{account}"), None)
        .await;
    assert_eq!(foreign.status, 404, "{}", foreign.body);
    let foreign = app
        .with_key(theirs, "POST", &journals, Some(&json!({"type": "CREDIT", "amount": 5})))
        .await;
    assert_eq!(foreign.status, 404, "{}", foreign.body);

    // Bad accounts and lines are refused.
    for (why, body) in [
        ("no currency", json!({"name": "X"})),
        ("an unknown currency", json!({"currency_code": "XYZ1"})),
        (
            "a control character",
            json!({"currency_code": "EUR", "name": "a\u{7}b"}),
        ),
        ("a long name", json!({"currency_code": "EUR", "name": "n".repeat(201)})),
        ("an unknown field", json!({"currency_code": "EUR", "colour": "red"})),
        ("a name as a number", json!({"currency_code": "EUR", "name": 7})),
    ] {
        let refused = open(&app, &token, &kim, body).await;
        assert_eq!(refused.status, 400, "{why}: {}", refused.body);
    }
    let path = format!("/self-service/v2/accounts/{account}");
    let renamed = with_token(&app, &token, "PUT", &path, Some(&json!({"name": "Mine"}))).await;
    assert_eq!(renamed.status, 400, "a contact does not rename: {}", renamed.body);
    for (why, body) in [
        ("a zero amount", json!({"type": "DEBIT", "amount": 0})),
        ("a negative amount", json!({"type": "CREDIT", "amount": -5})),
        ("an over-precise amount", json!({"type": "DEBIT", "amount": 1.001})),
        ("an amount as text", json!({"type": "DEBIT", "amount": "5"})),
        ("no type", json!({"amount": 5})),
        ("an unknown type", json!({"type": "BOTH", "amount": 5})),
        ("a huge amount", json!({"type": "DEBIT", "amount": 1e15})),
        ("a bad id", json!({"id": "7", "type": "DEBIT", "amount": 5})),
    ] {
        let refused = app.post(&journals, &body).await;
        assert_eq!(refused.status, 400, "{why}: {}", refused.body);
    }
    let read = with_token(&app, &token, "GET", &path, None).await;
    assert_eq!(read.body["balance"].to_string(), "5.00", "nothing refused moved it");
    let bad_filter = with_token(
        &app,
        &token,
        "GET",
        &format!("{path}/journals?transaction_type=GIFT"),
        None,
    )
    .await;
    assert_eq!(bad_filter.status, 400, "{}", bad_filter.body);
    for unknown in [
        "/self-service/v2/accounts/not-an-id",
        "/self-service/v2/journals/not-an-id",
    ] {
        assert_eq!(with_token(&app, &token, "GET", unknown, None).await.status, 404);
    }

    // At most 10 accounts.
    for _ in 1..10 {
        assert_eq!(
            open(&app, &token, &kim, json!({"currency_code": "EUR"})).await.status,
            201
        );
    }
    let eleventh = open(&app, &token, &kim, json!({"currency_code": "EUR"})).await;
    assert_eq!(eleventh.status, 409, "{}", eleventh.body);
}
