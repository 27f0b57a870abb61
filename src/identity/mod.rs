//! Outside identity providers contacts sign in with: OpenID Connect ([`oidc`]) and Facebook
//! ([`facebook`]). Each turns what an app sends (an ID token or authorization code, a
//! Facebook access token) into an [`ExternalIdentity`] only after checking it with the
//! provider for real; the engine then signs that identity in. Provider URLs are settings, so
//! tests run their own provider on loopback.

pub mod facebook;
pub mod oidc;

use crate::api::errors::{codes, ApiError};
use actix_web::http::StatusCode;

/// A token or code the provider did not vouch for: 401, with why.
pub fn refused(why: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        codes::INVALID_TOKEN,
        format!("the identity provider's token is not valid: {why}"),
    )
}

/// The provider could not be asked (down, slow, malformed answer): 502.
pub fn unreachable(why: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::BAD_GATEWAY,
        codes::UPSTREAM,
        format!("the identity provider could not be reached: {why}"),
    )
}

/// Both verifiers, shared by the handlers.
pub struct IdentityProviders {
    pub oidc: oidc::OidcProviders,
    pub facebook: facebook::Facebook,
}
