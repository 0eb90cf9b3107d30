//! Opening an upload: probing the container, choosing the audio track and making its decoder,
//! then handing out its packets with the end-of-file part of the error policy applied.

use std::io::{self, Seek, Write};

use symphonia::core::audio::Channels;
use symphonia::core::codecs::audio::well_known::CODEC_ID_FLAC;
use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, Track, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::packet::Packet;
use symphonia::core::units::Duration;

use super::checksum::PcmChecksum;
use super::pipeline::Pipeline;
use super::tags::{TagCollector, collect_metadata};
use super::{IngestError, clock, mp4, mpa, names, riff};

/// Most channels a source may have (they are folded down to stereo).
const MAX_CHANNELS: usize = 64;

/// The demuxer and decoder for the selected audio track.
pub(super) struct Source<'a> {
    pub(super) format: Box<dyn FormatReader + 'a>,
    pub(super) decoder: Box<dyn AudioDecoder>,
    pub(super) params: AudioCodecParameters,
    pub(super) track_id: u32,
    pub(super) container: String,
    pub(super) codec: names::CodecName,
    pub(super) lossless: bool,
    /// Frames the container says the track has, when it says.
    pub(super) declared_frames: Option<u64>,
    /// The reader estimated the length from the bitrate (see `mpa`); its
    /// packets must not be cut to that estimate.
    pub(super) length_estimated: bool,
    pub(super) original_bits: Option<u32>,
    /// WAV `LIST/INFO` tags, which symphonia's WAV reader does not expose.
    pub(super) riff_tags: Vec<(String, String)>,
    /// The MP4 edit list, which symphonia's MP4 reader does not apply: it
    /// trims encoder priming and padding.
    pub(super) edit: Option<mp4::StatedEdit>,
    /// The MD5 of the decoded PCM that FLAC's STREAMINFO declares, when it
    /// declares one; checked here instead of by the decoder.
    pub(super) checksum: Option<PcmChecksum>,
}

