//! A wallet's payment intents (`domain::intent`): recorded pending before the gateway is
//! asked, settled once with its answer, captured when a held one is used, and used once —
//! the top-up it pays credited in the same commit that marks the intent used.

use super::{Life, Reply, TopUpRefusal, WalletEntity, WalletError};
use crate::domain::ids::{ContactId, IntentId};
use crate::domain::intent::{may_move, IntentRecord, IntentState};
use crate::domain::payment::{TopUpRecord, TopUpState};
use crate::domain::wallet::CommandError;
use crate::storage::WriteSet;
use std::sync::Arc;

/// What a gateway said about an intent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntentOutcome {
    /// Charged (automatic capture) or captured (a hold): its reference.
    Paid { reference: String },
    /// Authorised and held: its reference.
    Held { reference: String },
    /// Declined or failed: nothing taken (a hold's capture refused: the hold is gone).
    Refused { reason: String },
    /// A hold released at the gateway.
    Released,
    /// A capture whose answer never came: the hold stays, to be used or released.
    CaptureAbandoned,
}

pub enum IntentCommand {
    /// Records an intent, pending (answered once durable: only then may its gateway be
    /// asked). A retry of the same intent is answered with it as it stands.
    Begin {
        record: Box<IntentRecord>,
        reply: Reply<Arc<IntentRecord>>,
    },
    /// Settles an intent with what its gateway said, once; anything else is answered as it
    /// stands.
    Settle {
        id: IntentId,
        outcome: IntentOutcome,
        reply: Reply<Arc<IntentRecord>>,
    },
    /// Marks contact `contact`'s held intent as being captured, when the wallet may take
    /// its amount now; a completed one is answered as it is.
    BeginCapture {
        id: IntentId,
        contact: ContactId,
        reply: Reply<Arc<IntentRecord>>,
    },
    /// Pays `top_up` from contact `contact`'s completed intent, crediting it and marking the
    /// intent used in one commit; the top-up it paid already is answered as it is.
    Use {
        id: IntentId,
        contact: ContactId,
        top_up: Box<TopUpRecord>,
        reply: Reply<Arc<TopUpRecord>>,
    },
    /// One of this wallet's intents, as it stands.
    Get {
        id: IntentId,
        reply: Reply<Arc<IntentRecord>>,
    },
}

impl IntentCommand {
    pub(super) fn refuse(self) {
        match self {
            IntentCommand::Begin { reply, .. }
            | IntentCommand::Settle { reply, .. }
            | IntentCommand::BeginCapture { reply, .. }
            | IntentCommand::Get { reply, .. } => {
                let _ = reply.send(Err(WalletError::Retry));
            }
            IntentCommand::Use { reply, .. } => {
                let _ = reply.send(Err(WalletError::Retry));
            }
        }
    }
}

fn not_usable(message: impl Into<String>) -> WalletError {
    WalletError::TopUpRefused(TopUpRefusal::Intent(message.into()))
}

impl WalletEntity {
    pub(super) fn intent_command(&mut self, life: &mut Life<Self>, command: IntentCommand) {
        match command {
            IntentCommand::Begin { record, reply } => self.begin_intent(life, *record, reply),
            IntentCommand::Settle { id, outcome, reply } => self.settle_intent(life, id, outcome, reply),
            IntentCommand::BeginCapture { id, contact, reply } => self.begin_capture(life, id, contact, reply),
            IntentCommand::Use {
                id,
                contact,
                top_up,
                reply,
            } => self.use_intent(life, id, contact, *top_up, reply),
            IntentCommand::Get { id, reply } => match self.own_intent(life, id, None) {
                Ok(record) => life.answer_after_durable(reply, Ok(record)),
                Err(error) => drop(reply.send(Err(error))),
            },
        }
    }

    fn find_intent(&self, life: &Life<Self>, id: IntentId) -> Result<Option<Arc<IntentRecord>>, WalletError> {
        if let Some(record) = self.intents.get(&id) {
            return Ok(Some(record.clone()));
        }
        life.store()
            .intent(&life.key().0, id)
            .map(|found| found.map(Arc::new))
            .map_err(|error| WalletError::Storage(error.to_string()))
    }

