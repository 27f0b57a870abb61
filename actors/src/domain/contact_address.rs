//! A contact's addresses (`/self-service/v2/contacts/{id}/addresses`): home, business or
//! another, one of them primary and one the billing address. An order is delivered to one
//! (`address_id`), which then needs coordinates.
//!
//! A contact keeps at most `ADDRESSES_MAX`. Adding an address the contact has already (the
//! same fields) answers that one, so a retried add makes no second copy.

use super::ids::AddressId;
use super::location::{Address, Point, ADDRESS_TEXT_MAX};
use serde::{Deserialize, Serialize};

/// Most addresses one contact keeps.
pub const ADDRESSES_MAX: usize = 20;

coded!(
    AddressType {
        Home = "HOME",
        Business = "BUSINESS",
        Alternative = "ALTERNATIVE",
    }
);

/// What a contact says of an address (checked by `AddressFields::check`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddressFields {
    pub kind: AddressType,
    pub name: Option<String>,
    pub line_1: String,
    pub line_2: Option<String>,
    pub state_province_county: Option<String>,
    pub town_city: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-3.
    pub country_code: Option<String>,
    /// Degrees; both or neither.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub google_place_id: Option<String>,
}

/// Why an address is refused: the field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressError {
    pub field: &'static str,
    pub message: String,
}

fn refused(field: &'static str, message: impl Into<String>) -> AddressError {
    AddressError {
        field,
        message: message.into(),
    }
}

fn text(field: &'static str, value: &Option<String>) -> Result<(), AddressError> {
    match value {
        Some(value) if value.trim().is_empty() || value.chars().count() > ADDRESS_TEXT_MAX => {
            Err(refused(field, format!("must be 1 to {ADDRESS_TEXT_MAX} characters")))
        }
        Some(value) if value.chars().any(char::is_control) => Err(refused(field, "must be printable")),
        _ => Ok(()),
    }
}

impl AddressFields {
    /// Checks every field: printable texts of at most `ADDRESS_TEXT_MAX` characters, an
    /// alpha-3 country code, coordinates both given and on the globe.
    pub fn check(&self) -> Result<(), AddressError> {
        text("address_line_1", &Some(self.line_1.clone()))?;
        for (field, value) in [
            ("name", &self.name),
            ("address_line_2", &self.line_2),
            ("state_province_county", &self.state_province_county),
            ("town_city", &self.town_city),
            ("postal_code", &self.postal_code),
            ("google_place_id", &self.google_place_id),
        ] {
            text(field, value)?;
        }
        if self
            .country_code
            .as_deref()
            .is_some_and(|code| code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(refused("country_code", "must be an ISO 3166-1 alpha-3 code, e.g. CYP"));
        }
        match (self.lat, self.lon) {
            (None, None) => Ok(()),
            (Some(lat), Some(lon)) => Point::new(lat, lon).map(|_| ()).map_err(|why| refused("lat", why)),
            _ => Err(refused("lat", "give lat and lon together")),
        }
    }

