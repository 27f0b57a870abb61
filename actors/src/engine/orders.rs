//! Orders (`domain::order`): a contact previews an order (`estimate_order`: lines priced
//! and taxed from the catalogue, the delivery fee, and — through a purchase estimate the
//! wallet's actor evaluates — the awards it would earn and the wallet funds it would use,
//! held if asked), then submits the preview once (`submit_order`): the purchase is posted
//! from the purchase estimate under a reference the order's id decides, so a retry finds
//! the same purchase, and the order is written after it. Submitting twice gives one order;
//! an expired preview is refused. Orders move by actions (`order_action`); a cancelled
//! order's purchase is cancelled (awards taken back, wallet funds given back).

use super::error::short_text;
use super::estimates::EstimateOptions;
use super::fulfilment::FulfilmentQuery;
use super::{claim_key, invalid, ContactRef, Engine, EngineError, PurchaseSubmission, SaleAt, SubmittedAmounts};
use crate::domain::access::Caller;
use crate::domain::ids::{
    AccountId, ContactId, OrderEstimateId, OrderId, OrganisationId, ProductId, ReferenceNumber, Tenant,
};
use crate::domain::location::{Address, Point};
use crate::domain::money::{Amount, Currency};
use crate::domain::offer::LineClass;
use crate::domain::order::{
    apply_tax, contact_may, next_state, sum_lines, DeliveryMethod, Order, OrderAction, OrderCharge, OrderEstimate,
    OrderLine, OrderPayment, OrderState, SupplyMethod, Unavailability, ORDER_ESTIMATE_TTL_S, ORDER_LINES_MAX,
    ORDER_NOTE_MAX,
};
use crate::domain::payment::TopUpState;
use crate::domain::product::{ClassKind, Product, ProductClassification, QUANTITY_MAX};
use crate::domain::purchase::ProductLine;
use crate::domain::wallet::AwardRoute;
use crate::storage::WriteSet;
use rust_decimal::Decimal;

/// One item a contact orders, with its extras.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderItem {
    pub product: ProductId,
    pub quantity: Decimal,
    pub notes: Option<String>,
    /// The price plan (one of the product's prices) when not the default one.
    pub price_terms: Option<uuid::Uuid>,
    /// (product, quantity, price plan): a bundle's components or the product's modifiers.
    pub components: Vec<(ProductId, Decimal, Option<uuid::Uuid>)>,
}

/// An order to preview.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRequest {
    pub account: Option<AccountId>,
    pub supply_method: SupplyMethod,
    pub delivery_method: Option<DeliveryMethod>,
    pub fulfilled_by: Option<OrganisationId>,
    /// Where the contact is, or where to deliver.
    pub location: Option<Address>,
    pub payment: OrderPayment,
    pub use_wallet_funds: bool,
    pub wallet_funds_amount: Option<Decimal>,
    pub block_wallet_funds: bool,
    pub items: Vec<OrderItem>,
    pub notes: Option<String>,
    /// A promotion pass: its plan's offer is unlocked for the order's purchase.
    pub pass: Option<super::pass_payments::PassPayment>,
}

/// Which of a contact's orders to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// Any of these (all when empty).
    pub states: Vec<OrderState>,
    pub favourites_only: bool,
}

fn note(parameter: &'static str, value: Option<String>) -> Result<Option<String>, EngineError> {
    value
        .map(|value| short_text(parameter, &value, ORDER_NOTE_MAX))
        .transpose()
}

/// A whole quantity of 1 to `QUANTITY_MAX`.
fn units(parameter: &'static str, quantity: Decimal) -> Result<u32, EngineError> {
    let whole = quantity.normalize();
    if whole.scale() != 0 || whole < Decimal::ONE || whole > Decimal::from(QUANTITY_MAX) {
        return Err(invalid(
            parameter,
            format!("must be a whole number from 1 to {QUANTITY_MAX}"),
        ));
    }
    u32::try_from(whole.mantissa()).map_err(|_| invalid(parameter, "is too large"))
}

/// The top-up that charges an order's amount due: its id, the wallet it credits, the
/// amount, and what its journal says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeDue {
    pub top_up: crate::domain::ids::TopUpId,
    pub wallet: crate::domain::ids::WalletId,
    pub amount: Decimal,
    pub notes: String,
}

