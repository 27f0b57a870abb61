//! Access tokens (Ed25519-signed JWTs with a `kid`), their signing keys (kept in the store,
//! rotatable, published as a JWKS), sessions and rotating refresh tokens.
//!
//! An access token is checked by signature, issuer, expiry (by the engine's clock) and its
//! session, which a sign-out or a refresh-token reuse revokes. Refresh tokens are random,
//! stored as SHA-256, used once each.

use crate::domain::access::{RefreshToken, Role, Session, SigningKey, Subject};
use crate::domain::ids::{Mode, OrganisationId};
use crate::engine::secrets::random_token;
use crate::engine::{sha256, Engine, EngineError};
use crate::storage::WriteSet;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The `iss` of every token this engine signs.
pub const ISSUER: &str = "rewards-engine";

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    /// The user's or contact's id.
    pub sub: String,
    /// `user` or `contact`.
    pub typ: String,
    /// The organisation the token acts in (a contact's: its business).
    pub org: String,
    /// `LIVE` or `TEST`.
    pub mode: String,
    /// `ADMIN` or `MEMBER` (users).
    pub role: String,
    /// The session (refresh-token family).
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

/// A verified access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub claims: AccessClaims,
    pub session: Session,
}

/// What a sign-in, refresh or switch returns.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// When the access token expires (epoch seconds).
    pub expires_on: i64,
    pub session: Session,
}

/// Whose session a refresh is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    User,
    Contact,
}

/// A public key as `/.well-known/jwks.json` lists it (RFC 8037: OKP, Ed25519).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jwk {
    pub kty: &'static str,
    pub crv: &'static str,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub usage: &'static str,
    pub kid: String,
    pub x: String,
}

struct Verifier {
    key: DecodingKey,
    x: String,
    retired_on: Option<i64>,
}

/// The signing keys in memory: the newest signs, all unretired ones verify.
#[derive(Default)]
pub(in crate::engine) struct SigningKeys {
    current: Option<(String, EncodingKey)>,
    verifiers: HashMap<String, Verifier>,
}

/// RFC 8410's PKCS#8 wrapping of an Ed25519 seed, which `EncodingKey::from_ed_der` reads.
fn pkcs8(seed: &[u8; 32]) -> Vec<u8> {
    let mut der = hex::decode("302e020100300506032b657004220420").expect("constant hex");
    der.extend_from_slice(seed);
    der
}

fn public_x(seed: &[u8; 32]) -> String {
    let public = ed25519_dalek::SigningKey::from_bytes(seed).verifying_key();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public.as_bytes())
}

impl SigningKeys {
    fn from_records(records: &[SigningKey]) -> Result<SigningKeys, EngineError> {
        let mut keys = SigningKeys::default();
        let newest = records
            .iter()
            .filter(|key| key.retired_on.is_none())
            .max_by_key(|key| (key.created_on, key.kid.clone()));
        for record in records {
            let x = public_x(&record.seed);
            let key = DecodingKey::from_ed_components(&x)
                .map_err(|error| EngineError::Storage(format!("signing key {}: {error}", record.kid)))?;
            keys.verifiers.insert(
                record.kid.clone(),
                Verifier {
                    key,
                    x,
                    retired_on: record.retired_on,
                },
            );
        }
        keys.current = newest.map(|key| (key.kid.clone(), EncodingKey::from_ed_der(&pkcs8(&key.seed))));
        Ok(keys)
    }
}

fn new_signing_key(now: i64) -> SigningKey {
    SigningKey {
        kid: uuid::Uuid::new_v4().simple().to_string(),
        seed: rand::random(),
        created_on: now,
        retired_on: None,
    }
}

impl Engine {
    /// Loads the signing keys, making the first one on a store that has none. Call once at
    /// start, before serving.
    pub async fn prepare_signing_keys(&self) -> Result<(), EngineError> {
        let _writing = self.inner.access_writes.lock().await;
        let mut records = self.inner.store.signing_keys()?;
        if !records.iter().any(|key| key.retired_on.is_none()) {
            let key = new_signing_key(self.now());
            let mut writes = WriteSet::default();
            writes.signing_key(&key);
            self.inner.store.commit_async(writes).await?;
            records.push(key);
        }
        *self.inner.signing.write() = SigningKeys::from_records(&records)?;
        Ok(())
    }

    /// Makes a new signing key the one that signs. Older keys keep verifying for one
    /// access-token lifetime (tokens they signed stay good until they expire), then retire.
    /// Returns the new key's id.
    pub async fn rotate_signing_key(&self) -> Result<String, EngineError> {
        let _writing = self.inner.access_writes.lock().await;
        let now = self.now();
        let mut records = self.inner.store.signing_keys()?;
        let mut writes = WriteSet::default();
        for record in records.iter_mut().filter(|key| key.retired_on.is_none()) {
            record.retired_on = Some(now + self.inner.settings.auth.access_token_ttl_s);
            writes.signing_key(record);
        }
        let key = new_signing_key(now);
        writes.signing_key(&key);
        self.inner.store.commit_async(writes).await?;
        let kid = key.kid.clone();
        records.push(key);
        *self.inner.signing.write() = SigningKeys::from_records(&records)?;
        Ok(kid)
    }

