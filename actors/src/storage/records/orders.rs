//! Orders: their estimates, the orders, each contact's list, and how each merchant or venue
//! takes orders.

use crate::domain::ids::{ContactId, OrderEstimateId, OrderId, OrganisationId};
use crate::domain::order::{FulfilmentTerms, Order, OrderEstimate};
use crate::storage::legacy_orders::{decode_order, decode_order_estimate};
use crate::storage::*;

impl Store {
    pub fn order_estimate(&self, tenant: &Tenant, id: OrderEstimateId) -> Result<Option<OrderEstimate>, StoreError> {
        self.get_decoded(&keys::order_estimate(tenant, id), decode_order_estimate)
    }

    pub fn order(&self, tenant: &Tenant, id: OrderId) -> Result<Option<Order>, StoreError> {
        self.get_decoded(&keys::order(tenant, id), decode_order)
    }

    /// Every order of the business, by id.
    pub fn orders(&self, tenant: &Tenant) -> Result<Vec<Order>, StoreError> {
        self.scan_decoded(&keys::orders(tenant), decode_order)
    }

    /// A contact's orders' ids, oldest first.
    pub fn contact_orders(&self, tenant: &Tenant, contact: ContactId) -> Result<Vec<OrderId>, StoreError> {
        self.scan(&keys::contact_orders(tenant, contact), usize::MAX)
    }

    pub fn fulfilment(
        &self,
        tenant: &Tenant,
        organisation: OrganisationId,
    ) -> Result<Option<FulfilmentTerms>, StoreError> {
        self.get(&keys::fulfilment(tenant, organisation))
    }
}

impl WriteSet {
    pub fn order_estimate(&mut self, estimate: &OrderEstimate) {
        self.put(keys::order_estimate(&estimate.tenant, estimate.id), encode(estimate));
    }

    pub fn order(&mut self, order: &Order) {
        self.put(keys::order(&order.tenant, order.id), encode(order));
    }

    /// The order in its contact's list (once, when it is submitted).
    pub fn contact_order(&mut self, order: &Order) {
        self.put(
            keys::contact_order(&order.tenant, order.contact, order.submitted_on, order.id),
            encode(&order.id),
        );
    }

    pub fn fulfilment(&mut self, tenant: &Tenant, organisation: OrganisationId, terms: &FulfilmentTerms) {
        self.put(keys::fulfilment(tenant, organisation), encode(terms));
    }
}
