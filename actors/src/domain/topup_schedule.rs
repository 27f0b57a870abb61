//! A wallet's automatic top-ups, as its contact opts in to them (none until then):
//!
//! - **Auto top-up**: when a debit takes the wallet's balance to `threshold` or below, top
//!   it up with `amount` from one of the contact's payment methods. The amount must be more
//!   than the threshold, so the top-up itself lifts the balance clear of it and a success
//!   never triggers another; a declined one is tried again only at the next debit.
//! - **Termed top-up**: top up `amount` at each occurrence of a Quartz cron expression
//!   (`frequency`, UTC), at most once a day; an occurrence missed while the engine was
//!   down is made up once, not once per missed occurrence.
//!
//! The wallet's actor owns these settings. When one is due it writes an entry into the
//! scheduler's index (`ScheduledTopUp`); the scheduler asks the actor to begin the top-up,
//! which records it pending and moves the settings on in one commit, so each due entry
//! begins one top-up at most however the engine stops.

use super::ids::{PaymentMethodId, Tenant, TopUpId, WalletId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The closest two occurrences of a termed top-up may be.
pub const TERMED_GAP_MIN_S: i64 = 24 * 60 * 60;
/// How many occurrences ahead a frequency is checked for that gap.
const TERMED_GAP_CHECKED: usize = 400;
/// Longest frequency expression, in characters.
pub const FREQUENCY_MAX: usize = 120;

/// What the contact asked for, as the wallet keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopUpSettings {
    pub auto: Option<AutoTopUp>,
    pub termed: Option<TermedTopUp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoTopUp {
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub threshold: Decimal,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub amount: Decimal,
    pub payment_method: PaymentMethodId,
    /// Set when a debit reached the threshold: the scheduler's entry, until the top-up is
    /// begun.
    pub due: Option<i64>,
    /// The auto top-up begun last: while it is pending, further debits begin no other.
    pub last: Option<TopUpId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermedTopUp {
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub amount: Decimal,
    /// The Quartz cron expression, as given.
    pub frequency: String,
    pub period: Option<TopUpPeriod>,
    pub payment_method: PaymentMethodId,
    /// The next occurrence (epoch seconds): the scheduler's entry.
    pub next_due: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TopUpPeriod {
    Daily,
    Weekly,
    Monthly,
}

impl TopUpPeriod {
    pub const ALL: [TopUpPeriod; 3] = [TopUpPeriod::Daily, TopUpPeriod::Weekly, TopUpPeriod::Monthly];

    pub fn code(self) -> &'static str {
        match self {
            TopUpPeriod::Daily => "DAILY",
            TopUpPeriod::Weekly => "WEEKLY",
            TopUpPeriod::Monthly => "MONTHLY",
        }
    }

    pub fn parse(code: &str) -> Option<TopUpPeriod> {
        TopUpPeriod::ALL.into_iter().find(|period| period.code() == code)
    }
}

/// Which of a wallet's settings a scheduler entry is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ScheduledKind {
    Auto,
    Termed,
}

impl ScheduledKind {
    pub fn byte(self) -> u8 {
        match self {
            ScheduledKind::Auto => 0,
            ScheduledKind::Termed => 1,
        }
    }

    /// What a top-up it begins says in its notes.
    pub fn note(self) -> &'static str {
        match self {
            ScheduledKind::Auto => "auto top-up",
            ScheduledKind::Termed => "termed top-up",
        }
    }
}

/// An entry of the scheduler's index: a wallet's top-up due at `due`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledTopUp {
    pub due: i64,
    pub tenant: Tenant,
    pub wallet: WalletId,
    pub kind: ScheduledKind,
}

impl TopUpSettings {
    /// The scheduler's entries these settings call for.
    pub fn entries(&self, tenant: Tenant, wallet: WalletId) -> Vec<ScheduledTopUp> {
        let auto = self.auto.as_ref().and_then(|auto| auto.due).map(|due| ScheduledTopUp {
            due,
            tenant,
            wallet,
            kind: ScheduledKind::Auto,
        });
        let termed = self.termed.as_ref().map(|termed| ScheduledTopUp {
            due: termed.next_due,
            tenant,
            wallet,
            kind: ScheduledKind::Termed,
        });
        auto.into_iter().chain(termed).collect()
    }

    /// The payment methods these settings charge.
    pub fn methods(&self) -> impl Iterator<Item = PaymentMethodId> + '_ {
        let auto = self.auto.as_ref().map(|auto| auto.payment_method);
        let termed = self.termed.as_ref().map(|termed| termed.payment_method);
        auto.into_iter().chain(termed)
    }

    /// Whether `kind`'s entry at `due` is still the one these settings call for (a stale
    /// entry, from settings changed since, begins nothing).
    pub fn is_due(&self, kind: ScheduledKind, due: i64) -> bool {
        match kind {
            ScheduledKind::Auto => self.auto.as_ref().is_some_and(|auto| auto.due == Some(due)),
            ScheduledKind::Termed => self.termed.as_ref().is_some_and(|termed| termed.next_due == due),
        }
    }
}

