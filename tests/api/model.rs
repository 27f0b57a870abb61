//! Model test: random sequences of purchases (awards and spends), cancels, retries, clock
//! moves (expiry), reads, transfers to and from a second wallet (with crashes between a
//! transfer's acknowledgement and its delivery), restarts and crashes, applied to the real engine (actors, journal
//! writer, fjall) and to a small reference model written straight from the rules. Outcomes,
//! balances, shortfall, every lot and every journal line must agree after every step.
//!
//! A crash drops the engine as `kill -9` would (`Engine::crash`: no snapshot at stop, no
//! queued write, the deriver stopped where it was), so a restart recovers each wallet from
//! its last snapshot plus the events after it; the run asserts that such replays happened.
//! The seed is printed; `MODEL_SEED=<hex>` replays a run, and failures are kept in
//! `tests/api/model.proptest-regressions`.

use proptest::prelude::*;
use rewards_engine::domain::access::Caller;
use rewards_engine::domain::ids::ReferenceNumber;
use rewards_engine::domain::offer::AwardKind;
use rewards_engine::engine::{ContactRef, PurchaseSubmission, SubmittedAmounts, TransferRequest};
use rewards_engine::storage::Store;
use rewards_engine::{testing, Clock, Engine, EngineError, ManualClock};
use rust_decimal::{Decimal, RoundingStrategy};
use std::sync::Arc;

const START: i64 = 1_800_000_000;
const HOUR: i64 = 3_600;
const FIXED_AWARD_EXPIRY_DAYS: u32 = 2;

#[derive(Debug, Clone)]
enum Op {
    Purchase {
        total_cents: u32,
        spend_cents: Option<u32>,
        restrict: bool,
    },
    Cancel(usize),
    Retry(usize),
    Advance {
        hours: u32,
    },
    Read,
    /// A graceful stop (snapshots written) and a start.
    Restart,
    /// A crash and a start: whatever the deriver had not applied comes back from the log,
    /// and wallets replay the events after their last snapshot.
    Crash,
    /// A transfer to (or from) a second contact's wallet; with `crash`, the engine crashes
    /// right after the transfer is acknowledged, before the outbox delivered its credit.
    Transfer {
        cents: u32,
        inbound: bool,
        crash: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (100u32..20_000, proptest::option::of(1u32..4_000), any::<bool>())
            .prop_map(|(total_cents, spend_cents, restrict)| Op::Purchase { total_cents, spend_cents, restrict }),
        2 => any::<usize>().prop_map(Op::Cancel),
        1 => any::<usize>().prop_map(Op::Retry),
        2 => (0u32..60).prop_map(|hours| Op::Advance { hours }),
        1 => Just(Op::Read),
        1 => Just(Op::Restart),
        2 => Just(Op::Crash),
        3 => (1u32..3_000, any::<bool>(), proptest::bool::weighted(0.3))
            .prop_map(|(cents, inbound, crash)| Op::Transfer { cents, inbound, crash }),
    ]
}

// ----- the reference model: the rules, written as plainly as possible -----------------------

#[derive(Debug, Clone)]
struct Lot {
    amount: Decimal,
    remaining: Decimal,
    expired: Decimal,
    expires_at: Option<i64>,
    revoked: bool,
}

#[derive(Debug, Clone)]
struct Posted {
    submission: PurchaseSubmission,
    award_lots: Vec<usize>,
    spends: Vec<(usize, Decimal)>,
    cancelled: bool,
    award: Decimal,
    spent: Decimal,
}

#[derive(Debug, Default)]
struct Model {
    lots: Vec<Lot>,
    shortfall: Decimal,
    journal_sum: Decimal,
    /// Every journal line with an amount: (transaction type, amount).
    journal: Vec<(&'static str, Decimal)>,
    posted: Vec<Posted>,
}

impl Model {
    fn balance(&self) -> Decimal {
        self.lots.iter().map(|lot| lot.remaining).sum()
    }

    fn expire(&mut self, now: i64) {
        for lot in &mut self.lots {
            if !lot.revoked && lot.remaining > Decimal::ZERO && lot.expires_at.is_some_and(|at| at <= now) {
                lot.expired += lot.remaining;
                self.journal_sum -= lot.remaining;
                self.journal.push(("EXPIRATION", lot.remaining));
                lot.remaining = Decimal::ZERO;
            }
        }
    }

