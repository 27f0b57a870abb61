//! Purchase estimates: what a purchase would earn and spend, worked out without posting
//! it, optionally holding the spend in the wallet until the purchase comes (or the estimate
//! expires). A contact may approve or reject an estimate from its app (contact tokens with
//! intent APPROVE_PURCHASE / REJECT_PURCHASE); one that asks for approval is posted only
//! once approved. An estimate serves one purchase.

use super::ids::{ContactId, EstimateId, PurchaseId, Tenant, WalletId};
use super::offer::{AwardExplanation, LineClass};
use super::purchase::{PurchaseRequest, SaleOrganisation};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How long an estimate (and its hold) stands.
pub const ESTIMATE_TTL_S: i64 = 15 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EstimateState {
    Pending,
    Approved,
    Rejected,
    /// Its purchase was posted.
    Used(PurchaseId),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EstimateRecord {
    pub id: EstimateId,
    pub tenant: Tenant,
    pub contact_id: ContactId,
    pub wallet_id: WalletId,
    /// The purchase as estimated (its reference number comes with the posting).
    pub request: PurchaseRequest,
    pub at: SaleOrganisation,
    pub classes: Vec<LineClass>,
    /// The awards it would earn, as of the estimate.
    pub explanations: Vec<AwardExplanation>,
    /// What it would spend from the wallet.
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub spend: Decimal,
    /// Whether the spend is held in the wallet.
    pub held: bool,
    pub approval_required: bool,
    pub state: EstimateState,
    pub created_on: i64,
    pub expires_at: i64,
}

/// Why an estimate cannot be used (or approved, or rejected) now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EstimateRefusal {
    #[error("the estimate has expired")]
    Expired,
    #[error("the estimate was rejected by the contact")]
    Rejected,
    #[error("the estimate was used by a purchase already")]
    Used,
    #[error("the estimate waits for the contact's approval")]
    NotApproved,
}

impl EstimateRecord {
    /// The state as CRM.COM-style clients read it at `now`.
    pub fn state_code(&self, now: i64) -> &'static str {
        match self.state {
            EstimateState::Used(_) => "USED",
            EstimateState::Rejected => "REJECTED",
            _ if now >= self.expires_at => "EXPIRED",
            EstimateState::Pending => "PENDING",
            EstimateState::Approved => "APPROVED",
        }
    }

    pub fn awarded(&self) -> Decimal {
        self.explanations
            .iter()
            .fold(Decimal::ZERO, |sum, award| sum.saturating_add(award.amount))
    }

    fn open(&self, now: i64) -> Result<(), EstimateRefusal> {
        match self.state {
            EstimateState::Used(_) => Err(EstimateRefusal::Used),
            EstimateState::Rejected => Err(EstimateRefusal::Rejected),
            _ if now >= self.expires_at => Err(EstimateRefusal::Expired),
            _ => Ok(()),
        }
    }

    /// Whether purchase `purchase` may be posted from it at `now`.
    pub fn usable_by(&self, purchase: PurchaseId, now: i64) -> Result<(), EstimateRefusal> {
        if self.state == EstimateState::Used(purchase) {
            return Ok(());
        }
        self.open(now)?;
        if self.approval_required && self.state != EstimateState::Approved {
            return Err(EstimateRefusal::NotApproved);
        }
        Ok(())
    }

    /// The contact approves (`true`) or rejects it at `now`: the new state.
    pub fn decide(&self, approve: bool, now: i64) -> Result<EstimateState, EstimateRefusal> {
        self.open(now)?;
        Ok(if approve {
            EstimateState::Approved
        } else {
            EstimateState::Rejected
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{Mode, OrganisationId, ReferenceNumber};
    use crate::domain::money::Currency;
    use crate::domain::purchase::TransactionAmounts;

    fn estimate(approval_required: bool) -> EstimateRecord {
        let tenant = Tenant {
            organisation: OrganisationId::random(),
            mode: Mode::Live,
        };
        EstimateRecord {
            id: EstimateId::random(),
            tenant,
            contact_id: ContactId::random(),
            wallet_id: WalletId::random(),
            request: PurchaseRequest {
                reference_number: ReferenceNumber::parse("ESTIMATE").unwrap(),
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
            at: SaleOrganisation {
                id: tenant.organisation,
                tap: None,
            },
            classes: vec![],
            explanations: vec![],
            spend: Decimal::ZERO,
            held: false,
            approval_required,
            state: EstimateState::Pending,
            created_on: 0,
            expires_at: 100,
        }
    }

    #[test]
    fn an_estimate_serves_one_purchase_before_it_expires_and_after_approval_if_asked() {
        let (one, two) = (PurchaseId::random(), PurchaseId::random());
        let mut plain = estimate(false);
        assert_eq!(plain.usable_by(one, 99), Ok(()));
        assert_eq!(plain.usable_by(one, 100), Err(EstimateRefusal::Expired));
        assert_eq!(plain.state_code(100), "EXPIRED");
        plain.state = EstimateState::Used(one);
        assert_eq!(plain.usable_by(one, 150), Ok(()), "its own purchase's retry");
        assert_eq!(plain.usable_by(two, 50), Err(EstimateRefusal::Used));
        let mut asked = estimate(true);
        assert_eq!(asked.usable_by(one, 1), Err(EstimateRefusal::NotApproved));
        asked.state = asked.decide(true, 1).unwrap();
        assert_eq!(asked.usable_by(one, 1), Ok(()));
        asked.state = asked.decide(false, 2).unwrap();
        assert_eq!(asked.usable_by(one, 3), Err(EstimateRefusal::Rejected));
        assert_eq!(asked.decide(true, 3), Err(EstimateRefusal::Rejected));
        assert_eq!(estimate(false).decide(true, 100), Err(EstimateRefusal::Expired));
    }
}
