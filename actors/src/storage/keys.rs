//! Key layout of the derived records (D9). One prefix byte per record kind, which also picks
//! the record family's fjall keyspace (`tables::Family`); every tenant-owned record
//! continues with the tenant (organisation id + mode byte, D10), then its own id.
//!
//! | prefix | rest of key                    | value               |
//! |--------|--------------------------------|---------------------|
//! | `C`    | tenant, contact id             | Contact             |
//! | `K`    | tenant, contact code           | ContactId           |
//! | `Q`    | tenant, wallet code            | ContactId           |
//! | `S`    | tenant, wallet id              | Wallet snapshot     |
//! | `h`    | tenant, wallet id              | RewardHistory: what the wallet earned per offer |
//! | `E`    | tenant, wallet id, page (BE u64)| history page: events page×32 .. page×32+31 (`page`) |
//! | `P`    | tenant, purchase id            | PurchaseRecord      |
//! | `O`    | tenant, offer id               | RewardOffer         |
//! | `I`    | tenant, sha256(idempotency key)| IdempotencyRecord   |
//! | `G`    | organisation id                | Organisation        |
//! | `N`    | parent organisation id, child id | child id: the network |
//! | `A`    | sha256(api key)                | ApiKeyRecord        |
//! | `H`    | api key id                     | sha256(api key)     |
//! | `Y`    | organisation id, api key id    | sha256(api key): keys per organisation |
//! | `X`    | tenant, provider byte, identity value | ContactIdentity (sign-in) |
//! | `V`    | tenant, contact id             | ContactPreferences  |
//! | `U`    | user id                        | User                |
//! | `W`    | user email (lower case)        | UserId              |
//! | `F`    | session id                     | Session (a refresh-token family) |
//! | `f`    | subject, session id            | session id: the open sessions of a user or contact |
//! | `R`    | sha256(refresh token)          | RefreshToken        |
//! | `J`    | signing key id (kid)           | SigningKey          |
//! | `Z`    | tenant, contact id             | the contact's identities (provider, value) |
//! | `T`    | auth_otp id                    | OneTimePassword     |
//! | `D`    | sha256(link token)             | LinkToken (email verification, password reset) |
//! | `B`    | message seq (BE u64)           | OutboundMessage: the communications outbox |
//! | `b`    | message seq (BE u64)           | ActorMessage: the outbox between entities (D5) |
//! | `t`    | tenant, transfer id            | TransferRecord      |
//! | `i`    | tenant, wallet id, message id  | (): the wallet applied this message |
//! | `i`    | tenant, offer id, message id   | (): the offer's budget applied this message |
//! | `u`    | tenant, offer id               | BudgetState: what an offer's budget used and holds |
//! | `k`    | tenant, contact id, token id   | ContactTokenRecord  |
//! | `n`    | token_hash(tenant, code)       | (ContactId, TokenId): a token or its alternative |
//! | `a`    | business id, 0, TAP code   | TapEntry: TAP codes of a business's merchants and venues |
//! | `a`    | business id, 1, TAP id     | TapEntry            |
//! | `m`    | tenant, contact id, business id | Membership: a registry contact's businesses |
//! | `l`    | sha256(sign-in identity)       | i64: locked until (epoch s), after repeated wrong passwords |
//! | `d`    | tenant, wallet id              | SpendSettings: spend block and auto-spend |
//! | `w`    | tenant, wallet id              | WalletLimits: the contact's limit rules |
//! | `y`    | tenant, wallet id              | PaymentMethods: the contact's payment methods |
//! | `g`    | tenant, top-up id              | TopUpRecord: a top-up and where it stands |
//! | `q`    | created (BE, sign-flipped), tenant, top-up id | PendingTopUp: a top-up not settled yet (the reconciler's index) |
//! | `o`    | tenant, pass plan id           | PassPlan            |
//! | `z`    | tenant, pass id                | Pass: its state, value, hashed code and PIN |
//! | `7`    | tenant, SHA-1 of the code (hex) | PassId: the pass a code names |
//! | `5`    | tenant, payout id              | PayoutRecord        |
//! | `6`    | created (BE, sign-flipped), tenant, payout id | PendingPayout: a payout not settled yet |
//! | `*`    | tenant, wallet id              | TopUpSettings: the contact's auto and termed top-ups |
//! | `(`    | tenant                         | PaymentIntegrations: the business's payment gateways |
//! | `)`    | tenant, intent id              | IntentRecord: a payment intent and where it stands |
//! | `-`    | sha256(tenant, client secret)  | (WalletId, IntentId): the intent a client secret names |
//! | `.`    | created (BE, sign-flipped), tenant, intent id | OpenIntent: an intent unsettled or held (the reconciler's index) |
//! | `+`    | due (BE, sign-flipped), tenant, wallet id, kind | ScheduledTopUp: a wallet's top-up due then (the scheduler's index) |
//! | `8`    | tenant, account id             | Account: its state, balance and next journal seq |
//! | `9`    | tenant, contact id             | ContactAccounts: a contact's accounts, and the primary one |
//! | `0`    | tenant, account id, seq (BE u64) | AccountJournal: one posted line |
//! | `1`    | tenant, account journal id     | (AccountId, seq): where a journal line is |
//! | `2`    | tenant, service request id     | ServiceRequest, with its notes |
//! | `3`    | tenant, contact id, created (BE, sign-flipped), request id | ServiceRequestId: a contact's requests, oldest first |
//! | `4`    | tenant, queue id               | Queue: its categories and stages |
//! | `#`    | tenant, owner contact id, relationship id | Relationship: a person in the owner's community |
//! | `$`    | tenant, member contact id, owner contact id | RelationshipId: the communities a contact is in (or invited to) |
//! | `%`    | tenant, relationship id        | ContactId: the community owner a relationship belongs to |
//! | `&`    | tenant, relationship id        | CommunityUsage: what the member spent of the owner's wallet |
//! | `!`    | tenant, contact token id       | ContactId: the community owner whose wallet a spend token spends |
//! | `@`    | organisation id                | Address: where an organisation is (its coordinates) |
//! | `[`    | tenant, product id             | Product: a product of the catalogue, with its prices |
//! | `]`    | tenant, SKU (lower case)       | ProductId: the product a SKU names |
//! | `^`    | tenant, kind byte, class id    | ProductClass: a brand, family, category or type |
//! | `<`    | tenant, pass plan id           | PromotionTerms: the offer a promotion plan's passes unlock |
//! | `>`    | tenant, pass id                | PromotionUses: the purchases a promotion pass unlocked its offer for |
//! | `/`    | tenant, purchase id            | RelationshipId: the community member a purchase spent the owner's wallet for |
//! | `v`    | tenant, purchase id            | UnclaimedPurchase: posted without a contact, to be claimed |
//! | `e`    | tenant, estimate id            | EstimateRecord: a purchase estimate |
//! | `{`    | tenant, order estimate id      | OrderEstimate: an order previewed |
//! | `}`    | tenant, order id               | Order: a submitted order and where it stands |
//! | `|`    | tenant, contact id, submitted (BE, sign-flipped), order id | OrderId: a contact's orders, oldest first |
//! | `~`    | tenant, organisation id        | FulfilmentTerms: how a merchant or venue takes orders |
//! | `=`    | tenant, subscription id        | Subscription: a contact's services of one billing period |
//! | `;`    | tenant, contact id, subscription id | SubscriptionId: a contact's subscriptions |
//! | `:`    | tenant, bill id                | Bill: a subscription's bill and where it stands |
//! | `?`    | due (BE, sign-flipped), tenant, subscription id | DueSubscription: the billing run's index |
//! | `_`    | tenant, product id             | ProductAllowances: the usage a termed service's product allows |
//! | `,`    | tenant, contact id, at (BE, sign-flipped), record id | UsageRecord: usage a contact consumed, oldest first |
//! | `` ` `` | tenant, contact id             | ContactAddresses: a contact's addresses |
//! | `s`    | sha256(tenant, sign-up code)   | SignUpCode: a closed-loop scheme's one-time code |
//! | `x`    | expiry (BE, sign-flipped), tenant, wallet id | LotExpiry: a wallet holds a lot expiring then (the sweep's index) |
//! | `M`    | name                           | meta value          |
//! | `L`    | (nothing)                      | LSN derived, BE u64 |

