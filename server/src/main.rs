//! `server` — serve Tutti (default) with configuration from the environment and `tutti.toml`.
use clap::{Parser, Subcommand};

use server::config::Config;

#[derive(Parser)]
#[command(name = "server", version, about = "Tutti: open, research-grade music data from a crowd")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app and the REST API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Check the configuration and print it (secrets hidden).
    Config,
    /// Ingest every audio file under a folder for a user, in parallel, skipping duplicates.
    Import {
        /// The folder to walk (recursively).
        dir: std::path::PathBuf,
        /// E-mail of the owning user (who must have signed in once).
        #[arg(long)]
        owner: String,
        /// Licence of the imported audio (default: TUTTI_DEFAULT_LICENSE).
        #[arg(long)]
        license: Option<String>,
        /// Make the imported audio public.
        #[arg(long)]
        public: bool,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    server::init_tracing(&config);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => server::connect(&config.database_url).await.map(|_| println!("migrations applied")),
        Command::Config => {
            print_config(&config);
            Ok(())
        }
        Command::Import { dir, owner, license, public } => import(config, dir, owner, license, public).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let public = config.public_url.clone();
    let running = server::start(config).await?;
    println!("Tutti is serving at {public}");
    server::shutdown_signal().await;
    tracing::info!("shutting down");
    running.stop().await
}

async fn import(
    config: Config,
    dir: std::path::PathBuf,
    owner: String,
    license: Option<String>,
    public: bool,
) -> anyhow::Result<()> {
    let db = server::connect(&config.database_url).await?;
    let ctx = server::server_context(&config, db, false)?;
    let summary = server::import::import_dir(&ctx, &dir, &owner, license.as_deref(), public, true).await?;
    summary.print();
    if summary.failed.is_empty() { Ok(()) } else { anyhow::bail!("{} files failed", summary.failed.len()) }
}

fn print_config(c: &Config) {
    println!("bind                 {}", c.bind);
    println!("public_url           {}", c.public_url);
    println!(
        "database             {}",
        if c.database_url.starts_with("sqlite:") { &c.database_url } else { "postgres (hidden)" }
    );
    println!("storage              {:?}", c.storage);
    println!(
        "oauth                {}",
        c.oauth.as_ref().map(|o| format!("{} ({})", o.provider_name, o.auth_url)).unwrap_or_else(|| "off".into())
    );
    println!("admin_emails         {}", c.admin_emails.join(", "));
    println!("demo                 {}", c.demo);
    println!("max_upload_bytes     {}", c.max_upload_bytes);
    println!("max_audio_seconds    {}", c.max_audio_seconds);
    println!("session_idle_minutes {}", c.session_idle_minutes);
}
