//! The award rule: a pure function from (offers, purchase, contact facts) to awards, each
//! with the explanation of how it came about. No IO: the caller gathers the facts (where the
//! sale was made, the contact's schemes and profile) and the contact's award history.
//!
//! For each offer, in offer-id order: it must be active and available on the purchase date,
//! the sale must be at a target, the contact in the scheme and the segment, the time inside
//! the schedule, the purchase the contact's first when the offer says so. Its basis (the
//! purchase total, or the matching lines' total and quantity) must reach the minimum spend.
//! The award is computed on the basis, then trimmed by the per-purchase cap and by what is
//! left of the per-contact cap for the period. Offers then combine (`Combination`): every
//! STACK award stands, a BEST_OF group keeps its largest, and if any EXCLUSIVE offer awards,
//! the largest exclusive award is the only one. Ties go to the smaller offer id, so the
//! outcome never depends on the order offers were made in.

use super::codes::{CodeFilter, Codes, LineCodes};
use super::conditions::qualifies;
use super::schedule::{local_time, period_start};
use super::{AwardKind, CapPeriod, Combination, OfferState, RewardOffer, SpendConditions, SECONDS_PER_DAY};
use crate::domain::commerce_pool::CommercePool;
use crate::domain::contact::{Birthday, CustomField, Gender};
use crate::domain::ids::{CommercePoolId, OfferId, OrganisationId, SchemeId, TapId};
use crate::domain::money::Currency;
use crate::domain::purchase::ProductLine;
use crate::domain::wallet::{AwardGrant, AwardRoute};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What a till says about a purchase line beyond its SKU.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineClass {
    pub family: Option<String>,
    pub brand: Option<String>,
    pub category: Option<String>,
}

impl LineClass {
    pub fn is_empty(&self) -> bool {
        self.family.is_none() && self.brand.is_none() && self.category.is_none()
    }
}

/// The contact attributes segment conditions read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SegmentProfile {
    pub gender: Option<Gender>,
    pub date_of_birth: Option<Birthday>,
    pub language_code: Option<String>,
    pub custom_fields: Vec<CustomField>,
}

/// What the contact earned before: the wallet's actor keeps it.
pub trait AwardHistory {
    /// Whether the contact has a posted purchase already.
    fn has_purchased(&self) -> bool;
    /// What `offer` awarded the contact on purchases dated at or after `since`, net of
    /// cancellations.
    fn awarded_since(&self, offer: OfferId, since: i64) -> Decimal;
}

/// A contact with no purchases and no awards.
pub struct NoHistory;

impl AwardHistory for NoHistory {
    fn has_purchased(&self) -> bool {
        false
    }

    fn awarded_since(&self, _offer: OfferId, _since: i64) -> Decimal {
        Decimal::ZERO
    }
}

/// A purchase as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct PurchaseFacts<'a> {
    pub currency: Currency,
    pub total: Decimal,
    pub lines: &'a [ProductLine],
    /// Line by line with `lines` (shorter when the till classified fewer).
    pub classes: &'a [LineClass],
    /// The date offers are evaluated at.
    pub date: i64,
    /// When awards are credited (their expiry counts from it).
    pub now: i64,
    /// Where the sale was made, then each organisation above it.
    pub places: &'a [OrganisationId],
    pub tap: Option<TapId>,
    /// The schemes the contact is signed up to.
    pub schemes: &'a [SchemeId],
    pub profile: Option<&'a SegmentProfile>,
    /// The offers a promotion pass the purchase presents unlocks.
    pub unlocked: &'a [OfferId],
    /// The billing cycles of its subscription a bill renews (empty for any other purchase).
    pub billing_cycles: &'a [u32],
}

/// Facts about a sale that the engine gathers before the wallet's actor evaluates it (only
/// those some active offer reads).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaleFacts {
    /// Where the sale was made, then each organisation above it.
    pub places: Vec<OrganisationId>,
    pub tap: Option<TapId>,
    pub schemes: Vec<SchemeId>,
    pub profile: Option<SegmentProfile>,
    /// The offers a promotion pass the purchase presents unlocks.
    pub unlocked: Vec<OfferId>,
    /// The billing cycles of its subscription a bill renews (empty for any other purchase).
    pub billing_cycles: Vec<u32>,
}

/// What an award was computed on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Basis {
    /// The purchase total (and, for per-quantity awards, every line's quantity).
    Total,
    /// These purchase lines (indexes into `products`).
    Lines(Vec<u16>),
    /// The purchase lines whose bits are set (lines 0 to 127).
    LineSet(u128),
}

