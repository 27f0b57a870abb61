//! Named commerce pools in the wallet: which pool each lot was credited to (written with the
//! event that opens the lot, like its conditions), and what the wallet holds per pool, with
//! when it expires — the contract's `commerce_balances`.

use super::{Lot, LotId, PooledLot, Wallet};
use crate::domain::ids::CommercePoolId;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

const DAY_S: i64 = 86_400;

/// A lot credited to a named commerce pool, as its event records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolTag {
    pub lot: LotId,
    pub pool: CommercePoolId,
}

/// Value by when it expires, counted from now: within 30 days, 30 to 60, 60 to 90, and
/// later. Value that never expires is in none of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpiringAmounts {
    pub zero_to_thirty: Decimal,
    pub thirty_to_sixty: Decimal,
    pub sixty_to_ninety: Decimal,
    pub ninety_plus: Decimal,
}

impl ExpiringAmounts {
    fn add(&mut self, now: i64, lot: &Lot) {
        let Some(expires_at) = lot.expires_at else { return };
        let days = expires_at.saturating_sub(now) / DAY_S;
        let bucket = match days {
            ..30 => &mut self.zero_to_thirty,
            30..60 => &mut self.thirty_to_sixty,
            60..90 => &mut self.sixty_to_ninety,
            _ => &mut self.ninety_plus,
        };
        *bucket = bucket.saturating_add(lot.remaining);
    }
}

/// What the wallet holds in one named commerce pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolBalance {
    pub pool: CommercePoolId,
    pub amount: Decimal,
    pub expiring: ExpiringAmounts,
}

impl Wallet {
    /// The named pool `lot` was credited to, if any.
    pub fn pool_of(&self, lot: LotId) -> Option<CommercePoolId> {
        self.pool_ids.get(&lot).copied()
    }

    /// What the wallet can spend per named pool at `now` (lots not expired by then), the
    /// largest first; pools it holds nothing in are left out.
    pub fn pool_balances(&self, now: i64) -> Vec<PoolBalance> {
        let mut by_pool: BTreeMap<CommercePoolId, PoolBalance> = BTreeMap::new();
        for (&lot_id, &pool) in &self.pool_ids {
            let Some(lot) = self.lots.get(&lot_id) else { continue };
            if lot.revoked || lot.remaining <= Decimal::ZERO || lot.expires_at.is_some_and(|at| at <= now) {
                continue;
            }
            let balance = by_pool.entry(pool).or_insert_with(|| PoolBalance {
                pool,
                amount: Decimal::ZERO,
                expiring: ExpiringAmounts::default(),
            });
            balance.amount = balance.amount.saturating_add(lot.remaining);
            balance.expiring.add(now, lot);
        }
        let mut balances: Vec<PoolBalance> = by_pool.into_values().collect();
        balances.sort_by(|a, b| b.amount.cmp(&a.amount).then(a.pool.cmp(&b.pool)));
        balances
    }
}

/// A wallet snapshot's layout before pool ids (a prefix of today's): no lot is in a named
/// pool.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WalletBeforePoolIds {
    header: super::WalletHeader,
    lots: BTreeMap<LotId, Lot>,
    #[serde(with = "crate::domain::money::exact_decimal")]
    shortfall: Decimal,
    next_lot_id: LotId,
    next_seq: u64,
    holds: BTreeMap<crate::domain::ids::EstimateId, super::HeldFunds>,
    pools: BTreeMap<LotId, Arc<crate::domain::offer::SpendConditions>>,
}

impl From<WalletBeforePoolIds> for Wallet {
    fn from(old: WalletBeforePoolIds) -> Wallet {
        Wallet {
            lots: old.lots,
            shortfall: old.shortfall,
            next_lot_id: old.next_lot_id,
            next_seq: old.next_seq,
            holds: old.holds,
            pools: old.pools,
            ..Wallet::open(old.header)
        }
    }
}

/// A wallet event's layout before pool ids (a prefix of today's).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WalletEventBeforePoolIds {
    seq: u64,
    at: i64,
    cause: super::Cause,
    entries: Vec<super::Entry>,
    pools: Vec<PooledLot>,
}

