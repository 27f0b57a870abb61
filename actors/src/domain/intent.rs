//! Payment intents: a contact's intention to pay with one of its payment methods, set up
//! at the method's gateway before the money is used.
//!
//! The intent is recorded `Pending` *before* its gateway is asked, with its id as the
//! idempotency key. `capture: AUTOMATIC` charges at once (`Completed`); `ON_HOLD` only
//! authorises (`RequiresCapturing`) and the money is taken when the intent is used. An app
//! uses an intent by sending its `client_secret` with a top-up: the top-up is credited from
//! it once, in the same commit that marks the intent used (a held one is captured first).
//! A declined intent is `Rejected`; a held one never used is `Cancelled` (released at its
//! gateway) once it is `HOLD_DAYS` old.
//!
//! The states move only as [`TRANSITIONS`] says.

use super::ids::{ContactId, IntentId, PaymentMethodId, Tenant, TopUpId, WalletId};
use super::money::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How long a held intent waits to be used before it is released.
pub const HOLD_DAYS: i64 = 7;
/// Longest statement text, in characters.
pub const STATEMENT_MAX: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Capture {
    Automatic,
    OnHold,
}

impl Capture {
    pub fn parse(code: &str) -> Option<Capture> {
        match code {
            "AUTOMATIC" => Some(Capture::Automatic),
            "ON_HOLD" => Some(Capture::OnHold),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntentState {
    /// Recorded; the gateway's answer is not known yet.
    Pending,
    /// Authorised and held at the gateway, to be captured when used.
    RequiresCapturing,
    /// Paid (charged, or captured): ready to be used once.
    Completed,
    /// Declined or failed at the gateway: nothing was taken.
    Rejected,
    /// A hold released unused.
    Cancelled,
}

impl IntentState {
    pub fn code(self) -> &'static str {
        match self {
            IntentState::Pending => "PENDING",
            IntentState::RequiresCapturing => "REQUIRES_CAPTURING",
            IntentState::Completed => "COMPLETED",
            IntentState::Rejected => "REJECTED",
            IntentState::Cancelled => "CANCELLED",
        }
    }
}

/// Every move an intent may make.
pub const TRANSITIONS: &[(IntentState, IntentState)] = &[
    (IntentState::Pending, IntentState::Completed),
    (IntentState::Pending, IntentState::RequiresCapturing),
    (IntentState::Pending, IntentState::Rejected),
    (IntentState::RequiresCapturing, IntentState::Completed),
    (IntentState::RequiresCapturing, IntentState::Cancelled),
];

pub fn may_move(from: IntentState, to: IntentState) -> bool {
    TRANSITIONS.contains(&(from, to))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntentRecord {
    pub id: IntentId,
    pub tenant: Tenant,
    pub wallet: WalletId,
    pub contact: ContactId,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub amount: Decimal,
    pub currency: Currency,
    pub payment_method: PaymentMethodId,
    pub capture: Capture,
    /// The gateway and token asked (kept, so settling later needs nothing else).
    pub gateway: String,
    pub token: String,
    /// What the app sends to use the intent. Kept (a retry is answered with it), and no
    /// use to anyone but this contact: using it needs the contact's own token too.
    pub client_secret: String,
    pub statement_info: Option<String>,
    pub state: IntentState,
    /// The gateway's reference once it answered (its charge or authorisation).
    pub reference: Option<String>,
    /// Why the gateway refused it.
    pub error: Option<String>,
    /// Set when a held intent's capture was asked for and its answer is not known yet.
    pub capturing: bool,
    /// The top-up it paid, once used.
    pub used_by: Option<TopUpId>,
    pub created_on: i64,
    pub updated_on: i64,
    /// What a retry must match to be answered with this intent.
    pub body_hash: [u8; 32],
}

impl IntentRecord {
    /// Whether the reconciler has something to ask the gateway about.
    pub fn unsettled(&self) -> bool {
        self.state == IntentState::Pending || self.capturing
    }

    /// Whether a hold is due to be released at `now`.
    pub fn hold_expired(&self, now: i64) -> bool {
        self.state == IntentState::RequiresCapturing
            && !self.capturing
            && now.saturating_sub(self.created_on) >= HOLD_DAYS * 86_400
    }
}

/// An intent's entry in the index the reconciler reads: unsettled, or held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenIntent {
    pub created_on: i64,
    pub tenant: Tenant,
    pub wallet: WalletId,
    pub id: IntentId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intents_move_only_forward_and_end_where_they_end() {
        use IntentState::*;
        let all = [Pending, RequiresCapturing, Completed, Rejected, Cancelled];
        for to in all {
            assert!(!may_move(Completed, to), "a completed intent stays completed");
            assert!(!may_move(Rejected, to));
            assert!(!may_move(Cancelled, to));
            assert!(!may_move(to, Pending), "nothing goes back to pending");
        }
        assert!(may_move(Pending, Completed));
        assert!(may_move(RequiresCapturing, Completed));
        assert!(!may_move(Pending, Cancelled), "only a hold is released");
        assert_eq!(
            all.map(IntentState::code),
            ["PENDING", "REQUIRES_CAPTURING", "COMPLETED", "REJECTED", "CANCELLED"]
        );
    }
}
