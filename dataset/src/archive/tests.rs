//! Layouts checked against the real readers (`tar`, `zip`), against themselves over random
//! sub-ranges, and — for ZIP64 — by parsing the end records of a virtual multi-gigabyte archive.
use std::io::{Cursor, Read};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::model::Blob;

const MTIME: u64 = 1_717_243_200; // 2024-06-01T12:00:00Z

fn blob_of(bytes: &[u8]) -> Blob {
    Blob { size: bytes.len() as u64, sha256: sha256_hex(bytes), crc32: crc32fast::hash(bytes) }
}

/// Entries with inline files, an empty file, a path over 100 bytes and two blobs.
fn fixture() -> (Vec<Entry>, Vec<Vec<u8>>) {
    let blobs: Vec<Vec<u8>> =
        vec![(0..1500u32).map(|i| (i * 7) as u8).collect(), (0..512u32).map(|i| (i * 13 + 1) as u8).collect()];
    let long = format!("deep/{}/file.txt", "x".repeat(120));
    let entries = vec![
        Entry::inline("manifest.json", b"{\"a\": 1}\n".to_vec()),
        Entry::inline("empty.txt", Vec::new()),
        Entry::inline(long, b"long path".to_vec()),
        Entry::blob("audio/b.flac", 1, &blob_of(&blobs[1])),
        Entry::blob("audio/a.flac", 0, &blob_of(&blobs[0])),
    ];
    (entries, blobs)
}

fn materialize(layout: &Layout, entries: &[Entry], blobs: &[Vec<u8>], range: Range<u64>) -> Vec<u8> {
    let mut out = Vec::new();
    for p in layout.pieces(entries, range) {
        match p {
            Piece::Bytes(b) => out.extend_from_slice(&b),
            Piece::Blob { sample, offset, len } => {
                out.extend_from_slice(&blobs[sample][offset as usize..(offset + len) as usize])
            }
        }
    }
    out
}

fn check_cuts(layout: &Layout, entries: &[Entry], blobs: &[Vec<u8>]) {
    let whole = materialize(layout, entries, blobs, 0..layout.len());
    assert_eq!(whole.len() as u64, layout.len());
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for _ in 0..50 {
        let mut cuts: Vec<u64> = (0..rng.random_range(1..40)).map(|_| rng.random_range(0..=layout.len())).collect();
        cuts.extend([0, layout.len()]);
        cuts.sort_unstable();
        let mut joined = Vec::new();
        for w in cuts.windows(2) {
            joined.extend(materialize(layout, entries, blobs, w[0]..w[1]));
        }
        assert_eq!(joined, whole);
    }
    // Out-of-bounds and empty ranges yield nothing.
    assert_eq!(layout.pieces(entries, layout.len()..layout.len() + 10).count(), 0);
    assert_eq!(layout.pieces(entries, 5..5).count(), 0);
}

#[test]
fn tar_reads_back_and_any_split_of_ranges_matches() {
    let (entries, blobs) = fixture();
    let layout = Layout::tar(&entries, MTIME);
    check_cuts(&layout, &entries, &blobs);
    let bytes = materialize(&layout, &entries, &blobs, 0..layout.len());
    assert_eq!(bytes.len() % 512, 0);
    let mut archive = ::tar::Archive::new(Cursor::new(bytes));
    let mut seen = Vec::new();
    for file in archive.entries().unwrap() {
        let mut file = file.unwrap();
        let path = file.path().unwrap().to_string_lossy().into_owned();
        assert_eq!(file.header().mode().unwrap(), 0o644);
        assert_eq!(file.header().mtime().unwrap(), MTIME);
        assert_eq!(file.header().uid().unwrap(), 0);
        let mut data = Vec::new();
        file.read_to_end(&mut data).unwrap();
        seen.push((path, data));
    }
    assert_eq!(seen.len(), entries.len());
    for ((path, data), e) in seen.iter().zip(&entries) {
        assert_eq!(path, &e.path);
        let expected = match &e.content {
            Content::Inline(b) => b.clone(),
            Content::Blob(s) => blobs[*s].clone(),
        };
        assert_eq!(data, &expected);
    }
}

