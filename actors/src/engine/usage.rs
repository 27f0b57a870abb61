//! Usage allowances (`domain::usage`): the back office gives a termed service's product
//! its allowances of usage products; apps ask whether usage may be consumed now against a
//! contact's service, and — blocking it — record it: the records and the subscription's
//! tallies in one commit, under the subscription's claim, so two consumptions never both
//! take the last of an allowance.

use super::{claim_key, invalid, Engine, EngineError};
use crate::domain::ids::{ContactId, ProductId, ServiceId, SubscriptionId, Tenant, UsageEstimateId, UsageRecordId};
use crate::domain::product::ProductClassification;
use crate::domain::subscription::{cycle_at, ServiceState, Subscription};
use crate::domain::usage::{
    day_start, Allowance, ProductAllowances, Remaining, UsageRecord, UsageTally, ALLOWANCES_MAX, USAGE_LINES_MAX,
    USAGE_MAX,
};
use crate::storage::WriteSet;
use rust_decimal::Decimal;

/// An allowance to give a product: a usage product and its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewAllowance {
    pub product: ProductId,
    pub per_transaction: Option<Decimal>,
    pub per_day: Option<Decimal>,
    pub per_cycle: Option<Decimal>,
}

/// One usage product asked for, and what is left of its allowance before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageLine {
    pub allowance: Allowance,
    pub amount: Decimal,
    pub remaining: Remaining,
    pub authorised: bool,
}

/// The answer to a usage authorisation.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageAuthorisation {
    pub id: UsageEstimateId,
    pub subscription: Subscription,
    pub service: ServiceId,
    /// Every allowance of the service, with what is left of it after what was recorded.
    pub allowances: Vec<(Allowance, Remaining)>,
    pub lines: Vec<UsageLine>,
    pub authorised: bool,
    /// The records made (blocking, when authorised).
    pub recorded: Vec<UsageRecord>,
}

/// Which of a contact's usage records to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageFilter {
    pub service: Option<ServiceId>,
    pub subscription: Option<SubscriptionId>,
    pub product: Option<ProductId>,
}

fn bound(parameter: &'static str, value: Option<Decimal>) -> Result<Option<Decimal>, EngineError> {
    if let Some(value) = value {
        if value <= Decimal::ZERO || value > Decimal::from(USAGE_MAX) || value.normalize().scale() > 6 {
            return Err(invalid(
                parameter,
                format!("must be above 0, at most {USAGE_MAX}, 6 decimals at most"),
            ));
        }
    }
    Ok(value)
}

impl Engine {
    /// Gives termed service `product` its allowances (replacing any): usage products of the
    /// business, each once, with at least one bound.
    pub async fn set_allowances(
        &self,
        tenant: Tenant,
        product: ProductId,
        asked: Vec<NewAllowance>,
    ) -> Result<ProductAllowances, EngineError> {
        self.check_open()?;
        let service = self.product(&tenant, product)?;
        if service.classification != ProductClassification::TermedService {
            return Err(invalid("product", "only a termed service has allowances"));
        }
        if asked.len() > ALLOWANCES_MAX {
            return Err(invalid("allowances", format!("at most {ALLOWANCES_MAX}")));
        }
        let mut allowances: Vec<Allowance> = Vec::with_capacity(asked.len());
        for new in asked {
            let usage = self
                .inner
                .store
                .product(&tenant, new.product)?
                .filter(|p| p.classification == ProductClassification::UsageService)
                .ok_or_else(|| invalid("allowances.product_id", "must be a usage service of the business"))?;
            if allowances.iter().any(|a| a.product == usage.id) {
                return Err(invalid("allowances.product_id", "each usage product once"));
            }
            let allowance = Allowance {
                product: usage.id,
                sku: usage.sku,
                name: usage.name,
                per_transaction: bound("allowances.per_transaction", new.per_transaction)?,
                per_day: bound("allowances.per_day", new.per_day)?,
                per_cycle: bound("allowances.per_billing_cycle", new.per_cycle)?,
            };
            if allowance.per_transaction.is_none() && allowance.per_day.is_none() && allowance.per_cycle.is_none() {
                return Err(invalid("allowances", "an allowance has at least one bound"));
            }
            allowances.push(allowance);
        }
        let record = ProductAllowances {
            product,
            allowances,
            updated_on: self.now(),
        };
        let mut writes = WriteSet::default();
        writes.product_allowances(&tenant, &record);
        self.commit_durable(writes).await?;
        Ok(record)
    }

    /// A product's allowances (none set: none).
    pub fn allowances(&self, tenant: &Tenant, product: ProductId) -> Result<Vec<Allowance>, EngineError> {
        Ok(self
            .inner
            .store
            .product_allowances(tenant, product)?
            .map(|record| record.allowances)
            .unwrap_or_default())
    }

