//! The CSV tables (OpenMIC-2018's columns where it has an equivalent), the class map, the
//! audiofolder metadata and the hidden test labels.
//!
//! Label tables cover the train split only: the test split is published unlabelled.
use serde_json::{Map, Value};

use super::{View, csv_bytes, json, relevance};

/// `sample_key,instrument,relevance,num_responses`: one row per known train label.
pub(super) fn aggregated_labels(v: &View) -> Vec<u8> {
    let mut rows = Vec::new();
    for &i in &v.train {
        for (j, name) in v.instruments().iter().enumerate() {
            let l = v.input.labels[i][j];
            if l.known {
                rows.push(vec![
                    v.sample(i).key.clone(),
                    name.clone(),
                    relevance(l.relevance),
                    l.num_responses.to_string(),
                ]);
            }
        }
    }
    csv_bytes(&["sample_key", "instrument", "relevance", "num_responses"], rows)
}

/// `sample_key,annotator,instrument,answer,time`: every answer about a class on a train sample,
/// in the samples' response order (time, then annotator). Annotators are the pseudonymous ids.
pub(super) fn individual_responses(v: &View) -> Vec<u8> {
    let mut rows = Vec::new();
    for &i in &v.train {
        let s = v.sample(i);
        for r in &s.responses {
            for name in v.instruments() {
                // Instruments outside the release's classes are not part of it.
                for (_, answer) in r.answers.iter().filter(|(inst, _)| inst == name) {
                    rows.push(vec![
                        s.key.clone(),
                        r.annotator.clone(),
                        name.clone(),
                        answer.as_str().to_string(),
                        r.time.clone(),
                    ]);
                }
            }
        }
    }
    csv_bytes(&["sample_key", "annotator", "instrument", "answer", "time"], rows)
}

/// `partitions/{train,test}.csv`: the keys of one side, as OpenMIC's split files.
pub(super) fn partition(v: &View, test: bool) -> Vec<u8> {
    let side = if test { &v.test } else { &v.train };
    csv_bytes(&["sample_key"], side.iter().map(|&i| vec![v.sample(i).key.clone()]))
}

/// `class-map.json`: instrument → column of `Y_true`, as OpenMIC's.
pub(super) fn class_map(v: &View) -> Vec<u8> {
    let map: Map<String, Value> =
        v.instruments().iter().enumerate().map(|(j, name)| (name.clone(), Value::from(j))).collect();
    json::to_bytes(&Value::Object(map))
}

/// The audio's path as written in `train/metadata.csv` and `test/metadata.csv`: relative to the
/// metadata file, which the audio lies beside.
pub(super) fn audiofolder_file_name(key: &str) -> String {
    format!("{key}.flac")
}

/// `train/metadata.csv`: `file_name`, one relevance column per instrument (empty when unknown),
/// `sample_key`.
pub(super) fn audiofolder_train(v: &View) -> Vec<u8> {
    let mut header = vec!["file_name"];
    header.extend(v.instruments().iter().map(String::as_str));
    header.push("sample_key");
    let rows = v.train.iter().map(|&i| {
        let key = &v.sample(i).key;
        let mut row = vec![audiofolder_file_name(key)];
        row.extend(v.input.labels[i].iter().map(|l| if l.known { relevance(l.relevance) } else { String::new() }));
        row.push(key.clone());
        row
    });
    csv_bytes(&header, rows)
}

/// `test/metadata.csv`: `file_name`, `sample_key` — no labels.
pub(super) fn audiofolder_test(v: &View) -> Vec<u8> {
    csv_bytes(
        &["file_name", "sample_key"],
        v.test.iter().map(|&i| {
            let key = &v.sample(i).key;
            vec![audiofolder_file_name(key), key.clone()]
        }),
    )
}

/// `title,artist,licence,uri` for each distinct source, sorted by those columns.
pub(super) fn attribution(v: &View) -> Vec<u8> {
    let mut rows: Vec<Vec<String>> = v
        .input
        .samples
        .iter()
        .map(|s| {
            let src = &s.source;
            vec![src.title.clone(), src.artist.clone(), src.licence.clone(), src.uri.clone()]
        })
        .collect();
    rows.sort();
    rows.dedup();
    csv_bytes(&["title", "artist", "licence", "uri"], rows)
}

/// The hidden test labels: `sample_key,instrument,relevance,known` for every test sample and
/// class (unknown ones too, with `known` false), so a challenge can score against the mask.
pub(super) fn test_labels(v: &View) -> Vec<u8> {
    let mut rows = Vec::new();
    for &i in &v.test {
        for (j, name) in v.instruments().iter().enumerate() {
            let l = v.input.labels[i][j];
            rows.push(vec![v.sample(i).key.clone(), name.clone(), relevance(l.relevance), l.known.to_string()]);
        }
    }
    csv_bytes(&["sample_key", "instrument", "relevance", "known"], rows)
}
