//! A wallet's side of transfers (D5): sending debits the wallet and commits the credit's
//! message in the same commit; receiving applies a message once, by its id, and gives the
//! money back to the origin when this wallet cannot take it.

use super::{Life, Reply, WalletEntity, WalletError};
use crate::domain::ids::TransferId;
use crate::domain::transfer::{ActorMessage, MessageBody, Recipient, ReturnReason, TransferRecord};
use crate::domain::wallet::{Cause, CommandError, WalletFault, WalletRejection};
use crate::metrics_names as names;
use crate::storage::{IdempotencyRecord, WriteSet};
use rust_decimal::Decimal;
use std::sync::Arc;

impl WalletEntity {
    fn find_transfer(&self, life: &Life<Self>, id: TransferId) -> Result<Option<Arc<TransferRecord>>, WalletError> {
        if let Some(record) = self.transfers.get(&id) {
            return Ok(Some(record.clone()));
        }
        life.store()
            .transfer(&life.key().0, id)
            .map(|found| found.map(Arc::new))
            .map_err(|error| WalletError::Storage(error.to_string()))
    }

    /// Sends a transfer: the debit, the transfer's record, the credit's message to the
    /// destination (and the idempotency record) in one commit, answered once durable. A
    /// retry of the same transfer is answered with it; another transfer under its id is a
    /// conflict.
    pub(super) fn transfer_out(
        &mut self,
        life: &mut Life<Self>,
        mut transfer: TransferRecord,
        idempotency: Option<([u8; 32], IdempotencyRecord)>,
        reply: Reply<Arc<TransferRecord>>,
    ) {
        match self.find_transfer(life, transfer.id) {
            Err(error) => {
                let _ = reply.send(Err(error));
                return;
            }
            Ok(Some(existing)) => {
                if existing.body_hash == transfer.body_hash && existing.origin == transfer.origin {
                    life.answer_after_durable(reply, Ok(existing));
                } else {
                    let _ = reply.send(Err(WalletError::TransferConflict));
                }
                return;
            }
            Ok(None) => {}
        }
        if self.spend.blocked {
            let _ = reply.send(Err(WalletError::Rejected(WalletRejection::SpendBlocked)));
            return;
        }
        let now = self.clock.now_s();
        let mut writes = WriteSet::default();
        if let Err(fault) = self.sweep(life, now, &mut writes) {
            return self.fault(life, reply, &fault);
        }
        let moves = crate::domain::wallet::Moves {
            debit: transfer.amount,
            transfer: transfer.amount,
            ..Default::default()
        };
        if let Err(refused) = self.within_limits(now, &moves) {
            metrics::counter!(names::TRANSFERS_TOTAL, "outcome" => "refused").increment(1);
            return life.commit_then_answer(writes, reply, Err(refused));
        }
        match self.send_transfer(life, &mut writes, &mut transfer, now) {
            Ok(()) => {}
            Err(CommandError::Fault(fault)) => return self.fault(life, reply, &fault),
            Err(CommandError::Rejected(rejection)) => {
                metrics::counter!(names::TRANSFERS_TOTAL, "outcome" => "refused").increment(1);
                return life.commit_then_answer(writes, reply, Err(WalletError::Rejected(rejection)));
            }
        }
        let (tenant, _) = *life.key();
        if let Some((key_hash, record)) = &idempotency {
            writes.idempotency(&tenant, key_hash, record);
        }
        metrics::counter!(names::TRANSFERS_TOTAL, "outcome" => "sent").increment(1);
        let record = Arc::new(transfer);
        self.commit_waking(life, writes, true, reply, record.clone());
        self.transfers
            .remember(record.id, record, life.commits_submitted(), life.commits_settled());
    }

    /// Debits one transfer and writes its record and its credit's message.
    fn send_transfer(
        &mut self,
        life: &Life<Self>,
        writes: &mut WriteSet,
        transfer: &mut TransferRecord,
        now: i64,
    ) -> Result<(), CommandError> {
        let event = self.wallet.transfer_out(now, transfer.id, transfer.amount)?;
        transfer.created_on = now;
        let (tenant, _) = *life.key();
        self.add_events(life, writes, &[event]);
        writes.transfer(transfer);
        writes.actor_message(&ActorMessage {
            id: ActorMessage::credit_id(transfer.id),
            seq: self.outbox.next_seq(),
            to: Recipient::Wallet(tenant, transfer.destination),
            body: match &transfer.pool {
                None => MessageBody::TransferCredit {
                    transfer: transfer.id,
                    from: transfer.origin,
                    currency: transfer.currency,
                    amount: transfer.amount,
                },
                Some(pool) => MessageBody::PoolTransferCredit {
                    transfer: transfer.id,
                    from: transfer.origin,
                    currency: transfer.currency,
                    amount: transfer.amount,
                    pool: pool.id,
                    conditions: pool.conditions.clone(),
                },
            },
            committed_at: now,
        });
        Ok(())
    }

