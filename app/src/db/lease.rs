use sea_orm::entity::prelude::*;

/// A time-limited claim of one annotator on one task.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "leases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub task_id: Uuid,
    pub user_id: Uuid,
    pub expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    /// Holds one of the task's places (see `annotate::serve`).
    pub counted: bool,
    /// A skip: no live lease, only a note that keeps the task from being served again too soon.
    pub skipped: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
