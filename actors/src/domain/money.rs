//! Money: ISO-4217 currencies and non-negative decimal amounts (D6).
//!
//! Amounts are `rust_decimal::Decimal`, never floats. An [`Amount`] can only be made through
//! [`Amount::parse`], which checks sign and the currency's minor units, so code holding one
//! never re-checks it. Rounding happens only where a rule divides (percentage awards) and is
//! named there.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::fmt;

/// ISO-4217 codes the CRM.COM contract lists, with their minor units. Codes not in the
/// table are rejected rather than guessed.
#[rustfmt::skip]
const CURRENCIES: &[(&str, u32)] = &[
    ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("ANG", 2), ("AOA", 2), ("ARS", 2),
    ("AUD", 2), ("AWG", 2), ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2), ("BGN", 2),
    ("BHD", 3), ("BIF", 0), ("BMD", 2), ("BND", 2), ("BOB", 2), ("BRL", 2), ("BSD", 2),
    ("BTN", 2), ("BWP", 2), ("BYN", 2), ("BYR", 0), ("BZD", 2), ("CAD", 2), ("CDF", 2),
    ("CHF", 2), ("CLP", 0), ("CNY", 2), ("COP", 2), ("CRC", 2), ("CUC", 2), ("CUP", 2),
    ("CVE", 2), ("CZK", 2), ("DJF", 0), ("DKK", 2), ("DOP", 2), ("DZD", 2), ("EGP", 2),
    ("ERN", 2), ("ETB", 2), ("EUR", 2), ("FJD", 2), ("FKP", 2), ("GBP", 2), ("GEL", 2),
    ("GGP", 2), ("GHS", 2), ("GIP", 2), ("GMD", 2), ("GNF", 0), ("GTQ", 2), ("GYD", 2),
    ("HKD", 2), ("HNL", 2), ("HRK", 2), ("HTG", 2), ("HUF", 2), ("IDR", 2), ("ILS", 2),
    ("IMP", 2), ("INR", 2), ("IQD", 3), ("IRR", 2), ("ISK", 0), ("JEP", 2), ("JMD", 2),
    ("JOD", 3), ("JPY", 0), ("KES", 2), ("KGS", 2), ("KHR", 2), ("KMF", 0), ("KPW", 2),
    ("KRW", 0), ("KWD", 3), ("KYD", 2), ("KZT", 2), ("LAK", 2), ("LBP", 2), ("LKR", 2),
    ("LRD", 2), ("LSL", 2), ("LYD", 3), ("MAD", 2), ("MDL", 2), ("MGA", 2), ("MKD", 2),
    ("MMK", 2), ("MNT", 2), ("MOP", 2), ("MRO", 2), ("MRU", 2), ("MUR", 2), ("MVR", 2),
    ("MWK", 2), ("MXN", 2), ("MYR", 2), ("MZN", 2), ("NAD", 2), ("NGN", 2), ("NIO", 2),
    ("NOK", 2), ("NPR", 2), ("NZD", 2), ("OMR", 3), ("PAB", 2), ("PEN", 2), ("PGK", 2),
    ("PHP", 2), ("PKR", 2), ("PLN", 2), ("PYG", 0), ("QAR", 2), ("RON", 2), ("RSD", 2),
    ("RUB", 2), ("RWF", 0), ("SAR", 2), ("SBD", 2), ("SCR", 2), ("SDG", 2), ("SEK", 2),
    ("SGD", 2), ("SHP", 2), ("SLL", 2), ("SOS", 2), ("SPL", 2), ("SRD", 2), ("STD", 2),
    ("SVC", 2), ("SYP", 2), ("SZL", 2), ("THB", 2), ("TJS", 2), ("TMT", 2), ("TND", 3),
    ("TOP", 2), ("TRY", 2), ("TTD", 2), ("TVD", 2), ("TWD", 2), ("TZS", 2), ("UAH", 2),
    ("UGX", 0), ("USD", 2), ("UYU", 2), ("UZS", 2), ("VEF", 2), ("VES", 2), ("VND", 0),
    ("VUV", 0), ("WST", 2), ("XAF", 0), ("XCD", 2), ("XDR", 2), ("XOF", 0), ("XPF", 0),
    ("YER", 2), ("ZAR", 2), ("ZMW", 2), ("ZWD", 2),
];

