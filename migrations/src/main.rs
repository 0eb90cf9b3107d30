//! `migrations up|down|fresh|status` against `DATABASE_URL` (the sea-orm-migration CLI).
use sea_orm_migration::prelude::*;

#[tokio::main]
async fn main() {
    cli::run_cli(migrations::Migrator).await;
}
