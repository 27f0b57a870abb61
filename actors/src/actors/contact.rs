//! The contact actor: owns a contact's profile and creates it, with its wallet, in one
//! durable commit. Reads of contacts go to the store: a contact is acknowledged only once
//! durable, and its profile changes only through this actor. Its lifecycle is the kit's.

use super::kit::{Entity, KitError, Life};
use crate::domain::contact::{validate_profile, Contact, ContactError, ProfileUpdate};
use crate::domain::ids::{ContactId, Tenant};
use crate::domain::scheme::RewardScheme;
use crate::domain::wallet::Wallet;
use crate::storage::{IdempotencyRecord, StorageFailure, Store, StoreError, WriteSet};

pub type ContactKey = (Tenant, ContactId);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactActorError {
    #[error("contact already exists")]
    AlreadyExists,
    #[error("contact not found")]
    NotFound,
    #[error("{0}")]
    Invalid(ContactError),
    #[error("{0}")]
    Scheme(crate::domain::scheme::SchemeError),
    #[error("{0}")]
    Storage(String),
    /// The command could not be applied (a panic); nothing of it was kept.
    #[error("the contact could not apply the command")]
    Internal,
    /// The actor retired before handling the command; send it again.
    #[error("actor retired")]
    Retry,
}

impl super::Faulted for ContactActorError {
    fn faulted() -> Self {
        ContactActorError::Internal
    }
}

impl From<StorageFailure> for ContactActorError {
    fn from(failure: StorageFailure) -> Self {
        ContactActorError::Storage(failure.0)
    }
}

impl KitError for ContactActorError {
    fn retry() -> Self {
        ContactActorError::Retry
    }

    fn is_retry(&self) -> bool {
        matches!(self, ContactActorError::Retry)
    }
}

/// Where a contact actor's answer goes (a panic answers `Internal`).
pub type ContactReply = super::Reply<Contact, ContactActorError>;

#[derive(Clone)]
pub enum ContactCommand {
    /// Creates the contact and its wallet; `idempotency` records the key it came with.
    Create {
        contact: Box<Contact>,
        wallet: Box<Wallet>,
        idempotency: Option<([u8; 32], IdempotencyRecord)>,
        /// Records committed with the contact (a registration's identity).
        extra: WriteSet,
    },
    /// Changes the profile; replies with the contact as stored.
    Update {
        update: ProfileUpdate,
        /// Records committed with the change (a confirmation link for a new email).
        extra: WriteSet,
    },
    /// Unregisters the contact: its records go with `extra` (its identities, sessions) in
    /// one commit; replies with the contact as it was.
    Remove { extra: WriteSet },
    /// Signs the contact up to a reward scheme (`join`) or out of it; replies with the
    /// contact. The engine refuses closed-loop schemes before asking; `now` is its clock.
    SignScheme {
        scheme: Box<RewardScheme>,
        join: bool,
        /// A checked sign-up code's record, marked used: committed with the sign-up (only
        /// when it signs the contact up).
        code: Option<WriteSet>,
        now: i64,
    },
}

/// A command and where its answer goes.
pub type ContactMessage = (ContactCommand, ContactReply);

/// A contact actor's state: the contact, or `None` before it is created.
pub struct ContactEntity {
    contact: Option<Contact>,
}

/// The contact's actor.
pub type ContactActor = super::kit::EntityActor<ContactEntity>;

impl Entity for ContactEntity {
    type Key = ContactKey;
    type Command = ContactMessage;
    type Deps = ();
    const KIND: &'static str = "contact";

    fn recover(key: &ContactKey, store: &Store, _deps: &()) -> Result<Option<Self>, StoreError> {
        Ok(Some(ContactEntity {
            contact: store.contact(&key.0, key.1)?,
        }))
    }

