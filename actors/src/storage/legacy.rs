//! Layouts of records written by earlier releases, and how each reads in today's layout.
//! Each old layout is a prefix of the new one, so old bytes never pass for the new layout;
//! the record families try today's layout first and upgrade on a miss.

use crate::domain::ids::{ApiKeyId, Mode, OfferId, OrganisationId, PurchaseId, SchemeId, Tenant};
use crate::domain::money::Currency;
use crate::domain::offer::{
    AwardExplanation, AwardRule, Caps, Combination, Destination, LineClass, OfferGoal, OfferState, OfferTerms,
    OfferType, ProductFilter, RewardOffer, Schedule, SegmentCondition, Targets,
};
use crate::domain::organisation::{ApiKeyKind, ApiKeyRecord, Organisation, OrganisationType};
use crate::domain::purchase::{PurchaseRecord, PurchaseRequest, PurchaseState, SaleOrganisation};
use crate::domain::scheme::{RewardScheme, SignUpOption};
use crate::domain::wallet::{Balances, PurchaseEffects};
use crate::storage::codec::{decode, CodecError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The layout of `Organisation` before TAPs (data dirs of the first release).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyOrganisation {
    pub id: OrganisationId,
    pub name: String,
    pub organisation_type: OrganisationType,
    pub parent: Option<OrganisationId>,
    pub default_currency: Currency,
    pub created_on: i64,
}

impl From<LegacyOrganisation> for Organisation {
    fn from(old: LegacyOrganisation) -> Organisation {
        Organisation {
            id: old.id,
            name: old.name,
            organisation_type: old.organisation_type,
            parent: old.parent,
            default_currency: old.default_currency,
            created_on: old.created_on,
            taps: Vec::new(),
            updated_on: old.created_on,
        }
    }
}

/// The layout of `ApiKeyRecord` before keys had ids (bootstrap keys of older data dirs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyApiKeyRecord {
    pub organisation: OrganisationId,
    pub mode: Mode,
    pub kind: ApiKeyKind,
    pub created_on: i64,
}

impl LegacyApiKeyRecord {
    /// The record in today's layout; its id is derived from the key's hash so it is stable.
    pub fn upgrade(self, key_hash: &[u8; 32]) -> ApiKeyRecord {
        ApiKeyRecord {
            organisation: self.organisation,
            mode: self.mode,
            kind: self.kind,
            created_on: self.created_on,
            id: ApiKeyId(uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, key_hash)),
            name: "bootstrap".into(),
            hint: "…".into(),
            expires_on: None,
            revoked_on: None,
            rolled_to: None,
        }
    }
}

/// The layout of `PurchaseRecord` before purchases recorded where they were made (a prefix
/// of today's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyPurchaseRecord {
    pub id: PurchaseId,
    pub tenant: Tenant,
    pub request: PurchaseRequest,
    pub body_hash: [u8; 32],
    pub state: PurchaseState,
    pub date: i64,
    pub posted_on: i64,
    pub cancelled_on: Option<i64>,
    pub effects: PurchaseEffects,
    pub balances_after: Balances,
}

impl From<LegacyPurchaseRecord> for PurchaseRecord {
    fn from(old: LegacyPurchaseRecord) -> PurchaseRecord {
        PurchaseRecord::from(LegacyPurchaseRecordAt {
            id: old.id,
            tenant: old.tenant,
            request: old.request,
            body_hash: old.body_hash,
            state: old.state,
            date: old.date,
            posted_on: old.posted_on,
            cancelled_on: old.cancelled_on,
            effects: old.effects,
            balances_after: old.balances_after,
            organisation: None,
        })
    }
}

/// The layout of `PurchaseRecord` after it recorded where it was made, before line classes
/// and award explanations (a prefix of today's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyPurchaseRecordAt {
    pub id: PurchaseId,
    pub tenant: Tenant,
    pub request: PurchaseRequest,
    pub body_hash: [u8; 32],
    pub state: PurchaseState,
    pub date: i64,
    pub posted_on: i64,
    pub cancelled_on: Option<i64>,
    pub effects: PurchaseEffects,
    pub balances_after: Balances,
    pub organisation: Option<SaleOrganisation>,
}

