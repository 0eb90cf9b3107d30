//! The edit list of an MP4/M4A file's audio track.
//!
//! AAC encoders prepend priming frames (1024 to 2112) and pad the last
//! packet; the file's edit list (`moov/trak/edts/elst`) says which stretch of
//! the decoded audio is the real signal. symphonia 0.6's MP4 reader does not
//! read edit lists, so without this every AAC upload would start some tens of
//! milliseconds late and run long. This small reader walks the box tree,
//! seeking over everything else, and the pipeline trims what it says.

use std::io::{self, Read, Seek, SeekFrom};

/// Boxes inspected per level before giving up (real files have a handful).
const MAX_BOXES: usize = 256;
/// Largest edit list read; real ones have one or two entries.
const MAX_EDITS: u32 = 1_024;

/// Which decoded frames are the signal: drop `skip`, then keep `keep` (all
/// the rest when `None`). In frames of the track's sample rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Edit {
    pub skip: u64,
    pub keep: Option<u64>,
}

/// An edit as the file states it, in its own timescales.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StatedEdit {
    media_time: u64,
    media_timescale: u64,
    /// Segment duration and the movie timescale it is in; `None` = to the end.
    duration: Option<(u64, u64)>,
}

impl StatedEdit {
    /// In frames at `sample_rate`; `None` when there is nothing to trim.
    pub(crate) fn at_rate(&self, sample_rate: u32) -> Option<Edit> {
        let rate = u64::from(sample_rate);
        if rate == 0 {
            return None;
        }
        let skip = scale(self.media_time, rate, self.media_timescale);
        let keep = self.duration.map(|(d, timescale)| scale(d, rate, timescale));
        (skip > 0 || keep.is_some()).then_some(Edit { skip, keep })
    }
}

/// The edit of the first sound track, when the file is MP4 and has one that
/// this reader can apply exactly: one stretch of the media at normal speed
/// (a leading empty edit, which would delay the start, is ignored). The
/// stream is left where it started.
pub(crate) fn audio_edit<R: Read + Seek>(r: &mut R) -> Option<StatedEdit> {
    let start = r.stream_position().ok()?;
    // The edit is a refinement: a read error here leaves the audio untrimmed,
    // and the demuxer reports any real problem with the file.
    let found = scan(r).ok().flatten();
    let _ = r.seek(SeekFrom::Start(start));
    found
}

struct Header {
    kind: [u8; 4],
    /// Bytes of the body, when the box does not run to the end of the file.
    body: Option<u64>,
}

