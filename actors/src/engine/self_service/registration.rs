//! Contacts signing themselves up and in from an app: registration with email and password
//! (the contact, its wallet and its sign-in identity in one atomic commit), sign-in, and the
//! contact's session. The app's public key decides the business and the mode.

use crate::domain::access::{normalise_email, Subject};
use crate::domain::comms::normalise_phone;
use crate::domain::contact::{Contact, ContactIdentity, ContactPreferences, IdentityProvider, Phone, PhoneType};
use crate::domain::ids::{ContactId, Tenant};
use crate::domain::organisation::Organisation;
use crate::engine::lockout::SignInIdentity;
use crate::engine::otp::{Destination, OtpSent};
use crate::engine::secrets::{hash_password, verify_password};
use crate::engine::tokens::TokenPair;
use crate::engine::users::{blocking, decoy_hash};
use crate::engine::{claim_key, Engine, EngineError, NewContact};
use crate::storage::WriteSet;
use std::net::IpAddr;

/// How a person registering will sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationIdentity {
    EmailPassword {
        email: String,
        password: String,
    },
    /// A code is emailed; validating it signs the contact in.
    EmailOtp {
        email: String,
    },
    /// A code is texted; validating it signs the contact in.
    PhoneOtp {
        number: String,
        country_code: Option<String>,
    },
}

/// A person registering from an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub first_name: String,
    pub last_name: String,
    pub identity: RegistrationIdentity,
    pub preferences: ContactPreferences,
}

/// What registering gave: tokens at once (password), or a code on its way (OTP).
#[derive(Debug, Clone)]
pub enum Registered {
    SignedIn(Box<ContactSession>),
    OtpSent(OtpSent),
}

/// A signed-in contact: tokens, the contact, and the business it belongs to.
#[derive(Debug, Clone)]
pub struct ContactSession {
    pub tokens: TokenPair,
    pub contact: Contact,
    /// Whether one of the contact's sign-in identities is verified.
    pub verified: bool,
    /// The organisations the contact has joined, the one the session acts in first: a
    /// service owner's registry contact lists the businesses it signed up to after it.
    pub organisations: Vec<Organisation>,
}

impl Engine {
    async fn contact_session(&self, tenant: Tenant, contact: Contact) -> Result<ContactSession, EngineError> {
        self.contact_session_with(tenant, contact, WriteSet::default()).await
    }

    /// Registers a person. With a password the contact is signed in at once and a link to
    /// verify the email is sent; with an OTP identity a code is sent, and validating it signs
    /// the contact in. The identity (email, or phone digits) must be new in the business
    /// and mode. The contact, its wallet, identity, preferences and the message are one
    /// atomic commit.
    pub async fn register_contact(
        &self,
        tenant: Tenant,
        registration: Registration,
        address: Option<IpAddr>,
    ) -> Result<Registered, EngineError> {
        self.check_open()?;
        for (parameter, value) in [
            ("first_name", &registration.first_name),
            ("last_name", &registration.last_name),
        ] {
            if value.trim().is_empty() {
                return Err(crate::engine::invalid(parameter, "is required"));
            }
        }
        let (provider, value, password, phones) = match &registration.identity {
            RegistrationIdentity::EmailPassword { email, password } => {
                let email = normalise_email(email)
                    .ok_or_else(|| crate::engine::invalid("identification.email", "is not an email address"))?;
                self.check_password("identification.password", password)?;
                (IdentityProvider::Email, email, Some(password.clone()), Vec::new())
            }
            RegistrationIdentity::EmailOtp { email } => {
                let email = normalise_email(email)
                    .ok_or_else(|| crate::engine::invalid("identification.email", "is not an email address"))?;
                (IdentityProvider::Email, email, None, Vec::new())
            }
            RegistrationIdentity::PhoneOtp { number, country_code } => {
                let digits = normalise_phone(number)
                    .ok_or_else(|| crate::engine::invalid("identification.phone", "must be 4 to 20 digits"))?;
                let phone = Phone {
                    phone_type: PhoneType::Mobile,
                    country_code: country_code.clone(),
                    number: digits.clone(),
                    is_primary: true,
                };
                (IdentityProvider::Phone, digits, None, vec![phone])
            }
        };
        let limit_key = format!("{}:{value}", provider.as_byte() as char);
        self.limit_request(&tenant, &limit_key, address)?;
        let _identity_claim = self
            .inner
            .claims
            .claim(
                claim_key(b'X', &tenant, &[&[provider.as_byte()], value.as_bytes()].concat()),
                rand::random(),
            )
            .map_err(|_| EngineError::AlreadyExists("contact identity"))?;
        if self.inner.store.contact_identity(&tenant, provider, &value)?.is_some() {
            return Err(EngineError::AlreadyExists("contact identity"));
        }
        let password_hash = match password {
            Some(password) => Some(blocking(move || hash_password(&password)).await?),
            None => None,
        };
        let now = self.now();
        let email_address = (provider == IdentityProvider::Email).then(|| value.clone());
        let new = NewContact {
            code: None,
            first_name: Some(registration.first_name.trim().to_string()),
            last_name: Some(registration.last_name.trim().to_string()),
            email_address,
            phones,
        };
        let otp = match password_hash {
            Some(_) => None,
            None => {
                let country_code = match &registration.identity {
                    RegistrationIdentity::PhoneOtp { country_code, .. } => country_code.clone(),
                    _ => None,
                };
                Some(self.prepare_otp(&tenant, Destination::to_identity(provider, &value, country_code))?)
            }
        };
        let preferences = registration.preferences;
        let mut sent = None;
        let signs_in = password_hash.is_some();
        let contact = self
            .create_contact_with(tenant, new, None, |id| {
                let mut writes = WriteSet::default();
                let identity = ContactIdentity {
                    contact: id,
                    password_hash,
                    verified: false,
                    created_on: now,
                };
                writes.contact_identity(&tenant, provider, &value, &identity);
                writes.contact_identities(&tenant, id, &[(provider, value.clone())]);
                writes.contact_preferences(&tenant, id, &preferences);
                match otp {
                    Some(otp) => sent = Some(self.write_otp(&mut writes, id, otp)?),
                    None => self.write_verification_link(&mut writes, &tenant, id, &value)?,
                }
                Ok(writes)
            })
            .await?;
        self.outbox_committed();
        match sent {
            Some(sent) if !signs_in => Ok(Registered::OtpSent(sent)),
            _ => Ok(Registered::SignedIn(Box::new(
                self.contact_session(tenant, contact).await?,
            ))),
        }
    }

