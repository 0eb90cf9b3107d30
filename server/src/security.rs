//! Response headers every response carries. HTML pages get a nonce-based CSP from the app's shell;
//! everything else gets the strict default below.
use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// For responses that are not app pages (API JSON, files, the standalone error pages).
pub const DEFAULT_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// For audio files: opened directly, the browser shows them in a media document of its own, whose
/// player must be allowed to load the file itself (the default CSP would leave it broken).
pub const MEDIA_CSP: &str = "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

pub fn layer<S: Clone + Send + Sync + 'static>(router: Router<S>, https: bool) -> Router<S> {
    let fixed = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    let router = router
        .layer(fixed(header::CONTENT_SECURITY_POLICY, DEFAULT_CSP))
        .layer(fixed(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(fixed(header::REFERRER_POLICY, "strict-origin-when-cross-origin"))
        .layer(fixed(header::X_FRAME_OPTIONS, "DENY"))
        .layer(fixed(
            HeaderName::from_static("permissions-policy"),
            "microphone=(self), camera=(), geolocation=(), payment=()",
        ))
        .layer(fixed(HeaderName::from_static("cross-origin-opener-policy"), "same-origin-allow-popups"));
    if https {
        router.layer(fixed(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains"))
    } else {
        router
    }
}