use crate::domain::access::Subject;
use crate::domain::ids::{
    ApiKeyId, CommercePoolId, ContactCode, ContactId, MessageId, OfferId, OrganisationId, PassId, PassPlanId, PayoutId,
    PurchaseId, SchemeId, TapId, Tenant, TokenId, TopUpId, TransferId, UserId, WalletCode, WalletId,
};

pub const CONTACT: u8 = b'C';
pub const CONTACT_CODE: u8 = b'K';
pub const WALLET_CODE: u8 = b'Q';
pub const WALLET_SNAPSHOT: u8 = b'S';
pub const WALLET_EVENT: u8 = b'E';
pub const PURCHASE: u8 = b'P';
pub const OFFER: u8 = b'O';
pub const IDEMPOTENCY: u8 = b'I';
pub const ORGANISATION: u8 = b'G';
pub const ORGANISATION_CHILD: u8 = b'N';
pub const API_KEY: u8 = b'A';
pub const API_KEY_ID: u8 = b'H';
pub const ORGANISATION_API_KEY: u8 = b'Y';
pub const CONTACT_IDENTITY: u8 = b'X';
pub const CONTACT_PREFERENCES: u8 = b'V';
pub const CONTACT_DETAILS: u8 = b'c';
pub const USER: u8 = b'U';
pub const USER_EMAIL: u8 = b'W';
pub const SESSION: u8 = b'F';
pub const REFRESH_TOKEN: u8 = b'R';
pub const SIGNING_KEY: u8 = b'J';
pub const CONTACT_IDENTITIES: u8 = b'Z';
pub const ONE_TIME_PASSWORD: u8 = b'T';
pub const LINK_TOKEN: u8 = b'D';
pub const OUTBOX: u8 = b'B';
pub const ACTOR_OUTBOX: u8 = b'b';
pub const TRANSFER: u8 = b't';
pub const INBOX: u8 = b'i';
pub const TAP: u8 = b'a';
pub const SUBJECT_SESSION: u8 = b'f';
pub const MEMBERSHIP: u8 = b'm';
pub const SCHEME: u8 = b'r';
pub const SCHEME_MEMBERSHIP: u8 = b'j';
pub const SIGN_IN_LOCK: u8 = b'l';
pub const REWARD_HISTORY: u8 = b'h';
pub const BUDGET: u8 = b'u';
pub const CONTACT_TOKEN: u8 = b'k';
pub const TOKEN_CODE: u8 = b'n';
pub const LOT_EXPIRY: u8 = b'x';
pub const SIGN_UP_CODE: u8 = b's';
pub const ESTIMATE: u8 = b'e';
pub const UNCLAIMED: u8 = b'v';
pub const SPEND_SETTINGS: u8 = b'd';
pub const WALLET_LIMITS: u8 = b'w';
pub const PAYMENT_METHODS: u8 = b'y';
pub const TOP_UP: u8 = b'g';
pub const PENDING_TOP_UP: u8 = b'q';
pub const PASS_PLAN: u8 = b'o';
pub const PASS: u8 = b'z';
pub const PASS_CODE: u8 = b'7';
pub const PAYOUT: u8 = b'5';
pub const PENDING_PAYOUT: u8 = b'6';
pub const TOP_UP_SETTINGS: u8 = b'*';
pub const SCHEDULED_TOP_UP: u8 = b'+';
pub const PAYMENT_INTEGRATIONS: u8 = b'(';
pub const INTENT: u8 = b')';
pub const INTENT_SECRET: u8 = b'-';
pub const OPEN_INTENT: u8 = b'.';
pub const ACCOUNT: u8 = b'8';
pub const CONTACT_ACCOUNTS: u8 = b'9';
pub const ACCOUNT_JOURNAL: u8 = b'0';
pub const ACCOUNT_JOURNAL_ID: u8 = b'1';
pub const SERVICE_REQUEST: u8 = b'2';
pub const CONTACT_SERVICE_REQUEST: u8 = b'3';
pub const QUEUE: u8 = b'4';
pub const RELATIONSHIP: u8 = b'#';
pub const COMMUNITY_MEMBER: u8 = b'$';
pub const RELATIONSHIP_OWNER: u8 = b'%';
pub const COMMUNITY_USAGE: u8 = b'&';
pub const COMMUNITY_TOKEN: u8 = b'!';
pub const COMMUNITY_PURCHASE: u8 = b'/';
pub const PROMOTION_TERMS: u8 = b'<';
pub const PRODUCT: u8 = b'[';
pub const ORGANISATION_ADDRESS: u8 = b'@';
pub const PRODUCT_SKU: u8 = b']';
pub const PRODUCT_CLASS: u8 = b'^';
pub const PROMOTION_USES: u8 = b'>';
pub const ORDER_ESTIMATE: u8 = b'{';
pub const ORDER: u8 = b'}';
pub const CONTACT_ORDER: u8 = b'|';
pub const FULFILMENT: u8 = b'~';
pub const SUBSCRIPTION: u8 = b'=';
pub const CONTACT_SUBSCRIPTION: u8 = b';';
pub const BILL: u8 = b':';
pub const DUE_SUBSCRIPTION: u8 = b'?';
pub const PRODUCT_ALLOWANCES: u8 = b'_';
pub const USAGE_RECORD: u8 = b',';
pub const CONTACT_ADDRESSES: u8 = b'`';

