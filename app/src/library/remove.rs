//! Deleting audio from one's library, by a stated rule: nothing another record depends on is
//! pulled from under it, and nothing is left orphaned.
//!
//! - A file that is a track of a composition is refused (409, naming the compositions): the
//!   tracks go first, by whoever placed them.
//! - A file whose clips are tasks of a campaign is refused (409, naming the campaigns): the
//!   annotations collected on those clips are research data.
//! - A file whose clips are in a dataset release is refused (409, naming the releases): a
//!   release never changes, and its archive reads those clips.
//! - Otherwise the record goes with the clips cut from it (none of which is a task), and a
//!   composition whose mixdown it was no longer names one. The stored files are removed after the
//!   rows; what a crash leaves behind is swept by the cleanup of orphan objects.
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::access::audio::visible_audio;
use crate::context::ServerContext;
use crate::db::{audio, campaign, composition, dataset, dataset_release, release_file, task, track, user};
use crate::error::AppError;

/// Delete the audio `id`, which `user` must own (or be an admin).
#[tracing::instrument(skip_all, fields(user_id = %user.id, audio_id = %id))]
pub async fn delete_audio(ctx: &ServerContext, user: &user::Model, id: Uuid) -> Result<(), AppError> {
    let a = visible_audio(ctx, id, Some(user)).await?;
    if a.owner_id != user.id && !user.is_admin {
        return Err(AppError::Forbidden);
    }
    let txn = crate::db::begin_write(&ctx.db).await?;
    // The record and every clip cut from it.
    let clips: Vec<audio::Model> = audio::Entity::find().filter(audio::Column::ParentId.eq(a.id)).all(&txn).await?;
    let mut ids: Vec<Uuid> = clips.iter().map(|c| c.id).collect();
    ids.push(a.id);

    let released: Vec<Uuid> = release_file::Entity::find()
        .filter(release_file::Column::AudioId.is_in(ids.clone()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|f| f.release_id)
        .collect();
    if !released.is_empty() {
        let releases =
            dataset_release::Entity::find().filter(dataset_release::Column::Id.is_in(released)).all(&txn).await?;
        let sets = dataset::Entity::find()
            .filter(dataset::Column::Id.is_in(releases.iter().map(|r| r.dataset_id).collect::<Vec<_>>()))
            .all(&txn)
            .await?;
        let names = titles(releases.iter().map(|r| {
            let name = sets.iter().find(|d| d.id == r.dataset_id).map_or("a dataset", |d| d.name.as_str());
            format!("{name} v{}", r.version)
        }));
        return Err(AppError::Conflict(format!(
            "Clips cut from it are in the dataset release(s) {names}, whose archives read them; it cannot be deleted."
        )));
    }
    let used: Vec<Uuid> = track::Entity::find()
        .filter(track::Column::AudioId.is_in(ids.clone()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|t| t.composition_id)
        .collect();
    if !used.is_empty() {
        let titles = titles(
            composition::Entity::find()
                .filter(composition::Column::Id.is_in(used))
                .all(&txn)
                .await?
                .into_iter()
                .map(|c| c.title),
        );
        return Err(AppError::Conflict(format!(
            "It is a track of {titles}. Remove it from there first; then it can be deleted."
        )));
    }
    let tasks: Vec<Uuid> = task::Entity::find()
        .filter(task::Column::ClipId.is_in(ids.clone()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|t| t.campaign_id)
        .collect();
    if !tasks.is_empty() {
        let names = titles(
            campaign::Entity::find()
                .filter(campaign::Column::Id.is_in(tasks))
                .all(&txn)
                .await?
                .into_iter()
                .map(|c| c.name),
        );
        return Err(AppError::Conflict(format!(
            "Clips cut from it are tasks of the campaign(s) {names}, and their annotations depend on them; it cannot be deleted."
        )));
    }
    composition::Entity::update_many()
        .col_expr(composition::Column::MixdownId, Expr::value(Option::<Uuid>::None))
        .col_expr(composition::Column::MixdownRecipe, Expr::value(Option::<String>::None))
        .filter(composition::Column::MixdownId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    audio::Entity::delete_many().filter(audio::Column::Id.is_in(ids)).exec(&txn).await?;
    txn.commit().await?;
    for gone in clips.iter().chain(std::iter::once(&a)) {
        for key in [&gone.original_key, &gone.canonical_key, &gone.peaks_key] {
            crate::storage::delete_quietly(&ctx.store, key).await;
        }
    }
    Ok(())
}

/// "“A”, “B” and 3 more": names as a person reads them in a message.
fn titles(names: impl Iterator<Item = String>) -> String {
    let mut names: Vec<String> = names.collect();
    names.sort();
    names.dedup();
    let shown: Vec<String> = names.iter().take(3).map(|n| format!("“{n}”")).collect();
    match names.len().saturating_sub(3) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}
