//! Ad hoc returns (`POST /backoffice/v2/purchases/ad_hoc_return`): goods of a posted
//! purchase brought back, by amount or by line. The purchase's wallet actor plans and
//! applies the return (`actors::wallet::returns`); here the request is checked.

use super::{invalid, Engine, EngineError};
use crate::actors::wallet::{NewReturn, WalletCommand};
use crate::domain::ids::{PurchaseId, ReferenceNumber, Tenant};
use crate::domain::money::{Amount, MoneyError};
use crate::domain::purchase::PurchaseRecord;
use crate::domain::purchase_return::{ReturnError, Returned, RETURN_LINES_MAX};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// How a return names its purchase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PurchaseRef {
    Id(PurchaseId),
    /// The purchase's own reference number (the receipt the customer brings back).
    Reference(ReferenceNumber),
}

/// A return as submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnSubmission {
    pub purchase: PurchaseRef,
    /// The return's own reference number: a retry with the same one repeats it.
    pub reference_number: ReferenceNumber,
    pub date: Option<i64>,
    pub returned: Returned,
}

/// The contract's words for a refused return.
pub(super) fn refusal(refused: ReturnError) -> EngineError {
    match refused {
        ReturnError::Cancelled => EngineError::Conflict(refused.to_string()),
        ReturnError::Zero | ReturnError::AboveTotal { .. } => invalid("return_amount", refused),
        ReturnError::UnknownSku(_)
        | ReturnError::LineWithoutAmount(_)
        | ReturnError::AboveLine { .. }
        | ReturnError::TooManyLines(_) => invalid("products", refused),
    }
}

impl Engine {
    /// Applies an ad hoc return to a posted purchase of `tenant`; answers the purchase with
    /// its returns and the return's id. Idempotent on the return's reference number.
    pub async fn return_purchase(
        &self,
        tenant: Tenant,
        submission: ReturnSubmission,
    ) -> Result<(Arc<PurchaseRecord>, PurchaseId), EngineError> {
        self.check_open()?;
        let id = match &submission.purchase {
            PurchaseRef::Id(id) => *id,
            PurchaseRef::Reference(reference) => PurchaseId::for_reference(&tenant, reference),
        };
        let record = self.purchase(&tenant, id)?;
        let currency = record.request.currency;
        let amount_max = self.inner.settings.money.amount_max;
        let money = |parameter: &'static str, value: Decimal| {
            Amount::parse_at_most(value, currency, amount_max)
                .map(|amount| amount.value())
                .map_err(|error: MoneyError| invalid(parameter, error))
        };
        let returned = match &submission.returned {
            Returned::Amount(amount) => Returned::Amount(money("return_amount", *amount)?),
            Returned::Lines(lines) => {
                if lines.is_empty() {
                    return Err(invalid("products", "name at least one product, or give return_amount"));
                }
                if lines.len() > RETURN_LINES_MAX {
                    return Err(invalid("products", ReturnError::TooManyLines(RETURN_LINES_MAX)));
                }
                let checked: Result<Vec<(String, Decimal)>, EngineError> = lines
                    .iter()
                    .map(|(sku, value)| Ok((sku.trim().to_string(), money("products.total_amount", *value)?)))
                    .collect();
                Returned::Lines(checked?)
            }
        };
        if let Some(date) = submission.date {
            self.check_date("date", date)?;
        }
        let mut hasher = Sha256::new();
        hasher.update(postcard::to_stdvec(&(&returned, submission.date)).unwrap_or_default());
        let request = NewReturn {
            purchase_id: id,
            reference_number: submission.reference_number,
            date: submission.date,
            returned,
            body_hash: hasher.finalize().into(),
            rule: self.inner.settings.purchases.return_reversal,
        };
        self.ask_wallet((tenant, record.request.wallet_id), |reply| {
            WalletCommand::ReturnPurchase {
                request: Box::new(request.clone()),
                reply,
            }
        })
        .await
    }
}