    /// Email and password sign-in of a contact. A wrong email and a wrong password are the
    /// same error and take the same time; repeated, they lock the email out for a while.
    pub async fn authenticate_contact(
        &self,
        tenant: Tenant,
        email: &str,
        password: &str,
    ) -> Result<ContactSession, EngineError> {
        self.check_open()?;
        let normalised = normalise_email(email);
        let attempt = self.begin_sign_in(SignInIdentity::Contact(&tenant, normalised.as_deref().unwrap_or(email)))?;
        let identity = match &normalised {
            Some(email) => self
                .inner
                .store
                .contact_identity(&tenant, IdentityProvider::Email, email)?,
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
            _ => {
                attempt.failed().await?;
                return Err(EngineError::InvalidLogin);
            }
        };
        attempt.succeeded().await?;
        let contact = self
            .inner
            .store
            .contact(&tenant, identity.contact)?
            .ok_or(EngineError::InvalidLogin)?;
        self.contact_session(tenant, contact).await
    }

    /// New tokens for a contact's refresh token, which is spent (a second use ends the
    /// session), with the contact they act for.
    pub async fn refresh_contact_session(&self, refresh_token: &str) -> Result<ContactSession, EngineError> {
        let tokens = self
            .refresh_session(refresh_token, crate::engine::SessionKind::Contact)
            .await?;
        self.contact_session_of(tokens)
    }

    /// The contact behind tokens just refreshed (a contact's session).
    fn contact_session_of(&self, tokens: TokenPair) -> Result<ContactSession, EngineError> {
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
            verified: self.contact_verified(&tenant, contact.id)?,
            organisations: self.session_organisations(&tenant, contact.id)?,
            contact,
        })
    }

    /// A contact as the contact itself reads it, with its preferences and details.
    pub fn own_contact(&self, tenant: &Tenant, id: ContactId) -> Result<ContactProfile, EngineError> {
        let contact = self.stored_contact(tenant, id)?;
        let preferences = self.inner.store.contact_preferences(tenant, id)?.unwrap_or_default();
        let details = self.inner.store.contact_details(tenant, id)?.unwrap_or_default();
        Ok(ContactProfile {
            contact,
            preferences,
            details,
        })
    }
}

/// A contact with what it chose (preferences) and told about itself (details).
#[derive(Debug, Clone)]
pub struct ContactProfile {
    pub contact: Contact,
    pub preferences: ContactPreferences,
    pub details: crate::domain::contact::ContactDetails,
}

/// A person as an outside identity provider vouched for them (a verified Facebook token or
/// OpenID Connect ID token): the provider's subject is the identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIdentity {
    /// `Facebook` or `Oidc`.
    pub provider: IdentityProvider,
    /// Facebook's user id, or the OIDC issuer and subject (`issuer|sub`).
    pub subject: String,
    /// An email the provider says is the person's, and whether it verified it.
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// What an external sign-in should do with a subject seen for the first time, and with one
/// seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExternalSignIn {
    /// `register`: a new contact; a known subject is 409.
    Register,
    /// `authenticate`: the known contact, or a new one on first sign-in.
    SignIn,
}

