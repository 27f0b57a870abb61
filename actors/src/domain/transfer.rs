//! Transfers of money between wallets, and the messages between entities that carry their
//! credit (D5): the origin's debit and the message commit together; the destination applies
//! the message once, by its id.

use super::ids::{ContactId, MessageId, OfferId, PurchaseId, Tenant, TransferId, WalletId};
use super::money::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A transfer as the origin wallet committed it, with its debit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferRecord {
    pub id: TransferId,
    pub tenant: Tenant,
    pub origin: WalletId,
    /// The contact who asked for it (the origin wallet's owner).
    pub contact: ContactId,
    pub destination: WalletId,
    pub currency: Currency,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub amount: Decimal,
    /// The transfer's 16-digit code (given, or made at random).
    pub code: String,
    pub notes: Option<String>,
    /// The date the request gave (`transfer_date`), if any.
    pub transfer_date: Option<i64>,
    pub created_on: i64,
    /// What a retry must match to be answered with this transfer.
    pub body_hash: [u8; 32],
    /// The destination's named commerce pool it goes into, with the pool's conditions as
    /// they were when it was sent (appended: `TransferRecordBeforePools` reads older ones).
    pub pool: Option<PoolTarget>,
}

/// A named commerce pool a transfer credits, with the conditions its lot will carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolTarget {
    pub id: super::ids::CommercePoolId,
    pub conditions: super::offer::SpendConditions,
}

/// The layout of `TransferRecord` before transfers into commerce pools (a prefix of today's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferRecordBeforePools {
    pub id: TransferId,
    pub tenant: Tenant,
    pub origin: WalletId,
    pub contact: ContactId,
    pub destination: WalletId,
    pub currency: Currency,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub amount: Decimal,
    pub code: String,
    pub notes: Option<String>,
    pub transfer_date: Option<i64>,
    pub created_on: i64,
    pub body_hash: [u8; 32],
}

impl From<TransferRecordBeforePools> for TransferRecord {
    fn from(old: TransferRecordBeforePools) -> TransferRecord {
        TransferRecord {
            id: old.id,
            tenant: old.tenant,
            origin: old.origin,
            contact: old.contact,
            destination: old.destination,
            currency: old.currency,
            amount: old.amount,
            code: old.code,
            notes: old.notes,
            transfer_date: old.transfer_date,
            created_on: old.created_on,
            body_hash: old.body_hash,
            pool: None,
        }
    }
}

/// The entity a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Recipient {
    Wallet(Tenant, WalletId),
    /// An offer's budget.
    Budget(Tenant, OfferId),
}

/// What a message asks of its recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageBody {
    /// Credit a transfer's amount (the origin was debited in the same commit as this message).
    TransferCredit {
        transfer: TransferId,
        from: WalletId,
        currency: Currency,
        #[serde(with = "crate::domain::money::exact_decimal")]
        amount: Decimal,
    },
    /// Give a transfer's amount back to its origin: the destination could not take it.
    TransferReturn {
        transfer: TransferId,
        currency: Currency,
        #[serde(with = "crate::domain::money::exact_decimal")]
        amount: Decimal,
        reason: ReturnReason,
    },
    /// A purchase committed having awarded `used` from the offer's budget: its hold ends.
    BudgetSettle {
        purchase: PurchaseId,
        #[serde(with = "crate::domain::money::exact_decimal")]
        used: Decimal,
    },
    /// A cancelled purchase gives back what it awarded from the offer's budget.
    BudgetRefund {
        purchase: PurchaseId,
        #[serde(with = "crate::domain::money::exact_decimal")]
        amount: Decimal,
    },
    /// Credit a redeemed pass's value (the pass was marked redeemed in the same commit as
    /// this message; appended).
    PassCredit {
        pass: crate::domain::ids::PassId,
        currency: Currency,
        #[serde(with = "crate::domain::money::exact_decimal")]
        amount: Decimal,
        pocket: crate::domain::wallet::Pocket,
    },
    /// Credit a transfer's amount into a named commerce pool of the destination (appended):
    /// a commerce lot carrying the pool's conditions as they were when it was sent.
    PoolTransferCredit {
        transfer: TransferId,
        from: WalletId,
        currency: Currency,
        #[serde(with = "crate::domain::money::exact_decimal")]
        amount: Decimal,
        pool: super::ids::CommercePoolId,
        conditions: super::offer::SpendConditions,
    },
}

