//! The wallet actor (D1): the only code that changes a wallet, built on the actor kit.
//!
//! One command at a time: apply it to the in-memory [`Wallet`], hand the resulting records
//! to the journal writer, and move on. The reply travels with the commit and is sent by the
//! writer only after the flush (D2), so the actor never waits on disk and a caller never
//! hears of anything that is not durable. Reads wait for the actor's earlier commits (a
//! barrier), so nobody sees a balance that a crash could take back.
//!
//! Start, idle retirement, bounded mailboxes, retries after retirement and reloading after
//! a fault are the kit's (`super::kit`); a wallet adds its snapshot on retirement.

use super::kit::{Entity, KitError, Life};
use super::outbox::Outbox;
use super::recent::Recent;
use crate::clock::Clock;
use crate::domain::contact_token::TokenRefusal;
use crate::domain::ids::{MessageId, PurchaseId, Tenant, TokenId, TransferId, WalletId};
use crate::domain::offer::{OfferSet, RewardHistory};
use crate::domain::purchase::PurchaseRecord;
use crate::domain::transfer::{ActorMessage, TransferRecord};
use crate::domain::wallet::{
    Balances, Cause, EntryKind, LimitError, Wallet, WalletEvent, WalletFault, WalletHeader, WalletLimits,
    WalletRejection,
};
use crate::metrics_names as names;
use crate::storage::{IdempotencyRecord, LotExpiry, StorageFailure, Store, StoreError, WriteSet};
use rust_decimal::Decimal;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

mod bills;
mod community;
pub(crate) mod estimates;
mod intents;
mod purchases;
mod returns;
mod scheduled;
mod topups;
mod transfers;
pub use bills::BillCommand;
pub use intents::{IntentCommand, IntentOutcome};
pub use scheduled::{ScheduleCommand, ScheduleView};
pub use topups::{MethodRefusal, PaymentMethodsUpdate, TopUpRefusal};

pub use estimates::NewEstimate;
pub use purchases::{ensure_histories, mark_histories_kept, NewPurchase};
pub use returns::NewReturn;

pub type WalletKey = (Tenant, WalletId);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalletError {
    #[error("rejected: {0:?}")]
    Rejected(WalletRejection),
    #[error("reference number already used with a different purchase")]
    ReferenceConflict,
    #[error("purchase not found")]
    PurchaseNotFound,
    #[error("the transfer id was already used for a different transfer")]
    TransferConflict,
    #[error("{0}")]
    TokenRefused(TokenRefusal),
    #[error("{0}")]
    ReturnRefused(crate::domain::purchase_return::ReturnError),
    #[error("estimate not found")]
    EstimateNotFound,
    #[error("{0}")]
    EstimateRefused(crate::domain::estimate::EstimateRefusal),
    /// A limit rule of the wallet the command would pass; nothing was changed.
    #[error("{0}")]
    LimitReached(crate::domain::wallet::LimitHit),
    /// New limit rules that do not hold together; nothing was changed.
    #[error("{0}")]
    LimitsRefused(crate::domain::wallet::LimitError),
    #[error("{0}")]
    TopUpRefused(TopUpRefusal),
    #[error("top-up not found")]
    TopUpNotFound,
    /// The actor retired before handling the message; send it again.
    #[error("actor retired")]
    Retry,
    /// The command could not be applied (a panic or a fault); nothing of it was kept.
    #[error("the wallet could not apply the command")]
    Internal,
    #[error("{0}")]
    Storage(String),
}

impl From<StorageFailure> for WalletError {
    fn from(failure: StorageFailure) -> Self {
        WalletError::Storage(failure.0)
    }
}

/// A wallet as a read returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletView {
    pub header: WalletHeader,
    pub balances: Balances,
    /// Held for purchase estimates (not in `balances`).
    pub held: Decimal,
    pub spend: crate::domain::wallet::SpendSettings,
}

