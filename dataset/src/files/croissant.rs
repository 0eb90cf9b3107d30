//! `croissant.json`: MLCommons Croissant 1.0 metadata (JSON-LD), describing the release's files
//! with their SHA-256 and the tables' columns as record sets, so `mlcroissant` can load them.
use serde_json::{Value, json};

use super::{View, json as canonical};
use crate::archive::Entry;

/// The Croissant 1.0 JSON-LD context, as published with the specification.
fn context() -> Value {
    json!({
        "@language": "en",
        "@vocab": "https://schema.org/",
        "citeAs": "cr:citeAs",
        "column": "cr:column",
        "conformsTo": "dct:conformsTo",
        "cr": "http://mlcommons.org/croissant/",
        "rai": "http://mlcommons.org/croissant/RAI/",
        "samplingRate": "cr:samplingRate",
        "data": {"@id": "cr:data", "@type": "@json"},
        "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
        "dct": "http://purl.org/dc/terms/",
        "equivalentProperty": "cr:equivalentProperty",
        "examples": {"@id": "cr:examples", "@type": "@json"},
        "extract": "cr:extract",
        "field": "cr:field",
        "fileProperty": "cr:fileProperty",
        "fileObject": "cr:fileObject",
        "fileSet": "cr:fileSet",
        "format": "cr:format",
        "includes": "cr:includes",
        "isLiveDataset": "cr:isLiveDataset",
        "jsonPath": "cr:jsonPath",
        "key": "cr:key",
        "md5": "cr:md5",
        "parentField": "cr:parentField",
        "path": "cr:path",
        "recordSet": "cr:recordSet",
        "references": "cr:references",
        "regex": "cr:regex",
        "repeated": "cr:repeated",
        "replace": "cr:replace",
        "sc": "https://schema.org/",
        "separator": "cr:separator",
        "source": "cr:source",
        "subField": "cr:subField",
        "transform": "cr:transform"
    })
}

/// A table described as a record set: (file, record set id, columns with their Croissant types).
type Table = (&'static str, &'static str, Vec<(String, &'static str)>);

fn tables(v: &View) -> Vec<Table> {
    let text = |c: &str| (c.to_string(), "sc:Text");
    let mut train_meta = vec![text("file_name")];
    train_meta.extend(v.instruments().iter().map(|i| (i.clone(), "sc:Float")));
    train_meta.push(text("sample_key"));
    vec![
        (
            "aggregated-labels.csv",
            "aggregated-labels",
            vec![
                text("sample_key"),
                text("instrument"),
                ("relevance".into(), "sc:Float"),
                ("num_responses".into(), "sc:Integer"),
            ],
        ),
        (
            "individual-responses.csv",
            "individual-responses",
            ["sample_key", "annotator", "instrument", "answer", "time"].map(text).to_vec(),
        ),
        ("partitions/train.csv", "train-partition", vec![text("sample_key")]),
        ("partitions/test.csv", "test-partition", vec![text("sample_key")]),
        ("train/metadata.csv", "train-metadata", train_meta),
    ]
}

/// `files` are the archive's other generated files (for their checksums).
pub(super) fn croissant(v: &View, files: &[Entry]) -> Vec<u8> {
    let meta = v.input.meta;
    let mut distribution: Vec<Value> = files
        .iter()
        .map(|e| {
            json!({
                "@type": "cr:FileObject",
                "@id": e.path,
                "name": e.path,
                "contentUrl": e.path,
                "contentSize": format!("{} B", e.size),
                "encodingFormat": encoding(&e.path),
                "sha256": e.sha256,
            })
        })
        .collect();
    for split in ["train", "test"] {
        distribution.push(json!({
            "@type": "cr:FileSet",
            "@id": format!("{split}-audio"),
            "name": format!("{split}-audio"),
            "description": format!("One FLAC file per {split} sample, named after its sample_key."),
            "encodingFormat": "audio/flac",
            "includes": format!("{split}/*.flac"),
        }));
    }
    let record_sets: Vec<Value> = tables(v)
        .into_iter()
        .map(|(file, id, columns)| {
            let fields: Vec<Value> = columns
                .into_iter()
                .map(|(column, data_type)| {
                    json!({
                        "@type": "cr:Field",
                        "@id": format!("{id}/{column}"),
                        "name": column,
                        "dataType": data_type,
                        "source": {
                            "fileObject": {"@id": file},
                            "extract": {"column": column},
                        },
                    })
                })
                .collect();
            json!({"@type": "cr:RecordSet", "@id": id, "name": id, "field": fields})
        })
        .collect();
    let licences: Vec<String> = v.licences.iter().map(|l| format!("https://spdx.org/licenses/{l}.html")).collect();
    let doc = json!({
        "@context": context(),
        "@type": "sc:Dataset",
        "conformsTo": "http://mlcommons.org/croissant/1.0",
        "name": meta.slug,
        "alternateName": meta.name,
        "description": meta.description,
        "license": licences,
        "url": format!("{}/datasets/{}", meta.base_url, meta.slug),
        "citeAs": meta.citation,
        // Croissant expects a semantic version; releases are numbered 1, 2, ...
        "version": format!("{}.0.0", meta.version),
        "datePublished": v.input.params.as_of,
        "distribution": distribution,
        "recordSet": record_sets,
    });
    canonical::to_bytes(&doc)
}

fn encoding(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("csv") => "text/csv",
        Some("json") => "application/json",
        Some("md") => "text/markdown",
        Some("npz") => "application/x-npz",
        Some("flac") => "audio/flac",
        _ => "application/octet-stream",
    }
}
