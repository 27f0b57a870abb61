//! The engine handle: cheap to clone, called by the HTTP façade (D12).
//!
//! Each method turns one request into checked domain values, finds the actor that owns the
//! entity, sends it one message and awaits the reply, which arrives only once the outcome
//! is durable. Reads of immutable or already-durable records (contacts, purchases, offers)
//! go straight to the store.

use crate::actors::account::{AccountDeps, AccountEntity};
use crate::actors::budget::{BudgetDeps, BudgetEntity};
use crate::actors::claims::{ClaimGuard, Claims};
use crate::actors::contact::ContactEntity;
use crate::actors::kit::Kind;
use crate::actors::outbox::Outbox;
use crate::actors::pass::{PassDeps, PassEntity};
use crate::actors::wallet::{WalletDeps, WalletEntity, WalletView};
use crate::clock::Clock;
use crate::domain::contact::Phone;
use crate::domain::ids::{ContactCode, ContactId, OrganisationId, PurchaseId, ReferenceNumber, Tenant, WalletCode};
use crate::domain::money::Currency;
use crate::domain::offer::{LineClass, OfferSet};
use crate::domain::organisation::{ApiKeyRecord, Organisation};
use crate::domain::purchase::ProductLine;
use crate::domain::wallet::{Cause, Entry};
use crate::routes::ContactRoutes;
use crate::storage::{Store, WriteSet};
use actix::Arbiter;
use parking_lot::{Mutex, RwLock};
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

mod access;
mod accounts;
pub use accounts::{manual_journal, AccountUpdate, AccountView, JournalQuery, NewAccount};
mod commerce_pools;
mod communities;
mod community_spend;
pub use commerce_pools::{CommercePoolUpdate, NewCommercePool};
pub use communities::{CommunityEntry, NewPerson, PersonDetails, PersonTerms};
mod contacts;
mod delivery;
mod expiry;
mod journals;
pub use expiry::SweepRound;
pub use journals::{JournalFilter, WalletTotals};
mod transactions;
pub use transactions::{Origin, SpendMethod, TransactionPage};
mod error;
pub(crate) use error::invalid;
pub use error::EngineError;
mod contact_tokens;
pub mod maintenance;
mod offers;
pub use contact_tokens::NewContactToken;
pub use offers::{NewOffer, OfferEntry, OfferFilter};
mod estimates;
mod organisations;
mod pass_payments;
mod passes;
pub use pass_payments::PassPayment;
pub use passes::{IssuedPass, NewPass, NewPassPlan, PassCode, PassUpdate};
mod payments;
pub use estimates::EstimateOptions;
pub use payments::{NewPaymentMethod, PaymentMethodChange, PayoutRequest, TopUpRequest};
mod purchases;
mod reclaim;
mod returns;
pub use reclaim::Claim;
pub use returns::{PurchaseRef, ReturnSubmission};
mod scheme_codes;
mod schemes;
mod service_requests;
pub use schemes::{ContactScheme, NewScheme, SchemeUpdate, SignUpOutcome, SignUpProof};
pub use service_requests::{NewQueue, NewServiceRequest, RequestFilter, ServiceRequestUpdate};
pub mod settings;
pub use settings::{
    AccessSettings, DurabilityHook, EngineSettings, JournalSettings, OrganisationSettings, OtpSettings,
    PaymentSettings, PurchaseSettings, StorageSettings,
};
mod billing;
mod fulfilment;
mod integrations;
mod locations;
mod orders;
pub use fulfilment::{Fulfiller, FulfilmentQuery};
pub use locations::{Located, LocationQuery};
pub use orders::{ChargeDue, OrderFilter, OrderItem, OrderRequest};
mod contact_addresses;
mod recommendations;
mod subscription_terms;
mod subscriptions;
mod usage;
pub use billing::{BillingRound, BILL_RETRY_S};
pub use contact_addresses::AddressChange;
pub use recommendations::{CategoryKind, OrderRecommendation, RecommendedCategory, ServiceQuery, RECOMMENDED_MAX};
pub use subscription_terms::SubscriptionUpdate;
pub use subscriptions::{Funding, NewService, ScheduleChange, ServiceChange, SERVICES_PER_CALL_MAX};
pub use usage::{NewAllowance, UsageAuthorisation, UsageFilter, UsageLine};
mod products;
pub use products::{NewPrice, NewProduct, NewProductClass, ProductFilter, ProductUpdate};
mod intents;
pub use intents::{IntentRequest, IntentTopUp};
pub mod secrets;
mod self_service;
pub use integrations::{IntegrationChange, NewIntegration};
mod topup_schedule;
pub use crate::actors::wallet::ScheduleView;
pub use topup_schedule::{AutoTopUpAsk, TermedTopUpAsk, TopUpSettingsChange};
mod transfers;
use access::{api_keys, lockout, memberships, tokens, users};
use self_service::registration;
use self_service::{comms, otp};
pub use transfers::{TransferRequest, BULK_TRANSFERS_MAX};
mod wallets;
pub use api_keys::{ApiKeyEntry, NewApiKey, API_KEY_NAME_MAX};
pub use otp::{ContactLookup, OtpSent};
pub use registration::{
    ContactProfile, ContactSession, ExternalIdentity, ExternalSignIn, Registered, Registration, RegistrationIdentity,
};
pub use tokens::{AccessClaims, Jwk, SessionKind, TokenPair, VerifiedToken, ISSUER};
pub use users::{NewUser, UserDetails, UserSession};
pub use wallets::LimitChange;

