//! The Stripe-style `stripe` gateway against a fake of its API on loopback: charges carry the
//! top-up's id as `Idempotency-Key`, a decline credits nothing, and a charge whose answer
//! comes too late is asked about again with the same key and credited exactly once.

use crate::helpers::*;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use rewards_engine::ManualClock;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "sk_test_fake_secret";

#[derive(Default)]
struct Ledger {
    /// Charges made, by idempotency key: (status, body) as first answered.
    charges: HashMap<String, (u16, Value)>,
    /// Every request: (idempotency key, form).
    requests: Vec<(String, HashMap<String, String>)>,
}

/// A loopback stand-in for a Stripe-style API: `POST /v1/payment_intents`.
struct FakeStripe {
    url: String,
    ledger: Arc<Mutex<Ledger>>,
}

async fn payment_intent(
    ledger: web::Data<Arc<Mutex<Ledger>>>,
    request: HttpRequest,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    if header("authorization") != format!("Bearer {SECRET}") {
        return HttpResponse::Unauthorized().json(json!({"error": {"type": "invalid_request_error"}}));
    }
    let key = header("idempotency-key");
    let form = form.into_inner();
    let slow = {
        let mut ledger = ledger.lock().unwrap();
        ledger.requests.push((key.clone(), form.clone()));
        if let Some((status, body)) = ledger.charges.get(&key) {
            // The same key is the same charge: answered as it was first.
            return HttpResponse::build(actix_web::http::StatusCode::from_u16(*status).unwrap()).json(body.clone());
        }
        let token = form.get("payment_method").cloned().unwrap_or_default();
        // `capture_method=manual` only holds the money.
        let paid = match form.get("capture_method").map(String::as_str) {
            Some("manual") => "requires_capture",
            _ => "succeeded",
        };
        let (status, body) = match token.as_str() {
            "pm_card_visa" | "pm_card_slow" => (
                200,
                json!({"id": format!("pi_{}", ledger.charges.len() + 1), "status": paid}),
            ),
            "pm_card_chargeDeclined" => (
                402,
                json!({"error": {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline"}}),
            ),
            _ => (
                400,
                json!({"error": {"type": "invalid_request_error", "code": "resource_missing"}}),
            ),
        };
        ledger.charges.insert(key, (status, body));
        token == "pm_card_slow"
    };
    let ledger = ledger.lock().unwrap().charges.clone();
    let (status, body) = ledger.get(&header("idempotency-key")).cloned().unwrap();
    if slow {
        // Charged, but the answer comes after the engine stopped waiting.
        actix_web::rt::time::sleep(Duration::from_millis(1_500)).await;
    }
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).json(body)
}

/// `POST /v1/payment_intents/{id}/capture` and `…/cancel` on a hold this fake made.
async fn hold_action(
    ledger: web::Data<Arc<Mutex<Ledger>>>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (id, action) = path.into_inner();
    let key = request
        .headers()
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut ledger = ledger.lock().unwrap();
    let form = HashMap::from([
        ("action".to_string(), action.clone()),
        ("intent".to_string(), id.clone()),
    ]);
    ledger.requests.push((key, form));
    let held = ledger
        .charges
        .values()
        .any(|(_, body)| body["id"] == id.as_str() && body["status"] == "requires_capture");
    match (held, action.as_str()) {
        (true, "capture") => HttpResponse::Ok().json(json!({"id": id, "status": "succeeded"})),
        (true, "cancel") => HttpResponse::Ok().json(json!({"id": id, "status": "canceled"})),
        _ => HttpResponse::BadRequest()
            .json(json!({"error": {"type": "invalid_request_error", "code": "resource_missing"}})),
    }
}

impl FakeStripe {
    fn start() -> FakeStripe {
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let data = web::Data::new(ledger.clone());
        let (sender, ports) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .route("/v1/payment_intents", web::post().to(payment_intent))
                        .route("/v1/payment_intents/{id}/{action}", web::post().to(hold_action))
                })
                .workers(2)
                .bind("127.0.0.1:0")
                .unwrap();
                sender.send(server.addrs()[0].port()).unwrap();
                server.run().await.unwrap();
            })
        });
        FakeStripe {
            url: format!("http://127.0.0.1:{}", ports.recv().unwrap()),
            ledger,
        }
    }

    fn requests_for(&self, key: &str) -> Vec<HashMap<String, String>> {
        let ledger = self.ledger.lock().unwrap();
        ledger
            .requests
            .iter()
            .filter(|(seen, _)| seen == key)
            .map(|(_, form)| form.clone())
            .collect()
    }

    fn charges(&self) -> usize {
        self.ledger.lock().unwrap().charges.len()
    }
}

