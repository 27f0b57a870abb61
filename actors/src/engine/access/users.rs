//! Back-office users: created by an admin (or at bootstrap, or by `rewards admin`), sign in
//! with email and password, act in one organisation at a time and switch into the
//! organisations below the ones they belong to.

use crate::domain::access::{normalise_email, Caller, Membership, Role, Subject, User};
use crate::domain::ids::{Mode, OrganisationId, UserId};
use crate::domain::organisation::Organisation;
use crate::engine::lockout::SignInIdentity;
use crate::engine::secrets::{hash_password, random_token, verify_password};
use crate::engine::tokens::{SessionKind, TokenPair};
use crate::engine::{Engine, EngineError};
use crate::storage::WriteSet;

/// Longest name part and password accepted.
const NAME_CHARS_MAX: usize = 100;
const PASSWORD_CHARS_MAX: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub email: String,
    pub password: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// The caller's organisation when `None`.
    pub organisation: Option<OrganisationId>,
    pub role: Role,
}

/// A user, with the organisations it belongs to and its role in each.
#[derive(Debug, Clone)]
pub struct UserDetails {
    pub user: User,
    pub organisations: Vec<(Organisation, Role)>,
}

/// A signed-in user: tokens, and the organisations the user belongs to.
#[derive(Debug, Clone)]
pub struct UserSession {
    pub tokens: TokenPair,
    pub user: User,
    pub organisations: Vec<(Organisation, Role)>,
}

/// Hashing is deliberately slow (tens of milliseconds): off the async threads.
pub(in crate::engine) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, EngineError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| EngineError::Storage(format!("password hashing: {error}")))
}

/// A hash no password matches: unknown users are checked against it, so they take as long
/// as known ones and do not show by timing.
pub(in crate::engine) fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_token("")))
}

fn check_name(parameter: &'static str, name: Option<String>) -> Result<Option<String>, EngineError> {
    let name = name.map(|name| name.trim().to_string()).filter(|name| !name.is_empty());
    if name.as_ref().is_some_and(|name| name.chars().count() > NAME_CHARS_MAX) {
        return Err(crate::engine::invalid(
            parameter,
            format!("must be at most {NAME_CHARS_MAX} characters"),
        ));
    }
    Ok(name)
}

impl Engine {
    /// Checks a new password against the length rules.
    pub fn check_password(&self, parameter: &'static str, password: &str) -> Result<(), EngineError> {
        let min = self.inner.settings.auth.password_chars_min;
        let chars = password.chars().count();
        if chars < min || chars > PASSWORD_CHARS_MAX {
            return Err(crate::engine::invalid(
                parameter,
                format!("must be {min} to {PASSWORD_CHARS_MAX} characters"),
            ));
        }
        Ok(())
    }

    /// A user record from checked input (the password hashed), not yet stored.
    pub async fn prepare_user(&self, new: NewUser, organisation: OrganisationId) -> Result<User, EngineError> {
        let email =
            normalise_email(&new.email).ok_or_else(|| crate::engine::invalid("email", "is not an email address"))?;
        self.check_password("password", &new.password)?;
        let first_name = check_name("first_name", new.first_name)?;
        let last_name = check_name("last_name", new.last_name)?;
        let password = new.password;
        let password_hash = blocking(move || hash_password(&password)).await?;
        Ok(User {
            id: UserId::random(),
            email,
            first_name,
            last_name,
            password_hash,
            memberships: vec![Membership {
                organisation,
                role: new.role,
            }],
            created_on: self.now(),
        })
    }

    /// Adds a user to the caller's organisation or one below it. Admins only.
    pub async fn create_user(&self, caller: &Caller, new: NewUser) -> Result<UserDetails, EngineError> {
        self.check_open()?;
        let organisation =
            self.organisation_for(caller.organisation, new.organisation.unwrap_or(caller.organisation))?;
        if caller.role != Role::Admin {
            return Err(EngineError::Forbidden("adding users needs the ADMIN role".into()));
        }
        let user = self.prepare_user(new, organisation.id).await?;
        self.store_new_user(&user).await?;
        self.user_details(user)
    }

    fn user_details(&self, user: User) -> Result<UserDetails, EngineError> {
        Ok(UserDetails {
            organisations: self.user_organisations(&user)?,
            user,
        })
    }

    /// Stores a new user unless its email is taken.
    pub async fn store_new_user(&self, user: &User) -> Result<(), EngineError> {
        let _writing = self.inner.access_writes.lock().await;
        if self.inner.store.user_by_email(&user.email)?.is_some() {
            return Err(EngineError::AlreadyExists("email"));
        }
        let mut writes = WriteSet::default();
        writes.user(user);
        Ok(self.inner.store.commit_async(writes).await?)
    }

    /// The operator's reset of a user's password (`rewards admin set-password`): the new
    /// password replaces the old, every session of the user ends and a sign-in lockout of
    /// the email is lifted, in one commit.
    pub async fn set_user_password(&self, email: &str, password: &str) -> Result<User, EngineError> {
        self.check_open()?;
        let email = normalise_email(email).ok_or_else(|| crate::engine::invalid("email", "is not an email address"))?;
        self.check_password("password", password)?;
        let password = password.to_string();
        let password_hash = blocking(move || hash_password(&password)).await?;
        let _writing = self.inner.access_writes.lock().await;
        let mut user = match self.inner.store.user_by_email(&email)? {
            Some(id) => self.inner.store.user(id)?,
            None => None,
        }
        .ok_or(EngineError::NotFound("user"))?;
        user.password_hash = password_hash;
        let mut writes = WriteSet::default();
        writes.user(&user);
        self.end_sessions_of(&Subject::User(user.id), None, &mut writes)?;
        self.clear_sign_in_failures(SignInIdentity::User(&email), &mut writes);
        self.inner.store.commit_async(writes).await?;
        Ok(user)
    }

