//! The records, one module per family (each its own fjall keyspace, `tables::Family`):
//! each adds its typed getters to [`Store`](super::Store) and its writes to
//! [`WriteSet`](super::WriteSet). Adding a record family means adding a file here, its key
//! prefixes in `keys`, and its keyspace in `tables`.

mod access;
mod accounts;
mod communities;
mod contacts;
mod meta;
mod offers;
mod orders;
mod organisations;
mod outbox;
mod passes;
mod payments;
mod products;
mod purchases;
mod schemes;
mod service_requests;
mod subscriptions;
pub use purchases::IdempotencyRecord;
mod transfers;
mod wallets;
pub(crate) use wallets::decode_wallet;
#[cfg(test)]
pub(crate) use wallets::decode_wallet_event;
pub use wallets::LotExpiry;
