//! Which scope a personal API token needs for each REST route, and the one place it is enforced.
//!
//! [`TABLE`] maps every `/api/v1` route and method to a scope; [`enforce`], a route layer on the
//! API's router, resolves a bearer token once, refuses it when it is unknown (401), expired (401,
//! saying so) or lacks the route's scope (403 `insufficient_scope`, naming it), and hands the
//! resolved token to the handlers' extractors. Requests with the session cookie pass untouched.
//! A route missing from the table is denied by default: reads need `read`, writes `admin`; a test
//! reads the routers' sources and fails when a route is missing from the table or the table names
//! one that is gone.
use axum::extract::{MatchedPath, Request};
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use app::auth::Scope;
use app::auth::ssr::{TokenAuth, bearer_secret, resolve_token};
use app::context::ServerContext;
use app::error::AppError;

use crate::extract::ApiRejection;

/// Where the REST API is nested; the table's paths are below it.
pub const API_PREFIX: &str = "/api/v1";

/// A condition under which a row applies, beyond its method and route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    Always,
    /// The query string has `name=value`.
    Query(&'static str, &'static str),
    /// The last segment of the address is this (a route whose last segment is a parameter).
    LastSegment(&'static str),
}

/// One row: a method, a route as the router spells it (below [`API_PREFIX`]), when it applies,
/// and the scope it needs.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub method: &'static str,
    pub path: &'static str,
    pub when: When,
    pub scope: Scope,
}

const fn rule(method: &'static str, path: &'static str, scope: Scope) -> Rule {
    Rule { method, path, when: When::Always, scope }
}

const fn rule_when(method: &'static str, path: &'static str, when: When, scope: Scope) -> Rule {
    Rule { method, path, when, scope }
}

use Scope::{Admin, Annotate, Read, Upload};