    /// Sends several transfers, all or none, in one commit: the funds and the limits are
    /// checked for the whole bulk first. Transfers already sent under their ids are
    /// answered as they are; another transfer under one of them is a conflict.
    pub(super) fn transfer_out_many(
        &mut self,
        life: &mut Life<Self>,
        transfers: Vec<TransferRecord>,
        reply: Reply<Vec<Arc<TransferRecord>>>,
    ) {
        let mut answered = Vec::with_capacity(transfers.len());
        let mut fresh = Vec::new();
        for transfer in transfers {
            match self.find_transfer(life, transfer.id) {
                Err(error) => {
                    let _ = reply.send(Err(error));
                    return;
                }
                Ok(Some(existing))
                    if existing.body_hash == transfer.body_hash && existing.origin == transfer.origin =>
                {
                    answered.push(existing);
                }
                Ok(Some(_)) => {
                    let _ = reply.send(Err(WalletError::TransferConflict));
                    return;
                }
                Ok(None) => fresh.push(transfer),
            }
        }
        if fresh.is_empty() {
            return life.answer_after_durable(reply, Ok(answered));
        }
        if self.spend.blocked {
            let _ = reply.send(Err(WalletError::Rejected(WalletRejection::SpendBlocked)));
            return;
        }
        let now = self.clock.now_s();
        let mut writes = WriteSet::default();
        if let Err(fault) = self.sweep(life, now, &mut writes) {
            return self.fault(life, reply, &fault);
        }
        let refused = |life: &mut Life<Self>, writes: WriteSet, reply: Reply<Vec<Arc<TransferRecord>>>, error| {
            metrics::counter!(names::TRANSFERS_TOTAL, "outcome" => "refused").increment(1);
            life.commit_then_answer(writes, reply, Err(error));
        };
        let total = fresh
            .iter()
            .try_fold(Decimal::ZERO, |sum, transfer| sum.checked_add(transfer.amount));
        let covered = total.is_some_and(|total| {
            self.wallet
                .spendable_within(now, total, crate::domain::wallet::SpendScope::Unconditional)
                >= total
        });
        if !covered {
            return refused(
                life,
                writes,
                reply,
                WalletError::Rejected(WalletRejection::InsufficientFunds),
            );
        }
        if !self.limits.rules.is_empty() {
            let mut usage = self.wallet.limit_usage().clone();
            for transfer in &fresh {
                let moves = crate::domain::wallet::Moves {
                    debit: transfer.amount,
                    transfer: transfer.amount,
                    ..Default::default()
                };
                if let Err(hit) = self.limits.admits(&usage, now, &moves) {
                    return refused(life, writes, reply, WalletError::LimitReached(hit));
                }
                usage.record(now, &moves);
            }
        }
        let mut sent = Vec::with_capacity(fresh.len());
        for mut transfer in fresh {
            if let Err(error) = self.send_transfer(life, &mut writes, &mut transfer, now) {
                // Checked above, so not expected: whatever was applied in memory goes.
                life.set_faulted();
                let _ = reply.send(Err(match error {
                    CommandError::Rejected(rejection) => WalletError::Rejected(rejection),
                    CommandError::Fault(_) => WalletError::Internal,
                }));
                return;
            }
            sent.push(Arc::new(transfer));
        }
        metrics::counter!(names::TRANSFERS_TOTAL, "outcome" => "sent").increment(sent.len() as u64);
        answered.extend(sent.iter().cloned());
        self.commit_waking(life, writes, true, reply, answered);
        for record in sent {
            self.transfers
                .remember(record.id, record, life.commits_submitted(), life.commits_settled());
        }
    }

    /// Applies messages from the outbox in order, each once: their effects and the marks
    /// that they were applied commit together, and a message seen before is skipped. A
    /// fault in any of them applies none (the kit reloads the wallet), and the delivery
    /// loop sends them again.
    pub(super) fn deliver(&mut self, life: &mut Life<Self>, messages: Vec<ActorMessage>, reply: Reply<usize>) {
        let (tenant, wallet) = *life.key();
        let now = self.clock.now_s();
        let mut writes = WriteSet::default();
        if let Err(fault) = self.sweep(life, now, &mut writes) {
            return self.fault(life, reply, &fault);
        }
        let mut applied_now = Vec::with_capacity(messages.len());
        let mut sends_message = false;
        for message in messages {
            if message.to != Recipient::Wallet(tenant, wallet) {
                let fault = WalletFault(format!("message {} is for {:?}", message.id, message.to));
                return self.fault(life, reply, &fault);
            }
            let seen = self.messages.get(&message.id).is_some()
                || applied_now.contains(&message.id)
                || match life.store().message_applied(&tenant, wallet, message.id) {
                    Ok(applied) => applied,
                    Err(error) => {
                        let _ = reply.send(Err(WalletError::Storage(error.to_string())));
                        return;
                    }
                };
            if seen {
                continue;
            }
            match self.apply_message(life, now, &message, &mut writes) {
                Ok(sends) => sends_message |= sends,
                Err(fault) => return self.fault(life, reply, &fault),
            }
            writes.message_applied(&tenant, wallet, message.id);
            applied_now.push(message.id);
        }
        let count = applied_now.len();
        if writes.is_empty() {
            return life.answer_after_durable(reply, Ok(0));
        }
        self.commit_waking(life, writes, sends_message, reply, count);
        for id in applied_now {
            self.messages
                .remember(id, (), life.commits_submitted(), life.commits_settled());
        }
    }

