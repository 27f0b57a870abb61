//! A subscription's bills paid from (or credited to) the wallet: each once, whatever the
//! billing run asks again — the bill's id is remembered in the commit that debits or
//! credits it, as a delivered message's is.

use super::{Life, Reply, WalletEntity, WalletError};
use crate::domain::ids::{BillId, MessageId};
use crate::domain::wallet::{CommandError, Moves, WalletRejection};
use crate::storage::WriteSet;
use rust_decimal::Decimal;

pub enum BillCommand {
    /// Pays `amount` of bill `bill` (a negative amount credits it) once: answered `true`
    /// when applied now, `false` when it was before (nothing changes).
    Apply {
        bill: BillId,
        amount: Decimal,
        reply: Reply<bool>,
    },
}

impl BillCommand {
    pub(super) fn refuse(self) {
        match self {
            BillCommand::Apply { reply, .. } => {
                let _ = reply.send(Err(WalletError::Retry));
            }
        }
    }
}

impl WalletEntity {
    pub(super) fn bill_command(&mut self, life: &mut Life<Self>, command: BillCommand) {
        match command {
            BillCommand::Apply { bill, amount, reply } => self.apply_bill(life, bill, amount, reply),
        }
    }

    fn apply_bill(&mut self, life: &mut Life<Self>, bill: BillId, amount: Decimal, reply: Reply<bool>) {
        let (tenant, wallet) = *life.key();
        let id = MessageId(bill.0);
        let seen = self.messages.get(&id).is_some()
            || match life.store().message_applied(&tenant, wallet, id) {
                Ok(applied) => applied,
                Err(error) => {
                    let _ = reply.send(Err(WalletError::Storage(error.to_string())));
                    return;
                }
            };
        if seen {
            return life.answer_after_durable(reply, Ok(false));
        }
        let now = self.clock.now_s();
        let mut writes = WriteSet::default();
        if let Err(fault) = self.sweep(life, now, &mut writes) {
            return self.fault(life, reply, &fault);
        }
        let event = if amount > Decimal::ZERO {
            if self.spend.blocked {
                return life.commit_then_answer(
                    writes,
                    reply,
                    Err(WalletError::Rejected(WalletRejection::SpendBlocked)),
                );
            }
            let moves = Moves {
                debit: amount,
                ..Moves::default()
            };
            if let Err(refused) = self.within_limits(now, &moves) {
                return life.commit_then_answer(writes, reply, Err(refused));
            }
            self.wallet.pay_bill(now, bill, amount)
        } else if amount < Decimal::ZERO {
            self.wallet.credit_bill(now, bill, -amount)
        } else {
            Err(CommandError::Fault(crate::domain::wallet::WalletFault(
                "a bill of nothing".into(),
            )))
        };
        let event = match event {
            Ok(event) => event,
            Err(CommandError::Fault(fault)) => return self.fault(life, reply, &fault),
            Err(CommandError::Rejected(rejection)) => {
                return life.commit_then_answer(writes, reply, Err(WalletError::Rejected(rejection)));
            }
        };
        self.add_events(life, &mut writes, &[event]);
        writes.message_applied(&tenant, wallet, id);
        life.commit_then_reply(writes, reply, true);
        self.messages
            .remember(id, (), life.commits_submitted(), life.commits_settled());
    }
}
