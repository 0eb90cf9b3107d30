//! Members of a composition and the invitation links that make new ones.
use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::db::{composition, invitation, member, user};
use crate::error::AppError;
use crate::studio::{InvitationLink, InvitationPreview, MemberInfo, NewInvitation, Role};

pub async fn members(db: &impl ConnectionTrait, c: &composition::Model) -> Result<Vec<MemberInfo>, AppError> {
    let rows = member::Entity::find().filter(member::Column::CompositionId.eq(c.id)).all(db).await?;
    let mut out = Vec::new();
    for m in rows {
        let name = user::Entity::find_by_id(m.user_id).one(db).await?.map(|u| u.display_name).unwrap_or_default();
        out.push(MemberInfo { user_id: m.user_id, display_name: name, role: m.role });
    }
    Ok(out)
}

#[tracing::instrument(skip_all, fields(composition = %c.id, member = %user_id))]
pub async fn set_member(
    db: &impl ConnectionTrait,
    c: &composition::Model,
    user_id: Uuid,
    role: Option<Role>,
) -> Result<(), AppError> {
    if user_id == c.owner_id {
        return Err(AppError::Conflict("The owner's role cannot be changed.".into()));
    }
    if role == Some(Role::Owner) {
        return Err(AppError::Invalid("A composition has one owner.".into()));
    }
    member::Entity::delete_by_id((c.id, user_id)).exec(db).await?;
    if let Some(role) = role {
        user::Entity::find_by_id(user_id).one(db).await?.ok_or(AppError::NotFound)?;
        member::ActiveModel {
            composition_id: Set(c.id),
            user_id: Set(user_id),
            role: Set(role),
            created_at: Set(Utc::now()),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(composition = %c.id, user = %by.id))]
pub async fn invite(
    db: &impl ConnectionTrait,
    c: &composition::Model,
    by: &user::Model,
    new: NewInvitation,
) -> Result<InvitationLink, AppError> {
    use base64::Engine as _;
    use rand::RngCore as _;
    if new.role == Role::Owner {
        return Err(AppError::Invalid("Invite as editor, contributor or viewer.".into()));
    }
    let hours = new.expires_in_hours.unwrap_or(24 * 7);
    if !(1..=24 * 90).contains(&hours) {
        return Err(AppError::Invalid("An invitation lasts 1 hour to 90 days.".into()));
    }
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let inv = invitation::ActiveModel {
        id: Set(Uuid::new_v4()),
        composition_id: Set(c.id),
        token_hash: Set(crate::auth::ssr::hash_token(&token)),
        role: Set(new.role),
        expires_at: Set(Utc::now() + Duration::hours(hours)),
        used_by: Set(None),
        used_at: Set(None),
        created_by: Set(by.id),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(InvitationLink {
        id: inv.id,
        path: format!("/invite/{token}"),
        token,
        role: new.role,
        expires_at: inv.expires_at.to_rfc3339(),
    })
}

/// What an invitation offers: the composition's title and owner, the role, and whether it can still
/// be accepted. Knowing the token is what entitles one to this.
pub async fn preview(db: &impl ConnectionTrait, token: &str) -> Result<InvitationPreview, AppError> {
    let inv = invitation::Entity::find()
        .filter(invitation::Column::TokenHash.eq(crate::auth::ssr::hash_token(token)))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let c = composition::Entity::find_by_id(inv.composition_id).one(db).await?.ok_or(AppError::NotFound)?;
    let owner = user::Entity::find_by_id(c.owner_id).one(db).await?.map(|u| u.display_name).unwrap_or_default();
    let unusable = if inv.used_by.is_some() {
        Some("This invitation was already used. Ask for a new one.".to_string())
    } else if inv.expires_at <= Utc::now() {
        Some("This invitation has expired. Ask for a new one.".to_string())
    } else {
        None
    };
    Ok(InvitationPreview {
        composition_title: c.title,
        owner_name: owner,
        role: inv.role,
        expires_at: inv.expires_at.to_rfc3339(),
        unusable,
    })
}

/// Accept an invitation: single use, before it expires. Returns the composition.
///
/// The invitation is claimed first, by a conditional update, and the membership is made in the
/// same transaction: of two people accepting one link at once, exactly one becomes a member.
#[tracing::instrument(skip_all, fields(user = %u.id))]
pub async fn accept(
    db: &sea_orm::DatabaseConnection,
    u: &user::Model,
    token: &str,
) -> Result<composition::Model, AppError> {
    use sea_orm::TransactionTrait;
    let hash = crate::auth::ssr::hash_token(token);
    let now = Utc::now();
    // Writing first also takes SQLite's write lock before any read, so two transactions never
    // both read and then both try to write.
    let txn = db.begin().await?;
    let claimed = invitation::Entity::update_many()
        .col_expr(invitation::Column::UsedBy, sea_orm::sea_query::Expr::value(u.id))
        .col_expr(invitation::Column::UsedAt, sea_orm::sea_query::Expr::value(now))
        .filter(invitation::Column::TokenHash.eq(hash.clone()))
        .filter(invitation::Column::UsedBy.is_null())
        .filter(invitation::Column::ExpiresAt.gt(now))
        .exec(&txn)
        .await?;
    let inv = invitation::Entity::find()
        .filter(invitation::Column::TokenHash.eq(hash))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if claimed.rows_affected == 0 {
        return Err(if inv.used_by.is_some() {
            AppError::Conflict("This invitation was already used. Ask for a new one.".into())
        } else {
            AppError::Conflict("This invitation has expired. Ask for a new one.".into())
        });
    }
    let c = composition::Entity::find_by_id(inv.composition_id).one(&txn).await?.ok_or(AppError::NotFound)?;
    let role = inv.role;
    let current = member::Entity::find_by_id((c.id, u.id)).one(&txn).await?.map(|m| m.role);
    // Accepting never lowers a role someone already has.
    if current.is_none_or(|r| r < role) && u.id != c.owner_id {
        set_member(&txn, &c, u.id, Some(role)).await?;
    }
    txn.commit().await?;
    Ok(c)
}
