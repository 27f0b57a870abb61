//! History pages: a wallet's events stored [`keys::EVENTS_PER_PAGE`] to a key instead
//! of one key per event (D9's sparse derivation).
//!
//! An event is logged as an *append* of one entry to its page's key. Until the deriver has
//! written the page, the overlay holds the entries appended since (a *delta*, itself a
//! page); a read combines the page in fjall with the delta. The deriver writes each touched
//! page once per round, however many events it gained, so the hot wallet's history costs a
//! key per page rather than per event.
//!
//! ```text
//! page   := version u8 (= 1) | entry*
//! entry  := seq u64 BE | len u32 LE | event (codec record)
//! ```
//!
//! Entries are in `seq` order and an append of a `seq` the page already holds is dropped,
//! so replaying a log record whose pages were already written changes nothing.
//!
//! [`keys::EVENTS_PER_PAGE`]: super::keys::EVENTS_PER_PAGE

use super::codec::CodecError;

pub const PAGE_VERSION: u8 = 1;
const ENTRY_HEADER_LEN: usize = 8 + 4;

/// One entry's bytes, as logged by an append.
pub fn entry(seq: u64, event: &[u8]) -> Vec<u8> {
    entry_with(seq, |out| out.extend_from_slice(event))
}

/// One entry whose event `write_event` appends to the buffer (no copy of its own).
pub fn entry_with(seq: u64, write_event: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::with_capacity(ENTRY_HEADER_LEN + 128);
    push_entry_with(&mut out, seq, write_event);
    out
}

/// Appends one entry to `out` (a page or a run of entries).
pub fn push_entry(out: &mut Vec<u8>, seq: u64, event: &[u8]) {
    push_entry_with(out, seq, |out| out.extend_from_slice(event));
}

fn push_entry_with(out: &mut Vec<u8>, seq: u64, write_event: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&[0; 4]);
    write_event(out);
    let len = (out.len() - start - ENTRY_HEADER_LEN) as u32;
    out[start + 8..start + ENTRY_HEADER_LEN].copy_from_slice(&len.to_le_bytes());
}

/// The entries of a run of entry bytes (a page without its version byte), in order.
pub fn parse_entries(mut bytes: &[u8]) -> Result<Vec<(u64, &[u8])>, CodecError> {
    let mut entries = Vec::new();
    while !bytes.is_empty() {
        if bytes.len() < ENTRY_HEADER_LEN {
            return Err(CodecError::Page("entry header cut short"));
        }
        let seq = u64::from_be_bytes(bytes[..8].try_into().expect("8 bytes"));
        let len = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
        let event = bytes
            .get(ENTRY_HEADER_LEN..ENTRY_HEADER_LEN + len)
            .ok_or(CodecError::Page("entry cut short"))?;
        entries.push((seq, event));
        bytes = &bytes[ENTRY_HEADER_LEN + len..];
    }
    Ok(entries)
}

/// The entries of a page (with its version byte).
pub fn entries(page: &[u8]) -> Result<Vec<(u64, &[u8])>, CodecError> {
    match page.split_first() {
        None => Err(CodecError::Empty),
        Some((&PAGE_VERSION, rest)) => parse_entries(rest),
        Some((&other, _)) => Err(CodecError::UnknownVersion(other)),
    }
}

/// An empty page.
pub fn empty() -> Vec<u8> {
    vec![PAGE_VERSION]
}

/// `base` (a page, or none yet) with the entries in `added` (entry bytes) whose `seq` is
/// above its last one, and the page's last `seq` after that.
pub fn extend(base: Option<&[u8]>, added: &[u8]) -> Result<(Vec<u8>, Option<u64>), CodecError> {
    let (mut page, mut last) = match base {
        Some(base) => {
            let last = entries(base)?.last().map(|(seq, _)| *seq);
            (base.to_vec(), last)
        }
        None => (empty(), None),
    };
    page.reserve(added.len());
    for (seq, event) in parse_entries(added)? {
        if last.is_none_or(|last| seq > last) {
            push_entry(&mut page, seq, event);
            last = Some(seq);
        }
    }
    Ok((page, last))
}

/// The events of a page as read: the page in fjall (if any) and the overlay's delta (if
/// any), each entry once, in `seq` order.
pub fn combine<'a>(stored: Option<&'a [u8]>, delta: Option<&'a [u8]>) -> Result<Vec<(u64, &'a [u8])>, CodecError> {
    let mut combined = match stored {
        Some(stored) => entries(stored)?,
        None => Vec::new(),
    };
    if let Some(delta) = delta {
        let last = combined.last().map(|(seq, _)| *seq);
        combined.extend(
            entries(delta)?
                .into_iter()
                .filter(|(seq, _)| last.is_none_or(|last| *seq > last)),
        );
    }
    Ok(combined)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(entries: &[(u64, &[u8])]) -> Vec<u8> {
        entries.iter().flat_map(|(seq, event)| entry(*seq, event)).collect()
    }

    #[test]
    fn extend_keeps_order_and_drops_entries_already_held() {
        let (page, last) = extend(None, &run(&[(0, b"a"), (1, b"bb")])).unwrap();
        assert_eq!(last, Some(1));
        assert_eq!(entries(&page).unwrap(), vec![(0, &b"a"[..]), (1, &b"bb"[..])]);
        // A replay of entry 1 with entry 2: only 2 is new.
        let (page, last) = extend(Some(&page), &run(&[(1, b"bb"), (2, b"c")])).unwrap();
        assert_eq!(last, Some(2));
        assert_eq!(
            entries(&page).unwrap(),
            vec![(0, &b"a"[..]), (1, &b"bb"[..]), (2, &b"c"[..])]
        );
    }

    #[test]
    fn combine_reads_stored_then_newer_delta_entries_once() {
        let (stored, _) = extend(None, &run(&[(4, b"d"), (5, b"e")])).unwrap();
        // The delta still holds 5 (the deriver wrote the page, the reader took the delta
        // before it was trimmed) and 6.
        let (delta, _) = extend(None, &run(&[(5, b"e"), (6, b"f")])).unwrap();
        let seqs: Vec<u64> = combine(Some(&stored), Some(&delta))
            .unwrap()
            .into_iter()
            .map(|(seq, _)| seq)
            .collect();
        assert_eq!(seqs, vec![4, 5, 6]);
        assert_eq!(combine(None, Some(&delta)).unwrap().len(), 2);
        assert!(entries(&[9, 0]).is_err(), "unknown page version");
        assert!(parse_entries(&entry(1, b"xyz")[..13]).is_err(), "cut entry");
    }
}
