//! The offer-budget actor: one per offer with a budget. Purchases reserve from it before their
//! awards commit, and settle (or, cancelled, refund) through the outbox, once per message.
//! Holds past `HOLD_S` are resolved from the store: a purchase committed is settled with what
//! it awarded from the offer (its settlement message, when it comes, is then skipped); one
//! never committed lets its hold go. So the budget is never exceeded, and a crash holds
//! nothing longer than `HOLD_S`.

use super::kit::{Entity, KitError, Life};
use super::recent::Recent;
use crate::clock::Clock;
use crate::domain::budget::{BudgetState, Hold};
use crate::domain::ids::{MessageId, OfferId, PurchaseId, Tenant};
use crate::domain::transfer::{ActorMessage, MessageBody, Recipient};
use crate::storage::{StorageFailure, Store, StoreError, WriteSet};
use rust_decimal::Decimal;
use std::sync::Arc;

pub type BudgetKey = (Tenant, OfferId);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BudgetError {
    #[error("{0}")]
    Storage(String),
    #[error("the budget could not apply the command")]
    Internal,
    #[error("actor retired")]
    Retry,
}

impl super::Faulted for BudgetError {
    fn faulted() -> Self {
        BudgetError::Internal
    }
}

impl From<StorageFailure> for BudgetError {
    fn from(failure: StorageFailure) -> Self {
        BudgetError::Storage(failure.0)
    }
}

impl From<StoreError> for BudgetError {
    fn from(error: StoreError) -> Self {
        BudgetError::Storage(error.to_string())
    }
}

impl KitError for BudgetError {
    fn retry() -> Self {
        BudgetError::Retry
    }

    fn is_retry(&self) -> bool {
        matches!(self, BudgetError::Retry)
    }
}

pub type Reply<T> = super::Reply<T, BudgetError>;

pub enum BudgetCommand {
    /// Holds up to `wanted` of `total` for the purchase (its hold again, for a retry; none
    /// for a purchase already committed). Answers once the hold is durable.
    Reserve {
        purchase: PurchaseId,
        wanted: Decimal,
        total: Decimal,
        reply: Reply<Hold>,
    },
    /// The purchase did not commit: its hold goes.
    Release {
        purchase: PurchaseId,
        reply: Reply<()>,
    },
    /// Settlements and refunds from the outbox; answers how many it applied.
    Deliver {
        messages: Vec<ActorMessage>,
        reply: Reply<usize>,
    },
    Read {
        reply: Reply<BudgetState>,
    },
}

#[derive(Clone)]
pub struct BudgetDeps {
    pub clock: Arc<dyn Clock>,
}

pub struct BudgetEntity {
    state: BudgetState,
    clock: Arc<dyn Clock>,
    /// Messages applied by commits that may not be readable from the store yet.
    applied: Recent<MessageId, ()>,
}

pub type BudgetActor = super::kit::EntityActor<BudgetEntity>;

impl Entity for BudgetEntity {
    type Key = BudgetKey;
    type Command = BudgetCommand;
    type Deps = BudgetDeps;
    const KIND: &'static str = "budget";

    fn recover(key: &BudgetKey, store: &Store, deps: &BudgetDeps) -> Result<Option<Self>, StoreError> {
        Ok(Some(BudgetEntity {
            state: store.budget(&key.0, key.1)?,
            clock: deps.clock.clone(),
            applied: Recent::new(),
        }))
    }

