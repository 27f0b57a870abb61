//! `rewards admin backup` and `restore`: a consistent, versioned, checksummed copy of every
//! derived record.
//!
//! A backup is taken from a store opened by the admin command on a stopped server's data
//! dir: opening replayed the whole commit log into fjall, and the data dir's lock keeps
//! every other writer out, so reading fjall family by family sees one state. The derived
//! LSN is part of it, so a restored data dir's log continues after it.
//!
//! ```text
//! file    := magic "REWARDS-BACKUP" | version u8 (= 1) | record* | end
//! record  := key_len u32 LE | key | value_len u32 LE | value
//! end     := u32::MAX LE | count u64 LE | sha256 (of every byte before it)
//! ```
//!
//! A restore checks the whole file (magic, version, every length, the count and the
//! checksum) before it writes anything, then writes the records into a new data dir and
//! marks the dir as ours only once they are persisted.

use super::tables::{Family, Tables};
use super::{StoreError, StoreSettings};
use sha2::{Digest, Sha256};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

const MAGIC: &[u8] = b"REWARDS-BACKUP";
const VERSION: u8 = 1;
const END: u32 = u32::MAX;
/// Longest key or value a backup may hold (far above any record).
const FIELD_LEN_MAX: usize = 1 << 30;
/// Records written per batch when restoring.
const RESTORE_BATCH: usize = 16_384;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackupSummary {
    pub records: u64,
    pub bytes: u64,
    pub sha256: String,
    pub derived_lsn: u64,
}

/// Writes and hashes at once.
struct Hashing<W: Write> {
    out: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.out.write(buf)?;
        self.hasher.update(&buf[..written]);
        self.bytes += written as u64;
        Ok(written)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

fn bad(reason: impl Into<String>) -> StoreError {
    StoreError::DataDir(format!("backup file: {}", reason.into()))
}

impl super::Store {
    /// Writes every derived record to `path` (created new; an existing file is refused)
    /// and syncs it.
    pub fn backup(&self, path: &Path) -> Result<BackupSummary, StoreError> {
        if !self.inner.overlay.is_empty() {
            return Err(StoreError::DataDir(
                "records are still being derived; back up a stopped server's data dir".into(),
            ));
        }
        let file = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
        let mut out = Hashing {
            out: BufWriter::with_capacity(1 << 20, file),
            hasher: Sha256::new(),
            bytes: 0,
        };
        out.write_all(MAGIC)?;
        out.write_all(&[VERSION])?;
        let mut records = 0u64;
        for family in Family::ALL {
            for item in self.inner.tables.family(family) {
                let (key, value) = item?;
                out.write_all(&(key.len() as u32).to_le_bytes())?;
                out.write_all(&key)?;
                out.write_all(&(value.len() as u32).to_le_bytes())?;
                out.write_all(&value)?;
                records += 1;
            }
        }
        out.write_all(&END.to_le_bytes())?;
        out.write_all(&records.to_le_bytes())?;
        let digest = out.hasher.clone().finalize();
        let mut file = out.out.into_inner().map_err(|error| error.into_error())?;
        file.write_all(&digest)?;
        file.sync_all()?;
        if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            std::fs::File::open(parent)?.sync_all()?;
        }
        Ok(BackupSummary {
            records,
            bytes: out.bytes + digest.len() as u64,
            sha256: hex::encode(digest),
            derived_lsn: self.inner.tables.derived_lsn()?,
        })
    }

