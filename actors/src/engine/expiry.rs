//! The scheduled expiry sweep: lots expire on the engine clock even in wallets nobody
//! touches.
//!
//! Every wallet commit keeps the expiry index (`LotExpiry`, ordered by instant) in step: a
//! lot opened with an expiry adds an entry, an expiry removes one. A loop wakes every
//! `[purchases] expiry_sweep_interval_ms`, reads the entries due on the engine clock, and
//! sends each wallet one `Sweep` naming them; the wallet's actor expires what is due (the
//! same code a purchase or a read runs on touch, so a lot never expires twice: its value is
//! gone after the first) and removes the entries in the same commit. A wallet that is busy
//! or fails keeps its entries for the next round; nothing is lost by a crash, since the
//! index is written with the lots.

use super::{Engine, Inner};
use crate::actors::kit::AskError;
use crate::actors::wallet::WalletCommand;
use crate::domain::ids::{Tenant, WalletId};
use crate::metrics_names as names;
use crate::storage::{LotExpiry, Store, StoreError, WriteSet};
use actix::ArbiterHandle;
use std::collections::BTreeMap;
use std::sync::Weak;
use std::time::Duration;

/// Set once every wallet's lots are in the expiry index (new stores, from the start).
const INDEX_KEPT: &str = "lot_expiries_kept";

/// Builds the expiry index once for a data dir written before it was kept, from every
/// wallet's unexpired lots.
pub(crate) fn ensure_index(store: &Store) -> Result<(), StoreError> {
    // An empty store is left empty for its first start (bootstrap), which marks it.
    if store.meta(INDEX_KEPT)?.is_some() || store.is_empty()? {
        return Ok(());
    }
    let mut writes = WriteSet::default();
    let mut indexed = 0usize;
    store.visit_wallets(|wallet| {
        let mut instants: Vec<i64> = wallet
            .lots()
            .filter(|lot| !lot.revoked && lot.remaining > rust_decimal::Decimal::ZERO)
            .filter_map(|lot| lot.expires_at)
            .collect();
        instants.sort_unstable();
        instants.dedup();
        indexed += usize::from(!instants.is_empty());
        for expires_at in instants {
            writes.lot_expiry(&LotExpiry {
                expires_at,
                tenant: wallet.header.tenant,
                wallet: wallet.header.id,
            });
        }
    })?;
    mark_index_kept(&mut writes);
    store.commit_and_wait(writes)?;
    if indexed > 0 {
        tracing::info!(
            wallets = indexed,
            "indexed the wallets' lots by expiry for the scheduled sweep"
        );
    }
    Ok(())
}

/// Marks a new store as keeping the expiry index from the start.
pub(crate) fn mark_index_kept(writes: &mut WriteSet) {
    writes.meta(INDEX_KEPT, b"1");
}

/// Index entries read per round.
const ROUND_MAX: usize = 1_024;
/// Wallets swept at once.
const PARALLEL_MAX: usize = 64;

/// What one round of the sweep came to.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepRound {
    /// Wallets sent a sweep.
    pub wallets: usize,
    /// Of them, wallets where something expired.
    pub expired: usize,
    /// Wallets to try again next round (busy, or a failure).
    pub deferred: usize,
}

pub(super) fn spawn(engine: &Engine, arbiter: &ArbiterHandle) {
    let interval = Duration::from_millis(engine.inner.settings.purchases.expiry_sweep_interval_ms.max(1));
    arbiter.spawn(run(std::sync::Arc::downgrade(&engine.inner), interval));
}

async fn run(inner: Weak<Inner>, interval: Duration) {
    loop {
        actix_rt::time::sleep(interval).await;
        // Held only during a round, so dropping the engine ends the loop.
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let engine = Engine { inner };
        if engine.check_open().is_err() {
            return;
        }
        loop {
            match engine.sweep_expired_lots().await {
                // A full round may have left more due; a round with failures waits.
                Ok(round) if round.wallets > 0 && round.deferred == 0 => continue,
                Ok(_) => break,
                Err(error) => {
                    tracing::error!(%error, "the scheduled expiry sweep failed; it runs again next interval");
                    break;
                }
            }
        }
    }
}

