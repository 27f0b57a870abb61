//! Emailed links (email verification, password reset, confirming a new email) and sign-in
//! credentials added to a contact the back office made. Every link is stored (hashed) in
//! the same commit as the message that carries it.

use crate::domain::access::{normalise_email, Subject};
use crate::domain::comms::{normalise_phone, Channel, MessageKind};
use crate::domain::contact::{Contact, IdentityProvider};
use crate::domain::ids::{ContactId, Tenant};
use crate::domain::otp::{LinkPurpose, LinkToken};
use crate::engine::comms::NewMessage;
use crate::engine::lockout::SignInIdentity;
use crate::engine::otp::OtpSent;
use crate::engine::otp::{email_identity, phone_identity, Destination};
use crate::engine::secrets::{hash_password, random_token};
use crate::engine::users::blocking;
use crate::engine::{sha256, Engine, EngineError};
use crate::storage::WriteSet;
use std::net::IpAddr;

impl Engine {
    /// A link token and its email: the token is returned to no one, only sent.
    fn write_link(
        &self,
        writes: &mut WriteSet,
        tenant: &Tenant,
        contact: ContactId,
        email: &str,
        purpose: LinkPurpose,
        password_hash: Option<String>,
    ) -> Result<(), EngineError> {
        let settings = &self.inner.settings.otp;
        let business = self.organisation(tenant.organisation)?;
        let token = random_token("");
        let now = self.now();
        writes.link_token(
            &sha256(&token),
            &LinkToken {
                tenant: *tenant,
                contact,
                purpose,
                email: email.to_string(),
                created_on: now,
                expires_on: now + settings.link_ttl_s,
                used: false,
                password_hash,
            },
        );
        let hours = (settings.link_ttl_s + 3599) / 3600;
        let (kind, subject, url, what) = match purpose {
            LinkPurpose::VerifyEmail | LinkPurpose::ConfirmIdentity => (
                MessageKind::EmailVerification,
                format!("Confirm your email address for {}", business.name),
                &settings.verify_email_url,
                "confirm this email address",
            ),
            LinkPurpose::ResetPassword => (
                MessageKind::PasswordReset,
                format!("Reset your {} password", business.name),
                &settings.reset_password_url,
                "choose a new password",
            ),
        };
        let separator = if url.contains('?') { '&' } else { '?' };
        let body = format!(
            "Open this link to {what}: {url}{separator}token={token}\nIt works once, within {hours} hour{}. If you did not ask for it, ignore this message.",
            if hours == 1 { "" } else { "s" }
        );
        self.enqueue_message(
            writes,
            tenant,
            contact,
            NewMessage {
                kind,
                channel: Channel::Email,
                to: email.to_string(),
                country_code: None,
                subject,
                body,
            },
        )
    }

    /// Emails a link for an email identity, if there is one (and, for verification, it is
    /// not verified yet). The answer is the same either way, so the call tells no one which
    /// addresses are registered; it is limited like a request for a code.
    pub async fn request_link(
        &self,
        tenant: Tenant,
        email: &str,
        purpose: LinkPurpose,
        address: Option<IpAddr>,
    ) -> Result<(), EngineError> {
        self.check_open()?;
        let email = email_identity(email)?;
        self.limit_request(&tenant, &format!("E:{email}"), address)?;
        let Some(identity) = self
            .inner
            .store
            .contact_identity(&tenant, IdentityProvider::Email, &email)?
        else {
            return Ok(());
        };
        if purpose == LinkPurpose::VerifyEmail && identity.verified {
            return Ok(());
        }
        let mut writes = WriteSet::default();
        self.write_link(&mut writes, &tenant, identity.contact, &email, purpose, None)?;
        self.inner.store.commit_async(writes).await?;
        self.outbox_committed();
        Ok(())
    }

    /// Adds an email-verification link for a new email identity to `writes`.
    pub(in crate::engine) fn write_verification_link(
        &self,
        writes: &mut WriteSet,
        tenant: &Tenant,
        contact: ContactId,
        email: &str,
    ) -> Result<(), EngineError> {
        self.write_link(writes, tenant, contact, email, LinkPurpose::VerifyEmail, None)
    }

    /// Spends a link token of `purpose`: unknown, used, expired or of the other purpose is
    /// the same refusal. Returns the token and the identity it is for, checked under a claim.
    fn open_link(&self, token: &str, purposes: &[LinkPurpose]) -> Result<([u8; 32], LinkToken), EngineError> {
        let hash = sha256(token.trim());
        let link = self
            .inner
            .store
            .link_token(&hash)?
            .filter(|link| purposes.contains(&link.purpose) && !link.used && self.now() < link.expires_on)
            .ok_or(EngineError::InvalidToken("the link is unknown, used or expired"))?;
        Ok((hash, link))
    }

