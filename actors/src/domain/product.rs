//! The product catalogue: products with their type (which gives their classification and
//! composition), family, brand and categories, variants and modifiers, cross- and up-sells,
//! and their prices — one per currency and billing period at most, each priced by one of
//! the models of [`PriceModel`]:
//!
//! | model      | what `quantity` units cost                                             |
//! |------------|------------------------------------------------------------------------|
//! | FLAT       | the unit price, times the quantity                                     |
//! | TIERED     | each unit at the price of the tier it falls in (graduated)             |
//! | VOLUME     | every unit at the price of the tier the whole quantity falls in        |
//! | STAIRSTEP  | the price of the tier the whole quantity falls in, once (a step)       |
//!
//! Tiers start at 1, follow one another without gaps, and only the last is open-ended.

use super::ids::{OrganisationId, ProductClassId, ProductId, Tenant};
use super::money::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Longest name, SKU, code or description, in characters.
pub const PRODUCT_TEXT_MAX: usize = 200;
/// Most prices, tiers, categories, components or related products one product has.
pub const PRODUCT_LIST_MAX: usize = 50;
/// The largest quantity a price is worked out for.
pub const QUANTITY_MAX: u32 = 1_000_000;

coded!(
    /// What a product is, as its type says.
    ProductClassification {
        TermedService = "TERMED_SERVICE",
        UsageService = "USAGE_SERVICE",
        OneTimeService = "ONE_TIME_SERVICE",
        TraceableGood = "TRACEABLE_PHYSICAL_GOOD",
        NonTraceableGood = "NON_TRACEABLE_PHYSICAL_GOOD",
        ExpensesService = "EXPENSES_SERVICE",
    }
);

coded!(
    /// How a product is made up, as its type says.
    Composition {
        Flat = "FLAT",
        FlexibleBundle = "FLEXIBLE_BUNDLE",
        FixedBundle = "FIXED_BUNDLE",
        Composite = "COMPOSITE",
    }
);

coded!(
    PriceModel {
        Flat = "FLAT",
        Tiered = "TIERED",
        Volume = "VOLUME",
        StairStep = "STAIRSTEP",
    }
);

coded!(
    TaxModel {
        Inclusive = "TAX_INCLUSIVE",
        Exclusive = "TAX_EXCLUSIVE",
    }
);

coded!(
    /// A billing period's unit.
    PeriodUnit {
        Day = "DAY",
        Week = "WEEK",
        Month = "MONTH",
        Year = "YEAR",
    }
);

coded!(
    /// The four kinds of class a product is filed under.
    ClassKind {
        Brand = "BRAND",
        Family = "FAMILY",
        Category = "CATEGORY",
        Type = "TYPE",
    }
);

impl ClassKind {
    pub fn byte(self) -> u8 {
        match self {
            ClassKind::Brand => b'b',
            ClassKind::Family => b'f',
            ClassKind::Category => b'c',
            ClassKind::Type => b't',
        }
    }
}

/// A brand, family, category or type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductClass {
    pub id: ProductClassId,
    pub tenant: Tenant,
    pub kind: ClassKind,
    pub name: String,
    pub description: Option<String>,
    /// What a till calls it (families, brands and categories: the codes purchases carry).
    pub code: Option<String>,
    /// A category's parent category.
    pub parent: Option<ProductClassId>,
    /// A type's classification and composition (every product of it has them).
    pub classification: Option<ProductClassification>,
    pub composition: Option<Composition>,
    pub created_on: i64,
}

/// A band of quantities and its price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    pub lower: u32,
    /// `None`: no upper bound (the last tier).
    pub upper: Option<u32>,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub price: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingPeriod {
    pub duration: u32,
    pub unit: PeriodUnit,
}

/// One of a product's prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    pub id: uuid::Uuid,
    pub currency: Currency,
    pub model: PriceModel,
    pub tax_model: TaxModel,
    /// FLAT: one tier, from 1, open-ended (its price is the unit price).
    pub tiers: Vec<Tier>,
    /// A service's billing period (none for goods).
    pub billing_period: Option<BillingPeriod>,
    pub is_default: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: {message}")]
pub struct ProductError {
    pub parameter: &'static str,
    pub message: String,
}

fn bad(parameter: &'static str, message: impl Into<String>) -> ProductError {
    ProductError {
        parameter,
        message: message.into(),
    }
}

