//! The studio: collections, compositions, members, invitations and tracks.
use sea_orm_migration::{prelude::*, schema::*};

use crate::fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("collections")
                .col(pk_uuid("id"))
                .col(uuid("owner_id"))
                .col(string("title"))
                .col(text("description"))
                .col(string("visibility"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "fk_collections_owner",
                    ("collections", "owner_id"),
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("compositions")
                .col(pk_uuid("id"))
                .col(uuid_null("collection_id"))
                .col(uuid("owner_id"))
                .col(string("title"))
                .col(text("description"))
                .col(double("tempo_bpm"))
                .col(integer("meter_beats"))
                .col(integer("meter_unit"))
                .col(integer("count_in_bars"))
                .col(string("license"))
                // private (its members) | members (every signed-in user) | public (anyone)
                .col(string("visibility"))
                .col(boolean("open_to_contribution"))
                // The latest server mixdown (audio of kind `mixdown`).
                .col(uuid_null("mixdown_id"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "fk_compositions_owner",
                    ("compositions", "owner_id"),
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "fk_compositions_collection",
                    ("compositions", "collection_id"),
                    "collections",
                    ForeignKeyAction::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("members")
                .col(uuid("composition_id"))
                .col(uuid("user_id"))
                // owner | editor | contributor | viewer
                .col(string("role"))
                .col(timestamp_with_time_zone("created_at"))
                .primary_key(Index::create().col("composition_id").col("user_id"))
                .foreign_key(&mut fk(
                    "fk_members_composition",
                    ("members", "composition_id"),
                    "compositions",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk("fk_members_user", ("members", "user_id"), "users", ForeignKeyAction::Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_members_user").table("members").col("user_id").to_owned()).await?;
        m.create_table(
            Table::create()
                .table("invitations")
                .col(pk_uuid("id"))
                .col(uuid("composition_id"))
                .col(string_uniq("token_hash"))
                .col(string("role"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(uuid_null("used_by"))
                .col(timestamp_with_time_zone_null("used_at"))
                .col(uuid("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "fk_invitations_composition",
                    ("invitations", "composition_id"),
                    "compositions",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("tracks")
                .col(pk_uuid("id"))
                .col(uuid("composition_id"))
                .col(uuid("audio_id"))
                .col(uuid("author_id"))
                .col(string("name"))
                .col(string("instrument"))
                // Non-destructive start, in frames at the canonical rate.
                .col(big_integer("offset_frames"))
                .col(double("gain_db"))
                .col(double("pan"))
                .col(boolean("mute"))
                .col(boolean("solo"))
                .col(boolean("is_master"))
                // JSON: browser, device, capture rate, latency and its quality, compensation applied.
                .col(text_null("capture"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "fk_tracks_composition",
                    ("tracks", "composition_id"),
                    "compositions",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk("fk_tracks_audio", ("tracks", "audio_id"), "audio", ForeignKeyAction::Restrict))
                .foreign_key(&mut fk("fk_tracks_author", ("tracks", "author_id"), "users", ForeignKeyAction::Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_tracks_composition").table("tracks").col("composition_id").to_owned())
            .await?;
        m.create_index(Index::create().name("ix_tracks_audio").table("tracks").col("audio_id").to_owned()).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["tracks", "invitations", "members", "compositions", "collections"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