impl From<LegacyPurchaseRecordAt> for PurchaseRecord {
    fn from(old: LegacyPurchaseRecordAt) -> PurchaseRecord {
        PurchaseRecord {
            id: old.id,
            tenant: old.tenant,
            request: old.request,
            body_hash: old.body_hash,
            state: old.state,
            date: old.date,
            posted_on: old.posted_on,
            cancelled_on: old.cancelled_on,
            effects: old.effects,
            balances_after: old.balances_after,
            organisation: old.organisation,
            classes: Vec::new(),
            explanations: Vec::new(),
            returns: Vec::new(),
            pass: None,
        }
    }
}

/// The layout of `PurchaseRecord` with line classes and award explanations, before ad hoc
/// returns (a prefix of today's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyPurchaseRecordExplained {
    pub at: LegacyPurchaseRecordAt,
    pub classes: Vec<LineClass>,
    pub explanations: Vec<AwardExplanation>,
}

impl From<LegacyPurchaseRecordExplained> for PurchaseRecord {
    fn from(old: LegacyPurchaseRecordExplained) -> PurchaseRecord {
        PurchaseRecord {
            classes: old.classes,
            explanations: old.explanations,
            ..PurchaseRecord::from(old.at)
        }
    }
}

/// The layout of `PurchaseRecord` with ad hoc returns, before purchases paid with a pass
/// (a prefix of today's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyPurchaseRecordReturned {
    pub explained: LegacyPurchaseRecordExplained,
    pub returns: Vec<crate::domain::purchase_return::PurchaseReturn>,
}

impl From<LegacyPurchaseRecordReturned> for PurchaseRecord {
    fn from(old: LegacyPurchaseRecordReturned) -> PurchaseRecord {
        PurchaseRecord {
            returns: old.returns,
            ..PurchaseRecord::from(old.explained)
        }
    }
}

/// The layout of `RewardScheme` before closed-loop schemes (a prefix of today's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyRewardScheme {
    pub id: SchemeId,
    pub tenant: Tenant,
    pub name: String,
    pub description: Option<String>,
    pub terms_and_conditions: Option<String>,
    pub sign_up_option: SignUpOption,
    pub created_on: i64,
    pub updated_on: i64,
}

impl From<LegacyRewardScheme> for RewardScheme {
    fn from(old: LegacyRewardScheme) -> RewardScheme {
        RewardScheme {
            id: old.id,
            tenant: old.tenant,
            name: old.name,
            description: old.description,
            terms_and_conditions: old.terms_and_conditions,
            sign_up_option: old.sign_up_option,
            created_on: old.created_on,
            updated_on: old.updated_on,
            sign_up_method: None,
        }
    }
}

/// A transfer record in any layout it was written in.
pub fn decode_transfer(bytes: &[u8]) -> Result<crate::domain::transfer::TransferRecord, CodecError> {
    use crate::domain::transfer::{TransferRecord, TransferRecordBeforePools};
    decode::<TransferRecord>(bytes).or_else(|_| decode::<TransferRecordBeforePools>(bytes).map(TransferRecord::from))
}

/// A purchase record in any layout it was ever written in, newest first (postcard reads a
/// prefix of a longer record without complaint, so an older layout is tried only when the
/// newer one runs out of bytes).
pub fn decode_purchase(bytes: &[u8]) -> Result<PurchaseRecord, CodecError> {
    decode::<PurchaseRecord>(bytes)
        .or_else(|_| decode::<LegacyPurchaseRecordReturned>(bytes).map(PurchaseRecord::from))
        .or_else(|_| decode::<LegacyPurchaseRecordExplained>(bytes).map(PurchaseRecord::from))
        .or_else(|_| decode::<LegacyPurchaseRecordAt>(bytes).map(PurchaseRecord::from))
        .or_else(|_| decode::<LegacyPurchaseRecord>(bytes).map(PurchaseRecord::from))
}

/// The layout of `RewardOffer` before the rules engine: a percentage or fixed award of the
/// purchase total, for everyone, everywhere (a prefix of today's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyRewardOffer {
    pub id: OfferId,
    pub name: String,
    pub state: OfferState,
    pub available_from: Option<i64>,
    pub available_to: Option<i64>,
    pub award: AwardRule,
    pub created_on: i64,
    pub updated_on: i64,
}

