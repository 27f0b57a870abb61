//! Wallet limits: rules the contact sets on how much (amount) and how often (number) its
//! wallet may move money per calendar day, week (from Monday) or month, in UTC, for debits,
//! credits, top-ups and transfers. The wallet's actor enforces them: a command that would
//! pass a rule is refused whole, naming the rule.
//!
//! What counts, per kind (`Moves::of` reads it off each event, so a replay counts alike):
//! - DEBIT: value the contact spends or sends: spends (not an instant discount taken off the
//!   purchase that earned it), funds held for estimates, transfers sent;
//! - CREDIT: value paid or sent in: transfers received and top-ups (not awards, which are
//!   the business's, nor a transfer given back, which was the wallet's own);
//! - TRANSFER: transfers sent;
//! - TOP_UP: top-ups (which are credits too).
//!
//! Value that comes back — a cancelled purchase's spend, a hold released, a transfer given
//! back — is taken off the amounts (not the counts) of the periods it comes back in.
//! Usage is kept with the wallet's state (`LimitUsage`, one bucket per kind and period).

use super::{Cause, EntryKind, WalletEvent};
use crate::domain::money::Currency;
use crate::domain::offer::schedule::period_start;
use crate::domain::offer::CapPeriod;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Most rules a wallet may have.
pub const LIMIT_RULES_MAX: usize = 20;
/// Longest rule name, in characters.
pub const LIMIT_NAME_CHARS_MAX: usize = 100;
/// The largest `maximum_number`.
pub const LIMIT_NUMBER_MAX: u32 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum LimitPeriod {
    Daily,
    Weekly,
    Monthly,
}

impl LimitPeriod {
    pub const ALL: [LimitPeriod; 3] = [LimitPeriod::Daily, LimitPeriod::Weekly, LimitPeriod::Monthly];

    pub fn code(self) -> &'static str {
        match self {
            LimitPeriod::Daily => "DAILY",
            LimitPeriod::Weekly => "WEEKLY",
            LimitPeriod::Monthly => "MONTHLY",
        }
    }

    pub fn parse(code: &str) -> Option<LimitPeriod> {
        LimitPeriod::ALL.into_iter().find(|period| period.code() == code)
    }

    /// When the period holding `at` began (UTC): days and weeks by arithmetic (every event
    /// counts), months on the calendar.
    pub fn start(self, at: i64) -> i64 {
        const DAY_S: i64 = 86_400;
        let day = at.div_euclid(DAY_S);
        match self {
            LimitPeriod::Daily => day.saturating_mul(DAY_S),
            // Day 0 (1970-01-01) was a Thursday: 3 days after a Monday.
            LimitPeriod::Weekly => (day - (day + 3).rem_euclid(7)).saturating_mul(DAY_S),
            LimitPeriod::Monthly => period_start(CapPeriod::Month, &jiff::tz::TimeZone::UTC, at),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum LimitKind {
    Debit,
    Credit,
    TopUp,
    Transfer,
}

impl LimitKind {
    pub const ALL: [LimitKind; 4] = [
        LimitKind::Debit,
        LimitKind::Credit,
        LimitKind::TopUp,
        LimitKind::Transfer,
    ];

    pub fn code(self) -> &'static str {
        match self {
            LimitKind::Debit => "DEBIT",
            LimitKind::Credit => "CREDIT",
            LimitKind::TopUp => "TOP_UP",
            LimitKind::Transfer => "TRANSFER",
        }
    }

    pub fn parse(code: &str) -> Option<LimitKind> {
        LimitKind::ALL.into_iter().find(|kind| kind.code() == code)
    }
}

/// One rule: at most `maximum_number` transactions and `maximum_amount` in total of the
/// kinds in `applies_for`, per `period`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitRule {
    pub id: uuid::Uuid,
    pub name: String,
    pub maximum_number: Option<u32>,
    #[serde(with = "crate::domain::money::exact_option_decimal")]
    pub maximum_amount: Option<Decimal>,
    pub period: LimitPeriod,
    pub applies_for: Vec<LimitKind>,
}

