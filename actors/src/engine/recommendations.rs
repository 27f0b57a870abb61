//! What apps recommend: products to add to an order (the cross- and up-sells of what it
//! holds), products by category (the business's best sellers, what each reward offer the
//! contact can earn rewards, where its commerce money can be spent), and services to
//! subscribe to, add, or change to.

use super::{Engine, EngineError, OfferFilter};
use crate::domain::ids::{ContactId, OrderEstimateId, ProductId, ServiceId, SubscriptionId, Tenant};
use crate::domain::money::Currency;
use crate::domain::offer::ProductFilter;
use crate::domain::order::OrderState;
use crate::domain::product::{BillingPeriod, Price, Product, ProductClassification};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

/// How long the best sellers are counted for before they are counted again.
const BEST_SELLERS_TTL_S: i64 = 60;
/// Most products in one recommended category.
pub const RECOMMENDED_MAX: usize = 100;

/// Units sold per product, most first, and when they were counted.
type Counted = (i64, Arc<Vec<(ProductId, u64)>>);

/// Each business's best sellers, counted from its orders at most once a minute.
#[derive(Default)]
pub(super) struct BestSellers(Mutex<HashMap<Tenant, Counted>>);

/// Products to add to an order.
#[derive(Debug, Clone, Default)]
pub struct OrderRecommendation {
    pub cross_sells: Vec<Product>,
    pub up_sells: Vec<Product>,
}

/// The kinds of product category recommended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategoryKind {
    BestSelling,
    RewardOffer,
    CommerceMoney,
}

/// A recommended category of products.
#[derive(Debug, Clone)]
pub struct RecommendedCategory {
    pub kind: CategoryKind,
    /// The offer's or the pool's id (`BEST_SELLING` for the best sellers).
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub validity_ends: Option<i64>,
    pub products: Vec<Product>,
}

/// Which services to recommend.
#[derive(Debug, Clone, Default)]
pub struct ServiceQuery {
    /// In the SKU, name or description, any case.
    pub search: Option<String>,
    pub period: Option<BillingPeriod>,
    /// Services to add to this subscription: its period, not already in it.
    pub subscription: Option<SubscriptionId>,
    /// Services to change this one to: its period, another product.
    pub service: Option<ServiceId>,
}

impl Engine {
    /// Cross- and up-sells of an estimate's products: sold by the organisation that would
    /// fulfil it, priced in its currency, not in the order already.
    pub fn order_recommendation(
        &self,
        tenant: &Tenant,
        contact: ContactId,
        id: OrderEstimateId,
    ) -> Result<OrderRecommendation, EngineError> {
        let estimate = self.order_estimate(tenant, contact, id)?;
        let ordered: Vec<ProductId> = estimate.lines.iter().map(|line| line.product).collect();
        let mut seen = ordered.clone();
        let mut recommended = OrderRecommendation::default();
        for line in estimate
            .lines
            .iter()
            .filter(|line| !line.is_fee && line.bundle.is_none())
        {
            let Some(product) = self.inner.store.product(tenant, line.product)? else {
                continue;
            };
            for (ids, into) in [
                (&product.cross_sells, &mut recommended.cross_sells),
                (&product.up_sells, &mut recommended.up_sells),
            ] {
                for id in ids {
                    if seen.contains(id) {
                        continue;
                    }
                    let Some(other) = self.inner.store.product(tenant, *id)? else {
                        continue;
                    };
                    if other.enabled
                        && other.available_at(estimate.fulfilled_by)
                        && other.price_in(estimate.currency).is_some()
                    {
                        seen.push(*id);
                        into.push(other);
                    }
                }
            }
        }
        Ok(recommended)
    }

    /// Units of each product in the business's orders that were not cancelled, most first.
    fn best_sellers(&self, tenant: &Tenant) -> Result<Arc<Vec<(ProductId, u64)>>, EngineError> {
        let now = self.now();
        if let Some((counted, sellers)) = self.inner.best_sellers.0.lock().get(tenant) {
            if now - counted < BEST_SELLERS_TTL_S {
                return Ok(sellers.clone());
            }
        }
        let mut units: HashMap<ProductId, u64> = HashMap::new();
        for order in self.inner.store.orders(tenant)? {
            if order.state == OrderState::Cancelled {
                continue;
            }
            for line in order.lines.iter().filter(|line| !line.is_fee) {
                *units.entry(line.product).or_default() += u64::from(line.quantity);
            }
        }
        let mut sellers: Vec<(ProductId, u64)> = units.into_iter().collect();
        sellers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let sellers = Arc::new(sellers);
        self.inner.best_sellers.0.lock().insert(*tenant, (now, sellers.clone()));
        Ok(sellers)
    }

    /// The listed, enabled products of the catalogue `filter` matches (by SKU, or the
    /// family, brand or category codes a till sends), at most `size`.
    fn products_matching(
        &self,
        tenant: &Tenant,
        catalogue: &[Product],
        filter: &ProductFilter,
        size: usize,
    ) -> Result<Vec<Product>, EngineError> {
        let mut found = Vec::new();
        for product in catalogue {
            if found.len() >= size {
                break;
            }
            if filter.matches(&product.sku, Some(&self.line_class(tenant, product)?)) {
                found.push(product.clone());
            }
        }
        Ok(found)
    }