    /// A user the caller reaches: one belonging to the caller's organisation or below it.
    pub fn user_for(&self, caller: &Caller, id: UserId) -> Result<UserDetails, EngineError> {
        let user = self.inner.store.user(id)?.ok_or(EngineError::NotFound("user"))?;
        let reached = user.memberships.iter().any(|membership| {
            self.organisation_for(caller.organisation, membership.organisation)
                .is_ok()
        });
        if !reached {
            return Err(EngineError::NotFound("user"));
        }
        self.user_details(user)
    }

    /// The user's role in `organisation`: from a membership of it or of one above it
    /// (ADMIN wins over MEMBER). `None`: the user may not act there.
    fn role_in(&self, user: &User, organisation: OrganisationId) -> Option<Role> {
        let mut best = None;
        for membership in &user.memberships {
            if self.organisation_for(membership.organisation, organisation).is_ok() {
                best = match (best, membership.role) {
                    (Some(Role::Admin), _) | (_, Role::Admin) => Some(Role::Admin),
                    _ => Some(Role::Member),
                };
            }
        }
        best
    }

    fn user_organisations(&self, user: &User) -> Result<Vec<(Organisation, Role)>, EngineError> {
        user.memberships
            .iter()
            .map(|membership| Ok((self.organisation(membership.organisation)?, membership.role)))
            .collect()
    }

    /// Email and password sign-in. `mode` comes from the API key the app called with.
    /// Wrong email and wrong password are the same error, and take the same time; repeated,
    /// they lock the email out for a while.
    pub async fn authenticate_user(&self, email: &str, password: &str, mode: Mode) -> Result<UserSession, EngineError> {
        self.check_open()?;
        let normalised = normalise_email(email);
        let attempt = self.begin_sign_in(SignInIdentity::User(normalised.as_deref().unwrap_or(email)))?;
        let found = match &normalised {
            Some(email) => self.inner.store.user_by_email(email)?,
            None => None,
        };
        let user = match found {
            Some(id) => self.inner.store.user(id)?,
            None => None,
        };
        let stored = user
            .as_ref()
            .map_or_else(|| decoy_hash().to_string(), |user| user.password_hash.clone());
        let password = password.to_string();
        let matches = blocking(move || verify_password(&password, &stored)).await?;
        let user = match user {
            Some(user) if matches => user,
            _ => {
                attempt.failed().await?;
                return Err(EngineError::InvalidLogin);
            }
        };
        attempt.succeeded().await?;
        let home = user.memberships.first().ok_or(EngineError::InvalidLogin)?;
        let tokens = self
            .start_session(Subject::User(user.id), home.organisation, mode, home.role)
            .await?;
        Ok(UserSession {
            organisations: self.user_organisations(&user)?,
            tokens,
            user,
        })
    }

    /// A new session acting in `target`, for a user who belongs to it or to one above it.
    pub async fn switch_organisation(
        &self,
        caller: &Caller,
        target: OrganisationId,
    ) -> Result<UserSession, EngineError> {
        self.check_open()?;
        self.organisation(target)?;
        let user_id = caller
            .user
            .ok_or_else(|| EngineError::Forbidden("switching needs a user's token, not an API key".into()))?;
        let user = self
            .inner
            .store
            .user(user_id)?
            .ok_or(EngineError::InvalidToken("unknown user"))?;
        let role = self
            .role_in(&user, target)
            .ok_or_else(|| EngineError::Forbidden("the user may not act in that organisation".into()))?;
        let tokens = self
            .start_session(Subject::User(user.id), target, caller.mode, role)
            .await?;
        Ok(UserSession {
            organisations: self.user_organisations(&user)?,
            tokens,
            user,
        })
    }

    /// New tokens for a user's refresh token, which is spent (a second use ends the
    /// session), with the user they act for.
    pub async fn refresh_user_session(&self, refresh_token: &str) -> Result<UserSession, EngineError> {
        let tokens = self.refresh_session(refresh_token, SessionKind::User).await?;
        self.user_session(tokens)
    }

    /// The user behind tokens just refreshed (a user's session).
    fn user_session(&self, tokens: TokenPair) -> Result<UserSession, EngineError> {
        let Subject::User(id) = tokens.session.subject else {
            return Err(EngineError::InvalidToken("not a user's refresh token"));
        };
        let user = self
            .inner
            .store
            .user(id)?
            .ok_or(EngineError::InvalidToken("unknown user"))?;
        Ok(UserSession {
            organisations: self.user_organisations(&user)?,
            tokens,
            user,
        })
    }

    /// The caller a verified user token stands for, if the user still belongs above the
    /// organisation it acts in.
    pub fn user_caller(&self, user: UserId, organisation: OrganisationId, mode: Mode) -> Result<Caller, EngineError> {
        let user = self
            .inner
            .store
            .user(user)?
            .ok_or(EngineError::InvalidToken("unknown user"))?;
        let role = self.role_in(&user, organisation).ok_or(EngineError::InvalidToken(
            "the user no longer belongs to the organisation",
        ))?;
        Ok(Caller {
            organisation,
            mode,
            role,
            user: Some(user.id),
        })
    }
}
