#![cfg(feature = "ingest")]
mod common;
use audio::ingest::IngestOptions;
use common::*;

#[test]
fn scratch() {
    let dir = tempfile::tempdir().unwrap();
    let x = sine(44100, 2, 4.0, 440.0, 0.5);
    for (name, args) in [
        ("a.mp3", vec!["-c:a", "libmp3lame"]),
        ("b.ogg", vec!["-c:a", "libvorbis"]),
        ("c.m4a", vec!["-c:a", "aac"]),
        ("c2.m4a", vec!["-c:a", "aac", "-movflags", "+faststart"]),
        ("d.flac", vec!["-c:a", "flac"]),
        ("e.aac", vec!["-c:a", "aac"]),
        ("f.mp3", vec!["-c:a", "libmp3lame", "-write_xing", "0"]),
        ("g.wav", vec![]),
        ("h.aiff", vec![]),
        ("i.m4a", vec!["-c:a", "alac"]),
    ] {
        let p = encode_with_ffmpeg(dir.path(), name, 44100, 2, &x, &args);
        let r = ingest_path(&p, &IngestOptions::default());
        match &r {
            Ok((r, _)) => eprintln!(
                "{name}: ok {} s skipped {}",
                r.duration_seconds, r.skipped_packets
            ),
            Err(e) => eprintln!("{name}: {e:?}"),
        }
        let bytes = std::fs::read(&p).unwrap();
        for frac in [0.3, 0.5, 0.9] {
            let cut = dir.path().join(format!("cut_{name}"));
            std::fs::write(&cut, &bytes[..(bytes.len() as f64 * frac) as usize + 3]).unwrap();
            match ingest_path(&cut, &IngestOptions::default()) {
                Ok((r, _)) => eprintln!("  cut {frac}: ok {} s", r.duration_seconds),
                Err(e) => eprintln!("  cut {frac}: {e}"),
            }
        }
        let mut g = bytes.clone();
        let n = noise(g.len(), 1.0, 5);
        for i in 3000..g.len() {
            g[i] = (n[i] * 127.0) as i8 as u8;
        }
        let gp = dir.path().join(format!("garbage_{name}"));
        std::fs::write(&gp, &g).unwrap();
        match ingest_path(&gp, &IngestOptions::default()) {
            Ok((r, _)) => eprintln!(
                "  garbage: ok {} s skipped {}",
                r.duration_seconds, r.skipped_packets
            ),
            Err(e) => eprintln!("  garbage: {e}"),
        }
        for pct in [200usize, 50, 20] {
            let mut d = bytes.clone();
            let mid = d.len() / 2;
            for i in mid..mid + d.len() / pct {
                d[i] = (n[i] * 127.0) as i8 as u8;
            }
            let dp = dir.path().join(format!("damaged_{name}"));
            std::fs::write(&dp, &d).unwrap();
            match ingest_path(&dp, &IngestOptions::default()) {
                Ok((r, _)) => eprintln!(
                    "  damaged 1/{pct}: ok {} s skipped {}",
                    r.duration_seconds, r.skipped_packets
                ),
                Err(e) => eprintln!("  damaged 1/{pct}: {e}"),
            }
        }
    }
}
