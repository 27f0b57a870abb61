//! Payment methods and top-ups, through the contact's wallet actor. The engine never talks
//! to a payment gateway: the caller (the server's top-up handler, its reconciler) records a
//! top-up with `begin_top_up`, asks the gateway, and hands its answer to `settle_top_up`;
//! `pending_top_ups` lists what is still to be settled after a timeout or a crash.

use super::{claim_key, invalid, Engine, EngineError};
use crate::actors::wallet::{MethodRefusal, WalletCommand};
use crate::domain::ids::{ContactId, PaymentMethodId, Tenant, TopUpId, WalletCode, WalletId};
use crate::domain::money::Amount;
use crate::domain::payment::{
    AccountDetails, CardDetails, ChargeOutcome, EWalletDetails, PaymentMethod, PaymentMethodKind, PaymentMethods,
    PendingTopUp, TopUpRecord, TopUpState, PAYMENT_TEXT_MAX,
};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// A payment method to add: what the gateway tokenised, and what shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPaymentMethod {
    pub kind: PaymentMethodKind,
    pub name: Option<String>,
    pub notes: Option<String>,
    pub is_primary: bool,
    /// `None`: the business's gateway (the first configured).
    pub gateway: Option<String>,
    pub token: String,
    pub card: Option<CardDetails>,
    pub account: Option<AccountDetails>,
    pub e_wallet: Option<EWalletDetails>,
}

/// Changes to a payment method (`None` leaves a field).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentMethodChange {
    pub name: Option<String>,
    pub notes: Option<String>,
    pub is_primary: Option<bool>,
    /// A card's new expiry (month, year).
    pub card_expiry: Option<(u8, u16)>,
    /// A bank account's holder.
    pub account_name: Option<String>,
}

/// A top-up a contact asks for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TopUpRequest {
    pub id: Option<TopUpId>,
    pub wallet: Option<WalletId>,
    pub amount: Decimal,
    pub payment_method: PaymentMethodId,
    pub code: Option<String>,
    pub notes: Option<String>,
}

/// A top-up's or payout's wallet, currency and amount, checked.
struct CheckedRequest {
    wallet: WalletId,
    currency: crate::domain::money::Currency,
    amount: Decimal,
}

/// A payout a contact asks for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PayoutRequest {
    pub id: Option<crate::domain::ids::PayoutId>,
    pub wallet: Option<WalletId>,
    pub amount: Decimal,
    pub payment_method: PaymentMethodId,
    pub notes: Option<String>,
}

fn text(parameter: &'static str, value: &Option<String>) -> Result<(), EngineError> {
    match value {
        Some(value)
            if value.trim().is_empty()
                || value.chars().count() > PAYMENT_TEXT_MAX
                || value.chars().any(|c| c.is_control() && c != '\n') =>
        {
            Err(invalid(
                parameter,
                format!("must be 1 to {PAYMENT_TEXT_MAX} characters, without control characters"),
            ))
        }
        _ => Ok(()),
    }
}

fn digits(parameter: &'static str, value: &str, length: std::ops::RangeInclusive<usize>) -> Result<(), EngineError> {
    if !length.contains(&value.len()) || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(
            parameter,
            format!("must be {} to {} digits", length.start(), length.end()),
        ));
    }
    Ok(())
}

