//! Commerce pools: named spend conditions (where, on what) that offers credit their awards
//! under. An award's lot carries the pool's conditions as they were when it was made
//! (D7: lots carry their conditions), so a later change to a pool applies to later awards.

use super::ids::{CommercePoolId, Tenant};
use super::offer::{OfferError, SpendConditions};
use serde::{Deserialize, Serialize};

/// Longest pool name, in characters.
pub const POOL_NAME_CHARS_MAX: usize = 200;
/// Longest pool description, in characters.
pub const POOL_DESCRIPTION_CHARS_MAX: usize = 4_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommercePool {
    pub id: CommercePoolId,
    pub tenant: Tenant,
    pub name: String,
    pub description: Option<String>,
    pub conditions: SpendConditions,
    pub created_on: i64,
    pub updated_on: i64,
}

impl CommercePool {
    pub fn validate(&self) -> Result<(), OfferError> {
        let bad = |field: &'static str, message: String| OfferError::Field { field, message };
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > POOL_NAME_CHARS_MAX || name.chars().any(char::is_control) {
            return Err(bad(
                "name",
                format!("must be 1 to {POOL_NAME_CHARS_MAX} printable characters"),
            ));
        }
        if let Some(description) = &self.description {
            if description.chars().count() > POOL_DESCRIPTION_CHARS_MAX
                || description.chars().any(|c| c.is_control() && c != '\n')
            {
                return Err(bad(
                    "description",
                    format!("must be at most {POOL_DESCRIPTION_CHARS_MAX} printable characters"),
                ));
            }
        }
        self.conditions.check(&[
            "spend_conditions",
            "spend_conditions.organisations",
            "spend_conditions.products.skus",
            "spend_conditions.products.families",
            "spend_conditions.products.brands",
            "spend_conditions.products.categories",
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{Mode, OrganisationId};
    use crate::domain::offer::ProductFilter;

    fn pool() -> CommercePool {
        CommercePool {
            id: CommercePoolId::random(),
            tenant: Tenant {
                organisation: OrganisationId::random(),
                mode: Mode::Live,
            },
            name: "Coffee money".into(),
            description: None,
            conditions: SpendConditions {
                organisations: vec![],
                products: ProductFilter {
                    skus: vec!["COFFEE".into()],
                    ..ProductFilter::default()
                },
            },
            created_on: 0,
            updated_on: 0,
        }
    }

    #[test]
    fn a_pool_needs_a_name_and_conditions_each_checked() {
        assert_eq!(pool().validate(), Ok(()));
        type Change = Box<dyn Fn(&mut CommercePool)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|p| p.name = " ".into()), "name"),
            (Box::new(|p| p.name = "Bell\u{7}".into()), "name"),
            (Box::new(|p| p.name = "x".repeat(201)), "name"),
            (Box::new(|p| p.description = Some("\u{0}".into())), "description"),
            (
                Box::new(|p| p.conditions = SpendConditions::default()),
                "spend_conditions",
            ),
            (
                Box::new(|p| p.conditions.organisations = (0..101).map(|_| OrganisationId::random()).collect()),
                "spend_conditions.organisations",
            ),
            (
                Box::new(|p| p.conditions.products.brands = vec!["".into()]),
                "spend_conditions.products.brands",
            ),
        ];
        for (change, field) in cases {
            let mut changed = pool();
            change(&mut changed);
            assert_eq!(changed.validate().map_err(|error| error.field()), Err(field));
        }
    }
}
