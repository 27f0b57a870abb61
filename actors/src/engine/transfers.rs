//! Transfers between wallets (`POST /self-service/v2/transfers`), the first user of the
//! outbox between entities (D5): the origin wallet's actor debits the amount and commits
//! the credit's message in one commit; the destination applies it once, later, without the
//! origin waiting for it.

use super::{claim_key, invalid, sha256, Engine, EngineError};
use crate::actors::wallet::WalletCommand;
use crate::domain::ids::{ContactId, Tenant, TransferId, WalletCode, WalletId};
use crate::domain::money::Amount;
use crate::domain::transfer::TransferRecord;
use crate::storage::IdempotencyRecord;
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The longest `notes` a transfer keeps, in characters.
pub const NOTES_CHARS_MAX: usize = 1_000;

/// A transfer as the contact asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferRequest {
    /// The id to give the transfer (the contract lets the client choose it); a retry with
    /// the same id and body is answered with the first transfer.
    pub id: Option<TransferId>,
    pub origin: WalletId,
    pub destination: WalletId,
    pub amount: Decimal,
    /// A 16-digit code; made at random if not given.
    pub code: Option<String>,
    pub notes: Option<String>,
    pub transfer_date: Option<i64>,
    /// Into this named commerce pool of the destination (its commerce money, spent as the
    /// pool's conditions allow). Kept out of the serialised request, so the hash of a
    /// request without it is what it always was; hashed after it when given.
    #[serde(skip)]
    pub pool: Option<crate::domain::ids::CommercePoolId>,
}

/// Most transfers one bulk request may carry.
pub const BULK_TRANSFERS_MAX: usize = 100;

impl Engine {
    /// Moves `amount` from the contact's own wallet to another wallet of the same business
    /// and currency. Answered once the debit and the credit's message are durable; the
    /// credit lands exactly once, shortly after. Idempotent on `Idempotency-Key` and on `id`.
    pub async fn transfer(
        &self,
        tenant: Tenant,
        contact: ContactId,
        request: TransferRequest,
        idempotency_key: Option<&str>,
    ) -> Result<Arc<TransferRecord>, EngineError> {
        self.check_open()?;
        let origin = request.origin;
        let mut record = self.prepare_transfer(tenant, contact, request.clone()).await?;
        let body_hash = record.body_hash;
        let key_hash = idempotency_key.map(sha256);
        let (_idempotency_claim, first) = self.claim_idempotency(&tenant, key_hash.as_ref(), &body_hash)?;
        if let Some(first) = first {
            return self
                .inner
                .store
                .transfer(&tenant, TransferId(first))?
                .map(Arc::new)
                .ok_or(EngineError::NotFound("transfer"));
        }
        let id = request.id.unwrap_or_else(TransferId::random);
        record.id = id;
        // Two origins racing for one id: the second is told, not allowed to overwrite.
        let _id_claim = self
            .inner
            .claims
            .claim(claim_key(b'T', &tenant, id.as_bytes()), origin.0.as_u128())
            .map_err(|_| EngineError::Conflict("a transfer with this id is in progress".into()))?;
        let idempotency = key_hash.map(|hash| {
            (
                hash,
                IdempotencyRecord {
                    body_hash,
                    resource_id: id.0,
                },
            )
        });
        self.ask_wallet((tenant, origin), |reply| WalletCommand::TransferOut {
            transfer: Box::new(record.clone()),
            idempotency: idempotency.clone(),
            reply,
        })
        .await
        .map_err(|error| match error {
            EngineError::InsufficientFunds { .. } => EngineError::InsufficientFunds { parameter: "amount" },
            error => error,
        })
    }