fn unnamed_charge(estimate: &OrderEstimate) -> EngineError {
    invalid(
        "payments.payment_method_id",
        format!(
            "the estimate is paid by {}: name the payment method or the payment intent",
            estimate.payment.code()
        ),
    )
}

/// Whether an order estimate may be submitted at `now`: not expired, every product sold
/// where it is fulfilled, the organisation's minimum reached.
fn submittable(estimate: &OrderEstimate, now: i64) -> Result<(), EngineError> {
    if now >= estimate.expires_at {
        return Err(invalid(
            "estimation_id",
            "the estimate has expired: estimate the order again",
        ));
    }
    if !estimate.unavailable.is_empty() {
        return Err(invalid(
            "estimation_id",
            "the organisation does not sell every product of the order",
        ));
    }
    if estimate.below_minimum() {
        return Err(invalid(
            "estimation_id",
            "the order's total is below the organisation's minimum (MINIMUM_COST)",
        ));
    }
    Ok(())
}

impl Engine {
    /// The family, brand and category offers read for `product`: what a till would send
    /// for the line, each class's code (its name when it has none).
    pub(super) fn line_class(&self, tenant: &Tenant, product: &Product) -> Result<LineClass, EngineError> {
        let name = |kind: ClassKind, id| -> Result<Option<String>, EngineError> {
            Ok(self
                .inner
                .store
                .product_class(tenant, kind, id)?
                .map(|class| class.code.unwrap_or(class.name)))
        };
        Ok(LineClass {
            family: product
                .family
                .map(|id| name(ClassKind::Family, id))
                .transpose()?
                .flatten(),
            brand: product
                .brand
                .map(|id| name(ClassKind::Brand, id))
                .transpose()?
                .flatten(),
            category: product
                .categories
                .first()
                .map(|id| name(ClassKind::Category, *id))
                .transpose()?
                .flatten(),
        })
    }

    /// Prices `quantity` of product `id` in `currency` as one line.
    #[allow(clippy::too_many_arguments)]
    fn order_line(
        &self,
        tenant: &Tenant,
        currency: Currency,
        id: ProductId,
        quantity: u32,
        bundle: Option<ProductId>,
        is_fee: bool,
        notes: Option<String>,
        terms: Option<uuid::Uuid>,
    ) -> Result<(OrderLine, Product), EngineError> {
        let product = self
            .inner
            .store
            .product(tenant, id)?
            .filter(|product| product.enabled)
            .ok_or_else(|| invalid("items.id", format!("{id} is not a product the business sells")))?;
        if matches!(
            product.classification,
            ProductClassification::TermedService | ProductClassification::UsageService
        ) {
            return Err(invalid(
                "items.id",
                format!(
                    "{} is a service: subscribe to it with POST /contacts/{{id}}/services",
                    product.sku
                ),
            ));
        }
        let price = product.price_for(currency, terms, false).map_err(|why| {
            invalid(
                if terms.is_some() {
                    "items.price_terms_id"
                } else {
                    "items.id"
                },
                why,
            )
        })?;
        let pricing = price.total(quantity).ok_or_else(|| {
            invalid(
                "items.quantity",
                format!("{} is not priced for a quantity of {quantity}", product.sku),
            )
        })?;
        let amounts = apply_tax(
            pricing,
            product.tax_rate.as_ref(),
            price.tax_model,
            currency.minor_units(),
        )
        .ok_or_else(|| invalid("items.quantity", "the line's amount is too large"))?;
        let line = OrderLine {
            product: product.id,
            sku: product.sku.clone(),
            name: product.name.clone(),
            classification: product.classification,
            quantity,
            pricing,
            tax_model: price.tax_model,
            tax_rate: product.tax_rate.clone(),
            amounts,
            bundle,
            is_fee,
            class: self.line_class(tenant, &product)?,
            notes,
        };
        Ok((line, product))
    }

