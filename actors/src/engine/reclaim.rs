//! Purchases posted without a contact, and their claims (see `domain::reclaim`).
//!
//! The claim is marked in the unclaimed record first (durable, under a claim on the
//! purchase), then the purchase is posted to the claimer's wallet under the id its
//! reference number gives, evaluated as of its date. A crash between the two leaves the
//! record claimed by that contact, and the contact's retry posts it; nobody else can.

use super::{claim_key, invalid, secrets, ContactRef, Engine, EngineError, PurchaseSubmission};
use crate::domain::access::Caller;
use crate::domain::ids::{ContactId, PurchaseId, ReferenceNumber, Tenant, WalletId};
use crate::domain::purchase::PurchaseRecord;
use crate::domain::reclaim::{ClaimRefusal, UnclaimedPurchase};
use crate::routes::ContactRoute;
use crate::storage::WriteSet;
use rust_decimal::Decimal;
use std::sync::Arc;

/// What a contact claims a purchase with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The purchase's receipt (reference) number.
    pub reference_number: ReferenceNumber,
    /// The code printed on the receipt ...
    pub transaction_code: Option<String>,
    /// ... or the purchase's total.
    pub total: Option<Decimal>,
    /// The purchase's currency, if the claim names it.
    pub currency: Option<crate::domain::money::Currency>,
}

fn refusal(refused: ClaimRefusal) -> EngineError {
    match refused {
        ClaimRefusal::NoMatch => invalid("transaction_code", refused),
        ClaimRefusal::ClaimedByAnother => EngineError::Conflict(refused.to_string()),
    }
}

impl Engine {
    /// Keeps a purchase made without a contact for a contact to claim; answers it with its
    /// transaction code. Idempotent on its reference number.
    pub async fn post_unclaimed(
        &self,
        caller: &Caller,
        tenant: Tenant,
        submission: PurchaseSubmission,
    ) -> Result<UnclaimedPurchase, EngineError> {
        self.check_open()?;
        if submission.pass.is_some() {
            return Err(EngineError::Conflict(
                "a purchase paid with a pass is posted to the pass's contact: see Engine::post_purchase".into(),
            ));
        }
        let at = self.sale_organisation(caller.organisation, tenant.organisation, &submission.organisation)?;
        let currency = match submission.currency {
            Some(currency) => currency,
            None => self.organisation(tenant.organisation)?.default_currency,
        };
        // Checked as any purchase is, against a wallet of the purchase's currency.
        let nobody = ContactRoute {
            contact_id: ContactId(uuid::Uuid::nil()),
            wallet_id: WalletId(uuid::Uuid::nil()),
            currency,
        };
        let (request, classes) = self.prepare_purchase(submission, &nobody)?;
        let id = PurchaseId::for_reference(&tenant, &request.reference_number);
        let body_hash = request.body_hash(&tenant, &at, &classes);
        let _claim = self
            .inner
            .claims
            .claim(claim_key(b'P', &tenant, id.as_bytes()), 0)
            .map_err(|_| EngineError::ReferenceConflict)?;
        if let Some(existing) = self.inner.store.unclaimed(&tenant, id)? {
            return if existing.body_hash == body_hash {
                Ok(existing)
            } else {
                Err(EngineError::ReferenceConflict)
            };
        }
        if self.inner.store.purchase(&tenant, id)?.is_some() {
            return Err(EngineError::ReferenceConflict);
        }
        let record = UnclaimedPurchase {
            id,
            tenant,
            request,
            at,
            classes,
            body_hash,
            transaction_code: secrets::sign_up_code(),
            posted_on: self.now(),
            claimed: None,
        };
        let mut writes = WriteSet::default();
        writes.unclaimed(&record);
        self.inner.store.commit_async(writes).await?;
        Ok(record)
    }

    /// A purchase kept for a contact to claim (claimed or not).
    pub fn unclaimed(&self, tenant: &Tenant, id: PurchaseId) -> Result<UnclaimedPurchase, EngineError> {
        self.inner
            .store
            .unclaimed(tenant, id)?
            .ok_or(EngineError::NotFound("purchase"))
    }

    /// Contact `contact` claims a purchase kept for a contact: it is posted to its wallet,
    /// once, evaluated as of the purchase's date. A retry answers the same purchase.
    pub async fn reclaim(
        &self,
        tenant: Tenant,
        contact: ContactId,
        claim: Claim,
    ) -> Result<Arc<PurchaseRecord>, EngineError> {
        self.check_open()?;
        let id = PurchaseId::for_reference(&tenant, &claim.reference_number);
        let route = self.contact_route(&tenant, &ContactRef::Id(contact))?;
        let record = {
            let _claim = self
                .inner
                .claims
                .claim(claim_key(b'C', &tenant, id.as_bytes()), 0)
                .map_err(|_| EngineError::Busy("purchase"))?;
            let mut record = self
                .inner
                .store
                .unclaimed(&tenant, id)?
                .ok_or(EngineError::NotFound("purchase"))?;
            record
                .claimable_by(contact, claim.transaction_code.as_deref(), claim.total)
                .map_err(refusal)?;
            if let Some(given) = claim.currency.filter(|given| *given != record.request.currency) {
                return Err(EngineError::CurrencyMismatch {
                    given,
                    wallet: record.request.currency,
                });
            }
            if record.request.currency != route.currency {
                return Err(EngineError::CurrencyMismatch {
                    given: record.request.currency,
                    wallet: route.currency,
                });
            }
            if record.claimed.is_none() {
                record.claimed = Some((contact, self.now()));
                let mut writes = WriteSet::default();
                writes.unclaimed(&record);
                self.commit_durable(writes).await?;
            }
            record
        };
        let date = record.date();
        let mut request = record.request;
        request.contact_id = route.contact_id;
        request.wallet_id = route.wallet_id;
        request.date = Some(date);
        self.post_checked(tenant, &route, (request, record.classes, record.at), None, None, None)
            .await
    }
}
