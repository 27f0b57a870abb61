//! Contacts and their indexes: by code and wallet code, sign-in identities, preferences, and a registry contact's memberships.

use crate::storage::*;

impl Store {
    pub fn contact(&self, tenant: &Tenant, id: ContactId) -> Result<Option<Contact>, StoreError> {
        self.get(&keys::contact(tenant, id))
    }

    pub fn contact_by_code(&self, tenant: &Tenant, code: &ContactCode) -> Result<Option<ContactId>, StoreError> {
        self.get(&keys::contact_code(tenant, code))
    }

    /// The contact whose wallet has this code.
    pub fn contact_by_wallet_code(&self, tenant: &Tenant, code: &WalletCode) -> Result<Option<ContactId>, StoreError> {
        self.get(&keys::wallet_code(tenant, code))
    }

    pub fn contact_identity(
        &self,
        tenant: &Tenant,
        provider: IdentityProvider,
        value: &str,
    ) -> Result<Option<ContactIdentity>, StoreError> {
        self.get(&keys::contact_identity(tenant, provider.as_byte(), value))
    }

    pub fn contact_preferences(
        &self,
        tenant: &Tenant,
        id: ContactId,
    ) -> Result<Option<ContactPreferences>, StoreError> {
        self.get(&keys::contact_preferences(tenant, id))
    }

    pub fn contact_details(&self, tenant: &Tenant, id: ContactId) -> Result<Option<ContactDetails>, StoreError> {
        self.get(&keys::contact_details(tenant, id))
    }

    pub fn membership(
        &self,
        tenant: &Tenant,
        contact: ContactId,
        business: OrganisationId,
    ) -> Result<Option<Membership>, StoreError> {
        self.get(&keys::membership(tenant, contact, business))
    }

    /// Every business a registry contact joined (and those it left), in business id order.
    pub fn memberships(&self, tenant: &Tenant, contact: ContactId) -> Result<Vec<Membership>, StoreError> {
        let prefix = keys::memberships(tenant, contact);
        self.scan(&prefix, usize::MAX)
    }

    /// The sign-in identities of a contact (provider, value); empty for contacts made
    /// before this index existed, and for contacts the back office made.
    pub fn contact_identities(
        &self,
        tenant: &Tenant,
        id: ContactId,
    ) -> Result<Vec<(IdentityProvider, String)>, StoreError> {
        Ok(self.get(&keys::contact_identities(tenant, id))?.unwrap_or_default())
    }
}

impl WriteSet {
    pub fn contact_identity(
        &mut self,
        tenant: &Tenant,
        provider: IdentityProvider,
        value: &str,
        identity: &ContactIdentity,
    ) {
        self.put(
            keys::contact_identity(tenant, provider.as_byte(), value),
            encode(identity),
        );
    }

    pub fn contact_preferences(&mut self, tenant: &Tenant, id: ContactId, preferences: &ContactPreferences) {
        self.put(keys::contact_preferences(tenant, id), encode(preferences));
    }

    pub fn contact_details(&mut self, tenant: &Tenant, id: ContactId, details: &ContactDetails) {
        self.put(keys::contact_details(tenant, id), encode(details));
    }

    pub fn contact(&mut self, contact: &Contact) {
        self.put(keys::contact(&contact.tenant, contact.id), encode(contact));
    }

    pub fn contact_code(&mut self, tenant: &Tenant, code: &ContactCode, id: ContactId) {
        self.put(keys::contact_code(tenant, code), encode(&id));
    }

    pub fn wallet_code(&mut self, tenant: &Tenant, code: &WalletCode, contact: ContactId) {
        self.put(keys::wallet_code(tenant, code), encode(&contact));
    }

    /// A contact leaves its business: its record, its code and wallet-code indexes, its
    /// preferences and details and its list of identities (the identities are removed one by one).
    pub fn remove_contact(&mut self, contact: &Contact) {
        self.remove(keys::contact(&contact.tenant, contact.id));
        if let Some(code) = &contact.code {
            self.remove(keys::contact_code(&contact.tenant, code));
        }
        self.remove(keys::wallet_code(&contact.tenant, &contact.wallet_code));
        self.remove(keys::contact_preferences(&contact.tenant, contact.id));
        self.remove(keys::contact_details(&contact.tenant, contact.id));
        self.remove(keys::contact_identities(&contact.tenant, contact.id));
    }

    pub fn membership(&mut self, tenant: &Tenant, contact: ContactId, membership: &Membership) {
        self.put(
            keys::membership(tenant, contact, membership.business),
            encode(membership),
        );
    }

    pub fn remove_contact_identity(&mut self, tenant: &Tenant, provider: IdentityProvider, value: &str) {
        self.remove(keys::contact_identity(tenant, provider.as_byte(), value));
    }

    pub fn contact_identities(&mut self, tenant: &Tenant, id: ContactId, identities: &[(IdentityProvider, String)]) {
        self.put(keys::contact_identities(tenant, id), encode(&identities));
    }
}

impl Store {
    /// The token (or alternative) whose hash this is: its contact and id.
    pub fn token_by_code(&self, hash: &[u8; 32]) -> Result<Option<(ContactId, TokenId)>, StoreError> {
        self.get(&keys::token_code(hash))
    }

    pub fn contact_token(
        &self,
        tenant: &Tenant,
        contact: ContactId,
        token: TokenId,
    ) -> Result<Option<ContactTokenRecord>, StoreError> {
        self.get(&keys::contact_token(tenant, contact, token))
    }

    /// A contact's tokens, in id order.
    pub fn contact_tokens(&self, tenant: &Tenant, contact: ContactId) -> Result<Vec<ContactTokenRecord>, StoreError> {
        self.scan(&keys::contact_tokens(tenant, contact), usize::MAX)
    }
}

impl WriteSet {
    /// A new token, found by its two codes' hashes.
    pub fn new_contact_token(&mut self, record: &ContactTokenRecord, hashes: [[u8; 32]; 2]) {
        self.contact_token(record);
        for hash in hashes {
            self.put(keys::token_code(&hash), encode(&(record.contact, record.id)));
        }
    }

    pub fn contact_token(&mut self, record: &ContactTokenRecord) {
        self.put(
            keys::contact_token(&record.tenant, record.contact, record.id),
            encode(record),
        );
    }

    /// A token past use: its record and its codes go.
    pub fn remove_contact_token(&mut self, record: &ContactTokenRecord, hashes: [[u8; 32]; 2]) {
        self.remove(keys::contact_token(&record.tenant, record.contact, record.id));
        for hash in hashes {
            self.remove(keys::token_code(&hash));
        }
    }
}
