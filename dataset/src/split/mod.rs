//! The train/test split: seeded, grouped and stratified, as OpenMIC-2018's.
//!
//! Two clips of one group (a recording, an uploader, a composition or an artist, as the release
//! chose) are always on the same side, or a model could be scored on what it memorised; and every
//! instrument's positive rate in train and in test stays within a tolerance of its rate over all
//! samples, or scores on the test split would not say much about the whole.
//!
//! The split is a pure function of the samples' groups, their labels and the parameters: the
//! random draws come from ChaCha8 through a shuffle written here (not `rand`'s, whose algorithms
//! may change), groups are taken in sorted order so the samples' order does not matter, and the
//! floating-point decisions use only IEEE-754 basic operations in a fixed order, so a release
//! rebuilt anywhere, at any time, gets the same split.
//!
//! The search: each seeded attempt shuffles the groups, deals them out greedily (groups holding
//! the rarest classes first, each to the side whose expected share of every instrument's
//! positives and negatives it fills best, within the size window) and then moves single groups
//! across while that lowers the total excess over the tolerance (then the sum of squared
//! deviations). The first attempt within the tolerance is the split; when none is and there are
//! few groups, every assignment is tried.
use std::collections::BTreeMap;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use thiserror::Error;

use crate::labels::{self, ParamsError};
use crate::model::{ClassCounts, InstrumentPrevalence, Label, Params, Prevalence, Sample};

/// Seeded attempts: as many as fit in [`WORK`] (one unit per group, instrument and pass, the
/// deal counting as one), within these bounds; small inputs get more tries since each is cheap.
/// Attempt `k` draws from ChaCha8 stream `k` of the generator seeded with `params.seed`. These
/// numbers decide the split whenever a seed's first attempt fails, so changing any of them
/// changes rebuilt releases.
const MIN_ATTEMPTS: u64 = 16;
const MAX_ATTEMPTS: u64 = 256;
const WORK: u64 = 1 << 22;
/// Up to this many groups, every assignment is tried when the seeded attempts fail, so a small
/// release is refused only when no split meets the tolerance.
const EXHAUSTIVE_GROUPS: usize = 16;
/// Improvement passes over the groups per attempt; each is linear in the input.
const PASSES: usize = 8;
/// Rates are ratios of integers: a deviation equal to the tolerance in exact arithmetic must
/// count as met whatever the rounding.
const SLACK: f64 = 1e-9;
/// Deviation charged to a side without any known label of an instrument known at least twice
/// overall (its rate is undefined): beyond any real deviation and any tolerance, both ≤ 1.
const UNDEFINED: f64 = 2.0;
/// Changes of the objective smaller than this are rounding, not improvement.
const EPSILON: f64 = 1e-12;

/// Which side each sample is on, and what that gives per instrument.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// Per sample, in the order given: `true` = test.
    pub test: Vec<bool>,
    pub prevalence: Prevalence,
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum SplitError {
    #[error(transparent)]
    Params(#[from] ParamsError),
    #[error("there are no samples to split: no clip matched the release's parameters")]
    NoSamples,
    #[error("labels do not match the samples: {0}")]
    LabelShape(String),
    #[error(
        "all {samples} samples belong to the group {group:?}, and a group is never split between \
         train and test, so one side would be empty: group by a finer key or include other sources"
    )]
    OneGroup { group: String, samples: usize },
    #[error(
        "cannot keep {instrument:?} within {} of its overall positive rate {}: best split found \
         has train {}, test {} — raise the tolerance, add annotations, or move the test fraction \
         nearer 50%",
        pct(tolerance),
        pct(all),
        side(train),
        side(test)
    )]
    Prevalence { instrument: String, all: f64, train: Option<f64>, test: Option<f64>, tolerance: f64 },
}

