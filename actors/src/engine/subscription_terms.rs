//! A subscription's own terms, as its contact changes them (`PUT /subscriptions/{id}`):
//! the day its cycles start on, what its bills are paid from, and cancelling it — every
//! service it still has, at once or on a later date.

use super::subscriptions::{action_record, Funding, ServiceChange};
use super::{claim_key, invalid, Engine, EngineError};
use crate::domain::ids::{ContactId, SubscriptionId, Tenant};
use crate::domain::subscription::{
    service_next, ActionState, BillingDay, FundingSource, ServiceAction, Subscription, SCHEDULED_MAX,
};
use crate::storage::WriteSet;

/// Furthest ahead an action may be scheduled.
pub(super) const SCHEDULE_AHEAD_MAX_S: i64 = 3 * 366 * 86_400;

/// A change to a subscription's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionUpdate {
    /// Its cycles start on this day from now on.
    BillingDay(BillingDay),
    /// Bills made from now on are paid from here (a bill already made keeps its source:
    /// its payment may be under way).
    Funding(Funding),
    /// Every service it still has is cancelled: now, or by the billing run on that date.
    Cancel { scheduled: Option<i64> },
}

impl Engine {
    /// Changes one of `owner`'s subscriptions (another contact's is not found) and answers
    /// it as it stands.
    pub async fn update_subscription(
        &self,
        tenant: Tenant,
        owner: ContactId,
        id: SubscriptionId,
        update: SubscriptionUpdate,
    ) -> Result<Subscription, EngineError> {
        self.check_open()?;
        self.subscription(&tenant, Some(owner), id)?;
        let _claim = self
            .inner
            .claims
            .claim(claim_key(b'=', &tenant, id.as_bytes()), rand::random())
            .map_err(|_| EngineError::Busy("subscription"))?;
        let before = self.subscription(&tenant, Some(owner), id)?;
        let now = self.now();
        let mut after = before.clone();
        match update {
            SubscriptionUpdate::BillingDay(day) => {
                after.rebase(day, now).map_err(|why| invalid("billing_day", why))?;
            }
            SubscriptionUpdate::Funding(Funding::Wallet) => {
                after.funding = FundingSource::Wallet;
            }
            SubscriptionUpdate::Funding(Funding::Account) => {
                after.account = Some(self.funding_account(&tenant, owner, after.currency)?);
                after.funding = FundingSource::Account;
            }
            SubscriptionUpdate::Cancel { scheduled } => {
                after = self.cancelled(&tenant, after, scheduled, now)?;
            }
        }
        after.next_billing_at = after.next_look(now);
        after.updated_on = now;
        let mut writes = WriteSet::default();
        writes.subscription(&after, Some(&before));
        self.commit_durable(writes).await?;
        if after.next_billing_at <= now {
            self.bill_claimed(tenant, id).await?;
        }
        self.subscription(&tenant, Some(owner), id)
    }

    /// `subscription` with each service that can still be cancelled cancelled now, or a
    /// CANCEL scheduled for each on `scheduled` (checked as if taken now).
    fn cancelled(
        &self,
        tenant: &Tenant,
        subscription: Subscription,
        scheduled: Option<i64>,
        now: i64,
    ) -> Result<Subscription, EngineError> {
        let services: Vec<_> = subscription
            .services
            .iter()
            .filter(|s| service_next(s.state, ServiceAction::Cancel).is_ok())
            .map(|s| s.id)
            .collect();
        if services.is_empty() {
            return Err(EngineError::Conflict(
                "the subscription has no service left to cancel".into(),
            ));
        }
        let change = ServiceChange {
            action: ServiceAction::Cancel,
            days: None,
            change_to: None,
            quantity: None,
            price_terms: None,
            scheduled: scheduled.filter(|at| *at > now),
        };
        let mut after = subscription.clone();
        for service in &services {
            after = self.changed(tenant, after, *service, &change, now)?;
        }
        let Some(at) = change.scheduled else {
            for service in services {
                after.remember(action_record(service, &change, now));
            }
            return Ok(after);
        };
        if at > now.saturating_add(SCHEDULE_AHEAD_MAX_S) {
            return Err(invalid("scheduled_date", "at most three years ahead"));
        }
        let waiting = subscription
            .actions
            .iter()
            .filter(|a| a.state == ActionState::Scheduled)
            .count();
        if waiting + services.len() > SCHEDULED_MAX {
            return Err(EngineError::Conflict(format!(
                "a subscription has at most {SCHEDULED_MAX} actions scheduled"
            )));
        }
        // Only checked: the billing run takes them when due.
        let mut kept = subscription;
        for service in services {
            let mut record = action_record(service, &change, now);
            record.state = ActionState::Scheduled;
            record.scheduled_on = Some(at);
            record.executed_on = None;
            kept.remember(record);
        }
        Ok(kept)
    }
}