    /// This wallet's intent `id` (of `contact`, when named): another's is not found.
    fn own_intent(
        &self,
        life: &Life<Self>,
        id: IntentId,
        contact: Option<ContactId>,
    ) -> Result<Arc<IntentRecord>, WalletError> {
        match self.find_intent(life, id)? {
            Some(record)
                if record.wallet == life.key().1 && contact.is_none_or(|contact| contact == record.contact) =>
            {
                Ok(record)
            }
            _ => Err(WalletError::TopUpRefused(TopUpRefusal::IntentNotFound)),
        }
    }

    /// Writes `record` and keeps it until the store shows it; answers it once durable.
    fn commit_intent(
        &mut self,
        life: &mut Life<Self>,
        mut writes: WriteSet,
        record: IntentRecord,
        reply: Reply<Arc<IntentRecord>>,
    ) {
        writes.intent(&record);
        let record = Arc::new(record);
        life.commit_then_reply(writes, reply, record.clone());
        self.intents
            .remember(record.id, record, life.commits_submitted(), life.commits_settled());
    }

    fn begin_intent(&mut self, life: &mut Life<Self>, mut record: IntentRecord, reply: Reply<Arc<IntentRecord>>) {
        match self.find_intent(life, record.id) {
            Err(error) => return drop(reply.send(Err(error))),
            Ok(Some(existing)) if existing.body_hash == record.body_hash && existing.wallet == record.wallet => {
                return life.answer_after_durable(reply, Ok(existing));
            }
            Ok(Some(_)) => return drop(reply.send(Err(WalletError::TopUpRefused(TopUpRefusal::IntentConflict)))),
            Ok(None) => {}
        }
        match self.gateway_token(record.payment_method) {
            Ok((gateway, token)) => (record.gateway, record.token) = (gateway, token),
            Err(refused) => return drop(reply.send(Err(refused))),
        }
        let now = self.clock.now_s();
        // The top-up it pays must fit the wallet: checked now, before any money is taken.
        if let Err(refused) = self.top_up_admitted(now, record.amount) {
            return drop(reply.send(Err(refused)));
        }
        record.state = IntentState::Pending;
        record.created_on = now;
        record.updated_on = now;
        self.commit_intent(life, WriteSet::default(), record, reply);
    }

    fn settle_intent(
        &mut self,
        life: &mut Life<Self>,
        id: IntentId,
        outcome: IntentOutcome,
        reply: Reply<Arc<IntentRecord>>,
    ) {
        let record = match self.own_intent(life, id, None) {
            Ok(record) => record,
            Err(error) => return drop(reply.send(Err(error))),
        };
        let mut settled = (*record).clone();
        let to = match (&outcome, record.state, record.capturing) {
            (IntentOutcome::Paid { .. }, IntentState::Pending, _) => IntentState::Completed,
            (IntentOutcome::Held { .. }, IntentState::Pending, _) => IntentState::RequiresCapturing,
            (IntentOutcome::Refused { .. }, IntentState::Pending, _) => IntentState::Rejected,
            (IntentOutcome::Paid { .. }, IntentState::RequiresCapturing, true) => IntentState::Completed,
            (IntentOutcome::Refused { .. }, IntentState::RequiresCapturing, true) => IntentState::Cancelled,
            (IntentOutcome::Released, IntentState::RequiresCapturing, false) => IntentState::Cancelled,
            (IntentOutcome::CaptureAbandoned, IntentState::RequiresCapturing, true) => IntentState::RequiresCapturing,
            // Settled already, or an answer to a question not asked: as it stands.
            _ => return life.answer_after_durable(reply, Ok(record)),
        };
        if to != record.state && !may_move(record.state, to) {
            return life.answer_after_durable(reply, Ok(record));
        }
        settled.state = to;
        settled.capturing = false;
        match outcome {
            IntentOutcome::Paid { reference } | IntentOutcome::Held { reference } => {
                settled.reference = Some(reference);
            }
            IntentOutcome::Refused { reason } => settled.error = Some(reason),
            IntentOutcome::Released | IntentOutcome::CaptureAbandoned => {}
        }
        settled.updated_on = self.clock.now_s();
        self.commit_intent(life, WriteSet::default(), settled, reply);
    }

