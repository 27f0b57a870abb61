//! Pass plans and passes in the back office: `POST/GET /backoffice/v2/pass_plans`,
//! `GET/PUT /backoffice/v2/pass_plans/{id}`, `POST/GET /backoffice/v2/passes` (issue an
//! electronic pass, find one by code) and `POST /backoffice/v2/passes/redeem`. The shapes
//! follow the self-service contract's pass plan.

use crate::api::auth::BackOffice;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{money, Money, Paged, PagedResponse};
use actix_web::{get, post, put, web, HttpResponse};
use rewards_engine::domain::ids::{ContactId, OfferId, PassPlanId};
use rewards_engine::domain::money::{with_minor_units, Currency};
use rewards_engine::domain::pass::{
    CodeAlphabet, CodeFormat, CreditPocket, Pass, PassClassification, PassPlan, PassRecipient, PassValue, PlanState,
    PromotionTerms, Validity, ValidityUnit,
};
use rewards_engine::engine::{NewPass, NewPassPlan, PassCode};
use rewards_engine::Engine;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct PlanValueBody {
    /// FIXED or VARIABLE.
    #[serde(rename = "type")]
    pub value_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_amount: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency_code: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct ValidityBody {
    /// ALWAYS, PERIOD or DATE.
    #[serde(rename = "type")]
    pub validity_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<u16>,
    /// DAYS, MONTHS or YEARS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uot: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_date: Option<i64>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct CodeFormatBody {
    /// ALPHANUMERIC, ALPHABETIC or NUMERIC.
    #[serde(rename = "type")]
    pub format_type: String,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub suffix: Option<String>,
    /// Characters of the random part (8 to 32; default 12).
    pub length: Option<u8>,
    #[serde(default)]
    pub pin_required: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePlanBody {
    pub name: String,
    /// GIFT, TOPUP or PROMOTION (with `promotion_passes`, and no value).
    pub classification: String,
    pub value: Option<PlanValueBody>,
    /// A PROMOTION plan's terms: the reward offer its passes unlock on a purchase.
    pub promotion_passes: Option<PromotionPassesBody>,
    pub validity: Option<ValidityBody>,
    pub code_format: CodeFormatBody,
    /// OPEN (default) or COMMERCE.
    pub credit_wallet_balance: Option<String>,
    /// ACTIVE (default) or INACTIVE.
    pub state: Option<String>,
    /// A printed plan (made INACTIVE; activating it generates its batch of
    /// `number_of_passes`), or electronic (false, the default).
    pub printed: Option<bool>,
    /// For a printed plan: 1 to 5000.
    pub number_of_passes: Option<u32>,
    pub currency_code: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromotionPassesBody {
    /// The offer the passes unlock: it applies only to purchases that present one.
    pub reward_offer_id: Option<String>,
    /// CRM.COM's promotion: the same offer here, if given.
    pub promotion_id: Option<String>,
    pub name: Option<String>,
    /// MULTIPLE (each pass its own code; the only kind supported).
    pub pass_code_type: Option<String>,
    /// How many purchases each pass unlocks the offer for (1 to 1000; default 1).
    pub maximum_usage: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PromotionPassesView {
    /// The reward offer's id (this engine's promotions are its reward offers).
    pub promotion_id: String,
    pub reward_offer_id: String,
    pub pass_code_type: &'static str,
    pub maximum_usage: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanView {
    pub id: String,
    pub name: String,
    pub state: &'static str,
    pub classification: &'static str,
    /// None for a promotion plan: its passes hold no value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<PlanValueBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promotion_passes: Option<PromotionPassesView>,
    pub validity: ValidityBody,
    pub printed: bool,
    /// A printed plan's batch size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_of_passes: Option<u32>,
    pub code_format: CodeFormatBody,
    pub credit_wallet_balance: &'static str,
    pub passes_generated: u64,
    pub currency_code: String,
}

/// A plan as the APIs show it (a promotion plan with the offer its passes unlock).
pub fn plan_view(engine: &Engine, plan: &PassPlan) -> Result<PlanView, ApiError> {
    let promotion = match plan.classification {
        PassClassification::Promotion => engine.promotion_terms(&plan.tenant, plan.id)?,
        _ => None,
    };
    Ok(plan_view_with(plan, promotion))
}

fn plan_view_with(plan: &PassPlan, promotion: Option<PromotionTerms>) -> PlanView {
    let exact = |value| money(with_minor_units(value, plan.currency));
    let (fixed_amount, minimum, maximum, value_type) = match plan.value {
        PassValue::Fixed(value) => (Some(exact(value)), None, None, "FIXED"),
        PassValue::Variable { minimum, maximum } => (None, Some(exact(minimum)), Some(exact(maximum)), "VARIABLE"),
    };
    let validity = match plan.validity {
        Validity::Always => ValidityBody {
            validity_type: "ALWAYS".into(),
            period: None,
            uot: None,
            fixed_date: None,
        },
        Validity::Period { amount, unit } => ValidityBody {
            validity_type: "PERIOD".into(),
            period: Some(amount),
            uot: Some(
                match unit {
                    ValidityUnit::Days => "DAYS",
                    ValidityUnit::Months => "MONTHS",
                    ValidityUnit::Years => "YEARS",
                }
                .into(),
            ),
            fixed_date: None,
        },
        Validity::Date(date) => ValidityBody {
            validity_type: "DATE".into(),
            period: None,
            uot: None,
            fixed_date: Some(date),
        },
    };
    PlanView {
        id: plan.id.to_string(),
        name: plan.name.clone(),
        state: match plan.state {
            PlanState::Active => "ACTIVE",
            PlanState::Inactive => "INACTIVE",
        },
        classification: plan.classification.code(),
        value: (plan.classification != PassClassification::Promotion).then(|| PlanValueBody {
            value_type: value_type.into(),
            fixed_amount,
            minimum,
            maximum,
            currency_code: Some(plan.currency.code().to_string()),
        }),
        promotion_passes: promotion.map(|terms| PromotionPassesView {
            promotion_id: terms.offer.to_string(),
            reward_offer_id: terms.offer.to_string(),
            pass_code_type: "MULTIPLE",
            maximum_usage: terms.maximum_usage,
        }),
        validity,
        printed: plan.printed.is_some(),
        number_of_passes: plan.printed,
        code_format: CodeFormatBody {
            format_type: match plan.code_format.alphabet {
                CodeAlphabet::Numeric => "NUMERIC",
                CodeAlphabet::Alphabetic => "ALPHABETIC",
                CodeAlphabet::Alphanumeric => "ALPHANUMERIC",
            }
            .into(),
            prefix: Some(plan.code_format.prefix.clone()),
            suffix: Some(plan.code_format.suffix.clone()),
            length: Some(plan.code_format.length),
            pin_required: Some(plan.code_format.pin_required),
        },
        credit_wallet_balance: match plan.credit {
            CreditPocket::Open => "OPEN",
            CreditPocket::Commerce => "COMMERCE",
        },
        passes_generated: plan.passes_issued,
        currency_code: plan.currency.code().to_string(),
    }
}

fn required<T>(parameter: &str, value: Option<T>) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::missing(parameter))
}

impl TryFrom<CreatePlanBody> for NewPassPlan {
    type Error = ApiError;

    fn try_from(body: CreatePlanBody) -> Result<Self, ApiError> {
        let printed = match (body.printed.unwrap_or(false), body.number_of_passes) {
            (true, Some(count)) => Some(count),
            (true, None) => return Err(ApiError::missing("number_of_passes")),
            (false, None) => None,
            (false, Some(_)) => {
                return Err(ApiError::invalid(
                    "number_of_passes",
                    "only a printed plan has a batch: electronic passes are issued one by one",
                ))
            }
        };
        let classification = PassClassification::parse(&body.classification)
            .ok_or_else(|| ApiError::invalid("classification", "must be GIFT, TOPUP or PROMOTION"))?;
        let value_currency = body.value.as_ref().and_then(|value| value.currency_code.clone());
        let value = match (classification, body.value) {
            (PassClassification::Promotion, None) => PassValue::Fixed(Decimal::ZERO),
            (PassClassification::Promotion, Some(_)) => {
                return Err(ApiError::invalid(
                    "value",
                    "a promotion pass holds no value: leave it out",
                ))
            }
            (_, None) => return Err(ApiError::missing("value")),
            (_, Some(value)) => match value.value_type.as_str() {
                "FIXED" => PassValue::Fixed(required("value.fixed_amount", value.fixed_amount)?.0),
                "VARIABLE" => PassValue::Variable {
                    minimum: required("value.minimum", value.minimum)?.0,
                    maximum: required("value.maximum", value.maximum)?.0,
                },
                _ => return Err(ApiError::invalid("value.type", "must be FIXED or VARIABLE")),
            },
        };
        let promotion = body
            .promotion_passes
            .map(|terms| -> Result<PromotionTerms, ApiError> {
                let offer = required("promotion_passes.reward_offer_id", terms.reward_offer_id)?;
                let offer = OfferId::parse(&offer).map_err(|_| {
                    ApiError::invalid(
                        "promotion_passes.reward_offer_id",
                        "is not one of the business's offers",
                    )
                })?;
                if terms
                    .promotion_id
                    .is_some_and(|promotion| promotion != offer.to_string())
                {
                    return Err(ApiError::invalid(
                        "promotion_passes.promotion_id",
                        "must be the reward offer's id, or left out",
                    ));
                }
                if terms.pass_code_type.as_deref().is_some_and(|kind| kind != "MULTIPLE") {
                    return Err(ApiError::invalid(
                        "promotion_passes.pass_code_type",
                        "only MULTIPLE is supported: each pass has its own code",
                    ));
                }
                Ok(PromotionTerms {
                    offer,
                    maximum_usage: terms.maximum_usage.unwrap_or(1),
                })
            })
            .transpose()?;
        let validity = match body.validity {
            None => Validity::Always,
            Some(validity) => match validity.validity_type.as_str() {
                "ALWAYS" => Validity::Always,
                "DATE" => Validity::Date(required("validity.fixed_date", validity.fixed_date)?),
                "PERIOD" => Validity::Period {
                    amount: required("validity.period", validity.period)?,
                    unit: match required("validity.uot", validity.uot)?.as_str() {
                        "DAYS" => ValidityUnit::Days,
                        "MONTHS" => ValidityUnit::Months,
                        "YEARS" => ValidityUnit::Years,
                        _ => return Err(ApiError::invalid("validity.uot", "must be DAYS, MONTHS or YEARS")),
                    },
                },
                _ => return Err(ApiError::invalid("validity.type", "must be ALWAYS, PERIOD or DATE")),
            },
        };
        let alphabet = match body.code_format.format_type.as_str() {
            "NUMERIC" => CodeAlphabet::Numeric,
            "ALPHABETIC" => CodeAlphabet::Alphabetic,
            "ALPHANUMERIC" => CodeAlphabet::Alphanumeric,
            _ => {
                return Err(ApiError::invalid(
                    "code_format.type",
                    "must be ALPHANUMERIC, ALPHABETIC or NUMERIC",
                ))
            }
        };
        let currency = body
            .currency_code
            .or(value_currency)
            .map(|code| Currency::parse(&code).map_err(|error| ApiError::invalid("currency_code", error.to_string())))
            .transpose()?;
        Ok(NewPassPlan {
            promotion,
            printed,
            name: body.name,
            classification,
            value,
            currency,
            validity,
            code_format: CodeFormat {
                alphabet,
                prefix: body.code_format.prefix.unwrap_or_default(),
                suffix: body.code_format.suffix.unwrap_or_default(),
                length: body.code_format.length.unwrap_or(12),
                pin_required: body.code_format.pin_required.unwrap_or(false),
            },
            credit: match body.credit_wallet_balance.as_deref() {
                None | Some("OPEN") => CreditPocket::Open,
                Some("COMMERCE") => CreditPocket::Commerce,
                Some(_) => return Err(ApiError::invalid("credit_wallet_balance", "must be OPEN or COMMERCE")),
            },
            active: match body.state.as_deref() {
                // A printed plan is made INACTIVE: activating it generates its batch.
                None => printed.is_none(),
                Some("ACTIVE") => true,
                Some("INACTIVE") => false,
                Some(_) => return Err(ApiError::invalid("state", "must be ACTIVE or INACTIVE")),
            },
        })
    }
}

fn plan_id(text: &str) -> Result<PassPlanId, ApiError> {
    PassPlanId::parse(text).map_err(|_| ApiError::not_found("pass plan"))
}

/// Makes a pass plan (electronic passes: issued one by one).
#[utoipa::path(
    tag = "Passes",
    request_body = CreatePlanBody,
    responses((status = 201, body = PlanView), (status = 400, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[post("/pass_plans")]
pub async fn create_plan(
    auth: BackOffice,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<CreatePlanBody>,
) -> Result<HttpResponse, ApiError> {
    let plan = engine
        .create_pass_plan(auth.tenant, NewPassPlan::try_from(body.into_inner())?)
        .await?;
    Ok(HttpResponse::Created().json(plan_view(&engine, &plan)?))
}

/// The business's pass plans, oldest first.
#[utoipa::path(
    tag = "Passes",
    params(crate::api::wire::PageQuery),
    responses((status = 200, body = PagedResponse<PlanView>), (status = 400, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/pass_plans")]
pub async fn list_plans(auth: BackOffice, engine: web::Data<Engine>, paged: Paged) -> Result<HttpResponse, ApiError> {
    let plans = engine
        .pass_plans(&auth.tenant)?
        .iter()
        .map(|plan| plan_view(&engine, plan))
        .collect::<Result<Vec<PlanView>, ApiError>>()?;
    let (content, paging) = paged.page_of(plans);
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

#[utoipa::path(
    tag = "Passes",
    params(("id" = String, Path)),
    responses((status = 200, body = PlanView), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/pass_plans/{id}")]
pub async fn get_plan(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let plan = engine.pass_plan(&auth.tenant, plan_id(&path)?)?;
    Ok(HttpResponse::Ok().json(plan_view(&engine, &plan)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePlanBody {
    /// ACTIVE or INACTIVE: the only change a plan takes (its terms are fixed).
    pub state: String,
}

/// A pass of a printed plan's batch, with its code and PIN: shown this once, to print.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchPassView {
    pub id: String,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivatedPlanView {
    #[serde(flatten)]
    pub plan: PlanView,
    /// When this activation generated a printed plan's batch: every pass (INACTIVE until
    /// sold), with its code and PIN, this once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub batch: Vec<BatchPassView>,
}

/// Activates or deactivates a plan. The first activation of a printed plan generates its
/// batch and answers it, codes and PINs, this once.
#[utoipa::path(
    tag = "Passes",
    params(("id" = String, Path)),
    request_body = UpdatePlanBody,
    responses((status = 200, body = ActivatedPlanView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[put("/pass_plans/{id}")]
pub async fn update_plan(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<UpdatePlanBody>,
) -> Result<HttpResponse, ApiError> {
    let active = match body.state.as_str() {
        "ACTIVE" => true,
        "INACTIVE" => false,
        _ => return Err(ApiError::invalid("state", "must be ACTIVE or INACTIVE")),
    };
    let (plan, batch) = engine.set_pass_plan_state(auth.tenant, plan_id(&path)?, active).await?;
    Ok(HttpResponse::Ok().json(ActivatedPlanView {
        plan: plan_view(&engine, &plan)?,
        batch: batch
            .into_iter()
            .map(|issued| BatchPassView {
                id: issued.pass.id.to_string(),
                code: issued.code,
                pin: issued.pin,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RecipientBody {
    pub name: Option<String>,
    /// EMAIL or SMS.
    pub medium_type: String,
    pub medium_value: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssuePassBody {
    pub pass_plan_id: String,
    /// For a plan of variable value.
    pub pass_value: Option<Money>,
    pub recipient: Option<RecipientBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PassView {
    pub id: String,
    /// ACTIVE, INACTIVE, REDEEMED, CANCELLED or EXPIRED.
    pub state: &'static str,
    pub classification: &'static str,
    pub value: Money,
    pub currency_code: String,
    pub pass_plan: IdRef,
    /// The code's last characters (the code itself is kept only hashed).
    pub code_last4: String,
    /// SHA-1 of the code.
    pub code_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redeemed_by: Option<IdRef>,
    /// Only when the pass is issued: the code, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Only when the pass is issued: its PIN, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdRef {
    pub id: String,
}

pub fn pass_view(pass: &Pass) -> PassView {
    PassView {
        id: pass.id.to_string(),
        state: pass.state.code(),
        classification: pass.classification.code(),
        value: money(with_minor_units(pass.value, pass.currency)),
        currency_code: pass.currency.code().to_string(),
        pass_plan: IdRef {
            id: pass.plan.to_string(),
        },
        code_last4: pass.code_last4.clone(),
        code_hash: pass.code_hash.clone(),
        expiration_date: pass.expires_at,
        redeemed_by: pass.redemption.as_ref().map(|redemption| IdRef {
            id: redemption.contact.to_string(),
        }),
        code: None,
        pin: None,
    }
}

/// Issues an electronic pass under an active plan; its recipient, if any, is sent the code
/// (and PIN) through the communications outbox. The answer shows them once.
#[utoipa::path(
    tag = "Passes",
    request_body = IssuePassBody,
    responses((status = 201, body = PassView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[post("/passes")]
pub async fn issue_pass(
    auth: BackOffice,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<IssuePassBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let recipient = body
        .recipient
        .map(|recipient| {
            let email = match recipient.medium_type.as_str() {
                "EMAIL" => true,
                "SMS" => false,
                _ => return Err(ApiError::invalid("recipient.medium_type", "must be EMAIL or SMS")),
            };
            Ok(PassRecipient {
                name: recipient.name,
                email,
                to: recipient.medium_value,
            })
        })
        .transpose()?;
    let issued = engine
        .issue_pass(
            auth.tenant,
            NewPass {
                plan: plan_id(&body.pass_plan_id)?,
                value: body.pass_value.map(|value| value.0),
                recipient,
            },
        )
        .await?;
    let mut view = pass_view(&issued.pass);
    view.code = Some(issued.code);
    view.pin = issued.pin;
    Ok(HttpResponse::Created().json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PassesQuery {
    /// The pass's code.
    pub pass_code: Option<String>,
    /// Or the SHA-1 of its code.
    pub code_hash: Option<String>,
}

/// Finds a pass by its code (or the code's SHA-1).
#[utoipa::path(
    tag = "Passes",
    params(PassesQuery),
    responses((status = 200, body = PagedResponse<PassView>), (status = 400, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/passes")]
pub async fn find_passes(
    auth: BackOffice,
    engine: web::Data<Engine>,
    query: web::Query<PassesQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let code = match (&query.pass_code, &query.code_hash) {
        (Some(code), None) => PassCode::Code(code.clone()),
        (None, Some(hash)) => PassCode::Hash(hash.clone()),
        _ => return Err(ApiError::invalid("pass_code", "give the pass_code or its code_hash")),
    };
    let found = match engine.pass_by_code(&auth.tenant, &code) {
        Ok(pass) => vec![pass_view(&pass)],
        Err(rewards_engine::EngineError::NotFound(_)) => Vec::new(),
        Err(error) => return Err(error.into()),
    };
    let (content, paging) = paged.page_of(found);
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RedeemBody {
    /// The pass's code (or give `code_hash`, the SHA-1 of it).
    pub code: Option<String>,
    pub code_hash: Option<String>,
    pub pin: Option<String>,
    pub contact_id: Option<String>,
    pub wallet_id: Option<String>,
    /// Where it is redeemed: `{id}` of an organisation of the network, or `{}` for the
    /// business (the self-service contract requires it).
    pub organisation: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RedeemedView {
    pub id: String,
    /// Our addition, for a redemption for no one named: the unnamed contact made for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<IdRef>,
}

/// Where a redemption says it was made: `organisation{id}` (an empty object: the business).
pub fn redeem_place(
    organisation: Option<&serde_json::Value>,
) -> Result<Option<rewards_engine::domain::ids::OrganisationId>, ApiError> {
    let Some(organisation) = organisation else {
        return Ok(None);
    };
    let object = organisation
        .as_object()
        .ok_or_else(|| ApiError::invalid("organisation", "must be an object"))?;
    if object.contains_key("merchant_tap") || object.contains_key("venue_tap") {
        return Err(ApiError::invalid(
            "organisation",
            "TAPs are not supported on redemptions yet; name the organisation by id",
        ));
    }
    match object.get("id") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(id)) => rewards_engine::domain::ids::OrganisationId::parse(id)
            .map(Some)
            .map_err(|_| ApiError::invalid("organisation.id", "is not an organisation id")),
        Some(_) => Err(ApiError::invalid("organisation.id", "must be a string")),
    }
}

/// The code or its hash a redemption names.
pub fn redeem_code(body: &RedeemBody) -> Result<PassCode, ApiError> {
    pass_code("", &body.code, &body.code_hash)
}

/// A pass's code or its hash, as a body under `prefix` (e.g. `pass.`) names it.
pub fn pass_code(prefix: &str, code: &Option<String>, hash: &Option<String>) -> Result<PassCode, ApiError> {
    match (code, hash) {
        (Some(code), None) if !code.trim().is_empty() && code.len() <= 100 => Ok(PassCode::Code(code.clone())),
        (None, Some(hash)) => Ok(PassCode::Hash(hash.clone())),
        (Some(_), None) => Err(ApiError::invalid(
            &format!("{prefix}code"),
            "must be 1 to 100 characters",
        )),
        _ => Err(ApiError::invalid(
            &format!("{prefix}code"),
            format!("give the {prefix}code or its {prefix}code_hash"),
        )),
    }
}

/// Redeems a pass into a contact's wallet, once (for a contact at the till or desk). With
/// no `contact_id`, a gift pass is redeemed for no one named: an unnamed contact is made
/// for it (one per pass) and its wallet credited; the pass's code then finds it.
#[utoipa::path(
    tag = "Passes",
    request_body = RedeemBody,
    responses(
        (status = 200, body = RedeemedView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)
    ),
    security(("Secret_API_key" = []))
)]
#[post("/passes/redeem")]
pub async fn redeem_pass(
    auth: BackOffice,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<RedeemBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let code = redeem_code(&body)?;
    let place = redeem_place(body.organisation.as_ref())?;
    let caller = format!("backoffice:{}", auth.tenant.organisation);
    let Some(contact) = body.contact_id.as_deref() else {
        let (pass, contact) = engine
            .redeem_pass_anonymously(auth.tenant, &caller, code, body.pin, place)
            .await?;
        return Ok(HttpResponse::Ok().json(RedeemedView {
            id: pass.id.to_string(),
            contact: Some(IdRef {
                id: contact.to_string(),
            }),
        }));
    };
    let contact = ContactId::parse(contact).map_err(|_| ApiError::not_found("contact"))?;
    let pass = engine
        .redeem_pass(auth.tenant, &caller, code, body.pin, contact, place)
        .await?;
    Ok(HttpResponse::Ok().json(RedeemedView {
        id: pass.id.to_string(),
        contact: None,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePassBody {
    /// ACTIVE (activate an inactive pass) or CANCELLED.
    pub state: Option<String>,
    /// A new value, while it is not redeemed (a pass valued at sale).
    pub value: Option<Money>,
    /// A new last day to redeem it (epoch seconds; null: no end).
    #[schema(value_type = Option<i64>)]
    pub expiration_date: Option<serde_json::Value>,
    /// A new PIN (4 to 12 digits).
    pub pin: Option<String>,
}

/// Changes one pass: activates or cancels it (as its state table allows), or, while it is
/// not redeemed, sets its value, expiry or PIN. All or nothing.
#[utoipa::path(
    tag = "Passes",
    params(("id" = String, Path)),
    request_body = UpdatePassBody,
    responses(
        (status = 200, body = PassView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    ),
    security(("Secret_API_key" = []))
)]
#[put("/passes/{id}")]
pub async fn update_pass(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<UpdatePassBody>,
) -> Result<HttpResponse, ApiError> {
    use rewards_engine::domain::pass::PassAction;
    let id = rewards_engine::domain::ids::PassId::parse(&path).map_err(|_| ApiError::not_found("pass"))?;
    let body = body.into_inner();
    let action = match body.state.as_deref() {
        None => None,
        Some("ACTIVE") => Some(PassAction::Activate),
        Some("CANCELLED") => Some(PassAction::Cancel),
        Some(_) => return Err(ApiError::invalid("state", "must be ACTIVE or CANCELLED")),
    };
    let expires_at = match body.expiration_date {
        None => None,
        Some(serde_json::Value::Null) => Some(None),
        Some(serde_json::Value::Number(number)) => {
            Some(Some(number.as_i64().ok_or_else(|| {
                ApiError::invalid("expiration_date", "must be epoch seconds")
            })?))
        }
        Some(_) => return Err(ApiError::invalid("expiration_date", "must be epoch seconds or null")),
    };
    let update = rewards_engine::engine::PassUpdate {
        action,
        value: body.value.map(|value| value.0),
        expires_at,
        pin: body.pin,
    };
    let pass = engine.update_pass(auth.tenant, id, update).await?;
    Ok(HttpResponse::Ok().json(pass_view(&pass)))
}
