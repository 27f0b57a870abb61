//! Closed-loop schemes: the sign-up codes that let contacts in.
//!
//! A code is one-time. The business issues codes (method CODE) and hands them out; or a
//! contact asks with an email address of one of the scheme's domains (method
//! EMAIL_DOMAIN) and a code is mailed there through the communications outbox, in the same
//! commit that stores it, for that contact only, for a day. The contact then signs up with
//! the code (`POST /contacts/{id}/reward_schemes` with `sign_up_code`, or the verification
//! link's `GET /contacts/reward_schemes/verification/{code}`). The code is marked used in
//! the contact actor's commit that signs it up, under a claim on the code, so however many
//! contacts race with one code exactly one gets in.

use super::self_service::comms::NewMessage;
use super::{claim_key, invalid, secrets, Engine, EngineError};
use crate::actors::contact::ContactCommand;
use crate::domain::comms::{Channel, MessageKind};
use crate::domain::ids::{ContactId, SchemeId, Tenant};
use crate::domain::scheme::{
    normalise_code, RewardScheme, SignUpCode, SignUpMethod, SignUpOption, CODES_PER_ISSUE_MAX, MAILED_CODE_TTL_S,
};
use crate::storage::{keys, WriteSet};

/// What a closed-loop sign-up request comes with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignUpProof {
    /// A code the contact has.
    Code(String),
    /// An address to mail a code to.
    Email(String),
}

/// How a sign-up went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignUpOutcome {
    /// The contact belongs (or already did).
    Signed,
    /// A code was mailed; the contact signs up with it.
    CodeSent,
}

/// Longest code text accepted (issued codes are far shorter).
const CODE_TEXT_MAX: usize = 64;

impl Engine {
    /// Issues `count` new one-time codes for a CODE scheme; they are shown only here.
    pub async fn issue_sign_up_codes(
        &self,
        tenant: Tenant,
        scheme: SchemeId,
        count: usize,
    ) -> Result<Vec<String>, EngineError> {
        self.check_open()?;
        let scheme = self.scheme(&tenant, scheme)?;
        if scheme.sign_up_method != Some(SignUpMethod::Code) {
            return Err(EngineError::Conflict(
                "sign-up codes are issued for CLOSE_LOOP_SIGN_UP schemes with sign_up_method CODE only".into(),
            ));
        }
        if count == 0 || count > CODES_PER_ISSUE_MAX {
            return Err(invalid("count", format!("must be 1 to {CODES_PER_ISSUE_MAX}")));
        }
        let now = self.now();
        let mut writes = WriteSet::default();
        let mut codes = Vec::with_capacity(count);
        while codes.len() < count {
            let code = secrets::sign_up_code();
            let hash = keys::sign_up_code_hash(&tenant, &code);
            // 31^10 codes: a clash is all but impossible, and skipped if it happens.
            if self.inner.store.sign_up_code(&hash)?.is_some() || codes.contains(&code) {
                continue;
            }
            writes.sign_up_code(
                &hash,
                &SignUpCode {
                    scheme: scheme.id,
                    requested_by: None,
                    created_on: now,
                    expires_at: None,
                    used: None,
                },
            );
            codes.push(code);
        }
        self.inner.store.commit_async(writes).await?;
        Ok(codes)
    }

    /// Mails contact `id` a code for an EMAIL_DOMAIN scheme, if `email` is of one of its
    /// domains. Rate-limited per address like other codes.
    pub(super) async fn mail_sign_up_code(
        &self,
        tenant: Tenant,
        id: ContactId,
        scheme: &RewardScheme,
        email: &str,
    ) -> Result<SignUpOutcome, EngineError> {
        let email = email.trim().to_ascii_lowercase();
        if !matches!(scheme.sign_up_method, Some(SignUpMethod::EmailDomain(_))) {
            return Err(invalid(
                "email_address",
                "this scheme lets contacts in by issued codes: sign up with a sign_up_code",
            ));
        }
        if email.len() > 254 || email.chars().any(char::is_control) || !scheme.admits_email(&email) {
            return Err(invalid(
                "email_address",
                "must be an email address of one of the scheme's email_domains",
            ));
        }
        self.stored_contact(&tenant, id)?;
        if self.member_schemes(&tenant, id)?.contains(&scheme.id) {
            return Ok(SignUpOutcome::Signed);
        }
        self.limit_request(&tenant, &format!("scheme-sign-up:{email}"), None)?;
        let now = self.now();
        let code = secrets::sign_up_code();
        let hash = keys::sign_up_code_hash(&tenant, &code);
        let mut writes = WriteSet::default();
        writes.sign_up_code(
            &hash,
            &SignUpCode {
                scheme: scheme.id,
                requested_by: Some((id, email.clone())),
                created_on: now,
                expires_at: Some(now.saturating_add(MAILED_CODE_TTL_S)),
                used: None,
            },
        );
        self.enqueue_message(
            &mut writes,
            &tenant,
            id,
            NewMessage {
                kind: MessageKind::SchemeSignUp,
                channel: Channel::Email,
                to: email,
                country_code: None,
                subject: format!("Your code to join {}", scheme.name),
                body: format!(
                    "Your code to join {}: {code}\nEnter it in the app within 24 hours. It works once. If you did not ask for it, ignore this message.",
                    scheme.name
                ),
            },
        )?;
        self.inner.store.commit_async(writes).await?;
        self.outbox_committed();
        Ok(SignUpOutcome::CodeSent)
    }

    /// Signs contact `id` up with `code`: to `scheme` (`None`: the scheme the code is for,
    /// as the verification link has it). Answers the scheme.
    pub async fn sign_up_with_code(
        &self,
        tenant: Tenant,
        id: ContactId,
        scheme: Option<SchemeId>,
        code: &str,
    ) -> Result<SchemeId, EngineError> {
        self.check_open()?;
        let code = normalise_code(code);
        if code.is_empty() || code.len() > CODE_TEXT_MAX {
            return Err(invalid(
                "sign_up_code",
                format!("must be 1 to {CODE_TEXT_MAX} characters"),
            ));
        }
        let hash = keys::sign_up_code_hash(&tenant, &code);
        let _claim = self
            .inner
            .claims
            .claim(claim_key(b'S', &tenant, &hash), rand::random())
            .map_err(|_| EngineError::Conflict("the sign_up_code is being used by another request".into()))?;
        let now = self.now();
        let record = self.inner.store.sign_up_code(&hash)?;
        let record = record.ok_or_else(|| invalid("sign_up_code", "the sign_up_code is not valid for this scheme"))?;
        record
            .admits(id, scheme, now)
            .map_err(|refusal| invalid("sign_up_code", refusal))?;
        let scheme = self.scheme(&tenant, record.scheme)?;
        if scheme.sign_up_option != SignUpOption::CloseLoopSignUp {
            return Err(invalid("sign_up_code", "the sign_up_code is not valid for this scheme"));
        }
        let mut used = record;
        used.used = Some((id, now));
        let mut writes = WriteSet::default();
        writes.sign_up_code(&hash, &used);
        let scheme_id = scheme.id;
        self.ask_contact(
            (tenant, id),
            ContactCommand::SignScheme {
                scheme: Box::new(scheme),
                join: true,
                code: Some(writes),
                now,
            },
        )
        .await?;
        Ok(scheme_id)
    }
}
