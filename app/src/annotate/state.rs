//! What the annotation loop keeps in memory, one per server (`RuntimeState`): what assignments
//! show of clips, each task's campaign and the time of the last lease sweep
//! (the PostgreSQL batch queues keep their own slot, `batches::BatchQueues`).
use std::collections::HashMap;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};

use uuid::Uuid;

/// What an assignment shows of a clip. Clips never change once imported.
pub(super) struct ClipView {
    pub(super) duration_seconds: f64,
    pub(super) gain_db: f64,
    pub(super) waveform: Vec<(f32, f32)>,
}

#[derive(Default)]
pub struct AnnotateState {
    pub(super) clips: Mutex<HashMap<Uuid, Arc<ClipView>>>,
    /// A task's campaign (it never moves).
    pub(super) task_campaign: Mutex<HashMap<Uuid, Uuid>>,
    /// Unix second of the last sweep for expired leases.
    pub(super) last_sweep: AtomicI64,
}
