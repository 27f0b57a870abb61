//! Facebook: an app's user access token is checked with the Graph API's token inspection
//! (`/debug_token`, with the app's own token): valid, issued to this app, not expired. The
//! profile then comes from `/me` with the same token, and must be the inspected user's.

use super::{refused, unreachable};
use crate::api::errors::ApiError;
use crate::settings::FacebookSettings;
use rewards_engine::domain::contact::IdentityProvider;
use rewards_engine::engine::ExternalIdentity;
use serde::Deserialize;
use std::time::Duration;

pub struct Facebook {
    client: reqwest::Client,
    app_id: String,
    app_secret: String,
    graph_url: String,
}

#[derive(Deserialize)]
struct Inspection {
    data: InspectedToken,
}

#[derive(Deserialize)]
struct InspectedToken {
    app_id: Option<String>,
    is_valid: bool,
    user_id: Option<String>,
    /// 0 for a token that does not expire.
    expires_at: Option<i64>,
}

#[derive(Deserialize)]
struct Profile {
    id: String,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
}

impl Facebook {
    pub fn new(settings: &FacebookSettings) -> anyhow::Result<Facebook> {
        Ok(Facebook {
            client: reqwest::Client::builder()
                .timeout(Duration::from_millis(settings.timeout_ms))
                .build()?,
            app_id: settings.app_id.clone(),
            app_secret: settings.app_secret.clone(),
            graph_url: settings.graph_url.trim_end_matches('/').to_string(),
        })
    }

    /// The person a Facebook user access token belongs to, checked at `now` (epoch s).
    pub async fn verify(&self, token: &str, now: i64) -> Result<ExternalIdentity, ApiError> {
        if self.app_id.is_empty() {
            return Err(ApiError::invalid("provider", "provider FACEBOOK is not configured"));
        }
        let app_token = format!("{}|{}", self.app_id, self.app_secret);
        let response = self
            .client
            .get(format!("{}/debug_token", self.graph_url))
            .query(&[("input_token", token), ("access_token", app_token.as_str())])
            .send()
            .await
            .map_err(unreachable)?;
        if !response.status().is_success() {
            return Err(refused(format!("token inspection answered {}", response.status())));
        }
        let inspected = response.json::<Inspection>().await.map_err(unreachable)?.data;
        if !inspected.is_valid {
            return Err(refused("Facebook says it is not valid"));
        }
        if inspected.app_id.as_deref() != Some(self.app_id.as_str()) {
            return Err(refused("it was issued to another app"));
        }
        if inspected.expires_at.is_some_and(|at| at != 0 && at <= now) {
            return Err(refused("it has expired"));
        }
        let user_id = inspected.user_id.ok_or_else(|| refused("it names no user"))?;
        let response = self
            .client
            .get(format!("{}/me", self.graph_url))
            .query(&[("fields", "id,first_name,last_name,email"), ("access_token", token)])
            .send()
            .await
            .map_err(unreachable)?;
        if !response.status().is_success() {
            return Err(refused(format!("the profile request answered {}", response.status())));
        }
        let profile = response.json::<Profile>().await.map_err(unreachable)?;
        if profile.id != user_id {
            return Err(refused("the profile is another user's"));
        }
        Ok(ExternalIdentity {
            provider: IdentityProvider::Facebook,
            subject: user_id,
            email: profile.email,
            first_name: profile.first_name,
            last_name: profile.last_name,
        })
    }
}
