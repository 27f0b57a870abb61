//! Wallets: commands to a wallet's actor, and its reads (balances after every earlier
//! command is durable, and the journal, paged).

use super::{invalid, Engine, EngineError, JournalLine, JournalPage, Page};
use crate::actors::kit::AskError;
use crate::actors::wallet::{Reply, WalletCommand, WalletError, WalletKey, WalletView};
use crate::domain::ids::{Tenant, WalletId};
use crate::domain::wallet::{Entry, WalletEvent, WalletHeader, WalletRejection};
use rust_decimal::Decimal;

impl Engine {
    /// Sends the command `make` builds to the wallet's actor and awaits the durable reply.
    pub(super) async fn ask_wallet<T>(
        &self,
        key: WalletKey,
        make: impl Fn(Reply<T>) -> WalletCommand,
    ) -> Result<T, EngineError> {
        match self.inner.wallets.ask(&key, make).await {
            Ok(value) => Ok(value),
            Err(AskError::NotFound) => Err(EngineError::NotFound("wallet")),
            Err(AskError::Busy) => Err(EngineError::Busy("wallet")),
            Err(AskError::Store(error)) => Err(error.into()),
            Err(AskError::Refused(error)) => Err(match error {
                WalletError::Rejected(WalletRejection::InsufficientFunds) => EngineError::InsufficientFunds {
                    parameter: "spend_request.amount",
                },
                WalletError::Rejected(WalletRejection::BalanceLimit) => EngineError::BalanceLimit {
                    max: self.inner.settings.money.wallet_balance_max,
                },
                WalletError::Rejected(WalletRejection::SpendBlocked) => EngineError::SpendBlocked,
                WalletError::Rejected(WalletRejection::RuleOverflow) => {
                    invalid("transaction_amounts.total", "too large for the offers' rules")
                }
                WalletError::TokenRefused(refused) => super::contact_tokens::refusal(refused),
                WalletError::ReturnRefused(refused) => super::returns::refusal(refused),
                WalletError::EstimateNotFound => EngineError::NotFound("estimate"),
                WalletError::EstimateRefused(refused) => super::estimates::refusal(refused),
                WalletError::ReferenceConflict => EngineError::ReferenceConflict,
                WalletError::PurchaseNotFound => EngineError::NotFound("purchase"),
                WalletError::TransferConflict => {
                    EngineError::Conflict("id: the transfer id was already used for a different transfer".into())
                }
                WalletError::Storage(error) => EngineError::Storage(error),
                WalletError::Internal | WalletError::Retry => EngineError::Internal("wallet"),
            }),
        }
    }

    /// A wallet's balances, after every earlier command on it is durable.
    /// Contact `contact`'s own wallet `id`; any other wallet is not found (a contact never
    /// learns whether another's exists), and is never woken.
    pub async fn own_wallet(
        &self,
        tenant: Tenant,
        contact: crate::domain::ids::ContactId,
        id: WalletId,
    ) -> Result<WalletView, EngineError> {
        let route = self.contact_route(&tenant, &super::ContactRef::Id(contact))?;
        if route.wallet_id != id {
            return Err(EngineError::NotFound("wallet"));
        }
        self.wallet(tenant, id).await
    }

    pub async fn wallet(&self, tenant: Tenant, id: WalletId) -> Result<WalletView, EngineError> {
        self.check_open()?;
        self.ask_wallet((tenant, id), |reply| WalletCommand::Read { reply })
            .await
    }

    /// Changes how contact `contact`'s wallet may be spent from (`None` leaves a setting):
    /// a block stops every spend, transfer and hold from when it is durable; auto-spend
    /// spends what it can on purchases that ask for nothing.
    pub async fn set_spend_settings(
        &self,
        tenant: Tenant,
        contact: crate::domain::ids::ContactId,
        blocked: Option<bool>,
        auto_spend: Option<bool>,
    ) -> Result<crate::domain::wallet::SpendSettings, EngineError> {
        self.check_open()?;
        let route = self.contact_route(&tenant, &super::ContactRef::Id(contact))?;
        self.ask_wallet((tenant, route.wallet_id), |reply| WalletCommand::SetSpendSettings {
            blocked,
            auto_spend,
            reply,
        })
        .await
    }

