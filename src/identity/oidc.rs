//! OpenID Connect: the authorization-code flow with a state and a nonce.
//!
//! `GET /self-service/v2/contacts/oidc/{type}` starts a sign-in: a random state and nonce
//! are kept (in memory, for `oidc.login_ttl_s`) and the provider's authorization URL is
//! returned. The app sends back the state with the ID token it obtained, or with the
//! authorization code, which is exchanged here at the provider's token endpoint with the
//! client secret. The ID token is then checked against the provider's discovery document
//! and JWKS: signature by its `kid` with an allowed asymmetric algorithm (never `none` or
//! HMAC), issuer, audience (our client id), expiry (the engine clock) and the nonce of the
//! state. The identity is the issuer and subject.

use super::{refused, unreachable};
use crate::api::errors::ApiError;
use crate::settings::{OidcProviderSettings, OidcSettings};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use parking_lot::Mutex;
use rewards_engine::domain::contact::IdentityProvider;
use rewards_engine::domain::ids::Tenant;
use rewards_engine::engine::ExternalIdentity;
use serde::Deserialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: Option<String>,
    jwks_uri: String,
}

struct Provider {
    settings: OidcProviderSettings,
    /// Discovery and keys, and when they were fetched.
    cache: tokio::sync::Mutex<Option<(Instant, Discovery, JwkSet)>>,
}

/// A sign-in started and not yet finished.
struct PendingLogin {
    provider: String,
    tenant: Tenant,
    nonce: String,
    redirect_url: String,
    expires: Instant,
}

#[derive(Debug, Deserialize)]
struct IdClaims {
    iss: String,
    sub: String,
    exp: i64,
    nonce: Option<String>,
    email: Option<String>,
    email_verified: Option<bool>,
    given_name: Option<String>,
    family_name: Option<String>,
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: String,
}

/// Most sign-ins pending at once; past it the oldest are dropped.
const PENDING_MAX: usize = 100_000;

pub struct OidcProviders {
    providers: HashMap<String, Provider>,
    client: reqwest::Client,
    algorithms: Vec<Algorithm>,
    keys_cache: Duration,
    login_ttl: Duration,
    pending: Mutex<HashMap<String, PendingLogin>>,
}

fn parse_algorithm(name: &str) -> anyhow::Result<Algorithm> {
    let algorithm: Algorithm = name
        .parse()
        .map_err(|_| anyhow::anyhow!("oidc.algorithms: unknown algorithm {name}"))?;
    if matches!(algorithm, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
        anyhow::bail!("oidc.algorithms: {name} is symmetric; ID tokens are checked with the provider's public keys");
    }
    Ok(algorithm)
}

impl OidcProviders {
    pub fn new(settings: &OidcSettings) -> anyhow::Result<OidcProviders> {
        Ok(OidcProviders {
            providers: settings
                .providers
                .iter()
                .map(|(name, provider)| {
                    (
                        name.to_lowercase(),
                        Provider {
                            settings: provider.clone(),
                            cache: tokio::sync::Mutex::new(None),
                        },
                    )
                })
                .collect(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_millis(settings.timeout_ms))
                .build()?,
            algorithms: settings
                .algorithms
                .iter()
                .map(|name| parse_algorithm(name))
                .collect::<anyhow::Result<_>>()?,
            keys_cache: Duration::from_secs(settings.keys_cache_s),
            login_ttl: Duration::from_secs(settings.login_ttl_s),
            pending: Mutex::new(HashMap::new()),
        })
    }

    fn provider(&self, name: &str) -> Result<&Provider, ApiError> {
        self.providers
            .get(&name.to_lowercase())
            .ok_or_else(|| ApiError::not_found("OpenID Connect provider"))
    }

    /// Discovery and keys, from the cache unless stale (or `refresh`: a `kid` not seen).
    async fn keys(&self, provider: &Provider, refresh: bool) -> Result<(Discovery, JwkSet), ApiError> {
        let mut cache = provider.cache.lock().await;
        if let Some((fetched, discovery, keys)) = cache.as_ref() {
            if !refresh && fetched.elapsed() < self.keys_cache {
                return Ok((discovery.clone(), keys.clone()));
            }
        }
        let issuer = provider.settings.issuer.trim_end_matches('/');
        let discovery: Discovery = self
            .fetch_json(&format!("{issuer}/.well-known/openid-configuration"))
            .await?;
        if discovery.issuer.trim_end_matches('/') != issuer {
            return Err(unreachable(format!(
                "the discovery document names issuer {}, not {issuer}",
                discovery.issuer
            )));
        }
        let keys: JwkSet = self.fetch_json(&discovery.jwks_uri).await?;
        *cache = Some((Instant::now(), discovery.clone(), keys.clone()));
        Ok((discovery, keys))
    }