/// An ISO-4217 currency, stored as its three ASCII letters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Currency([u8; 3]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("'{0}' is not a supported ISO-4217 currency code")]
    UnknownCurrency(String),
    #[error("amount must not be negative")]
    Negative,
    #[error("amount has {scale} decimal places but {currency} allows {allowed}")]
    TooPrecise {
        scale: u32,
        currency: Currency,
        allowed: u32,
    },
    #[error("amount must not be greater than {max}")]
    TooLarge { max: Decimal },
}

/// The bounds on money (D6), from the `[money]` settings. Every amount a request brings is
/// at most `amount_max`; a wallet never holds more than `wallet_balance_max`. Both are far
/// below what `Decimal` holds exactly at any currency's minor units (about 7.9e25 at three
/// decimals), so every sum of bounded values is exact and a balance always equals the sum
/// of its journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "MoneyLimitsInMajorUnits")]
pub struct MoneyLimits {
    pub amount_max: Decimal,
    pub wallet_balance_max: Decimal,
}

/// The `[money]` settings section: whole major units, each 1 to `MoneyLimits::BOUND_MAX`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MoneyLimitsInMajorUnits {
    amount_max: u64,
    wallet_balance_max: u64,
}

impl TryFrom<MoneyLimitsInMajorUnits> for MoneyLimits {
    type Error = String;

    fn try_from(units: MoneyLimitsInMajorUnits) -> Result<Self, Self::Error> {
        let bound = |key: &str, value: u64| {
            let value = Decimal::from(value);
            if value.is_zero() || value > MoneyLimits::BOUND_MAX {
                Err(format!("money.{key} must be 1 to {}", MoneyLimits::BOUND_MAX))
            } else {
                Ok(value)
            }
        };
        Ok(MoneyLimits {
            amount_max: bound("amount_max", units.amount_max)?,
            wallet_balance_max: bound("wallet_balance_max", units.wallet_balance_max)?,
        })
    }
}

impl MoneyLimits {
    /// The largest bound a setting may choose: sums of a few million such values stay exact.
    pub const BOUND_MAX: Decimal = Decimal::from_parts(2_808_348_672, 232_830_643, 0, false, 0); // 10^18
}

impl Default for MoneyLimits {
    fn default() -> Self {
        MoneyLimits {
            amount_max: Decimal::from_parts(3_567_587_328, 232, 0, false, 0), // 10^12
            wallet_balance_max: Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0), // 10^15
        }
    }
}

/// `value` rounded to `places` decimal places, half away from zero: exactly
/// `round_dp_with_strategy(places, MidpointAwayFromZero)`, on the 96-bit mantissa as one
/// integer division (the library's general rounding cost as much as the rest of an award).
pub fn round_half_away(value: Decimal, places: u32) -> Decimal {
    let scale = value.scale();
    if scale <= places {
        return value;
    }
    // scale ≤ 28, so the divisor and the mantissa (below 2^96) fit an i128.
    let divisor = 10i128.pow(scale - places);
    let mantissa = value.mantissa();
    let (quotient, remainder) = (mantissa / divisor, mantissa % divisor);
    let rounded = if remainder.abs() * 2 >= divisor {
        quotient + mantissa.signum()
    } else {
        quotient
    };
    // |rounded| ≤ |mantissa| / 10^k rounded up, never above the 96 bits it came from.
    Decimal::try_from_i128_with_scale(rounded, places)
        .unwrap_or_else(|_| value.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero))
}

