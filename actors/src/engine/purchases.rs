//! Purchases: the POS purchase (checked, evaluated against the offers, posted by the
//! wallet's actor), bulk posting and cancels.

use super::{claim_key, contact_tokens, invalid, ContactRef, Engine, EngineError, Page, PurchaseSubmission};
use crate::actors::budget::BudgetCommand;
use crate::actors::kit::AskError;
use crate::actors::wallet::{NewPurchase, WalletCommand};
use crate::domain::access::Caller;
use crate::domain::budget::{BudgetState, Hold};
use crate::domain::contact_token::TokenRefusal;
use crate::domain::ids::{ContactId, EstimateId, OfferId, OrganisationId, PurchaseId, Tenant, WalletId};
use crate::domain::money::{Amount, MoneyError};
use crate::domain::offer::{LineClass, OfferSet, SaleFacts, SegmentProfile};
use crate::domain::purchase::{PassLink, PurchaseRecord, PurchaseRequest, SaleOrganisation, TransactionAmounts};
use crate::domain::wallet::{Cause, SpendRequest};
use crate::routes::ContactRoute;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::Arc;

impl Engine {
    /// Checks a submission against the contact's wallet and the rules, without posting it.
    pub(super) fn prepare_purchase(
        &self,
        submission: PurchaseSubmission,
        contact: &ContactRoute,
    ) -> Result<(PurchaseRequest, Vec<LineClass>), EngineError> {
        let currency = contact.currency;
        if let Some(given) = submission.currency {
            if given != currency {
                return Err(EngineError::CurrencyMismatch {
                    given,
                    wallet: currency,
                });
            }
        }
        let amount_max = self.inner.settings.money.amount_max;
        let money = |parameter: &'static str, value: Decimal| {
            Amount::parse_at_most(value, currency, amount_max).map_err(|error: MoneyError| invalid(parameter, error))
        };
        let optional = |parameter: &'static str, value: Option<Decimal>| {
            value.map(|v| money(parameter, v).map(|a| a.value())).transpose()
        };
        let total = money("transaction_amounts.total", submission.amounts.total)?;
        let amounts = TransactionAmounts {
            net: optional("transaction_amounts.net", submission.amounts.net)?,
            tax: optional("transaction_amounts.tax", submission.amounts.tax)?,
            discount: optional("transaction_amounts.discount", submission.amounts.discount)?,
            total: total.value(),
        };
        for product in &submission.products {
            optional("products.net_amount", product.net_amount)?;
            optional("products.tax_amount", product.tax_amount)?;
            optional("products.total_amount", product.total_amount)?;
        }
        if let Some(date) = submission.date {
            self.check_date("date", date)?;
        }
        let spend = submission
            .spend
            .map(|(amount, restrict_fully_covered)| {
                money("spend_request.amount", amount).map(|amount| SpendRequest {
                    amount: amount.value(),
                    restrict_fully_covered,
                })
            })
            .transpose()?;
        let request = PurchaseRequest {
            reference_number: submission.reference_number,
            contact_id: contact.contact_id,
            wallet_id: contact.wallet_id,
            currency,
            amounts,
            date: submission.date,
            products: submission.products,
            spend,
        };
        let classes = submission.classes;
        if classes.len() > request.products.len() {
            return Err(invalid("products", "more line classes than lines"));
        }
        for class in &classes {
            for value in [&class.family, &class.brand, &class.category].into_iter().flatten() {
                if value.trim().is_empty() || value.len() > 100 || value.chars().any(char::is_control) {
                    return Err(invalid(
                        "products",
                        "product_family, product_brand and product_category must be 1 to 100 printable characters",
                    ));
                }
            }
        }
        request.validate(total).map_err(|error| {
            let parameter = match error {
                crate::domain::purchase::PurchaseError::SpendAboveTotal
                | crate::domain::purchase::PurchaseError::SpendZero => "spend_request.amount",
                crate::domain::purchase::PurchaseError::AmountsDisagree => "transaction_amounts",
                crate::domain::purchase::PurchaseError::BadDate => "date",
                _ => "products",
            };
            EngineError::Invalid {
                parameter,
                message: error.to_string(),
            }
        })?;
        Ok((request, classes))
    }

    /// The facts about the sale that some active offer reads: where it was made and the
    /// organisations above it, the till, the contact's schemes and profile.
    pub(super) fn sale_facts(
        &self,
        tenant: &Tenant,
        contact: &ContactRoute,
        at: &SaleOrganisation,
        offers: &OfferSet,
    ) -> Result<SaleFacts, EngineError> {
        let mut facts = SaleFacts {
            tap: at.tap.as_ref().map(|tap| tap.id),
            ..SaleFacts::default()
        };
        if offers.needs_places() {
            let mut place: Option<OrganisationId> = Some(at.id);
            while let Some(id) = place {
                if facts.places.len() > super::NETWORK_DEPTH_MAX || facts.places.contains(&id) {
                    break;
                }
                facts.places.push(id);
                place = if id == tenant.organisation {
                    None
                } else {
                    self.organisation(id)?.parent
                };
            }
        }
        // Only the schemes offers name: a point read of each and of the contact's record.
        for &id in offers.schemes() {
            if let Some(scheme) = self.inner.store.scheme(tenant, id)? {
                let record = self.inner.store.scheme_membership(tenant, contact.contact_id, id)?;
                if scheme.has_member(record.as_ref()) {
                    facts.schemes.push(id);
                }
            }
        }
        if offers.needs_profile() {
            let details = self
                .inner
                .store
                .contact_details(tenant, contact.contact_id)?
                .unwrap_or_default();
            let preferences = self.inner.store.contact_preferences(tenant, contact.contact_id)?;
            facts.profile = Some(SegmentProfile {
                gender: details.demographics.gender,
                date_of_birth: details.demographics.date_of_birth,
                language_code: preferences.and_then(|preferences| preferences.language_code),
                custom_fields: details.custom_fields,
            });
        }
        Ok(facts)
    }

    /// A date a till or an app gives (a purchase's, a transfer's) must fall in the window
    /// around the server's now that `[purchases]` sets.
    pub(super) fn check_date(&self, parameter: &'static str, date: i64) -> Result<(), EngineError> {
        let now = self.now();
        let window = self.inner.settings.purchases;
        let earliest = now.saturating_sub(window.date_backdate_max_s);
        let latest = now.saturating_add(window.date_future_skew_s);
        if date < earliest || date > latest {
            return Err(invalid(
                parameter,
                format!(
                    "must be within {} s before and {} s after now ({now}); got {date}",
                    window.date_backdate_max_s, window.date_future_skew_s
                ),
            ));
        }
        Ok(())
    }

    /// Posts a POS purchase: awards from every applicable offer and the optional spend,
    /// applied atomically by the wallet's actor. Idempotent on `reference_number`. `caller`
    /// names where it was made (`submission.organisation`); `tenant` is its business.
    pub async fn post_purchase(
        &self,
        caller: &Caller,
        tenant: Tenant,
        submission: PurchaseSubmission,
    ) -> Result<Arc<PurchaseRecord>, EngineError> {
        self.check_open()?;
        let at = self.sale_organisation(caller.organisation, tenant.organisation, &submission.organisation)?;
        let mut submission = submission;
        let pass = self.pay_with_pass(caller, tenant, at.id, &mut submission).await?;
        if submission.contact == ContactRef::Unnamed {
            return Err(EngineError::Conflict(
                "a purchase without a contact is kept for a contact to claim: see Engine::post_unclaimed".into(),
            ));
        }
        let contact = self.contact_route(&tenant, &submission.contact)?;
        self.post_for_contact(tenant, &contact, submission, at, pass).await
    }

    /// Posts many purchases (the bulk endpoint): one outcome per submission, in order.
    /// Submissions for the same wallet are applied one after another in the order given;
    /// different wallets proceed concurrently.
    pub async fn post_purchases(
        &self,
        caller: &Caller,
        tenant: Tenant,
        submissions: Vec<PurchaseSubmission>,
    ) -> Vec<Result<Arc<PurchaseRecord>, EngineError>> {
        type Queued = (
            usize,
            ContactRoute,
            PurchaseSubmission,
            SaleOrganisation,
            Option<PassLink>,
        );
        let mut outcomes: Vec<Option<Result<Arc<PurchaseRecord>, EngineError>>> = vec![None; submissions.len()];
        let mut by_wallet: HashMap<WalletId, Vec<Queued>> = HashMap::new();
        let mut wallet_order = Vec::new();
        for (index, mut submission) in submissions.into_iter().enumerate() {
            let routed = async {
                self.check_open()?;
                let at = self.sale_organisation(caller.organisation, tenant.organisation, &submission.organisation)?;
                let pass = self.pay_with_pass(caller, tenant, at.id, &mut submission).await?;
                Ok::<_, EngineError>((self.contact_route(&tenant, &submission.contact)?, at, pass))
            }
            .await;
            match routed {
                Err(error) => outcomes[index] = Some(Err(error)),
                Ok((contact, at, pass)) => {
                    let group = by_wallet.entry(contact.wallet_id).or_insert_with(|| {
                        wallet_order.push(contact.wallet_id);
                        Vec::new()
                    });
                    group.push((index, contact, submission, at, pass));
                }
            }
        }
        let groups = wallet_order
            .into_iter()
            .filter_map(|wallet| by_wallet.remove(&wallet))
            .map(|group| async move {
                let mut done = Vec::with_capacity(group.len());
                for (index, contact, submission, at, pass) in group {
                    done.push((
                        index,
                        self.post_for_contact(tenant, &contact, submission, at, pass).await,
                    ));
                }
                done
            });
        for (index, outcome) in futures_util::future::join_all(groups).await.into_iter().flatten() {
            outcomes[index] = Some(outcome);
        }
        outcomes
            .into_iter()
            .map(|outcome| outcome.unwrap_or(Err(EngineError::Busy("wallet"))))
            .collect()
    }

    async fn post_for_contact(
        &self,
        tenant: Tenant,
        contact: &ContactRoute,
        submission: PurchaseSubmission,
        at: SaleOrganisation,
        pass: Option<PassLink>,
    ) -> Result<Arc<PurchaseRecord>, EngineError> {
        #[cfg(feature = "failpoints")]
        crate::actors::failpoints::hit(
            crate::actors::failpoints::Failpoint::BeforeWalletPurchase,
            contact.wallet_id.0,
        );
        let mut submission = submission;
        // A contact token carries the spend: its amount (which a spend request must match,
        // and the wallet must cover), or as much as the wallet holds up to the total.
        let token = match &submission.contact {
            ContactRef::Token(code) => {
                let token = self.token_by_code(&tenant, code)?;
                if token.intent != crate::domain::contact_token::TokenIntent::Spend {
                    return Err(contact_tokens::refusal(TokenRefusal::NotForSpending));
                }
                submission.spend = match (token.spend_amount, submission.spend) {
                    (Some(amount), Some((asked, _))) if asked != amount => {
                        return Err(contact_tokens::refusal(TokenRefusal::AmountMismatch))
                    }
                    (Some(amount), _) => Some((amount, true)),
                    (None, Some(asked)) => Some(asked),
                    (None, None) => Some((submission.amounts.total, false)),
                };
                Some(token)
            }
            _ => None,
        };
        // A community member's token spends the owner's wallet, within the member's
        // allowance, under a claim on the member's place in the community.
        let community = match &token {
            None => None,
            Some(token) => self.community_spend(&tenant, token, &submission)?,
        };
        let (contact, charge, _claim) = match community {
            None => (*contact, None, None),
            Some((route, charge, claim)) => (route, Some(charge), Some(claim)),
        };
        let (request, classes) = self.prepare_purchase(submission, &contact)?;
        let token = token.map(|token| (token, charge));
        self.post_checked(tenant, &contact, (request, classes, at), token, None, pass)
            .await
    }

    /// Posts a checked purchase (`(request, classes, where)`), named by `token`, coming
    /// from estimate `estimate` (whose hold it captures) or paid with pass `pass`.
    pub(super) async fn post_checked(
        &self,
        tenant: Tenant,
        contact: &ContactRoute,
        checked: (PurchaseRequest, Vec<LineClass>, SaleOrganisation),
        token: Option<(
            crate::domain::contact_token::ContactTokenRecord,
            Option<crate::domain::community::CommunityCharge>,
        )>,
        estimate: Option<EstimateId>,
        pass: Option<PassLink>,
    ) -> Result<Arc<PurchaseRecord>, EngineError> {
        self.post_checked_with(tenant, contact, checked, token, estimate, pass, None)
            .await
    }

    /// As `post_checked`; `bill` names the billing cycles a subscription's bill renews
    /// (for milestone offers), and keeps the wallet's auto-spend off it.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn post_checked_with(
        &self,
        tenant: Tenant,
        contact: &ContactRoute,
        (request, classes, at): (PurchaseRequest, Vec<LineClass>, SaleOrganisation),
        token: Option<(
            crate::domain::contact_token::ContactTokenRecord,
            Option<crate::domain::community::CommunityCharge>,
        )>,
        estimate: Option<EstimateId>,
        pass: Option<PassLink>,
        bill: Option<Vec<u32>>,
    ) -> Result<Arc<PurchaseRecord>, EngineError> {
        let (token, community) = match token {
            Some((token, community)) => (Some(token), community),
            None => (None, None),
        };
        let purchase_id = PurchaseId::for_reference(&tenant, &request.reference_number);
        let mut body_hash = request.body_hash(&tenant, &at, &classes);
        if let Some(estimate) = estimate {
            body_hash = crate::engine::sha256(&format!("{}:{estimate}", hex::encode(body_hash)));
        }
        if let Some(pass) = &pass {
            body_hash = crate::engine::sha256(&format!("{}:pass:{}", hex::encode(body_hash), pass.id));
        }
        let offers = self.offers(&tenant).await?;
        let mut facts = self.sale_facts(&tenant, contact, &at, &offers)?;
        facts.unlocked.extend(pass.as_ref().and_then(|link| link.unlocks));
        let auto_spend = bill.is_none();
        facts.billing_cycles = bill.unwrap_or_default();
        let mut purchase = NewPurchase {
            request,
            at,
            classes,
            facts,
            grants: Vec::new(),
            token,
            estimate,
            pass,
            community,
            auto_spend,
        };
        let wallet_id = contact.wallet_id;
        // Another wallet's purchase with this reference in flight is a conflict; the same
        // wallet's retry shares the claim and is answered by its actor.
        let _claim = self
            .inner
            .claims
            .claim(claim_key(b'P', &tenant, purchase_id.as_bytes()), wallet_id.0.as_u128())
            .map_err(|_| EngineError::ReferenceConflict)?;
        purchase.grants = self.reserve_budgets(&tenant, purchase_id, &purchase, &offers).await?;
        let posted = self
            .ask_wallet((tenant, wallet_id), |reply| WalletCommand::PostPurchase {
                purchase_id,
                purchase: Box::new(purchase.clone()),
                body_hash,
                offers: offers.clone(),
                reply,
            })
            .await;
        if posted.is_err() {
            // Nothing was committed: let the holds go now (else they go after `HOLD_S`).
            self.release_budgets(&tenant, purchase_id, &purchase.grants).await;
        }
        posted
    }

    /// Holds, in each budget an offer the purchase could earn from has, the most that offer
    /// could award it (the wallet's evaluation then takes at most that). Any failure lets go
    /// of what was held and refuses the purchase.
    async fn reserve_budgets(
        &self,
        tenant: &Tenant,
        purchase_id: PurchaseId,
        purchase: &NewPurchase,
        offers: &OfferSet,
    ) -> Result<Vec<(OfferId, Hold)>, EngineError> {
        if !offers.has_budgets() {
            return Ok(Vec::new());
        }
        let facts = purchase.facts(self.now());
        let mut grants = Vec::new();
        for (offer, total, wanted) in offers.budget_wants(&facts) {
            let asked = self
                .inner
                .budgets
                .ask(&(*tenant, offer), |reply| BudgetCommand::Reserve {
                    purchase: purchase_id,
                    wanted,
                    total,
                    reply,
                })
                .await;
            match asked {
                Ok(hold) => grants.push((offer, hold)),
                Err(error) => {
                    self.release_budgets(tenant, purchase_id, &grants).await;
                    return Err(match error {
                        AskError::Busy => EngineError::Busy("offer budget"),
                        AskError::Store(error) => error.into(),
                        _ => EngineError::Internal("offer budget"),
                    });
                }
            }
        }
        Ok(grants)
    }

    async fn release_budgets(&self, tenant: &Tenant, purchase_id: PurchaseId, grants: &[(OfferId, Hold)]) {
        for (offer, hold) in grants.iter().filter(|(_, hold)| hold.amount > Decimal::ZERO) {
            let released = self
                .inner
                .budgets
                .ask(&(*tenant, *offer), |reply| BudgetCommand::Release {
                    purchase: hold.purchase,
                    reply,
                })
                .await;
            if let Err(error) = released {
                tracing::warn!(%offer, purchase = %purchase_id, error = ?error, "releasing a budget hold failed; it goes when it expires");
            }
        }
    }

    /// What an offer's budget has used and holds now.
    pub async fn offer_budget(&self, tenant: &Tenant, offer: OfferId) -> Result<BudgetState, EngineError> {
        self.inner
            .budgets
            .ask(&(*tenant, offer), |reply| BudgetCommand::Read { reply })
            .await
            .map_err(|error| match error {
                AskError::Busy => EngineError::Busy("offer budget"),
                AskError::Store(error) => error.into(),
                _ => EngineError::Internal("offer budget"),
            })
    }

    pub fn purchase(&self, tenant: &Tenant, id: PurchaseId) -> Result<PurchaseRecord, EngineError> {
        self.inner
            .store
            .purchase(tenant, id)?
            .ok_or(EngineError::NotFound("purchase"))
    }

    /// Cancels a posted purchase, reversing its awards and spend exactly. Idempotent.
    pub async fn cancel_purchase(&self, tenant: Tenant, id: PurchaseId) -> Result<Arc<PurchaseRecord>, EngineError> {
        self.check_open()?;
        let record = self.purchase(&tenant, id)?;
        let wallet_id = record.request.wallet_id;
        self.ask_wallet((tenant, wallet_id), |reply| WalletCommand::CancelPurchase {
            purchase_id: id,
            reply,
        })
        .await
    }

    /// A purchase of contact `contact` (another contact's is not found).
    pub fn contact_purchase(
        &self,
        tenant: &Tenant,
        contact: ContactId,
        id: PurchaseId,
    ) -> Result<PurchaseRecord, EngineError> {
        let record = self.purchase(tenant, id)?;
        if record.request.contact_id != contact {
            return Err(EngineError::NotFound("purchase"));
        }
        Ok(record)
    }

    /// The contact's purchases in the order they were posted (newest first when
    /// `page.descending`), those dated inside `dates` (inclusive bounds), one page of them;
    /// whether more follow, and how many there are when `page.count_total`. `returned`
    /// keeps only purchases with (true) or without (false) an ad hoc return. Its wallet's
    /// journal is the index: every purchase posted to it is an event there.
    pub fn contact_purchases(
        &self,
        tenant: &Tenant,
        contact: ContactId,
        dates: (Option<i64>, Option<i64>),
        returned: Option<bool>,
        page: Page,
    ) -> Result<(Vec<PurchaseRecord>, bool, Option<usize>), EngineError> {
        let route = self.contact_route(tenant, &ContactRef::Id(contact))?;
        let mut ids = Vec::new();
        self.inner
            .store
            .visit_wallet_events(tenant, route.wallet_id, page.descending, |event| {
                if let Cause::Purchase(id) = event.cause {
                    ids.push(id);
                }
                true
            })?;
        let wanted = page.offset.saturating_add(page.size).saturating_add(1);
        let mut matched = Vec::new();
        let mut count = 0usize;
        for id in ids {
            let Some(record) = self.inner.store.purchase(tenant, id)? else {
                continue;
            };
            if dates.0.is_some_and(|from| record.date < from) || dates.1.is_some_and(|to| record.date > to) {
                continue;
            }
            if returned.is_some_and(|returned| returned == record.returns.is_empty()) {
                continue;
            }
            count += 1;
            if matched.len() < wanted {
                matched.push(record);
            } else if !page.count_total {
                break;
            }
        }
        let has_more = matched.len() > page.offset.saturating_add(page.size);
        let records = matched.into_iter().skip(page.offset).take(page.size).collect();
        Ok((records, has_more, page.count_total.then_some(count)))
    }
}
