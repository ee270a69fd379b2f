//! The 双随机 plan: Σπ = capacity with every π in [0, 1], exact fixed-size draws whose empirical
//! frequencies match π, certainty units always drawn, conflicts never assigned, reproducible seeds.

use polars::prelude::{col, lit, IntoLazy};
use proptest::prelude::*;
use riskwarn::plan::{draw, inclusion_probabilities, plan, Roster, Unit, Units};
use riskwarn::policy::{Grade, Policy};
use riskwarn::rng::Rng;

fn policy() -> Policy {
    Policy::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/riskwarn.toml"))).unwrap()
}

/// `n` units in H6210 / 140502 with grades cycling through a fixed mix and scores by index.
fn units(n: usize) -> Vec<Unit<'static>> {
    (0..n)
        .map(|i| {
            let grade = match i % 20 {
                0 => Grade::D,
                1 | 2 => Grade::C,
                3..=10 => Grade::B,
                _ => Grade::A,
            };
            Unit {
                uscc: format!("U{i:06}").into(),
                industry: if i % 17 == 5 { "C2710".into() } else { "H6210".into() },
                region: "140502".into(),
                grade,
                score: 0.01 + (i % 97) as f64 / 200.0,
                rank: i as u32 + 1,
                observation: i % 11 == 0,
                days_since_random_pass: if i % 13 == 0 { Some(100) } else { None },
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn probabilities_sum_to_capacity_and_stay_in_unit_interval(
        weights in proptest::collection::vec(0.0f64..5.0, 1..300),
        certain_every in 2usize..50,
        capacity_share in 0.0f64..1.2,
        explore in 0.0f64..0.5,
    ) {
        let n = weights.len();
        let certain: Vec<bool> = (0..n).map(|i| i % certain_every == 0).collect();
        let n_certain = certain.iter().filter(|c| **c).count();
        let capacity = ((n as f64) * capacity_share) as usize;
        let pi = inclusion_probabilities(&weights, &certain, capacity, explore);
        prop_assert!(pi.iter().all(|p| (0.0..=1.0).contains(p)));
        let sum: f64 = pi.iter().sum();
        let expected = if capacity <= n_certain { n_certain as f64 } else { capacity.min(n) as f64 };
        prop_assert!((sum - expected).abs() < 1e-6, "Σπ {} vs {}", sum, expected);
        // Certainty units are 1; with exploration every unit has a nonzero chance.
        prop_assert!(certain.iter().zip(&pi).all(|(c, p)| !c || *p == 1.0));
        if explore > 0.0 && capacity > n_certain {
            prop_assert!(pi.iter().all(|p| *p > 0.0));
        }
        // Higher weight never means a lower probability (among uncertain units).
        for i in 0..n { for j in 0..n {
            if !certain[i] && !certain[j] && weights[i] > weights[j] { prop_assert!(pi[i] >= pi[j] - 1e-12); }
        }}
    }
}

#[test]
fn empirical_selection_frequencies_match_the_probabilities() {
    // 40 units, capacity 9: 2,000 seeded draws. Each draw has exactly 9 units; each unit's
    // frequency is within 4.5 binomial standard errors of its π (deterministic seeds, so the test
    // cannot flake; a wrong scheme — e.g. simple random sampling — fails it by a wide margin).
    let weights: Vec<f64> = (0..40).map(|i| 0.2 + (i as f64 * 0.37) % 3.0).collect();
    let certain: Vec<bool> = (0..40).map(|i| i == 7).collect();
    let pi = inclusion_probabilities(&weights, &certain, 9, 0.05);
    assert!((pi.iter().sum::<f64>() - 9.0).abs() < 1e-9);
    let draws = 2000;
    let mut hits = vec![0usize; 40];
    for seed in 0..draws {
        let s = draw(&pi, &mut Rng::new(seed, 0));
        assert_eq!(s.iter().filter(|x| **x).count(), 9, "fixed sample size, seed {seed}");
        for (h, x) in hits.iter_mut().zip(&s) {
            *h += *x as usize;
        }
    }
    for (i, (&h, &p)) in hits.iter().zip(&pi).enumerate() {
        let freq = h as f64 / draws as f64;
        let se = (p * (1.0 - p) / draws as f64).sqrt().max(1e-9);
        assert!((freq - p).abs() <= 4.5 * se + 1e-12, "unit {i}: frequency {freq} vs π {p}");
    }
}

fn roster(policy: &Policy, per_department: usize, conflicts: &[(usize, &str)]) -> Roster {
    let mut r = Roster::default();
    for d in &policy.plan.departments {
        for k in 0..per_department {
            r.inspectors.push((format!("{}-{k}", d.name), d.name.clone(), "140502".into()));
        }
    }
    for (k, uscc) in conflicts {
        let dept = &policy.plan.departments[0].name;
        r.conflicts.entry(uscc.to_string()).or_default().insert(format!("{dept}-{k}"));
    }
    r
}

#[test]
fn plan_respects_capacity_certainty_conflicts_and_seed() {
    let policy = policy();
    let units = units(3000);
    // Inspector 0 and 1 of the first department are in conflict with every D subject.
    let d_codes: Vec<String> = units.iter().filter(|u| u.grade == Grade::D).map(|u| u.uscc.to_string()).collect();
    let conflicts: Vec<(usize, &str)> = d_codes.iter().flat_map(|c| [(0, c.as_str()), (1, c.as_str())]).collect();
    let roster = roster(&policy, 6, &conflicts);
    let a = plan(&Units::from_iter(units.clone()), &policy.plan, Some(&roster), 7, riskwarn::messages::Messages::EN).unwrap();
    let samr = &policy.plan.departments[0];
    let s = &a.departments[0];
    assert_eq!(s.department, samr.name);
    assert!((s.sum_probability - samr.capacity as f64).abs() < 1e-6, "Σπ {} vs capacity {}", s.sum_probability, samr.capacity);
    assert_eq!(s.selected, samr.capacity);
    let f = &a.frame().unwrap();
    let dept = f.column("department").unwrap().str().unwrap();
    let uscc = f.column("uscc").unwrap().str().unwrap();
    let selected = f.column("selected").unwrap().bool().unwrap();
    let pi = f.column("inclusion_probability").unwrap().f64().unwrap();
    let inspectors = f.column("inspectors").unwrap().list().unwrap();
    let by_code: std::collections::HashMap<&str, &Unit> = units.iter().map(|u| (u.uscc.as_ref(), u)).collect();
    for i in 0..f.height() {
        let u = by_code[uscc.get(i).unwrap()];
        let in_samr = dept.get(i) == Some(samr.name.as_str());
        if in_samr && (u.grade == Grade::D || u.industry.starts_with("C27")) {
            assert_eq!(pi.get(i), Some(1.0));
            assert_eq!(selected.get(i), Some(true), "D and key-sector subjects are always drawn");
        }
        // Suppressed: A/B outside key sectors that passed a random inspection within the window.
        if in_samr && !u.industry.starts_with("C27") {
            assert!(!(u.grade <= Grade::B && u.days_since_random_pass.is_some()), "suppressed subject {} planned", u.uscc);
        }
        let names: Vec<String> = inspectors.get_as_series(i).unwrap().str().unwrap().iter().flatten().map(String::from).collect();
        if selected.get(i) == Some(true) && in_samr {
            assert!(names.len() >= 2, "at least two inspectors");
            if u.grade == Grade::D {
                let banned = [format!("{}-0", samr.name), format!("{}-1", samr.name)];
                assert!(!names.iter().any(|n| banned.contains(n)), "conflicted inspector sent to {}", u.uscc);
            }
        } else if selected.get(i) != Some(true) {
            assert!(names.is_empty());
        }
    }
    let b = plan(&Units::from_iter(units.clone()), &policy.plan, Some(&roster), 7, riskwarn::messages::Messages::EN).unwrap();
    assert!(a.frame().unwrap().equals_missing(&b.frame().unwrap()), "same seed → same plan");
    let c = plan(&Units::from_iter(units.clone()), &policy.plan, Some(&roster), 8, riskwarn::messages::Messages::EN).unwrap();
    assert!(!a.frame().unwrap().equals_missing(&c.frame().unwrap()), "a different seed gives a different plan");
    // Joint visits: selections across departments minus distinct subjects.
    assert!(a.visits <= a.selections);
}

#[test]
fn capacity_below_the_certainty_units_fills_by_risk_and_says_so() {
    let mut policy = policy();
    policy.plan.departments[0].capacity = 20;
    let units = units(2000);
    let p = plan(&Units::from_iter(units.clone()), &policy.plan, None, 1, riskwarn::messages::Messages::EN).unwrap();
    let s = &p.departments[0];
    assert_eq!(s.selected, 20);
    assert!((s.sum_probability - 20.0).abs() < 1e-9);
    assert!(p.notices.iter().any(|n| n.contains("capacity 20 is below")), "{:?}", p.notices);
    assert!(p.notices.iter().any(|n| n.contains("no inspector roster")));
    // The certainty units that fit are the highest-ranked ones.
    let f = p.frame().unwrap().lazy().filter(col("department").eq(lit(s.department.as_str()))).collect().unwrap();
    let chosen: Vec<String> = f.column("uscc").unwrap().str().unwrap().iter().flatten().map(String::from).collect();
    let mut certain: Vec<&Unit> = units.iter().filter(|u| u.grade == Grade::D || u.industry.starts_with("C27")).collect();
    certain.sort_by_key(|u| u.rank);
    let expected: std::collections::BTreeSet<String> = certain[..20].iter().map(|u| u.uscc.to_string()).collect();
    assert_eq!(chosen.into_iter().collect::<std::collections::BTreeSet<_>>(), expected);
}
