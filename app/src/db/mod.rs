//! SeaORM entities (server only). Table definitions live in the `migrations` crate.
pub mod annotation;
pub mod annotator_accuracy;
pub mod api_token;
pub mod audio;
pub mod build_job;
pub mod campaign;
pub mod cleanup_run;
pub mod collection;
pub mod composition;
pub mod dataset;
pub mod dataset_release;
pub mod identity;
pub mod instrument;
pub mod invitation;
pub mod job;
pub mod latency_calibration;
pub mod lease;
pub mod member;
pub mod release_file;
pub mod session;
pub mod sql;
pub mod task;
pub mod task_label;
pub mod track;
pub mod user;

/// Begin a transaction that will write. On SQLite it takes the write lock at BEGIN (IMMEDIATE),
/// so a transaction that reads first cannot fail later when it upgrades to writing.
pub async fn begin_write(db: &sea_orm::DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}
