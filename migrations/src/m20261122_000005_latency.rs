//! Measured round-trip latency of a user's audio input, one row per (user, input device).
use sea_orm_migration::{prelude::*, schema::*};

use crate::fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("latency_calibrations")
                .col(pk_uuid("id"))
                .col(uuid("user_id"))
                // The browser's device id of the input (stable per profile and site), else its label.
                .col(string("device_key"))
                .col(string("device_label"))
                .col(double("latency_ms"))
                .col(double("spread_ms"))
                .col(double("quality_db"))
                .col(integer("sample_rate"))
                .col(integer("runs"))
                .col(integer("accepted"))
                .col(text("user_agent"))
                .col(timestamp_with_time_zone("measured_at"))
                .foreign_key(&mut fk(
                    "fk_latency_user",
                    ("latency_calibrations", "user_id"),
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_latency_user_device")
                .table("latency_calibrations")
                .col("user_id")
                .col("device_key")
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("latency_calibrations").to_owned()).await
    }
}
