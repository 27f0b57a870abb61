//! `rewards admin verify`: every invariant the engine relies on, checked over a stopped
//! server's data dir, each breach named.
//!
//! - **Wallets.** Each wallet rebuilt from its whole journal (every event, from an empty
//!   wallet) equals the wallet as the engine loads it (its stored snapshot plus the events
//!   after it); its balance equals the sum of its journal and the sum of its lots; no lot
//!   is negative or holds more than it was given.
//! - **Purchases.** Each purchase's awards and spends are in its wallet's journal, in the
//!   same amounts, and a cancelled purchase's reversal is there too.
//! - **Transfers.** Each transfer's debit is in its origin's journal in its amount, and its
//!   credit in its destination's journal, or given back to its origin, or still waiting in
//!   the outbox between entities; no journal names a transfer that has no record.
//! - **Indexes.** Every index points at a record that exists and says the same (contact
//!   and wallet codes, sign-in identities, API keys by id and by organisation, the network,
//!   user emails, open sessions), and every contact, key and user is found through its
//!   indexes.

use super::codec::decode;
use super::keys;
use super::tables::Family;
use super::{Store, StoreError};
use crate::domain::access::{Session, User};
use crate::domain::contact::{Contact, ContactIdentity};
use crate::domain::ids::{ApiKeyId, ContactId, OrganisationId, PurchaseId, Tenant, TransferId, UserId};
use crate::domain::organisation::Organisation;
use crate::domain::purchase::PurchaseState;
use crate::domain::transfer::{ActorMessage, MessageBody};
use crate::domain::wallet::{Cause, EntryKind, Wallet};
use crate::storage::legacy::decode_purchase;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// One breach of an invariant.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// Which check found it (`wallet`, `purchase`, `index`).
    pub check: &'static str,
    /// The record it is about.
    pub record: String,
    pub detail: String,
}

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct VerifyReport {
    pub wallets: u64,
    pub wallet_events: u64,
    pub purchases: u64,
    pub transfers: u64,
    pub contacts: u64,
    pub index_entries: u64,
    pub findings: Vec<Finding>,
}

/// What a wallet's journal says about one purchase.
#[derive(Default)]
struct PurchaseLines {
    awarded: Decimal,
    spent: Decimal,
    cancelled: bool,
    /// Ad hoc returns: award value debited, and spend given back.
    return_debited: Decimal,
    given_back: Decimal,
}

/// What the journals say about one transfer.
#[derive(Default)]
struct TransferLines {
    sent: Decimal,
    received: Decimal,
    returned: Decimal,
}

type Journals = (
    HashMap<(Tenant, PurchaseId), PurchaseLines>,
    HashMap<(Tenant, TransferId), TransferLines>,
);

/// The key `prefix` + the tenant bytes of `tenant_key` (another tenant-owned key) + `rest`.
fn tenant_key(prefix: u8, tenant_key: &[u8], rest: &[u8]) -> Option<Vec<u8>> {
    let tenant = tenant_key.get(1..1 + Tenant::KEY_LEN)?;
    let mut key = vec![prefix];
    key.extend_from_slice(tenant);
    key.extend_from_slice(rest);
    Some(key)
}

fn uuid_at(key: &[u8], at: usize) -> Option<uuid::Uuid> {
    key.get(at..at + 16)
        .and_then(|bytes| uuid::Uuid::from_slice(bytes).ok())
}