    /// Where it is, for a delivery: `None` without coordinates.
    pub fn location(&self) -> Option<Address> {
        Some(Address {
            line_1: Some(self.line_1.clone()),
            line_2: self.line_2.clone(),
            town_city: self.town_city.clone(),
            state_province_county: self.state_province_county.clone(),
            postal_code: self.postal_code.clone(),
            country_code: self.country_code.clone(),
            lat: self.lat?,
            lon: self.lon?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactAddress {
    pub id: AddressId,
    pub fields: AddressFields,
    pub is_primary: bool,
    pub is_billing: bool,
}

/// A contact's addresses, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContactAddresses {
    pub addresses: Vec<ContactAddress>,
}

impl ContactAddresses {
    pub fn get(&self, id: AddressId) -> Option<&ContactAddress> {
        self.addresses.iter().find(|a| a.id == id)
    }

    /// Adds an address (the first is primary; one marked primary or billing takes that
    /// from the others). One with the same fields as an address kept answers that one.
    pub fn add(
        &mut self,
        id: AddressId,
        fields: AddressFields,
        is_primary: bool,
        is_billing: bool,
    ) -> Result<AddressId, AddressError> {
        fields.check()?;
        if let Some(same) = self.addresses.iter().find(|a| a.fields == fields) {
            return Ok(same.id);
        }
        if self.addresses.len() >= ADDRESSES_MAX {
            return Err(refused(
                "address_line_1",
                format!("a contact keeps at most {ADDRESSES_MAX} addresses"),
            ));
        }
        let is_primary = is_primary || self.addresses.is_empty();
        self.addresses.push(ContactAddress {
            id,
            fields,
            is_primary: false,
            is_billing: false,
        });
        self.mark(id, is_primary, is_billing);
        Ok(id)
    }

    /// Replaces an address's fields; `is_primary` and `is_billing`, when given, move
    /// those marks to it (or, false, off it). `None`: no such address.
    pub fn update(
        &mut self,
        id: AddressId,
        fields: AddressFields,
        is_primary: Option<bool>,
        is_billing: Option<bool>,
    ) -> Option<Result<(), AddressError>> {
        let index = self.addresses.iter().position(|a| a.id == id)?;
        if let Err(error) = fields.check() {
            return Some(Err(error));
        }
        self.addresses[index].fields = fields;
        let current = &self.addresses[index];
        let (primary, billing) = (
            is_primary.unwrap_or(current.is_primary),
            is_billing.unwrap_or(current.is_billing),
        );
        self.mark(id, primary, billing);
        Some(Ok(()))
    }

    /// Removes an address; the oldest left becomes primary if it was. `false`: no such.
    pub fn remove(&mut self, id: AddressId) -> bool {
        let Some(index) = self.addresses.iter().position(|a| a.id == id) else {
            return false;
        };
        let removed = self.addresses.remove(index);
        if removed.is_primary {
            if let Some(first) = self.addresses.first_mut() {
                first.is_primary = true;
            }
        }
        true
    }

    fn mark(&mut self, id: AddressId, primary: bool, billing: bool) {
        for address in &mut self.addresses {
            let this = address.id == id;
            if primary {
                address.is_primary = this;
            } else if this {
                address.is_primary = false;
            }
            if billing {
                address.is_billing = this;
            } else if this {
                address.is_billing = false;
            }
        }
        // A contact with addresses always has a primary one.
        if !self.addresses.iter().any(|a| a.is_primary) {
            if let Some(first) = self.addresses.first_mut() {
                first.is_primary = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str) -> AddressFields {
        AddressFields {
            kind: AddressType::Home,
            name: None,
            line_1: line.into(),
            line_2: None,
            state_province_county: None,
            town_city: Some("Nicosia".into()),
            postal_code: None,
            country_code: Some("CYP".into()),
            lat: Some(35.17),
            lon: Some(33.36),
            google_place_id: None,
        }
    }

    fn id(n: u128) -> AddressId {
        AddressId(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn one_address_is_primary_one_billing_and_the_same_address_is_kept_once() {
        let mut book = ContactAddresses::default();
        assert_eq!(book.add(id(1), fields("1 Main St"), false, false), Ok(id(1)));
        assert!(book.get(id(1)).unwrap().is_primary, "the first is primary");
        assert_eq!(
            book.add(id(2), fields("1 Main St"), true, true),
            Ok(id(1)),
            "the same: kept once"
        );
        assert_eq!(book.add(id(3), fields("9 Side St"), true, true), Ok(id(3)));
        let marks = |book: &ContactAddresses| {
            book.addresses
                .iter()
                .map(|a| (a.id.0.as_u128(), a.is_primary, a.is_billing))
                .collect::<Vec<_>>()
        };
        assert_eq!(marks(&book), vec![(1, false, false), (3, true, true)]);
        assert_eq!(book.update(id(1), fields("2 Main St"), Some(true), None), Some(Ok(())));
        assert_eq!(marks(&book), vec![(1, true, false), (3, false, true)]);
        assert!(book.remove(id(1)));
        assert_eq!(marks(&book), vec![(3, true, true)], "the oldest left is primary");
        assert!(!book.remove(id(1)));
        assert_eq!(book.update(id(9), fields("x"), None, None), None);
    }

    #[test]
    fn bad_fields_are_refused_by_name_and_the_book_is_bounded() {
        let mut book = ContactAddresses::default();
        let bad = |change: &dyn Fn(&mut AddressFields)| {
            let mut f = fields("1 Main St");
            change(&mut f);
            f.check().unwrap_err().field
        };
        assert_eq!(bad(&|f| f.line_1 = " ".into()), "address_line_1");
        assert_eq!(bad(&|f| f.line_1 = "x".repeat(201)), "address_line_1");
        assert_eq!(bad(&|f| f.country_code = Some("cy".into())), "country_code");
        assert_eq!(bad(&|f| f.lat = Some(91.0)), "lat");
        assert_eq!(bad(&|f| f.lon = None), "lat");
        assert_eq!(bad(&|f| f.name = Some("a\u{0}b".into())), "name");
        for n in 0..ADDRESSES_MAX {
            book.add(id(n as u128), fields(&format!("{n} Main St")), false, false)
                .unwrap();
        }
        assert_eq!(
            book.add(id(99), fields("99 Main St"), false, false).unwrap_err().field,
            "address_line_1"
        );
        let mut no_point = fields("1 Main St");
        no_point.lat = None;
        no_point.lon = None;
        assert!(no_point.check().is_ok());
        assert!(no_point.location().is_none());
        assert_eq!(fields("1 Main St").location().unwrap().lat, 35.17);
    }
}
