//! Subscriptions: a contact's services (termed and usage products of the catalogue) grouped
//! by billing period, each subscription billing its services every cycle and paying from
//! the wallet or the account its funding source names.
//!
//! **Cycles.** A subscription's cycles start at its anchor (when it was made) and follow one
//! another by its billing period; months and years are calendar ones, a day of month that
//! a month lacks falling on its last day (anchored on 31 January: 28 or 29 February, then
//! 31 March), each boundary counted from the anchor, never from the boundary before.
//!
//! **Billing.** Each effective service is billed from where its billing stands
//! (`billed_to`) up to the horizon: the end of the current cycle (PRE_BILL: in advance) or
//! its start (POST_BILL: in arrears). A part of a cycle is billed in proportion to the
//! seconds it covers (proration), rounded half away from zero to the currency's minor
//! units. Pausing, deactivating or cancelling stops further billing (what was billed
//! stands, the service's access with it); changing a service credits what its old terms had
//! billed beyond now and bills the new from now; regretting, within `REGRET_DAYS` of first
//! activation, credits everything the service was billed.
//!
//! **Actions** move services as `SERVICE_TRANSITIONS` says; anything else is refused.

use super::ids::{
    AccountId, BillId, ContactId, ProductId, ServiceId, SubscriptionActionId, SubscriptionId, Tenant, WalletId,
};
use super::money::Currency;
use super::order::{apply_tax, LineAmounts, TaxRate};
use super::product::{BillingPeriod, PeriodUnit, Price, ProductClassification};
use chrono::{DateTime, Months, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// How long after its first activation a service may be regretted (every charge given back).
pub const REGRET_DAYS: i64 = 14;
/// Most services one subscription holds (swapped and cancelled ones included).
pub const SERVICES_MAX: usize = 100;
/// Most cycles one bill covers for one service (a longer gap is billed over several runs).
pub const CYCLES_PER_BILL_MAX: usize = 24;
/// The longest pause, in days.
pub const PAUSE_DAYS_MAX: u32 = 365;

coded!(
    ServiceState {
        Draft = "DRAFT",
        Effective = "EFFECTIVE",
        NotEffective = "NOT_EFFECTIVE",
        Paused = "PAUSED",
        Regretted = "REGRETTED",
        Cancelled = "CANCELLED",
        Swapped = "SWAPPED",
        Removed = "REMOVED",
    }
);

coded!(
    ServiceAction {
        Activate = "ACTIVATE",
        Cancel = "CANCEL",
        Change = "CHANGE",
        Deactivate = "DEACTIVATE",
        Pause = "PAUSE",
        Regret = "REGRET",
        Resume = "RESUME",
    }
);

coded!(
    SubscriptionState {
        Active = "ACTIVE",
        Inactive = "INACTIVE",
        Churned = "CHURNED",
    }
);

coded!(
    FundingSource {
        Account = "ACCOUNT",
        Wallet = "WALLET",
    }
);

coded!(
    BillingModel {
        PreBill = "PRE_BILL",
        PostBill = "POST_BILL",
    }
);

impl ServiceAction {
    /// CRM.COM's behaviour code for it.
    pub fn behaviour_code(self) -> &'static str {
        match self {
            ServiceAction::Activate => "ACTIVATE_SERVICE",
            ServiceAction::Deactivate => "DEACTIVATE_SERVICE",
            ServiceAction::Pause => "PAUSE_SERVICE",
            ServiceAction::Resume => "RESUME_SERVICE",
            ServiceAction::Cancel | ServiceAction::Regret => "REMOVE_SERVICE",
            ServiceAction::Change => "CHANGE_SERVICE",
        }
    }

    /// CRM.COM's business classification code for it.
    pub fn classification_code(self) -> &'static str {
        match self {
            ServiceAction::Activate => "ACTIVATE_SERVICE",
            ServiceAction::Deactivate => "DEACTIVATE_SERVICE",
            ServiceAction::Pause => "PAUSE_SERVICE",
            ServiceAction::Resume => "RESUME_SERVICE",
            ServiceAction::Cancel => "CANCEL_SERVICE",
            ServiceAction::Regret => "REGRET_SERVICE",
            ServiceAction::Change => "UPGRADE_SERVICE",
        }
    }
}

coded!(
    ActionState {
        Scheduled = "SCHEDULED",
        Executed = "EXECUTED",
        Rejected = "REJECTED",
        Cancelled = "CANCELLED",
    }
);

