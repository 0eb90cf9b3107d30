//! Deciding each (sample, instrument) label from the annotators' answers, and checking a
//! release's parameters before anything is compiled.
//!
//! A label is a relevance (the probability that the instrument is present) with a mask, as
//! OpenMIC-2018's `Y_true` / `Y_mask`: the crowd's answers are kept as a probability rather than
//! forced to 0 or 1, and a label the crowd did not settle with enough confidence is masked rather
//! than guessed, so a model trained on the release is never taught a coin flip.
use thiserror::Error;

use crate::model::{Answer, Label, LabelRule, Params, Sample};

/// Why a release's parameters are refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ParamsError {
    #[error("the release has no instrument: choose at least one class to label")]
    NoInstruments,
    #[error("the instrument {0:?} is listed twice: each class is one column of the labels")]
    DuplicateInstrument(String),
    #[error(
        "the threshold must be above 50% and at most 100% (the confidence a label needs to be \
         known; at 50% a tie would count as decided), got {0}"
    )]
    Threshold(f64),
    #[error(
        "the test fraction must be strictly between 0 and 1 (the share of samples held out for \
         testing; both splits need samples), got {0}"
    )]
    TestFraction(f64),
    #[error(
        "the tolerance must be between 0 and 1 (how far an instrument's positive rate in train or \
         test may be from its overall rate), got {0}"
    )]
    Tolerance(f64),
    #[error("the minimum number of annotations must be at least 1 (a task without answers has no label)")]
    MinAnnotations,
}

/// Checks the parameters that the labels and the split depend on.
///
/// The comparisons are written so that NaN fails every one of them: a NaN threshold or fraction
/// would otherwise slip through and silently mask every label or empty a split.
pub fn check(params: &Params) -> Result<(), ParamsError> {
    if params.instruments.is_empty() {
        return Err(ParamsError::NoInstruments);
    }
    let mut seen = std::collections::BTreeSet::new();
    for instrument in &params.instruments {
        if !seen.insert(instrument.as_str()) {
            return Err(ParamsError::DuplicateInstrument(instrument.clone()));
        }
    }
    if !(params.threshold > 0.5 && params.threshold <= 1.0) {
        return Err(ParamsError::Threshold(params.threshold));
    }
    if !(params.test_fraction > 0.0 && params.test_fraction < 1.0) {
        return Err(ParamsError::TestFraction(params.test_fraction));
    }
    if !(params.tolerance >= 0.0 && params.tolerance <= 1.0) {
        return Err(ParamsError::Tolerance(params.tolerance));
    }
    if params.min_annotations == Some(0) {
        return Err(ParamsError::MinAnnotations);
    }
    Ok(())
}

/// The labels of one sample, one per instrument of `params.instruments`, in that order.
///
/// A response that lists an instrument more than once counts once, with its first answer: one
/// annotator is one vote.
pub fn decide(params: &Params, sample: &Sample) -> Vec<Label> {
    params.instruments.iter().map(|instrument| decide_one(params, sample, instrument)).collect()
}

