//! Reading a wallet back: its latest snapshot plus the events after it (recovery), and its
//! history pages merged from the overlay and fjall (journals).

use crate::domain::wallet::{
    SpendSettings, WalletBeforeHolds, WalletBeforeLimits, WalletBeforePoolIds, WalletBeforePools,
    WalletEventBeforePoolIds, WalletEventBeforePools, WalletLimits,
};
use crate::storage::*;

/// A wallet snapshot in any layout it was written in (each older one a prefix of the next).
pub(crate) fn decode_wallet(bytes: &[u8]) -> Result<Wallet, CodecError> {
    decode::<Wallet>(bytes)
        .or_else(|_| decode::<WalletBeforeLimits>(bytes).map(Wallet::from))
        .or_else(|_| decode::<WalletBeforePoolIds>(bytes).map(Wallet::from))
        .or_else(|_| decode::<WalletBeforePools>(bytes).map(Wallet::from))
        .or_else(|_| decode::<WalletBeforeHolds>(bytes).map(Wallet::from))
}

/// A wallet event in any layout it was written in.
pub(crate) fn decode_wallet_event(bytes: &[u8]) -> Result<WalletEvent, CodecError> {
    decode::<WalletEvent>(bytes)
        .or_else(|_| decode::<WalletEventBeforePoolIds>(bytes).map(WalletEvent::from))
        .or_else(|_| decode::<WalletEventBeforePools>(bytes).map(WalletEvent::from))
}

/// An entry of the expiry index: `wallet` holds (or held) a lot expiring at `expires_at`.
/// The key says the same (`keys::lot_expiry`); the value repeats it so a scan decodes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotExpiry {
    pub expires_at: i64,
    pub tenant: Tenant,
    pub wallet: WalletId,
}

impl Store {
    /// A wallet as of its last durable event: latest snapshot plus the events after it.
    pub fn load_wallet(&self, tenant: &Tenant, id: WalletId) -> Result<Option<Wallet>, StoreError> {
        Ok(self.recover_wallet(tenant, id)?.map(|(wallet, _)| wallet))
    }

    /// As `load_wallet`, also saying how many events were replayed after the snapshot, so
    /// the actor knows when the next snapshot is due.
    pub fn recover_wallet(&self, tenant: &Tenant, id: WalletId) -> Result<Option<(Wallet, u64)>, StoreError> {
        let snapshot = self.get_decoded(&keys::wallet_snapshot(tenant, id), decode_wallet)?;
        let Some(mut wallet) = snapshot else {
            return Ok(None);
        };
        let snapshot_seq = wallet.next_seq();
        wallet.restore_indexes()?;
        // Events after the snapshot are `snapshot_seq, snapshot_seq + 1, …` with no gaps, so
        // they start on the snapshot's page and a page that is not full is the last one:
        // point reads, page by page, instead of a range scan (an actor's start is on the
        // path of the purchase that wakes it).
        let mut page_start = snapshot_seq;
        loop {
            let key = keys::wallet_page(tenant, id, page_start);
            // The overlay is read before fjall, so an event the deriver moves in between is
            // seen in one or both (the page merge keeps one), never in neither.
            let logged = self.inner.overlay.get(&key);
            let stored = self.inner.tables.get(&key)?;
            if logged.is_none() && stored.is_none() {
                break;
            }
            for (seq, bytes) in (MergedItem { stored, logged }).page_entries()? {
                if seq >= wallet.next_seq() {
                    let event = decode_wallet_event(bytes).map_err(corrupt(keys::WALLET_EVENT))?;
                    wallet.replay(&event)?;
                }
            }
            let next_page = (page_start / keys::EVENTS_PER_PAGE + 1) * keys::EVENTS_PER_PAGE;
            if wallet.next_seq() < next_page {
                break;
            }
            page_start = next_page;
        }
        let replayed = wallet.next_seq() - snapshot_seq;
        Ok(Some((wallet, replayed)))
    }

