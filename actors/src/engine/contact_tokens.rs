//! Contact tokens: made and listed by the contact's app; a till names the contact of a
//! purchase with one (`ContactRef::Token`), and the contact's wallet actor marks it used in
//! the purchase's own commit, so it spends once.

use super::{invalid, Engine, EngineError};
use crate::domain::contact_token::{token_hash, ContactTokenRecord, TokenIntent, TokenRefusal};
use crate::domain::ids::{ContactId, Tenant, TokenId};
use crate::domain::money::Amount;
use crate::storage::WriteSet;
use rand::Rng;
use rust_decimal::Decimal;

/// Live tokens a contact may hold at once.
pub const LIVE_TOKENS_MAX: usize = 10;
/// How long a token stands.
pub const TOKEN_TTL_S: i64 = 900;
/// Letters and digits that read unambiguously (no 0/O, 1/I/L).
const TOKEN_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const TOKEN_LEN: usize = 8;

/// A token a contact asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContactToken {
    pub intent: TokenIntent,
    /// What to spend; `None`: as much as the wallet can.
    pub spend_amount: Option<Decimal>,
    /// The purchase estimate an APPROVE_PURCHASE or REJECT_PURCHASE token decides.
    pub estimate: Option<crate::domain::ids::EstimateId>,
    /// A SPEND token of a community member: the community's owner, whose wallet it spends.
    pub community: Option<ContactId>,
}

fn new_codes() -> (String, String) {
    let mut rng = rand::rng();
    let token = (0..TOKEN_LEN)
        .map(|_| char::from(TOKEN_ALPHABET[rng.random_range(0..TOKEN_ALPHABET.len())]))
        .collect();
    (token, super::secrets::wallet_code().as_str().to_string())
}

pub(super) fn refusal(refusal: TokenRefusal) -> EngineError {
    match refusal {
        TokenRefusal::AmountMismatch => invalid("spend_request.amount", refusal),
        _ => invalid("contact.otp", refusal),
    }
}

impl Engine {
    pub async fn create_contact_token(
        &self,
        tenant: Tenant,
        contact: ContactId,
        new: NewContactToken,
    ) -> Result<ContactTokenRecord, EngineError> {
        self.check_open()?;
        let mut route = self.contact_route(&tenant, &super::ContactRef::Id(contact))?;
        if let Some(owner) = new.community {
            if new.intent != TokenIntent::Spend {
                return Err(invalid(
                    "community_id",
                    "only a SPEND token spends a community's wallet",
                ));
            }
            self.sharing_relationship(&tenant, contact, owner)?;
            // Its amount is in the owner's wallet's currency.
            route = self.contact_route(&tenant, &super::ContactRef::Id(owner))?;
        }
        match (new.intent, new.estimate) {
            (TokenIntent::Spend, None) => {}
            (TokenIntent::Spend, Some(_)) => {
                return Err(invalid("purchase", "a SPEND token names no estimate"));
            }
            (_, None) => {
                return Err(invalid(
                    "purchase.estimate_id",
                    "name the estimate to approve or reject",
                ))
            }
            (intent, Some(estimate)) => {
                if new.spend_amount.is_some() {
                    return Err(invalid("spend_amount", "only a SPEND token carries a spend amount"));
                }
                // The decision is durable before the token is made.
                let approve = intent == TokenIntent::ApprovePurchase;
                self.decide_estimate(tenant, contact, estimate, approve).await?;
            }
        }
        let spend_amount = match new.spend_amount {
            None => None,
            Some(amount) => {
                let amount = Amount::parse_at_most(amount, route.currency, self.inner.settings.money.amount_max)
                    .map_err(|error| invalid("spend_amount", error))?;
                if amount.is_zero() {
                    return Err(invalid("spend_amount", "must be greater than zero"));
                }
                Some(amount.value())
            }
        };
        let now = self.now();
        let existing = self.inner.store.contact_tokens(&tenant, contact)?;
        let mut writes = WriteSet::default();
        // Tokens past use go as new ones come.
        for old in existing.iter().filter(|token| !token.is_live(now)) {
            writes.remove_contact_token(
                old,
                [token_hash(&tenant, &old.token), token_hash(&tenant, &old.alternative)],
            );
        }
        if existing.iter().filter(|token| token.is_live(now)).count() >= LIVE_TOKENS_MAX {
            return Err(EngineError::Conflict(format!(
                "the contact holds {LIVE_TOKENS_MAX} live tokens; use or let one expire first"
            )));
        }
        let mut codes = None;
        for _ in 0..8 {
            let (token, alternative) = new_codes();
            let hashes = [token_hash(&tenant, &token), token_hash(&tenant, &alternative)];
            if self.inner.store.token_by_code(&hashes[0])?.is_none()
                && self.inner.store.token_by_code(&hashes[1])?.is_none()
            {
                codes = Some((token, alternative, hashes));
                break;
            }
        }
        let (token, alternative, hashes) = codes.ok_or(EngineError::Internal("contact token codes"))?;
        let record = ContactTokenRecord {
            id: TokenId::random(),
            tenant,
            contact,
            intent: new.intent,
            spend_amount,
            created_on: now,
            expires_at: now.saturating_add(TOKEN_TTL_S),
            used_by: None,
            token,
            alternative,
        };
        writes.new_contact_token(&record, hashes);
        if let Some(owner) = new.community {
            writes.community_token(&tenant, record.id, owner);
        }
        self.inner.store.commit_async(writes).await?;
        Ok(record)
    }

    /// The contact's live tokens (unused, unexpired), newest first.
    pub fn contact_tokens(
        &self,
        tenant: &Tenant,
        contact: ContactId,
        intent: Option<TokenIntent>,
        community: Option<ContactId>,
    ) -> Result<Vec<ContactTokenRecord>, EngineError> {
        self.stored_contact(tenant, contact)?;
        let now = self.now();
        let mut tokens = Vec::new();
        for token in self.inner.store.contact_tokens(tenant, contact)? {
            if !token.is_live(now) || intent.is_some_and(|intent| token.intent != intent) {
                continue;
            }
            if let Some(owner) = community {
                if self.inner.store.community_token(tenant, token.id)? != Some(owner) {
                    continue;
                }
            }
            tokens.push(token);
        }
        tokens.sort_by_key(|token| std::cmp::Reverse((token.created_on, token.id)));
        Ok(tokens)
    }

    /// The token a till gave for a purchase's contact (unknown ones are refused by name).
    pub(super) fn token_by_code(&self, tenant: &Tenant, code: &str) -> Result<ContactTokenRecord, EngineError> {
        let unknown = || refusal(TokenRefusal::Unknown);
        if code.trim().is_empty() || code.len() > 64 {
            return Err(unknown());
        }
        let (contact, id) = self
            .inner
            .store
            .token_by_code(&token_hash(tenant, code))?
            .ok_or_else(unknown)?;
        self.inner.store.contact_token(tenant, contact, id)?.ok_or_else(unknown)
    }
}
