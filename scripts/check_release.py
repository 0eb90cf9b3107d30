#!/usr/bin/env python3
"""Checks a dataset release archive (.tar or .zip) with the tools its users will use.

    "$(scripts/python-env.sh)/bin/python" scripts/check_release.py release.tar

Extracts the archive into a temporary folder, then: every file's size and SHA-256 against
manifest.json; no e-mail address anywhere in the archive's bytes; labels.npz through numpy
(shapes, dtypes, Y_mask false exactly where aggregated-labels.csv has no row); every CSV through
pandas (columns, row counts against the manifest); both audiofolder splits through
`datasets.load_dataset` (labels in train only, every clip decoding at a plausible length);
croissant.json through mlcroissant (validation, every record set yielding its rows). Stops at the
first failure with a message and a non-zero exit.
"""

import hashlib
import json
import logging
import os
import re
import sys
import tarfile
import tempfile
import warnings
import zipfile

EMAIL = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def extract(archive, dest):
    """Extracts the archive and returns its file paths in archive order."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            bad = z.testzip()
            check(bad is None, f"zip CRC mismatch in {bad}")
            z.extractall(dest)
            return [i.filename for i in z.infolist() if not i.is_dir()]
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as t:
            members = t.getmembers()
            t.extractall(dest, filter="data")
            return [m.name for m in members if m.isfile()]
    fail(f"{archive} is neither a zip nor a tar archive")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_manifest(root, paths):
    check(paths and paths[0] == "manifest.json", "manifest.json is not the archive's first file")
    with open(os.path.join(root, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    listed = [f["path"] for f in manifest["files"]]
    check(sorted(listed) == sorted(paths[1:]), "manifest files differ from the archive's files")
    for f in manifest["files"]:
        p = os.path.join(root, f["path"])
        check(os.path.getsize(p) == f["size"], f"{f['path']}: size differs from the manifest")
        check(sha256(p) == f["sha256"], f"{f['path']}: SHA-256 differs from the manifest")
    return manifest


def check_tables(root, manifest):
    import pandas as pd

    counts = manifest["counts"]
    n_train, n_test = counts["train"], counts["test"]
    with open(os.path.join(root, "class-map.json"), encoding="utf-8") as f:
        class_map = json.load(f)
    classes = sorted(class_map, key=class_map.get)
    check(classes == manifest["parameters"]["instruments"], "class-map.json differs from the parameters")
    known = sum(i["train"]["positive"] + i["train"]["negative"] for i in counts["instruments"])
    sources = len({s["parent_uri"] for s in manifest["samples"]})
    expected = {
        "aggregated-labels.csv": (["sample_key", "instrument", "relevance", "num_responses"], known),
        "individual-responses.csv": (["sample_key", "annotator", "instrument", "answer", "time"], None),
        "partitions/train.csv": (["sample_key"], n_train),
        "partitions/test.csv": (["sample_key"], n_test),
        "train/metadata.csv": (["file_name", *classes, "sample_key"], n_train),
        "test/metadata.csv": (["file_name", "sample_key"], n_test),
        "ATTRIBUTION.csv": (["title", "artist", "licence", "uri"], sources),
    }
    frames = {}
    for name, (columns, rows) in expected.items():
        df = pd.read_csv(os.path.join(root, name), keep_default_na=name != "ATTRIBUTION.csv")
        check(list(df.columns) == columns, f"{name}: columns {list(df.columns)}, expected {columns}")
        if rows is not None:
            check(len(df) == rows, f"{name}: {len(df)} rows, manifest says {rows}")
        frames[name] = df
    train_keys = {s["sample_key"] for s in manifest["samples"] if s["split"] == "train"}
    test_keys = {s["sample_key"] for s in manifest["samples"] if s["split"] == "test"}
    check(set(frames["partitions/train.csv"].sample_key) == train_keys, "partitions/train.csv differs from the manifest")
    check(set(frames["partitions/test.csv"].sample_key) == test_keys, "partitions/test.csv differs from the manifest")
    for name in ["aggregated-labels.csv", "individual-responses.csv"]:
        check(set(frames[name].sample_key) <= train_keys, f"{name} has rows for test samples")
    return frames, classes


def check_npz(root, frames, classes, manifest):
    import numpy as np

    npz = np.load(os.path.join(root, "labels.npz"))
    check(sorted(npz.files) == ["Y_mask", "Y_true", "sample_key"], f"labels.npz holds {npz.files}")
    y_true, y_mask, keys = npz["Y_true"], npz["Y_mask"], npz["sample_key"]
    n = manifest["counts"]["train"]
    check(y_true.dtype == np.float32 and y_true.shape == (n, len(classes)), f"Y_true is {y_true.dtype} {y_true.shape}")
    check(y_mask.dtype == np.bool_ and y_mask.shape == (n, len(classes)), f"Y_mask is {y_mask.dtype} {y_mask.shape}")
    check(keys.dtype.kind == "U" and keys.shape == (n,), f"sample_key is {keys.dtype} {keys.shape}")
    check(list(keys) == sorted(keys), "sample_key is not sorted")
    expected_mask = np.zeros_like(y_mask)
    expected_true = np.full_like(y_true, 0.5)
    row = {k: i for i, k in enumerate(keys)}
    col = {c: j for j, c in enumerate(classes)}
    for r in frames["aggregated-labels.csv"].itertuples():
        expected_mask[row[r.sample_key], col[r.instrument]] = True
        expected_true[row[r.sample_key], col[r.instrument]] = r.relevance
    check((y_mask == expected_mask).all(), "Y_mask differs from the rows of aggregated-labels.csv")
    check(np.allclose(y_true, expected_true, atol=5e-5), "Y_true differs from aggregated-labels.csv")


def check_audiofolder(root, classes, manifest):
    import datasets
    import soundfile

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    duration = {s["sample_key"]: s["duration_seconds"] for s in manifest["samples"]}
    with tempfile.TemporaryDirectory() as cache:
        for split, label_columns in [("train", classes), ("test", [])]:
            ds = datasets.load_dataset(
                "audiofolder", data_dir=os.path.join(root, split), split="train", cache_dir=cache
            )
            columns = ["audio", *label_columns, "sample_key"]
            check(sorted(ds.column_names) == sorted(columns), f"audiofolder {split}: columns {ds.column_names}")
            check(len(ds) == manifest["counts"][split], f"audiofolder {split}: {len(ds)} rows")
            # Decoding through datasets needs librosa; soundfile reads the same files.
            ds = ds.cast_column("audio", datasets.Audio(decode=False))
            for r in ds:
                data, rate = soundfile.read(r["audio"]["path"])
                seconds = len(data) / rate
                check(rate >= 8000 and len(data) > 0, f"{r['sample_key']}: no audio")
                check(abs(seconds - duration[r["sample_key"]]) < 0.05, f"{r['sample_key']}: {seconds} s of audio")
    return manifest["counts"]["train"] + manifest["counts"]["test"]


def check_croissant(root, frames):
    import mlcroissant as mlc

    logging.getLogger("absl").setLevel(logging.ERROR)
    cwd = os.getcwd()
    os.chdir(root)  # contentUrls are relative to the metadata
    try:
        ds = mlc.Dataset(jsonld=os.path.join(root, "croissant.json"))
        issues = ds.metadata.ctx.issues
        check(not issues.errors and not issues.warnings, f"croissant.json: {issues.report()}")
        expected = {
            "aggregated-labels": len(frames["aggregated-labels.csv"]),
            "individual-responses": len(frames["individual-responses.csv"]),
            "train-partition": len(frames["partitions/train.csv"]),
            "test-partition": len(frames["partitions/test.csv"]),
            "train-metadata": len(frames["train/metadata.csv"]),
        }
        ids = sorted(rs.uuid for rs in ds.metadata.record_sets)
        check(ids == sorted(expected), f"croissant record sets {ids}")
        for rs, n in expected.items():
            got = sum(1 for _ in ds.records(record_set=rs))
            check(got == n, f"croissant record set {rs}: {got} records, expected {n}")
    except mlc.ValidationError as e:
        fail(f"croissant.json does not validate: {e}")
    finally:
        os.chdir(cwd)
    return len(expected)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    archive = os.path.abspath(sys.argv[1])
    warnings.filterwarnings("ignore")
    with open(archive, "rb") as f:
        m = EMAIL.search(f.read())
    check(m is None, f"the archive contains an e-mail address: {m and m.group(0)!r}")
    with tempfile.TemporaryDirectory() as root:
        paths = extract(archive, root)
        manifest = check_manifest(root, paths)
        frames, classes = check_tables(root, manifest)
        check_npz(root, frames, classes, manifest)
        clips = check_audiofolder(root, classes, manifest)
        record_sets = check_croissant(root, frames)
    c = manifest["counts"]
    print(
        f"OK {os.path.basename(archive)}: {len(paths)} files verified against the manifest; "
        f"{c['train']} train + {c['test']} test clips, {len(classes)} classes; labels.npz, "
        f"{len(frames)} CSVs, audiofolder ({clips} clips decoded), croissant ({record_sets} record sets)"
    )


if __name__ == "__main__":
    main()