    /// Contact `contact`'s wallet (its balances and spend settings).
    pub async fn contact_wallet(
        &self,
        tenant: Tenant,
        contact: crate::domain::ids::ContactId,
    ) -> Result<WalletView, EngineError> {
        let route = self.contact_route(&tenant, &super::ContactRef::Id(contact))?;
        self.wallet(tenant, route.wallet_id).await
    }

    /// A page of a wallet's journal lines (zero-amount lines left out).
    pub async fn wallet_journal(&self, tenant: Tenant, id: WalletId, page: Page) -> Result<JournalPage, EngineError> {
        let view = self.wallet(tenant, id).await?;
        let total = if page.count_total {
            Some(self.wallet_journal_len(&tenant, id)?)
        } else {
            None
        };
        let skip = page.offset;
        if page.size == 0 {
            return Ok(JournalPage {
                wallet: view,
                lines: Vec::new(),
                more: false,
                total,
            });
        }
        let mut lines = Vec::with_capacity(page.size.min(256));
        let mut skipped = 0usize;
        let mut more = false;
        self.inner
            .store
            .visit_wallet_events(&tenant, id, page.descending, |event| {
                // An event wholly before the page is counted, not turned into lines.
                let line_count = event.entries.iter().filter(|entry| !entry.amount.is_zero()).count();
                if skipped + line_count <= skip {
                    skipped += line_count;
                    return true;
                }
                let mut event_lines = journal_lines(&view.header, &event);
                if page.descending {
                    event_lines.reverse();
                }
                for line in event_lines {
                    if skipped < skip {
                        skipped += 1;
                    } else if lines.len() < page.size {
                        lines.push(line);
                    } else {
                        more = true;
                        return false;
                    }
                }
                true
            })?;
        Ok(JournalPage {
            wallet: view,
            lines,
            more,
            total,
        })
    }

    /// How many lines a wallet's journal has (zero-amount lines left out), for
    /// `include_total`.
    fn wallet_journal_len(&self, tenant: &Tenant, id: WalletId) -> Result<usize, EngineError> {
        let events = self.inner.store.all_wallet_events(tenant, id)?;
        Ok(events
            .iter()
            .flat_map(|event| &event.entries)
            .filter(|entry| !entry.amount.is_zero())
            .count())
    }

    /// Balance against journal sum for one wallet, as stored: `(balance, journal_sum)`.
    pub async fn audit_wallet(&self, tenant: Tenant, id: WalletId) -> Result<(Decimal, Decimal), EngineError> {
        let view = self.wallet(tenant, id).await?;
        let events = self.inner.store.all_wallet_events(&tenant, id)?;
        let sum = events
            .iter()
            .flat_map(|event| &event.entries)
            .map(Entry::signed_amount)
            .sum();
        Ok((view.balances.total, sum))
    }
}

fn journal_lines(header: &WalletHeader, event: &WalletEvent) -> Vec<JournalLine> {
    event
        .entries
        .iter()
        .enumerate()
        .filter(|(_, entry)| !entry.amount.is_zero())
        .map(|(index, entry)| {
            let mut name = Vec::with_capacity(28);
            name.extend_from_slice(header.id.as_bytes());
            name.extend_from_slice(&event.seq.to_be_bytes());
            name.extend_from_slice(&(index as u32).to_be_bytes());
            JournalLine {
                id: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, &name),
                seq: event.seq,
                entry: entry.clone(),
                posted_on: event.at,
                purchase: event.cause.purchase(),
                cause: event.cause.clone(),
            }
        })
        .collect()
}
