//! The write side: a `WriteSet` gathers the records of one commit, one method per record
//! family, each naming its key (see `keys`) and encoding its value.

use super::*;

/// Records to write atomically in one commit.
#[derive(Debug, Default)]
pub struct WriteSet {
    pub(super) writes: Vec<(Op, Vec<u8>, Vec<u8>)>,
}

impl WriteSet {
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
    /// Adds another set's writes after this one's (one atomic commit).
    pub fn extend(&mut self, other: WriteSet) {
        self.writes.extend(other.writes);
    }
    pub fn contact_identity(
        &mut self,
        tenant: &Tenant,
        provider: IdentityProvider,
        value: &str,
        identity: &ContactIdentity,
    ) {
        self.put(
            keys::contact_identity(tenant, provider.as_byte(), value),
            encode(identity),
        );
    }
    pub fn contact_preferences(&mut self, tenant: &Tenant, id: ContactId, preferences: &ContactPreferences) {
        self.put(keys::contact_preferences(tenant, id), encode(preferences));
    }
    /// Every record but history is a put: the value replaces the key's.
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        debug_assert!(!value.is_empty(), "an empty value is a removal");
        self.writes.push((Op::Put, key, value));
    }
    /// A removal is a put of nothing: reads see no record (every encoded record has at least
    /// its version byte), and the deriver removes the key from fjall.
    fn remove(&mut self, key: Vec<u8>) {
        self.writes.push((Op::Put, key, Vec::new()));
    }
    pub fn contact(&mut self, contact: &Contact) {
        self.put(keys::contact(&contact.tenant, contact.id), encode(contact));
    }
    pub fn contact_code(&mut self, tenant: &Tenant, code: &ContactCode, id: ContactId) {
        self.put(keys::contact_code(tenant, code), encode(&id));
    }
    pub fn wallet_code(&mut self, tenant: &Tenant, code: &WalletCode, contact: ContactId) {
        self.put(keys::wallet_code(tenant, code), encode(&contact));
    }
    pub fn wallet_snapshot(&mut self, wallet: &Wallet) {
        let header = &wallet.header;
        self.put(keys::wallet_snapshot(&header.tenant, header.id), encode(wallet));
    }
    /// An event joins its history page (`page`) rather than taking a key of its own.
    pub fn wallet_event(&mut self, tenant: &Tenant, wallet: WalletId, event: &WalletEvent) {
        self.writes.push((
            Op::Append,
            keys::wallet_page(tenant, wallet, event.seq),
            page::entry_with(event.seq, |out| codec::encode_into(event, out)),
        ));
    }
    pub fn purchase(&mut self, purchase: &PurchaseRecord) {
        self.put(keys::purchase(&purchase.tenant, purchase.id), encode(purchase));
    }
    pub fn offer(&mut self, tenant: &Tenant, offer: &RewardOffer) {
        self.put(keys::offer(tenant, offer.id), encode(offer));
    }
    pub fn idempotency(&mut self, tenant: &Tenant, key_hash: &[u8; 32], record: &IdempotencyRecord) {
        self.put(keys::idempotency(tenant, key_hash), encode(record));
    }
    pub fn organisation(&mut self, organisation: &Organisation) {
        self.put(keys::organisation(organisation.id), encode(organisation));
        if let Some(parent) = organisation.parent {
            self.put(
                keys::organisation_child(parent, organisation.id),
                encode(&organisation.id),
            );
        }
    }
    /// An organisation leaves the network: its record and its place under its parent.
    pub fn remove_organisation(&mut self, organisation: &Organisation) {
        self.remove(keys::organisation(organisation.id));
        if let Some(parent) = organisation.parent {
            self.remove(keys::organisation_child(parent, organisation.id));
        }
    }
    /// A TAP of one of `business`'s organisations, findable by code and by id.
    pub fn tap(&mut self, business: OrganisationId, entry: &TapEntry) {
        let value = encode(entry);
        self.put(keys::tap_code(business, &entry.tap.code), value.clone());
        self.put(keys::tap_id(business, entry.tap.id), value);
    }
    pub fn remove_tap(&mut self, business: OrganisationId, entry: &TapEntry) {
        self.remove(keys::tap_code(business, &entry.tap.code));
        self.remove(keys::tap_id(business, entry.tap.id));
    }
    /// A key's record and its two indexes (by id, and by organisation for lists).
    pub fn api_key(&mut self, key_hash: &[u8; 32], record: &ApiKeyRecord) {
        self.put(keys::api_key(key_hash), encode(record));
        self.put(keys::api_key_id(record.id), encode(key_hash));
        self.put(
            keys::organisation_api_key(record.organisation, record.id),
            encode(key_hash),
        );
    }
    pub fn meta(&mut self, name: &str, value: &[u8]) {
        self.put(keys::meta(name), encode(&value.to_vec()));
    }
    /// A user and its email index.
    pub fn user(&mut self, user: &User) {
        self.put(keys::user(user.id), encode(user));
        self.put(keys::user_email(&user.email), encode(&user.id));
    }
    /// A session, and its place among its subject's open sessions (left when it ends).
    pub fn session(&mut self, session: &Session) {
        self.put(keys::session(session.id), encode(session));
        let index = keys::subject_session(&session.subject, session.id);
        match session.revoked_on {
            None => self.put(index, encode(&session.id)),
            Some(_) => self.remove(index),
        }
    }
    /// A contact leaves its business: its record, its code and wallet-code indexes, its
    /// preferences and its list of identities (the identities are removed one by one).
    pub fn remove_contact(&mut self, contact: &Contact) {
        self.remove(keys::contact(&contact.tenant, contact.id));
        if let Some(code) = &contact.code {
            self.remove(keys::contact_code(&contact.tenant, code));
        }
        self.remove(keys::wallet_code(&contact.tenant, &contact.wallet_code));
        self.remove(keys::contact_preferences(&contact.tenant, contact.id));
        self.remove(keys::contact_identities(&contact.tenant, contact.id));
    }
    pub fn membership(&mut self, tenant: &Tenant, contact: ContactId, membership: &Membership) {
        self.put(
            keys::membership(tenant, contact, membership.business),
            encode(membership),
        );
    }
    pub fn remove_contact_identity(&mut self, tenant: &Tenant, provider: IdentityProvider, value: &str) {
        self.remove(keys::contact_identity(tenant, provider.as_byte(), value));
    }
    pub fn refresh_token(&mut self, token_hash: &[u8; 32], token: &RefreshToken) {
        self.put(keys::refresh_token(token_hash), encode(token));
    }
    pub fn signing_key(&mut self, key: &SigningKey) {
        self.put(keys::signing_key(&key.kid), encode(key));
    }
    pub fn contact_identities(&mut self, tenant: &Tenant, id: ContactId, identities: &[(IdentityProvider, String)]) {
        self.put(keys::contact_identities(tenant, id), encode(&identities));
    }
    pub fn one_time_password(&mut self, otp: &OneTimePassword) {
        self.put(keys::one_time_password(otp.id), encode(otp));
    }
    /// Sign-in with the identity is refused until `until` (epoch seconds).
    pub fn sign_in_lock(&mut self, identity_hash: &[u8; 32], until: i64) {
        self.put(keys::sign_in_lock(identity_hash), encode(&until));
    }
    pub fn remove_sign_in_lock(&mut self, identity_hash: &[u8; 32]) {
        self.remove(keys::sign_in_lock(identity_hash));
    }
    pub fn link_token(&mut self, token_hash: &[u8; 32], token: &LinkToken) {
        self.put(keys::link_token(token_hash), encode(token));
    }
    pub fn outbox_message(&mut self, message: &OutboundMessage) {
        self.put(keys::outbox_message(message.seq), encode(message));
    }
    /// A message leaves the outbox once delivered or given up.
    pub fn outbox_done(&mut self, seq: u64) {
        self.remove(keys::outbox_message(seq));
    }
}