    /// Previews an order for `contact`: who fulfils it, its lines priced and taxed, the
    /// delivery fee, whether it may be placed (the organisation sells every product, the
    /// total reaches its minimum), and — when there is something to pay — the awards and
    /// wallet funds of its purchase (held if asked). Nothing is ordered.
    pub async fn estimate_order(
        &self,
        tenant: Tenant,
        contact: ContactId,
        request: OrderRequest,
    ) -> Result<OrderEstimate, EngineError> {
        self.check_open()?;
        let route = self.contact_route(&tenant, &ContactRef::Id(contact))?;
        let currency = route.currency;
        if let Some(account) = request.account {
            self.account(tenant, Some(contact), account)
                .await
                .map_err(|_| invalid("account_id", "is not one of the contact's accounts"))?;
        }
        if request.items.is_empty() || request.items.len() > ORDER_LINES_MAX {
            return Err(invalid("items", format!("an order has 1 to {ORDER_LINES_MAX} items")));
        }
        // Counted before anything is read: one line per item and per component, one for a fee.
        let asked: usize = request.items.iter().map(|item| 1 + item.components.len()).sum();
        if asked >= ORDER_LINES_MAX {
            return Err(invalid(
                "items",
                format!("an order has fewer than {ORDER_LINES_MAX} lines, components included"),
            ));
        }
        if request.payment.by_method() && request.block_wallet_funds {
            return Err(invalid(
                "block_wallet_funds",
                "an order charged to a payment method takes its wallet funds when submitted, with the charge: they are not held",
            ));
        }
        let origin = request
            .location
            .as_ref()
            .map(|at| Point::new(at.lat, at.lon).map_err(|why| invalid("current_location", why)))
            .transpose()?;
        if request.supply_method == SupplyMethod::Delivery && origin.is_none() {
            return Err(invalid(
                "current_location",
                "a delivery needs current_location with lat and lon",
            ));
        }
        let notes = note("notes", request.notes)?;
        let fulfiller = self
            .fulfillers(
                &tenant,
                &FulfilmentQuery {
                    supply_method: request.supply_method,
                    origin,
                    requested: request.fulfilled_by,
                },
            )?
            .into_iter()
            .next()
            .ok_or_else(|| match request.fulfilled_by {
                Some(_) => invalid(
                    "fulfilled_by",
                    format!("does not take {} orders from here", request.supply_method.code()),
                ),
                None => invalid(
                    "supply_method",
                    format!(
                        "no merchant or venue takes {} orders from here",
                        request.supply_method.code()
                    ),
                ),
            })?;
        let terms = &fulfiller.terms;
        if !terms.payments.contains(&request.payment) {
            return Err(invalid(
                "payment_method_type",
                format!(
                    "{} does not take {}",
                    fulfiller.organisation.name,
                    request.payment.code()
                ),
            ));
        }
        let delivery_method = match request.supply_method {
            SupplyMethod::Delivery => {
                let method = request.delivery_method.or(terms.delivery_methods.first().copied());
                if !method.is_some_and(|method| terms.delivery_methods.contains(&method)) {
                    return Err(invalid(
                        "delivery_method",
                        format!("{} does not deliver that way", fulfiller.organisation.name),
                    ));
                }
                method
            }
            _ => None,
        };
        let at = fulfiller.organisation.id;
        let promotion = request
            .pass
            .as_ref()
            .map(|pass| self.promotion_presented(tenant, contact, pass, at))
            .transpose()?;
        let mut lines = Vec::new();
        let mut unavailable = Vec::new();
        for item in request.items {
            let quantity = units("items.quantity", item.quantity)?;
            let (line, product) = self.order_line(
                &tenant,
                currency,
                item.product,
                quantity,
                None,
                false,
                note("items.notes", item.notes)?,
                item.price_terms,
            )?;
            if product.is_modifier {
                return Err(invalid(
                    "items.id",
                    format!("{} is a modifier: order it as a component of a product", product.sku),
                ));
            }
            if !product.available_at(at) {
                unavailable.push((product.id, Unavailability::Availability));
            }
            lines.push(line);
            for (component, quantity, terms) in item.components {
                let quantity = units("items.components.quantity", quantity)?;
                let (line, part) = self.order_line(
                    &tenant,
                    currency,
                    component,
                    quantity,
                    Some(product.id),
                    false,
                    None,
                    terms,
                )?;
                if !part.is_modifier && !product.components.contains(&part.id) {
                    return Err(invalid(
                        "items.components.id",
                        format!("{} is neither a component of {} nor a modifier", part.sku, product.sku),
                    ));
                }
                if !part.available_at(at) {
                    unavailable.push((part.id, Unavailability::Availability));
                }
                lines.push(line);
            }
        }
        if request.supply_method == SupplyMethod::Delivery {
            if let Some(fee) = terms.delivery_fee {
                let (line, _) = self.order_line(&tenant, currency, fee, 1, None, true, None, None)?;
                lines.push(line);
            }
        }
        let amount_max = self.inner.settings.money.amount_max;
        let totals = sum_lines(&lines)
            .filter(|totals| totals.total <= amount_max)
            .ok_or_else(|| invalid("items", format!("the order's total must be at most {amount_max}")))?;
        let spend = if request.payment.from_wallet() {
            // Paid from the wallet in full, or not at all.
            Some((totals.total, true))
        } else if request.use_wallet_funds {
            let amount = request.wallet_funds_amount.unwrap_or(totals.total).min(totals.total);
            if let Some(asked) = request.wallet_funds_amount {
                Amount::parse_at_most(asked, currency, amount_max)
                    .map_err(|error| invalid("wallet_funds_amount", error))?;
            }
            Some((amount, false))
        } else {
            None
        };
        let now = self.now();
        let id = OrderEstimateId::random();
        let mut estimate = OrderEstimate {
            id,
            tenant,
            contact,
            wallet: route.wallet_id,
            account: request.account,
            currency,
            supply_method: request.supply_method,
            delivery_method,
            fulfilled_by: at,
            deliver_to: request
                .location
                .filter(|_| request.supply_method == SupplyMethod::Delivery),
            lines,
            totals,
            wallet_funds: Decimal::ZERO,
            held: false,
            payment: request.payment,
            purchase_estimate: None,
            minimum_amount: terms.minimum_amount,
            unavailable,
            minutes_to_fulfil: terms.minutes_to_fulfil,
            notes,
            created_on: now,
            expires_at: now.saturating_add(ORDER_ESTIMATE_TTL_S),
            discount: Decimal::ZERO,
            promotion,
        };
        if estimate.ordering_allowed() && totals.total > Decimal::ZERO {
            let reference = ReferenceNumber::parse(&Order::purchase_reference(Order::id_for(id)))
                .map_err(|_| EngineError::Internal("order reference"))?;
            let submission = PurchaseSubmission {
                reference_number: reference,
                contact: ContactRef::Id(contact),
                currency: Some(currency),
                amounts: SubmittedAmounts {
                    net: Some(totals.net),
                    tax: Some(totals.tax),
                    discount: None,
                    total: totals.total,
                },
                date: None,
                products: estimate
                    .lines
                    .iter()
                    .map(|line| ProductLine {
                        product_sku: line.sku.clone(),
                        quantity: Decimal::from(line.quantity),
                        net_amount: Some(line.amounts.net),
                        tax_amount: Some(line.amounts.tax),
                        total_amount: Some(line.amounts.total),
                    })
                    .collect(),
                classes: estimate.lines.iter().map(|line| line.class.clone()).collect(),
                spend: spend.filter(|(amount, _)| *amount > Decimal::ZERO),
                organisation: SaleAt::Organisation(at),
                pass: None,
            };
            let options = EstimateOptions {
                hold: request.block_wallet_funds && submission.spend.is_some(),
                approval_required: false,
                net_of_discounts: true,
                unlocked: estimate.promotion.as_ref().map(|promotion| promotion.offer),
            };
            let caller = Caller::key(tenant.organisation, tenant.mode);
            let purchase = self.estimate_purchase(&caller, tenant, submission, options).await?;
            let offers = self.offers(&tenant).await?;
            estimate.discount = purchase
                .explanations
                .iter()
                .filter(|award| offers.route(award.offer_id) == AwardRoute::Instant)
                .try_fold(Decimal::ZERO, |sum, award| sum.checked_add(award.amount))
                .ok_or(EngineError::Internal("order discount"))?;
            estimate.purchase_estimate = Some(purchase.id);
            estimate.wallet_funds = purchase.spend;
            estimate.held = purchase.held;
            estimate.expires_at = purchase.expires_at;
        }
        let mut writes = WriteSet::default();
        writes.order_estimate(&estimate);
        self.commit_durable(writes).await?;
        Ok(estimate)
    }

