//! Nearest-first over 10,000 venues (issue 21's target: a search at most 5 ms at p99): the
//! distance to every venue, those within the radius kept and sorted — what
//! `GET /self-service/v2/locations` does in memory once its places are cached.
//!
//! The venues are spread over a 60 km square around Nicosia; the search looks within 5 km
//! (some hundreds found) and within 50 km (nearly all found and sorted).
//!
//! Run: `cargo bench -p rewards-engine --bench locations`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rewards_engine::domain::location::{nearest, Point};

fn venues(count: usize) -> Vec<(u32, Point)> {
    // A fixed pseudo-random spread (a linear congruential generator: same venues each run).
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..count)
        .map(|index| {
            let lat = 34.9 + next() * 0.54;
            let lon = 33.05 + next() * 0.66;
            (index as u32, Point::new(lat, lon).expect("on the globe"))
        })
        .collect()
}

fn nearest_first(c: &mut Criterion) {
    let places = venues(10_000);
    let origin = Point::new(35.17, 33.365).expect("on the globe");
    let mut group = c.benchmark_group("locations");
    group.bench_function("nearest_10000_venues_within_5km", |b| {
        b.iter(|| black_box(nearest(black_box(&places), origin, 5_000.0)).len())
    });
    group.bench_function("nearest_10000_venues_within_50km", |b| {
        b.iter(|| black_box(nearest(black_box(&places), origin, 50_000.0)).len())
    });
    group.finish();
}

criterion_group!(benches, nearest_first);
criterion_main!(benches);
