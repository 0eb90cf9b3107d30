//! Helpers for what a server keeps in memory (`RuntimeState`): maps that survive a panicking
//! holder and are bounded by emptying, since every entry can be read again from the database.
use std::collections::HashMap;
use std::sync::Mutex;

/// Entries kept per in-memory map before it is emptied and refilled.
const CACHE_LIMIT: usize = 50_000;

/// A map's contents even if a thread panicked while holding it (every entry is whole).
pub fn lock<K, V>(map: &Mutex<HashMap<K, V>>) -> std::sync::MutexGuard<'_, HashMap<K, V>> {
    map.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn remember<K: std::hash::Hash + Eq, V>(map: &Mutex<HashMap<K, V>>, k: K, v: V) {
    let mut m = lock(map);
    if m.len() >= CACHE_LIMIT {
        m.clear();
    }
    m.insert(k, v);
}