    /// Several transfers from the contact's own wallet, all or none: every one is checked,
    /// then the origin's actor debits them all and commits their credits' messages in one
    /// commit. Transfers already sent under their ids (a retry) are not sent again.
    pub async fn transfer_bulk(
        &self,
        tenant: Tenant,
        contact: ContactId,
        requests: Vec<TransferRequest>,
    ) -> Result<Vec<Arc<TransferRecord>>, EngineError> {
        self.check_open()?;
        if requests.is_empty() || requests.len() > BULK_TRANSFERS_MAX {
            return Err(invalid(
                "transfers",
                format!("must be 1 to {BULK_TRANSFERS_MAX} transfers"),
            ));
        }
        let origin = requests[0].origin;
        let mut records = Vec::with_capacity(requests.len());
        let mut claims = Vec::with_capacity(requests.len());
        for request in requests {
            if request.origin != origin {
                return Err(invalid(
                    "origin.wallet_id",
                    "every transfer of a bulk is from the same wallet",
                ));
            }
            let mut record = self.prepare_transfer(tenant, contact, request.clone()).await?;
            record.id = request.id.unwrap_or_else(TransferId::random);
            if records.iter().any(|known: &TransferRecord| known.id == record.id) {
                return Err(invalid("id", "each transfer of a bulk needs its own id"));
            }
            claims.push(
                self.inner
                    .claims
                    .claim(claim_key(b'T', &tenant, record.id.as_bytes()), origin.0.as_u128())
                    .map_err(|_| EngineError::Conflict("a transfer with this id is in progress".into()))?,
            );
            records.push(record);
        }
        self.ask_wallet((tenant, origin), |reply| WalletCommand::TransferOutMany {
            transfers: records.clone(),
            reply,
        })
        .await
        .map_err(|error| match error {
            EngineError::InsufficientFunds { .. } => EngineError::InsufficientFunds { parameter: "amount" },
            error => error,
        })
    }

    /// Checks a transfer the contact asks for and makes its record (its id still to be
    /// given, its time the actor's).
    async fn prepare_transfer(
        &self,
        tenant: Tenant,
        contact: ContactId,
        request: TransferRequest,
    ) -> Result<TransferRecord, EngineError> {
        let owner = self
            .inner
            .store
            .contact(&tenant, contact)?
            .ok_or(EngineError::NotFound("contact"))?;
        if request.origin != owner.wallet_id {
            return Err(EngineError::Forbidden(
                "origin.wallet_id: a contact transfers from its own wallet only".into(),
            ));
        }
        if request.destination == request.origin {
            return Err(invalid(
                "destination.wallet_id",
                "is the origin wallet; a transfer goes to another wallet",
            ));
        }
        let currency = owner.wallet_currency;
        let amount = Amount::parse_at_most(request.amount, currency, self.inner.settings.money.amount_max)
            .map_err(|error| invalid("amount", error))?
            .value();
        if amount <= Decimal::ZERO {
            return Err(invalid("amount", "must be more than zero"));
        }
        if let Some(code) = &request.code {
            WalletCode::parse(code).map_err(|_| invalid("code", "must be exactly 16 digits"))?;
        }
        if let Some(notes) = &request.notes {
            if notes.chars().count() > NOTES_CHARS_MAX || notes.chars().any(|c| c.is_control() && c != '\n') {
                return Err(invalid(
                    "notes",
                    format!("must be at most {NOTES_CHARS_MAX} characters, without control characters"),
                ));
            }
        }
        if let Some(date) = request.transfer_date {
            self.check_date("transfer_date", date)?;
        }
        let destination = match self
            .ask_wallet((tenant, request.destination), |reply| WalletCommand::Header { reply })
            .await
        {
            Err(EngineError::NotFound(_)) => return Err(EngineError::NotFound("destination wallet")),
            other => other?,
        };
        if destination.currency != currency {
            return Err(invalid(
                "destination.wallet_id",
                format!("holds {}; the origin wallet holds {currency}", destination.currency),
            ));
        }
        let pool = match request.pool {
            None => None,
            Some(id) => {
                let pool = self
                    .inner
                    .store
                    .commerce_pool(&tenant, id)?
                    .ok_or_else(|| invalid("commerce_pool_id", "names no commerce pool of this business"))?;
                Some(crate::domain::transfer::PoolTarget {
                    id,
                    conditions: pool.conditions,
                })
            }
        };
        let mut hashed = postcard::to_stdvec(&(&tenant, &request)).unwrap_or_default();
        if let Some(pool) = request.pool {
            hashed.extend_from_slice(b"pool");
            hashed.extend_from_slice(pool.as_bytes());
        }
        let body_hash: [u8; 32] = Sha256::digest(&hashed).into();
        Ok(TransferRecord {
            id: request.id.unwrap_or_else(TransferId::random),
            tenant,
            origin: request.origin,
            contact,
            destination: request.destination,
            currency,
            amount,
            code: request
                .code
                .unwrap_or_else(|| crate::engine::secrets::wallet_code().as_str().to_string()),
            notes: request.notes,
            transfer_date: request.transfer_date,
            created_on: 0,
            body_hash,
            pool,
        })
    }
}
