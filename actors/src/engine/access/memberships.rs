//! A service owner's contact registry: its contacts sign up to and off the businesses under
//! it (`POST /self-service/v2/contacts/{id}/organisations`), list them, and switch into one
//! (`POST /self-service/v2/organisations/{id}/switch`).
//!
//! Businesses always own their contacts and wallets (the tenant is the business), so
//! signing up gives the registry contact a contact of its own in the business, made from
//! its profile, with a wallet in the business's currency; the membership record ties the
//! two and is committed with it. A token for the business acts as that member contact.
//! Signing off ends the member's sessions and keeps its contact and wallet, so nothing
//! earned is lost and signing up again resumes them.

use crate::domain::access::Subject;
use crate::domain::contact::{Contact, ContactPreferences, Membership};
use crate::domain::ids::{ContactId, OrganisationId, Tenant, WalletId};
use crate::domain::money::Currency;
use crate::domain::organisation::{Organisation, OrganisationType};
use crate::engine::registration::ContactSession;
use crate::engine::{claim_key, ClaimGuard, Engine, EngineError, NewContact, Page};
use crate::storage::WriteSet;
use rust_decimal::Decimal;

/// An organisation a contact belongs to, as a list shows it.
#[derive(Debug, Clone)]
pub struct JoinedEntry {
    pub organisation: Organisation,
    /// The contact's wallet in that organisation, when asked for.
    pub wallet: Option<MembershipWallet>,
}

/// A contact's wallet in an organisation it belongs to.
#[derive(Debug, Clone)]
pub struct MembershipWallet {
    pub id: WalletId,
    pub currency: Currency,
    /// What the contact may spend there (open and commerce balances).
    pub spendable: Decimal,
}

/// One page of the organisations a contact belongs to.
#[derive(Debug, Clone)]
pub struct JoinedPage {
    pub entries: Vec<JoinedEntry>,
    /// Entries follow this page.
    pub more: bool,
    /// Every matching entry, when the page asked for the count.
    pub total: Option<usize>,
}

/// An organisation a contact belongs to, with its contact there.
#[derive(Debug, Clone)]
pub struct JoinedOrganisation {
    pub organisation: Organisation,
    pub tenant: Tenant,
    pub member: ContactId,
}

impl Engine {
    /// One change at a time to one contact's membership of one business.
    fn claim_membership(
        &self,
        tenant: &Tenant,
        id: ContactId,
        business: OrganisationId,
    ) -> Result<ClaimGuard, EngineError> {
        self.inner
            .claims
            .claim(
                claim_key(b'm', tenant, &[id.as_bytes().as_slice(), business.as_bytes()].concat()),
                rand::random(),
            )
            .map_err(|_| EngineError::Busy("membership"))
    }

    fn registry_contact(&self, tenant: &Tenant, id: ContactId) -> Result<Contact, EngineError> {
        self.inner
            .store
            .contact(tenant, id)?
            .ok_or(EngineError::NotFound("contact"))
    }

    /// A business under the registry's service owner; anything else is not found.
    fn registry_business(&self, registry: &Tenant, business: OrganisationId) -> Result<Organisation, EngineError> {
        let organisation = self
            .organisation(business)
            .map_err(|_| EngineError::NotFound("organisation"))?;
        if organisation.organisation_type != OrganisationType::Business
            || organisation.parent != Some(registry.organisation)
        {
            return Err(EngineError::NotFound("organisation"));
        }
        Ok(organisation)
    }

    /// Signs the registry contact up to `business` (idempotent: a member signs in again) and
    /// starts a session acting in it. The contact's own business is already joined.
    pub async fn sign_up_to_organisation(
        &self,
        tenant: Tenant,
        id: ContactId,
        business: OrganisationId,
        preferences: ContactPreferences,
    ) -> Result<ContactSession, EngineError> {
        self.check_open()?;
        let contact = self.registry_contact(&tenant, id)?;
        if business == tenant.organisation {
            return self.contact_session_with(tenant, contact, WriteSet::default()).await;
        }
        let organisation = self.registry_business(&tenant, business)?;
        let member_tenant = Tenant {
            organisation: organisation.id,
            mode: tenant.mode,
        };
        let _claim = self.claim_membership(&tenant, id, business)?;
        let now = self.now();
        // A member that unregistered itself in the business is gone: signing up makes anew.
        let joined = match self.inner.store.membership(&tenant, id, business)? {
            Some(membership) => self
                .inner
                .store
                .contact(&member_tenant, membership.member)?
                .map(|member| (membership, member)),
            None => None,
        };
        if let Some((mut membership, member)) = joined {
            let mut writes = WriteSet::default();
            if membership.left_on.take().is_some() {
                membership.joined_on = now;
                writes.membership(&tenant, id, &membership);
                writes.contact_preferences(&member_tenant, member.id, &preferences);
            }
            return self.contact_session_with(member_tenant, member, writes).await;
        }
        let new = NewContact {
            code: None,
            first_name: contact.first_name.clone(),
            last_name: contact.last_name.clone(),
            email_address: contact.email_address.clone(),
            phones: contact.phones.clone(),
        };
        let member = self
            .create_contact_with(member_tenant, new, None, |member| {
                let mut writes = WriteSet::default();
                writes.contact_preferences(&member_tenant, member, &preferences);
                writes.membership(
                    &tenant,
                    id,
                    &Membership {
                        business,
                        member,
                        joined_on: now,
                        left_on: None,
                    },
                );
                Ok(writes)
            })
            .await?;
        self.contact_session_with(member_tenant, member, WriteSet::default())
            .await
    }

