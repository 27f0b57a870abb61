//! Payment methods and top-ups.
//!
//! A payment method is what a payment gateway holds for the contact — a card, a bank
//! account (account debit) or an e-wallet — named by the gateway's token; the engine keeps
//! only what shows it (brand, last digits, expiry, holder) and never a card number.
//!
//! A top-up is an intent recorded *before* its gateway is asked to charge (`Pending`), then
//! settled once with the gateway's answer: `Succeeded` credits the wallet in the same commit,
//! `Failed` credits nothing. A top-up left pending (a timeout, a crash between the charge
//! and its settlement) is settled later by asking the gateway what became of the charge,
//! whose idempotency key is the top-up's id — so the charge and the credit always agree.

use super::ids::{ContactId, PaymentMethodId, PayoutId, Tenant, TopUpId, WalletId};
use super::money::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Most payment methods one contact may keep.
pub const PAYMENT_METHODS_MAX: usize = 20;
/// Longest gateway token, name or note, in characters.
pub const PAYMENT_TEXT_MAX: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaymentMethodKind {
    Card,
    AccountDebit,
    Wallet,
}

impl PaymentMethodKind {
    pub const ALL: [PaymentMethodKind; 3] = [
        PaymentMethodKind::Card,
        PaymentMethodKind::AccountDebit,
        PaymentMethodKind::Wallet,
    ];

    pub fn code(self) -> &'static str {
        match self {
            PaymentMethodKind::Card => "CARD",
            PaymentMethodKind::AccountDebit => "ACCOUNT_DEBIT",
            PaymentMethodKind::Wallet => "WALLET",
        }
    }

    pub fn parse(code: &str) -> Option<PaymentMethodKind> {
        PaymentMethodKind::ALL.into_iter().find(|kind| kind.code() == code)
    }
}

/// What shows a card (the gateway holds the card itself).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardDetails {
    pub name: Option<String>,
    pub first6: String,
    pub last4: String,
    pub brand: Option<String>,
    pub expiration_month: u8,
    pub expiration_year: u16,
}

/// What shows a bank account: its holder and the account's last digits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountDetails {
    pub account_name: Option<String>,
    pub last_digits: String,
    pub bank: Option<String>,
}

/// What shows an e-wallet: the email or phone it is registered with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EWalletDetails {
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethod {
    pub id: PaymentMethodId,
    pub kind: PaymentMethodKind,
    pub name: Option<String>,
    pub notes: Option<String>,
    pub is_primary: bool,
    /// The gateway that holds it (`test`, `stripe`, ...) and its token there.
    pub gateway: String,
    pub token: String,
    pub card: Option<CardDetails>,
    pub account: Option<AccountDetails>,
    pub e_wallet: Option<EWalletDetails>,
    pub created_on: i64,
}

impl PaymentMethod {
    /// What identifies it to its owner: "VISA ****4242 12/2030", "Bank ****6789", an email.
    pub fn identifier(&self) -> String {
        match (&self.card, &self.account, &self.e_wallet) {
            (Some(card), _, _) => format!(
                "{} ****{} {:02}/{}",
                card.brand.as_deref().unwrap_or("Card"),
                card.last4,
                card.expiration_month,
                card.expiration_year
            ),
            (_, Some(account), _) => format!(
                "{} ****{}",
                account.bank.as_deref().unwrap_or("Account"),
                account.last_digits
            ),
            (_, _, Some(e_wallet)) => e_wallet
                .email
                .clone()
                .or_else(|| e_wallet.phone.clone())
                .unwrap_or_default(),
            _ => String::new(),
        }
    }
}

/// A contact's payment methods, as its wallet's actor keeps them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethods {
    pub methods: Vec<PaymentMethod>,
}

