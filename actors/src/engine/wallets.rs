//! Wallets: commands to a wallet's actor, and its reads (balances after every earlier
//! command is durable; the journal is in `journals`).

use super::{invalid, Engine, EngineError};
use crate::actors::kit::AskError;
use crate::actors::wallet::{Reply, WalletCommand, WalletError, WalletHoldings, WalletKey, WalletView};
use crate::domain::ids::{Tenant, WalletId};
use crate::domain::money::Currency;
use crate::domain::wallet::{Entry, LimitError, LimitRule, WalletLimits, WalletRejection};
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
                WalletError::LimitReached(hit) => EngineError::WalletLimit(hit.to_string()),
                WalletError::TopUpRefused(crate::actors::wallet::TopUpRefusal::Conflict) => {
                    EngineError::Conflict("id: the top-up id was already used for a different top-up".into())
                }
                WalletError::TopUpRefused(crate::actors::wallet::TopUpRefusal::PaymentMethod(message)) => {
                    invalid("payment_method", &message)
                }
                WalletError::TopUpRefused(crate::actors::wallet::TopUpRefusal::Method(
                    crate::actors::wallet::MethodRefusal::NotFound,
                )) => EngineError::NotFound("payment method"),
                WalletError::TopUpRefused(crate::actors::wallet::TopUpRefusal::Method(
                    crate::actors::wallet::MethodRefusal::Invalid(message),
                )) => invalid("payment_method", &message),
                WalletError::TopUpRefused(crate::actors::wallet::TopUpRefusal::Method(
                    refused @ crate::actors::wallet::MethodRefusal::InUse,
                )) => EngineError::Conflict(refused.to_string()),
                WalletError::TopUpRefused(crate::actors::wallet::TopUpRefusal::IntentNotFound) => {
                    EngineError::NotFound("payment intent")
                }
                WalletError::TopUpRefused(crate::actors::wallet::TopUpRefusal::Intent(message)) => {
                    invalid("client_secret", &message)
                }
                WalletError::TopUpRefused(
                    refused @ (crate::actors::wallet::TopUpRefusal::IntentUsed
                    | crate::actors::wallet::TopUpRefusal::IntentConflict),
                ) => EngineError::Conflict(refused.to_string()),
                WalletError::TopUpNotFound => EngineError::NotFound("top-up"),
                WalletError::LimitsRefused(refused) => EngineError::InvalidItem {
                    parameter: refused.parameter,
                    message: refused.message,
                },
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
        self.ask_wallet((tenant, id), |reply| WalletCommand::Holdings { reply })
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

/// A change to one limit rule: the rule named by `id`, else by `name` (case aside), is
/// updated with what is given, or removed; a name no rule has makes a new rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LimitChange {
    pub id: Option<uuid::Uuid>,
    pub name: Option<String>,
    pub maximum_number: Option<u32>,
    pub maximum_amount: Option<Decimal>,
    pub period: Option<crate::domain::wallet::LimitPeriod>,
    pub applies_for: Option<Vec<crate::domain::wallet::LimitKind>>,
    /// Our addition: remove the rule.
    pub remove: bool,
    /// The currency the rule is stated in: the wallet's, if given.
    pub currency: Option<Currency>,
}

/// The rules after `changes`, in order (checked together by the wallet's actor).
fn apply_limit_changes(
    current: &WalletLimits,
    currency: Currency,
    changes: Vec<LimitChange>,
) -> Result<WalletLimits, LimitError> {
    let mut rules = current.rules.clone();
    for (index, change) in changes.into_iter().enumerate() {
        let bad = |field: &str, message: &str| LimitError {
            parameter: format!("limit_rules[{index}].{field}"),
            message: message.into(),
        };
        if change.currency.is_some_and(|given| given != currency) {
            return Err(bad(
                "currency_code",
                &format!("must be the wallet's currency, {}", currency.code()),
            ));
        }
        let found = match (change.id, &change.name) {
            (Some(id), _) => Some(
                rules
                    .iter()
                    .position(|rule| rule.id == id)
                    .ok_or_else(|| bad("id", "is not a rule of this wallet"))?,
            ),
            (None, Some(name)) => rules
                .iter()
                .position(|rule| rule.name.trim().to_lowercase() == name.trim().to_lowercase()),
            (None, None) => return Err(bad("name", "a rule is named by its id or its name")),
        };
        if change.remove {
            let index = found.ok_or_else(|| bad("name", "is not a rule of this wallet"))?;
            rules.remove(index);
            continue;
        }
        match found {
            Some(index) => {
                let rule = &mut rules[index];
                if let Some(name) = change.name {
                    rule.name = name.trim().to_string();
                }
                if change.maximum_number.is_some() {
                    rule.maximum_number = change.maximum_number;
                }
                if change.maximum_amount.is_some() {
                    rule.maximum_amount = change.maximum_amount;
                }
                if let Some(period) = change.period {
                    rule.period = period;
                }
                if let Some(kinds) = change.applies_for {
                    rule.applies_for = kinds;
                }
            }
            None => rules.push(LimitRule {
                id: uuid::Uuid::new_v4(),
                name: change.name.unwrap_or_default().trim().to_string(),
                maximum_number: change.maximum_number,
                maximum_amount: change.maximum_amount,
                period: change
                    .period
                    .ok_or_else(|| bad("period", "a new rule needs its period"))?,
                applies_for: change
                    .applies_for
                    .ok_or_else(|| bad("applies_for", "a new rule needs what it applies for"))?,
            }),
        }
    }
    Ok(WalletLimits { rules })
}

impl Engine {
    /// Contact `contact`'s limit rules on its wallet `id`.
    pub async fn wallet_limits(
        &self,
        tenant: Tenant,
        contact: crate::domain::ids::ContactId,
        id: WalletId,
    ) -> Result<(Currency, WalletLimits), EngineError> {
        self.check_open()?;
        self.check_own_wallet(tenant, contact, id)?;
        self.ask_wallet((tenant, id), |reply| WalletCommand::Limits { reply })
            .await
    }

    /// Changes contact `contact`'s limit rules on its wallet `id`: all of `changes` or, when
    /// the rules they make do not hold together, none. Answers the rules.
    pub async fn update_wallet_limits(
        &self,
        tenant: Tenant,
        contact: crate::domain::ids::ContactId,
        id: WalletId,
        changes: Vec<LimitChange>,
    ) -> Result<(Currency, WalletLimits), EngineError> {
        self.check_open()?;
        self.check_own_wallet(tenant, contact, id)?;
        // The ask may be retried (an actor retiring), so each try gets its own copy.
        self.ask_wallet((tenant, id), |reply| {
            let changes = changes.clone();
            WalletCommand::SetLimits {
                update: Box::new(move |current: &WalletLimits, currency| {
                    apply_limit_changes(current, currency, changes)
                }),
                reply,
            }
        })
        .await
    }
}