impl Price {
    /// Checks the tiers: at least one, from 1, without gaps or overlaps, only the last
    /// open-ended; prices zero or more in the currency's minor units, at most `amount_max`;
    /// FLAT has exactly one tier.
    pub fn validate(&self, amount_max: Decimal) -> Result<(), ProductError> {
        if self.tiers.is_empty() || self.tiers.len() > PRODUCT_LIST_MAX {
            return Err(bad("pricing.tiers", format!("1 to {PRODUCT_LIST_MAX} tiers")));
        }
        if self.model == PriceModel::Flat && self.tiers.len() != 1 {
            return Err(bad("pricing.tiers", "a FLAT price has one price, no tiers"));
        }
        let mut next = 1u32;
        for (index, tier) in self.tiers.iter().enumerate() {
            let last = index + 1 == self.tiers.len();
            if tier.lower != next {
                return Err(bad(
                    "pricing.tiers",
                    format!(
                        "tier {} must start at {next}: tiers start at 1 and leave no gap",
                        index + 1
                    ),
                ));
            }
            match (tier.upper, last) {
                (None, true) => {}
                (None, false) => return Err(bad("pricing.tiers", "only the last tier is open-ended")),
                (Some(upper), _) if upper < tier.lower => {
                    return Err(bad("pricing.tiers", "a tier's upper bound is below its lower one"))
                }
                (Some(upper), _) => next = upper.saturating_add(1),
            }
            if tier.price < Decimal::ZERO || tier.price > amount_max {
                return Err(bad("pricing.price", format!("must be 0 to {amount_max}")));
            }
            if tier.price.normalize().scale() > self.currency.minor_units() {
                return Err(bad(
                    "pricing.price",
                    format!("has more decimals than {} allows", self.currency.code()),
                ));
            }
        }
        if let Some(period) = self.billing_period {
            if period.duration == 0 || period.duration > 1_000 {
                return Err(bad("pricing.price_terms.billing_period.duration", "must be 1 to 1000"));
            }
        }
        Ok(())
    }

    /// What `quantity` units cost (before tax, in the price's tax model); `None` for a
    /// quantity of zero, past `QUANTITY_MAX`, beyond the last tier, or too large a sum.
    pub fn total(&self, quantity: u32) -> Option<Decimal> {
        if quantity == 0 || quantity > QUANTITY_MAX {
            return None;
        }
        let holds = |tier: &&Tier| tier.lower <= quantity && tier.upper.is_none_or(|upper| quantity <= upper);
        match self.model {
            PriceModel::Flat | PriceModel::Volume => {
                let tier = self.tiers.iter().find(holds)?;
                tier.price.checked_mul(Decimal::from(quantity))
            }
            PriceModel::StairStep => self.tiers.iter().find(holds).map(|tier| tier.price),
            PriceModel::Tiered => {
                let mut total = Decimal::ZERO;
                for tier in &self.tiers {
                    if tier.lower > quantity {
                        break;
                    }
                    let top = tier.upper.map_or(quantity, |upper| upper.min(quantity));
                    let units = Decimal::from(top - tier.lower + 1);
                    total = total.checked_add(tier.price.checked_mul(units)?)?;
                }
                let covered = self.tiers.last()?.upper.is_none_or(|upper| quantity <= upper);
                covered.then_some(total)
            }
        }
    }

    /// The unit price shown for it: the first tier's.
    pub fn unit_price(&self) -> Decimal {
        self.tiers.first().map_or(Decimal::ZERO, |tier| tier.price)
    }
}

/// A product and what it is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: ProductId,
    pub tenant: Tenant,
    /// Unique in the business, any case.
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    /// Its type: its classification and composition come from it.
    pub product_type: ProductClassId,
    pub classification: ProductClassification,
    pub composition: Composition,
    pub family: Option<ProductClassId>,
    pub brand: Option<ProductClassId>,
    pub categories: Vec<ProductClassId>,
    /// Ordered only as part of another product (an extra on it).
    pub is_modifier: bool,
    /// A variant of another product (its size, its colour): ordered as that product.
    pub variant_of: Option<ProductId>,
    /// What a bundle or composite product is made of.
    pub components: Vec<ProductId>,
    pub prices: Vec<Price>,
    pub cross_sells: Vec<ProductId>,
    pub up_sells: Vec<ProductId>,
    /// ENABLED (sold) or DISABLED.
    pub enabled: bool,
    pub owner: OrganisationId,
    pub created_on: i64,
    pub updated_on: i64,
    /// Its tax (none: untaxed).
    pub tax_rate: Option<super::order::TaxRate>,
    /// The merchants and venues that sell it (none named: every one).
    pub available_at: Vec<OrganisationId>,
}

impl Product {
    /// Whether apps list it on its own: not a modifier, not a variant.
    pub fn listed(&self) -> bool {
        !self.is_modifier && self.variant_of.is_none()
    }

    /// Whether organisation `at` sells it.
    pub fn available_at(&self, at: OrganisationId) -> bool {
        self.available_at.is_empty() || self.available_at.contains(&at)
    }

    /// The price in `currency` (the default one first, else the first).
    pub fn price_in(&self, currency: Currency) -> Option<&Price> {
        self.price_for(currency, None, false).ok()
    }

