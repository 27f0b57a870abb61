//! A business's payment gateway integrations (`domain::integration`): the back office adds
//! them, names one the default and deactivates them; payment methods, top-ups and payouts
//! go only through the business's active ones. Changed under a claim on the business, so
//! two changes never interleave.

use super::{claim_key, invalid, Engine, EngineError};
use crate::domain::ids::{IntegrationId, Mode, Tenant};
use crate::domain::integration::{GatewayIntegration, PaymentIntegrations, INTEGRATIONS_MAX};
use crate::storage::WriteSet;

/// Longest integration name, in characters.
const NAME_MAX: usize = 100;

/// An integration to add: `connector` is one of `[payments] gateways`, any case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIntegration {
    pub connector: String,
    pub name: Option<String>,
    pub is_default: bool,
}

/// Changes to an integration (`None` leaves a field).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntegrationChange {
    pub name: Option<String>,
    pub is_default: Option<bool>,
    pub active: Option<bool>,
}

impl Engine {
    /// The business's integrations, oldest first.
    pub fn payment_integrations(&self, tenant: &Tenant) -> Result<Vec<GatewayIntegration>, EngineError> {
        let mut list = self.inner.store.payment_integrations(tenant)?.list;
        list.sort_by_key(|integration| integration.created_on);
        Ok(list)
    }

    /// The gateways the business takes payments through, and the one a payment method that
    /// names none goes to.
    pub fn business_gateways(&self, tenant: &Tenant) -> Result<(Vec<String>, Option<String>), EngineError> {
        let integrations = self.inner.store.payment_integrations(tenant)?;
        let configured = self.payment_gateways();
        Ok((
            integrations.gateways(configured),
            integrations.default_gateway(configured),
        ))
    }

    /// Whether the business chose its gateways (else it takes every configured one).
    pub(crate) fn has_integrations(&self, tenant: &Tenant) -> Result<bool, EngineError> {
        Ok(!self.inner.store.payment_integrations(tenant)?.list.is_empty())
    }

    /// Refused unless the business takes payments through `gateway`.
    pub fn check_business_gateway(&self, tenant: &Tenant, gateway: &str) -> Result<(), EngineError> {
        let (gateways, _) = self.business_gateways(tenant)?;
        if gateways.iter().any(|known| known == gateway) {
            return Ok(());
        }
        Err(invalid(
            "payment_method",
            format!("the business no longer takes payments through the {gateway} gateway"),
        ))
    }

    /// Refuses the `test` gateway in live mode, unless the settings allow it.
    pub(crate) fn check_test_gateway(
        &self,
        tenant: &Tenant,
        gateway: &str,
        parameter: &'static str,
    ) -> Result<(), EngineError> {
        if gateway == "test" && tenant.mode == Mode::Live && !self.inner.settings.payments.test_gateway_live {
            return Err(invalid(
                parameter,
                "the test gateway charges nothing: it takes test-mode keys only",
            ));
        }
        Ok(())
    }

    /// Adds an integration (the default if asked, or if it is the business's first).
    pub async fn add_payment_integration(
        &self,
        tenant: Tenant,
        new: NewIntegration,
    ) -> Result<GatewayIntegration, EngineError> {
        self.check_open()?;
        let connector = new.connector.trim().to_ascii_lowercase();
        if !self.payment_gateways().contains(&connector) {
            return Err(invalid(
                "connector",
                format!(
                    "must be one of the payment gateways: {}",
                    self.payment_gateways().join(", ")
                ),
            ));
        }
        self.check_test_gateway(&tenant, &connector, "connector")?;
        let name = new
            .name
            .map(|name| super::error::short_text("name", &name, NAME_MAX))
            .transpose()?;
        let (_claim, mut integrations) = self.claimed_integrations(&tenant)?;
        if integrations.list.len() >= INTEGRATIONS_MAX {
            return Err(EngineError::Conflict(format!(
                "a business has at most {INTEGRATIONS_MAX} payment gateway integrations"
            )));
        }
        if integrations
            .list
            .iter()
            .any(|integration| integration.connector == connector)
        {
            return Err(EngineError::AlreadyExists("payment gateway integration"));
        }
        let now = self.now();
        let integration = GatewayIntegration {
            id: IntegrationId::random(),
            connector,
            name,
            is_default: new.is_default || integrations.list.is_empty(),
            active: true,
            created_on: now,
            updated_on: now,
        };
        integrations.list.push(integration.clone());
        integrations.one_default(Some(integration.id));
        self.write_integrations(&tenant, &integrations).await?;
        Ok(integration)
    }

    /// Renames, makes default, deactivates or activates one of the business's integrations.
    pub async fn update_payment_integration(
        &self,
        tenant: Tenant,
        id: IntegrationId,
        change: IntegrationChange,
    ) -> Result<GatewayIntegration, EngineError> {
        self.check_open()?;
        let name = change
            .name
            .map(|name| super::error::short_text("name", &name, NAME_MAX))
            .transpose()?;
        let (_claim, mut integrations) = self.claimed_integrations(&tenant)?;
        let integration = integrations
            .list
            .iter_mut()
            .find(|integration| integration.id == id)
            .ok_or(EngineError::NotFound("integration"))?;
        if let Some(name) = name {
            integration.name = Some(name);
        }
        if let Some(active) = change.active {
            integration.active = active;
        }
        if let Some(is_default) = change.is_default {
            integration.is_default = is_default;
        }
        if integration.is_default && !integration.active {
            return Err(invalid("is_default", "an inactive integration cannot be the default"));
        }
        if change.active == Some(true) {
            self.check_test_gateway(&tenant, &integration.connector.clone(), "state")?;
        }
        integration.updated_on = self.now();
        integrations.one_default((change.is_default == Some(true)).then_some(id));
        self.write_integrations(&tenant, &integrations).await?;
        integrations
            .list
            .into_iter()
            .find(|integration| integration.id == id)
            .ok_or(EngineError::Internal("integrations"))
    }

    /// The business's integrations, read under a claim held until the change is written.
    fn claimed_integrations(&self, tenant: &Tenant) -> Result<(super::ClaimGuard, PaymentIntegrations), EngineError> {
        let claim = self
            .inner
            .claims
            .claim(claim_key(b'(', tenant, b"integrations"), rand::random())
            .map_err(|_| EngineError::Busy("integrations"))?;
        Ok((claim, self.inner.store.payment_integrations(tenant)?))
    }

    async fn write_integrations(&self, tenant: &Tenant, integrations: &PaymentIntegrations) -> Result<(), EngineError> {
        let mut writes = WriteSet::default();
        writes.payment_integrations(tenant, integrations);
        self.commit_durable(writes).await
    }
}
