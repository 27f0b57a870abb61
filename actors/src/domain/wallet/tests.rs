//! Tests of the wallet's rules: spend order, expiry, cancels and shortfall, and a property
//! test over the whole allowed range of amounts.
use super::*;
use std::str::FromStr;

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

const MAX: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

fn wallet() -> Wallet {
    Wallet::for_tests()
}

fn award(amount: &str, expires_at: Option<i64>) -> AwardGrant {
    AwardGrant {
        offer_id: OfferId::random(),
        amount: d(amount),
        expires_at,
    }
}

fn spend(amount: &str, restrict: bool) -> Option<SpendRequest> {
    Some(SpendRequest {
        amount: d(amount),
        restrict_fully_covered: restrict,
    })
}

struct Ledger {
    wallet: Wallet,
    journal: Vec<WalletEvent>,
}

impl Ledger {
    fn new() -> Self {
        Ledger {
            wallet: wallet(),
            journal: Vec::new(),
        }
    }
    fn purchase(
        &mut self,
        now: i64,
        spend: Option<SpendRequest>,
        awards: &[AwardGrant],
    ) -> Result<PurchaseEffects, WalletRejection> {
        if let Some(event) = self.wallet.sweep_expired(now).unwrap() {
            self.journal.push(event);
        }
        let (event, effects) = self
            .wallet
            .post_purchase(now, PurchaseId::random(), spend, awards, MAX)
            .map_err(|error| match error {
                CommandError::Rejected(rejection) => rejection,
                CommandError::Fault(fault) => panic!("{fault}"),
            })?;
        self.journal.push(event);
        self.check();
        Ok(effects)
    }
    fn cancel(&mut self, now: i64, effects: &PurchaseEffects) {
        let event = self
            .wallet
            .cancel_purchase(now, PurchaseId::random(), effects, &ReturnTotals::default(), MAX)
            .unwrap();
        self.journal.push(event);
        self.check();
    }
    fn check(&self) {
        let journal_sum: Decimal = self
            .journal
            .iter()
            .flat_map(|e| &e.entries)
            .map(Entry::signed_amount)
            .sum();
        assert_eq!(self.wallet.balances().total, journal_sum);
        assert_eq!(self.wallet.recomputed_total(), journal_sum);
        let mut replayed = Wallet::open(self.wallet.header.clone());
        for event in &self.journal {
            replayed.replay(event).unwrap();
        }
        assert_eq!(replayed, self.wallet);
        assert_eq!(replayed.balances(), self.wallet.balances());
    }
}

#[test]
fn an_instant_discount_is_spent_on_its_own_purchase_and_a_cancel_undoes_both() {
    let mut ledger = Ledger::new();
    ledger.purchase(0, None, &[award("3.00", None)]).unwrap();
    let now = 1;
    let grants = [award("5.00", Some(100)), award("2.00", None)];
    let posting = Posting {
        purchase: PurchaseId::random(),
        spend: None,
        sale: SaleScope::UNKNOWN,
        awards: &grants,
        routes: &[AwardRoute::Instant, AwardRoute::Wallet],
    };
    let (event, effects) = ledger.wallet.post_purchase_with(now, posting, MAX).unwrap();
    ledger.journal.push(event);
    ledger.check();
    // The discount came and went on the purchase; only the plain award stays.
    assert_eq!(ledger.wallet.balances().total, d("5.00"));
    assert_eq!(effects.spent(), d("5.00"));
    assert_eq!(effects.spends[0].lot, effects.awards[0].lot);
    ledger.cancel(2, &effects);
    assert_eq!(ledger.wallet.balances().total, d("3.00"));
    assert_eq!(ledger.wallet.balances().shortfall, Decimal::ZERO);
}

#[test]
fn a_spend_takes_the_soonest_expiring_lot_first() {
    let mut ledger = Ledger::new();
    ledger
        .purchase(0, None, &[award("5", None), award("5", Some(100))])
        .unwrap();
    let effects = ledger.purchase(1, spend("3", false), &[]).unwrap();
    assert_eq!(effects.spends, vec![LotDebit { lot: 2, amount: d("3") }]);
}

#[test]
fn a_fully_covered_spend_is_rejected_without_changing_anything() {
    let mut ledger = Ledger::new();
    ledger.purchase(0, None, &[award("2", None)]).unwrap();
    let before = ledger.wallet.clone();
    assert_eq!(
        ledger.purchase(1, spend("5", true), &[award("1", None)]),
        Err(WalletRejection::InsufficientFunds)
    );
    assert_eq!(ledger.wallet, before);
    let partial = ledger.purchase(1, spend("5", false), &[]).unwrap();
    assert_eq!(partial.spent(), d("2"));
    assert_eq!(ledger.wallet.balances().total, Decimal::ZERO);
}

