//! Who fulfils orders: the back office says how each merchant or venue takes orders
//! (`domain::order::FulfilmentTerms`); apps ask which of them can fulfil an order for a
//! supply method, from where the contact is (`POST /estimates/order_fulfillment`).

use super::{invalid, Engine, EngineError};
use crate::domain::access::Caller;
use crate::domain::ids::{OrganisationId, Tenant};
use crate::domain::location::{Address, Point};
use crate::domain::order::{FulfilmentTerms, SupplyMethod};
use crate::domain::organisation::{Organisation, OrganisationType};
use crate::storage::WriteSet;

/// The farthest an organisation delivers (1,000 km) and the longest it takes (a week).
const DELIVERY_RADIUS_MAX_M: u32 = 1_000_000;
const MINUTES_TO_FULFIL_MAX: u32 = 7 * 24 * 60;

/// A merchant or venue that can fulfil an order, and how far it is from the contact.
#[derive(Debug, Clone)]
pub struct Fulfiller {
    pub organisation: Organisation,
    pub address: Address,
    pub terms: FulfilmentTerms,
    pub distance_m: Option<f64>,
}

/// Who may fulfil an order.
#[derive(Debug, Clone, Copy)]
pub struct FulfilmentQuery {
    pub supply_method: SupplyMethod,
    /// Where the contact is (a delivery needs it).
    pub origin: Option<Point>,
    /// Only this organisation.
    pub requested: Option<OrganisationId>,
}

impl Engine {
    /// Sets how merchant or venue `id` takes orders.
    pub async fn set_fulfilment(
        &self,
        caller: &Caller,
        tenant: Tenant,
        id: OrganisationId,
        mut terms: FulfilmentTerms,
    ) -> Result<FulfilmentTerms, EngineError> {
        self.check_open()?;
        let organisation = self.organisation_for(caller.organisation, id)?;
        if self.business_of(organisation.id)? != tenant.organisation {
            return Err(EngineError::NotFound("organisation"));
        }
        if !matches!(
            organisation.organisation_type,
            OrganisationType::Merchant | OrganisationType::Venue
        ) {
            return Err(invalid("organisation", "only a merchant or a venue fulfils orders"));
        }
        terms.supply_methods.sort_by_key(|method| method.code());
        terms.supply_methods.dedup();
        terms.delivery_methods.sort_by_key(|method| method.code());
        terms.delivery_methods.dedup();
        terms.payments.sort_by_key(|payment| payment.code());
        terms.payments.dedup();
        if terms.supply_methods.is_empty() {
            return Err(invalid(
                "supply_methods",
                "name at least one of DELIVERY, PICK_UP, DIRECT_SALE",
            ));
        }
        if terms.supplies(SupplyMethod::Delivery) {
            if terms.delivery_methods.is_empty() {
                return Err(invalid("delivery_methods", "an organisation that delivers names how"));
            }
            if !terms
                .delivery_radius_m
                .is_some_and(|radius| (1..=DELIVERY_RADIUS_MAX_M).contains(&radius))
            {
                return Err(invalid(
                    "delivery_radius",
                    format!(
                        "an organisation that delivers says how far: 0.001 to {} km",
                        DELIVERY_RADIUS_MAX_M / 1000
                    ),
                ));
            }
        }
        if terms.minutes_to_fulfil > MINUTES_TO_FULFIL_MAX {
            return Err(invalid(
                "minutes_to_fulfil",
                format!("must be 0 to {MINUTES_TO_FULFIL_MAX}"),
            ));
        }
        if terms.payments.is_empty() {
            return Err(invalid("payment_method_types", "name at least one"));
        }
        let currency = self.organisation(tenant.organisation)?.default_currency;
        if let Some(minimum) = terms.minimum_amount {
            crate::domain::money::Amount::parse_at_most(minimum, currency, self.inner.settings.money.amount_max)
                .map_err(|error| invalid("minimum_amount", error))?;
        }
        if let Some(fee) = terms.delivery_fee {
            let product = self
                .inner
                .store
                .product(&tenant, fee)?
                .ok_or_else(|| invalid("delivery_fee_product_id", "is not one of the business's products"))?;
            if product.price_in(currency).is_none() {
                return Err(invalid(
                    "delivery_fee_product_id",
                    format!("has no price in {}", currency.code()),
                ));
            }
        }
        terms.updated_on = self.now();
        let mut writes = WriteSet::default();
        writes.fulfilment(&tenant, organisation.id, &terms);
        self.commit_durable(writes).await?;
        Ok(terms)
    }

    /// How organisation `id` (of the business's network) takes orders, if it does.
    pub fn fulfilment(&self, tenant: &Tenant, id: OrganisationId) -> Result<Option<FulfilmentTerms>, EngineError> {
        let organisation = self.organisation_for(tenant.organisation, id)?;
        Ok(self.inner.store.fulfilment(tenant, organisation.id)?)
    }

    /// The merchants and venues that can fulfil an order as `query` asks: those with an
    /// address that take orders for the supply method (and deliver as far as the contact,
    /// for a delivery), nearest first when the contact says where it is, else by name.
    pub fn fulfillers(&self, tenant: &Tenant, query: &FulfilmentQuery) -> Result<Vec<Fulfiller>, EngineError> {
        if query.supply_method == SupplyMethod::Delivery && query.origin.is_none() {
            return Err(invalid(
                "lat_lot",
                "a delivery needs where the contact is (lat and lon)",
            ));
        }
        let candidates = match query.requested {
            Some(id) => vec![self.organisation_for(tenant.organisation, id)?.id],
            None => self.place_ids(tenant.organisation)?,
        };
        let mut found = Vec::new();
        for id in candidates {
            let Some(terms) = self.inner.store.fulfilment(tenant, id)? else {
                continue;
            };
            let Some(address) = self.inner.store.organisation_address(id)? else {
                continue;
            };
            if !terms.supplies(query.supply_method) {
                continue;
            }
            let point = Point::new(address.lat, address.lon).map_err(|_| EngineError::Internal("address"))?;
            let distance_m = query.origin.map(|origin| origin.distance_m(point));
            if query.supply_method == SupplyMethod::Delivery
                && !distance_m.is_some_and(|d| d <= f64::from(terms.delivery_radius_m.unwrap_or(0)))
            {
                continue;
            }
            found.push(Fulfiller {
                organisation: self.organisation(id)?,
                address,
                terms,
                distance_m,
            });
        }
        found.sort_by(|a, b| {
            let by_distance = a.distance_m.unwrap_or(0.0).total_cmp(&b.distance_m.unwrap_or(0.0));
            by_distance.then_with(|| {
                a.organisation
                    .name
                    .to_lowercase()
                    .cmp(&b.organisation.name.to_lowercase())
            })
        });
        Ok(found)
    }
}
