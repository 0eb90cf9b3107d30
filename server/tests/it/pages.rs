use reqwest::StatusCode;

use crate::helpers::{Browser, TestApp};

#[tokio::test]
async fn pages_carry_the_security_headers_and_a_nonce_csp() {
    let app = TestApp::spawn().await;
    let res = app.get(&Browser::new(), "/").await;
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers().clone();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
    let csp = h["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert!(
        !csp.contains("'unsafe-inline'")
            || !csp.split("script-src").nth(1).unwrap().split(';').next().unwrap().contains("unsafe-inline")
    );
    let nonce = csp.split("'nonce-").nth(1).expect("a nonce in the CSP").split('\'').next().unwrap().to_string();
    let html = res.text().await.unwrap();
    // Every inline script carries this response's nonce.
    let scripts = html.matches("<script").count();
    assert!(scripts > 0);
    assert_eq!(html.matches(&format!("nonce=\"{nonce}\"")).count(), scripts, "{html}");
}

/// Pages and site files requested together, as a browser does while it loads: every page keeps
/// its own nonce CSP and no file gets one. (leptos_axum's file handler once nested its owner
/// under the page rendering on the same thread and took that page's headers.)
#[tokio::test]
async fn site_files_never_take_a_page_s_headers() {
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(site.path().join("pkg")).unwrap();
    std::fs::write(site.path().join("pkg/tutti.css"), "body { margin: 0 }").unwrap();
    std::fs::write(site.path().join("favicon.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
    let app = TestApp::spawn_with(&[("LEPTOS_SITE_ROOT", site.path().to_str().unwrap())]).await;
    let b = Browser::new();
    app.sign_in_demo(&b, "musician").await;
    for _ in 0..20 {
        let pages = futures::future::join_all(["/studio", "/upload", "/library"].map(|p| app.get(&b, p)));
        let files = futures::future::join_all(
            ["/favicon.svg", "/pkg/tutti.css", "/favicon.svg", "/pkg/tutti.css"].map(|p| app.get(&b, p)),
        );
        let (pages, files) = tokio::join!(pages, files);
        for res in pages {
            assert_eq!(res.status(), StatusCode::OK);
            let csp = res.headers()["content-security-policy"].to_str().unwrap();
            assert!(csp.contains("'nonce-"), "{} went out without its CSP: {csp}", res.url());
        }
        for res in files {
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(res.headers()["content-security-policy"], server::security::DEFAULT_CSP, "{}", res.url());
        }
    }
}

#[tokio::test]
async fn nonces_differ_between_responses() {
    let app = TestApp::spawn().await;
    let b = Browser::new();
    let a = app.get(&b, "/").await.headers()["content-security-policy"].to_str().unwrap().to_string();
    let c = app.get(&b, "/").await.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert_ne!(a, c);
}

#[tokio::test]
async fn api_responses_carry_a_strict_csp() {
    let app = TestApp::spawn().await;
    let res = app.get(&Browser::new(), "/api/v1/instruments").await;
    assert_eq!(res.headers()["content-security-policy"], server::security::DEFAULT_CSP);
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn an_unknown_page_is_a_404_page() {
    let app = TestApp::spawn().await;
    let res = app.get(&Browser::new(), "/no/such/page").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.headers().contains_key("content-security-policy"));
    assert!(res.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn the_profile_page_needs_a_signed_in_user() {
    let app = TestApp::spawn().await;
    let res = app.get(&Browser::new(), "/profile").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("Please sign in"));
    // Signing in from such a page comes back to it (an invitation link keeps its token).
    let res = app.get(&Browser::new(), "/invite/abc-123").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains(r#"href="/signin?next=/invite/abc-123""#));
    let browser = Browser::new();
    app.sign_in_demo(&browser, "musician").await;
    let res = app.get(&browser, "/profile").await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("Demo Musician") && html.contains("API tokens"));
}

#[tokio::test]
async fn the_users_page_is_for_admins_only() {
    let app = TestApp::spawn().await;
    let musician = Browser::new();
    app.sign_in_demo(&musician, "musician").await;
    assert_eq!(app.get(&musician, "/admin/users").await.status(), StatusCode::FORBIDDEN);
    let admin = Browser::new();
    app.sign_in_demo(&admin, "admin").await;
    let res = app.get(&admin, "/admin/users").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("musician@demo.tutti.invalid"));
}

#[tokio::test]
async fn the_sign_in_page_offers_the_configured_methods() {
    let app = TestApp::spawn().await;
    let html = app.get(&Browser::new(), "/signin").await.text().await.unwrap();
    assert!(html.contains("Sign in with Google"));
    assert!(html.contains("/auth/demo") && html.contains("value=\"annotator\""));
}

#[tokio::test]
async fn the_header_shows_the_signed_in_name() {
    let app = TestApp::spawn().await;
    let browser = Browser::new();
    app.sign_in_demo(&browser, "annotator").await;
    let html = app.get(&browser, "/").await.text().await.unwrap();
    assert!(html.contains("Demo Annotator"), "{html}");
}

#[tokio::test]
async fn the_instrument_page_lists_all_twenty_classes_by_family() {
    let app = TestApp::spawn().await;
    let html = app.get(&Browser::new(), "/instruments").await.text().await.unwrap();
    for name in ["Accordion", "Mallet percussion", "Voice", "plucked strings", "brass"] {
        assert!(html.contains(name), "{name}");
    }
}
