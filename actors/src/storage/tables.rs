//! The derived records in fjall: one keyspace per record family (D9).
//!
//! Keys keep their prefix byte (`keys`), and the prefix byte picks the keyspace, so the
//! rest of the storage layer reads and scans by key alone. A round of deriving is one
//! atomic fjall batch across keyspaces, holding the derived LSN it reaches, persisted with
//! `PersistMode::SyncAll` before the writer may delete the log it came from.

use super::durability::{self, Action, Hook, Point};
use super::keys;
use super::overlay::Bytes;
use super::page;
use super::StoreError;
use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};
use std::path::Path;

/// Read straight from the `[storage]` settings (fjall's part).
#[derive(Debug, Clone, Copy)]
pub struct TableSettings {
    /// fjall's block cache, shared by every keyspace.
    pub cache_capacity_bytes: u64,
    /// A keyspace's memtable is sealed and flushed to a table past this size.
    pub memtable_bytes_max: u64,
    /// fjall's journals (not our commit log) are kept to at most this much; past it the
    /// oldest memtables are flushed.
    pub journal_bytes_max: u64,
    /// Level-0 tables that start a compaction into level 1.
    pub l0_tables_compaction: u8,
    /// Threads for fjall's flushes and compactions.
    pub worker_threads: usize,
}

impl TableSettings {
    /// Small sizes for tests: a few MiB of cache and memtable, one worker.
    pub fn small() -> TableSettings {
        TableSettings {
            cache_capacity_bytes: 8 << 20,
            memtable_bytes_max: 4 << 20,
            journal_bytes_max: 64 << 20,
            l0_tables_compaction: 4,
            worker_threads: 1,
        }
    }
}

/// The record families, each its own keyspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    WalletHistory,
    WalletSnapshots,
    Purchases,
    Contacts,
    Offers,
    Organisations,
    Access,
    Outbox,
    Meta,
    Transfers,
}

