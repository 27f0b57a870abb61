//! The operator's commands on a stopped data dir, with no engine running: check every
//! invariant, back up, restore. The store's lock refuses them while a server holds it.

use super::settings::{DurabilityHook, JournalSettings, StorageSettings};
use super::EngineError;
use crate::storage::Store;
use std::path::Path;

pub use crate::storage::{BackupSummary, Finding, VerifyReport};

fn data_dir_error(storage: &StorageSettings, error: impl std::fmt::Display) -> EngineError {
    EngineError::Storage(format!("storage.data_dir {}: {error}", storage.data_dir.display()))
}

/// Opens the store in `storage.data_dir`, making the dir if it is missing.
pub(super) fn open_store(
    storage: &StorageSettings,
    journal: JournalSettings,
    hook: Option<DurabilityHook>,
) -> Result<Store, EngineError> {
    std::fs::create_dir_all(&storage.data_dir).map_err(|error| data_dir_error(storage, error))?;
    Store::open(&storage.data_dir, &storage.store(journal, hook)).map_err(|error| data_dir_error(storage, error))
}

/// Checks every invariant the engine relies on (wallet balance = journal = lots, no
/// negative lot, each purchase in its wallet's journal, every index pointing both ways).
pub fn verify(storage: &StorageSettings, journal: JournalSettings) -> Result<VerifyReport, EngineError> {
    let store = open_store(storage, journal, None)?;
    let report = store.verify();
    store.shutdown();
    report.map_err(|error| EngineError::Storage(error.to_string()))
}

/// Writes a consistent, versioned, checksummed copy of every record to `out`, a new file.
pub fn backup(storage: &StorageSettings, journal: JournalSettings, out: &Path) -> Result<BackupSummary, EngineError> {
    let store = open_store(storage, journal, None)?;
    let summary = store.backup(out);
    store.shutdown();
    summary.map_err(|error| EngineError::Storage(format!("{}: {error}", out.display())))
}

/// Makes a new data dir (absent or empty) from a backup; the file is checked whole first.
pub fn restore(
    from: &Path,
    data_dir: &Path,
    storage: &StorageSettings,
    journal: JournalSettings,
) -> Result<BackupSummary, EngineError> {
    Store::restore(from, data_dir, &storage.store(journal, None))
        .map_err(|error| EngineError::Storage(format!("{}: {error}", from.display())))
}
