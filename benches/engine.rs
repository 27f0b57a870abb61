//! Durable awards and transfers through the actors and the journal writer, in process (no
//! HTTP).
//!
//! Each iteration posts one purchase that earns an award; it counts only once its reply
//! arrived, i.e. once the award is flushed to disk (D2). `IN_FLIGHT` purchases are kept
//! outstanding, like that many tills. Two shapes:
//! - `uniform`: purchases spread uniformly over 100,000 wallets;
//! - `hot_wallet`: every purchase on one wallet.
//!
//! Then transfers of 0.01 (`transfers/…`), each batch timed until the outbox delivered every
//! credit: `uniform_pairs_N_wallets` (from a random wallet to the next one) and `hot_pair`
//! (two wallets sending to each other).
//!
//! Then `billing/run_N_subscriptions`: a billing run over 100,000 subscriptions of a daily
//! service (`REWARDS_BENCH_SUBSCRIPTIONS`), each iteration a day later, timed until every
//! bill is paid from its wallet and durable.
//!
//! Run: `cargo bench --bench engine`. Environment: `REWARDS_BENCH_WALLETS` (default 100,000),
//! `REWARDS_BENCH_ARBITERS` (default: cores), `REWARDS_BENCH_BATCH_WAIT_US` (default 0),
//! `REWARDS_BENCH_MEMTABLE_MIB` (fjall's memtable per keyspace, default 64).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures_util::stream::{self, StreamExt};
use rewards_engine::actors::ActorSettings;
use rewards_engine::domain::access::Caller;
use rewards_engine::domain::ids::{ContactId, ReferenceNumber, Tenant, WalletId};
use rewards_engine::domain::offer::AwardKind;
use rewards_engine::engine::{ContactRef, PurchaseSubmission, SubmittedAmounts, TransferRequest};
use rewards_engine::storage::{Store, TableSettings, WriterSettings};
use rewards_engine::{testing, Engine, SystemClock};
use rust_decimal::Decimal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const IN_FLIGHT: usize = 4_096;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Setup {
    system: actix_web::rt::SystemRunner,
    engine: Engine,
    tenant: Tenant,
    /// Each contact and its wallet.
    contacts: Vec<(ContactId, WalletId)>,
    _dir: tempfile::TempDir,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn setup(wallets: usize) -> Setup {
    setup_with(wallets, Arc::new(SystemClock))
}

fn setup_with(wallets: usize, clock: Arc<dyn rewards_engine::Clock>) -> Setup {
    let dir = tempfile::TempDir::new().unwrap();
    let system = actix_web::rt::System::new();
    let (engine, tenant, contacts) = system.block_on(async {
        let store = Store::open(
            dir.path(),
            &testing::store_settings(
                TableSettings {
                    cache_capacity_bytes: 512 << 20,
                    memtable_bytes_max: env_or("REWARDS_BENCH_MEMTABLE_MIB", 64u64) << 20,
                    journal_bytes_max: 512 << 20,
                    l0_tables_compaction: 4,
                    worker_threads: 2,
                },
                WriterSettings {
                    batch_events_max: 8_192,
                    batch_wait_us: env_or("REWARDS_BENCH_BATCH_WAIT_US", 0),
                    queue_len_max: 65_536,
                    log_segment_bytes_max: 64 << 20,
                    underived_bytes_max: 256 << 20,
                    derive_batch_writes_max: 65_536,
                    derive_flush_ms: 1_000,
                    derive_pause_ms: 0,
                },
            ),
        )
        .unwrap();
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let settings = testing::engine_settings(ActorSettings {
            arbiters: env_or("REWARDS_BENCH_ARBITERS", cores),
            idle_ms: 600_000,
            mailbox_len_max: 65_536,
            snapshot_every_events: 1_000,
            live_max: 0,
            contact_routes_max: 1 << 20,
        });
        let engine = Engine::start(store, settings, clock).unwrap();
        let tenant = testing::business(&engine, "Bench", "bench-key-00000000").await;
        let offer = testing::offer("10%", AwardKind::Percentage, 10, None);
        engine.create_offer(tenant, offer, None).await.unwrap();
        let contacts: Vec<(ContactId, WalletId)> = stream::iter(0..wallets)
            .map(|_| {
                let engine = engine.clone();
                async move {
                    let contact = engine
                        .create_contact(tenant, testing::contact("Bench"), None)
                        .await
                        .unwrap();
                    (contact.id, contact.wallet_id)
                }
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        (engine, tenant, contacts)
    });
    Setup {
        system,
        engine,
        tenant,
        contacts,
        _dir: dir,
    }
}

fn purchase_submission(reference: String, contact: ContactId, total: Decimal) -> PurchaseSubmission {
    PurchaseSubmission {
        reference_number: ReferenceNumber::parse(&reference).unwrap(),
        contact: ContactRef::Id(contact),
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
        spend: None,
        organisation: Default::default(),
        pass: None,
    }
}

/// The CPU time (user and system, all threads) this process has used, from `/proc/self/stat`.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Linux reports these in USER_HZ, 100 on every architecture it supports.
    Some(Duration::from_millis(ticks * 10))
}

/// Posts `count` purchases with `IN_FLIGHT` outstanding; returns the time until the last
/// durable reply. With `REWARDS_BENCH_CPU=1` it also prints the process's CPU time per
/// purchase, which is less noisy than throughput on a shared machine.
fn post(setup: &Setup, count: u64, pick: impl Fn(u64) -> ContactId, sequence: &AtomicU64) -> Duration {
    let first = sequence.fetch_add(count, Ordering::Relaxed);
    let cpu_before = process_cpu();
    let elapsed = post_timed(setup, first, count, pick);
    if std::env::var("REWARDS_BENCH_CPU").is_ok_and(|v| v == "1") && count >= 10_000 {
        if let (Some(before), Some(after)) = (cpu_before, process_cpu()) {
            let per = (after - before).as_secs_f64() * 1e6 / count as f64;
            eprintln!(
                "cpu {per:.1} µs/purchase over {count} ({:.0}/s)",
                count as f64 / elapsed.as_secs_f64()
            );
        }
    }
    elapsed
}

fn post_timed(setup: &Setup, first: u64, count: u64, pick: impl Fn(u64) -> ContactId) -> Duration {
    setup.system.block_on(async {
        let started = Instant::now();
        stream::iter(first..first + count)
            .map(|n| {
                let engine = setup.engine.clone();
                let submission = purchase_submission(format!("B-{n}"), pick(n), Decimal::new(2_550, 2));
                let tenant = setup.tenant;
                async move {
                    let record = engine
                        .post_purchase(&Caller::key(tenant.organisation, tenant.mode), tenant, submission)
                        .await
                        .expect("durable award");
                    assert!(!record.effects.awards.is_empty());
                }
            })
            .buffer_unordered(IN_FLIGHT)
            .for_each(|()| async {})
            .await;
        started.elapsed()
    })
}

fn durable_awards(c: &mut Criterion) {
    let wallets = std::env::var("REWARDS_BENCH_WALLETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let setup = setup(wallets);
    let sequence = AtomicU64::new(0);
    let mut group = c.benchmark_group("durable_awards");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    group.bench_function(format!("uniform_{wallets}_wallets"), |b| {
        b.iter_custom(|iterations| {
            let contacts = &setup.contacts;
            // A multiplicative hash spreads consecutive purchases over the wallets.
            post(
                &setup,
                iterations,
                |n| contacts[(n.wrapping_mul(0x9E37_79B9_7F4A_7C15) % contacts.len() as u64) as usize].0,
                &sequence,
            )
        })
    });
    group.bench_function("hot_wallet", |b| {
        b.iter_custom(|iterations| post(&setup, iterations, |_| setup.contacts[0].0, &sequence))
    });
    group.finish();
    transfers(c, &setup);
    setup.system.block_on(setup.engine.shutdown());
}

/// Transfers, each counted once its debit is durable, and every batch timed until the
/// outbox has delivered all its credits (so the figure is of transfers fully applied).
/// Every wallet is funded first (a purchase each).
fn transfers(c: &mut Criterion, setup: &Setup) {
    let contacts = &setup.contacts;
    setup.system.block_on(
        stream::iter(contacts.iter().enumerate())
            .map(|(n, (contact, _))| {
                let engine = setup.engine.clone();
                let submission = purchase_submission(format!("FUND-{n}"), *contact, Decimal::new(1_000_000, 2));
                async move {
                    engine
                        .post_purchase(
                            &Caller::key(setup.tenant.organisation, setup.tenant.mode),
                            setup.tenant,
                            submission,
                        )
                        .await
                        .expect("funded");
                }
            })
            .buffer_unordered(IN_FLIGHT)
            .for_each(|()| async {}),
    );
    let sequence = AtomicU64::new(0);
    let mut group = c.benchmark_group("transfers");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    group.bench_function(format!("uniform_pairs_{}_wallets", contacts.len()), |b| {
        b.iter_custom(|iterations| {
            transfer_batch(setup, iterations, &sequence, |n| {
                let from = (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) % contacts.len() as u64) as usize;
                (contacts[from], contacts[(from + 1) % contacts.len()])
            })
        })
    });
    group.bench_function("hot_pair", |b| {
        b.iter_custom(|iterations| {
            transfer_batch(setup, iterations, &sequence, |n| {
                if n % 2 == 0 {
                    (contacts[0], contacts[1])
                } else {
                    (contacts[1], contacts[0])
                }
            })
        })
    });
    group.finish();
}

fn transfer_batch(
    setup: &Setup,
    count: u64,
    sequence: &AtomicU64,
    pick: impl Fn(u64) -> ((ContactId, WalletId), (ContactId, WalletId)),
) -> Duration {
    let first = sequence.fetch_add(count, Ordering::Relaxed);
    setup.system.block_on(async {
        let started = Instant::now();
        stream::iter(first..first + count)
            .map(|n| {
                let engine = setup.engine.clone();
                let ((contact, origin), (_, destination)) = pick(n);
                let request = TransferRequest {
                    id: None,
                    origin,
                    destination,
                    amount: Decimal::new(1, 2),
                    code: None,
                    notes: None,
                    transfer_date: None,
                    pool: None,
                };
                let tenant = setup.tenant;
                async move {
                    engine
                        .transfer(tenant, contact, request, None)
                        .await
                        .expect("durable transfer");
                }
            })
            .buffer_unordered(IN_FLIGHT)
            .for_each(|()| async {})
            .await;
        while !setup.engine.store().actor_messages_pending(1).unwrap().is_empty() {
            actix_web::rt::time::sleep(Duration::from_micros(500)).await;
        }
        started.elapsed()
    })
}

/// A billing run over every subscription: each iteration moves the clock a day on, so each
/// subscription of a daily service has one bill due, and times the runs until none is left.
fn billing_run(c: &mut Criterion) {
    use rewards_engine::domain::product::{
        BillingPeriod, ClassKind, PeriodUnit, PriceModel, ProductClassification, TaxModel, Tier,
    };
    use rewards_engine::engine::{Funding, NewPrice, NewProduct, NewProductClass, NewService};
    let subscriptions: usize = env_or("REWARDS_BENCH_SUBSCRIPTIONS", 100_000);
    let clock = rewards_engine::ManualClock::new(1_800_000_000);
    let setup = setup_with(subscriptions, Arc::new(clock.clone()));
    let (engine, tenant) = (setup.engine.clone(), setup.tenant);
    setup.system.block_on(async {
        let plans = engine
            .create_product_class(
                tenant,
                NewProductClass {
                    kind: ClassKind::Type,
                    name: "Plans".into(),
                    description: None,
                    code: None,
                    parent: None,
                    classification: Some(ProductClassification::TermedService),
                    composition: Some(rewards_engine::domain::product::Composition::Flat),
                },
            )
            .await
            .unwrap();
        let daily = engine
            .create_product(
                tenant,
                NewProduct {
                    sku: "DAILY".into(),
                    name: "Daily plan".into(),
                    description: None,
                    product_type: plans.id,
                    family: None,
                    brand: None,
                    categories: vec![],
                    is_modifier: false,
                    variant_of: None,
                    components: vec![],
                    prices: vec![NewPrice {
                        currency: None,
                        model: PriceModel::Flat,
                        tax_model: TaxModel::Inclusive,
                        tiers: vec![Tier {
                            lower: 1,
                            upper: None,
                            price: Decimal::ONE,
                        }],
                        billing_period: Some(BillingPeriod {
                            duration: 1,
                            unit: PeriodUnit::Day,
                        }),
                        is_default: true,
                    }],
                    cross_sells: vec![],
                    up_sells: vec![],
                    enabled: true,
                    owner: None,
                    tax_rate: None,
                    available_at: vec![],
                },
            )
            .await
            .unwrap();
        // 1,000.00 in every wallet (10% of a purchase), then one subscription each.
        stream::iter(setup.contacts.iter().enumerate())
            .map(|(n, (contact, _))| {
                let engine = engine.clone();
                let submission = purchase_submission(format!("FUND-{n}"), *contact, Decimal::new(10_000, 0));
                async move {
                    engine
                        .post_purchase(&Caller::key(tenant.organisation, tenant.mode), tenant, submission)
                        .await
                        .expect("funded");
                    let service = NewService {
                        product: daily.id,
                        quantity: 1,
                        price_terms: None,
                    };
                    engine
                        .add_services(tenant, *contact, &[service], Funding::Wallet, None, None)
                        .await
                        .expect("subscribed");
                }
            })
            .buffer_unordered(IN_FLIGHT)
            .for_each(|()| async {})
            .await;
    });
    let mut group = c.benchmark_group("billing");
    group.throughput(Throughput::Elements(subscriptions as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(45));
    group.bench_function(format!("run_{subscriptions}_subscriptions"), |b| {
        b.iter_custom(|iterations| {
            let mut spent = Duration::ZERO;
            for _ in 0..iterations {
                clock.advance(86_400);
                let started = Instant::now();
                let paid = setup.system.block_on(async {
                    let mut paid = 0;
                    loop {
                        let round = engine.billing_run(subscriptions).await.expect("billing run");
                        paid += round.paid;
                        if round.looked == 0 {
                            break paid;
                        }
                    }
                });
                spent += started.elapsed();
                assert_eq!(paid, subscriptions, "every subscription billed once");
            }
            spent
        })
    });
    group.finish();
}

criterion_group!(benches, durable_awards, billing_run);
criterion_main!(benches);
