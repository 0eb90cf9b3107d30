//! Short, stable names for containers and codecs, used in reports and in
//! error messages shown to uploaders.

use symphonia::core::codecs::audio::well_known as codec;
use symphonia::core::codecs::audio::{AudioCodecId, AudioCodecParameters};
use symphonia::core::formats::FormatInfo;
use symphonia::core::formats::well_known as format;

/// Container name such as `"wav"`, `"flac"`, `"mp4"`.
pub(crate) fn container_name(info: &FormatInfo) -> String {
    let name = match info.format {
        format::FORMAT_ID_WAVE => "wav",
        format::FORMAT_ID_AIFF => "aiff",
        format::FORMAT_ID_FLAC => "flac",
        format::FORMAT_ID_MP1 => "mp1",
        format::FORMAT_ID_MP2 => "mp2",
        format::FORMAT_ID_MP3 => "mp3",
        format::FORMAT_ID_ADTS => "aac",
        format::FORMAT_ID_OGG => "ogg",
        format::FORMAT_ID_ISOMP4 => "mp4",
        format::FORMAT_ID_MKV => "matroska",
        format::FORMAT_ID_CAF => "caf",
        _ => info.short_name,
    };
    name.to_owned()
}

/// A codec's short machine name (ffmpeg style, e.g. `"pcm_s16le"`) and the
/// name a person would recognise (e.g. `"16-bit PCM"`, `"Opus"`).
pub(crate) struct CodecName {
    pub short: &'static str,
    pub display: &'static str,
}

const fn n(short: &'static str, display: &'static str) -> CodecName {
    CodecName { short, display }
}