    fn spend_order(&self, now: i64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.lots.len())
            .filter(|&i| {
                let lot = &self.lots[i];
                lot.remaining > Decimal::ZERO && !lot.revoked && lot.expires_at.is_none_or(|at| at > now)
            })
            .collect();
        order.sort_by_key(|&i| (self.lots[i].expires_at.unwrap_or(i64::MAX), i));
        order
    }

    fn settle(&mut self, lot: usize, credited: Decimal) {
        let settled = self.shortfall.min(credited).min(self.lots[lot].remaining);
        self.lots[lot].remaining -= settled;
        self.shortfall -= settled;
        self.journal_sum -= settled;
        if !settled.is_zero() {
            self.journal.push(("SHORTFALL_SETTLEMENT", settled));
        }
    }

    fn credit_new_lot(&mut self, kind: &'static str, amount: Decimal, expires_at: Option<i64>) -> usize {
        self.lots.push(Lot {
            amount,
            remaining: amount,
            expired: Decimal::ZERO,
            expires_at,
            revoked: false,
        });
        self.journal_sum += amount;
        self.journal.push((kind, amount));
        let lot = self.lots.len() - 1;
        self.settle(lot, amount);
        lot
    }

    /// Sends `amount` by a transfer: debited from the lots in spend order; `false` (nothing
    /// changed) when the balance does not cover it.
    fn transfer_out(&mut self, now: i64, amount: Decimal) -> bool {
        self.expire(now);
        let order = self.spend_order(now);
        let available: Decimal = order.iter().map(|&i| self.lots[i].remaining).sum();
        if available < amount {
            return false;
        }
        let mut left = amount;
        for i in order {
            if left.is_zero() {
                break;
            }
            let take = self.lots[i].remaining.min(left);
            self.lots[i].remaining -= take;
            self.journal_sum -= take;
            self.journal.push(("TRANSFER", take));
            left -= take;
        }
        true
    }

    /// Spend first (from value held before the purchase), then award.
    fn purchase(
        &mut self,
        now: i64,
        spend: Option<(Decimal, bool)>,
        awards: &[(Decimal, Option<i64>)],
    ) -> Option<Posted> {
        self.expire(now);
        let order = self.spend_order(now);
        let available: Decimal = order.iter().map(|&i| self.lots[i].remaining).sum();
        if let Some((amount, true)) = spend {
            if available < amount {
                return None;
            }
        }
        let mut spends = Vec::new();
        let mut left = spend.map(|(amount, _)| amount.min(available)).unwrap_or_default();
        for i in order {
            if left.is_zero() {
                break;
            }
            let take = self.lots[i].remaining.min(left);
            self.lots[i].remaining -= take;
            self.journal_sum -= take;
            self.journal.push(("SPEND", take));
            spends.push((i, take));
            left -= take;
        }
        let mut award_lots = Vec::new();
        for &(amount, expires_at) in awards.iter().filter(|(amount, _)| *amount > Decimal::ZERO) {
            award_lots.push(self.credit_new_lot("AWARD", amount, expires_at));
        }
        let award = awards.iter().map(|(a, _)| *a).sum();
        let spent = spends.iter().map(|(_, x)| *x).sum();
        Some(Posted {
            submission: placeholder_submission(),
            award_lots,
            spends,
            cancelled: false,
            award,
            spent,
        })
    }

    fn cancel(&mut self, now: i64, index: usize) {
        if self.posted[index].cancelled {
            return;
        }
        self.expire(now);
        let purchase = self.posted[index].clone();
        for &i in &purchase.award_lots {
            let lot = &mut self.lots[i];
            self.shortfall += lot.amount - lot.remaining - lot.expired;
            self.journal_sum -= lot.remaining;
            if !lot.remaining.is_zero() {
                self.journal.push(("AWARD_REVERSAL", lot.remaining));
            }
            lot.remaining = Decimal::ZERO;
            lot.revoked = true;
        }
        for &(i, amount) in &purchase.spends {
            if self.lots[i].revoked {
                let expires_at = self.lots[i].expires_at;
                self.credit_new_lot("SPEND_REVERSAL", amount, expires_at);
            } else {
                self.lots[i].remaining += amount;
                self.journal_sum += amount;
                self.journal.push(("SPEND_REVERSAL", amount));
                self.settle(i, amount);
            }
        }
        self.expire(now);
        self.posted[index].cancelled = true;
    }
}

