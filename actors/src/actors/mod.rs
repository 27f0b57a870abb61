//! The actors: one per wallet and one per contact, started on demand by a [`Registry`],
//! stopped when idle.

pub mod claims;
pub mod contact;
pub mod registry;
pub mod wallet;

/// The message of a caught panic, for the log.
pub fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// Limits every actor kind shares (D11).
#[derive(Debug, Clone, Copy)]
pub struct ActorSettings {
    /// An actor with no message for this long, and nothing in flight, stops.
    pub idle_ms: u64,
    /// Messages an actor's mailbox holds; past that callers get "busy".
    pub mailbox_len_max: usize,
    /// A wallet writes a snapshot after at least this many events (or as many events as it
    /// has lots, whichever is more, so snapshots of big wallets stay amortised).
    pub snapshot_every_events: u64,
    /// The most a wallet may hold (`[money] wallet_balance_max`); credits past it are refused.
    pub wallet_balance_max: rust_decimal::Decimal,
}
