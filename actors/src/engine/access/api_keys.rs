//! API keys of the organisations: create (the key is returned once and stored as its
//! SHA-256), list, roll (a new key; the old one works until a date the caller chooses),
//! revoke; and the check every request makes.

use crate::domain::access::{Caller, Role};
use crate::domain::ids::{ApiKeyId, Mode, OrganisationId};
use crate::domain::organisation::{api_key_hint, ApiKeyKind, ApiKeyRecord, ApiKeyState, OrganisationType};
use crate::engine::{sha256, Engine, EngineError};
use crate::storage::WriteSet;
use std::sync::Arc;

/// Longest key name accepted.
pub const API_KEY_NAME_MAX: usize = 100;

/// A key to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    /// The caller's own organisation when `None`.
    pub organisation: Option<OrganisationId>,
    pub kind: ApiKeyKind,
    pub mode: Mode,
    pub name: String,
}

/// A key as a response shows it: its record, its state now, the name of its organisation,
/// and, only when it was just made, the key itself (never available again).
#[derive(Debug, Clone)]
pub struct ApiKeyEntry {
    pub record: ApiKeyRecord,
    pub state: ApiKeyState,
    pub organisation_name: String,
    pub key: Option<String>,
}

pub(in crate::engine) fn key_record(
    organisation: OrganisationId,
    kind: ApiKeyKind,
    mode: Mode,
    name: String,
    key: &str,
    now: i64,
) -> ApiKeyRecord {
    ApiKeyRecord {
        organisation,
        mode,
        kind,
        created_on: now,
        id: ApiKeyId::random(),
        name,
        hint: api_key_hint(key),
        expires_on: None,
        revoked_on: None,
        rolled_to: None,
    }
}

impl Engine {
    fn key_entry(&self, record: ApiKeyRecord, key: Option<String>) -> Result<ApiKeyEntry, EngineError> {
        Ok(ApiKeyEntry {
            state: record.state(self.now()),
            organisation_name: self.organisation(record.organisation)?.name,
            record,
            key,
        })
    }

    /// Keys, users and the network are managed by admins; a test-mode caller manages test
    /// keys only, so nothing made in test mode can reach live data.
    fn check_may_manage_keys(&self, caller: &Caller, mode: Mode) -> Result<(), EngineError> {
        if caller.role != Role::Admin {
            return Err(EngineError::Forbidden("managing API keys needs the ADMIN role".into()));
        }
        if caller.mode == Mode::Test && mode == Mode::Live {
            return Err(EngineError::Forbidden(
                "a test-mode caller cannot create or change live keys".into(),
            ));
        }
        Ok(())
    }

    pub async fn create_api_key(&self, caller: &Caller, new: NewApiKey) -> Result<ApiKeyEntry, EngineError> {
        self.check_open()?;
        let name = new.name.trim().to_string();
        if name.chars().count() > API_KEY_NAME_MAX || name.chars().any(char::is_control) {
            return Err(crate::engine::invalid(
                "name",
                format!("must be at most {API_KEY_NAME_MAX} printable characters"),
            ));
        }
        let organisation =
            self.organisation_for(caller.organisation, new.organisation.unwrap_or(caller.organisation))?;
        self.check_may_manage_keys(caller, new.mode)?;
        let key = crate::engine::secrets::api_key(new.kind, new.mode);
        let record = key_record(organisation.id, new.kind, new.mode, name, &key, self.now());
        let mut writes = WriteSet::default();
        writes.api_key(&sha256(&key), &record);
        self.inner.store.commit_async(writes).await?;
        self.key_entry(record, Some(key))
    }

    /// The keys of an organisation the caller reaches, oldest first; a test-mode caller sees
    /// test keys only.
    pub fn api_keys(&self, caller: &Caller, organisation: OrganisationId) -> Result<Vec<ApiKeyEntry>, EngineError> {
        let organisation = self.organisation_for(caller.organisation, organisation)?;
        self.check_may_manage_keys(caller, caller.mode)?;
        let mut found = Vec::new();
        for hash in self.inner.store.organisation_api_key_hashes(organisation.id)? {
            if let Some(record) = self.inner.store.api_key(&hash)? {
                if caller.mode == Mode::Live || record.mode == Mode::Test {
                    found.push(record);
                }
            }
        }
        found.sort_by_key(|record| (record.created_on, record.id));
        found.into_iter().map(|record| self.key_entry(record, None)).collect()
    }

    /// A key the caller may manage, with its hash.
    fn api_key_for(&self, caller: &Caller, id: ApiKeyId) -> Result<([u8; 32], ApiKeyRecord), EngineError> {
        let not_found = || EngineError::NotFound("api key");
        let hash = self.inner.store.api_key_hash(id)?.ok_or_else(not_found)?;
        let record = self.inner.store.api_key(&hash)?.ok_or_else(not_found)?;
        self.organisation_for(caller.organisation, record.organisation)
            .map_err(|_| not_found())?;
        if caller.mode == Mode::Test && record.mode == Mode::Live {
            return Err(not_found());
        }
        self.check_may_manage_keys(caller, record.mode)?;
        Ok((hash, record))
    }

    pub fn api_key(&self, caller: &Caller, id: ApiKeyId) -> Result<ApiKeyEntry, EngineError> {
        let record = self.api_key_for(caller, id)?.1;
        self.key_entry(record, None)
    }

    /// Writes a changed key record and, once it is durable, the cache.
    async fn store_api_keys(&self, changed: &[([u8; 32], &ApiKeyRecord)]) -> Result<(), EngineError> {
        let mut writes = WriteSet::default();
        for (hash, record) in changed {
            writes.api_key(hash, record);
        }
        self.inner.store.commit_async(writes).await?;
        let mut cache = self.inner.api_keys.write();
        for (hash, record) in changed {
            cache.insert(*hash, Arc::new((*record).clone()));
        }
        Ok(())
    }

