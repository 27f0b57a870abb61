//! `rewards admin`: the operator's commands, run against the data dir while the server is
//! stopped (the store's lock refuses a second opener). Each prints what it made as JSON.

use crate::bootstrap;
use crate::settings::Settings;
use clap::{Args, Subcommand};
use rewards_engine::domain::access::{Caller, Role};
use rewards_engine::domain::ids::{Mode, OrganisationId};
use rewards_engine::domain::money::Currency;
use rewards_engine::domain::organisation::{ApiKeyKind, OrganisationType};
use rewards_engine::engine::{maintenance, NewApiKey, NewOrganisation, NewUser};
use rewards_engine::{Engine, SystemClock};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct AdminArgs {
    /// A TOML file overriding config/default.toml (for `storage.data_dir` and the rest).
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Add an organisation: under --parent (type rules apply), or at the top of a new network
    /// (SERVICE_OWNER or BUSINESS).
    CreateOrganisation {
        #[arg(long)]
        name: String,
        /// SERVICE_OWNER, BUSINESS, MERCHANT or VENUE.
        #[arg(long = "type")]
        organisation_type: String,
        #[arg(long)]
        parent: Option<String>,
        /// ISO-4217 currency of a new top-level organisation (default: the setting).
        #[arg(long)]
        currency: Option<String>,
    },
    /// Add a back-office user to an organisation.
    CreateUser {
        #[arg(long)]
        email: String,
        /// The password; or set REWARDS_ADMIN_PASSWORD so it stays out of shell history.
        #[arg(long, env = "REWARDS_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long)]
        organisation: String,
        /// ADMIN or MEMBER.
        #[arg(long, default_value = "ADMIN")]
        role: String,
    },
    /// Give a back-office user a new password: its sessions end and a sign-in lockout of
    /// its email is lifted.
    SetPassword {
        #[arg(long)]
        email: String,
        /// The password; or set REWARDS_ADMIN_PASSWORD so it stays out of shell history.
        #[arg(long, env = "REWARDS_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Make an API key for an organisation; the key is printed once.
    CreateKey {
        #[arg(long)]
        organisation: String,
        /// PUBLIC or SECRET.
        #[arg(long = "type", default_value = "SECRET")]
        key_type: String,
        /// LIVE or TEST.
        #[arg(long, default_value = "LIVE")]
        mode: String,
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Make a new key sign access tokens; older keys verify until their tokens expire.
    RotateSigningKey,
    /// Check every invariant the engine relies on (wallet balance = journal = lots, no
    /// negative lot, each purchase in its wallet's journal, every index pointing both ways).
    /// Prints the report; exits 1 when it finds anything.
    Verify,
    /// Write a consistent, versioned, checksummed copy of every record to a new file.
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Make a new data dir (absent or empty) from a backup; the file is checked whole first.
    Restore {
        #[arg(long)]
        from: PathBuf,
        #[arg(long = "data-dir")]
        data_dir: PathBuf,
    },
}

/// What `run` reports: the JSON to print, and whether the command found a problem.
pub struct Outcome {
    pub report: Value,
    pub clean: bool,
}

fn organisation_type(text: &str) -> anyhow::Result<OrganisationType> {
    Ok(match text {
        "SERVICE_OWNER" => OrganisationType::ServiceOwner,
        "BUSINESS" => OrganisationType::Business,
        "MERCHANT" => OrganisationType::Merchant,
        "VENUE" => OrganisationType::Venue,
        other => anyhow::bail!("--type must be SERVICE_OWNER, BUSINESS, MERCHANT or VENUE, not {other}"),
    })
}

fn organisation_id(text: &str) -> anyhow::Result<OrganisationId> {
    OrganisationId::parse(text).map_err(|error| anyhow::anyhow!("--organisation: {error}"))
}

async fn execute(engine: &Engine, command: AdminCommand) -> anyhow::Result<Value> {
    Ok(match command {
        AdminCommand::CreateOrganisation {
            name,
            organisation_type: kind,
            parent,
            currency,
        } => {
            let kind = organisation_type(&kind)?;
            let organisation = match parent {
                Some(parent) => {
                    let parent = organisation_id(&parent)?;
                    let new = NewOrganisation {
                        name,
                        organisation_type: kind,
                        parent: None,
                        taps: Vec::new(),
                    };
                    // The operator at the console acts as the parent's live-mode admin.
                    engine
                        .create_organisation(&Caller::key(parent, Mode::Live), new)
                        .await?
                        .organisation
                }
                None => {
                    let currency = currency
                        .map(|code| Currency::parse(&code).map_err(|error| anyhow::anyhow!("--currency: {error}")))
                        .transpose()?;
                    engine.create_root_organisation(&name, kind, currency).await?
                }
            };
            json!({
                "id": organisation.id.to_string(),
                "name": organisation.name,
                "type": organisation.organisation_type.code(),
                "parent_id": organisation.parent.map(|id| id.to_string()),
                "currency_code": organisation.default_currency.to_string(),
            })
        }
        AdminCommand::CreateUser {
            email,
            password,
            organisation,
            role,
        } => {
            let organisation = organisation_id(&organisation)?;
            let role = Role::parse(&role).ok_or_else(|| anyhow::anyhow!("--role must be ADMIN or MEMBER"))?;
            let new = NewUser {
                email,
                password,
                first_name: None,
                last_name: None,
                organisation: None,
                role,
            };
            let user = engine
                .create_user(&Caller::key(organisation, Mode::Live), new)
                .await?
                .user;
            json!({"id": user.id.to_string(), "email": user.email, "organisation_id": organisation.to_string(), "role": role.code()})
        }
        AdminCommand::SetPassword { email, password } => {
            let user = engine.set_user_password(&email, &password).await?;
            json!({"id": user.id.to_string(), "email": user.email})
        }
        AdminCommand::CreateKey {
            organisation,
            key_type,
            mode,
            name,
        } => {
            let organisation = organisation_id(&organisation)?;
            let kind = match key_type.as_str() {
                "PUBLIC" => ApiKeyKind::Public,
                "SECRET" => ApiKeyKind::Secret,
                other => anyhow::bail!("--type must be PUBLIC or SECRET, not {other}"),
            };
            let mode = Mode::parse(&mode).ok_or_else(|| anyhow::anyhow!("--mode must be LIVE or TEST"))?;
            let new = NewApiKey {
                organisation: None,
                kind,
                mode,
                name,
            };
            let issued = engine
                .create_api_key(&Caller::key(organisation, Mode::Live), new)
                .await?;
            json!({
                "id": issued.record.id.to_string(),
                "organisation_id": organisation.to_string(),
                "type": kind.code(),
                "mode": mode.code(),
                "key": issued.key,
            })
        }
        AdminCommand::RotateSigningKey => json!({"kid": engine.rotate_signing_key().await?}),
        AdminCommand::Verify | AdminCommand::Backup { .. } | AdminCommand::Restore { .. } => {
            unreachable!("store commands run without the engine")
        }
    })
}

/// The commands on the store itself: no engine, no bootstrap (a data dir that is empty
/// is not made into a first start by checking or copying it).
fn run_on_store(settings: &Settings, command: &AdminCommand) -> anyhow::Result<Option<Outcome>> {
    Ok(Some(match command {
        AdminCommand::Verify => {
            let report = maintenance::verify(&settings.storage, settings.journal)?;
            Outcome {
                clean: report.findings.is_empty(),
                report: serde_json::to_value(&report)?,
            }
        }
        AdminCommand::Backup { out } => {
            let summary = maintenance::backup(&settings.storage, settings.journal, out)?;
            Outcome {
                clean: true,
                report: json!({"file": out, "records": summary.records, "bytes": summary.bytes, "sha256": summary.sha256, "derived_lsn": summary.derived_lsn}),
            }
        }
        AdminCommand::Restore { from, data_dir } => {
            let summary = maintenance::restore(from, data_dir, &settings.storage, settings.journal)?;
            Outcome {
                clean: true,
                report: json!({"data_dir": data_dir, "records": summary.records, "bytes": summary.bytes, "sha256": summary.sha256, "derived_lsn": summary.derived_lsn}),
            }
        }
        _ => return Ok(None),
    }))
}

/// Opens the data dir (bootstrapping it if empty, as the server would), runs one command,
/// drains the engine and prints the outcome.
pub fn run(args: AdminArgs) -> anyhow::Result<Outcome> {
    let settings = Settings::load(args.config.as_deref())?;
    if let Some(outcome) = run_on_store(&settings, &args.command)? {
        println!("{}", serde_json::to_string_pretty(&outcome.report)?);
        return Ok(outcome);
    }
    actix_web::rt::System::new().block_on(async move {
        let engine = Engine::open(
            &settings.storage,
            settings.journal,
            settings.engine(),
            Arc::new(SystemClock),
            None,
        )?;
        let outcome = async {
            if bootstrap::ensure(&engine, &settings).await?.is_some() {
                eprintln!(
                    "First start: bootstrapped; keys and the admin user are in {}",
                    bootstrap::file_path(&settings.storage.data_dir).display()
                );
            }
            engine.prepare_signing_keys().await?;
            execute(&engine, args.command).await
        }
        .await;
        engine.shutdown().await;
        let report = outcome?;
        println!("{}", serde_json::to_string_pretty(&report)?);
        Ok(Outcome { report, clean: true })
    })
}
