//! A composition's members and invitation links: the owner's panel and the page a link opens.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use uuid::Uuid;

use crate::auth::use_me;
use crate::components::{ErrorNotice, SignInRequired};
use crate::studio::{MemberInfo, NewInvitation, Role, accept_invitation, invite_member, preview_invitation};

#[component]
pub(super) fn Members(composition: Uuid, members: Vec<MemberInfo>) -> impl IntoView {
    let role = RwSignal::new("contributor".to_string());
    let link: RwSignal<Option<String>> = RwSignal::new(None);
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let invite = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let role = Role::parse(&role.get_untracked()).unwrap_or(Role::Viewer);
        leptos::task::spawn_local(async move {
            match invite_member(composition, NewInvitation { role, expires_in_hours: None }).await {
                Ok(inv) => link.set(Some(inv.path)),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <section class="card">
            <h2>"Members"</h2>
            <ul>
                {members.into_iter().map(|m| view! { <li>{m.display_name}" — "{m.role.as_str()}</li> }).collect_view()}
            </ul>
            <form class="inline-form" on:submit=invite>
                <label for="invite-role">"Invite as"</label>
                <select id="invite-role" on:change=move |ev| role.set(event_target_value(&ev))>
                    <option value="editor">"Editor"</option>
                    <option value="contributor" selected>"Contributor"</option>
                    <option value="viewer">"Viewer"</option>
                </select>
                <button type="submit">"Create invitation link"</button>
            </form>
            {move || link.get().map(|p| view! {
                <div class="notice" role="status">
                    <p>"Send this single-use link (valid for a week):"</p>
                    <code class="secret invite-link">{p}</code>
                </div>
            })}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
}

#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let me = use_me();
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let navigate = use_navigate();
    let accept = move |_| {
        let token = params.read_untracked().get("token").unwrap_or_default();
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match accept_invitation(token).await {
                Ok(id) => navigate(&format!("/studio/{id}"), Default::default()),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    // Made here, outside the Suspense (see ARCHITECTURE): what the link offers.
    let preview = Resource::new(
        move || params.read().get("token").unwrap_or_default(),
        |token| async move {
            if token.is_empty() { Err(crate::error::AppError::NotFound) } else { preview_invitation(token).await }
        },
    );
    view! {
        <Title text="Invitation · Tutti" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                let accept = accept.clone();
                Suspend::new(async move {
                    match me.await {
                        Ok(Some(_)) => match preview.await {
                            Ok(p) => view! {
                                <section class="card narrow">
                                    <h1>"You are invited"</h1>
                                    <p>{format!("{} invites you to “{}” as {}.", p.owner_name, p.composition_title, p.role.as_str())}</p>
                                    {match p.unusable {
                                        Some(why) => view! { <p class="error" role="alert">{why}</p> }.into_any(),
                                        None => view! {
                                            <button type="button" class="primary" on:click=accept>"Accept invitation"</button>
                                        }.into_any(),
                                    }}
                                    {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                                </section>
                            }.into_any(),
                            Err(crate::error::AppError::NotFound) => view! {
                                <section class="card narrow">
                                    <h1>"This invitation link does not work"</h1>
                                    <p>"No invitation has this address: check that the whole link was copied, or ask for a new one."</p>
                                </section>
                            }.into_any(),
                            Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                        },
                        _ => view! { <SignInRequired /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
