//! `rewards-server`: the HTTP façade, settings, start-up and CLI of the rewards engine.
//!
//! Layout:
//! - [`settings`]: one struct, from `config/default.toml`, `--config FILE` and
//!   `REWARDS__SECTION__KEY` variables, validated once.
//! - [`startup`]: `Application::build` opens the store, starts the engine, bootstraps the
//!   first organisation, binds the listener (port 0 in tests) and serves.
//! - [`bench`]: `rewards bench`, the HTTP load generator with its correctness check.
//! - [`bootstrap`]: the first start on an empty data dir.
//! - [`comms`]: the dispatcher that delivers the engine's outbox (log, webhook, SMTP).
//! - [`identity`]: OpenID Connect and Facebook token checks for contact sign-in.
//! - [`admin`]: `rewards admin`, the operator's commands (organisations, users, keys,
//!   signing-key rotation) against a stopped server's data dir.
//! - [`metrics`]: the Prometheus recorder behind `/metrics`, and the server's metric names
//!   (the engine's: `rewards_engine::metrics_names`).
//! - [`api`]: the façade by API family (`api/backoffice`), the error body, auth, the
//!   OpenAPI document.
//!
//! The engine itself (domain, actors, storage) is the `rewards-engine` crate in `actors/`.

pub mod admin;
pub mod api;
pub mod bench;
pub mod bootstrap;
pub mod comms;
pub mod identity;
pub mod metrics;
pub mod payments;
pub mod settings;
pub mod startup;

pub use settings::Settings;
pub use startup::Application;
