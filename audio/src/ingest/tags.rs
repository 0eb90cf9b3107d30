//! Textual tags of an upload, gathered from every metadata revision and cleaned for storage.

use symphonia::core::formats::FormatReader;
use symphonia::core::meta::{MetadataRevision, RawValue, StandardTag};

use crate::text::clean_text;

/// The most tags kept from one file, and the longest key or value kept (in characters).
const MAX_TAGS: usize = 256;
const MAX_TAG_CHARS: usize = 1_000;

/// At most [`MAX_TAG_CHARS`] characters of a clean text, still clean (no trailing space).
fn clip_chars(mut s: String) -> String {
    if let Some((cut, _)) = s.char_indices().nth(MAX_TAG_CHARS) {
        s.truncate(cut);
        s.truncate(s.trim_end().len());
    }
    s
}

/// Tags gathered from every metadata revision (file-level and per-track).
/// Keys and values are cleaned to one line of visible text ([`clean_text`]):
/// they end up in database text columns (PostgreSQL refuses NUL) and on
/// pages. A tag whose key or value has nothing left is dropped.
#[derive(Default)]
pub(super) struct TagCollector {
    title: Option<String>,
    artist: Option<String>,
    album: Option<String>,
    tags: Vec<(String, String)>,
}

impl TagCollector {
    fn add_revision(&mut self, rev: &MetadataRevision, track_id: u32) {
        let per_track =
            rev.per_track.iter().filter(|t| t.track_id == u64::from(track_id)).flat_map(|t| t.metadata.tags.iter());
        for tag in rev.media.tags.iter().chain(per_track) {
            let value = match &tag.raw.value {
                RawValue::String(s) => clean_text(s),
                RawValue::StringList(list) => {
                    let parts: Vec<String> = list.iter().filter_map(|s| clean_text(s)).collect();
                    (!parts.is_empty()).then(|| parts.join("; "))
                }
                RawValue::Binary(_) | RawValue::Flag => continue,
                other => clean_text(&other.to_string()),
            };
            let (Some(key), Some(value)) = (clean_text(&tag.raw.key), value) else {
                continue;
            };
            let slot = match &tag.std {
                Some(StandardTag::TrackTitle(_)) => Some(&mut self.title),
                Some(StandardTag::Artist(_)) => Some(&mut self.artist),
                Some(StandardTag::Album(_)) => Some(&mut self.album),
                _ => None,
            };
            if let Some(slot) = slot {
                slot.get_or_insert_with(|| clip_chars(value.clone()));
            }
            self.push(key, value);
        }
    }

    pub(super) fn add_riff(&mut self, key: &str, value: &str) {
        let (Some(key), Some(value)) = (clean_text(key), clean_text(value)) else {
            return;
        };
        let slot = match key.as_str() {
            "INAM" => Some(&mut self.title),
            "IART" => Some(&mut self.artist),
            "IPRD" => Some(&mut self.album),
            _ => None,
        };
        if let Some(slot) = slot {
            slot.get_or_insert_with(|| clip_chars(value.clone()));
        }
        self.push(key, value);
    }

    fn push(&mut self, key: String, value: String) {
        // A file may carry any number of tags (a hostile one millions); the record keeps the first
        // MAX_TAGS distinct ones, each cut to MAX_TAG_CHARS, so this stays linear and small.
        if self.tags.len() >= MAX_TAGS {
            return;
        }
        let pair = (clip_chars(key), clip_chars(value));
        if !self.tags.contains(&pair) {
            self.tags.push(pair);
        }
    }

    #[allow(clippy::type_complexity)]
    pub(super) fn into_parts(self) -> (Option<String>, Option<String>, Option<String>, Vec<(String, String)>) {
        (self.title, self.artist, self.album, self.tags)
    }
}

/// Reads metadata revisions queued by the reader. With `all`, every queued
/// revision is read; otherwise the oldest (already read) one is dropped first.
pub(super) fn collect_metadata(format: &mut dyn FormatReader, track_id: u32, tags: &mut TagCollector, all: bool) {
    let mut log = format.metadata();
    if !all {
        log.pop();
    }
    loop {
        if let Some(rev) = log.current() {
            tags.add_revision(rev, track_id);
        }
        if log.pop().is_none() {
            break;
        }
    }
}
