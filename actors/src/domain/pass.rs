//! Passes: gift and top-up passes sold or given out under a pass plan, and redeemed once
//! into a wallet; promotion passes, which hold no value and unlock their plan's reward
//! offer on a purchase, a number of times each.
//!
//! A pass's code comes from a CSPRNG in its plan's format and is stored only as its SHA-1
//! (CRM.COM's `code_hash`, which clients may send instead of the code); its PIN only as a
//! salted SHA-256. One actor per pass moves it through the states of `TRANSITIONS`; a
//! redemption marks it REDEEMED and commits the wallet's credit message in the same commit,
//! so the credit happens once, however many requests race and across a crash.

use super::ids::{PassId, PassPlanId, Tenant};
use super::money::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha1::Digest as _;

/// Longest plan name, in characters.
pub const PLAN_NAME_CHARS_MAX: usize = 200;
/// Longest random part of a code, and longest prefix or suffix.
pub const CODE_LENGTH_MAX: u8 = 32;
pub const CODE_AFFIX_MAX: usize = 10;
/// The shortest random part of a code: enough that guessing one is hopeless.
pub const CODE_LENGTH_MIN: u8 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PassClassification {
    Gift,
    TopUp,
    Promotion,
}

impl PassClassification {
    pub const ALL: [PassClassification; 3] = [
        PassClassification::Gift,
        PassClassification::TopUp,
        PassClassification::Promotion,
    ];

    pub fn code(self) -> &'static str {
        match self {
            PassClassification::Gift => "GIFT",
            PassClassification::TopUp => "TOPUP",
            PassClassification::Promotion => "PROMOTION",
        }
    }

    pub fn parse(code: &str) -> Option<PassClassification> {
        PassClassification::ALL.into_iter().find(|kind| kind.code() == code)
    }
}

