//! Where a business's merchants and venues are: the back office gives an organisation its
//! address and coordinates; apps list the merchants and venues of the business nearest
//! first from where the contact is (`domain::location`).

use super::{invalid, Engine, EngineError};
use crate::domain::access::Caller;
use crate::domain::ids::{OrganisationId, Tenant};
use crate::domain::location::{nearest, Address, Point, ADDRESS_TEXT_MAX};
use crate::domain::organisation::{Organisation, OrganisationType};
use crate::storage::WriteSet;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A merchant or venue with an address, as the search keeps it in memory.
#[derive(Debug, Clone)]
struct Place {
    id: OrganisationId,
    point: Point,
    name: String,
}

/// The places under each organisation searched from, built on first use and rebuilt once
/// anything that changes them (an address, an organisation made, changed or removed) has
/// moved `epoch` on since.
/// The places under one root, and the epoch they were built at.
type Built = (u64, Arc<Vec<Place>>);

#[derive(Default)]
pub(super) struct Places {
    epoch: AtomicU64,
    by_root: RwLock<HashMap<OrganisationId, Built>>,
}

impl Places {
    /// Called after any change to addresses or organisations is durable.
    pub(super) fn changed(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }
}

/// A merchant or venue near the contact.
#[derive(Debug, Clone)]
pub struct Located {
    pub organisation: Organisation,
    pub address: Address,
    pub distance_m: f64,
}

/// What a location search keeps.
#[derive(Debug, Clone)]
pub struct LocationQuery {
    pub origin: Point,
    pub within_m: f64,
    /// In the name, any case.
    pub name: Option<String>,
    /// Only this organisation and those under it.
    pub under: Option<OrganisationId>,
}

