//! A contact's subscriptions (`domain::subscription`): services added from the catalogue's
//! termed services, grouped by billing period; actions on them; and what a
//! change or the next bill would come to, worked out on a copy without applying it.
//! Each subscription is changed under a claim on it; adding services claims the contact's
//! subscriptions, so two adds never make two subscriptions of one period.

use super::{claim_key, invalid, ContactRef, Engine, EngineError};
use crate::domain::ids::SubscriptionActionId;
use crate::domain::ids::{AccountId, ContactId, ProductId, ServiceId, SubscriptionId, Tenant};
use crate::domain::money::Currency;
use crate::domain::product::{BillingPeriod, ProductClassification, QUANTITY_MAX};
use crate::domain::subscription::{
    ActionState, BillLine, BillState, BillingModel, FundingSource, Service, ServiceAction, ServiceState, Subscription,
    SubscriptionAction, SubscriptionState, SCHEDULED_MAX, SERVICES_MAX,
};
use crate::storage::WriteSet;

/// Most services one call adds.
pub const SERVICES_PER_CALL_MAX: usize = 10;

/// A service to add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewService {
    pub product: ProductId,
    pub quantity: u32,
    /// One of the product's price plans (with a billing period); its default when `None`.
    pub price_terms: Option<uuid::Uuid>,
}

/// What a subscription's bills are paid from: the wallet, or the contact's primary account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Funding {
    #[default]
    Wallet,
    Account,
}

/// A change to a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceChange {
    pub action: ServiceAction,
    /// PAUSE: for this many days (until resumed when not given).
    pub days: Option<u32>,
    /// CHANGE: to this product (the same one when only the quantity changes).
    pub change_to: Option<ProductId>,
    /// CHANGE: to this quantity (the service's when not given).
    pub quantity: Option<u32>,
    /// CHANGE: to this price plan of the product (its default one when not given).
    pub price_terms: Option<uuid::Uuid>,
    /// Take it then (later than now), by the billing run, instead of now.
    pub scheduled: Option<i64>,
}

/// An action on `service` as taken now (a scheduled one is then marked so).
pub(super) fn action_record(service: ServiceId, change: &ServiceChange, now: i64) -> SubscriptionAction {
    SubscriptionAction {
        id: SubscriptionActionId::random(),
        service,
        action: change.action,
        days: change.days,
        change_to: change.change_to,
        quantity: change.quantity,
        state: ActionState::Executed,
        scheduled_on: None,
        created_on: now,
        executed_on: Some(now),
        cancelled_on: None,
        rejected_on: None,
        reason: None,
    }
}

/// A change to a scheduled action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleChange {
    Cancel,
    /// To another date, later than now.
    Reschedule(i64),
}

fn checked_quantity(quantity: u32) -> Result<u32, EngineError> {
    if quantity == 0 || quantity > QUANTITY_MAX {
        return Err(invalid("quantity", format!("must be 1 to {QUANTITY_MAX}")));
    }
    Ok(quantity)
}

impl Engine {
    /// A service of `asked.product` at its price plan in `currency` (the one named, else
    /// the default one with a billing period), effective from `now`.
    fn new_service(
        &self,
        tenant: &Tenant,
        currency: Currency,
        asked: NewService,
        now: i64,
    ) -> Result<(Service, BillingPeriod), EngineError> {
        let NewService {
            product,
            quantity,
            price_terms,
        } = asked;
        let quantity = checked_quantity(quantity)?;
        let product = self
            .inner
            .store
            .product(tenant, product)?
            .filter(|product| product.enabled)
            .ok_or_else(|| invalid("product_id", format!("{product} is not a product the business sells")))?;
        match product.classification {
            ProductClassification::TermedService => {}
            ProductClassification::UsageService => {
                return Err(invalid(
                    "product_id",
                    format!(
                        "{} is a usage service: it is consumed under the allowances of a termed service",
                        product.sku
                    ),
                ))
            }
            _ => {
                return Err(invalid(
                    "product_id",
                    format!("{} is not a termed service: order it instead", product.sku),
                ))
            }
        }
        let price = product
            .price_for(currency, price_terms, true)
            .map_err(|why| {
                invalid(
                    if price_terms.is_some() {
                        "price_terms_id"
                    } else {
                        "product_id"
                    },
                    why,
                )
            })?
            .clone();
        let period = price.billing_period.ok_or(EngineError::Internal("billing period"))?;
        if price.total(quantity).is_none() {
            return Err(invalid(
                "quantity",
                format!("{} is not priced for {quantity}", product.sku),
            ));
        }
        let service = Service {
            id: ServiceId::random(),
            product: product.id,
            sku: product.sku,
            name: product.name,
            classification: product.classification,
            price,
            tax_rate: product.tax_rate,
            quantity,
            state: ServiceState::Effective,
            added_on: now,
            first_activated_on: Some(now),
            last_activated_on: Some(now),
            last_deactivated_on: None,
            removed_on: None,
            paused_until: None,
            billed_to: now,
            change_of: None,
            changed_to: None,
        };
        Ok((service, period))
    }

