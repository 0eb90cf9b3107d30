//! Help for annotators: a short description and an example clip per instrument, set by admins.
//! An example must be public when it is chosen, so every annotator can hear it; it is shown to
//! each viewer only while the audio access rule (`access::audio`) lets them reach it, so an
//! example made private or deleted later simply disappears for those who may no longer hear it.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AppError;

/// An instrument with what annotators are told about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstrumentHelp {
    pub slug: String,
    pub name: String,
    pub family: String,
    /// Plain text, at most 280 characters; empty when there is none.
    pub description: String,
    /// An example the viewer can hear, if there is one.
    pub example_audio_id: Option<Uuid>,
}

impl InstrumentHelp {
    pub fn is_empty(&self) -> bool {
        self.description.is_empty() && self.example_audio_id.is_none()
    }
}

/// What an admin sets for an instrument: both fields are replaced (an empty description and no
/// example remove them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelpChange {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub example_audio_id: Option<Uuid>,
}

/// Public audio an admin may pick as an example.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExampleChoice {
    pub id: Uuid,
    pub name: String,
    pub duration_seconds: f64,
}

/// Every instrument with its help, examples filtered for whoever asks.
#[server(endpoint = "instrument_help")]
pub async fn get_instrument_help() -> Result<Vec<InstrumentHelp>, AppError> {
    let viewer = crate::auth::ssr::current_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::help_for(&ctx, viewer.as_ref()).await
}

#[server(endpoint = "set_instrument_help", input = server_fn::codec::Json)]
pub async fn set_instrument_help(slug: String, change: HelpChange) -> Result<InstrumentHelp, AppError> {
    let admin = crate::auth::ssr::require_admin().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::set_help(&ctx, &admin, &slug, change).await
}

/// Public audio (not clips) whose name, title or artist holds `query`: at most 10, newest first.
#[server(endpoint = "search_example_audio")]
pub async fn search_example_audio(query: String) -> Result<Vec<ExampleChoice>, AppError> {
    crate::auth::ssr::require_admin().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::search_public(&ctx, &query).await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use sea_orm::sea_query::{Expr, Func};
    use sea_orm::{
        ActiveModelTrait, ColumnTrait, Condition, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    };
    use uuid::Uuid;

    use super::{ExampleChoice, HelpChange, InstrumentHelp};
    use crate::access::audio::{Reach, reach_audio};
    use crate::context::ServerContext;
    use crate::db::{audio, instrument, user};
    use crate::domain::InstrumentDescription;
    use crate::error::AppError;

    /// The example as `viewer` may hear it: only while the access rule lets them reach it.
    async fn audible(
        ctx: &ServerContext,
        id: Option<Uuid>,
        viewer: Option<&user::Model>,
    ) -> Result<Option<Uuid>, AppError> {
        let Some(id) = id else { return Ok(None) };
        match reach_audio(ctx, id, viewer).await {
            Ok(_) => Ok(Some(id)),
            Err(AppError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn shown(
        ctx: &ServerContext,
        r: instrument::Model,
        viewer: Option<&user::Model>,
    ) -> Result<InstrumentHelp, AppError> {
        Ok(InstrumentHelp {
            example_audio_id: audible(ctx, r.example_audio_id, viewer).await?,
            slug: r.slug,
            name: r.name,
            family: r.family,
            description: r.description,
        })
    }

    pub async fn help_for(ctx: &ServerContext, viewer: Option<&user::Model>) -> Result<Vec<InstrumentHelp>, AppError> {
        let rows = instrument::Entity::find().order_by_asc(instrument::Column::Position).all(&ctx.db).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(shown(ctx, r, viewer).await?);
        }
        Ok(out)
    }

    /// Sets an instrument's help (admins). The example must be public audio, heard by everyone:
    /// asked of the access rule as someone signed out would be.
    #[tracing::instrument(skip_all, fields(instrument = %slug))]
    pub async fn set_help(
        ctx: &ServerContext,
        admin: &user::Model,
        slug: &str,
        change: HelpChange,
    ) -> Result<InstrumentHelp, AppError> {
        let row = instrument::Entity::find_by_id(slug.to_string()).one(&ctx.db).await?.ok_or(AppError::NotFound)?;
        let description = InstrumentDescription::parse(&change.description)?.into_string();
        if let Some(id) = change.example_audio_id {
            match reach_audio(ctx, id, None).await {
                Ok((a, Reach::Whole)) if a.is_public => {}
                Ok(_) | Err(AppError::NotFound) => {
                    return Err(AppError::Invalid(
                        "Only public audio can be an example: every annotator must be able to hear it. \
                         Make the audio public first, or choose another."
                            .into(),
                    ));
                }
                Err(e) => return Err(e),
            }
        }
        let mut a: instrument::ActiveModel = row.into();
        a.description = Set(description);
        a.example_audio_id = Set(change.example_audio_id);
        let row = a.update(&ctx.db).await?;
        shown(ctx, row, Some(admin)).await
    }

    pub async fn search_public(ctx: &ServerContext, query: &str) -> Result<Vec<ExampleChoice>, AppError> {
        let query = query.trim().to_lowercase();
        if query.chars().count() > 200 {
            return Err(AppError::Invalid("Search for at most 200 characters.".into()));
        }
        let mut find = audio::Entity::find()
            .filter(audio::Column::IsPublic.eq(true))
            .filter(audio::Column::Kind.ne(crate::domain::AudioKind::Clip));
        if !query.is_empty() {
            // LIKE with its wildcards taken literally; lower() on both sides for either backend.
            let pattern = format!("%{}%", query.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            let like = |col: audio::Column| {
                Expr::expr(Func::lower(Expr::col(col)))
                    .like(sea_orm::sea_query::LikeExpr::new(pattern.clone()).escape('\\'))
            };
            find = find.filter(
                Condition::any()
                    .add(like(audio::Column::OriginalFilename))
                    .add(like(audio::Column::Title))
                    .add(like(audio::Column::Artist)),
            );
        }
        let rows = find.order_by_desc(audio::Column::CreatedAt).limit(10).all(&ctx.db).await?;
        Ok(rows
            .into_iter()
            .map(|a| ExampleChoice {
                id: a.id,
                name: a.title.clone().unwrap_or(a.original_filename.clone()),
                duration_seconds: a.duration_seconds,
            })
            .collect())
    }
}
