//! `rewards`: the rewards engine's binary.

use clap::{Parser, Subcommand};
use rewards_engine::SystemClock;
use rewards_server::{Application, Settings};
use std::path::PathBuf;
use std::sync::Arc;

/// mimalloc: glibc malloc was the largest single cost of the journal writer under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "rewards",
    version,
    about = "Actor-based POS and rewards engine with a CRM.COM-compatible API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (fjall and the commit log in `storage.data_dir`, listening on `http.bind`).
    Serve {
        /// A TOML file overriding config/default.toml; REWARDS__SECTION__KEY variables
        /// override both.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Load a server like a fleet of POS terminals and measure throughput and latency.
    Bench(rewards_server::bench::BenchArgs),
    /// Operator commands on a stopped server's data dir: organisations, users, API keys,
    /// signing-key rotation.
    Admin(rewards_server::admin::AdminArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { config } => serve(config),
        Command::Admin(args) => match rewards_server::admin::run(args) {
            Ok(outcome) if outcome.clean => std::process::ExitCode::SUCCESS,
            Ok(_) => std::process::ExitCode::from(1),
            Err(error) => {
                eprintln!("rewards admin: {error:#}");
                std::process::ExitCode::from(2)
            }
        },
        Command::Bench(args) => match rewards_server::bench::run(args) {
            Ok(code) => code,
            Err(error) => {
                eprintln!("rewards bench: {error:#}");
                std::process::ExitCode::from(2)
            }
        },
    }
}

fn serve(config: Option<PathBuf>) -> std::process::ExitCode {
    let settings = match Settings::load(config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("rewards: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&settings.log.filter))
        .init();
    let outcome = actix_web::rt::System::new().block_on(async move {
        let application = Application::build(settings.clone(), Arc::new(SystemClock)).await?;
        if let Some(keys) = application.bootstrap() {
            println!("First start: created organisation {}", keys.organisation_id);
            println!("  public api key: {}", keys.public_api_key);
            println!("  secret api key: {}", keys.secret_api_key);
            match &keys.admin_password {
                Some(password) => println!("  admin user: {} / {password}", keys.admin_email),
                None => println!("  admin user: {} (password from the settings)", keys.admin_email),
            }
            println!(
                "  (shown once; also in {})",
                rewards_server::bootstrap::file_path(&settings.storage.data_dir).display()
            );
        }
        println!("metrics on port {}", application.metrics_port());
        println!("listening on port {}", application.port());
        tracing::info!(port = application.port(), data_dir = %settings.storage.data_dir.display(), "serving");
        application.run_until_stopped().await?;
        tracing::info!("stopped cleanly");
        anyhow::Ok(())
    });
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("rewards: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
