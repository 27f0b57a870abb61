//! Every metric name the engine records, in one place, with the text `/metrics` shows for
//! each (`describe`). The server's own (HTTP requests, message deliveries) are in its
//! `metrics` module.
//!
//! Amounts are counted in the currency's minor units (cents), as integers: metrics never
//! turn money into floats.

pub const JOURNAL_FLUSH_SECONDS: &str = "rewards_journal_flush_seconds";
pub const JOURNAL_BATCH_WRITES: &str = "rewards_journal_batch_writes";
pub const JOURNAL_WRITES_TOTAL: &str = "rewards_journal_writes_total";
pub const DERIVED_WRITES_TOTAL: &str = "rewards_derived_writes_total";
pub const DERIVE_LAG_BYTES: &str = "rewards_derive_lag_bytes";
pub const RECOVERY_SECONDS: &str = "rewards_recovery_seconds";
pub const RECOVERED_RECORDS: &str = "rewards_recovered_log_records";
pub const WALLET_EVENTS_REPLAYED_TOTAL: &str = "rewards_wallet_events_replayed_total";
pub const ACTORS_LIVE: &str = "rewards_actors_live";
pub const ACTOR_STARTS_TOTAL: &str = "rewards_actor_starts_total";
pub const ACTOR_STOPS_TOTAL: &str = "rewards_actor_stops_total";
pub const MAILBOX_FULL_TOTAL: &str = "rewards_mailbox_full_total";
pub const ACTOR_EVICTIONS_TOTAL: &str = "rewards_actor_evictions_total";
pub const PURCHASES_TOTAL: &str = "rewards_purchases_total";
pub const BILLS_TOTAL: &str = "rewards_bills_total";
pub const AWARDS_TOTAL: &str = "rewards_awards_total";
pub const SPENDS_TOTAL: &str = "rewards_spends_total";
pub const AWARDED_MINOR_UNITS_TOTAL: &str = "rewards_awarded_minor_units_total";
pub const SPENT_MINOR_UNITS_TOTAL: &str = "rewards_spent_minor_units_total";
pub const RATE_LIMITED_TOTAL: &str = "rewards_rate_limited_total";
pub const MESSAGES_TOTAL: &str = "rewards_messages_total";
pub const CONTACTS_UNREGISTERED_TOTAL: &str = "rewards_contacts_unregistered_total";
pub const SIGN_IN_LOCKOUTS_TOTAL: &str = "rewards_sign_in_lockouts_total";
pub const ACTOR_FAULTS_TOTAL: &str = "rewards_actor_faults_total";
pub const TRANSFERS_TOTAL: &str = "rewards_transfers_total";
pub const TOP_UPS_TOTAL: &str = "rewards_top_ups_total";
pub const PAYOUTS_TOTAL: &str = "rewards_payouts_total";
pub const ACTOR_MESSAGES_PENDING: &str = "rewards_actor_messages_pending";
pub const ACTOR_MESSAGE_AGE_SECONDS: &str = "rewards_actor_message_age_seconds";
pub const ACTOR_MESSAGES_TOTAL: &str = "rewards_actor_messages_total";
pub const EXPIRY_SWEEP_WALLETS_TOTAL: &str = "rewards_expiry_sweep_wallets_total";

/// Names ending in `_seconds` are latency histograms; these are histograms too.
pub const HISTOGRAMS_NOT_IN_SECONDS: &[&str] = &[JOURNAL_BATCH_WRITES];

