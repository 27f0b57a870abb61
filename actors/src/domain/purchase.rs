//! Purchases (POS customer events): the request as the engine keeps it, and its record.

use super::ids::{ContactId, OrganisationId, PurchaseId, ReferenceNumber, Tenant, WalletId};
use super::money::{Amount, Currency};
use super::offer::{AwardExplanation, LineClass};
use super::organisation::Tap;
use super::wallet::{Balances, PurchaseEffects, SpendRequest};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionAmounts {
    #[serde(with = "crate::domain::money::exact_option_decimal")]
    pub net: Option<Decimal>,
    #[serde(with = "crate::domain::money::exact_option_decimal")]
    pub tax: Option<Decimal>,
    #[serde(with = "crate::domain::money::exact_option_decimal")]
    pub discount: Option<Decimal>,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub total: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductLine {
    pub product_sku: String,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub quantity: Decimal,
    #[serde(with = "crate::domain::money::exact_option_decimal")]
    pub net_amount: Option<Decimal>,
    #[serde(with = "crate::domain::money::exact_option_decimal")]
    pub tax_amount: Option<Decimal>,
    #[serde(with = "crate::domain::money::exact_option_decimal")]
    pub total_amount: Option<Decimal>,
}

impl ProductLine {
    /// The line's money: its total, else net plus tax, else net; a line without amounts
    /// adds nothing (`None` only when net plus tax overflows).
    pub fn amount(&self) -> Option<Decimal> {
        match (self.total_amount, self.net_amount, self.tax_amount) {
            (Some(total), _, _) => Some(total),
            (None, Some(net), Some(tax)) => net.checked_add(tax),
            (None, Some(net), None) => Some(net),
            _ => Some(Decimal::ZERO),
        }
    }
}

/// Where a purchase was made: the organisation (the business, a merchant or a venue) and
/// the till, as they were at the time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleOrganisation {
    pub id: OrganisationId,
    pub tap: Option<Tap>,
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
    #[error("transaction_amounts.net plus transaction_amounts.tax must equal transaction_amounts.total (and neither be above it)")]
    AmountsDisagree,
    #[error("spend_request.amount must not be greater than the purchase total")]
    SpendAboveTotal,
    #[error("spend_request.amount must be greater than zero")]
    SpendZero,
    #[error("a product needs a product_sku of 1 to 100 characters")]
    BadSku,
    #[error("product quantity must be greater than zero and at most 1000000000")]
    BadQuantity,
    #[error("at most {0} products per purchase")]
    TooManyProducts(usize),
    #[error("date must not be negative")]
    BadDate,
}

impl PurchaseRequest {
    pub const PRODUCTS_MAX: usize = 500;
    /// The largest quantity of one product line.
    pub const QUANTITY_MAX: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

    /// Cross-field checks that single fields cannot express.
    pub fn validate(&self, total: Amount) -> Result<(), PurchaseError> {
        if let (Some(net), Some(tax)) = (self.amounts.net, self.amounts.tax) {
            if net.checked_add(tax) != Some(self.amounts.total) {
                return Err(PurchaseError::AmountsDisagree);
            }
        }
        // One without the other is part of the total (the rest is the other).
        if [self.amounts.net, self.amounts.tax]
            .into_iter()
            .flatten()
            .any(|part| part > self.amounts.total)
        {
            return Err(PurchaseError::AmountsDisagree);
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
            if product.quantity <= Decimal::ZERO || product.quantity > Self::QUANTITY_MAX {
                return Err(PurchaseError::BadQuantity);
            }
        }
        if self.date.is_some_and(|date| date < 0) {
            return Err(PurchaseError::BadDate);
        }
        Ok(())
    }