pub(crate) fn codec_name(id: AudioCodecId) -> CodecName {
    match id {
        codec::CODEC_ID_PCM_S32LE | codec::CODEC_ID_PCM_S32LE_PLANAR => n("pcm_s32le", "32-bit PCM"),
        codec::CODEC_ID_PCM_S32BE | codec::CODEC_ID_PCM_S32BE_PLANAR => n("pcm_s32be", "32-bit PCM"),
        codec::CODEC_ID_PCM_S24LE | codec::CODEC_ID_PCM_S24LE_PLANAR => n("pcm_s24le", "24-bit PCM"),
        codec::CODEC_ID_PCM_S24BE | codec::CODEC_ID_PCM_S24BE_PLANAR => n("pcm_s24be", "24-bit PCM"),
        codec::CODEC_ID_PCM_S16LE | codec::CODEC_ID_PCM_S16LE_PLANAR => n("pcm_s16le", "16-bit PCM"),
        codec::CODEC_ID_PCM_S16BE | codec::CODEC_ID_PCM_S16BE_PLANAR => n("pcm_s16be", "16-bit PCM"),
        codec::CODEC_ID_PCM_S8 | codec::CODEC_ID_PCM_S8_PLANAR => n("pcm_s8", "8-bit PCM"),
        codec::CODEC_ID_PCM_U32LE | codec::CODEC_ID_PCM_U32LE_PLANAR => n("pcm_u32le", "32-bit PCM"),
        codec::CODEC_ID_PCM_U32BE | codec::CODEC_ID_PCM_U32BE_PLANAR => n("pcm_u32be", "32-bit PCM"),
        codec::CODEC_ID_PCM_U24LE | codec::CODEC_ID_PCM_U24LE_PLANAR => n("pcm_u24le", "24-bit PCM"),
        codec::CODEC_ID_PCM_U24BE | codec::CODEC_ID_PCM_U24BE_PLANAR => n("pcm_u24be", "24-bit PCM"),
        codec::CODEC_ID_PCM_U16LE | codec::CODEC_ID_PCM_U16LE_PLANAR => n("pcm_u16le", "16-bit PCM"),
        codec::CODEC_ID_PCM_U16BE | codec::CODEC_ID_PCM_U16BE_PLANAR => n("pcm_u16be", "16-bit PCM"),
        codec::CODEC_ID_PCM_U8 | codec::CODEC_ID_PCM_U8_PLANAR => n("pcm_u8", "8-bit PCM"),
        codec::CODEC_ID_PCM_F32LE | codec::CODEC_ID_PCM_F32LE_PLANAR => n("pcm_f32le", "32-bit float PCM"),
        codec::CODEC_ID_PCM_F32BE | codec::CODEC_ID_PCM_F32BE_PLANAR => n("pcm_f32be", "32-bit float PCM"),
        codec::CODEC_ID_PCM_F64LE | codec::CODEC_ID_PCM_F64LE_PLANAR => n("pcm_f64le", "64-bit float PCM"),
        codec::CODEC_ID_PCM_F64BE | codec::CODEC_ID_PCM_F64BE_PLANAR => n("pcm_f64be", "64-bit float PCM"),
        codec::CODEC_ID_PCM_ALAW => n("pcm_alaw", "A-law"),
        codec::CODEC_ID_PCM_MULAW => n("pcm_mulaw", "μ-law"),
        codec::CODEC_ID_ADPCM_G722 => n("adpcm_g722", "G.722 ADPCM"),
        codec::CODEC_ID_ADPCM_G726 | codec::CODEC_ID_ADPCM_G726LE => n("adpcm_g726", "G.726 ADPCM"),
        codec::CODEC_ID_ADPCM_MS => n("adpcm_ms", "Microsoft ADPCM"),
        codec::CODEC_ID_ADPCM_IMA_WAV => n("adpcm_ima_wav", "IMA ADPCM"),
        codec::CODEC_ID_ADPCM_IMA_QT => n("adpcm_ima_qt", "IMA ADPCM"),
        codec::CODEC_ID_VORBIS => n("vorbis", "Vorbis"),
        codec::CODEC_ID_OPUS => n("opus", "Opus"),
        codec::CODEC_ID_SPEEX => n("speex", "Speex"),
        codec::CODEC_ID_MUSEPACK => n("musepack", "Musepack"),
        codec::CODEC_ID_MP1 => n("mp1", "MPEG Layer 1"),
        codec::CODEC_ID_MP2 => n("mp2", "MPEG Layer 2"),
        codec::CODEC_ID_MP3 => n("mp3", "MP3"),
        codec::CODEC_ID_AAC => n("aac", "AAC"),
        codec::CODEC_ID_AC3 => n("ac3", "Dolby Digital (AC-3)"),
        codec::CODEC_ID_EAC3 => n("eac3", "Dolby Digital Plus (E-AC-3)"),
        codec::CODEC_ID_AC4 => n("ac4", "Dolby AC-4"),
        codec::CODEC_ID_DCA => n("dts", "DTS"),
        codec::CODEC_ID_ATRAC1 | codec::CODEC_ID_ATRAC3 | codec::CODEC_ID_ATRAC3PLUS | codec::CODEC_ID_ATRAC9 => {
            n("atrac", "ATRAC")
        }
        codec::CODEC_ID_WMA => n("wma", "Windows Media Audio"),
        codec::CODEC_ID_RA10 | codec::CODEC_ID_RA20 | codec::CODEC_ID_COOK | codec::CODEC_ID_SIPR => {
            n("realaudio", "RealAudio")
        }
        codec::CODEC_ID_SBC => n("sbc", "Bluetooth SBC"),
        codec::CODEC_ID_APTX | codec::CODEC_ID_APTX_HD => n("aptx", "aptX"),
        codec::CODEC_ID_LDAC => n("ldac", "LDAC"),
        codec::CODEC_ID_BINK_AUDIO => n("binkaudio", "Bink Audio"),
        codec::CODEC_ID_SMACKER_AUDIO => n("smackaudio", "Smacker Audio"),
        codec::CODEC_ID_FLAC => n("flac", "FLAC"),
        codec::CODEC_ID_WAVPACK => n("wavpack", "WavPack"),
        codec::CODEC_ID_MONKEYS_AUDIO => n("ape", "Monkey's Audio"),
        codec::CODEC_ID_ALAC => n("alac", "Apple Lossless (ALAC)"),
        codec::CODEC_ID_TTA => n("tta", "True Audio (TTA)"),
        codec::CODEC_ID_RALF => n("ralf", "RealAudio Lossless"),
        codec::CODEC_ID_TRUEHD => n("truehd", "Dolby TrueHD"),
        _ => n("unknown", "an unrecognised codec"),
    }
}

