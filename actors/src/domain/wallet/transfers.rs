//! A wallet's side of transfers: value sent (debited in spend order) and value received
//! or given back (a new open lot), each one event, checked whole before anything changes.

use super::{
    Cause, CommandError, Entry, EntryKind, NewLot, Pocket, SpendScope, Wallet, WalletEvent, WalletFault,
    WalletRejection,
};
use crate::domain::ids::TransferId;
use rust_decimal::Decimal;

impl Wallet {
    /// Sends `amount` by a transfer: debits it from the lots in spend order, as one event.
    /// The caller has swept expired lots first. Only lots without spend conditions are sent
    /// (pooled value is spent only where its conditions say). Refused, changing nothing,
    /// when those do not cover it.
    pub fn transfer_out(
        &mut self,
        now: i64,
        transfer: TransferId,
        amount: Decimal,
    ) -> Result<WalletEvent, CommandError> {
        if amount <= Decimal::ZERO {
            return Err(CommandError::Fault(WalletFault(format!("a transfer of {amount}"))));
        }
        let mut entries = Vec::new();
        self.debit_within(
            now,
            amount,
            SpendScope::Unconditional,
            EntryKind::TransferOut,
            &mut entries,
        )?;
        Ok(self.record(now, Cause::TransferSent(transfer), entries))
    }

    /// Pays `amount` out of the lots without spend conditions (as a transfer sends).
    pub fn payout(
        &mut self,
        now: i64,
        payout: crate::domain::ids::PayoutId,
        amount: Decimal,
    ) -> Result<WalletEvent, CommandError> {
        if amount <= Decimal::ZERO {
            return Err(CommandError::Fault(WalletFault(format!("a payout of {amount}"))));
        }
        let mut entries = Vec::new();
        self.debit_within(now, amount, SpendScope::Unconditional, EntryKind::Payout, &mut entries)?;
        Ok(self.record(now, Cause::Payout(payout), entries))
    }

    /// Gives a failed payout back, in a new open lot, past any balance bound (it was the
    /// wallet's own money).
    pub fn payout_return(
        &mut self,
        now: i64,
        payout: crate::domain::ids::PayoutId,
        amount: Decimal,
    ) -> Result<WalletEvent, CommandError> {
        self.credit_open(
            now,
            Cause::PayoutReturned(payout),
            EntryKind::PayoutReturn,
            amount,
            Decimal::MAX,
        )
    }

    /// Pays `amount` of a subscription's bill from any of the wallet's funds.
    pub fn pay_bill(
        &mut self,
        now: i64,
        bill: crate::domain::ids::BillId,
        amount: Decimal,
    ) -> Result<WalletEvent, CommandError> {
        if amount <= Decimal::ZERO {
            return Err(CommandError::Fault(WalletFault(format!("a bill of {amount}"))));
        }
        let mut entries = Vec::new();
        self.debit_within(
            now,
            amount,
            SpendScope::Unconditional,
            EntryKind::BillPayment,
            &mut entries,
        )?;
        Ok(self.record(now, Cause::Bill(bill), entries))
    }

    /// Credits a subscription's credit into a new open lot, past any balance bound (it
    /// gives back what the contact paid).
    pub fn credit_bill(
        &mut self,
        now: i64,
        bill: crate::domain::ids::BillId,
        amount: Decimal,
    ) -> Result<WalletEvent, CommandError> {
        self.credit_open(now, Cause::Bill(bill), EntryKind::BillCredit, amount, Decimal::MAX)
    }

    /// Credits `amount` into a new open lot (a transfer received, or one given back), as
    /// one event with `cause`; it settles any shortfall first. Refused, changing nothing,
    /// when it would take the balance above `balance_max`.
    pub fn transfer_in(
        &mut self,
        now: i64,
        cause: Cause,
        amount: Decimal,
        balance_max: Decimal,
    ) -> Result<WalletEvent, CommandError> {
        self.credit_open(now, cause, EntryKind::TransferIn, amount, balance_max)
    }

    /// A transfer received into named commerce pool `pool`: a new commerce lot carrying the
    /// pool's conditions (settling any shortfall first), up to `balance_max`.
    pub fn transfer_in_pool(
        &mut self,
        now: i64,
        cause: Cause,
        amount: Decimal,
        balance_max: Decimal,
        (pool, conditions): (
            crate::domain::ids::CommercePoolId,
            std::sync::Arc<crate::domain::offer::SpendConditions>,
        ),
    ) -> Result<WalletEvent, CommandError> {
        if amount <= Decimal::ZERO {
            return Err(CommandError::Fault(WalletFault(format!("a transfer of {amount}"))));
        }
        let before = self.balances().total;
        if before.checked_add(amount).is_none_or(|after| after > balance_max) {
            return Err(CommandError::Rejected(WalletRejection::BalanceLimit));
        }
        let mut entries = Vec::new();
        let lot = self.next_lot_id;
        let entry = Entry {
            kind: EntryKind::TransferIn,
            lot,
            amount,
            new_lot: Some(NewLot {
                pocket: Pocket::Commerce,
                expires_at: None,
            }),
            shortfall_change: Decimal::ZERO,
        };
        self.push(&mut entries, entry)?;
        self.pool(lot, conditions, Some(pool));
        self.settle_shortfall_from(&mut entries, lot, amount)?;
        Ok(self.record(now, cause, entries))
    }

    /// A top-up's credit: a new open lot (settling any shortfall first), up to `balance_max`.
    pub fn top_up(
        &mut self,
        now: i64,
        id: crate::domain::ids::TopUpId,
        amount: Decimal,
        balance_max: Decimal,
    ) -> Result<WalletEvent, CommandError> {
        self.credit_open(now, Cause::TopUp(id), EntryKind::TopUp, amount, balance_max)
    }

    /// A redeemed pass's credit: a new lot in `pocket` (settling any shortfall first), past
    /// any balance bound (the pass is redeemed already).
    pub fn redeem_pass(
        &mut self,
        now: i64,
        pass: crate::domain::ids::PassId,
        amount: Decimal,
        pocket: Pocket,
    ) -> Result<WalletEvent, CommandError> {
        self.credit_lot(
            now,
            Cause::PassRedeemed(pass),
            EntryKind::PassRedemption,
            pocket,
            amount,
            Decimal::MAX,
        )
    }

    fn credit_open(
        &mut self,
        now: i64,
        cause: Cause,
        kind: EntryKind,
        amount: Decimal,
        balance_max: Decimal,
    ) -> Result<WalletEvent, CommandError> {
        self.credit_lot(now, cause, kind, Pocket::Open, amount, balance_max)
    }

    fn credit_lot(
        &mut self,
        now: i64,
        cause: Cause,
        kind: EntryKind,
        pocket: Pocket,
        amount: Decimal,
        balance_max: Decimal,
    ) -> Result<WalletEvent, CommandError> {
        if amount <= Decimal::ZERO {
            return Err(CommandError::Fault(WalletFault(format!("a transfer of {amount}"))));
        }
        let before = self.balances().total;
        if before.checked_add(amount).is_none_or(|after| after > balance_max) {
            return Err(CommandError::Rejected(WalletRejection::BalanceLimit));
        }
        let mut entries = Vec::new();
        let lot = self.next_lot_id;
        let entry = Entry {
            kind,
            lot,
            amount,
            new_lot: Some(NewLot {
                pocket,
                expires_at: None,
            }),
            shortfall_change: Decimal::ZERO,
        };
        self.push(&mut entries, entry)?;
        self.settle_shortfall_from(&mut entries, lot, amount)?;
        Ok(self.record(now, cause, entries))
    }
}
