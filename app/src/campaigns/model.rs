//! What the campaign pages and the REST API exchange: campaigns, builds, tasks, and how a
//! source is cut into clips.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignInfo {
    pub id: Uuid,
    pub name: String,
    pub instructions: String,
    pub clip_seconds: f64,
    pub annotations_per_task: i32,
    pub instruments: Vec<String>,
    pub gold_rate: f64,
    pub stats_every: i32,
    pub is_open: bool,
    /// Share of each clip an annotator must hear before answering (0 = no minimum).
    #[serde(default)]
    pub min_listen_share: f64,
    pub created_at: String,
    pub tasks_total: u64,
    pub tasks_complete: u64,
}

/// A new campaign; everything but the name has a default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    pub name: String,
    #[serde(default)]
    pub instructions: String,
    pub clip_seconds: Option<f64>,
    pub annotations_per_task: Option<i32>,
    /// Instrument slugs; default: the whole taxonomy.
    pub instruments: Option<Vec<String>>,
    pub gold_rate: Option<f64>,
    pub stats_every: Option<i32>,
}

/// What an admin may change on an existing campaign; absent fields stay as they are. Anything
/// else (clip length, k, instruments: fixed by the tasks) is refused by name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignChanges {
    pub name: Option<String>,
    pub instructions: Option<String>,
    pub gold_rate: Option<f64>,
    pub stats_every: Option<i32>,
    pub is_open: Option<bool>,
    /// 0 (no minimum) to 1: the share of each clip to hear before an answer is taken.
    pub min_listen_share: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[serde(deny_unknown_fields)]
pub enum Sources {
    /// These audio ids.
    Audio { ids: Vec<Uuid> },
    /// Every upload, recording and mixdown of one user.
    User { user_id: Uuid },
    /// Every public upload, recording and mixdown.
    /// (A struct variant, so fields beside `kind` are refused like everywhere else.)
    Public {},
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Offsets spread evenly over each source.
    Even,
    /// Offsets drawn from a generator seeded with the job's seed and the source id.
    Random,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildRequest {
    pub sources: Sources,
    pub strategy: Strategy,
    /// Clips per source; default: as many non-overlapping clips as fit.
    pub clips_per_source: Option<u32>,
    #[serde(default)]
    pub seed: u64,
    /// Clips quieter than this (RMS, dBFS) are skipped as silent. Default −50.
    pub silence_threshold_db: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BuildJobInfo {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub status: String,
    pub sources_total: i32,
    pub sources_done: i32,
    pub clips_made: i32,
    pub clips_existing: i32,
    pub clips_skipped: i32,
    pub skipped_reasons: BTreeMap<String, u32>,
    pub error: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
}

/// Clip start offsets (in frames) for one source. Deterministic for the same inputs, so a rebuild
/// finds the same clips. Returns no offsets when the source is shorter than a clip.
pub fn clip_offsets(
    source_frames: u64,
    clip_frames: u64,
    strategy: Strategy,
    per_source: Option<u32>,
    seed: u64,
    source_key: u128,
) -> Vec<u64> {
    if clip_frames == 0 || source_frames < clip_frames {
        return Vec::new();
    }
    let room = source_frames - clip_frames;
    let fitting = source_frames / clip_frames;
    match strategy {
        Strategy::Even => {
            let n = per_source.map(u64::from).unwrap_or(fitting).max(1);
            if n == 1 {
                return vec![room / 2];
            }
            (0..n).map(|i| room * i / (n - 1)).collect::<std::collections::BTreeSet<_>>().into_iter().collect()
        }
        Strategy::Random => {
            let n = per_source.map(u64::from).unwrap_or(fitting).max(1);
            // SplitMix64 over (seed, source): stable across platforms and releases.
            let mut state = seed ^ (source_key as u64) ^ ((source_key >> 64) as u64).rotate_left(17);
            let mut next = || {
                state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^ (z >> 31)
            };
            let mut offsets: Vec<u64> = (0..n).map(|_| next() % (room + 1)).collect();
            offsets.sort_unstable();
            offsets.dedup();
            offsets
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_source_refuses_unknown_fields() {
        let parse = |v: serde_json::Value| serde_json::from_value::<Sources>(v);
        assert_eq!(parse(serde_json::json!({"kind": "public"})).unwrap(), Sources::Public {});
        for bogus in [
            serde_json::json!({"kind": "public", "bogus": 1}),
            serde_json::json!({"kind": "user", "user_id": Uuid::nil(), "bogus": 1}),
            serde_json::json!({"kind": "audio", "ids": [], "bogus": 1}),
        ] {
            assert!(parse(bogus.clone()).unwrap_err().to_string().contains("bogus"), "{bogus}");
        }
    }

    #[test]
    fn even_offsets_cover_the_source_end_to_end() {
        // 35 s source, 10 s clips at 1 Hz "frames": 3 fit, spread from 0 to 25.
        assert_eq!(clip_offsets(35, 10, Strategy::Even, None, 0, 1), vec![0, 12, 25]);
        assert_eq!(clip_offsets(35, 10, Strategy::Even, Some(2), 0, 1), vec![0, 25]);
        assert_eq!(clip_offsets(35, 10, Strategy::Even, Some(1), 0, 1), vec![12]);
        assert_eq!(clip_offsets(10, 10, Strategy::Even, None, 0, 1), vec![0]);
    }

    #[test]
    fn a_source_shorter_than_a_clip_gives_no_clip() {
        assert!(clip_offsets(9, 10, Strategy::Even, None, 0, 1).is_empty());
        assert!(clip_offsets(9, 10, Strategy::Random, Some(3), 0, 1).is_empty());
    }

    #[test]
    fn random_offsets_are_seeded_and_stay_inside() {
        let a = clip_offsets(441_000, 44_100, Strategy::Random, Some(4), 7, 99);
        assert_eq!(a, clip_offsets(441_000, 44_100, Strategy::Random, Some(4), 7, 99));
        assert_ne!(a, clip_offsets(441_000, 44_100, Strategy::Random, Some(4), 8, 99));
        assert_ne!(a, clip_offsets(441_000, 44_100, Strategy::Random, Some(4), 7, 100));
        assert!(a.iter().all(|&o| o + 44_100 <= 441_000));
        assert!(a.windows(2).all(|w| w[0] < w[1]));
    }
}