/// Registers every metric's description with the installed recorder.
pub fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_histogram!(
        JOURNAL_FLUSH_SECONDS,
        Unit::Seconds,
        "Time to append one group commit to the commit log and fdatasync it"
    );
    describe_histogram!(JOURNAL_BATCH_WRITES, Unit::Count, "Records written per group commit");
    describe_counter!(
        JOURNAL_WRITES_TOTAL,
        Unit::Count,
        "Records written by the journal writer"
    );
    describe_counter!(
        DERIVED_WRITES_TOTAL,
        Unit::Count,
        "Records derived from the commit log into fjall"
    );
    describe_gauge!(
        DERIVE_LAG_BYTES,
        Unit::Bytes,
        "Commit-log bytes not yet derived into fjall and persisted (what a crash would replay)"
    );
    describe_gauge!(
        RECOVERY_SECONDS,
        Unit::Seconds,
        "Time the last start spent replaying the commit log into fjall"
    );
    describe_gauge!(
        RECOVERED_RECORDS,
        Unit::Count,
        "Commit-log records the last start replayed"
    );
    describe_counter!(
        WALLET_EVENTS_REPLAYED_TOTAL,
        Unit::Count,
        "Wallet events replayed on top of a snapshot as wallet actors started"
    );
    describe_gauge!(ACTORS_LIVE, "Actors running, by kind");
    describe_counter!(ACTOR_STARTS_TOTAL, "Actors started (recovered), by kind");
    describe_counter!(ACTOR_STOPS_TOTAL, "Actors stopped, by kind");
    describe_counter!(
        ACTOR_EVICTIONS_TOTAL,
        "Idle actors retired early because live actors passed [actors] live_max, by kind"
    );
    describe_counter!(
        MAILBOX_FULL_TOTAL,
        "Messages refused because an actor's mailbox was full, by kind"
    );
    describe_counter!(
        PURCHASES_TOTAL,
        "Purchases by outcome: posted, replayed, conflict, rejected"
    );
    describe_counter!(
        BILLS_TOTAL,
        "Subscription bills settled by the billing run or an action, by outcome: paid, refused"
    );
    describe_counter!(AWARDS_TOTAL, "Award lots credited by purchases");
    describe_counter!(SPENDS_TOTAL, "Purchases that spent from a wallet");
    describe_counter!(AWARDED_MINOR_UNITS_TOTAL, "Amount awarded, in minor units, by currency");
    describe_counter!(SPENT_MINOR_UNITS_TOTAL, "Amount spent, in minor units, by currency");
    describe_counter!(RATE_LIMITED_TOTAL, "Requests refused with 429 by a rate limit, by what");
    describe_counter!(
        MESSAGES_TOTAL,
        "Outbox messages finished, by channel and outcome (delivered, failed)"
    );
    describe_counter!(
        CONTACTS_UNREGISTERED_TOTAL,
        "Contacts that unregistered from their business"
    );
    describe_counter!(
        ACTOR_FAULTS_TOTAL,
        "Commands an actor could not apply (a panic or a broken invariant), by kind; the actor reloads its durable state"
    );
    describe_counter!(
        PAYOUTS_TOTAL,
        "Payouts settled, by outcome: paid, given_back (the gateway failed)"
    );
    describe_counter!(
        TOP_UPS_TOTAL,
        "Top-ups by outcome: begun (recorded before the gateway is asked), credited, failed"
    );
    describe_counter!(
        TRANSFERS_TOTAL,
        "Transfers by outcome: sent, refused (at the origin), credited, returned (by the destination)"
    );
    describe_gauge!(
        ACTOR_MESSAGES_PENDING,
        Unit::Count,
        "Messages between entities (the outbox, D5) waiting for their recipient, as of the last delivery round (at most a round's worth)"
    );
    describe_gauge!(
        ACTOR_MESSAGE_AGE_SECONDS,
        Unit::Seconds,
        "Age of the oldest message between entities still waiting, as of the last delivery round"
    );
    describe_counter!(
        ACTOR_MESSAGES_TOTAL,
        "Deliveries of messages between entities, by outcome: applied, retried (the recipient was busy or failed), parked (no such recipient)"
    );
    describe_counter!(
        EXPIRY_SWEEP_WALLETS_TOTAL,
        "Wallets the scheduled expiry sweep touched, by outcome: expired (lots expired), deferred (busy or failed; tried again next round)"
    );
    describe_counter!(
        SIGN_IN_LOCKOUTS_TOTAL,
        "Identities locked out of signing in after repeated wrong passwords"
    );
}
