//! Case-stage benchmark: what cases add to a nightly run at province scale — 4,000,000 warnings
//! (RISKWARN_BENCH_CASE_SUBJECTS) against a carried book of 500,000 cases
//! (RISKWARN_BENCH_CASES) with its audit trail and 400,000 cumulative dispositions: the book
//! read back from its Parquet files, dispositions matched and applied, time transitions, the warnings'
//! cases opened or held back, the per-warning case columns, the feedback figures and the two
//! output frames written as Parquet. `cargo bench --bench cases`.

use std::collections::HashMap;
use std::sync::OnceLock;

use polars::prelude::*;
use riskwarn::cases::{advance, feedback, open, Case, CaseBook, CaseEvent, CaseState, Disposition, WarningForCase};
use riskwarn::io::{read_output, read_output_encoded, OutputKind};
use riskwarn::policy::Policy;

fn main() {
    divan::main();
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

const AS_OF: i32 = 20_600; // 2026-05-26
const REGIONS: &[&str] = &["140502", "140521", "140522", "140524", "140525", "140581"];
const INDUSTRIES: &[&str] = &["A0111", "C1431", "C2710", "E4701", "F5211", "F5251", "G5420", "H6210", "I6510", "O8111"];

fn policy() -> &'static Policy {
    static P: OnceLock<Policy> = OnceLock::new();
    P.get_or_init(|| Policy::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/riskwarn.toml"))).unwrap())
}

fn code(i: usize) -> String {
    riskwarn::generate::subject_uscc(i as u64, b'1', REGIONS[i % REGIONS.len()])
}

/// The previous run's book as the Parquet files `run` reads back, and the cumulative dispositions.
fn inputs() -> &'static (tempfile::TempDir, Vec<Disposition>) {
    static I: OnceLock<(tempfile::TempDir, Vec<Disposition>)> = OnceLock::new();
    I.get_or_init(|| {
        let (subjects, n_cases) = (env("RISKWARN_BENCH_CASE_SUBJECTS", 4_000_000), env("RISKWARN_BENCH_CASES", 500_000));
        let mut rng = riskwarn::rng::Rng::new(7, 0);
        let mut book = CaseBook::default();
        let mut dispositions = Vec::new();
        for k in 0..n_cases {
            // Cases of the last 400 days, on distinct subjects spread over the population.
            let s = (k * 7919) % subjects;
            let opened = AS_OF - 1 - rng.int(0, 400) as i32;
            let state = CaseState::ALL[rng.weighted(&[0.15, 0.1, 0.05, 0.3, 0.3, 0.1])];
            let closed = (!state.is_open()).then(|| opened + rng.int(1, 30) as i32).filter(|d| *d < AS_OF);
            let uscc: PlSmallStr = code(s).into();
            let case_id: PlSmallStr = riskwarn::cases::case_id(&uscc, opened).into();
            let department: PlSmallStr = format!("dept{:02}", s % 20).into();
            let state = if closed.is_none() && !state.is_open() { CaseState::Open } else { state };
            book.events.push(CaseEvent {
                case_id: case_id.clone(),
                on: opened,
                event: "opened".into(),
                from: None,
                to: CaseState::Open,
                by: "riskwarn".into(),
                detail: "level red, score 0.800, due".into(),
                disposition_key: None,
                recorded_as_of: opened,
            });
            if let Some(d) = closed {
                let disposition = Disposition {
                    file: "dispositions.parquet".into(),
                    row: dispositions.len() as u64 + 1,
                    uscc: uscc.clone(),
                    case_id: rng.chance(0.5).then(|| case_id.clone()),
                    department: department.clone(),
                    handled_on: d,
                    action: "verify".into(),
                    result: ["confirmed", "not_confirmed", "unreachable"][(state as usize).saturating_sub(3).min(2)].into(),
                    handler_id: Some("H0001".into()),
                };
                book.events.push(CaseEvent {
                    case_id: case_id.clone(),
                    on: d,
                    event: "disposition".into(),
                    from: Some(CaseState::Open),
                    to: state,
                    by: "H0001".into(),
                    detail: "verify".into(),
                    disposition_key: Some(disposition.key()),
                    recorded_as_of: d + 1,
                });
                dispositions.push(disposition);
            }
            book.cases.push(Case {
                case_id,
                uscc,
                department,
                opened_on: opened,
                level: if rng.chance(0.6) { "red" } else { "orange" }.into(),
                score_at_opening: Some(rng.f64()),
                due_on: opened + 7,
                state,
                times_warned: 1,
                last_warned_on: opened,
                last_handled_on: closed,
                last_action: closed.map(|_| "verify".into()),
                last_result: None,
                closed_on: closed,
                overdue_on: None,
                escalated_on: None,
                escalated_to: None,
                source: "riskwarn".into(),
            });
        }
        // New dispositions of open cases since the last run (a tenth of the table).
        let open: Vec<usize> = (0..book.cases.len()).filter(|&i| book.cases[i].state.is_open()).collect();
        for &i in open.iter().step_by(2).take(dispositions.len() / 9) {
            let c = &book.cases[i];
            dispositions.push(Disposition {
                file: "dispositions.parquet".into(),
                row: dispositions.len() as u64 + 1,
                uscc: c.uscc.clone(),
                case_id: None,
                department: c.department.clone(),
                handled_on: AS_OF - 1,
                action: "verify".into(),
                result: "not_confirmed".into(),
                handler_id: None,
            });
        }
        // As a run writes it: in the output order.
        book.sort();
        let dir = tempfile::tempdir().unwrap();
        riskwarn::io::write_parquet(&mut book.cases_frame().unwrap(), &dir.path().join("cases.parquet")).unwrap();
        riskwarn::io::write_parquet_growing(&book.events_frame().unwrap(), &dir.path().join("case_events.parquet"), riskwarn::cases::PLAIN_EVENT_COLUMNS, None).unwrap();
        (dir, dispositions)
    })
}