    /// A JSON document from the provider; any failure is the provider being unreachable.
    async fn fetch_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, ApiError> {
        self.client
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unreachable)?
            .json()
            .await
            .map_err(unreachable)
    }

    /// Starts a sign-in with provider `name`: the URL to send the person to.
    pub async fn authorization_url(
        &self,
        name: &str,
        tenant: Tenant,
        redirect_url: Option<&str>,
    ) -> Result<(String, String), ApiError> {
        let provider = self.provider(name)?;
        // The app's own, else the provider's setting (the contract makes it optional).
        let redirect_url = redirect_url
            .or(Some(provider.settings.redirect_url.as_str()).filter(|url| !url.is_empty()))
            .ok_or_else(|| {
                ApiError::invalid(
                    "redirect_url",
                    format!("redirect_url is required: provider {name} has no oidc.providers.*.redirect_url setting"),
                )
            })?;
        if !(redirect_url.starts_with("https://") || redirect_url.starts_with("http://")) {
            return Err(ApiError::invalid("redirect_url", "redirect_url must be an http(s) URL"));
        }
        let (discovery, _) = self.keys(provider, false).await?;
        let state = rewards_engine::engine::secrets::random_token("");
        let nonce = rewards_engine::engine::secrets::random_token("");
        let mut url = reqwest::Url::parse(&discovery.authorization_endpoint).map_err(unreachable)?;
        url.query_pairs_mut()
            .append_pair("client_id", &provider.settings.client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", redirect_url)
            .append_pair("scope", "openid email profile")
            .append_pair("state", &state)
            .append_pair("nonce", &nonce);
        let now = Instant::now();
        let mut pending = self.pending.lock();
        pending.retain(|_, login| login.expires > now);
        if pending.len() >= PENDING_MAX {
            if let Some(oldest) = pending
                .iter()
                .min_by_key(|(_, login)| login.expires)
                .map(|(state, _)| state.clone())
            {
                pending.remove(&oldest);
            }
        }
        pending.insert(
            state.clone(),
            PendingLogin {
                provider: name.to_lowercase(),
                tenant,
                nonce,
                redirect_url: redirect_url.to_string(),
                expires: now + self.login_ttl,
            },
        );
        Ok((url.to_string(), state))
    }

    /// Finishes the sign-in `state` started: with the ID token the app obtained, or the
    /// authorization code (exchanged here). The state is spent either way.
    pub async fn verify(
        &self,
        state: &str,
        tenant: Tenant,
        id_token: Option<&str>,
        code: Option<&str>,
        now: i64,
    ) -> Result<ExternalIdentity, ApiError> {
        let login = self
            .pending
            .lock()
            .remove(state)
            .filter(|login| login.tenant == tenant && login.expires > Instant::now())
            .ok_or_else(|| refused("the sign-in state is unknown, used or expired"))?;
        let provider = self.provider(&login.provider)?;
        let (discovery, keys) = self.keys(provider, false).await?;
        let id_token = match (id_token, code) {
            (Some(token), _) => token.to_string(),
            (None, Some(code)) => self.exchange(provider, &discovery, code, &login.redirect_url).await?,
            (None, None) => return Err(ApiError::missing("token")),
        };
        let header = jsonwebtoken::decode_header(&id_token).map_err(|error| refused(format!("header: {error}")))?;
        if !self.algorithms.contains(&header.alg) {
            return Err(refused(format!("algorithm {:?} is not accepted", header.alg)));
        }
        let kid = header.kid.ok_or_else(|| refused("it names no key (kid)"))?;
        let jwk = match keys.find(&kid) {
            Some(jwk) => jwk.clone(),
            // A key the provider added since the keys were fetched.
            None => self
                .keys(provider, true)
                .await?
                .1
                .find(&kid)
                .cloned()
                .ok_or_else(|| refused("its key is not one of the provider's"))?,
        };
        let key = DecodingKey::from_jwk(&jwk).map_err(|error| refused(format!("key {kid}: {error}")))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[discovery.issuer.as_str()]);
        validation.set_audience(&[provider.settings.client_id.as_str()]);
        validation.set_required_spec_claims(&["iss", "aud", "sub", "exp"]);
        // Expiry is checked against the engine's clock below.
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<IdClaims>(&id_token, &key, &validation)
            .map_err(|error| refused(error.to_string()))?
            .claims;
        if claims.exp <= now {
            return Err(refused("it has expired"));
        }
        if claims.nonce.as_deref() != Some(login.nonce.as_str()) {
            return Err(refused("its nonce is not the sign-in's"));
        }
        Ok(ExternalIdentity {
            provider: IdentityProvider::Oidc,
            subject: format!("{}|{}", claims.iss, claims.sub),
            email: claims.email.filter(|_| claims.email_verified == Some(true)),
            first_name: claims.given_name,
            last_name: claims.family_name,
        })
    }

    async fn exchange(
        &self,
        provider: &Provider,
        discovery: &Discovery,
        code: &str,
        redirect_url: &str,
    ) -> Result<String, ApiError> {
        let endpoint = discovery
            .token_endpoint
            .as_deref()
            .ok_or_else(|| unreachable("the provider has no token endpoint"))?;
        let response = self
            .client
            .post(endpoint)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_url),
                ("client_id", provider.settings.client_id.as_str()),
                ("client_secret", provider.settings.client_secret.as_str()),
            ])
            .send()
            .await
            .map_err(unreachable)?;
        if response.status().is_client_error() {
            return Err(refused(format!("the code was refused ({})", response.status())));
        }
        let response = response.error_for_status().map_err(unreachable)?;
        Ok(response.json::<TokenResponse>().await.map_err(unreachable)?.id_token)
    }
}