impl NewPaymentMethod {
    fn check(&self, gateways: &[String], this_year: u16) -> Result<(), EngineError> {
        text("name", &self.name)?;
        text("notes", &self.notes)?;
        if self
            .gateway
            .as_ref()
            .is_some_and(|gateway| !gateways.iter().any(|known| known == gateway))
        {
            return Err(invalid(
                "gateway_token.gateway",
                format!(
                    "must be one of the business's payment gateways: {}",
                    gateways.join(", ")
                ),
            ));
        }
        text("gateway_token.token", &Some(self.token.clone()))?;
        match (self.kind, &self.card, &self.account, &self.e_wallet) {
            (PaymentMethodKind::Card, Some(card), None, None) => {
                digits("card.first6", &card.first6, 6..=6)?;
                digits("card.last4", &card.last4, 4..=4)?;
                if !(1..=12).contains(&card.expiration_month) {
                    return Err(invalid("card.expiration_month", "must be 1 to 12"));
                }
                if card.expiration_year < this_year || card.expiration_year > this_year.saturating_add(50) {
                    return Err(invalid(
                        "card.expiration_year",
                        "must be this year or later (at most 50 years)",
                    ));
                }
                text("card.name", &card.name)?;
                text("card.brand", &card.brand)?;
            }
            (PaymentMethodKind::AccountDebit, None, Some(account), None) => {
                digits("account_debit.account_number", &account.last_digits, 4..=4)?;
                text("account_debit.account_name", &account.account_name)?;
                text("account_debit.bank", &account.bank)?;
            }
            (PaymentMethodKind::Wallet, None, None, Some(e_wallet)) => {
                if e_wallet.email.is_none() && e_wallet.phone.is_none() {
                    return Err(invalid("wallet", "needs the email or the phone it is registered with"));
                }
                text("wallet.email", &e_wallet.email)?;
                text("wallet.phone", &e_wallet.phone)?;
            }
            (kind, ..) => {
                return Err(invalid(
                    "payment_method_type",
                    format!("a {} method has its own details only", kind.code()),
                ))
            }
        }
        Ok(())
    }
}

impl Engine {
    /// The payment gateways a payment method may name.
    pub fn payment_gateways(&self) -> &[String] {
        &self.inner.settings.payments.gateways
    }

    /// The year it is now (UTC), for card expiries.
    fn this_year(&self) -> u16 {
        let year = jiff::Timestamp::from_second(self.now())
            .map(|now| jiff::tz::TimeZone::UTC.to_datetime(now).year())
            .unwrap_or(1970);
        u16::try_from(year).unwrap_or(u16::MAX)
    }

    async fn contact_wallet_id(&self, tenant: Tenant, contact: ContactId) -> Result<WalletId, EngineError> {
        Ok(self.contact_route(&tenant, &super::ContactRef::Id(contact))?.wallet_id)
    }

    /// The contact's payment methods, the primary one first.
    pub async fn payment_methods(&self, tenant: Tenant, contact: ContactId) -> Result<PaymentMethods, EngineError> {
        self.check_open()?;
        let wallet = self.contact_wallet_id(tenant, contact).await?;
        let mut methods = self
            .ask_wallet((tenant, wallet), |reply| WalletCommand::PaymentMethods { reply })
            .await?;
        methods.methods.sort_by_key(|method| !method.is_primary);
        Ok(methods)
    }

    /// Adds a payment method the gateway holds for the contact.
    pub async fn add_payment_method(
        &self,
        tenant: Tenant,
        contact: ContactId,
        new: NewPaymentMethod,
    ) -> Result<PaymentMethod, EngineError> {
        self.check_open()?;
        let (gateways, default) = self.business_gateways(&tenant)?;
        new.check(&gateways, self.this_year())?;
        let gateway = new.gateway.clone().or(default).ok_or_else(|| {
            invalid(
                "gateway_token.gateway",
                "the business takes no payments: it has no active payment gateway",
            )
        })?;
        self.check_test_gateway(&tenant, &gateway, "gateway_token.gateway")?;
        let wallet = self.contact_wallet_id(tenant, contact).await?;
        let method = PaymentMethod {
            id: PaymentMethodId::random(),
            kind: new.kind,
            name: new.name,
            notes: new.notes,
            is_primary: new.is_primary,
            gateway,
            token: new.token,
            card: new.card,
            account: new.account,
            e_wallet: new.e_wallet,
            created_on: self.now(),
        };
        let id = method.id;
        let primary = method.is_primary.then_some(id);
        let methods = self
            .ask_wallet((tenant, wallet), |reply| {
                let method = method.clone();
                WalletCommand::SetPaymentMethods {
                    update: Box::new(move |current: &PaymentMethods| {
                        let mut methods = current.clone();
                        methods.methods.push(method);
                        methods.normalise(primary).map_err(MethodRefusal::Invalid)
                    }),
                    reply,
                }
            })
            .await?;
        methods.get(id).cloned().ok_or(EngineError::Internal("wallet"))
    }

