//! `labels.npz`, OpenMIC-2018's `Y_true` / `Y_mask` for the train split with the row keys.
//!
//! The numeric arrays are written by ndarray-npy's `NpzWriter`. It has no unicode dtype, so
//! `sample_key.npy` (`<U{longest key}`) is written here and appended to the same zip. Entries are
//! stored uncompressed with a fixed timestamp (1980-01-01) and mode, so the bytes are reproducible.
use std::io::{Cursor, Write};

use ndarray::Array2;
use ndarray_npy::NpzWriter;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::View;

pub(super) fn labels_npz(v: &View) -> Vec<u8> {
    let classes = v.instruments().len();
    let mut y_true = Array2::<f32>::from_elem((v.train.len(), classes), 0.5);
    let mut y_mask = Array2::<bool>::from_elem((v.train.len(), classes), false);
    for (row, &i) in v.train.iter().enumerate() {
        for (j, l) in v.input.labels[i].iter().enumerate() {
            if l.known {
                y_true[[row, j]] = l.relevance;
                y_mask[[row, j]] = true;
            }
        }
    }
    let keys: Vec<&str> = v.train.iter().map(|&i| v.sample(i).key.as_str()).collect();

    let mut npz = NpzWriter::new_with_options(Cursor::new(Vec::new()), options());
    npz.add_array("Y_true", &y_true).expect("writing to memory");
    npz.add_array("Y_mask", &y_mask).expect("writing to memory");
    let cursor = npz.finish().expect("writing to memory");
    let mut zip = ZipWriter::new_append(cursor).expect("reading back our own zip");
    zip.start_file("sample_key.npy", options()).expect("writing to memory");
    zip.write_all(&unicode_npy(&keys)).expect("writing to memory");
    zip.finish().expect("writing to memory").into_inner()
}

fn options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644)
}

/// A 1-D `.npy` (format 1.0) of numpy unicode strings: UTF-32LE code points, each padded with
/// NULs to the longest (numpy strips them when reading).
fn unicode_npy(items: &[&str]) -> Vec<u8> {
    let width = items.iter().map(|s| s.chars().count()).max().unwrap_or(0).max(1);
    let mut header = format!("{{'descr': '<U{width}', 'fortran_order': False, 'shape': ({},), }}", items.len());
    // Magic (6) + version (2) + header length (2) + header, padded to 64 and ending in '\n'.
    let total = (10 + header.len() + 1).div_ceil(64) * 64;
    while 10 + header.len() + 1 < total {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for s in items {
        let mut n = 0;
        for c in s.chars() {
            out.extend_from_slice(&u32::from(c).to_le_bytes());
            n += 1;
        }
        out.resize(out.len() + 4 * (width - n), 0);
    }
    out
}