/// Bit depth implied by a PCM codec id, for sources whose container does not
/// state it (IEEE float WAV does not, for instance).
pub(crate) fn pcm_bits(id: AudioCodecId) -> Option<u32> {
    match id {
        codec::CODEC_ID_PCM_F64LE
        | codec::CODEC_ID_PCM_F64LE_PLANAR
        | codec::CODEC_ID_PCM_F64BE
        | codec::CODEC_ID_PCM_F64BE_PLANAR => Some(64),
        codec::CODEC_ID_PCM_F32LE
        | codec::CODEC_ID_PCM_F32LE_PLANAR
        | codec::CODEC_ID_PCM_F32BE
        | codec::CODEC_ID_PCM_F32BE_PLANAR
        | codec::CODEC_ID_PCM_S32LE
        | codec::CODEC_ID_PCM_S32LE_PLANAR
        | codec::CODEC_ID_PCM_S32BE
        | codec::CODEC_ID_PCM_S32BE_PLANAR
        | codec::CODEC_ID_PCM_U32LE
        | codec::CODEC_ID_PCM_U32LE_PLANAR
        | codec::CODEC_ID_PCM_U32BE
        | codec::CODEC_ID_PCM_U32BE_PLANAR => Some(32),
        codec::CODEC_ID_PCM_S24LE
        | codec::CODEC_ID_PCM_S24LE_PLANAR
        | codec::CODEC_ID_PCM_S24BE
        | codec::CODEC_ID_PCM_S24BE_PLANAR
        | codec::CODEC_ID_PCM_U24LE
        | codec::CODEC_ID_PCM_U24LE_PLANAR
        | codec::CODEC_ID_PCM_U24BE
        | codec::CODEC_ID_PCM_U24BE_PLANAR => Some(24),
        codec::CODEC_ID_PCM_S16LE
        | codec::CODEC_ID_PCM_S16LE_PLANAR
        | codec::CODEC_ID_PCM_S16BE
        | codec::CODEC_ID_PCM_S16BE_PLANAR
        | codec::CODEC_ID_PCM_U16LE
        | codec::CODEC_ID_PCM_U16LE_PLANAR
        | codec::CODEC_ID_PCM_U16BE
        | codec::CODEC_ID_PCM_U16BE_PLANAR => Some(16),
        codec::CODEC_ID_PCM_S8
        | codec::CODEC_ID_PCM_S8_PLANAR
        | codec::CODEC_ID_PCM_U8
        | codec::CODEC_ID_PCM_U8_PLANAR => Some(8),
        _ => None,
    }
}

/// Whether the stream is samples one after another (PCM, A-law, μ-law), so
/// that without a declared length it may end after any whole frame.
pub(crate) fn is_raw(id: AudioCodecId) -> bool {
    pcm_bits(id).is_some() || matches!(id, codec::CODEC_ID_PCM_ALAW | codec::CODEC_ID_PCM_MULAW)
}

/// Whether the codec reproduces its input exactly, so a declared frame count
/// can be compared with what was decoded to detect truncation.
pub(crate) fn is_lossless(id: AudioCodecId) -> bool {
    pcm_bits(id).is_some()
        || matches!(
            id,
            codec::CODEC_ID_FLAC
                | codec::CODEC_ID_ALAC
                | codec::CODEC_ID_WAVPACK
                | codec::CODEC_ID_MONKEYS_AUDIO
                | codec::CODEC_ID_TTA
        )
}

/// Bit depth from an ALAC magic cookie (`ALACSpecificConfig`), which the MP4
/// reader passes through as extra data without interpreting it. The cookie may
/// be preceded by `frma` and `alac` atom headers; the depth is byte 5.
pub(crate) fn alac_bits(params: &AudioCodecParameters) -> Option<u32> {
    if params.codec != codec::CODEC_ID_ALAC {
        return None;
    }
    let mut cookie: &[u8] = params.extra_data.as_deref()?;
    for atom in [b"frma", b"alac"] {
        if cookie.get(4..8) == Some(atom.as_slice()) {
            cookie = cookie.get(12..)?;
        }
    }
    cookie.get(5).map(|&b| u32::from(b)).filter(|&b| b > 0)
}

/// What kind of AAC an `AudioSpecificConfig` (the MP4 reader's extra data)
/// describes, when it is one the decoder cannot read: anything but AAC-LC in
/// mono or stereo, e.g. `"HE-AAC"` or `"6-channel AAC"`. For messages.
pub(crate) fn unsupported_aac(params: &AudioCodecParameters) -> Option<String> {
    if params.codec != codec::CODEC_ID_AAC {
        return None;
    }
    let asc = params.extra_data.as_deref()?;
    let mut word = [0u8; 8];
    let n = asc.len().min(8);
    word[..n].copy_from_slice(&asc[..n]);
    let bits = u64::from_be_bytes(word);
    let field = |at: u32, len: u32| ((bits >> (64 - at - len)) & ((1 << len) - 1)) as u32;
    let (object_type, mut at) = match field(0, 5) {
        31 => (32 + field(5, 6), 11),
        t => (t, 5),
    };
    // Sampling frequency index; 15 means an explicit 24-bit frequency follows.
    at += if field(at, 4) == 15 { 28 } else { 4 };
    let channel_config = field(at, 4);
    let kind = match object_type {
        1 => "AAC Main".to_owned(),
        2 => match channel_config {
            1 | 2 => return None,
            0 => "AAC with a custom channel layout".to_owned(),
            3..=6 => format!("{}-channel AAC", channel_config),
            _ => "8-channel AAC".to_owned(),
        },
        3 => "AAC SSR".to_owned(),
        4 => "AAC LTP".to_owned(),
        5 => "HE-AAC".to_owned(),
        23 => "AAC-LD".to_owned(),
        29 => "HE-AAC v2".to_owned(),
        39 => "AAC-ELD".to_owned(),
        42 => "xHE-AAC".to_owned(),
        t => format!("AAC of object type {t}"),
    };
    Some(kind)
}