    /// A new subscription of `contact`'s, of `period`, anchored at `now`, with no services.
    #[allow(clippy::too_many_arguments)]
    fn fresh_subscription(
        &self,
        tenant: Tenant,
        contact: ContactId,
        (wallet, currency): (crate::domain::ids::WalletId, Currency),
        account: Option<AccountId>,
        period: BillingPeriod,
        funding: Funding,
        now: i64,
    ) -> Subscription {
        Subscription {
            id: SubscriptionId::random(),
            tenant,
            contact,
            wallet,
            account,
            currency,
            period,
            billing_model: BillingModel::PreBill,
            funding: match funding {
                Funding::Wallet => FundingSource::Wallet,
                Funding::Account => FundingSource::Account,
            },
            anchor: now,
            services: Vec::new(),
            bills: 0,
            open_bill: None,
            credits: Vec::new(),
            usage: Vec::new(),
            actions: Vec::new(),
            next_billing_at: now,
            created_on: now,
            updated_on: now,
        }
    }

    /// The contact's primary account in `currency`, which account-funded subscriptions pay
    /// from.
    pub(super) fn funding_account(
        &self,
        tenant: &Tenant,
        contact: ContactId,
        currency: Currency,
    ) -> Result<AccountId, EngineError> {
        let list = self.inner.store.contact_accounts(tenant, contact)?;
        let primary = list.primary.ok_or_else(|| {
            invalid(
                "payment_method_type",
                "ACCOUNT_DEBIT needs the contact's primary account",
            )
        })?;
        let account = self.read_account(*tenant, primary)?;
        if account.currency != currency {
            return Err(invalid(
                "payment_method_type",
                format!(
                    "the primary account is in {}, the wallet in {}",
                    account.currency.code(),
                    currency.code()
                ),
            ));
        }
        Ok(primary)
    }

