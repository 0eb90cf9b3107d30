//! The generated files on a small hand-made release: order, contents, reproducibility.
use super::*;
use crate::archive::Content;
use crate::model::*;

fn params() -> Params {
    Params {
        instruments: vec!["violin".into(), "piano".into()],
        min_annotations: None,
        rule: LabelRule::Majority,
        threshold: 0.7,
        include_gold: false,
        test_fraction: 0.25,
        seed: 1,
        group_by: GroupKey::Source,
        tolerance: 0.1,
        as_of: "2026-12-01T00:00:00Z".into(),
    }
}

fn sample(key: &str, licence: &str) -> Sample {
    Sample {
        key: key.into(),
        uri: format!("https://t.example/api/v1/audio/{key}"),
        offset_seconds: 10.0,
        duration_seconds: 10.0,
        group: format!("g-{key}"),
        is_gold: false,
        source: Source {
            uri: format!("https://t.example/api/v1/audio/src-{licence}"),
            title: format!("Title {licence}"),
            artist: "Someone".into(),
            licence: licence.into(),
        },
        audio: Blob { size: 100, sha256: "ab".repeat(32), crc32: 7 },
        responses: vec![Response {
            annotator: "anon-1".into(),
            answers: vec![("violin".into(), Answer::Present), ("oboe".into(), Answer::Absent)],
            trust: 0.9,
            time: "2026-11-01T00:00:00Z".into(),
        }],
    }
}

fn label(relevance: f32, known: bool) -> Label {
    Label { relevance, known, num_responses: 3 }
}

struct Fixture {
    meta: DatasetMeta,
    params: Params,
    samples: Vec<Sample>,
    labels: Vec<Vec<Label>>,
    test: Vec<bool>,
    prevalence: Prevalence,
}

fn fixture() -> Fixture {
    Fixture {
        meta: DatasetMeta {
            name: "Tiny".into(),
            slug: "tiny".into(),
            description: "A tiny release.".into(),
            citation: "Tiny (2026).".into(),
            version: 2,
            base_url: "https://t.example".into(),
            campaigns: vec!["strings".into()],
        },
        params: params(),
        // Deliberately not in key order.
        samples: vec![sample("c", "CC-BY-4.0"), sample("a", "CC0-1.0"), sample("b", "CC-BY-4.0")],
        labels: vec![
            vec![label(1.0, true), label(0.5, false)],
            vec![label(0.8, true), label(0.0, true)],
            vec![label(0.5, false), label(0.25, true)],
        ],
        test: vec![false, false, true],
        prevalence: Prevalence { train_samples: 2, test_samples: 1, tolerance: 0.1, instruments: vec![] },
    }
}

fn run(f: &Fixture) -> Generated {
    generate(&Compiled {
        meta: &f.meta,
        params: &f.params,
        samples: &f.samples,
        labels: &f.labels,
        test: &f.test,
        prevalence: &f.prevalence,
    })
}

fn text(g: &Generated, path: &str) -> String {
    let e = g.entries.iter().find(|e| e.path == path).unwrap();
    match &e.content {
        Content::Inline(b) => String::from_utf8(b.clone()).unwrap(),
        Content::Blob(_) => panic!("{path} is a blob"),
    }
}

#[test]
fn the_archive_order_starts_with_the_manifest_and_ends_with_the_audio() {
    let g = run(&fixture());
    let paths: Vec<&str> = g.entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths[0], "manifest.json");
    assert_eq!(&paths[paths.len() - 3..], ["train/a.flac", "train/c.flac", "test/b.flac"]);
    assert_eq!(g.entries[paths.len() - 1].content, Content::Blob(2), "b is the third sample given");
    let manifest: serde_json::Value = serde_json::from_str(&text(&g, "manifest.json")).unwrap();
    assert_eq!(manifest["files"].as_array().unwrap().len(), g.entries.len() - 1);
    assert_eq!(manifest["samples"][1]["split"], "test");
    assert_eq!(manifest["samples"][0]["parent_uri"], "https://t.example/api/v1/audio/src-CC0-1.0");
    assert_eq!(manifest["created"], "2026-12-01T00:00:00Z");
}

#[test]
fn tables_hold_train_labels_only_and_test_labels_come_back_separately() {
    let g = run(&fixture());
    assert_eq!(
        text(&g, "aggregated-labels.csv"),
        "sample_key,instrument,relevance,num_responses\n\
         a,violin,0.8000,3\na,piano,0.0000,3\nc,violin,1.0000,3\n"
    );
    assert_eq!(
        text(&g, "train/metadata.csv"),
        "file_name,violin,piano,sample_key\n\
         a.flac,0.8000,0.0000,a\nc.flac,1.0000,,c\n"
    );
    assert_eq!(text(&g, "test/metadata.csv"), "file_name,sample_key\nb.flac,b\n");
    assert_eq!(text(&g, "partitions/test.csv"), "sample_key\nb\n");
    // Only the release's classes: the answer about the oboe is left out.
    assert_eq!(
        text(&g, "individual-responses.csv"),
        "sample_key,annotator,instrument,answer,time\n\
         a,anon-1,violin,present,2026-11-01T00:00:00Z\n\
         c,anon-1,violin,present,2026-11-01T00:00:00Z\n"
    );
    assert_eq!(text(&g, "class-map.json"), "{\n  \"piano\": 1,\n  \"violin\": 0\n}\n");
    assert_eq!(
        String::from_utf8(g.test_labels_csv.clone()).unwrap(),
        "sample_key,instrument,relevance,known\nb,violin,0.5000,false\nb,piano,0.2500,true\n"
    );
    let attribution = text(&g, "ATTRIBUTION.csv");
    assert_eq!(attribution.lines().count(), 3, "two distinct sources");
}

#[test]
fn two_runs_give_the_same_bytes() {
    let f = fixture();
    let (a, b) = (run(&f), run(&f));
    assert_eq!(a.entries, b.entries);
    let npz = |g: &Generated| match &g.entries.iter().find(|e| e.path == "labels.npz").unwrap().content {
        Content::Inline(b) => b.clone(),
        Content::Blob(_) => unreachable!(),
    };
    let bytes = npz(&a);
    let mut zip = ::zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let names: Vec<&str> = zip.file_names().collect();
    assert_eq!(names.len(), 3);
    let key = zip.by_name("sample_key.npy").unwrap();
    assert_eq!(key.size(), 128 + 2 * 4, "a padded header and two <U1 keys");
    let t = key.last_modified().unwrap();
    assert_eq!(t.year(), 1980);
}

#[test]
fn nothing_personal_leaks() {
    let g = run(&fixture());
    for e in &g.entries {
        if let Content::Inline(b) = &e.content {
            let s = String::from_utf8_lossy(b);
            assert!(!s.contains("trust"), "{} mentions trust", e.path);
        }
    }
}