pub const COMMERCE_POOL: u8 = b'p';
pub const META: u8 = b'M';
pub const DERIVED_LSN: u8 = b'L';

fn tenant_key(prefix: u8, tenant: &Tenant, rest: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + Tenant::KEY_LEN + rest.len() + 8);
    key.push(prefix);
    key.extend_from_slice(&tenant.key_bytes());
    key.extend_from_slice(rest);
    key
}

// Orders, subscriptions, bills and usage: their keys live beside these.
#[path = "keys_commerce.rs"]
mod commerce;
pub use commerce::*;

pub fn contact(tenant: &Tenant, id: ContactId) -> Vec<u8> {
    tenant_key(CONTACT, tenant, id.as_bytes())
}

pub fn contact_code(tenant: &Tenant, code: &ContactCode) -> Vec<u8> {
    tenant_key(CONTACT_CODE, tenant, code.as_str().as_bytes())
}

pub fn wallet_code(tenant: &Tenant, code: &WalletCode) -> Vec<u8> {
    tenant_key(WALLET_CODE, tenant, code.as_bytes())
}

pub fn wallet_snapshot(tenant: &Tenant, id: WalletId) -> Vec<u8> {
    tenant_key(WALLET_SNAPSHOT, tenant, id.as_bytes())
}