/// The run's warning list: rank order, the policy's level shares.
fn warnings() -> &'static DataFrame {
    static W: OnceLock<DataFrame> = OnceLock::new();
    W.get_or_init(|| {
        let n = env("RISKWARN_BENCH_CASE_SUBJECTS", 4_000_000);
        let mut rng = riskwarn::rng::Rng::new(9, 0);
        let order: Vec<usize> = {
            let mut o: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                o.swap(i, rng.int(0, i as i64) as usize);
            }
            o
        };
        let level = |r: usize| if r < n * 24 / 1000 { "red" } else if r < n * 40 / 1000 { "orange" } else if r < n * 156 / 1000 { "yellow" } else { "blue" };
        DataFrame::new(n, vec![
            Column::new("uscc".into(), order.iter().map(|&s| code(s)).collect::<Vec<_>>()),
            Column::new("risk_level".into(), (0..n).map(level).collect::<Vec<_>>()),
            Column::new("score".into(), (0..n).map(|r| 1.0 - r as f64 / n as f64).collect::<Vec<_>>()),
            Column::new("industry".into(), order.iter().map(|&s| INDUSTRIES[s % INDUSTRIES.len()]).collect::<Vec<_>>()),
            Column::new("region".into(), order.iter().map(|&s| REGIONS[s % REGIONS.len()]).collect::<Vec<_>>()),
        ])
        .unwrap()
    })
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn case_stage(bencher: divan::Bencher) {
    let (previous, dispositions) = inputs();
    let frame = warnings();
    let text = |c: &str| frame.column(c).unwrap().str().unwrap().iter().map(|v| v.unwrap_or("")).collect::<Vec<_>>();
    let (uscc, level, industry, region) = (text("uscc"), text("risk_level"), text("industry"), text("region"));
    let score: Vec<f64> = frame.column("score").unwrap().f64().unwrap().into_no_null_iter().collect();
    let warnings: Vec<WarningForCase> =
        (0..frame.height()).map(|i| WarningForCase { uscc: uscc[i], level: level[i], score: score[i], industry: industry[i], region: region[i] }).collect();
    let p = policy();
    let dir = tempfile::tempdir().unwrap();
    bencher.bench_local(|| {
        let clock = std::time::Instant::now();
        let lap = |what: &str| if std::env::var("RISKWARN_BENCH_LAPS").is_ok() { eprintln!("{what}: {:.3} s", clock.elapsed().as_secs_f64()) };
        let cases = read_output(&previous.path().join("cases.parquet"), OutputKind::Cases).unwrap();
        let (events, file) = read_output_encoded(&previous.path().join("case_events.parquet"), OutputKind::CaseEvents).unwrap();
        lap("read");
        let mut book = CaseBook::from_files(&cases, &events, file).unwrap();
        drop((cases, events));
        lap("from_frames");
        let (counts, _) = advance(&mut book, dispositions, AS_OF, &p.cases).unwrap();
        lap("advance");
        let opened = open(&mut book, &warnings, &HashMap::new(), AS_OF, &p.cases, &p.plan.departments).unwrap();
        let (shown, opening) = (opened.per_warning.len(), opened.counts);
        lap("open");
        let f = feedback(&book, AS_OF, counts, opening, 0);
        lap("feedback only");
        book.sort();
        lap("feedback");
        let (mut cf, ef) = (book.cases_frame().unwrap(), book.events_frame().unwrap());
        lap("frames");
        riskwarn::io::write_parquet_with_plain(&mut cf, &dir.path().join("cases.parquet"), riskwarn::cases::PLAIN_CASE_COLUMNS).unwrap();
        lap("write cases");
        riskwarn::io::write_parquet_growing(&ef, &dir.path().join("case_events.parquet"), riskwarn::cases::PLAIN_EVENT_COLUMNS, book.earlier_file.as_ref()).unwrap();
        lap("write");
        divan::black_box((shown, f.rows.len()))
    });
}
