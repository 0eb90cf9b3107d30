//! Which characters text in Tutti may hold, on both sides.
//!
//! NUL cannot be stored by PostgreSQL, other control characters are invisible and break logs and
//! exports, and the bidirectional override, embedding and isolate controls can make a name read
//! differently from what it is (`evil\u{202E}gpj.exe` shows as `evilexe.jpg`). Ordinary
//! right-to-left text and the direction marks U+200E/U+200F are fine.

/// `c` may not appear in text; `multiline` allows tab, line feed and carriage return.
pub fn is_disallowed(c: char, multiline: bool) -> bool {
    match c {
        '\t' | '\n' | '\r' => !multiline,
        c => c.is_control() || audio::text::is_bidi_control(c),
    }
}

/// The first character of `text` that may not appear in it (tab and newlines allowed).
pub fn first_disallowed(text: &str) -> Option<char> {
    text.chars().find(|&c| is_disallowed(c, true))
}

/// How a refused character is named to a person: `NUL` or its code point.
pub fn describe(c: char) -> String {
    match c {
        '\0' => "a NUL character (U+0000)".to_string(),
        c if c.is_control() => format!("a control character (U+{:04X})", c as u32),
        c => format!("an invisible direction control (U+{:04X})", c as u32),
    }
}

/// One line of text from outside (a provider's claim, a file's tag): tabs and line breaks become
/// a space, other disallowed characters are dropped, spaces are trimmed; nothing left is `None`.
pub use audio::text::clean_text as clean_line;

/// One layer of `%XX` escapes decoded; a `%` not followed by two hex digits stays as it is.
pub fn percent_decode(bytes: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (bytes.get(i + 1).and_then(|&b| hex(b)), bytes.get(i + 2).and_then(|&b| hex(b)))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// Percent-encode everything but unreserved characters and `/` (for a path in a query value).
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_overrides_are_refused_and_cleaned() {
        assert_eq!(first_disallowed("fine\ttext\nwith lines"), None);
        assert_eq!(first_disallowed("עברית \u{200F} ok"), None);
        assert_eq!(first_disallowed("a\0b"), Some('\0'));
        assert_eq!(first_disallowed("a\u{7}b"), Some('\u{7}'));
        assert_eq!(first_disallowed("a\u{85}b"), Some('\u{85}'));
        assert_eq!(first_disallowed("evil\u{202E}gpj.exe"), Some('\u{202E}'));
        assert_eq!(first_disallowed("x\u{2067}y"), Some('\u{2067}'));
        assert_eq!(clean_line("  Eve\u{202E}lin\0\t Smith\n"), Some("Evelin Smith".into()));
        assert_eq!(clean_line("\u{1}\u{2066}"), None);
        assert_eq!(describe('\0'), "a NUL character (U+0000)");
        assert_eq!(describe('\u{202E}'), "an invisible direction control (U+202E)");
    }
}