    /// An order estimate of `contact` (another contact's is not found).
    pub fn order_estimate(
        &self,
        tenant: &Tenant,
        contact: ContactId,
        id: OrderEstimateId,
    ) -> Result<OrderEstimate, EngineError> {
        self.inner
            .store
            .order_estimate(tenant, id)?
            .filter(|estimate| estimate.contact == contact)
            .ok_or(EngineError::NotFound("order estimate"))
    }

    /// The awards the purchase of an estimate would earn, as estimated.
    pub fn order_estimate_awards(&self, estimate: &OrderEstimate) -> Result<Decimal, EngineError> {
        Ok(match estimate.purchase_estimate {
            None => Decimal::ZERO,
            Some(id) => self.estimate(&estimate.tenant, id)?.awarded(),
        })
    }

    /// Places the order previewed by estimate `id`: once (a second submit answers the
    /// first order), not after the estimate expired, not when it may not be placed. Its
    /// purchase is posted first (idempotent on the order's reference), then the order.
    pub async fn submit_order(
        &self,
        tenant: Tenant,
        contact: ContactId,
        id: OrderEstimateId,
        charge: Option<OrderCharge>,
    ) -> Result<Order, EngineError> {
        self.check_open()?;
        let estimate = self.order_estimate(&tenant, contact, id)?;
        let order_id = Order::id_for(id);
        let _claim = self
            .inner
            .claims
            .claim(claim_key(b'}', &tenant, order_id.as_bytes()), rand::random())
            .map_err(|_| EngineError::Busy("order"))?;
        if let Some(order) = self.inner.store.order(&tenant, order_id)? {
            return Ok(order);
        }
        let now = self.now();
        submittable(&estimate, now)?;
        let charged = self.order_charge(&tenant, &estimate, order_id, charge)?;
        let (purchase, wallet_funds) = match estimate.purchase_estimate {
            None => (None, Decimal::ZERO),
            Some(purchase_estimate) => {
                let reference = ReferenceNumber::parse(&Order::purchase_reference(order_id))
                    .map_err(|_| EngineError::Internal("order reference"))?;
                // What the charge put in the wallet is spent with the wallet funds, all of
                // it or nothing.
                let spend = charged.map(|charged| (estimate.wallet_funds + charged, true));
                let pass = match &estimate.promotion {
                    Some(promotion) => {
                        let purchase = crate::domain::ids::PurchaseId::for_reference(&tenant, &reference);
                        Some(self.use_promotion(tenant, promotion, purchase).await?)
                    }
                    None => None,
                };
                let posted = self
                    .post_estimate_spending(tenant, purchase_estimate, reference, spend, pass)
                    .await?;
                (
                    Some(posted.id),
                    posted.effects.spent_from_wallet() - charged.unwrap_or_default(),
                )
            }
        };
        let order = Order {
            id: order_id,
            tenant,
            contact,
            estimate: id,
            purchase,
            state: OrderState::New,
            is_favorite: false,
            currency: estimate.currency,
            supply_method: estimate.supply_method,
            delivery_method: estimate.delivery_method,
            fulfilled_by: estimate.fulfilled_by,
            deliver_to: estimate.deliver_to,
            lines: estimate.lines,
            totals: estimate.totals,
            wallet_funds,
            payment: estimate.payment,
            notes: estimate.notes,
            submitted_on: now,
            estimated_fulfilment: now.saturating_add(i64::from(estimate.minutes_to_fulfil) * 60),
            started_on: None,
            completed_on: None,
            cancelled_on: None,
            updated_on: now,
            discount: estimate.discount,
            promotion: estimate.promotion.clone(),
        };
        let mut writes = WriteSet::default();
        writes.order(&order);
        writes.contact_order(&order);
        self.commit_durable(writes).await?;
        Ok(order)
    }

