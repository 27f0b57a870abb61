//! Communities: an owner (or an admin member it allowed to manage people) invites a person
//! — a registered contact found by phone or email, else a new contact made from the
//! details given — and sets what they may do and spend; the invited contact accepts or
//! rejects (`domain::community::TRANSITIONS`); only accepted members are listed as people.
//! A member may leave; the owner may remove anyone. Every change to one community is made
//! under a claim on it (read, check, write, durable).

use super::error::short_text;
use super::self_service::otp::{email_identity, phone_identity};
use super::{claim_key, invalid, Engine, EngineError, NewContact};
use crate::domain::community::{
    answer, relation_name, Answer, CashLimits, MemberState, Permission, Relationship, WalletSharing,
};
use crate::domain::contact::{Contact, IdentityProvider, Phone, PhoneType};
use crate::domain::ids::{ContactId, RelationshipId, Tenant};
use crate::domain::money::{Amount, Currency};
use crate::storage::WriteSet;

/// Longest group name.
const GROUP_MAX: usize = 100;
/// Most commerce pools a member's sharing names.
const POOLS_MAX: usize = 20;

/// Who a new person is when no registered contact has the phone or email.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonDetails {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// What a person may do in the community (`None` in an update leaves a field).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonTerms {
    pub relation: Option<uuid::Uuid>,
    pub group: Option<String>,
    pub is_admin: Option<bool>,
    pub permissions: Option<Vec<Permission>>,
    pub sharing: Option<WalletSharing>,
    pub limits: Option<CashLimits>,
    pub same_as_owner: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewPerson {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub contact: Option<PersonDetails>,
    pub terms: PersonTerms,
}

/// A relationship with the contact on its other side.
#[derive(Debug, Clone)]
pub struct CommunityEntry {
    pub relationship: Relationship,
    /// The member (in an owner's list) or the owner (in a member's list of communities).
    pub contact: Contact,
}

impl Engine {
    /// Adds a person to `owner`'s community, invited until they accept. `actor` is who
    /// asks: the owner, or an admin member allowed to manage people.
    pub async fn add_person(
        &self,
        tenant: Tenant,
        actor: ContactId,
        owner: ContactId,
        new: NewPerson,
    ) -> Result<Relationship, EngineError> {
        self.check_open()?;
        self.check_manager(&tenant, actor, owner)?;
        let owner_contact = self.resolve_contact(&tenant, &super::ContactRef::Id(owner))?;
        let found = match (&new.phone, &new.email) {
            (None, None) => return Err(invalid("phone", "give the person's phone or email")),
            (phone, email) => self.registered_person(&tenant, phone.as_deref(), email.as_deref())?,
        };
        let terms = self.checked_terms(&tenant, owner_contact.wallet_currency, new.terms)?;
        let _claim = self.claim_community(&tenant, owner)?;
        let people = self.inner.store.relationships(&tenant, owner)?;
        if people.len() >= Relationship::MEMBERS_MAX {
            return Err(EngineError::Conflict(format!(
                "a community holds at most {} people",
                Relationship::MEMBERS_MAX
            )));
        }
        let member = match found {
            Some(member) => member,
            None => {
                let details = new.contact.ok_or_else(|| {
                    invalid(
                        "contact",
                        "no registered contact has that phone or email: give contact{first_name, last_name}",
                    )
                })?;
                let phone = details.phone.or(new.phone);
                let made = self
                    .create_contact(
                        tenant,
                        NewContact {
                            code: None,
                            first_name: Some(details.first_name),
                            last_name: Some(details.last_name),
                            email_address: details.email.or(new.email),
                            phones: phone
                                .map(|number| Phone {
                                    phone_type: PhoneType::Mobile,
                                    country_code: None,
                                    number,
                                    is_primary: true,
                                })
                                .into_iter()
                                .collect(),
                        },
                        None,
                    )
                    .await?;
                made.id
            }
        };
        if member == owner {
            return Err(invalid("phone", "the owner is not a person of its own community"));
        }
        if people.iter().any(|person| person.member == member) {
            return Err(EngineError::AlreadyExists("community person"));
        }
        let now = self.now();
        let relationship = Relationship {
            id: RelationshipId::random(),
            tenant,
            owner,
            member,
            relation: terms.relation,
            group: terms.group,
            is_admin: terms.is_admin.unwrap_or(false),
            permissions: terms.permissions.unwrap_or_default(),
            sharing: terms.sharing,
            limits: terms.limits,
            same_as_owner: terms.same_as_owner.unwrap_or(false),
            state: MemberState::Invited,
            created_on: now,
            updated_on: now,
        };
        let mut writes = WriteSet::default();
        writes.relationship(&relationship);
        self.commit_durable(writes).await?;
        Ok(relationship)
    }

