//! `rewards-engine`: everything that owns state in the rewards engine. No HTTP in here.
//!
//! Layout:
//! - [`domain`]: pure types and rules (money, ids, wallet lots and journal entries, offers,
//!   purchases, contacts, organisations). No actix, no fjall.
//! - [`actors`]: one actor per wallet and per contact, started on demand over a fixed set of
//!   arbiters, stopped when idle; claims for unique keys that span actors.
//! - [`storage`]: the only code that names fjall: key layout, record codec, the group-commit
//!   journal writer, recovery.
//! - [`engine`]: the cheap-to-clone handle the HTTP façade calls.
//! - [`routes`]: which wallet (and currency) each contact's purchases go to, cached.
//! - [`clock`]: time as epoch seconds, replaceable in tests.
//! - [`metrics_names`]: every metric name recorded here.
//! - `testing` (feature `testing`): the harness in-process tests and benchmarks share.

pub mod actors;
pub mod clock;
pub mod domain;
pub mod engine;
pub mod metrics_names;
pub mod routes;
pub mod storage;
#[cfg(feature = "testing")]
pub mod testing;

pub use actors::panic_text;
pub use clock::{Clock, ManualClock, SystemClock};
pub use engine::{Engine, EngineError, EngineSettings};
