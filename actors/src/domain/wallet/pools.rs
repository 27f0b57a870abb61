//! Commerce pools: award lots that carry spend conditions (D7) — where (organisations) and on
//! what (products) their value may be spent. A spend takes only the lots its sale meets,
//! soonest expiring first, and a product-bound lot pays at most for the lines it names, less
//! what other product-bound lots of the same spend already paid for them. Lots without
//! conditions pay for anything; transfers take only those.
//!
//! A lot's conditions are written with the event that opens it (`WalletEvent::pools`), so a
//! replay rebuilds them; a lot a cancel or return opens again in place of a revoked one
//! keeps the conditions of the lot it replaces.

use super::{LotDebit, LotId, Wallet};
use crate::domain::ids::{CommercePoolId, OrganisationId};
use crate::domain::offer::{LineClass, SpendConditions};
use crate::domain::purchase::ProductLine;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A lot opened with spend conditions, as its event records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PooledLot {
    pub lot: LotId,
    pub conditions: Arc<SpendConditions>,
}

/// What a sale offers a spend: where it is made and what it is for.
#[derive(Debug, Clone, Copy)]
pub struct SaleScope<'a> {
    /// Where the sale is made, then each organisation above it (empty when no lot of the
    /// business needs it: then no organisation-bound lot is spent).
    pub places: &'a [OrganisationId],
    pub lines: &'a [ProductLine],
    /// Line by line with `lines` (shorter when the till classified fewer).
    pub classes: &'a [LineClass],
}

impl SaleScope<'static> {
    /// A sale whose place and lines are not known: only lots without conditions pay.
    pub const UNKNOWN: SaleScope<'static> = SaleScope {
        places: &[],
        lines: &[],
        classes: &[],
    };
}

/// Which lots a debit may take.
#[derive(Debug, Clone, Copy)]
pub enum SpendScope<'a> {
    /// Lots without conditions only (value leaving the wallet: transfers).
    Unconditional,
    /// The lots this sale meets.
    Sale(SaleScope<'a>),
}

impl SpendConditions {
    fn admits_place(&self, places: &[OrganisationId]) -> bool {
        self.organisations.is_empty() || places.iter().any(|place| self.organisations.contains(place))
    }
}

impl Wallet {
    /// The lots a debit of up to `amount` takes within `scope`, in spend order; their sum
    /// is below `amount` when the eligible lots hold less. The caller has swept first.
    pub fn spend_plan(&self, now: i64, amount: Decimal, scope: SpendScope<'_>) -> Vec<LotDebit> {
        let mut plan = Vec::new();
        let mut left = amount;
        // What each line still has to be paid by product-bound lots (made when one is met).
        let mut unpaid: Option<Vec<Decimal>> = None;
        for &(expires_at, id) in &self.spendable {
            if left <= Decimal::ZERO {
                break;
            }
            if expires_at <= now {
                continue;
            }
            let Some(lot) = self.lots.get(&id) else { continue };
            let mut take = lot.remaining.min(left);
            if let Some(conditions) = self.pools.get(&id) {
                let SpendScope::Sale(sale) = scope else { continue };
                if !conditions.admits_place(sale.places) {
                    continue;
                }
                if !conditions.products.is_empty() {
                    let unpaid = unpaid.get_or_insert_with(|| {
                        sale.lines
                            .iter()
                            .map(|line| line.amount().unwrap_or_default().max(Decimal::ZERO))
                            .collect()
                    });
                    let mut paid = Decimal::ZERO;
                    for (index, line) in sale.lines.iter().enumerate() {
                        if paid >= take {
                            break;
                        }
                        if conditions.products.matches(&line.product_sku, sale.classes.get(index)) {
                            let part = unpaid[index].min(take - paid);
                            unpaid[index] -= part;
                            paid += part;
                        }
                    }
                    take = paid;
                }
            }
            if take > Decimal::ZERO {
                plan.push(LotDebit { lot: id, amount: take });
                left -= take;
            }
        }
        plan
    }

    /// What a debit of up to `amount` within `scope` would take.
    pub fn spendable_within(&self, now: i64, amount: Decimal, scope: SpendScope<'_>) -> Decimal {
        planned(&self.spend_plan(now, amount, scope))
    }

