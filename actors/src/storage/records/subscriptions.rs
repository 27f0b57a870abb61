//! Subscriptions, each contact's list of them, their bills, and the billing run's index of
//! subscriptions due a look.

use crate::domain::ids::ProductId;
use crate::domain::ids::{BillId, ContactId, SubscriptionId};
use crate::domain::subscription::{Bill, Subscription};
use crate::domain::usage::{ProductAllowances, UsageRecord};
use crate::storage::*;
use serde::{Deserialize, Serialize};

/// The billing run's index entry: look at this subscription from `due` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueSubscription {
    pub due: i64,
    pub tenant: Tenant,
    pub subscription: SubscriptionId,
}

impl Store {
    pub fn subscription(&self, tenant: &Tenant, id: SubscriptionId) -> Result<Option<Subscription>, StoreError> {
        self.get(&keys::subscription(tenant, id))
    }

    pub fn contact_subscriptions(
        &self,
        tenant: &Tenant,
        contact: ContactId,
    ) -> Result<Vec<SubscriptionId>, StoreError> {
        self.scan(&keys::contact_subscriptions(tenant, contact), usize::MAX)
    }

    pub fn bill(&self, tenant: &Tenant, id: BillId) -> Result<Option<Bill>, StoreError> {
        self.get(&keys::bill(tenant, id))
    }

    pub fn product_allowances(
        &self,
        tenant: &Tenant,
        product: ProductId,
    ) -> Result<Option<ProductAllowances>, StoreError> {
        self.get(&keys::product_allowances(tenant, product))
    }

    /// A contact's usage records, oldest first.
    pub fn usage_records(&self, tenant: &Tenant, contact: ContactId) -> Result<Vec<UsageRecord>, StoreError> {
        self.scan(&keys::usage_records(tenant, contact), usize::MAX)
    }

    /// Up to `limit` subscriptions due a look at or before `now`, soonest first.
    pub fn subscriptions_due(&self, now: i64, limit: usize) -> Result<Vec<DueSubscription>, StoreError> {
        let due: Vec<DueSubscription> = self.scan(&keys::due_subscriptions(), limit)?;
        Ok(due.into_iter().take_while(|entry| entry.due <= now).collect())
    }
}

impl WriteSet {
    /// A subscription, its place in its contact's list, and the billing run's index in step
    /// with `next_billing_at` (the entry `before` had goes; none while nothing is to come).
    pub fn subscription(&mut self, subscription: &Subscription, before: Option<&Subscription>) {
        let tenant = &subscription.tenant;
        self.put(keys::subscription(tenant, subscription.id), encode(subscription));
        match before {
            None => self.put(
                keys::contact_subscription(tenant, subscription.contact, subscription.id),
                encode(&subscription.id),
            ),
            Some(before) if before.next_billing_at != subscription.next_billing_at => {
                self.remove(keys::due_subscription(before.next_billing_at, tenant, subscription.id));
            }
            Some(_) => {}
        }
        if subscription.next_billing_at != i64::MAX {
            let entry = DueSubscription {
                due: subscription.next_billing_at,
                tenant: *tenant,
                subscription: subscription.id,
            };
            self.put(
                keys::due_subscription(entry.due, tenant, subscription.id),
                encode(&entry),
            );
        }
    }

    pub fn product_allowances(&mut self, tenant: &Tenant, allowances: &ProductAllowances) {
        self.put(keys::product_allowances(tenant, allowances.product), encode(allowances));
    }

    pub fn usage_record(&mut self, record: &UsageRecord) {
        self.put(
            keys::usage_record(&record.tenant, record.contact, record.at, record.id),
            encode(record),
        );
    }

    pub fn bill(&mut self, bill: &Bill) {
        self.put(keys::bill(&bill.tenant, bill.id), encode(bill));
    }
}
