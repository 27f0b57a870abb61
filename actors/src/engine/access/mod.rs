//! Who may call: API keys, back-office users, tokens and sessions, sign-in lockout, and a
//! service owner's registry of contacts across its businesses.

pub(in crate::engine) mod api_keys;
pub(in crate::engine) mod lockout;
pub(in crate::engine) mod memberships;
pub(in crate::engine) mod tokens;
pub(in crate::engine) mod users;
