//! Site files: precompressed bundles are sent as they are, to clients that accept them.
use reqwest::StatusCode;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_precompressed_bundle_is_sent_as_is_and_the_plain_file_to_others() {
    let app = TestApp::spawn().await;
    let site = app.env_vars().into_iter().find(|(k, _)| k == "LEPTOS_SITE_ROOT").unwrap().1;
    let pkg = std::path::Path::new(&site).join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let plain = vec![b'w'; 4096];
    // Not real brotli: the server must send the file, not compress or decode anything itself.
    let br = b"precompressed-br".to_vec();
    let gz = b"precompressed-gz".to_vec();
    std::fs::write(pkg.join("tutti.wasm"), &plain).unwrap();
    std::fs::write(pkg.join("tutti.wasm.br"), &br).unwrap();
    std::fs::write(pkg.join("tutti.wasm.gz"), &gz).unwrap();
    // This client decodes nothing (reqwest is built without its decompression features).
    let http = reqwest::Client::new();
    let get = |enc: Option<&'static str>| {
        let mut r = http.get(app.url("/pkg/tutti.wasm"));
        if let Some(e) = enc {
            r = r.header("accept-encoding", e);
        }
        r.send()
    };
    let res = get(Some("gzip, deflate, br")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-encoding"], "br");
    assert_eq!(res.headers()["content-type"], "application/wasm");
    assert_eq!(res.bytes().await.unwrap().to_vec(), br);
    let res = get(Some("gzip")).await.unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
    assert_eq!(res.bytes().await.unwrap().to_vec(), gz);
    let res = get(None).await.unwrap();
    assert!(res.headers().get("content-encoding").is_none());
    assert_eq!(res.bytes().await.unwrap().to_vec(), plain);
}