impl From<LegacyRewardOffer> for RewardOffer {
    fn from(old: LegacyRewardOffer) -> RewardOffer {
        RewardOffer {
            id: old.id,
            name: old.name,
            state: old.state,
            available_from: old.available_from,
            available_to: old.available_to,
            award: old.award,
            created_on: old.created_on,
            updated_on: old.updated_on,
            terms: OfferTerms::default(),
        }
    }
}

/// The layout of `OfferTerms` from the rules engine until subscription milestones (a
/// prefix of today's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyOfferTerms {
    pub owner: Option<OrganisationId>,
    pub short_description: Option<String>,
    pub long_description: Option<String>,
    pub terms_and_conditions: Option<String>,
    pub goal: OfferGoal,
    pub offer_type: OfferType,
    pub is_featured: bool,
    pub performance_enabled: bool,
    pub targets: Targets,
    pub scheme: Option<SchemeId>,
    pub schedule: Option<Schedule>,
    pub segment: Vec<SegmentCondition>,
    pub first_purchase_only: bool,
    #[serde(with = "crate::domain::money::exact_option_decimal")]
    pub minimum_spend: Option<Decimal>,
    pub products: Option<ProductFilter>,
    pub caps: Caps,
    pub destination: Destination,
    pub combination: Combination,
}

/// The layout of `RewardOffer` from the rules engine until subscription milestones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyRulesOffer {
    pub id: OfferId,
    pub name: String,
    pub state: OfferState,
    pub available_from: Option<i64>,
    pub available_to: Option<i64>,
    pub award: AwardRule,
    pub created_on: i64,
    pub updated_on: i64,
    pub terms: LegacyOfferTerms,
}

impl From<LegacyRulesOffer> for RewardOffer {
    /// No milestone: it rewards any purchase its conditions allow, as it did.
    fn from(old: LegacyRulesOffer) -> RewardOffer {
        let t = old.terms;
        RewardOffer {
            id: old.id,
            name: old.name,
            state: old.state,
            available_from: old.available_from,
            available_to: old.available_to,
            award: old.award,
            created_on: old.created_on,
            updated_on: old.updated_on,
            terms: OfferTerms {
                owner: t.owner,
                short_description: t.short_description,
                long_description: t.long_description,
                terms_and_conditions: t.terms_and_conditions,
                goal: t.goal,
                offer_type: t.offer_type,
                is_featured: t.is_featured,
                performance_enabled: t.performance_enabled,
                targets: t.targets,
                scheme: t.scheme,
                schedule: t.schedule,
                segment: t.segment,
                first_purchase_only: t.first_purchase_only,
                minimum_spend: t.minimum_spend,
                products: t.products,
                caps: t.caps,
                destination: t.destination,
                combination: t.combination,
                maturity: None,
            },
        }
    }
}

/// An offer in whichever layout it was written: today's, the rules engine's, or the first.
/// Each older layout is a prefix of the next, so the newest that decodes is the one.
pub fn decode_offer(bytes: &[u8]) -> Result<RewardOffer, CodecError> {
    decode::<RewardOffer>(bytes)
        .or_else(|_| decode::<LegacyRulesOffer>(bytes).map(RewardOffer::from))
        .or_else(|_| decode::<LegacyRewardOffer>(bytes).map(RewardOffer::from))
}

/// The layout of `Product` before taxes and availability (the catalogue's first slice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyProduct {
    pub id: crate::domain::ids::ProductId,
    pub tenant: Tenant,
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub product_type: crate::domain::ids::ProductClassId,
    pub classification: crate::domain::product::ProductClassification,
    pub composition: crate::domain::product::Composition,
    pub family: Option<crate::domain::ids::ProductClassId>,
    pub brand: Option<crate::domain::ids::ProductClassId>,
    pub categories: Vec<crate::domain::ids::ProductClassId>,
    pub is_modifier: bool,
    pub variant_of: Option<crate::domain::ids::ProductId>,
    pub components: Vec<crate::domain::ids::ProductId>,
    pub prices: Vec<crate::domain::product::Price>,
    pub cross_sells: Vec<crate::domain::ids::ProductId>,
    pub up_sells: Vec<crate::domain::ids::ProductId>,
    pub enabled: bool,
    pub owner: OrganisationId,
    pub created_on: i64,
    pub updated_on: i64,
}

