//! The audiowaveform `.dat` binary format (layout in the `audio::peaks`
//! documentation): writing version 2, reading versions 1 and 2.

use std::fmt;

use super::Peaks;

/// Version written by [`Peaks::to_dat_bytes`].
const DAT_VERSION: i32 = 2;
/// Flag bit marking 8-bit data.
const FLAG_8_BIT: u32 = 1;
const HEADER_V1_LEN: usize = 20;
const HEADER_V2_LEN: usize = 24;

/// Why a `.dat` buffer could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeaksError {
    /// The buffer is shorter than the header it announces.
    TooShort { needed: usize, actual: usize },
    /// The version field is neither 1 nor 2.
    UnsupportedVersion(i32),
    /// A header field is out of range.
    InvalidHeader(&'static str),
    /// The data section does not match `length × channels × 2` values.
    LengthMismatch { expected: usize, actual: usize },
}

impl fmt::Display for PeaksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { needed, actual } => {
                write!(f, "waveform data is truncated: need {needed} bytes, have {actual}")
            }
            Self::UnsupportedVersion(v) => write!(f, "unsupported waveform data version {v}"),
            Self::InvalidHeader(what) => write!(f, "invalid waveform data header: {what}"),
            Self::LengthMismatch { expected, actual } => {
                write!(f, "waveform data section is {actual} bytes but the header announces {expected}")
            }
        }
    }
}

impl std::error::Error for PeaksError {}

impl Peaks {
    /// Serialises to the audiowaveform version 2 binary format.
    ///
    /// With `bits == 8` every value is written as an `i8` (values outside that
    /// range are clamped; use [`Peaks::to_bits`] to rescale 16-bit data first).
    pub fn to_dat_bytes(&self) -> Vec<u8> {
        let eight_bit = self.bits == 8;
        let value_len = if eight_bit { 1 } else { 2 };
        let mut out = Vec::with_capacity(HEADER_V2_LEN + self.data.len() * value_len);
        out.extend_from_slice(&DAT_VERSION.to_le_bytes());
        let flags = if eight_bit { FLAG_8_BIT } else { 0 };
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&saturating_i32(self.sample_rate).to_le_bytes());
        out.extend_from_slice(&saturating_i32(self.samples_per_pixel).to_le_bytes());
        let pixels = u32::try_from(self.pixels()).unwrap_or(u32::MAX);
        out.extend_from_slice(&pixels.to_le_bytes());
        out.extend_from_slice(&i32::from(self.channels).to_le_bytes());
        // Only whole pixels are written so the data always matches `length`.
        let values = self.pixels() * 2 * usize::from(self.channels);
        for &v in &self.data[..values] {
            if eight_bit {
                let b = v.clamp(i16::from(i8::MIN), i16::from(i8::MAX)) as i8;
                out.extend_from_slice(&b.to_le_bytes());
            } else {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out
    }

    /// Parses an audiowaveform binary file (version 1 or 2, 8- or 16-bit).
    pub fn from_dat_bytes(bytes: &[u8]) -> Result<Peaks, PeaksError> {
        let version = read_i32(bytes, 0)?;
        let header_len = match version {
            1 => HEADER_V1_LEN,
            2 => HEADER_V2_LEN,
            v => return Err(PeaksError::UnsupportedVersion(v)),
        };
        if bytes.len() < header_len {
            return Err(PeaksError::TooShort { needed: header_len, actual: bytes.len() });
        }
        let flags = read_u32(bytes, 4)?;
        let sample_rate =
            u32::try_from(read_i32(bytes, 8)?).map_err(|_| PeaksError::InvalidHeader("negative sample rate"))?;
        let samples_per_pixel = u32::try_from(read_i32(bytes, 12)?)
            .ok()
            .filter(|&n| n > 0)
            .ok_or(PeaksError::InvalidHeader("samples per pixel must be positive"))?;
        let length = read_u32(bytes, 16)?;
        let channels = if version == 1 {
            1
        } else {
            u16::try_from(read_i32(bytes, 20)?)
                .ok()
                .filter(|&c| c > 0)
                .ok_or(PeaksError::InvalidHeader("channel count out of range"))?
        };
        let eight_bit = flags & FLAG_8_BIT != 0;
        let value_len = if eight_bit { 1 } else { 2 };

        let body = &bytes[header_len..];
        let expected = (length as usize)
            .checked_mul(usize::from(channels) * 2 * value_len)
            .ok_or(PeaksError::InvalidHeader("length too large"))?;
        if body.len() != expected {
            return Err(PeaksError::LengthMismatch { expected, actual: body.len() });
        }
        let data = if eight_bit {
            body.iter().map(|&b| i16::from(b as i8)).collect()
        } else {
            body.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect()
        };
        Ok(Peaks { sample_rate, samples_per_pixel, channels, bits: if eight_bit { 8 } else { 16 }, data })
    }
}

fn saturating_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn field(bytes: &[u8], at: usize) -> Result<[u8; 4], PeaksError> {
    bytes
        .get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .ok_or(PeaksError::TooShort { needed: at + 4, actual: bytes.len() })
}

fn read_i32(bytes: &[u8], at: usize) -> Result<i32, PeaksError> {
    field(bytes, at).map(i32::from_le_bytes)
}

fn read_u32(bytes: &[u8], at: usize) -> Result<u32, PeaksError> {
    field(bytes, at).map(u32::from_le_bytes)
}
