//! Ingest throughput benchmark.
//!
//! ```text
//! ingest_bench [--jobs N] [--out DIR] [--verbose] [--profile] DIR...
//! ```
//!
//! Ingests every regular file in each `DIR` (not recursive, hidden files
//! skipped) with [`audio::ingest::ingest`] and the default options: decode,
//! fold-down, resample to 44.1 kHz, canonical FLAC, waveform peaks and EBU
//! R128 integrated loudness. `N` worker threads (default: one per core) take
//! files from a shared queue, largest file first. As on the server, each
//! canonical FLAC is written straight to a file (`<name>.flac`, unbuffered
//! like the server's temporary file) and the peaks are serialised next to it
//! (`<name>.peaks.dat`), in `--out DIR/<basename of the input DIR>/`, or in a
//! temporary directory that is removed afterwards.
//!
//! The `DIR`s are processed one after another. Output, on stdout, one
//! `key=value` line per `DIR` and a summary (`audio_s` is the canonical
//! duration summed over the files, `realtime` = `audio_s / wall_s`):
//!
//! ```text
//! group dir="DIR" files=N audio_s=S wall_s=W files_per_s=N/W realtime=S/W jobs=J errors=E
//! total files=N audio_s=S wall_s=W files_per_s=N/W realtime=S/W jobs=J errors=E
//! ```
//!
//! `--verbose` adds a `file ...` line per file. The exit status is non-zero if
//! any file fails (the error goes to stderr).
//!
//! `--profile` (best with `--jobs 1`) does not measure throughput. For each
//! file it times the real `ingest` call, then runs the file again through a
//! staged copy of the pipeline built from the same libraries with the same
//! settings (symphonia decoding with checksum verification, fold-down, rubato
//! FFT resampler with the same chunking, quantisation, FLAC frames and MD5,
//! file writes, peaks, EBU R128 meter), timing each stage. It prints
//! `profile` lines with the thread-seconds spent per stage, per codec and per
//! `DIR`; `ingest_s` is the real call, the stage columns add up to
//! `staged_s`, which should be close to it.
//!
//! `cargo run --release -p audio --features ingest --example ingest_bench -- --jobs 2 DIR`

#[cfg(not(feature = "ingest"))]
fn main() -> std::process::ExitCode {
    eprintln!("ingest_bench needs the `ingest` feature: cargo run -p audio --features ingest --example ingest_bench");
    std::process::ExitCode::from(2)
}

#[cfg(feature = "ingest")]
fn main() -> std::process::ExitCode {
    bench::main()
}

#[cfg(feature = "ingest")]
mod bench {
    use std::collections::BTreeMap;
    use std::ffi::OsString;
    use std::fs::File;
    use std::path::{Path, PathBuf};
    use std::process::ExitCode;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    use audio::ingest::{IngestOptions, IngestReport, ingest};

    struct Args {
        jobs: usize,
        out: Option<PathBuf>,
        verbose: bool,
        profile: bool,
        dirs: Vec<PathBuf>,
    }

    const USAGE: &str = "usage: ingest_bench [--jobs N] [--out DIR] [--verbose] [--profile] DIR...";

    fn parse_args() -> Result<Args, String> {
        let mut args = Args {
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            out: None,
            verbose: false,
            profile: false,
            dirs: Vec::new(),
        };
        let mut it = std::env::args_os().skip(1);
        while let Some(arg) = it.next() {
            match arg.to_str() {
                Some("--jobs" | "-j") => {
                    let n = it.next().and_then(|v| v.to_str().and_then(|v| v.parse::<usize>().ok()));
                    args.jobs = n.filter(|&n| n > 0).ok_or("--jobs needs a positive number")?;
                }
                Some("--out" | "-o") => args.out = Some(it.next().ok_or("--out needs a directory")?.into()),
                Some("--verbose" | "-v") => args.verbose = true,
                Some("--profile") => args.profile = true,
                Some("--help" | "-h") => return Err(String::new()),
                Some(flag) if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
                _ => args.dirs.push(arg.into()),
            }
        }
        if args.dirs.is_empty() {
            return Err("no input directory given".into());
        }
        Ok(args)
    }

