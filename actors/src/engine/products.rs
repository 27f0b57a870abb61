//! The product catalogue (`domain::product`): the back office files brands, families,
//! categories and types and makes products with their prices; apps search it. Records are
//! written by the engine under claims (a class kind's names, a SKU), so two writers never
//! take the same name or SKU.

use super::error::short_text;
use super::{claim_key, invalid, Engine, EngineError};
use crate::domain::ids::{OrganisationId, ProductClassId, ProductId, Tenant};
use crate::domain::money::Currency;
use crate::domain::order::TaxRate;
use crate::domain::product::{
    BillingPeriod, ClassKind, Composition, Price, PriceModel, Product, ProductClass, ProductClassification, TaxModel,
    Tier, PRODUCT_LIST_MAX, PRODUCT_TEXT_MAX,
};
use crate::storage::WriteSet;

/// A brand, family, category or type to file products under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProductClass {
    pub kind: ClassKind,
    pub name: String,
    pub description: Option<String>,
    pub code: Option<String>,
    /// A category's parent category.
    pub parent: Option<ProductClassId>,
    /// A type's classification and composition (required for a type, refused otherwise).
    pub classification: Option<ProductClassification>,
    pub composition: Option<Composition>,
}

/// A price to give a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPrice {
    /// The business's currency when not given.
    pub currency: Option<Currency>,
    pub model: PriceModel,
    pub tax_model: TaxModel,
    pub tiers: Vec<Tier>,
    pub billing_period: Option<BillingPeriod>,
    pub is_default: bool,
}

/// A product to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub product_type: ProductClassId,
    pub family: Option<ProductClassId>,
    pub brand: Option<ProductClassId>,
    pub categories: Vec<ProductClassId>,
    pub is_modifier: bool,
    pub variant_of: Option<ProductId>,
    pub components: Vec<ProductId>,
    pub prices: Vec<NewPrice>,
    pub cross_sells: Vec<ProductId>,
    pub up_sells: Vec<ProductId>,
    pub enabled: bool,
    /// The business when not given; else an organisation of its network.
    pub owner: Option<OrganisationId>,
    pub tax_rate: Option<TaxRate>,
    /// The organisations that sell it (none: every one).
    pub available_at: Vec<OrganisationId>,
}

/// Changes to a product (`None` leaves a field; lists are replaced whole).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
    pub prices: Option<Vec<NewPrice>>,
    pub categories: Option<Vec<ProductClassId>>,
    pub cross_sells: Option<Vec<ProductId>>,
    pub up_sells: Option<Vec<ProductId>>,
    pub tax_rate: Option<TaxRate>,
    pub available_at: Option<Vec<OrganisationId>>,
}

/// What a search keeps (every field given must hold).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductFilter {
    /// In the name or the SKU, any case.
    pub search: Option<String>,
    /// In the name, any case.
    pub name: Option<String>,
    pub skus: Vec<String>,
    pub ids: Vec<ProductId>,
    pub family: Option<ProductClassId>,
    pub brand: Option<ProductClassId>,
    /// In this category or any below it.
    pub category: Option<ProductClassId>,
    /// In exactly this category.
    pub category_exact: Option<ProductClassId>,
    pub product_type: Option<ProductClassId>,
    pub classification: Option<ProductClassification>,
    /// Only products listed on their own (not modifiers or variants), enabled.
    pub listed_only: bool,
}

fn optional_text(parameter: &'static str, value: Option<String>) -> Result<Option<String>, EngineError> {
    value
        .map(|text| short_text(parameter, &text, PRODUCT_TEXT_MAX))
        .transpose()
}

fn at_most<T>(parameter: &'static str, list: &[T]) -> Result<(), EngineError> {
    if list.len() > PRODUCT_LIST_MAX {
        return Err(invalid(parameter, format!("at most {PRODUCT_LIST_MAX}")));
    }
    Ok(())
}

