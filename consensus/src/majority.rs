//! Plain vote counting.

use crate::Answer;

/// Majority estimate for one (task, instrument).
///
/// Unsure answers are counted but abstain: every ratio below is taken over
/// the *decided* answers (present + absent) only, so "not sure" neither
/// supports nor contradicts presence.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Majority {
    /// Number of [`Answer::Present`].
    pub present: u32,
    /// Number of [`Answer::Absent`].
    pub absent: u32,
    /// Number of [`Answer::Unsure`].
    pub unsure: u32,
    /// Share of "present" among decided answers, `None` when nobody decided.
    pub relevance: Option<f64>,
    /// Majority label (`true` = present), `None` on a tie or when nobody decided.
    pub label: Option<bool>,
    /// Share of the decided answers that agree with the larger side, in
    /// `[0.5, 1]`; 0 when nobody decided.
    pub confidence: f64,
}

impl Majority {
    /// Number of decided (non-unsure) answers.
    pub fn decided(&self) -> u32 {
        self.present + self.absent
    }
}

/// Counts the answers given for one (task, instrument).
pub fn majority(answers: &[Answer]) -> Majority {
    let (mut present, mut absent, mut unsure) = (0u32, 0u32, 0u32);
    for answer in answers {
        match answer {
            Answer::Present => present += 1,
            Answer::Absent => absent += 1,
            Answer::Unsure => unsure += 1,
        }
    }
    let decided = present + absent;
    let (relevance, confidence) = if decided == 0 {
        (None, 0.0)
    } else {
        let decided = f64::from(decided);
        (Some(f64::from(present) / decided), f64::from(present.max(absent)) / decided)
    };
    Majority {
        present,
        absent,
        unsure,
        relevance,
        label: match present.cmp(&absent) {
            std::cmp::Ordering::Greater => Some(true),
            std::cmp::Ordering::Less => Some(false),
            // Also covers "nobody decided" (0 == 0).
            std::cmp::Ordering::Equal => None,
        },
        confidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Answer::{Absent, Present, Unsure};

    #[test]
    fn clear_majority() {
        let m = majority(&[Present, Present, Absent]);
        assert_eq!((m.present, m.absent, m.unsure), (2, 1, 0));
        assert_eq!(m.label, Some(true));
        assert_eq!(m.relevance, Some(2.0 / 3.0));
        assert_eq!(m.confidence, 2.0 / 3.0);
        assert_eq!(m.decided(), 3);

        let m = majority(&[Absent, Absent, Absent, Present]);
        assert_eq!(m.label, Some(false));
        assert_eq!(m.relevance, Some(0.25));
        assert_eq!(m.confidence, 0.75);
    }

    #[test]
    fn unsure_abstains() {
        // Two unsure answers do not outvote a single decided one.
        let m = majority(&[Unsure, Present, Unsure]);
        assert_eq!((m.present, m.absent, m.unsure), (1, 0, 2));
        assert_eq!(m.label, Some(true));
        assert_eq!(m.relevance, Some(1.0));
        assert_eq!(m.confidence, 1.0);
    }

    #[test]
    fn tie_has_no_label() {
        let m = majority(&[Present, Absent, Unsure, Absent, Present]);
        assert_eq!(m.label, None);
        assert_eq!(m.relevance, Some(0.5));
        assert_eq!(m.confidence, 0.5);
    }

    #[test]
    fn nobody_decided() {
        for answers in [&[][..], &[Unsure, Unsure]] {
            let m = majority(answers);
            assert_eq!(m.label, None);
            assert_eq!(m.relevance, None);
            assert_eq!(m.confidence, 0.0);
            assert_eq!(m.decided(), 0);
        }
    }
}
