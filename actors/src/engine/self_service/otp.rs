//! Sign-in by one-time password (emailed links are in `links.rs`). Every code is stored
//! (hashed) in the same commit as the message that carries it, so neither exists without
//! the other.

use crate::domain::access::{normalise_email, Role, Subject};
use crate::domain::comms::{normalise_phone, obfuscate_email, obfuscate_phone, Channel, MessageKind};
use crate::domain::contact::{Contact, IdentityProvider};
use crate::domain::ids::{ContactId, Tenant};
use crate::domain::otp::{OneTimePassword, OtpCheck, OtpState};
use crate::engine::comms::NewMessage;
use crate::engine::registration::ContactSession;
use crate::engine::{claim_key, sha256, Engine, EngineError};
use crate::storage::{IdempotencyRecord, WriteSet};
use sha2::{Digest, Sha256};
use std::net::IpAddr;

/// How a request for a code names the contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactLookup {
    Email(String),
    /// A phone number as given (normalised to its digits).
    Phone(String),
    /// An earlier `auth_otp`: a new code to the same place ("send it again").
    AuthOtp(uuid::Uuid),
}

/// A code on its way: the id to validate it with and where it went, masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpSent {
    pub auth_otp: uuid::Uuid,
    pub obfuscated_value: String,
}

/// Where a code goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::engine) struct Destination {
    pub channel: Channel,
    pub to: String,
    pub country_code: Option<String>,
    /// The sign-in identity a right code proves.
    pub identity: Option<(IdentityProvider, String)>,
}

impl Destination {
    pub(in crate::engine) fn new(
        channel: Channel,
        to: String,
        country_code: Option<String>,
        identity: Option<(IdentityProvider, String)>,
    ) -> Self {
        Destination {
            channel,
            to,
            country_code,
            identity,
        }
    }

    /// A code to a sign-in identity: an email by email, a phone by SMS; the code proves it.
    pub(in crate::engine) fn to_identity(
        provider: IdentityProvider,
        value: &str,
        country_code: Option<String>,
    ) -> Self {
        let channel = if provider == IdentityProvider::Email {
            Channel::Email
        } else {
            Channel::Sms
        };
        Destination::new(
            channel,
            value.to_string(),
            country_code,
            Some((provider, value.to_string())),
        )
    }

    fn obfuscated(&self) -> String {
        match self.channel {
            Channel::Email => obfuscate_email(&self.to),
            Channel::Sms => obfuscate_phone(&self.to),
        }
    }
}

/// An OTP made but not yet written: its records are added to a commit with `write`.
pub(in crate::engine) struct PreparedOtp {
    otp: OneTimePassword,
    message: NewMessage,
}

impl PreparedOtp {
    pub(in crate::engine) fn sent(&self) -> OtpSent {
        OtpSent {
            auth_otp: self.otp.id,
            obfuscated_value: match self.otp.channel {
                Channel::Email => obfuscate_email(&self.otp.destination),
                Channel::Sms => obfuscate_phone(&self.otp.destination),
            },
        }
    }
}

pub(in crate::engine) fn phone_identity(number: &str) -> Result<String, EngineError> {
    normalise_phone(number).ok_or_else(|| crate::engine::invalid("phone", "must be 4 to 20 digits"))
}

pub(in crate::engine) fn email_identity(email: &str) -> Result<String, EngineError> {
    normalise_email(email).ok_or_else(|| crate::engine::invalid("email", "is not an email address"))
}

impl Engine {
    /// A new code for `destination`, written with the contact's id by `write_otp`.
    pub(in crate::engine) fn prepare_otp(
        &self,
        tenant: &Tenant,
        destination: Destination,
    ) -> Result<PreparedOtp, EngineError> {
        let settings = &self.inner.settings.otp;
        let business = self.organisation(tenant.organisation)?;
        let id = uuid::Uuid::new_v4();
        let code = crate::engine::secrets::otp_code();
        let now = self.now();
        let minutes = (settings.ttl_s + 59) / 60;
        let body = format!(
            "{code} is your {} one-time password. It is valid for {minutes} minute{}. If you did not ask for it, ignore this message.",
            business.name,
            if minutes == 1 { "" } else { "s" }
        );
        let message = NewMessage {
            kind: MessageKind::OneTimePassword,
            channel: destination.channel,
            to: destination.to.clone(),
            country_code: destination.country_code.clone(),
            subject: format!("Your {} one-time password", business.name),
            body,
        };
        let otp = OneTimePassword {
            id,
            tenant: *tenant,
            contact: ContactId(uuid::Uuid::nil()),
            channel: destination.channel,
            destination: destination.to,
            country_code: destination.country_code,
            identity: destination.identity,
            code_hash: OneTimePassword::hash_code(id, &code),
            created_on: now,
            expires_on: now + settings.ttl_s,
            attempts_left: settings.attempts_max.max(1),
            state: OtpState::Open,
        };
        Ok(PreparedOtp { otp, message })
    }