impl Engine {
    /// Files a new brand, family, category or type (its name unique among its kind).
    pub async fn create_product_class(
        &self,
        tenant: Tenant,
        new: NewProductClass,
    ) -> Result<ProductClass, EngineError> {
        self.check_open()?;
        let name = short_text("name", &new.name, PRODUCT_TEXT_MAX)?;
        let description = optional_text("description", new.description)?;
        let code = optional_text("code", new.code)?;
        match (new.kind, new.classification, new.composition) {
            (ClassKind::Type, Some(_), Some(_)) => {}
            (ClassKind::Type, None, _) => return Err(invalid("classification", "a product type needs it")),
            (ClassKind::Type, _, None) => return Err(invalid("composition_method", "a product type needs it")),
            (_, None, None) => {}
            _ => {
                return Err(invalid(
                    "classification",
                    "only a product type has a classification and a composition",
                ))
            }
        }
        if let Some(parent) = new.parent {
            if new.kind != ClassKind::Category {
                return Err(invalid("parent_id", "only a category has a parent"));
            }
            self.product_class(&tenant, ClassKind::Category, parent)
                .map_err(|_| invalid("parent_id", "is not one of the business's categories"))?;
        }
        let _claim = self
            .inner
            .claims
            .claim(claim_key(b'^', &tenant, &[new.kind.byte()]), rand::random())
            .map_err(|_| EngineError::Busy("product classes"))?;
        let existing = self.inner.store.product_classes(&tenant, new.kind)?;
        if existing.len() >= 1_000 {
            return Err(EngineError::Conflict("a business has at most 1000 of each kind".into()));
        }
        if existing.iter().any(|class| class.name.eq_ignore_ascii_case(&name)) {
            return Err(EngineError::AlreadyExists("name"));
        }
        if let Some(code) = &code {
            if existing.iter().any(|class| {
                class
                    .code
                    .as_deref()
                    .is_some_and(|taken| taken.eq_ignore_ascii_case(code))
            }) {
                return Err(EngineError::AlreadyExists("code"));
            }
        }
        let class = ProductClass {
            id: ProductClassId::random(),
            tenant,
            kind: new.kind,
            name,
            description,
            code,
            parent: new.parent,
            classification: new.classification,
            composition: new.composition,
            created_on: self.now(),
        };
        let mut writes = WriteSet::default();
        writes.product_class(&class);
        self.commit_durable(writes).await?;
        Ok(class)
    }

    pub fn product_class(
        &self,
        tenant: &Tenant,
        kind: ClassKind,
        id: ProductClassId,
    ) -> Result<ProductClass, EngineError> {
        self.inner
            .store
            .product_class(tenant, kind, id)?
            .ok_or(EngineError::NotFound("product class"))
    }

    /// The business's classes of one kind, by name.
    pub fn product_classes(&self, tenant: &Tenant, kind: ClassKind) -> Result<Vec<ProductClass>, EngineError> {
        let mut classes = self.inner.store.product_classes(tenant, kind)?;
        classes.sort_by_key(|class| class.name.to_lowercase());
        Ok(classes)
    }

    fn checked_prices(&self, tenant: &Tenant, asked: Vec<NewPrice>) -> Result<Vec<Price>, EngineError> {
        at_most("pricing", &asked)?;
        let business = self.organisation(tenant.organisation)?.default_currency;
        let mut prices = Vec::with_capacity(asked.len());
        for new in asked {
            let price = Price {
                id: uuid::Uuid::new_v4(),
                currency: new.currency.unwrap_or(business),
                model: new.model,
                tax_model: new.tax_model,
                tiers: new.tiers,
                billing_period: new.billing_period,
                is_default: new.is_default,
            };
            price
                .validate(self.inner.settings.money.amount_max)
                .map_err(|error| invalid(error.parameter, error.message))?;
            if prices
                .iter()
                .any(|other: &Price| other.currency == price.currency && other.billing_period == price.billing_period)
            {
                return Err(invalid("pricing", "one price per currency and billing period"));
            }
            prices.push(price);
        }
        for currency in prices.iter().map(|price| price.currency).collect::<Vec<_>>() {
            if prices
                .iter()
                .filter(|price| price.currency == currency && price.is_default)
                .count()
                > 1
            {
                return Err(invalid("pricing.is_default", "one default price per currency"));
            }
        }
        Ok(prices)
    }

    /// A tax rate: named, 0 to 100 percent with at most 4 decimals.
    fn check_tax_rate(rate: Option<TaxRate>) -> Result<Option<TaxRate>, EngineError> {
        let Some(rate) = rate else { return Ok(None) };
        let name = short_text("tax_rate.name", &rate.name, PRODUCT_TEXT_MAX)?;
        if rate.percentage < rust_decimal::Decimal::ZERO
            || rate.percentage > rust_decimal::Decimal::ONE_HUNDRED
            || rate.percentage.normalize().scale() > 4
        {
            return Err(invalid("tax_rate.percentage", "must be 0 to 100, at most 4 decimals"));
        }
        Ok(Some(TaxRate { name, ..rate }))
    }

    /// Checks each organisation named is of the business's network.
    fn check_available_at(&self, tenant: &Tenant, at: &[OrganisationId]) -> Result<(), EngineError> {
        at_most("available_at", at)?;
        for id in at {
            self.organisation_for(tenant.organisation, *id)
                .map_err(|_| invalid("available_at", "names an organisation outside this business's network"))?;
        }
        Ok(())
    }