    /// Whether `contact` may consume `usage` (usage product, amount) on its service `id`
    /// now: each amount within what is left of its allowance per transaction, today and
    /// this cycle, the service effective. With `block`, authorised usage is recorded.
    pub async fn authorise_usage(
        &self,
        tenant: Tenant,
        contact: ContactId,
        id: ServiceId,
        usage: &[(ProductId, Decimal)],
        block: bool,
    ) -> Result<UsageAuthorisation, EngineError> {
        self.check_open()?;
        if usage.is_empty() || usage.len() > USAGE_LINES_MAX {
            return Err(invalid("usage", format!("1 to {USAGE_LINES_MAX} lines")));
        }
        for (_, amount) in usage {
            bound("usage.usage_amount", Some(*amount))?;
        }
        let found = self
            .contact_subscriptions(&tenant, contact)?
            .into_iter()
            .find(|s| s.service(id).is_some())
            .ok_or(EngineError::NotFound("service"))?;
        let _claim = if block {
            Some(
                self.inner
                    .claims
                    .claim(claim_key(b'=', &tenant, found.id.as_bytes()), rand::random())
                    .map_err(|_| EngineError::Busy("subscription"))?,
            )
        } else {
            None
        };
        let before = self.subscription(&tenant, Some(contact), found.id)?;
        let service = before.service(id).ok_or(EngineError::NotFound("service"))?.clone();
        let allowances = self.allowances(&tenant, service.product)?;
        let now = self.now();
        let (cycle_start, _) = cycle_at(before.anchor, before.period, now).ok_or(EngineError::Internal("cycle"))?;
        let today = day_start(now);
        let tally = |product: ProductId, subscription: &Subscription| {
            UsageTally::used(
                subscription
                    .usage
                    .iter()
                    .find(|t| t.service == id && t.product == product),
                cycle_start,
                today,
            )
        };
        let mut lines = Vec::with_capacity(usage.len());
        for (product, amount) in usage {
            let allowance = allowances
                .iter()
                .find(|a| a.product == *product)
                .ok_or_else(|| invalid("usage.product", "is not one of the service's allowances"))?
                .clone();
            // The lines already asked for of the same product count against it too.
            let (cycle_used, day_used) = tally(*product, &before);
            let earlier: Decimal = lines
                .iter()
                .filter(|l: &&UsageLine| l.allowance.product == *product)
                .map(|l| l.amount)
                .sum();
            let remaining = Remaining::of(&allowance, (cycle_used + earlier, day_used + earlier));
            lines.push(UsageLine {
                authorised: service.state == ServiceState::Effective && remaining.allows(*amount),
                allowance,
                amount: *amount,
                remaining,
            });
        }
        let authorised = lines.iter().all(|line| line.authorised);
        let estimate = UsageEstimateId::random();
        let mut after = before.clone();
        let mut recorded = Vec::new();
        if block && authorised {
            for line in &lines {
                let index = match after
                    .usage
                    .iter()
                    .position(|t| t.service == id && t.product == line.allowance.product)
                {
                    Some(index) => index,
                    None => {
                        after.usage.push(UsageTally {
                            service: id,
                            product: line.allowance.product,
                            cycle_start,
                            cycle_used: Decimal::ZERO,
                            day_start: today,
                            day_used: Decimal::ZERO,
                        });
                        after.usage.len() - 1
                    }
                };
                let tally = &mut after.usage[index];
                let (cycle_used, day_used) = UsageTally::used(Some(tally), cycle_start, today);
                *tally = UsageTally {
                    service: id,
                    product: line.allowance.product,
                    cycle_start,
                    cycle_used: cycle_used + line.amount,
                    day_start: today,
                    day_used: day_used + line.amount,
                };
                recorded.push(UsageRecord {
                    id: UsageRecordId::random(),
                    tenant,
                    contact,
                    subscription: after.id,
                    service: id,
                    service_sku: service.sku.clone(),
                    service_name: service.name.clone(),
                    product: line.allowance.product,
                    sku: line.allowance.sku.clone(),
                    name: line.allowance.name.clone(),
                    amount: line.amount,
                    at: now,
                    estimate,
                    organisation: None,
                });
            }
            after.updated_on = now;
            let mut writes = WriteSet::default();
            writes.subscription(&after, Some(&before));
            for record in &recorded {
                writes.usage_record(record);
            }
            self.commit_durable(writes).await?;
        }
        let allowances = allowances
            .into_iter()
            .map(|allowance| {
                let left = Remaining::of(&allowance, tally(allowance.product, &after));
                (allowance, left)
            })
            .collect();
        Ok(UsageAuthorisation {
            id: estimate,
            subscription: after,
            service: id,
            allowances,
            lines,
            authorised,
            recorded,
        })
    }

    /// The currency of `contact`'s wallet.
    pub fn contact_currency(
        &self,
        tenant: &Tenant,
        contact: ContactId,
    ) -> Result<crate::domain::money::Currency, EngineError> {
        Ok(self.contact_route(tenant, &super::ContactRef::Id(contact))?.currency)
    }

    /// A contact's usage records, newest first, as `filter` chooses.
    pub fn usage_records(
        &self,
        tenant: &Tenant,
        contact: ContactId,
        filter: &UsageFilter,
    ) -> Result<Vec<UsageRecord>, EngineError> {
        let mut records: Vec<UsageRecord> = self
            .inner
            .store
            .usage_records(tenant, contact)?
            .into_iter()
            .filter(|r| filter.service.is_none_or(|s| s == r.service))
            .filter(|r| filter.subscription.is_none_or(|s| s == r.subscription))
            .filter(|r| filter.product.is_none_or(|p| p == r.product))
            .collect();
        records.reverse();
        Ok(records)
    }
}
