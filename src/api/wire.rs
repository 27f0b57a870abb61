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
    /// Sort attribute: CREATED_DATE (DEFAULT_SORTING is taken as the same).
    pub sort: Option<String>,
    /// ASC or DESC (default DESC: newest first).
    pub order: Option<String>,
    /// Whether `paging.total` is counted.
    pub include_total: Option<bool>,
}

/// The paging parameters of the lists whose contract names only these two.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageNumberQuery {
    /// Page number, from 1.
    pub page: Option<usize>,
    /// Records per page (default 10, at most `http.page_size_max`).
    pub size: Option<usize>,
}

/// CRM.COM paging, checked: the one extractor every paged list uses. `page` is 1 or more,
/// `size` 1 to `http.page_size_max`, and the offset of the page (`(page - 1) * size`) is
/// computed with checked arithmetic, so no page number can wrap around to another page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paged {
    pub page: usize,
    pub size: usize,
    /// Records before this page.
    pub offset: usize,
    pub descending: bool,
    pub include_total: bool,
}

/// The default page size, as CRM.COM's.
pub const PAGE_SIZE_DEFAULT: usize = 10;

impl Paged {
    pub fn parse(query: PageQuery, size_max: usize) -> Result<Paged, ApiError> {
        let page = query.page.unwrap_or(1);
        if page == 0 {
            return Err(ApiError::invalid("page", "page starts at 1"));
        }
        let size = query.size.unwrap_or(PAGE_SIZE_DEFAULT.min(size_max));
        if size == 0 || size > size_max {
            return Err(ApiError::invalid("size", format!("size must be 1 to {size_max}")));
        }
        let offset = (page - 1)
            .checked_mul(size)
            .filter(|offset| offset.checked_add(size).is_some())
            .ok_or_else(|| ApiError::invalid("page", format!("page must be at most {}", usize::MAX / size)))?;
        let descending = match query.order.as_deref().unwrap_or("DESC") {
            "DESC" => true,
            "ASC" => false,
            _ => return Err(ApiError::invalid("order", "order must be ASC or DESC")),
        };
        // DEFAULT_SORTING is what some of CRM.COM's lists call their default, newest first.
        if query
            .sort
            .as_deref()
            .is_some_and(|sort| sort != "CREATED_DATE" && sort != "DEFAULT_SORTING")
        {
            return Err(ApiError::invalid(
                "sort",
                "sort must be CREATED_DATE or DEFAULT_SORTING (the date made)",
            ));
        }
        Ok(Paged {
            page,
            size,
            offset,
            descending,
            include_total: query.include_total.unwrap_or(false),
        })
    }

    /// This page of `items` (already in order) and whether more follow it.
    /// The page as the engine takes it.
    pub fn engine_page(&self) -> rewards_engine::engine::Page {
        rewards_engine::engine::Page {
            offset: self.offset,
            size: self.size,
            descending: self.descending,
            count_total: self.include_total,
        }
    }

    /// This page of a whole list held in memory, with its paging (`total` when asked).
    pub fn page_of<T>(&self, items: Vec<T>) -> (Vec<T>, Paging) {
        let total = self.include_total.then_some(items.len());
        let has_more = items.len() > self.offset.saturating_add(self.size);
        let page = items.into_iter().skip(self.offset).take(self.size).collect();
        (page, self.paging(total, has_more))
    }

    pub fn paging(&self, total: Option<usize>, has_more: bool) -> Paging {
        Paging {
            page: self.page,
            size: self.size,
            total,
            has_more,
        }
    }
}

impl Paged {
    /// The paging of a list whose `sort` is its own (the handler reads it): the rest checked
    /// as every list's.
    pub fn of_request_sorted_apart(request: &actix_web::HttpRequest) -> Result<Paged, ApiError> {
        Self::of_request(request, true)
    }

    fn of_request(request: &actix_web::HttpRequest, sort_apart: bool) -> Result<Paged, ApiError> {
        let size_max = request
            .app_data::<actix_web::web::Data<crate::startup::HttpLimits>>()
            .map_or(100, |limits| limits.page_size_max);
        actix_web::web::Query::<PageQuery>::from_query(request.query_string())
            .map_err(|error| {
                ApiError::new(
                    actix_web::http::StatusCode::BAD_REQUEST,
                    codes::INVALID_VALUE,
                    format!("invalid paging: {error}"),
                )
            })
            .and_then(|query| {
                let mut query = query.into_inner();
                if sort_apart {
                    query.sort = None;
                }
                Paged::parse(query, size_max)
            })
    }
}

impl actix_web::FromRequest for Paged {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Paged, actix_web::Error>>;

    fn from_request(request: &actix_web::HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Paged::of_request(request, false).map_err(actix_web::Error::from))
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Paging {
    pub page: usize,
    pub size: usize,
    /// Only with `include_total=true` (the contract types it as an integer, never null).
    #[serde(skip_serializing_if = "Option::is_none")]
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

/// The most bytes a JSON body may have where this extractor is used: `http.body_bytes_max`
/// for the app, a larger bound on the bulk endpoint (app data, the innermost wins).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON request body, checked before it is parsed: `Content-Type` must be JSON and, if
/// it names a charset, UTF-8 (415 otherwise: a body declared as UTF-16 is not read as UTF-8
/// by luck); the body must fit its limit (413); and no string in it, key or value, may hold
/// a control character (U+0000 to U+001F, U+007F to U+009F; 400 naming the field), so no
/// name, code or note can carry a NUL or a terminal escape into a log, an email or a
/// screen. Every handler takes bodies through this one extractor.
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

fn unsupported_media_type(message: &str) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
        codes::UNSUPPORTED_MEDIA_TYPE,
        message,
    )
}