impl Currency {
    pub fn parse(code: &str) -> Result<Currency, MoneyError> {
        let upper = code.trim().to_ascii_uppercase();
        Currency::entry(upper.as_bytes())
            .map(|(known, _)| {
                let bytes = known.as_bytes();
                Currency([bytes[0], bytes[1], bytes[2]])
            })
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_string()))
    }

    pub fn code(&self) -> &str {
        // The bytes come from the ASCII table above, so this cannot fail.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// The code as a `'static` string (from the table), for labels that outlive `self`.
    pub fn static_code(&self) -> &'static str {
        Currency::entry(&self.0).map_or("XXX", |(known, _)| known)
    }

    /// The table's entry for `code` (the table is in code order: a binary search, as awards
    /// round once per offer).
    fn entry(code: &[u8]) -> Option<(&'static str, u32)> {
        CURRENCIES
            .binary_search_by(|(known, _)| known.as_bytes().cmp(code))
            .ok()
            .map(|index| CURRENCIES[index])
    }

    /// `value` in minor units (cents for EUR), truncated; for counters, never for money.
    pub fn minor_units_of(&self, value: rust_decimal::Decimal) -> u64 {
        use rust_decimal::prelude::ToPrimitive;
        (value * rust_decimal::Decimal::from(10u64.pow(self.minor_units())))
            .trunc()
            .to_u64()
            .unwrap_or(0)
    }

    /// Digits after the decimal point this currency allows (2 for EUR, 0 for JPY).
    pub fn minor_units(&self) -> u32 {
        // The table's exceptions to two, as a match: awards round once per offer, and a
        // search of the table cost more than the rounding (a test checks both agree).
        match &self.0 {
            b"BIF" | b"BYR" | b"CLP" | b"DJF" | b"GNF" | b"ISK" | b"JPY" | b"KMF" | b"KRW" | b"PYG" | b"RWF"
            | b"UGX" | b"VND" | b"VUV" | b"XAF" | b"XOF" | b"XPF" => 0,
            b"BHD" | b"IQD" | b"JOD" | b"KWD" | b"LYD" | b"OMR" | b"TND" => 3,
            _ => 2,
        }
    }

    /// Rounds a computed amount (a percentage award) to this currency's minor units.
    /// Named rounding rule: half away from zero, as a till rounds a receipt line.
    pub fn round_award(&self, value: Decimal) -> Decimal {
        round_half_away(value, self.minor_units())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A non-negative decimal amount with no more decimal places than its currency allows.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(Decimal);

impl Amount {
    pub const ZERO: Amount = Amount(Decimal::ZERO);

    pub fn parse(value: Decimal, currency: Currency) -> Result<Amount, MoneyError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(MoneyError::Negative);
        }
        let normalized = value.normalize();
        let allowed = currency.minor_units();
        if normalized.scale() > allowed {
            return Err(MoneyError::TooPrecise {
                scale: normalized.scale(),
                currency,
                allowed,
            });
        }
        Ok(Amount(normalized.abs()))
    }

    /// As `parse`, and at most `max` (a request's amount, bounded by `[money] amount_max`).
    pub fn parse_at_most(value: Decimal, currency: Currency, max: Decimal) -> Result<Amount, MoneyError> {
        let amount = Amount::parse(value, currency)?;
        if amount.0 > max {
            return Err(MoneyError::TooLarge { max });
        }
        Ok(amount)
    }

    pub fn value(&self) -> Decimal {
        self.0
    }

    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Renders a decimal for the wire with exactly the currency's minor units ("10.50").
