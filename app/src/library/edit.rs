//! The library's rules for what an upload says and how a record changes after it: listing, the
//! fields of an upload form, and edits (visibility, title, licence), which the clips cut from an
//! audio follow.
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Deserialize;
use uuid::Uuid;

use super::ssr::{Ingested, NewAudio, Staged, ingest};
use crate::access::audio::visible_audio;
use crate::context::ServerContext;
use crate::db::{audio, user};
use crate::domain::AudioKind;
use crate::domain::Licence;
use crate::error::AppError;

/// Whose audio a listing shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AudioScope {
    /// The user's own.
    Mine,
    /// Everyone's: admins only.
    All,
}

/// The audio in `scope`, newest first.
#[tracing::instrument(skip_all, fields(user_id = %user.id, scope = ?scope))]
pub async fn list_audio(
    ctx: &ServerContext,
    user: &user::Model,
    scope: AudioScope,
) -> Result<Vec<audio::Model>, AppError> {
    let query = audio::Entity::find().order_by_desc(audio::Column::CreatedAt);
    let query = match scope {
        AudioScope::All if user.is_admin => query,
        AudioScope::All => return Err(AppError::Forbidden),
        AudioScope::Mine => query.filter(audio::Column::OwnerId.eq(user.id)),
    };
    Ok(query.all(&ctx.db).await?)
}

/// The `public` field of an upload form: true or false, in the words forms use for them.
pub fn parse_public(value: &str) -> Result<bool, AppError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "on" | "1" | "yes" => Ok(true),
        "false" | "off" | "0" | "no" | "" => Ok(false),
        other => {
            Err(AppError::Invalid(format!("public must be true or false (also on/off, 1/0, yes/no), not '{other}'")))
        }
    }
}

/// The `kind` field of an upload form. A client uploads a file or a take recorded in the studio;
/// clips and mixdowns are only ever made by the server.
pub fn upload_kind(value: &str) -> Result<AudioKind, AppError> {
    match value.trim() {
        "" | "upload" => Ok(AudioKind::Upload),
        "recording" => Ok(AudioKind::Recording),
        other => Err(AppError::Invalid(format!("Unknown audio kind '{other}': an upload is 'upload' or 'recording'."))),
    }
}

/// What an upload form says about its file, besides the bytes.
pub struct Upload {
    /// The file name the client gave, as sent.
    pub filename: String,
    pub license: Option<String>,
    pub public: bool,
    /// From [`upload_kind`].
    pub kind: AudioKind,
}

/// Ingest an uploaded file for `user`: the licence is checked (the server's default when none
/// is given) and the name cleaned. Uploading the same bytes twice gives the same record back.
#[tracing::instrument(skip_all, fields(user_id = %user.id, kind = upload.kind.as_str()))]
pub async fn upload_audio(
    ctx: &ServerContext,
    user: &user::Model,
    staged: Staged,
    upload: Upload,
) -> Result<Ingested, AppError> {
    let license = Licence::chosen_or(upload.license.as_deref(), ctx.settings.default_license)?;
    let new = NewAudio {
        owner_id: user.id,
        kind: upload.kind,
        filename: ::audio::text::clean_file_name(&upload.filename),
        license,
        is_public: upload.public,
        parent_id: None,
        parent_offset_frames: None,
        composition_id: None,
    };
    ingest(ctx, staged, new).await
}

/// A change to an audio record; fields left out stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudioPatch {
    pub public: Option<bool>,
    /// Trimmed; empty clears it.
    pub title: Option<String>,
    pub license: Option<String>,
}

/// The longest title an audio takes.
const TITLE_CHARS: usize = 200;

/// Apply `patch` to the audio `id`, which `user` must own (or be an admin): public audio can be
/// seen by anyone but changed only by its owner. The clips cut from it follow its visibility and
/// licence in the same transaction.
#[tracing::instrument(skip_all, fields(user_id = %user.id, audio_id = %id))]
pub async fn update_audio(
    ctx: &ServerContext,
    user: &user::Model,
    id: Uuid,
    patch: AudioPatch,
) -> Result<audio::Model, AppError> {
    let a = visible_audio(ctx, id, Some(user)).await?;
    if a.owner_id != user.id && !user.is_admin {
        return Err(AppError::Forbidden);
    }
    let mut active: audio::ActiveModel = a.into();
    if let Some(p) = patch.public {
        active.is_public = Set(p);
    }
    if let Some(t) = patch.title {
        let t = crate::error::within(&t, TITLE_CHARS, "Keep the title under 200 characters.")?;
        active.title = Set((!t.is_empty()).then_some(t));
    }
    if let Some(l) = patch.license {
        active.license = Set(Licence::chosen_or(Some(&l), ctx.settings.default_license)?);
    }
    let txn = crate::db::begin_write(&ctx.db).await?;
    let a = active.update(&txn).await?;
    clips_follow_source(&txn, &a).await?;
    txn.commit().await?;
    Ok(a)
}

/// The clips cut from `source` share its visibility and licence, or the clips of a source made
/// private would still give it away, piece by piece.
async fn clips_follow_source(db: &impl sea_orm::ConnectionTrait, source: &audio::Model) -> Result<(), AppError> {
    audio::Entity::update_many()
        .col_expr(audio::Column::IsPublic, Expr::value(source.is_public))
        .col_expr(audio::Column::License, Expr::value(source.license))
        .filter(audio::Column::ParentId.eq(source.id))
        .filter(audio::Column::Kind.eq(AudioKind::Clip))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_fields_take_the_words_forms_use() {
        for yes in ["true", "ON", " 1 ", "yes"] {
            assert_eq!(parse_public(yes), Ok(true), "{yes}");
        }
        for no in ["false", "off", "0", "no", ""] {
            assert_eq!(parse_public(no), Ok(false), "{no}");
        }
        assert!(matches!(parse_public("maybe"), Err(AppError::Invalid(m)) if m.contains("'maybe'")));
        assert_eq!(upload_kind(""), Ok(AudioKind::Upload));
        assert_eq!(upload_kind(" recording "), Ok(AudioKind::Recording));
        assert!(matches!(upload_kind("clip"), Err(AppError::Invalid(_))));
        assert!(matches!(upload_kind("mixdown"), Err(AppError::Invalid(_))));
    }
}
