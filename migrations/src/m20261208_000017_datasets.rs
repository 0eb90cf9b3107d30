//! Datasets and their releases. A release is an immutable, numbered version compiled from chosen
//! campaigns; its files are listed in order (the archive is laid out from that list when it is
//! downloaded, never stored whole).
use sea_orm_migration::{prelude::*, schema::*};

use crate::fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("datasets")
                .col(pk_uuid("id"))
                .col(string_uniq("slug"))
                .col(string("name"))
                .col(text("description"))
                .col(text("citation"))
                // public | signed_in | admins
                .col(string("visibility"))
                // Secret; makes annotators' pseudonyms stable across this dataset's releases and
                // unlinkable to other datasets'.
                .col(string("salt"))
                .col(uuid("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk(
                    "fk_datasets_creator",
                    ("datasets", "created_by"),
                    "users",
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("dataset_releases")
                .col(pk_uuid("id"))
                .col(uuid("dataset_id"))
                .col(integer("version"))
                // compiling | compiled | failed | published
                .col(string("state"))
                // JSON: the compile parameters and the campaign ids.
                .col(text("params"))
                .col(text("campaigns"))
                // What changed since the previous release, in the admin's words.
                .col(text("notes"))
                .col(uuid_null("job_id"))
                .col(string("phase"))
                .col(big_integer("done"))
                .col(big_integer("total"))
                // JSON: included and excluded counts, prevalence per instrument and split.
                .col(text_null("report"))
                .col(text_null("error"))
                .col(big_integer_null("tar_bytes"))
                .col(big_integer_null("zip_bytes"))
                // The hidden test labels, for admins and challenges.
                .col(text_null("test_labels_key"))
                .col(uuid("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("published_at"))
                .foreign_key(&mut fk(
                    "fk_releases_dataset",
                    ("dataset_releases", "dataset_id"),
                    "datasets",
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    "fk_releases_creator",
                    ("dataset_releases", "created_by"),
                    "users",
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_dataset_releases_version")
                .table("dataset_releases")
                .col("dataset_id")
                .col("version")
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("release_files")
                .col(uuid("release_id"))
                .col(integer("position"))
                .col(text("path"))
                .col(big_integer("size"))
                .col(string("sha256"))
                .col(big_integer("crc32"))
                // A file written by the compiler (kept in the object store) …
                .col(text_null("storage_key"))
                // … or a clip's canonical audio, copied as it is stored.
                .col(uuid_null("audio_id"))
                .primary_key(Index::create().col("release_id").col("position"))
                .foreign_key(&mut fk(
                    "fk_release_files_release",
                    ("release_files", "release_id"),
                    "dataset_releases",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "fk_release_files_audio",
                    ("release_files", "audio_id"),
                    "audio",
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        // "Is this audio in a release?" when audio is deleted.
        m.create_index(
            Index::create().name("ix_release_files_audio").table("release_files").col("audio_id").to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("release_files").to_owned()).await?;
        m.drop_table(Table::drop().table("dataset_releases").to_owned()).await?;
        m.drop_table(Table::drop().table("datasets").to_owned()).await
    }
}
