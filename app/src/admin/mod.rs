//! Administration: who the users are, and granting or withdrawing admin rights; the instruments'
//! help for annotators (`instruments`).
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::use_me;
use crate::components::{ErrorNotice, Forbidden, SignInRequired};
use crate::error::AppError;

mod instruments;
pub use instruments::InstrumentsAdminPage;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
    pub created_at: String,
}

#[server(endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserRow>, AppError> {
    crate::auth::ssr::require_admin().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::list(&ctx.db).await
}

#[server(endpoint = "set_user_admin")]
pub async fn set_user_admin(user_id: Uuid, admin: bool) -> Result<UserRow, AppError> {
    let me = crate::auth::ssr::require_admin().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::set_admin(&ctx.db, &me, user_id, admin).await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, QueryOrder, Set};
    use uuid::Uuid;

    use super::UserRow;
    use crate::db::user;
    use crate::error::AppError;

    fn row(u: user::Model) -> UserRow {
        UserRow {
            id: u.id,
            email: u.email,
            display_name: u.display_name,
            is_admin: u.is_admin,
            created_at: u.created_at.to_rfc3339(),
        }
    }

    pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<UserRow>, AppError> {
        let users = user::Entity::find().order_by_asc(user::Column::CreatedAt).all(db).await?;
        Ok(users.into_iter().map(row).collect())
    }

    /// An admin cannot withdraw their own rights, so the last admin cannot lock everyone out.
    pub async fn set_admin(
        db: &impl ConnectionTrait,
        actor: &user::Model,
        user_id: Uuid,
        admin: bool,
    ) -> Result<UserRow, AppError> {
        if actor.id == user_id && !admin {
            return Err(AppError::Conflict("You cannot withdraw your own admin rights.".into()));
        }
        let target = user::Entity::find_by_id(user_id).one(db).await?.ok_or(AppError::NotFound)?;
        let mut active: user::ActiveModel = target.into();
        active.is_admin = Set(admin);
        Ok(row(active.update(db).await?))
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let me = use_me();
    // Resources are made here, once, outside the Suspense: a Suspend closure may run more than
    // once on the server, and resources made inside it would not match the browser's.
    let set_admin = ServerAction::<SetUserAdmin>::new();
    let users = Resource::new(move || set_admin.version().get(), |_| list_users());
    view! {
        <Title text="Users · Tutti" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(me)) if me.is_admin => view! { <UsersTable me_id=me.id set_admin users /> }.into_any(),
                    Ok(Some(_)) => view! { <Forbidden /> }.into_any(),
                    Ok(None) => view! { <SignInRequired /> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn UsersTable(
    me_id: Uuid,
    set_admin: ServerAction<SetUserAdmin>,
    users: Resource<Result<Vec<UserRow>, AppError>>,
) -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Users"</h1>
            <p class="muted">"Also for admins: "<a href="/admin/instruments">"instrument help for annotators"</a>"."</p>
            {move || set_admin.value().get().and_then(|r| r.err()).map(|e| view! {
                <p class="error" role="alert">{e.to_string()}</p>
            })}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Ok(list) => view! {
                            <table class="table">
                                <thead><tr><th>"Name"</th><th>"E-mail"</th><th>"Role"</th><th>"Joined"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|u| {
                                        let grant = !u.is_admin;
                                        let label = if grant { "Make admin" } else { "Withdraw admin" };
                                        view! {
                                            <tr>
                                                <td>{u.display_name}</td>
                                                <td>{u.email}</td>
                                                <td>{if u.is_admin { "Admin" } else { "Member" }}</td>
                                                <td>{u.created_at.get(..10).unwrap_or_default().to_string()}</td>
                                                <td>
                                                    {(u.id != me_id).then(|| view! {
                                                        <ActionForm action=set_admin>
                                                            <input type="hidden" name="user_id" value=u.id.to_string() />
                                                            <input type="hidden" name="admin" value=grant.to_string() />
                                                            <button type="submit" class="small">{label}</button>
                                                        </ActionForm>
                                                    })}
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