impl<'a> Source<'a> {
    pub(super) fn open(mut input: impl MediaSource + 'a, ext: Option<&str>) -> Result<Self, IngestError> {
        let riff_tags = if input.is_seekable() { riff::read_info_tags(&mut input) } else { Vec::new() };
        let edit = if input.is_seekable() { mp4::audio_edit(&mut input) } else { None };
        // The MP3 and ADTS readers estimate the length of a seekable stream that does not state it.
        let mpa_estimate = input.is_seekable() && !mpa::states_length(&mut input);
        let fixes = if input.is_seekable() { riff::header_fixes(&mut input) } else { Vec::new() };
        let mss = MediaSourceStream::new(Box::new(riff::Patched::new(input, fixes)), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = ext {
            hint.with_extension(ext);
        }
        let format = symphonia::default::get_probe()
            .probe(&hint, mss, FormatOptions::default(), MetadataOptions::default())
            .map_err(|e| probe_error(e, ext))?;
        let container = names::container_name(format.format_info());
        let track = select_track(format.as_ref(), &container)?;
        let track_id = track.id;
        // A length estimated from the bitrate is not a declaration: on a VBR file it is off by
        // seconds, and would make a complete file look truncated (or too long) and, for MP3,
        // cut the audio at the estimate.
        let length_estimated = match container.as_str() {
            "aac" => true,
            "mp3" | "mp2" | "mp1" => mpa_estimate,
            _ => false,
        };
        let declared_frames = track.num_frames.filter(|&n| n > 0 && !length_estimated);
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .cloned()
            .ok_or_else(|| IngestError::Unsupported { what: format!("the {container} file has no audio track") })?;
        let codec = names::codec_name(params.codec);
        // symphonia 0.6's Vorbis decoder gets channels of some surround streams wrong (one of
        // six identical channels comes out silent where ffmpeg decodes it whole); better refused
        // than folded down wrong without a word.
        let channels = params.channels.as_ref().map_or(0, |c| c.count());
        // A PCM header may declare up to 65,535 channels, and the decoder sizes its buffers by
        // that before reading any audio (a 130 KB AIFF declaring 32,767 channels took 73 MB).
        if channels > MAX_CHANNELS {
            return Err(IngestError::Unsupported {
                what: format!("a recording with {channels} channels is not supported (at most {MAX_CHANNELS} are)"),
            });
        }
        if params.codec == symphonia::core::codecs::audio::well_known::CODEC_ID_VORBIS && channels > 2 {
            return Err(IngestError::Unsupported {
                what: format!(
                    "Vorbis with {channels} channels is not supported (its decoder is not reliable beyond stereo); \
                     convert the file to FLAC or WAV"
                ),
            });
        }
        let decoder = make_decoder(&params, codec.display)?;
        let checksum = PcmChecksum::for_decoder(decoder.as_ref());
        let original_bits =
            params.bits_per_sample.or_else(|| names::pcm_bits(params.codec)).or_else(|| names::alac_bits(&params));
        Ok(Source {
            format,
            decoder,
            lossless: names::is_lossless(params.codec),
            params,
            track_id,
            container,
            codec,
            declared_frames,
            length_estimated,
            original_bits,
            riff_tags,
            edit,
            checksum,
        })
    }

    pub(super) fn declared_seconds(&self) -> Option<f64> {
        let rate = self.params.sample_rate.filter(|&r| r > 0)?;
        Some(self.declared_frames? as f64 / f64::from(rate))
    }

    /// The next packet of the selected track, `None` at the end of the stream.
    /// Applies the end-of-file part of the error policy.
    pub(super) fn next_packet<W: Write + Seek>(
        &mut self,
        tags: &mut TagCollector,
        decoded_frames: u64,
        pipeline: Option<&Pipeline<'_, W>>,
    ) -> Result<Option<Packet>, IngestError> {
        loop {
            let mut packet = match self.format.next_packet() {
                Ok(Some(packet)) => packet,
                Ok(None) => return Ok(None),
                Err(SymError::ResetRequired) => {
                    self.follow_chained_stream(tags)?;
                    continue;
                }
                Err(SymError::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    // Only raw PCM (A-law and μ-law too) without a declared length legitimately runs
                    // until the file ends (WAV written while streaming).
                    // Every other container marks its own end, so running
                    // out of bytes mid-packet means the file was cut short.
                    if self.declared_frames.is_none() && names::is_raw(self.params.codec) {
                        return Ok(None);
                    }
                    return Err(self.truncated(decoded_frames, pipeline));
                }
                Err(SymError::IoError(e)) => return Err(IngestError::Io(e)),
                Err(e) => {
                    return Err(IngestError::Corrupt(format!(
                        "the {} file is damaged or truncated and cannot be read past {}: {e}",
                        self.container,
                        position(decoded_frames, pipeline)
                    )));
                }
            };
            if !self.format.metadata().is_latest() {
                collect_metadata(self.format.as_mut(), self.track_id, tags, false);
            }
            if packet.track_id == self.track_id {
                if self.length_estimated {
                    // Keep what the reader would cut at its estimated end.
                    packet.dur = packet.dur.saturating_add(packet.trim_end);
                    packet.trim_end = Duration::ZERO;
                }
                return Ok(Some(packet));
            }
        }
    }

    /// A chained stream (e.g. concatenated Ogg files) starts a new logical
    /// stream. Continue only if it carries the same kind of audio.
    fn follow_chained_stream(&mut self, tags: &mut TagCollector) -> Result<(), IngestError> {
        let next = self.format.default_track(TrackType::Audio).and_then(|t| {
            let p = t.codec_params.as_ref()?.audio()?.clone();
            Some((t.id, p))
        });
        let count = |p: &AudioCodecParameters| p.channels.as_ref().map(Channels::count);
        match next {
            Some((id, p))
                if p.codec == self.params.codec
                    && p.sample_rate == self.params.sample_rate
                    && count(&p) == count(&self.params) =>
            {
                self.decoder = make_decoder(&p, self.codec.display)?;
                // The declared checksum covers one logical stream; a chained
                // one is left unchecked rather than checked against the
                // wrong declaration.
                self.checksum = None;
                // Packets of the new logical stream carry the new id.
                self.track_id = id;
                collect_metadata(self.format.as_mut(), id, tags, false);
                Ok(())
            }
            _ => Err(IngestError::Unsupported {
                what: format!(
                    "the {} file chains streams with different formats, which is not supported",
                    self.container
                ),
            }),
        }
    }

    pub(super) fn truncated<W: Write + Seek>(&self, frames: u64, pipeline: Option<&Pipeline<'_, W>>) -> IngestError {
        let decoded = pipeline.map(|p| frames as f64 / f64::from(p.original_rate));
        let detail = match (self.declared_seconds(), decoded) {
            (Some(declared), Some(decoded)) if declared - decoded > 0.05 => {
                format!("its audio stops at {} of the {} it declares", clock(decoded), clock(declared))
            }
            _ => format!("its audio stops at {}, part-way through a packet", position(frames, pipeline)),
        };
        IngestError::Corrupt(format!("the {} file is truncated or damaged: {detail}", self.container))
    }
}

fn probe_error(e: SymError, ext: Option<&str>) -> IngestError {
    let described = match ext {
        Some(ext) => format!("the .{ext} file"),
        None => "the file".to_owned(),
    };
    match e {
        // The probe scans for a known signature and reports this when it
        // finds none: the file is not audio we know.
        SymError::Unsupported(msg) if msg.starts_with("core (probe)") => IngestError::Unsupported {
            what: format!(
                "{described} is not in a recognised audio format; upload WAV, AIFF, FLAC, MP3, Ogg Vorbis or M4A (AAC/ALAC)"
            ),
        },
        // A reader recognised the container but a mandatory part is absent,
        // e.g. an MP4 whose recording app stopped before writing its index.
        SymError::Unsupported(msg) if msg.contains("missing") => {
            IngestError::Corrupt(format!("{described} is incomplete or damaged ({msg})"))
        }
        SymError::Unsupported(msg) => IngestError::Unsupported {
            what: format!("{described} uses a container feature that is not supported ({msg})"),
        },
        // A signature matched, then the header ended early.
        SymError::IoError(io) if io.kind() == io::ErrorKind::UnexpectedEof => {
            IngestError::Corrupt(format!("{described} ends before its header is complete; it is truncated"))
        }
        SymError::IoError(io) => IngestError::Io(io),
        other => IngestError::Corrupt(format!("{described} has a damaged header: {other}")),
    }
}

fn select_track<'f>(format: &'f dyn FormatReader, container: &str) -> Result<&'f Track, IngestError> {
    if let Some(track) = format.default_track(TrackType::Audio) {
        return Ok(track);
    }
    let has_audio = format.tracks().iter().any(|t| t.track_type() == Some(TrackType::Audio));
    Err(IngestError::Unsupported {
        what: if has_audio {
            format!("the audio in this {container} file uses a codec that is not recognised")
        } else {
            format!("the {container} file has no audio track")
        },
    })
}

