//! The files of a release, generated from the compiled samples, labels and split.
//!
//! The public archive holds the audio of every sample, OpenMIC-2018-style tables of the train
//! labels and the answers behind them, `labels.npz`, a Hugging Face `audiofolder` layout,
//! Croissant metadata, a dataset card, the attribution file and, first, a manifest of everything
//! else. The test split's labels stay out of it: they come back separately, for the server to
//! keep for challenges.
//!
//! Every byte is a function of the input: rows are sorted by sample key, classes follow
//! [`Params::instruments`], JSON objects are written with sorted keys (see [`json`]), nothing reads
//! a clock, and relevances are written with exactly 4 decimals (`{:.4}` of the `f32`).
use crate::archive::Entry;
use crate::model::{DatasetMeta, Label, Params, Prevalence, Sample};

mod card;
mod croissant;
mod json;
mod manifest;
mod npz;
mod tables;

#[cfg(test)]
mod tests;

/// Everything the files are generated from.
#[derive(Clone, Copy, Debug)]
pub struct Compiled<'a> {
    pub meta: &'a DatasetMeta,
    pub params: &'a Params,
    pub samples: &'a [Sample],
    /// Per sample, one label per instrument in the order of `params.instruments`.
    pub labels: &'a [Vec<Label>],
    /// Per sample, whether it is in the test split.
    pub test: &'a [bool],
    pub prevalence: &'a Prevalence,
}

/// The generated files.
#[derive(Clone, Debug)]
pub struct Generated {
    /// Everything in the public archive, in archive order (`manifest.json` first).
    pub entries: Vec<Entry>,
    /// The hidden test labels (`sample_key,instrument,relevance,known`), kept server-side.
    pub test_labels_csv: Vec<u8>,
}

/// Path of a sample's audio in the archive: beside its split's `metadata.csv`, the Hugging Face
/// `audiofolder` layout (every version of `datasets` loads it; recent ones refuse a `file_name`
/// outside the metadata's folder, so a shared `audio/` folder would need a second copy).
pub fn audio_path(key: &str, test: bool) -> String {
    format!("{}/{key}.flac", if test { "test" } else { "train" })
}

/// Generates every file of the release.
///
/// Panics if `labels` or `test` do not have one item per sample, or a sample's labels do not
/// have one label per instrument: the caller compiled them from the same samples.
pub fn generate(input: &Compiled) -> Generated {
    let n = input.samples.len();
    assert_eq!(input.labels.len(), n, "one label row per sample");
    assert_eq!(input.test.len(), n, "one split flag per sample");
    for row in input.labels {
        assert_eq!(row.len(), input.params.instruments.len(), "one label per instrument");
    }
    let view = View::new(input);

    let mut files = vec![
        Entry::inline("README.md", card::readme(&view)),
        Entry::inline("ATTRIBUTION.csv", tables::attribution(&view)),
        Entry::inline("class-map.json", tables::class_map(&view)),
        Entry::inline("aggregated-labels.csv", tables::aggregated_labels(&view)),
        Entry::inline("individual-responses.csv", tables::individual_responses(&view)),
        Entry::inline("labels.npz", npz::labels_npz(&view)),
        Entry::inline("partitions/train.csv", tables::partition(&view, false)),
        Entry::inline("partitions/test.csv", tables::partition(&view, true)),
        Entry::inline("train/metadata.csv", tables::audiofolder_train(&view)),
        Entry::inline("test/metadata.csv", tables::audiofolder_test(&view)),
    ];
    // Croissant lists the other files with their checksums, so it comes after them.
    files.push(Entry::inline("croissant.json", croissant::croissant(&view, &files)));
    for (&i, test) in view.train.iter().map(|i| (i, false)).chain(view.test.iter().map(|i| (i, true))) {
        let s = &input.samples[i];
        files.push(Entry::blob(audio_path(&s.key, test), i, &s.audio));
    }
    let mut entries = vec![Entry::inline("manifest.json", manifest::manifest(&view, &files))];
    entries.extend(files);
    Generated { entries, test_labels_csv: tables::test_labels(&view) }
}

/// The input with the orders every file uses.
struct View<'a> {
    input: &'a Compiled<'a>,
    /// Sample indices sorted by key.
    order: Vec<usize>,
    /// Train sample indices sorted by key (the rows of `labels.npz`).
    train: Vec<usize>,
    /// Test sample indices sorted by key.
    test: Vec<usize>,
    /// Distinct licences (SPDX ids), sorted.
    licences: Vec<String>,
}

impl<'a> View<'a> {
    fn new(input: &'a Compiled<'a>) -> View<'a> {
        let mut order: Vec<usize> = (0..input.samples.len()).collect();
        order.sort_by(|&a, &b| input.samples[a].key.cmp(&input.samples[b].key));
        let (test, train): (Vec<usize>, Vec<usize>) = order.iter().partition(|&&i| input.test[i]);
        let mut licences: Vec<String> = input.samples.iter().map(|s| s.source.licence.clone()).collect();
        licences.sort();
        licences.dedup();
        View { input, order, train, test, licences }
    }

    fn instruments(&self) -> &'a [String] {
        &self.input.params.instruments
    }

    fn sample(&self, i: usize) -> &'a Sample {
        &self.input.samples[i]
    }

    fn split_name(&self, i: usize) -> &'static str {
        if self.input.test[i] { "test" } else { "train" }
    }
}

/// A relevance as written in every table: exactly 4 decimals.
fn relevance(r: f32) -> String {
    format!("{r:.4}")
}

/// CSV bytes from a header and rows (the `csv` crate quotes only where needed).
fn csv_bytes<R: AsRef<[String]>>(header: &[&str], rows: impl IntoIterator<Item = R>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    w.write_record(header).expect("writing to memory");
    for row in rows {
        w.write_record(row.as_ref()).expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}
