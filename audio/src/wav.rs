//! RIFF/WAVE files in the two forms Tutti uses.
//!
//! * 32-bit IEEE float ([`encode_f32`]): the lossless container a browser take is uploaded in.
//!   Float keeps every value the capture graph produced (Web Audio works in `f32`), so nothing is
//!   rounded before the server decodes it; symphonia reads the format.
//! * 16-bit PCM ([`encode_i16`], [`decode_i16`]): the clips annotators hear, which every browser
//!   plays and which are half the size of float.

/// Encodes interleaved `samples` (`channels` per frame) at `rate` as a float WAV file.
pub fn encode_f32(samples: &[f32], rate: u32, channels: u16) -> Vec<u8> {
    let mut out = f32_header(samples.len() as u64, rate, channels).unwrap_or_default();
    out.reserve(samples.len() * 4);
    put_f32(&mut out, samples);
    out
}

/// The header of a float WAV holding `samples` samples, to be followed by them ([`put_f32`]);
/// None when they would not fit in one (4 GiB).
pub fn f32_header(samples: u64, rate: u32, channels: u16) -> Option<Vec<u8>> {
    let data_len = u32::try_from(samples.checked_mul(4)?).ok().filter(|d| *d <= u32::MAX - 58)?;
    let frames = (samples / u64::from(channels.max(1))) as u32;
    let mut out = Vec::with_capacity(58);
    out.extend_from_slice(b"RIFF");
    // fmt (8 + 18) + fact (8 + 4) + data (8 + n) + "WAVE"
    out.extend_from_slice(&(4 + 26 + 12 + 8 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&18u32.to_le_bytes());
    out.extend_from_slice(&3u16.to_le_bytes()); // WAVE_FORMAT_IEEE_FLOAT
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 4 * u32::from(channels)).to_le_bytes());
    out.extend_from_slice(&(4 * channels).to_le_bytes());
    out.extend_from_slice(&32u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // cbSize
    // Non-PCM formats carry a fact chunk with the frame count.
    out.extend_from_slice(b"fact");
    out.extend_from_slice(&4u32.to_le_bytes());
    out.extend_from_slice(&frames.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    Some(out)
}

/// Appends samples as 32-bit float, little-endian.
pub fn put_f32(out: &mut Vec<u8>, samples: &[f32]) {
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
}

/// Encodes interleaved `samples` (`channels` per frame) at `rate` as a 16-bit PCM WAV file,
/// clamping each sample to ±1 and rounding it to the nearest step of 1/32767.
///
/// More samples than one file can hold (4 GiB) get an all-zero header rather than a wrong one.
pub fn encode_i16(samples: &[f32], rate: u32, channels: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(&i16_header(samples.len() as u64, rate, channels).unwrap_or([0; 44]));
    put_i16(&mut out, samples);
    out
}

/// The 44-byte header of a 16-bit PCM WAV holding `samples` samples, to be followed by them
/// ([`put_i16`]); None when they would not fit in one (4 GiB).
pub fn i16_header(samples: u64, rate: u32, channels: u16) -> Option<[u8; 44]> {
    let data_len = u32::try_from(samples.checked_mul(2)?).ok().filter(|d| *d <= u32::MAX - 36)?;
    let mut b = [0u8; 44];
    let fields: [&[u8]; 12] = [
        b"RIFF",
        &(36 + data_len).to_le_bytes(),
        b"WAVEfmt ",
        &16u32.to_le_bytes(),
        &1u16.to_le_bytes(), // WAVE_FORMAT_PCM
        &channels.to_le_bytes(),
        &rate.to_le_bytes(),
        &(rate * channels as u32 * 2).to_le_bytes(),
        &(channels * 2).to_le_bytes(),
        &16u16.to_le_bytes(),
        b"data",
        &data_len.to_le_bytes(),
    ];
    let mut at = 0;
    for f in fields {
        b[at..at + f.len()].copy_from_slice(f);
        at += f.len();
    }
    Some(b)
}

/// Appends samples as 16-bit PCM, little-endian (clamped to ±1; NaN becomes 0).
pub fn put_i16(out: &mut Vec<u8>, samples: &[f32]) {
    for s in samples {
        out.extend_from_slice(&((s.clamp(-1.0, 1.0) * 32767.0).round() as i16).to_le_bytes());
    }
}

/// Reads back a WAV written by [`encode_i16`]: interleaved samples scaled by 1/32767, the channel
/// count (at least 1) and the sample rate. None when it does not start like one.
///
/// Only that fixed 44-byte layout is understood (no chunk walking): it reads the clips this crate
/// wrote, not WAV files in general, which go through symphonia.
pub fn decode_i16(b: &[u8]) -> Option<(Vec<f32>, usize, u32)> {
    if b.len() < 44 || &b[0..4] != b"RIFF" {
        return None;
    }
    let channels = u16::from_le_bytes([b[22], b[23]]) as usize;
    let rate = u32::from_le_bytes([b[24], b[25], b[26], b[27]]);
    let samples = b[44..].chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]]) as f32 / 32767.0).collect();
    Some((samples, channels.max(1), rate))
}

