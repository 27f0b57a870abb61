//! The product catalogue: products (with a SKU index) and the brands, families, categories
//! and types they are filed under.

use crate::domain::ids::{ProductClassId, ProductId};
use crate::domain::product::{ClassKind, Product, ProductClass};
use crate::storage::*;

impl Store {
    pub fn product(&self, tenant: &Tenant, id: ProductId) -> Result<Option<Product>, StoreError> {
        self.get_or_upgrade(&keys::product(tenant, id), |old: legacy::LegacyProduct| {
            Product::from(old)
        })
    }

    /// Every product of the business, by id.
    pub fn products(&self, tenant: &Tenant) -> Result<Vec<Product>, StoreError> {
        self.scan_or_upgrade(&keys::products(tenant), |old: legacy::LegacyProduct| Product::from(old))
    }

    /// The product a SKU names (any case).
    pub fn product_by_sku(&self, tenant: &Tenant, sku: &str) -> Result<Option<ProductId>, StoreError> {
        self.get(&keys::product_sku(tenant, sku))
    }

    pub fn product_class(
        &self,
        tenant: &Tenant,
        kind: ClassKind,
        id: ProductClassId,
    ) -> Result<Option<ProductClass>, StoreError> {
        self.get(&keys::product_class(tenant, kind, id))
    }

    /// Every class of one kind, by id.
    pub fn product_classes(&self, tenant: &Tenant, kind: ClassKind) -> Result<Vec<ProductClass>, StoreError> {
        self.scan(&keys::product_classes(tenant, kind), usize::MAX)
    }
}

impl WriteSet {
    /// A product, and its SKU's entry (`before`'s SKU removed when it changed).
    pub fn product(&mut self, product: &Product, before: Option<&Product>) {
        if let Some(before) = before.filter(|before| !before.sku.eq_ignore_ascii_case(&product.sku)) {
            self.remove(keys::product_sku(&before.tenant, &before.sku));
        }
        self.put(keys::product_sku(&product.tenant, &product.sku), encode(&product.id));
        self.put(keys::product(&product.tenant, product.id), encode(product));
    }

    pub fn product_class(&mut self, class: &ProductClass) {
        self.put(keys::product_class(&class.tenant, class.kind, class.id), encode(class));
    }
}
