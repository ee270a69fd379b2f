//! Backtest metrics against values computed independently (scikit-learn 1.x) and by hand.

use riskwarn::metrics::*;

const SCORES: [f64; 40] = [
    0.6, 0.9, 0.8, 0.2, 0.3, 0.9, 0.0, 0.8, 0.8, 0.5, 0.3, 0.3, 0.3, 0.4, 0.5, 0.6, 1.0, 0.8, 0.6, 1.0, 0.2, 0.2, 0.6,
    0.0, 0.0, 0.5, 0.5, 0.9, 0.6, 0.5, 0.5, 0.2, 0.0, 0.2, 0.7, 0.2, 0.4, 0.0, 0.8, 0.2,
];
const LABELS: [bool; 40] = [
    true, false, true, false, false, false, false, true, true, false, false, false, true, false, true, true, false,
    true, false, true, false, false, false, false, false, true, false, true, false, true, false, false, false, false,
    true, false, false, false, true, true,
];

#[test]
fn auc_ks_brier_match_scikit_learn_with_ties() {
    // roc_auc_score, max(tpr - fpr) over roc_curve, brier_score_loss on the arrays above.
    assert!((auc(&SCORES, &LABELS).unwrap() - 0.7826666666666666).abs() < 1e-12);
    assert!((ks(&SCORES, &LABELS).unwrap() - 0.5066666666666667).abs() < 1e-12);
    assert!((brier(&SCORES, &LABELS).unwrap() - 0.1945).abs() < 1e-12);
}

#[test]
fn degenerate_inputs_have_no_value_rather_than_a_fake_one() {
    assert_eq!(auc(&[0.1, 0.2], &[true, true]), None);
    assert_eq!(ks(&[0.1, 0.2], &[false, false]), None);
    assert_eq!(lift_at(&[0.1, 0.2], &[false, false], 0.5), None);
    assert_eq!(brier(&[], &[]), None);
}

#[test]
fn precision_lift_and_first_half_by_hand() {
    let scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0];
    let labels = [true, false, true, false, false, false, false, true, false, false];
    // top 10% = 1 subject (positive); top 20% = 2 (1 positive); base rate 3/10.
    assert_eq!(precision_at(&scores, &labels, 0.10), Some(1.0));
    assert_eq!(precision_at(&scores, &labels, 0.20), Some(0.5));
    assert!((lift_at(&scores, &labels, 0.10).unwrap() - 1.0 / 0.3).abs() < 1e-12);
    // first half = top 5: two of the three positives.
    assert!((positives_in_first_half(&scores, &labels).unwrap() - 2.0 / 3.0).abs() < 1e-12);
    let cal = calibration(&scores, &labels, 2);
    assert_eq!(cal.len(), 2);
    assert_eq!((cal[0].count, cal[0].observed_rate), (5, 0.2)); // lowest five: one positive (0.2)
    assert!((cal[1].mean_predicted - 0.7).abs() < 1e-12);
    assert_eq!(cal[1].observed_rate, 0.4);
}
