//! What a community member spent of this (the owner's) wallet: written by this actor
//! alone, in the commit of each purchase that spends for the member and of each cancel or
//! return that gives some of it back, so the member's allowance always matches the money.

use super::{Life, WalletEntity, WalletError};
use crate::domain::community::{CommunityCharge, CommunityUsage};
use crate::domain::ids::RelationshipId;
use crate::domain::purchase::PurchaseRecord;
use crate::storage::WriteSet;
use rust_decimal::Decimal;

impl WalletEntity {
    /// The member's usage as it stands: this actor's last write while the store may not
    /// show it, else `known` (what the engine read under its claim), else the store's.
    fn usage_now(
        &self,
        life: &Life<Self>,
        relationship: RelationshipId,
        known: Option<&CommunityUsage>,
    ) -> Result<CommunityUsage, WalletError> {
        if let Some(usage) = self.community_usage.get(&relationship) {
            return Ok(usage.clone());
        }
        if let Some(usage) = known {
            return Ok(usage.clone());
        }
        life.store()
            .community_usage(&life.key().0, relationship)
            .map_err(|error| WalletError::Storage(error.to_string()))
    }

    /// A purchase for a member spent `spent` at `now`: its usage grows, and the purchase is
    /// marked as the member's, in `writes`. Answers what to remember once committed.
    pub(super) fn charge_community(
        &self,
        life: &Life<Self>,
        writes: &mut WriteSet,
        purchase: &PurchaseRecord,
        charge: &CommunityCharge,
        spent: Decimal,
        now: i64,
    ) -> Result<(RelationshipId, CommunityUsage), WalletError> {
        let usage = self
            .usage_now(life, charge.relationship, Some(&charge.usage))?
            .add(spent, now);
        writes.community_usage(&life.key().0, charge.relationship, &usage);
        writes.community_purchase(&life.key().0, purchase.id, charge.relationship);
        Ok((charge.relationship, usage))
    }

    /// `amount` of a purchase's spend given back at `now`: when the purchase spent for a
    /// member, the member's usage shrinks by it, in `writes`. Answers what to remember.
    pub(super) fn give_back_community(
        &self,
        life: &Life<Self>,
        writes: &mut WriteSet,
        purchase: &PurchaseRecord,
        amount: Decimal,
        now: i64,
    ) -> Result<Option<(RelationshipId, CommunityUsage)>, WalletError> {
        if amount <= Decimal::ZERO {
            return Ok(None);
        }
        let found = life
            .store()
            .community_purchase(&life.key().0, purchase.id)
            .map_err(|error| WalletError::Storage(error.to_string()))?;
        let Some(relationship) = found else {
            return Ok(None);
        };
        let usage = self
            .usage_now(life, relationship, None)?
            .give_back(amount, purchase.posted_on, now);
        writes.community_usage(&life.key().0, relationship, &usage);
        Ok(Some((relationship, usage)))
    }

    /// Keeps a usage this actor wrote until the store shows it (call after the commit).
    pub(super) fn remember_usage(&mut self, life: &Life<Self>, written: Option<(RelationshipId, CommunityUsage)>) {
        if let Some((relationship, usage)) = written {
            self.community_usage
                .remember(relationship, usage, life.commits_submitted(), life.commits_settled());
        }
    }
}
