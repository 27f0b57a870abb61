//! The self-service contact calls' wire types: request bodies, and contacts, tokens and
//! profiles as responses show them.

use rewards_engine::domain::contact::{Contact, ContactPreferences};
use rewards_engine::engine::{ContactSession, OtpSent};
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
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub is_verified: bool,
    pub company_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOrganisation {
    pub id: String,
    #[serde(rename = "type")]
    pub organisation_type: &'static str,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactTokenView {
    pub access_token: String,
    pub refresh_token: String,
    pub expiration_date: i64,
    pub contact: TokenContact,
    pub organisations: Vec<TokenOrganisation>,
    pub communities: Vec<serde_json::Value>,
    pub existing_contact: bool,
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
    pub code: Option<String>,
    #[serde(rename = "type")]
    pub contact_type: &'static str,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<ProfilePhoneView>,
    pub email_opt_out: bool,
    pub sms_opt_out: bool,
    pub referral_code: Option<String>,
    pub language_code: Option<String>,
    pub wallet: WalletRef,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PhoneBody {
    pub number: String,
    pub country_code: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateContactBody {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// The contact's email for communications (not its sign-in identity).
    pub email: Option<String>,
    pub phone: Option<PhoneBody>,
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
    }
}

pub(crate) fn contact_view(contact: Contact, preferences: ContactPreferences) -> ProfileView {
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
        last_name: contact.last_name,
        email: contact.email_address,
        phone,
        email_opt_out: preferences.email_opt_out,
        sms_opt_out: preferences.sms_opt_out,
        referral_code: preferences.referral_code,
        language_code: preferences.language_code,
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
