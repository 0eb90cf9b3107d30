//! Checksums recomputed after mutating, so that damage reaches the decoder
//! instead of stopping at the container's check.

use crate::seeds::ffmpeg_seed;

#[derive(Clone, Copy)]
pub(crate) enum Checksums {
    None,
    Ogg,
    Flac,
}

pub(crate) fn fix_ogg_crcs(b: &mut [u8]) {
    let mut at = 0;
    while let Some(page) = b[at..].windows(4).position(|w| w == b"OggS").map(|p| p + at) {
        at = page + 4;
        let Some(&segments) = b.get(page + 26) else { return };
        let Some(table) = b.get(page + 27..page + 27 + usize::from(segments)) else { return };
        let len = 27 + usize::from(segments) + table.iter().map(|&s| usize::from(s)).sum::<usize>();
        let Some(bytes) = b.get_mut(page..page + len) else { return };
        bytes[22..26].fill(0);
        let crc = bytes.iter().fold(0u32, |c, &x| {
            (0..8).fold(
                c ^ (u32::from(x) << 24),
                |c, _| if c & 0x8000_0000 != 0 { (c << 1) ^ 0x04c1_1db7 } else { c << 1 },
            )
        });
        bytes[22..26].copy_from_slice(&crc.to_le_bytes());
    }
}

fn crc8(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |c, &x| (0..8).fold(c ^ x, |c, _| if c & 0x80 != 0 { (c << 1) ^ 0x07 } else { c << 1 }))
}

fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0u16, |c, &x| {
        (0..8).fold(c ^ (u16::from(x) << 8), |c, _| if c & 0x8000 != 0 { (c << 1) ^ 0x8005 } else { c << 1 })
    })
}

/// Length of a FLAC frame header (up to and including its CRC-8), if it parses.
fn flac_header_len(h: &[u8]) -> Option<usize> {
    if h.len() < 5 || h[0] != 0xff || h[1] & 0xfe != 0xf8 {
        return None;
    }
    // The UTF-8-like coded frame or sample number.
    let lead = h[4];
    let coded = match lead.leading_ones() {
        0 => 1,
        n @ 2..=7 => n as usize,
        _ => return None,
    };
    let block = match h[2] >> 4 {
        6 => 1,
        7 => 2,
        _ => 0,
    };
    let rate = match h[2] & 0x0f {
        12 => 1,
        13 | 14 => 2,
        _ => 0,
    };
    let len = 4 + coded + block + rate + 1;
    (len <= h.len()).then_some(len)
}

/// Recomputes the CRC-8 of each frame header and the CRC-16 of each frame,
/// for the frames the seed has at `frames` (start offsets).
pub(crate) fn fix_flac_crcs(b: &mut [u8], frames: &[usize]) {
    for (i, &start) in frames.iter().enumerate() {
        let end = frames.get(i + 1).copied().unwrap_or(b.len()).min(b.len());
        if end < start + 8 {
            break;
        }
        let Some(h) = flac_header_len(&b[start..end]) else { continue };
        b[start + h - 1] = crc8(&b[start..start + h - 1]);
        let crc = crc16(&b[start..end - 2]);
        b[end - 2..end].copy_from_slice(&crc.to_be_bytes());
    }
}

/// Frame starts of a valid FLAC file: every sync code whose header checksum holds.
/// A candidate whose header checksum holds by chance inside a frame is
/// dropped: a frame runs from one start to the next with its CRC-16 holding
/// (the CRC of data followed by its CRC is 0).
pub(crate) fn flac_frames(b: &[u8]) -> Vec<usize> {
    let candidates: Vec<usize> = (0..b.len().saturating_sub(16))
        .filter(|&i| flac_header_len(&b[i..i + 16]).is_some_and(|h| crc8(&b[i..i + h - 1]) == b[i + h - 1]))
        .collect();
    let Some((&first, rest)) = candidates.split_first() else { return Vec::new() };
    let mut frames = Vec::new();
    let mut current = first;
    for &next in rest {
        if crc16(&b[current..next]) == 0 {
            frames.push(current);
            current = next;
        }
    }
    if crc16(&b[current..]) == 0 {
        frames.push(current);
    }
    frames
}

/// The harness's own checks: recomputing the checksums of an intact file
/// changes nothing, and every FLAC frame is found.
#[test]
fn checksum_fixups_leave_intact_files_unchanged() {
    let ogg = ffmpeg_seed(44_100, 2, 0.4, "ogg", &["-c:a", "libvorbis", "-q:a", "0"]);
    let mut fixed = ogg.clone();
    fix_ogg_crcs(&mut fixed);
    assert!(fixed == ogg, "Ogg CRCs recomputed differently");

    let flac = ffmpeg_seed(48_000, 2, 0.3, "flac", &["-c:a", "flac"]);
    let frames = flac_frames(&flac);
    // 0.3 s at 48 kHz in ffmpeg's 4608-frame blocks.
    assert_eq!(frames.len(), 4);
    let mut fixed = flac.clone();
    fix_flac_crcs(&mut fixed, &frames);
    assert!(fixed == flac, "FLAC CRCs recomputed differently");
}
