//! Delivery of messages between entities (D5): at least once, from the store, surviving
//! restarts; each recipient applies a message once, by its id.
//!
//! One loop, on the first arbiter, in rounds: read up to a round's worth of waiting
//! messages in commit order, group them by recipient, deliver each group in order, in
//! batches that the recipient applies in one commit (groups in parallel), and stop a group
//! at its first failure, so a recipient never sees a message
//! before an earlier one to it. A recipient whose mailbox is full, or that fails, is tried
//! again in a later round with a growing pause; nothing is dropped. Messages leave the
//! outbox only once their recipient's commit is durable; a crash in between delivers them
//! again, and the recipient answers without applying them twice. A credit for a wallet
//! that no longer exists goes back to its origin; a return with nowhere to go stays parked
//! in the outbox (logged, and visible in the age metric) rather than being dropped.

use super::{Engine, EngineError, Inner};
use crate::actors::budget::BudgetCommand;
use crate::actors::kit::AskError;
use crate::actors::outbox::Outbox;
use crate::actors::wallet::WalletCommand;
use crate::domain::transfer::{ActorMessage, MessageBody, Recipient, ReturnReason};
use crate::metrics_names as names;
use crate::storage::WriteSet;
use actix::ArbiterHandle;
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Messages read per round.
const ROUND_MAX: usize = 1_024;
/// Messages one recipient applies in one command (one commit).
const BATCH_MAX: usize = 256;
/// How long an idle loop waits for a wake before looking again anyway.
const IDLE_WAIT: Duration = Duration::from_secs(1);
const BACKOFF_MIN: Duration = Duration::from_millis(20);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

enum Round {
    /// Nothing was waiting, or all of it was delivered.
    Done,
    /// A full round was delivered: there may be more.
    More,
    /// Something could not be delivered now: pause before the next round.
    Retry,
}

/// How a batch's delivery went, whatever the recipient's kind.
enum Delivered {
    Applied,
    NotFound,
    /// To retry; the error, unless the recipient was only busy.
    Failed(Option<String>),
}

impl Delivered {
    fn of<T, E: std::fmt::Debug>(asked: Result<T, AskError<E>>) -> Delivered {
        match asked {
            Ok(_) => Delivered::Applied,
            Err(AskError::NotFound) => Delivered::NotFound,
            Err(AskError::Busy) => Delivered::Failed(None),
            Err(error) => Delivered::Failed(Some(format!("{error:?}"))),
        }
    }
}

/// What delivering one recipient's messages came to.
#[derive(Default)]
struct GroupOutcome {
    /// Sequence numbers of the messages applied (or answered for), to remove.
    done: Vec<u64>,
    /// Messages to commit with the removals (credits sent back to their origin).
    sends: Vec<ActorMessage>,
    retry: bool,
}

pub(super) fn spawn(engine: &Engine, arbiter: &ArbiterHandle) {
    let inner = Arc::downgrade(&engine.inner);
    let outbox = engine.inner.wallets.deps().outbox.clone();
    arbiter.spawn(run(inner, outbox));
}

