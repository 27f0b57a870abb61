//! Locations: the back office places merchants and venues; apps list the business's nearest
//! first from a point, within a distance. The order is checked against distances this test
//! works out itself (the spherical law of cosines, not the engine's haversine).

use crate::helpers::*;
use serde_json::{json, Value};

async fn organisation(app: &TestApp, body: Value) -> String {
    let made = app.post("/backoffice/v2/organisations", &body).await;
    assert_eq!(made.status, 201, "{}", made.body);
    made.body["id"].as_str().unwrap().to_string()
}

async fn place(app: &TestApp, id: &str, lat: f64, lon: f64) {
    let body = json!({"address_line_1": "1 Main Street", "town_city": "Nicosia", "postal_code": "1010",
                      "country_code": "CYP", "lat": lat, "lon": lon});
    let placed = app
        .put(&format!("/backoffice/v2/organisations/{id}/address"), &body)
        .await;
    assert_eq!(placed.status, 200, "{}", placed.body);
}

fn names_of(reply: &Reply) -> Vec<String> {
    reply.body["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_string())
        .collect()
}

/// Kilometres between two points, by the spherical law of cosines.
fn km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lat2) = (a.0.to_radians(), b.0.to_radians());
    let dlon = (b.1 - a.1).to_radians();
    let cos = lat1.sin() * lat2.sin() + lat1.cos() * lat2.cos() * dlon.cos();
    6371.0088 * cos.clamp(-1.0, 1.0).acos()
}

