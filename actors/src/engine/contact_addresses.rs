//! A contact's addresses: listed, added, changed and removed by the contact, one record per
//! contact changed under a per-contact claim; an order delivered to one reads it.

use super::{claim_key, invalid, ContactRef, Engine, EngineError};
use crate::domain::contact_address::{AddressError, AddressFields, ContactAddress, ContactAddresses};
use crate::domain::ids::{AddressId, ContactId, Tenant};
use crate::storage::WriteSet;

fn refused(error: AddressError) -> EngineError {
    invalid(error.field, error.message)
}

/// A change to a contact's addresses.
#[derive(Debug, Clone, PartialEq)]
pub enum AddressChange {
    Add {
        fields: AddressFields,
        is_primary: bool,
        is_billing: bool,
    },
    Update {
        id: AddressId,
        fields: AddressFields,
        is_primary: Option<bool>,
        is_billing: Option<bool>,
    },
    Remove(AddressId),
}

impl Engine {
    /// `contact`'s addresses, oldest first.
    pub fn contact_addresses(&self, tenant: &Tenant, contact: ContactId) -> Result<ContactAddresses, EngineError> {
        self.contact_route(tenant, &ContactRef::Id(contact))?;
        Ok(self.inner.store.contact_addresses(tenant, contact)?)
    }

    /// One of `contact`'s addresses (another contact's is not found).
    pub fn contact_address(
        &self,
        tenant: &Tenant,
        contact: ContactId,
        id: AddressId,
    ) -> Result<ContactAddress, EngineError> {
        self.inner
            .store
            .contact_addresses(tenant, contact)?
            .get(id)
            .cloned()
            .ok_or(EngineError::NotFound("address"))
    }

    /// Changes `contact`'s addresses and answers the address changed (removed: its id).
    pub async fn change_contact_addresses(
        &self,
        tenant: Tenant,
        contact: ContactId,
        change: AddressChange,
    ) -> Result<AddressId, EngineError> {
        self.check_open()?;
        self.contact_route(&tenant, &ContactRef::Id(contact))?;
        let _claim = self
            .inner
            .claims
            .claim(claim_key(b'`', &tenant, contact.as_bytes()), rand::random())
            .map_err(|_| EngineError::Busy("contact's addresses"))?;
        let mut book = self.inner.store.contact_addresses(&tenant, contact)?;
        let before = book.clone();
        let id = match change {
            AddressChange::Add {
                fields,
                is_primary,
                is_billing,
            } => book
                .add(AddressId::random(), fields, is_primary, is_billing)
                .map_err(refused)?,
            AddressChange::Update {
                id,
                fields,
                is_primary,
                is_billing,
            } => {
                book.update(id, fields, is_primary, is_billing)
                    .ok_or(EngineError::NotFound("address"))?
                    .map_err(refused)?;
                id
            }
            AddressChange::Remove(id) => {
                if !book.remove(id) {
                    return Err(EngineError::NotFound("address"));
                }
                id
            }
        };
        if book != before {
            let mut writes = WriteSet::default();
            writes.contact_addresses(&tenant, contact, &book);
            self.commit_durable(writes).await?;
        }
        Ok(id)
    }
}