impl Basis {
    /// The purchase lines the award was computed on (none: the total).
    pub fn lines(&self) -> Vec<u16> {
        match self {
            Basis::Total => Vec::new(),
            Basis::Lines(lines) => lines.clone(),
            Basis::LineSet(mask) => lines_of(*mask),
        }
    }
}

/// The cap that lowered an award, and to what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CapTrim {
    PerPurchase(#[serde(with = "crate::domain::money::exact_decimal")] Decimal),
    PerContact(
        super::CapPeriod,
        #[serde(with = "crate::domain::money::exact_decimal")] Decimal,
    ),
    Budget(#[serde(with = "crate::domain::money::exact_decimal")] Decimal),
}

/// How one award came about: kept with the purchase and shown with its rewards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwardExplanation {
    pub offer_id: OfferId,
    /// The offer's name when it awarded.
    pub offer_name: Arc<str>,
    pub kind: AwardKind,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub value: Decimal,
    pub basis: Basis,
    /// The money (percentage, fixed) or quantity (per quantity) the value applied to.
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub basis_amount: Decimal,
    /// The award before caps.
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub computed: Decimal,
    /// Caps that lowered it, in the order they applied; each names the amount after it.
    pub trims: Vec<CapTrim>,
    pub combination: Combination,
    /// The award given.
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub amount: Decimal,
    /// Whether it came out of the offer's budget (a cancellation gives it back).
    pub budgeted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluatedAward {
    pub grant: AwardGrant,
    pub explanation: AwardExplanation,
}

impl EvaluatedAward {
    /// Lowers the award to what is left of the offer's budget.
    pub fn trim_to_budget(&mut self, left: Decimal) {
        if left < self.grant.amount {
            let left = left.max(Decimal::ZERO);
            self.grant.amount = left;
            self.explanation.amount = left;
            self.explanation.trims.push(CapTrim::Budget(left));
        }
    }
}

struct Compiled {
    offer: RewardOffer,
    /// The name, shared by the explanations of its awards.
    name: Arc<str>,
    /// The offer's product filter: an index into `OfferSet::filters` (offers with the same
    /// filter share it, and an evaluation matches it against the lines once).
    filter: Option<usize>,
    /// Index into `OfferSet::zones` of the schedule's zone: day, week and month caps count
    /// on its calendar (UTC, index 0, without one).
    zone: usize,
    /// Where its awards are credited, conditions shared (a named pool's once `with_pools`
    /// resolved it).
    route: AwardRoute,
    /// Behind a promotion plan's passes: it applies only to a purchase presenting one.
    locked: bool,
}

/// A tenant's offers, ready to evaluate: in id order, time zones resolved once each.
pub struct OfferSet {
    offers: Vec<Compiled>,
    /// The distinct product filters of the offers, as code numbers (see `Codes`), sorted.
    filters: Vec<CodeFilter>,
    codes: Codes,
    zones: Vec<TimeZone>,
    needs_profile: bool,
    needs_places: bool,
    /// The schemes active offers are limited to, each once.
    schemes: Vec<SchemeId>,
    has_budgets: bool,
    /// Whether an active offer rewards a subscription milestone (so bills say which
    /// cycles they renew).
    has_milestones: bool,
    has_routes: bool,
}

impl Default for OfferSet {
    fn default() -> Self {
        OfferSet::new(Vec::new())
    }
}

/// What one evaluation works out once and shares between offers: each zone's wall clock
/// at the purchase date, and the starts of capped periods.
struct Scratch {
    locals: Vec<Option<Option<DateTime>>>,
    starts: Vec<(usize, CapPeriod, i64)>,
    /// Each purchase line's codes, looked up at the first offer with a filter.
    lines: Option<Vec<LineCodes>>,
    /// By filter: the lines it matched (purchases of at most 128 lines), their money and
    /// quantity, once worked out.
    matched: Vec<Option<(u128, Decimal, Decimal)>>,
}

impl Scratch {
    fn new(set: &OfferSet) -> Scratch {
        Scratch {
            locals: vec![None; set.zones.len()],
            starts: Vec::new(),
            lines: None,
            matched: vec![None; set.filters.len()],
        }
    }

    /// Each line's codes and money; `None` when a line's net plus tax overflows.
    fn lines(&mut self, set: &OfferSet, facts: &PurchaseFacts<'_>) -> Option<&[LineCodes]> {
        if self.lines.is_none() {
            let mut lines = Vec::with_capacity(facts.lines.len());
            for (index, line) in facts.lines.iter().enumerate() {
                lines.push(LineCodes {
                    amount: line.amount()?,
                    ..set.codes.line(&line.product_sku, facts.classes.get(index))
                });
            }
            self.lines = Some(lines);
        }
        self.lines.as_deref()
    }

    fn local(&mut self, set: &OfferSet, zone: usize, date: i64) -> Option<DateTime> {
        *self.locals[zone].get_or_insert_with(|| local_time(&set.zones[zone], date))
    }

    fn period_start(&mut self, set: &OfferSet, zone: usize, period: CapPeriod, date: i64) -> i64 {
        if let Some((_, _, start)) = self.starts.iter().find(|(z, p, _)| *z == zone && *p == period) {
            return *start;
        }
        let start = period_start(period, &set.zones[zone], date);
        self.starts.push((zone, period, start));
        start
    }
}

/// The lines an award was computed on, before it is explained.
enum Matched {
    Total,
    /// Lines 0..128 as bits.
    Mask(u128),
    List(Vec<u16>),
}

impl Matched {
    fn basis(self) -> Basis {
        match self {
            Matched::Total => Basis::Total,
            Matched::Mask(mask) => Basis::LineSet(mask),
            Matched::List(lines) => Basis::Lines(lines),
        }
    }
}

/// An offer's award before offers combine (explained only if it is given).
struct Candidate {
    index: usize,
    amount: Decimal,
    computed: Decimal,
    basis_amount: Decimal,
    matched: Matched,
    trims: [Option<CapTrim>; 2],
}

impl OfferSet {
    pub fn new(mut offers: Vec<RewardOffer>) -> OfferSet {
        offers.sort_by_key(|offer| offer.id);
        let active = || offers.iter().filter(|offer| offer.state == OfferState::Active);
        let needs_profile = active().any(|offer| !offer.terms.segment.is_empty());
        let needs_places = active().any(|offer| !offer.terms.targets.organisations.is_empty());
        let mut schemes: Vec<SchemeId> = active().filter_map(|offer| offer.terms.scheme).collect();
        schemes.sort_unstable();
        schemes.dedup();
        let has_budgets = active().any(|offer| offer.terms.caps.budget.is_some());
        let has_milestones = active().any(|offer| offer.terms.maturity.is_some());
        let has_routes = active().any(|offer| offer.terms.destination != super::Destination::Wallet);
        let mut names: Vec<String> = vec!["UTC".into()];
        let mut zones = vec![TimeZone::UTC];
        let mut codes = Codes::default();
        let mut filters: Vec<CodeFilter> = Vec::new();
        let offers = offers
            .into_iter()
            .map(|offer| {
                let zone = offer
                    .terms
                    .schedule
                    .as_ref()
                    .and_then(|schedule| {
                        if let Some(index) = names.iter().position(|name| *name == schedule.time_zone) {
                            return Some(index);
                        }
                        let zone = schedule.zone().ok()?;
                        names.push(schedule.time_zone.clone());
                        zones.push(zone);
                        Some(zones.len() - 1)
                    })
                    .unwrap_or(0);
                let filter = offer.terms.products.as_ref().map(|filter| {
                    let compiled = codes.compile(filter);
                    filters.iter().position(|known| *known == compiled).unwrap_or_else(|| {
                        filters.push(compiled);
                        filters.len() - 1
                    })
                });
                let route = match &offer.terms.destination {
                    super::Destination::Pool(conditions) => AwardRoute::Pool {
                        conditions: Arc::new(conditions.clone()),
                        pool: None,
                    },
                    super::Destination::InstantDiscount => AwardRoute::Instant,
                    // A named pool's conditions come with `with_pools`.
                    super::Destination::Wallet | super::Destination::CommercePool(_) => AwardRoute::Wallet,
                };
                Compiled {
                    name: Arc::from(offer.name.as_str()),
                    offer,
                    filter,
                    zone,
                    route,
                    locked: false,
                }
            })
            .collect();
        let mut set = OfferSet {
            offers,
            filters,
            codes,
            zones,
            needs_profile,
            needs_places,
            schemes,
            has_budgets,
            has_milestones,
            has_routes,
        };
        set.needs_places |= set.pools_bind_places();
        set
    }

    /// The set with the business's commerce pools, which offers credit by id. A pool never
    /// goes away, so every pool an offer names is among them.
    /// Locks `offers` behind promotion passes (see `PurchaseFacts::unlocked`).
    pub fn with_locked(mut self, offers: &[OfferId]) -> OfferSet {
        for compiled in &mut self.offers {
            compiled.locked = offers.contains(&compiled.offer.id);
        }
        self
    }

    pub fn with_pools(mut self, pools: impl IntoIterator<Item = CommercePool>) -> OfferSet {
        let mut pools: Vec<(CommercePoolId, Arc<SpendConditions>)> = pools
            .into_iter()
            .map(|pool| (pool.id, Arc::new(pool.conditions)))
            .collect();
        pools.sort_by_key(|(id, _)| *id);
        for compiled in &mut self.offers {
            if let super::Destination::CommercePool(id) = &compiled.offer.terms.destination {
                if let Ok(index) = pools.binary_search_by_key(id, |(pool, _)| *pool) {
                    compiled.route = AwardRoute::Pool {
                        conditions: pools[index].1.clone(),
                        pool: Some(*id),
                    };
                }
            }
        }
        self.needs_places |= self.pools_bind_places();
        self
    }

    /// Whether any offer, whatever its state, credits a pool bound to organisations: its
    /// lots outlive the offer's activity, so a spend needs to know where the sale is.
    fn pools_bind_places(&self) -> bool {
        self.offers.iter().any(
            |compiled| matches!(&compiled.route, AwardRoute::Pool { conditions, .. } if !conditions.organisations.is_empty()),
        )
    }

    /// Where offer `id`'s awards are credited (the wallet for an offer not in the set).
    pub fn route(&self, id: OfferId) -> AwardRoute {
        self.offers
            .binary_search_by_key(&id, |compiled| compiled.offer.id)
            .map_or(AwardRoute::Wallet, |index| self.offers[index].route.clone())
    }

    /// Whether an active offer rewards a subscription milestone.
    pub fn has_milestones(&self) -> bool {
        self.has_milestones
    }

    /// Whether an active offer has a budget (so purchases reserve from it first).
    pub fn has_budgets(&self) -> bool {
        self.has_budgets
    }

    /// Whether an active offer credits elsewhere than the wallet's commerce money (an
    /// instant discount, a pool).
    pub fn has_routes(&self) -> bool {
        self.has_routes
    }

    pub fn get(&self, id: OfferId) -> Option<&RewardOffer> {
        self.offers
            .binary_search_by_key(&id, |compiled| compiled.offer.id)
            .ok()
            .map(|index| &self.offers[index].offer)
    }

    /// Whether an active offer targets organisations (so the caller resolves where the
    /// sale was made and the organisations above it).
    pub fn needs_places(&self) -> bool {
        self.needs_places
    }

    /// The schemes active offers are limited to (a purchase needs to know only whether its
    /// contact is in these).
    pub fn schemes(&self) -> &[SchemeId] {
        &self.schemes
    }

    pub fn offers(&self) -> impl Iterator<Item = &RewardOffer> {
        self.offers.iter().map(|compiled| &compiled.offer)
    }

    /// Whether an active offer reads the contact's profile (so the caller need not load it
    /// otherwise).
    pub fn needs_profile(&self) -> bool {
        self.needs_profile
    }

    /// Whether `compiled` applies to the purchase before any arithmetic: its conditions and
    /// its schedule.
    fn applies(
        &self,
        compiled: &Compiled,
        facts: &PurchaseFacts<'_>,
        history: &dyn AwardHistory,
        scratch: &mut Scratch,
    ) -> bool {
        (!compiled.locked || facts.unlocked.contains(&compiled.offer.id))
            && qualifies(&compiled.offer, facts, history)
            && compiled.offer.terms.schedule.as_ref().is_none_or(|schedule| {
                scratch
                    .local(self, compiled.zone, facts.date)
                    .is_some_and(|local| schedule.contains(local))
            })
    }

    /// For each active offer with a budget that `facts` could earn from: (offer, budget, the
    /// most it could award). Each is an upper bound of what `evaluate` gives that offer, with
    /// any history and whatever it combines with, so holding it is always enough.
    pub fn budget_wants(&self, facts: &PurchaseFacts<'_>) -> Vec<(OfferId, Decimal, Decimal)> {
        let mut scratch = Scratch::new(self);
        let mut wants = Vec::new();
        for (index, compiled) in self.offers.iter().enumerate() {
            let Some(budget) = compiled.offer.terms.caps.budget else {
                continue;
            };
            if !self.applies(compiled, facts, &NoHistory, &mut scratch) {
                continue;
            }
            // NoHistory: nothing earned, so no per-contact cap trims; an overflow wants the
            // whole budget (evaluate then refuses the purchase anyway).
            let most = match self.candidate(index, facts, &NoHistory, &mut scratch) {
                Some(Some(candidate)) => candidate.amount,
                Some(None) => continue,
                None => budget,
            };
            wants.push((compiled.offer.id, budget, most));
        }
        wants
    }

    /// The awards `facts` earns, in offer-id order. `None` when a rule overflows (checked
    /// arithmetic; bounded purchases and offers never do).
    pub fn evaluate(&self, facts: &PurchaseFacts<'_>, history: &dyn AwardHistory) -> Option<Vec<EvaluatedAward>> {
        let mut scratch = Scratch::new(self);
        let mut candidates = Vec::with_capacity(self.offers.len());
        for (index, compiled) in self.offers.iter().enumerate() {
            if !self.applies(compiled, facts, history, &mut scratch) {
                continue;
            }
            if let Some(candidate) = self.candidate(index, facts, history, &mut scratch)? {
                candidates.push(candidate);
            }
        }
        // Each candidate moves once, into its explanation (they are large).
        let kept = self.combine(&candidates);
        let mut awards = Vec::with_capacity(kept.iter().filter(|keep| **keep).count());
        for (candidate, keep) in candidates.into_iter().zip(kept) {
            if keep {
                awards.push(self.explain(candidate, facts.now));
            }
        }
        Some(awards)
    }

    /// The offer's award for the purchase before it combines with others; `Some(None)`
    /// when it awards nothing, `None` on overflow.
    fn candidate(
        &self,
        index: usize,
        facts: &PurchaseFacts<'_>,
        history: &dyn AwardHistory,
        scratch: &mut Scratch,
    ) -> Option<Option<Candidate>> {
        let compiled = &self.offers[index];
        let offer = &compiled.offer;
        let terms = &offer.terms;
        let (matched, money, quantity) = match compiled.filter {
            None => {
                let quantity = if offer.award.kind == AwardKind::PerQuantity {
                    facts
                        .lines
                        .iter()
                        .try_fold(Decimal::ZERO, |sum, line| sum.checked_add(line.quantity))?
                } else {
                    Decimal::ZERO
                };
                (Matched::Total, facts.total, quantity)
            }
            Some(filter) if facts.lines.len() <= 128 => {
                let (mask, money, quantity) = match scratch.matched[filter] {
                    Some(found) => found,
                    None => {
                        let (mut mask, mut money, mut quantity) = (0u128, Decimal::ZERO, Decimal::ZERO);
                        let codes = scratch.lines(self, facts)?;
                        for (line_index, (line, line_codes)) in facts.lines.iter().zip(codes).enumerate() {
                            if self.filters[filter].matches(line_codes) {
                                mask |= 1u128 << line_index;
                                money = money.checked_add(line_codes.amount)?;
                                quantity = quantity.checked_add(line.quantity)?;
                            }
                        }
                        scratch.matched[filter] = Some((mask, money, quantity));
                        (mask, money, quantity)
                    }
                };
                if mask == 0 {
                    return Some(None);
                }
                (Matched::Mask(mask), money, quantity)
            }
            Some(filter) => {
                let filter = &self.filters[filter];
                let mut mask = 0u128;
                let mut list = Vec::new();
                let mut money = Decimal::ZERO;
                let mut quantity = Decimal::ZERO;
                let codes = scratch.lines(self, facts)?;
                for (line_index, (line, line_codes)) in facts.lines.iter().zip(codes).enumerate() {
                    if filter.matches(line_codes) {
                        if line_index < 128 {
                            mask |= 1u128 << line_index;
                        } else {
                            list.push(u16::try_from(line_index).ok()?);
                        }
                        money = money.checked_add(line_codes.amount)?;
                        quantity = quantity.checked_add(line.quantity)?;
                    }
                }
                if mask == 0 && list.is_empty() {
                    return Some(None);
                }
                let matched = if list.is_empty() {
                    Matched::Mask(mask)
                } else {
                    let mut all = lines_of(mask);
                    all.extend(list);
                    Matched::List(all)
                };
                (matched, money, quantity)
            }
        };
        if terms.minimum_spend.is_some_and(|minimum| money < minimum) {
            return Some(None);
        }
        let value = offer.award.value;
        let (basis_amount, computed) = match offer.award.kind {
            AwardKind::Percentage => (money, facts.currency.round_award(percent(money, value)?)),
            AwardKind::Fixed => (money, value),
            AwardKind::PerQuantity => (quantity, facts.currency.round_award(quantity.checked_mul(value)?)),
        };
        let mut amount = computed;
        let mut trims = [None, None];
        if let Some(cap) = terms.caps.per_purchase {
            if amount > cap {
                amount = cap;
                trims[0] = Some(CapTrim::PerPurchase(cap));
            }
        }
        if let Some(cap) = terms.caps.per_contact {
            let since = scratch.period_start(self, compiled.zone, cap.period, facts.date);
            let left = cap
                .amount
                .checked_sub(history.awarded_since(offer.id, since))?
                .max(Decimal::ZERO);
            if amount > left {
                amount = left;
                trims[1] = Some(CapTrim::PerContact(cap.period, left));
            }
        }
        if amount <= Decimal::ZERO {
            return Some(None);
        }
        Some(Some(Candidate {
            index,
            amount,
            computed,
            basis_amount,
            matched,
            trims,
        }))
    }

    /// Applies the combination rules to the candidates (in offer-id order): which of them
    /// are given.
    fn combine(&self, candidates: &[Candidate]) -> Vec<bool> {
        let rule = |candidate: &Candidate| &self.offers[candidate.index].offer.terms.combination;
        // The larger award wins; on a tie, the smaller offer id (candidates come in id order,
        // so the first seen).
        let mut exclusive: Option<usize> = None;
        for (at, candidate) in candidates.iter().enumerate() {
            if matches!(rule(candidate), Combination::Exclusive(_))
                && exclusive.is_none_or(|best| candidate.amount > candidates[best].amount)
            {
                exclusive = Some(at);
            }
        }
        if let Some(winner) = exclusive {
            return (0..candidates.len()).map(|at| at == winner).collect();
        }
        // Each best-of group's holder, by position; groups are few, so a list.
        let mut holders: Vec<(&str, usize)> = Vec::new();
        for (at, candidate) in candidates.iter().enumerate() {
            if let Combination::BestOf(group) = rule(candidate) {
                match holders.iter_mut().find(|(name, _)| *name == group.as_str()) {
                    Some((_, holder)) => {
                        if candidate.amount > candidates[*holder].amount {
                            *holder = at;
                        }
                    }
                    None => holders.push((group.as_str(), at)),
                }
            }
        }
        candidates
            .iter()
            .enumerate()
            .map(|(at, candidate)| {
                matches!(rule(candidate), Combination::Stack) || holders.iter().any(|(_, holder)| *holder == at)
            })
            .collect()
    }

    fn explain(&self, candidate: Candidate, now: i64) -> EvaluatedAward {
        let compiled = &self.offers[candidate.index];
        let offer = &compiled.offer;
        let terms = &offer.terms;
        EvaluatedAward {
            grant: AwardGrant {
                offer_id: offer.id,
                amount: candidate.amount,
                expires_at: offer
                    .award
                    .expiry_days
                    .map(|days| now.saturating_add(i64::from(days).saturating_mul(SECONDS_PER_DAY))),
            },
            explanation: AwardExplanation {
                offer_id: offer.id,
                offer_name: compiled.name.clone(),
                kind: offer.award.kind,
                value: offer.award.value,
                basis: candidate.matched.basis(),
                basis_amount: candidate.basis_amount,
                computed: candidate.computed,
                trims: candidate.trims.into_iter().flatten().collect(),
                combination: terms.combination.clone(),
                amount: candidate.amount,
                budgeted: terms.caps.budget.is_some(),
            },
        }
    }
}

/// The lines whose bits are set, in order.
fn lines_of(mut mask: u128) -> Vec<u16> {
    let mut lines = Vec::with_capacity(mask.count_ones() as usize);
    while mask != 0 {
        lines.push(mask.trailing_zeros() as u16);
        mask &= mask - 1;
    }
    lines
}

/// `value` percent of `money`, exactly: the product with its scale raised by two (a
/// division by 100 that needs no division), or a division where the scale runs out.
fn percent(money: Decimal, value: Decimal) -> Option<Decimal> {
    let mut product = money.checked_mul(value)?;
    if product.scale() + 2 <= 28 {
        product.set_scale(product.scale() + 2).ok()?;
        Some(product)
    } else {
        product.checked_div(Decimal::ONE_HUNDRED)
    }
}
