//! The account actor: one per account, the only writer of its balance and journal. A line
//! and the balance it leaves are committed together; a retry of a line (the same id) is
//! answered with the line first posted, never posted twice.

use super::kit::{Entity, KitError, Life};
use crate::clock::Clock;
use crate::domain::account::{Account, AccountJournal, AccountState, NewJournal, PostError};
use crate::domain::ids::{AccountId, AccountJournalId, Tenant};
use crate::storage::{StorageFailure, Store, StoreError, WriteSet};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::Arc;

pub type AccountKey = (Tenant, AccountId);

/// Lines remembered in memory (a retry of one is answered from here until its commit is
/// surely in the store).
const RECENT_MAX: usize = 4_096;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("account not found")]
    NotFound,
    #[error(transparent)]
    Refused(#[from] PostError),
    #[error("journal line {0} was posted with other details")]
    IdReused(AccountJournalId),
    #[error("{0}")]
    Storage(String),
    #[error("the account could not apply the command")]
    Internal,
    #[error("actor retired")]
    Retry,
}

impl super::Faulted for AccountError {
    fn faulted() -> Self {
        AccountError::Internal
    }
}

impl From<StorageFailure> for AccountError {
    fn from(failure: StorageFailure) -> Self {
        AccountError::Storage(failure.0)
    }
}

impl KitError for AccountError {
    fn retry() -> Self {
        AccountError::Retry
    }

    fn is_retry(&self) -> bool {
        matches!(self, AccountError::Retry)
    }
}

pub type Reply<T> = super::Reply<T, AccountError>;

/// A change to an account's details (`None` leaves a field).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountChange {
    pub name: Option<String>,
    /// `Some(None)` clears it.
    pub classification: Option<Option<String>>,
    pub billing_address: Option<Option<String>>,
    pub custom_fields: Option<Vec<(String, String)>>,
    pub state: Option<AccountState>,
    pub credit_limit: Option<Decimal>,
}

pub enum AccountCommand {
    Change {
        change: AccountChange,
        reply: Reply<Arc<Account>>,
    },
    /// Posts a line (or answers the line of that id posted before).
    Post {
        line: NewJournal,
        reply: Reply<(Arc<Account>, AccountJournal)>,
    },
}

#[derive(Clone)]
pub struct AccountDeps {
    pub clock: Arc<dyn Clock>,
    /// The furthest a balance may go either way.
    pub balance_max: Decimal,
}

pub struct AccountEntity {
    account: Arc<Account>,
    deps: AccountDeps,
    recent: HashMap<AccountJournalId, AccountJournal>,
}

pub type AccountActor = super::kit::EntityActor<AccountEntity>;

impl Entity for AccountEntity {
    type Key = AccountKey;
    type Command = AccountCommand;
    type Deps = AccountDeps;
    const KIND: &'static str = "account";

    fn recover(key: &AccountKey, store: &Store, deps: &AccountDeps) -> Result<Option<Self>, StoreError> {
        Ok(store.account(&key.0, key.1)?.map(|account| AccountEntity {
            account: Arc::new(account),
            deps: deps.clone(),
            recent: HashMap::new(),
        }))
    }

    fn handle(&mut self, command: AccountCommand, life: &mut Life<Self>) {
        let now = self.deps.clock.now_s();
        match command {
            AccountCommand::Change { change, reply } => {
                let mut account = (*self.account).clone();
                if let Some(name) = change.name {
                    account.name = name;
                }
                if let Some(classification) = change.classification {
                    account.classification = classification;
                }
                if let Some(address) = change.billing_address {
                    account.billing_address = address;
                }
                if let Some(fields) = change.custom_fields {
                    account.custom_fields = fields;
                }
                if let Some(state) = change.state {
                    account.state = state;
                }
                if let Some(limit) = change.credit_limit {
                    account.credit_limit = limit;
                }
                account.updated_on = now;
                let mut writes = WriteSet::default();
                writes.account(&account);
                self.account = Arc::new(account);
                life.commit_then_reply(writes, reply, self.account.clone());
            }
            AccountCommand::Post { line, reply } => {
                let (tenant, id) = *life.key();
                let earlier = match self.recent.get(&line.id) {
                    Some(posted) => Ok(Some(posted.clone())),
                    None => posted_line(life.store(), &tenant, line.id),
                };
                match earlier {
                    Err(error) => return drop(reply.send(Err(AccountError::Storage(error.to_string())))),
                    Ok(Some(posted)) => {
                        let same = posted.account == id
                            && posted.amount == line.amount
                            && posted.kind == line.kind
                            && posted.transaction == line.transaction;
                        let answer = if same {
                            Ok((self.account.clone(), posted))
                        } else {
                            Err(AccountError::IdReused(line.id))
                        };
                        return life.answer_after_durable(reply, answer);
                    }
                    Ok(None) => {}
                }
                let mut account = (*self.account).clone();
                let posted = match account.post(&line, self.deps.balance_max, now) {
                    Ok(posted) => posted,
                    Err(refused) => return life.answer_after_durable(reply, Err(refused.into())),
                };
                let mut writes = WriteSet::default();
                writes.account(&account);
                writes.account_journal(&posted);
                if self.recent.len() >= RECENT_MAX && !life.in_flight() {
                    self.recent.clear();
                }
                self.recent.insert(posted.id, posted.clone());
                self.account = Arc::new(account);
                life.commit_then_reply(writes, reply, (self.account.clone(), posted));
            }
        }
    }

    fn refuse(command: AccountCommand) {
        let error = AccountError::Retry;
        match command {
            AccountCommand::Change { reply, .. } => drop(reply.send(Err(error))),
            AccountCommand::Post { reply, .. } => drop(reply.send(Err(error))),
        }
    }

    fn reload(&mut self, life: &Life<Self>) -> Result<(), String> {
        let (tenant, id) = *life.key();
        let account = life
            .store()
            .account(&tenant, id)
            .map_err(|error| error.to_string())?
            .ok_or_else(|| format!("account {id} is gone from the store"))?;
        self.account = Arc::new(account);
        self.recent.clear();
        Ok(())
    }
}

/// The line posted with id `id`, if there is one in the store.
fn posted_line(store: &Store, tenant: &Tenant, id: AccountJournalId) -> Result<Option<AccountJournal>, StoreError> {
    match store.account_journal_at(tenant, id)? {
        None => Ok(None),
        Some((account, seq)) => store.account_journal(tenant, account, seq),
    }
}