fn pct(rate: &f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

fn side(rate: &Option<f64>) -> String {
    rate.as_ref().map_or_else(|| "without any known label".to_owned(), pct)
}

/// Splits `samples` (with `labels[k]` the labels of `samples[k]`, as [`labels::decide`] gives
/// them) into train and test.
///
/// Guarantees, when it returns a split:
/// * samples with the same `group` are on the same side;
/// * both sides are non-empty, and the test side has `T ± m` samples, where
///   `T = round(test_fraction · n)` clamped to `1..=n-1` and `m` is the largest group's size;
/// * every instrument with a known label has its positive rate in train and in test within
///   `tolerance` of its overall rate (a side without any known label of it is only allowed when
///   it has a single known label overall);
/// * the same samples (in any order), labels and parameters give the same split.
pub fn split(params: &Params, samples: &[Sample], labels: &[Vec<Label>]) -> Result<Split, SplitError> {
    labels::check(params)?;
    if samples.is_empty() {
        return Err(SplitError::NoSamples);
    }
    if labels.len() != samples.len() {
        return Err(SplitError::LabelShape(format!("{} samples but {} rows of labels", samples.len(), labels.len())));
    }
    let width = params.instruments.len();
    if let Some((k, row)) = labels.iter().enumerate().find(|(_, row)| row.len() != width) {
        return Err(SplitError::LabelShape(format!(
            "sample {:?} has {} labels for {width} instruments",
            samples[k].key,
            row.len()
        )));
    }
    let mut by_group: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (k, sample) in samples.iter().enumerate() {
        by_group.entry(sample.group.as_str()).or_default().push(k);
    }
    if by_group.len() < 2 {
        let group = samples[0].group.clone();
        return Err(SplitError::OneGroup { group, samples: samples.len() });
    }
    let members: Vec<&[usize]> = by_group.values().map(Vec::as_slice).collect();
    let problem = Problem::new(params, &members, labels);

    let best = problem.search(params.seed);
    if best.excess > 0.0 {
        return Err(problem.error(params, &best));
    }
    let mut test = vec![false; samples.len()];
    for (g, group) in members.iter().enumerate() {
        for &k in *group {
            test[k] = best.test[g];
        }
    }
    let prevalence = prevalence(params, labels, &test);
    Ok(Split { test, prevalence })
}

/// Counts per side for the report, from the labels themselves.
fn prevalence(params: &Params, labels: &[Vec<Label>], test: &[bool]) -> Prevalence {
    let count = |counts: &mut ClassCounts, label: &Label| {
        if label.positive() {
            counts.positive += 1;
        } else if label.known {
            counts.negative += 1;
        } else {
            counts.unknown += 1;
        }
    };
    let instruments = params
        .instruments
        .iter()
        .enumerate()
        .map(|(i, instrument)| {
            let (mut all, mut train, mut test_counts) = Default::default();
            for (row, &is_test) in labels.iter().zip(test) {
                count(&mut all, &row[i]);
                count(if is_test { &mut test_counts } else { &mut train }, &row[i]);
            }
            InstrumentPrevalence { instrument: instrument.clone(), all, train, test: test_counts }
        })
        .collect();
    let test_samples = test.iter().filter(|&&t| t).count();
    Prevalence {
        train_samples: (test.len() - test_samples) as u32,
        test_samples: test_samples as u32,
        tolerance: params.tolerance,
        instruments,
    }
}

/// The groups' counts, computed once: every attempt works on these alone, so its cost is
/// linear in groups × instruments, not samples.
struct Problem {
    instruments: usize,
    samples: usize,
    /// Target test size.
    target: usize,
    /// Largest group: how far from the target the test size may end.
    window: usize,
    tolerance: f64,
    sizes: Vec<usize>,
    /// Per group × instrument (`g * instruments + i`): known positives and known labels.
    pos: Vec<u32>,
    known: Vec<u32>,
    total_pos: Vec<u32>,
    total_known: Vec<u32>,
    all_rate: Vec<f64>,
    /// Per group: how many samples overall share its rarest (instrument, positive or negative)
    /// class; rare classes are dealt first, while both sides can still take them.
    rarity: Vec<u32>,
}

/// One side while the groups are dealt.
struct Side {
    /// Its expected share of everything.
    share: f64,
    target: usize,
    size: usize,
    pos: Vec<u32>,
    known: Vec<u32>,
}

/// One assignment of the groups and its score.
#[derive(Clone)]
struct State {
    test: Vec<bool>,
    test_size: usize,
    test_pos: Vec<u32>,
    test_known: Vec<u32>,
    deviation: Vec<f64>,
    /// Sum over instruments of how far the deviation exceeds the tolerance: 0 when met.
    excess: f64,
    /// Sum of squared deviations, plus the squared relative miss of the test size.
    spread: f64,
}

impl State {
    fn better_than(&self, other: &State) -> bool {
        self.excess < other.excess - EPSILON
            || ((self.excess - other.excess).abs() <= EPSILON && self.spread < other.spread - EPSILON)
    }
}

impl Problem {
    fn new(params: &Params, members: &[&[usize]], labels: &[Vec<Label>]) -> Problem {
        let instruments = params.instruments.len();
        let samples = labels.len();
        let groups = members.len();
        let mut pos = vec![0u32; groups * instruments];
        let mut known = vec![0u32; groups * instruments];
        let mut sizes = Vec::with_capacity(groups);
        for (g, group) in members.iter().enumerate() {
            sizes.push(group.len());
            for &k in *group {
                for (i, label) in labels[k].iter().enumerate() {
                    known[g * instruments + i] += u32::from(label.known);
                    pos[g * instruments + i] += u32::from(label.positive());
                }
            }
        }
        let mut total_pos = vec![0u32; instruments];
        let mut total_known = vec![0u32; instruments];
        for g in 0..groups {
            for i in 0..instruments {
                total_pos[i] += pos[g * instruments + i];
                total_known[i] += known[g * instruments + i];
            }
        }
        let all_rate = (0..instruments)
            .map(|i| if total_known[i] == 0 { 0.0 } else { ratio(total_pos[i], total_known[i]) })
            .collect();
        let rarity = (0..groups)
            .map(|g| {
                (0..instruments)
                    .flat_map(|i| {
                        let (p, k) = (pos[g * instruments + i], known[g * instruments + i]);
                        [(p > 0).then_some(total_pos[i]), (k > p).then_some(total_known[i] - total_pos[i])]
                    })
                    .flatten()
                    .min()
                    .unwrap_or(u32::MAX)
            })
            .collect();
        let target = ((params.test_fraction * samples as f64).round() as usize).clamp(1, samples - 1);
        Problem {
            instruments,
            samples,
            target,
            window: sizes.iter().copied().max().unwrap_or(1),
            tolerance: params.tolerance,
            sizes,
            pos,
            known,
            total_pos,
            total_known,
            all_rate,
            rarity,
        }
    }

    /// The larger of the train and test deviations of instrument `i` from its overall rate,
    /// given the test side's counts.
    fn deviation(&self, i: usize, test_pos: u32, test_known: u32) -> f64 {
        let (total_pos, total_known) = (self.total_pos[i], self.total_known[i]);
        if total_known == 0 {
            return 0.0;
        }
        let side = |pos: u32, known: u32| match known {
            0 if total_known >= 2 => UNDEFINED,
            0 => 0.0,
            _ => (ratio(pos, known) - self.all_rate[i]).abs(),
        };
        side(test_pos, test_known).max(side(total_pos - test_pos, total_known - test_known))
    }

    fn excess(&self, deviation: f64) -> f64 {
        if deviation <= self.tolerance + SLACK { 0.0 } else { deviation - self.tolerance }
    }

    fn size_miss(&self, test_size: usize) -> f64 {
        let miss = test_size.abs_diff(self.target) as f64 / self.samples as f64;
        miss * miss
    }

    /// Whether a test side of `size` samples keeps the guarantees on size.
    fn size_allowed(&self, size: usize) -> bool {
        size >= 1 && size < self.samples && size.abs_diff(self.target) <= self.window
    }

    /// The first seeded attempt within the tolerance; failing that, on few groups the first
    /// assignment within it in a fixed order; failing that, the best assignment found (the
    /// earliest among equals).
    fn search(&self, seed: u64) -> State {
        let groups = self.sizes.len() as u64;
        let per_attempt = groups * self.instruments as u64 * (PASSES as u64 + 1);
        let attempts = (WORK / per_attempt.max(1)).clamp(MIN_ATTEMPTS, MAX_ATTEMPTS);
        let mut best: Option<State> = None;
        for attempt in 0..attempts {
            let state = self.attempt(seed, attempt);
            if state.excess == 0.0 {
                return state;
            }
            if best.as_ref().is_none_or(|b| state.better_than(b)) {
                best = Some(state);
            }
        }
        let best = best.expect("at least one attempt");
        if self.sizes.len() <= EXHAUSTIVE_GROUPS {
            let every = self.exhaustive();
            if every.better_than(&best) {
                return every;
            }
        }
        best
    }

    /// Every assignment with an allowed test size, in Gray-code order (each step moves one group,
    /// so each costs one group's update); the first within the tolerance, or else the best.
    fn exhaustive(&self) -> State {
        let n = self.instruments;
        let groups = self.sizes.len();
        let mut state = self.state(vec![false; groups], 0, vec![0; n], vec![0; n]);
        let mut best: Option<State> = None;
        for step in 1u64..1 << groups {
            self.flip(&mut state, step.trailing_zeros() as usize);
            if !self.size_allowed(state.test_size) {
                continue;
            }
            self.rescore(&mut state);
            if state.excess == 0.0 {
                return state;
            }
            if best.as_ref().is_none_or(|b| state.better_than(b)) {
                best = Some(state.clone());
            }
        }
        best.expect("two groups or more always allow a size")
    }

    /// Moves group `g` to the other side, counts only.
    fn flip(&self, state: &mut State, g: usize) {
        let n = self.instruments;
        let to_test = !state.test[g];
        state.test[g] = to_test;
        for i in 0..n {
            let (p, k) = (self.pos[g * n + i], self.known[g * n + i]);
            if to_test {
                state.test_pos[i] += p;
                state.test_known[i] += k;
            } else {
                state.test_pos[i] -= p;
                state.test_known[i] -= k;
            }
        }
        if to_test {
            state.test_size += self.sizes[g];
        } else {
            state.test_size -= self.sizes[g];
        }
    }

    fn attempt(&self, seed: u64, attempt: u64) -> State {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(attempt);
        let mut order: Vec<usize> = (0..self.sizes.len()).collect();
        shuffle(&mut rng, &mut order);
        // Stable: groups sharing a rarity keep the shuffled order among themselves.
        order.sort_by_key(|&g| self.rarity[g]);
        let mut state = self.deal(&order);
        for _ in 0..PASSES {
            if state.excess == 0.0 || !self.improve(&mut state, &order) {
                break;
            }
        }
        state
    }

    /// Deals the groups in `order`, each to the side whose expected share (test fraction of
    /// every instrument's positives and negatives, and of the samples) it fills better.
    ///
    /// Neither side may exceed its expected size by more than the largest group: one of them can
    /// always take the next group (both full would mean more samples than there are), and when
    /// both are within that bound at the end, the test size is within it of its target.
    fn deal(&self, order: &[usize]) -> State {
        let n = self.instruments;
        let fraction = self.target as f64 / self.samples as f64;
        let new_side = |share: f64, target: usize| Side { share, target, size: 0, pos: vec![0; n], known: vec![0; n] };
        let mut test = new_side(fraction, self.target);
        let mut train = new_side(1.0 - fraction, self.samples - self.target);
        let mut in_test = vec![false; self.sizes.len()];
        for (step, &g) in order.iter().enumerate() {
            let size = self.sizes[g];
            let to_test = if step + 1 == order.len() && (test.size == 0 || train.size == 0) {
                test.size == 0
            } else if test.size + size > test.target + self.window {
                false
            } else if train.size + size > train.target + self.window {
                true
            } else {
                let (cost_test, cost_train) = (self.cost(&test, g), self.cost(&train, g));
                if cost_test != cost_train {
                    cost_test < cost_train
                } else {
                    // Even: the side missing the larger share of its size, compared exactly.
                    // In u64: a usize product could overflow on 32-bit targets and change the split.
                    let missing = |side: &Side| side.target.saturating_sub(side.size) as u64;
                    missing(&test) * train.target as u64 > missing(&train) * test.target as u64
                }
            };
            in_test[g] = to_test;
            let side = if to_test { &mut test } else { &mut train };
            side.size += size;
            for i in 0..n {
                side.pos[i] += self.pos[g * n + i];
                side.known[i] += self.known[g * n + i];
            }
        }
        self.state(in_test, test.size, test.pos, test.known)
    }

    /// How much worse `side` would be at its expected share of every instrument's positives and
    /// negatives, and of the samples, with group `g` than without: negative when `g` fills a
    /// need. Instruments weigh by their known labels, as their rates do.
    fn cost(&self, side: &Side, g: usize) -> f64 {
        let n = self.instruments;
        let fill = |need: f64, amount: u32| (need - f64::from(amount)).abs() - need.abs();
        let mut cost = 0.0;
        for i in 0..n {
            let (p, k) = (self.pos[g * n + i], self.known[g * n + i]);
            if k == 0 {
                continue;
            }
            let all_neg = self.total_known[i] - self.total_pos[i];
            let need_pos = side.share * f64::from(self.total_pos[i]) - f64::from(side.pos[i]);
            let need_neg = side.share * f64::from(all_neg) - f64::from(side.known[i] - side.pos[i]);
            cost += (fill(need_pos, p) + fill(need_neg, k - p)) / f64::from(self.total_known[i]);
        }
        let need_size = side.target as f64 - side.size as f64;
        cost + ((need_size - self.sizes[g] as f64).abs() - need_size.abs()) / self.samples as f64
    }

    fn state(&self, test: Vec<bool>, test_size: usize, test_pos: Vec<u32>, test_known: Vec<u32>) -> State {
        let mut state =
            State { test, test_size, test_pos, test_known, deviation: Vec::new(), excess: 0.0, spread: 0.0 };
        self.rescore(&mut state);
        state
    }

    /// Recomputes the deviations and the objective from the counts.
    fn rescore(&self, state: &mut State) {
        state.deviation =
            (0..self.instruments).map(|i| self.deviation(i, state.test_pos[i], state.test_known[i])).collect();
        state.excess = state.deviation.iter().map(|&d| self.excess(d)).sum();
        state.spread = state.deviation.iter().map(|&d| d * d).sum::<f64>() + self.size_miss(state.test_size);
    }

    /// One pass moving single groups across whenever that improves the objective; whether any
    /// did. Stops as soon as the tolerance is met.
    fn improve(&self, state: &mut State, order: &[usize]) -> bool {
        let n = self.instruments;
        let mut moved = false;
        for &g in order {
            let to_test = !state.test[g];
            let size = self.sizes[g];
            let new_size = if to_test { state.test_size + size } else { state.test_size - size };
            if !self.size_allowed(new_size) {
                continue;
            }
            let (mut d_excess, mut d_spread) = (0.0, self.size_miss(new_size) - self.size_miss(state.test_size));
            for i in 0..n {
                let (p, k) = (self.pos[g * n + i], self.known[g * n + i]);
                if k == 0 {
                    continue;
                }
                let (tp, tk) = if to_test {
                    (state.test_pos[i] + p, state.test_known[i] + k)
                } else {
                    (state.test_pos[i] - p, state.test_known[i] - k)
                };
                let (old, new) = (state.deviation[i], self.deviation(i, tp, tk));
                d_excess += self.excess(new) - self.excess(old);
                d_spread += new * new - old * old;
            }
            if d_excess < -EPSILON || (d_excess.abs() <= EPSILON && d_spread < -EPSILON) {
                self.flip(state, g);
                self.rescore(state);
                moved = true;
                if state.excess == 0.0 {
                    break;
                }
            }
        }
        moved
    }

    /// The error for the best split found: its worst instrument.
    fn error(&self, params: &Params, best: &State) -> SplitError {
        let worst =
            (0..self.instruments).fold(0, |worst, i| if best.deviation[i] > best.deviation[worst] { i } else { worst });
        let rate = |pos: u32, known: u32| (known > 0).then(|| ratio(pos, known));
        let (tp, tk) = (best.test_pos[worst], best.test_known[worst]);
        SplitError::Prevalence {
            instrument: params.instruments[worst].clone(),
            all: self.all_rate[worst],
            train: rate(self.total_pos[worst] - tp, self.total_known[worst] - tk),
            test: rate(tp, tk),
            tolerance: self.tolerance,
        }
    }
}

fn ratio(numerator: u32, denominator: u32) -> f64 {
    f64::from(numerator) / f64::from(denominator)
}

/// A uniform draw from `0..bound` (`bound ≥ 1`) by rejection: the lowest `2^64 mod bound` raw
/// values are refused, so the accepted ones are a whole number of copies of `0..bound` and
/// `x % bound` is exactly uniform. Fewer than half of the draws are refused, whatever the bound.
fn below(rng: &mut ChaCha8Rng, bound: u64) -> u64 {
    let refused = bound.wrapping_neg() % bound;
    loop {
        let x = rng.next_u64();
        if x >= refused {
            return x % bound;
        }
    }
}

/// Fisher–Yates: position `i`, from the last down, takes a uniform pick among `0..=i`.
fn shuffle<T>(rng: &mut ChaCha8Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = below(rng, i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests;
