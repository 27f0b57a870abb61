//! Communities: each owner's people, each contact's communities, and where a relationship
//! id belongs.

use crate::domain::community::{CommunityUsage, Relationship};
use crate::domain::ids::{ContactId, PurchaseId, RelationshipId, TokenId};
use crate::storage::*;

impl Store {
    /// Everyone in `owner`'s community (invited, accepted or rejected), by relationship id.
    pub fn relationships(&self, tenant: &Tenant, owner: ContactId) -> Result<Vec<Relationship>, StoreError> {
        self.scan(&keys::relationships(tenant, owner), usize::MAX)
    }

    pub fn relationship(
        &self,
        tenant: &Tenant,
        owner: ContactId,
        id: RelationshipId,
    ) -> Result<Option<Relationship>, StoreError> {
        self.get(&keys::relationship(tenant, owner, id))
    }

    /// The owner whose community relationship `id` is in.
    pub fn relationship_owner(&self, tenant: &Tenant, id: RelationshipId) -> Result<Option<ContactId>, StoreError> {
        self.get(&keys::relationship_owner(tenant, id))
    }

    /// The relationships `member` has in others' communities.
    pub fn memberships_of(&self, tenant: &Tenant, member: ContactId) -> Result<Vec<RelationshipId>, StoreError> {
        self.scan(&keys::memberships_of(tenant, member), usize::MAX)
    }

    /// `member`'s relationship in `owner`'s community, if any.
    pub fn community_member(
        &self,
        tenant: &Tenant,
        member: ContactId,
        owner: ContactId,
    ) -> Result<Option<RelationshipId>, StoreError> {
        self.get(&keys::community_member(tenant, member, owner))
    }
}

impl Store {
    pub fn community_usage(&self, tenant: &Tenant, id: RelationshipId) -> Result<CommunityUsage, StoreError> {
        Ok(self.get(&keys::community_usage(tenant, id))?.unwrap_or_default())
    }

    /// The member a purchase spent its owner's wallet for, if it was such a purchase.
    pub fn community_purchase(
        &self,
        tenant: &Tenant,
        purchase: PurchaseId,
    ) -> Result<Option<RelationshipId>, StoreError> {
        self.get(&keys::community_purchase(tenant, purchase))
    }

    /// The community owner whose wallet spend token `token` spends, if it is such a token.
    pub fn community_token(&self, tenant: &Tenant, token: TokenId) -> Result<Option<ContactId>, StoreError> {
        self.get(&keys::community_token(tenant, token))
    }
}

impl WriteSet {
    pub fn community_purchase(&mut self, tenant: &Tenant, purchase: PurchaseId, relationship: RelationshipId) {
        self.put(keys::community_purchase(tenant, purchase), encode(&relationship));
    }

    pub fn community_usage(&mut self, tenant: &Tenant, id: RelationshipId, usage: &CommunityUsage) {
        self.put(keys::community_usage(tenant, id), encode(usage));
    }

    pub fn community_token(&mut self, tenant: &Tenant, token: TokenId, owner: ContactId) {
        self.put(keys::community_token(tenant, token), encode(&owner));
    }

    /// A relationship and its indexes.
    pub fn relationship(&mut self, relationship: &Relationship) {
        let tenant = &relationship.tenant;
        self.put(
            keys::relationship(tenant, relationship.owner, relationship.id),
            encode(relationship),
        );
        self.put(
            keys::community_member(tenant, relationship.member, relationship.owner),
            encode(&relationship.id),
        );
        self.put(
            keys::relationship_owner(tenant, relationship.id),
            encode(&relationship.owner),
        );
    }

    /// Removes a relationship and its indexes.
    pub fn remove_relationship(&mut self, relationship: &Relationship) {
        let tenant = &relationship.tenant;
        self.remove(keys::relationship(tenant, relationship.owner, relationship.id));
        self.remove(keys::community_member(tenant, relationship.member, relationship.owner));
        self.remove(keys::relationship_owner(tenant, relationship.id));
    }
}