/// Every REST route and the scope a token needs for it. Rows with a condition come before the
/// plain row of their route: the first row that applies decides. `HEAD` is looked up as `GET`.
/// `submit` is reserved for challenge submissions, which no route takes yet.
pub const TABLE: &[Rule] = &[
    // The account.
    rule("GET", "/me", Read),
    rule("GET", "/tokens", Read),
    // Token management acts on credentials, not data: only a token that may do everything an admin
    // may (and, when it makes one, only with scopes it has itself).
    rule("POST", "/tokens", Admin),
    rule("DELETE", "/tokens/{id}", Admin),
    rule("GET", "/me/latency", Read),
    rule("PUT", "/me/latency", Upload),
    // Admin: users, cleanup.
    rule("GET", "/users", Admin),
    rule("PUT", "/users/{id}/admin", Admin),
    rule("GET", "/admin/cleanup", Admin),
    // Instruments.
    rule("GET", "/instruments", Read),
    rule("GET", "/instruments/help", Read),
    rule("PUT", "/instruments/{slug}/help", Admin),
    // Audio.
    rule_when("GET", "/audio", When::Query("scope", "all"), Admin),
    rule("GET", "/audio", Read),
    rule("POST", "/audio", Upload),
    rule("GET", "/audio/{id}", Read),
    rule("PATCH", "/audio/{id}", Upload),
    rule("DELETE", "/audio/{id}", Upload),
    rule("GET", "/audio/{id}/canonical", Read),
    rule("GET", "/audio/{id}/original", Read),
    rule("GET", "/audio/{id}/peaks", Read),
    rule("GET", "/audio/{id}/spectrogram", Read),
    // Campaigns: admins run them; annotators read the open ones and their own progress.
    rule("GET", "/campaigns", Read),
    rule("POST", "/campaigns", Admin),
    rule("GET", "/campaigns/{id}", Read),
    rule("PATCH", "/campaigns/{id}", Admin),
    rule("POST", "/campaigns/{id}/builds", Admin),
    rule("GET", "/campaigns/{id}/tasks", Admin),
    rule("GET", "/campaigns/{id}/review", Admin),
    rule("GET", "/campaigns/{id}/agreement", Admin),
    rule("GET", "/campaigns/{id}/stats", Read),
    rule("GET", "/builds/{id}", Admin),
    rule("PUT", "/tasks/{id}/gold", Admin),
    // The annotation loop.
    rule("POST", "/annotate/next", Annotate),
    rule("POST", "/tasks/{id}/annotations", Annotate),
    rule("DELETE", "/tasks/{id}/lease", Annotate),
    // Jobs: a user's own (mixdowns); admins see every job, which the handlers only show to a
    // token with `admin`.
    rule("GET", "/jobs", Read),
    rule("GET", "/jobs/{id}", Read),
    rule("DELETE", "/jobs/{id}", Upload),
    // Datasets: everyone reads what they may see; admins make and publish them.
    rule("GET", "/datasets", Read),
    rule("POST", "/datasets", Admin),
    rule("GET", "/datasets/{slug}", Read),
    rule("PATCH", "/datasets/{slug}", Admin),
    rule("POST", "/datasets/{slug}/releases", Admin),
    rule("GET", "/datasets/{slug}/releases/{version}", Read),
    rule("PATCH", "/datasets/{slug}/releases/{version}", Admin),
    rule("DELETE", "/datasets/{slug}/releases/{version}", Admin),
    rule("POST", "/datasets/{slug}/releases/{version}/publish", Admin),
    rule("POST", "/datasets/{slug}/releases/{version}/recompile", Admin),
    rule_when("GET", "/datasets/{slug}/releases/{version}/{file}", When::LastSegment("test-labels.csv"), Admin),
    rule("GET", "/datasets/{slug}/releases/{version}/{file}", Read),
    // The admin dashboard's figures and goals.
    rule("GET", "/stats/annotation", Admin),
    rule("GET", "/stats/quality", Admin),
    rule("GET", "/stats/coverage", Admin),
    rule("GET", "/stats/studio", Admin),
    rule("GET", "/stats/charts/{file}", Admin),
    rule("PUT", "/stats/campaigns/{id}/goal", Admin),
    // The studio: the musician's writes.
    rule("GET", "/compositions", Read),
    rule("POST", "/compositions", Upload),
    rule("GET", "/compositions/{id}", Read),
    rule("PATCH", "/compositions/{id}", Upload),
    rule("DELETE", "/compositions/{id}", Upload),
    rule("GET", "/compositions/{id}/tracks", Read),
    rule("POST", "/compositions/{id}/tracks", Upload),
    rule("GET", "/compositions/{id}/members", Read),
    rule("PUT", "/compositions/{id}/members/{user}", Upload),
    rule("DELETE", "/compositions/{id}/members/{user}", Upload),
    rule("POST", "/compositions/{id}/invitations", Upload),
    rule("POST", "/compositions/{id}/mixdown", Upload),
    rule("POST", "/invitations/{token}/accept", Upload),
    rule("GET", "/tracks/{id}", Read),
    rule("PATCH", "/tracks/{id}", Upload),
    rule("DELETE", "/tracks/{id}", Upload),
    rule("GET", "/collections", Read),
    rule("POST", "/collections", Upload),
    rule("GET", "/collections/{id}", Read),
    rule("DELETE", "/collections/{id}", Upload),
];

/// The rule for a request to `route` (as matched, with or without [`API_PREFIX`]), or `None` when
/// the table has no row for it.
pub fn rule_for(method: &Method, route: &str, uri: &Uri) -> Option<&'static Rule> {
    let route = route.strip_prefix(API_PREFIX).unwrap_or(route);
    let method = if method == Method::HEAD { "GET" } else { method.as_str() };
    TABLE.iter().find(|r| r.method == method && r.path == route && applies(r.when, uri))
}

/// The scope a request needs: its row's, or by default `read` for a method that changes nothing
/// and `admin` for any other.
pub fn needed_scope(method: &Method, route: &str, uri: &Uri) -> Scope {
    match rule_for(method, route, uri) {
        Some(r) => r.scope,
        None if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) => Scope::Read,
        None => Scope::Admin,
    }
}

