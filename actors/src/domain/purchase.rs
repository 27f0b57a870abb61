//! Purchases (POS customer events): the request as the engine keeps it, and its record.

use super::ids::{ContactId, PurchaseId, ReferenceNumber, Tenant, WalletId};
use super::money::{Amount, Currency};
use super::wallet::{Balances, PurchaseEffects, SpendRequest};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionAmounts {
    #[serde(with = "crate::storage::codec::option_decimal")]
    pub net: Option<Decimal>,
    #[serde(with = "crate::storage::codec::option_decimal")]
    pub tax: Option<Decimal>,
    #[serde(with = "crate::storage::codec::option_decimal")]
    pub discount: Option<Decimal>,
    #[serde(with = "crate::storage::codec::decimal")]
    pub total: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductLine {
    pub product_sku: String,
    #[serde(with = "crate::storage::codec::decimal")]
    pub quantity: Decimal,
    #[serde(with = "crate::storage::codec::option_decimal")]
    pub net_amount: Option<Decimal>,
    #[serde(with = "crate::storage::codec::option_decimal")]
    pub tax_amount: Option<Decimal>,
    #[serde(with = "crate::storage::codec::option_decimal")]
    pub total_amount: Option<Decimal>,
}

/// A checked purchase submission. Its hash decides whether a retry is "the same body".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseRequest {
    pub reference_number: ReferenceNumber,
    pub contact_id: ContactId,
    pub wallet_id: WalletId,
    pub currency: Currency,
    pub amounts: TransactionAmounts,
    /// As submitted: `None` means "now", and a retry without a date is the same request.
    pub date: Option<i64>,
    pub products: Vec<ProductLine>,
    pub spend: Option<SpendRequest>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PurchaseError {
    #[error("transaction_amounts.net plus transaction_amounts.tax must equal transaction_amounts.total")]
    AmountsDisagree,
    #[error("spend_request.amount must not be greater than the purchase total")]
    SpendAboveTotal,
    #[error("spend_request.amount must be greater than zero")]
    SpendZero,
    #[error("a product needs a product_sku of 1 to 100 characters")]
    BadSku,
    #[error("product quantity must be greater than zero")]
    BadQuantity,
    #[error("at most {0} products per purchase")]
    TooManyProducts(usize),
    #[error("date must not be negative")]
    BadDate,
}

impl PurchaseRequest {
    pub const PRODUCTS_MAX: usize = 500;

    /// Cross-field checks that single fields cannot express.
    pub fn validate(&self, total: Amount) -> Result<(), PurchaseError> {
        if let (Some(net), Some(tax)) = (self.amounts.net, self.amounts.tax) {
            if net + tax != self.amounts.total {
                return Err(PurchaseError::AmountsDisagree);
            }
        }
        if let Some(spend) = self.spend {
            if spend.amount.is_zero() {
                return Err(PurchaseError::SpendZero);
            }
            if spend.amount > total.value() {
                return Err(PurchaseError::SpendAboveTotal);
            }
        }
        if self.products.len() > Self::PRODUCTS_MAX {
            return Err(PurchaseError::TooManyProducts(Self::PRODUCTS_MAX));
        }
        for product in &self.products {
            let sku = product.product_sku.trim();
            if sku.is_empty() || sku.len() > 100 {
                return Err(PurchaseError::BadSku);
            }
            if product.quantity <= Decimal::ZERO {
                return Err(PurchaseError::BadQuantity);
            }
        }
        if self.date.is_some_and(|date| date < 0) {
            return Err(PurchaseError::BadDate);
        }
        Ok(())
    }

    pub fn body_hash(&self) -> [u8; 32] {
        let encoded = postcard::to_stdvec(self).unwrap_or_default();
        Sha256::digest(&encoded).into()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PurchaseState {
    Posted,
    Cancelled,
}

impl PurchaseState {
    pub fn as_str(&self) -> &'static str {
        match self {
            PurchaseState::Posted => "POSTED",
            PurchaseState::Cancelled => "CANCELLED",
        }
    }
}

/// The stored purchase: the request, what it did, and the outcome a retry gets back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseRecord {
    pub id: PurchaseId,
    pub tenant: Tenant,
    pub request: PurchaseRequest,
    pub body_hash: [u8; 32],
    pub state: PurchaseState,
    /// The purchase date (the request's, or the posting time).
    pub date: i64,
    pub posted_on: i64,
    pub cancelled_on: Option<i64>,
    pub effects: PurchaseEffects,
    /// Wallet balances right after posting: the first outcome that retries get back.
    pub balances_after: Balances,
}
