//! Mutations: edits at positions biased towards the header, header fields
//! set to extreme or nearby values, and the proptest strategies that draw
//! them.

use std::fmt;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

use crate::HEADER_BYTES;
use crate::checksums::{Checksums, fix_flac_crcs, fix_ogg_crcs};
use crate::seeds::Seed;

/// A position in the input, resolved against its length when applied: within
/// the first [`HEADER_BYTES`] when `header`, anywhere otherwise.
#[derive(Clone, Copy)]
struct Pos {
    header: bool,
    raw: u32,
}

impl Pos {
    fn at(self, len: usize) -> usize {
        let span = if self.header { len.min(HEADER_BYTES) } else { len };
        if span == 0 { 0 } else { self.raw as usize % span }
    }
}

impl fmt::Debug for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", if self.header { "h" } else { "@" }, self.raw)
    }
}

#[derive(Clone, Debug)]
enum Edit {
    Flip {
        at: Pos,
        bit: u8,
    },
    Overwrite {
        at: Pos,
        bytes: Vec<u8>,
    },
    Truncate {
        keep: Pos,
    },
    Insert {
        at: Pos,
        bytes: Vec<u8>,
    },
    InsertRun {
        at: Pos,
        byte: u8,
        len: usize,
    },
    Delete {
        at: Pos,
        len: usize,
    },
    /// Copies a run of the input over another place (a frame or box repeated).
    Splice {
        from: Pos,
        len: usize,
        to: Pos,
    },
}

impl Edit {
    fn changes_layout(&self) -> bool {
        matches!(self, Edit::Insert { .. } | Edit::InsertRun { .. } | Edit::Delete { .. })
    }

    fn apply(&self, b: &mut Vec<u8>) {
        let len = b.len();
        match *self {
            Edit::Flip { at, bit } if len > 0 => b[at.at(len)] ^= 1 << (bit % 8),
            Edit::Overwrite { at, ref bytes } => {
                let at = at.at(len);
                for (i, &x) in bytes.iter().enumerate() {
                    if let Some(y) = b.get_mut(at + i) {
                        *y = x;
                    }
                }
            }
            Edit::Truncate { keep } => b.truncate(keep.at(len)),
            Edit::Insert { at, ref bytes } => {
                let at = at.at(len);
                b.splice(at..at, bytes.iter().copied());
            }
            Edit::InsertRun { at, byte, len: run } => {
                let at = at.at(len);
                b.splice(at..at, std::iter::repeat_n(byte, run));
            }
            Edit::Delete { at, len: run } => {
                let at = at.at(len);
                b.drain(at..(at + run).min(len));
            }
            Edit::Splice { from, len: run, to } if len > 0 => {
                let from = from.at(len);
                let run: Vec<u8> = b[from..(from + run).min(len)].to_vec();
                let to = to.at(len);
                for (i, x) in run.into_iter().enumerate() {
                    if let Some(y) = b.get_mut(to + i) {
                        *y = x;
                    }
                }
            }
            _ => {}
        }
    }
}

/// A header field of the seed: where it is, how wide, which byte order.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Field {
    pub(crate) at: usize,
    pub(crate) width: usize,
    big_endian: bool,
}

impl Field {
    pub(crate) fn le(at: usize, width: usize) -> Self {
        Field { at, width, big_endian: false }
    }

    pub(crate) fn be(at: usize, width: usize) -> Self {
        Field { at, width, big_endian: true }
    }

    fn read(&self, b: &[u8]) -> u64 {
        let bytes = b.get(self.at..self.at + self.width).unwrap_or(&[]);
        let fold = |acc: u64, &x: &u8| (acc << 8) | u64::from(x);
        if self.big_endian { bytes.iter().fold(0, fold) } else { bytes.iter().rev().fold(0, fold) }
    }

