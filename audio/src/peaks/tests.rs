//! Unit tests of the builder, the `.dat` format and the zoom and resolution
//! conversions.

use super::*;

fn reference(samples: &[f32], channels: usize, spp: usize) -> Vec<i16> {
    let frames: Vec<&[f32]> = samples.chunks(channels).collect();
    let mut out = Vec::new();
    for pixel in frames.chunks(spp) {
        for ch in 0..channels {
            let vals = pixel.iter().map(|f| sample_to_i16(f[ch]));
            out.push(vals.clone().min().unwrap_or(0));
            out.push(vals.max().unwrap_or(0));
        }
    }
    out
}

fn signal(len: usize) -> Vec<f32> {
    // Deterministic pseudo-random values in [-1.2, 1.2] to exercise clamping.
    let mut state = 0x2545_f491_u32;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state as f32 / u32::MAX as f32) * 2.4 - 1.2
        })
        .collect()
}

#[test]
fn builder_matches_direct_min_max_for_any_block_split() {
    for &(channels, spp, len) in &[(1usize, 7u32, 100usize), (2, 4, 203), (3, 1, 30), (2, 256, 1000)] {
        let x = signal(len * channels);
        let expected = reference(&x, channels, spp as usize);
        for block in [1usize, 2, 3, 5, 64, 10_000] {
            let mut b = PeaksBuilder::new(8000, channels as u16, spp);
            for chunk in x.chunks(block) {
                b.push(chunk);
            }
            let p = b.finish();
            assert_eq!(p.data, expected, "channels={channels} spp={spp} block={block}");
            assert_eq!(p.pixels(), len.div_ceil(spp as usize));
            assert_eq!(p.bits, 16);
        }
    }
}

#[test]
fn integer_input_matches_float_input() {
    for &(bits, channels, spp, len) in
        &[(16u32, 1usize, 7u32, 1000usize), (16, 2, 256, 3000), (24, 2, 4, 203), (24, 3, 5, 301), (16, 2, 1, 40)]
    {
        let full = (1i64 << (bits - 1)) as f32;
        let ints: Vec<i32> = signal(len * channels)
            .iter()
            .map(|&v| ((v * full).round() as i64).clamp(-(full as i64), full as i64 - 1) as i32)
            .collect();
        let floats: Vec<f32> = ints.iter().map(|&q| q as f32 / full).collect();
        let mut want = PeaksBuilder::new(8000, channels as u16, spp);
        want.push(&floats);
        let want = want.finish();
        for block in [1usize, 2, 3, 5, 64, 10_000] {
            let mut b = PeaksBuilder::new(8000, channels as u16, spp);
            for chunk in ints.chunks(block) {
                b.push_ints(chunk, full);
            }
            assert_eq!(b.finish(), want, "bits={bits} channels={channels} spp={spp} block={block}");
        }
    }
}

#[test]
fn sample_mapping_rounds_and_clamps() {
    assert_eq!(sample_to_i16(1.0), 32767);
    assert_eq!(sample_to_i16(-1.0), -32767);
    assert_eq!(sample_to_i16(2.0), 32767);
    assert_eq!(sample_to_i16(-2.0), -32768);
    assert_eq!(sample_to_i16(0.5), 16384); // 16383.5 rounds away from zero
    assert_eq!(sample_to_i16(f32::NAN), 0);
}

#[test]
fn empty_builder_gives_no_pixels() {
    let p = PeaksBuilder::new(44100, 2, 256).finish();
    assert_eq!(p.pixels(), 0);
    assert!(p.data.is_empty());
}

#[test]
fn dat_header_bytes_are_exact() {
    let p = Peaks {
        sample_rate: 44100,
        samples_per_pixel: 256,
        channels: 2,
        bits: 16,
        data: vec![-1, 2, -300, 400, -5, 6, -7, 8],
    };
    let bytes = p.to_dat_bytes();
    let mut expected = Vec::new();
    expected.extend_from_slice(&[2, 0, 0, 0]); // version
    expected.extend_from_slice(&[0, 0, 0, 0]); // flags: 16-bit
    expected.extend_from_slice(&[0x44, 0xac, 0, 0]); // 44100
    expected.extend_from_slice(&[0, 1, 0, 0]); // 256
    expected.extend_from_slice(&[2, 0, 0, 0]); // length: 2 pixels
    expected.extend_from_slice(&[2, 0, 0, 0]); // channels
    expected.extend_from_slice(&[0xff, 0xff, 2, 0, 0xd4, 0xfe, 0x90, 0x01]);
    expected.extend_from_slice(&[0xfb, 0xff, 6, 0, 0xf9, 0xff, 8, 0]);
    assert_eq!(bytes, expected);
    assert_eq!(Peaks::from_dat_bytes(&bytes), Ok(p));
}

