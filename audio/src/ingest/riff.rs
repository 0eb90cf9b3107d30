//! RIFF `LIST/INFO` tags of WAV files.
//!
//! symphonia 0.6's WAV reader parses an INFO list that precedes the audio
//! but drops it instead of attaching it to the reader, and never looks at
//! chunks after the audio (where many editors put it). This small reader scans
//! the chunk list directly, seeking over the audio data, so WAV uploads keep
//! their title and artist.

use std::io::{self, Read, Seek, SeekFrom};

/// Chunks inspected before giving up (a WAV normally has fewer than ten).
const MAX_CHUNKS: usize = 64;
/// Largest INFO list read into memory; real ones are a few hundred bytes.
const MAX_INFO_LEN: u32 = 1 << 20;

/// `(chunk id, text)` pairs such as `("INAM", "Title")`, in file order.
/// Returns nothing for non-WAV input. The stream is left where it started.
pub(crate) fn read_info_tags<R: Read + Seek>(r: &mut R) -> Vec<(String, String)> {
    let mut tags = Vec::new();
    let Ok(start) = r.stream_position() else {
        return tags;
    };
    // Tags are a nicety: a read error here is ignored, and the decoder
    // reports any real problem with the file.
    let _ = scan(r, &mut tags);
    let _ = r.seek(SeekFrom::Start(start));
    tags
}

fn scan<R: Read + Seek>(r: &mut R, tags: &mut Vec<(String, String)>) -> io::Result<()> {
    let mut header = [0u8; 12];
    r.read_exact(&mut header)?;
    if &header[0..4] != b"RIFF" || &header[8..12] != b"WAVE" {
        return Ok(());
    }
    for _ in 0..MAX_CHUNKS {
        let mut chunk = [0u8; 8];
        if r.read_exact(&mut chunk).is_err() {
            break;
        }
        let size = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
        // Chunks are padded to an even length.
        let padded = u64::from(size) + u64::from(size % 2);
        if &chunk[0..4] == b"LIST" && (4..=MAX_INFO_LEN).contains(&size) {
            let mut body = vec![0u8; size as usize];
            r.read_exact(&mut body)?;
            if &body[0..4] == b"INFO" {
                parse_info(&body[4..], tags);
            }
            r.seek(SeekFrom::Current(i64::from(size % 2)))?;
        } else if &chunk[0..4] == b"data" && size == u32::MAX {
            // Streaming WAV: the audio runs to the end of the file.
            break;
        } else {
            r.seek(SeekFrom::Current(padded as i64))?;
        }
    }
    Ok(())
}

fn parse_info(mut body: &[u8], tags: &mut Vec<(String, String)>) {
    while body.len() >= 8 {
        let id = &body[0..4];
        let size = u32::from_le_bytes([body[4], body[5], body[6], body[7]]) as usize;
        let Some(text) = body.get(8..8 + size) else {
            break;
        };
        // Values are NUL-terminated; most writers use UTF-8 or ASCII.
        let text = String::from_utf8_lossy(text);
        let text = text.trim_end_matches('\0').trim();
        if id.iter().all(u8::is_ascii_alphanumeric) && !text.is_empty() {
            tags.push((String::from_utf8_lossy(id).into_owned(), text.to_owned()));
        }
        body = body.get(8 + size + size % 2..).unwrap_or(&[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut c = id.to_vec();
        c.extend_from_slice(&(body.len() as u32).to_le_bytes());
        c.extend_from_slice(body);
        if body.len() % 2 == 1 {
            c.push(0);
        }
        c
    }

    #[test]
    fn finds_info_before_and_after_the_audio() {
        let mut info = b"INFO".to_vec();
        info.extend(chunk(b"INAM", b"Song\0"));
        info.extend(chunk(b"IART", b"Band\0"));
        let mut after = b"INFO".to_vec();
        after.extend(chunk(b"ICMT", b"Live take\0"));
        let mut body = b"WAVE".to_vec();
        body.extend(chunk(b"fmt ", &[0; 16]));
        body.extend(chunk(b"LIST", &info));
        body.extend(chunk(b"data", &[1, 2, 3]));
        body.extend(chunk(b"LIST", &after));
        let file = chunk(b"RIFF", &body);
        let mut cursor = Cursor::new(file);
        let tags = read_info_tags(&mut cursor);
        assert_eq!(cursor.position(), 0);
        let want = [("INAM", "Song"), ("IART", "Band"), ("ICMT", "Live take")];
        assert_eq!(tags, want.map(|(k, v)| (k.to_owned(), v.to_owned())));
    }

    #[test]
    fn ignores_other_files() {
        assert!(read_info_tags(&mut Cursor::new(b"fLaC\0\0\0\x22".to_vec())).is_empty());
        assert!(read_info_tags(&mut Cursor::new(Vec::new())).is_empty());
    }
}