impl PaymentMethods {
    /// At most one primary; the first method added is primary; at most
    /// `PAYMENT_METHODS_MAX`.
    pub fn normalise(mut self, primary: Option<PaymentMethodId>) -> Result<PaymentMethods, String> {
        if self.methods.len() > PAYMENT_METHODS_MAX {
            return Err(format!("at most {PAYMENT_METHODS_MAX} payment methods"));
        }
        let primary = primary
            .or_else(|| {
                self.methods
                    .iter()
                    .find(|method| method.is_primary)
                    .map(|method| method.id)
            })
            .or_else(|| self.methods.first().map(|method| method.id));
        for method in &mut self.methods {
            method.is_primary = Some(method.id) == primary;
        }
        Ok(self)
    }

    pub fn get(&self, id: PaymentMethodId) -> Option<&PaymentMethod> {
        self.methods.iter().find(|method| method.id == id)
    }
}

/// Where a top-up stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TopUpState {
    /// Recorded; the gateway's answer is not known yet.
    Pending,
    /// Charged (the gateway's reference) and credited, in one commit.
    Succeeded { charge: String },
    /// Not charged: declined or failed; nothing was credited.
    Failed { reason: String },
}

impl TopUpState {
    pub fn code(&self) -> &'static str {
        match self {
            TopUpState::Pending => "PENDING",
            TopUpState::Succeeded { .. } => "COMPLETED",
            TopUpState::Failed { .. } => "REJECTED",
        }
    }
}

/// What a gateway says became of a charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    Succeeded {
        charge: String,
    },
    /// Refused (a decline) or failed before charging: nothing was taken.
    Failed {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopUpRecord {
    pub id: TopUpId,
    pub tenant: Tenant,
    pub wallet: WalletId,
    pub contact: ContactId,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub amount: Decimal,
    pub currency: Currency,
    pub payment_method: PaymentMethodId,
    /// The gateway and token charged (kept, so settling later needs nothing else).
    pub gateway: String,
    pub token: String,
    /// 16 digits, given or made at random.
    pub code: String,
    pub notes: Option<String>,
    pub state: TopUpState,
    pub created_on: i64,
    pub settled_on: Option<i64>,
    /// What a retry must match to be answered with this top-up.
    pub body_hash: [u8; 32],
}

/// A pending top-up's entry in the index the reconciler reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingTopUp {
    pub created_on: i64,
    pub tenant: Tenant,
    pub wallet: WalletId,
    pub id: TopUpId,
}

/// A payout: debited from the wallet when it is recorded (before the gateway is asked),
/// then settled once: paid keeps the debit, failed gives it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutRecord {
    pub id: PayoutId,
    pub tenant: Tenant,
    pub wallet: WalletId,
    pub contact: ContactId,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub amount: Decimal,
    pub currency: Currency,
    pub payment_method: PaymentMethodId,
    pub gateway: String,
    pub token: String,
    pub notes: Option<String>,
    /// Pending, Succeeded (the gateway's reference) or Failed (given back).
    pub state: TopUpState,
    pub created_on: i64,
    pub settled_on: Option<i64>,
    pub body_hash: [u8; 32],
}

/// A pending payout's entry in the index the reconciler reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingPayout {
    pub created_on: i64,
    pub tenant: Tenant,
    pub wallet: WalletId,
    pub id: PayoutId,
}

/// What the wallet's actor reads of a top-up or a payout to answer a retry or settle it.
pub trait GatewayRecord {
    fn wallet(&self) -> WalletId;
    fn body_hash(&self) -> &[u8; 32];
    fn state(&self) -> &TopUpState;
}

impl GatewayRecord for TopUpRecord {
    fn wallet(&self) -> WalletId {
        self.wallet
    }
    fn body_hash(&self) -> &[u8; 32] {
        &self.body_hash
    }
    fn state(&self) -> &TopUpState {
        &self.state
    }
}

impl GatewayRecord for PayoutRecord {
    fn wallet(&self) -> WalletId {
        self.wallet
    }
    fn body_hash(&self) -> &[u8; 32] {
        &self.body_hash
    }
    fn state(&self) -> &TopUpState {
        &self.state
    }
}
