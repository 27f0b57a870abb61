//! The product catalogue: the back office files brands, families, categories and types and
//! makes products with their prices; apps search it (modifiers, variants and disabled
//! products not listed), read a product, its components and variants, and the classes.
//! Another business sees none of it; bad input changes nothing.

use crate::helpers::*;
use serde_json::{json, Value};

async fn class(app: &TestApp, kind: &str, body: Value) -> String {
    let made = app.post(&format!("/backoffice/v2/products/{kind}"), &body).await;
    assert_eq!(made.status, 201, "{kind}: {}", made.body);
    made.body["id"].as_str().unwrap().to_string()
}

async fn product(app: &TestApp, body: Value) -> String {
    let made = app.post("/backoffice/v2/products", &body).await;
    assert_eq!(made.status, 201, "{}", made.body);
    made.body["id"].as_str().unwrap().to_string()
}

fn names(reply: &Reply) -> Vec<String> {
    reply.body["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_back_office_builds_a_catalogue_that_apps_search() {
    let app = spawn_app().await;
    let goods = class(
        &app,
        "types",
        json!({"name": "Goods", "classification": "NON_TRACEABLE_PHYSICAL_GOOD", "composition_method": "FLAT"}),
    )
    .await;
    let bundles = class(
        &app,
        "types",
        json!({"name": "Bundles", "classification": "NON_TRACEABLE_PHYSICAL_GOOD", "composition_method": "FIXED_BUNDLE"}),
    )
    .await;
    let drinks = class(&app, "families", json!({"name": "Drinks", "code": "DRINKS"})).await;
    let house = class(&app, "brands", json!({"name": "House", "description": "Our own"})).await;
    let hot = class(&app, "categories", json!({"name": "Hot drinks"})).await;
    let coffee_category = class(&app, "categories", json!({"name": "Coffee", "parent_id": hot})).await;

    let flat =
        |price: u32| json!([{"price_model": "FLAT", "price": price, "currency_code": "EUR", "is_default": true}]);
    let espresso = product(
        &app,
        json!({"sku": "ESP-1", "name": "Espresso", "type_id": goods, "family_id": drinks, "brand_id": house,
               "category_ids": [coffee_category], "pricing": flat(2)}),
    )
    .await;
    let double = product(
        &app,
        json!({"sku": "ESP-2", "name": "Double espresso", "type_id": goods, "variant_of": espresso, "pricing": flat(3)}),
    )
    .await;
    let syrup = product(
        &app,
        json!({"sku": "SYR", "name": "Syrup", "type_id": goods, "is_modifier": true, "pricing": flat(1)}),
    )
    .await;
    let beans = product(
        &app,
        json!({"sku": "BEANS", "name": "Beans by the kilo", "type_id": goods, "category_ids": [hot],
               "pricing": [{"price_model": "TIERED", "tiers": [
                   {"lower_tier": 1, "upper_tier": 10, "price": 5},
                   {"lower_tier": 11, "price": 4}]}],
               "upsells": [espresso], "crosssells": [syrup]}),
    )
    .await;
    let breakfast = product(
        &app,
        json!({"sku": "BRK", "name": "Breakfast deal", "type_id": bundles, "components": [espresso, beans], "pricing": flat(9)}),
    )
    .await;
    let (_, token) = registered_contact(&app, "shopper@example.com", "shopper-password-1").await;
    let search = |query: &str| {
        let path = format!("/self-service/v2/products{query}");
        let (app, token) = (&app, &token);
        async move { with_token(app, token, "GET", &path, None).await }
    };

    // Listed on their own only: no variant, no modifier; by name.
    let all = search("").await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(names(&all), ["Beans by the kilo", "Breakfast deal", "Espresso"]);
    let listed_espresso = &all.body["content"][2];
    assert_eq!(listed_espresso["variants"], 1);
    assert_eq!(all.body["content"][1]["components"], 2);
    assert_eq!(all.body["content"][0]["pricing"][0]["tiers"][1]["lower_tier"], 11);
    assert_eq!(
        names(&search("?search_value=esp").await),
        ["Espresso"],
        "by SKU or name"
    );
    assert_eq!(names(&search("?name=kilo").await), ["Beans by the kilo"]);
    assert_eq!(names(&search(&format!("?family_id={drinks}")).await), ["Espresso"]);
    assert_eq!(names(&search(&format!("?brand_id={house}")).await), ["Espresso"]);
    assert_eq!(
        names(&search(&format!("?category_id={hot}")).await),
        ["Beans by the kilo", "Espresso"],
        "a category and those below it"
    );
    assert_eq!(
        names(&search(&format!("?category_id_exact={hot}")).await),
        ["Beans by the kilo"]
    );
    assert_eq!(names(&search(&format!("?type_id={bundles}")).await), ["Breakfast deal"]);
    assert_eq!(
        names(&search("?product_skus=brk,BEANS").await),
        ["Beans by the kilo", "Breakfast deal"]
    );
    assert_eq!(
        names(&search("?classification=TERMED_SERVICE").await),
        Vec::<String>::new()
    );
    assert_eq!(search("?classification=NOPE").await.status, 400);
    assert_eq!(search("?family_id=nope").await.status, 400);

    // One product, its components and variants.
    let one = with_token(&app, &token, "GET", &format!("/self-service/v2/products/{beans}"), None).await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.body["type"]["name"], "Goods");
    assert_eq!(one.body["categories"][0]["name"], "Hot drinks");
    assert_eq!(one.body["upsells"][0]["sku"], "ESP-1");
    assert_eq!(one.body["crosssells"][0]["name"], "Syrup");
    assert_eq!(one.body["pricing"][0]["price_model"], "TIERED");
    let components = with_token(
        &app,
        &token,
        "GET",
        &format!("/self-service/v2/products/{breakfast}/components"),
        None,
    )
    .await;
    assert_eq!(components.status, 200, "{}", components.body);
    let parts: Vec<&str> = components
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|part| part["name"].as_str().unwrap())
        .collect();
    assert_eq!(parts, ["Espresso", "Beans by the kilo"], "in the bundle's order");
    assert_eq!(components.body[1]["products"][0]["sku"], "BEANS");
    let variants = with_token(
        &app,
        &token,
        "GET",
        &format!("/self-service/v2/products/{espresso}/variants"),
        None,
    )
    .await;
    assert_eq!(variants.body.as_array().unwrap().len(), 1, "{}", variants.body);
    assert_eq!(variants.body[0]["name"], "Double espresso");
    assert_eq!(variants.body[0]["variant_of"], espresso.as_str());
    let none = with_token(
        &app,
        &token,
        "GET",
        &format!("/self-service/v2/products/{syrup}/variants"),
        None,
    )
    .await;
    assert_eq!(none.body, json!([]));
    // The secret key reads it too; a variant is read by its id.
    let by_key = app.get(&format!("/self-service/v2/products/{double}")).await;
    assert_eq!(by_key.status, 200, "{}", by_key.body);

    // The classes.
    let brands = with_token(&app, &token, "GET", "/self-service/v2/products/brands", None).await;
    assert_eq!(names(&brands), ["House"]);
    let top = with_token(&app, &token, "GET", "/self-service/v2/products/categories", None).await;
    assert_eq!(names(&top), ["Hot drinks"]);
    assert_eq!(top.body["content"][0]["child_nodes"], 1);
    let children = with_token(
        &app,
        &token,
        "GET",
        &format!("/self-service/v2/products/categories?parent_id={hot}"),
        None,
    )
    .await;
    assert_eq!(names(&children), ["Coffee"]);
    let every = with_token(
        &app,
        &token,
        "GET",
        "/self-service/v2/products/categories?return_all=true",
        None,
    )
    .await;
    assert_eq!(names(&every), ["Coffee", "Hot drinks"]);
    let types = with_token(
        &app,
        &token,
        "GET",
        "/self-service/v2/products/types?search_value=bund",
        None,
    )
    .await;
    assert_eq!(names(&types), ["Bundles"]);
    assert_eq!(types.body["content"][0]["composition_method"], "FIXED_BUNDLE");

    // Disabled, a product is no longer listed; its prices change whole.
    let changed = app
        .put(
            &format!("/backoffice/v2/products/{breakfast}"),
            &json!({"availability": "DISABLED", "pricing": [{"price": 8, "is_default": true}]}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["pricing"][0]["price"].to_string(), "8.00");
    assert_eq!(names(&search("").await), ["Beans by the kilo", "Espresso"]);
    let back_office = app.get("/backoffice/v2/products").await;
    assert_eq!(
        back_office.body["content"].as_array().unwrap().len(),
        5,
        "the back office sees every one"
    );

    // Another business sees none of it.
    another_business(&app, "sk_other_catalogue", "Other Catalogue").await;
    let theirs = app
        .with_key("sk_other_catalogue", "GET", "/self-service/v2/products", None)
        .await;
    assert_eq!(theirs.body["content"], json!([]));
    let foreign = app
        .with_key(
            "sk_other_catalogue",
            "GET",
            &format!("/self-service/v2/products/{espresso}"),
            None,
        )
        .await;
    assert_eq!(foreign.status, 404, "{}", foreign.body);
}

