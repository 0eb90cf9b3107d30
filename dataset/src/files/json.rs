//! JSON written with object keys in sorted order and two-space indentation.
//!
//! `serde_json::Map` iterates in insertion order when any crate of the build enables
//! serde_json's `preserve_order` feature and in sorted order otherwise, so the same release would
//! get different bytes from different builds; writing the keys sorted here removes that.
use serde_json::Value;

/// Pretty, key-sorted JSON with a trailing newline.
pub(super) fn to_bytes(v: &Value) -> Vec<u8> {
    let mut out = String::new();
    write(&mut out, v, 0);
    out.push('\n');
    out.into_bytes()
}

fn write(out: &mut String, v: &Value, depth: usize) {
    match v {
        Value::Array(items) if !items.is_empty() => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write(out, item, depth + 1);
            }
            newline(out, depth);
            out.push(']');
        }
        Value::Object(map) if !map.is_empty() => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                out.push_str(&Value::String(k.clone()).to_string());
                out.push_str(": ");
                write(out, &map[k], depth + 1);
            }
            newline(out, depth);
            out.push('}');
        }
        // Scalars, `[]` and `{}`: serde_json's compact form (numbers via ryu/itoa).
        other => out.push_str(&other.to_string()),
    }
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}
