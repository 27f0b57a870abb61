//! Payment intents (`domain::intent`), through the contact's wallet actor. The engine never
//! talks to a gateway: the server records an intent with `begin_intent`, asks the gateway
//! to charge or hold it, and hands the answer to `settle_intent`; a top-up that names the
//! intent's client secret is paid from it once (`top_up_from_intent`), a held one captured
//! first (`begin_intent_capture`, then the capture's answer settled). `open_intents` lists
//! what the reconciler still has to ask about or release.

use super::{invalid, Engine, EngineError};
use crate::actors::wallet::{IntentCommand, IntentOutcome, WalletCommand};
use crate::domain::ids::{ContactId, IntegrationId, IntentId, PaymentMethodId, Tenant, TopUpId, WalletCode, WalletId};
use crate::domain::intent::{Capture, IntentRecord, IntentState, STATEMENT_MAX};
use crate::domain::money::Currency;
use crate::domain::payment::{TopUpRecord, TopUpState};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// An intent a contact asks for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IntentRequest {
    pub amount: Decimal,
    pub currency: Option<Currency>,
    pub payment_method: PaymentMethodId,
    pub capture: Capture,
    pub integration: Option<IntegrationId>,
    pub statement_info: Option<String>,
}

/// A top-up paid from an intent: its amount is the intent's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntentTopUp {
    pub id: Option<TopUpId>,
    pub wallet: Option<WalletId>,
    pub amount: Option<Decimal>,
    pub payment_method: Option<PaymentMethodId>,
    pub code: Option<String>,
    pub notes: Option<String>,
}

impl Engine {
    async fn ask_intent<T>(
        &self,
        tenant: Tenant,
        wallet: WalletId,
        make: impl Fn(crate::actors::wallet::Reply<T>) -> IntentCommand,
    ) -> Result<T, EngineError> {
        self.ask_wallet((tenant, wallet), |reply| WalletCommand::Intent(make(reply)))
            .await
    }

    /// Records contact `contact`'s intent, pending, before any gateway is asked. With an
    /// `idempotency_key`, a retry (the same key, the same request) is answered with the
    /// intent as it stands, its client secret included.
    pub async fn begin_intent(
        &self,
        tenant: Tenant,
        contact: ContactId,
        idempotency_key: Option<&str>,
        request: IntentRequest,
    ) -> Result<Arc<IntentRecord>, EngineError> {
        self.check_open()?;
        let wallet = self.contact_route(&tenant, &super::ContactRef::Id(contact))?.wallet_id;
        let header = self
            .ask_wallet((tenant, wallet), |reply| WalletCommand::Header { reply })
            .await?;
        let currency = header.currency;
        if request.currency.is_some_and(|asked| asked != currency) {
            return Err(invalid(
                "currency_code",
                format!(
                    "must be the wallet's currency, {} (an intent pays a top-up)",
                    currency.code()
                ),
            ));
        }
        let amount = self.positive_amount("amount", request.amount, currency)?;
        let statement_info = request
            .statement_info
            .as_deref()
            .map(|text| super::error::short_text("statement_info", text, STATEMENT_MAX))
            .transpose()?;
        let methods = self
            .ask_wallet((tenant, wallet), |reply| WalletCommand::PaymentMethods { reply })
            .await?;
        let method = methods
            .get(request.payment_method)
            .ok_or_else(|| invalid("payment_method_id", "is not one of the contact's payment methods"))?;
        if let Some(integration) = request.integration {
            let named = self
                .payment_integrations(&tenant)?
                .into_iter()
                .find(|found| found.id == integration && found.active)
                .ok_or_else(|| invalid("integration_id", "is not one of the business's active payment gateways"))?;
            if named.connector != method.gateway {
                return Err(invalid(
                    "integration_id",
                    "the payment method is held by another gateway than this integration",
                ));
            }
        }
        self.check_business_gateway(&tenant, &method.gateway)?;
        let body_hash: [u8; 32] = Sha256::digest(postcard::to_stdvec(&(&tenant, &request)).unwrap_or_default()).into();
        let id = match idempotency_key {
            Some(key) => IntentId(uuid::Uuid::new_v5(&contact.0, key.as_bytes())),
            None => IntentId::random(),
        };
        let record = IntentRecord {
            id,
            tenant,
            wallet,
            contact,
            amount,
            currency,
            payment_method: request.payment_method,
            capture: request.capture,
            gateway: String::new(),
            token: String::new(),
            client_secret: super::secrets::random_token(&format!("pi_{}_secret_", id.0.simple())),
            statement_info,
            state: IntentState::Pending,
            reference: None,
            error: None,
            capturing: false,
            used_by: None,
            created_on: 0,
            updated_on: 0,
            body_hash,
        };
        self.ask_intent(tenant, wallet, |reply| IntentCommand::Begin {
            record: Box::new(record.clone()),
            reply,
        })
        .await
    }