    /// The public keys that verify tokens now, newest signing key included.
    pub fn jwks(&self) -> Vec<Jwk> {
        let now = self.now();
        let signing = self.inner.signing.read();
        let mut keys: Vec<Jwk> = signing
            .verifiers
            .iter()
            .filter(|(_, verifier)| verifier.retired_on.is_none_or(|retired| retired > now))
            .map(|(kid, verifier)| Jwk {
                kty: "OKP",
                crv: "Ed25519",
                alg: "EdDSA",
                usage: "sig",
                kid: kid.clone(),
                x: verifier.x.clone(),
            })
            .collect();
        keys.sort_by(|a, b| a.kid.cmp(&b.kid));
        keys
    }

    fn sign(&self, claims: &AccessClaims) -> Result<String, EngineError> {
        let signing = self.inner.signing.read();
        let (kid, key) = signing
            .current
            .as_ref()
            .ok_or_else(|| EngineError::Storage("no signing key loaded".into()))?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.clone());
        jsonwebtoken::encode(&header, claims, key).map_err(|error| EngineError::Storage(format!("signing: {error}")))
    }

    fn access_claims(&self, session: &Session, now: i64) -> AccessClaims {
        let (sub, typ) = match session.subject {
            Subject::User(id) => (id.to_string(), "user"),
            Subject::Contact(_, id) => (id.to_string(), "contact"),
        };
        AccessClaims {
            iss: ISSUER.into(),
            sub,
            typ: typ.into(),
            org: session.organisation.to_string(),
            mode: session.mode.code().into(),
            role: session.role.code().into(),
            sid: session.id.to_string(),
            iat: now,
            exp: now + self.inner.settings.auth.access_token_ttl_s,
            jti: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// Writes `writes` plus the next refresh token of `session`, and returns both tokens.
    async fn issue_tokens(&self, session: Session, mut writes: WriteSet) -> Result<TokenPair, EngineError> {
        let now = self.now();
        let refresh_token = random_token("rt_");
        writes.refresh_token(
            &sha256(&refresh_token),
            &RefreshToken {
                session: session.id,
                expires_on: now + self.inner.settings.auth.refresh_token_ttl_s,
                spent_on: None,
            },
        );
        let claims = self.access_claims(&session, now);
        let access_token = self.sign(&claims)?;
        self.inner.store.commit_async(writes).await?;
        Ok(TokenPair {
            access_token,
            refresh_token,
            expires_on: claims.exp,
            session,
        })
    }

    /// Starts a session for `subject` acting in `organisation`, with its first tokens.
    pub(in crate::engine) async fn start_session(
        &self,
        subject: Subject,
        organisation: OrganisationId,
        mode: Mode,
        role: Role,
    ) -> Result<TokenPair, EngineError> {
        self.start_session_with(subject, organisation, mode, role, WriteSet::default())
            .await
    }

    /// As `start_session`, committing `writes` atomically with the session.
    pub(in crate::engine) async fn start_session_with(
        &self,
        subject: Subject,
        organisation: OrganisationId,
        mode: Mode,
        role: Role,
        mut writes: WriteSet,
    ) -> Result<TokenPair, EngineError> {
        let session = Session {
            id: uuid::Uuid::new_v4(),
            subject,
            organisation,
            mode,
            role,
            created_on: self.now(),
            revoked_on: None,
        };
        writes.session(&session);
        self.issue_tokens(session, writes).await
    }

    /// Trades a refresh token for new tokens of the same session. The token is spent; using
    /// it again revokes the whole session (someone else has a copy). A token of the other
    /// kind of session (a user's at the contacts' endpoint) is refused and left unspent.
    pub async fn refresh_session(&self, refresh_token: &str, kind: SessionKind) -> Result<TokenPair, EngineError> {
        self.check_open()?;
        let _writing = self.inner.access_writes.lock().await;
        let hash = sha256(refresh_token.trim());
        let mut token = self
            .inner
            .store
            .refresh_token(&hash)?
            .ok_or(EngineError::InvalidToken("unknown refresh token"))?;
        let mut session = self
            .inner
            .store
            .session(token.session)?
            .ok_or(EngineError::InvalidToken("unknown session"))?;
        let now = self.now();
        let matches = match session.subject {
            Subject::User(_) => kind == SessionKind::User,
            Subject::Contact(..) => kind == SessionKind::Contact,
        };
        if !matches {
            return Err(EngineError::InvalidToken("a refresh token of another kind of session"));
        }
        if session.revoked_on.is_some() {
            return Err(EngineError::InvalidToken("the session has ended"));
        }
        if token.spent_on.is_some() {
            session.revoked_on = Some(now);
            let mut writes = WriteSet::default();
            writes.session(&session);
            self.inner.store.commit_async(writes).await?;
            tracing::warn!(session = %session.id, "refresh token reused; session revoked");
            return Err(EngineError::InvalidToken(
                "the refresh token was already used; the session is revoked",
            ));
        }
        if token.expires_on <= now {
            return Err(EngineError::InvalidToken("the refresh token has expired"));
        }
        token.spent_on = Some(now);
        let mut writes = WriteSet::default();
        writes.refresh_token(&hash, &token);
        self.issue_tokens(session, writes).await
    }

    /// Adds to `writes` the end of every open session of `subject` but `except`. Call under
    /// `access_writes`, so no session starts or ends between the read and the commit.
    pub(in crate::engine) fn end_sessions_of(
        &self,
        subject: &Subject,
        except: Option<uuid::Uuid>,
        writes: &mut WriteSet,
    ) -> Result<usize, EngineError> {
        let now = self.now();
        let mut ended = 0;
        for id in self.inner.store.subject_sessions(subject)? {
            if Some(id) == except {
                continue;
            }
            if let Some(mut session) = self.inner.store.session(id)? {
                if session.revoked_on.is_none() {
                    session.revoked_on = Some(now);
                    writes.session(&session);
                    ended += 1;
                }
            }
        }
        Ok(ended)
    }

    /// Ends a session: its refresh tokens and access tokens stop working.
    pub async fn end_session(&self, session: uuid::Uuid) -> Result<(), EngineError> {
        let _writing = self.inner.access_writes.lock().await;
        if let Some(mut found) = self.inner.store.session(session)? {
            if found.revoked_on.is_none() {
                found.revoked_on = Some(self.now());
                let mut writes = WriteSet::default();
                writes.session(&found);
                self.inner.store.commit_async(writes).await?;
            }
        }
        Ok(())
    }

    /// Checks an access token: EdDSA signature by a key we hold (no other algorithm, no
    /// `none`), our issuer, not expired by the engine's clock, and its session still open.
    pub fn verify_access_token(&self, token: &str) -> Result<VerifiedToken, EngineError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| EngineError::InvalidToken("malformed token"))?;
        if header.alg != Algorithm::EdDSA {
            return Err(EngineError::InvalidToken("unexpected algorithm"));
        }
        let kid = header.kid.ok_or(EngineError::InvalidToken("no key id"))?;
        let now = self.now();
        let claims = {
            let signing = self.inner.signing.read();
            let verifier = signing
                .verifiers
                .get(&kid)
                .ok_or(EngineError::InvalidToken("unknown signing key"))?;
            if verifier.retired_on.is_some_and(|retired| retired <= now) {
                return Err(EngineError::InvalidToken("the signing key was retired"));
            }
            let mut validation = Validation::new(Algorithm::EdDSA);
            // Expiry is checked below against the engine's clock, not the system's.
            validation.validate_exp = false;
            validation.required_spec_claims.clear();
            validation.set_issuer(&[ISSUER]);
            jsonwebtoken::decode::<AccessClaims>(token, &verifier.key, &validation)
                .map_err(|_| EngineError::InvalidToken("bad signature or claims"))?
                .claims
        };
        if claims.exp <= now {
            return Err(EngineError::InvalidToken("the token has expired"));
        }
        let session_id = uuid::Uuid::parse_str(&claims.sid).map_err(|_| EngineError::InvalidToken("bad session"))?;
        let session = self
            .inner
            .store
            .session(session_id)?
            .ok_or(EngineError::InvalidToken("unknown session"))?;
        if session.revoked_on.is_some() {
            return Err(EngineError::InvalidToken("the session has ended"));
        }
        Ok(VerifiedToken { claims, session })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkcs8_wrapping_signs_what_the_published_key_verifies() {
        let seed = [9u8; 32];
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some("k1".into());
        let token = jsonwebtoken::encode(
            &header,
            &serde_json::json!({"a": 1}),
            &EncodingKey::from_ed_der(&pkcs8(&seed)),
        )
        .unwrap();
        let key = DecodingKey::from_ed_components(&public_x(&seed)).unwrap();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let decoded = jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation).unwrap();
        assert_eq!(decoded.claims["a"], 1);
        let other = DecodingKey::from_ed_components(&public_x(&[8u8; 32])).unwrap();
        assert!(jsonwebtoken::decode::<serde_json::Value>(&token, &other, &validation).is_err());
    }
}
