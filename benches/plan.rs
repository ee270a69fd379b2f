//! Plan-stage benchmark: 4,000,000 subjects (RISKWARN_BENCH_PLAN_SUBJECTS) planned for 20
//! departments with a roster of 8,000 inspectors and conflicts — inclusion probabilities, the
//! seeded draws, joint visits, inspector assignment and the plan frame. `cargo bench --bench plan`.

use std::sync::OnceLock;

use riskwarn::plan::{plan, Roster, Unit, Units};
use riskwarn::policy::{Department, Grade, GradeRatios, Policy};

fn main() {
    divan::main();
}

fn subjects() -> usize {
    std::env::var("RISKWARN_BENCH_PLAN_SUBJECTS").ok().and_then(|v| v.parse().ok()).unwrap_or(4_000_000)
}

const SECTIONS: &[&str] = &["A0111", "C1431", "C2710", "E4701", "F5211", "F5251", "G5420", "H6210", "I6510", "O8111"];
const REGIONS: &[&str] = &["140502", "140521", "140522", "140524", "140525", "140581"];

fn units() -> &'static Vec<Unit<'static>> {
    static U: OnceLock<Vec<Unit<'static>>> = OnceLock::new();
    U.get_or_init(|| {
        let mut rng = riskwarn::rng::Rng::new(1, 0);
        (0..subjects())
            .map(|i| {
                let score = rng.f64().powi(3);
                let grade = if score > 0.6 { Grade::D } else if score > 0.3 { Grade::C } else if score > 0.05 { Grade::B } else { Grade::A };
                Unit {
                    uscc: riskwarn::generate::subject_uscc(i as u64, b'1', REGIONS[i % REGIONS.len()]).into(),
                    industry: SECTIONS[(i / 7) % SECTIONS.len()].into(),
                    region: REGIONS[i % REGIONS.len()].into(),
                    grade,
                    score,
                    rank: 0,
                    observation: rng.chance(0.1),
                    days_since_random_pass: rng.chance(0.1).then_some(200),
                }
            })
            .collect()
    })
}

/// The units as the plan takes them.
fn compact() -> &'static Units {
    static U: OnceLock<Units> = OnceLock::new();
    U.get_or_init(|| units().iter().cloned().collect())
}

/// 20 departments: each covers two or three industry prefixes, capacity 2 % of the subjects.
fn policy() -> Policy {
    let mut p = Policy::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/riskwarn.toml"))).unwrap();
    p.plan.departments = (0..20)
        .map(|d| Department {
            name: format!("dept{d:02}"),
            label_en: None,
            capacity: subjects() / 50,
            industries: (0..1 + d % 3).map(|k| SECTIONS[(d + 3 * k) % SECTIONS.len()][..1].to_string()).collect(),
            regions: Vec::new(),
            key_sectors: if d == 0 { vec!["C27".into()] } else { Vec::new() },
            ratios: GradeRatios { a: 0.03, b: 0.1, c: 0.3, d: 1.0 },
        })
        .collect();
    p.plan.full_coverage_d = false;
    p
}

fn roster(policy: &Policy) -> &'static Roster {
    static R: OnceLock<Roster> = OnceLock::new();
    R.get_or_init(|| {
        let mut r = Roster::default();
        for d in &policy.plan.departments {
            for k in 0..400 {
                r.inspectors.push((format!("{}-{k:03}", d.name), d.name.clone(), REGIONS[k % REGIONS.len()].into()));
            }
        }
        for u in units().iter().step_by(997) {
            r.conflicts.entry(u.uscc.to_string()).or_default().insert("dept00-000".into());
        }
        r
    })
}

#[divan::bench(sample_count = 3)]
fn plan_twenty_departments() -> usize {
    let p = policy();
    // The frame is made whole, as writing plan.parquet makes it (a row group at a time).
    plan(compact(), &p.plan, Some(roster(&p)), 20261126, riskwarn::messages::Messages::EN).unwrap().frame().unwrap().height()
}
