//! The tar layout: for each entry a ustar header (preceded by a PAX extended header when the
//! path does not fit the header's 100-byte name field), the body, zero padding to 512 bytes; two
//! zero blocks at the end. Headers come from the `tar` crate's [`Header`]; every field that could
//! vary between machines (mode, owner, names, time) is fixed so the bytes are reproducible.
use tar::{EntryType, Header};

use super::{Builder, Entry, Layout};

const BLOCK: u64 = 512;

pub(super) fn layout(entries: &[Entry], mtime_unix: u64) -> Layout {
    let mut b = Builder::default();
    for (i, e) in entries.iter().enumerate() {
        if e.path.len() > 100 {
            let record = pax_record("path", &e.path);
            let mut h = header(&pax_name(&e.path), record.len() as u64, mtime_unix);
            h.set_entry_type(EntryType::XHeader);
            h.set_cksum();
            b.bytes(h.as_bytes().to_vec());
            b.bytes(record.clone());
            b.zeros(padding(record.len() as u64));
        }
        let mut h = header(&e.path, e.size, mtime_unix);
        h.set_entry_type(EntryType::Regular);
        h.set_cksum();
        b.bytes(h.as_bytes().to_vec());
        b.data(i, e.size);
        b.zeros(padding(e.size));
    }
    b.zeros(2 * BLOCK);
    b.finish()
}

/// A ustar header with the reproducible fields set; the name is cut to 100 bytes (a longer path
/// travels in the PAX header before it, which readers prefer).
fn header(path: &str, size: u64, mtime: u64) -> Header {
    let mut h = Header::new_ustar();
    let name = &path.as_bytes()[..path.len().min(100)];
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    // Sizes beyond the octal field's 8 GiB are written in the GNU base-256 form by the crate.
    h.set_size(size);
    h
}

/// Name of a PAX header entry, as GNU tar names them (`PaxHeaders/<file name>`), cut to fit.
fn pax_name(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    let mut name = format!("PaxHeaders/{file}");
    while name.len() > 100 {
        name.pop();
    }
    name
}

/// One PAX record, `"<len> <key>=<value>\n"`, whose length counts its own digits.
fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let rest = key.len() + value.len() + 3; // space, '=', newline
    let mut len = rest + 1;
    while len != rest + len.to_string().len() {
        len = rest + len.to_string().len();
    }
    format!("{len} {key}={value}\n").into_bytes()
}

fn padding(size: u64) -> u64 {
    (BLOCK - size % BLOCK) % BLOCK
}
