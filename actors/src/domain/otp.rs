//! One-time passwords and emailed links (email verification, password reset).
//!
//! An OTP is six digits, stored only as a hash keyed by its `auth_otp` id, valid until
//! `expires_on` and for a limited number of wrong guesses; the right code is accepted once.
//! A link token is 32 random bytes (hex), stored only as its SHA-256, single use.

use super::comms::Channel;
use super::contact::IdentityProvider;
use super::ids::{ContactId, Tenant};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const OTP_DIGITS: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OtpState {
    Open,
    /// The right code was given; it signs in no one again.
    Used,
    /// Too many wrong codes; even the right one is refused now.
    Exhausted,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimePassword {
    /// The `auth_otp` the caller holds.
    pub id: uuid::Uuid,
    pub tenant: Tenant,
    pub contact: ContactId,
    pub channel: Channel,
    /// Where the code went (email, or phone digits) and the phone's country.
    pub destination: String,
    pub country_code: Option<String>,
    /// The sign-in identity the code proves, marked verified when it is accepted.
    pub identity: Option<(IdentityProvider, String)>,
    pub code_hash: [u8; 32],
    pub created_on: i64,
    pub expires_on: i64,
    pub attempts_left: u32,
    pub state: OtpState,
}

/// What a guess did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpCheck {
    Accepted,
    /// Wrong code; this many guesses remain (0: the OTP is now exhausted).
    Wrong {
        attempts_left: u32,
    },
    Expired,
    Spent,
}

impl OneTimePassword {
    pub fn hash_code(id: uuid::Uuid, code: &str) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(id.as_bytes());
        hasher.update(code.as_bytes());
        hasher.finalize().into()
    }

    /// Checks a guess at time `now` and updates the state it leaves (an attempt spent, or
    /// the OTP used). The hash comparison takes the same time wherever the codes differ.
    pub fn check(&mut self, code: &str, now: i64) -> OtpCheck {
        match self.state {
            OtpState::Used => return OtpCheck::Spent,
            OtpState::Exhausted => return OtpCheck::Wrong { attempts_left: 0 },
            OtpState::Open => {}
        }
        if now >= self.expires_on {
            return OtpCheck::Expired;
        }
        let guess = Self::hash_code(self.id, code.trim());
        if bool::from(guess.ct_eq(&self.code_hash)) {
            self.state = OtpState::Used;
            return OtpCheck::Accepted;
        }
        self.attempts_left = self.attempts_left.saturating_sub(1);
        if self.attempts_left == 0 {
            self.state = OtpState::Exhausted;
        }
        OtpCheck::Wrong {
            attempts_left: self.attempts_left,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkPurpose {
    VerifyEmail,
    ResetPassword,
    /// Adds an email sign-in identity to a contact the back office made: opening the link
    /// proves the address and creates the identity (with the password chosen, if any).
    ConfirmIdentity,
}

/// A token sent in a link, stored under its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkToken {
    pub tenant: Tenant,
    pub contact: ContactId,
    pub purpose: LinkPurpose,
    /// The email identity the link is for.
    pub email: String,
    pub created_on: i64,
    pub expires_on: i64,
    pub used: bool,
    /// ConfirmIdentity: the password chosen (argon2id), set when the link is opened.
    pub password_hash: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{Mode, OrganisationId};

    fn otp(code: &str, attempts: u32) -> OneTimePassword {
        let id = uuid::Uuid::new_v4();
        OneTimePassword {
            id,
            tenant: Tenant {
                organisation: OrganisationId::random(),
                mode: Mode::Test,
            },
            contact: ContactId::random(),
            channel: Channel::Email,
            destination: "a@example.com".into(),
            country_code: None,
            identity: None,
            code_hash: OneTimePassword::hash_code(id, code),
            created_on: 100,
            expires_on: 400,
            attempts_left: attempts,
            state: OtpState::Open,
        }
    }

    #[test]
    fn the_right_code_is_accepted_once() {
        let mut otp = otp("123456", 3);
        assert_eq!(otp.check("123456", 200), OtpCheck::Accepted);
        assert_eq!(otp.check("123456", 200), OtpCheck::Spent);
    }

    #[test]
    fn wrong_codes_use_up_the_attempts_then_even_the_right_one_fails() {
        let mut otp = otp("123456", 2);
        assert_eq!(otp.check("000000", 200), OtpCheck::Wrong { attempts_left: 1 });
        assert_eq!(otp.check("111111", 200), OtpCheck::Wrong { attempts_left: 0 });
        assert_eq!(otp.state, OtpState::Exhausted);
        assert_eq!(otp.check("123456", 200), OtpCheck::Wrong { attempts_left: 0 });
    }

    #[test]
    fn an_expired_code_is_refused_and_costs_no_attempt() {
        let mut otp = otp("123456", 2);
        assert_eq!(otp.check("123456", 400), OtpCheck::Expired);
        assert_eq!(otp.attempts_left, 2);
    }
}
