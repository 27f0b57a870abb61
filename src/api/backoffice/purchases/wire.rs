//! The POS purchase's wire types: request bodies as CRM.COM's clients send them, checked
//! into the engine's submission, and the purchase as a response shows it.

use crate::api::backoffice::organisations::{tap_view, TapView};
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{money, Money};
use rewards_engine::domain::ids::{
    ContactCode, ContactId, OrganisationId, PurchaseId, ReferenceNumber, TapId, WalletCode,
};
use rewards_engine::domain::money::{with_minor_units, Currency};
use rewards_engine::domain::offer::LineClass;
use rewards_engine::domain::organisation::OrganisationType;
use rewards_engine::domain::purchase::{ProductLine, PurchaseRecord};
use rewards_engine::engine::{ContactRef, PassPayment, PurchaseSubmission, SaleAt, SubmittedAmounts, TapRef};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct ContactIdentifier {
    pub id: Option<String>,
    pub code: Option<String>,
    /// The 16-digit wallet code scanned at the till.
    pub wallet_code: Option<String>,
    /// A contact token from the contact's app (or its 16-digit alternative): it names the
    /// contact and carries the spend.
    pub otp: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct TransactionAmountsBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount: Option<Money>,
    pub total: Option<Money>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ProductBody {
    pub product_sku: String,
    pub quantity: Option<Money>,
    pub net_amount: Option<Money>,
    pub tax_amount: Option<Money>,
    pub total_amount: Option<Money>,
    /// The product's family, brand and category codes, as the till knows them: offers on
    /// families, brands and categories match on them.
    pub product_family: Option<String>,
    pub product_brand: Option<String>,
    pub product_category: Option<String>,
}

/// A product, a family, a brand or a category as CRM.COM's purchase names it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductRef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A purchased line as CRM.COM shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    pub product_sku: ProductRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_family: Option<ProductRef>,
    /// Our addition: the brand the till named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_brand: Option<ProductRef>,
    /// Our addition: the category the till named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_category: Option<ProductRef>,
    pub quantity: Money,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net_amount: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_amount: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
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
    /// Exactly one of `id`, `code`, `wallet_code` or `otp`. None: the purchase is kept for
    /// a contact to claim with the `transaction_code` the answer gives.
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spend_request: Option<SpendRequestBody>,
    /// Pay with a gift pass: it names the contact (a pass redeemed for no one named, or
    /// one not yet redeemed when no contact is given) and its value is credited to that
    /// wallet first. Without `spend_request`, the wallet pays as much as it holds.
    pub pass: Option<PassPaymentBody>,
    /// Post the purchase a purchase estimate describes (then only `reference_number` and
    /// `estimate_id` are given): it spends the estimate's hold.
    pub estimate_id: Option<String>,
}

/// A gift pass paying a purchase: its `code` (or `code_hash`) and, if it has one, its PIN.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PassPaymentBody {
    pub code: Option<String>,
    /// SHA-1 of the code, hex.
    pub code_hash: Option<String>,
    pub pin: Option<String>,
}

