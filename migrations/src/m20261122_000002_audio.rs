//! Audio records: every upload, recording, clip and mixdown, with its provenance and object keys.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("audio")
                .col(pk_uuid("id"))
                .col(string("kind"))
                .col(uuid_null("parent_id"))
                .col(big_integer_null("parent_offset_frames"))
                .col(uuid("owner_id"))
                .col(boolean("is_public").default(false))
                .col(string("sha256"))
                .col(string("original_filename"))
                .col(string("original_format"))
                .col(string("original_codec"))
                .col(big_integer("original_bytes"))
                .col(integer("original_rate"))
                .col(integer("original_channels"))
                .col(integer("canonical_rate"))
                .col(integer("canonical_channels"))
                .col(big_integer("frames"))
                .col(double("duration_seconds"))
                .col(string_null("title"))
                .col(string_null("artist"))
                .col(string_null("album"))
                .col(text("tags"))
                .col(string("license"))
                .col(double_null("loudness_lufs"))
                .col(string("original_key"))
                .col(string("canonical_key"))
                .col(string("peaks_key"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_audio_owner")
                        .from("audio", "owner_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_audio_parent")
                        .from("audio", "parent_id")
                        .to("audio", "id")
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        // Re-uploading the same bytes is idempotent per owner, and never reveals someone else's audio.
        m.create_index(
            Index::create()
                .name("ux_audio_owner_sha256")
                .table("audio")
                .col("owner_id")
                .col("sha256")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_audio_parent").table("audio").col("parent_id").to_owned()).await?;
        m.create_index(
            Index::create().name("ix_audio_owner_created").table("audio").col("owner_id").col("created_at").to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("audio").to_owned()).await
    }
}
