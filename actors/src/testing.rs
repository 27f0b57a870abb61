//! One engine harness for the tests and benchmarks that drive the engine in process (the
//! `testing` feature): settings, a bootstrapped business, offers and contacts, so that
//! `benches/engine.rs` and the model test do not each spell them out.

use crate::actors::ActorSettings;
use crate::domain::ids::{Mode, OrganisationId, Tenant};
use crate::domain::money::Currency;
use crate::domain::offer::{AwardKind, AwardRule, OfferState};
use crate::domain::organisation::ApiKeyKind;
use crate::engine::{NewContact, NewOffer};
use crate::storage::{StoreSettings, TableSettings, WriterSettings};
use crate::{Engine, EngineSettings};
use rust_decimal::Decimal;

/// Engine settings with every default (EUR) and the given actor settings.
pub fn engine_settings(actors: ActorSettings) -> EngineSettings {
    EngineSettings {
        actors,
        organisation: Default::default(),
        auth: Default::default(),
        otp: Default::default(),
        money: Default::default(),
        purchases: Default::default(),
        payments: Default::default(),
    }
}

/// Store settings with the given fjall and writer settings (no durability hook, a 5 s lock
/// wait).
pub fn store_settings(tables: TableSettings, writer: WriterSettings) -> StoreSettings {
    StoreSettings {
        tables,
        hook: None,
        lock_wait_ms: 5_000,
        writer,
    }
}

/// A live business in EUR with one secret key `key`; its tenant.
pub async fn business(engine: &Engine, name: &str, key: &str) -> Tenant {
    let organisation = engine
        .bootstrap_organisation(
            OrganisationId::random(),
            name,
            Currency::parse("EUR").expect("EUR"),
            &[(Mode::Live, ApiKeyKind::Secret, key)],
            None,
            "bootstrap",
        )
        .await
        .expect("the business is made");
    Tenant {
        organisation: organisation.id,
        mode: Mode::Live,
    }
}

/// An active offer awarding `value` (a percentage or a fixed amount), expiring after
/// `expiry_days` if given.
pub fn offer(name: &str, kind: AwardKind, value: i64, expiry_days: Option<u32>) -> NewOffer {
    NewOffer {
        name: name.into(),
        state: OfferState::Active,
        available_from: None,
        available_to: None,
        award: AwardRule {
            kind,
            value: Decimal::from(value),
            expiry_days,
        },
        terms: Default::default(),
    }
}

/// A contact with only a first name.
pub fn contact(first_name: &str) -> NewContact {
    NewContact {
        code: None,
        first_name: Some(first_name.into()),
        last_name: None,
        email_address: None,
        phones: vec![],
    }
}
