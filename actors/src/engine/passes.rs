//! Pass plans and passes: the back office makes plans and issues electronic passes (the
//! code and PIN are shown once, and sent to the recipient through the communications
//! outbox); contacts redeem them, once, through each pass's actor. Wrong codes and PINs are
//! counted per caller: past `[otp] attempts_max` in `[otp] request_window_s`, 429.

use super::comms::NewMessage;
use super::{invalid, Engine, EngineError};
use crate::actors::pass::{PassCommand, PassError};
use crate::actors::wallet::WalletCommand;
use crate::domain::comms::{Channel, MessageKind};
use crate::domain::ids::{ContactId, PassId, PassPlanId, Tenant};
use crate::domain::money::Currency;
use crate::domain::pass::{
    code_hash, generate_pin, pin_hash, CodeFormat, CreditPocket, Pass, PassClassification, PassPlan, PassRecipient,
    PassState, PassValue, PlanState, Validity,
};
use crate::domain::pass::{PromotionTerms, PRINTED_BATCH_MAX, PROMOTION_USES_MAX};
use crate::storage::WriteSet;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::Arc;

/// A plan to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPassPlan {
    pub name: String,
    pub classification: PassClassification,
    pub value: PassValue,
    /// The business's currency when not given.
    pub currency: Option<Currency>,
    pub validity: Validity,
    pub code_format: CodeFormat,
    pub credit: CreditPocket,
    pub active: bool,
    /// A printed plan of this many passes (made INACTIVE; its batch is generated when it is
    /// activated).
    pub printed: Option<u32>,
    /// A PROMOTION plan's terms: the offer its passes unlock and how many purchases each
    /// pass unlocks it for.
    pub promotion: Option<PromotionTerms>,
}

/// A pass to issue under a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPass {
    pub plan: PassPlanId,
    /// For a plan of variable value.
    pub value: Option<Decimal>,
    pub recipient: Option<PassRecipient>,
}

/// A pass just issued, with its code and PIN: shown this once.
#[derive(Debug, Clone)]
pub struct IssuedPass {
    pub pass: Pass,
    pub code: String,
    pub pin: Option<String>,
}

/// A back-office change to one pass (`None` leaves a field).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassUpdate {
    /// Activate or Cancel.
    pub action: Option<crate::domain::pass::PassAction>,
    pub value: Option<Decimal>,
    /// A new expiry (`Some(None)`: none).
    pub expires_at: Option<Option<i64>>,
    pub pin: Option<String>,
}

/// How a redemption names its pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PassCode {
    Code(String),
    /// SHA-1 of the code, hex.
    Hash(String),
}

/// Wrong codes and PINs per caller, in a fixed window.
#[derive(Debug, Default)]
pub(super) struct PassFailures {
    by_caller: parking_lot::Mutex<HashMap<String, (u32, i64)>>,
}

/// A redemption checked so far: who asks (as counted), the pass, where.
pub(super) struct Redemption {
    pub(super) caller: String,
    pub(super) pass: Pass,
    pub(super) place: crate::domain::ids::OrganisationId,
}

/// The idempotency key of the unnamed contact made for gift pass `pass`.
fn unnamed_contact_key(pass: PassId) -> String {
    format!("anonymous-pass-{pass}")
}

pub(super) fn ask_error(error: crate::actors::kit::AskError<PassError>) -> EngineError {
    match error {
        crate::actors::kit::AskError::Refused(error) => refusal(error),
        crate::actors::kit::AskError::NotFound => EngineError::NotFound("pass"),
        crate::actors::kit::AskError::Busy => EngineError::Busy("pass"),
        crate::actors::kit::AskError::Store(error) => error.into(),
    }
}

pub(super) fn refusal(error: PassError) -> EngineError {
    match error {
        PassError::NotFound => EngineError::NotFound("pass"),
        PassError::NotRedeemable(_) | PassError::AlreadyRedeemed | PassError::NotAllowed(..) => {
            EngineError::Conflict(error.to_string())
        }
        PassError::WrongPin => invalid("pin", "is wrong"),
        PassError::Currency { pass, wallet } => EngineError::CurrencyMismatch { given: pass, wallet },
        PassError::Storage(message) => EngineError::Storage(message),
        PassError::Internal | PassError::Retry => EngineError::Internal("pass"),
    }
}

