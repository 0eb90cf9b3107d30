//! Cleaning of short texts that come from files: tag keys and values, titles,
//! file names.
//!
//! Such text is stored in the database and shown on pages, so it must be one
//! line of visible characters: PostgreSQL's `text` refuses NUL outright, other
//! control characters break display and logs, and the Unicode bidirectional
//! overrides, embeddings and isolates can make text read differently from
//! what it is (`song\u{202E}3pm.exe` shows as `songexe.mp3`). Dependency-free,
//! so the browser build can use it too.

/// Line breaks and tabs: they separate words, so they become one space.
fn is_break(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// The explicit bidirectional formatting characters (LRE, RLE, PDF, LRO,
/// RLO; LRI, RLI, FSI, PDI). The implicit marks (LRM U+200E, RLM U+200F,
/// ALM U+061C) cannot reorder text beyond their neighbours and are kept.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` as one clean line: tabs and line breaks become a space (a run of
/// them, one space), other C0/C1 control characters (NUL included) and the
/// bidirectional override, embedding and isolate controls are removed,
/// everything else is kept as it is (right-to-left text, marks, emoji).
/// Trimmed; `None` when nothing is left.
pub fn clean_text(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    // A break seen since the last kept character: a space is due before the next one.
    let mut gap = false;
    for c in text.chars() {
        if is_break(c) {
            gap = true;
        } else if !c.is_control() && !is_bidi_control(c) {
            if std::mem::take(&mut gap) && !c.is_whitespace() && !out.ends_with(char::is_whitespace) {
                out.push(' ');
            }
            out.push(c);
        }
    }
    let trimmed = out.trim();
    if trimmed.is_empty() {
        None
    } else if trimmed.len() == out.len() {
        Some(out)
    } else {
        Some(trimmed.to_owned())
    }
}

/// Longest file name kept, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 200;

/// A client-supplied file name made safe to store and show: only its last
/// path component, cleaned like [`clean_text`], at most
/// [`MAX_FILE_NAME_CHARS`] characters (a longer name is cut in its stem, so it
/// keeps an extension of up to 10 characters); `"upload"` when nothing is left.
pub fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let Some(clean) = clean_text(base) else {
        return "upload".into();
    };
    if clean.chars().count() <= MAX_FILE_NAME_CHARS {
        return clean;
    }
    let ext = clean.rsplit_once('.').map(|(_, e)| e).filter(|e| !e.is_empty() && e.chars().count() <= 10);
    match ext {
        Some(ext) => {
            let stem: String = clean.chars().take(MAX_FILE_NAME_CHARS - 1 - ext.chars().count()).collect();
            format!("{}.{ext}", stem.trim_end())
        }
        None => clean.chars().take(MAX_FILE_NAME_CHARS).collect::<String>().trim_end().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_go_and_breaks_become_one_space() {
        assert_eq!(clean_text("Nul\0Title").as_deref(), Some("NulTitle"));
        assert_eq!(clean_text("a\u{1}b\u{7f}c\u{9b}d").as_deref(), Some("abcd"));
        assert_eq!(clean_text("Line one\r\nLine two\tend").as_deref(), Some("Line one Line two end"));
        assert_eq!(clean_text("word \n word").as_deref(), Some("word  word"));
        assert_eq!(clean_text("a\u{2028}b\u{85}c").as_deref(), Some("a b c"));
        assert_eq!(clean_text("  \t padded \n").as_deref(), Some("padded"));
    }

    #[test]
    fn bidi_overrides_go_and_marks_and_rtl_text_stay() {
        assert_eq!(clean_text("song\u{202E}3pm.exe").as_deref(), Some("song3pm.exe"));
        let controls: String = ('\u{202A}'..='\u{202E}').chain('\u{2066}'..='\u{2069}').collect();
        assert_eq!(clean_text(&format!("x{controls}y")).as_deref(), Some("xy"));
        for kept in ["שלום עולם", "مرحبا\u{200F}!", "a\u{200E}b", "日本語 🎵", "Ünïcödé"] {
            assert_eq!(clean_text(kept).as_deref(), Some(kept));
        }
    }

    #[test]
    fn nothing_left_is_none() {
        for empty in ["", "   ", "\0\0", "\t\r\n", "\u{202E}\u{2066}", " \u{1} "] {
            assert_eq!(clean_text(empty), None, "{empty:?}");
        }
    }

    #[test]
    fn clean_text_is_idempotent() {
        for s in ["a\0b\tc", " x\u{202E}y ", "plain", "\u{85}q\n\nr"] {
            let once = clean_text(s).expect("something left");
            assert_eq!(clean_text(&once).as_deref(), Some(once.as_str()));
        }
    }

    #[test]
    fn file_names_lose_paths_and_controls() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\music\\take 1.wav"), "take 1.wav");
        assert_eq!(clean_file_name(""), "upload");
        assert_eq!(clean_file_name("\0\u{202E}"), "upload");
        assert_eq!(clean_file_name("evil\u{202E}vaw.exe"), "evilvaw.exe");
        assert_eq!(clean_file_name("take\0 1\n(final).flac"), "take 1 (final).flac");
        assert_eq!(clean_file_name("שיר\u{2067}.mp3"), "שיר.mp3");
        let long = format!("{}.flac", "a".repeat(300));
        let cut = clean_file_name(&long);
        assert_eq!((cut.chars().count(), cut.ends_with("a.flac")), (200, true));
        assert_eq!(clean_file_name(&"b".repeat(300)).chars().count(), 200);
    }
}