    pub fn main() -> ExitCode {
        let args = match parse_args() {
            Ok(a) => a,
            Err(e) => {
                if !e.is_empty() {
                    eprintln!("ingest_bench: {e}");
                }
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        };
        match run(&args) {
            Ok(0) => ExitCode::SUCCESS,
            Ok(errors) => {
                eprintln!("ingest_bench: {errors} file(s) failed");
                ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!("ingest_bench: {e}");
                ExitCode::FAILURE
            }
        }
    }

    /// Regular, non-hidden files of `dir`, largest first, then by name.
    fn list(dir: &Path) -> Result<Vec<PathBuf>, String> {
        let mut files = Vec::new();
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
            let meta = std::fs::metadata(entry.path()).map_err(|e| format!("{}: {e}", entry.path().display()))?;
            if meta.is_file() && !entry.file_name().to_string_lossy().starts_with('.') {
                files.push((meta.len(), entry.path()));
            }
        }
        files.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        Ok(files.into_iter().map(|(_, p)| p).collect())
    }

    /// The output directory, removed on drop when it is a temporary one.
    struct OutDir {
        path: PathBuf,
        temporary: bool,
    }

    impl Drop for OutDir {
        fn drop(&mut self) {
            if self.temporary {
                let _ = std::fs::remove_dir_all(&self.path);
            }
        }
    }

    fn run(args: &Args) -> Result<usize, String> {
        let root = match &args.out {
            Some(p) => OutDir { path: p.clone(), temporary: false },
            None => OutDir {
                path: std::env::temp_dir().join(format!("ingest_bench.{}", std::process::id())),
                temporary: true,
            },
        };
        let mut used: Vec<OsString> = Vec::new();
        let mut total = Totals::default();
        let started = Instant::now();
        for dir in &args.dirs {
            let files = list(dir)?;
            let mut name = dir.file_name().map_or_else(|| OsString::from("input"), OsString::from);
            let base = name.clone();
            let mut n = 1;
            while used.contains(&name) {
                n += 1;
                name = base.clone();
                name.push(format!("-{n}"));
            }
            used.push(name.clone());
            let out_dir = root.path.join(name);
            std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;

            let group_started = Instant::now();
            let results = run_pool(&files, args.jobs, |path| process(path, &out_dir, args.profile));
            let wall = group_started.elapsed().as_secs_f64();

            let mut group = Totals::default();
            let mut profile = ProfileTable::default();
            for (path, result) in files.iter().zip(results) {
                match result {
                    Ok(done) => {
                        group.files += 1;
                        group.audio += done.report.duration_seconds;
                        if args.verbose {
                            print_file(path, &done);
                        }
                        if let Some(stages) = &done.stages {
                            profile.add(&done.report, stages);
                        }
                    }
                    Err(e) => {
                        group.errors += 1;
                        eprintln!("{}: {e}", path.display());
                    }
                }
            }
            group.wall = wall;
            println!("group dir={:?} {}", dir.display().to_string(), group.line(args.jobs));
            if args.profile {
                profile.print(dir);
            }
            total.files += group.files;
            total.errors += group.errors;
            total.audio += group.audio;
        }
        total.wall = started.elapsed().as_secs_f64();
        println!("total {}", total.line(args.jobs));
        Ok(total.errors)
    }

    #[derive(Default)]
    struct Totals {
        files: usize,
        errors: usize,
        audio: f64,
        wall: f64,
    }

    impl Totals {
        fn line(&self, jobs: usize) -> String {
            let per = |x: f64| if self.wall > 0.0 { x / self.wall } else { 0.0 };
            format!(
                "files={} audio_s={:.3} wall_s={:.3} files_per_s={:.2} realtime={:.1} jobs={jobs} errors={}",
                self.files,
                self.audio,
                self.wall,
                per(self.files as f64),
                per(self.audio),
                self.errors
            )
        }
    }

