//! Reward schemes: the programmes a business groups its offers into, and how contacts join
//! them (CRM.COM's `sign_up_option`). Every contact of the business belongs to an
//! AUTO_SIGN_UP scheme unless it signed out; a SELF_SIGN_UP scheme has the contacts that
//! signed up and did not sign out since; a CLOSE_LOOP_SIGN_UP scheme has the contacts that
//! signed up with a sign-up code and did not sign out since. Its codes are one-time: issued
//! by the business (method CODE), or mailed to a contact that asked with an email address
//! of one of the scheme's domains (method EMAIL_DOMAIN).

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

/// How a closed-loop scheme lets contacts in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignUpMethod {
    /// A code mailed to an address of one of these domains (lower case).
    EmailDomain(Vec<String>),
    /// Codes the business issues and hands out.
    Code,
}

impl SignUpMethod {
    pub fn code(&self) -> &'static str {
        match self {
            SignUpMethod::EmailDomain(_) => "EMAIL_DOMAIN",
            SignUpMethod::Code => "CODE",
        }
    }

    pub fn domains(&self) -> &[String] {
        match self {
            SignUpMethod::EmailDomain(domains) => domains,
            SignUpMethod::Code => &[],
        }
    }
}

/// Most email domains a scheme names.
pub const EMAIL_DOMAINS_MAX: usize = 50;

