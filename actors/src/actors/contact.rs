//! The contact actor: owns a contact's profile and creates it, with its wallet, in one
//! durable commit. Reads of contacts go to the store: a contact is acknowledged only once
//! durable, and its profile changes only through this actor.

use super::registry::{MailboxCount, Registry};
use super::ActorSettings;
use crate::domain::contact::{validate_profile, Contact, ContactError, ProfileUpdate};
use crate::domain::ids::{ContactId, Tenant};
use crate::domain::wallet::Wallet;
use crate::metrics_names as names;
use crate::storage::{IdempotencyRecord, StorageFailure, Store, WriteSet};
use actix::prelude::*;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

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
    Storage(String),
    /// The command could not be applied (a panic); nothing of it was kept.
    #[error("the contact could not apply the command")]
    Internal,
}

impl super::Faulted for ContactActorError {
    fn faulted() -> Self {
        ContactActorError::Internal
    }
}

/// Where a contact actor's answer goes (a panic answers `Internal`).
pub type ContactReply = super::Reply<Contact, ContactActorError>;

pub enum ContactMessage {
    /// Creates the contact and its wallet; `idempotency` records the key it came with.
    Create {
        contact: Box<Contact>,
        wallet: Box<Wallet>,
        idempotency: Option<([u8; 32], IdempotencyRecord)>,
        /// Records committed with the contact (a registration's identity).
        extra: WriteSet,
        reply: ContactReply,
    },
    /// Changes the profile; replies with the contact as stored.
    Update {
        update: ProfileUpdate,
        /// Records committed with the change (a confirmation link for a new email).
        extra: WriteSet,
        reply: ContactReply,
    },
    /// Unregisters the contact: its records go with `extra` (its identities, sessions) in
    /// one commit; replies with the contact as it was.
    Remove {
        extra: WriteSet,
        reply: ContactReply,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
    /// Retire now if nothing is in flight, as on the idle timer (the registry's live bound).
    RetireIfIdle,
}

impl Message for ContactMessage {
    type Result = ();
}

pub struct ContactActor {
    key: ContactKey,
    contact: Option<Contact>,
    store: Store,
    registry: Arc<Registry<ContactKey, ContactActor>>,
    settings: ActorSettings,
    queued: Arc<MailboxCount>,
    last_message: Instant,
    in_flight: Arc<std::sync::atomic::AtomicUsize>,
}

impl ContactActor {
    pub fn new(
        key: ContactKey,
        contact: Option<Contact>,
        store: Store,
        registry: Arc<Registry<ContactKey, ContactActor>>,
        settings: ActorSettings,
        queued: Arc<MailboxCount>,
    ) -> Self {
        ContactActor {
            key,
            contact,
            store,
            registry,
            settings,
            queued,
            last_message: Instant::now(),
            in_flight: Default::default(),
        }
    }

    /// Takes `contact` as the actor's state and answers with it once `writes` are durable.
    fn commit_then_reply(&mut self, writes: WriteSet, contact: Contact, reply: ContactReply) {
        self.contact = Some(contact.clone());
        #[cfg(feature = "failpoints")]
        super::failpoints::hit(super::failpoints::Failpoint::InContactChange, self.key.1 .0);
        let in_flight = self.in_flight.clone();
        in_flight.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.store.commit(
            writes,
            Box::new(move |outcome: Result<(), StorageFailure>| {
                in_flight.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
                let _ = reply.send(outcome.map(|()| contact).map_err(|e| ContactActorError::Storage(e.0)));
            }),
        );
    }

