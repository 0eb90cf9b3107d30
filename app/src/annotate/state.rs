//! What the annotation loop keeps in memory, one per server (`RuntimeState::annotate`): read-mostly
//! data from the database, the time of the last lease sweep, and the PostgreSQL batch queues.
use std::collections::HashMap;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use uuid::Uuid;

use super::ssr::Batches;
use crate::db::campaign;
use crate::instruments::Instrument;

/// Entries kept per in-memory map before it is emptied and refilled.
const CACHE_LIMIT: usize = 50_000;

/// What serving and checking need of a campaign, prepared once.
pub struct CampaignView {
    pub model: campaign::Model,
    pub slugs: Vec<String>,
    pub instructions_html: String,
    pub instruments: Vec<Instrument>,
}

/// What an assignment shows of a clip. Clips never change once imported.
pub(super) struct ClipView {
    pub(super) duration_seconds: f64,
    pub(super) gain_db: f64,
    pub(super) waveform: Vec<(f32, f32)>,
}

#[derive(Default)]
pub struct AnnotateState {
    pub(super) campaigns: Mutex<HashMap<Uuid, (Instant, Arc<CampaignView>)>>,
    pub(super) clips: Mutex<HashMap<Uuid, Arc<ClipView>>>,
    /// A task's campaign (it never moves).
    pub(super) task_campaign: Mutex<HashMap<Uuid, Uuid>>,
    /// Unix second of the last sweep for expired leases.
    pub(super) last_sweep: AtomicI64,
    /// The queues that gather concurrent lease grants and answers into one call each (PostgreSQL
    /// only; started on first use).
    pub(super) batches: OnceLock<Batches>,
}

/// A map's contents even if a thread panicked while holding it (every entry is whole).
pub(super) fn lock<K, V>(map: &Mutex<HashMap<K, V>>) -> std::sync::MutexGuard<'_, HashMap<K, V>> {
    map.lock().unwrap_or_else(|e| e.into_inner())
}

pub(super) fn remember<K: std::hash::Hash + Eq, V>(map: &Mutex<HashMap<K, V>>, k: K, v: V) {
    let mut m = lock(map);
    if m.len() >= CACHE_LIMIT {
        m.clear();
    }
    m.insert(k, v);
}
