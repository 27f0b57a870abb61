//! Organisations of the network and their API keys. This issue has one business created at
//! first start; the network (service owner → business → merchant → venue) comes later.

use super::ids::{Mode, OrganisationId};
use super::money::Currency;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrganisationType {
    ServiceOwner,
    Business,
    Merchant,
    Venue,
}

impl OrganisationType {
    /// The type as CRM.COM spells it.
    pub fn code(self) -> &'static str {
        match self {
            OrganisationType::ServiceOwner => "SERVICE_OWNER",
            OrganisationType::Business => "BUSINESS",
            OrganisationType::Merchant => "MERCHANT",
            OrganisationType::Venue => "VENUE",
        }
    }

    /// Whether an organisation of this type may have one of type `child` directly under it:
    /// service owner → business → merchant → venue, and a business may hold venues itself.
    pub fn may_hold(self, child: OrganisationType) -> bool {
        use OrganisationType::*;
        matches!(
            (self, child),
            (ServiceOwner, Business) | (Business, Merchant) | (Business, Venue) | (Merchant, Venue)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: OrganisationId,
    pub name: String,
    pub organisation_type: OrganisationType,
    pub parent: Option<OrganisationId>,
    pub default_currency: Currency,
    pub created_on: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApiKeyKind {
    /// For apps: pre-login self-service calls only.
    Public,
    /// For servers: the organisation's back-office and POS calls.
    Secret,
}

/// A stored API key. The key itself is never stored, only its SHA-256 (it is a random
/// 256-bit secret, so a fast hash is enough; passwords get argon2 in a later issue).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub organisation: OrganisationId,
    pub mode: Mode,
    pub kind: ApiKeyKind,
    pub created_on: i64,
}

#[cfg(test)]
mod tests {
    use super::OrganisationType::*;

    #[test]
    fn the_network_nests_service_owner_business_merchant_venue() {
        assert!(ServiceOwner.may_hold(Business));
        assert!(Business.may_hold(Merchant) && Business.may_hold(Venue) && Merchant.may_hold(Venue));
        for (parent, child) in [
            (Venue, Venue),
            (Venue, Merchant),
            (Merchant, Merchant),
            (Merchant, Business),
            (Business, Business),
            (Business, ServiceOwner),
            (ServiceOwner, Merchant),
            (ServiceOwner, ServiceOwner),
        ] {
            assert!(!parent.may_hold(child), "{parent:?} must not hold {child:?}");
        }
    }
}
