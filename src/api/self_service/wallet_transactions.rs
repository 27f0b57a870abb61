//! Where the contact's money came from and went, in apps:
//! `GET /self-service/v2/wallets/{id}/transactions` (each journal line with its origin: the
//! reward event, the financial event and transfer, the expiry, the hold) and
//! `GET /self-service/v2/wallets/{id}/summarised_totals` (totals per kind over a time).

use super::wallet_journals::{own_wallet_id, posted_range};
use super::ContactToken;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{money, Money, Paged, PagedResponse};
use actix_web::{get, web, HttpResponse};
use rewards_engine::domain::ids::ContactId;
use rewards_engine::domain::money::{with_minor_units, Currency};
use rewards_engine::domain::purchase::PurchaseState;
use rewards_engine::domain::wallet::{EntryKind, Pocket};
use rewards_engine::engine::{JournalFilter, JournalLine, Origin, SpendMethod};
use rewards_engine::Engine;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
pub struct TransactionsQuery {
    /// Transactions a member of the contact's community made (none yet: communities come
    /// later, so no member has made any).
    pub community_member_id: Option<String>,
    /// Wallet fee lines only (the engine charges none).
    pub is_wallet_fee: Option<bool>,
    /// BUSINESS (open money), BUSINESS_COMMERCE (reward money) or CRMCOM (none here).
    pub pocket: Option<String>,
    pub posted_on: Option<i64>,
    #[serde(rename = "posted_on[gt]")]
    #[param(rename = "posted_on[gt]")]
    pub posted_on_gt: Option<i64>,
    #[serde(rename = "posted_on[gte]")]
    #[param(rename = "posted_on[gte]")]
    pub posted_on_gte: Option<i64>,
    #[serde(rename = "posted_on[lt]")]
    #[param(rename = "posted_on[lt]")]
    pub posted_on_lt: Option<i64>,
    #[serde(rename = "posted_on[lte]")]
    #[param(rename = "posted_on[lte]")]
    pub posted_on_lte: Option<i64>,
    /// CREDIT or DEBIT.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub journal_type: Option<String>,
}

