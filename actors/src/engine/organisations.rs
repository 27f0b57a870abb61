//! Changes to the organisation network: add, rename, give TAPs, take away; and which
//! organisation (and till) a POS purchase was made at.
//!
//! The network is shared by live and test data, so only a live-mode admin changes it. TAP
//! codes are unique within a business (its merchants and venues), kept in an index next to
//! the organisations; every change to them happens under `access_writes`, so two calls
//! cannot give one code to two tills.

use super::{api_keys, sha256, NETWORK_DEPTH_MAX};
use super::{invalid, Engine, EngineError};
use crate::domain::access::{Caller, Role};
use crate::domain::ids::{Mode, OrganisationId, TapId};
use crate::domain::money::Currency;
use crate::domain::organisation::ApiKeyKind;
use crate::domain::organisation::{tap_code, Organisation, OrganisationType, Tap, TapEntry, TAPS_MAX, TAP_NAME_MAX};
use crate::domain::purchase::SaleOrganisation;
use crate::storage::WriteSet;
use std::collections::HashSet;
use std::sync::Arc;

/// Longest organisation name accepted.
pub const ORGANISATION_NAME_MAX: usize = 200;

/// An organisation as a response shows it: the record, and its parent's name.
#[derive(Debug, Clone)]
pub struct OrganisationEntry {
    pub organisation: Organisation,
    pub parent_name: Option<String>,
}

/// An organisation to add under `parent` (the caller's own organisation when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrganisation {
    pub name: String,
    pub organisation_type: OrganisationType,
    pub parent: Option<OrganisationId>,
    pub taps: Vec<NewTap>,
}

/// A till as given: a code (unique in the business) and an optional name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTap {
    pub code: String,
    pub name: Option<String>,
}

/// What `PUT /organisations/{id}` changes; `None` leaves it as it is. `taps` replaces the
/// list: a TAP whose code stays keeps its id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrganisationUpdate {
    pub name: Option<String>,
    pub taps: Option<Vec<NewTap>>,
}

/// How a purchase names a TAP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TapRef {
    Id(TapId),
    Code(String),
}

/// Where a purchase says it was made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SaleAt {
    /// Not said: the caller's own organisation (a merchant's or venue's key says it all).
    #[default]
    Caller,
    Organisation(OrganisationId),
    /// A till of a merchant (`merchant_tap`) or of a venue (`venue_tap`).
    Tap(OrganisationType, TapRef),
}

/// An organisation's name: 1 to `ORGANISATION_NAME_MAX` printable characters (every way in:
/// the API, and the operator's CLI, which no JSON extractor guards).
pub(super) fn checked_name(name: &str) -> Result<String, EngineError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > ORGANISATION_NAME_MAX || name.chars().any(char::is_control) {
        return Err(invalid(
            "name",
            format!("must be 1 to {ORGANISATION_NAME_MAX} printable characters"),
        ));
    }
    Ok(name.to_string())
}

impl Engine {
    /// The network is shared by live and test data: changing it needs a live-mode admin.
    fn check_may_change_network(&self, caller: &Caller) -> Result<(), EngineError> {
        if caller.role != Role::Admin {
            return Err(EngineError::Forbidden(
                "changing the organisation network needs the ADMIN role".into(),
            ));
        }
        if caller.mode != Mode::Live {
            return Err(EngineError::Forbidden(
                "the network is shared by live and test data; change it in live mode".into(),
            ));
        }
        Ok(())
    }

    /// `wanted` checked as the TAPs of `organisation` in `business`: codes valid, distinct,
    /// and not held by another organisation; a code `existing` already has keeps its id.
    fn checked_taps(
        &self,
        business: OrganisationId,
        organisation: (OrganisationId, OrganisationType),
        existing: &[Tap],
        wanted: Vec<NewTap>,
    ) -> Result<Vec<Tap>, EngineError> {
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        if !organisation.1.has_taps() {
            return Err(invalid(
                "taps",
                format!("only merchants and venues have TAPs, not a {}", organisation.1.code()),
            ));
        }
        if wanted.len() > TAPS_MAX {
            return Err(invalid("taps", format!("at most {TAPS_MAX} TAPs per organisation")));
        }
        let mut seen = HashSet::new();
        let mut taps = Vec::with_capacity(wanted.len());
        for new in wanted {
            let code = tap_code(&new.code).map_err(|message| invalid("taps.code", message))?;
            if !seen.insert(code.clone()) {
                return Err(invalid("taps.code", format!("{code} is given twice")));
            }
            let name = new
                .name
                .map(|name| name.trim().to_string())
                .filter(|name| !name.is_empty());
            if name
                .as_ref()
                .is_some_and(|name| name.chars().count() > TAP_NAME_MAX || name.chars().any(char::is_control))
            {
                return Err(invalid(
                    "taps.name",
                    format!("at most {TAP_NAME_MAX} printable characters"),
                ));
            }
            if let Some(holder) = self.inner.store.tap_by_code(business, &code)? {
                if holder.organisation != organisation.0 {
                    return Err(EngineError::AlreadyExists("TAP"));
                }
            }
            let id = existing
                .iter()
                .find(|tap| tap.code == code)
                .map_or_else(TapId::random, |tap| tap.id);
            taps.push(Tap { id, code, name });
        }
        Ok(taps)
    }

