//! The pass actor: one per pass, the only writer of its state. It moves the pass through
//! the states of `domain::pass::TRANSITIONS`; a redemption marks it REDEEMED and commits the
//! wallet's credit message (`MessageBody::PassCredit`, one id per pass) in the same commit,
//! so however many redemptions race, and across a crash, the wallet is credited once.

use super::kit::{Entity, KitError, Life};
use super::outbox::Outbox;
use crate::clock::Clock;
use crate::domain::ids::{ContactId, PassId, Tenant, WalletId};
use crate::domain::money::Currency;
use crate::domain::pass::{transition, Pass, PassAction, PassState, Redemption};
use crate::domain::transfer::ActorMessage;
use crate::storage::{StorageFailure, Store, StoreError, WriteSet};
use std::sync::Arc;

pub type PassKey = (Tenant, PassId);

/// Why a pass is not redeemed; nothing changed (but an expiry found on the way is kept).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PassError {
    #[error("pass not found")]
    NotFound,
    #[error("the pass is {}: it cannot be redeemed", .0.code())]
    NotRedeemable(PassState),
    #[error("the pass was redeemed already")]
    AlreadyRedeemed,
    #[error("the PIN is wrong")]
    WrongPin,
    #[error("the pass is {}: it cannot be {}", .0.code(), .1)]
    NotAllowed(PassState, &'static str),
    #[error("the pass is in {pass}; the wallet holds {wallet}")]
    Currency { pass: Currency, wallet: Currency },
    #[error("{0}")]
    Storage(String),
    #[error("the pass could not apply the command")]
    Internal,
    #[error("actor retired")]
    Retry,
}

impl super::Faulted for PassError {
    fn faulted() -> Self {
        PassError::Internal
    }
}

impl From<StorageFailure> for PassError {
    fn from(failure: StorageFailure) -> Self {
        PassError::Storage(failure.0)
    }
}

impl KitError for PassError {
    fn retry() -> Self {
        PassError::Retry
    }

    fn is_retry(&self) -> bool {
        matches!(self, PassError::Retry)
    }
}

pub type Reply<T> = super::Reply<T, PassError>;

pub enum PassCommand {
    /// Redeems the pass into `wallet` (of `contact`, in `currency`), checking its PIN.
    Redeem {
        contact: ContactId,
        wallet: WalletId,
        currency: Currency,
        pin: Option<String>,
        place: crate::domain::ids::OrganisationId,
        reply: Reply<Arc<Pass>>,
    },
    /// The pass as it stands (expired first if its time is past).
    Read { reply: Reply<Arc<Pass>> },
    /// A promotion pass unlocks its offer for `purchase`: counted once per purchase, at
    /// most `maximum` purchases; the last use marks it REDEEMED.
    UsePromotion {
        purchase: crate::domain::ids::PurchaseId,
        maximum: u32,
        reply: Reply<Arc<Pass>>,
    },
    /// The back office changes the pass: a move of the state table (activate, cancel), or,
    /// while it is not redeemed, its value, expiry or PIN. All or nothing.
    Update {
        change: PassChange,
        reply: Reply<Arc<Pass>>,
    },
}

/// A change to one pass (`None` leaves a field).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassChange {
    pub action: Option<PassAction>,
    pub value: Option<rust_decimal::Decimal>,
    /// A new last instant it may be redeemed (`Some(None)`: no end).
    pub expires_at: Option<Option<i64>>,
    /// A new PIN, as stored (`pin_hash` of the pass id).
    pub pin_hash: Option<[u8; 32]>,
}

#[derive(Clone)]
pub struct PassDeps {
    pub clock: Arc<dyn Clock>,
    pub outbox: Arc<Outbox>,
}

pub struct PassEntity {
    pass: Option<Arc<Pass>>,
    /// A promotion pass's uses, once read (this actor is their only writer).
    uses: Option<crate::domain::pass::PromotionUses>,
    clock: Arc<dyn Clock>,
    outbox: Arc<Outbox>,
}

pub type PassActor = super::kit::EntityActor<PassEntity>;

impl Entity for PassEntity {
    type Key = PassKey;
    type Command = PassCommand;
    type Deps = PassDeps;
    const KIND: &'static str = "pass";

    fn recover(key: &PassKey, store: &Store, deps: &PassDeps) -> Result<Option<Self>, StoreError> {
        Ok(store.pass(&key.0, key.1)?.map(|pass| PassEntity {
            pass: Some(Arc::new(pass)),
            uses: None,
            clock: deps.clock.clone(),
            outbox: deps.outbox.clone(),
        }))
    }

