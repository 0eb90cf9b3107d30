//! Builds a small synthetic release end to end — 60 one-second FLAC clips of sine tones from 12
//! source recordings, 4 instruments, 5 pseudonymous annotators, hand-made labels and split — and
//! streams its archive to a file piece by piece, the way the server streams it.
//!
//! ```text
//! cargo run -p dataset --example synthetic_release -- /tmp/synth.tar [--zip]
//! ```
//! With `--zip` the zip archive is written too, beside it (`/tmp/synth.zip`).
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use dataset::archive::{Layout, Piece, sha256_hex};
use dataset::files::{Compiled, generate};
use dataset::*;
use flacenc::component::BitRepr;
use flacenc::error::Verify;

const INSTRUMENTS: [&str; 4] = ["cello", "flute", "piano", "violin"];
const SAMPLES: usize = 60;
const SOURCES: usize = 12;
const RATE: usize = 16_000;
/// 2026-12-01T00:00:00Z, the release's `as_of`: archive times equal the creation time.
const MTIME: u64 = 1_796_083_200;
const LICENCES: [&str; 3] = ["CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0"];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: synthetic_release OUT.tar [--zip]");
        std::process::exit(2);
    };
    let zip = args.iter().any(|a| a == "--zip");

    let meta = DatasetMeta {
        name: "Tutti synthetic".into(),
        slug: "tutti-synthetic".into(),
        description: "Sine tones labelled by five imaginary annotators, to exercise the release \
                      format end to end."
            .into(),
        citation: "Tutti synthetic dataset, version 1 (2026).".into(),
        version: 1,
        base_url: "https://tutti.example.org".into(),
        campaigns: vec!["synthetic-strings".into(), "synthetic-winds".into()],
    };
    let params = Params {
        instruments: INSTRUMENTS.map(String::from).to_vec(),
        min_annotations: None,
        rule: LabelRule::Majority,
        threshold: 0.7,
        include_gold: false,
        test_fraction: 0.25,
        seed: 42,
        group_by: GroupKey::Source,
        tolerance: 0.15,
        as_of: "2026-12-01T00:00:00Z".into(),
    };
    let audio: Vec<Vec<u8>> = (0..SAMPLES).map(flac_tone).collect();
    let samples: Vec<Sample> = (0..SAMPLES).map(|i| sample(i, &audio[i])).collect();
    let labels: Vec<Vec<Label>> = (0..SAMPLES).map(labels_of).collect();
    // Sources 0, 5 and 9 (15 clips, 25%) are the test split: whole groups.
    let test: Vec<bool> = (0..SAMPLES).map(|i| matches!(i % SOURCES, 0 | 5 | 9)).collect();
    let prevalence = prevalence(&labels, &test, params.tolerance);

    let generated = generate(&Compiled {
        meta: &meta,
        params: &params,
        samples: &samples,
        labels: &labels,
        test: &test,
        prevalence: &prevalence,
    });
    let tar_path = PathBuf::from(out);
    let layout = Layout::tar(&generated.entries, MTIME);
    stream(&layout, &generated.entries, &audio, &tar_path);
    if zip {
        let zip_path = tar_path.with_extension("zip");
        let layout = Layout::zip(&generated.entries, MTIME);
        stream(&layout, &generated.entries, &audio, &zip_path);
    }
    let hidden = tar_path.with_extension("test-labels.csv");
    std::fs::write(&hidden, &generated.test_labels_csv).expect("writing the test labels");
    println!("hidden test labels: {}", hidden.display());
}

/// Writes the archive in 64 KiB ranges, each from its pieces, as a Range response would.
fn stream(layout: &Layout, entries: &[archive::Entry], audio: &[Vec<u8>], path: &Path) {
    let mut out = BufWriter::new(File::create(path).expect("creating the archive"));
    let chunk = 64 * 1024;
    let mut at = 0;
    while at < layout.len() {
        for piece in layout.pieces(entries, at..at + chunk) {
            match piece {
                Piece::Bytes(b) => out.write_all(&b),
                Piece::Blob { sample, offset, len } => {
                    out.write_all(&audio[sample][offset as usize..(offset + len) as usize])
                }
            }
            .expect("writing the archive");
        }
        at += chunk;
    }
    out.flush().expect("writing the archive");
    println!("{} ({} bytes)", path.display(), layout.len());
}

