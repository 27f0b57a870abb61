//! Layouts of order records written before discounts and promotion passes, and how each
//! reads today: without a discount, presenting no pass. Each is a prefix of today's, so
//! old bytes never pass for the new layout (see `legacy`).

use crate::domain::ids::{
    AccountId, ContactId, EstimateId, OrderEstimateId, OrderId, OrganisationId, ProductId, PurchaseId, Tenant, WalletId,
};
use crate::domain::location::Address;
use crate::domain::money::Currency;
use crate::domain::order::{
    DeliveryMethod, LineAmounts, Order, OrderEstimate, OrderLine, OrderPayment, OrderState, SupplyMethod,
    Unavailability,
};
use crate::storage::codec::{decode, CodecError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `OrderEstimate` before discounts and promotion passes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegacyOrderEstimate {
    pub id: OrderEstimateId,
    pub tenant: Tenant,
    pub contact: ContactId,
    pub wallet: WalletId,
    pub account: Option<AccountId>,
    pub currency: Currency,
    pub supply_method: SupplyMethod,
    pub delivery_method: Option<DeliveryMethod>,
    pub fulfilled_by: OrganisationId,
    pub deliver_to: Option<Address>,
    pub lines: Vec<OrderLine>,
    pub totals: LineAmounts,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub wallet_funds: Decimal,
    pub held: bool,
    pub payment: OrderPayment,
    pub purchase_estimate: Option<EstimateId>,
    #[serde(with = "crate::domain::money::exact_option_decimal")]
    pub minimum_amount: Option<Decimal>,
    pub unavailable: Vec<(ProductId, Unavailability)>,
    pub minutes_to_fulfil: u32,
    pub notes: Option<String>,
    pub created_on: i64,
    pub expires_at: i64,
}

impl From<LegacyOrderEstimate> for OrderEstimate {
    fn from(old: LegacyOrderEstimate) -> Self {
        OrderEstimate {
            id: old.id,
            tenant: old.tenant,
            contact: old.contact,
            wallet: old.wallet,
            account: old.account,
            currency: old.currency,
            supply_method: old.supply_method,
            delivery_method: old.delivery_method,
            fulfilled_by: old.fulfilled_by,
            deliver_to: old.deliver_to,
            lines: old.lines,
            totals: old.totals,
            wallet_funds: old.wallet_funds,
            held: old.held,
            payment: old.payment,
            purchase_estimate: old.purchase_estimate,
            minimum_amount: old.minimum_amount,
            unavailable: old.unavailable,
            minutes_to_fulfil: old.minutes_to_fulfil,
            notes: old.notes,
            created_on: old.created_on,
            expires_at: old.expires_at,
            discount: Decimal::ZERO,
            promotion: None,
        }
    }
}

/// `Order` before discounts and promotion passes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegacyOrder {
    pub id: OrderId,
    pub tenant: Tenant,
    pub contact: ContactId,
    pub estimate: OrderEstimateId,
    pub purchase: Option<PurchaseId>,
    pub state: OrderState,
    pub is_favorite: bool,
    pub currency: Currency,
    pub supply_method: SupplyMethod,
    pub delivery_method: Option<DeliveryMethod>,
    pub fulfilled_by: OrganisationId,
    pub deliver_to: Option<Address>,
    pub lines: Vec<OrderLine>,
    pub totals: LineAmounts,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub wallet_funds: Decimal,
    pub payment: OrderPayment,
    pub notes: Option<String>,
    pub submitted_on: i64,
    pub estimated_fulfilment: i64,
    pub started_on: Option<i64>,
    pub completed_on: Option<i64>,
    pub cancelled_on: Option<i64>,
    pub updated_on: i64,
}

impl From<LegacyOrder> for Order {
    fn from(old: LegacyOrder) -> Self {
        Order {
            id: old.id,
            tenant: old.tenant,
            contact: old.contact,
            estimate: old.estimate,
            purchase: old.purchase,
            state: old.state,
            is_favorite: old.is_favorite,
            currency: old.currency,
            supply_method: old.supply_method,
            delivery_method: old.delivery_method,
            fulfilled_by: old.fulfilled_by,
            deliver_to: old.deliver_to,
            lines: old.lines,
            totals: old.totals,
            wallet_funds: old.wallet_funds,
            payment: old.payment,
            notes: old.notes,
            submitted_on: old.submitted_on,
            estimated_fulfilment: old.estimated_fulfilment,
            started_on: old.started_on,
            completed_on: old.completed_on,
            cancelled_on: old.cancelled_on,
            updated_on: old.updated_on,
            discount: Decimal::ZERO,
            promotion: None,
        }
    }
}

