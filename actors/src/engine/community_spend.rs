//! A community member spending the owner's wallet: the member's app makes a SPEND token
//! with `community_id` (the owner) while the owner shares its wallet with it (an accepted
//! member, sharing enabled, method AUTO); the till posts the purchase with the token, and
//! it is posted to the owner's wallet, its spend trimmed to what the member's allowance
//! leaves (per purchase, day, month, and `max_amount` in all). The member's usage is read
//! under a claim on its place in the community and written in the purchase's commit, so
//! racing purchases never pass the allowance and a crash never loses what was counted.

use super::{claim_key, invalid, ContactRef, Engine, EngineError, PurchaseSubmission};
use crate::actors::claims::ClaimGuard;
use crate::domain::community::{CommunityCharge, MemberState, Relationship, SharingMethod};
use crate::domain::contact_token::ContactTokenRecord;
use crate::domain::ids::{ContactId, PurchaseId, Tenant};
use crate::routes::ContactRoute;

impl Engine {
    /// What is left of a member's `max_amount` of the owner's wallet (`None`: no bound).
    pub fn sharing_left(&self, relationship: &Relationship) -> Result<Option<rust_decimal::Decimal>, EngineError> {
        let Some(max) = relationship.sharing.as_ref().and_then(|sharing| sharing.max_amount) else {
            return Ok(None);
        };
        let usage = self
            .inner
            .store
            .community_usage(&relationship.tenant, relationship.id)?;
        Ok(Some((max - usage.total_spent).max(rust_decimal::Decimal::ZERO)))
    }

    /// `member`'s place in `owner`'s community, if it lets `member` spend the owner's
    /// wallet (accepted, sharing enabled, AUTO).
    pub(super) fn sharing_relationship(
        &self,
        tenant: &Tenant,
        member: ContactId,
        owner: ContactId,
    ) -> Result<Relationship, EngineError> {
        let not_shared = || {
            invalid(
                "community_id",
                "that community does not share its wallet with this contact",
            )
        };
        let id = self
            .inner
            .store
            .community_member(tenant, member, owner)?
            .ok_or_else(not_shared)?;
        let relationship = self
            .inner
            .store
            .relationship(tenant, owner, id)?
            .ok_or_else(not_shared)?;
        let shares = relationship.state == MemberState::Accepted
            && relationship
                .sharing
                .as_ref()
                .is_some_and(|sharing| sharing.enabled && sharing.method == SharingMethod::Auto);
        if shares {
            Ok(relationship)
        } else {
            Err(not_shared())
        }
    }

    /// For a community member's token: the owner's wallet to post to, what the member may
    /// spend, and the claim to hold until the purchase is posted. `None` for any other token.
    pub(super) fn community_spend(
        &self,
        tenant: &Tenant,
        token: &ContactTokenRecord,
        submission: &PurchaseSubmission,
    ) -> Result<Option<(ContactRoute, CommunityCharge, ClaimGuard)>, EngineError> {
        let Some(owner) = self.inner.store.community_token(tenant, token.id)? else {
            return Ok(None);
        };
        let relationship = self.sharing_relationship(tenant, token.contact, owner).map_err(|_| {
            invalid(
                "contact.otp",
                "the community no longer shares its wallet with this contact",
            )
        })?;
        let claim = self
            .inner
            .claims
            .claim(claim_key(b'&', tenant, relationship.id.as_bytes()), rand::random())
            .map_err(|_| EngineError::Busy("community allowance"))?;
        let route = self.contact_route(tenant, &ContactRef::Id(owner))?;
        let usage = self.inner.store.community_usage(tenant, relationship.id)?;
        let max_amount = relationship.sharing.as_ref().and_then(|sharing| sharing.max_amount);
        let cap = usage.left(relationship.limits.as_ref(), max_amount, self.now());
        // A retry of the purchase the token already paid is answered by the wallet as it was.
        let retry = token.used_by == Some(PurchaseId::for_reference(tenant, &submission.reference_number));
        if let (Some(cap), Some((amount, restrict)), false) = (cap, submission.spend, retry) {
            let fixed = token.spend_amount.is_some() || restrict;
            if fixed && amount > cap {
                return Err(EngineError::WalletLimit(format!(
                    "the community's allowance for this contact has {cap} left"
                )));
            }
        }
        Ok(Some((
            route,
            CommunityCharge {
                relationship: relationship.id,
                usage,
                cap,
            },
            claim,
        )))
    }
}
