//! Reward schemes: the programmes a business groups its offers into, and how contacts join
//! them (CRM.COM's `sign_up_option`). Every contact of the business belongs to an
//! AUTO_SIGN_UP scheme unless it signed out; a SELF_SIGN_UP scheme has the contacts that
//! signed up and did not sign out since.

pub use super::ids::SchemeId;
use super::ids::{ContactId, Tenant};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignUpOption {
    AutoSignUp,
    SelfSignUp,
    CloseLoopSignUp,
}

impl SignUpOption {
    pub fn parse(text: &str) -> Option<SignUpOption> {
        match text {
            "AUTO_SIGN_UP" => Some(SignUpOption::AutoSignUp),
            "SELF_SIGN_UP" => Some(SignUpOption::SelfSignUp),
            "CLOSE_LOOP_SIGN_UP" => Some(SignUpOption::CloseLoopSignUp),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            SignUpOption::AutoSignUp => "AUTO_SIGN_UP",
            SignUpOption::SelfSignUp => "SELF_SIGN_UP",
            SignUpOption::CloseLoopSignUp => "CLOSE_LOOP_SIGN_UP",
        }
    }
}

/// Longest scheme name, and the longest terms and conditions.
pub const SCHEME_NAME_CHARS_MAX: usize = 200;
pub const SCHEME_TEXT_CHARS_MAX: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RewardScheme {
    pub id: SchemeId,
    pub tenant: Tenant,
    pub name: String,
    pub description: Option<String>,
    pub terms_and_conditions: Option<String>,
    pub sign_up_option: SignUpOption,
    pub created_on: i64,
    pub updated_on: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemeError {
    #[error("{0} must be 1 to {1} printable characters")]
    BadText(&'static str, usize),
    #[error("CLOSE_LOOP_SIGN_UP (sign-up by email domain or by code) is not available yet; use AUTO_SIGN_UP or SELF_SIGN_UP")]
    ClosedLoopNotAvailable,
}

impl SchemeError {
    /// The request field the error is about.
    pub fn parameter(&self) -> &'static str {
        match self {
            SchemeError::BadText(field, _) => field,
            SchemeError::ClosedLoopNotAvailable => "sign_up_option",
        }
    }
}

impl RewardScheme {
    /// Checks what a request supplies.
    pub fn validate(&self) -> Result<(), SchemeError> {
        let text = |field: &'static str, value: &str, max: usize| {
            let count = value.chars().count();
            // Names are one line; descriptions and terms may hold line breaks.
            let control = field == "name" && value.chars().any(char::is_control);
            if count == 0 || count > max || control {
                Err(SchemeError::BadText(field, max))
            } else {
                Ok(())
            }
        };
        text("name", self.name.trim(), SCHEME_NAME_CHARS_MAX)?;
        if let Some(description) = &self.description {
            text("description", description, SCHEME_TEXT_CHARS_MAX)?;
        }
        if let Some(terms) = &self.terms_and_conditions {
            text("terms_and_conditions", terms, SCHEME_TEXT_CHARS_MAX)?;
        }
        if self.sign_up_option == SignUpOption::CloseLoopSignUp {
            return Err(SchemeError::ClosedLoopNotAvailable);
        }
        Ok(())
    }

    /// Whether a contact belongs to the scheme, given its own record for it (`None`: it
    /// never signed up nor out).
    pub fn has_member(&self, record: Option<&SchemeMembership>) -> bool {
        match record {
            Some(record) => record.left_on.is_none(),
            None => self.sign_up_option == SignUpOption::AutoSignUp,
        }
    }

    /// The contact's record after it signs up (`join`) or out, at `now`; `None` when
    /// nothing changes. Signing up to an AUTO_SIGN_UP scheme is allowed only to come back
    /// after signing out (a member already is one).
    pub fn sign(
        &self,
        contact: ContactId,
        record: Option<&SchemeMembership>,
        join: bool,
        now: i64,
    ) -> Result<Option<SchemeMembership>, SchemeError> {
        if self.sign_up_option == SignUpOption::CloseLoopSignUp {
            return Err(SchemeError::ClosedLoopNotAvailable);
        }
        if join == self.has_member(record) {
            return Ok(None);
        }
        Ok(Some(if join {
            SchemeMembership {
                scheme: self.id,
                contact,
                joined_on: now,
                left_on: None,
            }
        } else {
            SchemeMembership {
                scheme: self.id,
                contact,
                joined_on: record.map_or(self.created_on, |record| record.joined_on),
                left_on: Some(now),
            }
        }))
    }
}

/// A contact's own record for a scheme: when it signed up, and when it signed out since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemeMembership {
    pub scheme: SchemeId,
    pub contact: ContactId,
    pub joined_on: i64,
    pub left_on: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{Mode, OrganisationId};

    fn scheme(option: SignUpOption) -> RewardScheme {
        RewardScheme {
            id: SchemeId::random(),
            tenant: Tenant {
                organisation: OrganisationId::random(),
                mode: Mode::Live,
            },
            name: "Club".into(),
            description: None,
            terms_and_conditions: None,
            sign_up_option: option,
            created_on: 5,
            updated_on: 5,
        }
    }

    #[test]
    fn members_are_automatic_or_by_sign_up_and_signing_out_and_back_works_once_each() {
        let contact = ContactId::random();
        for (option, member_at_first) in [(SignUpOption::AutoSignUp, true), (SignUpOption::SelfSignUp, false)] {
            let scheme = scheme(option);
            assert_eq!(scheme.has_member(None), member_at_first, "{option:?}");
            // Joining what one belongs to, or leaving what one does not, changes nothing.
            assert_eq!(scheme.sign(contact, None, member_at_first, 9).unwrap(), None);
            let changed = scheme
                .sign(contact, None, !member_at_first, 9)
                .unwrap()
                .expect("a change");
            assert_eq!(scheme.has_member(Some(&changed)), !member_at_first);
            let back = scheme
                .sign(contact, Some(&changed), member_at_first, 10)
                .unwrap()
                .expect("a change");
            assert_eq!(scheme.has_member(Some(&back)), member_at_first);
        }
    }

    #[test]
    fn schemes_are_checked() {
        assert!(scheme(SignUpOption::SelfSignUp).validate().is_ok());
        let mut bad = scheme(SignUpOption::SelfSignUp);
        bad.name = " ".into();
        assert_eq!(bad.validate().unwrap_err().parameter(), "name");
        bad.name = "x".repeat(201);
        assert_eq!(bad.validate().unwrap_err().parameter(), "name");
        let closed = scheme(SignUpOption::CloseLoopSignUp);
        assert_eq!(closed.validate().unwrap_err().parameter(), "sign_up_option");
    }
}
