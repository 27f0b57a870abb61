//! Wire helpers shared by every API family: exact decimal numbers and CRM.COM paging.

use crate::api::errors::{codes, ApiError};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::str::FromStr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, ToSchema};

/// A JSON number read and written exactly as a decimal (D6): `12.50` stays `12.50`, never
/// a float. serde_json's `arbitrary_precision` hands us the number's own text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money(pub Decimal);

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let number = serde_json::Number::from_str(&self.0.to_string()).map_err(serde::ser::Error::custom)?;
        number.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        let number = serde_json::Number::deserialize(deserializer)
            .map_err(|_| serde::de::Error::custom("expected a decimal number"))?;
        let text = number.to_string();
        let parsed = if text.contains(['e', 'E']) {
            Decimal::from_scientific(&text)
        } else {
            Decimal::from_str_exact(&text)
        };
        parsed
            .map(Money)
            .map_err(|_| serde::de::Error::custom(format!("{text} is not a decimal this engine can hold exactly")))
    }
}

impl utoipa::PartialSchema for Money {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .description(Some("A decimal amount, exact to the currency's minor units"))
            .examples([serde_json::json!(12.5)])
            .into()
    }
}

impl ToSchema for Money {}

pub fn money(value: Decimal) -> Money {
    Money(value)
}

/// Query parameters of CRM.COM's paged lists.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1.
    pub page: Option<usize>,
    /// Records per page (default 10, at most `http.page_size_max`).
    pub size: Option<usize>,
    /// Sort attribute; only CREATED_DATE is supported.
    pub sort: Option<String>,
    /// ASC or DESC (default DESC: newest first).
    pub order: Option<String>,
    /// Whether `paging.total` is counted.
    pub include_total: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Paging {
    pub page: usize,
    pub size: usize,
    /// Null unless `include_total=true`.
    pub total: Option<usize>,
    pub has_more: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PagedResponse<T: ToSchema> {
    pub paging: Paging,
    pub content: Vec<T>,
}

/// A request body read and dropped, for POSTs that take no fields. Tills often send `{}`
/// anyway; reading it keeps the keep-alive connection open (actix closes a connection whose
/// request body was left unread).
pub struct IgnoredBody;

impl actix_web::FromRequest for IgnoredBody {
    type Error = actix_web::Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(request: &actix_web::HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let body = actix_web::web::Bytes::from_request(request, payload);
        Box::pin(async move {
            body.await.map(|_| IgnoredBody).map_err(|error| {
                let too_large =
                    error.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE;
                let api_error = if too_large {
                    ApiError::new(
                        actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                        codes::PAYLOAD_TOO_LARGE,
                        "request body is too large",
                    )
                } else {
                    ApiError::new(
                        actix_web::http::StatusCode::BAD_REQUEST,
                        codes::INVALID_VALUE,
                        format!("invalid body: {error}"),
                    )
                };
                api_error.into()
            })
        })
    }
}