impl Engine {
    /// One round of the scheduled sweep: the wallets with lots due on the engine clock
    /// (up to a round's worth of index entries) each expire what is due.
    pub async fn sweep_expired_lots(&self) -> Result<SweepRound, super::EngineError> {
        self.check_open()?;
        let now = self.now();
        let due = self.inner.store.lot_expiries_due(now, ROUND_MAX)?;
        let mut wallets: BTreeMap<(Tenant, WalletId), Vec<i64>> = BTreeMap::new();
        for entry in due {
            wallets
                .entry((entry.tenant, entry.wallet))
                .or_default()
                .push(entry.expires_at);
        }
        let mut round = SweepRound {
            wallets: wallets.len(),
            ..SweepRound::default()
        };
        let mut gone = WriteSet::default();
        let mut sweeps = wallets.into_iter();
        loop {
            let batch: Vec<_> = sweeps.by_ref().take(PARALLEL_MAX).collect();
            if batch.is_empty() {
                break;
            }
            let outcomes = futures_util::future::join_all(batch.into_iter().map(|(key, due)| async move {
                let asked = self
                    .inner
                    .wallets
                    .ask(&key, |reply| WalletCommand::Sweep {
                        due: due.clone(),
                        reply,
                    })
                    .await;
                (key, due, asked)
            }))
            .await;
            for ((tenant, wallet), due, asked) in outcomes {
                match asked {
                    Ok(true) => round.expired += 1,
                    Ok(false) => {}
                    // The wallet is gone (its contact was deleted): so are its lots.
                    Err(AskError::NotFound) => {
                        for expires_at in due {
                            gone.remove_lot_expiry(&LotExpiry {
                                expires_at,
                                tenant,
                                wallet,
                            });
                        }
                    }
                    Err(error) => {
                        if !matches!(error, AskError::Busy) {
                            tracing::warn!(%wallet, ?error, "sweeping a wallet's expired lots failed; retried next round");
                        }
                        round.deferred += 1;
                    }
                }
            }
        }
        if !gone.is_empty() {
            self.commit_durable(gone).await?;
        }
        metrics::counter!(names::EXPIRY_SWEEP_WALLETS_TOTAL, "outcome" => "expired").increment(round.expired as u64);
        metrics::counter!(names::EXPIRY_SWEEP_WALLETS_TOTAL, "outcome" => "deferred").increment(round.deferred as u64);
        Ok(round)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{OfferId, PurchaseId};
    use crate::domain::wallet::{AwardGrant, SpendRequest, Wallet};
    use rust_decimal::Decimal;

    fn grant(amount: i64, expires_at: Option<i64>) -> AwardGrant {
        AwardGrant {
            offer_id: OfferId::random(),
            amount: Decimal::from(amount),
            expires_at,
        }
    }

    #[test]
    fn a_data_dir_of_before_the_index_gets_its_unexpired_lots_indexed_once() {
        let dir = tempfile::TempDir::new().unwrap();
        let store = Store::open(dir.path(), &crate::storage::tests::settings(1024)).unwrap();
        let max = Decimal::from(1_000_000);
        // Lots expiring at 100 (twice), 200 (spent before its expiry) and never.
        let mut wallet = Wallet::for_tests();
        let grants = [
            grant(5, Some(200)),
            grant(3, Some(100)),
            grant(4, Some(100)),
            grant(9, None),
        ];
        wallet
            .post_purchase(10, PurchaseId::random(), None, &grants, max)
            .unwrap();
        let spend = SpendRequest {
            amount: Decimal::from(8),
            restrict_fully_covered: true,
        };
        wallet
            .post_purchase(20, PurchaseId::random(), Some(spend), &[], max)
            .unwrap();
        let mut writes = WriteSet::default();
        writes.wallet_snapshot(&wallet);
        store.commit_and_wait(writes).unwrap();
        assert!(store.lot_expiries_due(i64::MAX, 10).unwrap().is_empty());

        ensure_index(&store).unwrap();
        let entry = |expires_at| LotExpiry {
            expires_at,
            tenant: wallet.header.tenant,
            wallet: wallet.header.id,
        };
        // The spend took the lots expiring at 100 (soonest first) and 1 of the one at 200.
        assert_eq!(store.lot_expiries_due(i64::MAX, 10).unwrap(), [entry(200)]);
        // Once: the index is the actors' to keep from then on, never rebuilt over.
        let mut writes = WriteSet::default();
        writes.remove_lot_expiry(&entry(200));
        store.commit_and_wait(writes).unwrap();
        ensure_index(&store).unwrap();
        assert!(store.lot_expiries_due(i64::MAX, 10).unwrap().is_empty());
        store.shutdown();
    }

    #[test]
    fn the_index_orders_expiries_before_and_after_the_epoch() {
        let dir = tempfile::TempDir::new().unwrap();
        let store = Store::open(dir.path(), &crate::storage::tests::settings(1024)).unwrap();
        let wallet = Wallet::for_tests();
        let mut writes = WriteSet::default();
        for expires_at in [5, -5, i64::MAX, i64::MIN, 0] {
            writes.lot_expiry(&LotExpiry {
                expires_at,
                tenant: wallet.header.tenant,
                wallet: wallet.header.id,
            });
        }
        store.commit_and_wait(writes).unwrap();
        let due: Vec<i64> = store
            .lot_expiries_due(0, 10)
            .unwrap()
            .iter()
            .map(|entry| entry.expires_at)
            .collect();
        assert_eq!(due, [i64::MIN, -5, 0]);
        store.shutdown();
    }
}