    /// Renames, notes or makes primary one of the contact's payment methods.
    pub async fn update_payment_method(
        &self,
        tenant: Tenant,
        contact: ContactId,
        id: PaymentMethodId,
        change: PaymentMethodChange,
    ) -> Result<PaymentMethod, EngineError> {
        self.check_open()?;
        text("name", &change.name)?;
        text("notes", &change.notes)?;
        text("account_debit.account_name", &change.account_name)?;
        if let Some((month, year)) = change.card_expiry {
            let this_year = self.this_year();
            if !(1..=12).contains(&month) {
                return Err(invalid("card.exp_month", "must be 1 to 12"));
            }
            if year < this_year || year > this_year.saturating_add(50) {
                return Err(invalid(
                    "card.exp_year",
                    "must be this year or later (at most 50 years)",
                ));
            }
        }
        let wallet = self.contact_wallet_id(tenant, contact).await?;
        let methods = self
            .ask_wallet((tenant, wallet), |reply| {
                let change = change.clone();
                WalletCommand::SetPaymentMethods {
                    update: Box::new(move |current: &PaymentMethods| {
                        let mut methods = current.clone();
                        let method = methods
                            .methods
                            .iter_mut()
                            .find(|method| method.id == id)
                            .ok_or(MethodRefusal::NotFound)?;
                        if let Some(name) = change.name {
                            method.name = Some(name);
                        }
                        if let Some(notes) = change.notes {
                            method.notes = Some(notes);
                        }
                        if let Some((month, year)) = change.card_expiry {
                            let card = method
                                .card
                                .as_mut()
                                .ok_or(MethodRefusal::Invalid("card: the method is not a card".into()))?;
                            card.expiration_month = month;
                            card.expiration_year = year;
                        }
                        if let Some(name) = change.account_name {
                            let account = method.account.as_mut().ok_or(MethodRefusal::Invalid(
                                "account_debit: the method is not a bank account".into(),
                            ))?;
                            account.account_name = Some(name);
                        }
                        let primary = (change.is_primary == Some(true)).then_some(id);
                        if change.is_primary == Some(false) {
                            method.is_primary = false;
                        }
                        methods.normalise(primary).map_err(MethodRefusal::Invalid)
                    }),
                    reply,
                }
            })
            .await?;
        methods.get(id).cloned().ok_or(EngineError::NotFound("payment method"))
    }

    /// Removes one of the contact's payment methods (another becomes primary if it was).
    pub async fn remove_payment_method(
        &self,
        tenant: Tenant,
        contact: ContactId,
        id: PaymentMethodId,
    ) -> Result<(), EngineError> {
        self.check_open()?;
        let wallet = self.contact_wallet_id(tenant, contact).await?;
        self.ask_wallet((tenant, wallet), |reply| WalletCommand::SetPaymentMethods {
            update: Box::new(move |current: &PaymentMethods| {
                let mut methods = current.clone();
                let before = methods.methods.len();
                methods.methods.retain(|method| method.id != id);
                if methods.methods.len() == before {
                    return Err(MethodRefusal::NotFound);
                }
                methods.normalise(None).map_err(MethodRefusal::Invalid)
            }),
            reply,
        })
        .await?;
        Ok(())
    }