    /// Adds the OTP for `contact` and its message to `writes`.
    pub(in crate::engine) fn write_otp(
        &self,
        writes: &mut WriteSet,
        contact: ContactId,
        prepared: PreparedOtp,
    ) -> Result<OtpSent, EngineError> {
        let sent = prepared.sent();
        let mut otp = prepared.otp;
        otp.contact = contact;
        self.enqueue_message(writes, &otp.tenant, contact, prepared.message)?;
        writes.one_time_password(&otp);
        Ok(sent)
    }

    /// The contact a lookup names, and where its code goes for `channel` (`None`: the
    /// lookup's own kind: email for an email, SMS for a phone).
    fn otp_destination(
        &self,
        tenant: &Tenant,
        lookup: &ContactLookup,
        channel: Option<Channel>,
    ) -> Result<(Contact, Destination), EngineError> {
        let store = &self.inner.store;
        let (contact_id, identity, previous) = match lookup {
            ContactLookup::Email(email) => {
                let email = email_identity(email)?;
                let found = store.contact_identity(tenant, IdentityProvider::Email, &email)?;
                (
                    found.map(|found| found.contact),
                    Some((IdentityProvider::Email, email)),
                    None,
                )
            }
            ContactLookup::Phone(number) => {
                let digits = phone_identity(number)?;
                let found = store.contact_identity(tenant, IdentityProvider::Phone, &digits)?;
                (
                    found.map(|found| found.contact),
                    Some((IdentityProvider::Phone, digits)),
                    None,
                )
            }
            ContactLookup::AuthOtp(id) => {
                let previous = store.one_time_password(*id)?.filter(|otp| otp.tenant == *tenant);
                (
                    previous.as_ref().map(|otp| otp.contact),
                    previous.as_ref().and_then(|otp| otp.identity.clone()),
                    previous,
                )
            }
        };
        let contact = match contact_id {
            Some(id) => store.contact(tenant, id)?,
            None => None,
        }
        .ok_or(EngineError::NotFound("contact"))?;
        let channel = channel.unwrap_or(match (lookup, &previous) {
            (ContactLookup::Phone(_), _) => Channel::Sms,
            (_, Some(previous)) => previous.channel,
            _ => Channel::Email,
        });
        let primary_phone = contact
            .phones
            .iter()
            .find(|phone| phone.is_primary)
            .or(contact.phones.first());
        let destination = match (channel, &identity) {
            (Channel::Email, Some((IdentityProvider::Email, email))) => Destination {
                channel,
                to: email.clone(),
                country_code: None,
                identity,
            },
            (Channel::Sms, Some((IdentityProvider::Phone, digits))) => Destination {
                channel,
                to: digits.clone(),
                country_code: primary_phone.and_then(|phone| phone.country_code.clone()),
                identity,
            },
            // A code that signs the contact in goes only where the contact proved it
            // receives mail: a profile address it set without proving it is not enough.
            (Channel::Email, _) => {
                let email = contact
                    .email_address
                    .as_deref()
                    .and_then(normalise_email)
                    .ok_or_else(|| crate::engine::invalid("method", "the contact has no email address"))?;
                if !self.is_verified_identity(tenant, contact.id, IdentityProvider::Email, &email)? {
                    return Err(crate::engine::invalid(
                        "method",
                        "the contact's email address is not verified",
                    ));
                }
                Destination {
                    channel,
                    to: email,
                    country_code: None,
                    identity: None,
                }
            }
            (Channel::Sms, _) => {
                let phone =
                    primary_phone.ok_or_else(|| crate::engine::invalid("method", "the contact has no phone"))?;
                let digits = phone_identity(&phone.number)?;
                if !self.is_verified_identity(tenant, contact.id, IdentityProvider::Phone, &digits)? {
                    return Err(crate::engine::invalid("method", "the contact's phone is not verified"));
                }
                Destination {
                    channel,
                    to: digits,
                    country_code: phone.country_code.clone(),
                    identity: None,
                }
            }
        };
        Ok((contact, destination))
    }

