//! Contacts: the people (or companies) a business rewards. Each has exactly one wallet.

use super::ids::{ContactCode, ContactId, OrganisationId, Tenant, WalletCode, WalletId};
use super::money::Currency;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PhoneType {
    Mobile,
    Landline,
    Fax,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phone {
    pub phone_type: PhoneType,
    pub country_code: Option<String>,
    pub number: String,
    pub is_primary: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub id: ContactId,
    pub tenant: Tenant,
    pub code: Option<ContactCode>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email_address: Option<String>,
    pub phones: Vec<Phone>,
    pub wallet_id: WalletId,
    pub wallet_code: WalletCode,
    /// Fixed when the wallet opens (the organisation's default currency then).
    pub wallet_currency: Currency,
    pub created_on: i64,
}

/// How a contact signs in. Each identity (provider + value) is unique within a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdentityProvider {
    Email,
    Phone,
    Facebook,
    Oidc,
}

impl IdentityProvider {
    pub fn as_byte(self) -> u8 {
        match self {
            IdentityProvider::Email => b'E',
            IdentityProvider::Phone => b'P',
            IdentityProvider::Facebook => b'F',
            IdentityProvider::Oidc => b'O',
        }
    }
}

/// A sign-in identity of a contact, stored under (tenant, provider, value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactIdentity {
    pub contact: ContactId,
    /// argon2id PHC string, for email (or phone) and password.
    pub password_hash: Option<String>,
    pub verified: bool,
    pub created_on: i64,
}

/// What a contact chose at registration (kept beside the contact, not in it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactPreferences {
    pub email_opt_out: bool,
    pub sms_opt_out: bool,
    /// When the contact accepted the terms and conditions, if it did.
    pub terms_accepted_on: Option<i64>,
    pub referral_code: Option<String>,
    pub language_code: Option<String>,
}

/// A contact's own changes to its profile: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileUpdate {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email_address: Option<String>,
    pub phones: Option<Vec<Phone>>,
}

impl ProfileUpdate {
    /// The contact with the update applied; the caller validates it.
    pub fn apply(&self, contact: &Contact) -> Contact {
        let mut updated = contact.clone();
        let non_empty = |text: &String| Some(text.trim().to_string()).filter(|text| !text.is_empty());
        if let Some(first_name) = &self.first_name {
            updated.first_name = non_empty(first_name);
        }
        if let Some(last_name) = &self.last_name {
            updated.last_name = non_empty(last_name);
        }
        if let Some(email) = &self.email_address {
            updated.email_address = non_empty(email).map(|email| email.to_lowercase());
        }
        if let Some(phones) = &self.phones {
            updated.phones = phones.clone();
        }
        updated
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("{0} must be at most 100 characters")]
    NameTooLong(&'static str),
    #[error("'{0}' is not a valid email address")]
    BadEmail(String),
    #[error("phone number '{0}' must be 4 to 20 digits")]
    BadPhone(String),
    #[error("a contact needs at least one of first_name, last_name, email_address or phones")]
    Empty,
    #[error("{0} must not hold control characters")]
    ControlCharacter(&'static str),
}

/// Checks the parts of a contact a request supplies.
pub fn validate_profile(contact: &Contact) -> Result<(), ContactError> {
    for (field, value) in [("first_name", &contact.first_name), ("last_name", &contact.last_name)] {
        if value.as_ref().is_some_and(|v| v.chars().count() > 100) {
            return Err(ContactError::NameTooLong(field));
        }
    }
    // Every way in is checked: HTTP bodies by the façade, and this for the rest (the
    // operator's CLI, identity providers' tokens).
    for (field, value) in [
        ("first_name", &contact.first_name),
        ("last_name", &contact.last_name),
        ("email_address", &contact.email_address),
    ] {
        if value.as_ref().is_some_and(|v| v.chars().any(char::is_control)) {
            return Err(ContactError::ControlCharacter(field));
        }
    }
    if let Some(email) = &contact.email_address {
        let valid = email.len() <= 254
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
            })
            && !email.chars().any(char::is_whitespace);
        if !valid {
            return Err(ContactError::BadEmail(email.clone()));
        }
    }
    for phone in &contact.phones {
        let digits = phone.number.chars().filter(|c| c.is_ascii_digit()).count();
        let only_digits = phone.number.chars().all(|c| c.is_ascii_digit() || c == ' ' || c == '-');
        if !(4..=20).contains(&digits) || !only_digits {
            return Err(ContactError::BadPhone(phone.number.clone()));
        }
    }
    let has_name = contact.first_name.is_some() || contact.last_name.is_some();
    if !has_name && contact.email_address.is_none() && contact.phones.is_empty() {
        return Err(ContactError::Empty);
    }
    Ok(())
}

/// A registry contact's membership of a business: a contact of a service owner's registry
/// signs up to businesses under the service owner, and each business keeps its own contact
/// for it (`member`, with its own wallet), as businesses always own their contacts. Signing
/// off keeps the record (and the member's wallet): signing up again resumes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub business: OrganisationId,
    pub member: ContactId,
    pub joined_on: i64,
    pub left_on: Option<i64>,
}
