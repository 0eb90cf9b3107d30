use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "instruments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub slug: String,
    pub name: String,
    pub family: String,
    pub position: i32,
    /// What annotators read about it: plain text, at most 280 characters (may be empty).
    pub description: String,
    /// A public audio item that lets annotators hear it; emptied when the audio is deleted.
    pub example_audio_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
