//! `README.md`, the dataset card: what the release is, how it was compiled, what the split
//! achieved, its licences, how to cite it and how to load it.
use std::fmt::Write;

use super::View;
use crate::model::{ClassCounts, GroupKey, LabelRule};

pub(super) fn readme(v: &View) -> Vec<u8> {
    let input = v.input;
    let (meta, params, prev) = (input.meta, input.params, input.prevalence);
    let mut md = String::new();
    let w = &mut md;
    let _ = writeln!(w, "# {} (version {})\n", meta.name, meta.version);
    let _ = writeln!(w, "{}\n", meta.description.trim());

    let _ = writeln!(w, "## Contents\n");
    let _ = writeln!(
        w,
        "{} clips: {} in train, {} in test (unlabelled here), {} instruments.\n",
        input.samples.len(),
        v.train.len(),
        v.test.len(),
        params.instruments.len()
    );
    let _ = writeln!(w, "| file | what |\n| --- | --- |");
    for (f, what) in [
        ("`manifest.json`", "everything below with sizes and SHA-256; every clip's provenance"),
        ("`train/<sample_key>.flac`, `test/<sample_key>.flac`", "the clips of each split"),
        (
            "`aggregated-labels.csv`",
            "train labels: `sample_key,instrument,relevance,num_responses` (known labels only)",
        ),
        ("`individual-responses.csv`", "the answers behind them: `sample_key,annotator,instrument,answer,time`"),
        ("`labels.npz`", "`Y_true` (float32, 0.5 where unknown), `Y_mask` (bool), `sample_key` for the train clips"),
        ("`class-map.json`", "instrument → column of `Y_true`"),
        ("`partitions/train.csv`, `partitions/test.csv`", "the split"),
        ("`train/metadata.csv`, `test/metadata.csv`", "Hugging Face `audiofolder` metadata"),
        ("`croissant.json`", "MLCommons Croissant 1.0 metadata"),
        ("`ATTRIBUTION.csv`", "title, artist, licence and URI of every source recording"),
    ] {
        let _ = writeln!(w, "| {f} | {what} |");
    }
    let _ = writeln!(
        w,
        "\nRelevances are written with 4 decimals. Annotators appear only as pseudonymous ids \
         specific to this dataset.\n"
    );

    let _ = writeln!(w, "## How it was made\n");
    let _ = writeln!(w, "Campaigns: {}.\n", list(&meta.campaigns));
    let rule = match params.rule {
        LabelRule::Majority => "the share of \"present\" among the decided answers (\"not sure\" abstains)",
        LabelRule::TrustWeighted => {
            "the trust-weighted probability of presence, each annotator weighted by their gold accuracy"
        }
    };
    let tasks = match params.min_annotations {
        None => "complete tasks only".to_string(),
        Some(m) => format!("tasks with at least {m} answers"),
    };
    let group = match params.group_by {
        GroupKey::Source => "source recording",
        GroupKey::Uploader => "uploader",
        GroupKey::Composition => "composition",
        GroupKey::Artist => "artist",
    };
    let _ = writeln!(
        w,
        "* Answers given up to {} count, from {tasks}; gold clips {}.",
        params.as_of,
        if params.include_gold { "included" } else { "excluded" }
    );
    let _ = writeln!(w, "* Relevance: {rule}.");
    let _ = writeln!(
        w,
        "* A label is known when the decided side's probability reaches {}; otherwise it is \
         unknown (relevance 0.5, masked).",
        params.threshold
    );
    let _ = writeln!(
        w,
        "* Split: {}% of the clips to test, seed {}, grouped by {group} (a group is never on both \
         sides), each instrument's positive rate within {} of its overall rate.",
        params.test_fraction * 100.0,
        params.seed,
        params.tolerance
    );
    let _ = writeln!(w, "* Parameters in full: `manifest.json` → `parameters`.\n");

    let _ = writeln!(w, "## Prevalence\n");
    let _ = writeln!(w, "Positive rate among known labels (positive / known, unknown) per split.\n");
    let _ = writeln!(w, "| instrument | all | train | test |\n| --- | --- | --- | --- |");
    for i in &prev.instruments {
        let _ = writeln!(w, "| {} | {} | {} | {} |", i.instrument, rate(&i.all), rate(&i.train), rate(&i.test));
    }

    let _ = writeln!(w, "\n## Licences\n");
    let _ = writeln!(
        w,
        "The clips keep their sources' licences: {}. `ATTRIBUTION.csv` credits every source; \
         `manifest.json` gives each clip's licence.\n",
        list(&v.licences)
    );
    let _ = writeln!(w, "## Citation\n\n```\n{}\n```\n", meta.citation.trim());

    let _ = writeln!(w, "## Loading\n");
    let _ = write!(w, "{}", LOADING);
    md.into_bytes()
}

fn list(items: &[String]) -> String {
    if items.is_empty() { "none".to_string() } else { items.join(", ") }
}

fn rate(c: &ClassCounts) -> String {
    match c.rate() {
        Some(r) => format!("{:.3} ({}/{}, {} unknown)", r, c.positive, c.positive + c.negative, c.unknown),
        None => format!("– (0 known, {} unknown)", c.unknown),
    }
}

const LOADING: &str = r#"From the extracted archive's root:

```python
import numpy as np, pandas as pd
npz = np.load("labels.npz")
Y_true, Y_mask, keys = npz["Y_true"], npz["Y_mask"], npz["sample_key"]
labels = pd.read_csv("aggregated-labels.csv")
```

Hugging Face `datasets` (the label columns exist only in train, so load each split on its own;
each split's audio lies beside its `metadata.csv`). Any version loads it; `datasets` 4 and later
need `torchcodec` (and torch) for an audio column, 3.6 does not. Without a decoder, read the files
with `soundfile`:

```python
from datasets import Audio, load_dataset
train = load_dataset("audiofolder", data_dir="train", split="train")
test = load_dataset("audiofolder", data_dir="test", split="train")
train = train.cast_column("audio", Audio(decode=False))  # train[0]["audio"]["path"]
```

MLCommons Croissant:

```python
import mlcroissant as mlc
ds = mlc.Dataset("croissant.json")
for record in ds.records("aggregated-labels"):
    ...
```
"#;
