//! Annotator accuracy measured on gold tasks, and answers weighted by it.

use crate::{Answer, logit, sigmoid};

/// Default Beta prior pseudo-counts for [`Accuracy::estimate`]: two virtual
/// correct and two virtual wrong answers, i.e. a newcomer starts at 0.5 and
/// needs a handful of gold answers before the estimate moves far from it.
pub(crate) const PRIOR_CORRECT: f64 = 2.0;
pub(crate) const PRIOR_WRONG: f64 = 2.0;

/// Accuracies are kept away from 0 and 1 in [`trust_weighted`]: a single
/// annotator with an estimated accuracy of exactly 1 would otherwise settle
/// every item alone, whatever everybody else says.
const MIN_ACCURACY: f64 = 0.05;
const MAX_ACCURACY: f64 = 0.95;

/// An annotator's record on gold tasks (tasks with a known answer).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Accuracy {
    /// Decided gold answers that matched the known truth.
    pub correct: u32,
    /// Decided gold answers in total.
    pub total: u32,
}

impl Accuracy {
    /// Posterior mean accuracy under the default Beta(2, 2) prior:
    /// `(correct + 2) / (total + 4)`, 0.5 for a newcomer.
    pub fn estimate(&self) -> f64 {
        self.estimate_with_prior(PRIOR_CORRECT, PRIOR_WRONG)
    }

    /// Posterior mean accuracy under a Beta(`a`, `b`) prior:
    /// `(correct + a) / (total + a + b)`.
    ///
    /// `a` and `b` act as virtual correct and wrong answers; they should be
    /// positive so that the estimate is defined for a newcomer.
    pub fn estimate_with_prior(&self, a: f64, b: f64) -> f64 {
        (f64::from(self.correct) + a) / (f64::from(self.total) + a + b)
    }

    /// Records one answer on a gold task whose true answer is `truth`
    /// (`true` = present).
    ///
    /// "Not sure" counts as neither right nor wrong: admitting doubt should
    /// not be punished like a wrong answer, nor rewarded like a right one.
    pub fn record(&mut self, answer: Answer, truth: bool) {
        if let Some(decided) = answer.decided() {
            self.total += 1;
            if decided == truth {
                self.correct += 1;
            }
        }
    }
}