    /// Sends a contact a new code (`POST /contacts/otp`, or authenticate without a
    /// password). Limited per identity and per client address; with an idempotency key a
    /// retry gets the first answer and sends nothing.
    pub async fn request_otp(
        &self,
        tenant: Tenant,
        lookup: ContactLookup,
        channel: Option<Channel>,
        address: Option<IpAddr>,
        idempotency_key: Option<&str>,
    ) -> Result<OtpSent, EngineError> {
        self.check_open()?;
        let limit_key = match &lookup {
            ContactLookup::Email(email) => format!("E:{}", email_identity(email)?),
            ContactLookup::Phone(number) => format!("P:{}", phone_identity(number)?),
            ContactLookup::AuthOtp(id) => match self.inner.store.one_time_password(*id)? {
                // A decoy has no contact: its resends count against where it "went".
                Some(otp) if otp.tenant == tenant && otp.contact.0.is_nil() => format!("D:{}", otp.destination),
                Some(otp) if otp.tenant == tenant => format!("C:{}", otp.contact),
                _ => return Err(EngineError::NotFound("auth_otp")),
            },
        };
        let body_hash: [u8; 32] = Sha256::digest(format!("otp:{lookup:?}:{channel:?}")).into();
        let key_hash = idempotency_key.map(sha256);
        let (_idempotency_claim, first) = self.claim_idempotency(&tenant, key_hash.as_ref(), &body_hash)?;
        if let Some(first) = first {
            let otp = self
                .inner
                .store
                .one_time_password(first)?
                .ok_or(EngineError::NotFound("auth_otp"))?;
            let destination = Destination::new(otp.channel, otp.destination, None, None);
            return Ok(OtpSent {
                auth_otp: otp.id,
                obfuscated_value: destination.obfuscated(),
            });
        }
        self.limit_request(&tenant, &limit_key, address)?;
        let mut writes = WriteSet::default();
        let sent = match self.otp_destination(&tenant, &lookup, channel) {
            Ok((contact, destination)) => {
                let prepared = self.prepare_otp(&tenant, destination)?;
                self.write_otp(&mut writes, contact.id, prepared)?
            }
            // No contact has this email or phone: the answer looks the same, so it tells no
            // one which are registered (as forgot_password does).
            Err(EngineError::NotFound(_)) => self.write_decoy_otp(&mut writes, &tenant, &lookup, channel)?,
            Err(error) => return Err(error),
        };
        if let Some(hash) = &key_hash {
            writes.idempotency(
                &tenant,
                hash,
                &IdempotencyRecord {
                    body_hash,
                    resource_id: sent.auth_otp,
                },
            );
        }
        self.inner.store.commit_async(writes).await?;
        self.outbox_committed();
        Ok(sent)
    }

    /// A decoy for a code asked for an email or phone no contact has: an `auth_otp` that is
    /// stored like a real one (so validating it spends attempts and answers "wrong code" as
    /// a real one does, and asking again by it works), whose code hash matches no code, and
    /// no message is sent.
    fn write_decoy_otp(
        &self,
        writes: &mut WriteSet,
        tenant: &Tenant,
        lookup: &ContactLookup,
        channel: Option<Channel>,
    ) -> Result<OtpSent, EngineError> {
        let destination = match lookup {
            ContactLookup::Email(email) => Destination::new(Channel::Email, email_identity(email)?, None, None),
            ContactLookup::Phone(number) => Destination::new(Channel::Sms, phone_identity(number)?, None, None),
            ContactLookup::AuthOtp(id) => {
                let previous = self
                    .inner
                    .store
                    .one_time_password(*id)?
                    .filter(|otp| otp.tenant == *tenant)
                    .ok_or(EngineError::NotFound("auth_otp"))?;
                Destination::new(channel.unwrap_or(previous.channel), previous.destination, None, None)
            }
        };
        let prepared = self.prepare_otp(tenant, destination)?;
        let sent = prepared.sent();
        let mut otp = prepared.otp;
        otp.code_hash = rand::random();
        writes.one_time_password(&otp);
        Ok(sent)
    }