    fn retire(&mut self, ctx: &mut Context<Self>) {
        self.registry.remove_if(&self.key, &ctx.address());
        ctx.stop();
    }
}

impl Actor for ContactActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Bounded by `queued` (see the registry), not by actix.
        ctx.set_mailbox_capacity(0);
        metrics::gauge!(names::ACTORS_LIVE, "kind" => "contact").increment(1.0);
        metrics::counter!(names::ACTOR_STARTS_TOTAL, "kind" => "contact").increment(1);
        let check_every = Duration::from_millis((self.settings.idle_ms / 2).clamp(10, 5_000));
        ctx.run_interval(check_every, |actor, ctx| {
            let idle = actor.last_message.elapsed() >= Duration::from_millis(actor.settings.idle_ms);
            if idle && actor.in_flight.load(std::sync::atomic::Ordering::Acquire) == 0 {
                actor.retire(ctx);
            }
        });
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        metrics::gauge!(names::ACTORS_LIVE, "kind" => "contact").decrement(1.0);
        metrics::counter!(names::ACTOR_STOPS_TOTAL, "kind" => "contact").increment(1);
    }
}

impl Handler<ContactMessage> for ContactActor {
    type Result = ();

    fn handle(&mut self, message: ContactMessage, ctx: &mut Self::Context) {
        self.last_message = Instant::now();
        if !matches!(message, ContactMessage::Shutdown { .. } | ContactMessage::RetireIfIdle) {
            self.queued.leave();
        }
        // A panic is caught here (the reply it held answers `Internal` as it drops), and the
        // contact is reloaded as it is on disk once every earlier commit of this
        // actor is durable, so a half-made change never outlives the message.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.dispatch(message, ctx)));
        if let Err(panic) = outcome {
            metrics::counter!(names::ACTOR_FAULTS_TOTAL, "kind" => "contact").increment(1);
            let text = super::panic_text(panic.as_ref());
            tracing::error!(contact = %self.key.1, panic = %text, "contact actor panicked; reloading the contact");
            let reloaded = self
                .store
                .commit_and_wait(WriteSet::default())
                .and_then(|()| self.store.contact(&self.key.0, self.key.1));
            match reloaded {
                Ok(contact) => self.contact = contact,
                Err(_) => self.retire(ctx),
            }
        }
    }
}

impl ContactActor {
    fn dispatch(&mut self, message: ContactMessage, ctx: &mut Context<Self>) {
        match message {
            ContactMessage::Create {
                contact,
                wallet,
                idempotency,
                extra,
                reply,
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
                let contact = *contact;
                self.commit_then_reply(writes, contact, reply);
            }
            ContactMessage::Update { update, extra, reply } => {
                let Some(current) = &self.contact else {
                    let _ = reply.send(Err(ContactActorError::NotFound));
                    return;
                };
                let updated = update.apply(current);
                if let Err(error) = validate_profile(&updated) {
                    let _ = reply.send(Err(ContactActorError::Invalid(error)));
                    return;
                }
                let mut writes = WriteSet::default();
                writes.contact(&updated);
                writes.extend(extra);
                self.commit_then_reply(writes, updated, reply);
            }
            ContactMessage::Remove { extra, reply } => {
                let Some(current) = self.contact.take() else {
                    let _ = reply.send(Err(ContactActorError::NotFound));
                    return;
                };
                let mut writes = WriteSet::default();
                writes.remove_contact(&current);
                writes.extend(extra);
                self.commit_then_reply(writes, current, reply);
                self.contact = None;
            }
            ContactMessage::Shutdown { reply } => {
                self.store.commit(
                    WriteSet::default(),
                    Box::new(move |_| {
                        let _ = reply.send(());
                    }),
                );
                self.retire(ctx);
            }
            ContactMessage::RetireIfIdle => {
                if self.in_flight.load(std::sync::atomic::Ordering::Acquire) == 0 && self.queued.waiting() == 0 {
                    metrics::counter!(names::ACTOR_EVICTIONS_TOTAL, "kind" => "contact").increment(1);
                    self.retire(ctx);
                }
            }
        }
    }
}

impl super::registry::Retirable for ContactActor {
    fn ask_to_retire(addr: &actix::Addr<Self>) {
        addr.do_send(ContactMessage::RetireIfIdle);
    }
}