/// `Content-Type: application/json` (or `…+json`), in UTF-8 if a charset is named.
fn check_json_content_type(request: &actix_web::HttpRequest) -> Result<(), ApiError> {
    use actix_web::HttpMessage;
    let mime = match request.mime_type() {
        Ok(Some(mime)) => mime,
        _ => {
            return Err(unsupported_media_type(
                "the body must be JSON (Content-Type: application/json)",
            ))
        }
    };
    let json = mime.type_() == actix_web::mime::APPLICATION
        && (mime.subtype() == actix_web::mime::JSON || mime.suffix() == Some(actix_web::mime::JSON));
    if !json {
        return Err(unsupported_media_type(
            "the body must be JSON (Content-Type: application/json)",
        ));
    }
    if let Some(charset) = mime.get_param(actix_web::mime::CHARSET) {
        if !charset.as_str().eq_ignore_ascii_case("utf-8") && !charset.as_str().eq_ignore_ascii_case("utf8") {
            return Err(unsupported_media_type(&format!(
                "the body must be UTF-8 JSON, not charset={charset}"
            )));
        }
    }
    Ok(())
}

/// Whether a JSON text holds a control character inside a string, raw or escaped. JSON
/// forbids raw U+0000..U+001F in strings, so those can only come escaped (`\n`, `\u0000`);
/// U+007F..U+009F may come either way. One pass over the bytes, no allocation.
pub fn json_has_control_character(body: &[u8]) -> bool {
    let mut index = 0;
    while index < body.len() {
        match body[index] {
            b'\\' => {
                match body.get(index + 1) {
                    Some(b'b' | b'f' | b'n' | b'r' | b't') => return true,
                    Some(b'u') => {
                        let code = body
                            .get(index + 2..index + 6)
                            .and_then(|hex| std::str::from_utf8(hex).ok())
                            .and_then(|hex| u32::from_str_radix(hex, 16).ok());
                        if code.is_some_and(|code| code < 0x20 || (0x7f..=0x9f).contains(&code)) {
                            return true;
                        }
                    }
                    _ => {}
                }
                index += 2;
            }
            0x7f => return true,
            // U+0080..U+009F in UTF-8: C2 80 .. C2 9F.
            0xc2 if body.get(index + 1).is_some_and(|next| (0x80..=0x9f).contains(next)) => return true,
            _ => index += 1,
        }
    }
    false
}

/// The path (`contact.first_name`, `products[2].product_sku`) of the first string, key or
/// value, that holds a control character; for the error message only.
fn control_character_path(value: &serde_json::Value, path: &str) -> Option<String> {
    let bad = |text: &str| text.chars().any(char::is_control);
    match value {
        serde_json::Value::String(text) if bad(text) => Some(path.to_string()),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| control_character_path(item, &format!("{path}[{index}]"))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(key, field)| {
            let field_path = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if bad(key) {
                Some(field_path)
            } else {
                control_character_path(field, &field_path)
            }
        }),
        _ => None,
    }
}

/// A body that does not read as `T`: 400 naming the field it failed at (`transaction_amounts.total`),
/// found by reading it again with the path tracked (only on failure, so the hot path pays
/// nothing).
fn body_error<T: serde::de::DeserializeOwned>(body: &[u8], cause: serde_json::Error) -> ApiError {
    let message = format!("invalid JSON body: {cause}");
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Err(error) => {
            // A missing field's path is the object it is missing from: name the field.
            let inner = error.inner().to_string();
            let missing = inner
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next())
                .map(str::to_string);
            let within = error.path().iter().next().is_some().then(|| error.path().to_string());
            let path = match (within, missing) {
                (Some(within), Some(field)) => format!("{within}.{field}"),
                (None, Some(field)) => field,
                (Some(within), None) => within,
                (None, None) => {
                    return ApiError::new(actix_web::http::StatusCode::BAD_REQUEST, codes::INVALID_VALUE, message)
                }
            };
            ApiError::invalid(&path, format!("invalid JSON body at {path}: {inner}"))
        }
        Ok(_) => ApiError::new(actix_web::http::StatusCode::BAD_REQUEST, codes::INVALID_VALUE, message),
    }
}

impl<T: serde::de::DeserializeOwned + 'static> actix_web::FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(request: &actix_web::HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let checked = check_json_content_type(request);
        let limit = request.app_data::<BodyLimit>().map_or(65_536, |limit| limit.0);
        let length = request
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            checked?;
            let too_large = || {
                ApiError::new(
                    actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                    codes::PAYLOAD_TOO_LARGE,
                    format!("request body is larger than {limit} bytes"),
                )
            };
            if length.is_some_and(|length| length > limit) {
                return Err(too_large().into());
            }
            let mut body = actix_web::web::BytesMut::with_capacity(length.unwrap_or(1024).min(limit));
            use futures_util::StreamExt;
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|error| {
                    ApiError::new(
                        actix_web::http::StatusCode::BAD_REQUEST,
                        codes::INVALID_VALUE,
                        format!("invalid body: {error}"),
                    )
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(too_large().into());
                }
                body.extend_from_slice(&chunk);
            }
            if json_has_control_character(&body) {
                let path = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|value| control_character_path(&value, ""))
                    .unwrap_or_else(|| "body".into());
                return Err(ApiError::invalid(&path, format!("{path} must not hold control characters")).into());
            }
            serde_json::from_slice::<T>(&body)
                .map(Json)
                .map_err(|cause| body_error::<T>(&body, cause).into())
        })
    }
}
