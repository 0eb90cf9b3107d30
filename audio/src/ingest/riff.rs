//! RIFF `LIST/INFO` tags of WAV files.
//!
//! symphonia 0.6's WAV reader parses an INFO list that precedes the audio
//! but drops it instead of attaching it to the reader, and never looks at
//! chunks after the audio (where many editors put it). This small reader scans
//! the chunk list directly, seeking over the audio data, so WAV uploads keep
//! their title and artist.
//!
//! It also finds the header sizes that symphonia's reader cannot use (RF64,
//! placeholders), see [`header_fixes`].

use std::io::{self, Read, Seek, SeekFrom};

use symphonia::core::io::MediaSource;

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
    if !matches!(&header[0..4], b"RIFF" | b"RF64" | b"BW64") || &header[8..12] != b"WAVE" {
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

/// Size that sox writes into the header of a WAV whose length it cannot know
/// (written to a pipe).
const SOX_UNKNOWN_LENGTH: u32 = 0x7fff_f000;

/// Whether a data size is sox's placeholder, rounded down to whole frames of `block_align` bytes.
fn sox_placeholder(size: u32, block_align: u16) -> bool {
    size <= SOX_UNKNOWN_LENGTH && SOX_UNKNOWN_LENGTH - size < u32::from(block_align.max(1))
}

/// Bytes to present differently to symphonia 0.6's WAV reader, as
/// `(position, replacement)`, for headers it rejects or misreads although
/// the audio is intact:
///
/// * RF64/BW64 (WAV over 4 GB, written by field recorders and DAWs): the
///   sizes are in a `ds64` chunk and the reader does not know the format. It
///   is shown a RIFF header whose data size is the one `ds64` states (or
///   "unknown", which the reader takes as "to the end of the file", when it
///   does not fit in 32 bits).
/// * Placeholder sizes left by writers that could not go back to fill them
///   in: 0 (a recorder that stopped before finishing the file; the reader
///   rejects a RIFF size of 0) and sox's `0x7ffff000` when writing to a pipe
///   (which made a 2-second file declare 6 hours). These become "unknown"
///   when audio bytes follow that the size does not account for, and a `fact`
///   chunk (whose frame count sox also leaves as a placeholder, for float,
///   24-bit and multichannel audio) is hidden.
///
/// Returns nothing for other files. The stream is left where it started.
pub(crate) fn header_fixes<R: Read + Seek>(r: &mut R) -> Vec<(u64, [u8; 4])> {
    let Ok(start) = r.stream_position() else {
        return Vec::new();
    };
    let fixes = find_fixes(r, start).unwrap_or_default();
    let _ = r.seek(SeekFrom::Start(start));
    fixes
}

fn find_fixes<R: Read + Seek>(r: &mut R, start: u64) -> io::Result<Vec<(u64, [u8; 4])>> {
    let end = r.seek(SeekFrom::End(0))?;
    r.seek(SeekFrom::Start(start))?;
    let mut header = [0u8; 12];
    r.read_exact(&mut header)?;
    let rf64 = matches!(&header[0..4], b"RF64" | b"BW64");
    if !(rf64 || &header[0..4] == b"RIFF") || &header[8..12] != b"WAVE" {
        return Ok(Vec::new());
    }
    let riff_size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    let mut ds64_data_size = None;
    // Where the `fact` chunk is, and the frame size from `fmt `.
    let mut fact_at = None;
    let mut block_align = 0u16;
    let mut at = start + 12;
    for _ in 0..MAX_CHUNKS {
        r.seek(SeekFrom::Start(at))?;
        let mut chunk = [0u8; 8];
        r.read_exact(&mut chunk)?;
        let size = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
        if &chunk[0..4] == b"ds64" && size >= 16 {
            let mut sizes = [0u8; 16];
            r.read_exact(&mut sizes)?;
            ds64_data_size = Some(u64::from_le_bytes(sizes[8..16].try_into().expect("8 bytes")));
        }
        if &chunk[0..4] == b"fmt " && size >= 14 {
            let mut fmt = [0u8; 14];
            r.read_exact(&mut fmt)?;
            block_align = u16::from_le_bytes([fmt[12], fmt[13]]);
        }
        if &chunk[0..4] == b"fact" {
            fact_at = Some(at);
        }
        if &chunk[0..4] != b"data" {
            at += 8 + u64::from(size) + u64::from(size % 2);
            continue;
        }
        let on_file = end.saturating_sub(at + 8);
        let data_size = match (rf64, size) {
            (true, u32::MAX) => ds64_data_size.and_then(|s| u32::try_from(s).ok()).unwrap_or(u32::MAX),
            // Unless the RIFF size accounts for what follows (an empty WAV with tags after the data).
            (false, 0) if on_file > 0 && start + 8 + u64::from(riff_size) <= at + 8 => u32::MAX,
            // sox rounds its placeholder down to whole frames (0x7fffeffc for 24-bit stereo).
            (false, s) if sox_placeholder(s, block_align) && u64::from(size) > on_file => u32::MAX,
            _ => size,
        };
        let mut fixes = Vec::new();
        if rf64 {
            fixes.push((start, *b"RIFF"));
        }
        if rf64 || data_size == u32::MAX || riff_size < 4 {
            fixes.push((start + 4, u32::MAX.to_le_bytes()));
        }
        // A writer that could not know the data size could not know the frame count either
        // (sox to a pipe writes a placeholder in both): the `fact` chunk is shown as `JUNK`,
        // which readers skip, so the audio runs to the end of the file as the data size says.
        if data_size == u32::MAX
            && !rf64
            && let Some(fact_at) = fact_at
        {
            fixes.push((fact_at, *b"JUNK"));
        }
        if data_size != size {
            fixes.push((at + 4, data_size.to_le_bytes()));
        }
        return Ok(fixes);
    }
    Ok(Vec::new())
}

/// A media source with some bytes replaced (see [`header_fixes`]).
pub(crate) struct Patched<S> {
    inner: S,
    pos: u64,
    patches: Vec<(u64, [u8; 4])>,
}

impl<S: Read + Seek> Patched<S> {
    pub(crate) fn new(mut inner: S, patches: Vec<(u64, [u8; 4])>) -> Self {
        let pos = if patches.is_empty() { 0 } else { inner.stream_position().unwrap_or(0) };
        Patched { inner, pos, patches }
    }
}

impl<S: Read> Read for Patched<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let span = self.pos..self.pos + n as u64;
        for (at, bytes) in &self.patches {
            for (p, &b) in (*at..).zip(bytes) {
                if span.contains(&p) {
                    buf[(p - self.pos) as usize] = b;
                }
            }
        }
        self.pos = span.end;
        Ok(n)
    }
}