pub fn with_minor_units(value: Decimal, currency: Currency) -> Decimal {
    let mut rounded = value.round_dp(currency.minor_units());
    rounded.rescale(currency.minor_units());
    rounded
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    #[test]
    fn the_currency_table_is_in_code_order_for_its_binary_search() {
        assert!(CURRENCIES.windows(2).all(|pair| pair[0].0 < pair[1].0));
        for (code, units) in CURRENCIES {
            let currency = Currency::parse(code).unwrap();
            assert_eq!((currency.static_code(), currency.minor_units()), (*code, *units));
        }
    }

    proptest::proptest! {
        #[test]
        fn rounding_half_away_is_the_libraries_rounding(
            mantissa in -(1i128 << 96) + 1..(1i128 << 96),
            scale in 0u32..=28,
            places in 0u32..=4,
        ) {
            let value = Decimal::from_i128_with_scale(mantissa, scale);
            let ours = round_half_away(value, places);
            let theirs = value.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
            proptest::prop_assert_eq!(ours, theirs);
            proptest::prop_assert_eq!(ours.scale(), theirs.scale());
        }
    }

    #[test]
    fn rounding_half_away_at_the_midpoints() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        for (value, rounded) in [
            ("0.125", "0.13"),
            ("-0.125", "-0.13"),
            ("0.1249", "0.12"),
            ("2.5", "2.5"),
            ("0.005", "0.01"),
        ] {
            assert_eq!(round_half_away(d(value), 2), d(rounded), "{value}");
        }
        assert_eq!(round_half_away(d("12.5"), 0), d("13"));
    }

    #[test]
    fn currency_codes_are_case_insensitive_and_unknown_ones_are_rejected() {
        assert_eq!(Currency::parse("eur").unwrap().code(), "EUR");
        assert_eq!(Currency::parse("JPY").unwrap().minor_units(), 0);
        assert!(matches!(Currency::parse("EURO"), Err(MoneyError::UnknownCurrency(_))));
    }

    #[test]
    fn amounts_reject_negative_values_and_excess_precision() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(Amount::parse(d("-0.01"), eur()), Err(MoneyError::Negative));
        assert!(matches!(
            Amount::parse(d("1.005"), eur()),
            Err(MoneyError::TooPrecise { .. })
        ));
        assert_eq!(Amount::parse(d("1.500"), eur()).unwrap().value(), d("1.5"));
        assert!(Amount::parse(d("1.5"), Currency::parse("JPY").unwrap()).is_err());
    }

    #[test]
    fn amounts_above_the_bound_are_rejected_and_the_default_bounds_are_powers_of_ten() {
        let limits = MoneyLimits::default();
        assert_eq!(limits.amount_max, Decimal::from(1_000_000_000_000u64));
        assert_eq!(limits.wallet_balance_max, Decimal::from(1_000_000_000_000_000u64));
        assert_eq!(MoneyLimits::BOUND_MAX, Decimal::from(1_000_000_000_000_000_000u64));
        let max = limits.amount_max;
        assert!(Amount::parse_at_most(max, eur(), max).is_ok());
        let above = max + Decimal::new(1, 2);
        assert_eq!(
            Amount::parse_at_most(above, eur(), max),
            Err(MoneyError::TooLarge { max })
        );
        let huge = Decimal::from_scientific("1e28").unwrap();
        assert!(Amount::parse_at_most(huge, eur(), max).is_err());
    }

    #[test]
    fn percentage_awards_round_half_away_from_zero() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(eur().round_award(d("0.125")), d("0.13"));
        assert_eq!(eur().round_award(d("0.124")), d("0.12"));
    }
}

/// `#[serde(with = "crate::domain::money::exact_decimal")]`: a `Decimal` as (mantissa, scale),
/// exact whatever the format (never through a float or a string).
pub mod exact_decimal {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        (value.mantissa(), value.scale()).serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        let (mantissa, scale) = <(i128, u32)>::deserialize(deserializer)?;
        Decimal::try_from_i128_with_scale(mantissa, scale).map_err(serde::de::Error::custom)
    }
}

/// `#[serde(with = "crate::domain::money::exact_option_decimal")]`.
pub mod exact_option_decimal {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<Decimal>, serializer: S) -> Result<S::Ok, S::Error> {
        value.map(|v| (v.mantissa(), v.scale())).serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Decimal>, D::Error> {
        match <Option<(i128, u32)>>::deserialize(deserializer)? {
            None => Ok(None),
            Some((mantissa, scale)) => Decimal::try_from_i128_with_scale(mantissa, scale)
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }
}

/// `#[serde(with = "crate::domain::money::exact_decimals")]`: a list of `Decimal`s, each as
/// `exact_decimal` writes it.
pub mod exact_decimals {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(values: &[Decimal], serializer: S) -> Result<S::Ok, S::Error> {
        let parts: Vec<(i128, u32)> = values.iter().map(|v| (v.mantissa(), v.scale())).collect();
        parts.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Decimal>, D::Error> {
        <Vec<(i128, u32)>>::deserialize(deserializer)?
            .into_iter()
            .map(|(mantissa, scale)| {
                Decimal::try_from_i128_with_scale(mantissa, scale).map_err(serde::de::Error::custom)
            })
            .collect()
    }
}