    /// Records a top-up of the contact's own wallet, pending, before any gateway is asked:
    /// the caller asks the gateway only once this is answered. A retry (same id, same
    /// request) is answered with the top-up as it stands.
    pub async fn begin_top_up(
        &self,
        tenant: Tenant,
        contact: ContactId,
        request: TopUpRequest,
    ) -> Result<Arc<TopUpRecord>, EngineError> {
        self.check_open()?;
        if let Some(code) = &request.code {
            WalletCode::parse(code).map_err(|_| invalid("code", "must be exactly 16 digits"))?;
        }
        let checked = self
            .check_gateway_request(tenant, contact, request.wallet, request.amount, &request.notes)
            .await?;
        let body_hash: [u8; 32] = Sha256::digest(postcard::to_stdvec(&(&tenant, &request)).unwrap_or_default()).into();
        let id = request.id.unwrap_or_else(TopUpId::random);
        // A business that chose no gateways takes every configured one: nothing to check.
        if self.has_integrations(&tenant)? && self.inner.store.top_up(&tenant, id)?.is_none() {
            self.check_method_gateway(tenant, checked.wallet, request.payment_method)
                .await?;
        }
        // Two wallets racing for one id: the second is told, not allowed to overwrite.
        let _claim = self
            .inner
            .claims
            .claim(claim_key(b'G', &tenant, id.as_bytes()), checked.wallet.0.as_u128())
            .map_err(|_| EngineError::Conflict("a top-up with this id is in progress".into()))?;
        let record = TopUpRecord {
            id,
            tenant,
            wallet: checked.wallet,
            contact,
            amount: checked.amount,
            currency: checked.currency,
            payment_method: request.payment_method,
            gateway: String::new(),
            token: String::new(),
            code: request
                .code
                .unwrap_or_else(|| crate::engine::secrets::wallet_code().as_str().to_string()),
            notes: request.notes,
            state: TopUpState::Pending,
            created_on: 0,
            settled_on: None,
            body_hash,
        };
        self.ask_wallet((tenant, checked.wallet), |reply| WalletCommand::BeginTopUp {
            record: Box::new(record.clone()),
            reply,
        })
        .await
    }

    /// Refused when the payment method's gateway is not one the business takes payments
    /// through (any more); a method not found is the wallet's to refuse.
    async fn check_method_gateway(
        &self,
        tenant: Tenant,
        wallet: WalletId,
        method: PaymentMethodId,
    ) -> Result<(), EngineError> {
        let methods = self
            .ask_wallet((tenant, wallet), |reply| WalletCommand::PaymentMethods { reply })
            .await?;
        match methods.get(method) {
            Some(method) => self.check_business_gateway(&tenant, &method.gateway),
            None => Ok(()),
        }
    }

    /// What a top-up or payout request of contact `contact` shares: its own wallet (the one
    /// named, if any, must be it), an amount more than zero within the bounds and the
    /// wallet's currency's minor units, and printable notes.
    async fn check_gateway_request(
        &self,
        tenant: Tenant,
        contact: ContactId,
        wallet: Option<WalletId>,
        amount: Decimal,
        notes: &Option<String>,
    ) -> Result<CheckedRequest, EngineError> {
        let route = self.contact_route(&tenant, &super::ContactRef::Id(contact))?;
        if wallet.is_some_and(|wallet| wallet != route.wallet_id) {
            return Err(EngineError::NotFound("wallet"));
        }
        let header = self
            .ask_wallet((tenant, route.wallet_id), |reply| WalletCommand::Header { reply })
            .await?;
        let amount = self.positive_amount("amount", amount, header.currency)?;
        text("notes", notes)?;
        Ok(CheckedRequest {
            wallet: route.wallet_id,
            currency: header.currency,
            amount,
        })
    }

    /// `value` as money of `currency` to move through a gateway: more than zero, in the
    /// currency's minor units, at most `[money] amount_max`.
    pub(super) fn positive_amount(
        &self,
        parameter: &'static str,
        value: Decimal,
        currency: crate::domain::money::Currency,
    ) -> Result<Decimal, EngineError> {
        let amount = Amount::parse_at_most(value, currency, self.inner.settings.money.amount_max)
            .map_err(|error| invalid(parameter, error))?
            .value();
        if amount <= Decimal::ZERO {
            return Err(invalid(parameter, "must be more than zero"));
        }
        Ok(amount)
    }

    /// Settles a pending top-up with its gateway's answer (a settled one stays as it is).
    pub async fn settle_top_up(
        &self,
        tenant: Tenant,
        wallet: WalletId,
        id: TopUpId,
        outcome: ChargeOutcome,
    ) -> Result<Arc<TopUpRecord>, EngineError> {
        self.check_open()?;
        self.ask_wallet((tenant, wallet), |reply| WalletCommand::SettleTopUp {
            id,
            outcome: outcome.clone(),
            reply,
        })
        .await
    }

