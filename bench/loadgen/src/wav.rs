//! Synthetic source audio: 16-bit mono PCM WAV, a slowly gliding tone with a little noise, so no
//! clip is silent (the task builder skips silent clips) and every file's bytes differ.

pub const RATE: u32 = 8_000;

/// `seconds` of audio; `seed` makes the bytes unique (an identical upload would be deduplicated).
pub fn tone(seconds: u32, seed: u64) -> Vec<u8> {
    let frames = seconds as usize * RATE as usize;
    let data_len = frames * 2;
    let mut out = Vec::with_capacity(44 + data_len);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(RATE * 2).to_le_bytes()); // byte rate
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data_len as u32).to_le_bytes());

    let mut state = seed | 1;
    let base = 220.0 + (seed % 200) as f64;
    let mut phase = 0.0f64;
    for i in 0..frames {
        let t = i as f64 / RATE as f64;
        // A glide between base and 2×base every 20 s keeps the spectrum moving.
        let freq = base * (1.0 + 0.5 * (1.0 + (std::f64::consts::TAU * t / 20.0).sin()));
        phase += std::f64::consts::TAU * freq / RATE as f64;
        if phase > std::f64::consts::TAU {
            phase -= std::f64::consts::TAU;
        }
        // xorshift64 noise at about −40 dBFS.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let noise = (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
        let v = 0.3 * phase.sin() + 0.01 * noise;
        out.extend_from_slice(&((v * 32767.0) as i16).to_le_bytes());
    }
    out
}
