//! Header fields of each container, found by walking the seed.

use crate::mutate::Field;

fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u32_be(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// RIFF/RF64: the RIFF size, each chunk's size, `fmt `, `ds64`, `fact` and INFO fields.
pub(crate) fn riff_fields(b: &[u8]) -> Vec<Field> {
    let mut f = vec![Field::le(4, 4)];
    let mut at = 12;
    while let Some(size) = u32_le(b, at + 4) {
        f.push(Field::le(at + 4, 4));
        let body = at + 8;
        match &b[at..at + 4] {
            b"fmt " => {
                // format tag, channels, rate, byte rate, block align, bits, cbSize, valid bits, mask
                for (off, w) in [(0, 2), (2, 2), (4, 4), (8, 4), (12, 2), (14, 2), (16, 2), (18, 2), (20, 4), (24, 2)] {
                    f.push(Field::le(body + off, w));
                }
            }
            b"ds64" => (0..4).for_each(|i| f.push(Field::le(body + 8 * i, 8))),
            b"fact" => f.push(Field::le(body, 4)),
            b"LIST" => {
                let mut e = body + 4;
                while e + 8 <= body + size as usize {
                    f.push(Field::le(e + 4, 4));
                    let n = u32_le(b, e + 4).unwrap_or(0) as usize;
                    e += 8 + n + n % 2;
                }
            }
            b"data" => break,
            _ => {}
        }
        at = body + size as usize + size as usize % 2;
    }
    f
}

/// AIFF: the FORM size, chunk sizes, COMM and SSND fields (big-endian).
pub(crate) fn aiff_fields(b: &[u8]) -> Vec<Field> {
    let mut f = vec![Field::be(4, 4)];
    let mut at = 12;
    while let Some(size) = u32_be(b, at + 4) {
        f.push(Field::be(at + 4, 4));
        let body = at + 8;
        match &b[at..at + 4] {
            // channels, frames, bits, rate exponent, rate mantissa
            b"COMM" => [(0, 2), (2, 4), (6, 2), (8, 2), (10, 4), (10, 8)]
                .into_iter()
                .for_each(|(off, w)| f.push(Field::be(body + off, w))),
            b"SSND" => {
                f.extend([Field::be(body, 4), Field::be(body + 4, 4)]);
                break;
            }
            _ => {}
        }
        at = body + size as usize + size as usize % 2;
    }
    f
}

/// FLAC: metadata block types and lengths, STREAMINFO, Vorbis comment lengths.
pub(crate) fn flac_fields(b: &[u8]) -> Vec<Field> {
    let mut f = Vec::new();
    let mut at = 4;
    while at + 4 <= b.len() {
        let (kind, last) = (b[at] & 0x7f, b[at] & 0x80 != 0);
        let len = (usize::from(b[at + 1]) << 16) | (usize::from(b[at + 2]) << 8) | usize::from(b[at + 3]);
        f.extend([Field::be(at, 1), Field::be(at + 1, 3)]);
        let body = at + 4;
        match kind {
            // block sizes, frame sizes, rate/channels/bits/total, total alone
            0 => [(0, 2), (2, 2), (4, 3), (7, 3), (10, 4), (10, 8), (14, 4)]
                .into_iter()
                .for_each(|(off, w)| f.push(Field::be(body + off, w))),
            4 => {
                let vendor = u32_le(b, body).unwrap_or(0) as usize;
                f.extend([Field::le(body, 4), Field::le(body + 4 + vendor, 4)]);
                let mut c = body + 8 + vendor;
                while c + 4 <= body + len {
                    f.push(Field::le(c, 4));
                    c += 4 + u32_le(b, c).unwrap_or(0) as usize;
                }
            }
            // picture: type, MIME length, description length, width…, data length
            6 => [0, 4].into_iter().for_each(|off| f.push(Field::be(body + off, 4))),
            _ => {}
        }
        at = body + len;
        if last {
            break;
        }
    }
    // The first frame header: sync, block size and rate codes, channel and bit codes.
    (at..(at + 6).min(b.len())).for_each(|i| f.push(Field::be(i, 1)));
    f
}

/// MP4: every box size (recursing into containers) and the counts and first
/// entries of the sample tables, timescales, the sample entry's fields.
pub(crate) fn mp4_fields(b: &[u8]) -> Vec<Field> {
    fn walk(b: &[u8], from: usize, to: usize, f: &mut Vec<Field>, depth: usize) {
        let mut at = from;
        while at + 8 <= to && depth < 12 {
            let Some(size) = u32_be(b, at) else { return };
            let kind: [u8; 4] = b[at + 4..at + 8].try_into().expect("4 bytes");
            f.push(Field::be(at, 4));
            let size = match size {
                0 => to - at,
                1 => {
                    f.push(Field::be(at + 8, 8));
                    return;
                }
                n => n as usize,
            };
            if size < 8 {
                return;
            }
            let (body, end) = (at + 8, (at + size).min(to));
            match &kind {
                b"moov" | b"trak" | b"mdia" | b"minf" | b"stbl" | b"edts" | b"udta" | b"dinf" | b"ilst" => {
                    walk(b, body, end, f, depth + 1)
                }
                b"meta" => walk(b, body + 4, end, f, depth + 1),
                b"stsd" => {
                    f.push(Field::be(body + 4, 4));
                    // The sample entry (mp4a, alac): channels, sample size, rate; then its children.
                    let entry = body + 8;
                    f.push(Field::be(entry, 4));
                    [(24, 2), (26, 2), (32, 4)].into_iter().for_each(|(off, w)| f.push(Field::be(entry + off, w)));
                    let entry_end = (entry + u32_be(b, entry).unwrap_or(0) as usize).min(end);
                    walk(b, entry + 36, entry_end, f, depth + 1);
                }
                b"esds" | b"alac" => (body..(body + 40).min(end)).for_each(|i| f.push(Field::be(i, 1))),
                b"mvhd" | b"mdhd" => f.extend([Field::be(body + 12, 4), Field::be(body + 16, 4)]),
                b"stts" | b"stsc" | b"stco" | b"elst" | b"stss" => {
                    f.push(Field::be(body + 4, 4));
                    (0..6).for_each(|i| f.push(Field::be(body + 8 + 4 * i, 4)));
                }
                b"co64" => {
                    f.push(Field::be(body + 4, 4));
                    f.push(Field::be(body + 8, 8));
                }
                b"stsz" => (0..6).for_each(|i| f.push(Field::be(body + 4 + 4 * i, 4))),
                b"hdlr" => f.push(Field::be(body + 8, 4)),
                _ => {}
            }
            at += size;
        }
    }
    let mut f = Vec::new();
    walk(b, 0, b.len(), &mut f, 0);
    f.retain(|x| x.at + x.width <= b.len());
    f
}

/// Ogg: each page's flags, granule position, serial, sequence number and
/// segment count; the Vorbis identification and comment header fields.
pub(crate) fn ogg_fields(b: &[u8]) -> Vec<Field> {
    let mut f = Vec::new();
    let mut at = 0;
    while let Some(page) = b[at..].windows(4).position(|w| w == b"OggS").map(|p| p + at) {
        f.extend([Field::le(page + 5, 1), Field::le(page + 6, 8), Field::le(page + 14, 4), Field::le(page + 18, 4)]);
        f.push(Field::le(page + 26, 1));
        at = page + 4;
    }
    if let Some(id) = b.windows(7).position(|w| w == b"\x01vorbis") {
        // version, channels, rate, bitrates, block sizes
        [(7, 4), (11, 1), (12, 4), (16, 4), (20, 4), (24, 4), (28, 1)]
            .into_iter()
            .for_each(|(off, w)| f.push(Field::le(id + off, w)));
    }
    if let Some(c) = b.windows(7).position(|w| w == b"\x03vorbis") {
        let vendor = u32_le(b, c + 7).unwrap_or(0) as usize;
        f.extend([Field::le(c + 7, 4), Field::le(c + 11 + vendor, 4), Field::le(c + 15 + vendor, 4)]);
    }
    f.retain(|x| x.at + x.width <= b.len());
    f
}

/// MP3: the ID3v2 size and flags and the first frame headers; ADTS: the
/// first frame headers (profile, rate, channels, frame length).
pub(crate) fn mpeg_fields(b: &[u8]) -> Vec<Field> {
    let mut f = Vec::new();
    let mut at = 0;
    if b.starts_with(b"ID3") {
        f.extend([Field::be(5, 1), Field::be(6, 4)]);
        let size = b[6..10].iter().fold(0usize, |acc, &x| (acc << 7) | usize::from(x & 0x7f));
        at = 10 + size;
    }
    let mut frames = 0;
    while at + 8 <= b.len() && frames < 4 {
        if b[at] == 0xff && b[at + 1] & 0xf0 == 0xf0 {
            (at + 1..at + 7).for_each(|i| f.push(Field::be(i, 1)));
            frames += 1;
            at += 4;
        } else {
            at += 1;
        }
    }
    f
}