/// A wallet's view with what it holds per named commerce pool (largest first).
#[derive(Debug, Clone)]
pub struct WalletHoldings {
    pub view: WalletView,
    pub pools: Vec<crate::domain::wallet::PoolBalance>,
}

/// What a journal line's lot is: its pocket, its named pool, and what is left of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LotFacts {
    pub id: crate::domain::wallet::LotId,
    pub pocket: crate::domain::wallet::Pocket,
    pub pool: Option<crate::domain::ids::CommercePoolId>,
    pub remaining: Decimal,
    /// What of it expired.
    pub expired: Decimal,
}

/// Where an answer goes (see `super::Reply`: a panic answers `Internal`).
pub type Reply<T> = super::Reply<T, WalletError>;

impl super::Faulted for WalletError {
    fn faulted() -> Self {
        WalletError::Internal
    }
}

impl KitError for WalletError {
    fn retry() -> Self {
        WalletError::Retry
    }

    fn is_retry(&self) -> bool {
        matches!(self, WalletError::Retry)
    }
}

pub enum WalletCommand {
    PostPurchase {
        purchase_id: PurchaseId,
        purchase: Box<NewPurchase>,
        body_hash: [u8; 32],
        /// The tenant's offers as of the command (a change commits before or after it).
        offers: Arc<OfferSet>,
        reply: Reply<Arc<PurchaseRecord>>,
    },
    CancelPurchase {
        purchase_id: PurchaseId,
        reply: Reply<Arc<PurchaseRecord>>,
    },
    /// Works out a purchase estimate, holding its spend if asked.
    Estimate {
        estimate: Box<NewEstimate>,
        hold: bool,
        offers: Arc<OfferSet>,
        reply: Reply<Arc<crate::domain::estimate::EstimateRecord>>,
    },
    /// Changes how the wallet may be spent from (what is `None` stays); answers the result.
    SetSpendSettings {
        blocked: Option<bool>,
        auto_spend: Option<bool>,
        reply: Reply<crate::domain::wallet::SpendSettings>,
    },
    /// The contact approves (or rejects) its estimate.
    DecideEstimate {
        id: crate::domain::ids::EstimateId,
        contact: crate::domain::ids::ContactId,
        approve: bool,
        reply: Reply<Arc<crate::domain::estimate::EstimateRecord>>,
    },
    /// An ad hoc return of a purchase's goods; answers the purchase and the return's id.
    ReturnPurchase {
        request: Box<NewReturn>,
        reply: Reply<(Arc<PurchaseRecord>, PurchaseId)>,
    },
    Read {
        reply: Reply<WalletView>,
    },
    /// The view with what the wallet holds per named commerce pool.
    Holdings {
        reply: Reply<WalletHoldings>,
    },
    /// The view with the facts of the lots `only` names (all it ever had: `None`), by id.
    Lots {
        only: Option<Vec<crate::domain::wallet::LotId>>,
        reply: Reply<(WalletView, Vec<LotFacts>)>,
    },
    /// Debits a transfer and commits its credit's message with it.
    TransferOut {
        transfer: Box<TransferRecord>,
        idempotency: Option<([u8; 32], IdempotencyRecord)>,
        reply: Reply<Arc<TransferRecord>>,
    },
    /// Debits several transfers and commits their credits' messages, all or none.
    TransferOutMany {
        transfers: Vec<TransferRecord>,
        reply: Reply<Vec<Arc<TransferRecord>>>,
    },
    /// Applies messages from the outbox, in order, each once per message id, in one commit;
    /// answers how many it applied (the rest had been applied before).
    Deliver {
        messages: Vec<ActorMessage>,
        reply: Reply<usize>,
    },
    /// The scheduled sweep: expire what is due and clear the expiry index entries `due`
    /// (their instants); answers whether anything expired.
    Sweep {
        due: Vec<i64>,
        reply: Reply<bool>,
    },
    /// The contact's limit rules, and the wallet's currency they are in.
    Limits {
        reply: Reply<(crate::domain::money::Currency, WalletLimits)>,
    },
    /// Replaces the limit rules with what `update` makes of them (given the wallet's
    /// currency), checked; answers them.
    SetLimits {
        update: LimitUpdate,
        reply: Reply<(crate::domain::money::Currency, WalletLimits)>,
    },
    /// The contact's payment methods.
    PaymentMethods {
        reply: Reply<crate::domain::payment::PaymentMethods>,
    },
    /// Replaces the payment methods with what `update` makes of them; answers them.
    SetPaymentMethods {
        update: PaymentMethodsUpdate,
        reply: Reply<crate::domain::payment::PaymentMethods>,
    },
    /// Records a top-up, pending, before its gateway is asked (see `topups`).
    BeginTopUp {
        record: Box<crate::domain::payment::TopUpRecord>,
        reply: Reply<Arc<crate::domain::payment::TopUpRecord>>,
    },
    /// Settles a pending top-up with its gateway's answer, once.
    SettleTopUp {
        id: crate::domain::ids::TopUpId,
        outcome: crate::domain::payment::ChargeOutcome,
        reply: Reply<Arc<crate::domain::payment::TopUpRecord>>,
    },
    /// Records and debits a payout, before its gateway is asked.
    BeginPayout {
        record: Box<crate::domain::payment::PayoutRecord>,
        reply: Reply<Arc<crate::domain::payment::PayoutRecord>>,
    },
    /// Settles a pending payout with its gateway's answer, once.
    SettlePayout {
        id: crate::domain::ids::PayoutId,
        outcome: crate::domain::payment::ChargeOutcome,
        reply: Reply<Arc<crate::domain::payment::PayoutRecord>>,
    },
    /// A top-up of this wallet, as it stands.
    TopUp {
        id: crate::domain::ids::TopUpId,
        reply: Reply<Arc<crate::domain::payment::TopUpRecord>>,
    },
    /// The wallet's header (id, owner, currency): it never changes, so no barrier.
    Header {
        reply: Reply<WalletHeader>,
    },
    /// Auto and termed top-ups (see `scheduled`).
    Schedule(ScheduleCommand),
    /// Payment intents (see `intents`).
    Intent(IntentCommand),
    Bill(BillCommand),
}