/// The pass a purchase was paid with.
#[derive(Debug, Serialize, ToSchema)]
pub struct PurchasePass {
    pub id: String,
    /// The code's last 4 characters (the code is kept only hashed).
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Rewards {
    /// Total awarded by reward offers.
    pub award: Money,
    /// Total paid from the wallet.
    pub spend: Money,
}

/// A cap that lowered an award.
#[derive(Debug, Serialize, ToSchema)]
pub struct CapView {
    /// PER_PURCHASE, PER_CONTACT or BUDGET.
    pub cap: &'static str,
    /// For PER_CONTACT: DAY, WEEK, MONTH or LIFETIME.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<&'static str>,
    /// The award after this cap.
    pub amount: Money,
}

/// How an award came about (our addition to CRM.COM's reward entries).
#[derive(Debug, Serialize, ToSchema)]
pub struct ExplanationView {
    /// PERCENTAGE, FIXED or PER_QUANTITY.
    pub award_type: &'static str,
    pub value: Money,
    /// TOTAL (the purchase total) or LINES (the products listed in `lines`).
    pub basis: &'static str,
    /// The purchase's product lines the award was computed on (from 0).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<u16>,
    /// The money (PERCENTAGE, FIXED) or quantity (PER_QUANTITY) the value applied to.
    pub basis_amount: Money,
    /// The award before caps.
    pub computed: Money,
    /// Caps that lowered it, in order.
    pub caps: Vec<CapView>,
    /// STACK, BEST_OF or EXCLUSIVE.
    pub combination: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub combination_group: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RewardOfferRef {
    pub id: String,
    pub name: String,
}

/// One award or spend of a purchase, as CRM.COM's purchase reward entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct RewardEntryView {
    /// AWARD or SPEND.
    #[serde(rename = "type")]
    pub entry_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reward_offer: Option<RewardOfferRef>,
    pub amount: Money,
    pub currency_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<ExplanationView>,
}

/// One award, with how it came about when that is known.
pub fn award_entry(
    currency: Currency,
    offer_id: rewards_engine::domain::ids::OfferId,
    amount: rust_decimal::Decimal,
    explanation: Option<&rewards_engine::domain::offer::AwardExplanation>,
) -> RewardEntryView {
    use rewards_engine::domain::offer::{AwardKind, Basis, CapTrim};
    let exact = |value| money(with_minor_units(value, currency));
    RewardEntryView {
        entry_type: "AWARD",
        reward_offer: Some(RewardOfferRef {
            id: offer_id.to_string(),
            name: explanation.map(|e| e.offer_name.to_string()).unwrap_or_default(),
        }),
        amount: exact(amount),
        currency_code: currency.code().to_string(),
        explanation: explanation.map(|e| ExplanationView {
            award_type: match e.kind {
                AwardKind::Percentage => "PERCENTAGE",
                AwardKind::Fixed => "FIXED",
                AwardKind::PerQuantity => "PER_QUANTITY",
            },
            value: money(e.value),
            basis: match e.basis {
                Basis::Total => "TOTAL",
                Basis::Lines(_) | Basis::LineSet(_) => "LINES",
            },
            lines: e.basis.lines(),
            basis_amount: money(e.basis_amount),
            computed: exact(e.computed),
            caps: e
                .trims
                .iter()
                .map(|trim| match *trim {
                    CapTrim::PerPurchase(amount) => CapView {
                        cap: "PER_PURCHASE",
                        period: None,
                        amount: exact(amount),
                    },
                    CapTrim::PerContact(period, amount) => CapView {
                        cap: "PER_CONTACT",
                        period: Some(period.code()),
                        amount: exact(amount),
                    },
                    CapTrim::Budget(amount) => CapView {
                        cap: "BUDGET",
                        period: None,
                        amount: exact(amount),
                    },
                })
                .collect(),
            combination: e.combination.code(),
            combination_group: e.combination.group().map(str::to_string),
        }),
    }
}

/// A spend from the wallet.
pub fn spend_entry(currency: Currency, amount: rust_decimal::Decimal) -> RewardEntryView {
    RewardEntryView {
        entry_type: "SPEND",
        reward_offer: None,
        amount: money(with_minor_units(amount, currency)),
        currency_code: currency.code().to_string(),
        explanation: None,
    }
}

/// The purchase's awards, each explained, then its spend.
pub fn reward_entries(record: &PurchaseRecord) -> Vec<RewardEntryView> {
    let currency = record.request.currency;
    let mut entries: Vec<RewardEntryView> = record
        .effects
        .awards
        .iter()
        .enumerate()
        .map(|(index, award)| {
            // Explanations are in the order of the awards; older purchases have none.
            let explanation = record
                .explanations
                .get(index)
                .filter(|explanation| explanation.offer_id == award.offer_id);
            award_entry(currency, award.offer_id, award.amount, explanation)
        })
        .collect();
    if !record.effects.spends.is_empty() {
        entries.push(spend_entry(currency, record.effects.spent()));
    }
    entries
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_on: Option<i64>,
    pub currency_code: String,
    pub transaction_amounts: TransactionAmountsBody,
    pub products: Vec<ProductView>,
    pub contact: PurchaseContact,
    /// Where the sale was made.
    pub organisation: PurchaseOrganisation,
    /// The till named by the purchase, as it was then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tap: Option<TapView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spend_request: Option<SpendRequestView>,
    pub rewards: Rewards,
    /// Each award (with how it came about) and the spend.
    pub reward_breakdown: Vec<RewardEntryView>,
    /// Its ad hoc returns together, as CRM.COM shows them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ad_hoc_return: Option<super::returns::AdHocReturnView>,
    /// Each ad hoc return.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ad_hoc_returns: Vec<super::returns::ReturnEntryView>,
    /// The gift pass that paid it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pass: Option<PurchasePass>,
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

/// A purchase's amounts as the till gave them (what it left out stays out).
pub fn amounts_as_given(
    amounts: &rewards_engine::domain::purchase::TransactionAmounts,
    currency: Currency,
) -> TransactionAmountsBody {
    let exact = |value| money(with_minor_units(value, currency));
    TransactionAmountsBody {
        net: amounts.net.map(exact),
        tax: amounts.tax.map(exact),
        discount: amounts.discount.map(exact),
        total: Some(exact(amounts.total)),
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
        // CRM.COM always shows net and tax: what the till left out follows from the rest
        // (no tax given: none).
        transaction_amounts: {
            let (net, tax) = match (amounts.net, amounts.tax) {
                (Some(net), Some(tax)) => (net, tax),
                (Some(net), None) => (net, amounts.total.saturating_sub(net)),
                (None, Some(tax)) => (amounts.total.saturating_sub(tax), tax),
                (None, None) => (amounts.total, rust_decimal::Decimal::ZERO),
            };
            TransactionAmountsBody {
                net: Some(exact(net)),
                tax: Some(exact(tax)),
                discount: amounts.discount.map(exact),
                total: Some(exact(amounts.total)),
            }
        },
        products: record
            .request
            .products
            .iter()
            .enumerate()
            .map(|(index, product)| {
                let class = record.classes.get(index);
                let named = |name: Option<&String>| {
                    name.map(|name| ProductRef {
                        sku: None,
                        name: Some(name.clone()),
                    })
                };
                ProductView {
                    product_sku: ProductRef {
                        sku: Some(product.product_sku.clone()),
                        name: None,
                    },
                    product_family: named(class.and_then(|class| class.family.as_ref())),
                    product_brand: named(class.and_then(|class| class.brand.as_ref())),
                    product_category: named(class.and_then(|class| class.category.as_ref())),
                    quantity: money(product.quantity),
                    net_amount: product.net_amount.map(exact),
                    tax_amount: product.tax_amount.map(exact),
                    total_amount: product.total_amount.map(exact),
                }
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
        reward_breakdown: reward_entries(record),
        ad_hoc_return: super::returns::ad_hoc_return(record),
        ad_hoc_returns: super::returns::return_entries(record),
        pass: record.pass.as_ref().map(|pass| PurchasePass {
            id: pass.id.to_string(),
            code: format!("****{}", pass.code_last4),
        }),
        balances: with_balances.then(|| vec![balance(currency, &record.balances_after)]),
    }
}

pub(crate) fn contact_identifier(body: Option<ContactIdentifier>) -> Result<ContactRef, ApiError> {
    let body = body.ok_or_else(|| ApiError::missing("contact"))?;
    match (body.id, body.code, body.wallet_code, body.otp) {
        (Some(id), None, None, None) => ContactId::parse(&id)
            .map(ContactRef::Id)
            .map_err(|_| ApiError::not_found("contact")),
        (None, Some(code), None, None) => ContactCode::parse(&code)
            .map(ContactRef::Code)
            .map_err(|e| ApiError::invalid("contact.code", e.to_string())),
        (None, None, Some(code), None) => WalletCode::parse(&code)
            .map(ContactRef::WalletCode)
            .map_err(|e| ApiError::invalid("contact.wallet_code", e.to_string())),
        (None, None, None, Some(token)) => Ok(ContactRef::Token(token)),
        _ => Err(ApiError::invalid(
            "contact",
            "give exactly one of contact.id, contact.code, contact.wallet_code or contact.otp",
        )),
    }
}

pub(crate) fn tap_ref(parameter: &'static str, tap: TapIdentifier) -> Result<TapRef, ApiError> {
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

pub(crate) fn sale_at(body: Option<SaleOrganisationBody>) -> Result<SaleAt, ApiError> {
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

impl TryFrom<CreatePurchaseBody> for PurchaseSubmission {
    type Error = ApiError;

    fn try_from(body: CreatePurchaseBody) -> Result<Self, ApiError> {
        // No contact: the purchase is kept for a contact to claim.
        let contact = match body.contact {
            None => ContactRef::Unnamed,
            named => contact_identifier(named)?,
        };
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
        let trimmed = |text: Option<String>| text.map(|text| text.trim().to_string());
        let mut classes: Vec<LineClass> = Vec::new();
        let mut products = Vec::with_capacity(body.products.len());
        for product in body.products {
            let class = LineClass {
                family: trimmed(product.product_family),
                brand: trimmed(product.product_brand),
                category: trimmed(product.product_category),
            };
            if !class.is_empty() {
                classes.resize(products.len(), LineClass::default());
                classes.push(class);
            }
            products.push(ProductLine {
                product_sku: product.product_sku.trim().to_string(),
                quantity: product.quantity.map(|q| q.0).unwrap_or(rust_decimal::Decimal::ONE),
                net_amount: product.net_amount.map(|m| m.0),
                tax_amount: product.tax_amount.map(|m| m.0),
                total_amount: product.total_amount.map(|m| m.0),
            });
        }
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
            classes,
            spend: body
                .spend_request
                .map(|spend| (spend.amount.0, spend.restrict_fully_covered)),
            organisation: sale_at(body.organisation)?,
            pass: body
                .pass
                .map(|pass| {
                    Ok::<_, ApiError>(PassPayment {
                        code: crate::api::backoffice::passes::pass_code("pass.", &pass.code, &pass.code_hash)?,
                        pin: pass.pin,
                    })
                })
                .transpose()?,
        })
    }
}

pub(crate) fn purchase_id(text: &str) -> Result<PurchaseId, ApiError> {
    PurchaseId::parse(text).map_err(|_| ApiError::not_found("purchase"))
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

/// A purchase kept for a contact to claim (`POST /purchases` without a contact).
#[derive(Debug, Serialize, ToSchema)]
pub struct UnclaimedView {
    pub id: String,
    pub reference_number: String,
    /// POSTED; CLAIMED once a contact claimed it (the purchase is then the contact's).
    pub state: &'static str,
    pub date: i64,
    pub posted_on: i64,
    pub currency_code: String,
    pub transaction_amounts: TransactionAmountsBody,
    pub organisation: PurchaseOrganisation,
    /// What the receipt prints: the contact claims the purchase with it.
    pub transaction_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<PurchaseContact>,
}

pub fn unclaimed_view(record: &rewards_engine::domain::reclaim::UnclaimedPurchase) -> UnclaimedView {
    let currency = record.request.currency;
    UnclaimedView {
        id: record.id.to_string(),
        reference_number: record.request.reference_number.as_str().to_string(),
        state: if record.claimed.is_some() { "CLAIMED" } else { "POSTED" },
        date: record.date(),
        posted_on: record.posted_on,
        currency_code: currency.code().to_string(),
        transaction_amounts: amounts_as_given(&record.request.amounts, currency),
        organisation: PurchaseOrganisation {
            id: record.at.id.to_string(),
        },
        transaction_code: record.transaction_code.clone(),
        claimed_by: record.claimed.map(|(contact, _)| PurchaseContact {
            id: contact.to_string(),
        }),
    }
}