pub fn reward_history(tenant: &Tenant, id: WalletId) -> Vec<u8> {
    tenant_key(REWARD_HISTORY, tenant, id.as_bytes())
}

pub fn estimate(tenant: &Tenant, id: crate::domain::ids::EstimateId) -> Vec<u8> {
    tenant_key(ESTIMATE, tenant, id.as_bytes())
}

pub fn spend_settings(tenant: &Tenant, wallet: WalletId) -> Vec<u8> {
    tenant_key(SPEND_SETTINGS, tenant, wallet.as_bytes())
}

pub fn wallet_limits(tenant: &Tenant, wallet: WalletId) -> Vec<u8> {
    tenant_key(WALLET_LIMITS, tenant, wallet.as_bytes())
}

pub fn payment_methods(tenant: &Tenant, wallet: WalletId) -> Vec<u8> {
    tenant_key(PAYMENT_METHODS, tenant, wallet.as_bytes())
}

pub fn intent(tenant: &Tenant, id: crate::domain::ids::IntentId) -> Vec<u8> {
    tenant_key(INTENT, tenant, id.as_bytes())
}

pub fn intent_secret(hash: &[u8; 32]) -> Vec<u8> {
    prefixed(INTENT_SECRET, hash)
}

/// What a client secret is found under: a hash of its tenant and its text, so the text is
/// never stored.
pub fn intent_secret_hash(tenant: &Tenant, secret: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"intent-secret:");
    hasher.update(tenant.key_bytes());
    hasher.update(secret.as_bytes());
    hasher.finalize().into()
}

pub fn open_intents() -> Vec<u8> {
    vec![OPEN_INTENT]
}

/// Oldest first: the sign bit flipped makes big-endian bytes sort as the i64.
pub fn open_intent(created_on: i64, tenant: &Tenant, id: crate::domain::ids::IntentId) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + 8 + Tenant::KEY_LEN + 16);
    key.push(OPEN_INTENT);
    key.extend_from_slice(&((created_on as u64) ^ (1 << 63)).to_be_bytes());
    key.extend_from_slice(&tenant.key_bytes());
    key.extend_from_slice(id.as_bytes());
    key
}

pub fn payment_integrations(tenant: &Tenant) -> Vec<u8> {
    tenant_key(PAYMENT_INTEGRATIONS, tenant, &[])
}

pub fn top_up_settings(tenant: &Tenant, wallet: WalletId) -> Vec<u8> {
    tenant_key(TOP_UP_SETTINGS, tenant, wallet.as_bytes())
}

/// Every wallet's scheduled top-ups, soonest first: the scheduler reads this prefix.
pub fn scheduled_top_ups() -> Vec<u8> {
    vec![SCHEDULED_TOP_UP]
}

/// Ordered by when it is due: the sign bit flipped makes big-endian bytes sort as the i64.
pub fn scheduled_top_up(entry: &crate::domain::topup_schedule::ScheduledTopUp) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + 8 + Tenant::KEY_LEN + 16 + 1);
    key.push(SCHEDULED_TOP_UP);
    key.extend_from_slice(&((entry.due as u64) ^ (1 << 63)).to_be_bytes());
    key.extend_from_slice(&entry.tenant.key_bytes());
    key.extend_from_slice(entry.wallet.as_bytes());
    key.push(entry.kind.byte());
    key
}

pub fn top_up(tenant: &Tenant, id: TopUpId) -> Vec<u8> {
    tenant_key(TOP_UP, tenant, id.as_bytes())
}

pub fn pass_plans(tenant: &Tenant) -> Vec<u8> {
    tenant_key(PASS_PLAN, tenant, &[])
}

pub fn pass_plan(tenant: &Tenant, id: PassPlanId) -> Vec<u8> {
    tenant_key(PASS_PLAN, tenant, id.as_bytes())
}

pub fn pass(tenant: &Tenant, id: PassId) -> Vec<u8> {
    tenant_key(PASS, tenant, id.as_bytes())
}

