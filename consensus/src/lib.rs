//! Aggregation of crowd annotations.
//!
//! Annotators answer, for each instrument of a clip, whether it is
//! [`Answer::Present`], [`Answer::Absent`] or whether they are
//! [`Answer::Unsure`]. This crate turns those answers into estimates:
//!
//! * [`majority`]: plain vote counting for one (task, instrument);
//! * [`Accuracy`]: an annotator's accuracy on gold tasks, smoothed by a
//!   Beta prior;
//! * [`trust_weighted`]: posterior probability of presence given answers
//!   from annotators of known accuracy;
//! * [`dawid_skene`]: joint estimation of item labels and annotator
//!   accuracies over a whole campaign, optionally anchored by gold items;
//! * [`krippendorff_alpha_nominal`]: chance-corrected inter-annotator
//!   agreement.
//!
//! ```
//! use consensus::{Accuracy, Answer, majority, trust_weighted};
//!
//! let answers = [Answer::Present, Answer::Absent, Answer::Unsure];
//! assert_eq!(majority(&answers).label, None); // 1 vs 1: a tie
//!
//! // The same answers, weighted by what gold tasks say about each annotator.
//! let mut veteran = Accuracy::default();
//! for _ in 0..16 {
//!     veteran.record(Answer::Present, true);
//! }
//! let newcomer = Accuracy::default();
//! let weighted = [
//!     (Answer::Present, veteran.estimate()), // 18/20 = 0.9
//!     (Answer::Absent, newcomer.estimate()), // 0.5: carries no weight
//! ];
//! assert!((trust_weighted(&weighted, 0.5) - 0.9).abs() < 1e-12);
//! ```
//!
//! Everything is plain `f64` arithmetic without dependencies, so the same
//! code runs on the server and in the browser.

mod accuracy;
mod dawid_skene;
mod krippendorff;
mod majority;

pub use accuracy::{Accuracy, trust_weighted};
pub use dawid_skene::{DsResult, dawid_skene};
pub use krippendorff::krippendorff_alpha_nominal;
pub use majority::{Majority, majority};

/// One annotator's answer about one instrument in one clip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Answer {
    /// The instrument is audible in the clip.
    Present,
    /// The instrument is not audible in the clip.
    Absent,
    /// The annotator could not tell; counts as an abstention everywhere.
    Unsure,
}

impl Answer {
    /// The binary decision carried by the answer, `None` for [`Answer::Unsure`].
    pub fn decided(self) -> Option<bool> {
        match self {
            Answer::Present => Some(true),
            Answer::Absent => Some(false),
            Answer::Unsure => None,
        }
    }
}

/// Logistic function, the inverse of the log-odds transform.
fn sigmoid(log_odds: f64) -> f64 {
    // Two branches so that `exp` never overflows for large |log_odds|.
    if log_odds >= 0.0 {
        1.0 / (1.0 + (-log_odds).exp())
    } else {
        let e = log_odds.exp();
        e / (1.0 + e)
    }
}

/// Log-odds of a probability strictly between 0 and 1.
fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}