#[test]
fn expired_lots_are_debited_and_no_longer_spendable() {
    let mut ledger = Ledger::new();
    ledger.purchase(0, None, &[award("4", Some(10))]).unwrap();
    let effects = ledger.purchase(10, spend("1", false), &[]).unwrap();
    assert_eq!(effects.spent(), Decimal::ZERO);
    assert_eq!(ledger.journal[1].cause, Cause::Expiry);
    assert_eq!(ledger.wallet.balances().total, Decimal::ZERO);
}

#[test]
fn cancelling_a_partly_spent_award_records_the_spent_part_as_shortfall() {
    let mut ledger = Ledger::new();
    let first = ledger.purchase(0, None, &[award("10", None)]).unwrap();
    ledger.purchase(1, spend("4", false), &[]).unwrap();
    ledger.cancel(2, &first);
    let balances = ledger.wallet.balances();
    assert_eq!(balances.total, Decimal::ZERO);
    assert_eq!(balances.shortfall, d("4"));
    // The next award settles the shortfall first.
    ledger.purchase(3, None, &[award("6", None)]).unwrap();
    let balances = ledger.wallet.balances();
    assert_eq!((balances.total, balances.shortfall), (d("2"), Decimal::ZERO));
}

#[test]
fn cancelling_the_spend_of_a_revoked_award_clears_the_shortfall() {
    let mut ledger = Ledger::new();
    let award_purchase = ledger.purchase(0, None, &[award("10", None)]).unwrap();
    let spend_purchase = ledger.purchase(1, spend("4", false), &[]).unwrap();
    ledger.cancel(2, &award_purchase);
    ledger.cancel(3, &spend_purchase);
    let balances = ledger.wallet.balances();
    assert_eq!((balances.total, balances.shortfall), (Decimal::ZERO, Decimal::ZERO));
}

#[test]
fn a_restored_spend_settles_no_more_shortfall_than_it_gives_back() {
    let mut ledger = Ledger::new();
    ledger.purchase(0, None, &[award("3", Some(50))]).unwrap(); // lot 1
    let doomed = ledger.purchase(0, None, &[award("5", Some(40))]).unwrap(); // lot 2
    ledger.purchase(1, spend("5", false), &[]).unwrap(); // all of lot 2 (expires first)
    let small = ledger.purchase(1, spend("2", false), &[]).unwrap(); // lot 1 keeps 1
    ledger.cancel(2, &doomed); // lot 2 revoked: shortfall 5
    assert_eq!(ledger.wallet.balances().shortfall, d("5"));
    // The 2 given back to lot 1 settle 2 of the shortfall; the 1 lot 1 already held stays.
    ledger.cancel(3, &small);
    let balances = ledger.wallet.balances();
    assert_eq!((balances.total, balances.shortfall), (d("1"), d("3")));
}

#[test]
fn cancelling_a_spend_restores_exactly_the_lots_it_used() {
    let mut ledger = Ledger::new();
    ledger
        .purchase(0, None, &[award("3", Some(50)), award("3", Some(40))])
        .unwrap();
    let before: Vec<Lot> = [1, 2].iter().map(|id| *ledger.wallet.lot(*id).unwrap()).collect();
    let spent = ledger.purchase(1, spend("4", false), &[]).unwrap();
    assert_eq!(spent.spends.len(), 2);
    ledger.cancel(2, &spent);
    let after: Vec<Lot> = [1, 2].iter().map(|id| *ledger.wallet.lot(*id).unwrap()).collect();
    assert_eq!(before, after);
}

/// Commands over the whole allowed range (amounts from one cent to `amount_max`, many
/// of them at the bound, against the default `wallet_balance_max`): every command is
/// applied or refused whole, and the balance equals the sum of the journal, exactly,
/// after every step; replaying the journal gives the same wallet.
mod over_the_allowed_range {
    use super::*;
    use crate::domain::money::MoneyLimits;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Step {
        Purchase {
            spend: Option<(Decimal, bool)>,
            awards: Vec<(Decimal, Option<i64>)>,
        },
        Cancel(usize),
        Advance(i64),
    }