    /// Subscribes `contact` to services: each joins the contact's subscription of its
    /// billing period (made when there is none), effective now, and is billed at once for
    /// the rest of the current cycle. When that first bill is refused (the wallet cannot
    /// pay it), the services added are removed again and the refusal answered.
    ///
    /// A promotion pass presented unlocks its plan's offer for the award event of that
    /// first bill (the pass is used by it once).
    ///
    /// With a later `start`, each is added as a DRAFT with an ACTIVATE scheduled then (the
    /// billing run takes it, and bills from then on); a subscription made for them is
    /// anchored (and starts) then. Nothing is billed now.
    pub async fn add_services(
        &self,
        tenant: Tenant,
        contact: ContactId,
        services: &[NewService],
        funding: Funding,
        start: Option<i64>,
        pass: Option<&super::PassPayment>,
    ) -> Result<Vec<ServiceId>, EngineError> {
        self.check_open()?;
        if services.is_empty() || services.len() > SERVICES_PER_CALL_MAX {
            return Err(invalid("services", format!("1 to {SERVICES_PER_CALL_MAX} services")));
        }
        let route = self.contact_route(&tenant, &ContactRef::Id(contact))?;
        let now = self.now();
        let start = start.filter(|at| *at > now);
        if start.is_some() && pass.is_some() {
            return Err(invalid(
                "pass",
                "a promotion pass applies to the first bill, made when services are added: not with scheduled_date",
            ));
        }
        let promotion = pass
            .map(|pass| self.promotion_presented(tenant, contact, pass, tenant.organisation))
            .transpose()?;
        if start.is_some_and(|at| at > now.saturating_add(super::subscription_terms::SCHEDULE_AHEAD_MAX_S)) {
            return Err(invalid("scheduled_date", "at most three years ahead"));
        }
        let account = match funding {
            Funding::Wallet => None,
            Funding::Account => Some(self.funding_account(&tenant, contact, route.currency)?),
        };
        let mut made = Vec::with_capacity(services.len());
        for asked in services {
            let (mut service, period) = self.new_service(&tenant, route.currency, *asked, now)?;
            if let Some(at) = start {
                service.state = ServiceState::Draft;
                service.first_activated_on = None;
                service.last_activated_on = None;
                service.billed_to = at;
            }
            made.push((service, period));
        }
        let _contact_claim = self
            .inner
            .claims
            .claim(claim_key(b';', &tenant, contact.as_bytes()), rand::random())
            .map_err(|_| EngineError::Busy("contact's subscriptions"))?;
        let mut subscriptions = self.live_subscriptions(&tenant, contact)?;
        let mut touched: Vec<(SubscriptionId, Option<Subscription>)> = Vec::new();
        let mut ids = Vec::with_capacity(made.len());
        for (service, period) in made {
            ids.push(service.id);
            let index = match subscriptions.iter().position(|s| s.period == period) {
                Some(index) => index,
                None => {
                    subscriptions.push(self.fresh_subscription(
                        tenant,
                        contact,
                        (route.wallet_id, route.currency),
                        account,
                        period,
                        funding,
                        start.unwrap_or(now),
                    ));
                    subscriptions.len() - 1
                }
            };
            let subscription = &mut subscriptions[index];
            if subscription.services.len() >= SERVICES_MAX {
                return Err(EngineError::Conflict(format!(
                    "a subscription holds at most {SERVICES_MAX} services"
                )));
            }
            if !touched.iter().any(|(id, _)| *id == subscription.id) {
                let before = self.inner.store.subscription(&tenant, subscription.id)?;
                touched.push((subscription.id, before));
            }
            if let Some(at) = start {
                let waiting = subscription
                    .actions
                    .iter()
                    .filter(|a| a.state == ActionState::Scheduled)
                    .count();
                if waiting >= SCHEDULED_MAX {
                    return Err(EngineError::Conflict(format!(
                        "a subscription has at most {SCHEDULED_MAX} actions scheduled"
                    )));
                }
                let activate = ServiceChange {
                    action: ServiceAction::Activate,
                    days: None,
                    change_to: None,
                    quantity: None,
                    price_terms: None,
                    scheduled: Some(at),
                };
                let mut record = action_record(service.id, &activate, now);
                record.state = ActionState::Scheduled;
                record.scheduled_on = Some(at);
                record.executed_on = None;
                subscription.services.push(service);
                subscription.remember(record);
                subscription.next_billing_at = subscription.next_look(now);
            } else {
                subscription.services.push(service);
                subscription.next_billing_at = now;
            }
            subscription.updated_on = now;
        }
        // Claim each subscription touched, then write them all in one commit.
        let mut claims = Vec::with_capacity(touched.len());
        for (id, _) in &touched {
            claims.push(
                self.inner
                    .claims
                    .claim(claim_key(b'=', &tenant, id.as_bytes()), rand::random())
                    .map_err(|_| EngineError::Busy("subscription"))?,
            );
        }
        let mut writes = WriteSet::default();
        for (id, before) in &touched {
            let subscription = subscriptions
                .iter()
                .find(|s| s.id == *id)
                .ok_or(EngineError::Internal("subscription"))?;
            writes.subscription(subscription, before.as_ref());
        }
        self.commit_durable(writes).await?;
        if start.is_some() {
            return Ok(ids);
        }
        for (id, _) in &touched {
            let bill = self.bill_claimed_presenting(tenant, *id, promotion.as_ref()).await?;
            if let Some(bill) = bill.filter(|bill| bill.state == BillState::Failed) {
                self.withdraw_services(tenant, *id, &ids, &bill).await?;
                return Err(EngineError::InsufficientFunds {
                    parameter: "payment_method_type",
                });
            }
        }
        Ok(ids)
    }

