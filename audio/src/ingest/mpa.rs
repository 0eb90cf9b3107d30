//! Whether an MPEG audio (MP3) file states its length.
//!
//! An MP3 states its length in a Xing/Info or VBRI tag in its first frame.
//! Without one, symphonia 0.6's reader estimates the length from the size of
//! the first 16 frames and cuts every packet past that estimate. For a VBR
//! file the guess is wrong either way: a loud start makes it too short (the
//! end of the recording was silently dropped) and a quiet start too long (a
//! complete file looked truncated). The pipeline uses this check to treat
//! such a file as one that does not declare its length.

use std::io::{self, Read, Seek, SeekFrom};

/// Bytes searched for the first frame after any ID3v2 tags.
const SEARCH: usize = 8 * 1024;

/// Whether the first MPEG audio frame carries a Xing, Info or VBRI tag.
/// `false` also when no frame is found near the start. The stream is left
/// where it started.
pub(crate) fn states_length<R: Read + Seek>(r: &mut R) -> bool {
    let Ok(start) = r.stream_position() else {
        return false;
    };
    let found = scan(r).unwrap_or(false);
    let _ = r.seek(SeekFrom::Start(start));
    found
}

fn scan<R: Read + Seek>(r: &mut R) -> io::Result<bool> {
    // Skip ID3v2 tags (there may be more than one, and they can hold megabytes of cover art).
    let mut at = r.stream_position()?;
    for _ in 0..4 {
        let mut h = [0u8; 10];
        r.read_exact(&mut h)?;
        if &h[..3] != b"ID3" {
            break;
        }
        let size = h[6..10].iter().fold(0u64, |acc, &b| (acc << 7) | u64::from(b & 0x7f));
        let footer = if h[5] & 0x10 != 0 { 10 } else { 0 };
        at += 10 + size + footer;
        r.seek(SeekFrom::Start(at))?;
    }
    r.seek(SeekFrom::Start(at))?;
    let mut buf = Vec::with_capacity(SEARCH);
    r.take(SEARCH as u64).read_to_end(&mut buf)?;
    let Some(sync) = (0..buf.len().saturating_sub(4)).find(|&i| is_frame_header(&buf[i..i + 4])) else {
        return Ok(false);
    };
    // Xing/Info follows the side information (9 to 32 bytes); VBRI sits 32 bytes after the header.
    let window = &buf[sync + 4..buf.len().min(sync + 4 + 32 + 8)];
    Ok(window.windows(4).any(|w| w == b"Xing" || w == b"Info" || w == b"VBRI"))
}

fn is_frame_header(h: &[u8]) -> bool {
    h[0] == 0xff
        && h[1] & 0xe0 == 0xe0
        && h[1] & 0x18 != 0x08 // version: reserved
        && h[1] & 0x06 != 0 // layer: reserved
        && h[2] & 0xf0 != 0xf0 // bitrate: invalid
        && h[2] & 0x0c != 0x0c // sample rate: reserved
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn frame(tag: Option<&[u8; 4]>) -> Vec<u8> {
        // MPEG-1 layer III, 128 kb/s, 44.1 kHz, stereo: 417 bytes; Xing after 32 bytes of side info.
        let mut f = vec![0xff, 0xfb, 0x90, 0x00];
        f.resize(417, 0);
        if let Some(tag) = tag {
            f[36..40].copy_from_slice(tag);
        }
        f
    }

    #[test]
    fn finds_the_tag_after_an_id3v2_tag() {
        let mut id3 = b"ID3\x03\x00\x00\x00\x00\x01\x00".to_vec(); // 128-byte body
        id3.resize(10 + 128, 0);
        for (tag, want) in [(Some(b"Xing"), true), (Some(b"Info"), true), (None, false)] {
            let file = [id3.clone(), frame(tag), frame(None)].concat();
            let mut c = Cursor::new(file);
            assert_eq!(states_length(&mut c), want);
            assert_eq!(c.position(), 0);
        }
        assert!(!states_length(&mut Cursor::new(b"RIFF".to_vec())));
    }
}