    /// Applies one message's effects to the wallet and `writes`; true when it sends a
    /// message of its own (a transfer given back).
    fn apply_message(
        &mut self,
        life: &Life<Self>,
        now: i64,
        message: &ActorMessage,
        writes: &mut WriteSet,
    ) -> Result<bool, WalletFault> {
        let (tenant, _) = *life.key();
        match message.body {
            MessageBody::TransferCredit { .. } | MessageBody::PoolTransferCredit { .. } => {
                let (transfer, from, currency, amount, pool) = match &message.body {
                    MessageBody::TransferCredit {
                        transfer,
                        from,
                        currency,
                        amount,
                    } => (*transfer, *from, *currency, *amount, None),
                    MessageBody::PoolTransferCredit {
                        transfer,
                        from,
                        currency,
                        amount,
                        pool,
                        conditions,
                    } => (*transfer, *from, *currency, *amount, Some((*pool, conditions))),
                    _ => return Err(WalletFault("a transfer credit changed under its match".into())),
                };
                let credit = crate::domain::wallet::Moves {
                    credit: amount,
                    ..Default::default()
                };
                let refused = if currency != self.wallet.header.currency {
                    Some(ReturnReason::Currency)
                } else if self.within_limits(now, &credit).is_err() {
                    Some(ReturnReason::WalletLimit)
                } else {
                    let cause = Cause::TransferReceived(transfer);
                    let credited = match pool {
                        None => self.wallet.transfer_in(now, cause, amount, self.balance_max),
                        Some((pool, conditions)) => self.wallet.transfer_in_pool(
                            now,
                            cause,
                            amount,
                            self.balance_max,
                            (pool, std::sync::Arc::new(conditions.clone())),
                        ),
                    };
                    match credited {
                        Ok(event) => {
                            self.add_events(life, writes, &[event]);
                            metrics::counter!(names::TRANSFERS_TOTAL, "outcome" => "credited").increment(1);
                            None
                        }
                        Err(CommandError::Rejected(WalletRejection::BalanceLimit)) => Some(ReturnReason::BalanceLimit),
                        Err(CommandError::Rejected(rejection)) => {
                            return Err(WalletFault(format!("a transfer credit refused: {rejection:?}")));
                        }
                        Err(CommandError::Fault(fault)) => return Err(fault),
                    }
                };
                let Some(reason) = refused else {
                    return Ok(false);
                };
                metrics::counter!(names::TRANSFERS_TOTAL, "outcome" => "returned").increment(1);
                writes.actor_message(&ActorMessage::transfer_return(
                    tenant,
                    transfer,
                    from,
                    currency,
                    amount,
                    reason,
                    self.outbox.next_seq(),
                    now,
                ));
                Ok(true)
            }
            MessageBody::TransferReturn {
                transfer,
                currency,
                amount,
                reason: _,
            } => {
                if currency != self.wallet.header.currency {
                    return Err(WalletFault(format!("transfer {transfer} came back in {currency}")));
                }
                // The wallet's own money coming back: no bound refuses it.
                match self
                    .wallet
                    .transfer_in(now, Cause::TransferReturned(transfer), amount, Decimal::MAX)
                {
                    Ok(event) => self.add_events(life, writes, &[event]),
                    Err(CommandError::Rejected(rejection)) => {
                        return Err(WalletFault(format!("a returned transfer refused: {rejection:?}")));
                    }
                    Err(CommandError::Fault(fault)) => return Err(fault),
                }
                Ok(false)
            }
            MessageBody::PassCredit {
                pass,
                currency,
                amount,
                pocket,
            } => {
                if currency != self.wallet.header.currency {
                    return Err(WalletFault(format!("pass {pass} credits {currency}")));
                }
                // The pass is redeemed already: its value lands whatever the balance bound.
                match self.wallet.redeem_pass(now, pass, amount, pocket) {
                    Ok(event) => self.add_events(life, writes, &[event]),
                    Err(CommandError::Rejected(rejection)) => {
                        return Err(WalletFault(format!("a pass credit refused: {rejection:?}")));
                    }
                    Err(CommandError::Fault(fault)) => return Err(fault),
                }
                Ok(false)
            }
            MessageBody::BudgetSettle { .. } | MessageBody::BudgetRefund { .. } => Err(WalletFault(format!(
                "message {} is for an offer's budget, not a wallet",
                message.id
            ))),
        }
    }
}
