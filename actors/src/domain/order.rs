//! Orders: a contact orders catalogue products from one of the business's merchants or
//! venues, for delivery, pick-up or a direct sale. An order is previewed first (an order
//! estimate: its lines priced and taxed, the delivery fee, the awards its purchase would
//! earn and the wallet funds it would use) and submitted from that preview once.
//!
//! Taxes (`apply_tax`) are worked out per line at the product's rate, rounded half away
//! from zero to the currency's minor units:
//!
//! | tax model     | price gives | net               | tax                          | total     |
//! |---------------|-------------|-------------------|------------------------------|-----------|
//! | TAX_EXCLUSIVE | the net     | price             | net × rate / 100             | net + tax |
//! | TAX_INCLUSIVE | the total   | total − tax       | total × rate / (100 + rate)  | price     |
//!
//! An order moves through its states by actions, as `TRANSITIONS` says; MARK_FAVORITE and
//! PRINT_ORDER leave the state where it is; anything else is refused.

use super::ids::{
    AccountId, ContactId, EstimateId, IntentId, OfferId, OrderEstimateId, OrderId, OrganisationId, PassId,
    PaymentMethodId, ProductId, PurchaseId, Tenant, TopUpId, WalletId,
};
use super::location::Address;
use super::money::Currency;
use super::offer::LineClass;
use super::product::{ProductClassification, TaxModel};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// How long an order estimate stands (that of the purchase estimate inside it).
pub const ORDER_ESTIMATE_TTL_S: i64 = super::estimate::ESTIMATE_TTL_S;
/// Most lines one order has (components and the delivery fee included).
pub const ORDER_LINES_MAX: usize = 100;
/// Longest note on an order or a line, in characters.
pub const ORDER_NOTE_MAX: usize = 1_000;

coded!(
    SupplyMethod {
        Delivery = "DELIVERY",
        PickUp = "PICK_UP",
        DirectSale = "DIRECT_SALE",
    }
);

coded!(
    DeliveryMethod {
        DirectDelivery = "DIRECT_DELIVERY",
        CourierService = "COURIER_SERVICE",
        PickupPoint = "PICKUP_POINT",
    }
);

coded!(
    OrderState {
        New = "NEW",
        InProgress = "IN_PROGRESS",
        Completed = "COMPLETED",
        Cancelled = "CANCELLED",
        OnHold = "ON_HOLD",
    }
);

coded!(
    OrderAction {
        StartProgress = "START_PROGRESS",
        Complete = "COMPLETE",
        Cancel = "CANCEL",
        MarkFavorite = "MARK_FAVORITE",
        PrintOrder = "PRINT_ORDER",
        OrderProvision = "ORDER_PROVISION",
    }
);

coded!(
    /// How the amount an order leaves due is paid, as the contract names the ways.
    OrderPayment {
        Card = "CARD",
        AccountDebit = "ACCOUNT_DEBIT",
        Wallet = "WALLET",
        CrmWallet = "CRM_WALLET",
        Cash = "CASH",
        Cheque = "CHEQUE",
    }
);

impl OrderPayment {
    /// Paid from the contact's wallet in full when submitted.
    pub fn from_wallet(self) -> bool {
        matches!(self, OrderPayment::Wallet | OrderPayment::CrmWallet)
    }

    /// Collected when the order is handed over (what is left after wallet funds).
    pub fn collected(self) -> bool {
        matches!(self, OrderPayment::Cash | OrderPayment::Cheque)
    }

    /// Charged to one of the contact's payment methods (a card, a bank account) when
    /// submitted: what is left after wallet funds tops the wallet up, and the order's
    /// purchase spends it with them.
    pub fn by_method(self) -> bool {
        matches!(self, OrderPayment::Card | OrderPayment::AccountDebit)
    }
}

coded!(
    TaxCode {
        Vat = "VAT",
        TaxExempt = "TAX_EXEMPT",
        SalesTax = "SALES_TAX",
        Other = "OTHER",
    }
);

/// A product's tax.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxRate {
    pub name: String,
    pub code: TaxCode,
    /// 0 to 100.
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub percentage: Decimal,
}

/// A line's (or an order's) money, in the currency's minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LineAmounts {
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub net: Decimal,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub tax: Decimal,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub total: Decimal,
}

impl LineAmounts {
    /// The sum of two, `None` on overflow.
    pub fn plus(self, other: LineAmounts) -> Option<LineAmounts> {
        Some(LineAmounts {
            net: self.net.checked_add(other.net)?,
            tax: self.tax.checked_add(other.tax)?,
            total: self.total.checked_add(other.total)?,
        })
    }
}