impl Engine {
    /// Gives organisation `id` (one `caller` reaches) its address: checked texts and a point
    /// on the globe.
    pub async fn set_organisation_address(
        &self,
        caller: &Caller,
        id: OrganisationId,
        address: Address,
    ) -> Result<Address, EngineError> {
        self.check_open()?;
        let organisation = self.organisation_for(caller.organisation, id)?;
        Point::new(address.lat, address.lon).map_err(|why| invalid("address", why))?;
        let text = |parameter: &'static str, value: Option<String>| {
            value
                .map(|value| super::error::short_text(parameter, &value, ADDRESS_TEXT_MAX))
                .transpose()
        };
        for (parameter, value) in [
            ("address_line_1", &address.line_1),
            ("town_city", &address.town_city),
            ("postal_code", &address.postal_code),
            ("country_code", &address.country_code),
        ] {
            if value.is_none() {
                return Err(invalid(parameter, "is required"));
            }
        }
        if address
            .country_code
            .as_deref()
            .is_some_and(|code| code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(invalid("country_code", "must be an ISO 3166-1 alpha-3 code, e.g. CYP"));
        }
        let checked = Address {
            line_1: text("address_line_1", address.line_1)?,
            line_2: text("address_line_2", address.line_2)?,
            town_city: text("town_city", address.town_city)?,
            state_province_county: text("state_province_county", address.state_province_county)?,
            postal_code: text("postal_code", address.postal_code)?,
            country_code: text("country_code", address.country_code)?,
            lat: address.lat,
            lon: address.lon,
        };
        let mut writes = WriteSet::default();
        writes.organisation_address(organisation.id, &checked);
        self.commit_durable(writes).await?;
        self.inner.places.changed();
        Ok(checked)
    }

    pub fn organisation_address(&self, id: OrganisationId) -> Result<Option<Address>, EngineError> {
        Ok(self.inner.store.organisation_address(id)?)
    }

    /// The merchants and venues with an address under `root` (itself included), from
    /// memory while nothing changed them.
    fn places_under(&self, root: OrganisationId) -> Result<Arc<Vec<Place>>, EngineError> {
        let places = &self.inner.places;
        // Read before building: a change during the build moves it on, so the build is not
        // taken as current next time.
        let epoch = places.epoch.load(Ordering::Acquire);
        if let Some((built, found)) = places.by_root.read().get(&root) {
            if *built == epoch {
                return Ok(found.clone());
            }
        }
        let mut found = Vec::new();
        let mut level = vec![root];
        for _ in 0..=super::NETWORK_DEPTH_MAX {
            let mut next = Vec::new();
            for id in level {
                let organisation = self.organisation(id)?;
                if matches!(
                    organisation.organisation_type,
                    OrganisationType::Merchant | OrganisationType::Venue
                ) {
                    if let Some(address) = self.inner.store.organisation_address(id)? {
                        if let Ok(point) = Point::new(address.lat, address.lon) {
                            found.push(Place {
                                id,
                                point,
                                name: organisation.name.to_lowercase(),
                            });
                        }
                    }
                }
                next.extend(self.inner.store.organisation_children(id)?);
            }
            if next.is_empty() {
                break;
            }
            level = next;
        }
        let found = Arc::new(found);
        places.by_root.write().insert(root, (epoch, found.clone()));
        Ok(found)
    }

    /// The merchants and venues with an address under `root` (itself included).
    pub(super) fn place_ids(&self, root: OrganisationId) -> Result<Vec<OrganisationId>, EngineError> {
        Ok(self.places_under(root)?.iter().map(|place| place.id).collect())
    }

    /// The business's merchants and venues with an address within `query.within_m` of its
    /// origin, nearest first: the `take` after the first `skip` (only those read whole), and
    /// how many there are in all.
    pub fn locations(
        &self,
        tenant: &Tenant,
        query: &LocationQuery,
        skip: usize,
        take: usize,
    ) -> Result<(Vec<Located>, usize), EngineError> {
        let root = match query.under {
            Some(id) => self.organisation_for(tenant.organisation, id)?.id,
            None => tenant.organisation,
        };
        let places = self.places_under(root)?;
        let name = query.name.as_ref().map(|text| text.to_lowercase());
        let keyed: Vec<(usize, Point)> = places
            .iter()
            .enumerate()
            .filter(|(_, place)| name.as_ref().is_none_or(|text| place.name.contains(text)))
            .map(|(index, place)| (index, place.point))
            .collect();
        let found = nearest(&keyed, query.origin, query.within_m);
        let total = found.len();
        let mut page = Vec::new();
        for (index, distance_m) in found.into_iter().skip(skip).take(take) {
            let id = places[index].id;
            let (Some(address), Ok(organisation)) = (self.inner.store.organisation_address(id)?, self.organisation(id))
            else {
                continue;
            };
            page.push(Located {
                organisation,
                address,
                distance_m,
            });
        }
        Ok((page, total))
    }

    /// Organisation `id` of the business's network, with its address if it has one.
    pub fn network_organisation(
        &self,
        tenant: &Tenant,
        id: OrganisationId,
    ) -> Result<(Organisation, Option<Address>), EngineError> {
        let organisation = self.organisation_for(tenant.organisation, id)?;
        let address = self.inner.store.organisation_address(organisation.id)?;
        Ok((organisation, address))
    }

    /// Every organisation under `id` (one of the business's network), with its address,
    /// by name.
    pub fn network_under(
        &self,
        tenant: &Tenant,
        id: OrganisationId,
    ) -> Result<Vec<(Organisation, Option<Address>)>, EngineError> {
        let root = self.organisation_for(tenant.organisation, id)?;
        let mut found = Vec::new();
        let mut level = self.inner.store.organisation_children(root.id)?;
        for _ in 0..=super::NETWORK_DEPTH_MAX {
            let mut next = Vec::new();
            for child in level {
                let organisation = self.organisation(child)?;
                let address = self.inner.store.organisation_address(child)?;
                next.extend(self.inner.store.organisation_children(child)?);
                found.push((organisation, address));
            }
            if next.is_empty() {
                break;
            }
            level = next;
        }
        found.sort_by_key(|(organisation, _)| (organisation.name.to_lowercase(), organisation.id));
        Ok(found)
    }
}