    /// The price plan `terms` names (one of its prices, in `currency`), or without one the
    /// price in `currency` (the default one first, else the first); `periodic` keeps to
    /// prices with a billing period (a service's). `Err` says why none fits.
    pub fn price_for(&self, currency: Currency, terms: Option<uuid::Uuid>, periodic: bool) -> Result<&Price, String> {
        let kind = if periodic {
            "price with a billing period"
        } else {
            "price"
        };
        match terms {
            Some(id) => {
                let price = self
                    .prices
                    .iter()
                    .find(|price| price.id == id)
                    .ok_or_else(|| format!("{id} is not one of {}'s prices", self.sku))?;
                if price.currency != currency || (periodic && price.billing_period.is_none()) {
                    return Err(format!(
                        "{}'s price {id} is not a {kind} in {}",
                        self.sku,
                        currency.code()
                    ));
                }
                Ok(price)
            }
            None => {
                let mut prices = self
                    .prices
                    .iter()
                    .filter(|price| price.currency == currency && (!periodic || price.billing_period.is_some()));
                let first = prices.clone().next();
                prices
                    .find(|price| price.is_default)
                    .or(first)
                    .ok_or_else(|| format!("{} has no {kind} in {}", self.sku, currency.code()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn price(model: PriceModel, tiers: &[(u32, Option<u32>, &str)]) -> Price {
        Price {
            id: uuid::Uuid::nil(),
            currency: Currency::parse("EUR").unwrap(),
            model,
            tax_model: TaxModel::Inclusive,
            tiers: tiers
                .iter()
                .map(|(lower, upper, price)| Tier {
                    lower: *lower,
                    upper: *upper,
                    price: d(price),
                })
                .collect(),
            billing_period: None,
            is_default: true,
        }
    }

    /// Tiers 1–10 at 5.00, 11–20 at 4.00, 21 and up at 3.00.
    const TIERS: [(u32, Option<u32>, &str); 3] = [(1, Some(10), "5.00"), (11, Some(20), "4.00"), (21, None, "3.00")];

    #[test]
    fn each_model_prices_quantities_as_its_table_says() {
        let flat = price(PriceModel::Flat, &[(1, None, "2.50")]);
        let tiered = price(PriceModel::Tiered, &TIERS);
        let volume = price(PriceModel::Volume, &TIERS);
        let stair = price(PriceModel::StairStep, &TIERS);
        for (quantity, flat_total, tiered_total, volume_total, stair_total) in [
            (1, "2.50", "5.00", "5.00", "5.00"),
            (10, "25.00", "50.00", "50.00", "5.00"),
            (11, "27.50", "54.00", "44.00", "4.00"),
            (20, "50.00", "90.00", "80.00", "4.00"),
            (25, "62.50", "105.00", "75.00", "3.00"),
        ] {
            assert_eq!(flat.total(quantity), Some(d(flat_total)), "flat {quantity}");
            assert_eq!(tiered.total(quantity), Some(d(tiered_total)), "tiered {quantity}");
            assert_eq!(volume.total(quantity), Some(d(volume_total)), "volume {quantity}");
            assert_eq!(stair.total(quantity), Some(d(stair_total)), "stair-step {quantity}");
        }
        for model in PriceModel::ALL {
            let priced = price(*model, &TIERS);
            assert_eq!(priced.total(0), None, "no price for nothing");
            assert_eq!(priced.total(QUANTITY_MAX + 1), None);
        }
        let bounded = price(PriceModel::Tiered, &[(1, Some(10), "1.00")]);
        assert_eq!(bounded.total(11), None, "past the last tier");
    }

    #[test]
    fn tiers_start_at_one_leave_no_gaps_and_end_open() {
        let ok = price(PriceModel::Volume, &TIERS);
        assert!(ok.validate(d("1000")).is_ok());
        for (why, tiers) in [
            ("from 2", vec![(2, None, "1.00")]),
            ("a gap", vec![(1, Some(10), "1.00"), (12, None, "1.00")]),
            ("an overlap", vec![(1, Some(10), "1.00"), (10, None, "1.00")]),
            ("open in the middle", vec![(1, None, "1.00"), (2, None, "1.00")]),
            ("upside down", vec![(1, Some(0), "1.00")]),
            ("negative", vec![(1, None, "-1.00")]),
            ("over-precise", vec![(1, None, "1.001")]),
            ("past the bound", vec![(1, None, "1000.01")]),
            ("none", vec![]),
        ] {
            let tiers: Vec<(u32, Option<u32>, &str)> = tiers;
            assert!(price(PriceModel::Tiered, &tiers).validate(d("1000")).is_err(), "{why}");
        }
        let flat_with_tiers = price(PriceModel::Flat, &TIERS);
        assert!(flat_with_tiers.validate(d("1000")).is_err());
    }

    #[test]
    fn codes_read_back() {
        for kind in ProductClassification::ALL {
            assert_eq!(ProductClassification::parse(kind.code()), Some(*kind));
        }
        assert_eq!(Composition::parse("FIXED_BUNDLE"), Some(Composition::FixedBundle));
        assert_eq!(PriceModel::parse("STAIRSTEP"), Some(PriceModel::StairStep));
        assert_eq!(ClassKind::parse("nope"), None);
    }
}
