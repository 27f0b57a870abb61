//! Service request queues, service requests (with their notes) and each contact's list.

use crate::domain::ids::{ContactId, QueueId, ServiceRequestId};
use crate::domain::service_request::{Queue, ServiceRequest};
use crate::storage::*;

impl Store {
    pub fn queue(&self, tenant: &Tenant, id: QueueId) -> Result<Option<Queue>, StoreError> {
        self.get(&keys::queue(tenant, id))
    }

    pub fn queues(&self, tenant: &Tenant) -> Result<Vec<Queue>, StoreError> {
        self.scan(&keys::queues(tenant), usize::MAX)
    }

    pub fn service_request(&self, tenant: &Tenant, id: ServiceRequestId) -> Result<Option<ServiceRequest>, StoreError> {
        self.get(&keys::service_request(tenant, id))
    }

    /// A contact's service requests' ids, oldest first.
    pub fn contact_service_requests(
        &self,
        tenant: &Tenant,
        contact: ContactId,
    ) -> Result<Vec<ServiceRequestId>, StoreError> {
        self.scan(&keys::contact_service_requests(tenant, contact), usize::MAX)
    }
}

impl WriteSet {
    pub fn queue(&mut self, queue: &Queue) {
        self.put(keys::queue(&queue.tenant, queue.id), encode(queue));
    }

    pub fn service_request(&mut self, request: &ServiceRequest) {
        self.put(keys::service_request(&request.tenant, request.id), encode(request));
    }

    /// The request in its contact's list (once, when it is made).
    pub fn contact_service_request(&mut self, request: &ServiceRequest) {
        self.put(
            keys::contact_service_request(&request.tenant, request.contact, request.created_on, request.id),
            encode(&request.id),
        );
    }
}