pub fn pass_code(tenant: &Tenant, code_hash: &str) -> Vec<u8> {
    tenant_key(PASS_CODE, tenant, code_hash.as_bytes())
}

pub fn payout(tenant: &Tenant, id: PayoutId) -> Vec<u8> {
    tenant_key(PAYOUT, tenant, id.as_bytes())
}

pub fn account(tenant: &Tenant, id: crate::domain::ids::AccountId) -> Vec<u8> {
    tenant_key(ACCOUNT, tenant, id.as_bytes())
}

pub fn contact_accounts(tenant: &Tenant, contact: ContactId) -> Vec<u8> {
    tenant_key(CONTACT_ACCOUNTS, tenant, contact.as_bytes())
}

pub fn account_journals(tenant: &Tenant, account: crate::domain::ids::AccountId) -> Vec<u8> {
    tenant_key(ACCOUNT_JOURNAL, tenant, account.as_bytes())
}

pub fn account_journal(tenant: &Tenant, account: crate::domain::ids::AccountId, seq: u64) -> Vec<u8> {
    let mut key = account_journals(tenant, account);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

pub fn account_journal_id(tenant: &Tenant, id: crate::domain::ids::AccountJournalId) -> Vec<u8> {
    tenant_key(ACCOUNT_JOURNAL_ID, tenant, id.as_bytes())
}

pub fn service_request(tenant: &Tenant, id: crate::domain::ids::ServiceRequestId) -> Vec<u8> {
    tenant_key(SERVICE_REQUEST, tenant, id.as_bytes())
}

pub fn contact_service_requests(tenant: &Tenant, contact: ContactId) -> Vec<u8> {
    tenant_key(CONTACT_SERVICE_REQUEST, tenant, contact.as_bytes())
}

pub fn contact_service_request(
    tenant: &Tenant,
    contact: ContactId,
    created_on: i64,
    id: crate::domain::ids::ServiceRequestId,
) -> Vec<u8> {
    let mut key = contact_service_requests(tenant, contact);
    key.extend_from_slice(&((created_on as u64) ^ (1 << 63)).to_be_bytes());
    key.extend_from_slice(id.as_bytes());
    key
}

pub fn queues(tenant: &Tenant) -> Vec<u8> {
    tenant_key(QUEUE, tenant, &[])
}

pub fn queue(tenant: &Tenant, id: crate::domain::ids::QueueId) -> Vec<u8> {
    tenant_key(QUEUE, tenant, id.as_bytes())
}

pub fn relationships(tenant: &Tenant, owner: ContactId) -> Vec<u8> {
    tenant_key(RELATIONSHIP, tenant, owner.as_bytes())
}

pub fn relationship(tenant: &Tenant, owner: ContactId, id: crate::domain::ids::RelationshipId) -> Vec<u8> {
    let mut key = relationships(tenant, owner);
    key.extend_from_slice(id.as_bytes());
    key
}

pub fn memberships_of(tenant: &Tenant, member: ContactId) -> Vec<u8> {
    tenant_key(COMMUNITY_MEMBER, tenant, member.as_bytes())
}

pub fn community_member(tenant: &Tenant, member: ContactId, owner: ContactId) -> Vec<u8> {
    let mut key = memberships_of(tenant, member);
    key.extend_from_slice(owner.as_bytes());
    key
}

pub fn relationship_owner(tenant: &Tenant, id: crate::domain::ids::RelationshipId) -> Vec<u8> {
    tenant_key(RELATIONSHIP_OWNER, tenant, id.as_bytes())
}

pub fn organisation_address(id: OrganisationId) -> Vec<u8> {
    prefixed(ORGANISATION_ADDRESS, id.as_bytes())
}

pub fn products(tenant: &Tenant) -> Vec<u8> {
    tenant_key(PRODUCT, tenant, &[])
}

pub fn product(tenant: &Tenant, id: crate::domain::ids::ProductId) -> Vec<u8> {
    tenant_key(PRODUCT, tenant, id.as_bytes())
}

pub fn product_sku(tenant: &Tenant, sku: &str) -> Vec<u8> {
    tenant_key(PRODUCT_SKU, tenant, sku.to_lowercase().as_bytes())
}

pub fn product_classes(tenant: &Tenant, kind: crate::domain::product::ClassKind) -> Vec<u8> {
    tenant_key(PRODUCT_CLASS, tenant, &[kind.byte()])
}

pub fn product_class(
    tenant: &Tenant,
    kind: crate::domain::product::ClassKind,
    id: crate::domain::ids::ProductClassId,
) -> Vec<u8> {
    let mut key = product_classes(tenant, kind);
    key.extend_from_slice(id.as_bytes());
    key
}

pub fn promotion_terms_of(tenant: &Tenant) -> Vec<u8> {
    tenant_key(PROMOTION_TERMS, tenant, &[])
}

pub fn promotion_terms(tenant: &Tenant, plan: PassPlanId) -> Vec<u8> {
    tenant_key(PROMOTION_TERMS, tenant, plan.as_bytes())
}

pub fn promotion_uses(tenant: &Tenant, pass: PassId) -> Vec<u8> {
    tenant_key(PROMOTION_USES, tenant, pass.as_bytes())
}

pub fn community_purchase(tenant: &Tenant, id: PurchaseId) -> Vec<u8> {
    tenant_key(COMMUNITY_PURCHASE, tenant, id.as_bytes())
}

pub fn community_usage(tenant: &Tenant, id: crate::domain::ids::RelationshipId) -> Vec<u8> {
    tenant_key(COMMUNITY_USAGE, tenant, id.as_bytes())
}

pub fn community_token(tenant: &Tenant, token: TokenId) -> Vec<u8> {
    tenant_key(COMMUNITY_TOKEN, tenant, token.as_bytes())
}

pub fn pending_payouts() -> Vec<u8> {
    vec![PENDING_PAYOUT]
}

/// Oldest first, as `pending_top_up`.
pub fn pending_payout(created_on: i64, tenant: &Tenant, id: PayoutId) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + 8 + Tenant::KEY_LEN + 16);
    key.push(PENDING_PAYOUT);
    key.extend_from_slice(&((created_on as u64) ^ (1 << 63)).to_be_bytes());
    key.extend_from_slice(&tenant.key_bytes());
    key.extend_from_slice(id.as_bytes());
    key
}