    fn amount() -> impl Strategy<Value = Decimal> {
        let max_cents = MoneyLimits::default().amount_max * Decimal::ONE_HUNDRED;
        let max_cents = i64::try_from(max_cents.mantissa()).unwrap();
        prop_oneof![
            (1i64..=max_cents).prop_map(|cents| Decimal::new(cents, 2)),
            (1i64..=10_000).prop_map(|cents| Decimal::new(cents, 2)),
            Just(MoneyLimits::default().amount_max),
        ]
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => (
                proptest::option::of((amount(), any::<bool>())),
                proptest::collection::vec((amount(), proptest::option::of(1i64..100)), 0..4),
            )
                .prop_map(|(spend, awards)| Step::Purchase { spend, awards }),
            1 => (0usize..64).prop_map(Step::Cancel),
            1 => (1i64..50).prop_map(Step::Advance),
        ]
    }

    fn journal_sum(journal: &[WalletEvent]) -> Decimal {
        journal
            .iter()
            .flat_map(|event| &event.entries)
            .fold(Decimal::ZERO, |sum, entry| {
                sum.checked_add(entry.signed_amount()).unwrap()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn balance_equals_journal_or_the_command_is_refused(
            steps in proptest::collection::vec(step(), 1..120),
            // The default bound, and bounds a few awards at amount_max reach.
            balance_max in prop_oneof![
                Just(MoneyLimits::default().wallet_balance_max),
                Just(Decimal::from(3_000_000_000_000u64)),
                Just(Decimal::from(10_000_000_000_000u64)),
            ],
        ) {
            let limits = MoneyLimits { wallet_balance_max: balance_max, ..MoneyLimits::default() };
            let mut wallet = wallet();
            let mut journal: Vec<WalletEvent> = Vec::new();
            let mut posted: Vec<PurchaseEffects> = Vec::new();
            let mut cancelled = std::collections::HashSet::new();
            let mut now = 0i64;
            for step in steps {
                if let Some(event) = wallet.sweep_expired(now).unwrap() {
                    journal.push(event);
                }
                let before = wallet.clone();
                match step {
                    Step::Purchase { spend, awards } => {
                        let spend = spend.map(|(amount, restrict_fully_covered)| SpendRequest { amount, restrict_fully_covered });
                        let grants: Vec<AwardGrant> = awards
                            .into_iter()
                            .map(|(amount, days)| AwardGrant { offer_id: OfferId::random(), amount, expires_at: days.map(|d| now + d) })
                            .collect();
                        match wallet.post_purchase(now, PurchaseId::random(), spend, &grants, limits.wallet_balance_max) {
                            Ok((event, effects)) => {
                                journal.push(event);
                                posted.push(effects);
                            }
                            Err(CommandError::Rejected(_)) => prop_assert_eq!(&wallet, &before, "a refused purchase changed the wallet"),
                            Err(CommandError::Fault(fault)) => prop_assert!(false, "fault: {}", fault),
                        }
                    }
                    Step::Cancel(index) => {
                        if posted.is_empty() || !cancelled.insert(index % posted.len()) {
                            continue;
                        }
                        let effects = posted[index % posted.len()].clone();
                        match wallet.cancel_purchase(now, PurchaseId::random(), &effects, &ReturnTotals::default(), limits.wallet_balance_max) {
                            Ok(event) => journal.push(event),
                            Err(CommandError::Rejected(_)) => {
                                prop_assert_eq!(&wallet, &before, "a refused cancel changed the wallet");
                                cancelled.remove(&(index % posted.len()));
                            }
                            Err(CommandError::Fault(fault)) => prop_assert!(false, "fault: {}", fault),
                        }
                    }
                    Step::Advance(seconds) => now += seconds,
                }
                let balances = wallet.balances();
                prop_assert_eq!(balances.total, journal_sum(&journal));
                prop_assert_eq!(balances.total, wallet.recomputed_total());
                prop_assert!(balances.total <= limits.wallet_balance_max);
                prop_assert!(balances.total >= Decimal::ZERO && balances.shortfall >= Decimal::ZERO);
            }
            let mut replayed = Wallet::open(wallet.header.clone());
            for event in &journal {
                replayed.replay(event).unwrap();
            }
            prop_assert_eq!(&replayed, &wallet);
        }
    }
}

#[test]
fn entries_that_would_overflow_are_refused_whole_not_panicked_on() {
    let mut wallet = wallet();
    let huge = Decimal::MAX - Decimal::ONE;
    let opened = Entry {
        kind: EntryKind::Award,
        lot: 1,
        amount: huge,
        new_lot: Some(NewLot {
            pocket: Pocket::Commerce,
            expires_at: None,
        }),
        shortfall_change: Decimal::ZERO,
    };
    wallet.apply_entry(&opened).unwrap();
    let before = wallet.clone();
    let more = Entry {
        lot: 2,
        amount: Decimal::TEN,
        ..opened.clone()
    };
    assert!(wallet.apply_entry(&more).is_err(), "the total would overflow");
    assert_eq!(wallet, before);
    assert_eq!(wallet.balances().total, huge);
    let overdraw = Entry {
        kind: EntryKind::Spend,
        lot: 1,
        amount: Decimal::MAX,
        new_lot: None,
        shortfall_change: Decimal::ZERO,
    };
    assert!(wallet.apply_entry(&overdraw).is_err());
    assert_eq!(wallet, before);
    let unknown = Entry { lot: 99, ..overdraw };
    assert!(wallet.apply_entry(&unknown).is_err());
    // A purchase past the bound is a rejection, not a fault.
    let mut small = Wallet::for_tests();
    let grant = AwardGrant {
        offer_id: OfferId::random(),
        amount: MAX,
        expires_at: None,
    };
    small
        .post_purchase(0, PurchaseId::random(), None, std::slice::from_ref(&grant), MAX)
        .unwrap();
    assert_eq!(
        small
            .post_purchase(0, PurchaseId::random(), None, &[grant], MAX)
            .unwrap_err(),
        CommandError::Rejected(WalletRejection::BalanceLimit)
    );
}

impl Ledger {
    fn send(&mut self, now: i64, amount: &str) -> Result<(), WalletRejection> {
        if let Some(event) = self.wallet.sweep_expired(now).unwrap() {
            self.journal.push(event);
        }
        let event = self
            .wallet
            .transfer_out(now, TransferId::random(), d(amount))
            .map_err(|error| match error {
                CommandError::Rejected(rejection) => rejection,
                CommandError::Fault(fault) => panic!("{fault}"),
            })?;
        self.journal.push(event);
        self.check();
        Ok(())
    }

    fn receive(&mut self, now: i64, amount: &str, balance_max: Decimal) -> Result<(), WalletRejection> {
        let event = self
            .wallet
            .transfer_in(
                now,
                Cause::TransferReceived(TransferId::random()),
                d(amount),
                balance_max,
            )
            .map_err(|error| match error {
                CommandError::Rejected(rejection) => rejection,
                CommandError::Fault(fault) => panic!("{fault}"),
            })?;
        self.journal.push(event);
        self.check();
        Ok(())
    }
}

#[test]
fn a_transfer_takes_lots_in_spend_order_and_never_more_than_the_balance() {
    let mut ledger = Ledger::new();
    ledger
        .purchase(0, None, &[award("5", None), award("4", Some(100))])
        .unwrap();
    let before = ledger.wallet.clone();
    assert_eq!(ledger.send(1, "9.01"), Err(WalletRejection::InsufficientFunds));
    assert_eq!(ledger.wallet, before, "a refused transfer changes nothing");
    ledger.send(1, "6").unwrap();
    let event = ledger.journal.last().unwrap();
    assert!(matches!(event.cause, Cause::TransferSent(_)));
    let taken: Vec<(LotId, Decimal)> = event.entries.iter().map(|entry| (entry.lot, entry.amount)).collect();
    assert_eq!(taken, vec![(2, d("4")), (1, d("2"))], "the expiring lot first");
    assert!(event.entries.iter().all(|entry| entry.kind == EntryKind::TransferOut));
    assert_eq!(ledger.wallet.balances().total, d("3"));
    // Expired value is not transferable.
    let mut expiring = Ledger::new();
    expiring.purchase(0, None, &[award("4", Some(10))]).unwrap();
    assert_eq!(expiring.send(10, "1"), Err(WalletRejection::InsufficientFunds));
}

#[test]
fn a_transfer_received_is_open_money_settles_a_shortfall_and_respects_the_bound() {
    let mut ledger = Ledger::new();
    // A shortfall: an award spent, then its purchase cancelled.
    let awarded = ledger.purchase(0, None, &[award("5", None)]).unwrap();
    ledger.purchase(1, spend("5", false), &[]).unwrap();
    ledger.cancel(2, &awarded);
    assert_eq!(ledger.wallet.balances().shortfall, d("5"));
    ledger.receive(3, "8", MAX).unwrap();
    let balances = ledger.wallet.balances();
    assert_eq!(
        (balances.total, balances.open, balances.shortfall),
        (d("3"), d("3"), Decimal::ZERO)
    );
    let before = ledger.wallet.clone();
    assert_eq!(ledger.receive(4, "7.01", d("10")), Err(WalletRejection::BalanceLimit));
    assert_eq!(ledger.wallet, before);
    ledger.receive(4, "7", d("10")).unwrap();
    assert_eq!(ledger.wallet.balances().total, d("10"));
}

impl Wallet {
    /// A new EUR wallet of a new live organisation.
    pub(crate) fn for_tests() -> Wallet {
        use crate::domain::ids::{Mode, OrganisationId};
        Wallet::open(WalletHeader {
            id: WalletId::random(),
            tenant: Tenant {
                organisation: OrganisationId::random(),
                mode: Mode::Live,
            },
            contact_id: ContactId::random(),
            code: WalletCode::parse("1234567890123456").unwrap(),
            currency: Currency::parse("EUR").unwrap(),
            created_on: 0,
        })
    }
}