/// A termed top-up's frequency: a Quartz cron expression (seconds, minutes, hours, day of
/// month, month, day of week, optional year; `?`, `L`, `W` and `#` as Quartz has them,
/// Sunday = 1), evaluated in UTC.
#[derive(Debug, Clone)]
pub struct Frequency(croner::Cron);

impl Frequency {
    /// Parses `expression`, refusing one that never occurs after `now` or whose occurrences
    /// come closer than a day apart.
    pub fn parse(expression: &str, now: i64) -> Result<Frequency, String> {
        if expression.chars().count() > FREQUENCY_MAX || expression.chars().any(char::is_control) {
            return Err(format!(
                "must be a cron expression of at most {FREQUENCY_MAX} characters"
            ));
        }
        let cron = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Required)
            .alternative_weekdays(true)
            .build()
            .parse(expression)
            .map_err(|error| format!("is not a Quartz cron expression ({error}), e.g. \"0 0 12 * * ?\""))?;
        let frequency = Frequency(cron);
        let mut previous = frequency
            .next_after(now)
            .ok_or_else(|| "never occurs again".to_string())?;
        for _ in 0..TERMED_GAP_CHECKED {
            let Some(next) = frequency.next_after(previous) else {
                break;
            };
            if next - previous < TERMED_GAP_MIN_S {
                return Err("occurs more often than once a day; a termed top-up is at most daily".into());
            }
            previous = next;
        }
        Ok(frequency)
    }

    /// The first occurrence strictly after `after` (epoch seconds), if any.
    pub fn next_after(&self, after: i64) -> Option<i64> {
        let start = chrono::DateTime::<chrono::Utc>::from_timestamp(after, 0)?;
        self.0
            .find_next_occurrence(&start, false)
            .ok()
            .map(|next| next.timestamp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-02T10:00:00Z, a Wednesday.
    const NOW: i64 = 1_796_205_600;

    fn next(expression: &str) -> i64 {
        Frequency::parse(expression, NOW).unwrap().next_after(NOW).unwrap()
    }

    #[test]
    fn quartz_expressions_occur_in_utc() {
        // The contract's example: noon every day.
        assert_eq!(next("0 0 12 * * ?"), NOW + 2 * 3600);
        // Every Monday at noon (Quartz: MON, or 2 with Sunday = 1).
        let monday = NOW + 5 * 86_400 + 2 * 3600;
        assert_eq!(next("0 0 12 ? * MON"), monday);
        assert_eq!(next("0 0 12 ? * 2"), monday);
        // The first of the month at 09:30 (the next is January the first).
        assert_eq!(next("0 30 9 1 * ?"), 1_798_795_800);
        // The last day of the month.
        assert_eq!(next("0 0 0 L * ?"), 1_798_675_200);
    }

    #[test]
    fn bad_frequencies_are_refused() {
        for (expression, why) in [
            ("", "Quartz"),
            ("0 12 * * ?", "Quartz"),
            ("0 0 25 * * ?", "Quartz"),
            ("banana", "Quartz"),
            ("0 0 12 ? * 9", "Quartz"),
            ("* * * * * ?", "once a day"),
            ("0 0 * * * ?", "once a day"),
            ("0 0 12,13 * * ?", "once a day"),
            ("0 0 12 * * ? 2020", "never"),
            ("0 0 12 31 2 ?", "never"),
        ] {
            let refused = Frequency::parse(expression, NOW).unwrap_err();
            assert!(refused.contains(why), "{expression}: {refused}");
        }
        assert!(Frequency::parse(&"0 ".repeat(100), NOW).is_err());
        assert!(Frequency::parse("0 0 12 * * ?\n", NOW).is_err());
    }

    #[test]
    fn settings_name_their_entries_and_methods() {
        let tenant = Tenant {
            organisation: crate::domain::ids::OrganisationId::random(),
            mode: crate::domain::ids::Mode::Live,
        };
        let wallet = WalletId::random();
        let method = PaymentMethodId::random();
        let mut settings = TopUpSettings {
            auto: Some(AutoTopUp {
                threshold: Decimal::ONE,
                amount: Decimal::TEN,
                payment_method: method,
                due: None,
                last: None,
            }),
            termed: Some(TermedTopUp {
                amount: Decimal::TEN,
                frequency: "0 0 12 * * ?".into(),
                period: None,
                payment_method: method,
                next_due: NOW,
            }),
        };
        assert_eq!(settings.entries(tenant, wallet).len(), 1);
        assert!(settings.is_due(ScheduledKind::Termed, NOW));
        assert!(!settings.is_due(ScheduledKind::Termed, NOW + 1));
        assert!(!settings.is_due(ScheduledKind::Auto, NOW));
        settings.auto.as_mut().unwrap().due = Some(NOW);
        assert_eq!(settings.entries(tenant, wallet).len(), 2);
        assert!(settings.is_due(ScheduledKind::Auto, NOW));
        assert_eq!(settings.methods().count(), 2);
    }
}
