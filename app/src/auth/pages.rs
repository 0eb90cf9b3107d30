use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{CreateApiToken, RevokeApiToken, get_sign_in_options, list_api_tokens, use_me};
use crate::components::{ErrorNotice, SignInRequired};
use crate::error::AppError;

pub use super::next::safe_next;

#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || safe_next(query.read().get("next"));
    let options = Resource::new(|| (), |_| get_sign_in_options());
    view! {
        <Title text="Sign in · Tutti" />
        <section class="card narrow signin">
            <h1>"Sign in to Tutti"</h1>
            <p class="lead">"Record with others, label what you hear, and build open music datasets."</p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match options.await {
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                        Ok(opts) => {
                            let next = next();
                            let oauth = opts.oauth.then(|| {
                                let href = format!("/auth/google/login?next={}", crate::text::urlencode(&next));
                                view! {
                                    // rel=external: a full navigation to the server route, not client routing.
                                    <a class="button primary wide" href=href rel="external">
                                        {format!("Sign in with {}", opts.provider_name)}
                                    </a>
                                }
                            });
                            let demo = opts.demo.then(|| view! {
                                <form class="demo-signin" method="post" action="/auth/demo">
                                    <h2>"Demo sign-in"</h2>
                                    <p class="hint">"Available because this server runs in demo mode on this computer only."</p>
                                    <input type="hidden" name="next" value=next.clone() />
                                    <button type="submit" name="role" value="musician">"Musician"</button>
                                    <button type="submit" name="role" value="annotator">"Annotator"</button>
                                    <button type="submit" name="role" value="admin">"Admin"</button>
                                </form>
                            });
                            let none = (!opts.demo && !opts.oauth).then(|| view! {
                                <p class="error">"No sign-in method is configured on this server. \
                                An administrator must set an OAuth client (TUTTI_OAUTH_CLIENT_ID and \
                                TUTTI_OAUTH_CLIENT_SECRET) or start it in demo mode."</p>
                            });
                            view! { {oauth} {demo} {none} }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn ProfilePage() -> impl IntoView {
    let me = use_me();
    // Resources are made here, once, outside the Suspense: a Suspend closure may run more than
    // once on the server, and resources made inside it would not match the browser's.
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_api_tokens());
    view! {
        <Title text="Profile · Tutti" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(me)) => view! {
                        <section class="card">
                            <h1>{me.display_name.clone()}</h1>
                            <dl class="facts">
                                <dt>"E-mail"</dt><dd>{me.email.clone()}</dd>
                                <dt>"Role"</dt>
                                <dd>{if me.is_admin { "Admin" } else { "Musician and annotator" }}</dd>
                            </dl>
                        </section>
                        <ApiTokens create revoke tokens />
                    }.into_any(),
                    Ok(None) => view! { <SignInRequired /> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ApiTokens(
    create: ServerAction<CreateApiToken>,
    revoke: ServerAction<RevokeApiToken>,
    tokens: Resource<Result<Vec<super::ApiTokenInfo>, AppError>>,
) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"API tokens"</h2>
            <p class="hint">
                "Scripts use a token as " <code>"Authorization: Bearer …"</code>
                " against " <code>"/api/v1"</code> ". A token acts as you; revoke it when it is no longer needed."
            </p>
            <ActionForm action=create attr:class="inline-form">
                <label for="token-name">"Name"</label>
                <input id="token-name" name="name" required maxlength="80" placeholder="e.g. laptop script" />
                <button type="submit">"Create token"</button>
            </ActionForm>
            {move || create.value().get().map(|res| match res {
                Ok(new) => view! {
                    <div class="notice" role="status">
                        <p>"Copy this token now; it will not be shown again:"</p>
                        <code class="secret">{new.secret}</code>
                    </div>
                }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No tokens yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <table class="table">
                                <thead><tr><th>"Name"</th><th>"Token"</th><th>"Created"</th><th>"Last used"</th><th></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|t| view! {
                                        <tr>
                                            <td>{t.name}</td>
                                            <td><code>{format!("{}…", t.prefix)}</code></td>
                                            <td>{t.created_at.get(..10).unwrap_or_default().to_string()}</td>
                                            <td>{t.last_used_at.map(|d| d.get(..10).unwrap_or_default().to_string()).unwrap_or_else(|| "never".into())}</td>
                                            <td>
                                                <ActionForm action=revoke>
                                                    <input type="hidden" name="id" value=t.id.to_string() />
                                                    <button type="submit" class="danger small">"Revoke"</button>
                                                </ActionForm>
                                            </td>
                                        </tr>
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