/// What a price of `amount` comes to with `rate` under `model` (the table above); `None`
/// on overflow. No rate: no tax.
pub fn apply_tax(amount: Decimal, rate: Option<&TaxRate>, model: TaxModel, minor_units: u32) -> Option<LineAmounts> {
    let percentage = rate.map_or(Decimal::ZERO, |rate| rate.percentage);
    let round = |value: Decimal| value.round_dp_with_strategy(minor_units, RoundingStrategy::MidpointAwayFromZero);
    let hundred = Decimal::ONE_HUNDRED;
    match model {
        TaxModel::Exclusive => {
            let tax = round(amount.checked_mul(percentage)?.checked_div(hundred)?);
            Some(LineAmounts {
                net: amount,
                tax,
                total: amount.checked_add(tax)?,
            })
        }
        TaxModel::Inclusive => {
            let tax = round(
                amount
                    .checked_mul(percentage)?
                    .checked_div(hundred.checked_add(percentage)?)?,
            );
            Some(LineAmounts {
                net: amount.checked_sub(tax)?,
                tax,
                total: amount,
            })
        }
    }
}

/// Every move an action makes (from, action, to); MARK_FAVORITE and PRINT_ORDER stay.
pub const TRANSITIONS: [(OrderState, OrderAction, OrderState); 7] = [
    (OrderState::New, OrderAction::StartProgress, OrderState::InProgress),
    (OrderState::OnHold, OrderAction::StartProgress, OrderState::InProgress),
    (OrderState::New, OrderAction::Complete, OrderState::Completed),
    (OrderState::InProgress, OrderAction::Complete, OrderState::Completed),
    (OrderState::New, OrderAction::Cancel, OrderState::Cancelled),
    (OrderState::InProgress, OrderAction::Cancel, OrderState::Cancelled),
    (OrderState::OnHold, OrderAction::Cancel, OrderState::Cancelled),
];

/// The state `action` takes an order in `from` to, or why it cannot.
pub fn next_state(from: OrderState, action: OrderAction) -> Result<OrderState, String> {
    match action {
        OrderAction::MarkFavorite | OrderAction::PrintOrder => Ok(from),
        OrderAction::OrderProvision => Err("no provisioner (TWINSOFT, ALOHA) is set up for this business".into()),
        _ => TRANSITIONS
            .iter()
            .find(|(state, taken, _)| *state == from && *taken == action)
            .map(|(_, _, to)| *to)
            .ok_or_else(|| format!("a {} order cannot be sent {}", from.code(), action.code())),
    }
}

/// Whether the contact itself may take `action` on its order in `state`: mark it a
/// favourite, print it, and cancel it while the business has not started on it. The rest
/// is the business's (the back office).
pub fn contact_may(action: OrderAction, state: OrderState) -> bool {
    match action {
        OrderAction::MarkFavorite | OrderAction::PrintOrder => true,
        OrderAction::Cancel => state == OrderState::New,
        _ => false,
    }
}

/// How a merchant or venue takes orders, as the back office sets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FulfilmentTerms {
    pub supply_methods: Vec<SupplyMethod>,
    /// How it delivers (when it delivers).
    pub delivery_methods: Vec<DeliveryMethod>,
    /// How far from it it delivers, in metres.
    pub delivery_radius_m: Option<u32>,
    /// The product charged for a delivery (priced and taxed like any product).
    pub delivery_fee: Option<ProductId>,
    /// The least an order's total may be.
    #[serde(with = "crate::domain::money::exact_option_decimal")]
    pub minimum_amount: Option<Decimal>,
    /// How long it takes to make an order ready (and delivered), in minutes.
    pub minutes_to_fulfil: u32,
    pub payments: Vec<OrderPayment>,
    pub updated_on: i64,
}

impl FulfilmentTerms {
    pub fn supplies(&self, method: SupplyMethod) -> bool {
        self.supply_methods.contains(&method)
    }
}

/// One priced line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub product: ProductId,
    pub sku: String,
    pub name: String,
    pub classification: ProductClassification,
    pub quantity: u32,
    /// What the quantity costs by the price's model, in its tax model.
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub pricing: Decimal,
    pub tax_model: TaxModel,
    pub tax_rate: Option<TaxRate>,
    pub amounts: LineAmounts,
    /// The line's product is a component or modifier of this line's product.
    pub bundle: Option<ProductId>,
    /// The line is the delivery fee.
    pub is_fee: bool,
    /// The family, brand and category names offers read.
    pub class: LineClass,
    pub notes: Option<String>,
}

