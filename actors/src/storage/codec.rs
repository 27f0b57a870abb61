//! Record codec: one version byte, then postcard (compact, varint) bytes.
//!
//! Decimals are stored as (mantissa, scale) varints rather than strings: exact and small.
//! A record whose version byte is unknown is an error, never a guess.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The version byte every record starts with. Bump it when a record's layout changes and
/// teach `decode` the old one.
pub const RECORD_VERSION: u8 = 1;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("record has unknown version byte {0}")]
    UnknownVersion(u8),
    #[error("record is empty")]
    Empty,
    #[error("history page is malformed: {0}")]
    Page(&'static str),
    #[error("record does not decode: {0}")]
    Postcard(#[from] postcard::Error),
}

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    encode_into(value, &mut out);
    out
}

/// Appends the record's bytes to `out`.
pub fn encode_into<T: Serialize>(value: &T, out: &mut Vec<u8>) {
    out.push(RECORD_VERSION);
    // Serialising our own plain structs into a Vec cannot fail.
    postcard::to_io(value, out).expect("record encodes");
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    match bytes.split_first() {
        None => Err(CodecError::Empty),
        Some((&RECORD_VERSION, rest)) => Ok(postcard::from_bytes(rest)?),
        Some((&other, _)) => Err(CodecError::UnknownVersion(other)),
    }
}

// The exact-decimal encodings belong to money; stored records use them through these names.
pub use crate::domain::money::{exact_decimal as decimal, exact_option_decimal as option_decimal};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::wallet::Balances;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    #[test]
    fn records_round_trip_and_unknown_versions_are_refused() {
        let balances = Balances {
            total: Decimal::from_str("12.50").unwrap(),
            open: Decimal::ZERO,
            commerce: Decimal::from_str("12.50").unwrap(),
            shortfall: Decimal::from_str("0.01").unwrap(),
        };
        let bytes = encode(&balances);
        assert_eq!(bytes[0], RECORD_VERSION);
        let back: Balances = decode(&bytes).unwrap();
        assert_eq!(back, balances);
        assert_eq!(back.total.to_string(), "12.50");
        let mut future = bytes.clone();
        future[0] = 99;
        assert!(matches!(
            decode::<Balances>(&future),
            Err(CodecError::UnknownVersion(99))
        ));
    }
}
