//! Contacts: creation with their wallet (idempotent), profile changes, and how requests
//! name a contact (id, code, wallet code) and find its wallet.

use super::{claim_key, invalid, sha256, ContactRef, Engine, EngineError, NewContact};
use crate::actors::claims::ClaimGuard;
use crate::actors::contact::{ContactCommand, ContactKey};
use crate::actors::kit::AskError;
use crate::domain::contact::{validate_profile, Contact, ProfileUpdate};
use crate::domain::ids::{ContactId, Tenant, WalletId};
use crate::domain::wallet::{Wallet, WalletHeader};
use crate::routes::ContactRoute;
use crate::storage::{IdempotencyRecord, WriteSet};
use sha2::{Digest, Sha256};

impl Engine {
    /// Creates a contact and its wallet. With an idempotency key, a retry with the same body
    /// returns the contact made the first time.
    pub async fn create_contact(
        &self,
        tenant: Tenant,
        new: NewContact,
        idempotency_key: Option<&str>,
    ) -> Result<Contact, EngineError> {
        self.create_contact_with(tenant, new, idempotency_key, |_| Ok(WriteSet::default()))
            .await
    }

    /// As `create_contact`, committing `extra(contact id)` atomically with the contact.
    pub(super) async fn create_contact_with(
        &self,
        tenant: Tenant,
        new: NewContact,
        idempotency_key: Option<&str>,
        extra: impl FnOnce(ContactId) -> Result<WriteSet, EngineError>,
    ) -> Result<Contact, EngineError> {
        self.check_open()?;
        let organisation = self.organisation(tenant.organisation)?;
        let body_hash: [u8; 32] = Sha256::digest(postcard::to_stdvec(&new).unwrap_or_default()).into();
        let key_hash = idempotency_key.map(sha256);
        let (_idempotency_claim, first) = self.claim_idempotency(&tenant, key_hash.as_ref(), &body_hash)?;
        if let Some(first) = first {
            return self
                .inner
                .store
                .contact(&tenant, ContactId(first))?
                .ok_or(EngineError::NotFound("contact"));
        }
        let _code_claim = match &new.code {
            None => None,
            Some(code) => {
                let claim = self
                    .inner
                    .claims
                    .claim(claim_key(b'K', &tenant, code.as_str().as_bytes()), rand::random())
                    .map_err(|_| EngineError::AlreadyExists("contact code"))?;
                if self.inner.store.contact_by_code(&tenant, code)?.is_some() {
                    return Err(EngineError::AlreadyExists("contact code"));
                }
                Some(claim)
            }
        };
        let (wallet_code, _wallet_code_claim) = loop {
            let code = crate::engine::secrets::wallet_code();
            let Ok(claim) = self
                .inner
                .claims
                .claim(claim_key(b'Q', &tenant, code.as_bytes()), rand::random())
            else {
                continue;
            };
            if self.inner.store.contact_by_wallet_code(&tenant, &code)?.is_none() {
                break (code, claim);
            }
        };
        let now = self.now();
        let contact = Contact {
            id: ContactId::random(),
            tenant,
            code: new.code,
            first_name: new.first_name,
            last_name: new.last_name,
            email_address: new.email_address,
            phones: new.phones,
            wallet_id: WalletId::random(),
            wallet_code,
            wallet_currency: organisation.default_currency,
            created_on: now,
        };
        validate_profile(&contact).map_err(|error| invalid("contact", error))?;
        let wallet = Wallet::open(WalletHeader {
            id: contact.wallet_id,
            tenant,
            contact_id: contact.id,
            code: wallet_code,
            currency: organisation.default_currency,
            created_on: now,
        });
        let idempotency = key_hash.map(|hash| {
            (
                hash,
                IdempotencyRecord {
                    body_hash,
                    resource_id: contact.id.0,
                },
            )
        });
        let extra = extra(contact.id)?;
        self.ask_contact(
            (tenant, contact.id),
            ContactCommand::Create {
                contact: Box::new(contact),
                wallet: Box::new(wallet),
                idempotency,
                extra,
            },
        )
        .await
    }

