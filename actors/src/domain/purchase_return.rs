//! Ad hoc returns: goods of a posted purchase brought back, by amount or by line, each
//! return reversing part of the purchase's awards and giving back part of its spend.
//!
//! How much award a return takes back is a setting (`ReversalRule`):
//! - `Proportion`: every award in the share of the purchase total returned so far;
//! - `Line`: on a return by line, an award computed on lines (a product filter) in the
//!   share of those lines' amounts returned so far; an award on the purchase total (or
//!   whose lines carry no amounts), and any award on a return by amount, in the share of
//!   the total.
//!
//! Shares are of what is returned so far, all returns together, rounded toward zero to the
//! currency's minor units, less what earlier returns took: rounding never accumulates,
//! and once everything is returned every award is taken back whole. The spend is given
//! back in the share of the total the same way. Pure: the wallet actor applies the plan.

use super::ids::{PurchaseId, ReferenceNumber};
use super::money::Currency;
use super::purchase::PurchaseRecord;
use super::wallet::ReturnEffects;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// How a return reverses awards (`[purchases] return_reversal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReversalRule {
    #[default]
    Proportion,
    Line,
}

/// Value returned of one purchase line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnedLine {
    /// Index into the purchase's `products`.
    pub line: u16,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub amount: Decimal,
}

/// One ad hoc return, kept with its purchase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseReturn {
    pub id: PurchaseId,
    pub reference_number: ReferenceNumber,
    pub body_hash: [u8; 32],
    /// When the goods came back (the request's, or the posting time).
    pub date: i64,
    pub posted_on: i64,
    /// Value of the goods returned.
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub amount: Decimal,
    /// By line: what of each line; empty for a return by amount.
    pub lines: Vec<ReturnedLine>,
    /// Award value reversed, per award of the purchase (its `effects.awards` order).
    #[serde(with = "crate::domain::money::exact_decimals")]
    pub reversed: Vec<Decimal>,
    pub effects: ReturnEffects,
}

impl PurchaseReturn {
    pub fn given_back(&self) -> Decimal {
        self.effects.given_back()
    }
}

/// What a return asks for, as the engine resolved it against the purchase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Returned {
    Amount(Decimal),
    /// Product SKU and value, each SKU matched to the purchase's lines with that SKU.
    Lines(Vec<(String, Decimal)>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnError {
    #[error("the purchase is cancelled; nothing of it can be returned")]
    Cancelled,
    #[error("return_amount must be greater than zero")]
    Zero,
    #[error("the return is {asked}, but only {left} of the purchase is left to return")]
    AboveTotal { asked: Decimal, left: Decimal },
    #[error("the purchase has no line with product_sku {0}")]
    UnknownSku(String),
    #[error("the purchase's lines with product_sku {0} carry no total_amount; return them by amount")]
    LineWithoutAmount(String),
    #[error("the return of product_sku {sku} is {asked}, but only {left} of it is left to return")]
    AboveLine { sku: String, asked: Decimal, left: Decimal },
    #[error("at most {0} products per return")]
    TooManyLines(usize),
}

/// What a new return takes back and gives back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnPlan {
    /// Value of the goods returned.
    pub amount: Decimal,
    pub lines: Vec<ReturnedLine>,
    /// Award value to take back, per award.
    pub reversals: Vec<Decimal>,
    /// Spend to give back.
    pub spend_back: Decimal,
}

pub const RETURN_LINES_MAX: usize = 500;