fn read_header<R: Read>(r: &mut R) -> io::Result<Option<Header>> {
    let mut h = [0u8; 8];
    match r.read_exact(&mut h) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let size = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    let kind = [h[4], h[5], h[6], h[7]];
    let body = match size {
        0 => None,
        1 => {
            let mut large = [0u8; 8];
            r.read_exact(&mut large)?;
            Some(u64::from_be_bytes(large).checked_sub(16).ok_or_else(|| bad("box size"))?)
        }
        n => Some(u64::from(n).checked_sub(8).ok_or_else(|| bad("box size"))?),
    };
    Ok(Some(Header { kind, body }))
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// Calls `visit` with each child box of the region `[from, from + len)`,
/// positioned at the child's body; returns the first `Some` it gives.
fn children<R: Read + Seek, T>(
    r: &mut R,
    from: u64,
    len: Option<u64>,
    mut visit: impl FnMut(&mut R, [u8; 4], u64) -> io::Result<Option<T>>,
) -> io::Result<Option<T>> {
    let end = len.map(|l| from.saturating_add(l));
    let mut at = from;
    for _ in 0..MAX_BOXES {
        if end.is_some_and(|e| at + 8 > e) {
            break;
        }
        r.seek(SeekFrom::Start(at))?;
        let Some(h) = read_header(r)? else { break };
        let body_at = r.stream_position()?;
        let body = h.body.or_else(|| end.map(|e| e.saturating_sub(body_at))).unwrap_or(u64::MAX / 4);
        if let Some(found) = visit(r, h.kind, body)? {
            return Ok(Some(found));
        }
        at = body_at.saturating_add(body);
        if h.body.is_none() {
            break;
        }
    }
    Ok(None)
}

fn read_bytes<R: Read>(r: &mut R, n: usize) -> io::Result<Vec<u8>> {
    let mut v = vec![0u8; n];
    r.read_exact(&mut v)?;
    Ok(v)
}

fn be(b: &[u8]) -> u64 {
    b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
}

/// Timescale of an `mvhd` or `mdhd` body (both start alike).
fn timescale<R: Read>(r: &mut R) -> io::Result<u64> {
    let head = read_bytes(r, 4)?;
    let skip = if head[0] == 1 { 16 } else { 8 };
    let b = read_bytes(r, skip + 4)?;
    Ok(be(&b[skip..skip + 4]))
}

/// `(segment duration, media time, rate integer part)` of each entry.
fn edit_list<R: Read>(r: &mut R) -> io::Result<Vec<(u64, i64, i16)>> {
    let head = read_bytes(r, 8)?;
    let wide = head[0] == 1;
    let count = u32::try_from(be(&head[4..8])).unwrap_or(u32::MAX);
    if count > MAX_EDITS {
        return Err(bad("edit list too long"));
    }
    let entry = if wide { 20 } else { 12 };
    let body = read_bytes(r, count as usize * entry)?;
    Ok(body
        .chunks_exact(entry)
        .map(|e| {
            let (d, t, rate) = if wide { (&e[0..8], &e[8..16], &e[16..18]) } else { (&e[0..4], &e[4..8], &e[8..10]) };
            let time = if wide { be(t) as i64 } else { i64::from(be(t) as u32 as i32) };
            (be(d), time, be(rate) as u16 as i16)
        })
        .collect())
}

struct Track {
    sound: bool,
    media_timescale: Option<u64>,
    edits: Option<Vec<(u64, i64, i16)>>,
}

fn scan<R: Read + Seek>(r: &mut R) -> io::Result<Option<StatedEdit>> {
    let mut first = [0u8; 8];
    r.read_exact(&mut first)?;
    if &first[4..8] != b"ftyp" {
        return Ok(None);
    }
    r.seek(SeekFrom::Start(0))?;
    let mut movie_timescale = None;
    children(r, 0, None, |r, kind, body| {
        if &kind != b"moov" {
            return Ok(None);
        }
        let moov = r.stream_position()?;
        children(r, moov, Some(body), |r, kind, body| {
            match &kind {
                b"mvhd" => movie_timescale = Some(timescale(r)?),
                b"trak" => {
                    let track = read_track(r, body)?;
                    if track.sound {
                        return Ok(Some(edit_for(&track, movie_timescale)));
                    }
                }
                _ => {}
            }
            Ok(None)
        })
    })
    .map(Option::flatten)
}

fn read_track<R: Read + Seek>(r: &mut R, len: u64) -> io::Result<Track> {
    let mut track = Track { sound: false, media_timescale: None, edits: None };
    let at = r.stream_position()?;
    children(r, at, Some(len), |r, kind, body| {
        match &kind {
            b"edts" => {
                let at = r.stream_position()?;
                children(r, at, Some(body), |r, kind, _| {
                    if &kind == b"elst" {
                        track.edits = Some(edit_list(r)?);
                    }
                    Ok(None::<()>)
                })?;
            }
            b"mdia" => {
                let at = r.stream_position()?;
                children(r, at, Some(body), |r, kind, _| {
                    match &kind {
                        b"mdhd" => track.media_timescale = Some(timescale(r)?),
                        b"hdlr" => track.sound = &read_bytes(r, 12)?[8..12] == b"soun",
                        _ => {}
                    }
                    Ok(None::<()>)
                })?;
            }
            _ => {}
        }
        Ok(None::<()>)
    })?;
    Ok(track)
}

fn edit_for(track: &Track, movie_timescale: Option<u64>) -> Option<StatedEdit> {
    let edits = track.edits.as_ref()?;
    // A leading empty edit (media time -1) would delay the start; it is left out.
    let used: Vec<_> = edits.iter().filter(|e| e.1 >= 0).collect();
    let &[&(duration, media_time, rate)] = used.as_slice() else { return None };
    if rate != 1 {
        return None;
    }
    Some(StatedEdit {
        media_time: media_time as u64,
        media_timescale: track.media_timescale.filter(|&t| t > 0)?,
        // A zero duration means "to the end of the media" (fragmented files).
        duration: movie_timescale.filter(|&t| t > 0 && duration > 0).map(|t| (duration, t)),
    })
}

/// `value × num / den`, rounded, without overflow.
fn scale(value: u64, num: u64, den: u64) -> u64 {
    let v = (u128::from(value) * u128::from(num) + u128::from(den) / 2) / u128::from(den);
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// Applies an [`Edit`] to a stream of interleaved blocks.
pub(crate) struct Trim {
    skip: u64,
    keep: Option<u64>,
}

impl Trim {
    pub(crate) fn new(edit: Edit) -> Self {
        Trim { skip: edit.skip, keep: edit.keep }
    }

    /// The part of `block` (interleaved, `channels` wide) that is signal.
    pub(crate) fn apply<'b>(&mut self, block: &'b [f32], channels: usize) -> &'b [f32] {
        let frames = (block.len() / channels.max(1)) as u64;
        let skipped = self.skip.min(frames);
        self.skip -= skipped;
        let mut take = frames - skipped;
        if let Some(keep) = &mut self.keep {
            take = take.min(*keep);
            *keep -= take;
        }
        let from = skipped as usize * channels;
        &block[from..from + take as usize * channels]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn edit(bytes: Vec<u8>, rate: u32) -> Option<Edit> {
        audio_edit(&mut Cursor::new(bytes)).and_then(|e| e.at_rate(rate))
    }

    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v
    }

    fn mvhd(timescale: u32) -> Vec<u8> {
        let mut b = vec![0u8; 12];
        b.extend_from_slice(&timescale.to_be_bytes());
        b.extend_from_slice(&[0u8; 84]);
        boxed(b"mvhd", &b)
    }

    fn mdhd(timescale: u32) -> Vec<u8> {
        let mut b = vec![0u8; 12];
        b.extend_from_slice(&timescale.to_be_bytes());
        b.extend_from_slice(&[0u8; 8]);
        boxed(b"mdhd", &b)
    }

    fn hdlr(kind: &[u8; 4]) -> Vec<u8> {
        let mut b = vec![0u8; 8];
        b.extend_from_slice(kind);
        b.extend_from_slice(&[0u8; 13]);
        boxed(b"hdlr", &b)
    }

    fn elst(entries: &[(u32, i32)]) -> Vec<u8> {
        let mut b = vec![0u8; 4];
        b.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        for &(d, t) in entries {
            b.extend_from_slice(&d.to_be_bytes());
            b.extend_from_slice(&t.to_be_bytes());
            b.extend_from_slice(&[0, 1, 0, 0]);
        }
        boxed(b"edts", &boxed(b"elst", &b))
    }

    fn trak(handler: &[u8; 4], timescale: u32, edits: &[(u32, i32)]) -> Vec<u8> {
        let mdia = boxed(b"mdia", &[mdhd(timescale), hdlr(handler)].concat());
        boxed(b"trak", &[elst(edits), mdia].concat())
    }

    fn file(moov: &[u8], moov_last: bool) -> Vec<u8> {
        let ftyp = boxed(b"ftyp", b"M4A \0\0\0\0");
        let mdat = boxed(b"mdat", &[7u8; 1000]);
        if moov_last { [ftyp, mdat, moov.to_vec()].concat() } else { [ftyp, moov.to_vec(), mdat].concat() }
    }

    #[test]
    fn reads_the_sound_tracks_edit_wherever_the_movie_box_is() {
        // ffmpeg's AAC: 1024 priming frames; 4 s in a 1000-per-second movie timescale.
        let moov = boxed(
            b"moov",
            &[mvhd(1000), trak(b"vide", 90_000, &[(4000, 0)]), trak(b"soun", 16_000, &[(4000, 1024)])].concat(),
        );
        for moov_last in [false, true] {
            let mut c = Cursor::new(file(&moov, moov_last));
            let stated = audio_edit(&mut c);
            assert_eq!(c.position(), 0);
            assert_eq!(stated.and_then(|e| e.at_rate(16_000)), Some(Edit { skip: 1024, keep: Some(64_000) }));
        }
    }

    #[test]
    fn media_timescale_other_than_the_rate_is_scaled() {
        let moov = boxed(b"moov", &[mvhd(600), trak(b"soun", 48_000, &[(1200, 2112)])].concat());
        assert_eq!(edit(file(&moov, false), 44_100), Some(Edit { skip: 1940, keep: Some(88_200) }));
    }

    #[test]
    fn leaves_alone_what_it_cannot_apply_exactly() {
        // Several stretches of media, or no edit at all, or not MP4.
        let two = boxed(b"moov", &[mvhd(1000), trak(b"soun", 44_100, &[(1000, 0), (1000, 88_200)])].concat());
        assert_eq!(edit(file(&two, false), 44_100), None);
        let none = boxed(b"moov", &[mvhd(1000), trak(b"soun", 44_100, &[])].concat());
        assert_eq!(edit(file(&none, false), 44_100), None);
        assert_eq!(edit(b"RIFF\0\0\0\0WAVEfmt ".to_vec(), 44_100), None);
        // A leading empty edit is ignored; the one stretch after it applies.
        let delayed = boxed(b"moov", &[mvhd(1000), trak(b"soun", 44_100, &[(500, -1), (1000, 2048)])].concat());
        assert_eq!(edit(file(&delayed, false), 44_100), Some(Edit { skip: 2048, keep: Some(44_100) }));
        // Truncated inside the movie box: no edit, no panic.
        let whole = file(&boxed(b"moov", &[mvhd(1000), trak(b"soun", 44_100, &[(1000, 1024)])].concat()), false);
        for cut in [12, 30, 60, 90] {
            let _ = edit(whole[..cut].to_vec(), 44_100);
        }
    }

    #[test]
    fn trim_drops_the_priming_and_stops_at_the_end() {
        let mut t = Trim::new(Edit { skip: 3, keep: Some(4) });
        let a: Vec<f32> = (0..10).map(|i| i as f32).collect(); // 5 stereo frames
        assert_eq!(t.apply(&a, 2), &[6.0, 7.0, 8.0, 9.0]);
        let b: Vec<f32> = (10..20).map(|i| i as f32).collect();
        assert_eq!(t.apply(&b, 2), &[10.0, 11.0, 12.0, 13.0]);
        assert!(t.apply(&b, 2).is_empty());
    }
}