pub fn decode_order_estimate(bytes: &[u8]) -> Result<OrderEstimate, CodecError> {
    decode::<OrderEstimate>(bytes).or_else(|_| decode::<LegacyOrderEstimate>(bytes).map(OrderEstimate::from))
}

pub fn decode_order(bytes: &[u8]) -> Result<Order, CodecError> {
    decode::<Order>(bytes).or_else(|_| decode::<LegacyOrder>(bytes).map(Order::from))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::Mode;
    use crate::domain::order::{OrderLine, PromotionUse};
    use crate::storage::codec::encode;

    fn tenant() -> Tenant {
        Tenant {
            organisation: OrganisationId::random(),
            mode: Mode::Live,
        }
    }

    fn totals() -> LineAmounts {
        LineAmounts {
            net: Decimal::new(882, 2),
            tax: Decimal::new(168, 2),
            total: Decimal::new(1050, 2),
        }
    }

    fn legacy_order() -> LegacyOrder {
        LegacyOrder {
            id: OrderId(uuid::Uuid::new_v4()),
            tenant: tenant(),
            contact: ContactId::random(),
            estimate: OrderEstimateId(uuid::Uuid::new_v4()),
            purchase: None,
            state: OrderState::New,
            is_favorite: true,
            currency: Currency::parse("EUR").unwrap(),
            supply_method: SupplyMethod::PickUp,
            delivery_method: None,
            fulfilled_by: OrganisationId::random(),
            deliver_to: None,
            lines: Vec::<OrderLine>::new(),
            totals: totals(),
            wallet_funds: Decimal::new(400, 2),
            payment: OrderPayment::Card,
            notes: Some("no sugar".into()),
            submitted_on: 1,
            estimated_fulfilment: 2,
            started_on: None,
            completed_on: None,
            cancelled_on: Some(3),
            updated_on: 4,
        }
    }

    #[test]
    fn orders_of_before_discounts_read_undiscounted_presenting_no_pass() {
        let old = legacy_order();
        let bytes = encode(&old);
        assert!(decode::<Order>(&bytes).is_err());
        let read = decode_order(&bytes).unwrap();
        assert_eq!((read.discount, read.promotion.clone()), (Decimal::ZERO, None));
        assert_eq!(
            (read.is_favorite, read.cancelled_on, read.amount_due()),
            (true, Some(3), Decimal::new(650, 2))
        );
        let mut new = read;
        new.discount = Decimal::new(105, 2);
        new.promotion = Some(PromotionUse {
            pass: crate::domain::ids::PassId(uuid::Uuid::new_v4()),
            code_last4: "1234".into(),
            offer: crate::domain::ids::OfferId::random(),
        });
        assert_eq!(decode_order(&encode(&new)).unwrap(), new);
        assert_eq!(new.amount_due(), Decimal::new(545, 2));
    }

    #[test]
    fn order_estimates_of_before_discounts_read_undiscounted() {
        let old = LegacyOrderEstimate {
            id: OrderEstimateId(uuid::Uuid::new_v4()),
            tenant: tenant(),
            contact: ContactId::random(),
            wallet: WalletId::random(),
            account: None,
            currency: Currency::parse("EUR").unwrap(),
            supply_method: SupplyMethod::Delivery,
            delivery_method: Some(DeliveryMethod::DirectDelivery),
            fulfilled_by: OrganisationId::random(),
            deliver_to: None,
            lines: Vec::new(),
            totals: totals(),
            wallet_funds: Decimal::ZERO,
            held: false,
            payment: OrderPayment::Cash,
            purchase_estimate: None,
            minimum_amount: Some(Decimal::TEN),
            unavailable: Vec::new(),
            minutes_to_fulfil: 30,
            notes: None,
            created_on: 5,
            expires_at: 905,
        };
        let bytes = encode(&old);
        assert!(decode::<OrderEstimate>(&bytes).is_err());
        let read = decode_order_estimate(&bytes).unwrap();
        assert_eq!(
            (read.discount, read.promotion.clone(), read.expires_at),
            (Decimal::ZERO, None, 905)
        );
        assert_eq!(decode_order_estimate(&encode(&read)).unwrap(), read);
    }
}