    /// The index writes that take `old` TAPs of `organisation` to `new` ones.
    fn tap_writes(
        writes: &mut WriteSet,
        business: OrganisationId,
        organisation: OrganisationId,
        old: &[Tap],
        new: &[Tap],
    ) {
        for tap in old {
            if !new.iter().any(|kept| kept.code == tap.code) {
                let entry = TapEntry {
                    organisation,
                    tap: tap.clone(),
                };
                writes.remove_tap(business, &entry);
            }
        }
        for tap in new {
            let entry = TapEntry {
                organisation,
                tap: tap.clone(),
            };
            writes.tap(business, &entry);
        }
    }

    /// An organisation as a response shows it: with its parent's name.
    fn organisation_entry(&self, organisation: Organisation) -> Result<OrganisationEntry, EngineError> {
        let parent_name = match organisation.parent {
            Some(parent) => Some(self.organisation(parent)?.name),
            None => None,
        };
        Ok(OrganisationEntry {
            organisation,
            parent_name,
        })
    }

    /// The organisation `id`, if the caller reaches it (its own or one under it).
    pub fn reached_organisation(&self, caller: &Caller, id: OrganisationId) -> Result<OrganisationEntry, EngineError> {
        let organisation = self.organisation_for(caller.organisation, id)?;
        self.organisation_entry(organisation)
    }

    /// Adds an organisation under `new.parent` (default: the caller's), which the caller must
    /// reach and whose type must hold the new one's.
    pub async fn create_organisation(
        &self,
        caller: &Caller,
        new: NewOrganisation,
    ) -> Result<OrganisationEntry, EngineError> {
        self.check_open()?;
        self.check_may_change_network(caller)?;
        let name = checked_name(&new.name)?;
        let parent = self.organisation_for(caller.organisation, new.parent.unwrap_or(caller.organisation))?;
        if !parent.organisation_type.may_hold(new.organisation_type) {
            return Err(EngineError::Invalid {
                parameter: "type",
                message: format!(
                    "a {} organisation cannot be placed under a {} one",
                    new.organisation_type.code(),
                    parent.organisation_type.code()
                ),
            });
        }
        let _writing = self.inner.access_writes.lock().await;
        let id = OrganisationId::random();
        let business = self.business_of(parent.id)?;
        let taps = self.checked_taps(business, (id, new.organisation_type), &[], new.taps)?;
        let now = self.now();
        let organisation = Organisation {
            id,
            name,
            organisation_type: new.organisation_type,
            parent: Some(parent.id),
            default_currency: parent.default_currency,
            created_on: now,
            taps,
            updated_on: now,
        };
        let mut writes = WriteSet::default();
        writes.organisation(&organisation);
        Self::tap_writes(&mut writes, business, id, &[], &organisation.taps);
        self.inner.store.commit_async(writes).await?;
        self.inner.places.changed();
        self.organisation_entry(organisation)
    }

    /// Renames an organisation the caller reaches, or replaces its TAPs.
    pub async fn update_organisation(
        &self,
        caller: &Caller,
        id: OrganisationId,
        update: OrganisationUpdate,
    ) -> Result<OrganisationEntry, EngineError> {
        self.check_open()?;
        self.check_may_change_network(caller)?;
        let name = update.name.as_deref().map(checked_name).transpose()?;
        let _writing = self.inner.access_writes.lock().await;
        let current = self.organisation_for(caller.organisation, id)?;
        let business = self.business_of(current.id)?;
        let taps = match update.taps {
            Some(wanted) => self.checked_taps(business, (id, current.organisation_type), &current.taps, wanted)?,
            None => current.taps.clone(),
        };
        let mut updated = current.clone();
        updated.name = name.unwrap_or(updated.name);
        updated.taps = taps;
        if updated == current {
            return self.organisation_entry(current);
        }
        updated.updated_on = self.now();
        let mut writes = WriteSet::default();
        writes.organisation(&updated);
        Self::tap_writes(&mut writes, business, id, &current.taps, &updated.taps);
        self.inner.store.commit_async(writes).await?;
        self.inner.organisations.write().insert(id, updated.clone());
        self.inner.places.changed();
        self.organisation_entry(updated)
    }