    /// Checks each named product exists (and is not `this`).
    fn check_products(
        &self,
        tenant: &Tenant,
        parameter: &'static str,
        ids: &[ProductId],
        this: ProductId,
    ) -> Result<(), EngineError> {
        at_most(parameter, ids)?;
        for id in ids {
            if *id == this || self.inner.store.product(tenant, *id)?.is_none() {
                return Err(invalid(
                    parameter,
                    "names a product that is not another of the business's",
                ));
            }
        }
        Ok(())
    }

    fn check_categories(&self, tenant: &Tenant, categories: &[ProductClassId]) -> Result<(), EngineError> {
        at_most("categories", categories)?;
        for id in categories {
            self.product_class(tenant, ClassKind::Category, *id)
                .map_err(|_| invalid("categories", "names a category that is not the business's"))?;
        }
        Ok(())
    }

    /// Makes a product (its SKU unique in the business, any case).
    pub async fn create_product(&self, tenant: Tenant, new: NewProduct) -> Result<Product, EngineError> {
        self.check_open()?;
        let sku = short_text("sku", &new.sku, PRODUCT_TEXT_MAX)?;
        let name = short_text("name", &new.name, PRODUCT_TEXT_MAX)?;
        let description = optional_text("description", new.description)?;
        let product_type = self
            .product_class(&tenant, ClassKind::Type, new.product_type)
            .map_err(|_| invalid("type_id", "is not one of the business's product types"))?;
        for (parameter, kind, id) in [
            ("family_id", ClassKind::Family, new.family),
            ("brand_id", ClassKind::Brand, new.brand),
        ] {
            if let Some(id) = id {
                self.product_class(&tenant, kind, id)
                    .map_err(|_| invalid(parameter, "is not one of the business's"))?;
            }
        }
        self.check_categories(&tenant, &new.categories)?;
        let id = ProductId::random();
        if let Some(parent) = new.variant_of {
            let parent = self
                .inner
                .store
                .product(&tenant, parent)?
                .ok_or_else(|| invalid("variant_of", "is not one of the business's products"))?;
            if parent.variant_of.is_some() {
                return Err(invalid("variant_of", "a variant's product is not itself a variant"));
            }
        }
        self.check_products(&tenant, "components", &new.components, id)?;
        let bundle = matches!(product_type.composition, Some(Composition::Flat) | None);
        if bundle && !new.components.is_empty() {
            return Err(invalid(
                "components",
                "only a bundle or composite product has components",
            ));
        }
        self.check_products(&tenant, "cross_sells", &new.cross_sells, id)?;
        self.check_products(&tenant, "up_sells", &new.up_sells, id)?;
        let owner = match new.owner {
            None => tenant.organisation,
            Some(owner) => {
                self.organisation_for(tenant.organisation, owner)
                    .map_err(|_| invalid("owner", "is not in this business's network"))?;
                owner
            }
        };
        let prices = self.checked_prices(&tenant, new.prices)?;
        let tax_rate = Self::check_tax_rate(new.tax_rate)?;
        self.check_available_at(&tenant, &new.available_at)?;
        let _claim = self
            .inner
            .claims
            .claim(claim_key(b']', &tenant, sku.to_lowercase().as_bytes()), rand::random())
            .map_err(|_| EngineError::Conflict("a product with this SKU is being made".into()))?;
        if self.inner.store.product_by_sku(&tenant, &sku)?.is_some() {
            return Err(EngineError::AlreadyExists("sku"));
        }
        let now = self.now();
        let product = Product {
            id,
            tenant,
            sku,
            name,
            description,
            product_type: product_type.id,
            classification: product_type
                .classification
                .unwrap_or(ProductClassification::NonTraceableGood),
            composition: product_type.composition.unwrap_or(Composition::Flat),
            family: new.family,
            brand: new.brand,
            categories: new.categories,
            is_modifier: new.is_modifier,
            variant_of: new.variant_of,
            components: new.components,
            prices,
            cross_sells: new.cross_sells,
            up_sells: new.up_sells,
            enabled: new.enabled,
            owner,
            created_on: now,
            updated_on: now,
            tax_rate,
            available_at: new.available_at,
        };
        let mut writes = WriteSet::default();
        writes.product(&product, None);
        self.commit_durable(writes).await?;
        Ok(product)
    }

    pub fn product(&self, tenant: &Tenant, id: ProductId) -> Result<Product, EngineError> {
        self.inner
            .store
            .product(tenant, id)?
            .ok_or(EngineError::NotFound("product"))
    }

