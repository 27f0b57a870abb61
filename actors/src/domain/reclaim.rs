//! Purchases posted without a contact, kept for a contact to claim (CRM.COM's "claim mode"):
//! the till prints the purchase's transaction code on the receipt; the contact's app sends
//! the receipt number with the code (or the total) to `POST /self-service/v2/purchases/
//! reclaim`, once, and the purchase is posted to that contact's wallet, its offers
//! evaluated as of the purchase's date.

use super::ids::{ContactId, PurchaseId, Tenant};
use super::offer::LineClass;
use super::purchase::{PurchaseRequest, SaleOrganisation};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnclaimedPurchase {
    pub id: PurchaseId,
    pub tenant: Tenant,
    /// The purchase as the till posted it (its contact and wallet are nil until claimed).
    pub request: PurchaseRequest,
    pub at: SaleOrganisation,
    pub classes: Vec<LineClass>,
    pub body_hash: [u8; 32],
    /// What the receipt prints for the contact to claim it with.
    pub transaction_code: String,
    pub posted_on: i64,
    /// The contact that claimed it, and when.
    pub claimed: Option<(ContactId, i64)>,
}

/// Why a claim is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClaimRefusal {
    #[error("the transaction_code (or the total) does not match the purchase")]
    NoMatch,
    #[error("the purchase was claimed by another contact")]
    ClaimedByAnother,
}

impl UnclaimedPurchase {
    /// The purchase's date: the till's, or when it was posted.
    pub fn date(&self) -> i64 {
        self.request.date.unwrap_or(self.posted_on)
    }

    /// Whether `contact` may claim it with `code` (any case, dashes and spaces dropped)
    /// or, failing a code, with the purchase's `total`. Its claimer may claim it again
    /// (a retry).
    pub fn claimable_by(
        &self,
        contact: ContactId,
        code: Option<&str>,
        total: Option<Decimal>,
    ) -> Result<(), ClaimRefusal> {
        let matches = match (code, total) {
            (Some(code), _) => super::scheme::normalise_code(code) == self.transaction_code,
            (None, Some(total)) => total == self.request.amounts.total,
            (None, None) => false,
        };
        if !matches {
            return Err(ClaimRefusal::NoMatch);
        }
        match self.claimed {
            Some((claimer, _)) if claimer != contact => Err(ClaimRefusal::ClaimedByAnother),
            _ => Ok(()),
        }
    }
}