pub fn pending_top_ups() -> Vec<u8> {
    vec![PENDING_TOP_UP]
}

/// Oldest first: the sign bit flipped makes big-endian bytes sort as the i64.
pub fn pending_top_up(created_on: i64, tenant: &Tenant, id: TopUpId) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + 8 + Tenant::KEY_LEN + 16);
    key.push(PENDING_TOP_UP);
    key.extend_from_slice(&((created_on as u64) ^ (1 << 63)).to_be_bytes());
    key.extend_from_slice(&tenant.key_bytes());
    key.extend_from_slice(id.as_bytes());
    key
}

pub fn unclaimed(tenant: &Tenant, id: PurchaseId) -> Vec<u8> {
    tenant_key(UNCLAIMED, tenant, id.as_bytes())
}

pub fn sign_up_code(hash: &[u8; 32]) -> Vec<u8> {
    prefixed(SIGN_UP_CODE, hash)
}

/// What a sign-up code is stored under: a hash of its tenant and its (normalised) text, so
/// the same code in two businesses are two codes, and the text is never stored.
pub fn sign_up_code_hash(tenant: &Tenant, code: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"sign-up-code:");
    hasher.update(tenant.key_bytes());
    hasher.update(code.as_bytes());
    hasher.finalize().into()
}

/// Every wallet's lots by expiry: the scheduled sweep reads this prefix in order.
pub fn lot_expiries() -> Vec<u8> {
    vec![LOT_EXPIRY]
}

/// Ordered by expiry first: the sign bit flipped makes big-endian bytes sort as the i64.
pub fn lot_expiry(expires_at: i64, tenant: &Tenant, wallet: WalletId) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + 8 + Tenant::KEY_LEN + 16);
    key.push(LOT_EXPIRY);
    key.extend_from_slice(&((expires_at as u64) ^ (1 << 63)).to_be_bytes());
    key.extend_from_slice(&tenant.key_bytes());
    key.extend_from_slice(wallet.as_bytes());
    key
}

/// Events per history page: a wallet's event `seq` lives on page `seq / EVENTS_PER_PAGE`.
/// Larger pages mean fewer keys for a busy wallet and more bytes rewritten for a quiet one.
pub const EVENTS_PER_PAGE: u64 = 32;

/// All history pages of one wallet share this prefix; the page number follows, big-endian,
/// so keys sort in journal order.
pub fn wallet_pages(tenant: &Tenant, id: WalletId) -> Vec<u8> {
    tenant_key(WALLET_EVENT, tenant, id.as_bytes())
}

/// The key of the history page holding the wallet's event `seq`.
pub fn wallet_page(tenant: &Tenant, id: WalletId, seq: u64) -> Vec<u8> {
    let mut key = wallet_pages(tenant, id);
    key.extend_from_slice(&(seq / EVENTS_PER_PAGE).to_be_bytes());
    key
}

pub fn purchase(tenant: &Tenant, id: PurchaseId) -> Vec<u8> {
    tenant_key(PURCHASE, tenant, id.as_bytes())
}