    /// The charge that must pay the amount due of the order estimate `id` previews before
    /// it is submitted, as `charge` names it: `None` when the order is placed already, or
    /// is not charged (CARD, ACCOUNT_DEBIT), or leaves nothing due. Refused as the submit
    /// would be (expired, not orderable) before anything is charged.
    pub fn order_charge_due(
        &self,
        tenant: &Tenant,
        contact: ContactId,
        id: OrderEstimateId,
        charge: Option<OrderCharge>,
    ) -> Result<Option<ChargeDue>, EngineError> {
        let estimate = self.order_estimate(tenant, contact, id)?;
        let order = Order::id_for(id);
        let Some(due) = estimate.to_charge() else {
            return Ok(None);
        };
        if self.inner.store.order(tenant, order)?.is_some() {
            return Ok(None);
        }
        submittable(&estimate, self.now())?;
        let charge = charge.ok_or_else(|| unnamed_charge(&estimate))?;
        Ok(Some(ChargeDue {
            top_up: Order::top_up_for(order, charge),
            wallet: estimate.wallet,
            amount: due,
            notes: format!("Order {}", Order::number_for(order)),
        }))
    }

    /// What the charge of an order paid by CARD or ACCOUNT_DEBIT put in the wallet to pay
    /// its amount due (`None` for any other order, or nothing due): the top-up
    /// `Order::top_up_for` names, which must have succeeded for exactly that amount.
    fn order_charge(
        &self,
        tenant: &Tenant,
        estimate: &OrderEstimate,
        order: OrderId,
        charge: Option<OrderCharge>,
    ) -> Result<Option<Decimal>, EngineError> {
        let Some(due) = estimate.to_charge() else {
            return Ok(None);
        };
        let charge = charge.ok_or_else(|| unnamed_charge(estimate))?;
        let top_up = self
            .inner
            .store
            .top_up(tenant, Order::top_up_for(order, charge))?
            .filter(|top_up| top_up.wallet == estimate.wallet && top_up.amount == due);
        match top_up.map(|top_up| top_up.state) {
            Some(TopUpState::Succeeded { .. }) => Ok(Some(due)),
            _ => Err(EngineError::Conflict(
                "the order's amount due has not been charged to the payment method".into(),
            )),
        }
    }

