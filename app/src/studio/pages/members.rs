//! A composition's members and invitation links: the owner's panel and the page a link opens.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use uuid::Uuid;

use crate::auth::use_me;
use crate::components::{ErrorNotice, set_page_status};
use crate::studio::{
    InvitationLink, MemberInfo, NewInvitation, Role, accept_invitation, invite_member, preview_invitation,
};

#[component]
pub(super) fn Members(composition: Uuid, members: Vec<MemberInfo>, refresh: Callback<()>) -> impl IntoView {
    let role = RwSignal::new("contributor".to_string());
    let link: RwSignal<Option<InvitationLink>> = RwSignal::new(None);
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let invite = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let role = Role::parse(&role.get_untracked()).unwrap_or(Role::Viewer);
        leptos::task::spawn_local(async move {
            match invite_member(composition, NewInvitation { role, expires_in_hours: None }).await {
                Ok(inv) => {
                    error.set(None);
                    link.set(Some(inv));
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <section class="card">
            <h2>"Members"</h2>
            <ul class="members">
                {members.into_iter().map(|m| view! { <MemberRow composition m refresh error /> }).collect_view()}
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
            {move || link.get().map(|inv| view! { <NewLink inv /> })}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
}

/// One member: the owner as such; anyone else with their role to change, or to be removed.
#[component]
fn MemberRow(
    composition: Uuid,
    m: MemberInfo,
    refresh: Callback<()>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let user = m.user_id;
    let change = move |role: Option<Role>| {
        leptos::task::spawn_local(async move {
            match crate::studio::set_member_role(composition, user, role).await {
                Ok(()) => {
                    error.set(None);
                    refresh.run(());
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    if m.role == Role::Owner {
        return view! { <li>{m.display_name}<span class="muted">" — owner"</span></li> }.into_any();
    }
    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    let name = m.display_name.clone();
    let remove = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let question = format!("Remove {name} from this composition? Their tracks stay.");
            if !web_sys::window().and_then(|w| w.confirm_with_message(&question).ok()).unwrap_or(false) {
                return;
            }
        }
        change(None);
    };
    let id = format!("member-role-{user}");
    view! {
        <li class="member">
            <label for=id.clone()>{m.display_name.clone()}</label>
            <select id=id on:change=move |ev| change(Role::parse(&event_target_value(&ev)))>
                {[Role::Viewer, Role::Contributor, Role::Editor].map(|r| {
                    let label = match r { Role::Viewer => "Viewer", Role::Contributor => "Contributor", _ => "Editor" };
                    view! { <option value=r.as_str() selected=r == m.role>{label}</option> }
                }).collect_view()}
            </select>
            <button type="button" class="small" on:click=remove aria-label=format!("Remove {}", m.display_name)>"Remove"</button>
        </li>
    }
    .into_any()
}

/// A link just made: the whole address, ready to copy, with what it grants.
#[component]
fn NewLink(inv: InvitationLink) -> impl IntoView {
    let url = absolute_url(&inv.path);
    let field = NodeRef::<leptos::html::Input>::new();
    // Kept in the page from the start so that screen readers announce each change.
    let status: RwSignal<&'static str> = RwSignal::new("");
    let copy = {
        let url = url.clone();
        move |_| {
            let url = url.clone();
            // Cleared first, so that a second copy is announced again.
            status.set("");
            leptos::task::spawn_local(async move {
                if copy_to_clipboard(&url).await {
                    status.set("Copied");
                } else {
                    // Refused (no permission, or a page not served over HTTPS): copying by hand.
                    if let Some(input) = field.get_untracked() {
                        let _ = input.focus();
                        input.select();
                    }
                    status
                        .set("Your browser did not allow copying: the link is selected, press Ctrl+C (⌘C) to copy it.");
                }
            });
        }
    };
    let select_all = move |_| {
        if let Some(input) = field.get_untracked() {
            input.select();
        }
    };
    let until = inv.expires_at.get(..10).unwrap_or_default().to_string();
    view! {
        <div class="notice invitation-created">
            <p>
                {format!("An invitation to join as {}. The link works once, for the first person to accept it, until {until}.", inv.role.as_str())}
            </p>
            <div class="inline-form">
                <label for="invite-link">"Invitation link"</label>
                <input id="invite-link" class="invite-link" type="text" readonly=true value=url
                    spellcheck="false" autocomplete="off" node_ref=field on:focus=select_all />
                <button type="button" on:click=copy>"Copy link"</button>
            </div>
            <p class="hint" aria-live="polite">{move || status.get()}</p>
        </div>
    }
}

/// The link's full address on this site: what a person pastes into a message must open by itself.
fn absolute_url(path: &str) -> String {
    #[cfg(feature = "hydrate")]
    if let Ok(origin) = leptos::prelude::window().location().origin() {
        return format!("{origin}{path}");
    }
    path.to_string()
}

/// Whether the browser put `text` on the clipboard. False where the API is missing (pages not
/// served over HTTPS or from localhost) or refused.
async fn copy_to_clipboard(text: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast as _;
        let navigator = leptos::prelude::window().navigator();
        let Ok(clipboard) = js_sys::Reflect::get(&navigator, &"clipboard".into()) else { return false };
        let Some(clipboard) = clipboard.dyn_ref::<web_sys::Clipboard>() else { return false };
        wasm_bindgen_futures::JsFuture::from(clipboard.write_text(text)).await.is_ok()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = text;
        false
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
                        Ok(None) => view! { <InvitedSignIn /> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// What a signed-out visitor with a link sees. Nothing of the composition (title, owner, role)
/// and nothing of whether the token is valid, used or expired: the same page for any token, so it
/// reveals nothing to someone guessing links. Signing in comes back here.
#[component]
fn InvitedSignIn() -> impl IntoView {
    set_page_status(401);
    let params = use_params_map();
    let href = move || {
        let here = format!("/invite/{}", params.read().get("token").unwrap_or_default());
        format!("/signin?next={}", crate::text::urlencode(&here))
    };
    view! {
        <section class="card narrow invitation">
            <h1>"You are invited"</h1>
            <p>"You have been invited to a composition on Tutti. Sign in to see the invitation and accept it."</p>
            <a class="button primary" href=href>"Sign in to accept"</a>
        </section>
    }
}