pub fn offers(tenant: &Tenant) -> Vec<u8> {
    tenant_key(OFFER, tenant, &[])
}

pub fn offer(tenant: &Tenant, id: OfferId) -> Vec<u8> {
    tenant_key(OFFER, tenant, id.as_bytes())
}

pub fn idempotency(tenant: &Tenant, key_hash: &[u8; 32]) -> Vec<u8> {
    tenant_key(IDEMPOTENCY, tenant, key_hash)
}

pub fn organisation(id: OrganisationId) -> Vec<u8> {
    let mut key = vec![ORGANISATION];
    key.extend_from_slice(id.as_bytes());
    key
}

/// Children of `parent` share this prefix; each key ends with the child's id.
pub fn organisation_children(parent: OrganisationId) -> Vec<u8> {
    let mut key = vec![ORGANISATION_CHILD];
    key.extend_from_slice(parent.as_bytes());
    key
}

pub fn organisation_child(parent: OrganisationId, child: OrganisationId) -> Vec<u8> {
    let mut key = organisation_children(parent);
    key.extend_from_slice(child.as_bytes());
    key
}

pub fn api_key(key_hash: &[u8; 32]) -> Vec<u8> {
    let mut key = vec![API_KEY];
    key.extend_from_slice(key_hash);
    key
}

pub fn api_key_id(id: ApiKeyId) -> Vec<u8> {
    let mut key = vec![API_KEY_ID];
    key.extend_from_slice(id.as_bytes());
    key
}

/// The keys of `organisation` share this prefix.
pub fn organisation_api_keys(organisation: OrganisationId) -> Vec<u8> {
    let mut key = vec![ORGANISATION_API_KEY];
    key.extend_from_slice(organisation.as_bytes());
    key
}

pub fn organisation_api_key(organisation: OrganisationId, id: ApiKeyId) -> Vec<u8> {
    let mut key = organisation_api_keys(organisation);
    key.extend_from_slice(id.as_bytes());
    key
}

pub fn tap_code(business: OrganisationId, code: &str) -> Vec<u8> {
    let mut key = prefixed(TAP, business.as_bytes());
    key.push(0);
    key.extend_from_slice(code.as_bytes());
    key
}

pub fn tap_id(business: OrganisationId, id: TapId) -> Vec<u8> {
    let mut key = prefixed(TAP, business.as_bytes());
    key.push(1);
    key.extend_from_slice(id.as_bytes());
    key
}

/// The memberships of one registry contact share this prefix.
pub fn schemes(tenant: &Tenant) -> Vec<u8> {
    tenant_key(SCHEME, tenant, &[])
}

/// A tenant's commerce pools share this prefix.
pub fn commerce_pools(tenant: &Tenant) -> Vec<u8> {
    tenant_key(COMMERCE_POOL, tenant, &[])
}

pub fn commerce_pool(tenant: &Tenant, id: CommercePoolId) -> Vec<u8> {
    tenant_key(COMMERCE_POOL, tenant, id.as_bytes())
}

pub fn scheme(tenant: &Tenant, id: SchemeId) -> Vec<u8> {
    tenant_key(SCHEME, tenant, id.as_bytes())
}

/// A contact's records for the schemes it signed up to or out of.
pub fn scheme_memberships(tenant: &Tenant, contact: ContactId) -> Vec<u8> {
    tenant_key(SCHEME_MEMBERSHIP, tenant, contact.as_bytes())
}

pub fn scheme_membership(tenant: &Tenant, contact: ContactId, scheme: SchemeId) -> Vec<u8> {
    let mut key = scheme_memberships(tenant, contact);
    key.extend_from_slice(scheme.as_bytes());
    key
}

pub fn memberships(tenant: &Tenant, contact: ContactId) -> Vec<u8> {
    tenant_key(MEMBERSHIP, tenant, contact.as_bytes())
}

pub fn membership(tenant: &Tenant, contact: ContactId, business: OrganisationId) -> Vec<u8> {
    let mut key = memberships(tenant, contact);
    key.extend_from_slice(business.as_bytes());
    key
}

pub fn contact_identity(tenant: &Tenant, provider: u8, value: &str) -> Vec<u8> {
    let mut key = tenant_key(CONTACT_IDENTITY, tenant, &[provider]);
    key.extend_from_slice(value.as_bytes());
    key
}

pub fn contact_preferences(tenant: &Tenant, id: ContactId) -> Vec<u8> {
    tenant_key(CONTACT_PREFERENCES, tenant, id.as_bytes())
}

pub fn contact_details(tenant: &Tenant, id: ContactId) -> Vec<u8> {
    tenant_key(CONTACT_DETAILS, tenant, id.as_bytes())
}

