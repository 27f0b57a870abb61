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
