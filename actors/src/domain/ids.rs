//! Identifiers and codes. Each is a newtype whose only constructor checks it.
//!
//! Ids are UUIDs; on the wire CRM.COM shows both the dashed form and 32 upper-case hex
//! characters, and both parse here. Codes (contact code, wallet code, purchase reference)
//! are the human or POS-facing strings that may stand in for an id.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("'{0}' is not a valid identifier")]
    Malformed(String),
    #[error("{what} must be 1 to {max} printable characters")]
    BadCode { what: &'static str, max: usize },
    #[error("a wallet code is exactly 16 digits")]
    BadWalletCode,
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn random() -> Self {
                Self(Uuid::new_v4())
            }
            pub fn parse(text: &str) -> Result<Self, IdError> {
                Uuid::parse_str(text.trim())
                    .map(Self)
                    .map_err(|_| IdError::Malformed(text.to_string()))
            }
            pub fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }
    };
}

uuid_id!(
    /// An organisation of the network (a business in this issue).
    OrganisationId
);
uuid_id!(
    /// A purchase estimate: a preview of a purchase's awards and spend, maybe holding funds.
    EstimateId
);
uuid_id!(ContactId);
uuid_id!(WalletId);
uuid_id!(
    /// Derived from (tenant, reference number), so the purchase key is its idempotency key.
    PurchaseId
);
uuid_id!(OfferId);
uuid_id!(
    /// A named commerce pool: spend conditions offers credit their awards under.
    CommercePoolId
);
uuid_id!(
    /// An API key's public handle; the key itself is a secret that is never stored.
    ApiKeyId
);
uuid_id!(
    /// A back-office user.
    UserId
);
uuid_id!(
    /// A TAP (transaction acquiring point): a till or terminal of a merchant or venue.
    TapId
);
uuid_id!(
    /// A transfer of money between wallets.
    TransferId
);
uuid_id!(
    /// A reward scheme of a business.
    SchemeId
);
uuid_id!(
    /// A message between entities through the outbox (D5): the receiver applies each id once.
    MessageId
);
uuid_id!(
    /// A contact token (a till names the contact with it).
    TokenId
);
uuid_id!(
    /// A contact's payment method (a card, a bank account, an e-wallet held by a gateway).
    PaymentMethodId
);
uuid_id!(
    /// A top-up: money paid in through a payment gateway (its intent, then its credit).
    TopUpId
);
uuid_id!(
    /// A product of a business's catalogue.
    ProductId
);
uuid_id!(
    /// A brand, family, category or type products are filed under.
    ProductClassId
);
uuid_id!(
    /// A payment intent: a contact's payment set up at its gateway before it is used.
    IntentId
);
uuid_id!(
    /// A business's payment gateway integration: a gateway it takes payments through.
    IntegrationId
);
uuid_id!(
    /// A pass plan: the terms gift and top-up passes are issued under.
    PassPlanId
);
uuid_id!(
    /// A payout: money paid out of a wallet to a payment method through a gateway.
    PayoutId
);
uuid_id!(
    /// A gift or top-up pass.
    PassId
);
uuid_id!(
    /// One of a contact's addresses (home, business, another).
    AddressId
);
uuid_id!(
    /// A contact's account: its financial ledger in one currency.
    AccountId
);
uuid_id!(
    /// One posted entry of an account's journal.
    AccountJournalId
);
uuid_id!(
    /// A person's place in a contact's community.
    RelationshipId
);
uuid_id!(
    /// A queue service requests are raised in.
    QueueId
);
uuid_id!(
    /// A stage of a queue.
    StageId
);
uuid_id!(
    /// A contact's service request.
    ServiceRequestId
);
uuid_id!(
    /// A note on a service request.
    NoteId
);
uuid_id!(
    /// A category of a queue.
    CategoryId
);
uuid_id!(
    /// An order estimate (`POST /estimates/orders`): what an order would cost and earn.
    OrderEstimateId
);
uuid_id!(
    /// A contact's order; the id of the estimate it was submitted from.
    OrderId
);
uuid_id!(
    /// A contact's subscription: its services of one billing period.
    SubscriptionId
);
uuid_id!(
    /// A service of a subscription.
    ServiceId
);
uuid_id!(
    /// A subscription's bill (a function of the subscription and the bill's number).
    BillId
);
uuid_id!(
    /// A usage record: usage consumed against a service's allowance.
    UsageRecordId
);
uuid_id!(
    /// An action taken, or scheduled, on a subscription's service.
    SubscriptionActionId
);
uuid_id!(
    /// A usage authorisation (`POST /estimates/allowance`); the records it made carry it.
    UsageEstimateId
);

