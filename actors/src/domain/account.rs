//! Accounts: a contact's financial ledger in one currency (CRM.COM's accounts receivable).
//!
//! Debits (invoices, manual debits) raise what the contact owes, the `balance`; credits
//! (payments, credit notes, manual credits) lower it, below zero when paid ahead. Each
//! posted entry is a journal line, numbered in its account and never changed. The account's
//! actor is the only writer of its balance and journal.

use super::ids::{AccountId, AccountJournalId, ContactId, Tenant};
use super::money::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountState {
    /// The contact can transact.
    Active,
    /// Only the back office posts to it.
    Suspended,
    /// Closed: nothing is posted to it again.
    Terminated,
}

impl AccountState {
    pub fn code(self) -> &'static str {
        match self {
            AccountState::Active => "ACTIVE",
            AccountState::Suspended => "SUSPENDED",
            AccountState::Terminated => "TERMINATED",
        }
    }

    pub fn parse(code: &str) -> Option<AccountState> {
        [AccountState::Active, AccountState::Suspended, AccountState::Terminated]
            .into_iter()
            .find(|state| state.code().eq_ignore_ascii_case(code.trim()))
    }
}

/// Which way a journal line moves the balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JournalType {
    /// Lowers what the contact owes.
    Credit,
    /// Raises what the contact owes.
    Debit,
}

impl JournalType {
    pub fn code(self) -> &'static str {
        match self {
            JournalType::Credit => "CREDIT",
            JournalType::Debit => "DEBIT",
        }
    }

    pub fn parse(code: &str) -> Option<JournalType> {
        [JournalType::Credit, JournalType::Debit]
            .into_iter()
            .find(|kind| kind.code().eq_ignore_ascii_case(code.trim()))
    }
}

/// What a journal line records (CRM.COM's `transaction_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountTransaction {
    Invoice,
    CreditNote,
    Payment,
    Refund,
    Payout,
    TopUp,
    Transfer,
    ManualJournal,
    SettlementProcess,
}

impl AccountTransaction {
    pub const ALL: [AccountTransaction; 9] = [
        AccountTransaction::Invoice,
        AccountTransaction::CreditNote,
        AccountTransaction::Payment,
        AccountTransaction::Refund,
        AccountTransaction::Payout,
        AccountTransaction::TopUp,
        AccountTransaction::Transfer,
        AccountTransaction::ManualJournal,
        AccountTransaction::SettlementProcess,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AccountTransaction::Invoice => "INVOICE",
            AccountTransaction::CreditNote => "CREDIT_NOTE",
            AccountTransaction::Payment => "PAYMENT",
            AccountTransaction::Refund => "REFUND",
            AccountTransaction::Payout => "PAYOUT",
            AccountTransaction::TopUp => "TOP_UP",
            AccountTransaction::Transfer => "TRANSFER",
            AccountTransaction::ManualJournal => "MANUAL_JOURNAL",
            AccountTransaction::SettlementProcess => "SETTLEMENT_PROCESS",
        }
    }

    pub fn parse(code: &str) -> Option<AccountTransaction> {
        AccountTransaction::ALL
            .into_iter()
            .find(|kind| kind.code().eq_ignore_ascii_case(code.trim()))
    }

    /// The side a line of this kind always falls on; `None` where either may (a manual
    /// journal, a transfer, a settlement).
    pub fn side(self) -> Option<JournalType> {
        match self {
            AccountTransaction::Invoice | AccountTransaction::Refund | AccountTransaction::Payout => {
                Some(JournalType::Debit)
            }
            AccountTransaction::CreditNote | AccountTransaction::Payment | AccountTransaction::TopUp => {
                Some(JournalType::Credit)
            }
            AccountTransaction::Transfer
            | AccountTransaction::ManualJournal
            | AccountTransaction::SettlementProcess => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub tenant: Tenant,
    pub contact: ContactId,
    /// Shown to people ("AC" and 10 digits).
    pub number: String,
    pub name: String,
    pub currency: Currency,
    pub state: AccountState,
    pub classification: Option<String>,
    pub billing_address: Option<String>,
    pub custom_fields: Vec<(String, String)>,
    /// How far the balance may go owed before the contact is stopped from buying on it.
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub credit_limit: Decimal,
    /// What the contact owes (below zero: paid ahead).
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub balance: Decimal,
    /// The sequence number the next journal line takes.
    pub next_seq: u64,
    pub created_on: i64,
    pub updated_on: i64,
}

/// One posted line of an account's journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountJournal {
    pub id: AccountJournalId,
    pub tenant: Tenant,
    pub account: AccountId,
    pub seq: u64,
    /// The account's number and the line's place in it ("AC0123456789-7").
    pub number: String,
    pub transaction: AccountTransaction,
    pub kind: JournalType,
    pub currency: Currency,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub amount: Decimal,
    /// The account's balance right after it.
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub balance_after: Decimal,
    pub notes: Option<String>,
    /// What it records (a payment's, an invoice's id), when that is another record.
    pub entity: Option<uuid::Uuid>,
    pub issued_on: i64,
    pub posted_on: i64,
}

/// A line to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJournal {
    /// A retry with the same id is answered with the line first posted.
    pub id: AccountJournalId,
    pub transaction: AccountTransaction,
    pub kind: JournalType,
    pub amount: Decimal,
    pub notes: Option<String>,
    pub entity: Option<uuid::Uuid>,
    /// Whether the contact (not the back office) asks: a suspended account refuses it.
    pub by_contact: bool,
}

