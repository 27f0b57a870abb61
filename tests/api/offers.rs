//! Reward offers with real rules, over HTTP: made, changed and listed in the back office
//! (every bad rule refused by name, nothing stored), evaluated on purchases (targets, lines,
//! quantities, minimum spend, caps, combination, schedule, schemes, segments, first
//! purchase), each award explained, per-contact caps durable across a restart and given
//! back by a cancel; apps list the active offers.

use crate::helpers::*;
use serde_json::{json, Value};

fn num(text: &str) -> Value {
    json!(serde_json::Number::from_string_unchecked_compat(text))
}

async fn offer_count(app: &TestApp) -> u64 {
    let listed = app.get("/backoffice/v2/reward_offers?include_total=true").await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    listed.body["paging"]["total"].as_u64().unwrap()
}

/// (offer name, amount) of each award in a purchase's breakdown.
fn awards(purchase: &Value) -> Vec<(String, String)> {
    purchase["reward_breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["type"] == "AWARD")
        .map(|entry| {
            (
                entry["reward_offer"]["name"].as_str().unwrap().to_string(),
                entry["amount"].to_string(),
            )
        })
        .collect()
}

async fn post_purchase(app: &TestApp, body: Value) -> Value {
    let reply = app.post("/backoffice/v2/purchases", &body).await;
    assert_eq!(reply.status, 201, "{body}: {}", reply.body);
    reply.body
}

#[tokio::test]
async fn the_back_office_makes_changes_and_lists_offers_and_refuses_bad_rules_by_name() {
    let app = spawn_app().await;
    let full = json!({
        "name": "Happy hour coffee",
        "short_description": "Coffee after work",
        "goal": "SPEND",
        "type": "HAPPYHOUR",
        "is_featured": true,
        "schedule": {"time_zone": "Europe/Nicosia", "days": ["MONDAY", "FRIDAY"], "from": "17:00", "to": "19:30"},
        "segment": {"genders": ["FEMALE"], "age": {"min": 18}},
        "conditions": {"first_purchase_only": false, "minimum_spend": 5},
        "products": {"skus": ["COFFEE"], "families": ["HOT-DRINKS"]},
        "award": {"type": "PER_QUANTITY", "value": num("0.50"), "expiry_days": 30},
        "caps": {"per_purchase": 3, "per_contact": {"period": "WEEK", "amount": 10}},
        "combination": {"rule": "BEST_OF", "group": "coffee"},
    });
    let made = app.create_offer(full.clone()).await;
    for field in ["schedule", "segment", "products", "caps", "combination"] {
        assert_eq!(made[field], full[field], "{field}: {made}");
    }
    assert_eq!(made["award"]["value"], num("0.50"));
    assert_eq!(made["conditions"]["minimum_spend"], 5);
    assert_eq!(
        (made["type"].as_str(), made["state"].as_str()),
        (Some("HAPPYHOUR"), Some("ACTIVE"))
    );
    let id = made["id"].as_str().unwrap().to_string();
    let path = format!("/backoffice/v2/reward_offers/{id}");
    assert_eq!(app.get(&path).await.body, made, "read back as made");
    assert_eq!(offer_count(&app).await, 1);

    // Every impossible rule: a 400 naming the field, nothing stored.
    let with = |change: Value| {
        let mut body = json!({"name": "Bad", "award": {"type": "PERCENTAGE", "value": 10}});
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    };
    let cases = [
        (
            with(json!({"award": {"type": "PERCENTAGE", "value": 101}})),
            "award.value",
        ),
        (
            with(json!({"award": {"type": "PERCENTAGE", "value": 0}})),
            "award.value",
        ),
        (with(json!({"award": {"type": "PER_QUANTITY", "value": 1}})), "products"),
        (with(json!({"award": {"type": "BOGOF", "value": 1}})), "award.type"),
        (with(json!({"caps": {"per_purchase": -1}})), "caps.per_purchase"),
        (
            with(json!({"caps": {"per_contact": {"period": "YEAR", "amount": 1}}})),
            "caps.per_contact.period",
        ),
        (
            with(json!({"caps": {"per_contact": {"period": "DAY", "amount": num("0.001")}}})),
            "caps.per_contact.amount",
        ),
        (with(json!({"products": {}})), "products"),
        (
            with(json!({"targets": {"organisations": []}, "products": {"skus": [""]}})),
            "products.skus",
        ),
        (
            with(json!({"targets": {"organisations": [{"id": "not-an-id"}]}})),
            "targets.organisations",
        ),
        (
            with(json!({"targets": {"organisations": [{"id": uuid::Uuid::new_v4().to_string()}]}})),
            "targets.organisations",
        ),
        (
            with(json!({"targets": {"taps": [{"id": uuid::Uuid::new_v4().to_string()}]}})),
            "targets.taps",
        ),
        (
            with(json!({"scheme": {"id": uuid::Uuid::new_v4().to_string()}})),
            "scheme",
        ),
        (with(json!({"segment": {"genders": []}})), "segment.genders"),
        (with(json!({"segment": {"age": {"min": 40, "max": 30}}})), "segment.age"),
        (
            with(
                json!({"schedule": {"time_zone": "Mars/Olympus", "days": ["MONDAY"], "from": "09:00", "to": "10:00"}}),
            ),
            "schedule",
        ),
        (
            with(json!({"schedule": {"time_zone": "UTC", "days": ["MONDAY"], "from": "9am", "to": "10:00"}})),
            "schedule.from",
        ),
        (
            with(json!({"schedule": {"time_zone": "UTC", "days": ["FUNDAY"], "from": "09:00", "to": "10:00"}})),
            "schedule.days",
        ),
        (
            with(json!({"schedule": {"time_zone": "UTC", "days": [], "from": "09:00", "to": "10:00"}})),
            "schedule",
        ),
        (with(json!({"combination": {"rule": "BEST_OF"}})), "combination.group"),
        (
            with(json!({"combination": {"rule": "EXCLUSIVE", "group": "coffee"}})),
            "combination.group",
        ),
        (with(json!({"combination": {"rule": "ALL"}})), "combination.rule"),
        (with(json!({"availability": {"from": 10, "to": 5}})), "availability"),
        (with(json!({"conditions": {"minimum_spend": 0}})), "minimum_spend"),
        (
            with(json!({"award": {"type": "FIXED", "value": num("1.005")}})),
            "award.value",
        ),
        (
            with(json!({"award": {"type": "FIXED", "value": 1, "expiry_days": 0}})),
            "award.expiry_days",
        ),
        (
            with(
                json!({"destination": {"type": "POOL", "spend_conditions": {"organisations": [{"id": "00000000-0000-4000-8000-000000000001"}]}}}),
            ),
            "destination.spend_conditions.organisations",
        ),
        (
            with(json!({"destination": {"type": "INSTANT_DISCOUNT", "spend_conditions": {"organisations": []}}})),
            "destination.spend_conditions",
        ),
        (with(json!({"caps": {"budget": 0}})), "caps.budget"),
        (with(json!({"goal": "FAME"})), "goal"),
        (with(json!({"name": "Bell\u{7}"})), "name"),
        (json!({"award": {"type": "FIXED", "value": 1}}), "name"),
        (json!({"name": "No award"}), "award"),
    ];
    for (body, field) in cases {
        let reply = app.post("/backoffice/v2/reward_offers", &body).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        assert_eq!(reply.body["parameters"][0], field, "{body}: {}", reply.body);
    }
    assert_eq!(offer_count(&app).await, 1, "nothing refused was stored");

    // A change replaces what it names; the whole is checked again.
    let changed = app
        .put(&path, &json!({"name": "Evening coffee", "caps": {"per_purchase": 2}}))
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["name"], "Evening coffee");
    assert_eq!(changed.body["caps"], json!({"per_purchase": 2}));
    assert_eq!(changed.body["schedule"], full["schedule"], "untouched fields stay");
    let refused = app
        .put(
            &path,
            &json!({"name": "Broken", "award": {"type": "PERCENTAGE", "value": 300}}),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.body["parameters"][0], "award.value");
    assert_eq!(
        app.get(&path).await.body["name"],
        "Evening coffee",
        "a refused change changes nothing"
    );

    // Listed newest first, by state, paged.
    app.clock.advance(1);
    let second = app.percentage_offer(5, None).await;
    app.set_offer_state(&second, "INACTIVE").await;
    let listed = app.get("/backoffice/v2/reward_offers?size=1").await;
    assert_eq!(listed.body["content"][0]["id"], second["id"], "{}", listed.body);
    assert_eq!(listed.body["paging"]["has_more"], true);
    let active = app.get("/backoffice/v2/reward_offers?state=ACTIVE").await;
    let ids: Vec<&Value> = active.body["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| &o["id"])
        .collect();
    assert_eq!(ids, [&made["id"]]);
    assert_eq!(app.get("/backoffice/v2/reward_offers?state=GONE").await.status, 400);
    // Another tenant (test mode) sees none of it.
    let test_key = app
        .post("/backoffice/v2/api_keys", &json!({"type": "SECRET", "mode": "TEST"}))
        .await;
    let test_key = test_key.body["key"].as_str().unwrap().to_string();
    assert_eq!(app.with_key(&test_key, "GET", &path, None).await.status, 404);
    assert_eq!(
        app.with_key(&test_key, "PUT", &path, Some(&json!({"name": "Mine"})))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn purchases_earn_by_target_line_quantity_minimum_and_cap_each_explained() {
    let app = spawn_app().await;
    let venue = app
        .post(
            "/backoffice/v2/organisations",
            &json!({"name": "Harbour Cafe", "type": "VENUE"}),
        )
        .await;
    assert_eq!(venue.status, 201, "{}", venue.body);
    let venue_id = venue.body["id"].as_str().unwrap().to_string();
    let other = app
        .post(
            "/backoffice/v2/organisations",
            &json!({"name": "Hill Cafe", "type": "VENUE"}),
        )
        .await;
    let other_id = other.body["id"].as_str().unwrap().to_string();
    let contact = app.create_contact("C-1").await;
    let contact_id = contact["id"].as_str().unwrap().to_string();

    app.create_offer(json!({
        "name": "Harbour 10%",
        "targets": {"organisations": [{"id": venue_id}]},
        "award": {"type": "PERCENTAGE", "value": 10},
        "caps": {"per_purchase": 1},
    }))
    .await;
    app.create_offer(json!({
        "name": "Pastry per item",
        "products": {"families": ["PASTRY"]},
        "award": {"type": "PER_QUANTITY", "value": num("0.20")},
    }))
    .await;
    app.create_offer(json!({
        "name": "Coffee 50%",
        "products": {"skus": ["ESPRESSO"]},
        "conditions": {"minimum_spend": 3},
        "award": {"type": "PERCENTAGE", "value": 50},
    }))
    .await;

    let purchase = |reference: &str, at: &str| {
        json!({
            "contact": {"id": contact_id},
            "reference_number": reference,
            "organisation": {"id": at},
            "transaction_amounts": {"total": num("20.00")},
            "products": [
                {"product_sku": "ESPRESSO", "quantity": 2, "total_amount": num("4.00")},
                {"product_sku": "CROISSANT", "product_family": "PASTRY", "quantity": 3, "total_amount": num("6.00")},
                {"product_sku": "JUICE", "quantity": 1, "total_amount": num("10.00")},
            ],
        })
    };
    let at_harbour = post_purchase(&app, purchase("R-1", &venue_id)).await;
    let mut got = awards(&at_harbour);
    got.sort();
    assert_eq!(
        got,
        [
            ("Coffee 50%".to_string(), "2.00".to_string()),
            ("Harbour 10%".to_string(), "1.00".to_string()),
            ("Pastry per item".to_string(), "0.60".to_string()),
        ],
        "{at_harbour}"
    );
    assert_eq!(at_harbour["rewards"]["award"], num("3.60"));
    let explained: Vec<&Value> = at_harbour["reward_breakdown"].as_array().unwrap().iter().collect();
    let harbour = explained
        .iter()
        .find(|entry| entry["reward_offer"]["name"] == "Harbour 10%")
        .unwrap();
    assert_eq!(harbour["explanation"]["basis"], "TOTAL");
    assert_eq!(harbour["explanation"]["computed"], num("2.00"));
    assert_eq!(
        harbour["explanation"]["caps"],
        json!([{"cap": "PER_PURCHASE", "amount": num("1.00")}])
    );
    let pastry = explained
        .iter()
        .find(|entry| entry["reward_offer"]["name"] == "Pastry per item")
        .unwrap();
    assert_eq!(pastry["explanation"]["lines"], json!([1]));
    assert_eq!(pastry["explanation"]["basis_amount"], 3);
    assert_eq!(pastry["explanation"]["award_type"], "PER_QUANTITY");
    // The same, read back later.
    let read = app
        .get(&format!(
            "/backoffice/v2/purchases/{}",
            at_harbour["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(read.body["reward_breakdown"], at_harbour["reward_breakdown"]);

    // Elsewhere the venue's offer does not apply; below the minimum the coffee offer does not.
    let mut at_hill = purchase("R-2", &other_id);
    at_hill["products"][0]["total_amount"] = num("2.50");
    let at_hill = post_purchase(&app, at_hill).await;
    assert_eq!(
        awards(&at_hill),
        [("Pastry per item".to_string(), "0.60".to_string())],
        "{at_hill}"
    );
    // A retry is the same purchase, classified lines and all; different classes are not.
    let retried = post_purchase(&app, purchase("R-1", &venue_id)).await;
    assert_eq!(retried["id"], at_harbour["id"]);
    let mut reclassified = purchase("R-1", &venue_id);
    reclassified["products"][1]["product_family"] = json!("BREAD");
    let conflict = app.post("/backoffice/v2/purchases", &reclassified).await;
    assert_eq!(conflict.status, 409, "{}", conflict.body);
}

#[tokio::test]
async fn offers_combine_by_rule_and_an_exclusive_award_stands_alone() {
    let app = spawn_app().await;
    let contact = app.create_contact("C-2").await;
    let contact_id = contact["id"].as_str().unwrap().to_string();
    for (name, value, combination) in [
        ("Small", "1", json!({"rule": "BEST_OF", "group": "welcome"})),
        ("Large", "2", json!({"rule": "BEST_OF", "group": "welcome"})),
        ("Always", "0.5", json!({"rule": "STACK"})),
    ] {
        app.create_offer(
            json!({"name": name, "award": {"type": "FIXED", "value": num(value)}, "combination": combination}),
        )
        .await;
    }
    let body = |reference: &str, total: &str| json!({"contact": {"id": contact_id}, "reference_number": reference, "transaction_amounts": {"total": num(total)}});
    let mut got = awards(&post_purchase(&app, body("R-1", "10")).await);
    got.sort();
    assert_eq!(
        got,
        [
            ("Always".to_string(), "0.50".to_string()),
            ("Large".to_string(), "2.00".to_string())
        ]
    );
    app.create_offer(json!({
        "name": "Big spender",
        "conditions": {"minimum_spend": 100},
        "award": {"type": "FIXED", "value": 5},
        "combination": {"rule": "EXCLUSIVE", "group": "vip"},
    }))
    .await;
    assert_eq!(
        awards(&post_purchase(&app, body("R-2", "100")).await),
        [("Big spender".to_string(), "5.00".to_string())]
    );
    assert_eq!(
        awards(&post_purchase(&app, body("R-3", "99.99")).await).len(),
        2,
        "the exclusive one does not apply"
    );
}

#[tokio::test]
async fn per_contact_caps_and_first_purchase_offers_remember_across_restarts_and_cancels() {
    let app = spawn_app().await;
    let contact = app.create_contact("C-3").await;
    let contact_id = contact["id"].as_str().unwrap().to_string();
    app.create_offer(json!({
        "name": "Daily 10%",
        "award": {"type": "PERCENTAGE", "value": 10},
        "caps": {"per_contact": {"period": "DAY", "amount": 3}},
    }))
    .await;
    app.create_offer(json!({
        "name": "Welcome",
        "conditions": {"first_purchase_only": true},
        "award": {"type": "FIXED", "value": 5},
    }))
    .await;
    let first = app.purchase(&contact_id, "R-1", "20", None).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let mut got = awards(&first.body);
    got.sort();
    assert_eq!(
        got,
        [
            ("Daily 10%".to_string(), "2.00".to_string()),
            ("Welcome".to_string(), "5.00".to_string())
        ]
    );

    let (dir, clock) = app.stop().await;
    let app = spawn_app_with(dir, clock, &[]).await;
    let second = app.purchase(&contact_id, "R-2", "20", None).await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(
        awards(&second.body),
        [("Daily 10%".to_string(), "1.00".to_string())],
        "{}",
        second.body
    );
    let cap = &second.body["reward_breakdown"][0]["explanation"]["caps"][0];
    assert_eq!(
        (cap["cap"].as_str(), cap["period"].as_str()),
        (Some("PER_CONTACT"), Some("DAY"))
    );
    assert!(
        awards(&app.purchase(&contact_id, "R-3", "20", None).await.body).is_empty(),
        "the day's cap is used"
    );

    // Cancelling gives the cap back; cancelling every purchase makes the next one the first.
    let third = app.purchase(&contact_id, "R-3", "20", None).await;
    for purchase in [&first.body, &second.body, &third.body] {
        let id = purchase["id"].as_str().unwrap();
        let cancelled = app
            .post(&format!("/backoffice/v2/purchases/{id}/cancel"), &json!({}))
            .await;
        assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    }
    let again = app.purchase(&contact_id, "R-4", "20", None).await;
    let mut got = awards(&again.body);
    got.sort();
    assert_eq!(
        got,
        [
            ("Daily 10%".to_string(), "2.00".to_string()),
            ("Welcome".to_string(), "5.00".to_string())
        ]
    );
    // The next day the daily cap starts again.
    app.clock.advance(86_400);
    assert_eq!(
        awards(&app.purchase(&contact_id, "R-5", "50", None).await.body),
        [("Daily 10%".to_string(), "3.00".to_string())]
    );
}

#[tokio::test]
async fn schedules_schemes_and_segments_decide_who_earns_and_when() {
    let app = spawn_app().await;
    let (contact_id, token) = registered_contact(&app, "kim@example.com", "kim-password-1").await;
    let club = app
        .post(
            "/backoffice/v2/reward_schemes",
            &json!({"name": "Club", "sign_up_option": "SELF_SIGN_UP"}),
        )
        .await;
    let club_id = club.body["id"].as_str().unwrap().to_string();
    // The manual clock starts on Friday 2027-01-15 08:00 UTC: 10:00 in Nicosia.
    app.create_offer(json!({
        "name": "Friday morning",
        "schedule": {"time_zone": "Europe/Nicosia", "days": ["FRIDAY"], "from": "09:00", "to": "11:00"},
        "award": {"type": "FIXED", "value": 1},
    }))
    .await;
    app.create_offer(json!({"name": "Club only", "scheme": {"id": club_id}, "award": {"type": "FIXED", "value": 2}}))
        .await;
    app.create_offer(json!({
        "name": "Women 30+",
        "segment": {"genders": ["FEMALE"], "age": {"min": 30}},
        "award": {"type": "FIXED", "value": 3},
    }))
    .await;
    let names = |purchase: &Value| -> Vec<String> {
        let mut names: Vec<String> = awards(purchase).into_iter().map(|(name, _)| name).collect();
        names.sort();
        names
    };
    let first = app.purchase(&contact_id, "R-1", "10", None).await;
    assert_eq!(names(&first.body), ["Friday morning"], "{}", first.body);

    let joined = with_token(
        &app,
        &token,
        "POST",
        &format!("/self-service/v2/contacts/{contact_id}/reward_schemes"),
        Some(&json!({"action": "SIGN_UP", "reward_scheme_id": club_id})),
    )
    .await;
    assert_eq!(joined.status, 201, "{}", joined.body);
    let profile = with_token(
        &app,
        &token,
        "PUT",
        &format!("/self-service/v2/contacts/{contact_id}"),
        Some(&json!({"demographics": {"gender": "FEMALE", "date_of_birth": {"day": 15, "month": 1, "year": 1997}}})),
    )
    .await;
    assert_eq!(profile.status, 200, "{}", profile.body);
    // Two hours later it is noon in Nicosia: past the morning.
    app.clock.advance(2 * 3_600);
    let second = app.purchase(&contact_id, "R-2", "10", None).await;
    assert_eq!(
        names(&second.body),
        ["Club only", "Women 30+"],
        "30 today: {}",
        second.body
    );
}

#[tokio::test]
async fn apps_list_the_active_offers_a_contact_can_earn_from() {
    let app = spawn_app().await;
    let (_, token) = registered_contact(&app, "lee@example.com", "lee-password-1").await;
    let club = app
        .post(
            "/backoffice/v2/reward_schemes",
            &json!({"name": "Club", "sign_up_option": "SELF_SIGN_UP"}),
        )
        .await;
    let club_id = club.body["id"].as_str().unwrap().to_string();
    let open = app
        .create_offer(json!({"name": "Open offer", "short_description": "For all", "is_featured": true, "award": {"type": "FIXED", "value": 1}}))
        .await;
    app.clock.advance(1);
    let members = app
        .create_offer(json!({"name": "Members offer", "scheme": {"id": club_id}, "goal": "VISITS", "award": {"type": "FIXED", "value": 1}}))
        .await;
    app.clock.advance(1);
    let off = app
        .create_offer(json!({"name": "Off offer", "award": {"type": "FIXED", "value": 1}}))
        .await;
    app.set_offer_state(&off, "INACTIVE").await;

    let names = |reply: &Reply| -> Vec<String> {
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["content"]
            .as_array()
            .unwrap()
            .iter()
            .map(|offer| offer["name"].as_str().unwrap().to_string())
            .collect()
    };
    let by_app = app
        .with_key(PUBLIC_KEY, "GET", "/self-service/v2/reward_offers", None)
        .await;
    assert_eq!(
        names(&by_app),
        ["Members offer", "Open offer"],
        "newest first, active only"
    );
    assert_eq!(by_app.body["content"][0]["scheme"]["name"], "Club");
    let by_contact = with_token(&app, &token, "GET", "/self-service/v2/reward_offers", None).await;
    assert_eq!(names(&by_contact), ["Open offer"], "not in the club");
    let filtered = app
        .with_key(
            PUBLIC_KEY,
            "GET",
            "/self-service/v2/reward_offers?is_featured=true&order=ASC&search_value=OPEN",
            None,
        )
        .await;
    assert_eq!(names(&filtered), ["Open offer"]);
    let visits = app
        .with_key(
            PUBLIC_KEY,
            "GET",
            "/self-service/v2/reward_offers?goals=VISITS,ACHIEVEMENT&include_total=true",
            None,
        )
        .await;
    assert_eq!(names(&visits), ["Members offer"]);
    assert_eq!(visits.body["paging"]["total"], 1);
    for query in ["goals=FAME", "countries=CY", "sort=DISTANCE", "owner=nobody"] {
        let reply = app
            .with_key(
                PUBLIC_KEY,
                "GET",
                &format!("/self-service/v2/reward_offers?{query}"),
                None,
            )
            .await;
        assert_eq!(reply.status, 400, "{query}: {}", reply.body);
    }

    let one = app
        .with_key(
            PUBLIC_KEY,
            "GET",
            &format!("/self-service/v2/reward_offers/{}", open["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.body["short_description"], "For all");
    let back_office = app
        .get(&format!(
            "/backoffice/v2/reward_offers/{}",
            open["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(one.body["owner"]["id"], back_office.body["owner"]["id"]);
    assert!(
        one.body["owner"]["name"].as_str().is_some_and(|name| !name.is_empty()),
        "{}",
        one.body
    );
    let inactive = with_token(
        &app,
        &token,
        "GET",
        &format!("/self-service/v2/reward_offers/{}", off["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(inactive.status, 404, "{}", inactive.body);
    let members_id = members["id"].as_str().unwrap();
    let unsigned = app
        .call(
            "GET",
            &format!("/self-service/v2/reward_offers/{members_id}"),
            &[],
            None,
        )
        .await;
    assert_eq!(unsigned.status, 401, "{}", unsigned.body);
}

#[tokio::test]
async fn an_instant_discount_comes_off_the_same_purchase_and_a_cancel_undoes_it() {
    let app = spawn_app().await;
    app.create_offer(json!({"name": "5% off now", "award": {"type": "PERCENTAGE", "value": 5}, "destination": {"type": "INSTANT_DISCOUNT"}}))
        .await;
    app.percentage_offer(10, None).await;
    let contact = app.create_contact("C-INSTANT").await;
    let (contact_id, wallet_id) = (
        contact["id"].as_str().unwrap(),
        contact["wallet"]["id"].as_str().unwrap(),
    );
    let posted = app.purchase(contact_id, "R-1", "40.00", None).await;
    assert_eq!(posted.status, 201, "{}", posted.body);
    assert_eq!(posted.body["rewards"]["award"].to_string(), "6.00");
    assert_eq!(
        posted.body["rewards"]["spend"].to_string(),
        "2.00",
        "the discount is spent on the purchase"
    );
    assert_eq!(app.wallet(wallet_id).await["total_balance"].to_string(), "4.00");
    // Both awards, and the discount's spend (offers award in id order, so the awards'
    // order is the ids').
    let mut kinds: Vec<(String, String)> = app
        .journal(wallet_id)
        .await
        .iter()
        .map(|line| {
            (
                line["transaction_type"].as_str().unwrap().to_string(),
                line["amount"].to_string(),
            )
        })
        .collect();
    kinds.sort();
    let expected = [("AWARD", "2.00"), ("AWARD", "4.00"), ("SPEND", "2.00")];
    assert_eq!(
        kinds,
        expected.map(|(kind, amount)| (kind.to_string(), amount.to_string()))
    );
    let id = posted.body["id"].as_str().unwrap();
    let cancelled = app
        .post(&format!("/backoffice/v2/purchases/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    let wallet = app.wallet(wallet_id).await;
    assert_eq!(
        (wallet["total_balance"].to_string(), wallet["shortfall"].to_string()),
        ("0.00".into(), "0.00".into())
    );
    app.assert_balance_equals_journal(wallet_id).await;
}