fn decide_one(params: &Params, sample: &Sample, instrument: &str) -> Label {
    let answers: Vec<(Answer, f64)> = sample
        .responses
        .iter()
        .filter_map(|response| {
            let (_, answer) = response.answers.iter().find(|(slug, _)| slug == instrument)?;
            Some((*answer, response.trust))
        })
        .collect();
    let num_responses = u32::try_from(answers.len()).unwrap_or(u32::MAX);
    let decided = answers.iter().any(|(answer, _)| *answer != Answer::Unsure);
    let (relevance, confidence) = match params.rule {
        LabelRule::Majority => {
            let votes: Vec<consensus::Answer> = answers.iter().map(|(answer, _)| answer.consensus()).collect();
            let m = consensus::majority(&votes);
            // The majority's confidence is max(present, absent) / decided computed from the
            // counts, so "2 of 3 present" and "2 of 3 absent" meet a threshold of 2/3 alike,
            // which `1 - 1/3` in floating point would not guarantee.
            (m.relevance.unwrap_or(0.5), m.confidence)
        }
        LabelRule::TrustWeighted => {
            let weighted: Vec<(consensus::Answer, f64)> =
                answers.iter().map(|(answer, trust)| (answer.consensus(), *trust)).collect();
            let relevance = consensus::trust_weighted(&weighted, 0.5);
            (relevance, relevance.max(1.0 - relevance))
        }
    };
    let known = decided && confidence >= params.threshold;
    Label { relevance: if known { relevance as f32 } else { 0.5 }, known, num_responses }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Blob, GroupKey, Response, Source};
    use Answer::{Absent, Present, Unsure};

    fn params(rule: LabelRule, threshold: f64) -> Params {
        Params {
            instruments: vec!["cello".into(), "flute".into()],
            min_annotations: None,
            rule,
            threshold,
            include_gold: false,
            test_fraction: 0.25,
            seed: 7,
            group_by: GroupKey::Source,
            tolerance: 0.05,
            as_of: "2025-01-01T00:00:00Z".into(),
        }
    }

    /// One response per entry, each answering about the cello only.
    fn sample(cello: &[(Answer, f64)]) -> Sample {
        let responses = cello
            .iter()
            .enumerate()
            .map(|(i, &(answer, trust))| Response {
                annotator: format!("a{i}"),
                answers: vec![("cello".into(), answer)],
                trust,
                time: "2024-06-01T00:00:00Z".into(),
            })
            .collect();
        Sample {
            key: "clip".into(),
            uri: "https://example.org/api/v1/audio/clip".into(),
            offset_seconds: 0.0,
            duration_seconds: 10.0,
            group: "g".into(),
            is_gold: false,
            source: Source {
                uri: String::new(),
                title: String::new(),
                artist: String::new(),
                licence: "CC0-1.0".into(),
            },
            audio: Blob { size: 0, sha256: String::new(), crc32: 0 },
            responses,
        }
    }

    fn cello(params: &Params, answers: &[Answer]) -> Label {
        let answers: Vec<(Answer, f64)> = answers.iter().map(|&a| (a, 0.8)).collect();
        decide(params, &sample(&answers))[0]
    }

    #[test]
    fn one_label_per_instrument_in_order() {
        let p = params(LabelRule::Majority, 0.6);
        let mut s = sample(&[(Present, 0.8)]);
        s.responses[0].answers = vec![("flute".into(), Absent), ("cello".into(), Present)];
        let labels = decide(&p, &s);
        assert_eq!(labels.len(), 2);
        assert_eq!(labels[0], Label { relevance: 1.0, known: true, num_responses: 1 });
        assert_eq!(labels[1], Label { relevance: 0.0, known: true, num_responses: 1 });
    }

    #[test]
    fn majority_relevance() {
        let p = params(LabelRule::Majority, 0.6);
        let label = cello(&p, &[Present, Present, Present, Absent]);
        assert_eq!(label, Label { relevance: 0.75, known: true, num_responses: 4 });
        let label = cello(&p, &[Absent, Absent, Absent, Present, Absent]);
        assert_eq!(label, Label { relevance: 0.2, known: true, num_responses: 5 });
        assert!(!label.positive());
    }

    #[test]
    fn unsure_abstains_but_is_counted() {
        let p = params(LabelRule::Majority, 0.6);
        let label = cello(&p, &[Unsure, Present, Unsure]);
        assert_eq!(label, Label { relevance: 1.0, known: true, num_responses: 3 });
        // Nobody decided: unknown, whatever the threshold.
        let label = cello(&p, &[Unsure, Unsure]);
        assert_eq!(label, Label { relevance: 0.5, known: false, num_responses: 2 });
        let p = params(LabelRule::TrustWeighted, 0.6);
        let label = cello(&p, &[Unsure, Unsure]);
        assert_eq!(label, Label { relevance: 0.5, known: false, num_responses: 2 });
    }

    #[test]
    fn not_answered_is_unknown_with_no_responses() {
        for rule in [LabelRule::Majority, LabelRule::TrustWeighted] {
            let labels = decide(&params(rule, 0.6), &sample(&[(Present, 0.9), (Present, 0.9)]));
            assert_eq!(labels[1], Label { relevance: 0.5, known: false, num_responses: 0 });
            assert_eq!(labels[0].num_responses, 2);
        }
    }

    #[test]
    fn a_repeated_answer_counts_once() {
        let p = params(LabelRule::Majority, 0.6);
        let mut s = sample(&[(Present, 0.8), (Absent, 0.8)]);
        s.responses[0].answers.push(("cello".into(), Present));
        assert_eq!(decide(&p, &s)[0], Label { relevance: 0.5, known: false, num_responses: 2 });
    }

    #[test]
    fn threshold_masks_at_the_boundary() {
        // 2 of 3 agree: exactly 2/3, which meets a threshold of 2/3 on either side.
        let p = params(LabelRule::Majority, 2.0 / 3.0);
        let label = cello(&p, &[Present, Present, Absent]);
        assert_eq!(label, Label { relevance: (2.0f64 / 3.0) as f32, known: true, num_responses: 3 });
        let label = cello(&p, &[Absent, Absent, Present]);
        assert_eq!(label, Label { relevance: (1.0f64 / 3.0) as f32, known: true, num_responses: 3 });
        // 3 of 5 (60%) falls short: masked, reported as 0.5.
        let label = cello(&p, &[Present, Present, Present, Absent, Absent]);
        assert_eq!(label, Label { relevance: 0.5, known: false, num_responses: 5 });
        // A tie never meets a threshold above 50%.
        let p = params(LabelRule::Majority, 0.5001);
        assert!(!cello(&p, &[Present, Absent]).known);
        // A threshold of 1 needs unanimity.
        let p = params(LabelRule::Majority, 1.0);
        assert!(cello(&p, &[Present, Unsure, Present]).known);
        assert!(!cello(&p, &[Present, Absent, Present, Present]).known);
    }

    #[test]
    fn trust_weighted_relevance() {
        let p = params(LabelRule::TrustWeighted, 0.8);
        // Odds 1 · (0.9 / 0.1) · (0.4 / 0.6) = 6: P(present) = 6 / 7 ≈ 0.857.
        let label = decide(&p, &sample(&[(Present, 0.9), (Absent, 0.6)]))[0];
        assert_eq!(label, Label { relevance: (6.0f64 / 7.0) as f32, known: true, num_responses: 2 });
        // The mirror image is a known negative.
        let label = decide(&p, &sample(&[(Absent, 0.9), (Present, 0.6), (Unsure, 0.99)]))[0];
        assert_eq!(label, Label { relevance: (1.0f64 / 7.0) as f32, known: true, num_responses: 3 });
        assert!(!label.positive());
        // One 0.7 annotator alone reaches 0.7, short of 0.8.
        let label = decide(&p, &sample(&[(Present, 0.7)]))[0];
        assert_eq!(label, Label { relevance: 0.5, known: false, num_responses: 1 });
        // Under the majority rule the same lone answer is unanimous.
        let p = params(LabelRule::Majority, 0.8);
        assert!(decide(&p, &sample(&[(Present, 0.7)]))[0].positive());
    }

    #[test]
    fn trust_weighted_boundary() {
        // Three 0.8 "present" give exactly 64/65; the threshold is met when equal to it.
        let p =
            params(LabelRule::TrustWeighted, consensus::trust_weighted(&[(consensus::Answer::Present, 0.8); 3], 0.5));
        assert!(decide(&p, &sample(&[(Present, 0.8); 3]))[0].known);
        assert!(!decide(&p, &sample(&[(Present, 0.8), (Present, 0.8), (Present, 0.79)]))[0].known);
    }

    #[test]
    fn checks_parameters() {
        let ok = params(LabelRule::Majority, 0.6);
        assert_eq!(check(&ok), Ok(()));
        let with = |f: &dyn Fn(&mut Params)| {
            let mut p = ok.clone();
            f(&mut p);
            check(&p)
        };
        assert_eq!(with(&|p| p.instruments.clear()), Err(ParamsError::NoInstruments));
        assert_eq!(
            with(&|p| p.instruments.push("cello".into())),
            Err(ParamsError::DuplicateInstrument("cello".into()))
        );
        for bad in [0.5, 0.2, 1.01, f64::INFINITY] {
            assert_eq!(with(&|p| p.threshold = bad), Err(ParamsError::Threshold(bad)));
        }
        assert!(matches!(with(&|p| p.threshold = f64::NAN), Err(ParamsError::Threshold(_))));
        assert_eq!(with(&|p| p.threshold = 1.0), Ok(()));
        for bad in [0.0, 1.0, -0.1, f64::NAN] {
            assert!(matches!(with(&|p| p.test_fraction = bad), Err(ParamsError::TestFraction(_))));
        }
        for bad in [-0.01, 1.5, f64::NAN, f64::NEG_INFINITY] {
            assert!(matches!(with(&|p| p.tolerance = bad), Err(ParamsError::Tolerance(_))));
        }
        assert_eq!(with(&|p| p.tolerance = 0.0), Ok(()));
        assert_eq!(with(&|p| p.tolerance = 1.0), Ok(()));
        assert_eq!(with(&|p| p.min_annotations = Some(0)), Err(ParamsError::MinAnnotations));
        assert_eq!(with(&|p| p.min_annotations = Some(1)), Ok(()));
        let message = with(&|p| p.test_fraction = 1.0).unwrap_err().to_string();
        assert!(message.contains("test fraction") && message.contains("got 1"), "{message}");
    }
}