    fn handle(&mut self, command: PassCommand, life: &mut Life<Self>) {
        let Some(current) = self.pass.clone() else {
            return refuse(command, PassError::NotFound);
        };
        let now = self.clock.now_s();
        let mut writes = WriteSet::default();
        // A pass past its time expires before anything else is done with it.
        let mut pass = (*current).clone();
        if pass.expires_at.is_some_and(|end| now > end) {
            if let Some(expired) = transition(pass.state, PassAction::Expire) {
                pass.state = expired;
                pass.updated_on = now;
                writes.pass(&pass);
            }
        }
        match command {
            PassCommand::Read { reply } => {
                let pass = Arc::new(pass);
                self.pass = Some(pass.clone());
                life.commit_then_reply(writes, reply, pass);
            }
            PassCommand::Update { change, reply } => {
                let before = pass.clone();
                let open = matches!(pass.state, PassState::Active | PassState::Inactive);
                let refused = if let Some(action) = change.action {
                    match transition(pass.state, action) {
                        Some(next) => {
                            pass.state = next;
                            None
                        }
                        None => Some(PassError::NotAllowed(
                            pass.state,
                            match action {
                                PassAction::Activate => "activated",
                                PassAction::Cancel => "cancelled",
                                PassAction::Expire => "expired",
                                PassAction::Redeem => "redeemed",
                            },
                        )),
                    }
                } else if !open && (change.value.is_some() || change.expires_at.is_some() || change.pin_hash.is_some())
                {
                    Some(PassError::NotAllowed(pass.state, "changed"))
                } else {
                    None
                };
                if let Some(error) = refused {
                    self.pass = Some(Arc::new(before));
                    return life.commit_then_answer(writes, reply, Err(error));
                }
                if let Some(value) = change.value {
                    pass.value = value;
                }
                if let Some(expires_at) = change.expires_at {
                    pass.expires_at = expires_at;
                }
                if let Some(pin_hash) = change.pin_hash {
                    pass.pin_hash = Some(pin_hash);
                }
                pass.updated_on = now;
                writes.pass(&pass);
                let pass = Arc::new(pass);
                self.pass = Some(pass.clone());
                life.commit_then_reply(writes, reply, pass);
            }
            PassCommand::UsePromotion {
                purchase,
                maximum,
                reply,
            } => {
                let mut uses = match self.uses.take() {
                    Some(uses) => uses,
                    None => match life.store().promotion_uses(&life.key().0, life.key().1) {
                        Ok(uses) => uses,
                        Err(error) => {
                            self.pass = Some(Arc::new(pass));
                            return life.commit_then_answer(writes, reply, Err(PassError::Storage(error.to_string())));
                        }
                    },
                };
                if uses.purchases.contains(&purchase) {
                    self.uses = Some(uses);
                    let pass = Arc::new(pass);
                    self.pass = Some(pass.clone());
                    return life.commit_then_reply(writes, reply, pass);
                }
                if pass.state != PassState::Active {
                    self.uses = Some(uses);
                    let state = pass.state;
                    self.pass = Some(Arc::new(pass));
                    return life.commit_then_answer(writes, reply, Err(PassError::NotRedeemable(state)));
                }
                uses.purchases.push(purchase);
                if uses.purchases.len() >= maximum as usize {
                    if let Some(next) = transition(pass.state, PassAction::Redeem) {
                        pass.state = next;
                    }
                }
                pass.updated_on = now;
                writes.pass(&pass);
                writes.promotion_uses(&life.key().0, life.key().1, &uses);
                self.uses = Some(uses);
                let pass = Arc::new(pass);
                self.pass = Some(pass.clone());
                life.commit_then_reply(writes, reply, pass);
            }
            PassCommand::Redeem {
                contact,
                wallet,
                currency,
                pin,
                place,
                reply,
            } => {
                let refused = match (&pass.redemption, transition(pass.state, PassAction::Redeem)) {
                    // A retry of the same redemption is answered with it.
                    (Some(done), _) if done.wallet == wallet && pass.pin_matches(pin.as_deref()) => {
                        let pass = Arc::new(pass);
                        self.pass = Some(pass.clone());
                        return life.commit_then_reply(writes, reply, pass);
                    }
                    (Some(_), _) => Some(PassError::AlreadyRedeemed),
                    (None, None) => Some(PassError::NotRedeemable(pass.state)),
                    (None, Some(_)) if !pass.pin_matches(pin.as_deref()) => Some(PassError::WrongPin),
                    (None, Some(_)) if pass.currency != currency => Some(PassError::Currency {
                        pass: pass.currency,
                        wallet: currency,
                    }),
                    (None, Some(_)) => None,
                };
                if let Some(error) = refused {
                    self.pass = Some(Arc::new(pass));
                    return life.commit_then_answer(writes, reply, Err(error));
                }
                pass.state = PassState::Redeemed;
                pass.updated_on = now;
                pass.redemption = Some(Redemption {
                    contact,
                    wallet,
                    at: now,
                    place,
                });
                writes.pass(&pass);
                writes.actor_message(&ActorMessage::pass_credit(&pass, wallet, self.outbox.next_seq(), now));
                let pass = Arc::new(pass);
                self.pass = Some(pass.clone());
                let outbox = self.outbox.clone();
                life.commit(writes, move |outcome| {
                    if outcome.is_ok() {
                        outbox.wake();
                    }
                    let _ = reply.send(outcome.map(|()| pass).map_err(PassError::from));
                });
            }
        }
    }

    fn refuse(command: PassCommand) {
        refuse(command, PassError::Retry)
    }

    fn reload(&mut self, life: &Life<Self>) -> Result<(), String> {
        let (tenant, id) = *life.key();
        self.pass = life
            .store()
            .pass(&tenant, id)
            .map_err(|error| error.to_string())?
            .map(Arc::new);
        self.uses = None;
        Ok(())
    }
}

fn refuse(command: PassCommand, error: PassError) {
    match command {
        PassCommand::Redeem { reply, .. } => drop(reply.send(Err(error))),
        PassCommand::Read { reply } | PassCommand::Update { reply, .. } | PassCommand::UsePromotion { reply, .. } => {
            drop(reply.send(Err(error)))
        }
    }
}
