//! Organisations and the network, TAPs, and API keys with their indexes.

use crate::storage::*;

impl Store {
    /// The organisations directly under `parent`.
    /// Where an organisation is, if it was told.
    pub fn organisation_address(
        &self,
        id: OrganisationId,
    ) -> Result<Option<crate::domain::location::Address>, StoreError> {
        self.get(&keys::organisation_address(id))
    }

    pub fn organisation_children(&self, parent: OrganisationId) -> Result<Vec<OrganisationId>, StoreError> {
        let prefix = keys::organisation_children(parent);
        self.scan(&prefix, usize::MAX)
    }

    pub fn organisation(&self, id: OrganisationId) -> Result<Option<Organisation>, StoreError> {
        self.get_or_upgrade(&keys::organisation(id), |old: LegacyOrganisation| {
            Organisation::from(old)
        })
    }

    pub fn tap_by_code(&self, business: OrganisationId, code: &str) -> Result<Option<TapEntry>, StoreError> {
        self.get(&keys::tap_code(business, code))
    }

    pub fn tap_by_id(&self, business: OrganisationId, id: TapId) -> Result<Option<TapEntry>, StoreError> {
        self.get(&keys::tap_id(business, id))
    }

    /// A key's record; records of the first release's layout are read and upgraded.
    pub fn api_key(&self, key_hash: &[u8; 32]) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.get_or_upgrade(&keys::api_key(key_hash), |legacy: LegacyApiKeyRecord| {
            legacy.upgrade(key_hash)
        })
    }

    /// The hash of the key with this id.
    pub fn api_key_hash(&self, id: ApiKeyId) -> Result<Option<[u8; 32]>, StoreError> {
        self.get(&keys::api_key_id(id))
    }

    /// The hashes of every key of `organisation`, in id order.
    pub fn organisation_api_key_hashes(&self, organisation: OrganisationId) -> Result<Vec<[u8; 32]>, StoreError> {
        let prefix = keys::organisation_api_keys(organisation);
        self.scan(&prefix, usize::MAX)
    }
}

impl WriteSet {
    pub fn organisation_address(&mut self, id: OrganisationId, address: &crate::domain::location::Address) {
        self.put(keys::organisation_address(id), encode(address));
    }

    pub fn organisation(&mut self, organisation: &Organisation) {
        self.put(keys::organisation(organisation.id), encode(organisation));
        if let Some(parent) = organisation.parent {
            self.put(
                keys::organisation_child(parent, organisation.id),
                encode(&organisation.id),
            );
        }
    }

    /// An organisation leaves the network: its record and its place under its parent.
    pub fn remove_organisation(&mut self, organisation: &Organisation) {
        self.remove(keys::organisation(organisation.id));
        if let Some(parent) = organisation.parent {
            self.remove(keys::organisation_child(parent, organisation.id));
        }
    }

    /// A TAP of one of `business`'s organisations, findable by code and by id.
    pub fn tap(&mut self, business: OrganisationId, entry: &TapEntry) {
        let value = encode(entry);
        self.put(keys::tap_code(business, &entry.tap.code), value.clone());
        self.put(keys::tap_id(business, entry.tap.id), value);
    }

    pub fn remove_tap(&mut self, business: OrganisationId, entry: &TapEntry) {
        self.remove(keys::tap_code(business, &entry.tap.code));
        self.remove(keys::tap_id(business, entry.tap.id));
    }

    /// A key's record and its two indexes (by id, and by organisation for lists).
    pub fn api_key(&mut self, key_hash: &[u8; 32], record: &ApiKeyRecord) {
        self.put(keys::api_key(key_hash), encode(record));
        self.put(keys::api_key_id(record.id), encode(key_hash));
        self.put(
            keys::organisation_api_key(record.organisation, record.id),
            encode(key_hash),
        );
    }
}
