//! Ad hoc returns: `POST /backoffice/v2/purchases/ad_hoc_return`, and how a purchase shows
//! its returns (`ad_hoc_return` as CRM.COM's purchase has it, `ad_hoc_returns` each).

use super::{purchase_view, PurchaseView};
use crate::api::auth::BackOffice;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{money, Money};
use actix_web::{post, web, HttpResponse};
use rewards_engine::domain::ids::{PurchaseId, ReferenceNumber};
use rewards_engine::domain::money::with_minor_units;
use rewards_engine::domain::purchase::PurchaseRecord;
use rewards_engine::domain::purchase_return::Returned;
use rewards_engine::engine::{PurchaseRef, ReturnSubmission};
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The purchase the goods came from: its id, or its reference number.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnedPurchaseBody {
    pub id: Option<String>,
    pub reference_number: Option<String>,
}

/// One product brought back.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnedProductBody {
    pub product_sku: String,
    /// The value of it brought back.
    pub total_amount: Option<Money>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdHocReturnBody {
    pub purchase: Option<ReturnedPurchaseBody>,
    /// The return's own reference number (a retry with it repeats the return).
    pub reference_number: Option<String>,
    /// When the goods came back (epoch seconds; default now).
    pub date: Option<i64>,
    /// The value of the goods brought back: a return by amount ...
    pub return_amount: Option<Money>,
    /// ... or by line.
    pub products: Option<Vec<ReturnedProductBody>>,
}

/// A purchase's returns together, as CRM.COM's purchase shows them: the latest return's
/// reference number and date, the sums of the rest.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdHocReturnView {
    /// Award value taken back from the contact (debited, or owed as shortfall).
    pub amount: Money,
    pub date: i64,
    pub reference_number: String,
    /// The value of the goods returned.
    pub return_amount: Money,
    /// The spend given back to the wallet.
    pub return_spent_amount: Money,
}

/// One return.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnEntryView {
    pub id: String,
    pub reference_number: String,
    pub date: i64,
    pub posted_on: i64,
    pub return_amount: Money,
    /// Award value taken back, debited from its lots ...
    pub debited_amount: Money,
    /// ... and owed (already spent: the wallet's shortfall).
    pub shortfall_amount: Money,
    pub return_spent_amount: Money,
}

pub fn ad_hoc_return(record: &PurchaseRecord) -> Option<AdHocReturnView> {
    let last = record.returns.last()?;
    let exact = |value| money(with_minor_units(value, record.request.currency));
    let sum = |value: &dyn Fn(&rewards_engine::domain::purchase_return::PurchaseReturn) -> rust_decimal::Decimal| {
        record
            .returns
            .iter()
            .fold(rust_decimal::Decimal::ZERO, |sum, done| sum.saturating_add(value(done)))
    };
    Some(AdHocReturnView {
        amount: exact(sum(&|done| done.effects.taken())),
        date: last.date,
        reference_number: last.reference_number.as_str().to_string(),
        return_amount: exact(sum(&|done| done.amount)),
        return_spent_amount: exact(sum(&|done| done.given_back())),
    })
}

pub fn return_entries(record: &PurchaseRecord) -> Vec<ReturnEntryView> {
    let exact = |value| money(with_minor_units(value, record.request.currency));
    record
        .returns
        .iter()
        .map(|done| {
            let debited = done
                .effects
                .awards
                .iter()
                .fold(rust_decimal::Decimal::ZERO, |sum, award| {
                    sum.saturating_add(award.debited)
                });
            ReturnEntryView {
                id: done.id.to_string(),
                reference_number: done.reference_number.as_str().to_string(),
                date: done.date,
                posted_on: done.posted_on,
                return_amount: exact(done.amount),
                debited_amount: exact(debited),
                shortfall_amount: exact(done.effects.taken().saturating_sub(debited)),
                return_spent_amount: exact(done.given_back()),
            }
        })
        .collect()
}

impl TryFrom<AdHocReturnBody> for ReturnSubmission {
    type Error = ApiError;

    fn try_from(body: AdHocReturnBody) -> Result<Self, ApiError> {
        let purchase = body.purchase.ok_or_else(|| ApiError::missing("purchase"))?;
        let purchase = match (purchase.id, purchase.reference_number) {
            (Some(id), None) => PurchaseRef::Id(super::purchase_id(&id)?),
            (None, Some(reference)) => PurchaseRef::Reference(
                ReferenceNumber::parse(&reference)
                    .map_err(|error| ApiError::invalid("purchase.reference_number", error.to_string()))?,
            ),
            _ => {
                return Err(ApiError::invalid(
                    "purchase",
                    "name the purchase by exactly one of id and reference_number",
                ))
            }
        };
        let reference = body
            .reference_number
            .ok_or_else(|| ApiError::missing("reference_number"))?;
        let reference_number = ReferenceNumber::parse(&reference)
            .map_err(|error| ApiError::invalid("reference_number", error.to_string()))?;
        let returned = match (body.return_amount, body.products) {
            (Some(amount), None) => Returned::Amount(amount.0),
            (None, Some(products)) => Returned::Lines(
                products
                    .into_iter()
                    .map(|product| {
                        let amount = product
                            .total_amount
                            .ok_or_else(|| ApiError::missing("products.total_amount"))?;
                        Ok((product.product_sku, amount.0))
                    })
                    .collect::<Result<_, ApiError>>()?,
            ),
            _ => {
                return Err(ApiError::invalid(
                    "return_amount",
                    "give exactly one of return_amount (a return by amount) and products (by line)",
                ))
            }
        };
        Ok(ReturnSubmission {
            purchase,
            reference_number,
            date: body.date,
            returned,
        })
    }
}

/// The answer to a return: its id, and the purchase with all its returns.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdHocReturnResponse {
    pub id: String,
    pub purchase: PurchaseView,
}

/// Return goods of a posted purchase, by amount or by line: part of its awards is taken
/// back (in proportion, or by line: the `[purchases] return_reversal` setting) from the
/// lots it awarded (what was already spent becomes shortfall), and part of its spend is
/// given back to the wallet. Several returns may follow one purchase, never beyond its
/// total; a retry with the same `reference_number` and body repeats the first answer.
#[utoipa::path(
    tag = "POS",
    request_body = AdHocReturnBody,
    responses(
        (status = 201, body = AdHocReturnResponse),
        (status = 400, body = ErrorBody, description = "Bad input, or more than is left of the purchase or of a line"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "The purchase is cancelled, or the reference_number was used for a different return")
    ),
    security(("Secret_API_key" = []))
)]
#[post("/purchases/ad_hoc_return")]
pub async fn create_return(
    auth: BackOffice,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<AdHocReturnBody>,
) -> Result<HttpResponse, ApiError> {
    let submission = ReturnSubmission::try_from(body.into_inner())?;
    let (record, id): (_, PurchaseId) = engine.return_purchase(auth.tenant, submission).await?;
    Ok(HttpResponse::Created().json(AdHocReturnResponse {
        id: id.to_string(),
        purchase: purchase_view(&record, false),
    }))
}
