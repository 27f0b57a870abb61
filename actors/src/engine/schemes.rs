//! Reward schemes: made, read, changed and listed by the back office; listed by contacts
//! with whether they belong, and joined and left through the contact's actor (its records
//! for schemes are its state).

pub use super::scheme_codes::{SignUpOutcome, SignUpProof};
use super::{invalid, Engine, EngineError};
use crate::actors::contact::ContactCommand;
use crate::domain::ids::{ContactId, SchemeId, Tenant};
use crate::domain::scheme::{RewardScheme, SchemeError, SchemeMembership, SignUpMethod, SignUpOption};
use crate::storage::WriteSet;

/// A scheme to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewScheme {
    pub name: String,
    pub description: Option<String>,
    pub terms_and_conditions: Option<String>,
    pub sign_up_option: SignUpOption,
    /// For CLOSE_LOOP_SIGN_UP: by email domain (with its domains) or by code.
    pub sign_up_method: Option<SignUpMethod>,
}

/// A change to a scheme: `None` leaves a field as it is. The sign-up option is fixed at
/// creation (who belongs depends on it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemeUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub terms_and_conditions: Option<String>,
    pub sign_up_option: Option<SignUpOption>,
    /// A scheme's method is fixed; its email domains may be replaced.
    pub sign_up_method: Option<String>,
    pub email_domains: Option<Vec<String>>,
}

/// A scheme as a contact sees it: whether it belongs.
#[derive(Debug, Clone)]
pub struct ContactScheme {
    pub scheme: RewardScheme,
    pub is_signed: bool,
}

fn scheme_error(error: SchemeError) -> EngineError {
    invalid(error.parameter(), error)
}

/// Domains as given, trimmed and in lower case (DNS names are case-blind).
fn lower_domains(method: SignUpMethod) -> SignUpMethod {
    match method {
        SignUpMethod::EmailDomain(domains) => SignUpMethod::EmailDomain(
            domains
                .iter()
                .map(|domain| domain.trim().to_ascii_lowercase())
                .collect(),
        ),
        SignUpMethod::Code => SignUpMethod::Code,
    }
}

/// An optional text as given: trimmed, empty meaning none.
fn text(value: Option<String>) -> Option<String> {
    value
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
}

impl Engine {
    pub async fn create_scheme(&self, tenant: Tenant, new: NewScheme) -> Result<RewardScheme, EngineError> {
        self.check_open()?;
        let now = self.now();
        let scheme = RewardScheme {
            id: SchemeId::random(),
            tenant,
            name: new.name.trim().to_string(),
            description: text(new.description),
            terms_and_conditions: text(new.terms_and_conditions),
            sign_up_option: new.sign_up_option,
            created_on: now,
            updated_on: now,
            sign_up_method: new.sign_up_method.map(lower_domains),
        };
        scheme.validate().map_err(scheme_error)?;
        let mut writes = WriteSet::default();
        writes.scheme(&scheme);
        self.inner.store.commit_async(writes).await?;
        Ok(scheme)
    }

    pub fn scheme(&self, tenant: &Tenant, id: SchemeId) -> Result<RewardScheme, EngineError> {
        self.inner
            .store
            .scheme(tenant, id)?
            .ok_or(EngineError::NotFound("reward scheme"))
    }

    /// The tenant's schemes, oldest first.
    pub fn schemes(&self, tenant: &Tenant) -> Result<Vec<RewardScheme>, EngineError> {
        let mut schemes = self.inner.store.schemes(tenant)?;
        schemes.sort_by_key(|scheme| (scheme.created_on, scheme.id));
        Ok(schemes)
    }

    pub async fn update_scheme(
        &self,
        tenant: Tenant,
        id: SchemeId,
        update: SchemeUpdate,
    ) -> Result<RewardScheme, EngineError> {
        self.check_open()?;
        let _writes = self.inner.offer_writes.lock().await;
        let current = self.scheme(&tenant, id)?;
        if update
            .sign_up_option
            .is_some_and(|option| option != current.sign_up_option)
        {
            return Err(invalid(
                "sign_up_option",
                "a scheme's sign-up option is fixed when it is made (who belongs depends on it)",
            ));
        }
        if update
            .sign_up_method
            .as_deref()
            .is_some_and(|method| Some(method) != current.sign_up_method.as_ref().map(SignUpMethod::code))
        {
            return Err(invalid(
                "sign_up_method",
                "a scheme's sign-up method is fixed when it is made",
            ));
        }
        let mut updated = current.clone();
        if let Some(domains) = update.email_domains {
            match &current.sign_up_method {
                Some(SignUpMethod::EmailDomain(_)) => {
                    updated.sign_up_method = Some(lower_domains(SignUpMethod::EmailDomain(domains)));
                }
                _ => return Err(scheme_error(SchemeError::BadDomains)),
            }
        }
        if let Some(name) = update.name {
            updated.name = name.trim().to_string();
        }
        if update.description.is_some() {
            updated.description = text(update.description);
        }
        if update.terms_and_conditions.is_some() {
            updated.terms_and_conditions = text(update.terms_and_conditions);
        }
        updated.validate().map_err(scheme_error)?;
        if updated == current {
            return Ok(current);
        }
        updated.updated_on = self.now();
        let mut writes = WriteSet::default();
        writes.scheme(&updated);
        self.inner.store.commit_async(writes).await?;
        Ok(updated)
    }

