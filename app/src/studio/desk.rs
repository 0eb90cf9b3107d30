//! The composition page's unsaved settings, shared by the timeline and the recording panel.
use leptos::prelude::*;
use uuid::Uuid;

/// What a musician set on the composition page that is not saved on the server: zoom, snap, the
/// playhead and the recorder's choices.
#[derive(Clone, Copy)]
pub struct Desk {
    /// Pixels per second.
    pub zoom: RwSignal<f64>,
    pub snap: RwSignal<bool>,
    pub position: RwSignal<f64>,
    pub playing: RwSignal<bool>,
    /// The lane control used from the keyboard last: it keeps the focus when the lanes are drawn
    /// again.
    pub focused_track: RwSignal<Option<(Uuid, LaneControl)>>,
    pub instrument: RwSignal<String>,
    pub metronome: RwSignal<bool>,
    /// "Stop after (s)", as typed.
    pub limit: RwSignal<String>,
    /// The track edits saved on this page, latest last, each with the patch that undoes it.
    pub undo: RwSignal<Vec<Edit>>,
}

/// A saved track edit that Undo can take back.
#[derive(Clone, Debug, PartialEq)]
pub struct Edit {
    pub track: Uuid,
    pub undo: super::TrackPatch,
    pub what: &'static str,
}

/// Edits remembered for Undo; older ones are dropped.
pub const UNDO_DEPTH: usize = 50;

impl Desk {
    pub(super) fn new() -> Self {
        Desk {
            zoom: RwSignal::new(40.0),
            snap: RwSignal::new(true),
            position: RwSignal::new(0.0),
            playing: RwSignal::new(false),
            focused_track: RwSignal::new(None),
            instrument: RwSignal::new(String::new()),
            metronome: RwSignal::new(true),
            limit: RwSignal::new(String::new()),
            undo: RwSignal::new(Vec::new()),
        }
    }
}

/// A lane's control that keeps the keyboard focus across a redraw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaneControl {
    Clip,
    Gain,
    Pan,
}