/// How new limit rules are made from the current ones (in the actor, so two changes never
/// interleave).
pub type LimitUpdate =
    Box<dyn FnOnce(&WalletLimits, crate::domain::money::Currency) -> Result<WalletLimits, LimitError> + Send>;

/// What every wallet actor shares.
#[derive(Clone)]
pub struct WalletDeps {
    pub clock: Arc<dyn Clock>,
    /// The most a wallet may hold (`[money] wallet_balance_max`); credits past it are refused.
    pub balance_max: Decimal,
    /// Wallet events replayed on top of snapshots by the actors started so far.
    pub replayed: Arc<AtomicU64>,
    /// Where messages to other entities go (D5).
    pub outbox: Arc<Outbox>,
    /// How far back a wallet's reward history keeps dated awards: further than the longest
    /// capped period plus the furthest a purchase may be backdated.
    pub history_window_s: i64,
}

/// A wallet actor's state.
pub struct WalletEntity {
    wallet: Wallet,
    clock: Arc<dyn Clock>,
    balance_max: Decimal,
    purchases: Recent<PurchaseId, Arc<PurchaseRecord>>,
    transfers: Recent<TransferId, Arc<TransferRecord>>,
    /// Messages applied (their ids), so a redelivery is answered without applying again.
    messages: Recent<MessageId, ()>,
    outbox: Arc<Outbox>,
    /// Events since the last snapshot, replayed ones included, so replay stays bounded
    /// however often the actor stops and starts.
    events_since_snapshot: u64,
    /// What the wallet earned per offer (first-purchase offers, per-contact caps).
    history: RewardHistory,
    /// Contact tokens this actor marked used (the store may not show it yet).
    used_tokens: Recent<TokenId, PurchaseId>,
    /// Spend block and auto-spend: read at start, changed only by this actor.
    spend: crate::domain::wallet::SpendSettings,
    /// The contact's limit rules: read at start, changed only by this actor.
    limits: WalletLimits,
    /// The contact's payment methods: read at start, changed only by this actor.
    payment_methods: crate::domain::payment::PaymentMethods,
    /// The contact's auto and termed top-ups: read at start, changed only by this actor.
    top_up_settings: crate::domain::topup_schedule::TopUpSettings,
    /// The balance after the events last added, so the auto top-up sees a debit.
    last_total: Decimal,
    /// Top-ups this actor wrote (the store may not show them yet).
    top_ups: Recent<crate::domain::ids::TopUpId, Arc<crate::domain::payment::TopUpRecord>>,
    /// Community members' usage this actor wrote (the store may not show it yet).
    community_usage: Recent<crate::domain::ids::RelationshipId, crate::domain::community::CommunityUsage>,
    /// Payment intents this actor wrote (the store may not show them yet).
    intents: Recent<crate::domain::ids::IntentId, Arc<crate::domain::intent::IntentRecord>>,
    /// Payouts this actor wrote (the store may not show them yet).
    payouts: Recent<crate::domain::ids::PayoutId, Arc<crate::domain::payment::PayoutRecord>>,
    /// Estimates this actor wrote (the store may not show them yet).
    estimates: Recent<crate::domain::ids::EstimateId, Arc<crate::domain::estimate::EstimateRecord>>,
    history_window_s: i64,
}

