//! The POS purchase: `POST /backoffice/v2/purchases`, `GET /backoffice/v2/purchases/{id}`,
//! `POST /backoffice/v2/purchases/{id}/cancel`.

use crate::api::auth::BackOffice;
use crate::api::backoffice::organisations::{tap_view, TapView};
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{money, IgnoredBody, Money};
use crate::startup::HttpLimits;
use actix_web::{get, post, web, HttpResponse};
use rewards_engine::domain::ids::{
    ContactCode, ContactId, OrganisationId, PurchaseId, ReferenceNumber, TapId, WalletCode,
};
use rewards_engine::domain::money::{with_minor_units, Currency};
use rewards_engine::domain::organisation::OrganisationType;
use rewards_engine::domain::purchase::{ProductLine, PurchaseRecord};
use rewards_engine::engine::{ContactRef, PurchaseSubmission, SaleAt, SubmittedAmounts, TapRef};
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct ContactIdentifier {
    pub id: Option<String>,
    pub code: Option<String>,
    /// The 16-digit wallet code scanned at the till.
    pub wallet_code: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct TransactionAmountsBody {
    pub net: Option<Money>,
    pub tax: Option<Money>,
    pub discount: Option<Money>,
    pub total: Option<Money>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct ProductBody {
    pub product_sku: String,
    pub quantity: Option<Money>,
    pub net_amount: Option<Money>,
    pub tax_amount: Option<Money>,
    pub total_amount: Option<Money>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SpendRequestBody {
    pub amount: Money,
    /// When true, the whole purchase is rejected unless the wallet covers the full amount.
    #[serde(default)]
    pub restrict_fully_covered: bool,
}

/// A till: by its `id` or its `code`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TapIdentifier {
    pub id: Option<String>,
    pub code: Option<String>,
}

/// Where the sale was made: at most one of `id`, `merchant_tap` or `venue_tap`. Without it,
/// the organisation of the key (or of the user's token).
#[derive(Debug, Deserialize, ToSchema)]
pub struct SaleOrganisationBody {
    pub id: Option<String>,
    pub merchant_tap: Option<TapIdentifier>,
    pub venue_tap: Option<TapIdentifier>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreatePurchaseBody {
    /// Exactly one of `id`, `code` or `wallet_code`.
    pub contact: Option<ContactIdentifier>,
    /// The business, merchant or venue of the sale, by id or by TAP.
    pub organisation: Option<SaleOrganisationBody>,
    /// The POS receipt number: unique per organisation, and the purchase's idempotency key.
    pub reference_number: Option<String>,
    pub transaction_amounts: Option<TransactionAmountsBody>,
    /// ISO-4217; must be the wallet's currency. Default: the wallet's currency.
    pub currency_code: Option<String>,
    /// Epoch seconds; default: now.
    pub date: Option<i64>,
    #[serde(default)]
    pub products: Vec<ProductBody>,
    pub spend_request: Option<SpendRequestBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Rewards {
    /// Total awarded by reward offers.
    pub award: Money,
    /// Total paid from the wallet.
    pub spend: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Balance {
    /// BUSINESS: this organisation's pockets.
    #[serde(rename = "type")]
    pub balance_type: &'static str,
    pub currency_code: String,
    pub total: Money,
    pub open: Money,
    pub commerce: Money,
    /// Our addition: value reversed after it was spent, settled first from later credits.
    pub shortfall: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PurchaseContact {
    pub id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PurchaseOrganisation {
    pub id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SpendRequestView {
    pub amount: Money,
    pub restrict_fully_covered: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PurchaseView {
    pub id: String,
    pub reference_number: String,
    /// POSTED or CANCELLED.
    pub state: &'static str,
    pub date: i64,
    pub posted_on: i64,
    pub cancelled_on: Option<i64>,
    pub currency_code: String,
    pub transaction_amounts: TransactionAmountsBody,
    pub products: Vec<ProductBody>,
    pub contact: PurchaseContact,
    /// Where the sale was made.
    pub organisation: PurchaseOrganisation,
    /// The till named by the purchase, as it was then.
    pub tap: Option<TapView>,
    pub spend_request: Option<SpendRequestView>,
    pub rewards: Rewards,
    /// On the response to the POST (and its retries): the wallet's balances right after it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balances: Option<Vec<Balance>>,
}

pub fn balance(currency: Currency, balances: &rewards_engine::domain::wallet::Balances) -> Balance {
    let exact = |value| money(with_minor_units(value, currency));
    Balance {
        balance_type: "BUSINESS",
        currency_code: currency.code().to_string(),
        total: exact(balances.total),
        open: exact(balances.open),
        commerce: exact(balances.commerce),
        shortfall: exact(balances.shortfall),
    }
}

pub fn purchase_view(record: &PurchaseRecord, with_balances: bool) -> PurchaseView {
    let currency = record.request.currency;
    let exact = |value| money(with_minor_units(value, currency));
    let amounts = &record.request.amounts;
    PurchaseView {
        id: record.id.to_string(),
        reference_number: record.request.reference_number.as_str().to_string(),
        state: record.state.as_str(),
        date: record.date,
        posted_on: record.posted_on,
        cancelled_on: record.cancelled_on,
        currency_code: currency.code().to_string(),
        transaction_amounts: TransactionAmountsBody {
            net: amounts.net.map(exact),
            tax: amounts.tax.map(exact),
            discount: amounts.discount.map(exact),
            total: Some(exact(amounts.total)),
        },
        products: record
            .request
            .products
            .iter()
            .map(|product| ProductBody {
                product_sku: product.product_sku.clone(),
                quantity: Some(money(product.quantity)),
                net_amount: product.net_amount.map(exact),
                tax_amount: product.tax_amount.map(exact),
                total_amount: product.total_amount.map(exact),
            })
            .collect(),
        contact: PurchaseContact {
            id: record.request.contact_id.to_string(),
        },
        organisation: PurchaseOrganisation {
            id: record.organisation_id().to_string(),
        },
        tap: record
            .organisation
            .as_ref()
            .and_then(|at| at.tap.as_ref())
            .map(tap_view),
        spend_request: record.request.spend.map(|spend| SpendRequestView {
            amount: exact(spend.amount),
            restrict_fully_covered: spend.restrict_fully_covered,
        }),
        rewards: Rewards {
            award: exact(record.effects.awarded()),
            spend: exact(record.effects.spent()),
        },
        balances: with_balances.then(|| vec![balance(currency, &record.balances_after)]),
    }
}

fn contact_identifier(body: Option<ContactIdentifier>) -> Result<ContactRef, ApiError> {
    let body = body.ok_or_else(|| ApiError::missing("contact"))?;
    match (body.id, body.code, body.wallet_code) {
        (Some(id), None, None) => ContactId::parse(&id)
            .map(ContactRef::Id)
            .map_err(|_| ApiError::not_found("contact")),
        (None, Some(code), None) => ContactCode::parse(&code)
            .map(ContactRef::Code)
            .map_err(|e| ApiError::invalid("contact.code", e.to_string())),
        (None, None, Some(code)) => WalletCode::parse(&code)
            .map(ContactRef::WalletCode)
            .map_err(|e| ApiError::invalid("contact.wallet_code", e.to_string())),
        _ => Err(ApiError::invalid(
            "contact",
            "give exactly one of contact.id, contact.code or contact.wallet_code",
        )),
    }
}

fn tap_ref(parameter: &'static str, tap: TapIdentifier) -> Result<TapRef, ApiError> {
    match (tap.id, tap.code) {
        (Some(id), None) => TapId::parse(&id)
            .map(TapRef::Id)
            .map_err(|_| ApiError::not_found("TAP")),
        (None, Some(code)) => Ok(TapRef::Code(code)),
        _ => Err(ApiError::invalid(
            parameter,
            format!("give exactly one of {parameter}.id or {parameter}.code"),
        )),
    }
}

fn sale_at(body: Option<SaleOrganisationBody>) -> Result<SaleAt, ApiError> {
    let Some(body) = body else {
        return Ok(SaleAt::Caller);
    };
    match (body.id, body.merchant_tap, body.venue_tap) {
        (None, None, None) => Ok(SaleAt::Caller),
        (Some(id), None, None) => OrganisationId::parse(&id)
            .map(SaleAt::Organisation)
            .map_err(|_| ApiError::not_found("organisation")),
        (None, Some(tap), None) => Ok(SaleAt::Tap(
            OrganisationType::Merchant,
            tap_ref("organisation.merchant_tap", tap)?,
        )),
        (None, None, Some(tap)) => Ok(SaleAt::Tap(
            OrganisationType::Venue,
            tap_ref("organisation.venue_tap", tap)?,
        )),
        _ => Err(ApiError::invalid(
            "organisation",
            "give at most one of organisation.id, organisation.merchant_tap or organisation.venue_tap",
        )),
    }
}

/// A purchase body checked, with where it was made resolved for this caller.
fn submission(engine: &Engine, auth: &BackOffice, body: CreatePurchaseBody) -> Result<PurchaseSubmission, ApiError> {
    let at = sale_at(body.organisation)?;
    let at = engine.sale_organisation(auth.caller.organisation, auth.tenant.organisation, at)?;
    let mut submission = PurchaseSubmission::try_from(CreatePurchaseBody {
        organisation: None,
        ..body
    })?;
    submission.organisation = Some(at);
    Ok(submission)
}

impl TryFrom<CreatePurchaseBody> for PurchaseSubmission {
    type Error = ApiError;

    fn try_from(body: CreatePurchaseBody) -> Result<Self, ApiError> {
        let contact = contact_identifier(body.contact)?;
        let reference = body
            .reference_number
            .ok_or_else(|| ApiError::missing("reference_number"))?;
        let reference_number =
            ReferenceNumber::parse(&reference).map_err(|e| ApiError::invalid("reference_number", e.to_string()))?;
        let amounts = body
            .transaction_amounts
            .ok_or_else(|| ApiError::missing("transaction_amounts"))?;
        let total = amounts
            .total
            .ok_or_else(|| ApiError::missing("transaction_amounts.total"))?;
        let currency = body
            .currency_code
            .map(|code| Currency::parse(&code).map_err(|e| ApiError::invalid("currency_code", e.to_string())))
            .transpose()?;
        let products = body
            .products
            .into_iter()
            .map(|product| ProductLine {
                product_sku: product.product_sku.trim().to_string(),
                quantity: product.quantity.map(|q| q.0).unwrap_or(rust_decimal::Decimal::ONE),
                net_amount: product.net_amount.map(|m| m.0),
                tax_amount: product.tax_amount.map(|m| m.0),
                total_amount: product.total_amount.map(|m| m.0),
            })
            .collect();
        Ok(PurchaseSubmission {
            reference_number,
            contact,
            currency,
            amounts: SubmittedAmounts {
                net: amounts.net.map(|m| m.0),
                tax: amounts.tax.map(|m| m.0),
                discount: amounts.discount.map(|m| m.0),
                total: total.0,
            },
            date: body.date,
            products,
            spend: body
                .spend_request
                .map(|spend| (spend.amount.0, spend.restrict_fully_covered)),
            organisation: None,
        })
    }
}

fn purchase_id(text: &str) -> Result<PurchaseId, ApiError> {
    PurchaseId::parse(text).map_err(|_| ApiError::not_found("purchase"))
}

/// Submit a POS purchase: awards from every active offer, and an optional spend from the
/// wallet, applied atomically. A retry with the same `reference_number` and body returns
/// the first outcome; with a different body it is refused (409).
#[utoipa::path(
    tag = "POS",
    request_body = CreatePurchaseBody,
    responses(
        (status = 201, body = PurchaseView),
        (status = 400, body = ErrorBody, description = "Bad input, currency mismatch, or insufficient funds with restrict_fully_covered"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)
    ),
    security(("Secret_API_key" = []))
)]
#[post("/purchases")]
pub async fn create_purchase(
    auth: BackOffice,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<CreatePurchaseBody>,
) -> Result<HttpResponse, ApiError> {
    let submission = submission(&engine, &auth, body.into_inner())?;
    let record = engine.post_purchase(auth.tenant, submission).await?;
    Ok(HttpResponse::Created().json(purchase_view(&record, true)))
}

/// A purchase.
#[utoipa::path(
    tag = "POS",
    params(("id" = String, Path)),
    responses((status = 200, body = PurchaseView), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/purchases/{id}")]
pub async fn get_purchase(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let record = engine.purchase(&auth.tenant, purchase_id(&path)?)?;
    Ok(HttpResponse::Ok().json(purchase_view(&record, false)))
}

/// Cancel a purchase: its awards and spend are reversed exactly. An award already spent is
/// reversed as far as it can be; the rest becomes the wallet's shortfall. Idempotent.
#[utoipa::path(
    tag = "POS",
    params(("id" = String, Path)),
    responses((status = 200, body = PurchaseView), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[post("/purchases/{id}/cancel")]
pub async fn cancel_purchase(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    _body: IgnoredBody,
) -> Result<HttpResponse, ApiError> {
    let record = engine.cancel_purchase(auth.tenant, purchase_id(&path)?).await?;
    Ok(HttpResponse::Ok().json(purchase_view(&record, false)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BulkPurchasesBody {
    /// Up to `http.bulk_items_max` purchases, each shaped like `POST /purchases`.
    #[schema(value_type = Vec<CreatePurchaseBody>)]
    pub purchases: Vec<serde_json::Value>,
}

/// One item's outcome: `status` 201 with the purchase, or the error a single POST would get.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkOutcome {
    pub index: usize,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase: Option<PurchaseView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResponse {
    /// One outcome per submitted purchase, in the order submitted.
    pub results: Vec<BulkOutcome>,
}

/// Submit many purchases at once (our addition). Each item is handled exactly as a single
/// `POST /purchases` (idempotent on its `reference_number`); items for the same wallet are
/// applied in the order given. The response is 200 with one outcome per item.
#[utoipa::path(
    post,
    path = "/purchases/bulk",
    tag = "Engine additions",
    request_body = BulkPurchasesBody,
    responses(
        (status = 200, body = BulkResponse),
        (status = 400, body = ErrorBody, description = "No items, too many items, or a body that is not JSON"),
        (status = 413, body = ErrorBody)
    ),
    security(("Secret_API_key" = []))
)]
pub async fn create_purchases_bulk(
    auth: BackOffice,
    engine: web::Data<Engine>,
    limits: web::Data<HttpLimits>,
    body: crate::api::wire::Json<BulkPurchasesBody>,
) -> Result<HttpResponse, ApiError> {
    let items = body.into_inner().purchases;
    if items.is_empty() || items.len() > limits.bulk_items_max {
        return Err(ApiError::invalid(
            "purchases",
            format!(
                "purchases must hold 1 to {} items, not {}",
                limits.bulk_items_max,
                items.len()
            ),
        ));
    }
    let count = items.len();
    let mut results: Vec<Option<BulkOutcome>> = (0..count).map(|_| None).collect();
    let mut accepted = Vec::with_capacity(count);
    let mut accepted_index = Vec::with_capacity(count);
    for (index, item) in items.into_iter().enumerate() {
        let parsed = serde_json::from_value::<CreatePurchaseBody>(item)
            .map_err(|error| ApiError::invalid("purchases", format!("item {index}: {error}")))
            .and_then(|body| submission(&engine, &auth, body));
        match parsed {
            Ok(submission) => {
                accepted.push(submission);
                accepted_index.push(index);
            }
            Err(error) => results[index] = Some(failed(index, error)),
        }
    }
    let outcomes = engine.post_purchases(auth.tenant, accepted).await;
    for (index, outcome) in accepted_index.into_iter().zip(outcomes) {
        results[index] = Some(match outcome {
            Ok(record) => BulkOutcome {
                index,
                status: 201,
                purchase: Some(purchase_view(&record, true)),
                error: None,
            },
            Err(error) => failed(index, ApiError::from(error)),
        });
    }
    let results = results.into_iter().flatten().collect();
    Ok(HttpResponse::Ok().json(BulkResponse { results }))
}

fn failed(index: usize, error: ApiError) -> BulkOutcome {
    BulkOutcome {
        index,
        status: error.status.as_u16(),
        purchase: None,
        error: Some(error.body()),
    }
}