    /// Visits a wallet's events in one scan, newest first when `descending`, until `visit`
    /// returns `false`.
    pub fn visit_wallet_events(
        &self,
        tenant: &Tenant,
        id: WalletId,
        descending: bool,
        mut visit: impl FnMut(WalletEvent) -> bool,
    ) -> Result<(), StoreError> {
        let prefix = keys::wallet_pages(tenant, id);
        let logged = self.inner.overlay.prefix(&prefix);
        let scan = self.inner.tables.prefix(&prefix, descending)?;
        for item in merged(scan, logged, descending) {
            let item = item?;
            let mut entries = item.page_entries()?;
            if descending {
                entries.reverse();
            }
            for (_, bytes) in entries {
                if !visit(decode_wallet_event(bytes).map_err(corrupt(keys::WALLET_EVENT))?) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Every event of a wallet, oldest first (tests and checks).
    pub fn all_wallet_events(&self, tenant: &Tenant, id: WalletId) -> Result<Vec<WalletEvent>, StoreError> {
        let mut events = Vec::new();
        self.visit_wallet_events(tenant, id, false, |event| {
            events.push(event);
            true
        })?;
        Ok(events)
    }

    /// Up to `limit` entries of the expiry index due at `now` (expiry at or before it),
    /// soonest first: the wallets the scheduled sweep has to touch.
    pub fn lot_expiries_due(&self, now: i64, limit: usize) -> Result<Vec<LotExpiry>, StoreError> {
        let due: Vec<LotExpiry> = self.scan(&keys::lot_expiries(), limit)?;
        Ok(due.into_iter().take_while(|entry| entry.expires_at <= now).collect())
    }

    /// Visits every wallet as of its last durable event (a one-time rebuild at start).
    pub fn visit_wallets(&self, mut visit: impl FnMut(Wallet)) -> Result<(), StoreError> {
        let prefix = [keys::WALLET_SNAPSHOT];
        let logged = self.inner.overlay.prefix(&prefix);
        for item in merged(self.inner.tables.prefix(&prefix, false)?, logged, false) {
            let snapshot = decode_wallet(item?.newest()).map_err(corrupt(keys::WALLET_SNAPSHOT))?;
            let (tenant, id) = (snapshot.header.tenant, snapshot.header.id);
            if let Some(wallet) = self.load_wallet(&tenant, id)? {
                visit(wallet);
            }
        }
        Ok(())
    }

    /// How the wallet may be spent from (none kept: the defaults).
    pub fn spend_settings(&self, tenant: &Tenant, wallet: WalletId) -> Result<SpendSettings, StoreError> {
        Ok(self.get(&keys::spend_settings(tenant, wallet))?.unwrap_or_default())
    }

    /// The contact's limit rules on the wallet (none kept: no limits).
    pub fn wallet_limits(&self, tenant: &Tenant, wallet: WalletId) -> Result<WalletLimits, StoreError> {
        Ok(self.get(&keys::wallet_limits(tenant, wallet))?.unwrap_or_default())
    }

    /// What the wallet earned per offer, as last committed; `None` for a wallet whose
    /// purchases were all posted before this was kept.
    pub fn reward_history(&self, tenant: &Tenant, id: WalletId) -> Result<Option<RewardHistory>, StoreError> {
        self.get(&keys::reward_history(tenant, id))
    }
}

impl WriteSet {
    pub fn reward_history(&mut self, tenant: &Tenant, wallet: WalletId, history: &RewardHistory) {
        self.put(keys::reward_history(tenant, wallet), encode(history));
    }

    pub fn wallet_limits(&mut self, tenant: &Tenant, wallet: WalletId, limits: &WalletLimits) {
        self.put(keys::wallet_limits(tenant, wallet), encode(limits));
    }

    pub fn spend_settings(&mut self, tenant: &Tenant, wallet: WalletId, settings: &SpendSettings) {
        self.put(keys::spend_settings(tenant, wallet), encode(settings));
    }

    /// The wallet holds a lot expiring at `expires_at` (one entry however many lots share it).
    pub fn lot_expiry(&mut self, entry: &LotExpiry) {
        self.put(
            keys::lot_expiry(entry.expires_at, &entry.tenant, entry.wallet),
            encode(entry),
        );
    }

    /// The sweep touched the wallet at or after `entry.expires_at`: nothing is due there.
    pub fn remove_lot_expiry(&mut self, entry: &LotExpiry) {
        self.remove(keys::lot_expiry(entry.expires_at, &entry.tenant, entry.wallet));
    }

    pub fn wallet_snapshot(&mut self, wallet: &Wallet) {
        let header = &wallet.header;
        self.put(keys::wallet_snapshot(&header.tenant, header.id), encode(wallet));
    }

    /// An event joins its history page (`page`) rather than taking a key of its own.
    pub fn wallet_event(&mut self, tenant: &Tenant, wallet: WalletId, event: &WalletEvent) {
        self.writes.push((
            Op::Append,
            keys::wallet_page(tenant, wallet, event.seq),
            page::entry_with(event.seq, |out| codec::encode_into(event, out)),
        ));
    }
}
