//! The contact's wallet in apps: `GET /self-service/v2/wallets/{id}`, its code and balances,
//! for the signed-in contact's own wallet only (checked against the contract like every
//! self-service reply).

use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn a_contact_reads_its_own_wallet_and_no_other() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let (contact, token) = registered_contact(&app, "wallet@example.com", "wallet-password-1").await;
    let wallet = app.get(&format!("/backoffice/v2/contacts/{contact}")).await.body["wallet"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.purchase(&contact, "R-1", "100.00", None).await.status, 201);
    assert_eq!(
        app.purchase(&contact, "R-2", "20.00", Some(("4.00", true)))
            .await
            .status,
        201
    );

    let path = format!("/self-service/v2/wallets/{wallet}");
    let read = with_token(&app, &token, "GET", &path, None).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["id"], wallet.as_str());
    assert_eq!(read.body["code"], app.wallet(&wallet).await["code"]);
    let figures: Vec<String> = ["total_balance", "total_open", "total_commerce", "shortfall"]
        .iter()
        .map(|key| read.body[key].to_string())
        .collect();
    assert_eq!(figures, ["8.00", "0.00", "8.00", "0.00"], "{}", read.body);
    let balance = &read.body["balances"][0];
    assert_eq!(
        (
            balance["type"].as_str(),
            balance["currency_code"].as_str(),
            balance["total"].to_string()
        ),
        (Some("BUSINESS"), Some("EUR"), "8.00".to_string())
    );

    let code = with_token(&app, &token, "GET", &format!("{path}/code"), None).await;
    assert_eq!(code.status, 200, "{}", code.body);
    assert_eq!(code.body["code"], read.body["code"]);
    assert_eq!(code.body["code"].as_str().unwrap().len(), 16);

    // Another contact's wallet is not found, as is one that does not exist; no token is 401.
    let (_, other_token) = registered_contact(&app, "other@example.com", "other-password-1").await;
    assert_eq!(with_token(&app, &other_token, "GET", &path, None).await.status, 404);
    assert_eq!(
        with_token(&app, &other_token, "GET", &format!("{path}/code"), None)
            .await
            .status,
        404
    );
    let unknown = "/self-service/v2/wallets/00000000-0000-4000-8000-000000000001";
    assert_eq!(with_token(&app, &token, "GET", unknown, None).await.status, 404);
    assert_eq!(
        with_token(&app, &token, "GET", "/self-service/v2/wallets/not-a-wallet", None)
            .await
            .status,
        404
    );
    // A control character or a huge id in the path is refused, never a panic.
    let hostile = with_token(&app, &token, "GET", "/self-service/v2/wallets/%00%1b", None).await;
    assert_eq!(hostile.status, 404, "{}", hostile.body);
    let long = format!("/self-service/v2/wallets/{}", "9".repeat(5000));
    let long = with_token(&app, &token, "GET", &long, None).await;
    assert_eq!(long.status.as_u16() / 100, 4, "{}", long.body);
    assert_eq!(app.call("GET", &path, &[], None).await.status, 401);
}

/// A venue of the business, a named pool spendable there, an offer of 5.00 into the pool
/// (expiring in 45 days) and one of 10% to the wallet (60 days); then the signed-in
/// contact buys for 100.00 on day 0 and for 20.00 on day 1, spending 4.00. Answers the
/// contact's (token, wallet id, pool id, venue id).
pub async fn two_days_of_awards(app: &TestApp) -> (String, String, String, String) {
    let venue = app
        .post(
            "/backoffice/v2/organisations",
            &json!({"name": "Harbour Cafe", "type": "VENUE"}),
        )
        .await;
    assert_eq!(venue.status, 201, "{}", venue.body);
    let venue = venue.body["id"].as_str().unwrap().to_string();
    let pool = app
        .post(
            "/backoffice/v2/commerce_pools",
            &json!({
                "name": "Harbour coffee",
                "description": "Coffee at the harbour",
                "spend_conditions": {"organisations": [{"id": venue}]},
            }),
        )
        .await;
    assert_eq!(pool.status, 201, "{}", pool.body);
    let pool = pool.body["id"].as_str().unwrap().to_string();
    app.create_offer(json!({
        "name": "Coffee money",
        "award": {"type": "FIXED", "value": 5, "expiry_days": 45},
        "destination": {"type": "POOL", "commerce_pool": {"id": pool}},
    }))
    .await;
    app.percentage_offer(10, Some(60)).await;
    let (contact, _) = registered_contact(app, "journals@example.com", "journals-password-1").await;
    let wallet = app.get(&format!("/backoffice/v2/contacts/{contact}")).await.body["wallet"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.purchase(&contact, "R-1", "100.00", None).await.status, 201);
    app.clock.advance(DAY_S);
    let second = app.purchase(&contact, "R-2", "20.00", Some(("4.00", true))).await;
    assert_eq!(second.status, 201, "{}", second.body);
    (
        signed_in(app, "journals@example.com", "journals-password-1").await,
        wallet,
        pool,
        venue,
    )
}