    fn handle(&mut self, command: BudgetCommand, life: &mut Life<Self>) {
        let mut writes = WriteSet::default();
        let before = self.state.clone();
        let mut applied = Vec::new();
        if let Err(error) = self.resolve_stale(life, &mut writes, &mut applied) {
            // Memory may be ahead of the store now: the kit reloads it.
            life.set_faulted();
            return refuse(command, error);
        }
        match command {
            BudgetCommand::Reserve {
                purchase,
                wanted,
                total,
                reply,
            } => {
                let (tenant, _) = *life.key();
                let hold = if self.state.hold(purchase).is_some() {
                    self.state.reserve(purchase, wanted, total, self.clock.now_s())
                } else {
                    // A purchase already committed is a retry the wallet answers with what it
                    // did: it holds nothing.
                    match life.store().purchase(&tenant, purchase) {
                        Ok(Some(_)) => Hold {
                            purchase,
                            amount: Decimal::ZERO,
                            reserved_at: self.clock.now_s(),
                        },
                        Ok(None) => self.state.reserve(purchase, wanted, total, self.clock.now_s()),
                        Err(error) => {
                            // What the stale holds' resolution changed is still committed.
                            self.save(life, &before, &mut writes);
                            life.commit_then_answer(writes, reply, Err(error.into()));
                            return self.remember(life, applied);
                        }
                    }
                };
                self.save(life, &before, &mut writes);
                life.commit_then_answer(writes, reply, Ok(hold));
                self.remember(life, applied);
            }
            BudgetCommand::Release { purchase, reply } => {
                self.state.release(purchase);
                self.save(life, &before, &mut writes);
                life.commit_then_answer(writes, reply, Ok(()));
                self.remember(life, applied);
            }
            BudgetCommand::Deliver { messages, reply } => {
                let (tenant, offer) = *life.key();
                let mut count = 0;
                for message in messages {
                    if message.to != Recipient::Budget(tenant, offer)
                        || applied.contains(&message.id)
                        || self.applied.get(&message.id).is_some()
                    {
                        continue;
                    }
                    match life.store().budget_message_applied(&tenant, offer, message.id) {
                        Ok(true) => continue,
                        Ok(false) => {}
                        Err(error) => {
                            // What was applied so far is committed; the rest comes again.
                            self.save(life, &before, &mut writes);
                            life.commit_then_answer(writes, reply, Err(error.into()));
                            return self.remember(life, applied);
                        }
                    }
                    match message.body {
                        MessageBody::BudgetSettle { purchase, used } => self.state.settle(purchase, used),
                        MessageBody::BudgetRefund { amount, .. } => self.state.refund(amount),
                        MessageBody::TransferCredit { .. }
                        | MessageBody::PoolTransferCredit { .. }
                        | MessageBody::TransferReturn { .. }
                        | MessageBody::PassCredit { .. } => {
                            tracing::error!(message = %message.id, %offer, "a wallet's message reached an offer's budget; skipped");
                        }
                    }
                    writes.budget_message_applied(&tenant, offer, message.id);
                    applied.push(message.id);
                    count += 1;
                }
                self.save(life, &before, &mut writes);
                life.commit_then_answer(writes, reply, Ok(count));
                self.remember(life, applied);
            }
            BudgetCommand::Read { reply } => {
                self.save(life, &before, &mut writes);
                life.commit_then_answer(writes, reply, Ok(self.state.clone()));
                self.remember(life, applied);
            }
        }
    }

    fn refuse(command: BudgetCommand) {
        refuse(command, BudgetError::Retry)
    }

    fn reload(&mut self, life: &Life<Self>) -> Result<(), String> {
        let (tenant, offer) = *life.key();
        self.state = life.store().budget(&tenant, offer).map_err(|error| error.to_string())?;
        self.applied.clear();
        Ok(())
    }
}

fn refuse(command: BudgetCommand, error: BudgetError) {
    match command {
        BudgetCommand::Reserve { reply, .. } => drop(reply.send(Err(error))),
        BudgetCommand::Release { reply, .. } => drop(reply.send(Err(error))),
        BudgetCommand::Deliver { reply, .. } => drop(reply.send(Err(error))),
        BudgetCommand::Read { reply } => drop(reply.send(Err(error))),
    }
}

impl BudgetEntity {
    /// Remembers messages the commit just submitted applied, until it has settled.
    fn remember(&mut self, life: &Life<Self>, applied: Vec<MessageId>) {
        for id in applied {
            self.applied
                .remember(id, (), life.commits_submitted(), life.commits_settled());
        }
    }

    fn save(&self, life: &Life<Self>, before: &BudgetState, writes: &mut WriteSet) {
        if &self.state != before {
            let (tenant, offer) = *life.key();
            writes.budget(&tenant, offer, &self.state);
        }
    }

    /// Resolves holds past `HOLD_S` from the store (see the module's comment); `applied`
    /// gets the settlements it counts, so the messages are skipped when they come.
    fn resolve_stale(
        &mut self,
        life: &Life<Self>,
        writes: &mut WriteSet,
        applied: &mut Vec<MessageId>,
    ) -> Result<(), BudgetError> {
        let (tenant, offer) = *life.key();
        for purchase in self.state.stale(self.clock.now_s()) {
            let settle = ActorMessage::budget_settle_id(purchase, offer);
            if self.applied.get(&settle).is_some() || life.store().budget_message_applied(&tenant, offer, settle)? {
                self.state.release(purchase);
                continue;
            }
            match life.store().purchase(&tenant, purchase)? {
                Some(record) => {
                    let used = record
                        .effects
                        .awards
                        .iter()
                        .filter(|award| award.offer_id == offer)
                        .fold(Decimal::ZERO, |sum, award| sum.saturating_add(award.amount));
                    self.state.settle(purchase, used);
                    // Its settlement, still in the outbox, must not count it again.
                    writes.budget_message_applied(&tenant, offer, settle);
                    applied.push(settle);
                }
                None => {
                    self.state.release(purchase);
                }
            }
        }
        Ok(())
    }
}