    /// The conditions `lot` carries (`None`: spendable anywhere, on anything).
    pub fn conditions(&self, lot: LotId) -> Option<&Arc<SpendConditions>> {
        self.pools.get(&lot)
    }

    /// Notes that `lot`, opened by the entries of the event being built, carries
    /// `conditions`, in named pool `pool` if any; `record` writes both into the event.
    pub(super) fn pool(&mut self, lot: LotId, conditions: Arc<SpendConditions>, pool: Option<CommercePoolId>) {
        self.pools.insert(lot, conditions.clone());
        self.opened_pools.push(PooledLot { lot, conditions });
        if let Some(pool) = pool {
            self.pool_ids.insert(lot, pool);
            self.opened_pool_ids.push(super::PoolTag { lot, pool });
        }
    }

    /// A lot opened in place of revoked `from` carries `from`'s conditions and pool.
    pub(super) fn pool_like(&mut self, lot: LotId, from: LotId) {
        if let Some(conditions) = self.pools.get(&from).cloned() {
            let pool = self.pool_ids.get(&from).copied();
            self.pool(lot, conditions, pool);
        }
    }
}

/// A wallet snapshot's layout before pools (a prefix of today's): it reads with none.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WalletBeforePools {
    header: super::WalletHeader,
    lots: BTreeMap<LotId, super::Lot>,
    #[serde(with = "crate::domain::money::exact_decimal")]
    shortfall: Decimal,
    next_lot_id: LotId,
    next_seq: u64,
    holds: BTreeMap<crate::domain::ids::EstimateId, super::HeldFunds>,
}

impl From<WalletBeforePools> for Wallet {
    fn from(old: WalletBeforePools) -> Wallet {
        Wallet {
            lots: old.lots,
            shortfall: old.shortfall,
            next_lot_id: old.next_lot_id,
            next_seq: old.next_seq,
            holds: old.holds,
            ..Wallet::open(old.header)
        }
    }
}

/// A wallet event's layout before pools (a prefix of today's): it opened no pooled lot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WalletEventBeforePools {
    seq: u64,
    at: i64,
    cause: super::Cause,
    entries: Vec<super::Entry>,
}

impl From<WalletEventBeforePools> for super::WalletEvent {
    fn from(old: WalletEventBeforePools) -> super::WalletEvent {
        super::WalletEvent {
            seq: old.seq,
            at: old.at,
            cause: old.cause,
            entries: old.entries,
            pools: Vec::new(),
            pool_ids: Vec::new(),
        }
    }
}

