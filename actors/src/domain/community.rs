//! Communities: a contact (the owner) invites people into its community; an invited
//! contact accepts or rejects; accepted members may share the owner's wallet within the
//! limits the owner sets. Invitation states and their moves are a table (`TRANSITIONS`).

use super::ids::{CommercePoolId, ContactId, RelationshipId, Tenant};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MemberState {
    /// Invited, not answered yet.
    Invited,
    Accepted,
    Rejected,
}

impl MemberState {
    pub fn code(self) -> &'static str {
        match self {
            MemberState::Invited => "PENDING",
            MemberState::Accepted => "ACCEPTED",
            MemberState::Rejected => "REJECTED",
        }
    }
}

/// The invited contact's answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Accept,
    Reject,
}

/// Every allowed move: an invitation is answered once.
pub const TRANSITIONS: [(MemberState, Answer, MemberState); 2] = [
    (MemberState::Invited, Answer::Accept, MemberState::Accepted),
    (MemberState::Invited, Answer::Reject, MemberState::Rejected),
];

pub fn answer(from: MemberState, answer: Answer) -> Option<MemberState> {
    TRANSITIONS
        .iter()
        .find(|(state, given, _)| *state == from && *given == answer)
        .map(|(_, _, next)| *next)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Permission {
    ContactManagement,
    ServiceRequestsManagement,
    OrdersManagement,
    FullAccess,
}

impl Permission {
    pub const ALL: [Permission; 4] = [
        Permission::ContactManagement,
        Permission::ServiceRequestsManagement,
        Permission::OrdersManagement,
        Permission::FullAccess,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Permission::ContactManagement => "CONTACT_MANAGEMENT",
            Permission::ServiceRequestsManagement => "SERVICE_REQUESTS_MANAGEMENT",
            Permission::OrdersManagement => "ORDERS_MANAGEMENT",
            Permission::FullAccess => "FULL_ACCESS",
        }
    }

    pub fn parse(code: &str) -> Option<Permission> {
        Permission::ALL
            .into_iter()
            .find(|permission| permission.code().eq_ignore_ascii_case(code.trim()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SharingMethod {
    /// The member spends from the owner's wallet as it needs, within the limits.
    Auto,
    /// The owner moves money to the member when asked.
    Manual,
}

impl SharingMethod {
    pub fn code(self) -> &'static str {
        match self {
            SharingMethod::Auto => "AUTO",
            SharingMethod::Manual => "MANUAL",
        }
    }

    pub fn parse(code: &str) -> Option<SharingMethod> {
        [SharingMethod::Auto, SharingMethod::Manual]
            .into_iter()
            .find(|method| method.code().eq_ignore_ascii_case(code.trim()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletSharing {
    pub enabled: bool,
    pub method: SharingMethod,
    /// The most the member may spend of the owner's wallet in all.
    #[serde(with = "crate::domain::money::exact_option_decimal")]
    pub max_amount: Option<Decimal>,
    /// Only these named commerce pools' money (none: any).
    pub pools: Vec<CommercePoolId>,
}

/// What a member may spend of the owner's wallet: per purchase, per day, per month.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashLimits {
    #[serde(with = "crate::domain::money::exact_option_decimal")]
    pub per_transaction: Option<Decimal>,
    #[serde(with = "crate::domain::money::exact_option_decimal")]
    pub per_day: Option<Decimal>,
    #[serde(with = "crate::domain::money::exact_option_decimal")]
    pub per_billing_cycle: Option<Decimal>,
}

impl CashLimits {
    /// Whether the limits contradict each other (a daily limit above the monthly one, a
    /// purchase allowed more than a day).
    pub fn is_consistent(&self) -> bool {
        let le = |small: Option<Decimal>, large: Option<Decimal>| match (small, large) {
            (Some(small), Some(large)) => small <= large,
            _ => true,
        };
        le(self.per_transaction, self.per_day)
            && le(self.per_day, self.per_billing_cycle)
            && le(self.per_transaction, self.per_billing_cycle)
    }
}

/// What a member spent of the owner's wallet: this day, this month (UTC, calendar), ever.
/// Kept per relationship, written in the commit of each purchase that spends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommunityUsage {
    /// Start of the day `day_spent` is for (epoch s).
    pub day: i64,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub day_spent: Decimal,
    /// Start of the month `month_spent` is for.
    pub month: i64,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub month_spent: Decimal,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub total_spent: Decimal,
}

impl CommunityUsage {
    /// As it stands at `now`: a past day's or month's spending no longer counts.
    pub fn at(&self, now: i64) -> CommunityUsage {
        use crate::domain::wallet::LimitPeriod;
        let day = LimitPeriod::Daily.start(now);
        let month = LimitPeriod::Monthly.start(now);
        CommunityUsage {
            day,
            day_spent: if self.day == day { self.day_spent } else { Decimal::ZERO },
            month,
            month_spent: if self.month == month {
                self.month_spent
            } else {
                Decimal::ZERO
            },
            total_spent: self.total_spent,
        }
    }

    /// `amount` more spent at `now`.
    pub fn add(&self, amount: Decimal, now: i64) -> CommunityUsage {
        let mut usage = self.at(now);
        usage.day_spent = usage.day_spent.saturating_add(amount);
        usage.month_spent = usage.month_spent.saturating_add(amount);
        usage.total_spent = usage.total_spent.saturating_add(amount);
        usage
    }

    /// `amount` of a spend made at `spent_at` given back at `now` (a cancel, a return): off
    /// the total, and off the day's and the month's when they are still the spend's.
    pub fn give_back(&self, amount: Decimal, spent_at: i64, now: i64) -> CommunityUsage {
        use crate::domain::wallet::LimitPeriod;
        let mut usage = self.at(now);
        let less = |spent: Decimal| (spent - amount).max(Decimal::ZERO);
        if LimitPeriod::Daily.start(spent_at) == usage.day {
            usage.day_spent = less(usage.day_spent);
        }
        if LimitPeriod::Monthly.start(spent_at) == usage.month {
            usage.month_spent = less(usage.month_spent);
        }
        usage.total_spent = less(usage.total_spent);
        usage
    }

    /// The most one more purchase may spend at `now` under `limits` and the sharing's
    /// `max_amount` (`None`: no bound but the wallet's balance).
    pub fn left(&self, limits: Option<&CashLimits>, max_amount: Option<Decimal>, now: i64) -> Option<Decimal> {
        let usage = self.at(now);
        let left = |limit: Option<Decimal>, spent: Decimal| limit.map(|limit| (limit - spent).max(Decimal::ZERO));
        [
            limits.and_then(|limits| limits.per_transaction),
            limits.and_then(|limits| left(limits.per_day, usage.day_spent)),
            limits.and_then(|limits| left(limits.per_billing_cycle, usage.month_spent)),
            left(max_amount, usage.total_spent),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// What a purchase spending the owner's wallet for a member carries to the wallet's actor:
/// the member's usage before it (read under a claim on the relationship, so current) and
/// the most it may spend; the actor trims the spend to it and writes the new usage in the
/// purchase's commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityCharge {
    pub relationship: RelationshipId,
    pub usage: CommunityUsage,
    /// `None`: no bound but the wallet's balance.
    pub cap: Option<Decimal>,
}

/// One person in an owner's community.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relationship {
    pub id: RelationshipId,
    pub tenant: Tenant,
    pub owner: ContactId,
    pub member: ContactId,
    /// One of `RELATIONS`, by id.
    pub relation: Option<uuid::Uuid>,
    pub group: Option<String>,
    pub is_admin: bool,
    pub permissions: Vec<Permission>,
    pub sharing: Option<WalletSharing>,
    pub limits: Option<CashLimits>,
    /// The member's allowance is the owner's own.
    pub same_as_owner: bool,
    pub state: MemberState,
    pub created_on: i64,
    pub updated_on: i64,
}

impl Relationship {
    /// People in one community.
    pub const MEMBERS_MAX: usize = 20;

    /// Whether this member manages the owner's community people (an accepted admin with
    /// CONTACT_MANAGEMENT or FULL_ACCESS).
    pub fn manages_people(&self) -> bool {
        self.state == MemberState::Accepted
            && self.is_admin
            && self
                .permissions
                .iter()
                .any(|permission| matches!(permission, Permission::ContactManagement | Permission::FullAccess))
    }
}

/// The relations a person can have to the owner: (name, is_default). Their ids are fixed
/// (`relation_id`), so apps may keep them.
pub const RELATIONS: [(&str, bool); 7] = [
    ("Spouse", false),
    ("Partner", false),
    ("Child", false),
    ("Parent", false),
    ("Sibling", false),
    ("Friend", false),
    ("Other", true),
];

/// The id of relation `name`.
pub fn relation_id(name: &str) -> uuid::Uuid {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_OID,
        format!("community-relation:{name}").as_bytes(),
    )
}

/// The name of relation `id`, if it is one.
pub fn relation_name(id: uuid::Uuid) -> Option<&'static str> {
    RELATIONS
        .iter()
        .map(|(name, _)| *name)
        .find(|name| relation_id(name) == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invitation_is_answered_once() {
        assert_eq!(
            answer(MemberState::Invited, Answer::Accept),
            Some(MemberState::Accepted)
        );
        assert_eq!(
            answer(MemberState::Invited, Answer::Reject),
            Some(MemberState::Rejected)
        );
        for done in [MemberState::Accepted, MemberState::Rejected] {
            assert_eq!(answer(done, Answer::Accept), None);
            assert_eq!(answer(done, Answer::Reject), None);
        }
    }

    #[test]
    fn a_spend_given_back_leaves_the_allowance_of_its_own_day_and_month() {
        use crate::domain::wallet::LimitPeriod;
        let d = Decimal::from;
        let monday = LimitPeriod::Daily.start(1_800_000_000);
        let usage = CommunityUsage::default().add(d(30), monday + 60);
        // The same day: off the day, the month and the total.
        let back = usage.give_back(d(10), monday + 60, monday + 120);
        assert_eq!(
            (back.day_spent, back.month_spent, back.total_spent),
            (d(20), d(20), d(20))
        );
        // The next day: the day's count is today's, untouched; never below zero.
        let next_day = usage.give_back(d(40), monday + 60, monday + 86_400);
        assert_eq!((next_day.day_spent, next_day.total_spent), (d(0), d(0)));
        let fresh = CommunityUsage::default().add(d(5), monday + 86_400);
        let not_today = fresh.give_back(d(5), monday + 60, monday + 86_400 + 1);
        assert_eq!((not_today.day_spent, not_today.total_spent), (d(5), d(0)));
    }

    #[test]
    fn a_member_s_allowance_is_the_least_its_limits_leave_and_days_and_months_start_over() {
        let d = Decimal::from;
        let limits = CashLimits {
            per_transaction: Some(d(10)),
            per_day: Some(d(25)),
            per_billing_cycle: Some(d(60)),
        };
        let day = 86_400;
        let start = 1_767_225_600; // 2026-01-01T00:00:00Z
        let mut usage = CommunityUsage::default();
        assert_eq!(usage.left(Some(&limits), Some(d(100)), start), Some(d(10)));
        usage = usage.add(d(10), start).add(d(10), start + 60);
        assert_eq!(
            usage.left(Some(&limits), None, start + 120),
            Some(d(5)),
            "the day has 5 left"
        );
        usage = usage.add(d(5), start + 180);
        assert_eq!(usage.left(Some(&limits), None, start + 240), Some(d(0)));
        // The next day starts over; the month keeps counting.
        assert_eq!(usage.left(Some(&limits), None, start + day), Some(d(10)));
        usage = usage
            .add(d(10), start + day)
            .add(d(10), start + 2 * day)
            .add(d(10), start + 3 * day);
        assert_eq!(
            usage.left(Some(&limits), None, start + 4 * day),
            Some(d(5)),
            "the month has 5 left"
        );
        assert_eq!(
            usage.left(Some(&limits), Some(d(56)), start + 4 * day),
            Some(d(1)),
            "max_amount has 1 left"
        );
        // February starts the month over; the total still counts.
        let february = start + 31 * day;
        assert_eq!(usage.left(Some(&limits), None, february), Some(d(10)));
        assert_eq!(usage.left(None, None, february), None);
        assert_eq!(usage.at(february).total_spent, d(55));
    }

    #[test]
    fn limits_must_agree_and_relations_have_fixed_ids() {
        let d = Decimal::from;
        let limits = |t: i64, day: i64, cycle: i64| CashLimits {
            per_transaction: Some(d(t)),
            per_day: Some(d(day)),
            per_billing_cycle: Some(d(cycle)),
        };
        assert!(limits(10, 20, 100).is_consistent());
        assert!(!limits(30, 20, 100).is_consistent());
        assert!(!limits(10, 200, 100).is_consistent());
        assert!(CashLimits::default().is_consistent());
        assert_eq!(relation_name(relation_id("Child")), Some("Child"));
        assert_eq!(relation_name(uuid::Uuid::nil()), None);
    }
}