/// The wallet's actor.
pub type WalletActor = super::kit::EntityActor<WalletEntity>;

impl Entity for WalletEntity {
    type Key = WalletKey;
    type Command = WalletCommand;
    type Deps = WalletDeps;
    const KIND: &'static str = "wallet";

    fn recover(key: &WalletKey, store: &Store, deps: &WalletDeps) -> Result<Option<Self>, StoreError> {
        let Some((wallet, replayed)) = store.recover_wallet(&key.0, key.1)? else {
            return Ok(None);
        };
        let history = purchases::load_history(store, &key.0, key.1)?;
        let spend = store.spend_settings(&key.0, key.1)?;
        let limits = store.wallet_limits(&key.0, key.1)?;
        let payment_methods = store.payment_methods(&key.0, key.1)?;
        let top_up_settings = store.top_up_settings(&key.0, key.1)?;
        deps.replayed.fetch_add(replayed, Ordering::AcqRel);
        metrics::counter!(names::WALLET_EVENTS_REPLAYED_TOTAL).increment(replayed);
        Ok(Some(WalletEntity {
            last_total: wallet.balances().total,
            top_up_settings,
            wallet,
            clock: deps.clock.clone(),
            balance_max: deps.balance_max,
            purchases: Recent::new(),
            transfers: Recent::new(),
            messages: Recent::new(),
            outbox: deps.outbox.clone(),
            events_since_snapshot: replayed,
            history,
            history_window_s: deps.history_window_s,
            used_tokens: Recent::new(),
            estimates: Recent::new(),
            spend,
            limits,
            payment_methods,
            top_ups: Recent::new(),
            payouts: Recent::new(),
            intents: Recent::new(),
            community_usage: Recent::new(),
        }))
    }

