//! Outbound communications: one-time passwords, email-verification and password-reset links.
//! A message is written to the outbox in the same atomic commit as what it reports (D5) and
//! delivered after that by a provider; delivery is retried, and each message carries its id
//! so a receiver can drop the one repeat a crash between sending and recording could cause.

use super::ids::{ContactId, Tenant};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn code(self) -> &'static str {
        match self {
            Channel::Email => "EMAIL",
            Channel::Sms => "SMS",
        }
    }
}

/// Why a message was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageKind {
    OneTimePassword,
    EmailVerification,
    PasswordReset,
    /// A code to sign up to a closed-loop reward scheme.
    SchemeSignUp,
    /// A pass's code (and PIN) sent to its recipient (appended).
    Pass,
}

impl MessageKind {
    pub fn code(self) -> &'static str {
        match self {
            MessageKind::OneTimePassword => "ONE_TIME_PASSWORD",
            MessageKind::EmailVerification => "EMAIL_VERIFICATION",
            MessageKind::PasswordReset => "PASSWORD_RESET",
            MessageKind::SchemeSignUp => "SCHEME_SIGN_UP",
            MessageKind::Pass => "PASS",
        }
    }
}

/// A message waiting in the outbox, under its sequence number. Once delivered or given up
/// it is removed (and with it the code or link it carries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundMessage {
    pub seq: u64,
    /// Stable across attempts: receivers use it to recognise a repeat.
    pub id: uuid::Uuid,
    pub tenant: Tenant,
    pub contact: ContactId,
    pub kind: MessageKind,
    pub channel: Channel,
    /// An email address, or a phone number's digits.
    pub to: String,
    /// A phone's ISO 3166 alpha-3 country, for SMS.
    pub country_code: Option<String>,
    pub subject: String,
    pub body: String,
    pub created_on: i64,
    /// Failed attempts so far.
    pub attempts: u32,
}

/// `jo****@example.com`: enough for a person to recognise their address, not to learn it.
pub fn obfuscate_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let shown: String = local
                .chars()
                .take(2.min(local.chars().count().saturating_sub(1)))
                .collect();
            format!("{shown}****@{domain}")
        }
        None => "****".into(),
    }
}

/// `99***834`: the first two and last three digits of a number of eight or more; fewer
/// digits show only the last two.
pub fn obfuscate_phone(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    if digits.len() >= 8 {
        let head: String = digits[..2].iter().collect();
        let tail: String = digits[digits.len() - 3..].iter().collect();
        format!("{head}***{tail}")
    } else {
        let tail: String = digits[digits.len().saturating_sub(2)..].iter().collect();
        format!("***{tail}")
    }
}

/// A phone number's identity value: its digits (spaces, dashes, brackets and a leading `+`
/// are presentation). `None` unless 4 to 20 digits remain and nothing else was in it.
pub fn normalise_phone(number: &str) -> Option<String> {
    let trimmed = number.trim();
    if !trimmed
        .chars()
        .enumerate()
        .all(|(index, c)| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')') || (index == 0 && c == '+'))
    {
        return None;
    }
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    (4..=20).contains(&digits.len()).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obfuscation_hides_most_of_the_destination() {
        assert_eq!(obfuscate_email("john.doe@example.com"), "jo****@example.com");
        assert_eq!(obfuscate_email("j@example.com"), "****@example.com");
        assert_eq!(obfuscate_phone("99123834"), "99***834");
        assert_eq!(obfuscate_phone("+357 99 123 834"), "35***834");
        assert_eq!(obfuscate_phone("12345"), "***45");
    }

    #[test]
    fn phone_numbers_normalise_to_their_digits() {
        assert_eq!(normalise_phone(" +357 (99) 123-834 ").as_deref(), Some("35799123834"));
        assert_eq!(normalise_phone("991"), None);
        assert_eq!(normalise_phone("99x123456"), None);
        assert_eq!(normalise_phone("99+123456"), None);
    }
}