impl Family {
    pub const ALL: [Family; 10] = [
        Family::WalletHistory,
        Family::WalletSnapshots,
        Family::Purchases,
        Family::Contacts,
        Family::Offers,
        Family::Organisations,
        Family::Access,
        Family::Outbox,
        Family::Meta,
        Family::Transfers,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Family::WalletHistory => "wallet_history",
            Family::WalletSnapshots => "wallet_snapshots",
            Family::Purchases => "purchases",
            Family::Contacts => "contacts",
            Family::Offers => "offers",
            Family::Organisations => "organisations",
            Family::Access => "access",
            Family::Outbox => "outbox",
            Family::Meta => "meta",
            Family::Transfers => "transfers",
        }
    }

    /// The family of a key, by its prefix byte; `None` for a byte no record kind uses.
    pub fn of_prefix(prefix: u8) -> Option<Family> {
        use keys::*;
        Some(match prefix {
            WALLET_EVENT => Family::WalletHistory,
            WALLET_SNAPSHOT => Family::WalletSnapshots,
            // A wallet's reward history sits with the purchases: new wallets have none, and
            // this family's filters answer those misses without a block read.
            PURCHASE | IDEMPOTENCY | REWARD_HISTORY | LOT_EXPIRY | ESTIMATE | UNCLAIMED | SPEND_SETTINGS
            | WALLET_LIMITS | PAYMENT_METHODS | TOP_UP | PENDING_TOP_UP | PAYOUT | PENDING_PAYOUT | TOP_UP_SETTINGS
            | SCHEDULED_TOP_UP | INTENT | INTENT_SECRET | OPEN_INTENT | COMMUNITY_PURCHASE | ACCOUNT_JOURNAL
            | ACCOUNT_JOURNAL_ID | ORDER_ESTIMATE | ORDER | CONTACT_ORDER | SUBSCRIPTION | CONTACT_SUBSCRIPTION
            | BILL | DUE_SUBSCRIPTION | USAGE_RECORD => Family::Purchases,
            CONTACT
            | CONTACT_CODE
            | WALLET_CODE
            | CONTACT_IDENTITY
            | CONTACT_PREFERENCES
            | CONTACT_DETAILS
            | CONTACT_IDENTITIES
            | MEMBERSHIP
            | SCHEME_MEMBERSHIP
            | CONTACT_TOKEN
            | TOKEN_CODE
            | ACCOUNT
            | CONTACT_ACCOUNTS
            | SERVICE_REQUEST
            | CONTACT_SERVICE_REQUEST
            | RELATIONSHIP
            | COMMUNITY_MEMBER
            | RELATIONSHIP_OWNER
            | COMMUNITY_USAGE
            | COMMUNITY_TOKEN
            | CONTACT_ADDRESSES => Family::Contacts,
            OFFER | SCHEME | BUDGET | SIGN_UP_CODE | COMMERCE_POOL | PASS_PLAN | PASS | PASS_CODE | QUEUE
            | PAYMENT_INTEGRATIONS | PROMOTION_TERMS | PROMOTION_USES | PRODUCT | PRODUCT_SKU | PRODUCT_CLASS
            | PRODUCT_ALLOWANCES => Family::Offers,
            ORGANISATION | ORGANISATION_CHILD | API_KEY | API_KEY_ID | ORGANISATION_API_KEY | TAP
            | ORGANISATION_ADDRESS | FULFILMENT => Family::Organisations,
            USER | USER_EMAIL | SESSION | SUBJECT_SESSION | REFRESH_TOKEN | SIGNING_KEY | ONE_TIME_PASSWORD
            | LINK_TOKEN | SIGN_IN_LOCK => Family::Access,
            OUTBOX | ACTOR_OUTBOX => Family::Outbox,
            TRANSFER | INBOX => Family::Transfers,
            META | DERIVED_LSN => Family::Meta,
            _ => return None,
        })
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What a round wrote, for the overlay to forget.
pub(crate) struct Derived {
    /// Put keys with the LSN of the value written.
    pub puts: Vec<(Bytes, u64)>,
    /// Page keys with the highest `seq` the page now holds.
    pub pages: Vec<(Bytes, u64)>,
}

impl Derived {
    pub fn keys(&self) -> usize {
        self.puts.len() + self.pages.len()
    }
}

pub(crate) type KeyValue = (fjall::Slice, fjall::Slice);

pub(crate) struct Tables {
    db: Database,
    spaces: Vec<Keyspace>,
    hook: Option<Hook>,
}

fn unknown_prefix(key: &[u8]) -> StoreError {
    StoreError::UnknownKey(key.first().copied().unwrap_or(0))
}

impl Tables {
    /// Opens (or creates) the database in `dir`, waiting up to `lock_wait_ms` for another
    /// instance (one being dropped in this process, or a process exiting) to let go of it.
    pub fn open(
        dir: &Path,
        settings: &TableSettings,
        lock_wait_ms: u64,
        hook: Option<Hook>,
    ) -> Result<Tables, StoreError> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(lock_wait_ms);
        let db = loop {
            let opened = Database::builder(dir)
                .cache_size(settings.cache_capacity_bytes)
                .max_journaling_size(settings.journal_bytes_max.max(64 << 20))
                .worker_threads(settings.worker_threads.max(1))
                // Durability is the deriver's explicit persist at the end of each round.
                .manual_journal_persist(true)
                .open();
            match opened {
                Ok(db) => break db,
                Err(fjall::Error::Locked) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(error) => return Err(error.into()),
            }
        };
        let memtable = settings.memtable_bytes_max;
        let l0 = settings.l0_tables_compaction.max(2);
        let spaces = Family::ALL
            .iter()
            .map(|family| {
                db.keyspace(family.name(), || {
                    let options = KeyspaceCreateOptions::default()
                        .manual_journal_persist(true)
                        .max_memtable_size(memtable)
                        .compaction_strategy(std::sync::Arc::new(
                            fjall::compaction::Leveled::default().with_l0_threshold(l0),
                        ));
                    match family {
                        // Point reads of these mostly find their key (a wallet's snapshot and
                        // pages, a purchase by id): no filter on the last level.
                        Family::WalletHistory | Family::WalletSnapshots => options.expect_point_read_hits(true),
                        _ => options,
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Tables { db, spaces, hook })
    }

    fn space(&self, key: &[u8]) -> Result<&Keyspace, StoreError> {
        let family = key
            .first()
            .and_then(|prefix| Family::of_prefix(*prefix))
            .ok_or_else(|| unknown_prefix(key))?;
        Ok(&self.spaces[family.index()])
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<fjall::Slice>, StoreError> {
        Ok(self.space(key)?.get(key)?)
    }

    /// Every record whose key starts with `prefix`, in key order; `rev` for newest first.
    pub fn prefix(
        &self,
        prefix: &[u8],
        rev: bool,
    ) -> Result<Box<dyn Iterator<Item = Result<KeyValue, StoreError>> + '_>, StoreError> {
        let iter = self.space(prefix)?.prefix(prefix);
        let map = |guard: fjall::Guard| guard.into_inner().map_err(StoreError::from);
        Ok(if rev {
            Box::new(iter.rev().map(map))
        } else {
            Box::new(iter.map(map))
        })
    }

    /// Every record of a family, in key order (backup and verify).
    pub fn family(&self, family: Family) -> impl Iterator<Item = Result<KeyValue, StoreError>> + '_ {
        self.spaces[family.index()]
            .iter()
            .map(|guard| guard.into_inner().map_err(StoreError::from))
    }

    /// Writes records straight in, one batch, persisted (restore).
    pub fn put_all(&self, records: &[(Vec<u8>, Vec<u8>)]) -> Result<(), StoreError> {
        let mut batch = self.db.batch();
        for (key, value) in records {
            batch.insert(self.space(key)?, key.as_slice(), value.as_slice());
        }
        batch.commit()?;
        self.db.persist(PersistMode::SyncAll)?;
        Ok(())
    }

    /// True when no family holds a record.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        for space in &self.spaces {
            if !space.is_empty()? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The LSN the records derived so far reach (0 for none).
    pub fn derived_lsn(&self) -> Result<u64, StoreError> {
        match self.get(keys::derived_lsn())? {
            None => Ok(0),
            Some(bytes) => Ok(u64::from_be_bytes(bytes.as_ref().try_into().map_err(|_| {
                StoreError::Corrupt {
                    prefix: keys::DERIVED_LSN as char,
                    source: super::codec::CodecError::Empty,
                }
            })?)),
        }
    }

    /// Writes one round, and the LSN it reaches, as one atomic batch, then makes it durable
    /// with a real fsync of fjall's journal. Puts take their newest value (empty: a removal);
    /// a history page is read and extended with its new entries. Only after this returns
    /// `Ok` may log records up to `lsn` be deleted.
    pub fn write_round(
        &self,
        puts: Vec<(Bytes, (u64, Bytes))>,
        pages: Vec<(Bytes, Vec<u8>)>,
        lsn: u64,
    ) -> Result<Derived, StoreError> {
        let mut batch = self.db.batch();
        let mut derived = Derived {
            puts: Vec::with_capacity(puts.len()),
            pages: Vec::with_capacity(pages.len()),
        };
        for (key, (put_lsn, value)) in puts {
            let space = self.space(&key)?;
            if value.is_empty() {
                batch.remove(space, key.as_ref());
            } else {
                batch.insert(space, key.as_ref(), value.as_ref());
            }
            derived.puts.push((key, put_lsn));
        }
        let corrupt = |source| StoreError::Corrupt {
            prefix: keys::WALLET_EVENT as char,
            source,
        };
        for (key, added) in pages {
            let space = self.space(&key)?;
            // The deriver is the only writer, so the page read here is the page it wrote last.
            let base = space.get(key.as_ref())?;
            let (written, last) = page::extend(base.as_deref(), &added).map_err(corrupt)?;
            batch.insert(space, key.as_ref(), written);
            derived.pages.push((key, last.unwrap_or(0)));
        }
        let lsn_key = keys::derived_lsn();
        batch.insert(self.space(lsn_key)?, lsn_key, lsn.to_be_bytes());
        batch.commit()?;
        let action = durability::at(&self.hook, Point::RoundWritten { lsn });
        match action {
            Action::Fail(reason) => return Err(StoreError::Injected(reason)),
            Action::SkipSync => {}
            Action::Proceed => self.db.persist(PersistMode::SyncAll)?,
        }
        durability::at(&self.hook, Point::RoundPersisted { lsn });
        Ok(derived)
    }

    /// Bytes on disk, all keyspaces and journals.
    pub fn disk_bytes(&self) -> u64 {
        self.db.disk_space().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every prefix byte the key layout names has a family; an unknown byte has none.
    #[test]
    fn every_record_kind_has_a_family() {
        use keys::*;
        for prefix in [
            CONTACT,
            CONTACT_CODE,
            WALLET_CODE,
            WALLET_SNAPSHOT,
            REWARD_HISTORY,
            LOT_EXPIRY,
            SIGN_UP_CODE,
            ESTIMATE,
            UNCLAIMED,
            SPEND_SETTINGS,
            WALLET_LIMITS,
            PAYMENT_METHODS,
            TOP_UP,
            PENDING_TOP_UP,
            PAYOUT,
            PENDING_PAYOUT,
            TOP_UP_SETTINGS,
            SCHEDULED_TOP_UP,
            PAYMENT_INTEGRATIONS,
            INTENT,
            INTENT_SECRET,
            OPEN_INTENT,
            COMMUNITY_PURCHASE,
            PROMOTION_TERMS,
            PROMOTION_USES,
            PRODUCT,
            PRODUCT_SKU,
            PRODUCT_CLASS,
            ORGANISATION_ADDRESS,
            ORDER_ESTIMATE,
            ORDER,
            CONTACT_ORDER,
            FULFILMENT,
            SUBSCRIPTION,
            CONTACT_SUBSCRIPTION,
            BILL,
            DUE_SUBSCRIPTION,
            PRODUCT_ALLOWANCES,
            USAGE_RECORD,
            ACCOUNT,
            CONTACT_ACCOUNTS,
            ACCOUNT_JOURNAL,
            ACCOUNT_JOURNAL_ID,
            SERVICE_REQUEST,
            CONTACT_SERVICE_REQUEST,
            QUEUE,
            RELATIONSHIP,
            COMMUNITY_MEMBER,
            RELATIONSHIP_OWNER,
            COMMUNITY_USAGE,
            COMMUNITY_TOKEN,
            PASS_PLAN,
            PASS,
            PASS_CODE,
            COMMERCE_POOL,
            BUDGET,
            CONTACT_TOKEN,
            TOKEN_CODE,
            WALLET_EVENT,
            PURCHASE,
            OFFER,
            IDEMPOTENCY,
            ORGANISATION,
            ORGANISATION_CHILD,
            API_KEY,
            API_KEY_ID,
            ORGANISATION_API_KEY,
            CONTACT_IDENTITY,
            CONTACT_PREFERENCES,
            CONTACT_DETAILS,
            USER,
            USER_EMAIL,
            SESSION,
            REFRESH_TOKEN,
            SIGNING_KEY,
            CONTACT_IDENTITIES,
            ONE_TIME_PASSWORD,
            LINK_TOKEN,
            OUTBOX,
            ACTOR_OUTBOX,
            TRANSFER,
            INBOX,
            TAP,
            SUBJECT_SESSION,
            MEMBERSHIP,
            SCHEME,
            SCHEME_MEMBERSHIP,
            SIGN_IN_LOCK,
            META,
            DERIVED_LSN,
        ] {
            assert!(Family::of_prefix(prefix).is_some(), "{}", prefix as char);
        }
        assert_eq!(Family::of_prefix(0), None);
    }
}
