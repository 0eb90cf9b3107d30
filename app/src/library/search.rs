//! Finding one's audio in a long library: search by name, title or artist, sort, and pages.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::AudioCard;
use crate::error::AppError;

/// How a library listing is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudioSort {
    #[default]
    Newest,
    Oldest,
    Name,
    Longest,
}

impl AudioSort {
    pub const ALL: [(AudioSort, &'static str); 4] = [
        (AudioSort::Newest, "Newest first"),
        (AudioSort::Oldest, "Oldest first"),
        (AudioSort::Name, "By name"),
        (AudioSort::Longest, "Longest first"),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AudioSort::Newest => "newest",
            AudioSort::Oldest => "oldest",
            AudioSort::Name => "name",
            AudioSort::Longest => "longest",
        }
    }

    pub fn parse(s: &str) -> Option<AudioSort> {
        Self::ALL.iter().map(|(s, _)| *s).find(|x| x.as_str() == s)
    }
}

/// Items a library page shows.
pub const LIBRARY_PAGE: u64 = 24;

/// One page of a library search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AudioResults {
    pub cards: Vec<AudioCard>,
    /// Matches in all, over every page.
    pub total: u64,
    pub offset: u64,
}

/// The asker's own audio (clips aside) whose file name, title or artist contains `query` (any
/// case), in `sort` order, [`LIBRARY_PAGE`] items from `offset`.
#[server(endpoint = "search_my_audio")]
pub async fn search_my_audio(query: String, sort: AudioSort, offset: u64) -> Result<AudioResults, AppError> {
    use crate::db::audio;
    use sea_orm::sea_query::{Expr, Func};
    use sea_orm::{
        ColumnTrait, Condition, EntityTrait, ExprTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    };
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    let query = query.trim().to_lowercase();
    if query.chars().count() > 200 {
        return Err(AppError::Invalid("Search for at most 200 characters.".into()));
    }
    let mut find = audio::Entity::find()
        .filter(audio::Column::OwnerId.eq(user.id))
        .filter(audio::Column::Kind.ne(crate::domain::AudioKind::Clip));
    if !query.is_empty() {
        // LIKE with its wildcards taken literally; lower() on both sides for the same result on
        // SQLite and PostgreSQL.
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
    let total = find.clone().count(&ctx.db).await?;
    let find = match sort {
        AudioSort::Newest => find.order_by_desc(audio::Column::CreatedAt),
        AudioSort::Oldest => find.order_by_asc(audio::Column::CreatedAt),
        AudioSort::Name => find.order_by_asc(Expr::expr(Func::lower(Expr::col(audio::Column::OriginalFilename)))),
        AudioSort::Longest => find.order_by_desc(audio::Column::DurationSeconds),
    };
    let rows = find
        .order_by_asc(audio::Column::Id)
        .offset(crate::error::page_offset(offset)?)
        .limit(LIBRARY_PAGE)
        .all(&ctx.db)
        .await?;
    Ok(AudioResults { cards: super::ssr::owners_cards(&ctx, rows).await?, total, offset })
}