#[tokio::test]
async fn merchants_and_venues_are_listed_nearest_first_within_the_distance() {
    let app = spawn_app().await;
    let merchant = organisation(&app, json!({"name": "Coffee Co", "type": "MERCHANT"})).await;
    let spots = [
        ("Old Town", 35.1725, 33.3617),
        ("Harbour", 35.1690, 33.3700),
        ("Campus", 35.1470, 33.4120),
        ("Airport", 34.8751, 33.6249),
    ];
    let mut ids = Vec::new();
    for (name, lat, lon) in spots {
        let venue = organisation(&app, json!({"name": name, "type": "VENUE", "parent_id": merchant})).await;
        place(&app, &venue, lat, lon).await;
        ids.push((venue, name, (lat, lon)));
    }
    place(&app, &merchant, 35.1856, 33.3823).await;
    // A venue without an address is not listed.
    organisation(&app, json!({"name": "Nowhere", "type": "VENUE", "parent_id": merchant})).await;
    let (_, token) = registered_contact(&app, "walker@example.com", "walker-password-1").await;
    let here = (35.1700, 33.3650);
    let near = |query: &str| {
        let path = format!("/self-service/v2/locations?lat={}&lon={}{query}", here.0, here.1);
        let (app, token) = (&app, &token);
        async move { with_token(app, token, "GET", &path, None).await }
    };

    // Within 5 km (the default): nearest first, as this test works the distances out.
    let listed = near("").await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let mut expected: Vec<(String, f64)> = ids
        .iter()
        .map(|(_, name, point)| (name.to_string(), km(here, *point)))
        .chain(std::iter::once(("Coffee Co".to_string(), km(here, (35.1856, 33.3823)))))
        .filter(|(_, distance)| *distance <= 5.0)
        .collect();
    expected.sort_by(|a, b| a.1.total_cmp(&b.1));
    let got: Vec<(String, f64)> = listed.body["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["name"].as_str().unwrap().to_string(),
                item["address"]["distance"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got.iter().map(|(name, _)| name.clone()).collect::<Vec<_>>(),
        expected.iter().map(|(name, _)| name.clone()).collect::<Vec<_>>(),
        "{}",
        listed.body
    );
    for ((_, got), (name, want)) in got.iter().zip(&expected) {
        assert!((got - want).abs() < 0.01, "{name}: {got} km against {want} km");
    }
    assert!(
        !got.iter().any(|(name, _)| name == "Airport"),
        "Airport is some 40 km away"
    );
    // Farther, the airport too; by name; under one organisation.
    let far = near("&within=50").await;
    assert_eq!(far.body["content"].as_array().unwrap().len(), 5, "{}", far.body);
    assert_eq!(far.body["content"][4]["name"], "Airport");
    let named = near("&name=harb").await;
    assert_eq!(named.body["content"][0]["name"], "Harbour");
    assert_eq!(named.body["content"].as_array().unwrap().len(), 1);

    // Pages: two at a time, nearest first.
    let first = near("&within=50&size=2&page=1").await;
    assert_eq!(first.body["content"].as_array().unwrap().len(), 2);
    assert_eq!(first.body["paging"]["has_more"], true);
    let last = near("&within=50&size=2&page=3").await;
    assert_eq!(last.body["content"][0]["name"], "Airport");
    assert_eq!(last.body["paging"]["has_more"], false);
    // A venue that moves is found where it went.
    let harbour = &ids[1].0;
    place(&app, harbour, 34.6786, 33.0413).await;
    let moved = near("&within=50").await;
    assert!(
        !moved.body["content"]
            .as_array()
            .unwrap()
            .iter()
            .any(|item| item["name"] == "Harbour"),
        "{}",
        moved.body
    );
    place(&app, harbour, 35.1690, 33.3700).await;

    // Bad points are refused.
    for query in [
        "?lat=91&lon=0",
        "?lat=abc&lon=0",
        "?lon=33",
        "?lat=35&lon=33&within=-1",
        "?lat=35&lon=33&within=nan",
    ] {
        let refused = with_token(&app, &token, "GET", &format!("/self-service/v2/locations{query}"), None).await;
        assert_eq!(refused.status, 400, "{query}: {}", refused.body);
    }
    let full = json!({"address_line_1": "1 Main Street", "town_city": "Nicosia", "postal_code": "1010",
                      "country_code": "CYP", "lat": 35.0, "lon": 33.0});
    let mut off_globe = full.clone();
    off_globe["lat"] = json!(100);
    let mut no_town = full.clone();
    no_town.as_object_mut().unwrap().remove("town_city");
    let mut two_letters = full.clone();
    two_letters["country_code"] = json!("CY");
    for body in [off_globe, no_town, two_letters] {
        let refused = app
            .put(&format!("/backoffice/v2/organisations/{merchant}/address"), &body)
            .await;
        assert_eq!(refused.status, 400, "{body}: {}", refused.body);
    }

    // The network under the merchant, by name, or nearest first from a point.
    let network = |query: &str| {
        let path = format!("/self-service/v2/organisations/{merchant}/network{query}");
        let (app, token) = (&app, &token);
        async move { with_token(app, token, "GET", &path, None).await }
    };
    let by_name = network("").await;
    assert_eq!(by_name.status, 200, "{}", by_name.body);
    assert_eq!(
        names_of(&by_name),
        ["Airport", "Campus", "Harbour", "Nowhere", "Old Town"]
    );
    assert_eq!(by_name.body["content"][0]["addresses"][0]["postal_code"], "1010");
    assert_eq!(by_name.body["content"][3]["addresses"], json!([]), "no address given");
    let nearest = network(&format!("?lat={}&lon={}&sort=DISTANCE&distance=10", here.0, here.1)).await;
    assert_eq!(nearest.status, 200, "{}", nearest.body);
    assert_eq!(
        names_of(&nearest),
        ["Old Town", "Harbour", "Campus"],
        "{}",
        nearest.body
    );
    assert_eq!(network("?type=MERCHANT").await.body["content"], json!([]));
    assert_eq!(network("?sort=DISTANCE").await.status, 400);
    let one = with_token(
        &app,
        &token,
        "GET",
        &format!("/self-service/v2/organisations/{merchant}"),
        None,
    )
    .await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.body["name"], "Coffee Co");
    assert_eq!(one.body["addresses"][0]["lat"].as_f64(), Some(35.1856));

    // Another business's venues are not listed; its key cannot place this business's.
    another_business(&app, "sk_other_places", "Other Places").await;
    let foreign = app
        .with_key(
            "sk_other_places",
            "PUT",
            &format!("/backoffice/v2/organisations/{merchant}/address"),
            Some(&json!({"lat": 0, "lon": 0})),
        )
        .await;
    assert_eq!(foreign.status, 404, "{}", foreign.body);
    assert_eq!(near("").await.body["content"].as_array().unwrap().len(), expected.len());
}