    /// Opens an email-verification link: the email identity becomes verified.
    pub async fn verify_email(&self, token: &str) -> Result<String, EngineError> {
        self.check_open()?;
        let hash = sha256(token.trim());
        let _claim = self
            .inner
            .claims
            .claim([b"D".as_slice(), &hash].concat(), rand::random())
            .map_err(|_| EngineError::Busy("link"))?;
        let (hash, mut link) = self.open_link(token, &[LinkPurpose::VerifyEmail, LinkPurpose::ConfirmIdentity])?;
        let mut writes = WriteSet::default();
        let found = self
            .inner
            .store
            .contact_identity(&link.tenant, IdentityProvider::Email, &link.email)?;
        match found {
            Some(mut identity) if identity.contact == link.contact => {
                identity.verified = true;
                if link.password_hash.is_some() {
                    identity.password_hash = link.password_hash.clone();
                }
                writes.contact_identity(&link.tenant, IdentityProvider::Email, &link.email, &identity);
            }
            Some(_) => return Err(EngineError::AlreadyExists("contact identity")),
            None if link.purpose == LinkPurpose::ConfirmIdentity => {
                self.add_identity_writes(
                    &mut writes,
                    &link.tenant,
                    link.contact,
                    IdentityProvider::Email,
                    &link.email,
                    link.password_hash.clone(),
                )?;
            }
            None => {}
        }
        link.used = true;
        writes.link_token(&hash, &link);
        self.inner.store.commit_async(writes).await?;
        Ok(link.email)
    }

    /// A new verified identity of `contact`, and the contact's identity list with it.
    pub(in crate::engine) fn add_identity_writes(
        &self,
        writes: &mut WriteSet,
        tenant: &Tenant,
        contact: ContactId,
        provider: IdentityProvider,
        value: &str,
        password_hash: Option<String>,
    ) -> Result<(), EngineError> {
        let identity = crate::domain::contact::ContactIdentity {
            contact,
            password_hash,
            verified: true,
            created_on: self.now(),
        };
        writes.contact_identity(tenant, provider, value, &identity);
        let mut identities = self.inner.store.contact_identities(tenant, contact)?;
        if !identities.iter().any(|(p, v)| *p == provider && v == value) {
            identities.push((provider, value.to_string()));
        }
        writes.contact_identities(tenant, contact, &identities);
        Ok(())
    }

    /// Adds sign-in credentials to a contact. For a contact the back office made (an app
    /// asking before it has signed in), they are matched on what the business already
    /// holds: the email must be the contact's email address, the phone one of its phones
    /// (anything else is 404, as for an unknown contact). The contact itself, signed in
    /// (`signed_in`), may add an email or phone new to its profile. Nothing is usable
    /// until the person proves the address: an email with a password gets a confirmation
    /// link (opening it creates the identity); an email without one, or a phone, gets a
    /// code, and validating it creates the identity and signs the contact in.
    pub async fn add_contact_identity(
        &self,
        tenant: Tenant,
        contact_id: ContactId,
        identity: crate::engine::RegistrationIdentity,
        signed_in: bool,
        address: Option<IpAddr>,
    ) -> Result<Option<OtpSent>, EngineError> {
        use crate::engine::RegistrationIdentity as Given;
        self.check_open()?;
        let contact = self
            .inner
            .store
            .contact(&tenant, contact_id)?
            .ok_or(EngineError::NotFound("contact"))?;
        let no_match = || EngineError::NotFound("contact with these details");
        let (provider, value, password) = match &identity {
            Given::EmailPassword { email, password } => {
                self.check_password("password", password)?;
                (IdentityProvider::Email, email_identity(email)?, Some(password.clone()))
            }
            Given::EmailOtp { email } => (IdentityProvider::Email, email_identity(email)?, None),
            Given::PhoneOtp { number, .. } => (IdentityProvider::Phone, phone_identity(number)?, None),
        };
        let matches = match provider {
            IdentityProvider::Email => contact.email_address.as_deref().map(str::to_lowercase) == Some(value.clone()),
            _ => contact
                .phones
                .iter()
                .any(|phone| normalise_phone(&phone.number).as_deref() == Some(value.as_str())),
        };
        if !matches && !signed_in {
            return Err(no_match());
        }
        self.limit_request(&tenant, &format!("{}:{value}", provider.as_byte() as char), address)?;
        if self.inner.store.contact_identity(&tenant, provider, &value)?.is_some() {
            return Err(EngineError::AlreadyExists("contact identity"));
        }
        let mut writes = WriteSet::default();
        let sent = match password {
            Some(password) => {
                let hash = blocking(move || hash_password(&password)).await?;
                self.write_link(
                    &mut writes,
                    &tenant,
                    contact.id,
                    &value,
                    LinkPurpose::ConfirmIdentity,
                    Some(hash),
                )?;
                None
            }
            None => {
                let given_country = match &identity {
                    Given::PhoneOtp { country_code, .. } => country_code.clone(),
                    _ => None,
                };
                let country_code = contact
                    .phones
                    .iter()
                    .find(|phone| normalise_phone(&phone.number).as_deref() == Some(value.as_str()))
                    .and_then(|phone| phone.country_code.clone())
                    .or(given_country);
                let prepared = self.prepare_otp(&tenant, Destination::to_identity(provider, &value, country_code))?;
                Some(self.write_otp(&mut writes, contact.id, prepared)?)
            }
        };
        self.inner.store.commit_async(writes).await?;
        self.outbox_committed();
        Ok(sent)
    }