/// Whether `domain` is a plausible DNS name: dot-separated labels of letters, digits and
/// inner hyphens, at least two of them, at most 253 characters.
fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
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
    /// How a CLOSE_LOOP_SIGN_UP scheme lets contacts in (none for the others).
    pub sign_up_method: Option<SignUpMethod>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemeError {
    #[error("{0} must be 1 to {1} printable characters")]
    BadText(&'static str, usize),
    #[error("a CLOSE_LOOP_SIGN_UP scheme needs sign_up_method EMAIL_DOMAIN (with email_domains) or CODE")]
    MethodMissing,
    #[error("sign_up_method applies to CLOSE_LOOP_SIGN_UP schemes only")]
    MethodNotApplicable,
    #[error("email_domains must name 1 to {EMAIL_DOMAINS_MAX} domains such as example.com, and only for sign_up_method EMAIL_DOMAIN")]
    BadDomains,
    #[error("signing up to this closed-loop scheme takes a sign_up_code (or, for one by email domain, an email_address to send one to)")]
    NeedsCode,
}

impl SchemeError {
    /// The request field the error is about.
    pub fn parameter(&self) -> &'static str {
        match self {
            SchemeError::BadText(field, _) => field,
            SchemeError::MethodMissing | SchemeError::MethodNotApplicable => "sign_up_method",
            SchemeError::BadDomains => "email_domains",
            SchemeError::NeedsCode => "sign_up_code",
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
        match (&self.sign_up_method, self.sign_up_option) {
            (None, SignUpOption::CloseLoopSignUp) => return Err(SchemeError::MethodMissing),
            (Some(_), SignUpOption::AutoSignUp | SignUpOption::SelfSignUp) => {
                return Err(SchemeError::MethodNotApplicable)
            }
            (Some(SignUpMethod::EmailDomain(domains)), _)
                if domains.is_empty() || domains.len() > EMAIL_DOMAINS_MAX || !domains.iter().all(|d| is_domain(d)) =>
            {
                return Err(SchemeError::BadDomains)
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether a contact asking with `email` may be mailed a code: its domain is one of
    /// the scheme's (any case).
    pub fn admits_email(&self, email: &str) -> bool {
        let Some((_, domain)) = email.trim().rsplit_once('@') else {
            return false;
        };
        let domain = domain.to_ascii_lowercase();
        self.sign_up_method
            .as_ref()
            .is_some_and(|method| method.domains().contains(&domain))
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
    /// after signing out (a member already is one); to a CLOSE_LOOP_SIGN_UP one only with
    /// a sign-up code that was checked (`with_code`).
    pub fn sign(
        &self,
        contact: ContactId,
        record: Option<&SchemeMembership>,
        join: bool,
        with_code: bool,
        now: i64,
    ) -> Result<Option<SchemeMembership>, SchemeError> {
        if join == self.has_member(record) {
            return Ok(None);
        }
        if join && self.sign_up_option == SignUpOption::CloseLoopSignUp && !with_code {
            return Err(SchemeError::NeedsCode);
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

/// A one-time code that lets a contact into a closed-loop scheme. Stored under a hash of
/// the tenant and the code (`keys::sign_up_code`); the code itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignUpCode {
    pub scheme: SchemeId,
    /// For a code mailed on request: the contact that asked and the address it went to
    /// (only that contact may use it).
    pub requested_by: Option<(ContactId, String)>,
    pub created_on: i64,
    pub expires_at: Option<i64>,
    /// The contact that used it, and when.
    pub used: Option<(ContactId, i64)>,
}

/// Why a sign-up code does not let a contact in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeRefusal {
    #[error("the sign_up_code is not valid for this scheme")]
    Unknown,
    #[error("the sign_up_code was used already")]
    Used,
    #[error("the sign_up_code has expired")]
    Expired,
}

impl SignUpCode {
    /// Checks the code lets `contact` into `scheme` at `now` (`scheme` `None`: whichever
    /// scheme it is for, as the verification link has it).
    pub fn admits(&self, contact: ContactId, scheme: Option<SchemeId>, now: i64) -> Result<(), CodeRefusal> {
        if scheme.is_some_and(|scheme| scheme != self.scheme)
            || self.requested_by.as_ref().is_some_and(|(asker, _)| *asker != contact)
        {
            return Err(CodeRefusal::Unknown);
        }
        if self.used.is_some() {
            return Err(CodeRefusal::Used);
        }
        if self.expires_at.is_some_and(|at| now >= at) {
            return Err(CodeRefusal::Expired);
        }
        Ok(())
    }
}

/// Characters of sign-up codes: no 0/O, 1/I/L, so a code read out or typed survives.
pub const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Characters in a sign-up code: 31^10, about 8 * 10^14 codes.
pub const CODE_CHARS: usize = 10;
/// How long a mailed sign-up code is good for.
pub const MAILED_CODE_TTL_S: i64 = 24 * 3600;
/// Most codes issued at once.
pub const CODES_PER_ISSUE_MAX: usize = 1_000;

/// A code as a contact types it: spaces and dashes dropped, upper case.
pub fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
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
            sign_up_method: (option == SignUpOption::CloseLoopSignUp).then_some(SignUpMethod::Code),
        }
    }

    #[test]
    fn members_are_automatic_or_by_sign_up_and_signing_out_and_back_works_once_each() {
        let contact = ContactId::random();
        for (option, member_at_first) in [(SignUpOption::AutoSignUp, true), (SignUpOption::SelfSignUp, false)] {
            let scheme = scheme(option);
            assert_eq!(scheme.has_member(None), member_at_first, "{option:?}");
            // Joining what one belongs to, or leaving what one does not, changes nothing.
            assert_eq!(scheme.sign(contact, None, member_at_first, false, 9).unwrap(), None);
            let changed = scheme
                .sign(contact, None, !member_at_first, false, 9)
                .unwrap()
                .expect("a change");
            assert_eq!(scheme.has_member(Some(&changed)), !member_at_first);
            let back = scheme
                .sign(contact, Some(&changed), member_at_first, false, 10)
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
        let mut closed = scheme(SignUpOption::CloseLoopSignUp);
        assert!(closed.validate().is_ok());
        closed.sign_up_method = None;
        assert_eq!(closed.validate().unwrap_err(), SchemeError::MethodMissing);
        for domains in [
            vec![],
            vec!["Example.com".to_string()],
            vec!["localhost".into()],
            vec!["a..b".into()],
            vec!["-a.com".into()],
        ] {
            closed.sign_up_method = Some(SignUpMethod::EmailDomain(domains.clone()));
            assert_eq!(closed.validate().unwrap_err(), SchemeError::BadDomains, "{domains:?}");
        }
        closed.sign_up_method = Some(SignUpMethod::EmailDomain(vec![
            "crm.com".into(),
            "mail.example.org".into(),
        ]));
        assert!(closed.validate().is_ok());
        assert!(closed.admits_email("Jo@CRM.com") && closed.admits_email(" x@mail.example.org"));
        assert!(
            !closed.admits_email("jo@crm.com.evil.net")
                && !closed.admits_email("jo@sub.crm.com")
                && !closed.admits_email("crm.com")
        );
        let mut open = scheme(SignUpOption::SelfSignUp);
        open.sign_up_method = Some(SignUpMethod::Code);
        assert_eq!(open.validate().unwrap_err(), SchemeError::MethodNotApplicable);
    }

    #[test]
    fn a_code_admits_its_own_contact_to_its_own_scheme_once_before_it_expires() {
        let (scheme, other) = (SchemeId::random(), SchemeId::random());
        let (asker, stranger) = (ContactId::random(), ContactId::random());
        let mut code = SignUpCode {
            scheme,
            requested_by: Some((asker, "a@crm.com".into())),
            created_on: 0,
            expires_at: Some(100),
            used: None,
        };
        assert_eq!(code.admits(asker, Some(scheme), 99), Ok(()));
        assert_eq!(code.admits(asker, None, 99), Ok(()));
        assert_eq!(code.admits(asker, Some(other), 99), Err(CodeRefusal::Unknown));
        assert_eq!(code.admits(stranger, Some(scheme), 99), Err(CodeRefusal::Unknown));
        assert_eq!(code.admits(asker, Some(scheme), 100), Err(CodeRefusal::Expired));
        code.used = Some((asker, 50));
        assert_eq!(code.admits(asker, Some(scheme), 60), Err(CodeRefusal::Used));
        assert_eq!(normalise_code(" ab-c d\t"), "ABCD");
    }

    #[test]
    fn a_closed_loop_scheme_is_joined_with_a_code_only_and_left_freely() {
        let scheme = scheme(SignUpOption::CloseLoopSignUp);
        let contact = ContactId::random();
        assert!(!scheme.has_member(None));
        assert_eq!(scheme.sign(contact, None, true, false, 9), Err(SchemeError::NeedsCode));
        let joined = scheme.sign(contact, None, true, true, 9).unwrap().expect("joined");
        let left = scheme
            .sign(contact, Some(&joined), false, false, 10)
            .unwrap()
            .expect("left");
        assert!(!scheme.has_member(Some(&left)));
        assert_eq!(
            scheme.sign(contact, Some(&left), true, false, 11),
            Err(SchemeError::NeedsCode)
        );
    }
}