/// How a request names a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactRef {
    Id(ContactId),
    Code(ContactCode),
    WalletCode(WalletCode),
    /// A contact token (or its 16-digit alternative) the contact's app made.
    Token(String),
    /// None: a purchase kept for a contact to claim (`Engine::post_unclaimed`).
    Unnamed,
}

pub use memberships::{JoinedEntry, JoinedOrganisation, JoinedPage, MembershipWallet};
pub use organisations::{
    NewOrganisation, NewTap, OrganisationEntry, OrganisationUpdate, SaleAt, TapRef, ORGANISATION_NAME_MAX,
};

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
    /// The till's family, brand and category of each line (line by line; may be shorter).
    pub classes: Vec<LineClass>,
    /// (amount, restrict_fully_covered)
    pub spend: Option<(Decimal, bool)>,
    /// Where it was made, as the caller names it (resolved by `Engine::sale_organisation`).
    pub organisation: SaleAt,
    /// The gift pass that pays it (see `pass_payments`).
    pub pass: Option<PassPayment>,
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
    /// The line's lot as the wallet holds it now (when the journal was asked with lots).
    pub lot: Option<crate::actors::wallet::LotFacts>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Lines before the page.
    pub offset: usize,
    pub size: usize,
    pub descending: bool,
    /// Count every line too (`include_total`), which reads the whole history.
    pub count_total: bool,
}