    /// Sets a new password from a reset link; the email is verified by the same act.
    pub async fn change_forgotten_password(&self, token: &str, password: &str) -> Result<(), EngineError> {
        self.check_open()?;
        self.check_password("password", password)?;
        let hash = sha256(token.trim());
        let _claim = self
            .inner
            .claims
            .claim([b"D".as_slice(), &hash].concat(), rand::random())
            .map_err(|_| EngineError::Busy("link"))?;
        let (hash, mut link) = self.open_link(token, &[LinkPurpose::ResetPassword])?;
        let mut identity = self
            .inner
            .store
            .contact_identity(&link.tenant, IdentityProvider::Email, &link.email)?
            .filter(|identity| identity.contact == link.contact)
            .ok_or(EngineError::InvalidToken("the link's email is no longer the contact's"))?;
        let password = password.to_string();
        identity.password_hash = Some(blocking(move || hash_password(&password)).await?);
        identity.verified = true;
        link.used = true;
        let mut writes = WriteSet::default();
        writes.contact_identity(&link.tenant, IdentityProvider::Email, &link.email, &identity);
        writes.link_token(&hash, &link);
        // The owner of the email may sign in again at once, and whoever knew the old
        // password is signed out everywhere.
        self.clear_sign_in_failures(SignInIdentity::Contact(&link.tenant, &link.email), &mut writes);
        let _writing = self.inner.access_writes.lock().await;
        self.end_sessions_of(&Subject::Contact(link.tenant, link.contact), None, &mut writes)?;
        self.inner.store.commit_async(writes).await?;
        Ok(())
    }

    /// What changing a contact's profile email to `new_email` commits with the change: when
    /// the new address is not already one of its sign-in identities, a confirmation link to
    /// it (limited like any link request). The new address signs nothing in until the link
    /// is opened; opening it makes it a verified sign-in identity, with the password of the
    /// contact's present email identity if it has one. Changed phones sign nothing in until
    /// proved with a code (`POST /contacts/{id}/identities`).
    pub(in crate::engine) fn email_change_writes(
        &self,
        tenant: &Tenant,
        contact: &Contact,
        new_email: &str,
        address: Option<IpAddr>,
    ) -> Result<WriteSet, EngineError> {
        let mut writes = WriteSet::default();
        let email =
            normalise_email(new_email).ok_or_else(|| crate::engine::invalid("email", "is not an email address"))?;
        let unchanged = contact.email_address.as_deref().and_then(normalise_email).as_deref() == Some(email.as_str());
        if unchanged || self.is_verified_identity(tenant, contact.id, IdentityProvider::Email, &email)? {
            return Ok(writes);
        }
        self.limit_request(tenant, &format!("E:{email}"), address)?;
        let password_hash = match contact.email_address.as_deref().and_then(normalise_email) {
            Some(old) => self
                .inner
                .store
                .contact_identity(tenant, IdentityProvider::Email, &old)?
                .filter(|identity| identity.contact == contact.id)
                .and_then(|identity| identity.password_hash),
            None => None,
        };
        self.write_link(
            &mut writes,
            tenant,
            contact.id,
            &email,
            LinkPurpose::ConfirmIdentity,
            password_hash,
        )?;
        Ok(writes)
    }
}
