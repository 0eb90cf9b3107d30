//! Iterative Dawid–Skene estimation over a whole campaign.

use crate::accuracy::{PRIOR_CORRECT, PRIOR_WRONG};
use crate::{logit, sigmoid};

/// Outcome of [`dawid_skene`].
#[derive(Clone, Debug, PartialEq)]
pub struct DsResult {
    /// Posterior probability that each item is "present", indexed by item id.
    /// Gold items are exactly 1 or 0.
    pub item_present: Vec<f64>,
    /// Estimated accuracy of each annotator, indexed by annotator id. An
    /// annotator without labels gets the prior mean, 0.5.
    pub annotator_accuracy: Vec<f64>,
    /// Number of EM rounds performed (at most `max_iter`).
    pub iterations: u32,
}

/// Jointly estimates binary item labels and annotator accuracies with the
/// one-coin Dawid–Skene model, fitted by expectation–maximisation.
///
/// Each annotator `j` is modelled by a single accuracy `p_j`: the probability
/// that their label is right, whether the truth is "present" or "absent".
/// Items are "present" with a campaign-wide prior probability `π`, also
/// estimated. Unlike [`trust_weighted`](crate::trust_weighted), accuracies
/// need no gold: they are inferred from how annotators agree with the
/// emerging consensus, so an annotator who agrees with the reliable ones
/// gains weight and a random clicker loses it.
///
/// * `labels` holds `(item, annotator, present)` triples with dense ids below
///   `n_items` and `n_annotators`; "not sure" answers should simply be left
///   out.
/// * `gold` fixes the truth of some items. Their posterior stays at exactly
///   1 or 0 and their labels calibrate the annotators' accuracies, which
///   anchors the solution: without it the model is symmetric under swapping
///   "present" and "absent" and relies on the majority-vote start to pick the
///   right side.
/// * Iteration stops after `max_iter` rounds or once no item posterior moves
///   by more than `tol`.
///
/// Posteriors start from the majority vote (the share of "present" labels,
/// 0.5 for unlabelled items). Accuracy estimates are smoothed with the same
/// Beta(2, 2) prior as [`Accuracy::estimate`](crate::Accuracy::estimate), and
/// `π` with a uniform one, so that nothing reaches 0 or 1 and the log-odds
/// stay finite.
///
/// # Panics
///
/// If an item or annotator id is out of range.
pub fn dawid_skene(
    n_items: usize,
    n_annotators: usize,
    labels: &[(usize, usize, bool)],
    gold: &[(usize, bool)],
    max_iter: u32,
    tol: f64,
) -> DsResult {
    for &(item, annotator, _) in labels {
        assert!(item < n_items, "item id {item} out of range ({n_items} items)");
        assert!(annotator < n_annotators, "annotator id {annotator} out of range ({n_annotators} annotators)");
    }
    let mut fixed = vec![None; n_items];
    for &(item, truth) in gold {
        assert!(item < n_items, "gold item id {item} out of range ({n_items} items)");
        fixed[item] = Some(truth);
    }

    // Majority-vote start: share of "present" labels per item.
    let mut present_votes = vec![0u32; n_items];
    let mut votes = vec![0u32; n_items];
    for &(item, _, present) in labels {
        votes[item] += 1;
        present_votes[item] += u32::from(present);
    }
    let mut posterior: Vec<f64> = (0..n_items)
        .map(|i| match fixed[i] {
            Some(truth) => f64::from(u8::from(truth)),
            None if votes[i] == 0 => 0.5,
            None => f64::from(present_votes[i]) / f64::from(votes[i]),
        })
        .collect();

    let mut iterations = 0;
    let mut log_odds = vec![0.0; n_items];
    while iterations < max_iter {
        iterations += 1;
        let (accuracy, prevalence) = m_step(&posterior, n_annotators, labels);

        // E-step: log-odds of "present" for every item given the current
        // accuracies, summed over its labels.
        log_odds.fill(logit(prevalence));
        for &(item, annotator, present) in labels {
            let weight = logit(accuracy[annotator]);
            log_odds[item] += if present { weight } else { -weight };
        }
        let mut change: f64 = 0.0;
        for ((p, &lo), fixed) in posterior.iter_mut().zip(&log_odds).zip(&fixed) {
            if fixed.is_none() {
                let new = sigmoid(lo);
                change = change.max((new - *p).abs());
                *p = new;
            }
        }
        if change <= tol {
            break;
        }
    }

    // Re-estimate once more so that the reported accuracies are the ones
    // implied by the reported posteriors.
    let (annotator_accuracy, _) = m_step(&posterior, n_annotators, labels);
    DsResult { item_present: posterior, annotator_accuracy, iterations }
}