    /// What adding services would do, without adding them: each subscription they would
    /// join (or make) with them in it, and the bill it would make now.
    pub fn preview_add_services(
        &self,
        tenant: &Tenant,
        contact: ContactId,
        services: &[NewService],
    ) -> Result<Vec<(Subscription, Vec<BillLine>)>, EngineError> {
        if services.is_empty() || services.len() > SERVICES_PER_CALL_MAX {
            return Err(invalid(
                "services_to_add",
                format!("1 to {SERVICES_PER_CALL_MAX} services"),
            ));
        }
        let route = self.contact_route(tenant, &ContactRef::Id(contact))?;
        let now = self.now();
        let mut subscriptions = self.live_subscriptions(tenant, contact)?;
        let mut touched = Vec::new();
        for asked in services {
            let (service, period) = self.new_service(tenant, route.currency, *asked, now)?;
            let index = match subscriptions.iter().position(|s| s.period == period) {
                Some(index) => index,
                None => {
                    subscriptions.push(self.fresh_subscription(
                        *tenant,
                        contact,
                        (route.wallet_id, route.currency),
                        None,
                        period,
                        Funding::Wallet,
                        now,
                    ));
                    subscriptions.len() - 1
                }
            };
            subscriptions[index].services.push(service);
            if !touched.contains(&index) {
                touched.push(index);
            }
        }
        touched
            .into_iter()
            .map(|index| {
                let subscription = subscriptions[index].clone();
                let lines = subscription
                    .due_lines(now)
                    .ok_or_else(|| EngineError::Conflict("the bill's amounts overflow".into()))?;
                Ok((subscription, lines))
            })
            .collect()
    }

    /// Undoes services whose first bill was refused: they are removed and the bill, which
    /// moved no money, is closed.
    async fn withdraw_services(
        &self,
        tenant: Tenant,
        id: SubscriptionId,
        services: &[ServiceId],
        bill: &crate::domain::subscription::Bill,
    ) -> Result<(), EngineError> {
        let Some(mut subscription) = self.inner.store.subscription(&tenant, id)? else {
            return Ok(());
        };
        let before = subscription.clone();
        let now = self.now();
        for service in subscription.services.iter_mut().filter(|s| services.contains(&s.id)) {
            service.state = ServiceState::Removed;
            service.removed_on = Some(now);
        }
        if subscription.open_bill == Some(bill.id) {
            subscription.open_bill = None;
            // Its credits were not given: they go into the next bill.
            subscription
                .credits
                .extend(bill.lines.iter().filter(|line| !line.advances).cloned());
        }
        subscription.next_billing_at = subscription.next_look(now);
        let mut writes = WriteSet::default();
        writes.subscription(&subscription, Some(&before));
        self.commit_durable(writes).await
    }

    /// The contact's subscriptions that are not churned.
    fn live_subscriptions(&self, tenant: &Tenant, contact: ContactId) -> Result<Vec<Subscription>, EngineError> {
        Ok(self
            .contact_subscriptions(tenant, contact)?
            .into_iter()
            .filter(|s| s.state() != SubscriptionState::Churned)
            .collect())
    }

    /// The contact's subscriptions, oldest first.
    pub fn contact_subscriptions(&self, tenant: &Tenant, contact: ContactId) -> Result<Vec<Subscription>, EngineError> {
        let mut found = Vec::new();
        for id in self.inner.store.contact_subscriptions(tenant, contact)? {
            if let Some(subscription) = self.inner.store.subscription(tenant, id)? {
                found.push(subscription);
            }
        }
        found.sort_by_key(|s| (s.created_on, s.id));
        Ok(found)
    }

    /// A subscription; `owner`, when given, must hold it (else it is not found).
    pub fn subscription(
        &self,
        tenant: &Tenant,
        owner: Option<ContactId>,
        id: SubscriptionId,
    ) -> Result<Subscription, EngineError> {
        self.inner
            .store
            .subscription(tenant, id)?
            .filter(|s| owner.is_none_or(|owner| owner == s.contact))
            .ok_or(EngineError::NotFound("subscription"))
    }

    /// The subscription of `owner` that holds service `id`.
    fn subscription_of_service(
        &self,
        tenant: &Tenant,
        owner: ContactId,
        id: ServiceId,
    ) -> Result<Subscription, EngineError> {
        self.contact_subscriptions(tenant, owner)?
            .into_iter()
            .find(|s| s.service(id).is_some())
            .ok_or(EngineError::NotFound("service"))
    }