    fn begin_capture(
        &mut self,
        life: &mut Life<Self>,
        id: IntentId,
        contact: ContactId,
        reply: Reply<Arc<IntentRecord>>,
    ) {
        let record = match self.own_intent(life, id, Some(contact)) {
            Ok(record) => record,
            Err(error) => return drop(reply.send(Err(error))),
        };
        match record.state {
            IntentState::Completed => return life.answer_after_durable(reply, Ok(record)),
            IntentState::RequiresCapturing if record.capturing => {
                return life.answer_after_durable(reply, Ok(record));
            }
            IntentState::RequiresCapturing => {}
            state => {
                let refused = not_usable(format!("the payment intent is {}", state.code()));
                return drop(reply.send(Err(refused)));
            }
        }
        if let Err(refused) = self.top_up_admitted(self.clock.now_s(), record.amount) {
            return drop(reply.send(Err(refused)));
        }
        let mut capturing = (*record).clone();
        capturing.capturing = true;
        capturing.updated_on = self.clock.now_s();
        self.commit_intent(life, WriteSet::default(), capturing, reply);
    }

    fn use_intent(
        &mut self,
        life: &mut Life<Self>,
        id: IntentId,
        contact: ContactId,
        mut top_up: TopUpRecord,
        reply: Reply<Arc<TopUpRecord>>,
    ) {
        let record = match self.own_intent(life, id, Some(contact)) {
            Ok(record) => record,
            Err(error) => return drop(reply.send(Err(error))),
        };
        match record.used_by {
            Some(used) if used == top_up.id => {
                return match self.find_top_up(life, used) {
                    Ok(Some(paid)) => life.answer_after_durable(reply, Ok(paid)),
                    Ok(None) => drop(reply.send(Err(WalletError::TopUpNotFound))),
                    Err(error) => drop(reply.send(Err(error))),
                };
            }
            Some(_) => return drop(reply.send(Err(WalletError::TopUpRefused(TopUpRefusal::IntentUsed)))),
            None => {}
        }
        if record.state != IntentState::Completed {
            let refused = not_usable(format!("the payment intent is {}", record.state.code()));
            return drop(reply.send(Err(refused)));
        }
        if top_up.amount != record.amount {
            let refused = not_usable(format!("the top-up must be the intent's amount, {}", record.amount));
            return drop(reply.send(Err(refused)));
        }
        match self.find_top_up(life, top_up.id) {
            Ok(None) => {}
            Ok(Some(_)) => return drop(reply.send(Err(WalletError::TopUpRefused(TopUpRefusal::Conflict)))),
            Err(error) => return drop(reply.send(Err(error))),
        }
        let now = self.clock.now_s();
        let mut writes = WriteSet::default();
        if let Err(fault) = self.sweep(life, now, &mut writes) {
            return self.fault(life, reply, &fault);
        }
        // The money was taken: credited past the wallet's limits and bound too (they were
        // checked when the intent was made, and again before a hold was captured).
        let event = match self
            .wallet
            .top_up(now, top_up.id, record.amount, rust_decimal::Decimal::MAX)
        {
            Ok(event) => event,
            Err(CommandError::Fault(fault)) => return self.fault(life, reply, &fault),
            Err(CommandError::Rejected(rejection)) => {
                let fault = crate::domain::wallet::WalletFault(format!("an intent's credit refused: {rejection:?}"));
                return self.fault(life, reply, &fault);
            }
        };
        self.add_events(life, &mut writes, &[event]);
        top_up.payment_method = record.payment_method;
        top_up.gateway = record.gateway.clone();
        top_up.token = record.token.clone();
        top_up.currency = record.currency;
        top_up.state = TopUpState::Succeeded {
            charge: record.reference.clone().unwrap_or_else(|| record.id.to_string()),
        };
        top_up.created_on = now;
        top_up.settled_on = Some(now);
        writes.top_up(&top_up);
        let mut used = (*record).clone();
        used.used_by = Some(top_up.id);
        used.updated_on = now;
        writes.intent(&used);
        let top_up = Arc::new(top_up);
        life.commit_then_reply(writes, reply, top_up.clone());
        let (submitted, settled) = (life.commits_submitted(), life.commits_settled());
        self.top_ups.remember(top_up.id, top_up, submitted, settled);
        self.intents.remember(used.id, Arc::new(used), submitted, settled);
    }
}