    /// Settles an intent with its gateway's answer (one settled already stays as it is).
    pub async fn settle_intent(
        &self,
        tenant: Tenant,
        wallet: WalletId,
        id: IntentId,
        outcome: IntentOutcome,
    ) -> Result<Arc<IntentRecord>, EngineError> {
        self.check_open()?;
        self.ask_intent(tenant, wallet, |reply| IntentCommand::Settle {
            id,
            outcome: outcome.clone(),
            reply,
        })
        .await
    }

    /// Contact `contact`'s intent that `secret` names (another's, or none, is not found).
    pub async fn intent_for_secret(
        &self,
        tenant: Tenant,
        contact: ContactId,
        secret: &str,
    ) -> Result<Arc<IntentRecord>, EngineError> {
        self.check_open()?;
        let (wallet, id) = self
            .inner
            .store
            .intent_by_secret(&tenant, secret)?
            .ok_or(EngineError::NotFound("payment intent"))?;
        let record = self
            .ask_intent(tenant, wallet, |reply| IntentCommand::Get { id, reply })
            .await?;
        if record.contact != contact || record.client_secret != secret {
            return Err(EngineError::NotFound("payment intent"));
        }
        Ok(record)
    }

    /// Contact `contact`'s intent `id`, as its wallet holds it (another's is not found).
    pub async fn contact_intent(
        &self,
        tenant: Tenant,
        contact: ContactId,
        id: crate::domain::ids::IntentId,
    ) -> Result<Arc<IntentRecord>, EngineError> {
        self.check_open()?;
        let route = self.contact_route(&tenant, &super::ContactRef::Id(contact))?;
        let record = self
            .ask_intent(tenant, route.wallet_id, |reply| IntentCommand::Get { id, reply })
            .await
            .map_err(|_| EngineError::NotFound("payment intent"))?;
        if record.contact != contact {
            return Err(EngineError::NotFound("payment intent"));
        }
        Ok(record)
    }

    /// Marks contact `contact`'s held intent as being captured (refused when the wallet
    /// may not take its amount now); the caller then asks the gateway to capture it.
    pub async fn begin_intent_capture(
        &self,
        tenant: Tenant,
        contact: ContactId,
        intent: &IntentRecord,
    ) -> Result<Arc<IntentRecord>, EngineError> {
        self.check_open()?;
        self.ask_intent(tenant, intent.wallet, |reply| IntentCommand::BeginCapture {
            id: intent.id,
            contact,
            reply,
        })
        .await
    }

    /// Pays a top-up of contact `contact`'s wallet from its completed intent, once: a retry
    /// (the same top-up id) is answered with the top-up it paid.
    pub async fn top_up_from_intent(
        &self,
        tenant: Tenant,
        contact: ContactId,
        intent: &IntentRecord,
        request: IntentTopUp,
    ) -> Result<Arc<TopUpRecord>, EngineError> {
        self.check_open()?;
        if request.wallet.is_some_and(|wallet| wallet != intent.wallet) {
            return Err(EngineError::NotFound("wallet"));
        }
        if request
            .payment_method
            .is_some_and(|method| method != intent.payment_method)
        {
            return Err(invalid("payment_method", "must be the payment intent's, or left out"));
        }
        if let Some(code) = &request.code {
            WalletCode::parse(code).map_err(|_| invalid("code", "must be exactly 16 digits"))?;
        }
        let amount = request.amount.unwrap_or(intent.amount);
        if amount != intent.amount {
            return Err(invalid(
                "amount",
                format!("must be the payment intent's amount, {}", intent.amount),
            ));
        }
        if let Some(notes) = &request.notes {
            super::error::short_text("notes", notes, crate::domain::payment::PAYMENT_TEXT_MAX)?;
        }
        let body_hash: [u8; 32] = Sha256::digest(intent.id.as_bytes()).into();
        let top_up = TopUpRecord {
            id: request.id.unwrap_or_else(TopUpId::random),
            tenant,
            wallet: intent.wallet,
            contact,
            amount,
            currency: intent.currency,
            payment_method: intent.payment_method,
            gateway: String::new(),
            token: String::new(),
            code: request
                .code
                .unwrap_or_else(|| super::secrets::wallet_code().as_str().to_string()),
            notes: request.notes,
            state: TopUpState::Pending,
            created_on: 0,
            settled_on: None,
            body_hash,
        };
        self.ask_intent(tenant, intent.wallet, |reply| IntentCommand::Use {
            id: intent.id,
            contact,
            top_up: Box::new(top_up.clone()),
            reply,
        })
        .await
    }

    /// Up to `limit` intents unsettled or held, oldest first, as they stand.
    pub fn open_intents(&self, limit: usize) -> Result<Vec<IntentRecord>, EngineError> {
        let mut found = Vec::new();
        for open in self.inner.store.open_intents(limit)? {
            if let Some(record) = self.inner.store.intent(&open.tenant, open.id)? {
                found.push(record);
            }
        }
        Ok(found)
    }
}
