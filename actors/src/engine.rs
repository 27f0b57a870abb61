//! The engine handle: cheap to clone, called by the HTTP façade (D12).
//!
//! Each method turns one request into checked domain values, finds the actor that owns the
//! entity, sends it one message and awaits the reply, which arrives only once the outcome
//! is durable. Reads of immutable or already-durable records (contacts, purchases, offers)
//! go straight to the store.

use crate::actors::claims::{ClaimGuard, Claims};
use crate::actors::contact::{ContactActorError, ContactEntity};
use crate::actors::kit::Kind;
use crate::actors::outbox::Outbox;
use crate::actors::wallet::{WalletDeps, WalletEntity};
use crate::actors::ActorSettings;
use crate::clock::Clock;
use crate::domain::contact::Phone;
use crate::domain::ids::{
    ContactCode, ContactId, Mode, OfferId, OrganisationId, PurchaseId, ReferenceNumber, Tenant, WalletCode,
};
use crate::domain::money::{Currency, MoneyLimits};
use crate::domain::offer::{AwardRule, OfferError, OfferState, RewardOffer};
use crate::domain::organisation::{ApiKeyKind, ApiKeyRecord, Organisation, OrganisationType};
use crate::domain::purchase::{ProductLine, SaleOrganisation};
use crate::domain::wallet::{Cause, Entry};
use crate::routes::ContactRoutes;
use crate::storage::{IdempotencyRecord, Store, StoreError, WriteSet};
use actix::Arbiter;
use parking_lot::{Mutex, RwLock};
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

mod api_keys;
mod comms;
mod contacts;
mod delivery;
mod links;
mod lockout;
mod memberships;
mod organisations;
mod otp;
mod purchases;
mod self_service;
mod tokens;
mod transfers;
pub use transfers::TransferRequest;
mod users;
pub use api_keys::{IssuedApiKey, NewApiKey, API_KEY_NAME_MAX};
pub use comms::CommsSettings;
pub use otp::{ContactLookup, OtpSent};
pub use self_service::{
    ContactSession, ExternalIdentity, ExternalSignIn, Registered, Registration, RegistrationIdentity,
};
pub use tokens::{AccessClaims, Jwk, SessionKind, TokenPair, VerifiedToken, ISSUER};
pub use users::{NewUser, UserSession};