    fn handle(&mut self, command: WalletCommand, life: &mut Life<Self>) {
        match command {
            WalletCommand::PostPurchase {
                purchase_id,
                purchase,
                body_hash,
                offers,
                reply,
            } => self.post_purchase(life, purchase_id, *purchase, body_hash, &offers, reply),
            WalletCommand::CancelPurchase { purchase_id, reply } => self.cancel_purchase(life, purchase_id, reply),
            WalletCommand::ReturnPurchase { request, reply } => self.return_purchase(life, *request, reply),
            WalletCommand::Estimate {
                estimate,
                hold,
                offers,
                reply,
            } => self.estimate(life, *estimate, hold, &offers, reply),
            WalletCommand::DecideEstimate {
                id,
                contact,
                approve,
                reply,
            } => self.decide_estimate(life, id, contact, approve, reply),
            WalletCommand::SetSpendSettings {
                blocked,
                auto_spend,
                reply,
            } => self.set_spend_settings(life, blocked, auto_spend, reply),
            WalletCommand::Read { reply } => self.read(life, reply),
            WalletCommand::Holdings { reply } => self.holdings(life, reply),
            WalletCommand::Lots { only, reply } => self.lot_facts(life, only, reply),
            WalletCommand::TransferOut {
                transfer,
                idempotency,
                reply,
            } => self.transfer_out(life, *transfer, idempotency, reply),
            WalletCommand::TransferOutMany { transfers, reply } => self.transfer_out_many(life, transfers, reply),
            WalletCommand::Deliver { messages, reply } => self.deliver(life, messages, reply),
            WalletCommand::Sweep { due, reply } => self.scheduled_sweep(life, due, reply),
            WalletCommand::Header { reply } => {
                let _ = reply.send(Ok(self.wallet.header.clone()));
            }
            WalletCommand::Limits { reply } => {
                let limits = (self.wallet.header.currency, self.limits.clone());
                life.answer_after_durable(reply, Ok(limits));
            }
            WalletCommand::PaymentMethods { reply } => {
                life.answer_after_durable(reply, Ok(self.payment_methods.clone()));
            }
            WalletCommand::SetPaymentMethods { update, reply } => self.set_payment_methods(life, update, reply),
            WalletCommand::BeginTopUp { record, reply } => self.begin_top_up(life, *record, reply),
            WalletCommand::SettleTopUp { id, outcome, reply } => self.settle_top_up(life, id, outcome, reply),
            WalletCommand::BeginPayout { record, reply } => self.begin_payout(life, *record, reply),
            WalletCommand::SettlePayout { id, outcome, reply } => self.settle_payout(life, id, outcome, reply),
            WalletCommand::TopUp { id, reply } => match self.find_top_up(life, id) {
                Ok(Some(record)) if record.wallet == life.key().1 => life.answer_after_durable(reply, Ok(record)),
                Ok(_) => {
                    let _ = reply.send(Err(WalletError::TopUpNotFound));
                }
                Err(error) => {
                    let _ = reply.send(Err(error));
                }
            },
            WalletCommand::SetLimits { update, reply } => self.set_limits(life, update, reply),
            WalletCommand::Schedule(command) => self.schedule(life, command),
            WalletCommand::Intent(command) => self.intent_command(life, command),
            WalletCommand::Bill(command) => self.bill_command(life, command),
        }
    }

    fn refuse(command: WalletCommand) {
        match command {
            WalletCommand::PostPurchase { reply, .. } | WalletCommand::CancelPurchase { reply, .. } => {
                let _ = reply.send(Err(WalletError::Retry));
            }
            WalletCommand::Read { reply } => {
                let _ = reply.send(Err(WalletError::Retry));
            }
            WalletCommand::Holdings { reply } => {
                let _ = reply.send(Err(WalletError::Retry));
            }
            WalletCommand::Lots { reply, .. } => {
                let _ = reply.send(Err(WalletError::Retry));
            }
            WalletCommand::ReturnPurchase { reply, .. } => {
                let _ = reply.send(Err(WalletError::Retry));
            }
            WalletCommand::Estimate { reply, .. } | WalletCommand::DecideEstimate { reply, .. } => {
                let _ = reply.send(Err(WalletError::Retry));
            }
            WalletCommand::SetSpendSettings { reply, .. } => {
                let _ = reply.send(Err(WalletError::Retry));
            }
            WalletCommand::TransferOut { reply, .. } => {
                let _ = reply.send(Err(WalletError::Retry));
            }
            WalletCommand::Deliver { reply, .. } => {
                let _ = reply.send(Err(WalletError::Retry));
            }
            WalletCommand::Sweep { reply, .. } => {
                let _ = reply.send(Err(WalletError::Retry));
            }
            WalletCommand::Header { reply } => {
                let _ = reply.send(Err(WalletError::Retry));
            }
            WalletCommand::Limits { reply } | WalletCommand::SetLimits { reply, .. } => {
                let _ = reply.send(Err(WalletError::Retry));
            }
            WalletCommand::PaymentMethods { reply } | WalletCommand::SetPaymentMethods { reply, .. } => {
                let _ = reply.send(Err(WalletError::Retry));
            }
            WalletCommand::TransferOutMany { reply, .. } => {
                let _ = reply.send(Err(WalletError::Retry));
            }
            WalletCommand::BeginPayout { reply, .. } | WalletCommand::SettlePayout { reply, .. } => {
                let _ = reply.send(Err(WalletError::Retry));
            }
            WalletCommand::BeginTopUp { reply, .. }
            | WalletCommand::SettleTopUp { reply, .. }
            | WalletCommand::TopUp { reply, .. } => {
                let _ = reply.send(Err(WalletError::Retry));
            }
            WalletCommand::Schedule(command) => command.refuse(),
            WalletCommand::Intent(command) => command.refuse(),
            WalletCommand::Bill(command) => command.refuse(),
        }
    }

