//! Ad hoc returns over HTTP: by amount (awards taken back in proportion, spend given back),
//! by line (`return_reversal = "LINE"`), several per purchase, retries, refusals that change
//! nothing, a cancel after returns that reverses only the rest, and the contact's view.

use crate::helpers::*;
use rewards_engine::ManualClock;
use serde_json::{json, Value};

fn text(value: &Value) -> String {
    value.to_string()
}

async fn give_back(app: &TestApp, body: Value) -> Reply {
    app.post("/backoffice/v2/purchases/ad_hoc_return", &body).await
}

fn balances(wallet: &Value) -> (String, String) {
    (text(&wallet["total_balance"]), text(&wallet["shortfall"]))
}

#[tokio::test]
async fn returns_take_awards_back_in_proportion_give_spend_back_and_a_cancel_reverses_the_rest() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let (contact_id, token) = registered_contact(&app, "ret@example.com", "ret-password-1").await;
    let wallet_id = app.get(&format!("/backoffice/v2/contacts/{contact_id}")).await.body["wallet"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let first = app.purchase(&contact_id, "R-1", "100.00", None).await; // +10.00
    assert_eq!(first.status, 201, "{}", first.body);
    // 6.00 of that award pays part of R-2, which earns 5.00.
    let second = app.purchase(&contact_id, "R-2", "50.00", Some(("6.00", true))).await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(balances(&app.wallet(&wallet_id).await), ("9.00".into(), "0.00".into()));

    // A fifth of R-2 comes back: a fifth of its award goes, a fifth of its spend comes back.
    let body = json!({"purchase": {"reference_number": "R-2"}, "reference_number": "RET-1", "return_amount": 10});
    let returned = give_back(&app, body.clone()).await;
    assert_eq!(returned.status, 201, "{}", returned.body);
    let view = &returned.body["purchase"]["ad_hoc_return"];
    assert_eq!(
        (
            text(&view["amount"]),
            text(&view["return_amount"]),
            text(&view["return_spent_amount"])
        ),
        ("1.00".into(), "10.00".into(), "1.20".into())
    );
    assert_eq!(view["reference_number"], "RET-1");
    assert_eq!(balances(&app.wallet(&wallet_id).await), ("9.20".into(), "0.00".into()));
    let journal = app.journal(&wallet_id).await;
    let kinds: Vec<&str> = journal
        .iter()
        .rev()
        .take(2)
        .map(|line| line["transaction_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["SPEND_REVERSAL", "AWARD_REVERSAL"]);

    // A retry answers the same and changes nothing; the same reference with another body,
    // more than is left, a bad body: refused, nothing changes.
    let again = give_back(&app, body).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.body["id"], returned.body["id"]);
    let refusals = [
        (
            json!({"purchase": {"reference_number": "R-2"}, "reference_number": "RET-1", "return_amount": 11}),
            409,
            None,
        ),
        (
            json!({"purchase": {"reference_number": "R-2"}, "reference_number": "RET-2", "return_amount": 40.01}),
            400,
            Some("return_amount"),
        ),
        (
            json!({"purchase": {"reference_number": "R-2"}, "reference_number": "RET-2", "return_amount": 0}),
            400,
            Some("return_amount"),
        ),
        (
            json!({"purchase": {"reference_number": "R-2"}, "reference_number": "RET-2", "return_amount": -1}),
            400,
            Some("return_amount"),
        ),
        (
            json!({"purchase": {"reference_number": "R-2"}, "reference_number": "RET-2", "return_amount": 1.001}),
            400,
            Some("return_amount"),
        ),
        (
            json!({"purchase": {"reference_number": "R-2"}, "reference_number": "RET-2"}),
            400,
            Some("return_amount"),
        ),
        (
            json!({"purchase": {"reference_number": "R-2"}, "reference_number": "RET-2", "return_amount": 1, "products": []}),
            400,
            Some("return_amount"),
        ),
        (
            json!({"purchase": {"reference_number": "R-2"}, "reference_number": "RET-2", "products": [{"product_sku": "X", "total_amount": 1}]}),
            400,
            Some("products"),
        ),
        (
            json!({"purchase": {"reference_number": "R-9"}, "reference_number": "RET-2", "return_amount": 1}),
            404,
            None,
        ),
        (
            json!({"purchase": {}, "reference_number": "RET-2", "return_amount": 1}),
            400,
            Some("purchase"),
        ),
        (
            json!({"purchase": {"reference_number": "R-2"}, "return_amount": 1}),
            400,
            Some("reference_number"),
        ),
        (
            json!({"purchase": {"reference_number": "R-2"}, "reference_number": "RET-2", "return_amount": "1e400"}),
            400,
            None,
        ),
    ];
    for (body, status, parameter) in refusals {
        let reply = give_back(&app, body.clone()).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.body);
        if let Some(parameter) = parameter {
            assert_eq!(reply.body["parameters"][0], parameter, "{body}: {}", reply.body);
        }
    }
    assert_eq!(balances(&app.wallet(&wallet_id).await), ("9.20".into(), "0.00".into()));

    // Half of R-1 comes back: 5.00 of its award is wanted; its lot holds 5.20 (6.00 was
    // spent from it, 1.20 of that given back by the return of R-2): 5.00 debited.
    let id = first.body["id"].as_str().unwrap();
    let half = give_back(
        &app,
        json!({"purchase": {"id": id}, "reference_number": "RET-A", "return_amount": 50}),
    )
    .await;
    assert_eq!(half.status, 201, "{}", half.body);
    let entry = &half.body["purchase"]["ad_hoc_returns"][0];
    assert_eq!(
        (text(&entry["debited_amount"]), text(&entry["shortfall_amount"])),
        ("5.00".into(), "0.00".into())
    );
    assert_eq!(balances(&app.wallet(&wallet_id).await), ("4.20".into(), "0.00".into()));
    // The cancel takes back only what the return left, 5.00: the 0.20 the lot still holds,
    // and 4.80 owed. Net, the contact holds R-2's award less its spend: 4.00 - 4.80.
    let cancelled = app
        .post(&format!("/backoffice/v2/purchases/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(balances(&app.wallet(&wallet_id).await), ("4.00".into(), "4.80".into()));
    let after = give_back(
        &app,
        json!({"purchase": {"id": id}, "reference_number": "RET-B", "return_amount": 1}),
    )
    .await;
    assert_eq!(
        after.status, 409,
        "a cancelled purchase has nothing to return: {}",
        after.body
    );
    app.assert_balance_equals_journal(&wallet_id).await;

    // The contact sees its returns on the purchase, and filters by them.
    let path = format!("/self-service/v2/contacts/{contact_id}/purchases");
    let returned_only = with_token(&app, &token, "GET", &format!("{path}?is_ad_hoc_returned=true"), None).await;
    assert_eq!(returned_only.status, 200, "{}", returned_only.body);
    let references: Vec<&str> = returned_only.body["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|purchase| purchase["reference_number"].as_str().unwrap())
        .collect();
    let all = with_token(&app, &token, "GET", &path, None).await;
    assert_eq!(references, ["R-2", "R-1"], "{}", all.body);
    let none = with_token(&app, &token, "GET", &format!("{path}?is_ad_hoc_returned=false"), None).await;
    assert_eq!(none.body["content"], json!([]));
    let r2 = second.body["id"].as_str().unwrap();
    let seen = with_token(&app, &token, "GET", &format!("/self-service/v2/purchases/{r2}"), None).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert_eq!(text(&seen.body["ad_hoc_return"]["return_spent_amount"]), "1.20");

    // All of it is on disk: after a restart the returns read back and a retry repeats.
    let (dir, clock) = app.stop().await;
    let app = spawn_app_with(dir, clock, &[]).await;
    let read = app.get(&format!("/backoffice/v2/purchases/{r2}")).await;
    assert_eq!(
        read.body["ad_hoc_returns"][0]["reference_number"], "RET-1",
        "{}",
        read.body
    );
    let retry = give_back(
        &app,
        json!({"purchase": {"reference_number": "R-2"}, "reference_number": "RET-1", "return_amount": 10}),
    )
    .await;
    assert_eq!(retry.status, 201, "{}", retry.body);
    assert_eq!(balances(&app.wallet(&wallet_id).await), ("4.00".into(), "4.80".into()));
    // `verify` finds every return's lines in the journal.
    let (dir, _) = app.stop().await;
    let (ok, report, stderr) = crate::crash::admin(dir.path(), &["verify".as_ref()]);
    assert!(ok, "verify: {report} {stderr}");
}

#[tokio::test]
async fn by_line_an_award_on_a_product_follows_the_return_of_that_product() {
    let overrides = [("REWARDS__PURCHASES__RETURN_REVERSAL", "LINE")];
    let app = spawn_app_with(temp_dir(), ManualClock::new(START_S), &overrides).await;
    app.create_offer(
        json!({"name": "Tea 20%", "products": {"skus": ["TEA"]}, "award": {"type": "PERCENTAGE", "value": 20}}),
    )
    .await;
    app.create_offer(json!({"name": "All 1%", "award": {"type": "PERCENTAGE", "value": 1}}))
        .await;
    let contact = app.create_contact("C-LINE").await;
    let (contact_id, wallet_id) = (
        contact["id"].as_str().unwrap(),
        contact["wallet"]["id"].as_str().unwrap(),
    );
    let posted = app
        .post(
            "/backoffice/v2/purchases",
            &json!({
                "contact": {"id": contact_id},
                "reference_number": "R-L",
                "transaction_amounts": {"total": 100},
                "products": [
                    {"product_sku": "TEA", "quantity": 1, "total_amount": 40},
                    {"product_sku": "CAKE", "quantity": 1, "total_amount": 60},
                ],
            }),
        )
        .await;
    assert_eq!(posted.status, 201, "{}", posted.body);
    assert_eq!(text(&posted.body["rewards"]["award"]), "9.00"); // 8.00 on tea, 1.00 on all
                                                                // The cake comes back: nothing of the tea award goes, 60% of the award on the total.
    let cake = give_back(
        &app,
        json!({"purchase": {"reference_number": "R-L"}, "reference_number": "RET-C", "products": [{"product_sku": "CAKE", "total_amount": 60}]}),
    )
    .await;
    assert_eq!(cake.status, 201, "{}", cake.body);
    assert_eq!(text(&cake.body["purchase"]["ad_hoc_return"]["amount"]), "0.60");
    // Half the tea: half the tea award, and 20% more of the award on the total.
    let tea = give_back(
        &app,
        json!({"purchase": {"reference_number": "R-L"}, "reference_number": "RET-T", "products": [{"product_sku": "TEA", "total_amount": 20}]}),
    )
    .await;
    assert_eq!(tea.status, 201, "{}", tea.body);
    assert_eq!(text(&tea.body["purchase"]["ad_hoc_return"]["amount"]), "4.80");
    let too_much = give_back(
        &app,
        json!({"purchase": {"reference_number": "R-L"}, "reference_number": "RET-X", "products": [{"product_sku": "TEA", "total_amount": 20.01}]}),
    )
    .await;
    assert_eq!(too_much.status, 400, "{}", too_much.body);
    assert_eq!(too_much.body["parameters"][0], "products");
    // The rest of the tea: every award back whole.
    let rest = give_back(
        &app,
        json!({"purchase": {"reference_number": "R-L"}, "reference_number": "RET-R", "products": [{"product_sku": "TEA", "total_amount": 20}]}),
    )
    .await;
    assert_eq!(rest.status, 201, "{}", rest.body);
    assert_eq!(text(&rest.body["purchase"]["ad_hoc_return"]["amount"]), "9.00");
    assert_eq!(
        app.assert_balance_equals_journal(wallet_id).await,
        rust_decimal::Decimal::ZERO
    );
}
