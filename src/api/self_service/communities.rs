//! Communities in apps: the owner's people (`/self-service/v2/contacts/{id}/people` and
//! `.../people/{relationship_id}`), the invited contact's answer (`.../actions`), a contact's
//! communities (`/contacts/{id}/communities`, leaving one) and the relations
//! (`/communities/relations`). The path's contact is the community's owner: its own token,
//! or an admin member's it lets manage people, reaches them.

use super::accounts::IdView;
use super::ContactToken;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{money, Money, Paged, PagedResponse};
use actix_web::{delete, get, post, put, web, HttpResponse};
use rewards_engine::domain::community::{
    relation_id, relation_name, Answer, CashLimits, Permission, Relationship, SharingMethod, WalletSharing, RELATIONS,
};
use rewards_engine::domain::contact::Contact;
use rewards_engine::domain::ids::{CommercePoolId, ContactId, RelationshipId};
use rewards_engine::domain::money::with_minor_units;
use rewards_engine::engine::{CommunityEntry, NewPerson, PersonDetails, PersonTerms};
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct RelationView {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PoolRef {
    pub id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SharingView {
    pub is_enabled: bool,
    pub commerce_pools: Vec<PoolRef>,
    /// AUTO or MANUAL.
    pub method: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_amount: Option<Money>,
    /// What the member may still spend of `max_amount`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_amount: Option<Money>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CashLimitsView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_transaction: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_day: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_billing_cycle: Option<Money>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccumulatedView {
    pub currency: String,
    pub cash_limits: CashLimitsView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AllowanceView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accumulated_allowance: Option<AccumulatedView>,
    pub same_as_owner: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WalletRef {
    pub id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonContactView {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub wallet: WalletRef,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonView {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relation: Option<RelationView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub is_admin: bool,
    pub permissions: Vec<&'static str>,
    pub devices: Vec<IdView>,
    pub contact: PersonContactView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wallet_sharing: Option<SharingView>,
    pub usage_allowance: AllowanceView,
    /// Our addition: PENDING (invited), ACCEPTED.
    pub state: &'static str,
}

fn contact_view(contact: &Contact) -> PersonContactView {
    PersonContactView {
        id: contact.id.to_string(),
        first_name: contact.first_name.clone(),
        last_name: contact.last_name.clone(),
        email: contact.email_address.clone(),
        wallet: WalletRef {
            id: contact.wallet_id.to_string(),
        },
    }
}

fn terms_views(
    relationship: &Relationship,
    currency: rewards_engine::domain::money::Currency,
    left: Option<rust_decimal::Decimal>,
) -> (Option<SharingView>, AllowanceView) {
    let exact = |value: Option<rust_decimal::Decimal>| value.map(|value| money(with_minor_units(value, currency)));
    let sharing = relationship.sharing.as_ref().map(|sharing| SharingView {
        is_enabled: sharing.enabled,
        commerce_pools: sharing.pools.iter().map(|id| PoolRef { id: id.to_string() }).collect(),
        method: sharing.method.code(),
        max_amount: exact(sharing.max_amount),
        remaining_amount: exact(left),
    });
    let allowance = AllowanceView {
        accumulated_allowance: relationship.limits.as_ref().map(|limits| AccumulatedView {
            currency: currency.code().to_string(),
            cash_limits: CashLimitsView {
                per_transaction: exact(limits.per_transaction),
                per_day: exact(limits.per_day),
                per_billing_cycle: exact(limits.per_billing_cycle),
            },
        }),
        same_as_owner: relationship.same_as_owner,
    };
    (sharing, allowance)
}

fn relation_view(relationship: &Relationship) -> Option<RelationView> {
    relationship.relation.and_then(|id| {
        relation_name(id).map(|name| RelationView {
            id: id.to_string(),
            name: name.to_string(),
        })
    })
}

pub fn person_view(
    engine: &Engine,
    entry: &CommunityEntry,
    currency: rewards_engine::domain::money::Currency,
) -> Result<PersonView, ApiError> {
    let relationship = &entry.relationship;
    let left = engine.sharing_left(relationship)?;
    let (wallet_sharing, usage_allowance) = terms_views(relationship, currency, left);
    Ok(PersonView {
        id: relationship.id.to_string(),
        relation: relation_view(relationship),
        group: relationship.group.clone(),
        is_admin: relationship.is_admin,
        permissions: relationship
            .permissions
            .iter()
            .map(|permission| permission.code())
            .collect(),
        devices: Vec::new(),
        contact: contact_view(&entry.contact),
        wallet_sharing,
        usage_allowance,
        state: relationship.state.code(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneBody {
    pub country_code: Option<String>,
    pub number: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SharingBody {
    pub is_enabled: bool,
    pub commerce_pools: Option<Vec<String>>,
    /// AUTO or MANUAL.
    pub method: String,
    pub max_amount: Option<Money>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CashLimitsBody {
    pub per_transaction: Option<Money>,
    pub per_day: Option<Money>,
    pub per_billing_cycle: Option<Money>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccumulatedBody {
    pub cash_limits: Option<CashLimitsBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowanceBody {
    pub accumulated_allowance: Option<AccumulatedBody>,
    pub same_as_owner: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonDetailsBody {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email_address: Option<String>,
    pub phone: Option<PhoneBody>,
}

/// What a person may do: as the contract's add and update bodies have it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonBody {
    pub email: Option<String>,
    pub phone: Option<PhoneBody>,
    pub relation_id: Option<String>,
    pub group: Option<String>,
    pub is_admin: Option<bool>,
    pub permissions: Option<Vec<String>>,
    /// Devices are not kept: only an empty list is taken.
    pub devices: Option<Vec<String>>,
    pub wallet_sharing: Option<SharingBody>,
    pub usage_allowance: Option<AllowanceBody>,
    /// A person who is not a registered contact yet.
    pub contact: Option<PersonDetailsBody>,
    /// The relationship's id (the update's; ignored).
    pub id: Option<String>,
}

fn terms(body: &mut PersonBody) -> Result<PersonTerms, ApiError> {
    if body.devices.as_ref().is_some_and(|devices| !devices.is_empty()) {
        return Err(ApiError::invalid("devices", "devices are not kept: send none"));
    }
    let relation = body
        .relation_id
        .as_deref()
        .map(|id| uuid::Uuid::parse_str(id).map_err(|_| ApiError::invalid("relation_id", "must be a relation id")))
        .transpose()?;
    let permissions = body
        .permissions
        .take()
        .map(|codes| {
            codes
                .iter()
                .map(|code| {
                    Permission::parse(code).ok_or_else(|| {
                        ApiError::invalid(
                            "permissions",
                            "each must be CONTACT_MANAGEMENT, SERVICE_REQUESTS_MANAGEMENT, ORDERS_MANAGEMENT or FULL_ACCESS",
                        )
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .transpose()?;
    let sharing = body
        .wallet_sharing
        .take()
        .map(|sharing| {
            Ok::<_, ApiError>(WalletSharing {
                enabled: sharing.is_enabled,
                method: SharingMethod::parse(&sharing.method)
                    .ok_or_else(|| ApiError::invalid("wallet_sharing.method", "must be AUTO or MANUAL"))?,
                max_amount: sharing.max_amount.map(|amount| amount.0),
                pools: sharing
                    .commerce_pools
                    .unwrap_or_default()
                    .iter()
                    .map(|id| {
                        CommercePoolId::parse(id)
                            .map_err(|_| ApiError::invalid("wallet_sharing.commerce_pools", "must be pool ids"))
                    })
                    .collect::<Result<Vec<_>, ApiError>>()?,
            })
        })
        .transpose()?;
    let allowance = body.usage_allowance.take();
    let limits = allowance
        .as_ref()
        .and_then(|allowance| allowance.accumulated_allowance.as_ref())
        .and_then(|accumulated| accumulated.cash_limits.as_ref())
        .map(|limits| CashLimits {
            per_transaction: limits.per_transaction.map(|amount| amount.0),
            per_day: limits.per_day.map(|amount| amount.0),
            per_billing_cycle: limits.per_billing_cycle.map(|amount| amount.0),
        });
    Ok(PersonTerms {
        relation,
        group: body.group.take(),
        is_admin: body.is_admin,
        permissions,
        sharing,
        limits,
        same_as_owner: allowance.and_then(|allowance| allowance.same_as_owner),
    })
}

fn contact_id(path: &str) -> Result<ContactId, ApiError> {
    ContactId::parse(path).map_err(|_| ApiError::not_found("contact"))
}

fn relationship_id(path: &str) -> Result<RelationshipId, ApiError> {
    RelationshipId::parse(path).map_err(|_| ApiError::not_found("community person"))
}

fn owner_currency(
    engine: &Engine,
    token: &ContactToken,
    owner: ContactId,
) -> Result<rewards_engine::domain::money::Currency, ApiError> {
    Ok(engine
        .resolve_contact(&token.tenant, &rewards_engine::engine::ContactRef::Id(owner))?
        .wallet_currency)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PeopleQuery {
    /// People of this group only.
    pub group: Option<String>,
}

/// The accepted people of the contact's community, oldest first.
#[utoipa::path(
    tag = "Community",
    params(("id" = String, Path), PeopleQuery, crate::api::wire::PageQuery),
    responses(
        (status = 200, body = PagedResponse<PersonView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/contacts/{id}/people")]
pub async fn list_people(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    query: web::Query<PeopleQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let owner = contact_id(&path)?;
    let people = engine.people(&token.tenant, token.contact, owner, query.group.as_deref())?;
    let currency = owner_currency(&engine, &token, owner)?;
    let views = people
        .iter()
        .map(|entry| person_view(&engine, entry, currency))
        .collect::<Result<Vec<PersonView>, ApiError>>()?;
    let (content, paging) = paged.page_of(views);
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

/// Invites a person into the contact's community: a registered contact found by `phone`
/// (required, as the contract has it) or `email`, else a new contact made from `contact`.
/// They join once they accept.
#[utoipa::path(
    tag = "Community",
    params(("id" = String, Path)),
    request_body = PersonBody,
    responses(
        (status = 201, body = IdView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[post("/contacts/{id}/people")]
pub async fn add_person(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<PersonBody>,
) -> Result<HttpResponse, ApiError> {
    let owner = contact_id(&path)?;
    let mut body = body.into_inner();
    let terms = terms(&mut body)?;
    let details = body.contact.map(|details| {
        Ok::<_, ApiError>(PersonDetails {
            first_name: details
                .first_name
                .ok_or_else(|| ApiError::missing("contact.first_name"))?,
            last_name: details
                .last_name
                .ok_or_else(|| ApiError::missing("contact.last_name"))?,
            email: details.email_address,
            phone: details.phone.and_then(|phone| phone.number),
        })
    });
    let phone = body
        .phone
        .and_then(|phone| phone.number)
        .ok_or_else(|| ApiError::missing("phone.number"))?;
    let new = NewPerson {
        email: body.email,
        phone: Some(phone),
        contact: details.transpose()?,
        terms,
    };
    let relationship = engine.add_person(token.tenant, token.contact, owner, new).await?;
    Ok(HttpResponse::Created().json(IdView {
        id: relationship.id.to_string(),
    }))
}

/// One person of the contact's community.
#[utoipa::path(
    tag = "Community",
    params(("id" = String, Path), ("relationship_id" = String, Path)),
    responses((status = 200, body = PersonView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[get("/contacts/{id}/people/{relationship_id}")]
pub async fn get_person(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (owner, id) = path.into_inner();
    let owner = contact_id(&owner)?;
    let entry = engine.person(&token.tenant, token.contact, owner, relationship_id(&id)?)?;
    let currency = owner_currency(&engine, &token, owner)?;
    Ok(HttpResponse::Ok().json(person_view(&engine, &entry, currency)?))
}

/// Changes what a person may do and spend (admin rights and permissions: the owner only).
#[utoipa::path(
    tag = "Community",
    params(("id" = String, Path), ("relationship_id" = String, Path)),
    request_body = PersonBody,
    responses(
        (status = 200, body = IdView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[put("/contacts/{id}/people/{relationship_id}")]
pub async fn update_person(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
    body: crate::api::wire::Json<PersonBody>,
) -> Result<HttpResponse, ApiError> {
    let (owner, id) = path.into_inner();
    let mut body = body.into_inner();
    if body.email.is_some() || body.phone.is_some() || body.contact.is_some() {
        return Err(ApiError::invalid("contact", "a person's contact is not changed here"));
    }
    let terms = terms(&mut body)?;
    let relationship = engine
        .update_person(
            token.tenant,
            token.contact,
            contact_id(&owner)?,
            relationship_id(&id)?,
            terms,
        )
        .await?;
    Ok(HttpResponse::Ok().json(IdView {
        id: relationship.id.to_string(),
    }))
}

/// Removes a person from the contact's community.
#[utoipa::path(
    tag = "Community",
    params(("id" = String, Path), ("relationship_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[delete("/contacts/{id}/people/{relationship_id}")]
pub async fn remove_person(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (owner, id) = path.into_inner();
    engine
        .remove_person(token.tenant, token.contact, contact_id(&owner)?, relationship_id(&id)?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationActionBody {
    /// ACCEPT or REJECT.
    pub action: Option<String>,
}

/// The invited contact (the path's) accepts or rejects an invitation, once.
#[utoipa::path(
    tag = "Community",
    params(("id" = String, Path), ("relationship_id" = String, Path)),
    request_body = InvitationActionBody,
    responses(
        (status = 200, body = IdView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[post("/contacts/{id}/people/{relationship_id}/actions")]
pub async fn answer_invitation(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
    body: crate::api::wire::Json<InvitationActionBody>,
) -> Result<HttpResponse, ApiError> {
    let (member, id) = path.into_inner();
    let member = token.own(&member)?;
    let answer = match body.action.as_deref().map(str::trim) {
        Some(action) if action.eq_ignore_ascii_case("ACCEPT") => Answer::Accept,
        Some(action) if action.eq_ignore_ascii_case("REJECT") => Answer::Reject,
        Some(_) => return Err(ApiError::invalid("action", "must be ACCEPT or REJECT")),
        None => return Err(ApiError::missing("action")),
    };
    let relationship = engine
        .answer_invitation(token.tenant, member, relationship_id(&id)?, answer)
        .await?;
    Ok(HttpResponse::Ok().json(IdView {
        id: relationship.id.to_string(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommunityOwnerView {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    pub wallet: WalletRef,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommunityView {
    pub community_owner: CommunityOwnerView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relation: Option<RelationView>,
    pub is_admin: bool,
    pub permissions: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wallet_sharing: Option<SharingView>,
    pub usage_allowance: AllowanceView,
    /// Our addition: the relationship's id (for `.../people/{relationship_id}/actions`).
    pub relationship_id: String,
    /// Our addition: PENDING (an invitation to answer) or ACCEPTED.
    pub state: &'static str,
}

/// The communities the contact is in, and those it is invited to, newest first.
#[utoipa::path(
    tag = "Community",
    params(("id" = String, Path), crate::api::wire::PageQuery),
    responses(
        (status = 200, body = PagedResponse<CommunityView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/contacts/{id}/communities")]
pub async fn list_communities(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let member = token.own(&path)?;
    let mut entries = engine.communities(&token.tenant, member)?;
    if !paged.descending {
        entries.reverse();
    }
    let views = entries
        .iter()
        .map(|entry| {
            let relationship = &entry.relationship;
            let left = engine.sharing_left(relationship)?;
            let (wallet_sharing, usage_allowance) = terms_views(relationship, entry.contact.wallet_currency, left);
            Ok(CommunityView {
                community_owner: CommunityOwnerView {
                    id: entry.contact.id.to_string(),
                    first_name: entry.contact.first_name.clone(),
                    last_name: entry.contact.last_name.clone(),
                    wallet: WalletRef {
                        id: entry.contact.wallet_id.to_string(),
                    },
                },
                relation: relation_view(relationship),
                is_admin: relationship.is_admin,
                permissions: relationship
                    .permissions
                    .iter()
                    .map(|permission| permission.code())
                    .collect(),
                wallet_sharing,
                usage_allowance,
                relationship_id: relationship.id.to_string(),
                state: relationship.state.code(),
            })
        })
        .collect::<Result<Vec<CommunityView>, ApiError>>()?;
    let (content, paging) = paged.page_of(views);
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

/// The contact leaves a community (or turns an invitation down for good).
#[utoipa::path(
    tag = "Community",
    params(("id" = String, Path), ("community_owner_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[delete("/contacts/{id}/communities/{community_owner_id}")]
pub async fn leave_community(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (member, owner) = path.into_inner();
    let member = token.own(&member)?;
    let owner = ContactId::parse(&owner).map_err(|_| ApiError::not_found("community"))?;
    engine.leave_community(token.tenant, member, owner).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RelationTypeView {
    pub id: String,
    pub name: String,
    pub is_default: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RelationsQuery {
    /// Relations whose name holds this.
    pub name: Option<String>,
}

/// The relations a person can have to a community's owner.
#[utoipa::path(
    tag = "Community",
    params(RelationsQuery, crate::api::wire::PageQuery),
    responses((status = 200, body = PagedResponse<RelationTypeView>), (status = 401, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[get("/communities/relations")]
pub async fn list_relations(
    _token: ContactToken,
    query: web::Query<RelationsQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let wanted = query.name.as_deref().map(str::to_lowercase);
    let views: Vec<RelationTypeView> = RELATIONS
        .iter()
        .filter(|(name, _)| {
            wanted
                .as_ref()
                .is_none_or(|wanted| name.to_lowercase().contains(wanted.as_str()))
        })
        .map(|(name, is_default)| RelationTypeView {
            id: relation_id(name).to_string(),
            name: name.to_string(),
            is_default: *is_default,
        })
        .collect();
    let (content, paging) = paged.page_of(views);
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}