/// A contact's accounts, and which is primary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactAccounts {
    pub accounts: Vec<AccountId>,
    pub primary: Option<AccountId>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostError {
    #[error("the account is {}: nothing can be posted to it", .0.code())]
    Closed(AccountState),
    #[error("a {} line is always a {}", .0.code(), .1.code())]
    WrongSide(AccountTransaction, JournalType),
    #[error("amount must be greater than zero")]
    NotPositive,
    #[error("the balance would pass {0} either way")]
    BalanceBound(Decimal),
}

impl Account {
    /// Accounts a contact may hold.
    pub const PER_CONTACT_MAX: usize = 10;

    /// The number shown for account `id`: "AC" and 10 digits from its (random) id.
    pub fn number_for(id: AccountId) -> String {
        format!("AC{:010}", id.0.as_u128() % 10_000_000_000)
    }

    /// Posts a line: checks it, moves the balance (kept within `balance_max` either way)
    /// and answers the line. Nothing changes when it is refused.
    pub fn post(&mut self, new: &NewJournal, balance_max: Decimal, now: i64) -> Result<AccountJournal, PostError> {
        match self.state {
            AccountState::Terminated => return Err(PostError::Closed(self.state)),
            AccountState::Suspended if new.by_contact => return Err(PostError::Closed(self.state)),
            _ => {}
        }
        if let Some(side) = new.transaction.side() {
            if side != new.kind {
                return Err(PostError::WrongSide(new.transaction, side));
            }
        }
        if new.amount <= Decimal::ZERO {
            return Err(PostError::NotPositive);
        }
        let balance = match new.kind {
            JournalType::Debit => self.balance.checked_add(new.amount),
            JournalType::Credit => self.balance.checked_sub(new.amount),
        }
        .filter(|balance| balance.abs() <= balance_max)
        .ok_or(PostError::BalanceBound(balance_max))?;
        let seq = self.next_seq;
        self.balance = balance;
        self.next_seq = seq.saturating_add(1);
        self.updated_on = now;
        Ok(AccountJournal {
            id: new.id,
            tenant: self.tenant,
            account: self.id,
            seq,
            number: format!("{}-{}", self.number, seq + 1),
            transaction: new.transaction,
            kind: new.kind,
            currency: self.currency,
            amount: new.amount,
            balance_after: balance,
            notes: new.notes.clone(),
            entity: new.entity,
            issued_on: now,
            posted_on: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{Mode, OrganisationId};

    fn account() -> Account {
        let id = AccountId::random();
        Account {
            id,
            tenant: Tenant {
                organisation: OrganisationId::random(),
                mode: Mode::Live,
            },
            contact: ContactId::random(),
            number: Account::number_for(id),
            name: "Main".into(),
            currency: Currency::parse("EUR").unwrap(),
            state: AccountState::Active,
            classification: None,
            billing_address: None,
            custom_fields: vec![],
            credit_limit: Decimal::ZERO,
            balance: Decimal::ZERO,
            next_seq: 0,
            created_on: 0,
            updated_on: 0,
        }
    }

    fn line(transaction: AccountTransaction, kind: JournalType, amount: i64) -> NewJournal {
        NewJournal {
            id: AccountJournalId::random(),
            transaction,
            kind,
            amount: Decimal::from(amount),
            notes: None,
            entity: None,
            by_contact: false,
        }
    }

    #[test]
    fn debits_raise_what_is_owed_credits_lower_it_and_refusals_change_nothing() {
        let mut account = account();
        let max = Decimal::from(1_000);
        let invoice = account
            .post(&line(AccountTransaction::Invoice, JournalType::Debit, 300), max, 5)
            .unwrap();
        assert_eq!((invoice.seq, invoice.balance_after), (0, Decimal::from(300)));
        assert_eq!(invoice.number, format!("{}-1", account.number));
        let paid = account
            .post(&line(AccountTransaction::Payment, JournalType::Credit, 500), max, 6)
            .unwrap();
        assert_eq!((paid.seq, account.balance), (1, Decimal::from(-200)));
        let before = account.clone();
        for (refused, error) in [
            (
                line(AccountTransaction::Payment, JournalType::Debit, 1),
                PostError::WrongSide(AccountTransaction::Payment, JournalType::Credit),
            ),
            (
                line(AccountTransaction::ManualJournal, JournalType::Debit, 0),
                PostError::NotPositive,
            ),
            (
                line(AccountTransaction::ManualJournal, JournalType::Credit, 801),
                PostError::BalanceBound(max),
            ),
        ] {
            assert_eq!(account.post(&refused, max, 7), Err(error));
            assert_eq!(account, before);
        }
        account.state = AccountState::Suspended;
        let mut by_contact = line(AccountTransaction::Payment, JournalType::Credit, 1);
        by_contact.by_contact = true;
        assert_eq!(
            account.post(&by_contact, max, 8),
            Err(PostError::Closed(AccountState::Suspended))
        );
        assert!(account
            .post(&line(AccountTransaction::ManualJournal, JournalType::Debit, 1), max, 8)
            .is_ok());
        account.state = AccountState::Terminated;
        assert!(account
            .post(&line(AccountTransaction::ManualJournal, JournalType::Debit, 1), max, 9)
            .is_err());
    }

    #[test]
    fn codes_round_trip() {
        for kind in AccountTransaction::ALL {
            assert_eq!(AccountTransaction::parse(kind.code()), Some(kind));
        }
        assert_eq!(AccountState::parse("suspended"), Some(AccountState::Suspended));
        assert_eq!(JournalType::parse("DEBIT"), Some(JournalType::Debit));
        assert_eq!(AccountTransaction::parse("GIFT"), None);
    }
}
