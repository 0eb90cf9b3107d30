use sea_orm::entity::prelude::*;

use crate::domain::DatasetVisibility;

/// A dataset: what its releases are versions of.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "datasets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    /// Markdown.
    pub description: String,
    pub citation: String,
    pub visibility: DatasetVisibility,
    /// Secret salt of annotators' pseudonyms in this dataset's releases (never leaves the server).
    pub salt: String,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