impl Engine {
    pub async fn create_pass_plan(&self, tenant: Tenant, new: NewPassPlan) -> Result<PassPlan, EngineError> {
        self.check_open()?;
        let currency = match new.currency {
            Some(currency) => currency,
            None => self.organisation(tenant.organisation)?.default_currency,
        };
        let now = self.now();
        let plan = PassPlan {
            id: PassPlanId::random(),
            tenant,
            name: new.name.trim().to_string(),
            classification: new.classification,
            value: new.value,
            currency,
            validity: new.validity,
            code_format: new.code_format,
            credit: new.credit,
            state: if new.active {
                PlanState::Active
            } else {
                PlanState::Inactive
            },
            passes_issued: 0,
            created_on: now,
            updated_on: now,
            printed: new.printed,
        };
        if let Some(count) = new.printed {
            if count == 0 || count > PRINTED_BATCH_MAX {
                return Err(invalid(
                    "number_of_passes",
                    format!("a printed plan holds 1 to {PRINTED_BATCH_MAX} passes"),
                ));
            }
            if new.active {
                return Err(invalid(
                    "state",
                    "a printed plan is made INACTIVE: activating it generates its batch",
                ));
            }
        }
        plan.validate(self.inner.settings.money.amount_max)
            .map_err(|error| invalid(error.parameter, error.message))?;
        let mut writes = WriteSet::default();
        writes.pass_plan(&plan);
        match (plan.classification, new.promotion) {
            (PassClassification::Promotion, Some(terms)) => {
                if terms.maximum_usage == 0 || terms.maximum_usage > PROMOTION_USES_MAX {
                    return Err(invalid(
                        "promotion_passes.maximum_usage",
                        format!("must be 1 to {PROMOTION_USES_MAX}"),
                    ));
                }
                self.offer(&tenant, terms.offer).map_err(|_| {
                    invalid(
                        "promotion_passes.reward_offer_id",
                        "is not one of the business's offers",
                    )
                })?;
                writes.promotion_terms(&tenant, plan.id, &terms);
                // The offer is locked behind the plan's passes from the moment the plan is
                // durable: purchases see the plan and the lock together.
                let _writes = self.inner.offer_writes.lock().await;
                self.inner.store.commit_async(writes).await?;
                self.reload_offers(&tenant).await?;
                return Ok(plan);
            }
            (PassClassification::Promotion, None) => {
                return Err(invalid(
                    "promotion_passes",
                    "a promotion plan names the reward offer its passes unlock",
                ))
            }
            (_, Some(_)) => return Err(invalid("promotion_passes", "only a promotion plan unlocks an offer")),
            (_, None) => {}
        }
        self.inner.store.commit_async(writes).await?;
        Ok(plan)
    }

    /// What a PROMOTION plan's passes unlock.
    pub fn promotion_terms(&self, tenant: &Tenant, plan: PassPlanId) -> Result<Option<PromotionTerms>, EngineError> {
        Ok(self.inner.store.promotion_terms(tenant, plan)?)
    }

    pub fn pass_plan(&self, tenant: &Tenant, id: PassPlanId) -> Result<PassPlan, EngineError> {
        self.inner
            .store
            .pass_plan(tenant, id)?
            .ok_or(EngineError::NotFound("pass plan"))
    }

    /// The tenant's plans, oldest first.
    pub fn pass_plans(&self, tenant: &Tenant) -> Result<Vec<PassPlan>, EngineError> {
        let mut plans = self.inner.store.pass_plans(tenant)?;
        plans.sort_by_key(|plan| (plan.created_on, plan.id));
        Ok(plans)
    }

    /// Activates or deactivates a plan (its terms never change once a pass is issued).
    /// Activating a printed plan the first time generates its batch, in the same commit:
    /// every pass INACTIVE (activated at sale), its code and PIN answered this once.
    pub async fn set_pass_plan_state(
        &self,
        tenant: Tenant,
        id: PassPlanId,
        active: bool,
    ) -> Result<(PassPlan, Vec<IssuedPass>), EngineError> {
        self.check_open()?;
        let _writes = self.inner.pass_writes.lock().await;
        let mut plan = self.pass_plan(&tenant, id)?;
        let now = self.now();
        plan.state = if active { PlanState::Active } else { PlanState::Inactive };
        plan.updated_on = now;
        let mut writes = WriteSet::default();
        let mut batch = Vec::new();
        if let Some(count) = plan.printed.filter(|_| active && plan.passes_issued == 0) {
            let value = match plan.value {
                PassValue::Fixed(amount) => amount,
                // Valued at sale (`PUT /passes/{id}`): the least it may be until then.
                PassValue::Variable { minimum, .. } => minimum,
            };
            let mut drawn = std::collections::HashSet::new();
            for _ in 0..count {
                let issued = self.new_pass(&tenant, &plan, value, PassState::Inactive, None, &mut drawn, now)?;
                writes.pass(&issued.pass);
                writes.pass_code(&issued.pass);
                batch.push(issued);
            }
            plan.passes_issued = u64::from(count);
        }
        writes.pass_plan(&plan);
        self.inner.store.commit_async(writes).await?;
        Ok((plan, batch))
    }