/// A fresh access token for a registered contact (tokens expire on the engine clock).
pub async fn signed_in(app: &TestApp, email: &str, password: &str) -> String {
    let reply = contact_sign_in(app, PUBLIC_KEY, email, password).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["access_token"].as_str().unwrap().to_string()
}

/// Each line as "TYPE TRANSACTION_TYPE amount", sorted (a purchase's awards come in the
/// order of its offers, which is not the test's to choose).
fn amounts(reply: &Reply) -> Vec<String> {
    let mut lines: Vec<String> = reply.body["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| {
            format!(
                "{} {} {}",
                line["type"].as_str().unwrap(),
                line["transaction_type"].as_str().unwrap(),
                line["amount"]
            )
        })
        .collect();
    lines.sort();
    lines
}

fn posted(reply: &Reply) -> Vec<i64> {
    reply.body["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["posted_on"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn the_contact_reads_its_journal_filtered_as_the_contract_has_it() {
    let app = spawn_app().await;
    let (token, wallet, pool, _) = two_days_of_awards(&app).await;
    let path = format!("/self-service/v2/wallets/{wallet}/journals");
    let get = |query: String| {
        let (app, token, path) = (&app, &token, &path);
        async move { with_token(app, token, "GET", &format!("{path}{query}"), None).await }
    };

    let all = get("?order=ASC".into()).await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(
        amounts(&all),
        [
            "CREDIT AWARD 10.00",
            "CREDIT AWARD 2.00",
            "CREDIT AWARD 5.00",
            "CREDIT AWARD 5.00",
            "DEBIT SPEND 4.00",
        ],
        "{}",
        all.body
    );
    let day_two = START_S + DAY_S;
    assert_eq!(posted(&all), [START_S, START_S, day_two, day_two, day_two]);
    // Newest first by default.
    let newest = get(String::new()).await;
    assert_eq!(posted(&newest), [day_two, day_two, day_two, START_S, START_S]);

    let credits = get("?type=CREDIT&include_total=true&size=3&order=ASC".into()).await;
    assert_eq!(credits.status, 200, "{}", credits.body);
    assert_eq!(amounts(&credits).len(), 3);
    assert_eq!(credits.body["paging"]["total"], 4, "{}", credits.body);
    assert_eq!(credits.body["paging"]["has_more"], true);
    let debits = get("?type=DEBIT".into()).await;
    assert_eq!(amounts(&debits), ["DEBIT SPEND 4.00"]);
    let spends = get("?transaction_type=SPEND".into()).await;
    assert_eq!(amounts(&spends), ["DEBIT SPEND 4.00"]);
    assert_eq!(
        amounts(&get("?transaction_type=TOP_UP".into()).await),
        Vec::<String>::new()
    );

    let pooled = get(format!("?commerce_pool_id={pool}&order=ASC")).await;
    assert_eq!(pooled.status, 200, "{}", pooled.body);
    assert_eq!(amounts(&pooled), ["CREDIT AWARD 5.00", "CREDIT AWARD 5.00"]);
    let other_pool = get("?commerce_pool_id=00000000-0000-4000-8000-000000000009".into()).await;
    assert_eq!(amounts(&other_pool), Vec::<String>::new());
    assert_eq!(amounts(&get("?is_commerce=true".into()).await).len(), 5);
    assert_eq!(amounts(&get("?is_open=true".into()).await), Vec::<String>::new());
    assert_eq!(amounts(&get("?is_wallet_fee=true".into()).await), Vec::<String>::new());

    let later = get(format!("?posted_on[gte]={day_two}&order=ASC")).await;
    assert_eq!(
        amounts(&later),
        ["CREDIT AWARD 2.00", "CREDIT AWARD 5.00", "DEBIT SPEND 4.00"]
    );
    let earlier = get(format!("?posted_on[lt]={day_two}&order=ASC")).await;
    assert_eq!(amounts(&earlier), ["CREDIT AWARD 10.00", "CREDIT AWARD 5.00"]);
    let exactly = get(format!("?posted_on={START_S}")).await;
    assert_eq!(amounts(&exactly).len(), 2);
    let none = get(format!("?posted_on[gt]={day_two}")).await;
    assert_eq!(amounts(&none), Vec::<String>::new());

    // What is left of each credit: the 10.00 paid the 4.00 spend (the pool's money may be
    // spent only at the venue).
    let left = get("?include_unallocated_credit=true&type=CREDIT&order=ASC".into()).await;
    let mut unallocated: Vec<String> = left.body["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| format!("{} left of {}", line["unallocated_amount"], line["amount"]))
        .collect();
    unallocated.sort();
    assert_eq!(
        unallocated,
        [
            "2.00 left of 2.00",
            "5.00 left of 5.00",
            "5.00 left of 5.00",
            "6.00 left of 10.00"
        ],
        "{}",
        left.body
    );
    assert!(all.body["content"][0].get("unallocated_amount").is_none());

    // Bad filters are refused with the contract's error body.
    for query in [
        "?type=BOTH",
        "?transaction_type=award",
        "?transaction_type=%00",
        "?commerce_pool_id=not-a-pool",
        "?posted_on[gt]=yesterday",
        "?is_open=maybe",
        "?size=100000",
        "?page=0",
    ] {
        let refused = get(query.into()).await;
        assert_eq!(refused.status, 400, "{query}: {}", refused.body);
        assert!(refused.body["error"].is_string(), "{query}: {}", refused.body);
    }
    let long = get(format!("?transaction_type={}", "A".repeat(5000))).await;
    assert_eq!(long.status.as_u16() / 100, 4, "{}", long.body);

    // Another contact's token finds nothing; no token is 401.
    let (_, other) = registered_contact(&app, "nosy@example.com", "nosy-password-1").await;
    assert_eq!(with_token(&app, &other, "GET", &path, None).await.status, 404);
    assert_eq!(app.call("GET", &path, &[], None).await.status, 401);
}

#[tokio::test]
async fn the_contact_sees_what_each_named_pool_holds_and_when_it_expires() {
    let app = spawn_app().await;
    let (token, wallet, pool, venue) = two_days_of_awards(&app).await;
    let path = format!("/self-service/v2/wallets/{wallet}/commerce_balances");
    let read = with_token(&app, &token, "GET", &format!("{path}?include_expiration=true"), None).await;
    assert_eq!(read.status, 200, "{}", read.body);
    let pools = read.body["content"].as_array().unwrap();
    assert_eq!(pools.len(), 1, "{}", read.body);
    let held = &pools[0];
    assert_eq!(held["id"], pool.as_str());
    assert_eq!(held["name"], "Harbour coffee");
    assert_eq!(held["currency_code"], "EUR");
    assert_eq!(held["amount"].to_string(), "10.00");
    // Both lots expire 44 and 45 days from now.
    let expiring: Vec<String> = ["zero_to_thirty", "thirty_to_sixty", "sixty_to_ninety", "ninety_plus"]
        .iter()
        .map(|bucket| held["expiration"][bucket].to_string())
        .collect();
    assert_eq!(expiring, ["0.00", "10.00", "0.00", "0.00"], "{}", read.body);
    assert_eq!(held["organisations"][0]["id"], venue.as_str());
    assert_eq!(held["organisations"][0]["type"], "VENUE");
    let plain = with_token(&app, &token, "GET", &path, None).await;
    assert!(plain.body["content"][0].get("expiration").is_none(), "{}", plain.body);
    let one = with_token(&app, &token, "GET", &format!("{path}?commerce_pool_id={pool}"), None).await;
    assert_eq!(one.body["content"].as_array().unwrap().len(), 1);
    let unknown = "?commerce_pool_id=00000000-0000-4000-8000-000000000009";
    let other = with_token(&app, &token, "GET", &format!("{path}{unknown}"), None).await;
    assert_eq!(other.body["content"].as_array().unwrap().len(), 0, "{}", other.body);
    let bad = with_token(&app, &token, "GET", &format!("{path}?commerce_pool_id=%00"), None).await;
    assert_eq!(bad.status, 400, "{}", bad.body);

    // After the lots expire the pool holds nothing and is left out.
    app.clock.advance(45 * DAY_S);
    let token = signed_in(&app, "journals@example.com", "journals-password-1").await;
    let later = with_token(&app, &token, "GET", &path, None).await;
    assert_eq!(later.body["content"].as_array().unwrap().len(), 0, "{}", later.body);

    let (_, nosy) = registered_contact(&app, "nosy@example.com", "nosy-password-1").await;
    assert_eq!(with_token(&app, &nosy, "GET", &path, None).await.status, 404);
    assert_eq!(app.call("GET", &path, &[], None).await.status, 401);
}

#[tokio::test]
async fn an_app_asks_whether_an_email_or_phone_has_a_wallet_in_its_business_only() {
    let app = spawn_app().await;
    registered_contact(&app, "Known@Example.com", "known-password-1").await;
    let ask = |query: &str| {
        let path = format!("/self-service/v2/wallets/wallet_exists{query}");
        let app = &app;
        async move { app.with_key(PUBLIC_KEY, "GET", &path, None).await }
    };
    let known = ask("?type=EMAIL&value=known%40example.com").await;
    assert_eq!(known.status, 200, "{}", known.body);
    assert_eq!(known.body["wallet_exists"], true);
    assert_eq!(
        ask("?type=EMAIL&value=KNOWN%40example.COM").await.body["wallet_exists"],
        true
    );
    assert_eq!(
        ask("?type=EMAIL&value=stranger%40example.com").await.body["wallet_exists"],
        false
    );
    assert_eq!(ask("?type=PHONE&value=35799123456").await.body["wallet_exists"], false);

    // Another business knows nothing of this one's contacts.
    let theirs = "pk_live_public_key_of_another_business_1";
    app.engine
        .bootstrap_organisation(
            rewards_engine::domain::ids::OrganisationId::random(),
            "Elsewhere",
            rewards_engine::domain::money::Currency::parse("EUR").unwrap(),
            &[(
                rewards_engine::domain::ids::Mode::Live,
                rewards_engine::domain::organisation::ApiKeyKind::Public,
                theirs,
            )],
            None,
            "elsewhere",
        )
        .await
        .unwrap();
    let path = "/self-service/v2/wallets/wallet_exists?type=EMAIL&value=known%40example.com";
    let elsewhere = app.with_key(theirs, "GET", path, None).await;
    assert_eq!(elsewhere.status, 200, "{}", elsewhere.body);
    assert_eq!(elsewhere.body["wallet_exists"], false);

    for bad in [
        "?type=FAX&value=123",
        "?value=known%40example.com",
        "?type=EMAIL",
        "?type=EMAIL&value=not-an-email",
        "?type=PHONE&value=12",
        "?type=EMAIL&value=%00%1b",
    ] {
        let refused = ask(bad).await;
        assert_eq!(refused.status, 400, "{bad}: {}", refused.body);
    }
    assert_eq!(app.call("GET", path, &[], None).await.status, 401);

    // Past the per-address allowance (30 in the window, bad ones included) it is 429.
    let mut limited = None;
    for _ in 0..40 {
        let reply = ask("?type=EMAIL&value=someone%40example.com").await;
        if reply.status == 429 {
            limited = Some(reply);
            break;
        }
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let limited = limited.expect("a 429 within 40 lookups");
    assert!(limited.retry_after.is_some(), "{}", limited.body);
}
