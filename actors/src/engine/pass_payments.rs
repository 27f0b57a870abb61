//! A POS purchase paid with a gift pass (`pass{code, pin}` on `POST /backoffice/v2/purchases`).
//!
//! The pass names whose wallet pays, and brings its value there first:
//! - a pass not yet redeemed is redeemed into the named contact's wallet, or, when the
//!   till names no one, into the pass's unnamed contact (made once per pass);
//! - a pass redeemed for no one named identifies its unnamed contact from then on (the code
//!   and, where the plan has one, the PIN): later purchases spend what is left of it;
//! - a pass redeemed into a named contact's wallet pays only a purchase that names them.
//!
//! The pass's credit is handed to the wallet before the purchase is posted (the same
//! message the outbox delivers later; the wallet applies it once), so the purchase can
//! spend it. Without a `spend_request` the purchase spends as much as the wallet holds,
//! up to its total. Wrong codes and PINs count against the caller as any redemption's do.
//!
//! A promotion pass pays nothing: it unlocks its plan's offer for the purchase (counted
//! once per purchase, up to the plan's `maximum_usage`). An order presents one the same
//! way: checked when previewed, used when submitted, for the order's purchase.

use super::passes::refusal;
use super::passes::PassCode;
use super::{invalid, ContactRef, Engine, EngineError, PurchaseSubmission};
use crate::actors::pass::{PassCommand, PassError};
use crate::actors::wallet::WalletCommand;
use crate::domain::access::Caller;
use crate::domain::ids::{ContactId, OrganisationId, Tenant};
use crate::domain::order::PromotionUse;
use crate::domain::pass::{Pass, PassClassification, PassState};
use crate::domain::purchase::PassLink;
use crate::domain::transfer::ActorMessage;

/// A gift pass that pays a purchase, as the till gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassPayment {
    pub code: PassCode,
    pub pin: Option<String>,
}

impl Engine {
    /// Settles the pass `submission` pays with, if any: redeems it where it must be,
    /// credits its value to the paying wallet now, names that wallet's contact on the
    /// submission and, when no spend was asked, spends up to the total. Answers the link
    /// the purchase keeps. `place` is where the sale is made.
    pub(super) async fn pay_with_pass(
        &self,
        caller: &Caller,
        tenant: Tenant,
        place: OrganisationId,
        submission: &mut PurchaseSubmission,
    ) -> Result<Option<PassLink>, EngineError> {
        let Some(payment) = submission.pass.take() else {
            return Ok(None);
        };
        if matches!(submission.contact, ContactRef::Token(_)) {
            return Err(invalid(
                "pass",
                "a purchase is paid with a contact token or with a pass, not both",
            ));
        }
        let who = format!("backoffice:{}", caller.organisation);
        let asked = self.redemption(tenant, &who, &payment.code, &payment.pin, Some(place))?;
        let pass = &asked.pass;
        if pass.classification == PassClassification::Promotion {
            return self.unlock_with_pass(tenant, pass, submission).await.map(Some);
        }
        if pass.classification != PassClassification::Gift {
            return Err(invalid("pass", "only a gift pass pays a purchase"));
        }
        if !pass.pin_matches(payment.pin.as_deref()) {
            self.count_pass_failure(&asked.caller);
            return Err(refusal(PassError::WrongPin));
        }
        let named = match &submission.contact {
            ContactRef::Unnamed => None,
            other => Some(self.contact_id(&tenant, other)?),
        };
        let (paid, contact) =
            match (&pass.redemption, named) {
                (Some(done), Some(named)) if done.contact == named => (pass.clone(), named),
                (Some(done), None) if self.unnamed_contact_of(&tenant, pass.id)? == Some(done.contact) => {
                    (pass.clone(), done.contact)
                }
                (Some(_), _) => return Err(EngineError::Conflict(
                    "the pass was redeemed into a contact's wallet: only a purchase naming that contact pays with it"
                        .into(),
                )),
                (None, Some(named)) => {
                    let redeemed = self.redeem_found(tenant, &asked, payment.pin, named).await?;
                    ((*redeemed).clone(), named)
                }
                (None, None) => {
                    let (redeemed, contact) = self.redeem_for_no_one(tenant, &asked, payment.pin).await?;
                    ((*redeemed).clone(), contact)
                }
            };
        self.credit_pass_now(tenant, &paid).await?;
        submission.contact = ContactRef::Id(contact);
        if submission.spend.is_none() {
            submission.spend = Some((submission.amounts.total, false));
        }
        Ok(Some(PassLink {
            id: paid.id,
            code_last4: paid.code_last4.clone(),
            unlocks: None,
        }))
    }