    /// A new pass of `plan`: a code unique in the business (and among `drawn`, the codes
    /// of the batch being made), a PIN if the plan needs one, kept hashed.
    #[allow(clippy::too_many_arguments)]
    fn new_pass(
        &self,
        tenant: &Tenant,
        plan: &PassPlan,
        value: Decimal,
        state: PassState,
        recipient: Option<PassRecipient>,
        drawn: &mut std::collections::HashSet<String>,
        now: i64,
    ) -> Result<IssuedPass, EngineError> {
        // A fresh code; a clash with an existing one (unlikely at 8+ random characters)
        // draws again.
        let mut found = None;
        for _ in 0..8 {
            let code = plan.code_format.generate();
            let hash = code_hash(&code);
            if !drawn.contains(&hash) && self.inner.store.pass_by_code(tenant, &hash)?.is_none() {
                drawn.insert(hash);
                found = Some(code);
                break;
            }
        }
        let code = found.ok_or_else(|| {
            EngineError::Conflict("code_format: the plan's codes are too few to draw a new one".into())
        })?;
        let id = PassId::random();
        let pin = plan.code_format.pin_required.then(generate_pin);
        let pass = Pass {
            id,
            tenant: *tenant,
            plan: plan.id,
            classification: plan.classification,
            code_hash: code_hash(&code),
            code_last4: code
                .chars()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect(),
            pin_hash: pin.as_deref().map(|pin| pin_hash(id, pin)),
            value,
            currency: plan.currency,
            credit: plan.credit,
            state,
            expires_at: plan.validity.expires_at(now),
            recipient,
            redemption: None,
            created_on: now,
            updated_on: now,
        };
        Ok(IssuedPass { pass, code, pin })
    }

    /// Issues an electronic pass under an active plan: a new code (unique in the business)
    /// and PIN, kept hashed; the recipient is sent them in the same commit.
    pub async fn issue_pass(&self, tenant: Tenant, new: NewPass) -> Result<IssuedPass, EngineError> {
        self.check_open()?;
        if let Some(recipient) = &new.recipient {
            if recipient.to.trim().is_empty()
                || recipient.to.chars().count() > 200
                || recipient.to.chars().any(char::is_control)
            {
                return Err(invalid(
                    "recipient.medium_value",
                    "must be 1 to 200 printable characters",
                ));
            }
        }
        let _writes = self.inner.pass_writes.lock().await;
        let mut plan = self.pass_plan(&tenant, new.plan)?;
        if plan.state != PlanState::Active {
            return Err(EngineError::Conflict("pass_plan: the plan is not active".into()));
        }
        if plan.printed.is_some() {
            return Err(EngineError::Conflict(
                "pass_plan: a printed plan's passes come from its batch".into(),
            ));
        }
        let value = plan
            .value_of(new.value)
            .map_err(|error| invalid(error.parameter, error.message))?;
        let now = self.now();
        let IssuedPass { pass, code, pin } = self.new_pass(
            &tenant,
            &plan,
            value,
            PassState::Active,
            new.recipient.clone(),
            &mut std::collections::HashSet::new(),
            now,
        )?;
        plan.passes_issued += 1;
        plan.updated_on = now;
        let mut writes = WriteSet::default();
        writes.pass(&pass);
        writes.pass_code(&pass);
        writes.pass_plan(&plan);
        if let Some(recipient) = &new.recipient {
            let business = self.organisation(tenant.organisation)?;
            let pin_line = pin
                .as_deref()
                .map_or(String::new(), |pin| format!(" Its PIN is {pin}."));
            self.enqueue_message(
                &mut writes,
                &tenant,
                ContactId(uuid::Uuid::nil()),
                NewMessage {
                    kind: MessageKind::Pass,
                    channel: if recipient.email { Channel::Email } else { Channel::Sms },
                    to: recipient.to.clone(),
                    country_code: None,
                    subject: format!("Your {} pass from {}", plan.name, business.name),
                    body: format!(
                        "You have a {} pass worth {} {}: {code}.{pin_line}",
                        plan.name,
                        value,
                        plan.currency.code()
                    ),
                },
            )?;
        }
        self.inner.store.commit_async(writes).await?;
        self.outbox_committed();
        Ok(IssuedPass { pass, code, pin })
    }