fn placeholder_submission() -> PurchaseSubmission {
    PurchaseSubmission {
        reference_number: ReferenceNumber::parse("placeholder").unwrap(),
        contact: ContactRef::Code(rewards_engine::domain::ids::ContactCode::parse("x").unwrap()),
        currency: None,
        amounts: SubmittedAmounts {
            net: None,
            tax: None,
            discount: None,
            total: Decimal::ZERO,
        },
        date: None,
        products: Vec::new(),
        classes: Vec::new(),
        spend: None,
        organisation: Default::default(),
        pass: None,
    }
}

// ----- driving the real engine ---------------------------------------------------------

struct Harness {
    dir: tempfile::TempDir,
    clock: ManualClock,
    engine: Engine,
}

fn store_settings() -> rewards_engine::storage::StoreSettings {
    testing::store_settings(
        rewards_engine::storage::TableSettings::small(),
        rewards_engine::storage::WriterSettings {
            batch_events_max: 1024,
            batch_wait_us: 0,
            queue_len_max: 1024,
            log_segment_bytes_max: 64 << 20,
            underived_bytes_max: 256 << 20,
            // A slow deriver (a few writes, then a pause), so the log is usually ahead of
            // fjall when a crash comes.
            derive_batch_writes_max: 4,
            derive_flush_ms: 1_000,
            derive_pause_ms: 3,
        },
    )
}

fn engine_settings() -> rewards_engine::EngineSettings {
    testing::engine_settings(rewards_engine::actors::ActorSettings {
        arbiters: 2,
        idle_ms: 60_000,
        mailbox_len_max: 64,
        // Small snapshot interval so restarts recover from snapshot plus replay.
        snapshot_every_events: 4,
        live_max: 0,
        // Tiny, so purchases meet both cached and evicted contact routes.
        contact_routes_max: 2,
    })
}

impl Harness {
    fn start(dir: tempfile::TempDir, clock: ManualClock) -> Harness {
        let store = Store::open(dir.path(), &store_settings()).expect("store opens");
        let engine = Engine::start(store, engine_settings(), Arc::new(clock.clone())).expect("engine starts");
        Harness { dir, clock, engine }
    }

    async fn restart(self) -> Harness {
        self.engine.shutdown().await;
        let Harness { dir, clock, engine } = self;
        drop(engine);
        Harness::start(dir, clock)
    }

    /// As `kill -9`: nothing more reaches the disk, no snapshot is written at stop.
    async fn crash(self) -> Harness {
        self.engine.crash().await;
        let Harness { dir, clock, engine } = self;
        drop(engine);
        Harness::start(dir, clock)
    }
}

