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

/// What a contact tells about itself beyond its name and addresses (CRM.COM's
/// `middle_name`, `demographics` and `custom_fields`), kept beside the contact.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactDetails {
    pub middle_name: Option<String>,
    pub demographics: Demographics,
    pub custom_fields: Vec<CustomField>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Demographics {
    pub gender: Option<Gender>,
    pub date_of_birth: Option<Birthday>,
    /// The day and month of the contact's name day.
    pub name_day: Option<(u8, u8)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Gender {
    Male,
    Female,
    Other,
}

impl Gender {
    pub fn parse(text: &str) -> Option<Gender> {
        match text {
            "MALE" => Some(Gender::Male),
            "FEMALE" => Some(Gender::Female),
            "OTHER" => Some(Gender::Other),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Gender::Male => "MALE",
            Gender::Female => "FEMALE",
            Gender::Other => "OTHER",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Birthday {
    pub day: u8,
    pub month: u8,
    pub year: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomField {
    pub key: String,
    pub value: String,
}

/// Most custom fields a contact holds, and the longest key and value.
pub const CUSTOM_FIELDS_MAX: usize = 50;
pub const CUSTOM_FIELD_KEY_CHARS_MAX: usize = 100;
pub const CUSTOM_FIELD_VALUE_CHARS_MAX: usize = 1000;

/// Whether `day` is a day of `month` (in a leap year when `year` is not given).
fn is_day_of(day: u8, month: u8, year: Option<u16>) -> bool {
    let leap = year.is_none_or(|year| (year % 4 == 0 && year % 100 != 0) || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

impl ContactDetails {
    /// Checks what a request supplies: bounded text without control characters, real dates.
    pub fn validate(&self) -> Result<(), ContactError> {
        let text = |field: &'static str, value: &str, max: usize| {
            if value.chars().count() > max {
                Err(ContactError::Invalid(
                    field,
                    format!("must be at most {max} characters"),
                ))
            } else if value.chars().any(char::is_control) {
                Err(ContactError::ControlCharacter(field))
            } else {
                Ok(())
            }
        };
        if let Some(middle_name) = &self.middle_name {
            text("middle_name", middle_name, 100)?;
        }
        if let Some(birthday) = self.demographics.date_of_birth {
            if !(1900..=2200).contains(&birthday.year) || !is_day_of(birthday.day, birthday.month, Some(birthday.year))
            {
                return Err(ContactError::Invalid(
                    "demographics.date_of_birth",
                    "is not a date (day 1-31 of month 1-12, year 1900-2200)".into(),
                ));
            }
        }
        if let Some((day, month)) = self.demographics.name_day {
            if !is_day_of(day, month, None) {
                return Err(ContactError::Invalid(
                    "demographics.name_day",
                    "is not a day of a month".into(),
                ));
            }
        }
        if self.custom_fields.len() > CUSTOM_FIELDS_MAX {
            return Err(ContactError::Invalid(
                "custom_fields",
                format!("must hold at most {CUSTOM_FIELDS_MAX} fields"),
            ));
        }
        for field in &self.custom_fields {
            if field.key.trim().is_empty() {
                return Err(ContactError::Invalid("custom_fields.key", "must not be empty".into()));
            }
            text("custom_fields.key", &field.key, CUSTOM_FIELD_KEY_CHARS_MAX)?;
            text("custom_fields.value", &field.value, CUSTOM_FIELD_VALUE_CHARS_MAX)?;
        }
        Ok(())
    }
}

/// A contact's own changes to its profile: `None` leaves a field as it is; an empty text
/// clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileUpdate {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email_address: Option<String>,
    pub phones: Option<Vec<Phone>>,
    pub middle_name: Option<String>,
    pub language_code: Option<String>,
    pub email_opt_out: Option<bool>,
    pub sms_opt_out: Option<bool>,
    /// Replaces the demographics whole.
    pub demographics: Option<Demographics>,
    /// Replaces the custom fields whole.
    pub custom_fields: Option<Vec<CustomField>>,
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

    /// The preferences with the update applied; a language code is 2 or 3 letters (ISO 639,
    /// `EN` or `ENG`).
    pub fn apply_preferences(&self, preferences: &ContactPreferences) -> Result<ContactPreferences, ContactError> {
        if let Some(language) = &self.language_code {
            let language = language.trim();
            let iso_639 = (2..=3).contains(&language.len()) && language.chars().all(|c| c.is_ascii_alphabetic());
            if !language.is_empty() && !iso_639 {
                return Err(ContactError::Invalid(
                    "language_code",
                    "must be an ISO 639 code of 2 or 3 letters".into(),
                ));
            }
        }
        let mut updated = preferences.clone();
        if let Some(opt_out) = self.email_opt_out {
            updated.email_opt_out = opt_out;
        }
        if let Some(opt_out) = self.sms_opt_out {
            updated.sms_opt_out = opt_out;
        }
        if let Some(language) = &self.language_code {
            updated.language_code = Some(language.trim().to_uppercase()).filter(|code| !code.is_empty());
        }
        Ok(updated)
    }

    /// The details with the update applied; the caller validates them.
    pub fn apply_details(&self, details: &ContactDetails) -> ContactDetails {
        let mut updated = details.clone();
        if let Some(middle_name) = &self.middle_name {
            updated.middle_name = Some(middle_name.trim().to_string()).filter(|name| !name.is_empty());
        }
        if let Some(demographics) = &self.demographics {
            updated.demographics = demographics.clone();
        }
        if let Some(fields) = &self.custom_fields {
            updated.custom_fields = fields.clone();
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
    #[error("{0} {1}")]
    Invalid(&'static str, String),
}

impl ContactError {
    /// The request field the error is about.
    pub fn parameter(&self) -> &'static str {
        match self {
            ContactError::NameTooLong(field)
            | ContactError::ControlCharacter(field)
            | ContactError::Invalid(field, _) => field,
            ContactError::BadEmail(_) => "email",
            ContactError::BadPhone(_) => "phone",
            ContactError::Empty => "contact",
        }
    }
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