impl Engine {
    /// Signs in (or up) a person an identity provider vouched for. The identity is verified
    /// by the provider, so it is stored verified; a new contact is made with its wallet,
    /// identity and preferences in one commit. Returns the session and whether the contact
    /// existed before.
    pub async fn sign_in_external(
        &self,
        tenant: Tenant,
        identity: ExternalIdentity,
        intent: ExternalSignIn,
        preferences: ContactPreferences,
    ) -> Result<(ContactSession, bool), EngineError> {
        self.check_open()?;
        let provider = identity.provider;
        let subject = identity.subject.clone();
        let _identity_claim = self
            .inner
            .claims
            .claim(
                claim_key(b'X', &tenant, &[&[provider.as_byte()], subject.as_bytes()].concat()),
                rand::random(),
            )
            .map_err(|_| EngineError::Busy("contact identity"))?;
        if let Some(existing) = self.inner.store.contact_identity(&tenant, provider, &subject)? {
            if intent == ExternalSignIn::Register {
                return Err(EngineError::AlreadyExists("contact identity"));
            }
            let contact = self
                .inner
                .store
                .contact(&tenant, existing.contact)?
                .ok_or(EngineError::InvalidLogin)?;
            return Ok((self.contact_session(tenant, contact).await?, true));
        }
        // Names come from the provider's token, not from the person: control characters are
        // dropped rather than refused, so a provider's odd name cannot block a sign-up.
        let trimmed = |name: Option<String>| {
            name.map(|name| {
                name.chars()
                    .filter(|c| !c.is_control())
                    .collect::<String>()
                    .trim()
                    .to_string()
            })
            .filter(|name| !name.is_empty())
        };
        let new = NewContact {
            code: None,
            first_name: trimmed(identity.first_name),
            last_name: trimmed(identity.last_name),
            email_address: identity.email.as_deref().and_then(normalise_email),
            phones: Vec::new(),
        };
        let now = self.now();
        let contact = self
            .create_contact_with(tenant, new, None, |id| {
                let mut writes = WriteSet::default();
                let record = ContactIdentity {
                    contact: id,
                    password_hash: None,
                    verified: true,
                    created_on: now,
                };
                writes.contact_identity(&tenant, provider, &subject, &record);
                writes.contact_identities(&tenant, id, &[(provider, subject.clone())]);
                writes.contact_preferences(&tenant, id, &preferences);
                Ok(writes)
            })
            .await?;
        Ok((self.contact_session(tenant, contact).await?, false))
    }
}

impl Engine {
    /// Unregisters a contact from its business (`DELETE /self-service/v2/contacts/{id}`):
    /// the contact, its codes, preferences and sign-in identities go, and every session it
    /// has ends, in one commit; its email or phone may register again as a new contact.
    ///
    /// Its wallet must be settled first: a balance would be lost and a shortfall forgiven,
    /// so either is refused (409) and nothing changes. The wallet's journal and the
    /// purchases stay for the business's accounts. The contact's route is closed before the
    /// wallet is read, and the read queues behind every purchase already sent to the wallet,
    /// so those are counted. (A purchase that found the route just before it closed but
    /// reaches the wallet after the read would still land there: a window of one offers
    /// lookup, and the wallet keeps what it was given.)
    pub async fn unregister_contact(&self, tenant: Tenant, id: ContactId) -> Result<(), EngineError> {
        self.check_open()?;
        let contact = self.stored_contact(&tenant, id)?;
        let _claim = self
            .inner
            .claims
            .claim(claim_key(b'C', &tenant, id.as_bytes()), rand::random())
            .map_err(|_| EngineError::Busy("contact"))?;
        self.inner.routes.close(&tenant, id);
        let outcome = self.remove_settled_contact(tenant, &contact).await;
        if outcome.is_err() {
            self.inner.routes.reopen(&tenant, id);
        }
        outcome
    }

    async fn remove_settled_contact(&self, tenant: Tenant, contact: &Contact) -> Result<(), EngineError> {
        if self.joined_organisations(&tenant, contact.id)?.len() > 1 {
            return Err(EngineError::Conflict(
                "the contact still belongs to businesses it signed up to; sign off them first".into(),
            ));
        }
        let balances = self.wallet(tenant, contact.wallet_id).await?.balances;
        if !balances.total.is_zero() || !balances.shortfall.is_zero() {
            return Err(EngineError::Conflict(format!(
                "the wallet holds {} {} (shortfall {}); spend or settle it before unregistering",
                balances.total, contact.wallet_currency, balances.shortfall
            )));
        }
        let _writing = self.inner.access_writes.lock().await;
        let mut extra = WriteSet::default();
        for (provider, value) in self.inner.store.contact_identities(&tenant, contact.id)? {
            let owned = self
                .inner
                .store
                .contact_identity(&tenant, provider, &value)?
                .is_some_and(|identity| identity.contact == contact.id);
            if owned {
                extra.remove_contact_identity(&tenant, provider, &value);
            }
        }
        for record in self.inner.store.scheme_memberships(&tenant, contact.id)? {
            extra.remove_scheme_membership(&tenant, &record);
        }
        self.end_sessions_of(&Subject::Contact(tenant, contact.id), None, &mut extra)?;
        self.ask_contact(
            (tenant, contact.id),
            crate::actors::contact::ContactCommand::Remove { extra },
        )
        .await?;
        metrics::counter!(crate::metrics_names::CONTACTS_UNREGISTERED_TOTAL).increment(1);
        Ok(())
    }
}