    /// The accepted people of `owner`'s community, oldest first; `group` keeps one group.
    pub fn people(
        &self,
        tenant: &Tenant,
        actor: ContactId,
        owner: ContactId,
        group: Option<&str>,
    ) -> Result<Vec<CommunityEntry>, EngineError> {
        self.check_manager(tenant, actor, owner)?;
        let mut people = self.inner.store.relationships(tenant, owner)?;
        people.retain(|person| {
            person.state == MemberState::Accepted
                && group.is_none_or(|group| {
                    person
                        .group
                        .as_deref()
                        .is_some_and(|own| own.eq_ignore_ascii_case(group))
                })
        });
        people.sort_by_key(|person| person.created_on);
        people
            .into_iter()
            .map(|relationship| {
                let contact = self.resolve_contact(tenant, &super::ContactRef::Id(relationship.member))?;
                Ok(CommunityEntry { relationship, contact })
            })
            .collect()
    }

    /// One person of `owner`'s community (whatever the invitation's state).
    pub fn person(
        &self,
        tenant: &Tenant,
        actor: ContactId,
        owner: ContactId,
        id: RelationshipId,
    ) -> Result<CommunityEntry, EngineError> {
        self.check_manager(tenant, actor, owner)?;
        let relationship = self
            .inner
            .store
            .relationship(tenant, owner, id)?
            .ok_or(EngineError::NotFound("community person"))?;
        let contact = self.resolve_contact(tenant, &super::ContactRef::Id(relationship.member))?;
        Ok(CommunityEntry { relationship, contact })
    }

    /// Changes what a person may do and spend; all or nothing.
    pub async fn update_person(
        &self,
        tenant: Tenant,
        actor: ContactId,
        owner: ContactId,
        id: RelationshipId,
        update: PersonTerms,
    ) -> Result<Relationship, EngineError> {
        self.check_open()?;
        self.check_manager(&tenant, actor, owner)?;
        let currency = self
            .resolve_contact(&tenant, &super::ContactRef::Id(owner))?
            .wallet_currency;
        let terms = self.checked_terms(&tenant, currency, update)?;
        let _claim = self.claim_community(&tenant, owner)?;
        let mut relationship = self
            .inner
            .store
            .relationship(&tenant, owner, id)?
            .ok_or(EngineError::NotFound("community person"))?;
        if actor != owner && (terms.is_admin.is_some() || terms.permissions.is_some()) {
            return Err(EngineError::Forbidden(
                "only the community's owner grants admin rights and permissions".into(),
            ));
        }
        if let Some(relation) = terms.relation {
            relationship.relation = Some(relation);
        }
        if let Some(group) = terms.group {
            relationship.group = Some(group);
        }
        if let Some(is_admin) = terms.is_admin {
            relationship.is_admin = is_admin;
        }
        if let Some(permissions) = terms.permissions {
            relationship.permissions = permissions;
        }
        if let Some(sharing) = terms.sharing {
            relationship.sharing = Some(sharing);
        }
        if let Some(limits) = terms.limits {
            relationship.limits = Some(limits);
        }
        if let Some(same) = terms.same_as_owner {
            relationship.same_as_owner = same;
        }
        relationship.updated_on = self.now();
        let mut writes = WriteSet::default();
        writes.relationship(&relationship);
        self.commit_durable(writes).await?;
        Ok(relationship)
    }