    /// Categories of products for `contact`, of the kinds asked (every kind when none), up
    /// to `size` products each: the business's best sellers; for each reward offer the
    /// contact can earn now that rewards some products, those products, named after the
    /// offer; for each commerce pool the contact's wallet holds money in, the products it
    /// may be spent on, named after the pool.
    pub async fn product_recommendations(
        &self,
        tenant: &Tenant,
        contact: ContactId,
        kinds: &[CategoryKind],
        size: usize,
    ) -> Result<Vec<RecommendedCategory>, EngineError> {
        let size = size.clamp(1, RECOMMENDED_MAX);
        let wants = |kind| kinds.is_empty() || kinds.contains(&kind);
        let route = self.contact_route(tenant, &super::ContactRef::Id(contact))?;
        let mut catalogue: Vec<Product> = self
            .inner
            .store
            .products(tenant)?
            .into_iter()
            .filter(|p| p.enabled && p.listed() && p.price_in(route.currency).is_some())
            .collect();
        catalogue.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.id.cmp(&b.id)));
        let mut categories = Vec::new();
        if wants(CategoryKind::BestSelling) {
            let sellers = self.best_sellers(tenant)?;
            let products: Vec<Product> = sellers
                .iter()
                .filter_map(|(id, _)| catalogue.iter().find(|p| p.id == *id).cloned())
                .take(size)
                .collect();
            if !products.is_empty() {
                categories.push(RecommendedCategory {
                    kind: CategoryKind::BestSelling,
                    id: "BEST_SELLING".into(),
                    name: "Best sellers".into(),
                    description: None,
                    validity_ends: None,
                    products,
                });
            }
        }
        if wants(CategoryKind::RewardOffer) {
            let filter = OfferFilter {
                current: true,
                contact: Some(contact),
                ..OfferFilter::default()
            };
            for offer in self.offers_list(tenant, &filter).await? {
                let Some(rewarded) = offer.terms.products.as_ref().filter(|f| !f.is_empty()) else {
                    continue;
                };
                let products = self.products_matching(tenant, &catalogue, rewarded, size)?;
                if !products.is_empty() {
                    categories.push(RecommendedCategory {
                        kind: CategoryKind::RewardOffer,
                        id: offer.id.to_string(),
                        name: offer.name.clone(),
                        description: offer.terms.short_description.clone(),
                        validity_ends: offer.available_to,
                        products,
                    });
                }
            }
        }
        if wants(CategoryKind::CommerceMoney) {
            let holdings = self.wallet_holdings(*tenant, route.wallet_id).await?;
            for balance in holdings.pools.iter().filter(|b| b.amount > rust_decimal::Decimal::ZERO) {
                let Ok(pool) = self.commerce_pool(tenant, balance.pool) else {
                    continue;
                };
                if pool.conditions.products.is_empty() {
                    continue;
                }
                let products = self.products_matching(tenant, &catalogue, &pool.conditions.products, size)?;
                if !products.is_empty() {
                    categories.push(RecommendedCategory {
                        kind: CategoryKind::CommerceMoney,
                        id: pool.id.to_string(),
                        name: pool.name.clone(),
                        description: pool.description.clone(),
                        validity_ends: None,
                        products,
                    });
                }
            }
        }
        Ok(categories)
    }

    /// Termed services `contact` may subscribe to, with their prices in its currency that
    /// have a billing period: for a first subscription, any; for a subscription, those of
    /// its period it does not have; for a change of a service, another product of its
    /// period. By name.
    pub fn service_recommendations(
        &self,
        tenant: &Tenant,
        contact: ContactId,
        query: &ServiceQuery,
    ) -> Result<Vec<(Product, Vec<Price>)>, EngineError> {
        let route = self.contact_route(tenant, &super::ContactRef::Id(contact))?;
        let mut period = query.period;
        let mut excluded: Vec<ProductId> = Vec::new();
        if let Some(id) = query.subscription {
            let subscription = self.subscription(tenant, Some(contact), id)?;
            period = Some(subscription.period);
            excluded.extend(
                subscription
                    .services
                    .iter()
                    .filter(|s| s.billable() || s.state == crate::domain::subscription::ServiceState::Paused)
                    .map(|s| s.product),
            );
        }
        if let Some(id) = query.service {
            let subscription = self
                .contact_subscriptions(tenant, contact)?
                .into_iter()
                .find(|s| s.service(id).is_some())
                .ok_or(EngineError::NotFound("service"))?;
            period = Some(subscription.period);
            excluded.extend(subscription.service(id).map(|s| s.product));
        }
        let search = query.search.as_ref().map(|text| text.to_lowercase());
        let mut found: Vec<(Product, Vec<Price>)> = self
            .inner
            .store
            .products(tenant)?
            .into_iter()
            .filter(|p| p.enabled && p.classification == ProductClassification::TermedService)
            .filter(|p| !excluded.contains(&p.id))
            .filter(|p| {
                search.as_ref().is_none_or(|text| {
                    p.sku.to_lowercase().contains(text)
                        || p.name.to_lowercase().contains(text)
                        || p.description.as_ref().is_some_and(|d| d.to_lowercase().contains(text))
                })
            })
            .filter_map(|p| {
                let prices = priced(&p, route.currency, period);
                (!prices.is_empty()).then_some((p, prices))
            })
            .collect();
        found.sort_by(|a, b| {
            a.0.name
                .to_lowercase()
                .cmp(&b.0.name.to_lowercase())
                .then(a.0.id.cmp(&b.0.id))
        });
        Ok(found)
    }
}

/// A product's prices in `currency` with a billing period (`period`'s, when given).
fn priced(product: &Product, currency: Currency, period: Option<BillingPeriod>) -> Vec<Price> {
    product
        .prices
        .iter()
        .filter(|price| price.currency == currency)
        .filter(|price| match (price.billing_period, period) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(has), Some(wanted)) => has == wanted,
        })
        .cloned()
        .collect()
}
