//! Secrets and random codes the engine makes and checks: password hashes (argon2id),
//! tokens, API keys, one-time passwords and wallet codes. Kept out of the domain, which
//! stays free of hashing and randomness (identifiers, UUIDs, excepted).

use crate::domain::ids::{Mode, WalletCode};
use crate::domain::organisation::ApiKeyKind;
use rand::Rng;

/// argon2id with the crate's default parameters (OWASP's minimum: 19 MiB, 2 passes).
pub fn hash_password(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).expect("16 bytes encode as a salt");
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password")
        .to_string()
}

/// Whether `password` matches the stored hash (constant time in the password).
pub fn verify_password(password: &str, stored: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    match PasswordHash::new(stored) {
        Ok(parsed) => argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A new sign-up code for a closed-loop scheme: `CODE_CHARS` characters of `CODE_ALPHABET`.
pub fn sign_up_code() -> String {
    use crate::domain::scheme::{CODE_ALPHABET, CODE_CHARS};
    let mut rng = rand::rng();
    (0..CODE_CHARS)
        .map(|_| char::from(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())]))
        .collect()
}

/// A new opaque token (refresh tokens): 256 random bits, URL-safe.
pub fn random_token(prefix: &str) -> String {
    format!("{prefix}{}", hex::encode(rand::random::<[u8; 32]>()))
}

/// A new API key: public keys are UUIDs as CRM.COM's are; secret keys carry 256 random
/// bits and say what they are (`sk_live_…`, `sk_test_…`), so a leaked one is recognisable.
pub fn api_key(kind: ApiKeyKind, mode: Mode) -> String {
    match kind {
        ApiKeyKind::Public => uuid::Uuid::new_v4().to_string(),
        ApiKeyKind::Secret => {
            let mode = match mode {
                Mode::Live => "live",
                Mode::Test => "test",
            };
            format!("sk_{mode}_{}", hex::encode(rand::random::<[u8; 32]>()))
        }
    }
}

/// A one-time password: six digits, uniformly from 000000 to 999999.
pub fn otp_code() -> String {
    format!("{:06}", rand::random_range(0..1_000_000u32))
}

/// A new wallet's (or transfer's) 16-digit code, with no leading zero so that it survives
/// tills that treat it as a number.
pub fn wallet_code() -> WalletCode {
    let mut rng = rand::rng();
    let mut digits = String::with_capacity(16);
    digits.push(char::from(b'1' + rng.random_range(0..9u8)));
    for _ in 1..16 {
        digits.push(char::from(b'0' + rng.random_range(0..10u8)));
    }
    WalletCode::parse(&digits).expect("sixteen digits are a wallet code")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::organisation::{api_key_entropy_bits, API_KEY_ENTROPY_BITS_MIN};

    #[test]
    fn keys_codes_and_wallet_codes_have_their_shapes_and_differ() {
        let secret = api_key(ApiKeyKind::Secret, Mode::Test);
        assert!(secret.starts_with("sk_test_") && secret.len() == 8 + 64, "{secret}");
        assert_ne!(secret, api_key(ApiKeyKind::Secret, Mode::Test));
        assert!(api_key(ApiKeyKind::Secret, Mode::Live).starts_with("sk_live_"));
        assert!(api_key_entropy_bits(&api_key(ApiKeyKind::Secret, Mode::Live)) > 200.0);
        assert!(api_key_entropy_bits(&api_key(ApiKeyKind::Public, Mode::Live)) > API_KEY_ENTROPY_BITS_MIN);
        for _ in 0..100 {
            let code = otp_code();
            assert_eq!(code.len(), crate::domain::otp::OTP_DIGITS);
            assert!(code.chars().all(|c| c.is_ascii_digit()));
            let wallet = wallet_code();
            assert!(!wallet.as_str().starts_with('0'), "{}", wallet.as_str());
        }
        assert_ne!(wallet_code(), wallet_code());
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify_only_themselves() {
        let stored = hash_password("correct horse battery");
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(verify_password("correct horse battery", &stored));
        assert!(!verify_password("correct horse batterY", &stored));
        assert!(!verify_password("correct horse battery", "not a hash"));
        assert_ne!(stored, hash_password("correct horse battery"), "salted");
    }
}