    /// Checks a code. The right one (once, in time, before too many wrong ones) signs the
    /// contact in and marks the identity it was sent to verified, in one commit with the
    /// session. A wrong one spends an attempt, durably, before the answer.
    pub async fn validate_otp(
        &self,
        tenant: Tenant,
        auth_otp: uuid::Uuid,
        code: &str,
    ) -> Result<ContactSession, EngineError> {
        self.check_open()?;
        let _claim = self
            .inner
            .claims
            .claim(claim_key(b'T', &tenant, auth_otp.as_bytes()), rand::random())
            .map_err(|_| EngineError::Busy("one-time password"))?;
        let mut otp = self
            .inner
            .store
            .one_time_password(auth_otp)?
            .filter(|otp| otp.tenant == tenant)
            .ok_or(EngineError::InvalidOtp("unknown auth_otp"))?;
        let outcome = otp.check(code, self.now());
        match outcome {
            OtpCheck::Accepted => {}
            OtpCheck::Expired => return Err(EngineError::InvalidOtp("it has expired; ask for a new one")),
            OtpCheck::Spent => return Err(EngineError::InvalidOtp("it was already used")),
            OtpCheck::Wrong { attempts_left } => {
                let mut writes = WriteSet::default();
                writes.one_time_password(&otp);
                self.inner.store.commit_async(writes).await?;
                return Err(EngineError::InvalidOtp(if attempts_left == 0 {
                    "too many wrong codes; ask for a new one"
                } else {
                    "the code is wrong"
                }));
            }
        }
        let contact = self
            .inner
            .store
            .contact(&tenant, otp.contact)?
            .ok_or(EngineError::InvalidOtp("the contact no longer exists"))?;
        let mut writes = WriteSet::default();
        writes.one_time_password(&otp);
        // Held until the session (and the identity with it) is committed.
        let mut _identity_claim = None;
        if let Some((provider, value)) = &otp.identity {
            _identity_claim = Some(
                self.inner
                    .claims
                    .claim(
                        claim_key(b'X', &tenant, &[&[provider.as_byte()], value.as_bytes()].concat()),
                        rand::random(),
                    )
                    .map_err(|_| EngineError::Busy("contact identity"))?,
            );
            match self.inner.store.contact_identity(&tenant, *provider, value)? {
                Some(mut identity) if identity.contact == contact.id => {
                    if !identity.verified {
                        identity.verified = true;
                        writes.contact_identity(&tenant, *provider, value, &identity);
                    }
                }
                // Taken by another contact since the code was sent (credentials added to a
                // back-office contact): the code proves nothing for this one.
                Some(_) => return Err(EngineError::AlreadyExists("contact identity")),
                // Credentials being added to a back-office contact: the code proves them.
                None => self.add_identity_writes(&mut writes, &tenant, contact.id, *provider, value, None)?,
            }
        }
        self.contact_session_with(tenant, contact, writes).await
    }

    pub(in crate::engine) fn is_verified_identity(
        &self,
        tenant: &Tenant,
        contact: ContactId,
        provider: IdentityProvider,
        value: &str,
    ) -> Result<bool, EngineError> {
        Ok(self
            .inner
            .store
            .contact_identity(tenant, provider, value)?
            .is_some_and(|identity| identity.contact == contact && identity.verified))
    }

    /// Whether any sign-in identity of the contact is verified.
    pub(in crate::engine) fn contact_verified(&self, tenant: &Tenant, contact: ContactId) -> Result<bool, EngineError> {
        for (provider, value) in self.inner.store.contact_identities(tenant, contact)? {
            if self.is_verified_identity(tenant, contact, provider, &value)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Starts a contact's session, committing `writes` with it.
    pub(in crate::engine) async fn contact_session_with(
        &self,
        tenant: Tenant,
        contact: Contact,
        writes: WriteSet,
    ) -> Result<ContactSession, EngineError> {
        let tokens = self
            .start_session_with(
                Subject::Contact(tenant, contact.id),
                tenant.organisation,
                tenant.mode,
                Role::Member,
                writes,
            )
            .await?;
        Ok(ContactSession {
            tokens,
            verified: self.contact_verified(&tenant, contact.id)?,
            organisations: self.session_organisations(&tenant, contact.id)?,
            contact,
        })
    }
}

impl Engine {
    /// Whether a contact of the business signs in with this email or phone (and so has a
    /// wallet): CRM.COM's `wallet_exists`. Counted per client address, as requests for
    /// codes are, so it cannot be used to sweep through addresses.
    pub fn wallet_exists(
        &self,
        tenant: &Tenant,
        lookup: &ContactLookup,
        address: Option<IpAddr>,
    ) -> Result<bool, EngineError> {
        let (provider, value) = match lookup {
            ContactLookup::Email(email) => (IdentityProvider::Email, email_identity(email)?),
            ContactLookup::Phone(number) => (IdentityProvider::Phone, phone_identity(number)?),
            ContactLookup::AuthOtp(_) => return Err(crate::engine::invalid("type", "must be EMAIL or PHONE")),
        };
        let checks = self
            .inner
            .limit_checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Err(refused) = self.inner.limits.check_lookup(address, checks) {
            metrics::counter!(crate::metrics_names::RATE_LIMITED_TOTAL, "what" => "wallet_exists").increment(1);
            return Err(refused);
        }
        Ok(self.inner.store.contact_identity(tenant, provider, &value)?.is_some())
    }
}
