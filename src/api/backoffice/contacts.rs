//! `POST /backoffice/v2/contacts`, `GET /backoffice/v2/contacts/{id or code}`.

use crate::api::auth::{idempotency_key, BackOffice};
use crate::api::errors::{ApiError, ErrorBody};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use rewards_engine::domain::contact::{Contact, Phone, PhoneType};
use rewards_engine::domain::ids::{ContactCode, ContactId};
use rewards_engine::engine::{ContactRef, NewContact};
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct PhoneBody {
    /// MOBILE (default), LANDLINE or FAX.
    pub phone_type: Option<String>,
    pub country_code: Option<String>,
    pub number: String,
    pub is_primary: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateContactBody {
    /// PERSON (default). COMPANY contacts come with a later issue.
    pub contact_type: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email_address: Option<String>,
    #[serde(default)]
    pub phones: Vec<PhoneBody>,
    /// An external code (1 to 64 characters), usable instead of the id in paths.
    pub code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhoneView {
    pub phone_type: &'static str,
    pub country_code: Option<String>,
    pub number: String,
    pub is_primary: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WalletRef {
    pub id: String,
    /// 16 digits, shown at the till as a QR code.
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView {
    pub id: String,
    pub code: Option<String>,
    pub contact_type: &'static str,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email_address: Option<String>,
    pub phones: Vec<PhoneView>,
    pub wallet: WalletRef,
    pub created_date: i64,
}

impl From<&Contact> for ContactView {
    fn from(contact: &Contact) -> Self {
        ContactView {
            id: contact.id.to_string(),
            code: contact.code.as_ref().map(|code| code.as_str().to_string()),
            contact_type: "PERSON",
            first_name: contact.first_name.clone(),
            last_name: contact.last_name.clone(),
            email_address: contact.email_address.clone(),
            phones: contact
                .phones
                .iter()
                .map(|phone| PhoneView {
                    phone_type: match phone.phone_type {
                        PhoneType::Mobile => "MOBILE",
                        PhoneType::Landline => "LANDLINE",
                        PhoneType::Fax => "FAX",
                    },
                    country_code: phone.country_code.clone(),
                    number: phone.number.clone(),
                    is_primary: phone.is_primary,
                })
                .collect(),
            wallet: WalletRef {
                id: contact.wallet_id.to_string(),
                code: contact.wallet_code.as_str().to_string(),
            },
            created_date: contact.created_on,
        }
    }
}

fn trimmed(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

impl TryFrom<CreateContactBody> for NewContact {
    type Error = ApiError;

    fn try_from(body: CreateContactBody) -> Result<Self, ApiError> {
        if let Some(kind) = &body.contact_type {
            if kind != "PERSON" {
                return Err(ApiError::invalid("contact_type", "only PERSON contacts are supported"));
            }
        }
        let code = body
            .code
            .map(|code| ContactCode::parse(&code).map_err(|error| ApiError::invalid("code", error.to_string())))
            .transpose()?;
        let phones = body
            .phones
            .into_iter()
            .map(|phone| {
                let phone_type = match phone.phone_type.as_deref().unwrap_or("MOBILE") {
                    "MOBILE" => PhoneType::Mobile,
                    "LANDLINE" => PhoneType::Landline,
                    "FAX" => PhoneType::Fax,
                    other => {
                        return Err(ApiError::invalid(
                            "phones.phone_type",
                            format!("unknown phone_type {other}"),
                        ))
                    }
                };
                Ok(Phone {
                    phone_type,
                    country_code: trimmed(phone.country_code),
                    number: phone.number.trim().to_string(),
                    is_primary: phone.is_primary.unwrap_or(false),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(NewContact {
            code,
            first_name: trimmed(body.first_name),
            last_name: trimmed(body.last_name),
            email_address: trimmed(body.email_address).map(|email| email.to_lowercase()),
            phones,
        })
    }
}

/// Create a contact and its wallet.
#[utoipa::path(
    tag = "Contacts",
    request_body = CreateContactBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first outcome")),
    responses(
        (status = 201, body = ContactView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)
    ),
    security(("Secret_API_key" = []))
)]
#[post("/contacts")]
pub async fn create_contact(
    auth: BackOffice,
    engine: web::Data<Engine>,
    request: HttpRequest,
    body: crate::api::wire::Json<CreateContactBody>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&request)?;
    let new = NewContact::try_from(body.into_inner())?;
    let contact = engine.create_contact(auth.tenant, new, key.as_deref()).await?;
    Ok(HttpResponse::Created().json(ContactView::from(&contact)))
}

/// Parses a path segment that is a contact id or, failing that, a contact code.
pub fn contact_ref(segment: &str) -> Result<ContactRef, ApiError> {
    match ContactId::parse(segment) {
        Ok(id) => Ok(ContactRef::Id(id)),
        Err(_) => ContactCode::parse(segment)
            .map(ContactRef::Code)
            .map_err(|error| ApiError::invalid("id", error.to_string())),
    }
}

/// A contact by id or by its code.
#[utoipa::path(
    tag = "Contacts",
    params(("id" = String, Path, description = "The contact's id or code")),
    responses((status = 200, body = ContactView), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/contacts/{id}")]
pub async fn get_contact(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let reference = contact_ref(&path)?;
    let contact = engine.resolve_contact(&auth.tenant, &reference)?;
    Ok(HttpResponse::Ok().json(ContactView::from(&contact)))
}