/// One metronome click at `rate`: a 25 ms decaying sine, higher and louder on the first beat of a bar.
pub fn click(rate: u32, accent: bool) -> Vec<f32> {
    let (hz, level) = if accent { (1_760.0, 0.9) } else { (1_320.0, 0.6) };
    let n = (rate as f64 * 0.025) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / rate as f64;
            (level * (-t * 180.0).exp() * (2.0 * std::f64::consts::PI * hz * t).sin()) as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_samples_are_where_a_reader_expects_them() {
        let samples = [0.0f32, 0.5, -0.25, 1.0, -1.0, 0.125];
        let wav = encode_f32(&samples, 48_000, 2);
        assert_eq!(&wav[0..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(wav[4..8].try_into().unwrap()) as usize, wav.len() - 8);
        assert_eq!(&wav[8..16], b"WAVEfmt ");
        assert_eq!(u16::from_le_bytes([wav[20], wav[21]]), 3);
        assert_eq!(u16::from_le_bytes([wav[22], wav[23]]), 2);
        assert_eq!(u32::from_le_bytes(wav[24..28].try_into().unwrap()), 48_000);
        assert_eq!(u32::from_le_bytes(wav[28..32].try_into().unwrap()), 48_000 * 8);
        assert_eq!(&wav[38..42], b"fact");
        assert_eq!(u32::from_le_bytes(wav[46..50].try_into().unwrap()), 3);
        assert_eq!(&wav[50..54], b"data");
        assert_eq!(u32::from_le_bytes(wav[54..58].try_into().unwrap()), 24);
        let back: Vec<f32> = wav[58..].chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
        assert_eq!(back, samples);
    }

    #[test]
    fn clicks_are_short_bounded_and_accented() {
        let (a, b) = (click(48_000, true), click(48_000, false));
        assert_eq!(a.len(), 1_200);
        let peak = |v: &[f32]| v.iter().fold(0f32, |m, s| m.max(s.abs()));
        assert!(peak(&a) <= 0.9 && peak(&a) > peak(&b));
        assert!(a.last().unwrap().abs() < 0.01, "decays to silence");
    }

    #[test]
    fn pcm16_bytes_are_pinned() {
        let wav = encode_i16(&[0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0, f32::NAN, 0.00001], 8_000, 1);
        #[rustfmt::skip]
        let expected: [u8; 62] = [
            b'R', b'I', b'F', b'F', 54, 0, 0, 0, b'W', b'A', b'V', b'E', b'f', b'm', b't', b' ',
            16, 0, 0, 0, 1, 0, 1, 0, 0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0,
            b'd', b'a', b't', b'a', 18, 0, 0, 0,
            0x00, 0x00, // 0.0
            0x00, 0x40, // 0.5 -> 16383.5 rounds away from zero to 16384
            0x00, 0xc0, // -0.5 -> -16384
            0xff, 0x7f, // 1.0 -> 32767
            0x01, 0x80, // -1.0 -> -32767, not -32768
            0xff, 0x7f, // clamped
            0x01, 0x80, // clamped
            0x00, 0x00, // NaN
            0x00, 0x00, // below half a step
        ];
        assert_eq!(wav, expected);
    }

    #[test]
    fn pcm16_stereo_header_and_round_trip() {
        let samples = [0.25f32, -0.75, 0.0, 1.0];
        let wav = encode_i16(&samples, 48_000, 2);
        assert_eq!(wav.len(), 44 + 8);
        assert_eq!(u32::from_le_bytes(wav[28..32].try_into().unwrap()), 48_000 * 4);
        assert_eq!(u16::from_le_bytes([wav[32], wav[33]]), 4);
        let (back, channels, rate) = decode_i16(&wav).unwrap();
        assert_eq!((channels, rate), (2, 48_000));
        for (a, b) in back.iter().zip(samples) {
            assert!((a - b).abs() <= 0.5 / 32767.0, "{a} vs {b}");
        }
        assert_eq!(i16_header(u64::from(u32::MAX), 1, 1), None);
        assert_eq!(decode_i16(&wav[..43]), None);
    }
}