    /// The hash that tells a retry from another purchase with the same reference: the
    /// request and where it was made. A sale at the business itself without a TAP hashes as
    /// purchases did before they recorded where they were made, so their retries still match.
    /// Line classes count when the till sent any, the same way.
    pub fn body_hash(&self, tenant: &Tenant, at: &SaleOrganisation, classes: &[LineClass]) -> [u8; 32] {
        let mut encoded = postcard::to_stdvec(self).unwrap_or_default();
        if at.id != tenant.organisation || at.tap.is_some() {
            encoded.extend(postcard::to_stdvec(at).unwrap_or_default());
        }
        if classes.iter().any(|class| !class.is_empty()) {
            encoded.push(b'c');
            encoded.extend(postcard::to_stdvec(classes).unwrap_or_default());
        }
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
    /// Where it was made; `None` on purchases recorded before this was kept (the business).
    pub organisation: Option<SaleOrganisation>,
    /// The till's family, brand and category of each product line (line by line; shorter
    /// when it classified fewer).
    pub classes: Vec<LineClass>,
    /// How each award came about, in the order of `effects.awards`.
    pub explanations: Vec<AwardExplanation>,
    /// Its ad hoc returns, oldest first.
    pub returns: Vec<super::purchase_return::PurchaseReturn>,
    /// The gift pass that paid it (appended).
    pub pass: Option<PassLink>,
}

/// The pass a purchase was paid with, as its record names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassLink {
    pub id: super::ids::PassId,
    /// The code's last 4 characters (the code itself is kept only hashed).
    pub code_last4: String,
    /// The offer a promotion pass unlocks for this purchase (not stored: the purchase's
    /// awards show what it earned).
    #[serde(skip)]
    pub unlocks: Option<super::ids::OfferId>,
}

impl PurchaseRecord {
    /// The date its offers were evaluated at: the purchase date, never after posting.
    pub fn award_time(&self) -> i64 {
        self.request
            .date
            .map_or(self.posted_on, |date| date.min(self.posted_on))
    }

    /// Where the purchase was made (the business for records of before this was kept).
    pub fn organisation_id(&self) -> OrganisationId {
        self.organisation.as_ref().map_or(self.tenant.organisation, |at| at.id)
    }

    /// Each award's offer and what of it the purchase's returns left (what a cancel takes
    /// back from caps and budgets), in `effects.awards` order.
    pub fn awards_left(&self) -> Vec<(crate::domain::ids::OfferId, Decimal)> {
        self.effects
            .awards
            .iter()
            .enumerate()
            .map(|(index, award)| {
                let returned = self
                    .returns
                    .iter()
                    .filter_map(|done| done.reversed.get(index))
                    .fold(Decimal::ZERO, |sum, part| sum.saturating_add(*part));
                (
                    award.offer_id,
                    (award.amount - returned.min(award.amount)).max(Decimal::ZERO),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{Mode, TapId};

    struct Old {
        tenant: Tenant,
        request: PurchaseRequest,
    }

    fn legacy() -> Old {
        Old {
            tenant: Tenant {
                organisation: OrganisationId::random(),
                mode: Mode::Live,
            },
            request: PurchaseRequest {
                reference_number: ReferenceNumber::parse("R-1").unwrap(),
                contact_id: ContactId::random(),
                wallet_id: WalletId::random(),
                currency: Currency::parse("EUR").unwrap(),
                amounts: TransactionAmounts {
                    net: None,
                    tax: None,
                    discount: None,
                    total: Decimal::TEN,
                },
                date: None,
                products: vec![],
                spend: None,
            },
        }
    }

    #[test]
    fn the_body_hash_covers_where_the_sale_was_made_but_not_the_business_itself() {
        let old = legacy();
        let request = &old.request;
        let at_business = SaleOrganisation {
            id: old.tenant.organisation,
            tap: None,
        };
        let plain: [u8; 32] = Sha256::digest(postcard::to_stdvec(request).unwrap()).into();
        assert_eq!(
            request.body_hash(&old.tenant, &at_business, &[]),
            plain,
            "retries of old purchases match"
        );
        assert_eq!(
            request.body_hash(&old.tenant, &at_business, &[LineClass::default()]),
            plain,
            "unclassified lines hash as before"
        );
        let classified = [LineClass {
            brand: Some("ACME".into()),
            ..LineClass::default()
        }];
        assert_ne!(request.body_hash(&old.tenant, &at_business, &classified), plain);
        let at_venue = SaleOrganisation {
            id: OrganisationId::random(),
            tap: None,
        };
        let at_till = SaleOrganisation {
            tap: Some(Tap {
                id: TapId::random(),
                code: "T-1".into(),
                name: None,
            }),
            ..at_venue.clone()
        };
        let hashes = [
            plain,
            request.body_hash(&old.tenant, &at_venue, &[]),
            request.body_hash(&old.tenant, &at_till, &[]),
        ];
        assert!(hashes[0] != hashes[1] && hashes[1] != hashes[2] && hashes[0] != hashes[2]);
    }
}