    /// Changes a product: all of `update`, or none of it.
    pub async fn update_product(
        &self,
        tenant: Tenant,
        id: ProductId,
        update: ProductUpdate,
    ) -> Result<Product, EngineError> {
        self.check_open()?;
        let _claim = self
            .inner
            .claims
            .claim(claim_key(b'[', &tenant, id.as_bytes()), rand::random())
            .map_err(|_| EngineError::Busy("product"))?;
        let before = self.product(&tenant, id)?;
        let mut product = before.clone();
        if let Some(name) = update.name {
            product.name = short_text("name", &name, PRODUCT_TEXT_MAX)?;
        }
        if let Some(description) = update.description {
            product.description = Some(short_text("description", &description, PRODUCT_TEXT_MAX)?);
        }
        if let Some(enabled) = update.enabled {
            product.enabled = enabled;
        }
        if let Some(prices) = update.prices {
            product.prices = self.checked_prices(&tenant, prices)?;
        }
        if let Some(categories) = update.categories {
            self.check_categories(&tenant, &categories)?;
            product.categories = categories;
        }
        if let Some(cross_sells) = update.cross_sells {
            self.check_products(&tenant, "cross_sells", &cross_sells, id)?;
            product.cross_sells = cross_sells;
        }
        if let Some(up_sells) = update.up_sells {
            self.check_products(&tenant, "up_sells", &up_sells, id)?;
            product.up_sells = up_sells;
        }
        if let Some(rate) = update.tax_rate {
            product.tax_rate = Self::check_tax_rate(Some(rate))?;
        }
        if let Some(at) = update.available_at {
            self.check_available_at(&tenant, &at)?;
            product.available_at = at;
        }
        if product == before {
            return Ok(product);
        }
        product.updated_on = self.now();
        let mut writes = WriteSet::default();
        writes.product(&product, Some(&before));
        self.commit_durable(writes).await?;
        Ok(product)
    }

    /// The business's products `filter` keeps, by name.
    pub fn products(&self, tenant: &Tenant, filter: &ProductFilter) -> Result<Vec<Product>, EngineError> {
        let all = self.inner.store.products(tenant)?;
        self.filtered(tenant, all, filter)
    }

    /// As `products`, each with how many variants it has: the catalogue read once.
    pub fn products_with_variants(
        &self,
        tenant: &Tenant,
        filter: &ProductFilter,
    ) -> Result<Vec<(Product, usize)>, EngineError> {
        let all = self.inner.store.products(tenant)?;
        let mut variants: std::collections::HashMap<ProductId, usize> = std::collections::HashMap::new();
        for parent in all.iter().filter_map(|product| product.variant_of) {
            *variants.entry(parent).or_default() += 1;
        }
        Ok(self
            .filtered(tenant, all, filter)?
            .into_iter()
            .map(|product| {
                let count = variants.get(&product.id).copied().unwrap_or(0);
                (product, count)
            })
            .collect())
    }

    fn filtered(
        &self,
        tenant: &Tenant,
        all: Vec<Product>,
        filter: &ProductFilter,
    ) -> Result<Vec<Product>, EngineError> {
        let below = match filter.category {
            Some(top) => Some(self.categories_below(tenant, top)?),
            None => None,
        };
        let search = filter.search.as_ref().map(|text| text.to_lowercase());
        let name = filter.name.as_ref().map(|text| text.to_lowercase());
        let mut found: Vec<Product> = all
            .into_iter()
            .filter(|product| {
                (!filter.listed_only || (product.listed() && product.enabled))
                    && search.as_ref().is_none_or(|text| {
                        product.name.to_lowercase().contains(text) || product.sku.to_lowercase().contains(text)
                    })
                    && name
                        .as_ref()
                        .is_none_or(|text| product.name.to_lowercase().contains(text))
                    && (filter.skus.is_empty() || filter.skus.iter().any(|sku| sku.eq_ignore_ascii_case(&product.sku)))
                    && (filter.ids.is_empty() || filter.ids.contains(&product.id))
                    && filter.family.is_none_or(|family| product.family == Some(family))
                    && filter.brand.is_none_or(|brand| product.brand == Some(brand))
                    && filter.product_type.is_none_or(|kind| product.product_type == kind)
                    && filter.classification.is_none_or(|kind| product.classification == kind)
                    && filter
                        .category_exact
                        .is_none_or(|category| product.categories.contains(&category))
                    && below
                        .as_ref()
                        .is_none_or(|below| product.categories.iter().any(|category| below.contains(category)))
            })
            .collect();
        found.sort_by_key(|product| (product.name.to_lowercase(), product.id));
        Ok(found)
    }

    /// `top` and every category below it.
    fn categories_below(&self, tenant: &Tenant, top: ProductClassId) -> Result<Vec<ProductClassId>, EngineError> {
        let all = self.inner.store.product_classes(tenant, ClassKind::Category)?;
        let mut below = vec![top];
        let mut grew = true;
        while grew {
            grew = false;
            for class in &all {
                if class.parent.is_some_and(|parent| below.contains(&parent)) && !below.contains(&class.id) {
                    below.push(class.id);
                    grew = true;
                }
            }
        }
        Ok(below)
    }
}