#[tokio::test]
async fn the_stripe_style_gateway_charges_once_per_top_up_and_settles_a_late_answer_once() {
    let stripe = FakeStripe::start();
    let overrides = [
        ("REWARDS__PAYMENTS__GATEWAYS", "stripe,test"),
        ("REWARDS__PAYMENTS__STRIPE_BASE_URL", stripe.url.as_str()),
        ("REWARDS__PAYMENTS__STRIPE_SECRET_KEY", SECRET),
        ("REWARDS__PAYMENTS__CHARGE_TIMEOUT_MS", "500"),
        ("REWARDS__PAYMENTS__RECONCILE_INTERVAL_MS", "50"),
    ];
    let app = spawn_app_with(temp_dir(), ManualClock::new(START_S), &overrides).await;
    let (contact, token) = registered_contact(&app, "ann@example.com", "stripe-password-1").await;
    let wallet = app.get(&format!("/backoffice/v2/contacts/{contact}")).await.body["wallet"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let add = |pm: &str| {
        json!({
            "payment_method_type": "CARD",
            "card": {"brand": "VISA", "first6": "424242", "last4": "4242", "expiration_month": 1, "expiration_year": 2040,
                     "gateway_token": [{"gateway": "STRIPE", "token": pm}]},
            "account_debit": null, "wallet": null,
        })
    };
    let path = format!("/self-service/v2/contacts/{contact}/payment_methods");
    let mut methods = HashMap::new();
    for pm in ["pm_card_visa", "pm_card_chargeDeclined", "pm_card_slow"] {
        let added = with_token(&app, &token, "POST", &path, Some(&add(pm))).await;
        assert_eq!(added.status, 200, "{}", added.body);
        methods.insert(pm, added.body["id"].as_str().unwrap().to_string());
    }
    let top_up = |id: &str, amount: u32, pm: &str| {
        let body = json!({"id": id, "amount": amount, "payment_method": {"id": methods[pm]}});
        let (app, token) = (&app, &token);
        async move { with_token(app, token, "POST", "/self-service/v2/topups", Some(&body)).await }
    };
    let balance = || async { app.wallet(&wallet).await["total_balance"].to_string() };

    let paid_id = "00000000-0000-4000-8000-000000000101";
    let paid = top_up(paid_id, 20, "pm_card_visa").await;
    assert_eq!(paid.status, 201, "{}", paid.body);
    let sent = stripe.requests_for(paid_id);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (
            sent[0]["amount"].as_str(),
            sent[0]["currency"].as_str(),
            sent[0]["payment_method"].as_str()
        ),
        ("2000", "eur", "pm_card_visa")
    );
    assert_eq!(sent[0]["metadata[top_up]"], paid_id);
    // A retry is answered from the record: the gateway is not asked again.
    assert_eq!(top_up(paid_id, 20, "pm_card_visa").await.status, 201);
    assert_eq!(stripe.requests_for(paid_id).len(), 1);
    assert_eq!(balance().await, "20.00");

    let declined = top_up("00000000-0000-4000-8000-000000000102", 5, "pm_card_chargeDeclined").await;
    assert_eq!(declined.status, 400, "{}", declined.body);
    assert!(
        declined.body["message"].as_str().unwrap().contains("generic_decline"),
        "{}",
        declined.body
    );
    assert_eq!(balance().await, "20.00");

    // Charged, but answered after the timeout: pending, then asked again with the same key.
    let slow_id = "00000000-0000-4000-8000-000000000103";
    let slow = top_up(slow_id, 30, "pm_card_slow").await;
    assert_eq!(slow.status, 504, "{}", slow.body);
    assert_eq!(balance().await, "20.00");
    app.clock.advance(5);
    let deadline = Instant::now() + Duration::from_secs(10);
    while balance().await != "50.00" {
        assert!(Instant::now() < deadline, "the late success was never credited");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(balance().await, "50.00", "credited once");
    assert!(stripe.requests_for(slow_id).len() >= 2, "asked again with the same key");
    assert_eq!(stripe.charges(), 3, "one charge per top-up, however often it was asked");
    app.assert_balance_equals_journal(&wallet).await;
}

/// A payment intent held at the Stripe-style gateway (`capture_method=manual`, its id the
/// key) is captured there (`…/capture`, its own key) when a top-up uses it, once.
#[tokio::test]
async fn a_stripe_hold_is_captured_when_a_top_up_uses_it() {
    let stripe = FakeStripe::start();
    let overrides = [
        ("REWARDS__PAYMENTS__GATEWAYS", "stripe"),
        ("REWARDS__PAYMENTS__STRIPE_BASE_URL", stripe.url.as_str()),
        ("REWARDS__PAYMENTS__STRIPE_SECRET_KEY", SECRET),
    ];
    let app = spawn_app_with(temp_dir(), ManualClock::new(START_S), &overrides).await;
    let (contact, token) = registered_contact(&app, "hold@example.com", "stripe-password-1").await;
    let card = json!({
        "payment_method_type": "CARD",
        "card": {"brand": "VISA", "first6": "424242", "last4": "4242", "expiration_month": 1, "expiration_year": 2040,
                 "gateway_token": [{"token": "pm_card_visa"}]},
        "account_debit": null, "wallet": null,
    });
    let methods = format!("/self-service/v2/contacts/{contact}/payment_methods");
    let method = with_token(&app, &token, "POST", &methods, Some(&card)).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let intents = format!("/self-service/v2/contacts/{contact}/intents");
    let body = json!({"amount": 15, "currency_code": "EUR", "payment_method_id": method, "capture": "ON_HOLD"});
    let held = with_token(&app, &token, "POST", &intents, Some(&body)).await;
    assert_eq!(held.status, 200, "{}", held.body);
    assert_eq!(held.body["state"], "REQUIRES_CAPTURING");
    let intent = held.body["id"].as_str().unwrap().to_string();
    let asked = stripe.requests_for(&intent);
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0]["capture_method"], "manual");
    assert_eq!(asked[0]["amount"], "1500");

    let top_up = json!({"id": "00000000-0000-4000-8000-000000000201", "amount": 15,
                        "client_secret": held.body["client_secret"]});
    let paid = with_token(&app, &token, "POST", "/self-service/v2/topups", Some(&top_up)).await;
    assert_eq!(paid.status, 201, "{}", paid.body);
    let captured = stripe.requests_for(&format!("capture-{intent}"));
    assert_eq!(captured.len(), 1, "captured once, with its own key");
    assert_eq!(captured[0]["action"], "capture");
    // A retry of the top-up is answered from the record: nothing is captured again.
    let again = with_token(&app, &token, "POST", "/self-service/v2/topups", Some(&top_up)).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(stripe.requests_for(&format!("capture-{intent}")).len(), 1);
    let wallet = app.get(&format!("/backoffice/v2/contacts/{contact}")).await.body["wallet"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.wallet(&wallet).await["total_balance"].to_string(), "15.00");
    app.stop().await;
}