/// M-step: expected accuracy of each annotator and prevalence of "present",
/// given the current item posteriors.
fn m_step(posterior: &[f64], n_annotators: usize, labels: &[(usize, usize, bool)]) -> (Vec<f64>, f64) {
    let mut agreement = vec![0.0; n_annotators];
    let mut count = vec![0u32; n_annotators];
    for &(item, annotator, present) in labels {
        let p = posterior[item];
        agreement[annotator] += if present { p } else { 1.0 - p };
        count[annotator] += 1;
    }
    let accuracy = agreement
        .iter()
        .zip(&count)
        .map(|(&a, &n)| (a + PRIOR_CORRECT) / (f64::from(n) + PRIOR_CORRECT + PRIOR_WRONG))
        .collect();
    let prevalence = (posterior.iter().sum::<f64>() + 1.0) / (posterior.len() as f64 + 2.0);
    (accuracy, prevalence)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SplitMix64: tiny, seedable and good enough to simulate a crowd.
    struct SplitMix64(u64);

    impl SplitMix64 {
        fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        /// Uniform in [0, 1), from the top 53 bits.
        fn next_f64(&mut self) -> f64 {
            (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
        }

        /// Uniform in 0..n (the modulo bias is negligible for small n).
        fn below(&mut self, n: usize) -> usize {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// A simulated campaign: hidden truths and the labels annotators gave.
    struct Crowd {
        truth: Vec<bool>,
        labels: Vec<(usize, usize, bool)>,
    }

    /// Every item gets `per_item` labels from distinct annotators picked at
    /// random; annotator `j` answers correctly with probability `accuracy[j]`.
    fn simulate(seed: u64, n_items: usize, accuracy: &[f64], per_item: usize, prevalence: f64) -> Crowd {
        let mut rng = SplitMix64(seed);
        let truth: Vec<bool> = (0..n_items).map(|_| rng.next_f64() < prevalence).collect();
        let mut labels = Vec::new();
        let mut pool: Vec<usize> = (0..accuracy.len()).collect();
        for (item, &t) in truth.iter().enumerate() {
            // Partial Fisher–Yates shuffle: the first `per_item` are the raters.
            for k in 0..per_item {
                let pick = k + rng.below(pool.len() - k);
                pool.swap(k, pick);
            }
            for &annotator in &pool[..per_item] {
                let correct = rng.next_f64() < accuracy[annotator];
                labels.push((item, annotator, if correct { t } else { !t }));
            }
        }
        Crowd { truth, labels }
    }

    /// Items whose majority vote is wrong, in half-errors so that a tie
    /// (a coin flip) counts as half an error.
    fn majority_half_errors(crowd: &Crowd) -> usize {
        let mut balance = vec![0i32; crowd.truth.len()];
        for &(item, _, present) in &crowd.labels {
            balance[item] += if present { 1 } else { -1 };
        }
        balance
            .iter()
            .zip(&crowd.truth)
            .map(|(&b, &t)| match b {
                0 => 1,
                _ if (b > 0) == t => 0,
                _ => 2,
            })
            .sum()
    }

    /// Items on the wrong side of 0.5, in half-errors like the above.
    fn half_errors(posterior: &[f64], truth: &[bool]) -> usize {
        posterior
            .iter()
            .zip(truth)
            .map(|(&p, &t)| match p {
                0.5 => 1,
                _ if (p > 0.5) == t => 0,
                _ => 2,
            })
            .sum()
    }

    /// Fraction of each annotator's labels that match the hidden truth: what
    /// the accuracy estimates can at best recover from a finite sample.
    fn empirical_accuracy(crowd: &Crowd, n_annotators: usize) -> Vec<f64> {
        let mut right = vec![0u32; n_annotators];
        let mut total = vec![0u32; n_annotators];
        for &(item, annotator, present) in &crowd.labels {
            total[annotator] += 1;
            right[annotator] += u32::from(present == crowd.truth[item]);
        }
        right.iter().zip(&total).map(|(&r, &n)| f64::from(r) / f64::from(n)).collect()
    }

    /// Five reliable annotators (0.9) and three random clickers (0.5).
    const MIXED_CROWD: [f64; 8] = [0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.5, 0.5];

    #[test]
    fn beats_majority_on_a_full_crowd() {
        // Everybody labels all 200 items. Several seeds so that the test does
        // not hinge on one lucky draw.
        for seed in 1..=5 {
            let crowd = simulate(seed, 200, &MIXED_CROWD, 8, 0.4);
            let result = dawid_skene(200, 8, &crowd.labels, &[], 100, 1e-9);
            assert!(result.iterations < 100, "seed {seed}: no convergence");

            let ds = half_errors(&result.item_present, &crowd.truth);
            let majority = majority_half_errors(&crowd);
            assert!(ds < majority, "seed {seed}: {ds} vs majority {majority} half-errors");

            // 200 labels give a sampling standard error of about 0.02 (at 0.9)
            // to 0.035 (at 0.5), so ±0.07 of the generating accuracy is about
            // two standard errors; the estimate itself should track the
            // accuracy actually realised in the sample much more closely.
            let empirical = empirical_accuracy(&crowd, 8);
            for (j, &estimate) in result.annotator_accuracy.iter().enumerate() {
                let generating = MIXED_CROWD[j];
                assert!(
                    (estimate - generating).abs() <= 0.07,
                    "seed {seed}, annotator {j}: {estimate} vs {generating}"
                );
                assert!(
                    (estimate - empirical[j]).abs() <= 0.03,
                    "seed {seed}, annotator {j}: {estimate} vs realised {}",
                    empirical[j]
                );
            }
        }
    }

    #[test]
    fn beats_majority_on_a_sparse_crowd() {
        // The production setting: each item gets 5 labels from 8 annotators,
        // so an item may well draw more random clickers than reliable ones.
        for seed in 1..=5 {
            let crowd = simulate(seed, 200, &MIXED_CROWD, 5, 0.4);
            let result = dawid_skene(200, 8, &crowd.labels, &[], 100, 1e-9);

            let ds = half_errors(&result.item_present, &crowd.truth);
            let majority = majority_half_errors(&crowd);
            assert!(ds < majority, "seed {seed}: {ds} vs majority {majority} half-errors");

            // About 125 labels each, and the estimates inherit the errors of
            // the posteriors they are computed from: compare with the
            // realised accuracy, at the same tolerance as above.
            let empirical = empirical_accuracy(&crowd, 8);
            for (j, &estimate) in result.annotator_accuracy.iter().enumerate() {
                assert!(
                    (estimate - empirical[j]).abs() <= 0.07,
                    "seed {seed}, annotator {j}: {estimate} vs realised {}",
                    empirical[j]
                );
            }
        }
    }

    #[test]
    fn gold_items_keep_their_truth() {
        let crowd = simulate(42, 100, &MIXED_CROWD, 5, 0.4);
        let mut labels = crowd.labels.clone();
        // Item 0 is gold "absent" but every annotator said "present"; item 1
        // the other way round.
        labels.retain(|&(item, _, _)| item > 1);
        labels.extend((0..8).map(|j| (0, j, true)));
        labels.extend((0..8).map(|j| (1, j, false)));
        let gold = [(0, false), (1, true), (2, crowd.truth[2]), (3, crowd.truth[3])];

        let result = dawid_skene(100, 8, &labels, &gold, 100, 1e-9);
        for (item, truth) in gold {
            assert_eq!(result.item_present[item], f64::from(u8::from(truth)));
        }
        // Without the anchor the unanimous crowd would have won.
        let free = dawid_skene(100, 8, &labels, &[], 100, 1e-9);
        assert!(free.item_present[0] > 0.99 && free.item_present[1] < 0.01);
    }

    #[test]
    fn gold_overturns_a_misled_majority() {
        // Three of five annotators are systematically wrong (say, they
        // confuse two instruments). Majority voting, and Dawid–Skene started
        // from it, then settle on the mirror-image solution; 10 % gold
        // reveals who is reliable.
        let accuracy = [0.9, 0.9, 0.2, 0.2, 0.2];
        for seed in 1..=5 {
            let crowd = simulate(seed, 200, &accuracy, 5, 0.4);
            let gold: Vec<(usize, bool)> = (0..20).map(|i| (i, crowd.truth[i])).collect();

            let free = dawid_skene(200, 5, &crowd.labels, &[], 100, 1e-9);
            assert!(half_errors(&free.item_present, &crowd.truth) > 200);

            let anchored = dawid_skene(200, 5, &crowd.labels, &gold, 100, 1e-9);
            let errors = half_errors(&anchored.item_present, &crowd.truth);
            // Under 10 % of items; two 0.9 annotators outvoted by three 0.2
            // ones leave a few items undecidable even for the true model.
            assert!(errors < 2 * 20, "seed {seed}: {errors} half-errors");
            for (j, (&estimate, &generating)) in anchored.annotator_accuracy.iter().zip(&accuracy).enumerate() {
                assert!((estimate - generating).abs() <= 0.1, "seed {seed}, annotator {j}: {estimate} vs {generating}");
            }
        }
    }

    #[test]
    fn degenerate_inputs() {
        let empty = dawid_skene(0, 0, &[], &[], 10, 1e-9);
        assert!(empty.item_present.is_empty() && empty.annotator_accuracy.is_empty());

        // Item 2 and annotator 2 have no labels: the item falls back to the
        // estimated prevalence, the annotator to the prior mean.
        let labels = [(0, 0, true), (0, 1, true), (1, 0, false), (1, 1, false)];
        let result = dawid_skene(3, 3, &labels, &[], 100, 1e-12);
        assert_eq!(result.annotator_accuracy[2], 0.5);
        assert!(result.item_present[0] > 0.5 && result.item_present[1] < 0.5);
        let prevalence = (result.item_present[0] + result.item_present[1] + result.item_present[2] + 1.0) / 5.0;
        assert!((result.item_present[2] - prevalence).abs() < 1e-9);
    }

    #[test]
    fn zero_iterations_return_the_majority_start() {
        let labels = [(0, 0, true), (0, 1, true), (0, 2, false), (1, 0, false)];
        let result = dawid_skene(3, 3, &labels, &[(2, true)], 0, 1e-9);
        assert_eq!(result.iterations, 0);
        assert_eq!(result.item_present, vec![2.0 / 3.0, 0.0, 1.0]);
        // Accuracies match those posteriors: annotator 0 agrees 2/3 + 1,
        // annotator 1 agrees 2/3, annotator 2 agrees 1/3 (Beta(2, 2) smoothing).
        let expected = [(5.0 / 3.0 + 2.0) / 6.0, (2.0 / 3.0 + 2.0) / 5.0, (1.0 / 3.0 + 2.0) / 5.0];
        for (actual, expected) in result.annotator_accuracy.iter().zip(expected) {
            assert!((actual - expected).abs() < 1e-12, "{actual} vs {expected}");
        }
    }

    #[test]
    #[should_panic(expected = "annotator id 3 out of range")]
    fn rejects_unknown_annotator() {
        dawid_skene(1, 3, &[(0, 3, true)], &[], 10, 1e-9);
    }
}
