//! The engine handle: cheap to clone, called by the HTTP façade (D12).
//!
//! Each method turns one request into checked domain values, finds the actor that owns the
//! entity, sends it one message and awaits the reply, which arrives only once the outcome
//! is durable. Reads of immutable or already-durable records (contacts, purchases, offers)
//! go straight to the store.

use crate::actors::claims::{ClaimGuard, Claims};
use crate::actors::contact::{ContactActor, ContactActorError, ContactKey, ContactMessage};
use crate::actors::registry::{ActorHandle, Registry};
use crate::actors::wallet::{Reply, WalletActor, WalletError, WalletKey, WalletMessage, WalletView};
use crate::actors::ActorSettings;
use crate::clock::Clock;
use crate::domain::contact::{validate_profile, Contact, Phone, ProfileUpdate};
use crate::domain::ids::{
    ContactCode, ContactId, Mode, OfferId, OrganisationId, PurchaseId, ReferenceNumber, Tenant, WalletCode, WalletId,
};
use crate::domain::money::{Amount, Currency, MoneyError, MoneyLimits};
use crate::domain::offer::{evaluate_awards, AwardRule, OfferError, OfferState, RewardOffer};
use crate::domain::organisation::{ApiKeyKind, ApiKeyRecord, Organisation, OrganisationType};
use crate::domain::purchase::{ProductLine, PurchaseRecord, PurchaseRequest, SaleOrganisation, TransactionAmounts};
use crate::domain::wallet::{Entry, SpendRequest, Wallet, WalletEvent, WalletHeader, WalletRejection};
use crate::metrics_names as names;
use crate::routes::{ContactRoute, ContactRoutes};
use crate::storage::{IdempotencyRecord, Store, StoreError, WriteSet};
use actix::{Actor, Arbiter};
use parking_lot::{Mutex, RwLock};
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::oneshot;

mod api_keys;
mod comms;
mod lockout;
mod memberships;
mod organisations;
mod otp;
mod self_service;
mod tokens;
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
    #[error("the wallet balance is not enough to cover the spend request")]
    InsufficientFunds,
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Lines before the page.
    pub offset: usize,
    pub size: usize,
    pub descending: bool,
}

/// Sent to an actor; the reply arrives on the receiver.
type Ask<T> = (WalletMessage, oneshot::Receiver<Result<T, WalletError>>);