async fn run(inner: Weak<Inner>, outbox: Arc<Outbox>) {
    let mut backoff = BACKOFF_MIN;
    loop {
        let round = {
            // The loop holds the engine only during a round, so dropping it ends the loop.
            let Some(inner) = inner.upgrade() else {
                return;
            };
            let engine = Engine { inner };
            if engine.check_open().is_err() {
                return;
            }
            engine.delivery_round().await
        };
        match round {
            Round::Done => {
                backoff = BACKOFF_MIN;
                tokio::select! {
                    () = outbox.woken() => {}
                    () = actix_rt::time::sleep(IDLE_WAIT) => {}
                }
            }
            Round::More => backoff = BACKOFF_MIN,
            Round::Retry => {
                actix_rt::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

impl Engine {
    async fn delivery_round(&self) -> Round {
        let pending = match self.inner.store.actor_messages_pending(ROUND_MAX) {
            Ok(pending) => pending,
            Err(error) => {
                tracing::error!(%error, "reading the outbox between entities failed");
                return Round::Retry;
            }
        };
        let now = self.now();
        let oldest = pending.iter().map(|message| message.committed_at).min();
        metrics::gauge!(names::ACTOR_MESSAGES_PENDING).set(pending.len() as f64);
        metrics::gauge!(names::ACTOR_MESSAGE_AGE_SECONDS)
            .set(oldest.map_or(0, |at| now.saturating_sub(at).max(0)) as f64);
        if pending.is_empty() {
            return Round::Done;
        }
        let full = pending.len() == ROUND_MAX;
        let mut groups: Vec<(Recipient, Vec<ActorMessage>)> = Vec::new();
        let mut index: HashMap<Recipient, usize> = HashMap::new();
        for message in pending {
            let slot = *index.entry(message.to).or_insert_with(|| {
                groups.push((message.to, Vec::new()));
                groups.len() - 1
            });
            groups[slot].1.push(message);
        }
        let outcomes = futures_util::future::join_all(
            groups
                .into_iter()
                .map(|(to, messages)| self.deliver_group(to, messages)),
        )
        .await;
        let mut writes = WriteSet::default();
        let mut retry = false;
        for outcome in outcomes {
            retry |= outcome.retry;
            for message in &outcome.sends {
                writes.actor_message(message);
            }
            for seq in outcome.done {
                writes.actor_message_done(seq);
            }
        }
        if !writes.is_empty() {
            if let Err(error) = self.commit_durable(writes).await {
                tracing::error!(%error, "removing delivered messages from the outbox failed");
                return Round::Retry;
            }
        }
        if retry {
            Round::Retry
        } else if full {
            Round::More
        } else {
            Round::Done
        }
    }

    /// Delivers one recipient's messages in order, a batch (one commit) at a time, stopping
    /// at the first batch that cannot be applied.
    async fn deliver_group(&self, to: Recipient, messages: Vec<ActorMessage>) -> GroupOutcome {
        match to {
            Recipient::Wallet(tenant, wallet) => {
                #[cfg(feature = "failpoints")]
                if crate::actors::failpoints::holds(crate::actors::failpoints::Failpoint::HoldDeliveryTo, wallet.0) {
                    return GroupOutcome {
                        retry: true,
                        ..GroupOutcome::default()
                    };
                }
                let ask = |batch: Vec<ActorMessage>| async move {
                    Delivered::of(
                        self.inner
                            .wallets
                            .ask(&(tenant, wallet), |reply| WalletCommand::Deliver {
                                messages: batch.clone(),
                                reply,
                            })
                            .await,
                    )
                };
                let not_found = |batch: &[ActorMessage], outcome: &mut GroupOutcome| {
                    self.undeliverable(tenant, wallet, batch, outcome)
                };
                self.deliver_batches(&messages, ask, not_found).await
            }
            Recipient::Budget(tenant, offer) => {
                let ask = |batch: Vec<ActorMessage>| async move {
                    Delivered::of(
                        self.inner
                            .budgets
                            .ask(&(tenant, offer), |reply| BudgetCommand::Deliver {
                                messages: batch.clone(),
                                reply,
                            })
                            .await,
                    )
                };
                // A budget's actor always starts (an untouched budget is empty).
                let not_found = |_: &[ActorMessage], outcome: &mut GroupOutcome| {
                    outcome.retry = true;
                    false
                };
                self.deliver_batches(&messages, ask, not_found).await
            }
        }
    }

    /// The delivery loop every recipient kind shares: `ask` hands a batch to the recipient's
    /// actor; `not_found` deals with a batch for a recipient that does not exist (false:
    /// stop there).
    async fn deliver_batches<Fut: std::future::Future<Output = Delivered>>(
        &self,
        messages: &[ActorMessage],
        ask: impl Fn(Vec<ActorMessage>) -> Fut,
        mut not_found: impl FnMut(&[ActorMessage], &mut GroupOutcome) -> bool,
    ) -> GroupOutcome {
        let mut outcome = GroupOutcome::default();
        for batch in messages.chunks(BATCH_MAX) {
            if self.check_open().is_err() {
                outcome.retry = true;
                break;
            }
            match ask(batch.to_vec()).await {
                Delivered::Applied => {
                    metrics::counter!(names::ACTOR_MESSAGES_TOTAL, "outcome" => "applied")
                        .increment(batch.len() as u64);
                    outcome.done.extend(batch.iter().map(|message| message.seq));
                }
                Delivered::NotFound => {
                    if !not_found(batch, &mut outcome) {
                        break;
                    }
                }
                Delivered::Failed(error) => {
                    metrics::counter!(names::ACTOR_MESSAGES_TOTAL, "outcome" => "retried")
                        .increment(batch.len() as u64);
                    if let Some(error) = error {
                        tracing::warn!(to = ?batch[0].to, %error, "delivering messages failed; they will be retried");
                    }
                    outcome.retry = true;
                    break;
                }
            }
        }
        outcome
    }

    /// Messages for a wallet that does not exist: a credit goes back to its origin; a
    /// return with nowhere to go stays (false: stop the group there).
    fn undeliverable(
        &self,
        tenant: crate::domain::ids::Tenant,
        wallet: crate::domain::ids::WalletId,
        batch: &[ActorMessage],
        outcome: &mut GroupOutcome,
    ) -> bool {
        for message in batch {
            match message.body {
                MessageBody::TransferCredit {
                    transfer,
                    from,
                    currency,
                    amount,
                }
                | MessageBody::PoolTransferCredit {
                    transfer,
                    from,
                    currency,
                    amount,
                    ..
                } => {
                    metrics::counter!(names::TRANSFERS_TOTAL, "outcome" => "returned").increment(1);
                    outcome.sends.push(ActorMessage::transfer_return(
                        tenant,
                        transfer,
                        from,
                        currency,
                        amount,
                        ReturnReason::NoWallet,
                        self.inner.wallets.deps().outbox.next_seq(),
                        self.now(),
                    ));
                    outcome.done.push(message.seq);
                }
                MessageBody::PassCredit { pass, amount, .. } => {
                    metrics::counter!(names::ACTOR_MESSAGES_TOTAL, "outcome" => "parked").increment(1);
                    tracing::error!(%pass, %amount, %wallet, "a redeemed pass's wallet no longer exists; the message stays in the outbox");
                    return false;
                }
                MessageBody::TransferReturn { transfer, amount, .. } => {
                    metrics::counter!(names::ACTOR_MESSAGES_TOTAL, "outcome" => "parked").increment(1);
                    tracing::error!(%transfer, %amount, %wallet, "a returned transfer's origin wallet no longer exists; the message stays in the outbox");
                    return false;
                }
                MessageBody::BudgetSettle { .. } | MessageBody::BudgetRefund { .. } => {
                    tracing::error!(message = %message.id, %wallet, "a budget's message was addressed to a wallet; dropped");
                    outcome.done.push(message.seq);
                }
            }
        }
        true
    }

    /// Commits `writes` and waits until they are durable.
    pub(super) async fn commit_durable(&self, writes: WriteSet) -> Result<(), EngineError> {
        let (done, durable) = tokio::sync::oneshot::channel();
        self.inner.store.commit(
            writes,
            Box::new(move |outcome| {
                let _ = done.send(outcome);
            }),
        );
        match durable.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(failure)) => Err(EngineError::Storage(failure.0)),
            Err(_) => Err(EngineError::ShuttingDown),
        }
    }
}