impl TransactionsQuery {
    fn filter(&self) -> Result<JournalFilter, ApiError> {
        let credit = match self.journal_type.as_deref() {
            None => None,
            Some("CREDIT") => Some(true),
            Some("DEBIT") => Some(false),
            Some(_) => return Err(ApiError::invalid("type", "must be CREDIT or DEBIT")),
        };
        let (pocket, crm_pocket) = match self.pocket.as_deref() {
            None => (None, false),
            Some("BUSINESS") => (Some(Pocket::Open), false),
            Some("BUSINESS_COMMERCE") => (Some(Pocket::Commerce), false),
            Some("CRMCOM") => (None, true),
            Some(_) => {
                return Err(ApiError::invalid(
                    "pocket",
                    "must be CRMCOM, BUSINESS or BUSINESS_COMMERCE",
                ))
            }
        };
        let member = match self.community_member_id.as_deref() {
            None => false,
            Some(id) => {
                ContactId::parse(id).map_err(|_| ApiError::invalid("community_member_id", "must be a contact id"))?;
                true
            }
        };
        let (posted_from, posted_to) = posted_range(
            self.posted_on,
            self.posted_on_gt,
            self.posted_on_gte,
            self.posted_on_lt,
            self.posted_on_lte,
        );
        Ok(JournalFilter {
            credit,
            posted_from,
            posted_to,
            pocket,
            // No CRM.COM pocket, no fees and no community spends exist: nothing matches.
            fees_only: self.is_wallet_fee == Some(true) || crm_pocket || member,
            with_lots: true,
            ..JournalFilter::default()
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NamedRef {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RewardEventView {
    /// AWARD or SPEND.
    #[serde(rename = "type")]
    pub event_type: &'static str,
    pub amount: Money,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spend_method: Option<&'static str>,
    /// POSTED, CANCELLED, or EXPIRED (awards whose lot expired).
    pub state: &'static str,
    pub date: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry_date: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reward_offer: Option<NamedRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performed_by: Option<NamedRef>,
    pub reference_number: String,
    pub purchase_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FinancialEventView {
    pub id: String,
    /// TRANSFER or TOP_UP.
    #[serde(rename = "type")]
    pub event_type: &'static str,
    /// The transfer's or top-up's code.
    pub reference_number: String,
    pub life_cycle_state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub amount: Money,
    pub date: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransferContactView {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransferWalletView {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransferView {
    /// The other side: the receiver of a debit, the sender of a credit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<TransferContactView>,
    pub wallet: TransferWalletView,
    /// The receiver's named commerce pool it went into.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commerce_pool: Option<PoolRefView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PoolRefView {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WalletExpirationView {
    pub date: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commerce_pool: Option<PoolRefView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BlockedByView {
    /// The purchase estimate holding the funds.
    pub id: String,
    pub entity: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionView {
    pub id: String,
    pub amount: Money,
    pub currency: String,
    /// CREDIT or DEBIT.
    #[serde(rename = "type")]
    pub journal_type: &'static str,
    pub posted_on: i64,
    /// BUSINESS (open money) or BUSINESS_COMMERCE (reward money).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pocket: Option<&'static str>,
    /// Our addition: the line's transaction type, as in the journal.
    pub transaction_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reward_event: Option<RewardEventView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub financial_event: Option<FinancialEventView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer: Option<TransferView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wallet_expiration: Option<WalletExpirationView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<BlockedByView>,
}

fn contact_name(contact: &rewards_engine::domain::contact::Contact) -> Option<String> {
    let name = [contact.first_name.as_deref(), contact.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    (!name.is_empty()).then_some(name)
}

fn transaction_view(line: JournalLine, origin: Origin, currency: Currency) -> TransactionView {
    let exact = |value: Decimal| money(with_minor_units(value, currency));
    let mut view = TransactionView {
        id: line.id.to_string(),
        amount: exact(line.entry.amount),
        currency: currency.code().to_string(),
        journal_type: if line.entry.kind.is_credit() { "CREDIT" } else { "DEBIT" },
        posted_on: line.posted_on,
        pocket: line.lot.map(|lot| match lot.pocket {
            Pocket::Open => "BUSINESS",
            Pocket::Commerce => "BUSINESS_COMMERCE",
        }),
        transaction_type: line.entry.kind.transaction_type(),
        reward_event: None,
        financial_event: None,
        transfer: None,
        wallet_expiration: None,
        blocked_by: None,
    };
    match origin {
        Origin::Reward {
            purchase,
            offer,
            performed_by,
            spend_method,
        } => {
            let award = matches!(
                line.entry.kind,
                EntryKind::Award | EntryKind::AwardReversal | EntryKind::AwardReturn
            );
            let expired = award && line.lot.is_some_and(|lot| lot.expired > Decimal::ZERO);
            view.reward_event = Some(RewardEventView {
                event_type: if award { "AWARD" } else { "SPEND" },
                amount: exact(line.entry.amount),
                spend_method: spend_method.map(|method| match method {
                    SpendMethod::OnRequest => "ON_REQUEST",
                    SpendMethod::Instant => "INSTANT",
                    SpendMethod::AutoSpend => "AUTO_SPEND",
                }),
                state: match purchase.state {
                    PurchaseState::Cancelled => "CANCELLED",
                    PurchaseState::Posted if expired => "EXPIRED",
                    PurchaseState::Posted => "POSTED",
                },
                date: purchase.date,
                expiry_date: line.entry.new_lot.and_then(|lot| lot.expires_at),
                reward_offer: offer.map(|offer| NamedRef {
                    id: offer.id.to_string(),
                    name: Some(offer.name.clone()),
                }),
                performed_by: performed_by.map(|place| NamedRef {
                    id: place.id.to_string(),
                    name: Some(place.name.clone()),
                }),
                reference_number: purchase.request.reference_number.as_str().to_string(),
                purchase_id: purchase.id.to_string(),
            });
        }
        Origin::Transfer {
            record,
            other_wallet,
            other_contact,
            pool,
        } => {
            view.financial_event = Some(FinancialEventView {
                id: record.id.to_string(),
                event_type: "TRANSFER",
                reference_number: record.code.clone(),
                life_cycle_state: "POSTED",
                notes: record.notes.clone(),
                amount: exact(record.amount),
                date: record.transfer_date.unwrap_or(record.created_on),
            });
            view.transfer = Some(TransferView {
                contact: other_contact.map(|contact| TransferContactView {
                    id: contact.id.to_string(),
                    name: contact_name(&contact),
                    code: contact.code.as_ref().map(|code| code.as_str().to_string()),
                }),
                wallet: TransferWalletView {
                    id: other_wallet.0.to_string(),
                    code: other_wallet.1.map(|code| code.as_str().to_string()),
                },
                commerce_pool: pool.map(|pool| PoolRefView {
                    id: pool.id.to_string(),
                    name: pool.name.clone(),
                    description: pool.description.clone(),
                }),
            });
        }
        Origin::Expiry { pool } => {
            view.wallet_expiration = Some(WalletExpirationView {
                date: line.posted_on,
                commerce_pool: pool.map(|pool| PoolRefView {
                    id: pool.id.to_string(),
                    name: pool.name.clone(),
                    description: pool.description.clone(),
                }),
            });
        }
        Origin::Hold { estimate } => {
            view.blocked_by = Some(BlockedByView {
                id: estimate.to_string(),
                entity: "PURCHASE",
            });
        }
        Origin::TopUp { record } => {
            view.financial_event = Some(FinancialEventView {
                id: record.id.to_string(),
                event_type: "TOP_UP",
                reference_number: record.code.clone(),
                life_cycle_state: "POSTED",
                notes: record.notes.clone(),
                amount: exact(record.amount),
                date: record.settled_on.unwrap_or(record.created_on),
            });
        }
        Origin::Pass { pass } => {
            view.financial_event = Some(FinancialEventView {
                id: pass.id.to_string(),
                event_type: "PASS_REDEMPTION",
                reference_number: format!("****{}", pass.code_last4),
                life_cycle_state: "POSTED",
                notes: None,
                amount: exact(pass.value),
                date: pass
                    .redemption
                    .as_ref()
                    .map_or(pass.updated_on, |redemption| redemption.at),
            });
        }
        Origin::Payout { record } => {
            view.financial_event = Some(FinancialEventView {
                id: record.id.to_string(),
                event_type: "PAYOUT",
                reference_number: record.id.to_string(),
                life_cycle_state: match record.state {
                    rewards_engine::domain::payment::TopUpState::Failed { .. } => "REJECTED",
                    rewards_engine::domain::payment::TopUpState::Pending => "PENDING",
                    rewards_engine::domain::payment::TopUpState::Succeeded { .. } => "POSTED",
                },
                notes: record.notes.clone(),
                amount: exact(record.amount),
                date: record.created_on,
            });
        }
        Origin::Bill { bill } => {
            view.financial_event = Some(FinancialEventView {
                id: bill.id.to_string(),
                event_type: if bill.totals.total < rust_decimal::Decimal::ZERO {
                    "CREDIT_NOTE"
                } else {
                    "INVOICE"
                },
                reference_number: format!("{}-{}", bill.subscription, bill.seq),
                life_cycle_state: bill.state.code(),
                notes: None,
                amount: exact(bill.totals.total.abs()),
                date: bill.paid_on.unwrap_or(bill.created_on),
            });
        }
        Origin::Other => {}
    }
    view
}

/// The signed-in contact's wallet transactions: each credit and debit with where it came
/// from, newest first by default.
#[utoipa::path(
    tag = "Self-service wallets",
    params(("id" = String, Path), TransactionsQuery, crate::api::wire::PageQuery),
    responses(
        (status = 200, body = PagedResponse<TransactionView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/wallets/{id}/transactions")]
pub async fn list_transactions(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    query: web::Query<TransactionsQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let filter = query.filter()?;
    let id = own_wallet_id(&token, &engine, &path)?;
    let page = engine
        .wallet_transactions(token.tenant, id, paged.engine_page(), &filter)
        .await?;
    let currency = page.wallet.header.currency;
    let content = page
        .lines
        .into_iter()
        .map(|(line, origin)| transaction_view(line, origin, currency))
        .collect();
    Ok(HttpResponse::Ok().json(PagedResponse {
        paging: paged.paging(page.total, page.more),
        content,
    }))
}

/// The contract names only `posted_on` (its enum lists these four operators), so they are
/// read but left out of the served document's parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct TotalsQuery {
    #[serde(rename = "posted_on[gt]")]
    #[param(ignore)]
    pub posted_on_gt: Option<i64>,
    #[serde(rename = "posted_on[gte]")]
    #[param(ignore)]
    pub posted_on_gte: Option<i64>,
    #[serde(rename = "posted_on[lt]")]
    #[param(ignore)]
    pub posted_on_lt: Option<i64>,
    #[serde(rename = "posted_on[lte]")]
    #[param(ignore)]
    pub posted_on_lte: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WalletTotalView {
    /// TOP_UP, SPENT, SENT, RECEIVED, AWARDED, REDEEMED, DONATIONS or PAYOUTS.
    #[serde(rename = "type")]
    pub total_type: &'static str,
    pub total: Money,
    pub currency_code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WalletTotalsView {
    pub wallet_totals: Vec<WalletTotalView>,
}

/// The signed-in contact's wallet totals per kind of transaction, over the posting time
/// asked for (all time by default). Awards count as awarded; spends given back by cancels
/// are not spent; transfers given back are not sent.
#[utoipa::path(
    tag = "Self-service wallets",
    params(("id" = String, Path), TotalsQuery),
    responses(
        (status = 200, body = WalletTotalsView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/wallets/{id}/summarised_totals")]
pub async fn summarised_totals(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    query: web::Query<TotalsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (from, to) = posted_range(
        None,
        query.posted_on_gt,
        query.posted_on_gte,
        query.posted_on_lt,
        query.posted_on_lte,
    );
    let id = own_wallet_id(&token, &engine, &path)?;
    let (view, totals) = engine.wallet_totals(token.tenant, id, from, to).await?;
    let currency = view.header.currency;
    let wallet_totals = [
        ("TOP_UP", totals.top_ups),
        ("SPENT", totals.spent),
        ("SENT", totals.sent),
        ("RECEIVED", totals.received),
        ("AWARDED", totals.awarded),
        // The engine has no redeem-to-open or donations yet: none were made.
        ("REDEEMED", Decimal::ZERO),
        ("DONATIONS", Decimal::ZERO),
        ("PAYOUTS", totals.payouts),
    ]
    .into_iter()
    .map(|(total_type, total)| WalletTotalView {
        total_type,
        total: money(with_minor_units(total, currency)),
        currency_code: currency.code().to_string(),
    })
    .collect();
    Ok(HttpResponse::Ok().json(WalletTotalsView { wallet_totals }))
}
