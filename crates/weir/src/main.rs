//! `weir`: the AWS data-engineering stack as one binary.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use weir::config::Config;

#[derive(Parser)]
#[command(
    name = "weir",
    version,
    about = "The AWS data-engineering stack as one binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server with every service.
    Serve {
        /// Data directory (default ./weir-data).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Address for the AWS APIs (default 127.0.0.1:4566).
        #[arg(long)]
        listen: Option<String>,
        /// A TOML configuration file.
        #[arg(long, env = "WEIR_CONFIG")]
        config: Option<PathBuf>,
    },
    /// A SQL shell over a running Weir (the Athena API): `weir sql`, `weir sql -c "..."`.
    Sql(weir::sql::SqlArgs),
    /// Load generators that measure any compatible endpoint.
    Bench {
        #[command(subcommand)]
        target: weir::bench::BenchTarget,
    },
}

/// The system allocator unless a feature picks another (see the `[features]` of Cargo.toml).
#[cfg(all(feature = "mimalloc", not(feature = "jemalloc")))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// A `weir` built for x86-64-v3 (`.cargo/config.toml`) stops with a clear message on a CPU
/// without its features, rather than dying of an illegal instruction later.
fn check_cpu() {
    #[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
    if !(std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("bmi2")
        && std::arch::is_x86_feature_detected!("fma"))
    {
        eprintln!(
            "weir: this build needs an x86-64-v3 CPU (AVX2, BMI2, FMA), which this machine lacks; \
             rebuild with RUSTFLAGS=\"-C target-cpu=x86-64\""
        );
        std::process::exit(1);
    }
}

fn main() -> anyhow::Result<()> {
    check_cpu();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("WEIR_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Serve {
            data_dir,
            listen,
            config,
        } => runtime.block_on(serve(data_dir, listen, config)),
        Command::Bench { target } => runtime.block_on(weir::bench::run(target)),
        Command::Sql(args) => runtime.block_on(weir::sql::run(args)),
    }
}

async fn serve(
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    file: Option<PathBuf>,
) -> anyhow::Result<()> {
    let mut config = Config::load(file.as_deref(), std::env::vars())?;
    if let Some(d) = data_dir {
        config.data_dir = d;
    }
    if let Some(l) = listen {
        config.listen = l;
    }
    let server = weir::server::Server::start(&config).await?;
    wait_for_signal().await;
    tracing::info!("shutting down");
    server.shutdown().await?;
    tracing::info!("stopped cleanly");
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