/// Live or test data (D10): decided by the API key, never by the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Mode {
    Live,
    Test,
}

impl Mode {
    /// LIVE or TEST, as the API spells it.
    pub fn code(self) -> &'static str {
        match self {
            Mode::Live => "LIVE",
            Mode::Test => "TEST",
        }
    }

    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "LIVE" => Some(Mode::Live),
            "TEST" => Some(Mode::Test),
            _ => None,
        }
    }

    pub fn as_byte(&self) -> u8 {
        match self {
            Mode::Live => b'L',
            Mode::Test => b'T',
        }
    }
}

/// The owner of every record: an organisation in one mode. Every storage key starts with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Tenant {
    pub organisation: OrganisationId,
    pub mode: Mode,
}

impl Tenant {
    pub const KEY_LEN: usize = 17;

    pub fn key_bytes(&self) -> [u8; Self::KEY_LEN] {
        let mut out = [0u8; Self::KEY_LEN];
        out[..16].copy_from_slice(self.organisation.as_bytes());
        out[16] = self.mode.as_byte();
        out
    }

    /// A namespace UUID for ids derived from this tenant's own codes.
    fn namespace(&self) -> Uuid {
        Uuid::new_v5(&Uuid::NAMESPACE_OID, &self.key_bytes())
    }
}

impl PurchaseId {
    /// The purchase id is a function of the tenant and the POS reference number, so the
    /// record stored under it is also the idempotency record of the submission (D4).
    pub fn for_reference(tenant: &Tenant, reference: &ReferenceNumber) -> PurchaseId {
        PurchaseId(Uuid::new_v5(&tenant.namespace(), reference.as_str().as_bytes()))
    }

    /// An ad hoc return's id: a function of its purchase and its own reference number, so a
    /// retry finds the return it repeats.
    pub fn for_return(tenant: &Tenant, purchase: PurchaseId, reference: &ReferenceNumber) -> PurchaseId {
        let mut name = b"return:".to_vec();
        name.extend_from_slice(purchase.as_bytes());
        name.extend_from_slice(reference.as_str().as_bytes());
        PurchaseId(Uuid::new_v5(&tenant.namespace(), &name))
    }
}

fn check_code(text: &str, what: &'static str, max: usize) -> Result<String, IdError> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.len() > max || trimmed.chars().any(|c| c.is_control()) {
        return Err(IdError::BadCode { what, max });
    }
    Ok(trimmed.to_string())
}

/// A contact's external code (a bank CIF, a loyalty number), usable instead of its id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContactCode(String);

impl ContactCode {
    pub const LEN_MAX: usize = 64;
    pub fn parse(text: &str) -> Result<Self, IdError> {
        check_code(text, "a contact code", Self::LEN_MAX).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A POS receipt number: unique per organisation, the purchase's idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReferenceNumber(String);

impl ReferenceNumber {
    pub const LEN_MAX: usize = 128;
    pub fn parse(text: &str) -> Result<Self, IdError> {
        check_code(text, "reference_number", Self::LEN_MAX).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The 16-digit wallet code a contact shows at the till (QR or typed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WalletCode([u8; 16]);

impl WalletCode {
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let bytes = text.trim().as_bytes();
        if bytes.len() != 16 || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(IdError::BadWalletCode);
        }
        let mut out = [0u8; 16];
        out.copy_from_slice(bytes);
        Ok(WalletCode(out))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_in_dashed_and_compact_upper_case_forms() {
        let dashed = ContactId::parse("ab5f8b2e-092f-4848-8f46-31df1c014060").unwrap();
        let compact = ContactId::parse("AB5F8B2E092F48488F4631DF1C014060").unwrap();
        assert_eq!(dashed, compact);
        assert!(ContactId::parse("not-an-id").is_err());
    }

    #[test]
    fn wallet_codes_are_sixteen_digits() {
        assert!(WalletCode::parse("1234567890123456").is_ok());
        assert!(WalletCode::parse("123456789012345").is_err());
        assert!(WalletCode::parse("12345678901234a6").is_err());
    }

    #[test]
    fn purchase_ids_depend_on_tenant_and_reference() {
        let tenant = Tenant {
            organisation: OrganisationId::random(),
            mode: Mode::Live,
        };
        let other = Tenant {
            mode: Mode::Test,
            ..tenant
        };
        let reference = ReferenceNumber::parse("R-1").unwrap();
        let id = PurchaseId::for_reference(&tenant, &reference);
        assert_eq!(id, PurchaseId::for_reference(&tenant, &reference));
        assert_ne!(id, PurchaseId::for_reference(&other, &reference));
    }
}