/// Most actions a subscription remembers (the oldest done ones are dropped first).
pub const ACTIONS_KEPT: usize = 100;
/// Most actions scheduled at once on one subscription.
pub const SCHEDULED_MAX: usize = 20;

/// An action taken on a service, or scheduled for a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionAction {
    pub id: SubscriptionActionId,
    pub service: ServiceId,
    pub action: ServiceAction,
    pub days: Option<u32>,
    pub change_to: Option<ProductId>,
    pub quantity: Option<u32>,
    pub state: ActionState,
    pub scheduled_on: Option<i64>,
    pub created_on: i64,
    pub executed_on: Option<i64>,
    pub cancelled_on: Option<i64>,
    pub rejected_on: Option<i64>,
    /// Why it was rejected.
    pub reason: Option<String>,
}

/// Every move an action makes (from, action, to). CHANGE leaves the old service SWAPPED
/// (its replacement starts EFFECTIVE); REGRET only within `REGRET_DAYS`.
pub const SERVICE_TRANSITIONS: [(ServiceState, ServiceAction, ServiceState); 12] = [
    (ServiceState::Draft, ServiceAction::Activate, ServiceState::Effective),
    (
        ServiceState::NotEffective,
        ServiceAction::Activate,
        ServiceState::Effective,
    ),
    (
        ServiceState::Effective,
        ServiceAction::Deactivate,
        ServiceState::NotEffective,
    ),
    (
        ServiceState::Paused,
        ServiceAction::Deactivate,
        ServiceState::NotEffective,
    ),
    (ServiceState::Effective, ServiceAction::Pause, ServiceState::Paused),
    (ServiceState::Paused, ServiceAction::Resume, ServiceState::Effective),
    (ServiceState::Draft, ServiceAction::Cancel, ServiceState::Cancelled),
    (ServiceState::Effective, ServiceAction::Cancel, ServiceState::Cancelled),
    (
        ServiceState::NotEffective,
        ServiceAction::Cancel,
        ServiceState::Cancelled,
    ),
    (ServiceState::Paused, ServiceAction::Cancel, ServiceState::Cancelled),
    (ServiceState::Effective, ServiceAction::Regret, ServiceState::Regretted),
    (ServiceState::Effective, ServiceAction::Change, ServiceState::Swapped),
];

/// The state `action` takes a service in `from` to, or why it cannot.
pub fn service_next(from: ServiceState, action: ServiceAction) -> Result<ServiceState, String> {
    SERVICE_TRANSITIONS
        .iter()
        .find(|(state, taken, _)| *state == from && *taken == action)
        .map(|(_, _, to)| *to)
        .ok_or_else(|| format!("a {} service cannot be sent {}", from.code(), action.code()))
}

fn at(seconds: i64) -> Option<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp(seconds, 0)
}

/// Boundary `k` of cycles of `period` from `anchor` (`None` past the calendar's end).
pub fn boundary(anchor: i64, period: BillingPeriod, k: u32) -> Option<i64> {
    let steps = period.duration.checked_mul(k)?;
    match period.unit {
        PeriodUnit::Day => anchor.checked_add(i64::from(steps).checked_mul(86_400)?),
        PeriodUnit::Week => anchor.checked_add(i64::from(steps).checked_mul(7 * 86_400)?),
        PeriodUnit::Month => Some(at(anchor)?.checked_add_months(Months::new(steps))?.timestamp()),
        PeriodUnit::Year => Some(
            at(anchor)?
                .checked_add_months(Months::new(steps.checked_mul(12)?))?
                .timestamp(),
        ),
    }
}

/// The cycle `[start, end)` of a subscription anchored at `anchor` that holds `moment`
/// (the first cycle for any moment before the anchor).
pub fn cycle_at(anchor: i64, period: BillingPeriod, moment: i64) -> Option<(i64, i64)> {
    numbered_cycle(anchor, period, moment).map(|(_, start, end)| (start, end))
}

