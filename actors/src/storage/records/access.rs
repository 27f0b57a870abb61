//! Access records: users, sessions and refresh tokens, signing keys, one-time passwords, emailed links and sign-in lockouts.

use crate::storage::*;

impl Store {
    pub fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.get(&keys::user(id))
    }

    pub fn user_by_email(&self, email: &str) -> Result<Option<UserId>, StoreError> {
        self.get(&keys::user_email(email))
    }

    /// The open sessions of a user or contact (those started since sessions were indexed).
    pub fn subject_sessions(&self, subject: &Subject) -> Result<Vec<uuid::Uuid>, StoreError> {
        let prefix = keys::subject_sessions(subject);
        self.scan(&prefix, usize::MAX)
    }

    pub fn session(&self, id: uuid::Uuid) -> Result<Option<Session>, StoreError> {
        self.get(&keys::session(id))
    }

    pub fn refresh_token(&self, token_hash: &[u8; 32]) -> Result<Option<RefreshToken>, StoreError> {
        self.get(&keys::refresh_token(token_hash))
    }

    pub fn signing_keys(&self) -> Result<Vec<SigningKey>, StoreError> {
        let prefix = keys::signing_keys();
        self.scan(&prefix, usize::MAX)
    }

    pub fn one_time_password(&self, id: uuid::Uuid) -> Result<Option<OneTimePassword>, StoreError> {
        self.get(&keys::one_time_password(id))
    }

    pub fn sign_in_lock(&self, identity_hash: &[u8; 32]) -> Result<Option<i64>, StoreError> {
        self.get(&keys::sign_in_lock(identity_hash))
    }

    pub fn link_token(&self, token_hash: &[u8; 32]) -> Result<Option<LinkToken>, StoreError> {
        self.get(&keys::link_token(token_hash))
    }
}

impl WriteSet {
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

    pub fn refresh_token(&mut self, token_hash: &[u8; 32], token: &RefreshToken) {
        self.put(keys::refresh_token(token_hash), encode(token));
    }

    pub fn signing_key(&mut self, key: &SigningKey) {
        self.put(keys::signing_key(&key.kid), encode(key));
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
}