    /// The tenant's schemes as contact `id` sees them, those whose name holds `name` (any
    /// case) and, if `is_signed` is given, those it does or does not belong to.
    pub fn contact_schemes(
        &self,
        tenant: &Tenant,
        id: ContactId,
        name: Option<&str>,
        is_signed: Option<bool>,
    ) -> Result<Vec<ContactScheme>, EngineError> {
        self.stored_contact(tenant, id)?;
        let records = self.inner.store.scheme_memberships(tenant, id)?;
        let name = name.map(str::to_lowercase);
        Ok(self
            .schemes(tenant)?
            .into_iter()
            .filter(|scheme| {
                name.as_deref()
                    .is_none_or(|name| scheme.name.to_lowercase().contains(name))
            })
            .map(|scheme| {
                let record = records.iter().find(|record| record.scheme == scheme.id);
                ContactScheme {
                    is_signed: scheme.has_member(record),
                    scheme,
                }
            })
            .filter(|seen| is_signed.is_none_or(|wanted| seen.is_signed == wanted))
            .collect())
    }

    /// The schemes contact `id` belongs to, oldest first, each with its record (none for an
    /// automatic scheme it never left).
    fn belonging(
        &self,
        tenant: &Tenant,
        id: ContactId,
    ) -> Result<Vec<(RewardScheme, Option<SchemeMembership>)>, EngineError> {
        let records = self.inner.store.scheme_memberships(tenant, id)?;
        Ok(self
            .schemes(tenant)?
            .into_iter()
            .filter_map(|scheme| {
                let record = records.iter().find(|record| record.scheme == scheme.id).cloned();
                scheme.has_member(record.as_ref()).then_some((scheme, record))
            })
            .collect())
    }

    /// The schemes contact `id` belongs to, oldest first, each with when it joined (an
    /// automatic scheme: when the contact or the scheme came, whichever was later).
    pub fn contact_memberships(&self, tenant: &Tenant, id: ContactId) -> Result<Vec<(RewardScheme, i64)>, EngineError> {
        let contact = self.stored_contact(tenant, id)?;
        Ok(self
            .belonging(tenant, id)?
            .into_iter()
            .map(|(scheme, record)| {
                let since = record.map_or(scheme.created_on.max(contact.created_on), |record| record.joined_on);
                (scheme, since)
            })
            .collect())
    }

    /// The schemes contact `id` belongs to (as offers limited to a scheme see it).
    pub(super) fn member_schemes(&self, tenant: &Tenant, id: ContactId) -> Result<Vec<SchemeId>, EngineError> {
        Ok(self
            .belonging(tenant, id)?
            .into_iter()
            .map(|(scheme, _)| scheme.id)
            .collect())
    }

    /// Signs contact `id` up to scheme `scheme` (`join`) or out of it. Doing what is done
    /// already changes nothing. A closed-loop scheme is joined with a sign-up code, or,
    /// by email domain, with an address to mail one to (`proof`).
    pub async fn sign_scheme(
        &self,
        tenant: Tenant,
        id: ContactId,
        scheme: SchemeId,
        join: bool,
        proof: Option<SignUpProof>,
    ) -> Result<SignUpOutcome, EngineError> {
        self.check_open()?;
        let scheme = self.scheme(&tenant, scheme)?;
        if join && scheme.sign_up_option == SignUpOption::CloseLoopSignUp {
            return match proof {
                Some(SignUpProof::Code(code)) => {
                    self.sign_up_with_code(tenant, id, Some(scheme.id), &code).await?;
                    Ok(SignUpOutcome::Signed)
                }
                Some(SignUpProof::Email(email)) => self.mail_sign_up_code(tenant, id, &scheme, &email).await,
                None => Err(scheme_error(SchemeError::NeedsCode)),
            };
        }
        let now = self.now();
        self.ask_contact(
            (tenant, id),
            ContactCommand::SignScheme {
                scheme: Box::new(scheme),
                join,
                code: None,
                now,
            },
        )
        .await?;
        Ok(SignUpOutcome::Signed)
    }
}
