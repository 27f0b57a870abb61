//! Product filters as numbers: every SKU, family, brand and category the offers name gets a
//! number once, when the offers are compiled; a purchase line is looked up once per
//! evaluation, and filters compare numbers.

use super::evaluate::LineClass;
use super::ProductFilter;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// Every SKU, family, brand and category the offers' filters name, numbered: a purchase line
/// is looked up once per evaluation, and filters compare numbers.
#[derive(Default)]
pub(super) struct Codes {
    skus: HashMap<String, u32>,
    families: HashMap<String, u32>,
    brands: HashMap<String, u32>,
    categories: HashMap<String, u32>,
}

impl Codes {
    fn number(map: &mut HashMap<String, u32>, codes: &[String]) -> Vec<u32> {
        let mut numbers: Vec<u32> = codes
            .iter()
            .map(|code| {
                let next = map.len() as u32;
                *map.entry(code.clone()).or_insert(next)
            })
            .collect();
        numbers.sort_unstable();
        numbers.dedup();
        numbers
    }

    pub(super) fn compile(&mut self, filter: &ProductFilter) -> CodeFilter {
        CodeFilter {
            skus: Codes::number(&mut self.skus, &filter.skus),
            families: Codes::number(&mut self.families, &filter.families),
            brands: Codes::number(&mut self.brands, &filter.brands),
            categories: Codes::number(&mut self.categories, &filter.categories),
        }
    }

    /// A line's codes as numbers (`None`: no filter names it).
    pub(super) fn line(&self, sku: &str, class: Option<&LineClass>) -> LineCodes {
        let find = |map: &HashMap<String, u32>, code: Option<&String>| code.and_then(|code| map.get(code).copied());
        LineCodes {
            amount: Decimal::ZERO,
            sku: self.skus.get(sku).copied(),
            family: find(&self.families, class.and_then(|class| class.family.as_ref())),
            brand: find(&self.brands, class.and_then(|class| class.brand.as_ref())),
            category: find(&self.categories, class.and_then(|class| class.category.as_ref())),
        }
    }
}

#[derive(Clone, Copy, Default)]
pub(super) struct LineCodes {
    /// The line's money (`ProductLine::amount`).
    pub(super) amount: Decimal,
    pub(super) sku: Option<u32>,
    pub(super) family: Option<u32>,
    pub(super) brand: Option<u32>,
    pub(super) category: Option<u32>,
}

#[derive(PartialEq, Eq)]
pub(super) struct CodeFilter {
    pub(super) skus: Vec<u32>,
    pub(super) families: Vec<u32>,
    pub(super) brands: Vec<u32>,
    pub(super) categories: Vec<u32>,
}

impl CodeFilter {
    pub(super) fn matches(&self, line: &LineCodes) -> bool {
        let listed = |list: &[u32], code: Option<u32>| code.is_some_and(|code| list.contains(&code));
        listed(&self.skus, line.sku)
            || listed(&self.families, line.family)
            || listed(&self.brands, line.brand)
            || listed(&self.categories, line.category)
    }
}