/// The cycle holding `moment` as (its number, the first being 1; start; end).
fn numbered_cycle(anchor: i64, period: BillingPeriod, moment: i64) -> Option<(u32, i64, i64)> {
    // An estimate of k from the period's length in seconds, then corrected: calendar
    // months vary, so step until the boundary brackets the moment.
    let approx = match period.unit {
        PeriodUnit::Day => 86_400,
        PeriodUnit::Week => 7 * 86_400,
        PeriodUnit::Month => 2_629_746,
        PeriodUnit::Year => 31_556_952,
    } * i64::from(period.duration.max(1));
    let mut k = u32::try_from(((moment - anchor).max(0) / approx).max(0)).ok()?;
    loop {
        let start = boundary(anchor, period, k)?;
        if start > moment && k > 0 {
            k -= 1;
            continue;
        }
        let end = boundary(anchor, period, k.checked_add(1)?)?;
        if end <= moment {
            k += 1;
            continue;
        }
        return Some((k.checked_add(1)?, start, end));
    }
}

/// `amount` for `[from, to)` of the cycle `[start, end)`: in proportion to the seconds.
pub fn prorate(amount: Decimal, (from, to): (i64, i64), (start, end): (i64, i64), minor_units: u32) -> Option<Decimal> {
    if to <= from || end <= start {
        return Some(Decimal::ZERO);
    }
    if from <= start && to >= end {
        return Some(amount);
    }
    let share = amount
        .checked_mul(Decimal::from(to - from))?
        .checked_div(Decimal::from(end - start))?;
    Some(share.round_dp_with_strategy(minor_units, RoundingStrategy::MidpointAwayFromZero))
}

/// A service of a subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub id: ServiceId,
    pub product: ProductId,
    pub sku: String,
    pub name: String,
    pub classification: ProductClassification,
    /// The price it was subscribed at (kept: a later change to the catalogue's price does
    /// not change the terms).
    pub price: Price,
    pub tax_rate: Option<TaxRate>,
    pub quantity: u32,
    pub state: ServiceState,
    pub added_on: i64,
    pub first_activated_on: Option<i64>,
    pub last_activated_on: Option<i64>,
    pub last_deactivated_on: Option<i64>,
    /// Cancelled, regretted or swapped then.
    pub removed_on: Option<i64>,
    /// A pause ends then (resumed at the next billing run after it).
    pub paused_until: Option<i64>,
    /// Billed up to here.
    pub billed_to: i64,
    /// The service it replaced (CHANGE), and the one that replaced it.
    pub change_of: Option<ServiceId>,
    pub changed_to: Option<ServiceId>,
}

impl Service {
    /// What one whole cycle of it costs, taxed.
    pub fn cycle_amounts(&self, currency: Currency) -> Option<LineAmounts> {
        let pricing = self.price.total(self.quantity)?;
        apply_tax(
            pricing,
            self.tax_rate.as_ref(),
            self.price.tax_model,
            currency.minor_units(),
        )
    }

    pub fn billable(&self) -> bool {
        self.state == ServiceState::Effective
    }
}

/// One line of a bill: a service over part of its cycles, or a credit given back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillLine {
    pub service: ServiceId,
    pub sku: String,
    pub name: String,
    pub from: i64,
    pub to: i64,
    /// Negative for a credit.
    pub amounts: LineAmounts,
    /// The service's billing moves to `to` once the bill is paid (credits move nothing).
    pub advances: bool,
}

coded!(
    BillState {
        Pending = "PENDING",
        Paid = "PAID",
        Failed = "FAILED",
    }
);

/// A subscription's bill: what it charges (or credits), from what, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bill {
    pub id: BillId,
    pub tenant: Tenant,
    pub subscription: SubscriptionId,
    pub contact: ContactId,
    pub seq: u32,
    pub currency: Currency,
    pub lines: Vec<BillLine>,
    pub totals: LineAmounts,
    pub funding: FundingSource,
    pub state: BillState,
    /// Why its last payment failed.
    pub failure: Option<String>,
    pub attempts: u32,
    pub created_on: i64,
    pub paid_on: Option<i64>,
}

impl Bill {
    /// The bill numbered `seq` of a subscription: its id follows from both, so a billing
    /// run that starts again finds the bill it made before.
    pub fn id_for(subscription: SubscriptionId, seq: u32) -> BillId {
        let mut name = subscription.as_bytes().to_vec();
        name.extend_from_slice(&seq.to_be_bytes());
        BillId(uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, &name))
    }
}