    /// One of the contact's top-ups (another's is not found).
    pub async fn contact_top_up(
        &self,
        tenant: Tenant,
        contact: ContactId,
        id: TopUpId,
    ) -> Result<Arc<TopUpRecord>, EngineError> {
        self.check_open()?;
        let wallet = self.contact_wallet_id(tenant, contact).await?;
        self.ask_wallet((tenant, wallet), |reply| WalletCommand::TopUp { id, reply })
            .await
    }

    /// Up to `limit` top-ups not settled yet, oldest first, as they stand.
    pub fn pending_top_ups(&self, limit: usize) -> Result<Vec<(PendingTopUp, TopUpRecord)>, EngineError> {
        let mut found = Vec::new();
        for pending in self.inner.store.pending_top_ups(limit)? {
            if let Some(record) = self.inner.store.top_up(&pending.tenant, pending.id)? {
                found.push((pending, record));
            }
        }
        Ok(found)
    }

    /// Records a payout from the contact's own wallet and debits it, in one commit, before
    /// any gateway is asked. A retry (same id, same request) is answered as it stands.
    pub async fn begin_payout(
        &self,
        tenant: Tenant,
        contact: ContactId,
        request: PayoutRequest,
    ) -> Result<Arc<crate::domain::payment::PayoutRecord>, EngineError> {
        self.check_open()?;
        let checked = self
            .check_gateway_request(tenant, contact, request.wallet, request.amount, &request.notes)
            .await?;
        let body_hash: [u8; 32] = Sha256::digest(postcard::to_stdvec(&(&tenant, &request)).unwrap_or_default()).into();
        let id = request.id.unwrap_or_else(crate::domain::ids::PayoutId::random);
        if self.has_integrations(&tenant)? && self.inner.store.payout(&tenant, id)?.is_none() {
            self.check_method_gateway(tenant, checked.wallet, request.payment_method)
                .await?;
        }
        let _claim = self
            .inner
            .claims
            .claim(claim_key(b'Y', &tenant, id.as_bytes()), checked.wallet.0.as_u128())
            .map_err(|_| EngineError::Conflict("a payout with this id is in progress".into()))?;
        let record = crate::domain::payment::PayoutRecord {
            id,
            tenant,
            wallet: checked.wallet,
            contact,
            amount: checked.amount,
            currency: checked.currency,
            payment_method: request.payment_method,
            gateway: String::new(),
            token: String::new(),
            notes: request.notes,
            state: TopUpState::Pending,
            created_on: 0,
            settled_on: None,
            body_hash,
        };
        self.ask_wallet((tenant, checked.wallet), |reply| WalletCommand::BeginPayout {
            record: Box::new(record.clone()),
            reply,
        })
        .await
        .map_err(|error| match error {
            EngineError::InsufficientFunds { .. } => EngineError::InsufficientFunds { parameter: "amount" },
            error => error,
        })
    }

    /// Settles a pending payout with its gateway's answer (a settled one stays as it is).
    pub async fn settle_payout(
        &self,
        tenant: Tenant,
        wallet: WalletId,
        id: crate::domain::ids::PayoutId,
        outcome: ChargeOutcome,
    ) -> Result<Arc<crate::domain::payment::PayoutRecord>, EngineError> {
        self.check_open()?;
        self.ask_wallet((tenant, wallet), |reply| WalletCommand::SettlePayout {
            id,
            outcome: outcome.clone(),
            reply,
        })
        .await
    }

    /// Up to `limit` payouts not settled yet, oldest first, as they stand.
    pub fn pending_payouts(&self, limit: usize) -> Result<Vec<crate::domain::payment::PayoutRecord>, EngineError> {
        let mut found = Vec::new();
        for pending in self.inner.store.pending_payouts(limit)? {
            if let Some(record) = self.inner.store.payout(&pending.tenant, pending.id)? {
                found.push(record);
            }
        }
        Ok(found)
    }
}
