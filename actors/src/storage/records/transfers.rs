//! Transfers, and the marks of messages a wallet has applied (its side of exactly-once).

use crate::domain::ids::{MessageId, TransferId, WalletId};
use crate::domain::transfer::TransferRecord;
use crate::storage::*;

impl Store {
    pub fn transfer(&self, tenant: &Tenant, id: TransferId) -> Result<Option<TransferRecord>, StoreError> {
        self.get_decoded(&keys::transfer(tenant, id), crate::storage::legacy::decode_transfer)
    }

    /// Whether `wallet` has applied `message` (its effects and this mark commit together).
    pub fn message_applied(&self, tenant: &Tenant, wallet: WalletId, message: MessageId) -> Result<bool, StoreError> {
        Ok(self.get::<()>(&keys::inbox(tenant, wallet, message))?.is_some())
    }
}

impl WriteSet {
    pub fn transfer(&mut self, transfer: &TransferRecord) {
        self.put(keys::transfer(&transfer.tenant, transfer.id), encode(transfer));
    }

    pub fn message_applied(&mut self, tenant: &Tenant, wallet: WalletId, message: MessageId) {
        self.put(keys::inbox(tenant, wallet, message), encode(&()));
    }
}
