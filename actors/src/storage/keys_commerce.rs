//! Keys of orders, fulfilment terms, subscriptions, bills, the billing run's index,
//! allowances, usage records and contacts' addresses (their prefixes and layout are in
//! `keys`' table).

use super::*;

pub fn order_estimate(tenant: &Tenant, id: crate::domain::ids::OrderEstimateId) -> Vec<u8> {
    tenant_key(ORDER_ESTIMATE, tenant, id.as_bytes())
}

pub fn orders(tenant: &Tenant) -> Vec<u8> {
    tenant_key(ORDER, tenant, &[])
}

pub fn order(tenant: &Tenant, id: crate::domain::ids::OrderId) -> Vec<u8> {
    tenant_key(ORDER, tenant, id.as_bytes())
}

pub fn contact_orders(tenant: &Tenant, contact: ContactId) -> Vec<u8> {
    tenant_key(CONTACT_ORDER, tenant, contact.as_bytes())
}

pub fn contact_order(
    tenant: &Tenant,
    contact: ContactId,
    submitted_on: i64,
    id: crate::domain::ids::OrderId,
) -> Vec<u8> {
    let mut key = contact_orders(tenant, contact);
    key.extend_from_slice(&((submitted_on as u64) ^ (1 << 63)).to_be_bytes());
    key.extend_from_slice(id.as_bytes());
    key
}

pub fn fulfilment(tenant: &Tenant, organisation: OrganisationId) -> Vec<u8> {
    tenant_key(FULFILMENT, tenant, organisation.as_bytes())
}

pub fn subscription(tenant: &Tenant, id: crate::domain::ids::SubscriptionId) -> Vec<u8> {
    tenant_key(SUBSCRIPTION, tenant, id.as_bytes())
}

pub fn contact_subscriptions(tenant: &Tenant, contact: ContactId) -> Vec<u8> {
    tenant_key(CONTACT_SUBSCRIPTION, tenant, contact.as_bytes())
}

pub fn contact_subscription(tenant: &Tenant, contact: ContactId, id: crate::domain::ids::SubscriptionId) -> Vec<u8> {
    let mut key = contact_subscriptions(tenant, contact);
    key.extend_from_slice(id.as_bytes());
    key
}

pub fn bill(tenant: &Tenant, id: crate::domain::ids::BillId) -> Vec<u8> {
    tenant_key(BILL, tenant, id.as_bytes())
}

pub fn product_allowances(tenant: &Tenant, product: crate::domain::ids::ProductId) -> Vec<u8> {
    tenant_key(PRODUCT_ALLOWANCES, tenant, product.as_bytes())
}

pub fn usage_records(tenant: &Tenant, contact: ContactId) -> Vec<u8> {
    tenant_key(USAGE_RECORD, tenant, contact.as_bytes())
}

pub fn usage_record(tenant: &Tenant, contact: ContactId, at: i64, id: crate::domain::ids::UsageRecordId) -> Vec<u8> {
    let mut key = usage_records(tenant, contact);
    key.extend_from_slice(&((at as u64) ^ (1 << 63)).to_be_bytes());
    key.extend_from_slice(id.as_bytes());
    key
}

pub fn due_subscriptions() -> Vec<u8> {
    vec![DUE_SUBSCRIPTION]
}

/// Ordered by when it is due: the sign bit flipped makes big-endian bytes sort as the i64.
pub fn due_subscription(due: i64, tenant: &Tenant, id: crate::domain::ids::SubscriptionId) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + 8 + Tenant::KEY_LEN + 16);
    key.push(DUE_SUBSCRIPTION);
    key.extend_from_slice(&((due as u64) ^ (1 << 63)).to_be_bytes());
    key.extend_from_slice(&tenant.key_bytes());
    key.extend_from_slice(id.as_bytes());
    key
}

pub fn contact_addresses(tenant: &Tenant, contact: ContactId) -> Vec<u8> {
    tenant_key(CONTACT_ADDRESSES, tenant, contact.as_bytes())
}
