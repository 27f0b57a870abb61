//! The organisation network under the bootstrap business: what may hold what, the network
//! listing and its type filter, and bad input changing nothing.

use crate::helpers::*;
use serde_json::{json, Value};

fn names(body: &Value) -> Vec<String> {
    let mut names: Vec<String> = body["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|organisation| organisation["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn the_network_nests_merchants_and_venues_under_the_business() {
    let app = spawn_app().await;
    let merchant = app
        .post(
            "/backoffice/v2/organisations",
            &json!({"name": "North Merchant", "type": "MERCHANT"}),
        )
        .await;
    assert_eq!(merchant.status, 201, "{}", merchant.body);
    assert_eq!(merchant.body["type"], "MERCHANT");
    let business_id = merchant.body["parent"]["id"].as_str().unwrap().to_string();
    let merchant_id = merchant.body["id"].as_str().unwrap().to_string();
    let venue = app
        .post(
            "/backoffice/v2/organisations",
            &json!({"name": "North Venue", "type": "VENUE", "parent_id": merchant_id}),
        )
        .await;
    assert_eq!(venue.status, 201, "{}", venue.body);
    assert_eq!(venue.body["parent"]["name"], "North Merchant");
    let shop = app
        .post(
            "/backoffice/v2/organisations",
            &json!({"name": "Own Shop", "type": "VENUE"}),
        )
        .await;
    assert_eq!(shop.status, 201, "{}", shop.body);
    let venue_id = venue.body["id"].as_str().unwrap();

    let network = app
        .get(&format!("/backoffice/v2/organisations/{business_id}/network"))
        .await;
    assert_eq!(network.status, 200);
    assert_eq!(names(&network.body), ["North Merchant", "North Venue", "Own Shop"]);
    assert_eq!(network.body["paging"]["has_more"], false, "{}", network.body);
    // Paged like every CRM.COM list.
    let first = app
        .get(&format!(
            "/backoffice/v2/organisations/{business_id}/network?size=2&include_total=true"
        ))
        .await;
    assert_eq!(names(&first.body).len(), 2, "{}", first.body);
    assert_eq!(first.body["paging"]["has_more"], true, "{}", first.body);
    assert_eq!(first.body["paging"]["total"], 3, "{}", first.body);
    let second = app
        .get(&format!(
            "/backoffice/v2/organisations/{business_id}/network?size=2&page=2"
        ))
        .await;
    assert_eq!(second.body["paging"]["has_more"], false, "{}", second.body);
    let mut both = [names(&first.body), names(&second.body)].concat();
    both.sort();
    assert_eq!(both, ["North Merchant", "North Venue", "Own Shop"]);
    let venues = app
        .get(&format!(
            "/backoffice/v2/organisations/{business_id}/network?type=VENUE"
        ))
        .await;
    assert_eq!(names(&venues.body), ["North Venue", "Own Shop"]);
    let under_merchant = app
        .get(&format!("/backoffice/v2/organisations/{merchant_id}/network"))
        .await;
    assert_eq!(names(&under_merchant.body), ["North Venue"]);
    let read = app.get(&format!("/backoffice/v2/organisations/{venue_id}")).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["name"], "North Venue");

    // What may not hold what, and bad input: each refused, nothing added.
    for (body, parameter) in [
        (json!({"name": "Deep", "type": "VENUE", "parent_id": venue_id}), "type"),
        (
            json!({"name": "Nested", "type": "MERCHANT", "parent_id": merchant_id}),
            "type",
        ),
        (json!({"name": "Twin", "type": "BUSINESS"}), "type"),
        (json!({"name": "Owner", "type": "SERVICE_OWNER"}), "type"),
        (json!({"name": "Odd", "type": "SHOP"}), "type"),
        (json!({"name": "  ", "type": "MERCHANT"}), "name"),
    ] {
        let refused = app.post("/backoffice/v2/organisations", &body).await;
        assert_eq!(refused.status, 400, "{body}: {}", refused.body);
        assert_eq!(refused.body["parameters"][0], parameter, "{}", refused.body);
    }
    let unknown_parent = app
        .post(
            "/backoffice/v2/organisations",
            &json!({"name": "Lost", "type": "VENUE", "parent_id": "6d1b4c3e-0000-4000-8000-000000000001"}),
        )
        .await;
    assert_eq!(unknown_parent.status, 404, "{}", unknown_parent.body);
    let bad_filter = app
        .get(&format!("/backoffice/v2/organisations/{business_id}/network?type=SHOP"))
        .await;
    assert_eq!(bad_filter.status, 400);
    let after = app
        .get(&format!("/backoffice/v2/organisations/{business_id}/network"))
        .await;
    assert_eq!(names(&after.body), ["North Merchant", "North Venue", "Own Shop"]);
    for unknown in ["6d1b4c3e-0000-4000-8000-000000000001", "not-an-id"] {
        assert_eq!(
            app.get(&format!("/backoffice/v2/organisations/{unknown}")).await.status,
            404
        );
        let network = app
            .get(&format!("/backoffice/v2/organisations/{unknown}/network"))
            .await;
        assert_eq!(network.status, 404);
    }
}

fn id(body: &Value) -> String {
    body["id"].as_str().unwrap().to_string()
}

fn sale(contact_id: &str, reference: &str, organisation: Value) -> Value {
    json!({
        "contact": {"id": contact_id},
        "reference_number": reference,
        "transaction_amounts": {"total": 10},
        "organisation": organisation,
    })
}

async fn key_for(app: &TestApp, organisation: &str, mode: &str) -> String {
    let created = app
        .post(
            "/backoffice/v2/api_keys",
            &json!({"type": "SECRET", "mode": mode, "organisation_id": organisation}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.body["key"].as_str().unwrap().to_string()
}

/// TAPs: the tills of merchants and venues, unique in the business, named by purchases in
/// place of an organisation id; organisations renamed, their TAPs replaced, and merchants
/// and venues removed (keys revoked, codes freed, purchases keep where they were made).
#[tokio::test]
async fn taps_name_where_a_purchase_was_made_and_organisations_change_and_go() {
    let app = spawn_app().await;
    let merchant = app
        .post(
            "/backoffice/v2/organisations",
            &json!({"name": "Harbour Cafés", "type": "MERCHANT", "taps": [{"code": "HC-01"}]}),
        )
        .await;
    assert_eq!(merchant.status, 201, "{}", merchant.body);
    assert_eq!(merchant.body["taps"][0]["code"], "HC-01");
    let merchant_id = id(&merchant.body);
    let business_id = merchant.body["parent"]["id"].as_str().unwrap().to_string();
    let venue = app
        .post(
            "/backoffice/v2/organisations",
            &json!({"name": "Pier Kiosk", "type": "VENUE", "parent_id": merchant_id,
                    "taps": [{"code": "PK-1", "name": "Front till"}, {"code": " PK-2 "}]}),
        )
        .await;
    assert_eq!(venue.status, 201, "{}", venue.body);
    let venue_id = id(&venue.body);
    let pk1_id = venue.body["taps"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(venue.body["taps"][1]["code"], "PK-2", "codes are trimmed");

    // TAP codes are unique in the business and only merchants and venues hold them.
    for (method, path, body, status, parameter) in [
        (
            "POST",
            "/backoffice/v2/organisations".to_string(),
            json!({"name": "Copycat", "type": "VENUE", "taps": [{"code": "PK-1"}]}),
            409,
            "TAP",
        ),
        (
            "POST",
            "/backoffice/v2/organisations".to_string(),
            json!({"name": "Twice", "type": "VENUE", "taps": [{"code": "T"}, {"code": "T"}]}),
            400,
            "taps.code",
        ),
        (
            "POST",
            "/backoffice/v2/organisations".to_string(),
            json!({"name": "Blank", "type": "VENUE", "taps": [{"code": " "}]}),
            400,
            "taps.code",
        ),
        (
            "PUT",
            format!("/backoffice/v2/organisations/{business_id}"),
            json!({"taps": [{"code": "B-1"}]}),
            400,
            "taps",
        ),
        (
            "PUT",
            format!("/backoffice/v2/organisations/{merchant_id}"),
            json!({"taps": [{"code": "PK-2"}]}),
            409,
            "TAP",
        ),
        (
            "PUT",
            format!("/backoffice/v2/organisations/{merchant_id}"),
            json!({"name": ""}),
            400,
            "name",
        ),
    ] {
        let refused = app.call(method, &path, &[("api_key", SECRET_KEY)], Some(&body)).await;
        assert_eq!(refused.status, status, "{body}: {}", refused.body);
        assert_eq!(refused.body["parameters"][0], parameter, "{}", refused.body);
    }
    let network = app
        .get(&format!("/backoffice/v2/organisations/{business_id}/network"))
        .await;
    assert_eq!(
        names(&network.body),
        ["Harbour Cafés", "Pier Kiosk"],
        "nothing was added"
    );
    let merchant_now = app.get(&format!("/backoffice/v2/organisations/{merchant_id}")).await;
    assert_eq!(merchant_now.body["taps"], merchant.body["taps"], "nothing was changed");

    // A purchase names the venue's till by code or id; the record says where it was made.
    app.percentage_offer(10, None).await;
    let contact = app.create_contact("TAP001").await;
    let contact_id = id(&contact);
    let by_code = app
        .post(
            "/backoffice/v2/purchases",
            &sale(&contact_id, "R-1", json!({"venue_tap": {"code": "PK-1"}})),
        )
        .await;
    assert_eq!(by_code.status, 201, "{}", by_code.body);
    assert_eq!(by_code.body["organisation"]["id"], venue_id.as_str());
    assert_eq!(by_code.body["tap"]["code"], "PK-1");
    assert_eq!(by_code.body["tap"]["name"], "Front till");
    let purchase_id = id(&by_code.body);
    let retry = app
        .post(
            "/backoffice/v2/purchases",
            &sale(&contact_id, "R-1", json!({"venue_tap": {"id": pk1_id}})),
        )
        .await;
    assert_eq!(
        retry.status, 201,
        "the same till by id is the same purchase: {}",
        retry.body
    );
    assert_eq!(id(&retry.body), purchase_id);
    let elsewhere = app
        .post(
            "/backoffice/v2/purchases",
            &sale(&contact_id, "R-1", json!({"merchant_tap": {"code": "HC-01"}})),
        )
        .await;
    assert_eq!(elsewhere.status, 409, "one receipt at two tills: {}", elsewhere.body);
    let by_merchant_tap = app
        .post(
            "/backoffice/v2/purchases",
            &sale(&contact_id, "R-2", json!({"merchant_tap": {"code": "HC-01"}})),
        )
        .await;
    assert_eq!(by_merchant_tap.status, 201, "{}", by_merchant_tap.body);
    assert_eq!(by_merchant_tap.body["organisation"]["id"], merchant_id.as_str());
    let by_id = app
        .post(
            "/backoffice/v2/purchases",
            &sale(&contact_id, "R-3", json!({"id": venue_id})),
        )
        .await;
    assert_eq!(by_id.status, 201, "{}", by_id.body);
    assert_eq!(by_id.body["organisation"]["id"], venue_id.as_str());
    assert!(by_id.body["tap"].is_null());
    let plain = app.purchase(&contact_id, "R-4", "10", None).await;
    assert_eq!(plain.body["organisation"]["id"], business_id.as_str());

    // Wrong kind of till, unknown tills and organisations, two ways at once: refused, and
    // the wallet is untouched.
    let wallet_id = contact["wallet"]["id"].as_str().unwrap().to_string();
    let journal_before = app.journal(&wallet_id).await.len();
    for (organisation, status) in [
        (json!({"merchant_tap": {"code": "PK-1"}}), 400),
        (json!({"venue_tap": {"code": "NOPE"}}), 404),
        (
            json!({"venue_tap": {"id": "6d1b4c3e-0000-4000-8000-000000000001"}}),
            404,
        ),
        (json!({"venue_tap": {}}), 400),
        (json!({"id": "6d1b4c3e-0000-4000-8000-000000000001"}), 404),
        (json!({"id": venue_id, "venue_tap": {"code": "PK-1"}}), 400),
    ] {
        let refused = app
            .post(
                "/backoffice/v2/purchases",
                &sale(&contact_id, "R-X", organisation.clone()),
            )
            .await;
        assert_eq!(refused.status, status, "{organisation}: {}", refused.body);
    }
    assert!(journal_before >= 4, "each posted purchase awarded");
    assert_eq!(app.journal(&wallet_id).await.len(), journal_before);

    // The venue's own key sells at the venue; it cannot name a till above it.
    let venue_key = key_for(&app, &venue_id, "LIVE").await;
    let at_venue = app
        .with_key(
            &venue_key,
            "POST",
            "/backoffice/v2/purchases",
            Some(&sale(&contact_id, "R-5", json!(null))),
        )
        .await;
    assert_eq!(at_venue.status, 201, "{}", at_venue.body);
    assert_eq!(at_venue.body["organisation"]["id"], venue_id.as_str());
    let above = app
        .with_key(
            &venue_key,
            "POST",
            "/backoffice/v2/purchases",
            Some(&sale(&contact_id, "R-6", json!({"merchant_tap": {"code": "HC-01"}}))),
        )
        .await;
    assert_eq!(above.status, 404, "{}", above.body);

    // Only live-mode admins change the network: a test key and the venue's own key cannot.
    let test_key = key_for(&app, &business_id, "TEST").await;
    let rename = json!({"name": "Renamed"});
    let path = format!("/backoffice/v2/organisations/{venue_id}");
    assert_eq!(app.with_key(&test_key, "PUT", &path, Some(&rename)).await.status, 403);
    assert_eq!(app.with_key(&test_key, "DELETE", &path, None).await.status, 403);
    assert_eq!(app.with_key(&venue_key, "DELETE", &path, None).await.status, 403);
    assert_eq!(app.get(&path).await.body["name"], "Pier Kiosk");

    // Rename and replace the tills: a code that stays keeps its id, a dropped one is freed.
    let updated = app
        .put(
            &path,
            &json!({"name": "Pier Kiosk East", "taps": [{"code": "PK-1", "name": "Front till"}, {"code": "PK-3"}]}),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["name"], "Pier Kiosk East");
    assert_eq!(updated.body["taps"][0]["id"], pk1_id.as_str());
    assert_eq!(updated.body["taps"][1]["code"], "PK-3");
    let dropped = app
        .post(
            "/backoffice/v2/purchases",
            &sale(&contact_id, "R-7", json!({"venue_tap": {"code": "PK-2"}})),
        )
        .await;
    assert_eq!(dropped.status, 404, "{}", dropped.body);
    let taken_again = app
        .put(
            &format!("/backoffice/v2/organisations/{merchant_id}"),
            &json!({"taps": [{"code": "HC-01"}, {"code": "PK-2"}]}),
        )
        .await;
    assert_eq!(
        taken_again.status, 200,
        "a freed code can be used again: {}",
        taken_again.body
    );

    // Removal: not while it holds others, never a business; a venue goes, its key with it.
    let merchant_path = format!("/backoffice/v2/organisations/{merchant_id}");
    let holds = app
        .call("DELETE", &merchant_path, &[("api_key", SECRET_KEY)], None)
        .await;
    assert_eq!(holds.status, 409, "{}", holds.body);
    let other_business = format!("/backoffice/v2/organisations/{business_id}");
    let itself = app
        .call("DELETE", &other_business, &[("api_key", SECRET_KEY)], None)
        .await;
    assert_eq!(itself.status, 403, "{}", itself.body);
    let gone = app.call("DELETE", &path, &[("api_key", SECRET_KEY)], None).await;
    assert_eq!(gone.status, 204, "{}", gone.body);
    assert_eq!(app.get(&path).await.status, 404);
    let again = app.call("DELETE", &path, &[("api_key", SECRET_KEY)], None).await;
    assert_eq!(again.status, 404);
    let revoked = app
        .with_key(
            &venue_key,
            "GET",
            &format!("/backoffice/v2/purchases/{purchase_id}"),
            None,
        )
        .await;
    assert_eq!(revoked.status, 401, "{}", revoked.body);
    let kept = app.get(&format!("/backoffice/v2/purchases/{purchase_id}")).await;
    assert_eq!(kept.body["organisation"]["id"], venue_id.as_str(), "{}", kept.body);
    let freed = app
        .post(
            "/backoffice/v2/purchases",
            &sale(&contact_id, "R-8", json!({"venue_tap": {"code": "PK-1"}})),
        )
        .await;
    assert_eq!(freed.status, 404, "{}", freed.body);
    let reused = app
        .post(
            "/backoffice/v2/organisations",
            &json!({"name": "Pier Kiosk West", "type": "VENUE", "parent_id": merchant_id, "taps": [{"code": "PK-1"}]}),
        )
        .await;
    assert_eq!(reused.status, 201, "{}", reused.body);
    let merchant_gone = app
        .call("DELETE", &merchant_path, &[("api_key", SECRET_KEY)], None)
        .await;
    assert_eq!(merchant_gone.status, 409, "it still holds the new venue");

    // All of it survives a restart.
    let (dir, clock) = app.stop().await;
    let app = spawn_app_with(dir, clock, &[]).await;
    let after = app
        .post(
            "/backoffice/v2/purchases",
            &sale(&contact_id, "R-9", json!({"venue_tap": {"code": "PK-1"}})),
        )
        .await;
    assert_eq!(after.status, 201, "{}", after.body);
    assert_eq!(after.body["organisation"]["id"], reused.body["id"]);
    assert_eq!(app.get(&path).await.status, 404);
    let kept = app.get(&format!("/backoffice/v2/purchases/{purchase_id}")).await;
    assert_eq!(kept.body["tap"]["code"], "PK-1");
}