#[test]
fn dat_round_trips_8_bit() {
    let p = Peaks {
        sample_rate: 48000,
        samples_per_pixel: 512,
        channels: 2,
        bits: 8,
        data: vec![-65, 63, -66, 64, -40, 41, -39, 45, -55, 43, -55, 44],
    };
    let bytes = p.to_dat_bytes();
    assert_eq!(&bytes[4..8], &[1, 0, 0, 0]);
    assert_eq!(bytes.len(), 24 + 12);
    assert_eq!(Peaks::from_dat_bytes(&bytes), Ok(p));
}

#[test]
fn reads_version_1() {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&1i32.to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes());
    bytes.extend_from_slice(&22050i32.to_le_bytes());
    bytes.extend_from_slice(&64i32.to_le_bytes());
    bytes.extend_from_slice(&2u32.to_le_bytes());
    for v in [-10i16, 10, -20, 20] {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    let p = Peaks::from_dat_bytes(&bytes).expect("valid v1");
    assert_eq!(p.channels, 1);
    assert_eq!(p.sample_rate, 22050);
    assert_eq!(p.samples_per_pixel, 64);
    assert_eq!(p.data, vec![-10, 10, -20, 20]);
    // Re-serialising upgrades to version 2.
    assert_eq!(Peaks::from_dat_bytes(&p.to_dat_bytes()), Ok(p));
}

#[test]
fn rejects_malformed_dat() {
    assert!(matches!(Peaks::from_dat_bytes(&[2, 0]), Err(PeaksError::TooShort { .. })));
    let mut v3 = vec![3, 0, 0, 0];
    v3.extend_from_slice(&[0; 20]);
    assert_eq!(Peaks::from_dat_bytes(&v3), Err(PeaksError::UnsupportedVersion(3)));
    let good =
        Peaks { sample_rate: 8000, samples_per_pixel: 2, channels: 1, bits: 16, data: vec![1, 2, 3, 4] }.to_dat_bytes();
    assert!(matches!(Peaks::from_dat_bytes(&good[..good.len() - 1]), Err(PeaksError::LengthMismatch { .. })));
    let mut zero_channels = good.clone();
    zero_channels[20..24].copy_from_slice(&0i32.to_le_bytes());
    assert!(matches!(Peaks::from_dat_bytes(&zero_channels), Err(PeaksError::InvalidHeader(_))));
    let mut huge = good;
    huge[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(Peaks::from_dat_bytes(&huge).is_err());
}

#[test]
fn coarsen_merges_groups_and_keeps_tail() {
    // 5 pixels, 2 channels.
    let p = Peaks {
        sample_rate: 44100,
        samples_per_pixel: 10,
        channels: 2,
        bits: 16,
        data: vec![
            -1, 1, -10, 10, //
            -3, 2, -5, 50, //
            -2, 7, -60, 6, //
            -9, 0, 0, 0, //
            -4, 4, -8, 8,
        ],
    };
    let c = p.coarsen(2);
    assert_eq!(c.samples_per_pixel, 20);
    assert_eq!(c.pixels(), 3);
    assert_eq!(c.data, vec![-3, 2, -10, 50, -9, 7, -60, 6, -4, 4, -8, 8]);
    assert_eq!(p.coarsen(1), p);
    assert_eq!(p.coarsen(0), p);
    let all = p.coarsen(100);
    assert_eq!(all.data, vec![-9, 7, -60, 50]);
    assert_eq!(all.samples_per_pixel, 1000);
}

#[test]
fn coarsen_equals_building_at_the_coarser_level() {
    let x = signal(2 * 5000);
    let fine = {
        let mut b = PeaksBuilder::new(8000, 2, 16);
        b.push(&x);
        b.finish()
    };
    let coarse = {
        let mut b = PeaksBuilder::new(8000, 2, 64);
        b.push(&x);
        b.finish()
    };
    assert_eq!(fine.coarsen(4), coarse);
}

#[test]
fn bit_depth_conversion() {
    let p = Peaks { sample_rate: 8000, samples_per_pixel: 1, channels: 1, bits: 16, data: vec![-32768, 32767] };
    let eight = p.to_bits(8);
    assert_eq!(eight.data, vec![-128, 127]);
    assert_eq!(Peaks::from_dat_bytes(&eight.to_dat_bytes()), Ok(eight.clone()));
    assert_eq!(eight.to_bits(16).data, vec![-32768, 32512]);
}