    fn reload(&mut self, life: &Life<Self>) -> Result<(), String> {
        let key = life.key();
        let history = purchases::load_history(life.store(), &key.0, key.1).map_err(|error| error.to_string())?;
        self.spend = life
            .store()
            .spend_settings(&key.0, key.1)
            .map_err(|error| error.to_string())?;
        self.limits = life
            .store()
            .wallet_limits(&key.0, key.1)
            .map_err(|error| error.to_string())?;
        self.payment_methods = life
            .store()
            .payment_methods(&key.0, key.1)
            .map_err(|error| error.to_string())?;
        self.top_up_settings = life
            .store()
            .top_up_settings(&key.0, key.1)
            .map_err(|error| error.to_string())?;
        self.top_ups.clear();
        self.payouts.clear();
        self.intents.clear();
        self.community_usage.clear();
        match life.store().recover_wallet(&key.0, key.1) {
            Ok(Some((wallet, replayed))) => {
                self.last_total = wallet.balances().total;
                self.wallet = wallet;
                self.history = history;
                self.used_tokens.clear();
                self.estimates.clear();
                self.events_since_snapshot = replayed;
                self.purchases.clear();
                self.transfers.clear();
                self.messages.clear();
                Ok(())
            }
            Ok(None) => Err("the wallet is not in the store".into()),
            Err(error) => Err(error.to_string()),
        }
    }

    /// A snapshot on passivation: the next start loads it instead of replaying the events
    /// since the last one.
    fn on_retire(&mut self, _life: &Life<Self>) -> WriteSet {
        let mut writes = WriteSet::default();
        if self.events_since_snapshot > 0 {
            writes.wallet_snapshot(&self.wallet);
            self.events_since_snapshot = 0;
        }
        writes
    }
}

impl WalletEntity {
    /// Adds wallet events to `writes`, plus a snapshot when enough events have passed that
    /// rewriting the state costs no more than replaying them would.
    fn add_events(&mut self, life: &Life<Self>, writes: &mut WriteSet, events: &[WalletEvent]) {
        let key = life.key();
        for event in events {
            writes.wallet_event(&key.0, key.1, event);
            self.index_expiries(&key.0, event, writes);
        }
        self.events_since_snapshot += events.len() as u64;
        let threshold = life
            .settings()
            .snapshot_every_events
            .max(self.wallet.lot_count() as u64);
        if self.events_since_snapshot >= threshold {
            writes.wallet_snapshot(&self.wallet);
            self.events_since_snapshot = 0;
        }
        self.arm_auto_top_up(life, writes);
    }

