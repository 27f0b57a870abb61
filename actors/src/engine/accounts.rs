//! Accounts: a contact opens them (one per currency or spending profile, the first primary),
//! reads them and their journals; the back office posts manual journals and suspends or
//! terminates them. Each account's actor owns its balance and journal; the contact's list
//! of accounts and which is primary is one record, changed under a per-contact claim.

use super::error::short_text;
use super::{claim_key, invalid, Engine, EngineError, Page};
use crate::actors::account::{AccountChange, AccountCommand, AccountError};
use crate::actors::kit::AskError;
use crate::domain::account::{
    Account, AccountJournal, AccountState, AccountTransaction, ContactAccounts, JournalType, NewJournal, PostError,
};
use crate::domain::ids::{AccountId, AccountJournalId, ContactId, Tenant};
use crate::domain::money::{Amount, Currency};
use rust_decimal::Decimal;
use std::sync::Arc;

/// How far back a journal list reaches when no date is given: 12 months.
const JOURNALS_DEFAULT_S: i64 = 366 * 24 * 3600;
/// Longest name, classification, billing address id, custom field key or value.
const TEXT_MAX: usize = 200;
/// Most custom fields on an account.
const CUSTOM_FIELDS_MAX: usize = 50;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewAccount {
    pub name: Option<String>,
    pub currency: Option<Currency>,
    pub is_primary: bool,
    pub classification: Option<String>,
    pub billing_address: Option<String>,
    pub custom_fields: Vec<(String, String)>,
}

/// A change to an account (`None` leaves a field). The contact may change its
/// classification, billing address and primary account; the back office the rest too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountUpdate {
    pub is_primary: Option<bool>,
    pub name: Option<String>,
    pub classification: Option<Option<String>>,
    pub billing_address: Option<Option<String>>,
    pub custom_fields: Option<Vec<(String, String)>>,
    pub state: Option<AccountState>,
    pub credit_limit: Option<Decimal>,
}

/// An account as the API shows it.
#[derive(Debug, Clone)]
pub struct AccountView {
    pub account: Arc<Account>,
    pub is_primary: bool,
}

/// Which journal lines to list; with no date bound, the last 12 months.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalQuery {
    pub posted_from: Option<i64>,
    pub posted_to: Option<i64>,
    pub transaction: Option<AccountTransaction>,
    pub kind: Option<JournalType>,
}

fn ask_error(error: AskError<AccountError>) -> EngineError {
    match error {
        AskError::NotFound | AskError::Refused(AccountError::NotFound) => EngineError::NotFound("account"),
        AskError::Busy => EngineError::Busy("account"),
        AskError::Store(error) => error.into(),
        AskError::Refused(AccountError::Refused(PostError::Closed(state))) => {
            EngineError::Conflict(format!("the account is {}", state.code()))
        }
        AskError::Refused(AccountError::Refused(refused)) => invalid("amount", refused.to_string()),
        AskError::Refused(error @ AccountError::IdReused(_)) => EngineError::Conflict(error.to_string()),
        AskError::Refused(AccountError::Storage(message)) => EngineError::Storage(message),
        AskError::Refused(AccountError::Internal | AccountError::Retry) => EngineError::Internal("account"),
    }
}

fn text(parameter: &'static str, value: Option<String>) -> Result<Option<String>, EngineError> {
    value.map(|value| short_text(parameter, &value, TEXT_MAX)).transpose()
}

fn custom_fields(fields: Vec<(String, String)>) -> Result<Vec<(String, String)>, EngineError> {
    if fields.len() > CUSTOM_FIELDS_MAX {
        return Err(invalid("custom_fields", format!("at most {CUSTOM_FIELDS_MAX} fields")));
    }
    fields
        .into_iter()
        .map(|(key, value)| {
            let key = text("custom_fields.key", Some(key))?.unwrap_or_default();
            let value = text("custom_fields.value", Some(value))?.unwrap_or_default();
            Ok((key, value))
        })
        .collect()
}

