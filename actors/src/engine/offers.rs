//! Reward offers: made, changed, switched on and off and listed by the back office; listed
//! by apps. Each tenant's offers are cached whole as an `OfferSet`, replaced after every
//! write commits, so a purchase evaluates either the offers before a change or after it,
//! never half of each.

use super::{invalid, sha256, Engine, EngineError};
use crate::domain::budget::BudgetState;
use crate::domain::ids::{ContactId, OfferId, OrganisationId, SchemeId, Tenant};
use crate::domain::offer::{
    check_combination, AwardRule, Destination, OfferError, OfferGoal, OfferSet, OfferState, OfferTerms, OfferType,
    RewardOffer,
};
use crate::storage::{IdempotencyRecord, WriteSet};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// An offer as the back office defines it (made whole, or changed whole).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewOffer {
    pub name: String,
    pub state: OfferState,
    pub available_from: Option<i64>,
    pub available_to: Option<i64>,
    pub award: AwardRule,
    pub terms: OfferTerms,
}

impl NewOffer {
    /// The definition of an existing offer, to change.
    pub fn of(offer: &RewardOffer) -> NewOffer {
        NewOffer {
            name: offer.name.clone(),
            state: offer.state,
            available_from: offer.available_from,
            available_to: offer.available_to,
            award: offer.award.clone(),
            terms: offer.terms.clone(),
        }
    }
}

/// Which offers a list shows; `None` does not filter.
#[derive(Debug, Clone, Default)]
pub struct OfferFilter {
    pub state: Option<OfferState>,
    /// Only offers a purchase could earn now: active, and not past `availability.to`.
    pub current: bool,
    pub is_featured: Option<bool>,
    pub performance_enabled: Option<bool>,
    pub owner: Option<OrganisationId>,
    /// Offers that target one of these (or target everywhere).
    pub organisations: Vec<OrganisationId>,
    pub goals: Vec<OfferGoal>,
    pub types: Vec<OfferType>,
    /// A case-insensitive part of the name.
    pub search: Option<String>,
    /// Only offers this contact can earn from: without a scheme, or of a scheme it is in.
    pub contact: Option<ContactId>,
}

/// An offer as apps see it: with the names of its owner, scheme and targets.
#[derive(Debug, Clone)]
pub struct OfferEntry {
    pub offer: RewardOffer,
    pub owner: (OrganisationId, String),
    pub scheme: Option<(SchemeId, String)>,
    pub targets: Vec<(OrganisationId, String)>,
}

fn offer_error(error: OfferError) -> EngineError {
    invalid(error.field(), error)
}

impl Engine {
    pub(super) async fn reload_offers(&self, tenant: &Tenant) -> Result<Arc<OfferSet>, EngineError> {
        let offers = Arc::new(
            OfferSet::new(self.inner.store.offers(tenant)?)
                .with_pools(self.inner.store.commerce_pools(tenant)?)
                .with_locked(&self.inner.store.promotion_offers(tenant)?),
        );
        self.inner.offers.write().insert(*tenant, offers.clone());
        Ok(offers)
    }

    /// The tenant's offers. On a miss they are loaded under the offer-write lock, so a
    /// purchase never sees an offer write before it is durable.
    pub(super) async fn offers(&self, tenant: &Tenant) -> Result<Arc<OfferSet>, EngineError> {
        if let Some(found) = self.inner.offers.read().get(tenant) {
            return Ok(found.clone());
        }
        let _writes = self.inner.offer_writes.lock().await;
        if let Some(found) = self.inner.offers.read().get(tenant) {
            return Ok(found.clone());
        }
        self.reload_offers(tenant).await
    }