impl OrderLine {
    /// The unit price: the pricing over the quantity, to the currency's minor units.
    pub fn unit_price(&self, minor_units: u32) -> Decimal {
        (self.pricing / Decimal::from(self.quantity.max(1)))
            .round_dp_with_strategy(minor_units, RoundingStrategy::MidpointAwayFromZero)
    }
}

/// The sum of lines; `None` on overflow.
pub fn sum_lines(lines: &[OrderLine]) -> Option<LineAmounts> {
    lines
        .iter()
        .try_fold(LineAmounts::default(), |sum, line| sum.plus(line.amounts))
}

coded!(
    /// Why a product of an order cannot be had where it is ordered from.
    Unavailability {
        Availability = "AVAILABILITY",
        Stock = "STOCK",
    }
);

/// What an order would be, as previewed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderEstimate {
    pub id: OrderEstimateId,
    pub tenant: Tenant,
    pub contact: ContactId,
    pub wallet: WalletId,
    pub account: Option<AccountId>,
    pub currency: Currency,
    pub supply_method: SupplyMethod,
    pub delivery_method: Option<DeliveryMethod>,
    pub fulfilled_by: OrganisationId,
    /// Where to deliver it.
    pub deliver_to: Option<Address>,
    pub lines: Vec<OrderLine>,
    pub totals: LineAmounts,
    /// From the wallet (held when `held`).
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub wallet_funds: Decimal,
    pub held: bool,
    pub payment: OrderPayment,
    /// The purchase that earns its awards (none for an order of nothing to pay).
    pub purchase_estimate: Option<EstimateId>,
    #[serde(with = "crate::domain::money::exact_option_decimal")]
    pub minimum_amount: Option<Decimal>,
    /// Products the organisation does not sell (nothing may be ordered while any are).
    pub unavailable: Vec<(ProductId, Unavailability)>,
    pub minutes_to_fulfil: u32,
    pub notes: Option<String>,
    pub created_on: i64,
    pub expires_at: i64,
    /// Taken off by the offers that discount a purchase at once (INSTANT_DISCOUNT); the
    /// fields from here on were appended (earlier layouts read without them: see
    /// `storage::legacy_orders`).
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub discount: Decimal,
    /// The promotion pass presented, and the offer it unlocks for the order's purchase.
    pub promotion: Option<PromotionUse>,
}

/// What pays an order's amount due when it is charged (CARD, ACCOUNT_DEBIT): one of the
/// contact's payment methods, or a payment intent the app set up for that amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderCharge {
    Method(PaymentMethodId),
    Intent(IntentId),
}

/// A promotion pass an order presents: used (counted) when the order is submitted, it
/// unlocks its plan's offer for the order's purchase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromotionUse {
    pub pass: PassId,
    pub code_last4: String,
    pub offer: OfferId,
}

impl OrderEstimate {
    /// What is left to pay after discounts and wallet funds.
    pub fn amount_due(&self) -> Decimal {
        (self.totals.total - self.discount - self.wallet_funds).max(Decimal::ZERO)
    }

    /// What a payment method (or intent) must be charged when the order is submitted: the
    /// amount due of an order paid by CARD or ACCOUNT_DEBIT, when there is one.
    pub fn to_charge(&self) -> Option<Decimal> {
        let due = self.amount_due();
        (self.payment.by_method() && due > Decimal::ZERO).then_some(due)
    }

    pub fn below_minimum(&self) -> bool {
        self.minimum_amount.is_some_and(|minimum| self.totals.total < minimum)
    }

    /// Whether it may be submitted (expiry aside).
    pub fn ordering_allowed(&self) -> bool {
        self.unavailable.is_empty() && !self.below_minimum()
    }
}

/// A submitted order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub tenant: Tenant,
    pub contact: ContactId,
    pub estimate: OrderEstimateId,
    /// The purchase its awards and wallet funds went through.
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
    /// As its estimate said (appended, as there).
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub discount: Decimal,
    pub promotion: Option<PromotionUse>,
}

impl Order {
    /// The order submitted from `estimate` has the estimate's id: submitting it twice finds
    /// the first.
    pub fn id_for(estimate: OrderEstimateId) -> OrderId {
        OrderId(estimate.0)
    }

    /// The number people read: `O` and twelve digits of the id.
    pub fn number_for(id: OrderId) -> String {
        format!("O{:012}", id.0.as_u128() % 1_000_000_000_000)
    }

    /// The reference number of the purchase an order posts.
    pub fn purchase_reference(id: OrderId) -> String {
        format!("ORDER-{}", id.0.simple())
    }

