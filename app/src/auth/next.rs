//! Where a person goes after signing in: the `next` parameter, parsed strictly.
//!
//! Browsers read a `Location` far more loosely than a server checks it: they drop tabs and
//! newlines (`/\t/evil` becomes `//evil`), treat `\` as `/`, and some stacks decode `%2F` before
//! routing. So only a plain path on this site is kept, in printable ASCII, with no `//` or `\`
//! even after percent-decoding (repeatedly, to catch double encoding), and no dot segments;
//! anything else sends the person home. The result never needs escaping in a header.

/// The longest destination kept; real paths with a query are far shorter.
const MAX_LEN: usize = 2048;

/// A same-site path to go to after sign-in, or `/`.
pub fn safe_next(next: Option<String>) -> String {
    next.filter(|n| is_safe_path(n)).unwrap_or_else(|| "/".to_string())
}

fn is_safe_path(raw: &str) -> bool {
    if raw.len() > MAX_LEN || !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return false;
    }
    // Each round decodes one layer of percent-encoding; four layers is more than any honest link.
    let mut text = raw.as_bytes().to_vec();
    for _ in 0..4 {
        if !plain_path(&text) {
            return false;
        }
        let decoded = crate::text::percent_decode(&text);
        if decoded == text {
            // Fully decoded: no invisible controls (direction overrides) either.
            return std::str::from_utf8(&text).is_ok_and(|t| !t.chars().any(|c| crate::text::is_disallowed(c, false)));
        }
        text = decoded;
    }
    false
}

/// A path-absolute reference with nothing a browser could read as another origin.
fn plain_path(bytes: &[u8]) -> bool {
    if bytes.first() != Some(&b'/') || bytes.get(1) == Some(&b'/') {
        return false;
    }
    if bytes.iter().any(|&b| b < 0x20 || b == 0x7f || b == b'\\') {
        return false;
    }
    // Dot segments are never needed and can fold a path into `//…` once resolved.
    let path_end = bytes.iter().position(|&b| b == b'?' || b == b'#').unwrap_or(bytes.len());
    !bytes[..path_end].split(|&b| b == b'/').any(|seg| seg == b"." || seg == b"..")
}

#[cfg(test)]
mod tests {
    use super::safe_next;
    use proptest::prelude::*;

    fn next(s: &str) -> String {
        safe_next(Some(s.to_string()))
    }

    #[test]
    fn same_site_paths_are_kept() {
        for ok in ["/", "/profile?tab=1", "/invite/abc-DEF_123", "/studio/compositions/5?x=%20y#top", "/a/b.c/..d"] {
            assert_eq!(next(ok), ok);
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn the_known_evasions_go_home() {
        let corpus = [
            "",
            "evil.example",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/%09/evil",
            "/\t/evil",
            "/\t\t/evil",
            "/%0d/evil",
            "/%0a/evil",
            "/%0D%0ALocation:%20https://evil",
            "/\r\nSet-Cookie: x=1",
            "/%00/evil",
            "/\0",
            "/%2F/evil",
            "/%2f/evil",
            "%2F%2Fevil.example",
            "/%5Cevil.example",
            "/%5cevil.example",
            "/%252F/evil",
            "/%25252F%25252Fevil",
            "/%2525252F/evil",
            "/%2e%2e/%2e%2e//evil",
            "/./",
            "/../evil",
            "/a/../../evil",
            "/.%2e/evil",
            "javascript:alert(1)",
            "/javascript:alert(1)x\n",
            "https://evil.example/",
            "http:/evil.example",
            "http:\\\\evil.example",
            "HTTPS://evil.example",
            " /profile",
            "/profile ",
            "/prof ile",
            "/é",
            "/%E2%80%AE",
            "/%E2%81%A6x",
        ];
        for evil in corpus {
            assert_eq!(next(evil), "/", "{evil:?}");
        }
        assert_eq!(next(&format!("/{}", "a".repeat(3000))), "/");
    }

    /// How a browser resolves the `Location` Tutti sends: it must stay on the site.
    fn stays_on_site(location: &str) -> bool {
        let base = url::Url::parse("https://tutti.invalid/studio/page").unwrap();
        match base.join(location) {
            Ok(u) => u.scheme() == "https" && u.host_str() == Some("tutti.invalid") && u.port().is_none(),
            Err(_) => false,
        }
    }

    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("/".to_string()),
            Just("\\".to_string()),
            Just("%".to_string()),
            Just("%2F".to_string()),
            Just("%2f".to_string()),
            Just("%5C".to_string()),
            Just("%25".to_string()),
            Just("%09".to_string()),
            Just("%0A".to_string()),
            Just("%0d".to_string()),
            Just("%00".to_string()),
            Just("%2e".to_string()),
            Just(".".to_string()),
            Just("..".to_string()),
            Just(":".to_string()),
            Just("@".to_string()),
            Just("?".to_string()),
            Just("#".to_string()),
            Just("http:".to_string()),
            Just("javascript:".to_string()),
            Just("evil.example".to_string()),
            Just("\t".to_string()),
            Just("\n".to_string()),
            Just("\0".to_string()),
            Just(" ".to_string()),
            "[a-z0-9]{1,4}",
            any::<char>().prop_map(String::from),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: std::env::var("TUTTI_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000),
            failure_persistence: None,
            .. ProptestConfig::default()
        })]

        /// Whatever comes in, what goes out is a printable path that a browser resolves on this site.
        #[test]
        fn every_destination_stays_on_the_site(pieces in prop::collection::vec(piece(), 0..12), raw in ".{0,40}") {
            for input in [pieces.concat(), raw] {
                let out = next(&input);
                prop_assert!(out.starts_with('/') && !out.starts_with("//"), "{input:?} -> {out:?}");
                prop_assert!(out.bytes().all(|b| b.is_ascii_graphic()), "{input:?} -> {out:?}");
                prop_assert!(stays_on_site(&out), "{input:?} -> {out:?}");
                prop_assert!(out == "/" || out == input, "kept destinations are kept unchanged");
            }
        }
    }
}
