//! Pure types and rules: no actix, no fjall. Functions from (state, command) to
//! (entries, outcome); the actors call them and the storage layer persists what they return.

/// A closed set of codes as the API spells them: `code()`, `parse()` and `ALL`.
macro_rules! coded {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn parse(code: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|value| value.code() == code)
            }
        }
    };
}

pub mod access;
pub mod account;
pub mod budget;
pub mod commerce_pool;
pub mod comms;
pub mod community;
pub mod contact;
pub mod contact_address;
pub mod contact_token;
pub mod estimate;
pub mod ids;
pub mod integration;
pub mod intent;
pub mod location;
pub mod money;
pub mod offer;
pub mod order;
pub mod organisation;
pub mod otp;
pub mod pass;
pub mod payment;
pub mod product;
pub mod purchase;
pub mod purchase_return;
pub mod reclaim;
pub mod scheme;
pub mod service_request;
pub mod subscription;
pub mod topup_schedule;
pub mod transfer;
pub mod usage;
pub mod wallet;