    /// `change` applied to a copy of the subscription holding service `id`, at `now`.
    pub(super) fn changed(
        &self,
        tenant: &Tenant,
        mut subscription: Subscription,
        id: ServiceId,
        change: &ServiceChange,
        now: i64,
    ) -> Result<Subscription, EngineError> {
        let service = subscription
            .service(id)
            .ok_or(EngineError::NotFound("service"))?
            .clone();
        if change
            .days
            .is_some_and(|days| days == 0 || days > crate::domain::subscription::PAUSE_DAYS_MAX)
        {
            return Err(invalid(
                "number_of_days",
                format!("must be 1 to {}", crate::domain::subscription::PAUSE_DAYS_MAX),
            ));
        }
        let replacement = match change.action {
            ServiceAction::Change => {
                let product = change.change_to.unwrap_or(service.product);
                let quantity = change.quantity.unwrap_or(service.quantity);
                let same_terms = change.price_terms.is_none_or(|terms| terms == service.price.id);
                if product == service.product && quantity == service.quantity && same_terms {
                    return Err(invalid(
                        "change_to_service",
                        "CHANGE names another product, quantity or price plan",
                    ));
                }
                let asked = NewService {
                    product,
                    quantity,
                    price_terms: change.price_terms,
                };
                let (new, period) = self.new_service(tenant, subscription.currency, asked, now)?;
                if period != subscription.period {
                    return Err(invalid(
                        "change_to_service",
                        "the new service is billed over another period: add it as a service of its own",
                    ));
                }
                Some(new)
            }
            _ => None,
        };
        super::billing::resume_ended_pauses(&mut subscription, now);
        subscription
            .apply_action(id, change.action, change.days, replacement, now)
            .map_err(EngineError::Conflict)?;
        subscription.next_billing_at = subscription.next_look(now);
        Ok(subscription)
    }

    /// Takes an action on one of `owner`'s services (the table in `domain::subscription`)
    /// and bills what it makes due at once (a resumed or changed service's rest of the
    /// cycle, a credit). Answers the subscription as it stands and the service the action
    /// leaves in effect (CHANGE: the new one).
    pub async fn service_action(
        &self,
        tenant: Tenant,
        owner: ContactId,
        id: ServiceId,
        change: ServiceChange,
    ) -> Result<(Subscription, ServiceId), EngineError> {
        self.check_open()?;
        let found = self.subscription_of_service(&tenant, owner, id)?;
        let _claim = self
            .inner
            .claims
            .claim(claim_key(b'=', &tenant, found.id.as_bytes()), rand::random())
            .map_err(|_| EngineError::Busy("subscription"))?;
        let before = self.subscription(&tenant, Some(owner), found.id)?;
        let now = self.now();
        let mut record = action_record(id, &change, now);
        if let Some(at) = change.scheduled.filter(|at| *at > now) {
            if change.price_terms.is_some() {
                return Err(invalid(
                    "price_terms_id",
                    "a CHANGE to another price plan is taken at once, not scheduled",
                ));
            }
            if at > now.saturating_add(super::subscription_terms::SCHEDULE_AHEAD_MAX_S) {
                return Err(invalid("scheduled_date", "at most three years ahead"));
            }
            // Checked as if taken now; taken for real, and checked again, when it is due.
            self.changed(&tenant, before.clone(), id, &change, now)?;
            let scheduled = before
                .actions
                .iter()
                .filter(|a| a.state == ActionState::Scheduled)
                .count();
            if scheduled >= SCHEDULED_MAX {
                return Err(EngineError::Conflict(format!(
                    "a subscription has at most {SCHEDULED_MAX} actions scheduled"
                )));
            }
            let mut after = before.clone();
            record.state = ActionState::Scheduled;
            record.scheduled_on = Some(at);
            record.executed_on = None;
            after.remember(record);
            after.next_billing_at = after.next_look(now);
            after.updated_on = now;
            let mut writes = WriteSet::default();
            writes.subscription(&after, Some(&before));
            self.commit_durable(writes).await?;
            return Ok((after, id));
        }
        let mut after = self.changed(&tenant, before.clone(), id, &change, now)?;
        after.remember(record);
        let in_effect = after.service(id).and_then(|s| s.changed_to).unwrap_or(id);
        let mut writes = WriteSet::default();
        writes.subscription(&after, Some(&before));
        self.commit_durable(writes).await?;
        if after.next_billing_at <= now {
            self.bill_claimed(tenant, after.id).await?;
        }
        Ok((self.subscription(&tenant, Some(owner), after.id)?, in_effect))
    }

    /// Takes the scheduled actions due by now on `subscription`, oldest date first: each
    /// executed, or rejected with why (the services may have moved since it was scheduled).
    pub(super) fn run_scheduled(&self, subscription: &mut Subscription, now: i64) {
        let mut due: Vec<SubscriptionAction> = subscription
            .actions
            .iter()
            .filter(|a| a.state == ActionState::Scheduled && a.scheduled_on.is_some_and(|at| at <= now))
            .cloned()
            .collect();
        due.sort_by_key(|a| (a.scheduled_on, a.created_on));
        for action in due {
            let change = ServiceChange {
                action: action.action,
                days: action.days,
                change_to: action.change_to,
                quantity: action.quantity,
                price_terms: None,
                scheduled: None,
            };
            let outcome = self.changed(&subscription.tenant, subscription.clone(), action.service, &change, now);
            let (state, reason) = match outcome {
                Ok(after) => {
                    *subscription = after;
                    (ActionState::Executed, None)
                }
                Err(refused) => (ActionState::Rejected, Some(refused.to_string())),
            };
            if let Some(kept) = subscription.actions.iter_mut().find(|a| a.id == action.id) {
                kept.state = state;
                kept.reason = reason;
                match state {
                    ActionState::Executed => kept.executed_on = Some(now),
                    _ => kept.rejected_on = Some(now),
                }
            }
        }
    }