    /// Removes a person from `owner`'s community.
    pub async fn remove_person(
        &self,
        tenant: Tenant,
        actor: ContactId,
        owner: ContactId,
        id: RelationshipId,
    ) -> Result<(), EngineError> {
        self.check_open()?;
        self.check_manager(&tenant, actor, owner)?;
        let _claim = self.claim_community(&tenant, owner)?;
        let relationship = self
            .inner
            .store
            .relationship(&tenant, owner, id)?
            .ok_or(EngineError::NotFound("community person"))?;
        let mut writes = WriteSet::default();
        writes.remove_relationship(&relationship);
        self.commit_durable(writes).await
    }

    /// The invited contact's answer to relationship `id`: once, as the table allows.
    pub async fn answer_invitation(
        &self,
        tenant: Tenant,
        member: ContactId,
        id: RelationshipId,
        given: Answer,
    ) -> Result<Relationship, EngineError> {
        self.check_open()?;
        let owner = self
            .inner
            .store
            .relationship_owner(&tenant, id)?
            .ok_or(EngineError::NotFound("community invitation"))?;
        let _claim = self.claim_community(&tenant, owner)?;
        let mut relationship = self
            .inner
            .store
            .relationship(&tenant, owner, id)?
            .filter(|relationship| relationship.member == member)
            .ok_or(EngineError::NotFound("community invitation"))?;
        relationship.state = answer(relationship.state, given).ok_or_else(|| {
            EngineError::Conflict(format!(
                "the invitation was answered already ({})",
                relationship.state.code()
            ))
        })?;
        relationship.updated_on = self.now();
        let mut writes = WriteSet::default();
        writes.relationship(&relationship);
        self.commit_durable(writes).await?;
        Ok(relationship)
    }

    /// The communities `member` is in or invited to, newest first.
    pub fn communities(&self, tenant: &Tenant, member: ContactId) -> Result<Vec<CommunityEntry>, EngineError> {
        let mut entries = Vec::new();
        for id in self.inner.store.memberships_of(tenant, member)? {
            let Some(owner) = self.inner.store.relationship_owner(tenant, id)? else {
                continue;
            };
            let Some(relationship) = self.inner.store.relationship(tenant, owner, id)? else {
                continue;
            };
            if relationship.state == MemberState::Rejected {
                continue;
            }
            let contact = self.resolve_contact(tenant, &super::ContactRef::Id(owner))?;
            entries.push(CommunityEntry { relationship, contact });
        }
        entries.sort_by_key(|entry| std::cmp::Reverse(entry.relationship.created_on));
        Ok(entries)
    }

    /// `member` leaves `owner`'s community (or turns its invitation down for good).
    pub async fn leave_community(
        &self,
        tenant: Tenant,
        member: ContactId,
        owner: ContactId,
    ) -> Result<(), EngineError> {
        self.check_open()?;
        let _claim = self.claim_community(&tenant, owner)?;
        let id = self
            .inner
            .store
            .community_member(&tenant, member, owner)?
            .ok_or(EngineError::NotFound("community"))?;
        let relationship = self
            .inner
            .store
            .relationship(&tenant, owner, id)?
            .ok_or(EngineError::NotFound("community"))?;
        let mut writes = WriteSet::default();
        writes.remove_relationship(&relationship);
        self.commit_durable(writes).await
    }

    /// The owner, or an accepted admin member allowed to manage its people; else 403.
    fn check_manager(&self, tenant: &Tenant, actor: ContactId, owner: ContactId) -> Result<(), EngineError> {
        if actor == owner {
            return Ok(());
        }
        let manages = match self.inner.store.community_member(tenant, actor, owner)? {
            None => false,
            Some(id) => self
                .inner
                .store
                .relationship(tenant, owner, id)?
                .is_some_and(|relationship| relationship.manages_people()),
        };
        if manages {
            Ok(())
        } else {
            Err(EngineError::Forbidden(
                "only the community's owner, or an admin it lets manage people, reaches its people".into(),
            ))
        }
    }