    /// An order; `owner`, when given, must have placed it (else it is not found).
    pub fn order(&self, tenant: &Tenant, owner: Option<ContactId>, id: OrderId) -> Result<Order, EngineError> {
        self.inner
            .store
            .order(tenant, id)?
            .filter(|order| owner.is_none_or(|owner| owner == order.contact))
            .ok_or(EngineError::NotFound("order"))
    }

    /// A contact's orders, newest first, as `filter` chooses.
    pub fn contact_orders(
        &self,
        tenant: &Tenant,
        contact: ContactId,
        filter: &OrderFilter,
    ) -> Result<Vec<Order>, EngineError> {
        let mut orders = Vec::new();
        for id in self.inner.store.contact_orders(tenant, contact)?.into_iter().rev() {
            let Some(order) = self.inner.store.order(tenant, id)? else {
                continue;
            };
            if (filter.states.is_empty() || filter.states.contains(&order.state))
                && (!filter.favourites_only || order.is_favorite)
            {
                orders.push(order);
            }
        }
        Ok(orders)
    }

    /// Takes `action` on an order: the contact (`owner`) only what `contact_may` allows,
    /// the back office any move of the table. Cancelling cancels the order's purchase
    /// first (its awards taken back, its wallet funds given back).
    pub async fn order_action(
        &self,
        tenant: Tenant,
        owner: Option<ContactId>,
        id: OrderId,
        action: OrderAction,
    ) -> Result<Order, EngineError> {
        self.check_open()?;
        let _claim = self
            .inner
            .claims
            .claim(claim_key(b'}', &tenant, id.as_bytes()), rand::random())
            .map_err(|_| EngineError::Busy("order"))?;
        let mut order = self.order(&tenant, owner, id)?;
        if owner.is_some() && !contact_may(action, order.state) {
            return Err(EngineError::Forbidden(format!(
                "a contact may not send {} to a {} order",
                action.code(),
                order.state.code()
            )));
        }
        let to = next_state(order.state, action).map_err(EngineError::Conflict)?;
        let now = self.now();
        match action {
            OrderAction::MarkFavorite => order.is_favorite = true,
            OrderAction::PrintOrder => return Ok(order),
            OrderAction::StartProgress => order.started_on = Some(now),
            OrderAction::Complete => order.completed_on = Some(now),
            OrderAction::Cancel => {
                if let Some(purchase) = order.purchase {
                    self.cancel_purchase(tenant, purchase).await?;
                }
                order.cancelled_on = Some(now);
            }
            OrderAction::OrderProvision => {}
        }
        order.state = to;
        order.updated_on = now;
        let mut writes = WriteSet::default();
        writes.order(&order);
        self.commit_durable(writes).await?;
        Ok(order)
    }
}