/// Wallet events replayed after crashes, over every case of the run.
static REPLAYED_AFTER_CRASH: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut harness = Harness::start(tempfile::TempDir::new().unwrap(), ManualClock::new(START));
    let tenant = testing::business(&harness.engine, "Model", "model-key-0000000").await;
    let offer = testing::offer;
    let percentage = harness
        .engine
        .create_offer(tenant, offer("10%", AwardKind::Percentage, 10, None), None)
        .await
        .unwrap();
    let fixed = harness
        .engine
        .create_offer(
            tenant,
            offer("1.00", AwardKind::Fixed, 1, Some(FIXED_AWARD_EXPIRY_DAYS)),
            None,
        )
        .await
        .unwrap();
    let contact = harness
        .engine
        .create_contact(tenant, testing::contact("Model"), None)
        .await
        .unwrap();
    // The other end of transfers, funded with far more than the steps can move.
    let peer = harness
        .engine
        .create_contact(tenant, testing::contact("Peer"), None)
        .await
        .unwrap();
    harness
        .engine
        .post_purchase(
            &Caller::key(tenant.organisation, tenant.mode),
            tenant,
            PurchaseSubmission {
                reference_number: ReferenceNumber::parse("PEER-FUNDS").unwrap(),
                contact: ContactRef::Id(peer.id),
                currency: None,
                amounts: SubmittedAmounts {
                    net: None,
                    tax: None,
                    discount: None,
                    total: Decimal::from(100_000),
                },
                date: None,
                products: vec![],
                classes: vec![],
                spend: None,
                organisation: Default::default(),
                pass: None,
            },
        )
        .await
        .unwrap();
    // What transfers moved into the peer's wallet, net.
    let mut peer_net = Decimal::ZERO;
    let mut model = Model::default();

    for (step, op) in ops.into_iter().enumerate() {
        let now = harness.clock.now_s();
        match op {
            Op::Purchase {
                total_cents,
                spend_cents,
                restrict,
            } => {
                let total = Decimal::new(i64::from(total_cents), 2);
                let spend = spend_cents.map(|cents| (Decimal::new(i64::from(cents.min(total_cents)), 2), restrict));
                let submission = PurchaseSubmission {
                    reference_number: ReferenceNumber::parse(&format!("M-{step}")).unwrap(),
                    contact: ContactRef::Id(contact.id),
                    currency: None,
                    amounts: SubmittedAmounts {
                        net: None,
                        tax: None,
                        discount: None,
                        total,
                    },
                    date: None,
                    products: vec![],
                    classes: vec![],
                    spend,
                    organisation: Default::default(),
                    pass: None,
                };
                // The engine applies offers in the order it stores them (by id).
                let ten_percent =
                    (total / Decimal::TEN).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
                let mut awards = vec![
                    (percentage.id, ten_percent, None),
                    (
                        fixed.id,
                        Decimal::ONE,
                        Some(now + i64::from(FIXED_AWARD_EXPIRY_DAYS) * 86_400),
                    ),
                ];
                awards.sort_by_key(|(id, _, _)| *id);
                let awards: Vec<_> = awards.into_iter().map(|(_, amount, expiry)| (amount, expiry)).collect();
                let expected = model.purchase(now, spend, &awards);
                let outcome = harness
                    .engine
                    .post_purchase(
                        &Caller::key(tenant.organisation, tenant.mode),
                        tenant,
                        submission.clone(),
                    )
                    .await;
                match (expected, outcome) {
                    (Some(mut posted), Ok(record)) => {
                        prop_assert_eq!(record.effects.awarded(), posted.award, "award at step {}", step);
                        prop_assert_eq!(record.effects.spent(), posted.spent, "spend at step {}", step);
                        posted.submission = submission;
                        model.posted.push(posted);
                    }
                    (None, Err(EngineError::InsufficientFunds { .. })) => {}
                    (expected, outcome) => {
                        prop_assert!(
                            false,
                            "step {}: model {:?}, engine {:?}",
                            step,
                            expected.map(|p| (p.award, p.spent)),
                            outcome.map(|r| r.id)
                        );
                    }
                }
            }
            Op::Cancel(index) if !model.posted.is_empty() => {
                let index = index % model.posted.len();
                let id = rewards_engine::domain::ids::PurchaseId::for_reference(
                    &tenant,
                    &model.posted[index].submission.reference_number,
                );
                model.cancel(now, index);
                let record = harness
                    .engine
                    .cancel_purchase(tenant, id)
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(record.state, rewards_engine::domain::purchase::PurchaseState::Cancelled);
            }
            Op::Retry(index) if !model.posted.is_empty() => {
                let index = index % model.posted.len();
                let posted = &model.posted[index];
                let record = harness
                    .engine
                    .post_purchase(
                        &Caller::key(tenant.organisation, tenant.mode),
                        tenant,
                        posted.submission.clone(),
                    )
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(record.effects.awarded(), posted.award);
                prop_assert_eq!(record.effects.spent(), posted.spent);
            }
            Op::Transfer { cents, inbound, crash } => {
                let amount = Decimal::new(i64::from(cents), 2);
                let (from, to) = if inbound { (&peer, &contact) } else { (&contact, &peer) };
                let request = TransferRequest {
                    id: None,
                    origin: from.wallet_id,
                    destination: to.wallet_id,
                    amount,
                    code: None,
                    notes: None,
                    transfer_date: None,
                    pool: None,
                };
                let expected = if inbound {
                    model.expire(now);
                    model.credit_new_lot("TRANSFER", amount, None);
                    true
                } else {
                    model.transfer_out(now, amount)
                };
                match (expected, harness.engine.transfer(tenant, from.id, request, None).await) {
                    (true, Ok(_)) => peer_net += if inbound { -amount } else { amount },
                    (false, Err(EngineError::InsufficientFunds { .. })) => {}
                    (expected, outcome) => {
                        prop_assert!(
                            false,
                            "step {}: model {}, engine {:?}",
                            step,
                            expected,
                            outcome.map(|t| t.id)
                        );
                    }
                }
                if crash {
                    harness = harness.crash().await;
                }
                delivered(&harness.engine).await?;
                let peer_lines: Decimal = harness
                    .engine
                    .store()
                    .all_wallet_events(&tenant, peer.wallet_id)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?
                    .iter()
                    .flat_map(|event| event.entries.iter())
                    .filter(|entry| entry.kind.transaction_type() == "TRANSFER")
                    .map(|entry| entry.signed_amount())
                    .sum();
                prop_assert_eq!(peer_lines, peer_net, "the peer's transfers after step {}", step);
                let (peer_balance, peer_journal) = harness
                    .engine
                    .audit_wallet(tenant, peer.wallet_id)
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(peer_balance, peer_journal);
            }
            Op::Cancel(_) | Op::Retry(_) => {}
            Op::Advance { hours } => harness.clock.advance(i64::from(hours) * HOUR),
            Op::Read => {}
            Op::Restart => harness = harness.restart().await,
            Op::Crash => {
                harness = harness.crash().await;
                // Waking the wallet recovers it: snapshot plus the events after it.
                harness
                    .engine
                    .wallet(tenant, contact.wallet_id)
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                REPLAYED_AFTER_CRASH.fetch_add(
                    harness.engine.wallet_events_replayed(),
                    std::sync::atomic::Ordering::Relaxed,
                );
            }
        }
        // Every step ends with a read, which (like every wallet command) expires due lots.
        let now = harness.clock.now_s();
        model.expire(now);
        let (balance, journal_sum) = harness
            .engine
            .audit_wallet(tenant, contact.wallet_id)
            .await
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let view = harness
            .engine
            .wallet(tenant, contact.wallet_id)
            .await
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(balance, model.balance(), "balance after step {}", step);
        prop_assert_eq!(journal_sum, model.journal_sum, "journal sum after step {}", step);
        prop_assert_eq!(balance, journal_sum);
        prop_assert_eq!(
            view.balances.shortfall,
            model.shortfall,
            "shortfall after step {}",
            step
        );
        prop_assert!(balance >= Decimal::ZERO);
        // Every lot, and every journal line, as the model has them.
        let wallet = harness
            .engine
            .store()
            .load_wallet(&tenant, contact.wallet_id)
            .map_err(|e| TestCaseError::fail(e.to_string()))?
            .expect("the wallet exists");
        let lots: Vec<_> = wallet
            .lots()
            .map(|lot| (lot.amount, lot.remaining, lot.expired, lot.expires_at, lot.revoked))
            .collect();
        let model_lots: Vec<_> = model
            .lots
            .iter()
            .map(|lot| (lot.amount, lot.remaining, lot.expired, lot.expires_at, lot.revoked))
            .collect();
        prop_assert_eq!(lots, model_lots, "lots after step {}", step);
        let mut lines: Vec<(&'static str, Decimal)> = harness
            .engine
            .store()
            .all_wallet_events(&tenant, contact.wallet_id)
            .map_err(|e| TestCaseError::fail(e.to_string()))?
            .iter()
            .flat_map(|event| event.entries.iter())
            .filter(|entry| !entry.amount.is_zero())
            .map(|entry| (entry.kind.transaction_type(), entry.amount))
            .collect();
        let mut model_lines = model.journal.clone();
        lines.sort();
        model_lines.sort();
        prop_assert_eq!(lines, model_lines, "journal lines after step {}", step);
    }
    harness.engine.shutdown().await;
    Ok(())
}