    /// Takes a merchant or venue out of the network: it must hold no organisations, and the
    /// caller must be above it. Its TAPs stop naming it and its API keys are revoked in the
    /// same commit; purchases made there keep its id.
    pub async fn delete_organisation(&self, caller: &Caller, id: OrganisationId) -> Result<(), EngineError> {
        self.check_open()?;
        self.check_may_change_network(caller)?;
        let _writing = self.inner.access_writes.lock().await;
        let organisation = self.organisation_for(caller.organisation, id)?;
        if organisation.id == caller.organisation {
            return Err(EngineError::Forbidden(
                "an organisation cannot remove itself; ask an organisation above it".into(),
            ));
        }
        if !organisation.organisation_type.has_taps() {
            return Err(EngineError::Conflict(format!(
                "a {} owns contacts and wallets and cannot be removed",
                organisation.organisation_type.code()
            )));
        }
        if !self.inner.store.organisation_children(id)?.is_empty() {
            return Err(EngineError::Conflict(
                "the organisation still holds others; remove them first".into(),
            ));
        }
        let business = self.business_of(id)?;
        let now = self.now();
        let mut writes = WriteSet::default();
        writes.remove_organisation(&organisation);
        Self::tap_writes(&mut writes, business, id, &organisation.taps, &[]);
        let mut revoked = Vec::new();
        for hash in self.inner.store.organisation_api_key_hashes(id)? {
            if let Some(mut record) = self.inner.store.api_key(&hash)? {
                if record.revoked_on.is_none() {
                    record.revoked_on = Some(now);
                    writes.api_key(&hash, &record);
                    revoked.push((hash, record));
                }
            }
        }
        self.inner.store.commit_async(writes).await?;
        self.inner.organisations.write().remove(&id);
        self.inner.places.changed();
        let mut cache = self.inner.api_keys.write();
        for (hash, record) in revoked {
            cache.insert(hash, Arc::new(record));
        }
        Ok(())
    }

    /// The organisation (and till) a purchase of `tenant`'s business was made at, as the
    /// caller in `caller` may name it: an organisation it reaches, or a TAP of a merchant or
    /// venue in the business that it reaches.
    pub(in crate::engine) fn sale_organisation(
        &self,
        caller: OrganisationId,
        business: OrganisationId,
        at: &SaleAt,
    ) -> Result<SaleOrganisation, EngineError> {
        match at {
            SaleAt::Caller => Ok(SaleOrganisation { id: caller, tap: None }),
            SaleAt::Organisation(id) => {
                let organisation = self.organisation_for(caller, *id)?;
                if self.business_of(organisation.id)? != business {
                    return Err(EngineError::NotFound("organisation"));
                }
                Ok(SaleOrganisation {
                    id: organisation.id,
                    tap: None,
                })
            }
            SaleAt::Tap(kind, tap) => {
                let entry = match tap {
                    TapRef::Id(id) => self.inner.store.tap_by_id(business, *id)?,
                    TapRef::Code(code) => self.inner.store.tap_by_code(business, code.trim())?,
                };
                let entry = entry.ok_or(EngineError::NotFound("TAP"))?;
                let organisation = self
                    .organisation_for(caller, entry.organisation)
                    .map_err(|_| EngineError::NotFound("TAP"))?;
                if organisation.organisation_type != *kind {
                    return Err(invalid(
                        "organisation",
                        format!(
                            "that TAP belongs to a {}, not a {}",
                            organisation.organisation_type.code(),
                            kind.code()
                        ),
                    ));
                }
                Ok(SaleOrganisation {
                    id: organisation.id,
                    tap: Some(entry.tap),
                })
            }
        }
    }
}

impl Engine {
    pub fn organisation(&self, id: OrganisationId) -> Result<Organisation, EngineError> {
        if let Some(found) = self.inner.organisations.read().get(&id) {
            return Ok(found.clone());
        }
        let found = self
            .inner
            .store
            .organisation(id)?
            .ok_or(EngineError::NotFound("organisation"))?;
        self.inner.organisations.write().insert(id, found.clone());
        Ok(found)
    }