    fn write(&self, b: &mut [u8], value: u64) {
        for i in 0..self.width {
            let shift = if self.big_endian { 8 * (self.width - 1 - i) } else { 8 * i };
            if let Some(y) = b.get_mut(self.at + i) {
                *y = (value >> shift.min(63)) as u8;
            }
        }
    }
}

/// Values that break assumptions about sizes and counts.
const EXTREMES: [u64; 14] =
    [0, 1, 2, 3, 7, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFF_F000, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, u64::MAX];

#[derive(Clone, Debug)]
enum FieldValue {
    /// One of [`EXTREMES`], cut to the field's width.
    Extreme(u64),
    /// Off by a little from the seed's value.
    Delta(i64),
    Any(u64),
}

#[derive(Clone, Debug)]
struct FieldHit {
    field: Index,
    value: FieldValue,
}

#[derive(Clone, Debug)]
pub(crate) struct Case {
    fields: Vec<FieldHit>,
    edits: Vec<Edit>,
    /// Recompute the container's checksums after mutating.
    fix_checksums: bool,
}

impl Case {
    pub(crate) fn apply(&self, seed: &Seed) -> Vec<u8> {
        let mut b = seed.bytes.clone();
        if !seed.fields.is_empty() {
            for hit in &self.fields {
                let field = seed.fields[hit.field.index(seed.fields.len())];
                let value = match hit.value {
                    FieldValue::Extreme(v) | FieldValue::Any(v) => v,
                    FieldValue::Delta(d) => field.read(&b).wrapping_add_signed(d),
                };
                field.write(&mut b, value);
            }
        }
        for edit in &self.edits {
            edit.apply(&mut b);
        }
        if self.fix_checksums {
            match seed.checksums {
                Checksums::None => {}
                Checksums::Ogg => fix_ogg_crcs(&mut b),
                // Frame positions are the seed's: only valid while nothing moved.
                Checksums::Flac if !self.edits.iter().any(Edit::changes_layout) => fix_flac_crcs(&mut b, &seed.frames),
                Checksums::Flac => {}
            }
        }
        b
    }
}

fn pos() -> impl Strategy<Value = Pos> {
    (proptest::bool::weighted(0.6), any::<u32>()).prop_map(|(header, raw)| Pos { header, raw })
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (pos(), 0u8..8).prop_map(|(at, bit)| Edit::Flip { at, bit }),
        3 => (pos(), vec(any::<u8>(), 1..8)).prop_map(|(at, bytes)| Edit::Overwrite { at, bytes }),
        2 => pos().prop_map(|keep| Edit::Truncate { keep }),
        2 => (pos(), vec(any::<u8>(), 1..64)).prop_map(|(at, bytes)| Edit::Insert { at, bytes }),
        1 => (pos(), any::<u8>(), 1usize..4096).prop_map(|(at, byte, len)| Edit::InsertRun { at, byte, len }),
        2 => (pos(), 1usize..256).prop_map(|(at, len)| Edit::Delete { at, len }),
        1 => (pos(), 1usize..512, pos()).prop_map(|(from, len, to)| Edit::Splice { from, len, to }),
    ]
}

fn field_hit() -> impl Strategy<Value = FieldHit> {
    let value = prop_oneof![
        4 => proptest::sample::select(&EXTREMES[..]).prop_map(FieldValue::Extreme),
        2 => (-4i64..=4).prop_map(FieldValue::Delta),
        1 => any::<u64>().prop_map(FieldValue::Any),
    ];
    (any::<Index>(), value).prop_map(|(field, value)| FieldHit { field, value })
}

pub(crate) fn case() -> impl Strategy<Value = Case> {
    (vec(field_hit(), 0..=3), vec(edit(), 0..=4), proptest::bool::weighted(0.75))
        .prop_filter("mutates something", |(f, e, _)| !f.is_empty() || !e.is_empty())
        .prop_map(|(fields, edits, fix_checksums)| Case { fields, edits, fix_checksums })
}
