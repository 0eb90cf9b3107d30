//! Krippendorff's alpha for nominal data.

/// Krippendorff's alpha for nominal data with missing values.
///
/// `units[u]` lists the values (category ids) given to unit `u` by the
/// coders who rated it; order is irrelevant and coders who skipped the unit
/// are simply absent. Units with fewer than two values cannot be paired and
/// are ignored, as prescribed by the method.
///
/// Returns `None` when alpha is undefined: fewer than two pairable values in
/// total, or no expected disagreement (every pairable value is the same
/// category, so agreement cannot be told apart from chance).
///
/// 1 means perfect agreement, 0 agreement at chance level, and negative
/// values systematic disagreement.
///
/// Implements the coincidence-matrix formulation of Krippendorff (2011),
/// "Computing Krippendorff's Alpha-Reliability". With `n_uc` the number of
/// values `c` in unit `u` and `m_u` the unit's number of values:
///
/// * off-diagonal coincidences: `Σ_{c≠k} o_ck = Σ_u (m_u² − Σ_c n_uc²) / (m_u − 1)`
/// * category totals: `n_c = Σ_u n_uc`, `n = Σ_c n_c`
/// * `alpha = 1 − (n − 1) · Σ_{c≠k} o_ck / Σ_{c≠k} n_c n_k`, where
///   `Σ_{c≠k} n_c n_k = n² − Σ_c n_c²`.
///
/// Only these sums are needed, so the full matrix is never built and the
/// cost is linear in the number of values.
pub fn krippendorff_alpha_nominal(units: &[Vec<u32>]) -> Option<f64> {
    // Category ids are arbitrary u32s (possibly sparse), so totals live in a
    // sorted map rather than an array indexed by id.
    let mut totals: Vec<(u32, u64)> = Vec::new();
    let mut disagreeing = 0.0; // Σ_{c≠k} o_ck
    let mut unit_values = Vec::new();
    for unit in units.iter().filter(|unit| unit.len() >= 2) {
        unit_values.clone_from(unit);
        unit_values.sort_unstable();
        let m = unit_values.len() as u64;
        let mut same_pairs = 0u64; // Σ_c n_uc²
        for run in unit_values.chunk_by(|a, b| a == b) {
            let count = run.len() as u64;
            same_pairs += count * count;
            match totals.binary_search_by_key(&run[0], |&(c, _)| c) {
                Ok(i) => totals[i].1 += count,
                Err(i) => totals.insert(i, (run[0], count)),
            }
        }
        // Ordered pairs of values from different categories, each unit
        // weighted by 1 / (m_u − 1) so every value contributes exactly one
        // pairing in total.
        disagreeing += (m * m - same_pairs) as f64 / (m - 1) as f64;
    }

    let n: u64 = totals.iter().map(|&(_, count)| count).sum();
    // Exact integer arithmetic so that "no expected disagreement" is a clean
    // equality test rather than a floating-point tolerance.
    let sum_sq: u64 = totals.iter().map(|&(_, count)| count * count).sum();
    let chance_disagreeing = n * n - sum_sq; // Σ_{c≠k} n_c n_k
    if n < 2 || chance_disagreeing == 0 {
        return None;
    }
    Some(1.0 - (n - 1) as f64 * disagreeing / chance_disagreeing as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Missing value in the coders × units matrices below.
    const N: i32 = -1;

    /// Turns a coders × units matrix into per-unit value lists.
    fn by_unit(matrix: &[&[i32]]) -> Vec<Vec<u32>> {
        let n_units = matrix[0].len();
        (0..n_units).map(|u| matrix.iter().filter_map(|coder| u32::try_from(coder[u]).ok()).collect()).collect()
    }

    fn assert_close(actual: Option<f64>, expected: f64) {
        let actual = actual.expect("alpha should be defined");
        assert!((actual - expected).abs() < 1e-12, "alpha = {actual}, expected {expected}");
    }

    #[test]
    fn paper_example() {
        // Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability",
        // section C: 4 observers × 12 units, nominal alpha = 0.743. The exact
        // value 0.743421052631579 (= 113/152) is also what the Python
        // `krippendorff` 0.9.0 package returns for
        // alpha(reliability_data=..., level_of_measurement='nominal').
        let matrix: [&[i32]; 4] = [
            &[1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
            &[1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
            &[N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
            &[1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
        ];
        let alpha = krippendorff_alpha_nominal(&by_unit(&matrix));
        assert_close(alpha, 113.0 / 152.0);
        assert_eq!(format!("{:.3}", alpha.unwrap()), "0.743");
    }

    #[test]
    fn order_and_category_ids_are_irrelevant() {
        let units = vec![vec![1, 1, 2], vec![2, 2], vec![1, 2, 2, 2], vec![1, 1]];
        let shuffled = vec![vec![2, 1, 1], vec![2, 2], vec![2, 2, 1, 2], vec![1, 1]];
        let relabelled = vec![vec![7, 7, 9000], vec![9000, 9000], vec![7, 9000, 9000, 9000], vec![7, 7]];
        let alpha = krippendorff_alpha_nominal(&units);
        assert_eq!(krippendorff_alpha_nominal(&shuffled), alpha);
        assert_eq!(krippendorff_alpha_nominal(&relabelled), alpha);
    }

    #[test]
    fn perfect_agreement_is_one() {
        let units = vec![vec![0, 0, 0], vec![1, 1], vec![2, 2, 2, 2], vec![0, 0], vec![1]];
        assert_eq!(krippendorff_alpha_nominal(&units), Some(1.0));
    }

    #[test]
    fn systematic_disagreement_is_negative() {
        // Two coders who always disagree on a binary question: n = 8,
        // n_0 = n_1 = 4, Σ o_ck = 8, expected = 64 − 32 = 32,
        // alpha = 1 − 7 · 8 / 32 = −0.75 (by hand).
        let units = vec![vec![0, 1], vec![1, 0], vec![0, 1], vec![1, 0]];
        assert_close(krippendorff_alpha_nominal(&units), -0.75);
    }

    #[test]
    fn single_values_are_ignored() {
        let units = vec![vec![0, 0], vec![1, 1], vec![0, 1], vec![1, 0]];
        let mut with_singles = units.clone();
        with_singles.extend([vec![5], vec![], vec![0]]);
        assert_eq!(krippendorff_alpha_nominal(&with_singles), krippendorff_alpha_nominal(&units));
    }

    #[test]
    fn undefined_cases() {
        assert_eq!(krippendorff_alpha_nominal(&[]), None);
        // No unit has two values, so nothing is pairable.
        assert_eq!(krippendorff_alpha_nominal(&[vec![0], vec![1], vec![]]), None);
        // A single category: no expected disagreement.
        assert_eq!(krippendorff_alpha_nominal(&[vec![3, 3], vec![3, 3, 3]]), None);
    }

    // The two matrices below (coders × units, None = missing) were generated
    // at random; expected values computed with the Python `krippendorff`
    // 0.9.0 package, alpha(reliability_data=..., level_of_measurement='nominal'),
    // missing entries passed as NaN.
    #[test]
    fn cross_checked_three_coders() {
        let matrix: [&[i32]; 3] =
            [&[2, 0, 2, 2, 1, 1, 1, N, 0, N], &[2, 0, 2, N, N, N, 2, 0, 0, 0], &[1, 1, 2, 2, 1, 2, N, 0, 0, 1]];
        assert_close(krippendorff_alpha_nominal(&by_unit(&matrix)), 0.39790575916230375);
    }

    #[test]
    fn cross_checked_five_coders_sparse() {
        // Unit 9 has a single value and must be ignored.
        let matrix: [&[i32]; 5] = [
            &[2, 2, 0, 1, N, 0, N, 2, 1, N, N, 1, 3, 3, 0],
            &[N, 2, 1, N, 3, 2, 0, 0, 3, N, 3, 0, 0, N, 0],
            &[N, 0, N, N, 1, 3, 2, 0, 1, 3, 2, N, 3, 3, N],
            &[2, N, N, 3, N, 1, 1, 0, 1, N, N, 2, 3, 3, 3],
            &[N, N, N, N, N, N, 0, 0, 1, N, 3, 0, N, 3, 2],
        ];
        assert_close(krippendorff_alpha_nominal(&by_unit(&matrix)), 0.17640186915887834);
    }
}
