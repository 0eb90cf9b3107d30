//! Bookkeeping that lets a lease be granted and an answer be stored in one statement each:
//! a reservation counter on tasks, whether a lease holds one of those reservations, the
//! annotator's submission number on each annotation, and a per-(annotator, campaign) counter.
use sea_orm_migration::{prelude::*, schema::*};

use crate::fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // annotations_count plus the leases that hold a reservation (counted); never above
        // annotations_required for a normal task. Gold tasks do not use it.
        m.alter_table(Table::alter().table("tasks").add_column(integer("reserved").default(0)).to_owned()).await?;
        // A lease on a normal task holds a reservation until it is answered, given back, or found
        // expired (then it stays, so its holder is told it expired, but no longer counts).
        m.alter_table(Table::alter().table("leases").add_column(boolean("counted").default(true)).to_owned()).await?;
        // The annotator's submission number in the campaign (1, 2, …), for the receipt.
        m.alter_table(Table::alter().table("annotations").add_column(integer_null("seq")).to_owned()).await?;
        m.create_table(
            Table::create()
                .table("annotator_campaigns")
                .col(uuid("user_id"))
                .col(uuid("campaign_id"))
                .col(integer("submissions"))
                .primary_key(Index::create().col("user_id").col("campaign_id"))
                .foreign_key(&mut fk(
                    "fk_annotator_campaigns_user",
                    ("annotator_campaigns", "user_id"),
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "fk_annotator_campaigns_campaign",
                    ("annotator_campaigns", "campaign_id"),
                    "campaigns",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        // Existing data: every lease counts (live or not; expired ones are released when found),
        // except on gold tasks.
        db.execute_unprepared(
            "UPDATE leases SET counted = false WHERE task_id IN (SELECT id FROM tasks WHERE is_gold = true)",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE tasks SET reserved = annotations_count + \
             (SELECT count(*) FROM leases l WHERE l.task_id = tasks.id AND l.counted = true)",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE annotations SET seq = (SELECT count(*) FROM annotations b \
             WHERE b.user_id = annotations.user_id AND b.campaign_id = annotations.campaign_id \
               AND (b.created_at < annotations.created_at OR (b.created_at = annotations.created_at AND b.id <= annotations.id)))",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO annotator_campaigns (user_id, campaign_id, submissions) \
             SELECT user_id, campaign_id, count(*) FROM annotations GROUP BY user_id, campaign_id",
        )
        .await?;
        // Expired leases still holding a reservation are looked up by expiry.
        db.execute_unprepared("CREATE INDEX ix_leases_counted_expiry ON leases (expires_at) WHERE counted = true")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX ix_leases_counted_expiry").await?;
        m.drop_table(Table::drop().table("annotator_campaigns").to_owned()).await?;
        m.alter_table(Table::alter().table("annotations").drop_column("seq").to_owned()).await?;
        m.alter_table(Table::alter().table("leases").drop_column("counted").to_owned()).await?;
        m.alter_table(Table::alter().table("tasks").drop_column("reserved").to_owned()).await?;
        Ok(())
    }
}
