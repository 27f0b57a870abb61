//! First start on an empty data dir: create the first business, one public and one secret
//! API key and the first back-office user (an admin of the business), print them once and
//! write `<data_dir>/bootstrap.json` (mode 0600).
//!
//! The file is written before the commit: a crash between the two leaves a file whose keys
//! were never stored, and the next start (still unbootstrapped) overwrites it. The reverse
//! order could leave keys stored (hashed) that nobody ever saw.

use crate::settings::Settings;
use rewards_engine::domain::access::Role;
use rewards_engine::domain::ids::{Mode, OrganisationId};
use rewards_engine::domain::organisation::ApiKeyKind;
use rewards_engine::engine::NewUser;
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

const MARKER: &str = "bootstrap";
pub const FILE_NAME: &str = "bootstrap.json";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BootstrapKeys {
    pub organisation_id: String,
    pub public_api_key: String,
    pub secret_api_key: String,
    pub admin_email: String,
    /// Only when it was generated (a password chosen by setting is not written out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_password: Option<String>,
}

fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let temporary = path.with_extension("json.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&temporary)?;
    file.write_all(contents)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

pub fn file_path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// Bootstraps the store if it is empty. Returns the new keys the first time, `None` after.
pub async fn ensure(engine: &Engine, settings: &Settings) -> anyhow::Result<Option<BootstrapKeys>> {
    if engine.meta(MARKER)?.is_some() {
        return Ok(None);
    }
    // A store with records but no bootstrap marker lost something: never start it over.
    // (A crash during the first start, before its records were committed, leaves the store
    // empty, and the first start simply runs again.)
    if !engine.store().is_empty()? {
        anyhow::bail!(
            "storage.data_dir {}: the store holds records but not the first start's; refusing to bootstrap over them (restore from a backup, or start on an empty data dir)",
            settings.storage.data_dir.display()
        );
    }
    let chosen = |value: &str, make: fn() -> String| {
        if value.is_empty() {
            make()
        } else {
            value.to_string()
        }
    };
    let public_api_key = chosen(&settings.bootstrap.public_api_key, || {
        rewards_engine::engine::secrets::api_key(ApiKeyKind::Public, Mode::Live)
    });
    let secret_api_key = chosen(&settings.bootstrap.secret_api_key, || {
        rewards_engine::engine::secrets::api_key(ApiKeyKind::Secret, Mode::Live)
    });
    let organisation_id = OrganisationId::random();
    let generated_password = settings
        .bootstrap
        .admin_password
        .is_empty()
        .then(|| rewards_engine::engine::secrets::random_token("")[..24].to_string());
    let admin = engine
        .prepare_user(
            NewUser {
                email: settings.bootstrap.admin_email.clone(),
                password: generated_password
                    .clone()
                    .unwrap_or_else(|| settings.bootstrap.admin_password.clone()),
                first_name: None,
                last_name: None,
                organisation: None,
                role: Role::Admin,
            },
            organisation_id,
        )
        .await?;
    let keys = BootstrapKeys {
        organisation_id: organisation_id.to_string(),
        public_api_key,
        secret_api_key,
        admin_email: admin.email.clone(),
        admin_password: generated_password,
    };
    write_private_file(
        &file_path(&settings.storage.data_dir),
        &serde_json::to_vec_pretty(&keys)?,
    )?;
    engine
        .bootstrap_organisation(
            organisation_id,
            &settings.bootstrap.organisation_name,
            settings.organisation.default_currency,
            &[
                (Mode::Live, ApiKeyKind::Public, keys.public_api_key.as_str()),
                (Mode::Live, ApiKeyKind::Secret, keys.secret_api_key.as_str()),
            ],
            Some(&admin),
            MARKER,
        )
        .await?;
    Ok(Some(keys))
}
