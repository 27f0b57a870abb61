//! Reward offers: created, read and switched on and off by the back office; each tenant's
//! offers are cached whole, replaced by every write, for purchases to evaluate.

use super::{invalid, sha256, Engine, EngineError};
use crate::domain::ids::{OfferId, Tenant};
use crate::domain::offer::{AwardRule, OfferError, OfferState, RewardOffer};
use crate::storage::{IdempotencyRecord, WriteSet};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewOffer {
    pub name: String,
    pub state: OfferState,
    pub available_from: Option<i64>,
    pub available_to: Option<i64>,
    pub award: AwardRule,
}

impl Engine {
    pub(super) async fn reload_offers(&self, tenant: &Tenant) -> Result<Arc<Vec<RewardOffer>>, EngineError> {
        let offers = Arc::new(self.inner.store.offers(tenant)?);
        self.inner.offers.write().insert(*tenant, offers.clone());
        Ok(offers)
    }

    /// The tenant's offers. On a miss they are loaded under the offer-write lock, so a
    /// purchase never sees an offer write before it is durable.
    pub(super) async fn offers(&self, tenant: &Tenant) -> Result<Arc<Vec<RewardOffer>>, EngineError> {
        if let Some(found) = self.inner.offers.read().get(tenant) {
            return Ok(found.clone());
        }
        let _writes = self.inner.offer_writes.lock().await;
        if let Some(found) = self.inner.offers.read().get(tenant) {
            return Ok(found.clone());
        }
        self.reload_offers(tenant).await
    }

    pub async fn create_offer(
        &self,
        tenant: Tenant,
        new: NewOffer,
        idempotency_key: Option<&str>,
    ) -> Result<RewardOffer, EngineError> {
        self.check_open()?;
        let organisation = self.organisation(tenant.organisation)?;
        let _writes = self.inner.offer_writes.lock().await;
        let body_hash: [u8; 32] = Sha256::digest(postcard::to_stdvec(&new).unwrap_or_default()).into();
        let key_hash = idempotency_key.map(sha256);
        if let Some(hash) = &key_hash {
            if let Some(record) = self.inner.store.idempotency(&tenant, hash)? {
                if record.body_hash != body_hash {
                    return Err(EngineError::IdempotencyConflict);
                }
                return self.offer(&tenant, OfferId(record.resource_id));
            }
        }
        let now = self.now();
        let offer = RewardOffer {
            id: OfferId::random(),
            name: new.name.trim().to_string(),
            state: new.state,
            available_from: new.available_from,
            available_to: new.available_to,
            award: new.award,
            created_on: now,
            updated_on: now,
        };
        offer
            .validate(organisation.default_currency, self.inner.settings.money.amount_max)
            .map_err(|error| {
                let parameter = match error {
                    OfferError::BadName => "name",
                    OfferError::EmptyAvailability => "availability",
                    _ => "award.value",
                };
                invalid(parameter, error)
            })?;
        let mut writes = WriteSet::default();
        writes.offer(&tenant, &offer);
        if let Some(hash) = &key_hash {
            writes.idempotency(
                &tenant,
                hash,
                &IdempotencyRecord {
                    body_hash,
                    resource_id: offer.id.0,
                },
            );
        }
        self.inner.store.commit_async(writes).await?;
        self.reload_offers(&tenant).await?;
        Ok(offer)
    }

    pub fn offer(&self, tenant: &Tenant, id: OfferId) -> Result<RewardOffer, EngineError> {
        self.inner
            .store
            .offer(tenant, id)?
            .ok_or(EngineError::NotFound("reward offer"))
    }

    pub async fn set_offer_state(
        &self,
        tenant: Tenant,
        id: OfferId,
        state: OfferState,
    ) -> Result<RewardOffer, EngineError> {
        self.check_open()?;
        let _writes = self.inner.offer_writes.lock().await;
        let mut offer = self.offer(&tenant, id)?;
        if offer.state != state {
            offer.state = state;
            offer.updated_on = self.now();
            let mut writes = WriteSet::default();
            writes.offer(&tenant, &offer);
            self.inner.store.commit_async(writes).await?;
            self.reload_offers(&tenant).await?;
        }
        Ok(offer)
    }
}
