//! A staged copy of the ingest pipeline, for timing each stage. It uses
//! the same libraries and settings as `audio::ingest` but skips the
//! error policy, tag collection and exact-length bookkeeping, which cost
//! next to nothing.

mod flac;
mod pipeline;
mod resample;

use std::fs::File;
use std::path::Path;
use std::time::Instant;

use audio::ingest::stages::{PcmChecksum, decoder_options};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use pipeline::Pipeline;

const TARGET_RATE: u32 = 44_100;
const SAMPLES_PER_PIXEL: u32 = 256;

/// Thread-seconds per stage.
#[derive(Default, Clone, Copy)]
pub struct Stages {
    /// The real `ingest` call plus writing the peaks file.
    pub ingest: f64,
    /// Probe, track selection, decoder set-up.
    pub open: f64,
    /// Demux, decode, conversion to interleaved f32.
    pub decode: f64,
    /// Fold-down of more than two channels.
    pub mix: f64,
    /// Resampler set-up and resampling, with (de)interleaving.
    pub resample: f64,
    /// Float to integer and back.
    pub quantise: f64,
    /// FLAC frame encoding (analysis, bitstream, CRCs).
    pub flac: f64,
    /// MD5 of the PCM for STREAMINFO.
    pub md5: f64,
    /// Writing FLAC frames and the peaks file.
    pub write: f64,
    pub peaks: f64,
    pub loudness: f64,
}

impl Stages {
    fn columns(&self) -> [(&'static str, f64); 10] {
        [
            ("open", self.open),
            ("decode", self.decode),
            ("mix", self.mix),
            ("resample", self.resample),
            ("quantise", self.quantise),
            ("flac", self.flac),
            ("md5", self.md5),
            ("write", self.write),
            ("peaks", self.peaks),
            ("loudness", self.loudness),
        ]
    }

    fn staged(&self) -> f64 {
        self.columns().iter().map(|c| c.1).sum()
    }

    pub fn add(&mut self, o: &Stages) {
        self.ingest += o.ingest;
        self.open += o.open;
        self.decode += o.decode;
        self.mix += o.mix;
        self.resample += o.resample;
        self.quantise += o.quantise;
        self.flac += o.flac;
        self.md5 += o.md5;
        self.write += o.write;
        self.peaks += o.peaks;
        self.loudness += o.loudness;
    }

    pub fn line(&self) -> String {
        let mut s = format!("ingest_s={:.3} staged_s={:.3}", self.ingest, self.staged());
        for (name, v) in self.columns() {
            s.push_str(&format!(" {name}_s={v:.3}"));
        }
        s
    }

    pub fn shares(&self) -> String {
        let total = self.staged().max(f64::MIN_POSITIVE);
        let parts: Vec<String> = self.columns().iter().map(|(n, v)| format!("{n}={:.1}%", 100.0 * v / total)).collect();
        parts.join(" ")
    }
}

fn lap(t: &mut Instant) -> f64 {
    let now = Instant::now();
    let s = now.duration_since(*t).as_secs_f64();
    *t = now;
    s
}

pub fn run(path: &Path, out_path: &Path, bits: u32) -> Result<Stages, String> {
    let mut st = Stages::default();
    let mut t = Instant::now();
    let file = File::open(path).map_err(|e| e.to_string())?;
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let mut format = symphonia::default::get_probe()
        .probe(&hint, mss, FormatOptions::default(), MetadataOptions::default())
        .map_err(|e| e.to_string())?;
    let track = format.default_track(TrackType::Audio).ok_or("no audio track")?;
    let track_id = track.id;
    let params = track.codec_params.as_ref().and_then(|p| p.audio()).cloned().ok_or("no audio parameters")?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &decoder_options(&params))
        .map_err(|e| e.to_string())?;
    let mut checksum = PcmChecksum::for_decoder(decoder.as_ref());
    let mut out = File::create(out_path).map_err(|e| e.to_string())?;
    st.open += lap(&mut t);

    let mut pipeline: Option<Pipeline> = None;
    let mut scratch: Vec<f32> = Vec::new();
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => return Err(e.to_string()),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buf = match decoder.decode(&packet) {
            Ok(buf) => buf,
            Err(SymError::DecodeError(_) | SymError::IoError(_)) => continue,
            Err(e) => return Err(e.to_string()),
        };
        if let Some(check) = &mut checksum {
            check.update(&buf);
        }
        if buf.frames() == 0 {
            continue;
        }
        let rate = buf.spec().rate();
        let channels = buf.spec().channels().count();
        scratch.resize(buf.samples_interleaved(), 0.0);
        buf.copy_to_slice_interleaved(&mut scratch[..]);
        st.decode += lap(&mut t);
        let pipe = match &mut pipeline {
            Some(p) => p,
            None => pipeline.insert(Pipeline::new(rate, channels, bits)?),
        };
        st.resample += lap(&mut t);
        pipe.push(&scratch, &mut out, &mut st, &mut t)?;
    }
    let _ = decoder.finalize();
    let _ = checksum.map(PcmChecksum::verify);
    st.decode += lap(&mut t);
    if let Some(pipe) = pipeline {
        pipe.finish(&mut out, out_path, &mut st, &mut t)?;
    }
    Ok(st)
}