    /// Signs the registry contact off `business`: the member's sessions end; its contact and
    /// wallet stay for when it signs up again. Its own business cannot be left (unregister).
    pub async fn sign_off_organisation(
        &self,
        tenant: Tenant,
        id: ContactId,
        business: OrganisationId,
    ) -> Result<(), EngineError> {
        self.check_open()?;
        self.registry_contact(&tenant, id)?;
        if business == tenant.organisation {
            return Err(EngineError::Conflict(
                "a contact does not sign off the organisation it registered with; unregister instead".into(),
            ));
        }
        let _claim = self.claim_membership(&tenant, id, business)?;
        let mut membership = self
            .inner
            .store
            .membership(&tenant, id, business)?
            .filter(|membership| membership.left_on.is_none())
            .ok_or(EngineError::NotFound("organisation"))?;
        membership.left_on = Some(self.now());
        let member_tenant = Tenant {
            organisation: business,
            mode: tenant.mode,
        };
        let _writing = self.inner.access_writes.lock().await;
        let mut writes = WriteSet::default();
        writes.membership(&tenant, id, &membership);
        self.end_sessions_of(&Subject::Contact(member_tenant, membership.member), None, &mut writes)?;
        self.inner.store.commit_async(writes).await?;
        Ok(())
    }

    /// The organisations a contact belongs to: the one it registered with, then the
    /// businesses it joined and has not left.
    pub fn joined_organisations(&self, tenant: &Tenant, id: ContactId) -> Result<Vec<JoinedOrganisation>, EngineError> {
        self.registry_contact(tenant, id)?;
        let mut joined = vec![JoinedOrganisation {
            organisation: self.organisation(tenant.organisation)?,
            tenant: *tenant,
            member: id,
        }];
        for membership in self.inner.store.memberships(tenant, id)? {
            let member_tenant = Tenant {
                organisation: membership.business,
                mode: tenant.mode,
            };
            let member_stayed = self.inner.store.contact(&member_tenant, membership.member)?.is_some();
            if membership.left_on.is_none() && member_stayed {
                joined.push(JoinedOrganisation {
                    organisation: self.organisation(membership.business)?,
                    tenant: member_tenant,
                    member: membership.member,
                });
            }
        }
        Ok(joined)
    }

    /// A page of the organisations a contact belongs to (`joined_organisations`), those
    /// whose name holds `name` (any case), each with the contact's wallet there when
    /// `with_wallets`. `page.descending` does not apply: the contact's own comes first.
    pub async fn contact_organisations(
        &self,
        tenant: &Tenant,
        id: ContactId,
        name: Option<&str>,
        page: Page,
        with_wallets: bool,
    ) -> Result<JoinedPage, EngineError> {
        let name = name.map(str::to_lowercase);
        let mut joined = self.joined_organisations(tenant, id)?;
        joined.retain(|joined| {
            name.as_deref()
                .is_none_or(|name| joined.organisation.name.to_lowercase().contains(name))
        });
        let total = page.count_total.then_some(joined.len());
        let more = joined.len() > page.offset.saturating_add(page.size);
        let mut entries = Vec::new();
        for joined in joined.into_iter().skip(page.offset).take(page.size) {
            let wallet = if with_wallets {
                let member = self.stored_contact(&joined.tenant, joined.member)?;
                let view = self.wallet(joined.tenant, member.wallet_id).await?;
                Some(MembershipWallet {
                    id: member.wallet_id,
                    currency: member.wallet_currency,
                    spendable: view.balances.open + view.balances.commerce,
                })
            } else {
                None
            };
            entries.push(JoinedEntry {
                organisation: joined.organisation,
                wallet,
            });
        }
        Ok(JoinedPage { entries, more, total })
    }

    /// What a session of the contact lists as joined: its own organisation first, then, for a
    /// service owner's registry contact, the businesses it belongs to.
    pub(in crate::engine) fn session_organisations(
        &self,
        tenant: &Tenant,
        id: ContactId,
    ) -> Result<Vec<Organisation>, EngineError> {
        let own = self.organisation(tenant.organisation)?;
        if own.organisation_type != OrganisationType::ServiceOwner {
            return Ok(vec![own]);
        }
        Ok(self
            .joined_organisations(tenant, id)?
            .into_iter()
            .map(|joined| joined.organisation)
            .collect())
    }

    /// A new session acting in `organisation`: the contact's own, or a business it joined.
    pub async fn switch_contact_organisation(
        &self,
        tenant: Tenant,
        id: ContactId,
        organisation: OrganisationId,
    ) -> Result<ContactSession, EngineError> {
        self.check_open()?;
        let joined = self
            .joined_organisations(&tenant, id)?
            .into_iter()
            .find(|joined| joined.organisation.id == organisation)
            .ok_or(EngineError::NotFound("organisation"))?;
        let member = self
            .inner
            .store
            .contact(&joined.tenant, joined.member)?
            .ok_or(EngineError::NotFound("contact"))?;
        self.contact_session_with(joined.tenant, member, WriteSet::default())
            .await
    }
}
