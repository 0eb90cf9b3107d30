use sea_orm::entity::prelude::*;

/// One file of a release's archive, in archive order.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "release_files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub release_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub path: String,
    pub size: i64,
    pub sha256: String,
    pub crc32: i64,
    /// A file written by the compiler, in the object store.
    pub storage_key: Option<String>,
    /// Or a clip's canonical audio, read from where the clip keeps it.
    pub audio_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
