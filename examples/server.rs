//! The reference server: `cargo run --release --example server`.
//!
//! Environment: `ADDR` (default `127.0.0.1:3000`), `ACCESS_TTL` (default
//! `15m`), `REFRESH_TTL` (default `7d`), `ACCESS_SECRET` and
//! `REFRESH_SECRET` (random per process when unset), `REFRESH_GRACE`
//! (default `10s`), `REDIS_URL` (the Redis store when set, memory
//! otherwise). Demo user `demo`, password `demo-password`.

use std::io::IsTerminal;
use std::process::ExitCode;

use tokenpair::reference::{Config, Server};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr, as a service's diagnostics should, so that a
    // refused start-up explains itself where supervisors look.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env()?;
    if config.random_secrets {
        tracing::warn!(
            "ACCESS_SECRET or REFRESH_SECRET is unset: using a random secret, \
             so tokens will not survive a restart"
        );
    }
    let server = Server::new(&config).await?;

    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let store = server.sessions().store().name();
    tracing::info!(addr = %listener.local_addr()?, store, "reference server listening");
    axum::serve(listener, server.router())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
