use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{CreateApiToken, RevokeApiToken, Scope, get_sign_in_options, list_api_tokens, use_me};
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
                        <ApiTokens create revoke tokens is_admin=me.is_admin />
                    }.into_any(),
                    Ok(None) => view! { <SignInRequired /> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// How long a new token may live, as the form offers it: (value sent, words shown).
const EXPIRY_CHOICES: [(&str, &str); 5] =
    [("never", "Never"), ("7", "In 7 days"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year")];

/// The first ten characters of an RFC 3339 time: its date.
fn day(rfc3339: &str) -> String {
    rfc3339.get(..10).unwrap_or_default().to_string()
}

/// An RFC 3339 time in UTC (as the server writes them) to the minute: `2026-12-08 14:03 UTC`.
fn minute(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(d), Some(t)) => format!("{d} {t} UTC"),
        _ => day(rfc3339),
    }
}

#[component]
fn ApiTokens(
    create: ServerAction<CreateApiToken>,
    revoke: ServerAction<RevokeApiToken>,
    tokens: Resource<Result<Vec<super::ApiTokenInfo>, AppError>>,
    is_admin: bool,
) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"API tokens"</h2>
            <p class="hint">
                "Scripts use a token as " <code>"Authorization: Bearer …"</code>
                " against " <code>"/api/v1"</code> ". A token may do only what its scopes allow, "
                "and never more than you; revoke it when it is no longer needed."
            </p>
            <ActionForm action=create attr:class="stacked-form">
                <label for="token-name">"Name"</label>
                <input id="token-name" name="name" required maxlength="80" placeholder="e.g. laptop script" />
                <fieldset>
                    <legend>"Scopes (at least one)"</legend>
                    {Scope::choosable(is_admin).map(|scope| {
                        let id = format!("token-scope-{scope}");
                        view! {
                            <div>
                                <input type="checkbox" id=id.clone() name="scopes[]" value=scope.as_str()
                                    checked=scope == Scope::Read />
                                " "
                                <label for=id class="checkbox">
                                    <strong>{scope.as_str()}</strong>": "{scope.description()}
                                </label>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                <label for="token-expiry">"Expires"</label>
                <select id="token-expiry" name="expires_in_days">
                    {EXPIRY_CHOICES
                        .map(|(value, words)| view! { <option value=value>{words}</option> })
                        .into_iter()
                        .collect_view()}
                </select>
                <div><button type="submit">"Create token"</button></div>
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
                                <thead><tr>
                                    <th scope="col">"Name"</th><th scope="col">"Token"</th><th scope="col">"Scopes"</th>
                                    <th scope="col">"Created"</th><th scope="col">"Expires"</th>
                                    <th scope="col">"Last used"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|t| {
                                        let expires = t.expires_at.as_deref().map_or_else(|| "never".into(), day);
                                        let used = t.last_used_at.as_deref().map(minute);
                                        let scopes = t.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
                                        let revoke_label = format!("Revoke {}", t.name);
                                        view! {
                                            <tr>
                                                <td>{t.name}</td>
                                                <td><code>{format!("{}…", t.prefix)}</code></td>
                                                <td>{if scopes.is_empty() { "none".to_string() } else { scopes }}</td>
                                                <td>{minute(&t.created_at)}</td>
                                                <td>{expires}</td>
                                                <td>{used.unwrap_or_else(|| "never used".into())}</td>
                                                <td>
                                                    <ActionForm action=revoke>
                                                        <input type="hidden" name="id" value=t.id.to_string() />
                                                        <button type="submit" class="danger small" title=revoke_label>
                                                            "Revoke"
                                                        </button>
                                                    </ActionForm>
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