/// Plans a new return of `record` (with its earlier returns in `record.returns`).
pub fn plan(
    record: &PurchaseRecord,
    returned: &Returned,
    rule: ReversalRule,
    currency: Currency,
) -> Result<ReturnPlan, ReturnError> {
    if record.state == super::purchase::PurchaseState::Cancelled {
        return Err(ReturnError::Cancelled);
    }
    let total = record.request.amounts.total;
    let before = record
        .returns
        .iter()
        .fold(Decimal::ZERO, |sum, done| sum.saturating_add(done.amount));
    let products = &record.request.products;
    // Value returned so far per line, this return's included.
    let mut line_returned = vec![Decimal::ZERO; products.len()];
    for done in &record.returns {
        for line in &done.lines {
            if let Some(slot) = line_returned.get_mut(usize::from(line.line)) {
                *slot = slot.saturating_add(line.amount);
            }
        }
    }
    let (amount, lines) = match returned {
        Returned::Amount(amount) => (*amount, Vec::new()),
        Returned::Lines(asked) => {
            if asked.len() > RETURN_LINES_MAX {
                return Err(ReturnError::TooManyLines(RETURN_LINES_MAX));
            }
            let mut lines = Vec::new();
            let mut amount = Decimal::ZERO;
            for (sku, value) in asked {
                let matching: Vec<usize> = (0..products.len())
                    .filter(|index| products[*index].product_sku == *sku)
                    .collect();
                if matching.is_empty() {
                    return Err(ReturnError::UnknownSku(sku.clone()));
                }
                let mut left_to_place = *value;
                let mut room = Decimal::ZERO;
                for index in matching {
                    let Some(line_total) = products[index].total_amount else {
                        return Err(ReturnError::LineWithoutAmount(sku.clone()));
                    };
                    let open = (line_total - line_returned[index]).max(Decimal::ZERO);
                    room += open;
                    let take = open.min(left_to_place);
                    if take > Decimal::ZERO {
                        line_returned[index] += take;
                        left_to_place -= take;
                        lines.push(ReturnedLine {
                            line: index as u16,
                            amount: take,
                        });
                    }
                }
                if left_to_place > Decimal::ZERO {
                    return Err(ReturnError::AboveLine {
                        sku: sku.clone(),
                        asked: *value,
                        left: room,
                    });
                }
                amount = amount.saturating_add(*value);
            }
            (amount, lines)
        }
    };
    if amount <= Decimal::ZERO {
        return Err(ReturnError::Zero);
    }
    let left = (total - before).max(Decimal::ZERO);
    if amount > left {
        return Err(ReturnError::AboveTotal { asked: amount, left });
    }
    let so_far = before + amount;
    let units = currency.minor_units();
    // `whole` in the share `part / of`, toward zero; all of it once the part is whole.
    let share = |whole: Decimal, part: Decimal, of: Decimal| -> Decimal {
        if part >= of || of <= Decimal::ZERO {
            return whole;
        }
        whole
            .checked_mul(part)
            .and_then(|product| product.checked_div(of))
            .map_or(Decimal::ZERO, |value| {
                value.round_dp_with_strategy(units, RoundingStrategy::ToZero)
            })
    };
    let mut reversals = Vec::with_capacity(record.effects.awards.len());
    for (index, award) in record.effects.awards.iter().enumerate() {
        let by_line = rule == ReversalRule::Line && !lines.is_empty() && so_far < total;
        let line_share = match record.explanations.get(index).filter(|_| by_line) {
            Some(explanation) => {
                let basis = explanation.basis.lines();
                let amounts: Option<Vec<Decimal>> = basis
                    .iter()
                    .map(|line| {
                        products
                            .get(usize::from(*line))
                            .and_then(|product| product.total_amount)
                    })
                    .collect();
                match amounts {
                    Some(amounts) if !basis.is_empty() => {
                        let of = amounts
                            .iter()
                            .fold(Decimal::ZERO, |sum, value| sum.saturating_add(*value));
                        let part = basis.iter().fold(Decimal::ZERO, |sum, line| {
                            sum.saturating_add(line_returned.get(usize::from(*line)).copied().unwrap_or_default())
                        });
                        Some(share(award.amount, part, of))
                    }
                    _ => None,
                }
            }
            None => None,
        };
        let target = line_share.unwrap_or_else(|| share(award.amount, so_far, total));
        let taken: Decimal = record
            .returns
            .iter()
            .filter_map(|done| done.reversed.get(index))
            .fold(Decimal::ZERO, |sum, value| sum.saturating_add(*value));
        reversals.push((target - taken).max(Decimal::ZERO));
    }
    let spent = record.effects.spent();
    let given: Decimal = record
        .returns
        .iter()
        .fold(Decimal::ZERO, |sum, done| sum.saturating_add(done.effects.given_back()));
    let spend_back = (share(spent, so_far, total) - given).max(Decimal::ZERO);
    Ok(ReturnPlan {
        amount,
        lines,
        reversals,
        spend_back,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{ContactId, OfferId, Tenant, WalletId};
    use crate::domain::offer::{AwardExplanation, AwardKind, Basis, Combination};
    use crate::domain::purchase::{ProductLine, PurchaseRequest, PurchaseState, TransactionAmounts};
    use crate::domain::wallet::{AwardLine, Balances, LotDebit, PurchaseEffects};
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    fn line(sku: &str, total: Option<&str>) -> ProductLine {
        ProductLine {
            product_sku: sku.into(),
            quantity: Decimal::ONE,
            net_amount: None,
            tax_amount: None,
            total_amount: total.map(d),
        }
    }

    fn explained(amount: &str, basis: Basis) -> AwardExplanation {
        AwardExplanation {
            offer_id: OfferId::random(),
            offer_name: "offer".into(),
            kind: AwardKind::Percentage,
            value: d("10"),
            basis,
            basis_amount: Decimal::ZERO,
            computed: d(amount),
            trims: vec![],
            combination: Combination::Stack,
            amount: d(amount),
            budgeted: false,
        }
    }

    /// A purchase of 100.00: a line A of 60.00 and a line B of 40.00; an award of 10.00 on
    /// the total and one of 4.00 on line B; 30.00 paid from the wallet.
    fn purchase() -> PurchaseRecord {
        let tenant = Tenant {
            organisation: crate::domain::ids::OrganisationId::random(),
            mode: crate::domain::ids::Mode::Live,
        };
        let reference = ReferenceNumber::parse("R-1").unwrap();
        let explanations = vec![
            explained("10.00", Basis::Total),
            explained("4.00", Basis::Lines(vec![1])),
        ];
        PurchaseRecord {
            id: PurchaseId::for_reference(&tenant, &reference),
            tenant,
            request: PurchaseRequest {
                reference_number: reference,
                contact_id: ContactId::random(),
                wallet_id: WalletId::random(),
                currency: eur(),
                amounts: TransactionAmounts {
                    net: None,
                    tax: None,
                    discount: None,
                    total: d("100.00"),
                },
                date: None,
                products: vec![line("A", Some("60.00")), line("B", Some("40.00"))],
                spend: None,
            },
            body_hash: [0; 32],
            state: PurchaseState::Posted,
            date: 0,
            posted_on: 0,
            cancelled_on: None,
            effects: PurchaseEffects {
                awards: explanations
                    .iter()
                    .enumerate()
                    .map(|(lot, explanation)| AwardLine {
                        offer_id: explanation.offer_id,
                        lot: lot as u64 + 10,
                        amount: explanation.amount,
                    })
                    .collect(),
                spends: vec![LotDebit {
                    lot: 1,
                    amount: d("30.00"),
                }],
            },
            balances_after: Balances::default(),
            organisation: None,
            classes: vec![],
            explanations,
            returns: vec![],
            pass: None,
        }
    }

    /// Applies a plan as if the wallet took all of it.
    fn done(record: &mut PurchaseRecord, plan: ReturnPlan) {
        record.returns.push(PurchaseReturn {
            id: PurchaseId::random(),
            reference_number: ReferenceNumber::parse(&format!("RET-{}", record.returns.len())).unwrap(),
            body_hash: [0; 32],
            date: 0,
            posted_on: 0,
            amount: plan.amount,
            lines: plan.lines,
            reversed: plan.reversals,
            effects: ReturnEffects {
                awards: vec![],
                spends: vec![LotDebit {
                    lot: 1,
                    amount: plan.spend_back,
                }],
            },
        });
    }

    #[test]
    fn by_proportion_every_award_and_the_spend_go_in_the_share_returned_and_whole_at_the_end() {
        let mut record = purchase();
        let plan = plan(&record, &Returned::Amount(d("33.33")), ReversalRule::Proportion, eur()).unwrap();
        // 10.00 x 33.33% = 3.333 and 4.00 x 33.33% = 1.3332, toward zero; 30.00 x 33.33%.
        assert_eq!(plan.reversals, [d("3.33"), d("1.33")]);
        assert_eq!(plan.spend_back, d("9.99"));
        done(&mut record, plan);
        let rest = plan_rest(&record);
        assert_eq!(rest.reversals, [d("6.67"), d("2.67")], "the rounding does not pile up");
        assert_eq!(rest.spend_back, d("20.01"));
    }

    fn plan_rest(record: &PurchaseRecord) -> ReturnPlan {
        plan(record, &Returned::Amount(d("66.67")), ReversalRule::Proportion, eur()).unwrap()
    }

    #[test]
    fn by_line_an_award_on_lines_follows_its_lines_and_one_on_the_total_the_total() {
        let mut record = purchase();
        let asked = Returned::Lines(vec![("B".into(), d("20.00"))]);
        let by_line = plan(&record, &asked, ReversalRule::Line, eur()).unwrap();
        assert_eq!(
            by_line.lines,
            [ReturnedLine {
                line: 1,
                amount: d("20.00")
            }]
        );
        // Half of line B: half of its 4.00; a fifth of the total: a fifth of 10.00.
        assert_eq!(by_line.reversals, [d("2.00"), d("2.00")]);
        let by_proportion = plan(&record, &asked, ReversalRule::Proportion, eur()).unwrap();
        assert_eq!(by_proportion.reversals, [d("2.00"), d("0.80")]);
        // Returning line A takes nothing more of the award on line B.
        done(&mut record, by_line);
        let a = plan(
            &record,
            &Returned::Lines(vec![("A".into(), d("60.00"))]),
            ReversalRule::Line,
            eur(),
        )
        .unwrap();
        assert_eq!(a.reversals, [d("6.00"), d("0")]);
        done(&mut record, a);
        // The last 20.00 of B: everything is back, every award whole.
        let last = plan(
            &record,
            &Returned::Lines(vec![("B".into(), d("20.00"))]),
            ReversalRule::Line,
            eur(),
        )
        .unwrap();
        assert_eq!(last.reversals, [d("2.00"), d("2.00")]);
        assert_eq!(last.spend_back, d("30.00") - d("6.00") - d("18.00"));
    }

    #[test]
    fn a_purchase_with_returns_reads_back_whole() {
        let mut record = purchase();
        let first = plan(&record, &Returned::Amount(d("33.33")), ReversalRule::Proportion, eur()).unwrap();
        done(&mut record, first);
        let bytes = crate::storage::codec::encode(&record);
        assert_eq!(crate::storage::legacy::decode_purchase(&bytes).unwrap(), record);
    }

    #[test]
    fn a_return_beyond_what_is_left_or_of_an_unknown_line_is_refused() {
        let mut record = purchase();
        let refuse = |record: &PurchaseRecord, returned: Returned| {
            plan(record, &returned, ReversalRule::Line, eur()).unwrap_err()
        };
        assert_eq!(refuse(&record, Returned::Amount(Decimal::ZERO)), ReturnError::Zero);
        assert!(matches!(
            refuse(&record, Returned::Amount(d("100.01"))),
            ReturnError::AboveTotal { .. }
        ));
        assert_eq!(
            refuse(&record, Returned::Lines(vec![("C".into(), d("1"))])),
            ReturnError::UnknownSku("C".into())
        );
        assert!(matches!(
            refuse(&record, Returned::Lines(vec![("B".into(), d("40.01"))])),
            ReturnError::AboveLine { .. }
        ));
        record.request.products.push(line("N", None));
        assert_eq!(
            refuse(&record, Returned::Lines(vec![("N".into(), d("1"))])),
            ReturnError::LineWithoutAmount("N".into())
        );
        let first = plan(&record, &Returned::Amount(d("90.00")), ReversalRule::Line, eur()).unwrap();
        done(&mut record, first);
        assert_eq!(
            refuse(&record, Returned::Amount(d("10.01"))),
            ReturnError::AboveTotal {
                asked: d("10.01"),
                left: d("10.00")
            }
        );
        record.state = PurchaseState::Cancelled;
        assert_eq!(refuse(&record, Returned::Amount(d("1"))), ReturnError::Cancelled);
    }
}