pub fn contact_identities(tenant: &Tenant, id: ContactId) -> Vec<u8> {
    tenant_key(CONTACT_IDENTITIES, tenant, id.as_bytes())
}

pub fn one_time_password(id: uuid::Uuid) -> Vec<u8> {
    prefixed(ONE_TIME_PASSWORD, id.as_bytes())
}

pub fn link_token(token_hash: &[u8; 32]) -> Vec<u8> {
    prefixed(LINK_TOKEN, token_hash)
}

/// Outbox keys sort in sequence order.
pub fn outbox_message(seq: u64) -> Vec<u8> {
    prefixed(OUTBOX, &seq.to_be_bytes())
}

pub fn outbox() -> Vec<u8> {
    vec![OUTBOX]
}

pub fn actor_message(seq: u64) -> Vec<u8> {
    prefixed(ACTOR_OUTBOX, &seq.to_be_bytes())
}

pub fn actor_outbox() -> Vec<u8> {
    vec![ACTOR_OUTBOX]
}

pub fn transfer(tenant: &Tenant, id: TransferId) -> Vec<u8> {
    tenant_key(TRANSFER, tenant, id.as_bytes())
}

pub fn contact_token(tenant: &Tenant, contact: ContactId, token: TokenId) -> Vec<u8> {
    let mut rest = [0u8; 32];
    rest[..16].copy_from_slice(contact.as_bytes());
    rest[16..].copy_from_slice(token.as_bytes());
    tenant_key(CONTACT_TOKEN, tenant, &rest)
}

pub fn contact_tokens(tenant: &Tenant, contact: ContactId) -> Vec<u8> {
    tenant_key(CONTACT_TOKEN, tenant, contact.as_bytes())
}

pub fn token_code(hash: &[u8; 32]) -> Vec<u8> {
    let mut key = Vec::with_capacity(33);
    key.push(TOKEN_CODE);
    key.extend_from_slice(hash);
    key
}

pub fn budget(tenant: &Tenant, offer: OfferId) -> Vec<u8> {
    tenant_key(BUDGET, tenant, offer.as_bytes())
}

/// A budget's applied messages share the wallets' inbox (an offer id never equals a wallet
/// id: both are random UUIDs).
pub fn budget_inbox(tenant: &Tenant, offer: OfferId, message: MessageId) -> Vec<u8> {
    inbox(tenant, WalletId(offer.0), message)
}

pub fn inbox(tenant: &Tenant, wallet: WalletId, message: MessageId) -> Vec<u8> {
    let mut rest = [0u8; 32];
    rest[..16].copy_from_slice(wallet.as_bytes());
    rest[16..].copy_from_slice(message.as_bytes());
    tenant_key(INBOX, tenant, &rest)
}

fn prefixed(prefix: u8, rest: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + rest.len());
    key.push(prefix);
    key.extend_from_slice(rest);
    key
}

pub fn user(id: UserId) -> Vec<u8> {
    prefixed(USER, id.as_bytes())
}

pub fn user_email(email: &str) -> Vec<u8> {
    prefixed(USER_EMAIL, email.as_bytes())
}

pub fn session(id: uuid::Uuid) -> Vec<u8> {
    prefixed(SESSION, id.as_bytes())
}

/// The open sessions of one user or contact share this prefix.
pub fn subject_sessions(subject: &Subject) -> Vec<u8> {
    let mut key = vec![SUBJECT_SESSION];
    match subject {
        Subject::User(user) => {
            key.push(b'U');
            key.extend_from_slice(user.as_bytes());
        }
        Subject::Contact(tenant, contact) => {
            key.push(b'C');
            key.extend_from_slice(&tenant.key_bytes());
            key.extend_from_slice(contact.as_bytes());
        }
    }
    key
}

pub fn subject_session(subject: &Subject, session: uuid::Uuid) -> Vec<u8> {
    let mut key = subject_sessions(subject);
    key.extend_from_slice(session.as_bytes());
    key
}

pub fn sign_in_lock(identity_hash: &[u8; 32]) -> Vec<u8> {
    prefixed(SIGN_IN_LOCK, identity_hash)
}

pub fn refresh_token(token_hash: &[u8; 32]) -> Vec<u8> {
    prefixed(REFRESH_TOKEN, token_hash)
}

pub fn signing_keys() -> Vec<u8> {
    vec![SIGNING_KEY]
}

pub fn signing_key(kid: &str) -> Vec<u8> {
    prefixed(SIGNING_KEY, kid.as_bytes())
}

pub fn meta(name: &str) -> Vec<u8> {
    let mut key = vec![META];
    key.extend_from_slice(name.as_bytes());
    key
}

/// The commit-log position fjall holds everything up to (written with what it covers).
pub fn derived_lsn() -> &'static [u8] {
    &[DERIVED_LSN]
}
