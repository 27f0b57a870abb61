//! Accounts, a contact's list of them, and their journals (one line per key, in order).

use crate::domain::account::{Account, AccountJournal, ContactAccounts};
use crate::domain::ids::{AccountId, AccountJournalId, ContactId};
use crate::storage::*;

impl Store {
    pub fn account(&self, tenant: &Tenant, id: AccountId) -> Result<Option<Account>, StoreError> {
        self.get(&keys::account(tenant, id))
    }

    pub fn contact_accounts(&self, tenant: &Tenant, contact: ContactId) -> Result<ContactAccounts, StoreError> {
        Ok(self.get(&keys::contact_accounts(tenant, contact))?.unwrap_or_default())
    }

    pub fn contact_addresses(
        &self,
        tenant: &Tenant,
        contact: ContactId,
    ) -> Result<crate::domain::contact_address::ContactAddresses, StoreError> {
        Ok(self.get(&keys::contact_addresses(tenant, contact))?.unwrap_or_default())
    }

    /// Where journal line `id` is.
    pub fn account_journal_at(
        &self,
        tenant: &Tenant,
        id: AccountJournalId,
    ) -> Result<Option<(AccountId, u64)>, StoreError> {
        self.get(&keys::account_journal_id(tenant, id))
    }

    pub fn account_journal(
        &self,
        tenant: &Tenant,
        account: AccountId,
        seq: u64,
    ) -> Result<Option<AccountJournal>, StoreError> {
        self.get(&keys::account_journal(tenant, account, seq))
    }

    /// Visits an account's journal lines in one scan, newest first when `descending`,
    /// until `visit` returns `false`.
    pub fn visit_account_journals(
        &self,
        tenant: &Tenant,
        account: AccountId,
        descending: bool,
        mut visit: impl FnMut(AccountJournal) -> bool,
    ) -> Result<(), StoreError> {
        let prefix = keys::account_journals(tenant, account);
        let logged = self.inner.overlay.prefix(&prefix);
        for item in merged(self.inner.tables.prefix(&prefix, descending)?, logged, descending) {
            let line = decode(item?.newest()).map_err(corrupt(keys::ACCOUNT_JOURNAL))?;
            if !visit(line) {
                return Ok(());
            }
        }
        Ok(())
    }
}

impl WriteSet {
    pub fn account(&mut self, account: &Account) {
        self.put(keys::account(&account.tenant, account.id), encode(account));
    }

    pub fn contact_accounts(&mut self, tenant: &Tenant, contact: ContactId, accounts: &ContactAccounts) {
        self.put(keys::contact_accounts(tenant, contact), encode(accounts));
    }

    pub fn contact_addresses(
        &mut self,
        tenant: &Tenant,
        contact: ContactId,
        addresses: &crate::domain::contact_address::ContactAddresses,
    ) {
        self.put(keys::contact_addresses(tenant, contact), encode(addresses));
    }

    /// A posted line, and where its id finds it.
    pub fn account_journal(&mut self, line: &AccountJournal) {
        self.put(
            keys::account_journal(&line.tenant, line.account, line.seq),
            encode(line),
        );
        self.put(
            keys::account_journal_id(&line.tenant, line.id),
            encode(&(line.account, line.seq)),
        );
    }
}