/// FLAC's MD5 is checked by [`PcmChecksum`] (faster than the decoder's own
/// check); `verify` stays on for any other decoder that carries a checksum.
#[doc(hidden)]
pub fn decoder_options(params: &AudioCodecParameters) -> AudioDecoderOptions {
    AudioDecoderOptions::default().verify(params.codec != CODEC_ID_FLAC)
}

fn make_decoder(params: &AudioCodecParameters, display: &str) -> Result<Box<dyn AudioDecoder>, IngestError> {
    symphonia::default::get_codecs().make_audio_decoder(params, &decoder_options(params)).map_err(|e| match e {
        // The AAC decoder reads AAC-LC only, in mono or stereo: say which AAC this is rather than
        // that AAC is not supported.
        SymError::Unsupported(_) if let Some(kind) = names::unsupported_aac(params) => IngestError::Unsupported {
            what: format!(
                "{kind} audio is not supported (only AAC-LC in mono or stereo is); convert it to FLAC, WAV or Ogg Vorbis"
            ),
        },
        SymError::Unsupported(_) => IngestError::Unsupported {
            what: format!(
                "{display} audio is not supported (the decoder cannot read {display}); convert it to FLAC, WAV or Ogg Vorbis"
            ),
        },
        other => IngestError::Corrupt(format!("the {display} stream parameters are invalid: {other}")),
    })
}

fn position<W: Write + Seek>(frames: u64, pipeline: Option<&Pipeline<'_, W>>) -> String {
    match pipeline {
        Some(p) => clock(frames as f64 / f64::from(p.original_rate)),
        None => "its start".to_owned(),
    }
}