/// One page of a wallet's journal, with the wallet it belongs to.
#[derive(Debug, Clone)]
pub struct JournalPage {
    pub wallet: WalletView,
    pub lines: Vec<JournalLine>,
    /// Lines follow this page.
    pub more: bool,
    /// Every line, when the page asked for the count.
    pub total: Option<usize>,
}

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    settings: EngineSettings,
    wallets: Kind<WalletEntity>,
    contacts: Kind<ContactEntity>,
    budgets: Kind<BudgetEntity>,
    passes: Kind<PassEntity>,
    accounts: Kind<AccountEntity>,
    /// Serialises pass-plan changes and issuing (a plan's count, a code's uniqueness).
    pass_writes: tokio::sync::Mutex<()>,
    pass_failures: passes::PassFailures,
    arbiters: Mutex<Vec<Arbiter>>,
    claims: Arc<Claims>,
    /// Offers per tenant, replaced whole by offer writes (under `offer_writes`).
    offers: RwLock<HashMap<Tenant, Arc<OfferSet>>>,
    offer_writes: tokio::sync::Mutex<()>,
    organisations: RwLock<HashMap<OrganisationId, Organisation>>,
    /// Merchants' and venues' places, for nearest-first searches.
    places: locations::Places,
    /// Each business's best sellers, counted from its orders now and then.
    best_sellers: recommendations::BestSellers,
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
    /// Opens the data dir (made if missing; a new one is initialised) and starts the engine
    /// on it: the one call a server or an operator's command needs. Must run inside an
    /// actix system.
    pub fn open(
        storage: &StorageSettings,
        journal: JournalSettings,
        settings: EngineSettings,
        clock: Arc<dyn Clock>,
        hook: Option<DurabilityHook>,
    ) -> Result<Engine, EngineError> {
        let store = maintenance::open_store(storage, journal, hook)?;
        Engine::start(store, settings, clock)
    }

    /// Starts the arbiters and the delivery of messages between entities. Must run inside
    /// an actix `System`.
    pub fn start(store: Store, settings: EngineSettings, clock: Arc<dyn Clock>) -> Result<Engine, EngineError> {
        let outbox = Arc::new(Outbox::open(&store, clock.now_s())?);
        // A month (the longest capped period) and a day, plus the furthest a purchase may be
        // backdated.
        let history_window_s = settings
            .purchases
            .date_backdate_max_s
            .saturating_add(32 * crate::domain::offer::SECONDS_PER_DAY);
        crate::actors::wallet::ensure_histories(&store, clock.now_s().saturating_sub(history_window_s))?;
        expiry::ensure_index(&store)?;
        let count = settings.actors.arbiters();
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
                outbox: outbox.clone(),
                history_window_s,
            },
        );
        let passes = Kind::new(
            handles.clone(),
            store.clone(),
            settings.actors,
            PassDeps {
                clock: clock.clone(),
                outbox,
            },
        );
        let accounts = Kind::new(
            handles.clone(),
            store.clone(),
            settings.actors,
            AccountDeps {
                clock: clock.clone(),
                balance_max: settings.money.wallet_balance_max,
            },
        );
        let contacts = Kind::new(handles.clone(), store.clone(), settings.actors, ());
        let budgets = Kind::new(
            handles.clone(),
            store.clone(),
            settings.actors,
            BudgetDeps { clock: clock.clone() },
        );
        let engine = Engine {
            inner: Arc::new(Inner {
                store,
                clock,
                wallets,
                contacts,
                budgets,
                passes,
                accounts,
                pass_writes: tokio::sync::Mutex::new(()),
                pass_failures: Default::default(),
                arbiters: Mutex::new(arbiters),
                claims: Arc::new(Claims::default()),
                offers: RwLock::new(HashMap::new()),
                offer_writes: tokio::sync::Mutex::new(()),
                organisations: RwLock::new(HashMap::new()),
                places: Default::default(),
                best_sellers: Default::default(),
                api_keys: RwLock::new(HashMap::new()),
                access_writes: tokio::sync::Mutex::new(()),
                signing: RwLock::new(Default::default()),
                outbox_seq: Mutex::new(None),
                outbox_ready: tokio::sync::Notify::new(),
                limits: comms::RequestLimits::new(&settings.otp),
                limit_checks: std::sync::atomic::AtomicU64::new(1),
                sign_in_failures: Default::default(),
                closing: AtomicBool::new(false),
                routes: ContactRoutes::new(settings.actors.contact_routes_max),
                settings,
            }),
        };
        delivery::spawn(&engine, &handles[0]);
        expiry::spawn(&engine, &handles[handles.len() - 1]);
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

    /// Whether the engine is shutting down (background loops stop).
    pub fn is_closing(&self) -> bool {
        self.inner.closing.load(Ordering::Acquire)
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

    pub fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, EngineError> {
        Ok(self.inner.store.meta(name)?)
    }

    pub async fn set_meta(&self, name: &str, value: &[u8]) -> Result<(), EngineError> {
        let mut writes = WriteSet::default();
        writes.meta(name, value);
        Ok(self.inner.store.commit_async(writes).await?)
    }

    // ----- offers ------------------------------------------------------------------------

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
        waits.extend(self.inner.budgets.shut_down());
        waits.extend(self.inner.passes.shut_down());
        waits.extend(self.inner.accounts.shut_down());
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
