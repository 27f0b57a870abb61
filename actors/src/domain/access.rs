//! Who is calling: the organisation a key or token acts for, in which mode, with what role.

use super::ids::{Mode, OrganisationId, UserId};
use serde::{Deserialize, Serialize};

/// What a caller may do in the organisations it reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Everything, including keys, users and the network.
    Admin,
    /// Day-to-day work (contacts, purchases, wallets, offers); not keys, users or the network.
    Member,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "ADMIN",
            Role::Member => "MEMBER",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "ADMIN" => Some(Role::Admin),
            "MEMBER" => Some(Role::Member),
            _ => None,
        }
    }
}

/// A back-office caller: a secret key (acting as an admin of its organisation) or a user's
/// token (acting in one organisation the user holds, directly or by switching).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub organisation: OrganisationId,
    pub mode: Mode,
    pub role: Role,
    pub user: Option<UserId>,
}

impl Caller {
    pub fn key(organisation: OrganisationId, mode: Mode) -> Caller {
        Caller {
            organisation,
            mode,
            role: Role::Admin,
            user: None,
        }
    }
}

/// One organisation a user belongs to, and the role the user has there and below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub organisation: OrganisationId,
    pub role: Role,
}

/// A back-office user. The email is unique across the whole network (it is the login).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    /// Lower case, trimmed.
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// argon2id, PHC string format (algorithm, parameters and salt included).
    pub password_hash: String,
    pub memberships: Vec<Membership>,
    pub created_on: i64,
}

/// Who a session (a refresh-token family) belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Subject {
    User(UserId),
    Contact(super::ids::Tenant, super::ids::ContactId),
}

/// A signed-in session: every refresh token issued from one sign-in (and its refreshes)
/// belongs to it. Revoking it ends every token of the family, access tokens included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: uuid::Uuid,
    pub subject: Subject,
    /// The organisation the session acts in (a user's, or the one switched into).
    pub organisation: OrganisationId,
    pub mode: Mode,
    pub role: Role,
    pub created_on: i64,
    pub revoked_on: Option<i64>,
}

/// A refresh token, stored under its SHA-256. Each is used once: refreshing marks it spent
/// and issues the next one in the same session; presenting a spent one again is taken as
/// theft and revokes the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshToken {
    pub session: uuid::Uuid,
    pub expires_on: i64,
    pub spent_on: Option<i64>,
}

/// A key that signs access tokens (Ed25519). The newest is used to sign; older ones still
/// verify until `retired_on`, so rotating never cuts off a token already issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKey {
    pub kid: String,
    pub seed: [u8; 32],
    pub created_on: i64,
    pub retired_on: Option<i64>,
}

/// Lower-cased, trimmed, and shaped like an address (one `@`, something either side, a dot
/// in the domain, no spaces, at most 254 characters).
pub fn normalise_email(text: &str) -> Option<String> {
    let email = text.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let plausible = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.len() <= 254
        && !email.chars().any(char::is_whitespace);
    plausible.then_some(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_or_refused() {
        assert_eq!(normalise_email("  Ann@Example.COM "), Some("ann@example.com".into()));
        for bad in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "ann@example",
            "a b@example.com",
            "a@b@c.com",
            "ann@.com",
        ] {
            assert_eq!(normalise_email(bad), None, "{bad}");
        }
    }
}