/// Waits (at most 10 s) until the outbox between entities has delivered everything.
async fn delivered(engine: &Engine) -> Result<(), TestCaseError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let pending = engine
            .store()
            .actor_messages_pending(1)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        if pending.is_empty() {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(TestCaseError::fail(format!("not delivered after 10 s: {pending:?}")));
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}

/// The run's seed: `MODEL_SEED` (32 bytes in hex) to replay one, else a fresh one.
fn seed() -> [u8; 32] {
    match std::env::var("MODEL_SEED") {
        Ok(text) => {
            let bytes = hex::decode(text.trim()).expect("MODEL_SEED is hex");
            bytes.try_into().expect("MODEL_SEED is 32 bytes")
        }
        Err(_) => rand::random(),
    }
}

#[test]
fn the_engine_matches_the_reference_model_through_restarts_and_crashes() {
    use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, TestRng, TestRunner};
    let seed = seed();
    eprintln!("model test seed: MODEL_SEED={}", hex::encode(seed));
    let config = Config {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/api/model.proptest-regressions",
        ))),
        source_file: Some("tests/api/model.rs"),
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let outcome = runner.run(&proptest::collection::vec(op(), 1..40), |ops| {
        actix_web::rt::System::new().block_on(run(ops))
    });
    if let Err(failure) = outcome {
        panic!("{failure}\nreplay with MODEL_SEED={}", hex::encode(seed));
    }
    let replayed = REPLAYED_AFTER_CRASH.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!("model test: wallets replayed {replayed} events after crashes");
    assert!(
        replayed > 0,
        "crashes must leave events after the last snapshot for recovery to replay"
    );
}