    /// Runs `work` on every item on `jobs` threads fed from a shared queue
    /// (the next index to take); results come back in input order.
    fn run_pool<T, R, F>(items: &[T], jobs: usize, work: F) -> Vec<R>
    where
        T: Sync,
        R: Send,
        F: Fn(&T) -> R + Sync,
    {
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
        std::thread::scope(|s| {
            for _ in 0..jobs.min(items.len()) {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        let r = work(item);
                        results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                    }
                });
            }
        });
        results
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .into_iter()
            .map(|r| r.expect("every item ran"))
            .collect()
    }

    struct Done {
        report: IngestReport,
        seconds: f64,
        stages: Option<profile::Stages>,
    }

    fn process(path: &Path, out_dir: &Path, with_profile: bool) -> Result<Done, String> {
        let name = path.file_name().ok_or("not a file name")?;
        let flac_path = out_dir.join(name).with_added_extension("flac");
        let dat_path = out_dir.join(name).with_added_extension("peaks.dat");
        let started = Instant::now();
        let input = File::open(path).map_err(|e| e.to_string())?;
        let mut out = File::create(&flac_path).map_err(|e| format!("{}: {e}", flac_path.display()))?;
        let ext = path.extension().and_then(|e| e.to_str());
        let report = match ingest(input, ext, &mut out, &IngestOptions::default()) {
            Ok(r) => r,
            Err(e) => {
                drop(out);
                let _ = std::fs::remove_file(&flac_path);
                return Err(e.to_string());
            }
        };
        std::fs::write(&dat_path, report.peaks.to_dat_bytes()).map_err(|e| format!("{}: {e}", dat_path.display()))?;
        let seconds = started.elapsed().as_secs_f64();
        let stages = if with_profile {
            let staged_path = out_dir.join(name).with_added_extension("staged.flac");
            let mut stages = profile::run(path, &staged_path, report.canonical_bits)
                .map_err(|e| format!("staged profile run: {e}"))?;
            let _ = std::fs::remove_file(&staged_path);
            stages.ingest = seconds;
            Some(stages)
        } else {
            None
        };
        Ok(Done { report, seconds, stages })
    }

    fn print_file(path: &Path, done: &Done) {
        let r = &done.report;
        let bits = r.original_bits.map_or_else(|| "-".to_owned(), |b| b.to_string());
        let lufs = r.integrated_lufs.map_or_else(|| "-".to_owned(), |l| format!("{l:.2}"));
        println!(
            "file path={:?} container={} codec={} in_rate={} in_ch={} in_bits={bits} out_ch={} out_bits={} \
             audio_s={:.3} secs={:.3} realtime={:.1} lufs={lufs}",
            path.display().to_string(),
            r.container,
            r.codec,
            r.original_rate,
            r.original_channels,
            r.canonical_channels,
            r.canonical_bits,
            r.duration_seconds,
            done.seconds,
            if done.seconds > 0.0 { r.duration_seconds / done.seconds } else { 0.0 },
        );
        if let Some(s) = &done.stages {
            println!("profile file={:?} {}", path.display().to_string(), s.line());
        }
    }

    /// Stage totals per codec and for the whole group.
    #[derive(Default)]
    struct ProfileTable {
        by_codec: BTreeMap<String, (usize, f64, profile::Stages)>,
    }

    impl ProfileTable {
        fn add(&mut self, report: &IngestReport, stages: &profile::Stages) {
            let key = format!("{}/{}", report.container, report.codec);
            let entry = self.by_codec.entry(key).or_default();
            entry.0 += 1;
            entry.1 += report.duration_seconds;
            entry.2.add(stages);
        }

        fn print(&self, dir: &Path) {
            let mut all = (0, 0.0, profile::Stages::default());
            for (files, audio, stages) in self.by_codec.values() {
                all.0 += files;
                all.1 += audio;
                all.2.add(stages);
            }
            println!(
                "profile dir={:?} files={} audio_s={:.3} {}",
                dir.display().to_string(),
                all.0,
                all.1,
                all.2.line()
            );
            for (codec, (files, audio, stages)) in &self.by_codec {
                println!("profile codec={codec} files={files} audio_s={audio:.3} {}", stages.line());
            }
            println!("profile share {}", all.2.shares());
        }
    }

    /// A staged copy of the ingest pipeline, for timing each stage. It uses
    /// the same libraries and settings as `audio::ingest` but skips the
    /// error policy, tag collection and exact-length bookkeeping, which cost
    /// next to nothing.
    mod profile {
        use std::fs::File;
        use std::io::Write;
        use std::path::Path;
        use std::time::Instant;

        use audio::ingest::stages::{
            Digest, FrameEncoder, LoudnessMeter, Md5, PcmChecksum, decoder_options, pcm_bytes, quantise,
        };
        use audio::peaks::PeaksBuilder;
        use rubato::audioadapter_buffers::direct::SequentialSlice;
        use rubato::{Fft, FixedSync, Indexing, Resampler};
        use symphonia::core::errors::Error as SymError;
        use symphonia::core::formats::probe::Hint;
        use symphonia::core::formats::{FormatOptions, TrackType};
        use symphonia::core::io::MediaSourceStream;
        use symphonia::core::meta::MetadataOptions;

        const TARGET_RATE: u32 = 44_100;
        const SAMPLES_PER_PIXEL: u32 = 256;
        const BLOCK_SIZE: usize = 4096;

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
                let parts: Vec<String> =
                    self.columns().iter().map(|(n, v)| format!("{n}={:.1}%", 100.0 * v / total)).collect();
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

        struct Pipeline {
            in_channels: usize,
            /// Fold-down weights `(left, right)` per source channel, used
            /// when there are more than two.
            weights: Vec<(f32, f32)>,
            mixed: Vec<f32>,
            resampler: Option<Rs>,
            resampled: Vec<f32>,
            scale: f32,
            ints: Vec<i32>,
            flac: Flac,
            peaks: PeaksBuilder,
            meter: LoudnessMeter,
        }

        impl Pipeline {
            fn new(rate: u32, in_channels: usize, bits: u32) -> Result<Self, String> {
                let channels = in_channels.min(2);
                let resampler = if rate == TARGET_RATE { None } else { Some(Rs::new(rate, TARGET_RATE, channels)?) };
                let full = 1i32 << (bits - 1);
                // Not the real ITU matrix, but the same amount of work.
                let weights = (0..in_channels).map(|i| if i % 2 == 0 { (0.5, 0.0) } else { (0.0, 0.5) }).collect();
                Ok(Pipeline {
                    in_channels,
                    weights,
                    mixed: Vec::new(),
                    resampler,
                    resampled: Vec::new(),
                    scale: full as f32,
                    ints: Vec::new(),
                    flac: Flac::new(TARGET_RATE, channels, bits)?,
                    peaks: PeaksBuilder::new(TARGET_RATE, channels as u16, SAMPLES_PER_PIXEL),
                    meter: LoudnessMeter::new(channels, TARGET_RATE, f64::from(full)),
                })
            }

            fn push(
                &mut self,
                decoded: &[f32],
                out: &mut File,
                st: &mut Stages,
                t: &mut Instant,
            ) -> Result<(), String> {
                let folded = self.in_channels > 2;
                if folded {
                    self.mixed.clear();
                    for frame in decoded.chunks_exact(self.in_channels) {
                        let (mut l, mut r) = (0.0f32, 0.0f32);
                        for (&x, &(wl, wr)) in frame.iter().zip(&self.weights) {
                            l += x * wl;
                            r += x * wr;
                        }
                        self.mixed.push(l);
                        self.mixed.push(r);
                    }
                }
                st.mix += lap(t);
                let mixed = std::mem::take(&mut self.mixed);
                let input: &[f32] = if folded { &mixed } else { decoded };
                let result = match self.resampler.as_mut() {
                    Some(rs) => {
                        self.resampled.clear();
                        rs.push(input, &mut self.resampled)?;
                        st.resample += lap(t);
                        let resampled = std::mem::take(&mut self.resampled);
                        let r = self.sink(&resampled, out, st, t);
                        self.resampled = resampled;
                        r
                    }
                    None => self.sink(input, out, st, t),
                };
                self.mixed = mixed;
                result
            }

            fn sink(
                &mut self,
                samples: &[f32],
                out: &mut File,
                st: &mut Stages,
                t: &mut Instant,
            ) -> Result<(), String> {
                if samples.is_empty() {
                    return Ok(());
                }
                quantise(samples, self.scale, &mut self.ints);
                st.quantise += lap(t);
                self.flac.write(&self.ints, out, st, t)?;
                self.peaks.push_ints(&self.ints, self.scale);
                st.peaks += lap(t);
                self.meter.add(&self.ints);
                st.loudness += lap(t);
                Ok(())
            }

            fn finish(
                mut self,
                out: &mut File,
                out_path: &Path,
                st: &mut Stages,
                t: &mut Instant,
            ) -> Result<(), String> {
                if let Some(rs) = &mut self.resampler {
                    self.resampled.clear();
                    rs.finish(&mut self.resampled)?;
                    st.resample += lap(t);
                    let resampled = std::mem::take(&mut self.resampled);
                    self.sink(&resampled, out, st, t)?;
                }
                self.flac.encode_block(out, st, t)?;
                out.flush().map_err(|e| e.to_string())?;
                let _ = self.meter.integrated();
                st.loudness += lap(t);
                let dat = self.peaks.finish().to_dat_bytes();
                st.peaks += lap(t);
                std::fs::write(out_path.with_extension("peaks.dat"), dat).map_err(|e| e.to_string())?;
                let _ = std::fs::remove_file(out_path.with_extension("peaks.dat"));
                st.write += lap(t);
                Ok(())
            }
        }

        /// The FLAC writer's work: blocks of 4096 frames encoded with
        /// `audio::ingest`'s frame encoder, MD5 of the PCM, one write per frame.
        struct Flac {
            encoder: FrameEncoder,
            channels: usize,
            bits: u32,
            block: Vec<i32>,
            pcm: Vec<u8>,
            md5: Md5,
            frame_number: u64,
        }

        impl Flac {
            fn new(rate: u32, channels: usize, bits: u32) -> Result<Self, String> {
                Ok(Flac {
                    encoder: FrameEncoder::new(rate, channels, bits),
                    channels,
                    bits,
                    block: Vec::with_capacity(BLOCK_SIZE * channels),
                    pcm: Vec::new(),
                    md5: Md5::new(),
                    frame_number: 0,
                })
            }

            fn write(
                &mut self,
                mut samples: &[i32],
                out: &mut File,
                st: &mut Stages,
                t: &mut Instant,
            ) -> Result<(), String> {
                let full = BLOCK_SIZE * self.channels;
                while !samples.is_empty() {
                    let take = (full - self.block.len()).min(samples.len());
                    self.block.extend_from_slice(&samples[..take]);
                    samples = &samples[take..];
                    if self.block.len() == full {
                        self.encode_block(out, st, t)?;
                    }
                }
                st.flac += lap(t);
                Ok(())
            }

            fn encode_block(&mut self, out: &mut File, st: &mut Stages, t: &mut Instant) -> Result<(), String> {
                if self.block.is_empty() {
                    return Ok(());
                }
                st.flac += lap(t);
                pcm_bytes(&self.block, self.bits, &mut self.pcm);
                self.md5.update(&self.pcm);
                st.md5 += lap(t);
                let frame = self.encoder.encode(&self.block, self.frame_number);
                st.flac += lap(t);
                out.write_all(frame).map_err(|e| e.to_string())?;
                st.write += lap(t);
                self.frame_number += 1;
                self.block.clear();
                Ok(())
            }
        }

        /// rubato's synchronous FFT resampler driven as in `audio::ingest`:
        /// planar chunks of `stages::chunk_frames` input frames, output
        /// interleaved again.
        struct Rs {
            inner: Fft<f32>,
            channels: usize,
            chunk_in: usize,
            input: Vec<f32>,
            filled: usize,
            output: Vec<f32>,
            output_frames: usize,
        }

        impl Rs {
            fn new(rate_in: u32, rate_out: u32, channels: usize) -> Result<Self, String> {
                let inner = Fft::<f32>::new(
                    rate_in as usize,
                    rate_out as usize,
                    audio::ingest::stages::chunk_frames(rate_in, rate_out),
                    channels,
                    FixedSync::Both,
                )
                .map_err(|e| e.to_string())?;
                let chunk_in = inner.input_frames_next();
                let output_frames = inner.output_frames_max();
                Ok(Rs {
                    inner,
                    channels,
                    chunk_in,
                    input: vec![0.0; chunk_in * channels],
                    filled: 0,
                    output: vec![0.0; output_frames * channels],
                    output_frames,
                })
            }

            fn push(&mut self, mut samples: &[f32], out: &mut Vec<f32>) -> Result<(), String> {
                let channels = self.channels;
                while !samples.is_empty() {
                    let take = (self.chunk_in - self.filled).min(samples.len() / channels);
                    let (now, rest) = samples.split_at(take * channels);
                    if channels == 1 {
                        self.input[self.filled..self.filled + take].copy_from_slice(now);
                    } else {
                        for (i, frame) in now.chunks_exact(channels).enumerate() {
                            for (ch, &x) in frame.iter().enumerate() {
                                self.input[ch * self.chunk_in + self.filled + i] = x;
                            }
                        }
                    }
                    self.filled += take;
                    samples = rest;
                    if self.filled == self.chunk_in {
                        self.run(None, out)?;
                        self.filled = 0;
                    }
                }
                Ok(())
            }

            fn finish(&mut self, out: &mut Vec<f32>) -> Result<(), String> {
                // The partial chunk, then one chunk of zeros for the delay line.
                self.run(Some(self.filled), out)?;
                self.run(Some(0), out)
            }

            fn run(&mut self, partial_len: Option<usize>, out: &mut Vec<f32>) -> Result<(), String> {
                let input =
                    SequentialSlice::new(&self.input[..], self.channels, self.chunk_in).map_err(|e| e.to_string())?;
                let mut output = SequentialSlice::new_mut(&mut self.output[..], self.channels, self.output_frames)
                    .map_err(|e| e.to_string())?;
                let indexing = Indexing { partial_len, ..Indexing::default() };
                let (_, produced) =
                    self.inner.process_into_buffer(&input, &mut output, Some(&indexing)).map_err(|e| e.to_string())?;
                if self.channels == 1 {
                    out.extend_from_slice(&self.output[..produced]);
                } else {
                    for frame in 0..produced {
                        for ch in 0..self.channels {
                            out.push(self.output[ch * self.output_frames + frame]);
                        }
                    }
                }
                Ok(())
            }
        }
    }
}
