//! Commerce pools: named spend conditions, made, read, changed and listed by the back
//! office. Offers credit a pool by id; the offers' cache holds each pool's conditions, so a
//! change is reloaded into it under the offer-write lock (a purchase sees it whole, after it
//! is durable). Awards keep the conditions they were made under (see `domain::commerce_pool`).

use super::{invalid, Engine, EngineError};
use crate::domain::commerce_pool::CommercePool;
use crate::domain::ids::{CommercePoolId, Tenant};
use crate::domain::offer::{OfferError, SpendConditions};
use crate::storage::WriteSet;

/// A pool to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCommercePool {
    pub name: String,
    pub description: Option<String>,
    pub conditions: SpendConditions,
}

/// A change to a pool: `None` leaves a field as it is; conditions are replaced whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommercePoolUpdate {
    pub name: Option<String>,
    /// An empty text clears it.
    pub description: Option<String>,
    pub conditions: Option<SpendConditions>,
}

fn pool_error(error: OfferError) -> EngineError {
    invalid(error.field(), error)
}

impl Engine {
    /// Checks a pool: its own rules, and that its organisations are in the network.
    fn check_pool(&self, pool: &CommercePool) -> Result<(), EngineError> {
        pool.validate().map_err(pool_error)?;
        for id in &pool.conditions.organisations {
            self.organisation_for(pool.tenant.organisation, *id).map_err(|_| {
                invalid(
                    "spend_conditions.organisations",
                    format!("organisation {id} is not in this business's network"),
                )
            })?;
        }
        Ok(())
    }

    pub async fn create_commerce_pool(
        &self,
        tenant: Tenant,
        new: NewCommercePool,
    ) -> Result<CommercePool, EngineError> {
        self.check_open()?;
        let now = self.now();
        let pool = CommercePool {
            id: CommercePoolId::random(),
            tenant,
            name: new.name.trim().to_string(),
            description: new.description.filter(|text| !text.trim().is_empty()),
            conditions: new.conditions,
            created_on: now,
            updated_on: now,
        };
        self.check_pool(&pool)?;
        // No offer can name it yet (an offer's pool must exist), so the offers' cache stays.
        let mut writes = WriteSet::default();
        writes.commerce_pool(&pool);
        self.inner.store.commit_async(writes).await?;
        Ok(pool)
    }

    pub fn commerce_pool(&self, tenant: &Tenant, id: CommercePoolId) -> Result<CommercePool, EngineError> {
        self.inner
            .store
            .commerce_pool(tenant, id)?
            .ok_or(EngineError::NotFound("commerce pool"))
    }

    /// The tenant's pools, oldest first.
    pub fn commerce_pools(&self, tenant: &Tenant) -> Result<Vec<CommercePool>, EngineError> {
        let mut pools = self.inner.store.commerce_pools(tenant)?;
        pools.sort_by_key(|pool| (pool.created_on, pool.id));
        Ok(pools)
    }

    pub async fn update_commerce_pool(
        &self,
        tenant: Tenant,
        id: CommercePoolId,
        update: CommercePoolUpdate,
    ) -> Result<CommercePool, EngineError> {
        self.check_open()?;
        let _writes = self.inner.offer_writes.lock().await;
        let mut pool = self.commerce_pool(&tenant, id)?;
        if let Some(name) = update.name {
            pool.name = name.trim().to_string();
        }
        if let Some(description) = update.description {
            pool.description = Some(description).filter(|text| !text.trim().is_empty());
        }
        if let Some(conditions) = update.conditions {
            pool.conditions = conditions;
        }
        pool.updated_on = self.now();
        self.check_pool(&pool)?;
        let mut writes = WriteSet::default();
        writes.commerce_pool(&pool);
        self.inner.store.commit_async(writes).await?;
        self.reload_offers(&tenant).await?;
        Ok(pool)
    }
}