impl Engine {
    /// Opens an account for `contact` (in its wallet's currency unless another is named).
    /// The first account, or one asked to be, is primary.
    pub async fn create_account(
        &self,
        tenant: Tenant,
        contact: ContactId,
        new: NewAccount,
    ) -> Result<AccountView, EngineError> {
        self.check_open()?;
        let route = self.contact_route(&tenant, &super::ContactRef::Id(contact))?;
        let name = text("name", new.name)?;
        let classification = text("classification_id", new.classification)?;
        let billing_address = text("billing_address_id", new.billing_address)?;
        let fields = custom_fields(new.custom_fields)?;
        let _claim = self
            .inner
            .claims
            .claim(claim_key(b'9', &tenant, contact.as_bytes()), rand::random())
            .map_err(|_| EngineError::Busy("contact's accounts"))?;
        let mut list = self.inner.store.contact_accounts(&tenant, contact)?;
        if list.accounts.len() >= Account::PER_CONTACT_MAX {
            return Err(EngineError::Conflict(format!(
                "a contact holds at most {} accounts",
                Account::PER_CONTACT_MAX
            )));
        }
        let id = AccountId::random();
        let now = self.now();
        let number = Account::number_for(id);
        let account = Account {
            id,
            tenant,
            contact,
            name: name.unwrap_or_else(|| number.clone()),
            number,
            currency: new.currency.unwrap_or(route.currency),
            state: AccountState::Active,
            classification,
            billing_address,
            custom_fields: fields,
            credit_limit: Decimal::ZERO,
            balance: Decimal::ZERO,
            next_seq: 0,
            created_on: now,
            updated_on: now,
        };
        list.accounts.push(id);
        if new.is_primary || list.primary.is_none() {
            list.primary = Some(id);
        }
        let mut writes = crate::storage::WriteSet::default();
        writes.account(&account);
        writes.contact_accounts(&tenant, contact, &list);
        self.commit_durable(writes).await?;
        Ok(AccountView {
            is_primary: list.primary == Some(id),
            account: Arc::new(account),
        })
    }

    /// A contact's accounts, the primary first, then oldest first.
    pub async fn accounts(&self, tenant: Tenant, contact: ContactId) -> Result<Vec<AccountView>, EngineError> {
        self.contact_route(&tenant, &super::ContactRef::Id(contact))?;
        let list = self.inner.store.contact_accounts(&tenant, contact)?;
        let mut views = Vec::with_capacity(list.accounts.len());
        for id in &list.accounts {
            views.push(AccountView {
                account: self.read_account(tenant, *id)?,
                is_primary: list.primary == Some(*id),
            });
        }
        views.sort_by_key(|view| !view.is_primary);
        Ok(views)
    }

    /// An account; `owner`, when given, must hold it (else it is not found).
    pub async fn account(
        &self,
        tenant: Tenant,
        owner: Option<ContactId>,
        id: AccountId,
    ) -> Result<AccountView, EngineError> {
        let account = self.read_account(tenant, id)?;
        if owner.is_some_and(|owner| owner != account.contact) {
            return Err(EngineError::NotFound("account"));
        }
        let list = self.inner.store.contact_accounts(&tenant, account.contact)?;
        Ok(AccountView {
            is_primary: list.primary == Some(id),
            account,
        })
    }

    /// Changes an account. A contact (`owner`) may change only its classification, billing
    /// address and whether it is primary; making one primary makes the other not.
    pub async fn update_account(
        &self,
        tenant: Tenant,
        owner: Option<ContactId>,
        id: AccountId,
        update: AccountUpdate,
    ) -> Result<AccountView, EngineError> {
        self.check_open()?;
        let current = self.account(tenant, owner, id).await?;
        if owner.is_some()
            && (update.name.is_some()
                || update.custom_fields.is_some()
                || update.state.is_some()
                || update.credit_limit.is_some())
        {
            return Err(invalid(
                "account",
                "a contact changes only classification_id, billing_address_id and is_primary",
            ));
        }
        if update.is_primary == Some(false) && current.is_primary {
            return Err(invalid(
                "is_primary",
                "a contact keeps one primary account: make another one primary instead",
            ));
        }
        let credit_limit = update
            .credit_limit
            .map(|limit| {
                Amount::parse_at_most(
                    limit,
                    current.account.currency,
                    self.inner.settings.money.wallet_balance_max,
                )
                .map(|amount| amount.value())
                .map_err(|error| invalid("credit_limit", error))
            })
            .transpose()?;
        let change = AccountChange {
            name: text("name", update.name)?,
            classification: update
                .classification
                .map(|value| text("classification_id", value))
                .transpose()?,
            billing_address: update
                .billing_address
                .map(|value| text("billing_address_id", value))
                .transpose()?,
            custom_fields: update.custom_fields.map(custom_fields).transpose()?,
            state: update.state,
            credit_limit,
        };
        if current.account.state == AccountState::Terminated && change.state.is_some() {
            return Err(EngineError::Conflict("a terminated account stays terminated".into()));
        }
        let account = if change == AccountChange::default() {
            current.account.clone()
        } else {
            self.inner
                .accounts
                .ask(&(tenant, id), |reply| AccountCommand::Change {
                    change: change.clone(),
                    reply,
                })
                .await
                .map_err(ask_error)?
        };
        let mut is_primary = current.is_primary;
        if update.is_primary == Some(true) && !current.is_primary {
            let contact = account.contact;
            let _claim = self
                .inner
                .claims
                .claim(claim_key(b'9', &tenant, contact.as_bytes()), rand::random())
                .map_err(|_| EngineError::Busy("contact's accounts"))?;
            let mut list: ContactAccounts = self.inner.store.contact_accounts(&tenant, contact)?;
            list.primary = Some(id);
            let mut writes = crate::storage::WriteSet::default();
            writes.contact_accounts(&tenant, contact, &list);
            self.commit_durable(writes).await?;
            is_primary = true;
        }
        Ok(AccountView { account, is_primary })
    }