impl<S: Seek> Seek for Patched<S> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = self.inner.seek(to)?;
        Ok(self.pos)
    }
}

impl<S: MediaSource> MediaSource for Patched<S> {
    fn is_seekable(&self) -> bool {
        self.inner.is_seekable()
    }

    fn byte_len(&self) -> Option<u64> {
        self.inner.byte_len()
    }
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
    fn placeholder_sizes_become_unknown_and_rf64_becomes_riff() {
        let wav = |riff: u32, data: u32, after: &[u8]| {
            let mut v = b"RIFF".to_vec();
            v.extend_from_slice(&riff.to_le_bytes());
            v.extend_from_slice(b"WAVE");
            v.extend(chunk(b"fmt ", &[0; 16]));
            v.extend_from_slice(b"data");
            v.extend_from_slice(&data.to_le_bytes());
            v.extend_from_slice(after);
            v
        };
        let fixes = |v: Vec<u8>| header_fixes(&mut Cursor::new(v));
        let unknown = u32::MAX.to_le_bytes();
        // A recorder that stopped early; sox writing to a pipe.
        assert_eq!(fixes(wav(0, 0, &[1; 8])), [(4, unknown), (40, unknown)]);
        assert_eq!(fixes(wav(0x7fff_f024, 0x7fff_f000, &[1; 8])), [(4, unknown), (40, unknown)]);
        // Sizes that are right, or an empty data chunk the RIFF size accounts for, stay.
        assert!(fixes(wav(36 + 8, 8, &[1; 8])).is_empty());
        let mut tail = Vec::new();
        tail.extend(chunk(b"LIST", b"INFO"));
        assert!(fixes(wav(36 + 12, 0, &tail)).is_empty());
        // RF64: the data size comes from ds64.
        let mut rf64 = b"RF64".to_vec();
        rf64.extend_from_slice(&unknown);
        rf64.extend_from_slice(b"WAVE");
        let mut ds64 = 100u64.to_le_bytes().to_vec();
        ds64.extend_from_slice(&8u64.to_le_bytes());
        ds64.extend_from_slice(&[0; 12]);
        rf64.extend(chunk(b"ds64", &ds64));
        rf64.extend(chunk(b"fmt ", &[0; 16]));
        rf64.extend_from_slice(b"data");
        rf64.extend_from_slice(&unknown);
        rf64.extend_from_slice(&[1; 8]);
        assert_eq!(fixes(rf64), [(0, *b"RIFF"), (4, unknown), (76, 8u32.to_le_bytes())]);
        // sox to a pipe, float or 24-bit: a placeholder frame count in `fact` as well, and the
        // data placeholder rounded down to whole 6-byte frames.
        let mut fmt = [0u8; 16];
        fmt[12..14].copy_from_slice(&6u16.to_le_bytes());
        let mut sox = b"RIFF".to_vec();
        sox.extend_from_slice(&0x7fff_f024u32.to_le_bytes());
        sox.extend_from_slice(b"WAVE");
        sox.extend(chunk(b"fmt ", &fmt));
        sox.extend(chunk(b"fact", &0x1fff_fc00u32.to_le_bytes()));
        sox.extend_from_slice(b"data");
        sox.extend_from_slice(&0x7fff_effcu32.to_le_bytes());
        sox.extend_from_slice(&[1; 12]);
        assert_eq!(fixes(sox), [(4, unknown), (36, *b"JUNK"), (52, unknown)]);
    }

    #[test]
    fn patched_source_reads_the_replacements() {
        let mut p = Patched::new(Cursor::new((0u8..16).collect::<Vec<u8>>()), vec![(2, *b"abcd")]);
        let mut head = [0u8; 3];
        p.read_exact(&mut head).expect("read");
        assert_eq!(head, [0, 1, b'a']);
        let mut rest = Vec::new();
        p.read_to_end(&mut rest).expect("read");
        assert_eq!(&rest[..4], b"bcd\x06");
        p.seek(SeekFrom::Start(4)).expect("seek");
        p.read_exact(&mut head).expect("read");
        assert_eq!(head, [b'c', b'd', 6]);
    }

    #[test]
    fn ignores_other_files() {
        assert!(read_info_tags(&mut Cursor::new(b"fLaC\0\0\0\x22".to_vec())).is_empty());
        assert!(read_info_tags(&mut Cursor::new(Vec::new())).is_empty());
    }
}