/// A wallet's rules (none: no limits).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletLimits {
    pub rules: Vec<LimitRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: {message}")]
pub struct LimitError {
    pub parameter: String,
    pub message: String,
}

/// A rule a command would pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitHit {
    pub rule: String,
    pub period: LimitPeriod,
    pub kind: LimitKind,
    /// The number of transactions was the limit (else the amount).
    pub by_number: bool,
}

impl std::fmt::Display for LimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the wallet limit '{}' ({} {} {}) would be passed",
            self.rule,
            self.period.code(),
            self.kind.code(),
            if self.by_number {
                "maximum_number"
            } else {
                "maximum_amount"
            }
        )
    }
}

impl WalletLimits {
    /// Checks the rules on their own and against each other: names unique and printable,
    /// at least one maximum each, amounts in `currency`'s minor units and at most
    /// `amount_max`, and no shorter period allowing more than a longer one of a kind they
    /// share (a daily limit above the monthly one).
    pub fn validate(&self, currency: Currency, amount_max: Decimal) -> Result<(), LimitError> {
        let bad = |index: usize, field: &str, message: String| LimitError {
            parameter: format!("limit_rules[{index}].{field}"),
            message,
        };
        if self.rules.len() > LIMIT_RULES_MAX {
            return Err(LimitError {
                parameter: "limit_rules".into(),
                message: format!("at most {LIMIT_RULES_MAX} rules"),
            });
        }
        let mut names = BTreeSet::new();
        for (index, rule) in self.rules.iter().enumerate() {
            let name = rule.name.trim();
            if name.is_empty() || name.chars().count() > LIMIT_NAME_CHARS_MAX || name.chars().any(char::is_control) {
                return Err(bad(
                    index,
                    "name",
                    format!("must be 1 to {LIMIT_NAME_CHARS_MAX} printable characters"),
                ));
            }
            if !names.insert(name.to_lowercase()) {
                return Err(bad(index, "name", "is used by another rule".into()));
            }
            if rule.maximum_number.is_none() && rule.maximum_amount.is_none() {
                return Err(bad(
                    index,
                    "maximum_amount",
                    "a rule needs maximum_number, maximum_amount or both".into(),
                ));
            }
            if rule.maximum_number.is_some_and(|number| number > LIMIT_NUMBER_MAX) {
                return Err(bad(index, "maximum_number", format!("must be 0 to {LIMIT_NUMBER_MAX}")));
            }
            if let Some(amount) = rule.maximum_amount {
                if amount.is_sign_negative() || amount > amount_max {
                    return Err(bad(index, "maximum_amount", format!("must be 0 to {amount_max}")));
                }
                if amount.normalize().scale() > currency.minor_units() {
                    return Err(bad(
                        index,
                        "maximum_amount",
                        format!("has more decimals than {} allows", currency.code()),
                    ));
                }
            }
            let kinds: BTreeSet<LimitKind> = rule.applies_for.iter().copied().collect();
            if kinds.is_empty() || kinds.len() != rule.applies_for.len() {
                return Err(bad(
                    index,
                    "applies_for",
                    "must name each of DEBIT, CREDIT, TOP_UP, TRANSFER at most once, and at least one".into(),
                ));
            }
        }
        for (index, short) in self.rules.iter().enumerate() {
            for long in self.rules.iter().filter(|long| long.period > short.period) {
                if !short.applies_for.iter().any(|kind| long.applies_for.contains(kind)) {
                    continue;
                }
                let above = |a: Option<Decimal>, b: Option<Decimal>| matches!((a, b), (Some(a), Some(b)) if a > b);
                let number = |value: Option<u32>| value.map(Decimal::from);
                if above(short.maximum_amount, long.maximum_amount) {
                    return Err(bad(
                        index,
                        "maximum_amount",
                        format!(
                            "a {} limit above the {} one of '{}'",
                            short.period.code(),
                            long.period.code(),
                            long.name
                        ),
                    ));
                }
                if above(number(short.maximum_number), number(long.maximum_number)) {
                    return Err(bad(
                        index,
                        "maximum_number",
                        format!(
                            "a {} limit above the {} one of '{}'",
                            short.period.code(),
                            long.period.code(),
                            long.name
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Whether moving `moves` at `now` keeps every rule, given what `usage` counted so far.
    pub fn admits(&self, usage: &LimitUsage, now: i64, moves: &Moves) -> Result<(), LimitHit> {
        for rule in &self.rules {
            for &kind in &rule.applies_for {
                let amount = moves.of_kind(kind);
                if amount <= Decimal::ZERO {
                    continue;
                }
                let (used_amount, used_number) = usage.used(kind, rule.period, now);
                let hit = |by_number| LimitHit {
                    rule: rule.name.clone(),
                    period: rule.period,
                    kind,
                    by_number,
                };
                if rule
                    .maximum_number
                    .is_some_and(|max| used_number.saturating_add(1) > max)
                {
                    return Err(hit(true));
                }
                if rule
                    .maximum_amount
                    .is_some_and(|max| used_amount.checked_add(amount).is_none_or(|after| after > max))
                {
                    return Err(hit(false));
                }
            }
        }
        Ok(())
    }

    /// What of `kind` may still move at `now`: the least any rule on it leaves (`None`: no
    /// rule limits the amount) and whether one more transaction is allowed.
    pub fn allowance(&self, usage: &LimitUsage, now: i64, kind: LimitKind) -> (Option<Decimal>, bool) {
        let mut amount: Option<Decimal> = None;
        let mut another = true;
        for rule in self.rules.iter().filter(|rule| rule.applies_for.contains(&kind)) {
            let (used_amount, used_number) = usage.used(kind, rule.period, now);
            if rule.maximum_number.is_some_and(|max| used_number >= max) {
                another = false;
            }
            if let Some(max) = rule.maximum_amount {
                let left = (max - used_amount).max(Decimal::ZERO);
                amount = Some(amount.map_or(left, |amount| amount.min(left)));
            }
        }
        (amount, another)
    }
}

/// What one event moves, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moves {
    pub debit: Decimal,
    pub credit: Decimal,
    pub top_up: Decimal,
    pub transfer: Decimal,
    /// Debited value that came back (spends reversed, holds released, transfers returned).
    pub debit_back: Decimal,
    /// Sent value that came back (transfers returned).
    pub transfer_back: Decimal,
}

impl Moves {
    pub fn of_kind(&self, kind: LimitKind) -> Decimal {
        match kind {
            LimitKind::Debit => self.debit,
            LimitKind::Credit => self.credit,
            LimitKind::TopUp => self.top_up,
            LimitKind::Transfer => self.transfer,
        }
    }

    /// What `event` moves (see the module's notes).
    pub fn of(event: &WalletEvent) -> Moves {
        let mut moves = Moves::default();
        let add = |sum: &mut Decimal, amount: Decimal| *sum = sum.saturating_add(amount);
        // An instant discount spends a lot the same event opened. A purchase's spends come
        // from lots it found, its awards open lots with ids above all of those: a spend of a
        // lot at or above the first one opened is an instant discount. No allocation: every
        // event comes here.
        let first_opened = if matches!(event.cause, Cause::Purchase(_)) {
            event
                .entries
                .iter()
                .filter(|entry| entry.new_lot.is_some())
                .map(|entry| entry.lot)
                .min()
                .unwrap_or(super::LotId::MAX)
        } else {
            super::LotId::MAX
        };
        for entry in &event.entries {
            match entry.kind {
                EntryKind::Spend if entry.lot < first_opened => add(&mut moves.debit, entry.amount),
                EntryKind::Hold => add(&mut moves.debit, entry.amount),
                EntryKind::TransferOut => {
                    add(&mut moves.debit, entry.amount);
                    add(&mut moves.transfer, entry.amount);
                }
                EntryKind::TransferIn => match event.cause {
                    Cause::TransferReceived(_) => add(&mut moves.credit, entry.amount),
                    Cause::TransferReturned(_) => {
                        add(&mut moves.debit_back, entry.amount);
                        add(&mut moves.transfer_back, entry.amount);
                    }
                    _ => {}
                },
                EntryKind::SpendReversal | EntryKind::HoldRelease => add(&mut moves.debit_back, entry.amount),
                EntryKind::TopUp => {
                    add(&mut moves.top_up, entry.amount);
                    add(&mut moves.credit, entry.amount);
                }
                EntryKind::PassRedemption => add(&mut moves.credit, entry.amount),
                EntryKind::Payout => add(&mut moves.debit, entry.amount),
                EntryKind::PayoutReturn => add(&mut moves.debit_back, entry.amount),
                EntryKind::BillPayment => add(&mut moves.debit, entry.amount),
                EntryKind::BillCredit => add(&mut moves.credit, entry.amount),
                _ => {}
            }
        }
        moves
    }
}

/// Counted so far in one kind's current period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Bucket {
    kind: LimitKind,
    period: LimitPeriod,
    start: i64,
    #[serde(with = "crate::domain::money::exact_decimal")]
    amount: Decimal,
    number: u32,
}

/// What the wallet moved per kind in the current day, week and month.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitUsage {
    buckets: Vec<Bucket>,
}

impl LimitUsage {
    /// Counts what an event moved at `at`; a bucket of an earlier period starts again, an
    /// event dated before a bucket's period (a clock set back) is not counted in it.
    pub fn record(&mut self, at: i64, moves: &Moves) {
        for (kind, back) in [
            (LimitKind::Debit, moves.debit_back),
            (LimitKind::Transfer, moves.transfer_back),
        ] {
            if back > Decimal::ZERO {
                for bucket in self.buckets.iter_mut().filter(|bucket| bucket.kind == kind) {
                    if bucket.period.start(at) == bucket.start {
                        bucket.amount = (bucket.amount - back.min(bucket.amount)).max(Decimal::ZERO);
                    }
                }
            }
        }
        for kind in LimitKind::ALL {
            let amount = moves.of_kind(kind);
            if amount <= Decimal::ZERO {
                continue;
            }
            for period in LimitPeriod::ALL {
                let start = period.start(at);
                let bucket = match self
                    .buckets
                    .iter_mut()
                    .find(|bucket| bucket.kind == kind && bucket.period == period)
                {
                    Some(bucket) => bucket,
                    None => {
                        self.buckets.push(Bucket {
                            kind,
                            period,
                            start,
                            amount: Decimal::ZERO,
                            number: 0,
                        });
                        self.buckets.last_mut().expect("just pushed")
                    }
                };
                if start > bucket.start {
                    *bucket = Bucket {
                        start,
                        amount: Decimal::ZERO,
                        number: 0,
                        ..*bucket
                    };
                }
                if start == bucket.start {
                    bucket.amount = bucket.amount.saturating_add(amount);
                    bucket.number = bucket.number.saturating_add(1);
                }
            }
        }
    }

    /// What was moved of `kind` in the `period` holding `now`: (amount, number).
    pub fn used(&self, kind: LimitKind, period: LimitPeriod, now: i64) -> (Decimal, u32) {
        let start = period.start(now);
        self.buckets
            .iter()
            .find(|bucket| bucket.kind == kind && bucket.period == period && bucket.start == start)
            .map_or((Decimal::ZERO, 0), |bucket| (bucket.amount, bucket.number))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn rule(
        name: &str,
        period: LimitPeriod,
        number: Option<u32>,
        amount: Option<&str>,
        kinds: &[LimitKind],
    ) -> LimitRule {
        LimitRule {
            id: uuid::Uuid::new_v4(),
            name: name.into(),
            maximum_number: number,
            maximum_amount: amount.map(d),
            period,
            applies_for: kinds.to_vec(),
        }
    }

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    /// Monday 2027-03-01 00:00 UTC.
    const MONDAY: i64 = 1_803_859_200;
    const DAY: i64 = 86_400;

    fn debit(amount: &str) -> Moves {
        Moves {
            debit: d(amount),
            ..Moves::default()
        }
    }

    #[test]
    fn periods_start_at_utc_midnight_monday_and_the_first() {
        assert_eq!(LimitPeriod::Daily.start(MONDAY + 3 * DAY + 5), MONDAY + 3 * DAY);
        assert_eq!(LimitPeriod::Weekly.start(MONDAY + 6 * DAY + 86_399), MONDAY);
        assert_eq!(LimitPeriod::Weekly.start(MONDAY + 7 * DAY), MONDAY + 7 * DAY);
        assert_eq!(LimitPeriod::Monthly.start(MONDAY + 30 * DAY), MONDAY);
        // April the 1st.
        assert_eq!(LimitPeriod::Monthly.start(MONDAY + 31 * DAY + 7), MONDAY + 31 * DAY);
        assert_eq!(LimitPeriod::Monthly.start(MONDAY - 1), MONDAY - 28 * DAY);
    }

    #[test]
    fn limits_hold_at_their_edges_and_reset_with_the_period() {
        let limits = WalletLimits {
            rules: vec![
                rule("Daily", LimitPeriod::Daily, Some(3), Some("10.00"), &[LimitKind::Debit]),
                rule("Monthly", LimitPeriod::Monthly, None, Some("25"), &[LimitKind::Debit]),
            ],
        };
        limits.validate(eur(), d("1000000")).unwrap();
        let mut usage = LimitUsage::default();
        let now = MONDAY + 10;
        // Exactly the daily amount is allowed; a cent more is not.
        assert!(limits.admits(&usage, now, &debit("10.00")).is_ok());
        assert_eq!(limits.admits(&usage, now, &debit("10.01")).unwrap_err().rule, "Daily");
        usage.record(now, &debit("4"));
        usage.record(now, &debit("4"));
        assert_eq!(limits.allowance(&usage, now, LimitKind::Debit), (Some(d("2")), true));
        assert!(limits.admits(&usage, now, &debit("2")).is_ok());
        usage.record(now, &debit("1"));
        // The third transaction was the last of the day, whatever its amount.
        let hit = limits.admits(&usage, now, &debit("0.01")).unwrap_err();
        assert!(hit.by_number && hit.rule == "Daily", "{hit}");
        assert_eq!(limits.allowance(&usage, now, LimitKind::Debit), (Some(d("1")), false));
        // Credits are not limited by a debit rule.
        let credit = Moves {
            credit: d("500"),
            ..Moves::default()
        };
        assert!(limits.admits(&usage, now, &credit).is_ok());
        // The next day the daily rule starts again; the monthly one still counts 9.
        let tomorrow = now + DAY;
        assert_eq!(
            limits.allowance(&usage, tomorrow, LimitKind::Debit),
            (Some(d("10")), true)
        );
        usage.record(tomorrow, &debit("10"));
        usage.record(tomorrow + DAY, &debit("6"));
        assert_eq!(
            limits.admits(&usage, tomorrow + DAY, &debit("0.01")).unwrap_err().rule,
            "Monthly"
        );
        // An event dated before the bucket's day (a clock set back) is not counted in that
        // day, only in the month it falls in.
        usage.record(now, &debit("100"));
        assert_eq!(
            usage.used(LimitKind::Debit, LimitPeriod::Daily, tomorrow + DAY),
            (d("6"), 1)
        );
        assert_eq!(usage.used(LimitKind::Debit, LimitPeriod::Monthly, now), (d("125"), 6));
    }

    #[test]
    fn inconsistent_or_malformed_rules_are_refused() {
        let check = |rules: Vec<LimitRule>| WalletLimits { rules }.validate(eur(), d("1000000"));
        let debit = [LimitKind::Debit];
        let above = check(vec![
            rule("Day", LimitPeriod::Daily, None, Some("50"), &debit),
            rule("Month", LimitPeriod::Monthly, None, Some("40"), &debit),
        ]);
        assert_eq!(above.unwrap_err().parameter, "limit_rules[0].maximum_amount");
        let more_often = check(vec![
            rule(
                "Week",
                LimitPeriod::Weekly,
                Some(8),
                None,
                &[LimitKind::Transfer, LimitKind::Debit],
            ),
            rule("Month", LimitPeriod::Monthly, Some(7), None, &debit),
        ]);
        assert_eq!(more_often.unwrap_err().parameter, "limit_rules[0].maximum_number");
        // Different kinds do not constrain each other.
        assert!(check(vec![
            rule("Day", LimitPeriod::Daily, None, Some("50"), &[LimitKind::Credit]),
            rule("Month", LimitPeriod::Monthly, None, Some("40"), &debit),
        ])
        .is_ok());
        for bad in [
            vec![rule("", LimitPeriod::Daily, Some(1), None, &debit)],
            vec![rule("a\u{1b}", LimitPeriod::Daily, Some(1), None, &debit)],
            vec![rule("x", LimitPeriod::Daily, None, None, &debit)],
            vec![rule("x", LimitPeriod::Daily, None, Some("-1"), &debit)],
            vec![rule("x", LimitPeriod::Daily, None, Some("1.001"), &debit)],
            vec![rule("x", LimitPeriod::Daily, None, Some("1000000.01"), &debit)],
            vec![rule("x", LimitPeriod::Daily, Some(LIMIT_NUMBER_MAX + 1), None, &debit)],
            vec![rule("x", LimitPeriod::Daily, Some(1), None, &[])],
            vec![rule(
                "x",
                LimitPeriod::Daily,
                Some(1),
                None,
                &[LimitKind::Debit, LimitKind::Debit],
            )],
            vec![
                rule("Same", LimitPeriod::Daily, Some(1), None, &debit),
                rule("same", LimitPeriod::Weekly, Some(2), None, &debit),
            ],
            (0..=LIMIT_RULES_MAX)
                .map(|i| rule(&format!("r{i}"), LimitPeriod::Daily, Some(1), None, &debit))
                .collect(),
        ] {
            assert!(check(bad.clone()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn value_that_comes_back_is_taken_off_the_amount_not_the_count() {
        let mut usage = LimitUsage::default();
        let now = MONDAY + 100;
        usage.record(now, &debit("10"));
        let back = Moves {
            debit_back: d("4"),
            ..Moves::default()
        };
        usage.record(now + 5, &back);
        assert_eq!(usage.used(LimitKind::Debit, LimitPeriod::Daily, now), (d("6"), 1));
        // Never below zero, and a bucket of another period is left alone.
        usage.record(
            now + 6,
            &Moves {
                debit_back: d("100"),
                ..Moves::default()
            },
        );
        assert_eq!(usage.used(LimitKind::Debit, LimitPeriod::Monthly, now), (d("0"), 1));
    }

    #[test]
    fn an_instant_discount_is_not_a_debit_but_the_purchase_s_own_spend_is() {
        use crate::domain::ids::{OfferId, PurchaseId};
        use crate::domain::wallet::{AwardGrant, AwardRoute, Posting, SaleScope, SpendRequest, Wallet};
        let mut wallet = Wallet::for_tests();
        let max = d("1000000");
        let grant = |amount: &str| AwardGrant {
            offer_id: OfferId::random(),
            amount: d(amount),
            expires_at: None,
        };
        wallet
            .post_purchase(MONDAY, PurchaseId::random(), None, &[grant("10")], max)
            .unwrap();
        let awards = [grant("3"), grant("1")];
        let routes = [AwardRoute::Instant, AwardRoute::Wallet];
        let posting = Posting {
            purchase: PurchaseId::random(),
            spend: Some(SpendRequest {
                amount: d("2"),
                restrict_fully_covered: true,
            }),
            sale: SaleScope::UNKNOWN,
            awards: &awards,
            routes: &routes,
        };
        let (event, _) = wallet.post_purchase_with(MONDAY + 1, posting, max).unwrap();
        assert_eq!(Moves::of(&event).debit, d("2"), "{event:?}");
        assert_eq!(
            wallet.limit_usage().used(LimitKind::Debit, LimitPeriod::Daily, MONDAY),
            (d("2"), 1)
        );
    }

    #[test]
    fn usage_is_rebuilt_by_replay_and_older_snapshots_read_with_none() {
        use crate::domain::ids::{OfferId, PurchaseId};
        use crate::domain::wallet::{AwardGrant, SpendRequest, Wallet};
        use crate::storage::codec::{decode, encode};
        let mut live = Wallet::for_tests();
        let start = live.clone();
        let max = d("1000000");
        let award = [AwardGrant {
            offer_id: OfferId::random(),
            amount: d("50"),
            expires_at: None,
        }];
        let (earned, _) = live
            .post_purchase(MONDAY, PurchaseId::random(), None, &award, max)
            .unwrap();
        let spend = SpendRequest {
            amount: d("12.50"),
            restrict_fully_covered: true,
        };
        let (spent, _) = live
            .post_purchase(MONDAY + 10, PurchaseId::random(), Some(spend), &[], max)
            .unwrap();
        // The award is not a debit; the spend is.
        assert_eq!(
            live.limit_usage().used(LimitKind::Debit, LimitPeriod::Daily, MONDAY),
            (d("12.50"), 1)
        );
        let mut replayed = start;
        replayed.replay(&earned).unwrap();
        replayed.replay(&spent).unwrap();
        assert_eq!(replayed.limit_usage(), live.limit_usage());

        let old = WalletBeforeLimits {
            header: live.header.clone(),
            lots: live.lots.clone(),
            shortfall: live.shortfall,
            next_lot_id: live.next_lot_id,
            next_seq: live.next_seq,
            holds: live.holds.clone(),
            pools: live.pools.clone(),
            pool_ids: live.pool_ids.clone(),
        };
        let bytes = encode(&old);
        assert!(decode::<Wallet>(&bytes).is_err());
        let read = crate::storage::decode_wallet(&bytes).unwrap();
        assert_eq!(read.limit_usage(), &LimitUsage::default());
        assert_eq!(read.lots, live.lots);
        assert_eq!(read.next_seq, live.next_seq);
    }
}

/// A wallet snapshot's layout before limit usage (a prefix of today's): nothing counted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WalletBeforeLimits {
    header: super::WalletHeader,
    lots: std::collections::BTreeMap<super::LotId, super::Lot>,
    #[serde(with = "crate::domain::money::exact_decimal")]
    shortfall: Decimal,
    next_lot_id: super::LotId,
    next_seq: u64,
    holds: std::collections::BTreeMap<crate::domain::ids::EstimateId, super::HeldFunds>,
    pools: std::collections::BTreeMap<super::LotId, std::sync::Arc<crate::domain::offer::SpendConditions>>,
    pool_ids: std::collections::BTreeMap<super::LotId, crate::domain::ids::CommercePoolId>,
}

impl From<WalletBeforeLimits> for super::Wallet {
    fn from(old: WalletBeforeLimits) -> super::Wallet {
        super::Wallet {
            lots: old.lots,
            shortfall: old.shortfall,
            next_lot_id: old.next_lot_id,
            next_seq: old.next_seq,
            holds: old.holds,
            pools: old.pools,
            pool_ids: old.pool_ids,
            ..super::Wallet::open(old.header)
        }
    }
}
