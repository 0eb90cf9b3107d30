//! `manifest.json`, the archive's first file: what the release is, how it was compiled, what it
//! counts, and every other file with its size and SHA-256 and every sample with its provenance.
use serde_json::{Value, json};

use super::{View, json as canonical};
use crate::archive::Entry;

/// `files` are all the archive's other files, in archive order.
pub(super) fn manifest(v: &View, files: &[Entry]) -> Vec<u8> {
    let input = v.input;
    let meta = input.meta;
    let p = input.prevalence;
    let instruments: Vec<Value> = p
        .instruments
        .iter()
        .map(|i| json!({"instrument": i.instrument, "all": i.all, "train": i.train, "test": i.test}))
        .collect();
    let file_list: Vec<Value> =
        files.iter().map(|e| json!({"path": e.path, "size": e.size, "sha256": e.sha256})).collect();
    let samples: Vec<Value> = v
        .order
        .iter()
        .map(|&i| {
            let s = v.sample(i);
            json!({
                "sample_key": s.key,
                "split": v.split_name(i),
                "uri": s.uri,
                "parent_uri": s.source.uri,
                "offset_seconds": s.offset_seconds,
                "duration_seconds": s.duration_seconds,
                "licence": s.source.licence,
            })
        })
        .collect();
    let doc = json!({
        "dataset": {"name": meta.name, "slug": meta.slug, "version": meta.version},
        "created": input.params.as_of,
        "parameters": serde_json::to_value(input.params).expect("parameters serialize"),
        "campaigns": meta.campaigns,
        "counts": {
            "samples": input.samples.len(),
            "train": p.train_samples,
            "test": p.test_samples,
            "tolerance": p.tolerance,
            "instruments": instruments,
        },
        "licences": v.licences,
        "files": file_list,
        "samples": samples,
    });
    canonical::to_bytes(&doc)
}
