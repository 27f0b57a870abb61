//! Contacts signing themselves up and in from an app: registration with email and password
//! (the contact, its wallet and its sign-in identity in one atomic commit), sign-in, and the
//! contact's session. The app's public key decides the business and the mode.

use super::tokens::TokenPair;
use super::users::{blocking, decoy_hash};
use super::{claim_key, Engine, EngineError, NewContact};
use crate::domain::access::{hash_password, normalise_email, verify_password, Role, Subject};
use crate::domain::contact::{Contact, ContactIdentity, ContactPreferences, IdentityProvider};
use crate::domain::ids::{ContactId, Tenant};
use crate::domain::organisation::Organisation;
use crate::storage::WriteSet;

/// A person registering with email and password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub password: String,
    pub preferences: ContactPreferences,
}

/// A signed-in contact: tokens, the contact, and the business it belongs to.
#[derive(Debug, Clone)]
pub struct ContactSession {
    pub tokens: TokenPair,
    pub contact: Contact,
    pub business: Organisation,
}

impl Engine {
    async fn contact_session(&self, tenant: Tenant, contact: Contact) -> Result<ContactSession, EngineError> {
        let tokens = self
            .start_session(
                Subject::Contact(tenant, contact.id),
                tenant.organisation,
                tenant.mode,
                Role::Member,
            )
            .await?;
        Ok(ContactSession {
            tokens,
            contact,
            business: self.organisation(tenant.organisation)?,
        })
    }

    /// Registers a person with email and password, and signs it in. The email is the
    /// identity: a second registration with it in the same business (and mode) is refused.
    pub async fn register_contact(
        &self,
        tenant: Tenant,
        registration: Registration,
    ) -> Result<ContactSession, EngineError> {
        self.check_open()?;
        let email = normalise_email(&registration.email)
            .ok_or_else(|| super::invalid("identification.email", "is not an email address"))?;
        self.check_password("identification.password", &registration.password)?;
        for (parameter, value) in [
            ("first_name", &registration.first_name),
            ("last_name", &registration.last_name),
        ] {
            if value.trim().is_empty() {
                return Err(super::invalid(parameter, "is required"));
            }
        }
        let _identity_claim = self
            .inner
            .claims
            .claim(
                claim_key(
                    b'X',
                    &tenant,
                    &[&[IdentityProvider::Email.as_byte()], email.as_bytes()].concat(),
                ),
                rand::random(),
            )
            .map_err(|_| EngineError::AlreadyExists("contact identity"))?;
        if self
            .inner
            .store
            .contact_identity(&tenant, IdentityProvider::Email, &email)?
            .is_some()
        {
            return Err(EngineError::AlreadyExists("contact identity"));
        }
        let password = registration.password;
        let password_hash = blocking(move || hash_password(&password)).await?;
        let now = self.now();
        let new = NewContact {
            code: None,
            first_name: Some(registration.first_name.trim().to_string()),
            last_name: Some(registration.last_name.trim().to_string()),
            email_address: Some(email.clone()),
            phones: Vec::new(),
        };
        let preferences = registration.preferences;
        let contact = self
            .create_contact_with(tenant, new, None, |id| {
                let mut writes = WriteSet::default();
                let identity = ContactIdentity {
                    contact: id,
                    password_hash: Some(password_hash),
                    verified: false,
                    created_on: now,
                };
                writes.contact_identity(&tenant, IdentityProvider::Email, &email, &identity);
                writes.contact_preferences(&tenant, id, &preferences);
                writes
            })
            .await?;
        self.contact_session(tenant, contact).await
    }

    /// Email and password sign-in of a contact. A wrong email and a wrong password are the
    /// same error and take the same time.
    pub async fn authenticate_contact(
        &self,
        tenant: Tenant,
        email: &str,
        password: &str,
    ) -> Result<ContactSession, EngineError> {
        self.check_open()?;
        let identity = match normalise_email(email) {
            Some(email) => self
                .inner
                .store
                .contact_identity(&tenant, IdentityProvider::Email, &email)?,
            None => None,
        };
        let stored = identity
            .as_ref()
            .and_then(|identity| identity.password_hash.clone())
            .unwrap_or_else(|| decoy_hash().to_string());
        let password = password.to_string();
        let matches = blocking(move || verify_password(&password, &stored)).await?;
        let identity = match identity {
            Some(identity) if matches && identity.password_hash.is_some() => identity,
            _ => return Err(EngineError::InvalidLogin),
        };
        let contact = self
            .inner
            .store
            .contact(&tenant, identity.contact)?
            .ok_or(EngineError::InvalidLogin)?;
        self.contact_session(tenant, contact).await
    }

    /// The contact behind tokens just refreshed (a contact's session).
    pub fn contact_session_of(&self, tokens: TokenPair) -> Result<ContactSession, EngineError> {
        let Subject::Contact(tenant, id) = tokens.session.subject else {
            return Err(EngineError::InvalidToken("not a contact's refresh token"));
        };
        let contact = self
            .inner
            .store
            .contact(&tenant, id)?
            .ok_or(EngineError::InvalidToken("unknown contact"))?;
        Ok(ContactSession {
            tokens,
            contact,
            business: self.organisation(tenant.organisation)?,
        })
    }

    /// A contact as the contact itself reads it, with its preferences.
    pub fn own_contact(&self, tenant: &Tenant, id: ContactId) -> Result<(Contact, ContactPreferences), EngineError> {
        let contact = self
            .inner
            .store
            .contact(tenant, id)?
            .ok_or(EngineError::NotFound("contact"))?;
        let preferences = self.inner.store.contact_preferences(tenant, id)?.unwrap_or_default();
        Ok((contact, preferences))
    }
}