impl Store {
    /// Checks every invariant (see the module doc). Call on a store nothing else writes.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        if !self.inner.overlay.is_empty() {
            return Err(StoreError::DataDir(
                "records are still being derived; verify a stopped server's data dir".into(),
            ));
        }
        let mut report = VerifyReport::default();
        let (journals, transfers) = self.verify_wallets(&mut report)?;
        self.verify_purchases(&journals, &mut report)?;
        self.verify_transfers(transfers, &mut report)?;
        self.verify_contacts(&mut report)?;
        self.verify_access_indexes(&mut report)?;
        Ok(report)
    }

    fn records(&self, family: Family, prefix: u8) -> impl Iterator<Item = Result<super::KeyValue, StoreError>> + '_ {
        self.inner.tables.family(family).filter(move |item| match item {
            Ok((key, _)) => key.first() == Some(&prefix),
            Err(_) => true,
        })
    }

    fn verify_wallets(&self, report: &mut VerifyReport) -> Result<Journals, StoreError> {
        let mut journals: HashMap<(Tenant, PurchaseId), PurchaseLines> = HashMap::new();
        let mut transfers: HashMap<(Tenant, TransferId), TransferLines> = HashMap::new();
        for item in self.records(Family::WalletSnapshots, keys::WALLET_SNAPSHOT) {
            let (_, value) = item?;
            report.wallets += 1;
            let snapshot: Wallet = match super::records::decode_wallet(&value) {
                Ok(wallet) => wallet,
                Err(error) => {
                    report.findings.push(Finding {
                        check: "wallet",
                        record: "a wallet snapshot".into(),
                        detail: format!("does not decode: {error}"),
                    });
                    continue;
                }
            };
            let (tenant, id) = (snapshot.header.tenant, snapshot.header.id);
            let record = format!("wallet {id}");
            let mut finding = |detail: String| {
                report.findings.push(Finding {
                    check: "wallet",
                    record: record.clone(),
                    detail,
                })
            };
            let events = self.all_wallet_events(&tenant, id)?;
            let mut rebuilt = Wallet::open(snapshot.header.clone());
            // Held per estimate: a captured hold is its purchase's spend.
            let mut held: HashMap<crate::domain::ids::EstimateId, Decimal> = HashMap::new();
            let mut journal_sum = Decimal::ZERO;
            let mut replay_failed = false;
            for event in &events {
                if let Err(fault) = rebuilt.replay(event) {
                    finding(format!("its journal does not replay at event {}: {fault}", event.seq));
                    replay_failed = true;
                    break;
                }
                for entry in &event.entries {
                    journal_sum = journal_sum.checked_add(entry.signed_amount()).unwrap_or(Decimal::MAX);
                    if let Some(purchase) = event.cause.purchase() {
                        let lines = journals.entry((tenant, purchase)).or_default();
                        match (&event.cause, entry.kind) {
                            (Cause::Purchase(_), EntryKind::Award) => lines.awarded += entry.amount,
                            (Cause::Purchase(_), EntryKind::Spend) => lines.spent += entry.amount,
                            (Cause::PurchaseReturned(_), EntryKind::AwardReturn) => {
                                lines.return_debited += entry.amount
                            }
                            (Cause::PurchaseReturned(_), EntryKind::SpendReversal) => lines.given_back += entry.amount,
                            _ => {}
                        }
                    }
                    if let Some(transfer) = event.cause.transfer() {
                        let lines = transfers.entry((tenant, transfer)).or_default();
                        match (&event.cause, entry.kind) {
                            (Cause::TransferSent(_), EntryKind::TransferOut) => lines.sent += entry.amount,
                            (Cause::TransferReceived(_), EntryKind::TransferIn) => lines.received += entry.amount,
                            (Cause::TransferReturned(_), EntryKind::TransferIn) => lines.returned += entry.amount,
                            _ => {}
                        }
                    }
                }
                if let Cause::PurchaseCancelled(purchase) = event.cause {
                    journals.entry((tenant, purchase)).or_default().cancelled = true;
                }
                match event.cause {
                    Cause::Hold { estimate, .. } => {
                        let sum = event.entries.iter().filter(|entry| entry.kind == EntryKind::Hold);
                        held.insert(estimate, sum.fold(Decimal::ZERO, |sum, entry| sum + entry.amount));
                    }
                    Cause::HoldCaptured { estimate, purchase } => {
                        let back = event
                            .entries
                            .iter()
                            .filter(|entry| entry.kind == EntryKind::HoldRelease);
                        let back = back.fold(Decimal::ZERO, |sum, entry| sum + entry.amount);
                        let spent = held.remove(&estimate).unwrap_or_default() - back;
                        journals.entry((tenant, purchase)).or_default().spent += spent;
                    }
                    _ => {}
                }
            }
            report.wallet_events += events.len() as u64;
            if replay_failed {
                continue;
            }
            match self.recover_wallet(&tenant, id) {
                Ok(Some((loaded, _))) => {
                    if loaded != rebuilt {
                        finding(format!(
                            "its stored snapshot (event {}, balance {}) disagrees with its journal ({} events, balance {})",
                            snapshot.next_seq(),
                            loaded.balances().total,
                            events.len(),
                            rebuilt.balances().total
                        ));
                    }
                }
                Ok(None) => finding("its snapshot vanished while verifying".into()),
                Err(error) => finding(format!("does not load: {error}")),
            }
            let balance = rebuilt.balances().total;
            if balance != journal_sum {
                finding(format!("balance {balance} is not the sum of its journal {journal_sum}"));
            }
            if balance != rebuilt.recomputed_total() {
                finding(format!(
                    "balance {balance} is not the sum of its lots {}",
                    rebuilt.recomputed_total()
                ));
            }
            for lot in rebuilt.lots() {
                if lot.remaining < Decimal::ZERO || lot.expired < Decimal::ZERO || lot.remaining > lot.amount {
                    finding(format!(
                        "lot {} holds {} of {} (expired {})",
                        lot.id, lot.remaining, lot.amount, lot.expired
                    ));
                }
            }
        }
        Ok((journals, transfers))
    }

    fn verify_transfers(
        &self,
        mut journals: HashMap<(Tenant, TransferId), TransferLines>,
        report: &mut VerifyReport,
    ) -> Result<(), StoreError> {
        // Transfers whose credit or return still waits in the outbox.
        let mut waiting = std::collections::HashSet::new();
        for item in self.records(Family::Outbox, keys::ACTOR_OUTBOX) {
            let (_, value) = item?;
            if let Ok(message) = decode::<ActorMessage>(&value) {
                match (message.body, message.to) {
                    (
                        MessageBody::TransferCredit { transfer, .. }
                        | MessageBody::PoolTransferCredit { transfer, .. }
                        | MessageBody::TransferReturn { transfer, .. },
                        crate::domain::transfer::Recipient::Wallet(tenant, _)
                        | crate::domain::transfer::Recipient::Budget(tenant, _),
                    ) => {
                        waiting.insert((tenant, transfer));
                    }
                    (
                        MessageBody::BudgetSettle { .. }
                        | MessageBody::BudgetRefund { .. }
                        | MessageBody::PassCredit { .. },
                        _,
                    ) => {}
                }
            }
        }
        for item in self.records(Family::Transfers, keys::TRANSFER) {
            let (_, value) = item?;
            report.transfers += 1;
            let transfer = match crate::storage::legacy::decode_transfer(&value) {
                Ok(transfer) => transfer,
                Err(error) => {
                    report.findings.push(Finding {
                        check: "transfer",
                        record: "a transfer".into(),
                        detail: format!("does not decode: {error}"),
                    });
                    continue;
                }
            };
            let key = (transfer.tenant, transfer.id);
            let lines = journals.remove(&key).unwrap_or_default();
            let mut finding = |detail: String| {
                report.findings.push(Finding {
                    check: "transfer",
                    record: format!("transfer {}", transfer.id),
                    detail,
                })
            };
            if lines.sent != transfer.amount {
                finding(format!(
                    "debited {} from wallet {} for an amount of {}",
                    lines.sent, transfer.origin, transfer.amount
                ));
            }
            let landed = lines.received + lines.returned;
            if landed != transfer.amount && !(landed.is_zero() && waiting.contains(&key)) {
                finding(format!(
                    "credited {} to wallet {} and returned {}, for an amount of {}, and nothing waits in the outbox",
                    lines.received, transfer.destination, lines.returned, transfer.amount
                ));
            }
        }
        for ((_, id), _) in journals {
            report.findings.push(Finding {
                check: "transfer",
                record: format!("transfer {id}"),
                detail: "named by a journal but has no record".into(),
            });
        }
        Ok(())
    }

    fn verify_purchases(
        &self,
        journals: &HashMap<(Tenant, PurchaseId), PurchaseLines>,
        report: &mut VerifyReport,
    ) -> Result<(), StoreError> {
        for item in self.records(Family::Purchases, keys::PURCHASE) {
            let (_, value) = item?;
            report.purchases += 1;
            let purchase = match decode_purchase(&value) {
                Ok(purchase) => purchase,
                Err(error) => {
                    report.findings.push(Finding {
                        check: "purchase",
                        record: "a purchase".into(),
                        detail: format!("does not decode: {error}"),
                    });
                    continue;
                }
            };
            let mut finding = |detail: String| {
                report.findings.push(Finding {
                    check: "purchase",
                    record: format!("purchase {}", purchase.id),
                    detail,
                })
            };
            let empty = PurchaseLines::default();
            let lines = journals.get(&(purchase.tenant, purchase.id)).unwrap_or(&empty);
            let (awarded, spent) = (purchase.effects.awarded(), purchase.effects.spent());
            if lines.awarded != awarded {
                finding(format!(
                    "awarded {awarded}, but wallet {}'s journal holds {} for it",
                    purchase.request.wallet_id, lines.awarded
                ));
            }
            if lines.spent != spent {
                finding(format!(
                    "spent {spent}, but wallet {}'s journal holds {} for it",
                    purchase.request.wallet_id, lines.spent
                ));
            }
            let (debited, given_back) = purchase
                .returns
                .iter()
                .fold((Decimal::ZERO, Decimal::ZERO), |sums, done| {
                    let debited = done
                        .effects
                        .awards
                        .iter()
                        .fold(Decimal::ZERO, |sum, award| sum + award.debited);
                    (sums.0 + debited, sums.1 + done.given_back())
                });
            if (lines.return_debited, lines.given_back) != (debited, given_back) {
                finding(format!(
                    "its returns debited {debited} and gave back {given_back}, but wallet {}'s journal holds {} and {} for them",
                    purchase.request.wallet_id, lines.return_debited, lines.given_back
                ));
            }
            let reversed = awarded > Decimal::ZERO || spent > Decimal::ZERO;
            if purchase.state == PurchaseState::Cancelled && reversed && !lines.cancelled {
                finding("is cancelled, but its wallet's journal holds no reversal".into());
            }
            if purchase.state == PurchaseState::Posted && lines.cancelled {
                finding("is posted, but its wallet's journal reverses it".into());
            }
        }
        Ok(())
    }

    fn verify_contacts(&self, report: &mut VerifyReport) -> Result<(), StoreError> {
        let index = |report: &mut VerifyReport, record: String, detail: String| {
            report.findings.push(Finding {
                check: "index",
                record,
                detail,
            })
        };
        for item in self.records(Family::Contacts, keys::CONTACT) {
            let (key, value) = item?;
            report.contacts += 1;
            let Ok(contact) = decode::<Contact>(&value) else {
                index(report, "a contact".into(), "does not decode".into());
                continue;
            };
            let record = format!("contact {}", contact.id);
            if let Some(code) = &contact.code {
                let found: Option<ContactId> = self.get(&keys::contact_code(&contact.tenant, code))?;
                if found != Some(contact.id) {
                    index(
                        report,
                        record.clone(),
                        format!("its code {} finds {found:?}", code.as_str()),
                    );
                }
            }
            let found: Option<ContactId> = self.get(&keys::wallet_code(&contact.tenant, &contact.wallet_code))?;
            if found != Some(contact.id) {
                index(report, record, format!("its wallet code finds {found:?}"));
            }
            debug_assert_eq!(key.as_ref(), keys::contact(&contact.tenant, contact.id).as_slice());
        }
        // Indexes to contacts: codes, wallet codes and sign-in identities.
        for (prefix, name) in [
            (keys::CONTACT_CODE, "contact code"),
            (keys::WALLET_CODE, "wallet code"),
            (keys::CONTACT_IDENTITY, "sign-in identity"),
        ] {
            for item in self.records(Family::Contacts, prefix) {
                let (key, value) = item?;
                report.index_entries += 1;
                let target = if prefix == keys::CONTACT_IDENTITY {
                    decode::<ContactIdentity>(&value).map(|identity| identity.contact)
                } else {
                    decode::<ContactId>(&value)
                };
                let rest = key.get(1 + Tenant::KEY_LEN..).unwrap_or_default();
                let record = format!("{name} {}", String::from_utf8_lossy(rest));
                let Ok(target) = target else {
                    index(report, record, "does not decode".into());
                    continue;
                };
                let contact: Option<Contact> = match tenant_key(keys::CONTACT, &key, target.as_bytes()) {
                    Some(contact_key) => self.get(&contact_key)?,
                    None => None,
                };
                let agrees = match (&contact, prefix) {
                    (None, _) => false,
                    (Some(contact), keys::CONTACT_CODE) => {
                        contact.code.as_ref().map(|code| code.as_str().as_bytes()) == Some(rest)
                    }
                    (Some(contact), keys::WALLET_CODE) => contact.wallet_code.as_bytes() == rest,
                    (Some(_), _) => true,
                };
                if !agrees {
                    index(
                        report,
                        record,
                        match contact {
                            None => format!("points at contact {target}, which does not exist"),
                            Some(_) => format!("points at contact {target}, whose record says otherwise"),
                        },
                    );
                }
            }
        }
        Ok(())
    }

    fn verify_access_indexes(&self, report: &mut VerifyReport) -> Result<(), StoreError> {
        let mut index = |record: String, detail: String| {
            report.findings.push(Finding {
                check: "index",
                record,
                detail,
            })
        };
        let mut entries = 0u64;
        // API keys: the record, its id index and its organisation index agree.
        for item in self.records(Family::Organisations, keys::API_KEY) {
            let (key, _) = item?;
            entries += 1;
            let Ok(hash) = <[u8; 32]>::try_from(&key[1..]) else {
                index("an API key".into(), "has a malformed key".into());
                continue;
            };
            let Some(record) = self.api_key(&hash)? else { continue };
            let by_id: Option<[u8; 32]> = self.get(&keys::api_key_id(record.id))?;
            if by_id != Some(hash) {
                index(format!("API key {}", record.id), "is not found by its id".into());
            }
            let by_organisation: Option<[u8; 32]> =
                self.get(&keys::organisation_api_key(record.organisation, record.id))?;
            if by_organisation != Some(hash) {
                index(
                    format!("API key {}", record.id),
                    "is not listed under its organisation".into(),
                );
            }
        }
        for item in self.records(Family::Organisations, keys::API_KEY_ID) {
            let (key, value) = item?;
            entries += 1;
            let id = uuid_at(&key, 1).map(ApiKeyId);
            let record = match decode::<[u8; 32]>(&value) {
                Ok(hash) => self.api_key(&hash)?,
                Err(_) => None,
            };
            if record.as_ref().map(|record| record.id) != id || id.is_none() {
                index(format!("API key id {id:?}"), "points at no key with that id".into());
            }
        }
        for item in self.records(Family::Organisations, keys::ORGANISATION_API_KEY) {
            let (key, value) = item?;
            entries += 1;
            let organisation = uuid_at(&key, 1).map(OrganisationId);
            let record = match decode::<[u8; 32]>(&value) {
                Ok(hash) => self.api_key(&hash)?,
                Err(_) => None,
            };
            if record.map(|record| record.organisation) != organisation {
                index(
                    format!("API key of organisation {organisation:?}"),
                    "points at no key of that organisation".into(),
                );
            }
        }
        // The network: each child entry names an organisation whose parent it is under.
        for item in self.records(Family::Organisations, keys::ORGANISATION_CHILD) {
            let (key, _) = item?;
            entries += 1;
            let (parent, child) = (uuid_at(&key, 1), uuid_at(&key, 17));
            let organisation: Option<Organisation> = match child {
                Some(child) => self.organisation(OrganisationId(child))?,
                None => None,
            };
            if organisation.and_then(|organisation| organisation.parent).map(|id| id.0) != parent {
                index(
                    format!("network entry {parent:?} → {child:?}"),
                    "points at no organisation under that parent".into(),
                );
            }
        }
        // Users and their email index, both ways.
        for item in self.records(Family::Access, keys::USER) {
            let (_, value) = item?;
            entries += 1;
            let Ok(user) = decode::<User>(&value) else {
                index("a user".into(), "does not decode".into());
                continue;
            };
            let found: Option<UserId> = self.get(&keys::user_email(&user.email))?;
            if found != Some(user.id) {
                index(format!("user {}", user.id), format!("its email finds {found:?}"));
            }
        }
        for item in self.records(Family::Access, keys::USER_EMAIL) {
            let (key, value) = item?;
            entries += 1;
            let email = String::from_utf8_lossy(&key[1..]).into_owned();
            let user: Option<User> = match decode::<UserId>(&value) {
                Ok(id) => self.user(id)?,
                Err(_) => None,
            };
            if user.map(|user| keys::user_email(&user.email)) != Some(key.to_vec()) {
                index(
                    format!("user email {email}"),
                    "points at no user with that email".into(),
                );
            }
        }
        // Open sessions: each entry names a session that exists.
        for item in self.records(Family::Access, keys::SUBJECT_SESSION) {
            let (_, value) = item?;
            entries += 1;
            let session: Option<Session> = match decode::<uuid::Uuid>(&value) {
                Ok(id) => self.session(id)?,
                Err(_) => None,
            };
            if session.is_none() {
                index("an open-session entry".into(), "points at no session".into());
            }
        }
        report.index_entries += entries;
        Ok(())
    }
}