    /// Checks what the offer names exists in the tenant's network.
    fn check_offer(&self, tenant: &Tenant, offer: &RewardOffer, others: &OfferSet) -> Result<(), EngineError> {
        let organisation = self.organisation(tenant.organisation)?;
        offer
            .validate(organisation.default_currency, self.inner.settings.money.amount_max)
            .map_err(offer_error)?;
        check_combination(offer, others.offers()).map_err(offer_error)?;
        let in_network = |field: &'static str, id: OrganisationId| {
            self.organisation_for(tenant.organisation, id)
                .map(|_| ())
                .map_err(|_| invalid(field, format!("organisation {id} is not in this business's network")))
        };
        if let Some(owner) = offer.terms.owner {
            in_network("owner", owner)?;
        }
        for id in &offer.terms.targets.organisations {
            in_network("targets.organisations", *id)?;
        }
        for tap in &offer.terms.targets.taps {
            if self.inner.store.tap_by_id(tenant.organisation, *tap)?.is_none() {
                return Err(invalid(
                    "targets.taps",
                    format!("TAP {tap} is not one of this business's"),
                ));
            }
        }
        if let Some(scheme) = offer.terms.scheme {
            self.scheme(tenant, scheme).map_err(|_| {
                invalid(
                    "scheme",
                    format!("reward scheme {scheme} is not one of this business's"),
                )
            })?;
        }
        match &offer.terms.destination {
            Destination::Pool(conditions) => {
                for id in &conditions.organisations {
                    in_network("destination.spend_conditions.organisations", *id)?;
                }
            }
            Destination::CommercePool(id) => {
                if self.inner.store.commerce_pool(tenant, *id)?.is_none() {
                    return Err(invalid(
                        "destination.commerce_pool",
                        format!("commerce pool {id} is not one of this business's"),
                    ));
                }
            }
            Destination::Wallet | Destination::InstantDiscount => {}
        }
        Ok(())
    }

    pub async fn create_offer(
        &self,
        tenant: Tenant,
        new: NewOffer,
        idempotency_key: Option<&str>,
    ) -> Result<RewardOffer, EngineError> {
        self.check_open()?;
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
            terms: new.terms,
        };
        let current = self.offers_locked(&tenant).await?;
        self.check_offer(&tenant, &offer, &current)?;
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

    /// The cached offers, for a writer that holds the offer-write lock.
    async fn offers_locked(&self, tenant: &Tenant) -> Result<Arc<OfferSet>, EngineError> {
        if let Some(found) = self.inner.offers.read().get(tenant) {
            return Ok(found.clone());
        }
        self.reload_offers(tenant).await
    }

    /// An offer, with what its budget has used and holds when it has one.
    pub async fn offer_with_budget(
        &self,
        tenant: &Tenant,
        id: OfferId,
    ) -> Result<(RewardOffer, Option<BudgetState>), EngineError> {
        let offer = self.offer(tenant, id)?;
        let budget = match offer.terms.caps.budget {
            Some(_) => Some(self.offer_budget(tenant, id).await?),
            None => None,
        };
        Ok((offer, budget))
    }

    pub fn offer(&self, tenant: &Tenant, id: OfferId) -> Result<RewardOffer, EngineError> {
        self.inner
            .store
            .offer(tenant, id)?
            .ok_or(EngineError::NotFound("reward offer"))
    }

    /// Changes an offer: `edit` gets its definition and changes what the request names; the
    /// result is checked as a new offer would be. Purchases evaluated after the change
    /// commits see all of it, earlier ones none of it. `edit`'s own error type lets the
    /// caller refuse in its own terms.
    pub async fn update_offer<E: From<EngineError>>(
        &self,
        tenant: Tenant,
        id: OfferId,
        edit: impl FnOnce(&mut NewOffer) -> Result<(), E>,
    ) -> Result<RewardOffer, E> {
        self.check_open()?;
        let _writes = self.inner.offer_writes.lock().await;
        let current = self.offer(&tenant, id)?;
        let mut definition = NewOffer::of(&current);
        edit(&mut definition)?;
        if definition == NewOffer::of(&current) {
            return Ok(current);
        }
        let offer = RewardOffer {
            name: definition.name.trim().to_string(),
            state: definition.state,
            available_from: definition.available_from,
            available_to: definition.available_to,
            award: definition.award,
            terms: definition.terms,
            updated_on: self.now(),
            ..current
        };
        let offers = self.offers_locked(&tenant).await?;
        self.check_offer(&tenant, &offer, &offers)?;
        let mut writes = WriteSet::default();
        writes.offer(&tenant, &offer);
        self.inner.store.commit_async(writes).await.map_err(EngineError::from)?;
        self.reload_offers(&tenant).await?;
        Ok(offer)
    }

    pub async fn set_offer_state(
        &self,
        tenant: Tenant,
        id: OfferId,
        state: OfferState,
    ) -> Result<RewardOffer, EngineError> {
        self.update_offer(tenant, id, |offer| {
            offer.state = state;
            Ok::<_, EngineError>(())
        })
        .await
    }

    /// The tenant's offers that `filter` lets through, newest first.
    pub async fn offers_list(&self, tenant: &Tenant, filter: &OfferFilter) -> Result<Vec<RewardOffer>, EngineError> {
        let offers = self.offers(tenant).await?;
        let schemes = match filter.contact {
            Some(contact) => Some(self.member_schemes(tenant, contact)?),
            None => None,
        };
        let now = self.now();
        let search = filter.search.as_deref().map(str::to_lowercase);
        let mut listed: Vec<RewardOffer> = offers
            .offers()
            .filter(|offer| {
                let terms = &offer.terms;
                filter.state.is_none_or(|state| offer.state == state)
                    && (!filter.current
                        || (offer.state == OfferState::Active && offer.available_to.is_none_or(|to| to >= now)))
                    && filter.is_featured.is_none_or(|featured| terms.is_featured == featured)
                    && filter
                        .performance_enabled
                        .is_none_or(|enabled| terms.performance_enabled == enabled)
                    && filter
                        .owner
                        .is_none_or(|owner| terms.owner.unwrap_or(tenant.organisation) == owner)
                    && (filter.organisations.is_empty()
                        || terms.targets.organisations.is_empty()
                        || terms
                            .targets
                            .organisations
                            .iter()
                            .any(|target| filter.organisations.contains(target)))
                    && (filter.goals.is_empty() || filter.goals.contains(&terms.goal))
                    && (filter.types.is_empty() || filter.types.contains(&terms.offer_type))
                    && search
                        .as_deref()
                        .is_none_or(|search| offer.name.to_lowercase().contains(search))
                    && schemes
                        .as_ref()
                        .is_none_or(|schemes| terms.scheme.is_none_or(|scheme| schemes.contains(&scheme)))
            })
            .cloned()
            .collect();
        listed.sort_by_key(|offer| std::cmp::Reverse((offer.created_on, offer.id)));
        Ok(listed)
    }

    /// The offers `filter` lets through, newest first, with names for apps.
    pub async fn offer_entries(&self, tenant: &Tenant, filter: &OfferFilter) -> Result<Vec<OfferEntry>, EngineError> {
        let offers = self.offers_list(tenant, filter).await?;
        offers
            .into_iter()
            .map(|offer| self.offer_entry(tenant, offer))
            .collect()
    }

    /// An active offer, with names for apps.
    pub fn active_offer_entry(&self, tenant: &Tenant, id: OfferId) -> Result<OfferEntry, EngineError> {
        let offer = self.offer(tenant, id)?;
        if offer.state != OfferState::Active {
            return Err(EngineError::NotFound("reward offer"));
        }
        self.offer_entry(tenant, offer)
    }

    fn offer_entry(&self, tenant: &Tenant, offer: RewardOffer) -> Result<OfferEntry, EngineError> {
        let named = |id: OrganisationId| self.organisation(id).map(|organisation| (id, organisation.name));
        let owner = named(offer.terms.owner.unwrap_or(tenant.organisation))?;
        let scheme = match offer.terms.scheme {
            Some(id) => Some((id, self.scheme(tenant, id)?.name)),
            None => None,
        };
        let targets = offer
            .terms
            .targets
            .organisations
            .iter()
            .map(|id| named(*id))
            .collect::<Result<_, _>>()?;
        Ok(OfferEntry {
            offer,
            owner,
            scheme,
            targets,
        })
    }
}