#[tokio::test]
async fn bad_catalogue_input_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let goods = class(
        &app,
        "types",
        json!({"name": "Goods", "classification": "TRACEABLE_PHYSICAL_GOOD", "composition_method": "FLAT"}),
    )
    .await;
    let brand = class(&app, "brands", json!({"name": "Acme"})).await;
    for (kind, body, status) in [
        (
            "types",
            json!({"name": "No classification", "composition_method": "FLAT"}),
            400,
        ),
        (
            "types",
            json!({"name": "Odd", "classification": "NOPE", "composition_method": "FLAT"}),
            400,
        ),
        (
            "brands",
            json!({"name": "Classified", "classification": "USAGE_SERVICE", "composition_method": "FLAT"}),
            400,
        ),
        ("brands", json!({"name": "ACME"}), 409),
        ("families", json!({"name": "Child", "parent_id": brand}), 400),
        ("categories", json!({"name": "Orphan", "parent_id": brand}), 400),
        ("categories", json!({"name": ""}), 400),
        ("categories", json!({"name": "x", "colour": "red"}), 400),
    ] {
        let refused = app.post(&format!("/backoffice/v2/products/{kind}"), &body).await;
        assert_eq!(refused.status, status, "{kind} {body}: {}", refused.body);
    }
    let base = json!({"sku": "A-1", "name": "Anvil", "type_id": goods, "pricing": [{"price": 10}]});
    product(&app, base.clone()).await;
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body["sku"] = json!("A-2");
        body[field] = value;
        body
    };
    for (case, body, status) in [
        (
            "the same SKU, another case",
            {
                let mut body = base.clone();
                body["sku"] = json!("a-1");
                body
            },
            409,
        ),
        (
            "no type",
            {
                let mut body = with("name", json!("x"));
                body.as_object_mut().unwrap().remove("type_id");
                body
            },
            400,
        ),
        ("a brand as type", with("type_id", json!(brand)), 400),
        (
            "an unknown family",
            with("family_id", json!("6f1c3f53-25c6-4a44-9f0e-2b1c1d0a9e11")),
            400,
        ),
        (
            "components on a flat type",
            with("components", json!([base["sku"]])),
            400,
        ),
        ("an over-precise price", with("pricing", json!([{"price": 1.001}])), 400),
        ("a negative price", with("pricing", json!([{"price": -1}])), 400),
        (
            "tiers on a flat price",
            with(
                "pricing",
                json!([{"price_model": "FLAT", "tiers": [{"lower_tier": 1, "price": 1}]}]),
            ),
            400,
        ),
        (
            "a gap in the tiers",
            with(
                "pricing",
                json!([{"price_model": "VOLUME", "tiers": [
            {"lower_tier": 1, "upper_tier": 5, "price": 1}, {"lower_tier": 7, "price": 1}]}]),
            ),
            400,
        ),
        (
            "two defaults",
            with(
                "pricing",
                json!([
            {"price": 1, "is_default": true},
            {"price": 2, "is_default": true, "price_terms": {"billing_period": {"duration": 1, "uot": "MONTH"}}}]),
            ),
            400,
        ),
        (
            "an unknown model",
            with("pricing", json!([{"price_model": "AUCTION", "price": 1}])),
            400,
        ),
        ("an unknown availability", with("availability", json!("SOMETIMES")), 400),
        (
            "itself upsold",
            with("upsells", json!(["6f1c3f53-25c6-4a44-9f0e-2b1c1d0a9e11"])),
            400,
        ),
        ("a control character", with("name", json!("An\u{7}vil")), 400),
    ] {
        let refused = app.post("/backoffice/v2/products", &body).await;
        assert_eq!(refused.status, status, "{case}: {}", refused.body);
    }
    let listed = app.get("/backoffice/v2/products").await;
    assert_eq!(names(&listed), ["Anvil"], "nothing else was made");
    assert_eq!(app.get("/backoffice/v2/products/nope").await.status, 404);
    let unknown = app
        .put(
            "/backoffice/v2/products/6f1c3f53-25c6-4a44-9f0e-2b1c1d0a9e11",
            &json!({"name": "x"}),
        )
        .await;
    assert_eq!(unknown.status, 404);
}
