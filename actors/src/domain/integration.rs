//! A business's payment gateway integrations: which of the server's gateway plugins
//! (`[payments] gateways`) the business takes payments through, one of them its default.
//!
//! A business with none takes every configured gateway, the first its default (so a
//! business never set up keeps working); once it has integrations, only its active ones
//! hold new payment methods and charge top-ups and payouts, and a payment method that names
//! no gateway goes to its default. The plugins' credentials stay in the server's settings.

use super::ids::IntegrationId;
use serde::{Deserialize, Serialize};

/// Most integrations one business keeps.
pub const INTEGRATIONS_MAX: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayIntegration {
    pub id: IntegrationId,
    /// The plugin, as `[payments] gateways` names it (lower case).
    pub connector: String,
    pub name: Option<String>,
    pub is_default: bool,
    pub active: bool,
    pub created_on: i64,
    pub updated_on: i64,
}

/// A business's integrations, kept in one record so the default changes in one write.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentIntegrations {
    pub list: Vec<GatewayIntegration>,
}

impl PaymentIntegrations {
    /// The gateways the business takes payments through: its active integrations', or,
    /// with none set up, every configured one.
    pub fn gateways(&self, configured: &[String]) -> Vec<String> {
        if self.list.is_empty() {
            return configured.to_vec();
        }
        // Each connector is integrated once, so no gateway is listed twice.
        self.list
            .iter()
            .filter(|integration| integration.active)
            .map(|integration| integration.connector.clone())
            .collect()
    }

    /// Where a payment method that names no gateway goes: the default active integration,
    /// else the first active one, else (none set up) the first configured gateway.
    pub fn default_gateway(&self, configured: &[String]) -> Option<String> {
        if self.list.is_empty() {
            return configured.first().cloned();
        }
        let active = || self.list.iter().filter(|integration| integration.active);
        active()
            .find(|integration| integration.is_default)
            .or_else(|| active().next())
            .map(|integration| integration.connector.clone())
    }

    /// Keeps at most one default: `chosen`'s when it is one, else the first default.
    pub fn one_default(&mut self, chosen: Option<IntegrationId>) {
        let keep = chosen
            .filter(|id| {
                self.list
                    .iter()
                    .any(|integration| integration.id == *id && integration.is_default)
            })
            .or_else(|| {
                self.list
                    .iter()
                    .find(|integration| integration.is_default)
                    .map(|integration| integration.id)
            });
        for integration in &mut self.list {
            integration.is_default = Some(integration.id) == keep;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn integration(connector: &str, is_default: bool, active: bool) -> GatewayIntegration {
        GatewayIntegration {
            id: IntegrationId::random(),
            connector: connector.into(),
            name: None,
            is_default,
            active,
            created_on: 0,
            updated_on: 0,
        }
    }

    #[test]
    fn a_business_without_integrations_takes_every_configured_gateway() {
        let configured = vec!["test".to_string(), "stripe".to_string()];
        let none = PaymentIntegrations::default();
        assert_eq!(none.gateways(&configured), configured);
        assert_eq!(none.default_gateway(&configured).as_deref(), Some("test"));
    }

    #[test]
    fn only_active_integrations_take_payments_and_the_default_is_chosen() {
        let configured = vec!["test".to_string(), "stripe".to_string()];
        let mut set_up = PaymentIntegrations {
            list: vec![integration("test", false, true), integration("stripe", true, true)],
        };
        assert_eq!(set_up.default_gateway(&configured).as_deref(), Some("stripe"));
        set_up.list[1].active = false;
        assert_eq!(set_up.gateways(&configured), vec!["test".to_string()]);
        assert_eq!(set_up.default_gateway(&configured).as_deref(), Some("test"));
        set_up.list[0].active = false;
        assert!(set_up.gateways(&configured).is_empty());
        assert_eq!(set_up.default_gateway(&configured), None);
    }

    #[test]
    fn one_default_is_kept() {
        let mut set_up = PaymentIntegrations {
            list: vec![integration("test", true, true), integration("stripe", true, true)],
        };
        let chosen = set_up.list[1].id;
        set_up.one_default(Some(chosen));
        assert_eq!(
            set_up
                .list
                .iter()
                .map(|integration| integration.is_default)
                .collect::<Vec<_>>(),
            vec![false, true]
        );
        set_up.one_default(None);
        assert_eq!(
            set_up.list.iter().filter(|integration| integration.is_default).count(),
            1
        );
    }
}
