//! Every metric name the engine records, in one place.

pub const JOURNAL_FLUSH_SECONDS: &str = "rewards_journal_flush_seconds";
pub const JOURNAL_BATCH_WRITES: &str = "rewards_journal_batch_writes";
pub const JOURNAL_WRITES_TOTAL: &str = "rewards_journal_writes_total";
pub const ACTORS_LIVE: &str = "rewards_actors_live";
pub const ACTOR_STARTS_TOTAL: &str = "rewards_actor_starts_total";
pub const ACTOR_STOPS_TOTAL: &str = "rewards_actor_stops_total";
pub const MAILBOX_FULL_TOTAL: &str = "rewards_mailbox_full_total";
pub const PURCHASES_TOTAL: &str = "rewards_purchases_total";