#[test]
fn zip_reads_back_with_crcs_and_any_split_of_ranges_matches() {
    let (entries, blobs) = fixture();
    let layout = Layout::zip(&entries, MTIME);
    check_cuts(&layout, &entries, &blobs);
    let bytes = materialize(&layout, &entries, &blobs, 0..layout.len());
    let mut archive = ::zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    assert_eq!(archive.len(), entries.len());
    for (i, e) in entries.iter().enumerate() {
        let mut file = archive.by_index(i).unwrap();
        assert_eq!(file.name(), e.path);
        assert_eq!(file.crc32(), e.crc32);
        assert_eq!(file.unix_mode(), Some(0o100_644));
        let t = file.last_modified().unwrap();
        assert_eq!((t.year(), t.month(), t.day(), t.hour()), (2024, 6, 1, 12));
        let mut data = Vec::new();
        // Reading to the end verifies the CRC-32.
        file.read_to_end(&mut data).unwrap();
        assert_eq!(data.len() as u64, e.size);
    }
}

#[test]
fn len_is_the_sum_of_the_pieces_and_layouts_are_deterministic() {
    let (entries, _) = fixture();
    for layout in [Layout::tar(&entries, MTIME), Layout::zip(&entries, MTIME)] {
        let sum: u64 = layout.pieces(&entries, 0..u64::MAX).map(|p| p.len()).sum();
        assert_eq!(sum, layout.len());
    }
    let a = Layout::zip(&entries, MTIME);
    let b = Layout::zip(&entries, MTIME);
    let all_a: Vec<Piece> = a.pieces(&entries, 0..a.len()).collect();
    let all_b: Vec<Piece> = b.pieces(&entries, 0..b.len()).collect();
    assert_eq!(all_a, all_b);
}

fn u16_at(b: &[u8], i: usize) -> u64 {
    u64::from(u16::from_le_bytes(b[i..i + 2].try_into().unwrap()))
}
fn u32_at(b: &[u8], i: usize) -> u64 {
    u64::from(u32::from_le_bytes(b[i..i + 4].try_into().unwrap()))
}
fn u64_at(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i..i + 8].try_into().unwrap())
}

/// Bytes of a range that the layout provides itself (it must contain no blob).
fn format_bytes(layout: &Layout, entries: &[Entry], range: Range<u64>) -> Vec<u8> {
    let mut out = Vec::new();
    for p in layout.pieces(entries, range) {
        match p {
            Piece::Bytes(b) => out.extend_from_slice(&b),
            Piece::Blob { .. } => panic!("a header range reached into a blob"),
        }
    }
    out
}