impl From<LegacyProduct> for crate::domain::product::Product {
    /// Untaxed, sold everywhere.
    fn from(old: LegacyProduct) -> Self {
        crate::domain::product::Product {
            id: old.id,
            tenant: old.tenant,
            sku: old.sku,
            name: old.name,
            description: old.description,
            product_type: old.product_type,
            classification: old.classification,
            composition: old.composition,
            family: old.family,
            brand: old.brand,
            categories: old.categories,
            is_modifier: old.is_modifier,
            variant_of: old.variant_of,
            components: old.components,
            prices: old.prices,
            cross_sells: old.cross_sells,
            up_sells: old.up_sells,
            enabled: old.enabled,
            owner: old.owner,
            created_on: old.created_on,
            updated_on: old.updated_on,
            tax_rate: None,
            available_at: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{ContactId, ReferenceNumber, WalletId};
    use crate::domain::organisation::ApiKeyState;
    use crate::domain::purchase::{SaleOrganisation, TransactionAmounts};
    use crate::storage::codec::encode;
    use rust_decimal::Decimal;

    #[test]
    fn api_keys_of_before_ids_read_with_an_id_stable_per_key() {
        let legacy = LegacyApiKeyRecord {
            organisation: OrganisationId::random(),
            mode: Mode::Live,
            kind: ApiKeyKind::Secret,
            created_on: 5,
        };
        // Old bytes never pass for the new layout (they end where its new fields begin).
        let bytes = encode(&legacy);
        assert!(decode::<ApiKeyRecord>(&bytes).is_err());
        let read: LegacyApiKeyRecord = decode(&bytes).unwrap();
        let record = read.upgrade(&[7; 32]);
        assert_eq!(record.id, legacy.upgrade(&[7; 32]).id);
        assert_eq!(record.state(100), ApiKeyState::Active);
    }

    #[test]
    fn organisations_of_before_taps_read_without_taps() {
        let old = LegacyOrganisation {
            id: OrganisationId::random(),
            name: "Old".into(),
            organisation_type: OrganisationType::Venue,
            parent: Some(OrganisationId::random()),
            default_currency: Currency::parse("EUR").unwrap(),
            created_on: 9,
        };
        let bytes = encode(&old);
        assert!(decode::<Organisation>(&bytes).is_err());
        let read = Organisation::from(decode::<LegacyOrganisation>(&bytes).unwrap());
        assert!(read.taps.is_empty());
        assert_eq!((read.name.as_str(), read.updated_on), ("Old", 9));
    }

    fn legacy() -> LegacyPurchaseRecord {
        let tenant = Tenant {
            organisation: OrganisationId::random(),
            mode: Mode::Live,
        };
        LegacyPurchaseRecord {
            id: PurchaseId::random(),
            tenant,
            request: PurchaseRequest {
                reference_number: ReferenceNumber::parse("R-1").unwrap(),
                contact_id: ContactId::random(),
                wallet_id: WalletId::random(),
                currency: Currency::parse("EUR").unwrap(),
                amounts: TransactionAmounts {
                    net: None,
                    tax: None,
                    discount: None,
                    total: Decimal::TEN,
                },
                date: None,
                products: vec![],
                spend: None,
            },
            body_hash: [3; 32],
            state: PurchaseState::Posted,
            date: 7,
            posted_on: 7,
            cancelled_on: None,
            effects: PurchaseEffects::default(),
            balances_after: Balances::default(),
        }
    }

    #[test]
    fn records_of_before_the_sale_organisation_read_as_made_at_the_business() {
        let old = legacy();
        let bytes = encode(&old);
        assert!(
            decode::<PurchaseRecord>(&bytes).is_err(),
            "old bytes never pass for the new layout"
        );
        let upgraded = decode_purchase(&bytes).unwrap();
        assert_eq!(upgraded.organisation, None);
        assert_eq!(upgraded.organisation_id(), old.tenant.organisation);
        assert_eq!(upgraded.request, old.request);
        let mut new = upgraded.clone();
        new.organisation = Some(SaleOrganisation {
            id: OrganisationId::random(),
            tap: None,
        });
        assert_eq!(decode::<PurchaseRecord>(&encode(&new)).unwrap(), new);
    }

    #[test]
    fn records_of_before_explanations_read_without_them() {
        let old = legacy();
        let at = LegacyPurchaseRecordAt {
            id: old.id,
            tenant: old.tenant,
            request: old.request.clone(),
            body_hash: old.body_hash,
            state: old.state,
            date: old.date,
            posted_on: old.posted_on,
            cancelled_on: None,
            effects: PurchaseEffects::default(),
            balances_after: Balances::default(),
            organisation: Some(SaleOrganisation {
                id: OrganisationId::random(),
                tap: None,
            }),
        };
        let bytes = encode(&at);
        assert!(decode::<PurchaseRecord>(&bytes).is_err());
        let read = decode_purchase(&bytes).unwrap();
        assert_eq!(read.organisation, at.organisation);
        assert!(read.classes.is_empty() && read.explanations.is_empty());
        let mut new = read.clone();
        new.classes = vec![crate::domain::offer::LineClass {
            family: Some("F".into()),
            ..Default::default()
        }];
        assert_eq!(decode_purchase(&encode(&new)).unwrap(), new);

        // Classes and explanations, before returns: all of it reads, with no returns.
        let explained = LegacyPurchaseRecordExplained {
            at: at.clone(),
            classes: new.classes.clone(),
            explanations: vec![],
        };
        let bytes = encode(&explained);
        assert!(decode::<PurchaseRecord>(&bytes).is_err());
        let read = decode_purchase(&bytes).unwrap();
        assert_eq!(read.classes, new.classes);
        assert!(read.returns.is_empty());

        // With returns, before purchases paid with a pass: all of it reads, with no pass.
        let returned = LegacyPurchaseRecordReturned {
            explained,
            returns: vec![],
        };
        let bytes = encode(&returned);
        assert!(decode::<PurchaseRecord>(&bytes).is_err());
        let read = decode_purchase(&bytes).unwrap();
        assert_eq!(read.classes, new.classes);
        assert_eq!(read.pass, None);
        let mut paid = read.clone();
        paid.pass = Some(crate::domain::purchase::PassLink {
            id: crate::domain::ids::PassId::random(),
            code_last4: "WXYZ".into(),
            unlocks: None,
        });
        assert_eq!(decode_purchase(&encode(&paid)).unwrap(), paid);
    }

    #[test]
    fn transfers_of_before_pools_read_without_one() {
        use crate::domain::transfer::{PoolTarget, TransferRecord, TransferRecordBeforePools};
        let old = TransferRecordBeforePools {
            id: crate::domain::ids::TransferId::random(),
            tenant: Tenant {
                organisation: OrganisationId::random(),
                mode: Mode::Live,
            },
            origin: WalletId::random(),
            contact: ContactId::random(),
            destination: WalletId::random(),
            currency: Currency::parse("EUR").unwrap(),
            amount: Decimal::TEN,
            code: "1234567890123456".into(),
            notes: None,
            transfer_date: None,
            created_on: 5,
            body_hash: [7; 32],
        };
        let bytes = encode(&old);
        assert!(decode::<TransferRecord>(&bytes).is_err());
        let read = decode_transfer(&bytes).unwrap();
        assert_eq!((read.id, read.amount, read.pool.clone()), (old.id, old.amount, None));
        let mut pooled = read;
        pooled.pool = Some(PoolTarget {
            id: crate::domain::ids::CommercePoolId::random(),
            conditions: Default::default(),
        });
        assert_eq!(decode_transfer(&encode(&pooled)).unwrap(), pooled);
    }

    #[test]
    fn schemes_of_before_closed_loops_read_without_a_method() {
        let old = LegacyRewardScheme {
            id: SchemeId::random(),
            tenant: Tenant {
                organisation: OrganisationId::random(),
                mode: Mode::Live,
            },
            name: "Club".into(),
            description: None,
            terms_and_conditions: Some("T".into()),
            sign_up_option: SignUpOption::SelfSignUp,
            created_on: 1,
            updated_on: 2,
        };
        let bytes = encode(&old);
        assert!(decode::<RewardScheme>(&bytes).is_err());
        let read = RewardScheme::from(decode::<LegacyRewardScheme>(&bytes).unwrap());
        assert_eq!((read.name.as_str(), read.sign_up_method), ("Club", None));
    }

    #[test]
    fn offers_of_before_the_rules_engine_read_with_default_terms() {
        use crate::domain::offer::AwardKind;
        let old = LegacyRewardOffer {
            id: OfferId::random(),
            name: "Ten percent".into(),
            state: OfferState::Active,
            available_from: Some(1),
            available_to: None,
            award: AwardRule {
                kind: AwardKind::Percentage,
                value: Decimal::TEN,
                expiry_days: Some(30),
            },
            created_on: 3,
            updated_on: 4,
        };
        let bytes = encode(&old);
        assert!(decode::<RewardOffer>(&bytes).is_err());
        let read = RewardOffer::from(decode::<LegacyRewardOffer>(&bytes).unwrap());
        assert_eq!(read.terms, OfferTerms::default());
        assert_eq!((read.award, read.updated_on), (old.award, 4));
    }

    #[test]
    fn offers_of_before_subscription_milestones_read_without_one() {
        use crate::domain::offer::{AwardKind, Maturity};
        let terms = LegacyOfferTerms {
            owner: None,
            short_description: Some("Short".into()),
            long_description: None,
            terms_and_conditions: None,
            goal: OfferGoal::Spend,
            offer_type: OfferType::SubscriptionMaturity,
            is_featured: true,
            performance_enabled: false,
            targets: Targets::default(),
            scheme: None,
            schedule: None,
            segment: vec![SegmentCondition::LanguageCode(vec!["en".into()])],
            first_purchase_only: true,
            minimum_spend: Some(Decimal::TEN),
            products: None,
            caps: Caps::default(),
            destination: Destination::InstantDiscount,
            combination: Combination::BestOf("g".into()),
        };
        let old = LegacyRulesOffer {
            id: OfferId::random(),
            name: "Loyal".into(),
            state: OfferState::Active,
            available_from: None,
            available_to: Some(9),
            award: AwardRule {
                kind: AwardKind::Fixed,
                value: Decimal::ONE,
                expiry_days: None,
            },
            created_on: 3,
            updated_on: 4,
            terms: terms.clone(),
        };
        let bytes = encode(&old);
        assert!(decode::<RewardOffer>(&bytes).is_err());
        let read = decode_offer(&bytes).unwrap();
        assert_eq!(read.terms.maturity, None);
        assert_eq!(
            (
                read.terms.first_purchase_only,
                read.terms.minimum_spend,
                &read.terms.destination
            ),
            (true, Some(Decimal::TEN), &Destination::InstantDiscount)
        );
        assert_eq!((read.name.as_str(), read.available_to), ("Loyal", Some(9)));
        // Today's layout reads as written; the first layout still reads too.
        let mut new = read.clone();
        new.terms.maturity = Some(Maturity {
            cycle: 12,
            recurring: true,
        });
        assert_eq!(decode_offer(&encode(&new)).unwrap(), new);
        let first = LegacyRewardOffer {
            id: old.id,
            name: old.name.clone(),
            state: old.state,
            available_from: None,
            available_to: None,
            award: old.award.clone(),
            created_on: 1,
            updated_on: 2,
        };
        assert_eq!(decode_offer(&encode(&first)).unwrap().terms, OfferTerms::default());
    }

    #[test]
    fn products_of_the_first_catalogue_read_untaxed_and_sold_everywhere() {
        use crate::domain::ids::{ProductClassId, ProductId};
        use crate::domain::product::{Composition, Product, ProductClassification};
        let old = LegacyProduct {
            id: ProductId::random(),
            tenant: Tenant {
                organisation: OrganisationId::random(),
                mode: Mode::Live,
            },
            sku: "LATTE".into(),
            name: "Latte".into(),
            description: None,
            product_type: ProductClassId::random(),
            classification: ProductClassification::NonTraceableGood,
            composition: Composition::Flat,
            family: None,
            brand: None,
            categories: Vec::new(),
            is_modifier: false,
            variant_of: None,
            components: Vec::new(),
            prices: Vec::new(),
            cross_sells: Vec::new(),
            up_sells: Vec::new(),
            enabled: true,
            owner: OrganisationId::random(),
            created_on: 1,
            updated_on: 2,
        };
        let bytes = encode(&old);
        assert!(decode::<Product>(&bytes).is_err());
        let read = Product::from(decode::<LegacyProduct>(&bytes).unwrap());
        assert_eq!(
            (read.sku.as_str(), read.tax_rate, read.available_at.len()),
            ("LATTE", None, 0)
        );
    }
}