/// One second of a sine tone, mono 16-bit, as FLAC.
fn flac_tone(i: usize) -> Vec<u8> {
    let freq = 220.0 * 2f64.powf(i as f64 / 12.0);
    let pcm: Vec<i32> = (0..RATE)
        .map(|n| {
            let t = n as f64 / RATE as f64;
            (8000.0 * (2.0 * std::f64::consts::PI * freq * t).sin()) as i32
        })
        .collect();
    let config = flacenc::config::Encoder::default().into_verified().expect("default encoder configuration");
    let source = flacenc::source::MemSource::from_samples(&pcm, 1, 16, RATE);
    let stream = flacenc::encode_with_fixed_block_size(&config, source, config.block_size).expect("encoding FLAC");
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream.write(&mut sink).expect("writing FLAC");
    sink.as_slice().to_vec()
}

fn sample(i: usize, audio: &[u8]) -> Sample {
    let source = i % SOURCES;
    let annotators = 3 + i % 3;
    Sample {
        key: format!("{:032x}", 0xc1a0_0000_u64 + i as u64 * 7919),
        uri: format!("https://tutti.example.org/api/v1/audio/clip-{i}"),
        offset_seconds: (i / SOURCES) as f64 * 10.0,
        duration_seconds: 1.0,
        group: format!("source-{source}"),
        is_gold: false,
        source: Source {
            uri: format!("https://tutti.example.org/api/v1/audio/source-{source}"),
            title: format!("Étude nº {source}, \"synthetic\""),
            artist: format!("Ensemble {}", source % 4),
            licence: LICENCES[source % 3].into(),
        },
        audio: model::Blob { size: audio.len() as u64, sha256: sha256_hex(audio), crc32: crc32fast::hash(audio) },
        responses: (0..annotators)
            .map(|a| Response {
                annotator: format!("a{:08x}", (a as u64 + 1) * 0x9e37_79b9),
                answers: INSTRUMENTS
                    .iter()
                    .enumerate()
                    .map(|(j, inst)| {
                        let answer = match (i + j * 3 + a) % 5 {
                            0 | 1 => Answer::Present,
                            2 | 3 => Answer::Absent,
                            _ => Answer::Unsure,
                        };
                        (inst.to_string(), answer)
                    })
                    .collect(),
                trust: 0.8,
                time: format!("2026-11-{:02}T10:{:02}:00Z", 1 + i % 28, a * 7),
            })
            .collect(),
    }
}

/// Labels as a decision rule would produce them: a few unknown, positives and negatives mixed.
fn labels_of(i: usize) -> Vec<Label> {
    (0..INSTRUMENTS.len())
        .map(|j| {
            let relevance = match (i * 7 + j * 5) % 6 {
                0 => 1.0,
                1 => 0.8,
                2 => 0.5,
                3 => 0.25,
                _ => 0.0,
            };
            Label { relevance, known: relevance != 0.5, num_responses: 3 + (i % 3) as u32 }
        })
        .collect()
}

fn prevalence(labels: &[Vec<Label>], test: &[bool], tolerance: f64) -> Prevalence {
    let count = |j: usize, side: Option<bool>| {
        let mut c = ClassCounts::default();
        for (row, &t) in labels.iter().zip(test) {
            if side.is_some_and(|s| s != t) {
                continue;
            }
            let l = row[j];
            match (l.known, l.positive()) {
                (false, _) => c.unknown += 1,
                (true, true) => c.positive += 1,
                (true, false) => c.negative += 1,
            }
        }
        c
    };
    Prevalence {
        train_samples: test.iter().filter(|t| !**t).count() as u32,
        test_samples: test.iter().filter(|t| **t).count() as u32,
        tolerance,
        instruments: INSTRUMENTS
            .iter()
            .enumerate()
            .map(|(j, name)| InstrumentPrevalence {
                instrument: name.to_string(),
                all: count(j, None),
                train: count(j, Some(false)),
                test: count(j, Some(true)),
            })
            .collect(),
    }
}
