//! Purchase estimates: `POST /backoffice/v2/purchases/estimates` works out what a purchase
//! would earn and spend (the wallet's actor evaluates it, holding the spend if asked); the
//! contact approves or rejects it from its app; the till then posts the purchase from it
//! with a reference number, and the purchase captures the hold. See `domain::estimate`.

use super::{Engine, EngineError, PurchaseSubmission};
use crate::actors::wallet::{NewEstimate, NewPurchase, WalletCommand};
use crate::domain::access::Caller;
use crate::domain::budget::Hold;
use crate::domain::estimate::{EstimateRecord, EstimateRefusal, EstimateState, ESTIMATE_TTL_S};
use crate::domain::ids::{ContactId, EstimateId, OfferId, PurchaseId, ReferenceNumber, Tenant};
use crate::domain::offer::{OfferSet, SaleFacts};
use crate::domain::purchase::PurchaseRecord;
use std::sync::Arc;

/// What an estimate asks for besides the purchase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EstimateOptions {
    /// Hold the spend in the wallet until the purchase comes or the estimate expires.
    pub hold: bool,
    /// The purchase may be posted only once the contact approves it.
    pub approval_required: bool,
    /// The spend covers at most what the purchase leaves after its instant discounts (an
    /// order's: its wallet funds pay what the discounts do not).
    pub net_of_discounts: bool,
    /// An offer a promotion pass unlocks for the purchase (an order's: its pass is used
    /// when the order is submitted).
    pub unlocked: Option<OfferId>,
}

/// The contract's words for an estimate that cannot be used.
pub(super) fn refusal(refused: EstimateRefusal) -> EngineError {
    match refused {
        EstimateRefusal::NotApproved => EngineError::Conflict(refused.to_string()),
        _ => super::invalid("estimate_id", refused),
    }
}

impl Engine {
    /// Works out a purchase without posting it (its reference number, if any, is not
    /// used): the awards its offers would give now, and the spend the wallet could cover,
    /// held if asked.
    pub async fn estimate_purchase(
        &self,
        caller: &Caller,
        tenant: Tenant,
        submission: PurchaseSubmission,
        options: EstimateOptions,
    ) -> Result<Arc<EstimateRecord>, EngineError> {
        self.check_open()?;
        let at = self.sale_organisation(caller.organisation, tenant.organisation, &submission.organisation)?;
        if submission.pass.is_some() {
            return Err(super::invalid(
                "pass",
                "a pass pays a posted purchase: an estimate does not redeem or hold it",
            ));
        }
        if matches!(submission.contact, super::ContactRef::Token(_)) {
            return Err(super::invalid(
                "contact.otp",
                "an estimate names the contact by id, code or wallet code; the contact approves it with a token",
            ));
        }
        let contact = self.contact_route(&tenant, &submission.contact)?;
        let (request, classes) = self.prepare_purchase(submission, &contact)?;
        let offers = self.offers(&tenant).await?;
        let mut facts: SaleFacts = self.sale_facts(&tenant, &contact, &at, &offers)?;
        facts.unlocked.extend(options.unlocked);
        let now = self.now();
        let record = EstimateRecord {
            id: EstimateId::random(),
            tenant,
            contact_id: contact.contact_id,
            wallet_id: contact.wallet_id,
            request: request.clone(),
            at: at.clone(),
            classes: classes.clone(),
            explanations: Vec::new(),
            spend: rust_decimal::Decimal::ZERO,
            held: false,
            approval_required: options.approval_required,
            state: EstimateState::Pending,
            created_on: now,
            expires_at: now.saturating_add(ESTIMATE_TTL_S),
        };
        let mut purchase = NewPurchase {
            request,
            at,
            classes,
            facts,
            grants: Vec::new(),
            token: None,
            estimate: None,
            pass: None,
            community: None,
            auto_spend: true,
        };
        purchase.grants = self.budgets_left(&tenant, record.id, &purchase, &offers).await?;
        let estimate = NewEstimate {
            record,
            purchase,
            net_of_discounts: options.net_of_discounts,
        };
        self.ask_wallet((tenant, contact.wallet_id), |reply| WalletCommand::Estimate {
            estimate: Box::new(estimate.clone()),
            hold: options.hold,
            offers: offers.clone(),
            reply,
        })
        .await
    }

    /// What each budget an offer the purchase could earn from has left now, as the grants
    /// the wallet trims the preview to; nothing is reserved.
    async fn budgets_left(
        &self,
        tenant: &Tenant,
        id: EstimateId,
        purchase: &NewPurchase,
        offers: &OfferSet,
    ) -> Result<Vec<(OfferId, Hold)>, EngineError> {
        if !offers.has_budgets() {
            return Ok(Vec::new());
        }
        let now = self.now();
        let mut left = Vec::new();
        for (offer, total, wanted) in offers.budget_wants(&purchase.facts(now)) {
            let state = self.offer_budget(tenant, offer).await?;
            let hold = Hold {
                purchase: PurchaseId(id.0),
                amount: state.left(total).min(wanted),
                reserved_at: now,
            };
            left.push((offer, hold));
        }
        Ok(left)
    }

    pub fn estimate(&self, tenant: &Tenant, id: EstimateId) -> Result<EstimateRecord, EngineError> {
        self.inner
            .store
            .estimate(tenant, id)?
            .ok_or(EngineError::NotFound("estimate"))
    }

    /// The contact approves (`true`) or rejects its estimate (a rejection gives its hold
    /// back). Another contact's estimate is not found.
    pub async fn decide_estimate(
        &self,
        tenant: Tenant,
        contact: ContactId,
        id: EstimateId,
        approve: bool,
    ) -> Result<Arc<EstimateRecord>, EngineError> {
        self.check_open()?;
        let record = self.estimate(&tenant, id)?;
        if record.contact_id != contact {
            return Err(EngineError::NotFound("estimate"));
        }
        self.ask_wallet((tenant, record.wallet_id), |reply| WalletCommand::DecideEstimate {
            id,
            contact,
            approve,
            reply,
        })
        .await
    }

    /// Posts the purchase an estimate describes, under `reference_number` (idempotent on
    /// it, like any purchase): evaluated again now, spending the estimate's hold.
    pub async fn post_estimate(
        &self,
        tenant: Tenant,
        id: EstimateId,
        reference_number: ReferenceNumber,
    ) -> Result<Arc<PurchaseRecord>, EngineError> {
        self.post_estimate_spending(tenant, id, reference_number, None, None)
            .await
    }

    /// As `post_estimate`, spending `spend` (amount, fully covered or refused) instead of
    /// what the estimate asked, when given (an estimate that holds its spend captures it).
    pub(super) async fn post_estimate_spending(
        &self,
        tenant: Tenant,
        id: EstimateId,
        reference_number: ReferenceNumber,
        spend: Option<(rust_decimal::Decimal, bool)>,
        pass: Option<crate::domain::purchase::PassLink>,
    ) -> Result<Arc<PurchaseRecord>, EngineError> {
        self.check_open()?;
        let record = self.estimate(&tenant, id)?;
        let contact = self.contact_route(&tenant, &super::ContactRef::Id(record.contact_id))?;
        let mut request = record.request;
        request.reference_number = reference_number;
        if let Some((amount, restrict_fully_covered)) = spend {
            request.spend = Some(crate::domain::wallet::SpendRequest {
                amount,
                restrict_fully_covered,
            });
        }
        self.post_checked(
            tenant,
            &contact,
            (request, record.classes, record.at),
            None,
            Some(id),
            pass,
        )
        .await
    }
}