/// A contact's services of one billing period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub tenant: Tenant,
    pub contact: ContactId,
    pub wallet: WalletId,
    pub account: Option<AccountId>,
    pub currency: Currency,
    pub period: BillingPeriod,
    pub billing_model: BillingModel,
    pub funding: FundingSource,
    /// Cycles start here.
    pub anchor: i64,
    pub services: Vec<Service>,
    /// Bills made so far (the next bill's `seq`).
    pub bills: u32,
    /// A bill made and not yet paid: the next run pays it before billing anything else.
    pub open_bill: Option<BillId>,
    /// Credits a change or a regret gave, for the next bill.
    pub credits: Vec<BillLine>,
    /// What each service used of its allowances this cycle and today.
    pub usage: Vec<super::usage::UsageTally>,
    /// Actions taken on its services and those scheduled, oldest first.
    pub actions: Vec<SubscriptionAction>,
    /// When the billing run should next look at it (the scheduler's index).
    pub next_billing_at: i64,
    pub created_on: i64,
    pub updated_on: i64,
}

impl Subscription {
    /// Its code, a function of its id.
    pub fn code(&self) -> String {
        format!("SUB{:010}", self.id.0.as_u128() % 10_000_000_000)
    }

    /// The services' billing moved on by a bill's charge lines (credits move nothing).
    pub fn advance(&mut self, lines: &[BillLine]) {
        for line in lines.iter().filter(|line| line.advances) {
            if let Some(service) = self.services.iter_mut().find(|s| s.id == line.service) {
                service.billed_to = service.billed_to.max(line.to);
            }
        }
    }

    /// The billing cycles that a bill's charge lines renew — those a line pays from their
    /// start — each numbered by whole periods since the subscription started (its first
    /// cycle is 1), so a later change of billing day neither repeats nor restarts the
    /// count. A line from inside a cycle (a service added, changed or activated then)
    /// renews none.
    pub fn renewed_cycles(&self, lines: &[BillLine]) -> Vec<u32> {
        let mut cycles: Vec<u32> = lines
            .iter()
            .filter(|line| line.advances && line.to > line.from)
            .filter(|line| cycle_at(self.anchor, self.period, line.from).is_some_and(|(start, _)| start == line.from))
            .filter_map(|line| numbered_cycle(self.created_on, self.period, line.from).map(|(number, _, _)| number))
            .collect();
        cycles.sort_unstable();
        cycles.dedup();
        cycles
    }

    pub fn state(&self) -> SubscriptionState {
        if self
            .services
            .iter()
            .any(|s| matches!(s.state, ServiceState::Effective | ServiceState::Paused))
        {
            SubscriptionState::Active
        } else if self
            .services
            .iter()
            .any(|s| matches!(s.state, ServiceState::NotEffective | ServiceState::Draft))
        {
            SubscriptionState::Inactive
        } else {
            SubscriptionState::Churned
        }
    }

    /// Where billing stops now: the current cycle's end (PRE_BILL) or start (POST_BILL).
    pub fn horizon(&self, now: i64) -> Option<i64> {
        let (start, end) = cycle_at(self.anchor, self.period, now)?;
        Some(match self.billing_model {
            BillingModel::PreBill => end,
            BillingModel::PostBill => start,
        })
    }

    /// The lines a bill made now would have: each effective service from its billing up
    /// to the horizon, cycle by cycle, prorated at the edges; at most
    /// `CYCLES_PER_BILL_MAX` cycles each. `None` on overflow.
    pub fn due_lines(&self, now: i64) -> Option<Vec<BillLine>> {
        let horizon = self.horizon(now)?;
        let mut lines = self.credits.clone();
        for service in self.services.iter().filter(|s| s.billable()) {
            let whole = service.cycle_amounts(self.currency)?;
            let mut from = service.billed_to;
            let mut cycles = 0;
            while from < horizon && cycles < CYCLES_PER_BILL_MAX {
                let cycle = cycle_at(self.anchor, self.period, from)?;
                let to = cycle.1.min(horizon);
                let share = |value| prorate(value, (from, to), cycle, self.currency.minor_units());
                let (net, tax) = (share(whole.net)?, share(whole.tax)?);
                lines.push(BillLine {
                    service: service.id,
                    sku: service.sku.clone(),
                    name: service.name.clone(),
                    from,
                    to,
                    amounts: LineAmounts {
                        net,
                        tax,
                        total: net.checked_add(tax)?,
                    },
                    advances: true,
                });
                from = to;
                cycles += 1;
            }
        }
        Some(lines)
    }