    /// The top-up that charges order `id`'s amount due as `charge` says: its id follows
    /// from both, so a retry charges (and finds) the same one, and another payment method
    /// or intent is another charge.
    pub fn top_up_for(id: OrderId, charge: OrderCharge) -> TopUpId {
        let mut name = id.0.as_bytes().to_vec();
        match charge {
            OrderCharge::Method(method) => name.extend_from_slice(method.0.as_bytes()),
            OrderCharge::Intent(intent) => {
                name.extend_from_slice(b"intent");
                name.extend_from_slice(intent.0.as_bytes());
            }
        }
        TopUpId(uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, &name))
    }

    pub fn amount_due(&self) -> Decimal {
        (self.totals.total - self.discount - self.wallet_funds).max(Decimal::ZERO)
    }

    /// Its number, a function of its id.
    pub fn number(&self) -> String {
        Order::number_for(self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn vat(percentage: &str) -> TaxRate {
        TaxRate {
            name: "VAT".into(),
            code: TaxCode::Vat,
            percentage: d(percentage),
        }
    }

    #[test]
    fn taxes_by_model_rounded_to_minor_units() {
        // (amount, rate, model, net, tax, total)
        type Row = (
            &'static str,
            Option<&'static str>,
            TaxModel,
            &'static str,
            &'static str,
            &'static str,
        );
        let table: &[Row] = &[
            ("10.00", Some("19"), TaxModel::Exclusive, "10.00", "1.90", "11.90"),
            ("11.90", Some("19"), TaxModel::Inclusive, "10.00", "1.90", "11.90"),
            ("10.00", Some("19"), TaxModel::Inclusive, "8.40", "1.60", "10.00"),
            ("0.05", Some("10"), TaxModel::Exclusive, "0.05", "0.01", "0.06"),
            ("0.04", Some("12.5"), TaxModel::Exclusive, "0.04", "0.01", "0.05"),
            ("0.03", Some("12.5"), TaxModel::Exclusive, "0.03", "0.00", "0.03"),
            ("9.99", None, TaxModel::Exclusive, "9.99", "0", "9.99"),
            ("9.99", None, TaxModel::Inclusive, "9.99", "0", "9.99"),
            ("100", Some("0"), TaxModel::Inclusive, "100", "0", "100"),
            ("5.00", Some("100"), TaxModel::Inclusive, "2.50", "2.50", "5.00"),
        ];
        for (amount, rate, model, net, tax, total) in table {
            let rate = rate.map(vat);
            let got = apply_tax(d(amount), rate.as_ref(), *model, 2).unwrap();
            assert_eq!(
                (got.net, got.tax, got.total),
                (d(net), d(tax), d(total)),
                "{amount} at {rate:?} {model:?}"
            );
            assert_eq!(got.net + got.tax, got.total);
        }
        // Minor units of the currency: none for JPY.
        let got = apply_tax(d("1000"), Some(&vat("8")), TaxModel::Inclusive, 0).unwrap();
        assert_eq!((got.net, got.tax), (d("926"), d("74")));
        assert!(apply_tax(Decimal::MAX, Some(&vat("19")), TaxModel::Exclusive, 2).is_none());
    }

    #[test]
    fn actions_follow_the_table() {
        use OrderAction::*;
        use OrderState::*;
        // (from, action, to or refused)
        let table: &[(OrderState, OrderAction, Option<OrderState>)] = &[
            (New, StartProgress, Some(InProgress)),
            (New, Complete, Some(Completed)),
            (New, Cancel, Some(Cancelled)),
            (InProgress, Complete, Some(Completed)),
            (InProgress, Cancel, Some(Cancelled)),
            (InProgress, StartProgress, None),
            (OnHold, StartProgress, Some(InProgress)),
            (OnHold, Complete, None),
            (Completed, Cancel, None),
            (Completed, StartProgress, None),
            (Cancelled, Complete, None),
            (Cancelled, Cancel, None),
            (Completed, MarkFavorite, Some(Completed)),
            (Cancelled, PrintOrder, Some(Cancelled)),
            (New, OrderProvision, None),
        ];
        for (from, action, to) in table {
            assert_eq!(next_state(*from, *action).ok(), *to, "{from:?} {action:?}");
        }
        assert!(contact_may(Cancel, New));
        assert!(!contact_may(Cancel, InProgress));
        assert!(!contact_may(Complete, New));
        assert!(!contact_may(StartProgress, New));
        assert!(contact_may(MarkFavorite, Completed));
    }

    #[test]
    fn an_order_number_is_its_ids() {
        let id = OrderId(uuid::Uuid::from_u128(1_234_567_890_123_456));
        assert_eq!(Order::number_for(id), "O567890123456");
        assert_eq!(Order::id_for(OrderEstimateId(id.0)), id);
    }
}
