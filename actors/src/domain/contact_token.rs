//! Contact tokens: a contact asks its app for a short-lived token that names it at the till
//! and carries its intent (to spend an amount, or as much as possible). The till posts the
//! purchase with the token in place of the contact (`contact.otp`); the purchase's spend is
//! the token's, executed once. Tokens and their 16-digit alternatives are kept hashed.

use super::ids::{ContactId, PurchaseId, Tenant, TokenId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenIntent {
    Spend,
    /// The contact approved a purchase estimate (the token records it; it names no purchase).
    ApprovePurchase,
    /// The contact rejected a purchase estimate.
    RejectPurchase,
}

impl TokenIntent {
    pub fn code(self) -> &'static str {
        match self {
            TokenIntent::Spend => "SPEND",
            TokenIntent::ApprovePurchase => "APPROVE_PURCHASE",
            TokenIntent::RejectPurchase => "REJECT_PURCHASE",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactTokenRecord {
    pub id: TokenId,
    pub tenant: Tenant,
    pub contact: ContactId,
    pub intent: TokenIntent,
    /// What the purchase spends; `None`: as much as the wallet can.
    #[serde(with = "crate::domain::money::exact_option_decimal")]
    pub spend_amount: Option<Decimal>,
    pub created_on: i64,
    pub expires_at: i64,
    /// The purchase that used it.
    pub used_by: Option<PurchaseId>,
    /// The token and its 16-digit alternative, shown to the contact that owns them (found
    /// by their hashes, `token_hash`).
    pub token: String,
    pub alternative: String,
}

/// Why a token cannot name a purchase's contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    #[error("the contact token is not known")]
    Unknown,
    #[error("the contact token has expired")]
    Expired,
    #[error("the contact token was used already")]
    Used,
    #[error("spend_request.amount must equal the contact token's spend amount")]
    AmountMismatch,
    #[error("the contact token approves or rejects an estimate; it does not name a purchase's contact")]
    NotForSpending,
}

impl ContactTokenRecord {
    /// Whether `purchase` may use the token at `now`: unexpired, and unused (or used by this
    /// very purchase, a retry).
    pub fn usable_by(&self, purchase: PurchaseId, now: i64) -> Result<(), TokenRefusal> {
        match self.used_by {
            Some(used) if used == purchase => return Ok(()),
            Some(_) => return Err(TokenRefusal::Used),
            None => {}
        }
        if now >= self.expires_at {
            return Err(TokenRefusal::Expired);
        }
        Ok(())
    }

    pub fn is_live(&self, now: i64) -> bool {
        self.used_by.is_none() && now < self.expires_at
    }
}

/// The hash a token (or its alternative) is found by: the tenant's, so the same code in two
/// tenants never meets.
pub fn token_hash(tenant: &Tenant, code: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(tenant.organisation.as_bytes());
    hasher.update([tenant.mode as u8]);
    hasher.update(code.trim().to_ascii_uppercase().as_bytes());
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{Mode, OrganisationId};

    #[test]
    fn a_token_serves_one_purchase_before_it_expires() {
        let tenant = Tenant {
            organisation: OrganisationId::random(),
            mode: Mode::Live,
        };
        let mut token = ContactTokenRecord {
            id: TokenId::random(),
            tenant,
            contact: ContactId::random(),
            intent: TokenIntent::Spend,
            spend_amount: Some(Decimal::TEN),
            created_on: 0,
            expires_at: 100,
            used_by: None,
            token: "AB12CD34".into(),
            alternative: "1234567812345678".into(),
        };
        let (first, second) = (PurchaseId::random(), PurchaseId::random());
        assert_eq!(token.usable_by(first, 99), Ok(()));
        assert_eq!(token.usable_by(first, 100), Err(TokenRefusal::Expired));
        token.used_by = Some(first);
        assert_eq!(token.usable_by(first, 500), Ok(()), "a retry of the same purchase");
        assert_eq!(token.usable_by(second, 50), Err(TokenRefusal::Used));
        assert!(!token.is_live(50));
        assert_eq!(token_hash(&tenant, " ab12 "), token_hash(&tenant, "AB12"));
        let other = Tenant {
            mode: Mode::Test,
            ..tenant
        };
        assert_ne!(token_hash(&tenant, "AB12"), token_hash(&other, "AB12"));
    }
}