    fn claim_community(
        &self,
        tenant: &Tenant,
        owner: ContactId,
    ) -> Result<crate::actors::claims::ClaimGuard, EngineError> {
        self.inner
            .claims
            .claim(claim_key(b'#', tenant, owner.as_bytes()), rand::random())
            .map_err(|_| EngineError::Busy("community"))
    }

    /// The registered contact with this phone or email (sign-in identities), if any.
    fn registered_person(
        &self,
        tenant: &Tenant,
        phone: Option<&str>,
        email: Option<&str>,
    ) -> Result<Option<ContactId>, EngineError> {
        if let Some(phone) = phone {
            let value = phone_identity(phone)?;
            if let Some(identity) = self
                .inner
                .store
                .contact_identity(tenant, IdentityProvider::Phone, &value)?
            {
                return Ok(Some(identity.contact));
            }
        }
        if let Some(email) = email {
            let value = email_identity(email)?;
            if let Some(identity) = self
                .inner
                .store
                .contact_identity(tenant, IdentityProvider::Email, &value)?
            {
                return Ok(Some(identity.contact));
            }
        }
        Ok(None)
    }

    /// Checks a person's terms: a known relation, a printable group, sharing amounts and
    /// limits in the owner's currency, consistent, naming this business's pools.
    fn checked_terms(
        &self,
        tenant: &Tenant,
        currency: Currency,
        terms: PersonTerms,
    ) -> Result<PersonTerms, EngineError> {
        if let Some(relation) = terms.relation {
            if relation_name(relation).is_none() {
                return Err(invalid("relation_id", "is not one of GET /communities/relations"));
            }
        }
        let group = terms
            .group
            .map(|group| short_text("group", &group, GROUP_MAX))
            .transpose()?;
        let max = self.inner.settings.money.wallet_balance_max;
        let money = |parameter: &'static str, value: Option<rust_decimal::Decimal>| {
            value
                .map(|value| {
                    Amount::parse_at_most(value, currency, max)
                        .map(|amount| amount.value())
                        .map_err(|error| invalid(parameter, error))
                })
                .transpose()
        };
        let sharing = match terms.sharing {
            None => None,
            Some(sharing) => {
                if sharing.pools.len() > POOLS_MAX {
                    return Err(invalid("wallet_sharing.commerce_pools", format!("at most {POOLS_MAX}")));
                }
                for pool in &sharing.pools {
                    if self.inner.store.commerce_pool(tenant, *pool)?.is_none() {
                        return Err(invalid(
                            "wallet_sharing.commerce_pools",
                            format!("{pool} is no pool of this business"),
                        ));
                    }
                }
                Some(WalletSharing {
                    max_amount: money("wallet_sharing.max_amount", sharing.max_amount)?,
                    ..sharing
                })
            }
        };
        let limits = match terms.limits {
            None => None,
            Some(limits) => {
                let limits = CashLimits {
                    per_transaction: money("usage_allowance.cash_limits.per_transaction", limits.per_transaction)?,
                    per_day: money("usage_allowance.cash_limits.per_day", limits.per_day)?,
                    per_billing_cycle: money(
                        "usage_allowance.cash_limits.per_billing_cycle",
                        limits.per_billing_cycle,
                    )?,
                };
                if !limits.is_consistent() {
                    return Err(invalid(
                        "usage_allowance.cash_limits",
                        "per_transaction must not pass per_day, nor per_day per_billing_cycle",
                    ));
                }
                Some(limits)
            }
        };
        let mut permissions = terms.permissions;
        if let Some(permissions) = permissions.as_mut() {
            permissions.sort_by_key(|permission| permission.code());
            permissions.dedup();
        }
        Ok(PersonTerms {
            group,
            sharing,
            limits,
            permissions,
            ..terms
        })
    }
}