    /// A credit for what `service` was billed beyond `from` (its billing brought back to
    /// `from`); `None` when nothing was.
    pub fn credit_from(&self, service: &Service, from: i64) -> Option<BillLine> {
        if service.billed_to <= from {
            return None;
        }
        let whole = service.cycle_amounts(self.currency)?;
        let (mut net, mut tax) = (Decimal::ZERO, Decimal::ZERO);
        let mut cursor = from;
        while cursor < service.billed_to {
            let cycle = cycle_at(self.anchor, self.period, cursor)?;
            let to = cycle.1.min(service.billed_to);
            net = net.checked_add(prorate(whole.net, (cursor, to), cycle, self.currency.minor_units())?)?;
            tax = tax.checked_add(prorate(whole.tax, (cursor, to), cycle, self.currency.minor_units())?)?;
            cursor = to;
        }
        Some(BillLine {
            service: service.id,
            sku: service.sku.clone(),
            name: service.name.clone(),
            from,
            to: service.billed_to,
            amounts: LineAmounts {
                net: -net,
                tax: -tax,
                total: -(net.checked_add(tax)?),
            },
            advances: false,
        })
    }

    /// When the billing run should next look at it: now while a bill is open or anything
    /// is due, else the next cycle boundary (or a pause's end, if sooner); never
    /// (`i64::MAX`) while no service is effective or paused — an action that activates one
    /// looks again itself.
    pub fn next_look(&self, now: i64) -> i64 {
        if self.open_bill.is_some() || self.due_lines(now).is_some_and(|lines| !lines.is_empty()) {
            return now;
        }
        let scheduled = self
            .actions
            .iter()
            .filter(|a| a.state == ActionState::Scheduled)
            .filter_map(|a| a.scheduled_on)
            .min()
            .map_or(i64::MAX, |at| at.max(now));
        if !self
            .services
            .iter()
            .any(|s| matches!(s.state, ServiceState::Effective | ServiceState::Paused))
        {
            return scheduled;
        }
        let boundary = cycle_at(self.anchor, self.period, now).map_or(i64::MAX, |(_, end)| end);
        let resume = self
            .services
            .iter()
            .filter(|s| s.state == ServiceState::Paused)
            .filter_map(|s| s.paused_until)
            .min()
            .unwrap_or(i64::MAX);
        boundary.min(resume).min(scheduled)
    }

    /// Remembers an action, dropping the oldest done ones past `ACTIONS_KEPT`.
    pub fn remember(&mut self, action: SubscriptionAction) {
        self.actions.push(action);
        while self.actions.len() > ACTIONS_KEPT {
            match self.actions.iter().position(|a| a.state != ActionState::Scheduled) {
                Some(index) => {
                    self.actions.remove(index);
                }
                None => break,
            }
        }
    }

    pub fn service(&self, id: ServiceId) -> Option<&Service> {
        self.services.iter().find(|s| s.id == id)
    }

    /// Takes `action` on service `id` at `now`, as the table and the rules above say
    /// (`replacement`: the service a CHANGE puts in its place). Nothing changes on refusal.
    pub fn apply_action(
        &mut self,
        id: ServiceId,
        action: ServiceAction,
        pause_days: Option<u32>,
        replacement: Option<Service>,
        now: i64,
    ) -> Result<(), String> {
        let index = self
            .services
            .iter()
            .position(|s| s.id == id)
            .ok_or("the service is not one of the subscription's")?;
        let to = service_next(self.services[index].state, action)?;
        let before = self.services[index].clone();
        let mut service = before.clone();
        service.state = to;
        match action {
            ServiceAction::Activate | ServiceAction::Resume => {
                service.billed_to = service.billed_to.max(now);
                service.last_activated_on = Some(now);
                service.first_activated_on.get_or_insert(now);
                service.paused_until = None;
            }
            ServiceAction::Deactivate => {
                service.last_deactivated_on = Some(now);
                service.paused_until = None;
            }
            ServiceAction::Pause => {
                service.paused_until = match pause_days {
                    None => None,
                    Some(days) if (1..=PAUSE_DAYS_MAX).contains(&days) => Some(now + i64::from(days) * 86_400),
                    Some(_) => return Err(format!("number_of_days must be 1 to {PAUSE_DAYS_MAX}")),
                };
            }
            ServiceAction::Cancel => service.removed_on = Some(now),
            ServiceAction::Regret => {
                let first = before.first_activated_on.unwrap_or(before.added_on);
                if now - first > REGRET_DAYS * 86_400 {
                    return Err(format!(
                        "a service may be regretted within {REGRET_DAYS} days of its activation"
                    ));
                }
                if let Some(credit) = self.credit_from(&before, first) {
                    self.credits.push(credit);
                }
                service.billed_to = service.billed_to.min(first);
                service.removed_on = Some(now);
            }
            ServiceAction::Change => {
                let mut new = replacement.ok_or("CHANGE names the service to change to")?;
                if self.services.len() >= SERVICES_MAX {
                    return Err(format!("a subscription holds at most {SERVICES_MAX} services"));
                }
                if let Some(credit) = self.credit_from(&before, now) {
                    self.credits.push(credit);
                }
                service.billed_to = service.billed_to.min(now);
                service.removed_on = Some(now);
                service.changed_to = Some(new.id);
                new.change_of = Some(before.id);
                new.billed_to = now;
                self.services.push(new);
            }
        }
        self.services[index] = service;
        self.updated_on = now;
        Ok(())
    }
}