    /// Issues a new key in place of `id`; the old key keeps working until `old_expires_on`
    /// (epoch seconds, not in the past, at most `auth.api_key_roll_overlap_max_s` ahead;
    /// a day from now when not given).
    pub async fn roll_api_key(
        &self,
        caller: &Caller,
        id: ApiKeyId,
        old_expires_on: Option<i64>,
    ) -> Result<ApiKeyEntry, EngineError> {
        let overlap_max_s = self.inner.settings.auth.api_key_roll_overlap_max_s;
        self.check_open()?;
        let _writing = self.inner.access_writes.lock().await;
        let (old_hash, mut old) = self.api_key_for(caller, id)?;
        let now = self.now();
        let old_expires_on = old_expires_on.unwrap_or(now + 86_400);
        if old.state(now) != ApiKeyState::Active {
            return Err(crate::engine::invalid(
                "id",
                format!("the key is {}", old.state(now).code()),
            ));
        }
        if old.rolled_to.is_some() {
            return Err(crate::engine::invalid(
                "id",
                "the key was already rolled; roll its replacement",
            ));
        }
        if old_expires_on < now || old_expires_on > now + overlap_max_s {
            return Err(crate::engine::invalid(
                "expiration_date",
                format!("must be between now ({now}) and {overlap_max_s} seconds from now"),
            ));
        }
        let key = crate::engine::secrets::api_key(old.kind, old.mode);
        let record = key_record(old.organisation, old.kind, old.mode, old.name.clone(), &key, now);
        old.expires_on = Some(old_expires_on);
        old.rolled_to = Some(record.id);
        let new_hash = sha256(&key);
        self.store_api_keys(&[(old_hash, &old), (new_hash, &record)]).await?;
        self.key_entry(record, Some(key))
    }

    /// Stops a key at once. Revoking a revoked key changes nothing.
    /// Stops a key at once. `calling_key` is the key the request came with: a secret key may
    /// not revoke itself when it is its organisation's last active secret key of its mode,
    /// which would leave the organisation with no key to make another.
    pub async fn revoke_api_key(
        &self,
        caller: &Caller,
        id: ApiKeyId,
        calling_key: Option<ApiKeyId>,
    ) -> Result<ApiKeyEntry, EngineError> {
        self.check_open()?;
        let _writing = self.inner.access_writes.lock().await;
        let (hash, mut record) = self.api_key_for(caller, id)?;
        if record.revoked_on.is_none() && calling_key == Some(record.id) && record.kind == ApiKeyKind::Secret {
            let now = self.now();
            let mut another = false;
            for other_hash in self.inner.store.organisation_api_key_hashes(record.organisation)? {
                if other_hash == hash {
                    continue;
                }
                if let Some(other) = self.inner.store.api_key(&other_hash)? {
                    another |= other.kind == ApiKeyKind::Secret
                        && other.mode == record.mode
                        && other.state(now) == ApiKeyState::Active;
                }
            }
            if !another {
                return Err(EngineError::Conflict(
                    "this is the organisation's last active secret key of its mode, and it cannot revoke itself: \
                     create another secret key first (POST /backoffice/v2/api_keys), then revoke this one with it"
                        .into(),
                ));
            }
        }
        if record.revoked_on.is_none() {
            record.revoked_on = Some(self.now());
            self.store_api_keys(&[(hash, &record)]).await?;
        }
        self.key_entry(record, None)
    }

    /// The record of a key that may be used now; unknown, expired and revoked keys are
    /// refused alike from the caller's point of view, with the reason in the message.
    pub fn authenticate_api_key(&self, key: &str) -> Result<Arc<ApiKeyRecord>, EngineError> {
        let hash = sha256(key);
        let cached = self.inner.api_keys.read().get(&hash).cloned();
        let record = match cached {
            Some(record) => record,
            None => {
                let record = self
                    .inner
                    .store
                    .api_key(&hash)?
                    .ok_or(EngineError::InvalidApiKey("unknown key"))?;
                // A change written meanwhile is already in the cache and wins.
                self.inner
                    .api_keys
                    .write()
                    .entry(hash)
                    .or_insert_with(|| Arc::new(record))
                    .clone()
            }
        };
        match record.state(self.now()) {
            ApiKeyState::Active => Ok(record),
            ApiKeyState::Expired => Err(EngineError::InvalidApiKey("the key has expired")),
            ApiKeyState::Revoked => Err(EngineError::InvalidApiKey("the key was revoked")),
        }
    }

    /// The business whose contacts and wallets a caller in `organisation` works on: the
    /// organisation itself or the nearest business above it (merchants and venues act for
    /// their business). A service owner, above every business, stands for itself. Walks the
    /// cached network without cloning (every back-office request asks).
    pub fn business_of(&self, organisation: OrganisationId) -> Result<OrganisationId, EngineError> {
        let mut current = organisation;
        for _ in 0..crate::engine::NETWORK_DEPTH_MAX {
            let step = self
                .inner
                .organisations
                .read()
                .get(&current)
                .map(|found| (found.organisation_type, found.parent));
            let (kind, parent) = match step {
                Some(step) => step,
                None => {
                    let found = self.organisation(current)?;
                    (found.organisation_type, found.parent)
                }
            };
            match (kind, parent) {
                (OrganisationType::Business, _) => return Ok(current),
                (_, Some(parent)) => current = parent,
                (_, None) => break,
            }
        }
        Ok(organisation)
    }
}