/// How often a message is resent to a freshly started actor after meeting a retiring one.
const RETIRED_ACTOR_ATTEMPTS: usize = 8;

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    settings: EngineSettings,
    wallets: Arc<Registry<WalletKey, WalletActor>>,
    contacts: Arc<Registry<ContactKey, ContactActor>>,
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
    /// Starts the arbiters. Must run inside an actix `System`.
    pub fn start(store: Store, settings: EngineSettings, clock: Arc<dyn Clock>) -> Engine {
        let count = settings.arbiters.max(1);
        let arbiters: Vec<Arbiter> = (0..count).map(|_| Arbiter::new()).collect();
        let handles: Vec<_> = arbiters.iter().map(Arbiter::handle).collect();
        Engine {
            inner: Arc::new(Inner {
                store,
                clock,
                wallets: Arc::new(Registry::new(handles.clone())),
                contacts: Arc::new(Registry::new(handles)),
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
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn now(&self) -> i64 {
        self.inner.clock.now_s()
    }

    pub fn live_wallet_actors(&self) -> usize {
        self.inner.wallets.len()
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

    // ----- contacts --------------------------------------------------------------------

    fn contact_actor(&self, key: ContactKey) -> Result<ActorHandle<ContactActor>, EngineError> {
        let registry = self.inner.contacts.clone();
        let store = self.inner.store.clone();
        let settings = self.inner.settings.actors;
        let started = self.inner.contacts.get_or_start(&key, |arbiter, queued| {
            let existing = store.contact(&key.0, key.1)?;
            let actor_store = store.clone();
            Ok::<_, EngineError>(Some(ContactActor::start_in_arbiter(arbiter, move |_| {
                ContactActor::new(key, existing, actor_store, registry, settings, queued)
            })))
        })?;
        started.ok_or(EngineError::NotFound("contact"))
    }

    /// Creates a contact and its wallet. With an idempotency key, a retry with the same body
    /// returns the contact made the first time.
    pub async fn create_contact(
        &self,
        tenant: Tenant,
        new: NewContact,
        idempotency_key: Option<&str>,
    ) -> Result<Contact, EngineError> {
        self.create_contact_with(tenant, new, idempotency_key, |_| Ok(WriteSet::default()))
            .await
    }

    /// As `create_contact`, committing `extra(contact id)` atomically with the contact.
    async fn create_contact_with(
        &self,
        tenant: Tenant,
        new: NewContact,
        idempotency_key: Option<&str>,
        extra: impl FnOnce(ContactId) -> Result<WriteSet, EngineError>,
    ) -> Result<Contact, EngineError> {
        self.check_open()?;
        let organisation = self.organisation(tenant.organisation)?;
        let body_hash: [u8; 32] = Sha256::digest(postcard::to_stdvec(&new).unwrap_or_default()).into();
        let key_hash = idempotency_key.map(sha256);
        let (_idempotency_claim, first) = self.claim_idempotency(&tenant, key_hash.as_ref(), &body_hash)?;
        if let Some(first) = first {
            return self
                .inner
                .store
                .contact(&tenant, ContactId(first))?
                .ok_or(EngineError::NotFound("contact"));
        }
        let _code_claim = match &new.code {
            None => None,
            Some(code) => {
                let claim = self
                    .inner
                    .claims
                    .claim(claim_key(b'K', &tenant, code.as_str().as_bytes()), rand::random())
                    .map_err(|_| EngineError::AlreadyExists("contact code"))?;
                if self.inner.store.contact_by_code(&tenant, code)?.is_some() {
                    return Err(EngineError::AlreadyExists("contact code"));
                }
                Some(claim)
            }
        };
        let (wallet_code, _wallet_code_claim) = loop {
            let code = WalletCode::random();
            let Ok(claim) = self
                .inner
                .claims
                .claim(claim_key(b'Q', &tenant, code.as_bytes()), rand::random())
            else {
                continue;
            };
            if self.inner.store.contact_by_wallet_code(&tenant, &code)?.is_none() {
                break (code, claim);
            }
        };
        let now = self.now();
        let contact = Contact {
            id: ContactId::random(),
            tenant,
            code: new.code,
            first_name: new.first_name,
            last_name: new.last_name,
            email_address: new.email_address,
            phones: new.phones,
            wallet_id: WalletId::random(),
            wallet_code,
            wallet_currency: organisation.default_currency,
            created_on: now,
        };
        validate_profile(&contact).map_err(|error| invalid("contact", error))?;
        let wallet = Wallet::open(WalletHeader {
            id: contact.wallet_id,
            tenant,
            contact_id: contact.id,
            code: wallet_code,
            currency: organisation.default_currency,
            created_on: now,
        });
        let idempotency = key_hash.map(|hash| {
            (
                hash,
                IdempotencyRecord {
                    body_hash,
                    resource_id: contact.id.0,
                },
            )
        });
        let extra = extra(contact.id)?;
        self.ask_contact((tenant, contact.id), |reply| ContactMessage::Create {
            contact: Box::new(contact),
            wallet: Box::new(wallet),
            idempotency,
            extra,
            reply,
        })
        .await
    }

    /// Claims an idempotency key for as long as the command runs, and finds what the first
    /// request with it made: `Some(resource id)` for a retry with the same body (a different
    /// body is a conflict), `None` for a first request (or no key).
    pub(crate) fn claim_idempotency(
        &self,
        tenant: &Tenant,
        key_hash: Option<&[u8; 32]>,
        body_hash: &[u8; 32],
    ) -> Result<(Option<ClaimGuard>, Option<uuid::Uuid>), EngineError> {
        let Some(hash) = key_hash else {
            return Ok((None, None));
        };
        let claim = self
            .inner
            .claims
            .claim(claim_key(b'I', tenant, hash), rand::random())
            .map_err(|_| EngineError::IdempotencyInProgress)?;
        match self.inner.store.idempotency(tenant, hash)? {
            Some(record) if record.body_hash != *body_hash => Err(EngineError::IdempotencyConflict),
            Some(record) => Ok((Some(claim), Some(record.resource_id))),
            None => Ok((Some(claim), None)),
        }
    }

    /// Sends one message to a contact's actor and awaits its answer.
    async fn ask_contact(
        &self,
        key: ContactKey,
        make: impl FnOnce(crate::actors::contact::ContactReply) -> ContactMessage,
    ) -> Result<Contact, EngineError> {
        let actor = self.contact_actor(key)?;
        let (reply, answer) = crate::actors::contact::ContactReply::channel();
        if !actor.queued.enter(self.inner.settings.actors.mailbox_len_max) {
            metrics::counter!(names::MAILBOX_FULL_TOTAL, "kind" => "contact").increment(1);
            return Err(EngineError::Busy("contact"));
        }
        if actor.addr.try_send(make(reply)).is_err() {
            actor.queued.leave();
            return Err(EngineError::Busy("contact"));
        }
        match answer.await {
            Ok(Ok(contact)) => Ok(contact),
            Ok(Err(error)) => Err(error.into()),
            Err(_) => Err(EngineError::Busy("contact")),
        }
    }

    /// Applies a contact's own profile changes (checked like a new contact's).
    pub async fn update_contact(
        &self,
        tenant: Tenant,
        id: ContactId,
        update: ProfileUpdate,
        address: Option<std::net::IpAddr>,
    ) -> Result<Contact, EngineError> {
        self.check_open()?;
        let current = self.stored_contact(&tenant, id)?;
        let changed_email = update
            .email_address
            .as_deref()
            .map(str::trim)
            .filter(|email| !email.is_empty());
        let extra = match changed_email {
            Some(email) => self.email_change_writes(&tenant, &current, email, address)?,
            None => WriteSet::default(),
        };
        let sends_link = !extra.is_empty();
        let contact = self
            .ask_contact((tenant, id), |reply| ContactMessage::Update { update, extra, reply })
            .await?;
        if sends_link {
            self.outbox_committed();
        }
        Ok(contact)
    }

    pub fn resolve_contact(&self, tenant: &Tenant, reference: &ContactRef) -> Result<Contact, EngineError> {
        self.stored_contact(tenant, self.contact_id(tenant, reference)?)
    }

    /// A contact as stored; an unknown one is not found.
    fn stored_contact(&self, tenant: &Tenant, id: ContactId) -> Result<Contact, EngineError> {
        self.inner
            .store
            .contact(tenant, id)?
            .ok_or(EngineError::NotFound("contact"))
    }

    /// The id a reference names; a code is looked up in its index.
    fn contact_id(&self, tenant: &Tenant, reference: &ContactRef) -> Result<ContactId, EngineError> {
        let store = &self.inner.store;
        let id = match reference {
            ContactRef::Id(id) => Some(*id),
            ContactRef::Code(code) => store.contact_by_code(tenant, code)?,
            ContactRef::WalletCode(code) => store.contact_by_wallet_code(tenant, code)?,
        };
        id.ok_or(EngineError::NotFound("contact"))
    }

    /// Where a purchase for this contact goes: from memory when the contact was seen
    /// before (a contact's wallet and currency never change), else from the store.
    fn contact_route(&self, tenant: &Tenant, reference: &ContactRef) -> Result<ContactRoute, EngineError> {
        let id = self.contact_id(tenant, reference)?;
        if let Some(route) = self.inner.routes.get(tenant, id) {
            return Ok(route);
        }
        if self.inner.routes.is_closed(tenant, id) {
            return Err(EngineError::NotFound("contact"));
        }
        let contact = self
            .inner
            .store
            .contact(tenant, id)?
            .ok_or(EngineError::NotFound("contact"))?;
        let route = ContactRoute {
            contact_id: contact.id,
            wallet_id: contact.wallet_id,
            currency: contact.wallet_currency,
        };
        self.inner.routes.insert(tenant, route);
        Ok(route)
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

    // ----- wallets and purchases ---------------------------------------------------------

    fn wallet_actor(&self, key: WalletKey) -> Result<ActorHandle<WalletActor>, EngineError> {
        let registry = self.inner.wallets.clone();
        let store = self.inner.store.clone();
        let clock = self.inner.clock.clone();
        let settings = self.inner.settings.actors;
        let balance_max = self.inner.settings.money.wallet_balance_max;
        let started = self.inner.wallets.get_or_start(&key, |arbiter, queued| {
            let Some((wallet, replayed)) = store.recover_wallet(&key.0, key.1)? else {
                return Ok::<_, EngineError>(None);
            };
            let actor_store = store.clone();
            Ok(Some(WalletActor::start_in_arbiter(arbiter, move |_| {
                WalletActor::new(key, wallet, actor_store, clock, registry, settings, queued)
                    .with_events_since_snapshot(replayed)
                    .with_balance_max(balance_max)
            })))
        })?;
        started.ok_or(EngineError::NotFound("wallet"))
    }

    /// Sends a message made by `make` to the wallet's actor and awaits the durable reply.
    /// A retired actor answers `Retry`; the message then goes to a freshly started one.
    async fn ask_wallet<T>(&self, key: WalletKey, make: impl Fn() -> Ask<T>) -> Result<T, EngineError> {
        for _ in 0..RETIRED_ACTOR_ATTEMPTS {
            let actor = self.wallet_actor(key)?;
            if !actor.queued.enter(self.inner.settings.actors.mailbox_len_max) {
                metrics::counter!(names::MAILBOX_FULL_TOTAL, "kind" => "wallet").increment(1);
                return Err(EngineError::Busy("wallet"));
            }
            let (message, answer) = make();
            if actor.addr.try_send(message).is_err() {
                // Closed: the actor stopped between lookup and send; start a fresh one.
                actor.queued.leave();
                self.inner.wallets.remove_if(&key, &actor.addr);
                continue;
            }
            match answer.await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(WalletError::Retry)) | Err(_) => continue,
                Ok(Err(WalletError::Internal)) => return Err(EngineError::Internal("wallet")),
                Ok(Err(WalletError::Rejected(WalletRejection::InsufficientFunds))) => {
                    return Err(EngineError::InsufficientFunds)
                }
                Ok(Err(WalletError::Rejected(WalletRejection::BalanceLimit))) => {
                    return Err(EngineError::BalanceLimit {
                        max: self.inner.settings.money.wallet_balance_max,
                    })
                }
                Ok(Err(WalletError::ReferenceConflict)) => return Err(EngineError::ReferenceConflict),
                Ok(Err(WalletError::PurchaseNotFound)) => return Err(EngineError::NotFound("purchase")),
                Ok(Err(WalletError::Storage(error))) => return Err(EngineError::Storage(error)),
            }
        }
        Err(EngineError::Busy("wallet"))
    }

    /// Checks a submission against the contact's wallet and the rules, without posting it.
    fn prepare_purchase(
        &self,
        submission: PurchaseSubmission,
        tenant: &Tenant,
        contact: &ContactRoute,
    ) -> Result<(PurchaseRequest, SaleOrganisation, Amount), EngineError> {
        let currency = contact.currency;
        if let Some(given) = submission.currency {
            if given != currency {
                return Err(EngineError::CurrencyMismatch {
                    given,
                    wallet: currency,
                });
            }
        }
        let amount_max = self.inner.settings.money.amount_max;
        let money = |parameter: &'static str, value: Decimal| {
            Amount::parse_at_most(value, currency, amount_max).map_err(|error: MoneyError| invalid(parameter, error))
        };
        let optional = |parameter: &'static str, value: Option<Decimal>| {
            value.map(|v| money(parameter, v).map(|a| a.value())).transpose()
        };
        let total = money("transaction_amounts.total", submission.amounts.total)?;
        let amounts = TransactionAmounts {
            net: optional("transaction_amounts.net", submission.amounts.net)?,
            tax: optional("transaction_amounts.tax", submission.amounts.tax)?,
            discount: optional("transaction_amounts.discount", submission.amounts.discount)?,
            total: total.value(),
        };
        for product in &submission.products {
            optional("products.net_amount", product.net_amount)?;
            optional("products.tax_amount", product.tax_amount)?;
            optional("products.total_amount", product.total_amount)?;
        }
        if let Some(date) = submission.date {
            let now = self.now();
            let window = self.inner.settings.purchases;
            let earliest = now.saturating_sub(window.date_backdate_max_s);
            let latest = now.saturating_add(window.date_future_skew_s);
            if date < earliest || date > latest {
                return Err(invalid(
                    "date",
                    format!(
                        "must be within {} s before and {} s after now ({now}); got {date}",
                        window.date_backdate_max_s, window.date_future_skew_s
                    ),
                ));
            }
        }
        let spend = submission
            .spend
            .map(|(amount, restrict_fully_covered)| {
                money("spend_request.amount", amount).map(|amount| SpendRequest {
                    amount: amount.value(),
                    restrict_fully_covered,
                })
            })
            .transpose()?;
        let at = submission.organisation.unwrap_or(SaleOrganisation {
            id: tenant.organisation,
            tap: None,
        });
        let request = PurchaseRequest {
            reference_number: submission.reference_number,
            contact_id: contact.contact_id,
            wallet_id: contact.wallet_id,
            currency,
            amounts,
            date: submission.date,
            products: submission.products,
            spend,
        };
        request.validate(total).map_err(|error| {
            let parameter = match error {
                crate::domain::purchase::PurchaseError::SpendAboveTotal
                | crate::domain::purchase::PurchaseError::SpendZero => "spend_request.amount",
                crate::domain::purchase::PurchaseError::AmountsDisagree => "transaction_amounts",
                crate::domain::purchase::PurchaseError::BadDate => "date",
                _ => "products",
            };
            EngineError::Invalid {
                parameter,
                message: error.to_string(),
            }
        })?;
        Ok((request, at, total))
    }

    /// Posts a POS purchase: awards from every applicable offer and the optional spend,
    /// applied atomically by the wallet's actor. Idempotent on `reference_number`.
    pub async fn post_purchase(
        &self,
        tenant: Tenant,
        submission: PurchaseSubmission,
    ) -> Result<Arc<PurchaseRecord>, EngineError> {
        self.check_open()?;
        let contact = self.contact_route(&tenant, &submission.contact)?;
        self.post_for_contact(tenant, &contact, submission).await
    }

    /// Posts many purchases (the bulk endpoint): one outcome per submission, in order.
    /// Submissions for the same wallet are applied one after another in the order given;
    /// different wallets proceed concurrently.
    pub async fn post_purchases(
        &self,
        tenant: Tenant,
        submissions: Vec<PurchaseSubmission>,
    ) -> Vec<Result<Arc<PurchaseRecord>, EngineError>> {
        let mut outcomes: Vec<Option<Result<Arc<PurchaseRecord>, EngineError>>> = vec![None; submissions.len()];
        let mut by_wallet: HashMap<WalletId, Vec<(usize, ContactRoute, PurchaseSubmission)>> = HashMap::new();
        let mut wallet_order = Vec::new();
        for (index, submission) in submissions.into_iter().enumerate() {
            match self
                .check_open()
                .and_then(|()| self.contact_route(&tenant, &submission.contact))
            {
                Err(error) => outcomes[index] = Some(Err(error)),
                Ok(contact) => {
                    let group = by_wallet.entry(contact.wallet_id).or_insert_with(|| {
                        wallet_order.push(contact.wallet_id);
                        Vec::new()
                    });
                    group.push((index, contact, submission));
                }
            }
        }
        let groups = wallet_order
            .into_iter()
            .filter_map(|wallet| by_wallet.remove(&wallet))
            .map(|group| async move {
                let mut done = Vec::with_capacity(group.len());
                for (index, contact, submission) in group {
                    done.push((index, self.post_for_contact(tenant, &contact, submission).await));
                }
                done
            });
        for (index, outcome) in futures_util::future::join_all(groups).await.into_iter().flatten() {
            outcomes[index] = Some(outcome);
        }
        outcomes
            .into_iter()
            .map(|outcome| outcome.unwrap_or(Err(EngineError::Busy("wallet"))))
            .collect()
    }

    async fn post_for_contact(
        &self,
        tenant: Tenant,
        contact: &ContactRoute,
        submission: PurchaseSubmission,
    ) -> Result<Arc<PurchaseRecord>, EngineError> {
        #[cfg(feature = "failpoints")]
        crate::actors::failpoints::hit(
            crate::actors::failpoints::Failpoint::BeforeWalletPurchase,
            contact.wallet_id.0,
        );
        let (request, at, total) = self.prepare_purchase(submission, &tenant, contact)?;
        let currency = request.currency;
        let purchase_id = PurchaseId::for_reference(&tenant, &request.reference_number);
        let body_hash = request.body_hash(&tenant, &at);
        let now = self.now();
        let offers = self.offers(&tenant).await?;
        // Offers are evaluated at the purchase date (in its window, checked above), and
        // never later than now: a till whose clock runs ahead cannot reach an offer early.
        let award_time = request.date.map_or(now, |date| date.min(now));
        let awards = evaluate_awards(&offers, total, currency, award_time, now)
            .ok_or_else(|| invalid("transaction_amounts.total", "too large for the offers' rules"))?;
        let wallet_id = contact.wallet_id;
        // Another wallet's purchase with this reference in flight is a conflict; the same
        // wallet's retry shares the claim and is answered by its actor.
        let _claim = self
            .inner
            .claims
            .claim(claim_key(b'P', &tenant, purchase_id.as_bytes()), wallet_id.0.as_u128())
            .map_err(|_| EngineError::ReferenceConflict)?;
        self.ask_wallet((tenant, wallet_id), || {
            let (reply, answer) = Reply::channel();
            let message = WalletMessage::PostPurchase {
                purchase_id,
                request: Box::new((request.clone(), at.clone())),
                body_hash,
                awards: awards.clone(),
                reply,
            };
            (message, answer)
        })
        .await
    }

    pub fn purchase(&self, tenant: &Tenant, id: PurchaseId) -> Result<PurchaseRecord, EngineError> {
        self.inner
            .store
            .purchase(tenant, id)?
            .ok_or(EngineError::NotFound("purchase"))
    }

    /// Cancels a posted purchase, reversing its awards and spend exactly. Idempotent.
    pub async fn cancel_purchase(&self, tenant: Tenant, id: PurchaseId) -> Result<Arc<PurchaseRecord>, EngineError> {
        self.check_open()?;
        let record = self.purchase(&tenant, id)?;
        let wallet_id = record.request.wallet_id;
        self.ask_wallet((tenant, wallet_id), || {
            let (reply, answer) = Reply::channel();
            (WalletMessage::CancelPurchase { purchase_id: id, reply }, answer)
        })
        .await
    }

    /// A wallet's balances, after every earlier command on it is durable.
    pub async fn wallet(&self, tenant: Tenant, id: WalletId) -> Result<WalletView, EngineError> {
        self.check_open()?;
        self.ask_wallet((tenant, id), || {
            let (reply, answer) = Reply::channel();
            (WalletMessage::Read { reply }, answer)
        })
        .await
    }

    /// A page of a wallet's journal lines (zero-amount lines left out).
    pub async fn wallet_journal(
        &self,
        tenant: Tenant,
        id: WalletId,
        page: Page,
    ) -> Result<(WalletView, Vec<JournalLine>, bool), EngineError> {
        let view = self.wallet(tenant, id).await?;
        let skip = page.offset;
        if page.size == 0 {
            return Ok((view, Vec::new(), false));
        }
        let mut lines = Vec::with_capacity(page.size.min(256));
        let mut skipped = 0usize;
        let mut more = false;
        self.inner
            .store
            .visit_wallet_events(&tenant, id, page.descending, |event| {
                // An event wholly before the page is counted, not turned into lines.
                let line_count = event.entries.iter().filter(|entry| !entry.amount.is_zero()).count();
                if skipped + line_count <= skip {
                    skipped += line_count;
                    return true;
                }
                let mut event_lines = journal_lines(&view.header, &event);
                if page.descending {
                    event_lines.reverse();
                }
                for line in event_lines {
                    if skipped < skip {
                        skipped += 1;
                    } else if lines.len() < page.size {
                        lines.push(line);
                    } else {
                        more = true;
                        return false;
                    }
                }
                true
            })?;
        Ok((view, lines, more))
    }

    /// How many lines a wallet's journal has (zero-amount lines left out), for
    /// `include_total`.
    pub fn wallet_journal_len(&self, tenant: &Tenant, id: WalletId) -> Result<usize, EngineError> {
        let events = self.inner.store.all_wallet_events(tenant, id)?;
        Ok(events
            .iter()
            .flat_map(|event| &event.entries)
            .filter(|entry| !entry.amount.is_zero())
            .count())
    }

    /// Balance against journal sum for one wallet, as stored: `(balance, journal_sum)`.
    pub async fn audit_wallet(&self, tenant: Tenant, id: WalletId) -> Result<(Decimal, Decimal), EngineError> {
        let view = self.wallet(tenant, id).await?;
        let events = self.inner.store.all_wallet_events(&tenant, id)?;
        let sum = events
            .iter()
            .flat_map(|event| &event.entries)
            .map(Entry::signed_amount)
            .sum();
        Ok((view.balances.total, sum))
    }

    /// Stops intake, lets every actor finish what it holds, flushes, and stops the writer
    /// and the arbiters.
    pub async fn shutdown(&self) {
        if self.inner.closing.swap(true, Ordering::AcqRel) {
            return;
        }
        let mut waits = Vec::new();
        for addr in self.inner.wallets.addresses() {
            let (reply, done) = oneshot::channel();
            addr.do_send(WalletMessage::Shutdown { reply });
            waits.push(done);
        }
        for addr in self.inner.contacts.addresses() {
            let (reply, done) = oneshot::channel();
            addr.do_send(ContactMessage::Shutdown { reply });
            waits.push(done);
        }
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

fn journal_lines(header: &WalletHeader, event: &WalletEvent) -> Vec<JournalLine> {
    event
        .entries
        .iter()
        .enumerate()
        .filter(|(_, entry)| !entry.amount.is_zero())
        .map(|(index, entry)| {
            let mut name = Vec::with_capacity(28);
            name.extend_from_slice(header.id.as_bytes());
            name.extend_from_slice(&event.seq.to_be_bytes());
            name.extend_from_slice(&(index as u32).to_be_bytes());
            JournalLine {
                id: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, &name),
                seq: event.seq,
                entry: entry.clone(),
                posted_on: event.at,
                purchase: event.cause.purchase(),
            }
        })
        .collect()
}