/// Posterior probability that an instrument is present, given answers from
/// annotators of known accuracy.
///
/// This is the one-coin Dawid–Skene model with accuracies fixed (typically
/// from [`Accuracy::estimate`]): each annotator is right with probability
/// `p` whatever the truth, independently of the others. Starting from the
/// `prior` probability of presence, every "present" multiplies the odds by
/// `p / (1 − p)` and every "absent" by `(1 − p) / p`; unsure answers carry no
/// information. Accuracies are clamped to `[0.05, 0.95]` and an unknown (NaN)
/// accuracy is treated as 0.5, i.e. no evidence. An annotator below 0.5 is
/// taken to be systematically wrong, so their answers count in reverse.
///
/// `prior` is clamped to `[0, 1]`; the endpoints are absorbing (a prior of 0
/// or 1 is never revised).
pub fn trust_weighted(answers: &[(Answer, f64)], prior: f64) -> f64 {
    // Summing log-odds rather than multiplying odds keeps long answer lists
    // from overflowing.
    let evidence: f64 = answers
        .iter()
        .filter_map(|&(answer, accuracy)| {
            let decided = answer.decided()?;
            let p = if accuracy.is_nan() { 0.5 } else { accuracy.clamp(MIN_ACCURACY, MAX_ACCURACY) };
            let weight = logit(p);
            Some(if decided { weight } else { -weight })
        })
        .sum();
    let prior = prior.clamp(0.0, 1.0);
    if prior == 0.0 || prior == 1.0 {
        return prior;
    }
    sigmoid(logit(prior) + evidence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Answer::{Absent, Present, Unsure};

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn newcomer_is_a_coin_flip() {
        assert_eq!(Accuracy::default().estimate(), 0.5);
    }

    #[test]
    fn prior_dampens_small_samples() {
        let mut acc = Accuracy::default();
        acc.record(Present, true);
        // One lucky answer: (1 + 2) / (1 + 4), not 1.
        assert_eq!(acc, Accuracy { correct: 1, total: 1 });
        assert!(close(acc.estimate(), 0.6));

        let acc = Accuracy { correct: 9, total: 10 };
        assert!(close(acc.estimate(), 11.0 / 14.0));
        assert!(close(acc.estimate_with_prior(1.0, 1.0), 10.0 / 12.0));
        assert!(close(acc.estimate_with_prior(0.0, 0.0), 0.9));
    }

    #[test]
    fn record_scores_decided_answers_only() {
        let mut acc = Accuracy::default();
        acc.record(Absent, false); // right
        acc.record(Present, false); // wrong
        acc.record(Unsure, true); // neither
        acc.record(Absent, true); // wrong
        acc.record(Present, true); // right
        assert_eq!(acc, Accuracy { correct: 2, total: 4 });
        assert!(close(acc.estimate(), 0.5));
    }

    #[test]
    fn no_evidence_returns_prior() {
        assert!(close(trust_weighted(&[], 0.5), 0.5));
        assert!(close(trust_weighted(&[(Unsure, 0.9)], 0.3), 0.3));
        // A coin-flipping annotator says nothing either.
        assert!(close(trust_weighted(&[(Present, 0.5)], 0.3), 0.3));
        assert!(close(trust_weighted(&[(Present, f64::NAN)], 0.3), 0.3));
    }

    #[test]
    fn equal_annotators_disagreeing_cancel_out() {
        for p in [0.6, 0.8, 0.99] {
            for prior in [0.2, 0.5, 0.7] {
                let answers = [(Present, p), (Absent, p), (Unsure, 0.9)];
                assert!(close(trust_weighted(&answers, prior), prior));
            }
        }
    }

    #[test]
    fn stronger_annotator_wins() {
        // Odds 1 · (0.9 / 0.1) · (0.4 / 0.6) = 6, so P(present) = 6 / 7.
        let p = trust_weighted(&[(Present, 0.9), (Absent, 0.6)], 0.5);
        assert!(close(p, 6.0 / 7.0), "{p}");
        // Mirror image.
        let p = trust_weighted(&[(Absent, 0.9), (Present, 0.6)], 0.5);
        assert!(close(p, 1.0 / 7.0), "{p}");
        // Prior 0.2 (odds 1/4): odds 6/4, P = 0.6.
        let p = trust_weighted(&[(Present, 0.9), (Absent, 0.6)], 0.2);
        assert!(close(p, 0.6), "{p}");
    }

    #[test]
    fn agreeing_answers_accumulate() {
        // Three 0.8 "present": odds 4³ = 64, P = 64 / 65.
        let answers = [(Present, 0.8); 3];
        assert!(close(trust_weighted(&answers, 0.5), 64.0 / 65.0));
    }

    #[test]
    fn accuracies_are_clamped() {
        // A "perfect" annotator counts as 0.95, so others can still outvote them.
        assert!(close(trust_weighted(&[(Present, 1.0)], 0.5), 0.95));
        // An always-wrong annotator counts as 0.05: "present" is evidence of absence.
        assert!(close(trust_weighted(&[(Present, 0.0)], 0.5), 0.05));
        // 0.95 (odds 19) against two 0.9 (odds 9 each): odds 19 / 81, P = 19 / 100.
        let answers = [(Present, 1.0), (Absent, 0.9), (Absent, 0.9)];
        assert!(close(trust_weighted(&answers, 0.5), 19.0 / 100.0));
    }

    #[test]
    fn extreme_priors_are_absorbing() {
        let answers = [(Present, 0.9); 5];
        assert_eq!(trust_weighted(&answers, 0.0), 0.0);
        assert_eq!(trust_weighted(&[(Absent, 0.9)], 1.0), 1.0);
        assert_eq!(trust_weighted(&answers, -3.0), 0.0);
    }

    #[test]
    fn long_lists_do_not_overflow() {
        let answers = vec![(Present, 0.95); 10_000];
        assert_eq!(trust_weighted(&answers, 0.5), 1.0);
        let answers = vec![(Absent, 0.95); 10_000];
        assert_eq!(trust_weighted(&answers, 0.5), 0.0);
    }
}
