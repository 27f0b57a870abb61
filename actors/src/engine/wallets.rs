//! Wallets: commands to a wallet's actor, and its reads (balances after every earlier
//! command is durable; the journal is in `journals`).

use super::{invalid, Engine, EngineError};
use crate::actors::kit::AskError;
use crate::actors::wallet::{Reply, WalletCommand, WalletError, WalletHoldings, WalletKey, WalletView};
use crate::domain::ids::{Tenant, WalletId};
use crate::domain::wallet::{Entry, WalletRejection};
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
        self.check_own_wallet(tenant, contact, id)?;
        self.wallet(tenant, id).await
    }

    /// Whether `id` is contact `contact`'s wallet: not found if not (nothing is woken).
    pub fn check_own_wallet(
        &self,
        tenant: Tenant,
        contact: crate::domain::ids::ContactId,
        id: WalletId,
    ) -> Result<(), EngineError> {
        let route = self.contact_route(&tenant, &super::ContactRef::Id(contact))?;
        if route.wallet_id != id {
            return Err(EngineError::NotFound("wallet"));
        }
        Ok(())
    }

    /// A wallet's view with what it holds per named commerce pool, largest first.
    pub async fn wallet_holdings(&self, tenant: Tenant, id: WalletId) -> Result<WalletHoldings, EngineError> {
        self.check_open()?;
        self.ask_wallet((tenant, id), |reply| WalletCommand::Holdings { lots: false, reply })
            .await
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