/// Sums a plan.
pub(super) fn planned(plan: &[LotDebit]) -> Decimal {
    plan.iter()
        .fold(Decimal::ZERO, |sum, debit| sum.saturating_add(debit.amount))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{OfferId, PurchaseId, TransferId};
    use crate::domain::offer::ProductFilter;
    use crate::domain::wallet::{AwardGrant, AwardRoute, CommandError, Posting, SpendRequest, WalletRejection};
    use std::str::FromStr;

    const MAX: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn line(sku: &str, amount: &str) -> ProductLine {
        ProductLine {
            product_sku: sku.into(),
            quantity: Decimal::ONE,
            net_amount: None,
            tax_amount: None,
            total_amount: Some(d(amount)),
        }
    }

    fn skus(list: &[&str]) -> ProductFilter {
        ProductFilter {
            skus: list.iter().map(|sku| sku.to_string()).collect(),
            ..ProductFilter::default()
        }
    }

    fn grant(amount: &str, expires_at: Option<i64>) -> AwardGrant {
        AwardGrant {
            offer_id: OfferId::random(),
            amount: d(amount),
            expires_at,
        }
    }

    fn sale<'a>(places: &'a [OrganisationId], lines: &'a [ProductLine]) -> SaleScope<'a> {
        SaleScope {
            places,
            lines,
            classes: &[],
        }
    }

    /// A wallet and its journal, each change checked against a replay.
    struct Ledger {
        wallet: Wallet,
        journal: Vec<super::super::WalletEvent>,
    }

    impl Ledger {
        fn new() -> Ledger {
            Ledger {
                wallet: Wallet::for_tests(),
                journal: Vec::new(),
            }
        }

        /// Awards `amount` into a lot with `conditions` (none: anywhere), expiring at `expires_at`.
        fn award(&mut self, amount: &str, expires_at: Option<i64>, conditions: Option<SpendConditions>) -> LotId {
            self.award_effects(amount, expires_at, conditions).awards[0].lot
        }

        fn award_effects(
            &mut self,
            amount: &str,
            expires_at: Option<i64>,
            conditions: Option<SpendConditions>,
        ) -> super::super::PurchaseEffects {
            let grants = [grant(amount, expires_at)];
            let routes = [conditions.map_or(AwardRoute::Wallet, |conditions| AwardRoute::Pool {
                conditions: Arc::new(conditions),
                pool: None,
            })];
            let posting = Posting {
                purchase: PurchaseId::random(),
                spend: None,
                sale: sale(&[], &[]),
                awards: &grants,
                routes: &routes,
            };
            let (event, effects) = self.wallet.post_purchase_with(0, posting, MAX).unwrap();
            self.keep(event);
            effects
        }

        fn spend(
            &mut self,
            amount: &str,
            restrict: bool,
            at: SaleScope<'_>,
        ) -> Result<super::super::PurchaseEffects, CommandError> {
            let posting = Posting {
                purchase: PurchaseId::random(),
                spend: Some(SpendRequest {
                    amount: d(amount),
                    restrict_fully_covered: restrict,
                }),
                sale: at,
                awards: &[],
                routes: &[],
            };
            let (event, effects) = self.wallet.post_purchase_with(1, posting, MAX)?;
            self.keep(event);
            Ok(effects)
        }

        fn keep(&mut self, event: super::super::WalletEvent) {
            self.journal.push(event);
            let mut replayed = Wallet::open(self.wallet.header.clone());
            for event in &self.journal {
                replayed.replay(event).unwrap();
            }
            assert_eq!(replayed, self.wallet);
            assert_eq!(replayed.balances(), self.wallet.balances());
        }

        fn taken(effects: &super::super::PurchaseEffects) -> Vec<(LotId, Decimal)> {
            effects.spends.iter().map(|debit| (debit.lot, debit.amount)).collect()
        }
    }

    #[test]
    fn a_lot_bound_to_organisations_is_spent_only_where_they_are() {
        let (venue, elsewhere, merchant) = (
            OrganisationId::random(),
            OrganisationId::random(),
            OrganisationId::random(),
        );
        let mut ledger = Ledger::new();
        let pooled = ledger.award(
            "10",
            Some(50),
            Some(SpendConditions {
                organisations: vec![merchant],
                products: ProductFilter::default(),
            }),
        );
        let free = ledger.award("4", None, None);
        // Elsewhere only the free lot pays, and a fully covered spend is refused.
        assert_eq!(
            ledger.spend("8", true, sale(&[elsewhere], &[])),
            Err(CommandError::Rejected(WalletRejection::InsufficientFunds))
        );
        let effects = ledger.spend("8", false, sale(&[elsewhere], &[])).unwrap();
        assert_eq!(Ledger::taken(&effects), [(free, d("4"))]);
        // At a venue under the merchant (the places list it), the pooled lot pays.
        let effects = ledger.spend("6", true, sale(&[venue, merchant], &[])).unwrap();
        assert_eq!(Ledger::taken(&effects), [(pooled, d("6"))]);
        assert_eq!(ledger.wallet.balances().total, d("4"));
    }

    #[test]
    fn a_lot_bound_to_products_pays_only_for_their_lines_and_never_twice_for_one() {
        let mut ledger = Ledger::new();
        // Soonest expiring first: both coffee lots before the free one.
        let coffee = ledger.award(
            "5",
            Some(10),
            Some(SpendConditions {
                organisations: vec![],
                products: skus(&["COFFEE"]),
            }),
        );
        let coffee_too = ledger.award(
            "5",
            Some(20),
            Some(SpendConditions {
                organisations: vec![],
                products: skus(&["COFFEE", "CAKE"]),
            }),
        );
        let free = ledger.award("20", None, None);
        let lines = [line("COFFEE", "3"), line("TEA", "4"), line("CAKE", "2.50")];
        let effects = ledger.spend("9.50", true, sale(&[], &lines)).unwrap();
        // The first pays the coffee (3); the second what is left of its lines: the cake (2.50);
        // the free lot the rest (the tea, 4).
        assert_eq!(
            Ledger::taken(&effects),
            [(coffee, d("3")), (coffee_too, d("2.50")), (free, d("4"))]
        );
        // Without a line it names, a product-bound lot pays nothing.
        let effects = ledger.spend("1", true, sale(&[], &[line("TEA", "1")])).unwrap();
        assert_eq!(Ledger::taken(&effects), [(free, d("1"))]);
        assert_eq!(ledger.wallet.balances().total, d("19.50"));
    }

    #[test]
    fn transfers_send_only_value_without_conditions() {
        let mut ledger = Ledger::new();
        ledger.award(
            "10",
            Some(5),
            Some(SpendConditions {
                organisations: vec![OrganisationId::random()],
                products: ProductFilter::default(),
            }),
        );
        let free = ledger.award("3", None, None);
        assert_eq!(
            ledger.wallet.transfer_out(1, TransferId::random(), d("4")),
            Err(CommandError::Rejected(WalletRejection::InsufficientFunds))
        );
        let event = ledger.wallet.transfer_out(1, TransferId::random(), d("3")).unwrap();
        assert!(event.entries.iter().all(|entry| entry.lot == free));
        ledger.keep(event);
        assert_eq!(ledger.wallet.balances().total, d("10"));
    }

    #[test]
    fn a_spend_given_back_to_a_revoked_pooled_lot_keeps_its_conditions() {
        let merchant = OrganisationId::random();
        let conditions = SpendConditions {
            organisations: vec![merchant],
            products: ProductFilter::default(),
        };
        let mut ledger = Ledger::new();
        // The award's purchase, then a spend of 4 of it, then the award cancelled: its lot
        // is revoked (4 of shortfall, settled by a later award); cancelling the spend gives
        // 4 back into a new lot.
        let awarded = ledger.award_effects("10", None, Some(conditions.clone()));
        let spent = ledger.spend("4", true, sale(&[merchant], &[])).unwrap();
        let event = ledger
            .wallet
            .cancel_purchase(2, PurchaseId::random(), &awarded, &Default::default(), MAX)
            .unwrap();
        ledger.keep(event);
        assert_eq!(ledger.wallet.balances().shortfall, d("4"));
        ledger.award("4", None, None);
        assert_eq!(ledger.wallet.balances().shortfall, Decimal::ZERO);
        let event = ledger
            .wallet
            .cancel_purchase(3, PurchaseId::random(), &spent, &Default::default(), MAX)
            .unwrap();
        let reopened: Vec<LotId> = event
            .entries
            .iter()
            .filter(|entry| entry.new_lot.is_some())
            .map(|entry| entry.lot)
            .collect();
        assert_eq!(
            event.pools.iter().map(|pooled| pooled.lot).collect::<Vec<_>>(),
            reopened
        );
        ledger.keep(event);
        for lot in reopened {
            assert_eq!(ledger.wallet.conditions(lot).map(|c| c.as_ref()), Some(&conditions));
        }
        // The value back is still bound to the merchant.
        assert_eq!(ledger.wallet.balances().total, d("4"));
        let anywhere = d("100");
        assert_eq!(
            ledger
                .wallet
                .spendable_within(4, anywhere, SpendScope::Sale(sale(&[], &[]))),
            Decimal::ZERO
        );
        assert_eq!(
            ledger
                .wallet
                .spendable_within(4, anywhere, SpendScope::Sale(sale(&[merchant], &[]))),
            d("4")
        );
    }

    #[test]
    fn snapshots_and_events_of_before_pools_read_with_none() {
        use crate::storage::codec::{decode, encode};
        let mut ledger = Ledger::new();
        ledger.award("5", None, None);
        let wallet = &ledger.wallet;
        let old = WalletBeforePools {
            header: wallet.header.clone(),
            lots: wallet.lots.clone(),
            shortfall: wallet.shortfall,
            next_lot_id: wallet.next_lot_id,
            next_seq: wallet.next_seq,
            holds: wallet.holds.clone(),
        };
        let bytes = encode(&old);
        assert!(decode::<Wallet>(&bytes).is_err());
        let read = crate::storage::decode_wallet(&bytes).unwrap();
        assert_eq!(&read, wallet);
        let event = &ledger.journal[0];
        let old = WalletEventBeforePools {
            seq: event.seq,
            at: event.at,
            cause: event.cause.clone(),
            entries: event.entries.clone(),
        };
        let bytes = encode(&old);
        assert!(decode::<super::super::WalletEvent>(&bytes).is_err());
        assert_eq!(&crate::storage::decode_wallet_event(&bytes).unwrap(), event);
    }

    proptest::proptest! {
        /// Any lots with any conditions, any sale, any spend: the plan takes only eligible
        /// lots, in spend order, never more than a lot holds or the spend asks, never more for
        /// product-bound lots than the lines they match, and stops short only when every
        /// unconditioned lot is empty; posting it debits exactly the plan.
        #[test]
        fn a_spend_plan_takes_only_what_the_sale_allows(
            lots in proptest::collection::vec((1i64..5_000, proptest::option::of(2i64..6), 0u8..6), 0..8),
            places in 0u8..4,
            lines in proptest::collection::vec((0u8..3, 0i64..3_000), 0..4),
            amount in 1i64..20_000,
        ) {
            let (a, b) = (OrganisationId(uuid::Uuid::from_u128(1)), OrganisationId(uuid::Uuid::from_u128(2)));
            let condition = |kind: u8| match kind {
                1 => Some(SpendConditions { organisations: vec![a], products: ProductFilter::default() }),
                2 => Some(SpendConditions { organisations: vec![b], products: ProductFilter::default() }),
                3 => Some(SpendConditions { organisations: vec![], products: skus(&["X"]) }),
                4 => Some(SpendConditions { organisations: vec![], products: skus(&["Y"]) }),
                5 => Some(SpendConditions { organisations: vec![a], products: skus(&["X", "Y"]) }),
                _ => None,
            };
            let mut ledger = Ledger::new();
            for (cents, expires_at, kind) in &lots {
                ledger.award(&Decimal::new(*cents, 2).to_string(), *expires_at, condition(*kind));
            }
            let places: Vec<OrganisationId> = [(1u8, a), (2, b)].iter().filter(|(bit, _)| places & bit != 0).map(|(_, id)| *id).collect();
            let lines: Vec<ProductLine> = lines
                .iter()
                .map(|(sku, cents)| line(["X", "Y", "Z"][usize::from(*sku)], &Decimal::new(*cents, 2).to_string()))
                .collect();
            let at = sale(&places, &lines);
            let amount = Decimal::new(amount, 2);
            let plan = ledger.wallet.spend_plan(1, amount, SpendScope::Sale(at));
            let taken = planned(&plan);
            proptest::prop_assert!(taken <= amount);
            let mut last = None;
            let mut product_bound = Decimal::ZERO;
            for debit in &plan {
                let lot = ledger.wallet.lot(debit.lot).unwrap();
                proptest::prop_assert!(debit.amount > Decimal::ZERO && debit.amount <= lot.remaining);
                proptest::prop_assert!(last < Some(lot.spend_order_key()), "in spend order");
                last = Some(lot.spend_order_key());
                if let Some(conditions) = ledger.wallet.conditions(debit.lot) {
                    proptest::prop_assert!(conditions.admits_place(&places));
                    if !conditions.products.is_empty() {
                        let matching = lines
                            .iter()
                            .filter(|line| conditions.products.matches(&line.product_sku, None))
                            .fold(Decimal::ZERO, |sum, line| sum + line.amount().unwrap());
                        proptest::prop_assert!(debit.amount <= matching);
                        product_bound += debit.amount;
                    }
                }
            }
            let any_product_line = lines
                .iter()
                .filter(|line| line.product_sku != "Z")
                .fold(Decimal::ZERO, |sum, line| sum + line.amount().unwrap());
            proptest::prop_assert!(product_bound <= any_product_line, "no line paid twice");
            if taken < amount {
                for lot in ledger.wallet.lots().filter(|lot| ledger.wallet.conditions(lot.id).is_none()) {
                    let debited = plan.iter().filter(|debit| debit.lot == lot.id).map(|debit| debit.amount).sum::<Decimal>();
                    proptest::prop_assert_eq!(lot.remaining, debited, "a short plan empties every unconditioned lot");
                }
            }
            let before = ledger.wallet.balances().total;
            let effects = ledger.spend(&amount.to_string(), false, at).unwrap();
            proptest::prop_assert_eq!(Ledger::taken(&effects), plan.iter().map(|debit| (debit.lot, debit.amount)).collect::<Vec<_>>());
            proptest::prop_assert_eq!(ledger.wallet.balances().total, before - taken);
        }
    }
}