    /// Changes one pass (the back office): activate or cancel it, or, while it is not
    /// redeemed, set its value, expiry or PIN. All or nothing.
    pub async fn update_pass(&self, tenant: Tenant, id: PassId, update: PassUpdate) -> Result<Pass, EngineError> {
        self.check_open()?;
        let current = self
            .inner
            .store
            .pass(&tenant, id)?
            .ok_or(EngineError::NotFound("pass"))?;
        if let Some(value) = update.value {
            crate::domain::money::Amount::parse_at_most(value, current.currency, self.inner.settings.money.amount_max)
                .map_err(|error| invalid("value", error))?;
            if value <= Decimal::ZERO {
                return Err(invalid("value", "must be more than zero"));
            }
        }
        if let Some(pin) = &update.pin {
            if !(4..=12).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid("pin", "must be 4 to 12 digits"));
            }
        }
        let change = crate::actors::pass::PassChange {
            action: update.action,
            value: update.value,
            expires_at: update.expires_at,
            pin_hash: update.pin.as_deref().map(|pin| pin_hash(id, pin)),
        };
        let answer = self
            .inner
            .passes
            .ask(&(tenant, id), |reply| PassCommand::Update {
                change: change.clone(),
                reply,
            })
            .await;
        answer.map(|pass| (*pass).clone()).map_err(ask_error)
    }

    /// The pass a code (or its SHA-1) names.
    pub fn pass_by_code(&self, tenant: &Tenant, code: &PassCode) -> Result<Pass, EngineError> {
        let hash = match code {
            PassCode::Code(code) => code_hash(code),
            PassCode::Hash(hash) => {
                let hash = hash.trim().to_ascii_lowercase();
                if hash.len() != 40 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(invalid("code_hash", "must be the SHA-1 of the code, 40 hex digits"));
                }
                hash
            }
        };
        let id = self
            .inner
            .store
            .pass_by_code(tenant, &hash)?
            .ok_or(EngineError::NotFound("pass"))?;
        self.inner.store.pass(tenant, id)?.ok_or(EngineError::NotFound("pass"))
    }

    /// Redeems a pass into contact `contact`'s wallet, once. `caller` is who asks (a
    /// contact, a key, an address): its wrong codes and PINs are counted.
    pub async fn redeem_pass(
        &self,
        tenant: Tenant,
        caller: &str,
        code: PassCode,
        pin: Option<String>,
        contact: ContactId,
        place: Option<crate::domain::ids::OrganisationId>,
    ) -> Result<Arc<Pass>, EngineError> {
        let asked = self.redemption(tenant, caller, &code, &pin, place)?;
        self.redeem_found(tenant, &asked, pin, contact).await
    }

    /// Redeems a gift pass for no one named: an unnamed contact is made for it (one per
    /// pass, however often this is asked) and the pass redeemed into its wallet. Answers
    /// the pass and the contact: the pass's code then finds it (`GET /passes?pass_code=`).
    pub async fn redeem_pass_anonymously(
        &self,
        tenant: Tenant,
        caller: &str,
        code: PassCode,
        pin: Option<String>,
        place: Option<crate::domain::ids::OrganisationId>,
    ) -> Result<(Arc<Pass>, ContactId), EngineError> {
        let asked = self.redemption(tenant, caller, &code, &pin, place)?;
        self.redeem_for_no_one(tenant, &asked, pin).await
    }

    /// Redeems a checked gift pass into its unnamed contact's wallet (made once per pass).
    pub(super) async fn redeem_for_no_one(
        &self,
        tenant: Tenant,
        asked: &Redemption,
        pin: Option<String>,
    ) -> Result<(Arc<Pass>, ContactId), EngineError> {
        let pass = &asked.pass;
        if pass.classification != PassClassification::Gift {
            return Err(invalid(
                "contact_id",
                "only a gift pass is redeemed for no one named: name the contact",
            ));
        }
        // Checked before a contact is made for it (the pass's actor checks again).
        if !pass.pin_matches(pin.as_deref()) {
            self.count_pass_failure(&asked.caller);
            return Err(refusal(PassError::WrongPin));
        }
        if pass.state != PassState::Active {
            return Err(refusal(PassError::NotRedeemable(pass.state)));
        }
        let new = super::NewContact {
            code: None,
            first_name: Some("Gift pass".into()),
            last_name: Some(format!("****{}", pass.code_last4)),
            email_address: None,
            phones: Vec::new(),
        };
        let contact = self
            .create_contact(tenant, new, Some(&unnamed_contact_key(pass.id)))
            .await?;
        let redeemed = self.redeem_found(tenant, asked, pin, contact.id).await?;
        Ok((redeemed, contact.id))
    }

    /// The unnamed contact a gift pass was redeemed for, if it was.
    pub(super) fn unnamed_contact_of(&self, tenant: &Tenant, pass: PassId) -> Result<Option<ContactId>, EngineError> {
        let key = super::sha256(&unnamed_contact_key(pass));
        Ok(self
            .inner
            .store
            .idempotency(tenant, &key)?
            .map(|record| ContactId(record.resource_id)))
    }

    /// What every redemption checks first: the place, the PIN's shape, the caller's wrong
    /// tries, and the pass its code names (a wrong code is counted).
    pub(super) fn redemption(
        &self,
        tenant: Tenant,
        caller: &str,
        code: &PassCode,
        pin: &Option<String>,
        place: Option<crate::domain::ids::OrganisationId>,
    ) -> Result<Redemption, EngineError> {
        self.check_open()?;
        let place = match place {
            None => tenant.organisation,
            Some(id) => {
                self.organisation_for(tenant.organisation, id)
                    .map_err(|_| invalid("organisation.id", "is not in this business's network"))?;
                id
            }
        };
        if let Some(pin) = pin {
            if pin.is_empty() || pin.len() > 32 || pin.chars().any(char::is_control) {
                return Err(invalid("pin", "must be 1 to 32 printable characters"));
            }
        }
        let caller = format!("{}:{}:{caller}", tenant.organisation, tenant.mode.code());
        self.check_pass_failures(&caller)?;
        let pass = match self.pass_by_code(&tenant, code) {
            Err(EngineError::NotFound(what)) => {
                self.count_pass_failure(&caller);
                return Err(EngineError::NotFound(what));
            }
            other => other?,
        };
        Ok(Redemption { caller, pass, place })
    }

    /// Asks the pass's actor to redeem it into contact `contact`'s wallet (a wrong PIN is
    /// counted against the caller).
    pub(super) async fn redeem_found(
        &self,
        tenant: Tenant,
        asked: &Redemption,
        pin: Option<String>,
        contact: ContactId,
    ) -> Result<Arc<Pass>, EngineError> {
        if asked.pass.classification == PassClassification::Promotion {
            return Err(invalid(
                "code",
                "a promotion pass is not redeemed: it unlocks its offer when a purchase presents it",
            ));
        }
        let route = self.contact_route(&tenant, &super::ContactRef::Id(contact))?;
        let header = self
            .ask_wallet((tenant, route.wallet_id), |reply| WalletCommand::Header { reply })
            .await?;
        let answer = self
            .inner
            .passes
            .ask(&(tenant, asked.pass.id), |reply| PassCommand::Redeem {
                contact,
                wallet: route.wallet_id,
                currency: header.currency,
                pin: pin.clone(),
                place: asked.place,
                reply,
            })
            .await;
        if matches!(answer, Err(crate::actors::kit::AskError::Refused(PassError::WrongPin))) {
            self.count_pass_failure(&asked.caller);
        }
        answer.map_err(ask_error)
    }

    /// 429 while the caller is past its wrong codes and PINs for the window.
    fn check_pass_failures(&self, caller: &str) -> Result<(), EngineError> {
        let settings = &self.inner.settings.otp;
        let window = i64::try_from(settings.request_window_s).unwrap_or(i64::MAX);
        let now = self.now();
        let failures = self.inner.pass_failures.by_caller.lock();
        if let Some((count, since)) = failures.get(caller) {
            let ends = since.saturating_add(window);
            if *count >= settings.attempts_max && now < ends {
                metrics::counter!(crate::metrics_names::RATE_LIMITED_TOTAL, "what" => "pass_redemption").increment(1);
                return Err(EngineError::RateLimited {
                    what: "caller",
                    retry_after_s: u64::try_from(ends - now).unwrap_or(1).max(1),
                });
            }
        }
        Ok(())
    }

    pub(super) fn count_pass_failure(&self, caller: &str) {
        let window = i64::try_from(self.inner.settings.otp.request_window_s).unwrap_or(i64::MAX);
        let now = self.now();
        let mut failures = self.inner.pass_failures.by_caller.lock();
        // Callers whose window ended are forgotten once the map grows.
        if failures.len() > 100_000 {
            failures.retain(|_, (_, since)| now < since.saturating_add(window));
        }
        let entry = failures.entry(caller.to_string()).or_insert((0, now));
        if now >= entry.1.saturating_add(window) {
            *entry = (0, now);
        }
        entry.0 = entry.0.saturating_add(1);
    }
}
