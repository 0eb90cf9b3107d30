//! The durable job queue every background job runs through (task builds first). A job is a row:
//! enqueued in the same transaction as the write that asks for it, claimed by one worker at a time,
//! kept alive by a heartbeat, retried with backoff, and taken over when its worker dies.
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("jobs")
                .col(pk_uuid("id"))
                .col(string("kind"))
                // JSON text; the handler of `kind` reads it.
                .col(text("payload"))
                // queued | running | done | failed | cancelled
                .col(string("state"))
                .col(integer("attempts").default(0))
                .col(integer("max_attempts"))
                // Milliseconds since the Unix epoch: compared as numbers on both databases (SQLite
                // keeps timestamps as text, whose order depends on how many fraction digits it has).
                .col(big_integer("run_after"))
                .col(big_integer_null("heartbeat_at"))
                .col(text_null("worker"))
                .col(text_null("error"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        // The claim: queued jobs whose time has come, in order …
        m.create_index(
            Index::create().name("ix_jobs_state_run_after").table("jobs").col("state").col("run_after").to_owned(),
        )
        .await?;
        // … and running jobs whose heartbeat went stale.
        m.create_index(
            Index::create().name("ix_jobs_state_heartbeat").table("jobs").col("state").col("heartbeat_at").to_owned(),
        )
        .await?;
        // Builds left unfinished by a server from before the queue get a job, so they finish
        // instead of showing "running" for ever (builds are idempotent: one still running in an
        // old process alongside loses nothing). The job takes the build's id; its payload names it.
        let sql = match m.get_database_backend() {
            DatabaseBackend::Postgres => {
                "INSERT INTO jobs (id, kind, payload, state, attempts, max_attempts, run_after, created_at, updated_at) \
                 SELECT id, 'task_build', '{\"build_id\":\"' || id::text || '\"}', 'queued', 0, 5, 0, created_at, created_at \
                 FROM build_jobs WHERE status IN ('queued', 'running')"
            }
            _ => {
                // SQLite keeps a UUID as 16 bytes; the payload wants its hyphenated text.
                "INSERT INTO jobs (id, kind, payload, state, attempts, max_attempts, run_after, created_at, updated_at) \
                 SELECT id, 'task_build', '{\"build_id\":\"' || \
                   CASE WHEN typeof(id) = 'blob' THEN lower(substr(hex(id), 1, 8) || '-' || substr(hex(id), 9, 4) || '-' || \
                     substr(hex(id), 13, 4) || '-' || substr(hex(id), 17, 4) || '-' || substr(hex(id), 21)) ELSE id END \
                   || '\"}', 'queued', 0, 5, 0, created_at, created_at \
                 FROM build_jobs WHERE status IN ('queued', 'running')"
            }
        };
        m.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("jobs").to_owned()).await
    }
}