    /// Makes a new data dir at `data_dir` (absent or empty) from the backup at `from`.
    pub fn restore(from: &Path, data_dir: &Path, settings: &StoreSettings) -> Result<BackupSummary, StoreError> {
        if let super::DataDir::Ours = super::inspect_data_dir(data_dir)? {
            return Err(StoreError::DataDir(format!(
                "{}: restore needs an absent or empty data dir",
                data_dir.display()
            )));
        }
        // First pass: check everything, write nothing.
        let summary = read_backup(from, |_, _| Ok(()))?;
        std::fs::create_dir_all(data_dir)?;
        let tables = Tables::open(
            &super::records_dir(data_dir),
            &settings.tables,
            settings.lock_wait_ms,
            None,
        )?;
        let mut batch: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(RESTORE_BATCH);
        read_backup(from, |key, value| {
            batch.push((key, value));
            if batch.len() >= RESTORE_BATCH {
                tables.put_all(&std::mem::take(&mut batch))?;
            }
            Ok(())
        })?;
        tables.put_all(&batch)?;
        let derived_lsn = tables.derived_lsn()?;
        drop(tables);
        super::write_marker(data_dir)?;
        Ok(BackupSummary { derived_lsn, ..summary })
    }
}

/// Reads and checks a backup, handing each record to `visit`.
fn read_backup(
    path: &Path,
    mut visit: impl FnMut(Vec<u8>, Vec<u8>) -> Result<(), StoreError>,
) -> Result<BackupSummary, StoreError> {
    let file = std::fs::File::open(path)?;
    let length = file.metadata()?.len();
    let mut input = BufReader::with_capacity(1 << 20, file);
    let mut hasher = Sha256::new();
    let mut read = |buf: &mut [u8], hasher: &mut Sha256| -> Result<(), StoreError> {
        input.read_exact(buf).map_err(|error| match error.kind() {
            std::io::ErrorKind::UnexpectedEof => bad("it ends early (cut short?)"),
            _ => StoreError::Io(error),
        })?;
        hasher.update(&*buf);
        Ok(())
    };
    let mut magic = [0u8; MAGIC.len() + 1];
    read(&mut magic, &mut hasher)?;
    if &magic[..MAGIC.len()] != MAGIC {
        return Err(bad("not a rewards backup"));
    }
    if magic[MAGIC.len()] != VERSION {
        return Err(bad(format!(
            "version {} is not one this build reads",
            magic[MAGIC.len()]
        )));
    }
    let mut records = 0u64;
    let mut len = [0u8; 4];
    loop {
        read(&mut len, &mut hasher)?;
        let key_len = u32::from_le_bytes(len);
        if key_len == END {
            break;
        }
        let key_len = key_len as usize;
        if key_len == 0 || key_len > FIELD_LEN_MAX {
            return Err(bad(format!("record {records} has an impossible key length {key_len}")));
        }
        let mut key = vec![0u8; key_len];
        read(&mut key, &mut hasher)?;
        if Family::of_prefix(key[0]).is_none() {
            return Err(bad(format!("record {records} has a key of no record family")));
        }
        read(&mut len, &mut hasher)?;
        let value_len = u32::from_le_bytes(len) as usize;
        if value_len > FIELD_LEN_MAX {
            return Err(bad(format!(
                "record {records} has an impossible value length {value_len}"
            )));
        }
        let mut value = vec![0u8; value_len];
        read(&mut value, &mut hasher)?;
        visit(key, value)?;
        records += 1;
    }
    let mut count = [0u8; 8];
    read(&mut count, &mut hasher)?;
    if u64::from_le_bytes(count) != records {
        return Err(bad(format!(
            "it says {} records and holds {records}",
            u64::from_le_bytes(count)
        )));
    }
    let digest = hasher.finalize();
    let mut stored = [0u8; 32];
    input
        .read_exact(&mut stored)
        .map_err(|_| bad("its checksum is missing"))?;
    if stored[..] != digest[..] {
        return Err(bad("checksum mismatch: the file is damaged"));
    }
    let mut rest = [0u8; 1];
    if input.read(&mut rest)? != 0 {
        return Err(bad("bytes after the checksum"));
    }
    Ok(BackupSummary {
        records,
        bytes: length,
        sha256: hex::encode(digest),
        derived_lsn: 0,
    })
}
