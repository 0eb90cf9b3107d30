//! Cross-site request forgery: a state change made with the session cookie must come from one of
//! Tutti's own pages.
//!
//! The cookie's `SameSite=Lax` keeps other *sites* out, but not another origin of the same site (a
//! different port or subdomain), and server functions accept form and `text/plain` bodies that any
//! page can post. So every request with a method other than GET, HEAD or OPTIONS is checked, as
//! the fetch-metadata and Origin guidance of OWASP and Django/Rails' origin checks do:
//! - an `Origin` header must be Tutti's public origin, or the origin the request was addressed to
//!   (scheme of the public URL, `Host` header), e.g. `localhost` for a server on `127.0.0.1`;
//! - without `Origin`, `Sec-Fetch-Site` must say `same-origin`;
//! - without either, a `Referer` must be on one of those origins; a request with none of the three
//!   does not come from a browser (browsers send `Origin` on every such request), so no cookie
//!   can have been lent to it.
//!
//! REST requests that carry an `Authorization` header (API tokens) pass: the REST API then
//! authenticates by that header alone, never by the cookie (a bad token is a 401), and a page on
//! another origin cannot add a bearer token without a CORS preflight, which Tutti never grants.
//! Elsewhere the header proves nothing — server functions and the sign-in routes use the cookie,
//! and a browser adds cached HTTP Basic credentials to a cross-site form post by itself.
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use app::error::AppError;

/// The origins that may make changes.
#[derive(Clone, Debug)]
pub struct Origins {
    public: String,
    scheme: String,
}

impl Origins {
    pub fn new(public_url: &url::Url) -> Self {
        Origins { public: public_url.origin().ascii_serialization(), scheme: public_url.scheme().to_string() }
    }

    fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = origin.to_ascii_lowercase();
        origin == self.public.to_ascii_lowercase()
            || host.is_some_and(|h| origin == format!("{}://{}", self.scheme, h.to_ascii_lowercase()))
    }

    /// `Ok` when the request may change state; otherwise what gave it away. `authority` is the
    /// request's own (HTTP/2 carries it in the URI rather than a `Host` header).
    pub fn check(&self, headers: &HeaderMap, authority: Option<&str>) -> Result<(), String> {
        let text = |name: header::HeaderName| headers.get(name).map(|v| v.to_str().unwrap_or("\u{FFFD}"));
        let host = text(header::HOST).or(authority);
        if let Some(origin) = text(header::ORIGIN) {
            return if self.allows(origin, host) { Ok(()) } else { Err(format!("it came from {origin}")) };
        }
        if let Some(site) = headers.get("sec-fetch-site") {
            return match site.to_str() {
                Ok("same-origin") => Ok(()),
                _ => Err("the browser says it came from another site".into()),
            };
        }
        if let Some(referer) = text(header::REFERER) {
            let from = url::Url::parse(referer).map(|u| u.origin().ascii_serialization()).unwrap_or_default();
            return if self.allows(&from, host) {
                Ok(())
            } else {
                Err("it was sent from a page of another site".into())
            };
        }
        Ok(())
    }
}

pub async fn guard(State(origins): State<Arc<Origins>>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let token_api = req.uri().path().starts_with("/api/v1/") && req.headers().contains_key(header::AUTHORIZATION);
    if safe || token_api {
        return next.run(req).await;
    }
    match origins.check(req.headers(), req.uri().authority().map(|a| a.as_str())) {
        Ok(()) => next.run(req).await,
        Err(why) => {
            tracing::warn!(path = req.uri().path(), why, "cross-origin state change refused");
            let message = format!(
                "This change was refused because {why}: Tutti only accepts changes made from its own pages. \
                 Scripts use an API token (Authorization: Bearer)."
            );
            crate::refusal::refuse(req.uri().path(), StatusCode::FORBIDDEN, &message, AppError::Forbidden)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    impl Origins {
        fn check_h(&self, h: &HeaderMap) -> Result<(), String> {
            self.check(h, None)
        }
    }

    #[test]
    fn only_the_sites_own_origins_pass() {
        let o = Origins::new(&"https://tutti.example.org/".parse().unwrap());
        assert!(o.check_h(&headers(&[("origin", "https://tutti.example.org")])).is_ok());
        assert!(o.check_h(&headers(&[("origin", "https://Tutti.Example.org")])).is_ok());
        assert!(o.check_h(&headers(&[("origin", "https://tutti.example.org:8443")])).is_err());
        assert!(o.check_h(&headers(&[("origin", "http://tutti.example.org")])).is_err());
        assert!(o.check_h(&headers(&[("origin", "https://evil.example.org")])).is_err());
        assert!(o.check_h(&headers(&[("origin", "null")])).is_err());
        assert!(o.check_h(&headers(&[("origin", "https://proxy.internal"), ("host", "proxy.internal")])).is_ok());
        assert!(o.check_h(&headers(&[("origin", "https://other:4000"), ("host", "proxy.internal")])).is_err());
        assert!(o.check_h(&headers(&[("sec-fetch-site", "same-origin")])).is_ok());
        for site in ["same-site", "cross-site", "none"] {
            assert!(o.check_h(&headers(&[("sec-fetch-site", site)])).is_err(), "{site}");
        }
        assert!(o.check_h(&headers(&[("referer", "https://tutti.example.org/studio")])).is_ok());
        assert!(o.check_h(&headers(&[("referer", "https://tutti.example.org.evil/")])).is_err());
        assert!(o.check_h(&headers(&[])).is_ok(), "not a browser: no cookie was lent");
        assert!(o.check(&headers(&[("origin", "https://h2.internal")]), Some("h2.internal")).is_ok());
    }
}
