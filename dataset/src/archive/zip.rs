//! The zip layout, written by hand: the `zip` crate's writer produces bytes as it goes and needs
//! the data in hand, but a streamed archive with Range support needs every offset before any
//! audio is read. Entries are STORED (audio is already compressed) with the CRC-32 carried by the
//! entry, so local headers need no data descriptor. ZIP64 extra fields appear only on an entry
//! whose size or local-header offset does not fit 32 bits, and the ZIP64 end records only when
//! the central directory's count, size or offset does not fit; small archives stay plain zip.
//! Times are a fixed DOS timestamp derived from the given Unix time, permissions 0644.
use super::{Builder, Entry, Layout, civil};

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;
const MAX32: u64 = 0xFFFF_FFFF;
const MAX16: u64 = 0xFFFF;
/// "Made by": Unix (3), spec version 4.5, so the external attributes carry Unix permissions.
const MADE_BY: u16 = (3 << 8) | 45;
/// Bit 11: names are UTF-8.
const FLAGS: u16 = 1 << 11;

pub(super) fn layout(entries: &[Entry], mtime_unix: u64) -> Layout {
    let (time, date) = dos_datetime(mtime_unix);
    let mut b = Builder::default();
    let mut central = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let offset = b.len;
        let name = e.path.as_bytes();
        let big_size = e.size >= MAX32;

        let mut local = Vec::with_capacity(30 + name.len() + 20);
        put32(&mut local, LOCAL_SIG);
        put16(&mut local, if big_size { 45 } else { 20 });
        put16(&mut local, FLAGS);
        put16(&mut local, 0); // STORED
        put16(&mut local, time);
        put16(&mut local, date);
        put32(&mut local, e.crc32);
        let size32 = if big_size { MAX32 } else { e.size } as u32;
        put32(&mut local, size32); // compressed
        put32(&mut local, size32); // uncompressed
        put16(&mut local, name.len() as u16);
        put16(&mut local, if big_size { 20 } else { 0 });
        local.extend_from_slice(name);
        if big_size {
            // In a local header the ZIP64 field holds both sizes.
            put16(&mut local, 0x0001);
            put16(&mut local, 16);
            put64(&mut local, e.size);
            put64(&mut local, e.size);
        }
        b.bytes(local);
        b.data(i, e.size);

        let big_offset = offset >= MAX32;
        let mut extra = Vec::new();
        if big_size || big_offset {
            let mut fields = Vec::new();
            if big_size {
                put64(&mut fields, e.size);
                put64(&mut fields, e.size);
            }
            if big_offset {
                put64(&mut fields, offset);
            }
            put16(&mut extra, 0x0001);
            put16(&mut extra, fields.len() as u16);
            extra.extend_from_slice(&fields);
        }
        put32(&mut central, CENTRAL_SIG);
        put16(&mut central, MADE_BY);
        put16(&mut central, if big_size || big_offset { 45 } else { 20 });
        put16(&mut central, FLAGS);
        put16(&mut central, 0);
        put16(&mut central, time);
        put16(&mut central, date);
        put32(&mut central, e.crc32);
        put32(&mut central, size32);
        put32(&mut central, size32);
        put16(&mut central, name.len() as u16);
        put16(&mut central, extra.len() as u16);
        put16(&mut central, 0); // comment
        put16(&mut central, 0); // disk
        put16(&mut central, 0); // internal attributes
        put32(&mut central, 0o100_644 << 16); // regular file, rw-r--r--
        put32(&mut central, if big_offset { MAX32 } else { offset } as u32);
        central.extend_from_slice(name);
        central.extend_from_slice(&extra);
    }

    let cd_offset = b.len;
    let cd_size = central.len() as u64;
    let count = entries.len() as u64;
    let mut end = central;
    if count >= MAX16 || cd_size >= MAX32 || cd_offset >= MAX32 {
        let zip64_eocd_offset = cd_offset + cd_size;
        put32(&mut end, ZIP64_EOCD_SIG);
        put64(&mut end, 44); // size of the rest of the record
        put16(&mut end, MADE_BY);
        put16(&mut end, 45);
        put32(&mut end, 0); // this disk
        put32(&mut end, 0); // disk with the central directory
        put64(&mut end, count);
        put64(&mut end, count);
        put64(&mut end, cd_size);
        put64(&mut end, cd_offset);
        put32(&mut end, ZIP64_LOCATOR_SIG);
        put32(&mut end, 0);
        put64(&mut end, zip64_eocd_offset);
        put32(&mut end, 1); // disks in total
    }
    put32(&mut end, EOCD_SIG);
    put16(&mut end, 0);
    put16(&mut end, 0);
    put16(&mut end, count.min(MAX16) as u16);
    put16(&mut end, count.min(MAX16) as u16);
    put32(&mut end, cd_size.min(MAX32) as u32);
    put32(&mut end, cd_offset.min(MAX32) as u32);
    put16(&mut end, 0); // comment
    b.bytes(end);
    b.finish()
}

/// MS-DOS (time, date) of a Unix time in UTC, clamped to the format's 1980–2107 range.
fn dos_datetime(unix: u64) -> (u16, u16) {
    let (y, mo, d, h, mi, s) = civil(unix);
    if y < 1980 {
        return (0, (1 << 5) | 1);
    }
    let y = y.min(2107) as u16;
    let time = ((h as u16) << 11) | ((mi as u16) << 5) | (s as u16 / 2);
    let date = ((y - 1980) << 9) | ((mo as u16) << 5) | d as u16;
    (time, date)
}

fn put16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn put32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn put64(v: &mut Vec<u8>, x: u64) {
    v.extend_from_slice(&x.to_le_bytes());
}