/// Outcomes the façade renders as errors (D8). Business rejections and bad input first,
/// infrastructure last.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Invalid { parameter: &'static str, message: String },
    #[error("purchase currency {given} differs from the wallet currency {wallet}")]
    CurrencyMismatch { given: Currency, wallet: Currency },
    #[error("the wallet balance is not enough to cover {parameter}")]
    InsufficientFunds { parameter: &'static str },
    #[error("the wallet would hold more than its maximum balance ({max})")]
    BalanceLimit { max: Decimal },
    #[error("reference_number was already used for a different purchase")]
    ReferenceConflict,
    #[error("a {0} with this value already exists")]
    AlreadyExists(&'static str),
    /// The request is well formed but the state of things does not allow it.
    #[error("{0}")]
    Conflict(String),
    #[error("Idempotency-Key was already used with a different request")]
    IdempotencyConflict,
    #[error("a request with this Idempotency-Key is still in progress")]
    IdempotencyInProgress,
    #[error("the {0} is busy; retry shortly")]
    Busy(&'static str),
    #[error("the api_key is not valid: {0}")]
    InvalidApiKey(&'static str),
    #[error("the token is not valid: {0}")]
    InvalidToken(&'static str),
    #[error("the username or password is wrong")]
    InvalidLogin,
    #[error("{0}")]
    Forbidden(String),
    #[error("too many requests for this {what}; retry in {retry_after_s} s")]
    RateLimited { what: &'static str, retry_after_s: u64 },
    #[error("the one-time password is not valid: {0}")]
    InvalidOtp(&'static str),
    #[error("the engine is shutting down")]
    ShuttingDown,
    /// A command failed inside the engine (a panic or a broken invariant); nothing of it
    /// was kept and the entity works again from its last durable state.
    #[error("the {0} could not apply the request; nothing was changed")]
    Internal(&'static str),
    #[error("storage unavailable: {0}")]
    Storage(String),
}

impl From<ContactActorError> for EngineError {
    fn from(error: ContactActorError) -> Self {
        match error {
            ContactActorError::AlreadyExists => EngineError::AlreadyExists("contact"),
            ContactActorError::NotFound => EngineError::NotFound("contact"),
            ContactActorError::Invalid(error) => invalid("contact", error),
            ContactActorError::Storage(error) => EngineError::Storage(error),
            ContactActorError::Internal => EngineError::Internal("contact"),
            ContactActorError::Retry => EngineError::Busy("contact"),
        }
    }
}

impl From<StoreError> for EngineError {
    fn from(error: StoreError) -> Self {
        tracing::error!(%error, "store error");
        EngineError::Storage(error.to_string())
    }
}

fn invalid(parameter: &'static str, message: impl std::fmt::Display) -> EngineError {
    EngineError::Invalid {
        parameter,
        message: format!("{parameter}: {message}"),
    }
}

#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Arbiters (threads) actors run on; entities are sharded over them by hash.
    pub arbiters: usize,
    pub actors: ActorSettings,
    /// Currency of a new organisation's wallets.
    pub default_currency: Currency,
    /// Most contact routes (contact → wallet, currency) kept in memory for purchases.
    pub contact_routes_max: usize,
    pub access: AccessSettings,
    pub comms: CommsSettings,
    /// Bounds on every amount and balance (`[money]`).
    pub money: MoneyLimits,
    pub purchases: PurchaseSettings,
}

/// The window a purchase's `date` must fall in (`[purchases]`): a till's clock may run
/// `date_future_skew_s` ahead, and a purchase may be posted up to `date_backdate_max_s`
/// after it was made (a till that was offline). Offers are evaluated at the purchase date,
/// never later than the engine's now (see `Engine::post_for_contact`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurchaseSettings {
    pub date_future_skew_s: i64,
    pub date_backdate_max_s: i64,
}

impl Default for PurchaseSettings {
    fn default() -> Self {
        PurchaseSettings {
            date_future_skew_s: 300,
            date_backdate_max_s: 30 * 86_400,
        }
    }
}

/// Keys, passwords and tokens (`[auth]` settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessSettings {
    /// Longest a rolled API key keeps working beside its replacement.
    pub api_key_roll_overlap_max_s: i64,
    pub access_token_ttl_s: i64,
    pub refresh_token_ttl_s: i64,
    pub password_chars_min: usize,
    /// Wrong passwords in a row that lock an identity out of signing in.
    pub sign_in_failures_max: u32,
    /// How long a lockout lasts, and how long a wrong password counts towards one.
    pub sign_in_lockout_s: i64,
}

impl Default for AccessSettings {
    fn default() -> Self {
        AccessSettings {
            api_key_roll_overlap_max_s: 30 * 86_400,
            access_token_ttl_s: 900,
            refresh_token_ttl_s: 30 * 86_400,
            password_chars_min: 10,
            sign_in_failures_max: 5,
            sign_in_lockout_s: 900,
        }
    }
}

/// How a request names a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactRef {
    Id(ContactId),
    Code(ContactCode),
    WalletCode(WalletCode),
}

pub use memberships::JoinedOrganisation;
pub use organisations::{NewOrganisation, NewTap, OrganisationUpdate, SaleAt, TapRef, ORGANISATION_NAME_MAX};

/// Deepest network walked: service owner → business → merchant → venue is four levels.
const NETWORK_DEPTH_MAX: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewContact {
    pub code: Option<ContactCode>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email_address: Option<String>,
    pub phones: Vec<Phone>,
}

/// Amounts as submitted: checked against the wallet's currency by the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmittedAmounts {
    pub net: Option<Decimal>,
    pub tax: Option<Decimal>,
    pub discount: Option<Decimal>,
    pub total: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseSubmission {
    pub reference_number: ReferenceNumber,
    pub contact: ContactRef,
    pub currency: Option<Currency>,
    pub amounts: SubmittedAmounts,
    pub date: Option<i64>,
    pub products: Vec<ProductLine>,
    /// (amount, restrict_fully_covered)
    pub spend: Option<(Decimal, bool)>,
    /// Where it was made (see `Engine::sale_organisation`); `None`: at the business.
    pub organisation: Option<SaleOrganisation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewOffer {
    pub name: String,
    pub state: OfferState,
    pub available_from: Option<i64>,
    pub available_to: Option<i64>,
    pub award: AwardRule,
}

/// One line of a wallet's journal as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalLine {
    pub id: uuid::Uuid,
    pub seq: u64,
    pub entry: Entry,
    pub posted_on: i64,
    pub purchase: Option<PurchaseId>,
    pub cause: Cause,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Lines before the page.
    pub offset: usize,
    pub size: usize,
    pub descending: bool,
}

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    settings: EngineSettings,
    wallets: Kind<WalletEntity>,
    contacts: Kind<ContactEntity>,
    arbiters: Mutex<Vec<Arbiter>>,
    claims: Arc<Claims>,
    /// Offers per tenant, replaced whole by offer writes (under `offer_writes`).
    offers: RwLock<HashMap<Tenant, Arc<Vec<RewardOffer>>>>,
    offer_writes: tokio::sync::Mutex<()>,
    organisations: RwLock<HashMap<OrganisationId, Organisation>>,
    /// Shared records: every request reads one, so a hit costs a reference count, not a copy.
    api_keys: RwLock<HashMap<[u8; 32], Arc<ApiKeyRecord>>>,
    /// Serialises changes to keys, users and tokens (read, check, write).
    access_writes: tokio::sync::Mutex<()>,
    signing: RwLock<tokens::SigningKeys>,
    /// The next outbox sequence number, read from the store on first use.
    outbox_seq: Mutex<Option<u64>>,
    outbox_ready: tokio::sync::Notify,
    limits: comms::RequestLimits,
    limit_checks: std::sync::atomic::AtomicU64,
    sign_in_failures: lockout::SignInFailures,
    closing: AtomicBool,
    routes: ContactRoutes,
}

#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

pub fn sha256(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

impl Engine {
    /// Starts the arbiters and the delivery of messages between entities. Must run inside
    /// an actix `System`.
    pub fn start(store: Store, settings: EngineSettings, clock: Arc<dyn Clock>) -> Result<Engine, EngineError> {
        let outbox = Arc::new(Outbox::open(&store, clock.now_s())?);
        let count = settings.arbiters.max(1);
        let arbiters: Vec<Arbiter> = (0..count).map(|_| Arbiter::new()).collect();
        let handles: Vec<_> = arbiters.iter().map(Arbiter::handle).collect();
        let wallets = Kind::new(
            handles.clone(),
            store.clone(),
            settings.actors,
            WalletDeps {
                clock: clock.clone(),
                balance_max: settings.money.wallet_balance_max,
                replayed: Arc::new(std::sync::atomic::AtomicU64::new(0)),
                outbox,
            },
        );
        let contacts = Kind::new(handles.clone(), store.clone(), settings.actors, ());
        let engine = Engine {
            inner: Arc::new(Inner {
                store,
                clock,
                wallets,
                contacts,
                arbiters: Mutex::new(arbiters),
                claims: Arc::new(Claims::default()),
                offers: RwLock::new(HashMap::new()),
                offer_writes: tokio::sync::Mutex::new(()),
                organisations: RwLock::new(HashMap::new()),
                api_keys: RwLock::new(HashMap::new()),
                access_writes: tokio::sync::Mutex::new(()),
                signing: RwLock::new(Default::default()),
                outbox_seq: Mutex::new(None),
                outbox_ready: tokio::sync::Notify::new(),
                limits: comms::RequestLimits::new(&settings.comms),
                limit_checks: std::sync::atomic::AtomicU64::new(1),
                sign_in_failures: Default::default(),
                closing: AtomicBool::new(false),
                routes: ContactRoutes::new(settings.contact_routes_max),
                settings,
            }),
        };
        delivery::spawn(&engine, &handles[0]);
        Ok(engine)
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn now(&self) -> i64 {
        self.inner.clock.now_s()
    }

    pub fn live_wallet_actors(&self) -> usize {
        self.inner.wallets.live()
    }

    fn check_open(&self) -> Result<(), EngineError> {
        if self.inner.closing.load(Ordering::Acquire) {
            return Err(EngineError::ShuttingDown);
        }
        if self.inner.store.has_failed() {
            return Err(EngineError::Storage(
                "an earlier write failed; the server must restart".into(),
            ));
        }
        Ok(())
    }

    // ----- organisations and keys --------------------------------------------------------

    pub fn organisation(&self, id: OrganisationId) -> Result<Organisation, EngineError> {
        if let Some(found) = self.inner.organisations.read().get(&id) {
            return Ok(found.clone());
        }
        let found = self
            .inner
            .store
            .organisation(id)?
            .ok_or(EngineError::NotFound("organisation"))?;
        self.inner.organisations.write().insert(id, found.clone());
        Ok(found)
    }

    /// The organisation `id` as `caller` may see it: `caller` itself or one under it in the
    /// network. Anything else is not found (another network's organisations are not even
    /// confirmed to exist).
    pub fn organisation_for(&self, caller: OrganisationId, id: OrganisationId) -> Result<Organisation, EngineError> {
        let not_found = |error: EngineError| match error {
            EngineError::NotFound(_) => EngineError::NotFound("organisation"),
            other => other,
        };
        let target = self.organisation(id).map_err(not_found)?;
        let mut current = target.id;
        let mut parent = target.parent;
        for _ in 0..=NETWORK_DEPTH_MAX {
            if current == caller {
                return Ok(target);
            }
            match parent {
                Some(next) => {
                    current = next;
                    parent = self.organisation(next).map_err(not_found)?.parent;
                }
                None => break,
            }
        }
        Err(EngineError::NotFound("organisation"))
    }

    /// Adds a service owner or business at the top of a network (the operator's
    /// `rewards admin create-organisation` without a parent): a new tenant.
    pub async fn create_root_organisation(
        &self,
        name: &str,
        organisation_type: OrganisationType,
        default_currency: Option<Currency>,
    ) -> Result<Organisation, EngineError> {
        self.check_open()?;
        let name = organisations::checked_name(name)?;
        if !matches!(
            organisation_type,
            OrganisationType::ServiceOwner | OrganisationType::Business
        ) {
            return Err(invalid(
                "type",
                "only a SERVICE_OWNER or a BUSINESS stands at the top of a network",
            ));
        }
        let organisation = Organisation {
            id: OrganisationId::random(),
            name,
            organisation_type,
            parent: None,
            default_currency: default_currency.unwrap_or(self.inner.settings.default_currency),
            created_on: self.now(),
            taps: Vec::new(),
            updated_on: self.now(),
        };
        let mut writes = WriteSet::default();
        writes.organisation(&organisation);
        self.inner.store.commit_async(writes).await?;
        Ok(organisation)
    }

    /// Every organisation under `id` (not `id` itself), nearest first, optionally only of
    /// one type. `caller` must reach `id`.
    pub fn organisation_network(
        &self,
        caller: OrganisationId,
        id: OrganisationId,
        only: Option<OrganisationType>,
    ) -> Result<Vec<Organisation>, EngineError> {
        let root = self.organisation_for(caller, id)?;
        let mut found = Vec::new();
        let mut level = vec![root.id];
        for _ in 0..NETWORK_DEPTH_MAX {
            let mut next = Vec::new();
            for parent in level {
                for child in self.inner.store.organisation_children(parent)? {
                    let organisation = self.organisation(child)?;
                    next.push(organisation.id);
                    found.push(organisation);
                }
            }
            if next.is_empty() {
                break;
            }
            level = next;
        }
        found.retain(|organisation| only.is_none_or(|kind| organisation.organisation_type == kind));
        Ok(found)
    }

    /// Creates the first organisation with its API keys (and first user) and marks the store
    /// bootstrapped, in one atomic commit: either all of it is on disk or none of it.
    pub async fn bootstrap_organisation(
        &self,
        id: OrganisationId,
        name: &str,
        default_currency: Currency,
        keys: &[(Mode, ApiKeyKind, &str)],
        admin: Option<&crate::domain::access::User>,
        marker: &str,
    ) -> Result<Organisation, EngineError> {
        let now = self.now();
        let organisation = Organisation {
            id,
            name: name.to_string(),
            organisation_type: OrganisationType::Business,
            parent: None,
            default_currency,
            created_on: now,
            taps: Vec::new(),
            updated_on: now,
        };
        let mut writes = WriteSet::default();
        writes.organisation(&organisation);
        for (mode, kind, key) in keys {
            let record = api_keys::key_record(organisation.id, *kind, *mode, "bootstrap".into(), key, now);
            writes.api_key(&sha256(key), &record);
        }
        if let Some(user) = admin {
            writes.user(user);
        }
        writes.meta(marker, organisation.id.as_bytes());
        self.inner.store.commit_async(writes).await?;
        Ok(organisation)
    }

    pub fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, EngineError> {
        Ok(self.inner.store.meta(name)?)
    }

    pub async fn set_meta(&self, name: &str, value: &[u8]) -> Result<(), EngineError> {
        let mut writes = WriteSet::default();
        writes.meta(name, value);
        Ok(self.inner.store.commit_async(writes).await?)
    }

    // ----- offers ------------------------------------------------------------------------

    async fn reload_offers(&self, tenant: &Tenant) -> Result<Arc<Vec<RewardOffer>>, EngineError> {
        let offers = Arc::new(self.inner.store.offers(tenant)?);
        self.inner.offers.write().insert(*tenant, offers.clone());
        Ok(offers)
    }

    /// The tenant's offers. On a miss they are loaded under the offer-write lock, so a
    /// purchase never sees an offer write before it is durable.
    async fn offers(&self, tenant: &Tenant) -> Result<Arc<Vec<RewardOffer>>, EngineError> {
        if let Some(found) = self.inner.offers.read().get(tenant) {
            return Ok(found.clone());
        }
        let _writes = self.inner.offer_writes.lock().await;
        if let Some(found) = self.inner.offers.read().get(tenant) {
            return Ok(found.clone());
        }
        self.reload_offers(tenant).await
    }

    pub async fn create_offer(
        &self,
        tenant: Tenant,
        new: NewOffer,
        idempotency_key: Option<&str>,
    ) -> Result<RewardOffer, EngineError> {
        self.check_open()?;
        let organisation = self.organisation(tenant.organisation)?;
        let _writes = self.inner.offer_writes.lock().await;
        let body_hash: [u8; 32] = Sha256::digest(postcard::to_stdvec(&new).unwrap_or_default()).into();
        let key_hash = idempotency_key.map(sha256);
        if let Some(hash) = &key_hash {
            if let Some(record) = self.inner.store.idempotency(&tenant, hash)? {
                if record.body_hash != body_hash {
                    return Err(EngineError::IdempotencyConflict);
                }
                return self.offer(&tenant, OfferId(record.resource_id));
            }
        }
        let now = self.now();
        let offer = RewardOffer {
            id: OfferId::random(),
            name: new.name.trim().to_string(),
            state: new.state,
            available_from: new.available_from,
            available_to: new.available_to,
            award: new.award,
            created_on: now,
            updated_on: now,
        };
        offer
            .validate(organisation.default_currency, self.inner.settings.money.amount_max)
            .map_err(|error| {
                let parameter = match error {
                    OfferError::BadName => "name",
                    OfferError::EmptyAvailability => "availability",
                    _ => "award.value",
                };
                invalid(parameter, error)
            })?;
        let mut writes = WriteSet::default();
        writes.offer(&tenant, &offer);
        if let Some(hash) = &key_hash {
            writes.idempotency(
                &tenant,
                hash,
                &IdempotencyRecord {
                    body_hash,
                    resource_id: offer.id.0,
                },
            );
        }
        self.inner.store.commit_async(writes).await?;
        self.reload_offers(&tenant).await?;
        Ok(offer)
    }

    pub fn offer(&self, tenant: &Tenant, id: OfferId) -> Result<RewardOffer, EngineError> {
        self.inner
            .store
            .offer(tenant, id)?
            .ok_or(EngineError::NotFound("reward offer"))
    }

    pub async fn set_offer_state(
        &self,
        tenant: Tenant,
        id: OfferId,
        state: OfferState,
    ) -> Result<RewardOffer, EngineError> {
        self.check_open()?;
        let _writes = self.inner.offer_writes.lock().await;
        let mut offer = self.offer(&tenant, id)?;
        if offer.state != state {
            offer.state = state;
            offer.updated_on = self.now();
            let mut writes = WriteSet::default();
            writes.offer(&tenant, &offer);
            self.inner.store.commit_async(writes).await?;
            self.reload_offers(&tenant).await?;
        }
        Ok(offer)
    }

    /// Wallet events that wallet actors replayed on top of their snapshots when they
    /// started, since this engine started (recovery after a crash replays the events after
    /// the last snapshot; a graceful stop leaves a snapshot and nothing to replay).
    pub fn wallet_events_replayed(&self) -> u64 {
        self.inner.wallets.deps().replayed.load(Ordering::Acquire)
    }

    /// Stops as a killed process would: from this instant nothing more reaches the disk (no
    /// snapshot at an actor's stop, no queued commit, no derived round) and the arbiters
    /// stop. The data dir is then opened again as after `kill -9`. For crash tests.
    pub async fn crash(&self) {
        self.inner.closing.store(true, Ordering::Release);
        self.inner.store.crash();
        for arbiter in self.inner.arbiters.lock().drain(..) {
            arbiter.stop();
            let _ = arbiter.join();
        }
        self.inner.store.shutdown();
    }

    /// Stops intake, lets every actor finish what it holds, flushes, and stops the writer
    /// and the arbiters.
    pub async fn shutdown(&self) {
        if self.inner.closing.swap(true, Ordering::AcqRel) {
            return;
        }
        let mut waits = self.inner.wallets.shut_down();
        waits.extend(self.inner.contacts.shut_down());
        for done in waits {
            let _ = done.await;
        }
        self.inner.store.shutdown();
        for arbiter in self.inner.arbiters.lock().drain(..) {
            arbiter.stop();
            let _ = arbiter.join();
        }
    }
}

fn claim_key(kind: u8, tenant: &Tenant, rest: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + Tenant::KEY_LEN + rest.len());
    key.push(kind);
    key.extend_from_slice(&tenant.key_bytes());
    key.extend_from_slice(rest);
    key
}