/// Why a destination gave a transfer back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReturnReason {
    /// The credit would take the destination above its maximum balance.
    BalanceLimit,
    /// The destination holds another currency.
    Currency,
    /// The destination wallet no longer exists.
    NoWallet,
    /// The credit would pass a limit rule the destination's contact set (appended).
    WalletLimit,
}

/// A message in the outbox between entities, in commit order (`seq`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorMessage {
    pub id: MessageId,
    pub seq: u64,
    pub to: Recipient,
    pub body: MessageBody,
    /// When the sender committed it (epoch s), for the outbox's age.
    pub committed_at: i64,
}

impl ActorMessage {
    /// The id of a transfer's credit: one per transfer, whoever sends it and however often.
    pub fn credit_id(transfer: TransferId) -> MessageId {
        MessageId(uuid::Uuid::new_v5(&transfer.0, b"credit"))
    }

    /// The id of a pass's credit: one per pass, so it is applied once.
    pub fn pass_credit_id(pass: crate::domain::ids::PassId) -> MessageId {
        MessageId(uuid::Uuid::new_v5(&pass.0, b"pass-credit"))
    }

    /// The message that credits redeemed pass `pass` to `wallet` (its pass's actor commits
    /// it with the redemption; a purchase paid with the pass hands the same message to the
    /// wallet at once, and the wallet applies it once, whichever comes first).
    pub fn pass_credit(
        pass: &crate::domain::pass::Pass,
        wallet: crate::domain::ids::WalletId,
        seq: u64,
        now: i64,
    ) -> ActorMessage {
        ActorMessage {
            id: ActorMessage::pass_credit_id(pass.id),
            seq,
            to: Recipient::Wallet(pass.tenant, wallet),
            body: MessageBody::PassCredit {
                pass: pass.id,
                currency: pass.currency,
                amount: pass.value,
                pocket: match pass.credit {
                    crate::domain::pass::CreditPocket::Open => crate::domain::wallet::Pocket::Open,
                    crate::domain::pass::CreditPocket::Commerce => crate::domain::wallet::Pocket::Commerce,
                },
            },
            committed_at: now,
        }
    }

    /// The id of a purchase's settlement with an offer's budget: one per (purchase, offer).
    pub fn budget_settle_id(purchase: PurchaseId, offer: OfferId) -> MessageId {
        let mut name = b"budget-settle".to_vec();
        name.extend_from_slice(offer.as_bytes());
        MessageId(uuid::Uuid::new_v5(&purchase.0, &name))
    }

    /// The id of a cancelled purchase's refund to an offer's budget.
    pub fn budget_refund_id(purchase: PurchaseId, offer: OfferId) -> MessageId {
        let mut name = b"budget-refund".to_vec();
        name.extend_from_slice(offer.as_bytes());
        MessageId(uuid::Uuid::new_v5(&purchase.0, &name))
    }

    /// The id of a transfer's return: one per transfer.
    pub fn return_id(transfer: TransferId) -> MessageId {
        MessageId(uuid::Uuid::new_v5(&transfer.0, b"return"))
    }

    /// The message that gives a transfer's credit back to its origin wallet `from`.
    #[allow(clippy::too_many_arguments)]
    pub fn transfer_return(
        tenant: Tenant,
        transfer: TransferId,
        from: WalletId,
        currency: Currency,
        amount: Decimal,
        reason: ReturnReason,
        seq: u64,
        committed_at: i64,
    ) -> ActorMessage {
        ActorMessage {
            id: ActorMessage::return_id(transfer),
            seq,
            to: Recipient::Wallet(tenant, from),
            body: MessageBody::TransferReturn {
                transfer,
                currency,
                amount,
                reason,
            },
            committed_at,
        }
    }
}