/// The day a contact moves a subscription's cycles to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillingDay {
    /// A weekly subscription's: Monday is 0.
    OfWeek(u8),
    /// A monthly subscription's: 1 to `BILLING_DAY_OF_MONTH_MAX` (a day every month has).
    OfMonth(u8),
}

pub const BILLING_DAY_OF_MONTH_MAX: u8 = 28;

/// The calendar day (UTC) of a subscription's anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnchorDay {
    /// Monday is 0.
    pub weekday: u8,
    /// 1 to 31.
    pub day: u8,
    /// January is 0.
    pub month0: u8,
}

impl Subscription {
    /// Moves its cycles to start on `day` (at midnight UTC): the anchor becomes the latest
    /// such day at or before `now`. What services were billed stands; the next bill runs
    /// each from there to the end of a new cycle, prorated.
    pub fn anchor_day(&self) -> Option<AnchorDay> {
        use chrono::Datelike;
        let anchor = at(self.anchor)?;
        Some(AnchorDay {
            weekday: u8::try_from(anchor.weekday().num_days_from_monday()).ok()?,
            day: u8::try_from(anchor.day()).ok()?,
            month0: u8::try_from(anchor.month0()).ok()?,
        })
    }

    pub fn rebase(&mut self, day: BillingDay, now: i64) -> Result<(), String> {
        use chrono::{Datelike, Days, NaiveDate};
        let today = at(now).ok_or("the date is out of range")?.date_naive();
        let anchor: NaiveDate = match (self.period.unit, day) {
            (PeriodUnit::Week, BillingDay::OfWeek(weekday)) if weekday < 7 => {
                let back = (today.weekday().num_days_from_monday() + 7 - u32::from(weekday)) % 7;
                today.checked_sub_days(Days::new(u64::from(back)))
            }
            (PeriodUnit::Month, BillingDay::OfMonth(day)) if (1..=BILLING_DAY_OF_MONTH_MAX).contains(&day) => {
                let this_month = today.with_day(u32::from(day));
                match this_month {
                    Some(date) if date <= today => Some(date),
                    _ => today
                        .checked_sub_months(Months::new(1))
                        .and_then(|last| last.with_day(u32::from(day))),
                }
            }
            (PeriodUnit::Week, BillingDay::OfWeek(_)) => return Err("day_of_week must name a day".into()),
            (PeriodUnit::Month, BillingDay::OfMonth(_)) => {
                return Err(format!("day_of_month must be 1 to {BILLING_DAY_OF_MONTH_MAX}"))
            }
            (PeriodUnit::Week, BillingDay::OfMonth(_)) => {
                return Err("a weekly subscription's billing day is a day_of_week".into())
            }
            (PeriodUnit::Month, BillingDay::OfWeek(_)) => {
                return Err("a monthly subscription's billing day is a day_of_month".into())
            }
            (PeriodUnit::Day | PeriodUnit::Year, _) => {
                return Err("only weekly and monthly subscriptions move their billing day".into())
            }
        }
        .ok_or("the date is out of range")?;
        self.anchor = anchor
            .and_hms_opt(0, 0, 0)
            .ok_or("the date is out of range")?
            .and_utc()
            .timestamp();
        self.updated_on = now;
        Ok(())
    }
}

/// The sum of bill lines; `None` on overflow.
pub fn bill_totals(lines: &[BillLine]) -> Option<LineAmounts> {
    lines
        .iter()
        .try_fold(LineAmounts::default(), |sum, line| sum.plus(line.amounts))
}

#[cfg(test)]
#[path = "subscription_tests.rs"]
mod tests;
