//! RIFF/WAVE with 32-bit IEEE float samples: the lossless container a browser take is uploaded in.
//!
//! Float keeps every value the capture graph produced (Web Audio works in `f32`), so nothing is
//! rounded before the server decodes it; symphonia reads the format.

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
}
