//! Ingests one file from the command line and writes `<input>.canonical.flac`
//! and `<input>.peaks.dat` next to it, printing the report.
//!
//! `cargo run -p audio --features ingest --example ingest -- song.mp3`

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;

use audio::ingest::{IngestOptions, ingest};

fn main() -> ExitCode {
    let Some(input) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: ingest <audio file>");
        return ExitCode::FAILURE;
    };
    let file = match File::open(&input) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{}: {e}", input.display());
            return ExitCode::FAILURE;
        }
    };
    let flac_path = input.with_extension("canonical.flac");
    let mut out = match File::create(&flac_path) {
        Ok(f) => BufWriter::new(f),
        Err(e) => {
            eprintln!("{}: {e}", flac_path.display());
            return ExitCode::FAILURE;
        }
    };
    let ext = input.extension().and_then(|e| e.to_str());
    match ingest(file, ext, &mut out, &IngestOptions::default()) {
        Ok(report) => {
            let dat_path = input.with_extension("peaks.dat");
            if let Err(e) = std::fs::write(&dat_path, report.peaks.to_dat_bytes()) {
                eprintln!("{}: {e}", dat_path.display());
                return ExitCode::FAILURE;
            }
            let peaks = &report.peaks;
            println!(
                "{} {} {} Hz {} ch {:?} bits -> {} Hz {} ch {}-bit, {} frames ({:.3} s), {:?} LUFS, {} pixels, {} skipped packets",
                report.container,
                report.codec,
                report.original_rate,
                report.original_channels,
                report.original_bits,
                report.canonical_rate,
                report.canonical_channels,
                report.canonical_bits,
                report.frames,
                report.duration_seconds,
                report.integrated_lufs,
                peaks.pixels(),
                report.skipped_packets,
            );
            for (k, v) in &report.tags {
                println!("  {k} = {v}");
            }
            println!("wrote {} and {}", flac_path.display(), dat_path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            drop(out);
            let _ = std::fs::remove_file(&flac_path);
            eprintln!("{}: {e}", input.display());
            ExitCode::FAILURE
        }
    }
}