fn applies(when: When, uri: &Uri) -> bool {
    let decode = |s: &str| String::from_utf8_lossy(&app::text::percent_decode(s.as_bytes())).into_owned();
    match when {
        When::Always => true,
        When::Query(name, value) => uri.query().unwrap_or_default().split('&').any(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            decode(k) == name && decode(&v.replace('+', " ")) == value
        }),
        When::LastSegment(last) => uri.path().rsplit('/').next().is_some_and(|s| decode(s) == last),
    }
}

/// The route layer: cookie sessions pass; a bearer token is resolved, checked against the route's
/// scope, and handed on to the handlers.
pub async fn enforce(mut req: Request, next: Next) -> Response {
    let secret = match bearer_secret(req.headers()) {
        None => return next.run(req).await,
        Some(Err(e)) => return e.into_response(),
        Some(Ok(secret)) => secret.to_string(),
    };
    let Some(ctx) = req.extensions().get::<ServerContext>().cloned() else {
        return AppError::Internal.into_response();
    };
    let grant = match resolve_token(&ctx, &secret).await {
        Err(e) => return e.into_response(),
        Ok(TokenAuth::Granted(grant)) => grant,
        Ok(refused) => {
            let message = refused.refusal_message().unwrap_or_default();
            return ApiRejection::new(StatusCode::UNAUTHORIZED, "unauthorized", message).into_response();
        }
    };
    let route = match req.extensions().get::<MatchedPath>() {
        Some(p) => p.as_str().to_string(),
        None => req.uri().path().to_string(),
    };
    let needed = needed_scope(req.method(), &route, req.uri());
    if !grant.allows(needed) {
        let shown = if route.starts_with(API_PREFIX) { route } else { format!("{API_PREFIX}{route}") };
        let condition = match rule_for(req.method(), &shown, req.uri()).map(|r| r.when) {
            Some(When::Query(name, value)) => format!("?{name}={value}"),
            _ => String::new(),
        };
        let message = format!("This token lacks the '{needed}' scope needed for {} {shown}{condition}.", req.method());
        return ApiRejection::new(StatusCode::FORBIDDEN, "insufficient_scope", message).into_response();
    }
    req.extensions_mut().insert(grant);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// The `(METHOD, path below /api/v1)` pairs the routers register, read from their sources:
    /// every `.route("…", get(…).post(…))` of `api.rs` and of each file it nests or merges, under
    /// the prefix it nests that file at.
    fn registered_routes() -> BTreeSet<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let api = std::fs::read_to_string(dir.join("api.rs")).unwrap();
        let mut files: BTreeMap<String, String> = BTreeMap::from([("api".to_string(), String::new())]);
        for (call, with_prefix) in [(".nest(\"", true), (".merge(crate::", false)] {
            for (at, _) in api.match_indices(call) {
                let rest = &api[at + call.len()..];
                let (prefix, rest) = if with_prefix {
                    let (prefix, rest) = rest.split_once('"').unwrap();
                    (prefix.to_string(), rest.split_once("crate::").unwrap().1)
                } else {
                    (String::new(), rest)
                };
                let module = rest.split("::").next().unwrap().to_string();
                files.insert(module, prefix);
            }
        }
        // Every `*_api.rs` must be reached from `api.rs`, or its routes would escape this check.
        for entry in std::fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if let Some(module) = name.strip_suffix("_api.rs") {
                assert!(files.contains_key(&format!("{module}_api")), "{name} is not nested in api.rs");
            }
        }
        let mut routes = BTreeSet::new();
        for (module, prefix) in &files {
            let source = std::fs::read_to_string(dir.join(format!("{module}.rs"))).unwrap();
            for (at, _) in source.match_indices(".route(") {
                let call = balanced(&source[at + ".route".len()..]);
                let path = call.split('"').nth(1).unwrap();
                let full = if path == "/" { prefix.clone() } else { format!("{prefix}{path}") };
                let methods = methods_in(call);
                assert!(!methods.is_empty(), "no method found in {module}.rs .route{call}");
                for m in methods {
                    routes.insert((m, full.clone()));
                }
            }
        }
        routes
    }

    /// The text from an opening parenthesis to the one that closes it.
    fn balanced(from: &str) -> &str {
        let mut depth = 0;
        for (i, c) in from.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return &from[..=i];
                    }
                }
                _ => {}
            }
        }
        panic!("unbalanced parentheses in {from}")
    }

    /// The HTTP methods a method-router expression registers (`get(h).post(h)`, `routing::delete(h)`).
    fn methods_in(call: &str) -> Vec<String> {
        let mut found = Vec::new();
        for m in ["get", "post", "put", "patch", "delete", "head", "options", "any"] {
            let needle = format!("{m}(");
            for (at, _) in call.match_indices(&needle) {
                let before = call[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                assert_ne!(m, "any", "a route taking any method cannot be given one scope: {call}");
                found.push(m.to_uppercase());
            }
        }
        found
    }

    #[test]
    fn the_table_covers_every_route_and_names_no_other() {
        let routes = registered_routes();
        assert!(routes.len() > 50, "the routers' sources were not read: {routes:?}");
        let table: BTreeSet<(String, String)> =
            TABLE.iter().map(|r| (r.method.to_string(), r.path.to_string())).collect();
        let missing: Vec<_> = routes.difference(&table).collect();
        assert!(missing.is_empty(), "routes without a scope in scopes::TABLE: {missing:?}");
        let stale: Vec<_> = table.difference(&routes).collect();
        assert!(stale.is_empty(), "scopes::TABLE names routes the routers do not have: {stale:?}");
        // Each route has exactly one unconditional row, after its conditional ones.
        for (method, path) in &routes {
            let rows: Vec<_> = TABLE.iter().filter(|r| r.method == method && r.path == path).collect();
            let plain = rows.iter().filter(|r| r.when == When::Always).count();
            assert_eq!(plain, 1, "{method} {path}: {plain} unconditional rows");
            assert_eq!(rows.last().unwrap().when, When::Always, "{method} {path}: the plain row must come last");
        }
    }

    #[test]
    fn unlisted_routes_are_denied_by_default() {
        let uri: Uri = "/api/v1/somewhere/new".parse().unwrap();
        assert_eq!(needed_scope(&Method::POST, "/api/v1/somewhere/new", &uri), Scope::Admin);
        assert_eq!(needed_scope(&Method::DELETE, "/api/v1/somewhere/new", &uri), Scope::Admin);
        assert_eq!(needed_scope(&Method::GET, "/api/v1/somewhere/new", &uri), Scope::Read);
        // A method a listed route does not take is not borrowed from its other methods.
        let me: Uri = "/api/v1/me".parse().unwrap();
        assert_eq!(needed_scope(&Method::PUT, "/api/v1/me", &me), Scope::Admin);
    }

    #[test]
    fn conditions_pick_the_admin_rows() {
        let all: Uri = "/api/v1/audio?x=1&scope=all".parse().unwrap();
        let mine: Uri = "/api/v1/audio?scope=mine".parse().unwrap();
        assert_eq!(needed_scope(&Method::GET, "/api/v1/audio", &all), Scope::Admin);
        assert_eq!(needed_scope(&Method::HEAD, "/api/v1/audio", &all), Scope::Admin);
        assert_eq!(needed_scope(&Method::GET, "/api/v1/audio", &mine), Scope::Read);
        let route = "/api/v1/datasets/{slug}/releases/{version}/{file}";
        let labels: Uri = "/api/v1/datasets/d/releases/1/test%2Dlabels.csv".parse().unwrap();
        let tar: Uri = "/api/v1/datasets/d/releases/1/archive.tar".parse().unwrap();
        assert_eq!(needed_scope(&Method::GET, route, &labels), Scope::Admin);
        assert_eq!(needed_scope(&Method::GET, route, &tar), Scope::Read);
    }
}
