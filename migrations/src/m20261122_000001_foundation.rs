//! Users, their external identities, sessions, API tokens and the instrument taxonomy.
use sea_orm_migration::{prelude::*, schema::*};

use crate::OPENMIC_INSTRUMENTS;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("users")
                .col(pk_uuid("id"))
                .col(string_uniq("email"))
                .col(string("display_name"))
                .col(string_null("avatar_url"))
                .col(boolean("is_admin").default(false))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("last_seen_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("identities")
                .col(pk_uuid("id"))
                .col(uuid("user_id"))
                .col(string("provider"))
                .col(string("subject"))
                .col(string_null("email"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_identities_user")
                        .from("identities", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_identities_provider_subject")
                .table("identities")
                .col("provider")
                .col("subject")
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("sessions")
                .col(string("id").primary_key())
                .col(text("data"))
                .col(timestamp_with_time_zone("expiry_date"))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_sessions_expiry").table("sessions").col("expiry_date").to_owned())
            .await?;

        m.create_table(
            Table::create()
                .table("api_tokens")
                .col(pk_uuid("id"))
                .col(uuid("user_id"))
                .col(string("name"))
                .col(string_uniq("token_hash"))
                .col(string("prefix"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("last_used_at"))
                .col(timestamp_with_time_zone_null("expires_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_api_tokens_user")
                        .from("api_tokens", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_api_tokens_user").table("api_tokens").col("user_id").to_owned())
            .await?;

        m.create_table(
            Table::create()
                .table("instruments")
                .col(string("slug").primary_key())
                .col(string("name"))
                .col(string("family"))
                .col(integer("position"))
                .to_owned(),
        )
        .await?;
        let mut seed =
            Query::insert().into_table("instruments").columns(["slug", "name", "family", "position"]).to_owned();
        for (i, (slug, name, family)) in OPENMIC_INSTRUMENTS.iter().enumerate() {
            seed.values_panic([(*slug).into(), (*name).into(), (*family).into(), (i as i32).into()]);
        }
        m.exec_stmt(seed).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["instruments", "api_tokens", "sessions", "identities", "users"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
