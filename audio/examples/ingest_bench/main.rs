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
    cli::main()
}

#[cfg(feature = "ingest")]
mod batch;
#[cfg(feature = "ingest")]
mod cli;
#[cfg(feature = "ingest")]
mod profile;
