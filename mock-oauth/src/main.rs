use clap::Parser;
use mock_oauth::{MockConfig, MockProvider, MockUser};

/// A local OAuth 2.0 provider standing in for Google during development and end-to-end tests.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 3100)]
    port: u16,
    #[arg(long, default_value = "tutti-dev")]
    client_id: String,
    #[arg(long, default_value = "dev-secret")]
    client_secret: String,
    /// Grant the configured user at once instead of showing the sign-in form.
    #[arg(long)]
    auto_approve: bool,
    /// Email of the user granted by default and prefilled in the form.
    #[arg(long, default_value = "ada@example.org")]
    email: String,
    /// Display name of that user.
    #[arg(long, default_value = "Ada Lovelace")]
    name: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let provider = MockProvider::start(MockConfig {
        client_id: args.client_id,
        client_secret: args.client_secret,
        auto_approve: args.auto_approve,
        port: args.port,
        user: MockUser::new(args.email, args.name),
    })
    .await?;
    // Handlers go in before the ready line, so a signal sent the moment it appears is not lost.
    let shutdown = shutdown_signal()?;
    // Test harnesses wait for this exact line before driving the browser.
    println!("mock-oauth listening on {}", provider.base_url());
    shutdown.await;
    provider.stop().await;
    Ok(())
}

fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
