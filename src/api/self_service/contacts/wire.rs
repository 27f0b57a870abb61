//! The self-service contact calls' wire types: request bodies, and contacts, tokens and
//! profiles as responses show them.

use crate::api::errors::ApiError;
use rewards_engine::domain::contact::{Birthday, CustomField, Demographics, Gender, Phone, PhoneType, ProfileUpdate};
use rewards_engine::domain::ids::ContactId;
use rewards_engine::engine::{ContactProfile, ContactSession, OtpSent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Identification {
    /// EMAIL (with a password, or without one: a code is emailed) or PHONE (a code is
    /// texted). FACEBOOK and OIDC_OAUTH come with their flows.
    pub provider: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub phone: Option<PhoneBody>,
    /// FACEBOOK: the user access token. OIDC_OAUTH (or GOOGLE): the ID token.
    pub token: Option<String>,
    /// OIDC_OAUTH: the authorization code, instead of an ID token (exchanged here).
    pub code: Option<String>,
    /// OIDC_OAUTH: the `state` of the sign-in started at `/contacts/oidc/{type}`.
    pub state: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterBody {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub identification: Identification,
    #[serde(rename = "accept_terms_&_conditions")]
    pub accept_terms: Option<bool>,
    pub email_opt_out: Option<bool>,
    pub sms_opt_out: Option<bool>,
    pub referral_code: Option<String>,
    pub language_code: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AuthenticateBody {
    /// EMAIL (`username`, and `password`; without a password a code is emailed) or PHONE
    /// (`phone`; a code is texted).
    pub provider: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub phone: Option<PhoneBody>,
    /// FACEBOOK: the user access token. OIDC_OAUTH (or GOOGLE): the ID token.
    pub token: Option<String>,
    /// OIDC_OAUTH: the authorization code, instead of an ID token (exchanged here).
    pub code: Option<String>,
    /// OIDC_OAUTH: the `state` of the sign-in started at `/contacts/oidc/{type}`.
    pub state: Option<String>,
}

/// A code is on its way: validate it with `auth_otp` at `/contacts/validate_otp`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OtpSentView {
    pub auth_otp: String,
    /// Where the code went, masked (`jo****@example.com`, `99***834`).
    pub obfuscated_value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_contact: Option<bool>,
}

impl OtpSentView {
    pub fn new(sent: OtpSent, existing_contact: Option<bool>) -> Self {
        OtpSentView {
            auth_otp: sent.auth_otp.to_string(),
            obfuscated_value: sent.obfuscated_value,
            existing_contact,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenContact {
    pub id: String,
    #[serde(rename = "type")]
    pub contact_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    pub is_verified: bool,
    /// Only for a COMPANY contact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOrganisation {
    pub id: String,
    #[serde(rename = "type")]
    pub organisation_type: &'static str,
    pub name: String,
}

/// A contact's tokens, as register, authenticate, refresh and validate OTP answer them:
/// the access token's expiry is `expiration_date`, in epoch seconds.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactTokenView {
    pub access_token: String,
    pub refresh_token: String,
    pub expiration_date: i64,
    #[serde(flatten)]
    pub session: TokenSession,
}

/// What every contact token response carries besides the tokens' expiry.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenSession {
    pub contact: TokenContact,
    pub organisations: Vec<TokenOrganisation>,
    pub communities: Vec<serde_json::Value>,
    pub existing_contact: bool,
}

/// The tokens of a SIGNUP to an organisation: the contract names the expiry `exp` and types
/// it as a date string; it is the RFC 3339 UTC date and time.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignUpTokenView {
    pub access_token: String,
    pub refresh_token: String,
    pub exp: String,
    #[serde(flatten)]
    pub session: TokenSession,
}

/// The tokens of a switch to another organisation: the contract types `expiration_date` as
/// a date string here; it is the RFC 3339 UTC date and time.
#[derive(Debug, Serialize, ToSchema)]
pub struct SwitchTokenView {
    pub access_token: String,
    pub refresh_token: String,
    pub expiration_date: String,
    #[serde(flatten)]
    pub session: TokenSession,
}

/// Epoch seconds as an RFC 3339 UTC date and time (`2026-12-01T22:00:00Z`).
pub fn rfc3339(epoch_s: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(epoch_s)
        .ok()
        .and_then(|at| at.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

pub(crate) fn sign_up_token_view(session: ContactSession) -> SignUpTokenView {
    let view = token_view(session, true);
    SignUpTokenView {
        access_token: view.access_token,
        refresh_token: view.refresh_token,
        exp: rfc3339(view.expiration_date),
        session: view.session,
    }
}

pub(crate) fn switch_token_view(session: ContactSession) -> SwitchTokenView {
    let view = token_view(session, true);
    SwitchTokenView {
        access_token: view.access_token,
        refresh_token: view.refresh_token,
        expiration_date: rfc3339(view.expiration_date),
        session: view.session,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfilePhoneView {
    pub number: String,
    pub country_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WalletRef {
    pub id: String,
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileView {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(rename = "type")]
    pub contact_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<ProfilePhoneView>,
    pub demographics: DemographicsView,
    pub email_opt_out: bool,
    pub sms_opt_out: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referral_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language_code: Option<String>,
    pub custom_fields: Vec<CustomFieldBody>,
    pub wallet: WalletRef,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PhoneBody {
    pub number: String,
    pub country_code: Option<String>,
    /// MOBILE (the default) or LANDLINE.
    #[serde(rename = "type")]
    pub phone_type: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DayMonthYear {
    pub day: u8,
    pub month: u8,
    pub year: u16,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DayMonth {
    pub day: u8,
    pub month: u8,
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct DemographicsView {
    /// FEMALE, MALE or OTHER.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<DayMonthYear>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_day: Option<DayMonth>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CustomFieldBody {
    pub key: String,
    pub value: String,
}

/// `PUT /contacts/{id}`: every field of the contract's update schema is saved and read back
/// by `GET`, or refused naming it (those of COMPANY contacts; an `id` other than the
/// path's). Absent fields stay as they are; `demographics` and `custom_fields` are replaced
/// whole.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateContactBody {
    /// Must be the path's id when given.
    pub id: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub language_code: Option<String>,
    /// The contact's email for communications (not its sign-in identity).
    pub email: Option<String>,
    pub phone: Option<PhoneBody>,
    pub demographics: Option<DemographicsView>,
    pub sms_opt_out: Option<bool>,
    pub email_opt_out: Option<bool>,
    pub custom_fields: Option<Vec<CustomFieldBody>>,
    /// Refused: this engine's contacts are PERSONs.
    #[schema(value_type = Option<String>)]
    pub company_name: Option<serde_json::Value>,
    /// Refused: this engine's contacts are PERSONs.
    #[schema(value_type = Option<Object>)]
    pub company_profile: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdView {
    pub id: String,
}

pub(crate) fn token_view(session: ContactSession, existing_contact: bool) -> ContactTokenView {
    ContactTokenView {
        access_token: session.tokens.access_token,
        refresh_token: session.tokens.refresh_token,
        expiration_date: session.tokens.expires_on,
        session: TokenSession {
            contact: TokenContact {
                id: session.contact.id.to_string(),
                contact_type: "PERSON",
                first_name: session.contact.first_name,
                last_name: session.contact.last_name,
                is_verified: session.verified,
                company_name: None,
            },
            organisations: session
                .organisations
                .into_iter()
                .map(|organisation| TokenOrganisation {
                    id: organisation.id.to_string(),
                    organisation_type: organisation.organisation_type.code(),
                    name: organisation.name,
                })
                .collect(),
            communities: Vec::new(),
            existing_contact,
        },
    }
}

pub(crate) fn contact_view(profile: ContactProfile) -> ProfileView {
    let ContactProfile {
        contact,
        preferences,
        details,
    } = profile;
    let demographics = details.demographics;
    let phone = contact
        .phones
        .iter()
        .find(|phone| phone.is_primary)
        .or(contact.phones.first())
        .map(|phone| ProfilePhoneView {
            number: phone.number.clone(),
            country_code: phone.country_code.clone(),
        });
    ProfileView {
        id: contact.id.to_string(),
        code: contact.code.map(|code| code.as_str().to_string()),
        contact_type: "PERSON",
        first_name: contact.first_name,
        middle_name: details.middle_name,
        last_name: contact.last_name,
        email: contact.email_address,
        phone,
        demographics: DemographicsView {
            gender: demographics.gender.map(|gender| gender.code().to_string()),
            date_of_birth: demographics.date_of_birth.map(|birthday| DayMonthYear {
                day: birthday.day,
                month: birthday.month,
                year: birthday.year,
            }),
            name_day: demographics.name_day.map(|(day, month)| DayMonth { day, month }),
        },
        email_opt_out: preferences.email_opt_out,
        sms_opt_out: preferences.sms_opt_out,
        referral_code: preferences.referral_code,
        language_code: preferences.language_code,
        custom_fields: details
            .custom_fields
            .into_iter()
            .map(|field| CustomFieldBody {
                key: field.key,
                value: field.value,
            })
            .collect(),
        wallet: WalletRef {
            id: contact.wallet_id.to_string(),
            code: contact.wallet_code.as_str().to_string(),
        },
    }
}

#[derive(Debug, Deserialize)]
pub struct OidcQuery {
    pub redirect_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OidcStartView {
    /// Where to send the person: the provider's sign-in page.
    pub authorization_url: String,
    /// The sign-in's state (also in the URL): send it back with the ID token or code.
    pub state: String,
}

impl UpdateContactBody {
    /// The body as the engine's update: every field is taken or refused naming it.
    pub fn into_update(self, id: ContactId) -> Result<ProfileUpdate, ApiError> {
        let body = self;
        if body.id.as_deref().is_some_and(|given| given.trim() != id.to_string()) {
            return Err(ApiError::invalid("id", "must be the id in the path"));
        }
        for (field, given) in [
            ("company_name", &body.company_name),
            ("company_profile", &body.company_profile),
        ] {
            if given.as_ref().is_some_and(|value| !value.is_null()) {
                return Err(ApiError::invalid(
                    field,
                    format!("{field} applies to COMPANY contacts; this contact is a PERSON"),
                ));
            }
        }
        let phones = match body.phone {
            None => None,
            Some(phone) => {
                let phone_type = match phone.phone_type.as_deref() {
                    None | Some("MOBILE") => PhoneType::Mobile,
                    Some("LANDLINE") => PhoneType::Landline,
                    Some(other) => {
                        return Err(ApiError::invalid(
                            "phone.type",
                            format!("phone.type must be MOBILE or LANDLINE, not {other}"),
                        ))
                    }
                };
                Some(vec![Phone {
                    phone_type,
                    country_code: phone.country_code,
                    number: phone.number,
                    is_primary: true,
                }])
            }
        };
        let demographics = match body.demographics {
            None => None,
            Some(given) => Some(Demographics {
                gender: given
                    .gender
                    .as_deref()
                    .map(|text| {
                        Gender::parse(text).ok_or_else(|| {
                            ApiError::invalid(
                                "demographics.gender",
                                format!("demographics.gender must be FEMALE, MALE or OTHER, not {text}"),
                            )
                        })
                    })
                    .transpose()?,
                date_of_birth: given.date_of_birth.map(|date| Birthday {
                    day: date.day,
                    month: date.month,
                    year: date.year,
                }),
                name_day: given.name_day.map(|date| (date.day, date.month)),
            }),
        };
        Ok(ProfileUpdate {
            first_name: body.first_name,
            last_name: body.last_name,
            email_address: body.email,
            phones,
            middle_name: body.middle_name,
            language_code: body.language_code,
            email_opt_out: body.email_opt_out,
            sms_opt_out: body.sms_opt_out,
            demographics,
            custom_fields: body.custom_fields.map(|fields| {
                fields
                    .into_iter()
                    .map(|field| CustomField {
                        key: field.key,
                        value: field.value,
                    })
                    .collect()
            }),
        })
    }
}