    /// Claims an idempotency key for as long as the command runs, and finds what the first
    /// request with it made: `Some(resource id)` for a retry with the same body (a different
    /// body is a conflict), `None` for a first request (or no key).
    pub(crate) fn claim_idempotency(
        &self,
        tenant: &Tenant,
        key_hash: Option<&[u8; 32]>,
        body_hash: &[u8; 32],
    ) -> Result<(Option<ClaimGuard>, Option<uuid::Uuid>), EngineError> {
        let Some(hash) = key_hash else {
            return Ok((None, None));
        };
        let claim = self
            .inner
            .claims
            .claim(claim_key(b'I', tenant, hash), rand::random())
            .map_err(|_| EngineError::IdempotencyInProgress)?;
        match self.inner.store.idempotency(tenant, hash)? {
            Some(record) if record.body_hash != *body_hash => Err(EngineError::IdempotencyConflict),
            Some(record) => Ok((Some(claim), Some(record.resource_id))),
            None => Ok((Some(claim), None)),
        }
    }

    /// Sends one command to a contact's actor and awaits its answer.
    pub(super) async fn ask_contact(&self, key: ContactKey, command: ContactCommand) -> Result<Contact, EngineError> {
        match self.inner.contacts.ask(&key, |reply| (command.clone(), reply)).await {
            Ok(contact) => Ok(contact),
            Err(AskError::NotFound) => Err(EngineError::NotFound("contact")),
            Err(AskError::Busy) => Err(EngineError::Busy("contact")),
            Err(AskError::Store(error)) => Err(error.into()),
            Err(AskError::Refused(error)) => Err(error.into()),
        }
    }

    /// Applies a contact's own profile changes (checked like a new contact's).
    pub async fn update_contact(
        &self,
        tenant: Tenant,
        id: ContactId,
        update: ProfileUpdate,
        address: Option<std::net::IpAddr>,
    ) -> Result<Contact, EngineError> {
        self.check_open()?;
        let current = self.stored_contact(&tenant, id)?;
        let changed_email = update
            .email_address
            .as_deref()
            .map(str::trim)
            .filter(|email| !email.is_empty());
        let extra = match changed_email {
            Some(email) => self.email_change_writes(&tenant, &current, email, address)?,
            None => WriteSet::default(),
        };
        let sends_link = !extra.is_empty();
        let contact = self
            .ask_contact((tenant, id), ContactCommand::Update { update, extra })
            .await?;
        if sends_link {
            self.outbox_committed();
        }
        Ok(contact)
    }

    pub fn resolve_contact(&self, tenant: &Tenant, reference: &ContactRef) -> Result<Contact, EngineError> {
        self.stored_contact(tenant, self.contact_id(tenant, reference)?)
    }

    /// A contact as stored; an unknown one is not found.
    pub(in crate::engine) fn stored_contact(&self, tenant: &Tenant, id: ContactId) -> Result<Contact, EngineError> {
        self.inner
            .store
            .contact(tenant, id)?
            .ok_or(EngineError::NotFound("contact"))
    }

    /// The id a reference names; a code is looked up in its index.
    pub(super) fn contact_id(&self, tenant: &Tenant, reference: &ContactRef) -> Result<ContactId, EngineError> {
        let store = &self.inner.store;
        let id = match reference {
            ContactRef::Id(id) => Some(*id),
            ContactRef::Code(code) => store.contact_by_code(tenant, code)?,
            ContactRef::WalletCode(code) => store.contact_by_wallet_code(tenant, code)?,
            ContactRef::Token(code) => Some(self.token_by_code(tenant, code)?.contact),
            ContactRef::Unnamed => None,
        };
        id.ok_or(EngineError::NotFound("contact"))
    }

    /// Where a purchase for this contact goes: from memory when the contact was seen
    /// before (a contact's wallet and currency never change), else from the store.
    pub(super) fn contact_route(&self, tenant: &Tenant, reference: &ContactRef) -> Result<ContactRoute, EngineError> {
        let id = self.contact_id(tenant, reference)?;
        if let Some(route) = self.inner.routes.get(tenant, id) {
            return Ok(route);
        }
        if self.inner.routes.is_closed(tenant, id) {
            return Err(EngineError::NotFound("contact"));
        }
        let contact = self
            .inner
            .store
            .contact(tenant, id)?
            .ok_or(EngineError::NotFound("contact"))?;
        let route = ContactRoute {
            contact_id: contact.id,
            wallet_id: contact.wallet_id,
            currency: contact.wallet_currency,
        };
        self.inner.routes.insert(tenant, route);
        Ok(route)
    }
}