#[test]
fn zip64_records_for_a_virtual_archive_over_4_gib() {
    const GIB: u64 = 1 << 30;
    let virtual_blob = |size: u64| Blob { size, sha256: "0".repeat(64), crc32: 0x1234_5678 };
    // A 5 GiB file (ZIP64 sizes), then files whose headers start past 4 GiB (ZIP64 offsets).
    let entries = vec![
        Entry::inline("manifest.json", b"{}".to_vec()),
        Entry::blob("audio/huge.flac", 0, &virtual_blob(5 * GIB)),
        Entry::blob("audio/after.flac", 1, &virtual_blob(GIB)),
        Entry::inline("README.md", b"# x\n".to_vec()),
    ];
    let layout = Layout::zip(&entries, MTIME);
    let names: u64 = entries.iter().map(|e| e.path.len() as u64).sum();
    let data: u64 = entries.iter().map(|e| e.size).sum();
    // Local headers: 30 + name, plus a 20-byte ZIP64 field for the 5 GiB file.
    let locals = 4 * 30 + names + 20 + data;
    // Central headers: 46 + name, plus ZIP64 fields: sizes (4+16) for the 5 GiB file, offset
    // (4+8) for the two files after it.
    let central = 4 * 46 + names + 20 + 12 + 12;
    assert_eq!(layout.len(), locals + central + 56 + 20 + 22);

    let tail_len = 22 + 20 + 56;
    let tail = format_bytes(&layout, &entries, layout.len() - tail_len..layout.len());
    let (z64, loc, eocd) = (&tail[..56], &tail[56..76], &tail[76..]);
    assert_eq!(u32_at(eocd, 0), 0x0605_4b50);
    assert_eq!(u32_at(eocd, 12), central);
    assert_eq!(u32_at(eocd, 16), 0xFFFF_FFFF, "the offset needs ZIP64");
    assert_eq!(u32_at(loc, 0), 0x0706_4b50);
    assert_eq!(u64_at(loc, 8), locals + central);
    assert_eq!(u32_at(z64, 0), 0x0606_4b50);
    assert_eq!(u64_at(z64, 4), 44);
    assert_eq!(u64_at(z64, 24), 4);
    assert_eq!(u64_at(z64, 32), 4);
    assert_eq!(u64_at(z64, 40), central);
    assert_eq!(u64_at(z64, 48), locals);

    // Walk the central directory; every offset must point at its local header.
    let cd = format_bytes(&layout, &entries, locals..locals + central);
    let mut i = 0;
    for e in &entries {
        assert_eq!(u32_at(&cd, i), 0x0201_4b50);
        let (name_len, extra_len) = (u16_at(&cd, i + 28) as usize, u16_at(&cd, i + 30) as usize);
        assert_eq!(&cd[i + 46..i + 46 + name_len], e.path.as_bytes());
        let mut extra = &cd[i + 46 + name_len..i + 46 + name_len + extra_len];
        let (mut size, mut offset) = (u32_at(&cd, i + 24), u32_at(&cd, i + 42));
        if extra_len > 0 {
            assert_eq!(u16_at(extra, 0), 1);
            extra = &extra[4..];
            if size == 0xFFFF_FFFF {
                size = u64_at(extra, 0);
                assert_eq!(u64_at(extra, 8), e.size);
                extra = &extra[16..];
            }
            if offset == 0xFFFF_FFFF {
                offset = u64_at(extra, 0);
            }
        }
        assert_eq!(size, e.size);
        assert_eq!(u16_at(&cd, i + 6) == 45, extra_len > 0);
        let local = format_bytes(&layout, &entries, offset..offset + 30 + name_len as u64);
        assert_eq!(u32_at(&local, 0), 0x0403_4b50);
        assert_eq!(&local[30..], e.path.as_bytes());
        i += 46 + name_len + extra_len;
    }
    assert_eq!(i as u64, central);
    // The blob's pieces cover it exactly, without allocating it.
    let blob_len: u64 = layout
        .pieces(&entries, 0..layout.len())
        .filter_map(|p| match p {
            Piece::Blob { sample: 0, len, .. } => Some(len),
            _ => None,
        })
        .sum();
    assert_eq!(blob_len, 5 * GIB);
}

#[test]
fn small_zips_have_no_zip64_records() {
    let (entries, blobs) = fixture();
    let layout = Layout::zip(&entries, MTIME);
    let bytes = materialize(&layout, &entries, &blobs, 0..layout.len());
    let find = |sig: u32| bytes.windows(4).any(|w| w == sig.to_le_bytes());
    assert!(!find(0x0606_4b50));
    assert!(!find(0x0706_4b50));
}

#[test]
fn dos_dates_and_civil_time() {
    assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
    assert_eq!(civil(MTIME), (2024, 6, 1, 12, 0, 0));
    assert_eq!(civil(951_782_400), (2000, 2, 29, 0, 0, 0));
}