    fn handle(&mut self, (command, reply): ContactMessage, life: &mut Life<Self>) {
        match command {
            ContactCommand::Create {
                contact,
                wallet,
                idempotency,
                extra,
            } => {
                if self.contact.is_some() {
                    let _ = reply.send(Err(ContactActorError::AlreadyExists));
                    return;
                }
                let mut writes = WriteSet::default();
                writes.contact(&contact);
                if let Some(code) = &contact.code {
                    writes.contact_code(&contact.tenant, code, contact.id);
                }
                writes.wallet_code(&contact.tenant, &contact.wallet_code, contact.id);
                writes.wallet_snapshot(&wallet);
                if let Some((key_hash, record)) = &idempotency {
                    writes.idempotency(&contact.tenant, key_hash, record);
                }
                writes.extend(extra);
                self.commit_then_reply(life, writes, Some(*contact.clone()), *contact, reply);
            }
            ContactCommand::Update { update, extra } => {
                let Some(current) = &self.contact else {
                    let _ = reply.send(Err(ContactActorError::NotFound));
                    return;
                };
                let updated = update.apply(current);
                // Preferences and details change only through this actor after creation, so
                // the stored ones (with what is not derived yet) are current.
                let (tenant, id) = (current.tenant, current.id);
                let read = life
                    .store()
                    .contact_preferences(&tenant, id)
                    .and_then(|preferences| Ok((preferences, life.store().contact_details(&tenant, id)?)));
                let (preferences, details) = match read {
                    Ok((preferences, details)) => (preferences.unwrap_or_default(), details.unwrap_or_default()),
                    Err(error) => {
                        let _ = reply.send(Err(ContactActorError::Storage(error.to_string())));
                        return;
                    }
                };
                let checked = validate_profile(&updated).and_then(|()| {
                    let new_details = update.apply_details(&details);
                    new_details.validate()?;
                    Ok((update.apply_preferences(&preferences)?, new_details))
                });
                let (new_preferences, new_details) = match checked {
                    Ok(checked) => checked,
                    Err(error) => {
                        let _ = reply.send(Err(ContactActorError::Invalid(error)));
                        return;
                    }
                };
                let mut writes = WriteSet::default();
                writes.contact(&updated);
                if new_preferences != preferences {
                    writes.contact_preferences(&tenant, id, &new_preferences);
                }
                if new_details != details {
                    writes.contact_details(&tenant, id, &new_details);
                }
                writes.extend(extra);
                self.commit_then_reply(life, writes, Some(updated.clone()), updated, reply);
            }
            ContactCommand::SignScheme {
                scheme,
                join,
                code,
                now,
            } => {
                let Some(current) = self.contact.clone() else {
                    let _ = reply.send(Err(ContactActorError::NotFound));
                    return;
                };
                // The contact's records for schemes change only here, so the stored one
                // (with what is not derived yet) is current.
                let record = match life.store().scheme_membership(&current.tenant, current.id, scheme.id) {
                    Ok(record) => record,
                    Err(error) => {
                        let _ = reply.send(Err(ContactActorError::Storage(error.to_string())));
                        return;
                    }
                };
                match scheme.sign(current.id, record.as_ref(), join, code.is_some(), now) {
                    Ok(None) => {
                        let _ = reply.send(Ok(current));
                    }
                    Ok(Some(changed)) => {
                        let mut writes = WriteSet::default();
                        writes.scheme_membership(&current.tenant, &changed);
                        if let Some(code) = code {
                            writes.extend(code);
                        }
                        self.commit_then_reply(life, writes, Some(current.clone()), current, reply);
                    }
                    Err(error) => {
                        let _ = reply.send(Err(ContactActorError::Scheme(error)));
                    }
                }
            }
            ContactCommand::Remove { extra } => {
                let Some(current) = self.contact.clone() else {
                    let _ = reply.send(Err(ContactActorError::NotFound));
                    return;
                };
                let mut writes = WriteSet::default();
                writes.remove_contact(&current);
                writes.extend(extra);
                self.commit_then_reply(life, writes, None, current, reply);
            }
        }
    }

    fn refuse((_, reply): ContactMessage) {
        let _ = reply.send(Err(ContactActorError::Retry));
    }

    fn reload(&mut self, life: &Life<Self>) -> Result<(), String> {
        let key = life.key();
        self.contact = life.store().contact(&key.0, key.1).map_err(|error| error.to_string())?;
        Ok(())
    }
}

impl ContactEntity {
    /// Takes `state` as the actor's and answers `answer` once `writes` are durable.
    fn commit_then_reply(
        &mut self,
        life: &mut Life<Self>,
        writes: WriteSet,
        state: Option<Contact>,
        answer: Contact,
        reply: ContactReply,
    ) {
        self.contact = state;
        #[cfg(feature = "failpoints")]
        super::failpoints::hit(super::failpoints::Failpoint::InContactChange, life.key().1 .0);
        life.commit_then_reply(writes, reply, answer);
    }
}