    /// The organisation `id` as `caller` may see it: `caller` itself or one under it in the
    /// network. Anything else is not found (another network's organisations are not even
    /// confirmed to exist).
    pub fn organisation_for(&self, caller: OrganisationId, id: OrganisationId) -> Result<Organisation, EngineError> {
        let not_found = |error: EngineError| match error {
            EngineError::NotFound(_) => EngineError::NotFound("organisation"),
            other => other,
        };
        let target = self.organisation(id).map_err(not_found)?;
        let mut current = target.id;
        let mut parent = target.parent;
        for _ in 0..=NETWORK_DEPTH_MAX {
            if current == caller {
                return Ok(target);
            }
            match parent {
                Some(next) => {
                    current = next;
                    parent = self.organisation(next).map_err(not_found)?.parent;
                }
                None => break,
            }
        }
        Err(EngineError::NotFound("organisation"))
    }

    /// Adds a service owner or business at the top of a network (the operator's
    /// `rewards admin create-organisation` without a parent): a new tenant.
    pub async fn create_root_organisation(
        &self,
        name: &str,
        organisation_type: OrganisationType,
        default_currency: Option<Currency>,
    ) -> Result<Organisation, EngineError> {
        self.check_open()?;
        let name = checked_name(name)?;
        if !matches!(
            organisation_type,
            OrganisationType::ServiceOwner | OrganisationType::Business
        ) {
            return Err(invalid(
                "type",
                "only a SERVICE_OWNER or a BUSINESS stands at the top of a network",
            ));
        }
        let organisation = Organisation {
            id: OrganisationId::random(),
            name,
            organisation_type,
            parent: None,
            default_currency: default_currency.unwrap_or(self.inner.settings.organisation.default_currency),
            created_on: self.now(),
            taps: Vec::new(),
            updated_on: self.now(),
        };
        let mut writes = WriteSet::default();
        writes.organisation(&organisation);
        self.inner.store.commit_async(writes).await?;
        Ok(organisation)
    }

    /// Every organisation under `id` (not `id` itself), nearest first, optionally only of
    /// one type. `caller` must reach `id`.
    pub fn organisation_network(
        &self,
        caller: &Caller,
        id: OrganisationId,
        only: Option<OrganisationType>,
    ) -> Result<Vec<OrganisationEntry>, EngineError> {
        let root = self.organisation_for(caller.organisation, id)?;
        let mut found = Vec::new();
        let mut level = vec![root.id];
        for _ in 0..NETWORK_DEPTH_MAX {
            let mut next = Vec::new();
            for parent in level {
                for child in self.inner.store.organisation_children(parent)? {
                    let organisation = self.organisation(child)?;
                    next.push(organisation.id);
                    found.push(organisation);
                }
            }
            if next.is_empty() {
                break;
            }
            level = next;
        }
        found.retain(|organisation| only.is_none_or(|kind| organisation.organisation_type == kind));
        found
            .into_iter()
            .map(|organisation| self.organisation_entry(organisation))
            .collect()
    }

    /// Creates the first organisation with its API keys (and first user) and marks the store
    /// bootstrapped, in one atomic commit: either all of it is on disk or none of it.
    pub async fn bootstrap_organisation(
        &self,
        id: OrganisationId,
        name: &str,
        default_currency: Currency,
        keys: &[(Mode, ApiKeyKind, &str)],
        admin: Option<&crate::domain::access::User>,
        marker: &str,
    ) -> Result<Organisation, EngineError> {
        let now = self.now();
        let organisation = Organisation {
            id,
            name: name.to_string(),
            organisation_type: OrganisationType::Business,
            parent: None,
            default_currency,
            created_on: now,
            taps: Vec::new(),
            updated_on: now,
        };
        let mut writes = WriteSet::default();
        writes.organisation(&organisation);
        for (mode, kind, key) in keys {
            let record = api_keys::key_record(organisation.id, *kind, *mode, "bootstrap".into(), key, now);
            writes.api_key(&sha256(key), &record);
        }
        if let Some(user) = admin {
            writes.user(user);
        }
        writes.meta(marker, organisation.id.as_bytes());
        crate::actors::wallet::mark_histories_kept(&mut writes);
        super::expiry::mark_index_kept(&mut writes);
        self.inner.store.commit_async(writes).await?;
        Ok(organisation)
    }
}
