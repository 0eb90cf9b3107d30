//! `server` — serve Tutti (default) with configuration from the environment and `tutti.toml`.
use clap::{Parser, Subcommand, ValueEnum};

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
    /// Compile a dataset's release or export its archive.
    Dataset {
        #[command(subcommand)]
        command: DatasetCommand,
    },
}

#[derive(Subcommand)]
enum DatasetCommand {
    /// Compile the next release of a dataset in this process, showing its progress, then print its
    /// report (a failed release makes the exit status non-zero).
    Compile(CompileArgs),
    /// Stream a compiled release's archive into a file (written as FILE.part, renamed when whole).
    Export {
        /// The dataset's slug.
        slug: String,
        /// The release's version.
        version: i32,
        #[arg(long, value_enum)]
        format: ArchiveFormat,
        /// Where to write the archive.
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

#[derive(clap::Args)]
struct CompileArgs {
    /// The dataset's slug.
    #[arg(long)]
    dataset: String,
    /// A campaign to compile from (repeat for several).
    #[arg(long = "campaign", required = true)]
    campaigns: Vec<uuid::Uuid>,
    /// The share of groups held out as the unlabelled test split.
    #[arg(long, default_value_t = app::datasets::default_test_fraction())]
    test_fraction: f64,
    /// The seed of the split.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// What never straddles train and test.
    #[arg(long, value_enum, default_value_t = Group::Source)]
    group_by: Group,
    /// How a label is decided from the answers.
    #[arg(long, value_enum, default_value_t = Rule::Majority)]
    rule: Rule,
    /// The share of "present" (or probability) from which an instrument counts as present.
    #[arg(long, default_value_t = app::datasets::default_threshold())]
    threshold: f64,
    /// How far each instrument's prevalence in test may stray from train's.
    #[arg(long, default_value_t = app::datasets::default_tolerance())]
    tolerance: f64,
    /// Tasks with at least this many answers count (default: only complete tasks).
    #[arg(long)]
    min_annotations: Option<u32>,
    /// Include gold tasks as samples.
    #[arg(long)]
    include_gold: bool,
    /// What changed since the previous release.
    #[arg(long, default_value = "")]
    notes: String,
    /// E-mail of the admin the release is asked for by.
    #[arg(long = "as", value_name = "EMAIL")]
    as_email: String,
}

#[derive(Clone, Copy, ValueEnum)]
enum ArchiveFormat {
    Tar,
    Zip,
}

#[derive(Clone, Copy, ValueEnum)]
enum Group {
    Source,
    Uploader,
    Composition,
    Artist,
}

#[derive(Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
enum Rule {
    Majority,
    TrustWeighted,
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
        Command::Dataset { command: DatasetCommand::Compile(a) } => compile(config, a).await,
        Command::Dataset { command: DatasetCommand::Export { slug, version, format, out } } => {
            let format = match format {
                ArchiveFormat::Tar => app::datasets::ssr::stream::Format::Tar,
                ArchiveFormat::Zip => app::datasets::ssr::stream::Format::Zip,
            };
            server::cli_dataset::export(&config, &slug, version, format, &out).await
        }
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

async fn compile(config: Config, a: CompileArgs) -> anyhow::Result<()> {
    use app::datasets::{GroupKey, LabelRule};
    let req = app::datasets::CompileRequest {
        campaigns: a.campaigns,
        instruments: None,
        min_annotations: a.min_annotations,
        rule: match a.rule {
            Rule::Majority => LabelRule::Majority,
            Rule::TrustWeighted => LabelRule::TrustWeighted,
        },
        threshold: a.threshold,
        include_gold: a.include_gold,
        test_fraction: a.test_fraction,
        seed: a.seed,
        group_by: match a.group_by {
            Group::Source => GroupKey::Source,
            Group::Uploader => GroupKey::Uploader,
            Group::Composition => GroupKey::Composition,
            Group::Artist => GroupKey::Artist,
        },
        tolerance: a.tolerance,
        notes: a.notes,
    };
    server::cli_dataset::compile(&config, &a.dataset, &a.as_email, req).await
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