    /// Posts a journal line to an account (the back office's manual journals). A retry with
    /// the same line id is answered with the first; another line under that id is 409.
    pub async fn post_account_journal(
        &self,
        tenant: Tenant,
        id: AccountId,
        line: NewJournal,
    ) -> Result<(Arc<Account>, AccountJournal), EngineError> {
        self.check_open()?;
        let account = self.read_account(tenant, id)?;
        let amount_max = self.inner.settings.money.amount_max;
        Amount::parse_at_most(line.amount, account.currency, amount_max).map_err(|error| invalid("amount", error))?;
        if let Some(notes) = &line.notes {
            if notes.chars().count() > 1_000 || notes.chars().any(|c| c.is_control() && c != '\n') {
                return Err(invalid("notes", "must be at most 1000 printable characters"));
            }
        }
        self.inner
            .accounts
            .ask(&(tenant, id), |reply| AccountCommand::Post {
                line: line.clone(),
                reply,
            })
            .await
            .map_err(ask_error)
    }

    /// A page of an account's journal, newest first unless asked otherwise: posted lines
    /// within the dates asked (the last 12 months when none are).
    pub async fn account_journals(
        &self,
        tenant: Tenant,
        owner: Option<ContactId>,
        id: AccountId,
        query: &JournalQuery,
        page: Page,
    ) -> Result<(Vec<AccountJournal>, bool, Option<usize>), EngineError> {
        self.account(tenant, owner, id).await?;
        let (from, to) = match (query.posted_from, query.posted_to) {
            (None, None) => (Some(self.now().saturating_sub(JOURNALS_DEFAULT_S)), None),
            bounds => bounds,
        };
        let mut matched = 0usize;
        let mut lines = Vec::with_capacity(page.size.min(100));
        let mut more = false;
        self.inner
            .store
            .visit_account_journals(&tenant, id, page.descending, |line| {
                let dated = from.is_none_or(|from| line.posted_on >= from) && to.is_none_or(|to| line.posted_on <= to);
                let chosen = dated
                    && query.transaction.is_none_or(|kind| kind == line.transaction)
                    && query.kind.is_none_or(|kind| kind == line.kind);
                if !chosen {
                    return true;
                }
                matched += 1;
                if matched > page.offset && lines.len() < page.size {
                    lines.push(line);
                } else if matched > page.offset.saturating_add(page.size) {
                    more = true;
                    return page.count_total;
                }
                true
            })?;
        Ok((lines, more, page.count_total.then_some(matched)))
    }

    /// One journal line; `owner`, when given, must hold its account.
    pub async fn account_journal(
        &self,
        tenant: Tenant,
        owner: Option<ContactId>,
        id: AccountJournalId,
    ) -> Result<AccountJournal, EngineError> {
        let (account, seq) = self
            .inner
            .store
            .account_journal_at(&tenant, id)?
            .ok_or(EngineError::NotFound("journal"))?;
        self.account(tenant, owner, account)
            .await
            .map_err(|_| EngineError::NotFound("journal"))?;
        self.inner
            .store
            .account_journal(&tenant, account, seq)?
            .ok_or(EngineError::NotFound("journal"))
    }

    /// An account as its last durable commit left it: read from the store, so listing a
    /// contact's accounts wakes none of their actors.
    pub(super) fn read_account(&self, tenant: Tenant, id: AccountId) -> Result<Arc<Account>, EngineError> {
        self.inner
            .store
            .account(&tenant, id)?
            .map(Arc::new)
            .ok_or(EngineError::NotFound("account"))
    }
}

/// A manual journal line as the back office asks for it.
pub fn manual_journal(
    id: Option<AccountJournalId>,
    kind: JournalType,
    amount: Decimal,
    notes: Option<String>,
) -> NewJournal {
    NewJournal {
        id: id.unwrap_or_else(AccountJournalId::random),
        transaction: AccountTransaction::ManualJournal,
        kind,
        amount,
        notes,
        entity: None,
        by_contact: false,
    }
}