impl From<WalletEventBeforePoolIds> for super::WalletEvent {
    fn from(old: WalletEventBeforePoolIds) -> super::WalletEvent {
        super::WalletEvent {
            seq: old.seq,
            at: old.at,
            cause: old.cause,
            entries: old.entries,
            pools: old.pools,
            pool_ids: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{OfferId, PurchaseId};
    use crate::domain::offer::SpendConditions;
    use crate::domain::wallet::{AwardGrant, AwardRoute, Posting, SaleScope, WalletEvent};
    use crate::storage::codec::{decode, encode};
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    /// Awards `amount` expiring at `expires_at` into `pool` (none: the wallet).
    fn award(wallet: &mut Wallet, amount: &str, expires_at: Option<i64>, pool: Option<CommercePoolId>) -> WalletEvent {
        let grants = [AwardGrant {
            offer_id: OfferId::random(),
            amount: d(amount),
            expires_at,
        }];
        let routes = [pool.map_or(AwardRoute::Wallet, |pool| AwardRoute::Pool {
            conditions: Arc::new(SpendConditions::default()),
            pool: Some(pool),
        })];
        let posting = Posting {
            purchase: PurchaseId::random(),
            spend: None,
            sale: SaleScope::UNKNOWN,
            awards: &grants,
            routes: &routes,
        };
        let max = Decimal::from(1_000_000_000);
        wallet.post_purchase_with(0, posting, max).unwrap().0
    }

    #[test]
    fn balances_per_pool_are_largest_first_with_expiry_buckets_and_survive_replay() {
        let (coffee, books) = (CommercePoolId::random(), CommercePoolId::random());
        let mut live = Wallet::for_tests();
        let start = live.clone();
        let mut events = vec![
            award(&mut live, "5", Some(10 * DAY_S), Some(coffee)),
            award(&mut live, "3", Some(45 * DAY_S), Some(coffee)),
            award(&mut live, "20", None, Some(books)),
            award(&mut live, "7", Some(100 * DAY_S), None),
            award(&mut live, "2", Some(89 * DAY_S + 5), Some(books)),
        ];
        let balances = live.pool_balances(0);
        assert_eq!(balances.iter().map(|b| b.pool).collect::<Vec<_>>(), [books, coffee]);
        assert_eq!(balances[0].amount, d("22"));
        assert_eq!(balances[0].expiring.sixty_to_ninety, d("2"));
        assert_eq!(balances[0].expiring.ninety_plus, Decimal::ZERO);
        assert_eq!(balances[1].amount, d("8"));
        assert_eq!(balances[1].expiring.zero_to_thirty, d("5"));
        assert_eq!(balances[1].expiring.thirty_to_sixty, d("3"));
        // At day 20 the first lot expired; the second is then within 30 days.
        let later = live.pool_balances(20 * DAY_S);
        assert_eq!(later[1].amount, d("3"));
        assert_eq!(later[1].expiring.zero_to_thirty, d("3"));

        // A replay from the events rebuilds each lot's pool.
        let mut replayed = start;
        for event in &events {
            replayed.replay(event).unwrap();
        }
        assert_eq!(replayed, live);
        assert_eq!(replayed.pool_balances(0), balances);

        // Events and snapshots written before pool ids read with none.
        let event = events.remove(0);
        let old = WalletEventBeforePoolIds {
            seq: event.seq,
            at: event.at,
            cause: event.cause.clone(),
            entries: event.entries.clone(),
            pools: event.pools.clone(),
        };
        let bytes = encode(&old);
        assert!(decode::<WalletEvent>(&bytes).is_err());
        let read = crate::storage::decode_wallet_event(&bytes).unwrap();
        assert_eq!(
            read,
            WalletEvent {
                pool_ids: Vec::new(),
                ..event
            }
        );
        let old = WalletBeforePoolIds {
            header: live.header.clone(),
            lots: live.lots.clone(),
            shortfall: live.shortfall,
            next_lot_id: live.next_lot_id,
            next_seq: live.next_seq,
            holds: live.holds.clone(),
            pools: live.pools.clone(),
        };
        let bytes = encode(&old);
        assert!(decode::<Wallet>(&bytes).is_err());
        let read = crate::storage::decode_wallet(&bytes).unwrap();
        assert!(read.pool_balances(0).is_empty());
        assert_eq!(read.recomputed_total(), live.recomputed_total());
    }
}
