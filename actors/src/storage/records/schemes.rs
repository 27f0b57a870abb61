//! Reward schemes, per tenant, and each contact's records for the schemes it signed up to
//! or out of.

use crate::domain::scheme::SignUpCode;
use crate::storage::*;
use legacy::LegacyRewardScheme;

impl Store {
    pub fn scheme(&self, tenant: &Tenant, id: SchemeId) -> Result<Option<RewardScheme>, StoreError> {
        self.get_or_upgrade(&keys::scheme(tenant, id), |old: LegacyRewardScheme| {
            RewardScheme::from(old)
        })
    }

    pub fn schemes(&self, tenant: &Tenant) -> Result<Vec<RewardScheme>, StoreError> {
        self.scan_or_upgrade(&keys::schemes(tenant), |old: LegacyRewardScheme| {
            RewardScheme::from(old)
        })
    }

    /// A sign-up code by the hash of its tenant and text (`keys::sign_up_code_hash`).
    pub fn sign_up_code(&self, hash: &[u8; 32]) -> Result<Option<SignUpCode>, StoreError> {
        self.get(&keys::sign_up_code(hash))
    }

    pub fn scheme_membership(
        &self,
        tenant: &Tenant,
        contact: ContactId,
        scheme: SchemeId,
    ) -> Result<Option<SchemeMembership>, StoreError> {
        self.get(&keys::scheme_membership(tenant, contact, scheme))
    }

    pub fn scheme_memberships(&self, tenant: &Tenant, contact: ContactId) -> Result<Vec<SchemeMembership>, StoreError> {
        self.scan(&keys::scheme_memberships(tenant, contact), usize::MAX)
    }
}

impl WriteSet {
    pub fn scheme(&mut self, scheme: &RewardScheme) {
        self.put(keys::scheme(&scheme.tenant, scheme.id), encode(scheme));
    }

    /// A contact leaves its business: its records for schemes go with it.
    pub fn remove_scheme_membership(&mut self, tenant: &Tenant, record: &SchemeMembership) {
        self.remove(keys::scheme_membership(tenant, record.contact, record.scheme));
    }

    pub fn sign_up_code(&mut self, hash: &[u8; 32], code: &SignUpCode) {
        self.put(keys::sign_up_code(hash), encode(code));
    }

    pub fn scheme_membership(&mut self, tenant: &Tenant, record: &SchemeMembership) {
        self.put(
            keys::scheme_membership(tenant, record.contact, record.scheme),
            encode(record),
        );
    }
}