    /// A promotion pass presented with a purchase: counted as used by it (once, however
    /// often the purchase is retried; at most its plan's `maximum_usage` purchases) and its
    /// plan's offer unlocked for it. It pays nothing and names no one.
    async fn unlock_with_pass(
        &self,
        tenant: Tenant,
        pass: &Pass,
        submission: &PurchaseSubmission,
    ) -> Result<PassLink, EngineError> {
        // Checked before the use is counted: a purchase for no one, or for someone not
        // known, would be refused after it.
        if matches!(submission.contact, ContactRef::Unnamed) {
            return Err(invalid(
                "contact",
                "a purchase presenting a promotion pass names its contact",
            ));
        }
        self.contact_route(&tenant, &submission.contact)?;
        let purchase = crate::domain::ids::PurchaseId::for_reference(&tenant, &submission.reference_number);
        self.count_promotion_use(tenant, pass, purchase).await
    }

    /// Counts a promotion pass as used by `purchase` (once however often it is asked; the
    /// pass is spent at its plan's `maximum_usage`) and answers the link the purchase
    /// keeps, which unlocks the plan's offer.
    async fn count_promotion_use(
        &self,
        tenant: Tenant,
        pass: &Pass,
        purchase: crate::domain::ids::PurchaseId,
    ) -> Result<PassLink, EngineError> {
        let terms = self
            .inner
            .store
            .promotion_terms(&tenant, pass.plan)?
            .ok_or(EngineError::Internal("promotion terms"))?;
        let used = self
            .inner
            .passes
            .ask(&(tenant, pass.id), |reply| PassCommand::UsePromotion {
                purchase,
                maximum: terms.maximum_usage,
                reply,
            })
            .await
            .map_err(super::passes::ask_error)?;
        Ok(PassLink {
            id: used.id,
            code_last4: used.code_last4.clone(),
            unlocks: Some(terms.offer),
        })
    }

    /// A promotion pass an order (or services added) of `contact`'s presents, checked as
    /// its purchase will use it: a promotion pass of the business, active, unexpired, its PIN (a wrong one is
    /// counted against the contact). Nothing is used yet.
    pub(super) fn promotion_presented(
        &self,
        tenant: Tenant,
        contact: ContactId,
        payment: &PassPayment,
        place: OrganisationId,
    ) -> Result<PromotionUse, EngineError> {
        let who = format!("contact:{contact}");
        let asked = self.redemption(tenant, &who, &payment.code, &payment.pin, Some(place))?;
        let pass = &asked.pass;
        if pass.classification != PassClassification::Promotion {
            return Err(invalid(
                "pass",
                "an order presents a promotion pass (a gift or top-up pass is redeemed into the wallet first)",
            ));
        }
        if !pass.pin_matches(payment.pin.as_deref()) {
            self.count_pass_failure(&asked.caller);
            return Err(refusal(PassError::WrongPin));
        }
        if pass.state != PassState::Active || pass.expires_at.is_some_and(|at| at < self.now()) {
            return Err(refusal(PassError::NotRedeemable(pass.state)));
        }
        let terms = self
            .inner
            .store
            .promotion_terms(&tenant, pass.plan)?
            .ok_or(EngineError::Internal("promotion terms"))?;
        Ok(PromotionUse {
            pass: pass.id,
            code_last4: pass.code_last4.clone(),
            offer: terms.offer,
        })
    }

    /// Uses a promotion pass an order or a bill presents for its purchase (once, however
    /// often it is retried) and answers the link the purchase keeps, which unlocks the offer.
    pub(super) async fn use_promotion(
        &self,
        tenant: Tenant,
        promotion: &PromotionUse,
        purchase: crate::domain::ids::PurchaseId,
    ) -> Result<PassLink, EngineError> {
        let pass = self
            .inner
            .store
            .pass(&tenant, promotion.pass)?
            .ok_or(EngineError::NotFound("pass"))?;
        self.count_promotion_use(tenant, &pass, purchase).await
    }

    /// Hands a redeemed pass's credit to its wallet now (applied once, whoever delivers it).
    async fn credit_pass_now(&self, tenant: Tenant, pass: &Pass) -> Result<(), EngineError> {
        let Some(done) = &pass.redemption else {
            return Err(EngineError::Internal("pass credit"));
        };
        let message = ActorMessage::pass_credit(pass, done.wallet, 0, done.at);
        self.ask_wallet((tenant, done.wallet), |reply| WalletCommand::Deliver {
            messages: vec![message.clone()],
            reply,
        })
        .await?;
        Ok(())
    }
}