    /// Cancels or moves one of `owner`'s scheduled actions.
    pub async fn change_scheduled_action(
        &self,
        tenant: Tenant,
        owner: ContactId,
        id: SubscriptionActionId,
        change: ScheduleChange,
    ) -> Result<SubscriptionAction, EngineError> {
        self.check_open()?;
        let found = self
            .contact_subscriptions(&tenant, owner)?
            .into_iter()
            .find(|s| s.actions.iter().any(|a| a.id == id))
            .ok_or(EngineError::NotFound("subscription action"))?;
        let _claim = self
            .inner
            .claims
            .claim(claim_key(b'=', &tenant, found.id.as_bytes()), rand::random())
            .map_err(|_| EngineError::Busy("subscription"))?;
        let before = self.subscription(&tenant, Some(owner), found.id)?;
        let now = self.now();
        let mut after = before.clone();
        let action = after
            .actions
            .iter_mut()
            .find(|a| a.id == id)
            .ok_or(EngineError::NotFound("subscription action"))?;
        if action.state != ActionState::Scheduled {
            return Err(EngineError::Conflict(format!(
                "the action is {}: only a scheduled one changes",
                action.state.code()
            )));
        }
        match change {
            ScheduleChange::Cancel => {
                action.state = ActionState::Cancelled;
                action.cancelled_on = Some(now);
            }
            ScheduleChange::Reschedule(at) => {
                if at <= now || at > now.saturating_add(3 * 366 * 86_400) {
                    return Err(invalid(
                        "scheduled_date",
                        "must be later than now, at most three years ahead",
                    ));
                }
                action.scheduled_on = Some(at);
            }
        }
        let changed = action.clone();
        after.next_billing_at = after.next_look(now);
        after.updated_on = now;
        let mut writes = WriteSet::default();
        writes.subscription(&after, Some(&before));
        self.commit_durable(writes).await?;
        Ok(changed)
    }

    /// What an action on one of `owner`'s services would do, without doing it: the
    /// subscription after it, and the bill it would make now.
    pub fn preview_service_action(
        &self,
        tenant: &Tenant,
        owner: ContactId,
        id: ServiceId,
        change: &ServiceChange,
    ) -> Result<(Subscription, Vec<BillLine>), EngineError> {
        let subscription = self.subscription_of_service(tenant, owner, id)?;
        let now = self.now();
        let after = self.changed(tenant, subscription, id, change, now)?;
        let lines = after
            .due_lines(now)
            .ok_or_else(|| EngineError::Conflict("the bill's amounts overflow".into()))?;
        Ok((after, lines))
    }

    /// The contact's upcoming bills: for each subscription not churned, what its next bill
    /// would hold if made at `at` (now when not given; at most a year ahead), its open bill
    /// first if it has one.
    pub fn upcoming_bills(
        &self,
        tenant: &Tenant,
        contact: ContactId,
        at: Option<i64>,
    ) -> Result<Vec<(Subscription, Vec<BillLine>)>, EngineError> {
        let now = self.now();
        let at = at.unwrap_or(now);
        if at < now || at > now.saturating_add(366 * 86_400) {
            return Err(invalid("billing_date", "must be from now to a year ahead"));
        }
        let mut found = Vec::new();
        for mut subscription in self.live_subscriptions(tenant, contact)? {
            let mut lines = Vec::new();
            if let Some(open) = subscription.open_bill {
                if let Some(bill) = self.inner.store.bill(tenant, open)? {
                    subscription.advance(&bill.lines);
                    lines = bill.lines;
                }
            }
            super::billing::resume_ended_pauses(&mut subscription, at);
            lines.extend(
                subscription
                    .due_lines(at)
                    .ok_or_else(|| EngineError::Conflict("the bill's amounts overflow".into()))?,
            );
            found.push((subscription, lines));
        }
        Ok(found)
    }
}
