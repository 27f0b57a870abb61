//! Auto and termed top-ups (`domain::topup_schedule`): the contact's settings, checked
//! here and kept by its wallet's actor, and what the server's scheduler reads — the entries
//! due — and asks for: the top-up an entry begins, which it then charges like any other.

use super::{invalid, Engine, EngineError};
use crate::actors::wallet::{ScheduleCommand, ScheduleView, WalletCommand};
use crate::domain::ids::{ContactId, PaymentMethodId, Tenant, WalletId};
use crate::domain::money::Currency;
use crate::domain::payment::TopUpRecord;
use crate::domain::topup_schedule::{AutoTopUp, Frequency, ScheduledTopUp, TermedTopUp, TopUpPeriod};
use rust_decimal::Decimal;
use std::sync::Arc;

/// An auto top-up the contact asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoTopUpAsk {
    pub threshold: Decimal,
    pub amount: Decimal,
    pub payment_method: PaymentMethodId,
    /// The wallet's currency, if given (the settings' view shows it).
    pub currency: Option<Currency>,
}

/// A termed top-up the contact asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermedTopUpAsk {
    pub amount: Decimal,
    pub currency: Option<Currency>,
    pub frequency: Option<String>,
    /// Shown as given (the frequency decides).
    pub period: Option<TopUpPeriod>,
    pub payment_method: PaymentMethodId,
}

/// Changes to a wallet's top-up settings: `Some(Some(..))` sets one, `Some(None)` switches
/// it off, `None` leaves it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopUpSettingsChange {
    pub auto: Option<Option<AutoTopUpAsk>>,
    pub termed: Option<Option<TermedTopUpAsk>>,
}

impl Engine {
    /// Contact `contact`'s top-up settings on its wallet `wallet`.
    pub async fn top_up_settings(
        &self,
        tenant: Tenant,
        contact: ContactId,
        wallet: WalletId,
    ) -> Result<ScheduleView, EngineError> {
        self.check_open()?;
        self.check_own_wallet(tenant, contact, wallet)?;
        self.ask_wallet((tenant, wallet), |reply| {
            WalletCommand::Schedule(ScheduleCommand::Settings { reply })
        })
        .await
    }

    /// Changes contact `contact`'s top-up settings on its wallet `wallet`: all of `change`
    /// or, when any of it is refused, none. Answers the settings.
    pub async fn set_top_up_settings(
        &self,
        tenant: Tenant,
        contact: ContactId,
        wallet: WalletId,
        change: TopUpSettingsChange,
    ) -> Result<ScheduleView, EngineError> {
        self.check_open()?;
        self.check_own_wallet(tenant, contact, wallet)?;
        let header = self
            .ask_wallet((tenant, wallet), |reply| WalletCommand::Header { reply })
            .await?;
        let currency = header.currency;
        let amount = |parameter: &'static str, value: Decimal| self.positive_amount(parameter, value, currency);
        let same_currency = |parameter: &'static str, asked: Option<Currency>| match asked {
            Some(asked) if asked != currency => Err(invalid(
                parameter,
                format!("must be the wallet's currency, {}", currency.code()),
            )),
            _ => Ok(()),
        };
        let auto = match change.auto {
            Some(Some(ask)) => {
                same_currency("auto_topup.currency_code", ask.currency)?;
                let threshold = if ask.threshold.is_zero() {
                    Decimal::ZERO
                } else {
                    amount("auto_topup.threshold", ask.threshold)?
                };
                let value = amount("auto_topup.amount", ask.amount)?;
                if value <= threshold {
                    return Err(invalid(
                        "auto_topup.amount",
                        "must be more than the threshold (the top-up lifts the balance clear of it)",
                    ));
                }
                Some(Some(AutoTopUp {
                    threshold,
                    amount: value,
                    payment_method: ask.payment_method,
                    due: None,
                    last: None,
                }))
            }
            Some(None) => Some(None),
            None => None,
        };
        let termed = match change.termed {
            Some(Some(ask)) => {
                same_currency("termed_topup.currency_code", ask.currency)?;
                let value = amount("termed_topup.amount", ask.amount)?;
                let frequency = ask
                    .frequency
                    .ok_or_else(|| invalid("termed_topup.frequency", "is required"))?;
                let now = self.now();
                let next_due = Frequency::parse(&frequency, now)
                    .map_err(|error| invalid("termed_topup.frequency", error))?
                    .next_after(now)
                    .ok_or_else(|| invalid("termed_topup.frequency", "never occurs again"))?;
                Some(Some(TermedTopUp {
                    amount: value,
                    frequency,
                    period: ask.period,
                    payment_method: ask.payment_method,
                    next_due,
                }))
            }
            Some(None) => Some(None),
            None => None,
        };
        self.ask_wallet((tenant, wallet), |reply| {
            WalletCommand::Schedule(ScheduleCommand::Set {
                auto: auto.clone(),
                termed: termed.clone(),
                reply,
            })
        })
        .await
    }

    /// Up to `limit` scheduled top-ups due now, soonest first.
    pub fn scheduled_top_ups_due(&self, limit: usize) -> Result<Vec<ScheduledTopUp>, EngineError> {
        Ok(self.inner.store.scheduled_top_ups_due(self.now(), limit)?)
    }

    /// Begins the top-up a due entry calls for, pending (the caller charges it); `None`
    /// when it begins none (a stale entry, or a limit refused it: that occurrence is
    /// skipped).
    pub async fn begin_scheduled_top_up(&self, entry: ScheduledTopUp) -> Result<Option<Arc<TopUpRecord>>, EngineError> {
        self.check_open()?;
        self.ask_wallet((entry.tenant, entry.wallet), |reply| {
            WalletCommand::Schedule(ScheduleCommand::Begin {
                kind: entry.kind,
                due: entry.due,
                reply,
            })
        })
        .await
    }
}