/// A plan's passes are worth a fixed amount, or an amount chosen when each is issued
/// (between the bounds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PassValue {
    Fixed(#[serde(with = "crate::domain::money::exact_decimal")] Decimal),
    Variable {
        #[serde(with = "crate::domain::money::exact_decimal")]
        minimum: Decimal,
        #[serde(with = "crate::domain::money::exact_decimal")]
        maximum: Decimal,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ValidityUnit {
    Days,
    Months,
    Years,
}

/// Until when an issued pass may be redeemed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Validity {
    Always,
    /// This long after the pass is issued.
    Period {
        amount: u16,
        unit: ValidityUnit,
    },
    /// Until this instant.
    Date(i64),
}

impl Validity {
    /// The last instant a pass issued at `issued` may be redeemed (`None`: always).
    pub fn expires_at(self, issued: i64) -> Option<i64> {
        match self {
            Validity::Always => None,
            Validity::Date(date) => Some(date),
            Validity::Period { amount, unit } => {
                let start = jiff::Timestamp::from_second(issued).ok()?;
                let local = jiff::tz::TimeZone::UTC.to_datetime(start);
                let span = match unit {
                    ValidityUnit::Days => jiff::Span::new().days(i64::from(amount)),
                    ValidityUnit::Months => jiff::Span::new().months(i64::from(amount)),
                    ValidityUnit::Years => jiff::Span::new().years(i64::from(amount)),
                };
                let end = local.checked_add(span).ok()?;
                end.to_zoned_datetime(jiff::tz::TimeZone::UTC)
                    .ok()
                    .map(|end| end.timestamp().as_second())
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CodeAlphabet {
    Numeric,
    Alphabetic,
    Alphanumeric,
}

impl CodeAlphabet {
    fn characters(self) -> &'static [u8] {
        match self {
            CodeAlphabet::Numeric => b"0123456789",
            // No I or O: they read as 1 and 0.
            CodeAlphabet::Alphabetic => b"ABCDEFGHJKLMNPQRSTUVWXYZ",
            CodeAlphabet::Alphanumeric => b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeFormat {
    pub alphabet: CodeAlphabet,
    pub prefix: String,
    pub suffix: String,
    /// Characters of the random part.
    pub length: u8,
    pub pin_required: bool,
}

impl CodeFormat {
    /// A new code from the thread's CSPRNG.
    pub fn generate(&self) -> String {
        use rand::Rng;
        let characters = self.alphabet.characters();
        let mut rng = rand::rng();
        let random: String = (0..self.length)
            .map(|_| char::from(characters[rng.random_range(0..characters.len())]))
            .collect();
        format!("{}{random}{}", self.prefix, self.suffix)
    }
}

/// A new 4-digit PIN from the thread's CSPRNG.
pub fn generate_pin() -> String {
    format!("{:04}", rand::random_range(0..10_000u32))
}

/// Where a redeemed pass's value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CreditPocket {
    Open,
    Commerce,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlanState {
    Active,
    Inactive,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassPlan {
    pub id: PassPlanId,
    pub tenant: Tenant,
    pub name: String,
    pub classification: PassClassification,
    pub value: PassValue,
    pub currency: Currency,
    pub validity: Validity,
    pub code_format: CodeFormat,
    pub credit: CreditPocket,
    pub state: PlanState,
    /// Passes issued so far: once any is, the plan's terms no longer change.
    pub passes_issued: u64,
    pub created_on: i64,
    pub updated_on: i64,
    /// A printed plan: its batch of this many passes is generated when it is first
    /// activated (appended: `PassPlanBeforePrinted` reads older plans, all electronic).
    pub printed: Option<u32>,
}

/// The layout of `PassPlan` before printed plans (a prefix of today's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassPlanBeforePrinted {
    pub id: PassPlanId,
    pub tenant: Tenant,
    pub name: String,
    pub classification: PassClassification,
    pub value: PassValue,
    pub currency: Currency,
    pub validity: Validity,
    pub code_format: CodeFormat,
    pub credit: CreditPocket,
    pub state: PlanState,
    pub passes_issued: u64,
    pub created_on: i64,
    pub updated_on: i64,
}

impl From<PassPlanBeforePrinted> for PassPlan {
    fn from(old: PassPlanBeforePrinted) -> PassPlan {
        PassPlan {
            id: old.id,
            tenant: old.tenant,
            name: old.name,
            classification: old.classification,
            value: old.value,
            currency: old.currency,
            validity: old.validity,
            code_format: old.code_format,
            credit: old.credit,
            state: old.state,
            passes_issued: old.passes_issued,
            created_on: old.created_on,
            updated_on: old.updated_on,
            printed: None,
        }
    }
}

/// Passes one printed plan's batch holds at most.
pub const PRINTED_BATCH_MAX: u32 = 5_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: {message}")]
pub struct PassError {
    pub parameter: &'static str,
    pub message: String,
}

fn bad(parameter: &'static str, message: impl Into<String>) -> PassError {
    PassError {
        parameter,
        message: message.into(),
    }
}

impl PassPlan {
    /// Checks the plan's terms: amounts positive, in the currency's minor units and at most
    /// `amount_max`; a code long enough not to be guessed.
    pub fn validate(&self, amount_max: Decimal) -> Result<(), PassError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > PLAN_NAME_CHARS_MAX || name.chars().any(char::is_control) {
            return Err(bad(
                "name",
                format!("must be 1 to {PLAN_NAME_CHARS_MAX} printable characters"),
            ));
        }
        if self.classification == PassClassification::Promotion {
            // A promotion pass holds no value: it unlocks its plan's offer on a purchase.
            if self.value != PassValue::Fixed(Decimal::ZERO) {
                return Err(bad("value", "a promotion pass holds no value: leave it out"));
            }
            if self.code_format.pin_required {
                return Err(bad("code_format.pin_required", "a promotion pass has no PIN"));
            }
        }
        let amount = |parameter: &'static str, value: Decimal| {
            if value <= Decimal::ZERO || value > amount_max {
                return Err(bad(parameter, format!("must be more than 0 and at most {amount_max}")));
            }
            if value.normalize().scale() > self.currency.minor_units() {
                return Err(bad(
                    parameter,
                    format!("has more decimals than {} allows", self.currency.code()),
                ));
            }
            Ok(())
        };
        match self.value {
            PassValue::Fixed(_) if self.classification == PassClassification::Promotion => {}
            PassValue::Fixed(value) => amount("value.fixed_amount", value)?,
            PassValue::Variable { minimum, maximum } => {
                amount("value.minimum", minimum)?;
                amount("value.maximum", maximum)?;
                if minimum > maximum {
                    return Err(bad("value.minimum", "must not be above value.maximum"));
                }
            }
        }
        if let Validity::Period { amount, .. } = self.validity {
            if amount == 0 || amount > 1_000 {
                return Err(bad("validity.period", "must be 1 to 1000"));
            }
        }
        let format = &self.code_format;
        if !(CODE_LENGTH_MIN..=CODE_LENGTH_MAX).contains(&format.length) {
            return Err(bad(
                "code_format.length",
                format!("must be {CODE_LENGTH_MIN} to {CODE_LENGTH_MAX}"),
            ));
        }
        for (parameter, affix) in [
            ("code_format.prefix", &format.prefix),
            ("code_format.suffix", &format.suffix),
        ] {
            if affix.len() > CODE_AFFIX_MAX || !affix.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(bad(
                    parameter,
                    format!("must be at most {CODE_AFFIX_MAX} letters or digits"),
                ));
            }
        }
        Ok(())
    }

    /// A pass's value under this plan: the fixed one, or `asked` within the bounds.
    pub fn value_of(&self, asked: Option<Decimal>) -> Result<Decimal, PassError> {
        match (self.value, asked) {
            (PassValue::Fixed(value), None) => Ok(value),
            (PassValue::Fixed(value), Some(asked)) if asked == value => Ok(value),
            (PassValue::Fixed(_), Some(_)) => Err(bad("pass_value", "the plan's passes have a fixed value")),
            (PassValue::Variable { .. }, None) => Err(bad("pass_value", "the plan's passes need their value")),
            (PassValue::Variable { minimum, maximum }, Some(asked)) => {
                if asked < minimum || asked > maximum || asked.normalize().scale() > self.currency.minor_units() {
                    return Err(bad("pass_value", format!("must be {minimum} to {maximum}")));
                }
                Ok(asked)
            }
        }
    }
}

/// Most uses one promotion pass may allow.
pub const PROMOTION_USES_MAX: u32 = 1_000;

/// What a PROMOTION plan's passes unlock: `offer` applies to a purchase only when the
/// purchase presents one of them, each pass at most `maximum_usage` times. Kept beside the
/// plan, under its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromotionTerms {
    pub offer: super::ids::OfferId,
    pub maximum_usage: u32,
}

/// The purchases a promotion pass unlocked its offer for (a retry of one counts once).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromotionUses {
    pub purchases: Vec<super::ids::PurchaseId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PassState {
    Inactive,
    Active,
    Redeemed,
    Cancelled,
    Expired,
}

impl PassState {
    pub fn code(self) -> &'static str {
        match self {
            PassState::Inactive => "INACTIVE",
            PassState::Active => "ACTIVE",
            PassState::Redeemed => "REDEEMED",
            PassState::Cancelled => "CANCELLED",
            PassState::Expired => "EXPIRED",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassAction {
    Activate,
    Redeem,
    Cancel,
    Expire,
}

/// Every move a pass may make; anything else is refused.
pub const TRANSITIONS: &[(PassState, PassAction, PassState)] = &[
    (PassState::Inactive, PassAction::Activate, PassState::Active),
    (PassState::Inactive, PassAction::Cancel, PassState::Cancelled),
    (PassState::Inactive, PassAction::Expire, PassState::Expired),
    (PassState::Active, PassAction::Redeem, PassState::Redeemed),
    (PassState::Active, PassAction::Cancel, PassState::Cancelled),
    (PassState::Active, PassAction::Expire, PassState::Expired),
];

/// Where `action` takes a pass in state `from` (`None`: not allowed).
pub fn transition(from: PassState, action: PassAction) -> Option<PassState> {
    TRANSITIONS
        .iter()
        .find(|(state, allowed, _)| *state == from && *allowed == action)
        .map(|(_, _, to)| *to)
}

/// Who a pass was sent to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassRecipient {
    pub name: Option<String>,
    /// EMAIL or SMS.
    pub email: bool,
    pub to: String,
}

/// Who redeemed a pass, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redemption {
    pub contact: super::ids::ContactId,
    pub wallet: super::ids::WalletId,
    pub at: i64,
    /// Where it was redeemed (the business when not said).
    pub place: super::ids::OrganisationId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pass {
    pub id: PassId,
    pub tenant: Tenant,
    pub plan: PassPlanId,
    pub classification: PassClassification,
    /// SHA-1 of the code, lowercase hex (CRM.COM's `code_hash`).
    pub code_hash: String,
    /// The code's last 4 characters, to tell passes apart.
    pub code_last4: String,
    /// SHA-256 of the pass id and the PIN, when the plan needs one.
    pub pin_hash: Option<[u8; 32]>,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub value: Decimal,
    pub currency: Currency,
    pub credit: CreditPocket,
    pub state: PassState,
    /// The last instant it may be redeemed.
    pub expires_at: Option<i64>,
    pub recipient: Option<PassRecipient>,
    pub redemption: Option<Redemption>,
    pub created_on: i64,
    pub updated_on: i64,
}

/// CRM.COM's `code_hash`: SHA-1 of the code, lowercase hex.
pub fn code_hash(code: &str) -> String {
    hex::encode(sha1::Sha1::digest(code.trim().as_bytes()))
}

/// A PIN as stored for pass `id`.
pub fn pin_hash(id: PassId, pin: &str) -> [u8; 32] {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    hasher.update(id.as_bytes());
    hasher.update(pin.as_bytes());
    hasher.finalize().into()
}

impl Pass {
    /// Whether `pin` opens the pass (one without a PIN needs none), in constant time.
    pub fn pin_matches(&self, pin: Option<&str>) -> bool {
        match (&self.pin_hash, pin) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(stored), Some(pin)) => {
                let given = pin_hash(self.id, pin);
                stored.iter().zip(given.iter()).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_of_before_printed_plans_read_as_electronic() {
        let old = PassPlanBeforePrinted {
            id: PassPlanId::random(),
            tenant: Tenant {
                organisation: crate::domain::ids::OrganisationId::random(),
                mode: crate::domain::ids::Mode::Live,
            },
            name: "Gift".into(),
            classification: PassClassification::Gift,
            value: PassValue::Fixed(Decimal::TEN),
            currency: Currency::parse("EUR").unwrap(),
            validity: Validity::Always,
            code_format: CodeFormat {
                alphabet: CodeAlphabet::Numeric,
                prefix: String::new(),
                suffix: String::new(),
                length: 10,
                pin_required: false,
            },
            credit: CreditPocket::Open,
            state: PlanState::Active,
            passes_issued: 3,
            created_on: 1,
            updated_on: 2,
        };
        let bytes = postcard::to_stdvec(&old).unwrap();
        assert!(
            postcard::from_bytes::<PassPlan>(&bytes).is_err(),
            "old bytes never pass for today's"
        );
        let read = PassPlan::from(postcard::from_bytes::<PassPlanBeforePrinted>(&bytes).unwrap());
        assert_eq!((read.printed, read.passes_issued), (None, 3));
        let mut printed = read;
        printed.printed = Some(100);
        let bytes = postcard::to_stdvec(&printed).unwrap();
        assert_eq!(postcard::from_bytes::<PassPlan>(&bytes).unwrap(), printed);
    }

    #[test]
    fn only_the_table_s_moves_are_allowed_and_final_states_stay() {
        use PassAction::*;
        use PassState::*;
        assert_eq!(transition(Inactive, Activate), Some(Active));
        assert_eq!(transition(Active, Redeem), Some(Redeemed));
        assert_eq!(
            transition(Inactive, Redeem),
            None,
            "a pass is activated before it is redeemed"
        );
        for end in [Redeemed, Cancelled, Expired] {
            for action in [Activate, Redeem, Cancel, Expire] {
                assert_eq!(transition(end, action), None, "{end:?} {action:?}");
            }
        }
    }

    #[test]
    fn codes_follow_their_format_and_differ() {
        let format = CodeFormat {
            alphabet: CodeAlphabet::Alphanumeric,
            prefix: "GIFT".into(),
            suffix: "X".into(),
            length: 12,
            pin_required: true,
        };
        let codes: std::collections::HashSet<String> = (0..1000).map(|_| format.generate()).collect();
        assert_eq!(codes.len(), 1000);
        for code in &codes {
            assert!(
                code.starts_with("GIFT") && code.ends_with('X') && code.len() == 17,
                "{code}"
            );
            assert!(code[4..16]
                .bytes()
                .all(|b| b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789".contains(&b)));
        }
        assert_eq!(code_hash("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(generate_pin().len(), 4);
    }

    #[test]
    fn pins_match_only_themselves() {
        let id = PassId::random();
        let pass = Pass {
            id,
            tenant: Tenant {
                organisation: crate::domain::ids::OrganisationId::random(),
                mode: crate::domain::ids::Mode::Live,
            },
            plan: PassPlanId::random(),
            classification: PassClassification::Gift,
            code_hash: code_hash("X"),
            code_last4: "X".into(),
            pin_hash: Some(pin_hash(id, "0420")),
            value: Decimal::TEN,
            currency: Currency::parse("EUR").unwrap(),
            credit: CreditPocket::Open,
            state: PassState::Active,
            expires_at: None,
            recipient: None,
            redemption: None,
            created_on: 0,
            updated_on: 0,
        };
        assert!(pass.pin_matches(Some("0420")));
        assert!(!pass.pin_matches(Some("0421")));
        assert!(!pass.pin_matches(None));
        let other = Pass {
            id: PassId::random(),
            ..pass.clone()
        };
        assert!(!other.pin_matches(Some("0420")), "a PIN is salted with its pass");
    }

    #[test]
    fn validity_periods_count_calendar_months() {
        // 2027-01-31 + 1 month is the last day of February.
        let jan_31 = 1_801_353_600;
        let end = Validity::Period {
            amount: 1,
            unit: ValidityUnit::Months,
        }
        .expires_at(jan_31)
        .unwrap();
        assert_eq!(end, jan_31 + 28 * 86_400);
        assert_eq!(Validity::Always.expires_at(jan_31), None);
    }
}
