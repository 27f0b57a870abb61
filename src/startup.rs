//! Builds the application from settings, so `main` and the tests start the same thing:
//! open the store, start the engine, bootstrap on first start, bind the listener (port 0
//! picks a free one) and report the real port.

use crate::api;
use crate::bootstrap::{self, BootstrapKeys};
use crate::settings::Settings;
use actix_web::dev::{Server, ServerHandle};
use actix_web::{web, App, HttpServer};
use rewards_engine::engine::DurabilityHook;
use rewards_engine::{Clock, Engine};
use std::net::TcpListener;
use std::sync::Arc;

/// Limits handlers read from app data.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    pub page_size_max: usize,
    pub bulk_items_max: usize,
}

pub struct Application {
    port: u16,
    server: Server,
    metrics_port: u16,
    metrics_server: Server,
    engine: Engine,
    bootstrap: Option<BootstrapKeys>,
}

impl Application {
    /// Must be called inside an actix system (`#[actix_web::main]` or `System::new()`).
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Application> {
        Self::build_with_hook(settings, clock, None).await
    }

    /// As `build`, with a hook on the storage layer's durability points (tests inject
    /// failures through it).
    pub async fn build_with_hook(
        settings: Settings,
        clock: Arc<dyn Clock>,
        hook: Option<DurabilityHook>,
    ) -> anyhow::Result<Application> {
        // Installed first, so what opening the store records (its recovery) is kept.
        let metrics = crate::metrics::handle();
        let engine = Engine::open(&settings.storage, settings.journal, settings.engine(), clock, hook)?;
        let bootstrap = bootstrap::ensure(&engine, &settings).await?;
        engine.prepare_signing_keys().await?;
        let dispatcher = crate::comms::Dispatcher::new(engine.clone(), &settings.communications)?;
        actix_web::rt::spawn(dispatcher.run());
        let gateways = crate::payments::Gateways::new(&settings.payments)?;
        actix_web::rt::spawn(gateways.clone().run_reconciler(engine.clone()));
        actix_web::rt::spawn(gateways.clone().run_scheduler(engine.clone()));
        actix_web::rt::spawn(crate::payments::run_billing(
            engine.clone(),
            settings.payments.billing_interval_ms,
        ));
        let gateways = web::Data::new(gateways);
        let listener = TcpListener::bind(settings.bind_address()?)
            .map_err(|error| anyhow::anyhow!("http.bind {}: {error}", settings.http.bind))?;
        let port = listener.local_addr()?.port();
        let upkeep = metrics.clone();
        actix_web::rt::spawn(async move {
            let mut every = actix_web::rt::time::interval(std::time::Duration::from_secs(5));
            loop {
                every.tick().await;
                upkeep.run_upkeep();
            }
        });
        let metrics_listener = TcpListener::bind(settings.metrics_address()?)
            .map_err(|error| anyhow::anyhow!("metrics.bind {}: {error}", settings.metrics.bind))?;
        let metrics_port = metrics_listener.local_addr()?.port();
        let metrics = web::Data::new(metrics);
        let metrics_for_server = metrics.clone();
        let metrics_server = HttpServer::new(move || {
            App::new()
                .app_data(metrics_for_server.clone())
                .service(api::prometheus_metrics)
        })
        .workers(1)
        .shutdown_timeout(1)
        .listen(metrics_listener)?
        .run();
        let engine_data = web::Data::new(engine.clone());
        let limits = web::Data::new(HttpLimits {
            page_size_max: settings.http.page_size_max,
            bulk_items_max: settings.http.bulk_items_max,
        });
        let header = settings.http.client_address_header.trim();
        let client_address = web::Data::new(crate::api::self_service::ClientAddressSource {
            header: if header.is_empty() {
                None
            } else {
                Some(
                    actix_web::http::header::HeaderName::from_bytes(header.as_bytes())
                        .map_err(|error| anyhow::anyhow!("http.client_address_header: {error}"))?,
                )
            },
        });
        let identity_providers = web::Data::new(crate::identity::IdentityProviders {
            oidc: crate::identity::oidc::OidcProviders::new(&settings.oidc)?,
            facebook: crate::identity::facebook::Facebook::new(&settings.facebook)?,
        });
        let body_bytes_max = settings.http.body_bytes_max;
        let bulk_body_bytes_max = settings.http.bulk_body_bytes_max;
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(api::observe))
                .app_data(engine_data.clone())
                .app_data(metrics.clone())
                .app_data(limits.clone())
                .app_data(client_address.clone())
                .app_data(identity_providers.clone())
                .app_data(gateways.clone())
                .configure(api::configure(body_bytes_max, bulk_body_bytes_max))
        })
        .workers(settings.workers())
        .shutdown_timeout(settings.http.shutdown_timeout_s)
        .listen(listener)?
        .run();
        Ok(Application {
            port,
            server,
            metrics_port,
            metrics_server,
            engine,
            bootstrap,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the `/metrics` listener.
    pub fn metrics_port(&self) -> u16 {
        self.metrics_port
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    pub fn engine(&self) -> Engine {
        self.engine.clone()
    }

    /// The keys made by this start, if it was the first.
    pub fn bootstrap(&self) -> Option<&BootstrapKeys> {
        self.bootstrap.as_ref()
    }

    /// Serves until the server is stopped (SIGINT/SIGTERM or the handle), then drains the
    /// engine: actors finish their work, the journal flushes, the writer stops.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics_handle = self.metrics_server.handle();
        actix_web::rt::spawn(self.metrics_server);
        let outcome = self.server.await;
        metrics_handle.stop(true).await;
        self.engine.shutdown().await;
        outcome
    }
}