    /// Commits `writes` and answers `value` once they are durable; wakes the outbox when the
    /// commit carries messages (`sends`).
    fn commit_waking<T: Send + 'static>(
        &self,
        life: &mut Life<Self>,
        writes: WriteSet,
        sends: bool,
        reply: Reply<T>,
        value: T,
    ) {
        if !sends {
            return life.commit_then_reply(writes, reply, value);
        }
        let outbox = self.outbox.clone();
        life.commit(writes, move |outcome| {
            if outcome.is_ok() {
                outbox.wake();
            }
            let _ = reply.send(outcome.map(|()| value).map_err(WalletError::from));
        });
    }

    /// Keeps the expiry index (`LotExpiry`) in step with an event: a lot opened with an
    /// expiry adds its entry; an expiry removes the entry of the instant it swept (every lot
    /// due then is swept together). A lot spent before its expiry leaves its entry for the
    /// scheduled sweep to clear.
    fn index_expiries(&self, tenant: &Tenant, event: &WalletEvent, writes: &mut WriteSet) {
        // A hold is given back when it expires: the sweep comes for it too.
        if let Cause::Hold { expires_at, .. } = event.cause {
            writes.lot_expiry(&LotExpiry {
                expires_at,
                tenant: *tenant,
                wallet: self.wallet.header.id,
            });
            return;
        }
        let mut last = None;
        for entry in &event.entries {
            let expiry = |expires_at| LotExpiry {
                expires_at,
                tenant: *tenant,
                wallet: self.wallet.header.id,
            };
            match (entry.kind, entry.new_lot.and_then(|lot| lot.expires_at)) {
                (_, Some(expires_at)) => writes.lot_expiry(&expiry(expires_at)),
                (EntryKind::Expiration, None) => {
                    let expires_at = self.wallet.lot(entry.lot).and_then(|lot| lot.expires_at);
                    if let Some(expires_at) = expires_at.filter(|at| last != Some(*at)) {
                        writes.remove_lot_expiry(&expiry(expires_at));
                        last = Some(expires_at);
                    }
                }
                _ => {}
            }
        }
    }

    /// The scheduled sweep: expires what is due and clears the index entries it was sent
    /// for (`due`, each at or before now), lots spent before their expiry included.
    fn scheduled_sweep(&mut self, life: &mut Life<Self>, due: Vec<i64>, reply: Reply<bool>) {
        let now = self.clock.now_s();
        let mut writes = WriteSet::default();
        let swept = match self.sweep(life, now, &mut writes) {
            Ok(swept) => swept,
            Err(fault) => return self.fault(life, reply, &fault),
        };
        let tenant = life.key().0;
        for expires_at in due.into_iter().filter(|at| *at <= now) {
            writes.remove_lot_expiry(&LotExpiry {
                expires_at,
                tenant,
                wallet: self.wallet.header.id,
            });
        }
        life.commit_then_reply(writes, reply, swept);
    }

    /// Gives back holds that expired and expires lots due at `now` (holds first: what a
    /// hold gives back to a lot past its expiry expires with it); says whether anything was.
    fn sweep(&mut self, life: &Life<Self>, now: i64, writes: &mut WriteSet) -> Result<bool, WalletFault> {
        let mut events = self.wallet.release_expired_holds(now)?;
        events.extend(self.wallet.sweep_expired(now)?);
        if events.is_empty() {
            return Ok(false);
        }
        self.add_events(life, writes, &events);
        Ok(true)
    }

    /// A command failed after it may have changed memory: answer `Internal`; the kit
    /// reloads the wallet before the next command.
    fn fault<T>(&mut self, life: &mut Life<Self>, reply: Reply<T>, fault: &WalletFault) {
        tracing::error!(wallet = %life.key().1, %fault, "wallet command failed; reloading the wallet");
        life.set_faulted();
        let _ = reply.send(Err(WalletError::Internal));
    }

    fn set_spend_settings(
        &mut self,
        life: &mut Life<Self>,
        blocked: Option<bool>,
        auto_spend: Option<bool>,
        reply: Reply<crate::domain::wallet::SpendSettings>,
    ) {
        let mut settings = self.spend;
        if let Some(blocked) = blocked.filter(|blocked| *blocked != settings.blocked) {
            settings.blocked = blocked;
            settings.blocked_on = Some(self.clock.now_s());
        }
        if let Some(auto_spend) = auto_spend {
            settings.auto_spend = auto_spend;
        }
        if settings == self.spend {
            return life.answer_after_durable(reply, Ok(settings));
        }
        let mut writes = WriteSet::default();
        writes.spend_settings(&life.key().0, life.key().1, &settings);
        self.spend = settings;
        life.commit_then_reply(writes, reply, settings);
    }

    fn set_limits(
        &mut self,
        life: &mut Life<Self>,
        update: LimitUpdate,
        reply: Reply<(crate::domain::money::Currency, WalletLimits)>,
    ) {
        let currency = self.wallet.header.currency;
        let limits = match update(&self.limits, currency)
            .and_then(|limits| limits.validate(currency, self.balance_max).map(|()| limits))
        {
            Ok(limits) => limits,
            Err(refused) => {
                let _ = reply.send(Err(WalletError::LimitsRefused(refused)));
                return;
            }
        };
        if limits == self.limits {
            return life.answer_after_durable(reply, Ok((currency, limits)));
        }
        let mut writes = WriteSet::default();
        writes.wallet_limits(&life.key().0, life.key().1, &limits);
        self.limits = limits.clone();
        life.commit_then_reply(writes, reply, (currency, limits));
    }

    /// Whether moving `moves` now keeps the wallet's limits.
    fn within_limits(&self, now: i64, moves: &crate::domain::wallet::Moves) -> Result<(), WalletError> {
        if self.limits.rules.is_empty() {
            return Ok(());
        }
        self.limits
            .admits(self.wallet.limit_usage(), now, moves)
            .map_err(WalletError::LimitReached)
    }

    fn read(&mut self, life: &mut Life<Self>, reply: Reply<WalletView>) {
        let now = self.clock.now_s();
        let mut writes = WriteSet::default();
        if let Err(fault) = self.sweep(life, now, &mut writes) {
            return self.fault(life, reply, &fault);
        }
        let view = self.view();
        life.commit_then_answer(writes, reply, Ok(view));
    }

    fn view(&self) -> WalletView {
        WalletView {
            header: self.wallet.header.clone(),
            balances: self.wallet.balances(),
            held: self.wallet.held(),
            spend: self.spend,
        }
    }

    fn holdings(&mut self, life: &mut Life<Self>, reply: Reply<WalletHoldings>) {
        let now = self.clock.now_s();
        let mut writes = WriteSet::default();
        if let Err(fault) = self.sweep(life, now, &mut writes) {
            return self.fault(life, reply, &fault);
        }
        let holdings = WalletHoldings {
            view: self.view(),
            pools: self.wallet.pool_balances(now),
        };
        life.commit_then_answer(writes, reply, Ok(holdings));
    }

    fn lot_facts(
        &mut self,
        life: &mut Life<Self>,
        only: Option<Vec<crate::domain::wallet::LotId>>,
        reply: Reply<(WalletView, Vec<LotFacts>)>,
    ) {
        let now = self.clock.now_s();
        let mut writes = WriteSet::default();
        if let Err(fault) = self.sweep(life, now, &mut writes) {
            return self.fault(life, reply, &fault);
        }
        let facts = |lot: &crate::domain::wallet::Lot| LotFacts {
            id: lot.id,
            pocket: lot.pocket,
            pool: self.wallet.pool_of(lot.id),
            remaining: lot.remaining,
            expired: lot.expired,
        };
        let mut lots: Vec<LotFacts> = match only {
            None => self.wallet.lots().map(facts).collect(),
            Some(ids) => ids.iter().filter_map(|id| self.wallet.lot(*id)).map(facts).collect(),
        };
        lots.sort_by_key(|lot| lot.id);
        lots.dedup_by_key(|lot| lot.id);
        life.commit_then_answer(writes, reply, Ok((self.view(), lots)));
    }
}
