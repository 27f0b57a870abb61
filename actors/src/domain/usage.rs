//! Usage allowances: a termed service's product may come with allowances of usage products
//! (data, minutes, visits), each bounded per transaction, per day (UTC) and per billing
//! cycle of the subscription. Usage is authorised while it fits every bound, and recorded
//! against them; what a service used this cycle and today is tallied on its subscription.

use super::ids::{
    ContactId, OrganisationId, ProductId, ServiceId, SubscriptionId, Tenant, UsageEstimateId, UsageRecordId,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Most allowances one product carries.
pub const ALLOWANCES_MAX: usize = 20;
/// The largest bound or amount of usage, in the usage product's units.
pub const USAGE_MAX: i64 = 1_000_000_000;
/// Most usage lines one authorisation asks for.
pub const USAGE_LINES_MAX: usize = 20;

/// One usage product a service allows, and its bounds (`None`: unbounded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allowance {
    pub product: ProductId,
    pub sku: String,
    pub name: String,
    #[serde(with = "crate::domain::money::exact_option_decimal")]
    pub per_transaction: Option<Decimal>,
    #[serde(with = "crate::domain::money::exact_option_decimal")]
    pub per_day: Option<Decimal>,
    #[serde(with = "crate::domain::money::exact_option_decimal")]
    pub per_cycle: Option<Decimal>,
}

/// The allowances of a termed service's product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductAllowances {
    pub product: ProductId,
    pub allowances: Vec<Allowance>,
    pub updated_on: i64,
}

/// What a service used of one usage product this cycle and today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageTally {
    pub service: ServiceId,
    pub product: ProductId,
    pub cycle_start: i64,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub cycle_used: Decimal,
    pub day_start: i64,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub day_used: Decimal,
}

impl UsageTally {
    /// Used within the cycle and the day that start at `cycle_start` and `day_start`
    /// (an older tally counts nothing).
    pub fn used(tally: Option<&UsageTally>, cycle_start: i64, day_start: i64) -> (Decimal, Decimal) {
        match tally {
            None => (Decimal::ZERO, Decimal::ZERO),
            Some(tally) => (
                if tally.cycle_start == cycle_start {
                    tally.cycle_used
                } else {
                    Decimal::ZERO
                },
                if tally.day_start == day_start {
                    tally.day_used
                } else {
                    Decimal::ZERO
                },
            ),
        }
    }
}

/// What is left of an allowance (`None`: unbounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Remaining {
    pub per_transaction: Option<Decimal>,
    pub per_day: Option<Decimal>,
    pub per_cycle: Option<Decimal>,
}

impl Remaining {
    pub fn of(allowance: &Allowance, (cycle_used, day_used): (Decimal, Decimal)) -> Remaining {
        let left = |bound: Option<Decimal>, used: Decimal| bound.map(|b| (b - used).max(Decimal::ZERO));
        Remaining {
            per_transaction: allowance.per_transaction,
            per_day: left(allowance.per_day, day_used),
            per_cycle: left(allowance.per_cycle, cycle_used),
        }
    }

    /// Whether `amount` fits every bound.
    pub fn allows(&self, amount: Decimal) -> bool {
        [self.per_transaction, self.per_day, self.per_cycle]
            .into_iter()
            .flatten()
            .all(|left| amount <= left)
    }
}

/// The start of the UTC day holding `moment`.
pub fn day_start(moment: i64) -> i64 {
    moment.div_euclid(86_400) * 86_400
}

/// Usage consumed against a service's allowance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRecord {
    pub id: UsageRecordId,
    pub tenant: Tenant,
    pub contact: ContactId,
    pub subscription: SubscriptionId,
    pub service: ServiceId,
    pub service_sku: String,
    pub service_name: String,
    pub product: ProductId,
    pub sku: String,
    pub name: String,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub amount: Decimal,
    pub at: i64,
    /// The authorisation that recorded it.
    pub estimate: UsageEstimateId,
    pub organisation: Option<OrganisationId>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn usage_fits_every_bound_left() {
        let allowance = Allowance {
            product: ProductId::random(),
            sku: "DATA".into(),
            name: "Data".into(),
            per_transaction: Some(d("100")),
            per_day: Some(d("250")),
            per_cycle: Some(d("1000")),
        };
        // (cycle used, day used, amount, allowed)
        let table = [
            ("0", "0", "100", true),
            ("0", "0", "100.5", false),
            ("0", "200", "50", true),
            ("0", "200", "51", false),
            ("950", "0", "50", true),
            ("950", "0", "60", false),
            ("1200", "0", "1", false),
        ];
        for (cycle, day, amount, allowed) in table {
            let left = Remaining::of(&allowance, (d(cycle), d(day)));
            assert_eq!(left.allows(d(amount)), allowed, "{cycle} {day} {amount}");
        }
        let left = Remaining::of(&allowance, (d("1200"), d("0")));
        assert_eq!(left.per_cycle, Some(Decimal::ZERO), "never negative");
        let open = Allowance {
            per_transaction: None,
            per_day: None,
            per_cycle: None,
            ..allowance
        };
        assert!(Remaining::of(&open, (d("1e9"), d("1e9"))).allows(d("1000000")));
    }

    #[test]
    fn tallies_count_only_their_own_cycle_and_day() {
        let tally = UsageTally {
            service: ServiceId::random(),
            product: ProductId::random(),
            cycle_start: 100,
            cycle_used: d("40"),
            day_start: 86_400,
            day_used: d("10"),
        };
        assert_eq!(UsageTally::used(Some(&tally), 100, 86_400), (d("40"), d("10")));
        assert_eq!(UsageTally::used(Some(&tally), 100, 172_800), (d("40"), Decimal::ZERO));
        assert_eq!(
            UsageTally::used(Some(&tally), 200, 172_800),
            (Decimal::ZERO, Decimal::ZERO)
        );
        assert_eq!(day_start(86_400 + 5), 86_400);
        assert_eq!(day_start(-5), -86_400);
    }
}
