//! Warning cases (issue 13): the state machine against transitions worked by hand, the matching
//! and quarantine of dispositions, the quiet period and its two exceptions, routing, working
//! days, and a property test that no case or event is ever lost over a sequence of runs.

use std::collections::HashMap;

use proptest::prelude::*;
use riskwarn::cases::{advance, open, Adverse, Case, CaseBook, CaseState, Disposition, WarningForCase};
use riskwarn::dates::WorkCalendar;
use riskwarn::policy::{CasePolicy, CaseRoute, DayCount, Department, GradeRatios};

use crate::support::*;

fn policy() -> CasePolicy {
    CasePolicy::default()
}

fn new_case(id: &str, uscc: &str, department: &str, opened: &str, level: &str, score: f64, due: &str) -> Case {
    Case::opening(id.into(), uscc.into(), department.into(), date(opened), level.into(), Some(score), date(due), "riskwarn")
}

fn book(cases: Vec<Case>) -> CaseBook {
    CaseBook { cases, ..Default::default() }
}

fn disposition(row: u64, uscc: &str, case_id: Option<&str>, department: &str, on: &str, result: &str) -> Disposition {
    Disposition {
        file: "dispositions.parquet".into(),
        row,
        uscc: uscc.into(),
        case_id: case_id.map(Into::into),
        department: department.into(),
        handled_on: date(on),
        action: "verify".into(),
        result: result.into(),
        handler_id: Some("h1".into()),
    }
}

/// (event, on, from, to) of one case's trail.
fn trail(b: &CaseBook, id: &str) -> Vec<(String, String, Option<CaseState>, CaseState)> {
    b.events.iter().filter(|e| e.case_id == id).map(|e| (e.event.to_string(), riskwarn::dates::format(e.on), e.from, e.to)).collect()
}

const DEPT: &str = "市场监督管理局";

#[test]
fn working_days_are_counted_by_hand() {
    // 2026-03-02 is a Monday (2026-01-01 was a Thursday).
    assert_eq!(riskwarn::dates::weekday(date("2026-03-02")), 0);
    assert_eq!(riskwarn::dates::weekday(date("1970-01-01")), 3);
    let plain = WorkCalendar { working_days: true, ..Default::default() };
    // Tue 3, Wed 4, Thu 5, Fri 6, Mon 9.
    assert_eq!(plain.add(date("2026-03-02"), 5), date("2026-03-09"));
    assert_eq!(plain.add(date("2026-03-06"), 1), date("2026-03-09"), "Friday + 1 working day is Monday");
    assert_eq!(plain.add(date("2026-03-02"), 0), date("2026-03-02"));
    let holiday = WorkCalendar { working_days: true, holidays: vec![date("2026-03-04")], extra_workdays: vec![] };
    assert_eq!(holiday.add(date("2026-03-02"), 5), date("2026-03-10"));
    let swapped = WorkCalendar { working_days: true, holidays: vec![], extra_workdays: vec![date("2026-03-07")] };
    assert_eq!(swapped.add(date("2026-03-02"), 5), date("2026-03-07"), "a 调休 Saturday counts");
    let calendar = WorkCalendar::default();
    assert_eq!(calendar.add(date("2026-03-02"), 5), date("2026-03-07"));
}

#[test]
fn an_unhandled_red_case_becomes_overdue_the_day_after_it_is_due_and_escalates_once() {
    let mut b = book(vec![new_case("R", "U1", DEPT, "2026-03-02", "red", 0.8, "2026-03-09"), new_case("O", "U2", DEPT, "2026-03-02", "orange", 0.5, "2026-03-09")]);
    // As of the due day itself nothing happens.
    advance(&mut b, &[], date("2026-03-09"), &policy()).unwrap();
    assert!(b.events.is_empty());
    assert_eq!(b.cases[0].state, CaseState::Open);
    // As of the next day: overdue at the start of 03-10, and a red one escalated (after 0 days).
    advance(&mut b, &[], date("2026-03-10"), &policy()).unwrap();
    assert_eq!(
        trail(&b, "R"),
        vec![
            ("overdue".into(), "2026-03-10".into(), Some(CaseState::Open), CaseState::Overdue),
            ("escalated".into(), "2026-03-10".into(), Some(CaseState::Overdue), CaseState::Escalated),
        ]
    );
    assert_eq!(b.cases[0].escalated_to.as_deref(), Some("上级市场监督管理部门"));
    // Orange: overdue, never escalated.
    assert_eq!(trail(&b, "O"), vec![("overdue".into(), "2026-03-10".into(), Some(CaseState::Open), CaseState::Overdue)]);
    // Later runs add nothing: escalation happens once.
    let before = b.events.len();
    advance(&mut b, &[], date("2026-04-30"), &policy()).unwrap();
    assert_eq!(b.events.len(), before);
    assert_eq!((b.cases[0].state, b.cases[1].state), (CaseState::Escalated, CaseState::Overdue));
}

#[test]
fn escalation_waits_the_days_the_policy_gives() {
    let p = CasePolicy { escalate_after_days: 2, ..policy() };
    let mut b = book(vec![new_case("R", "U1", DEPT, "2026-03-02", "red", 0.8, "2026-03-09")]);
    // Overdue on Tue 03-10; 2 working days later is Thu 03-12, at the start of that day.
    advance(&mut b, &[], date("2026-03-11"), &p).unwrap();
    assert_eq!(b.cases[0].state, CaseState::Overdue);
    advance(&mut b, &[], date("2026-03-12"), &p).unwrap();
    assert_eq!((b.cases[0].state, b.cases[0].escalated_on), (CaseState::Escalated, Some(date("2026-03-12"))));
    let mut b = book(vec![new_case("R", "U1", DEPT, "2026-03-02", "red", 0.8, "2026-03-09")]);
    advance(&mut b, &[], date("2026-03-12"), &CasePolicy { escalate_after_days: 3, ..policy() }).unwrap();
    assert_eq!(b.cases[0].state, CaseState::Overdue);
    assert_eq!(b.cases[0].escalated_on, None);
    // In one run long after, the escalation is still dated 03-12.
    let mut b = book(vec![new_case("R", "U1", DEPT, "2026-03-02", "red", 0.8, "2026-03-09")]);
    advance(&mut b, &[], date("2026-04-13"), &p).unwrap();
    assert_eq!(b.cases[0].escalated_on, Some(date("2026-03-12")));
}

#[test]
fn dispositions_close_cases_in_date_order_with_time() {
    let cases = || {
        book(vec![
            new_case("A", "U1", DEPT, "2026-03-02", "red", 0.8, "2026-03-09"),
            new_case("B", "U2", DEPT, "2026-03-02", "red", 0.8, "2026-03-09"),
            new_case("C", "U3", DEPT, "2026-03-02", "orange", 0.5, "2026-03-09"),
        ])
    };
    let mut b = cases();
    let d = vec![
        // Handled on the due day: on time.
        disposition(1, "U1", Some("A"), DEPT, "2026-03-09", "not_confirmed"),
        // Handled the day after: overdue and escalated first, then closed.
        disposition(2, "U2", None, DEPT, "2026-03-10", "confirmed"),
        // Pending, then unreachable.
        disposition(3, "U3", None, DEPT, "2026-03-04", "pending"),
        disposition(4, "U3", None, DEPT, "2026-03-05", "unreachable"),
    ];
    let (counts, rejected) = advance(&mut b, &d, date("2026-03-20"), &policy()).unwrap();
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!((counts.applied, counts.pending, counts.after_close, counts.already_applied), (4, 1, 0, 0));
    assert_eq!(trail(&b, "A"), vec![("disposition".into(), "2026-03-09".into(), Some(CaseState::Open), CaseState::ClosedNotConfirmed)]);
    assert_eq!(
        trail(&b, "B"),
        vec![
            ("overdue".into(), "2026-03-10".into(), Some(CaseState::Open), CaseState::Overdue),
            ("escalated".into(), "2026-03-10".into(), Some(CaseState::Overdue), CaseState::Escalated),
            ("disposition".into(), "2026-03-10".into(), Some(CaseState::Escalated), CaseState::ClosedConfirmed),
        ]
    );
    assert_eq!(
        trail(&b, "C"),
        vec![
            ("disposition".into(), "2026-03-04".into(), Some(CaseState::Open), CaseState::Open),
            ("disposition".into(), "2026-03-05".into(), Some(CaseState::Open), CaseState::ClosedUnreachable),
        ]
    );
    let c = &b.cases[2];
    assert_eq!((c.closed_on, c.last_result.as_deref(), c.last_handled_on), (Some(date("2026-03-05")), Some("unreachable"), Some(date("2026-03-05"))));
    // The next night's table holds the same rows and one more: only the new one is applied, and
    // a disposition after closing is recorded without changing the state.
    let mut more = d.clone();
    more.push(disposition(5, "U1", Some("A"), DEPT, "2026-03-25", "confirmed"));
    let events = b.events.len();
    let (counts, _) = advance(&mut b, &more, date("2026-03-26"), &policy()).unwrap();
    assert_eq!((counts.applied, counts.after_close, counts.already_applied), (1, 1, 4));
    assert_eq!(b.events.len(), events + 1);
    assert_eq!(b.cases[0].state, CaseState::ClosedNotConfirmed);
    assert_eq!(b.cases[0].last_result.as_deref(), Some("confirmed"));
    // Not yet known as of T: handled on T or later.
    let mut b = cases();
    let (counts, _) = advance(&mut b, &[disposition(1, "U1", None, DEPT, "2026-03-05", "confirmed")], date("2026-03-05"), &policy()).unwrap();
    assert_eq!((counts.applied, counts.not_yet_known), (0, 1));
    assert_eq!(b.cases[0].state, CaseState::Open);
}

#[test]
fn a_disposition_of_no_case_is_rejected_with_its_row_and_reason() {
    let mut b = book(vec![new_case("A", "U1", DEPT, "2026-03-02", "red", 0.8, "2026-03-09"), new_case("B", "U2", "应急管理局", "2026-03-02", "red", 0.8, "2026-03-09")]);
    let d = vec![
        disposition(1, "U1", Some("NOPE"), DEPT, "2026-03-05", "confirmed"),
        disposition(2, "U2", Some("A"), DEPT, "2026-03-05", "confirmed"),
        disposition(3, "U2", None, DEPT, "2026-03-05", "confirmed"),
        disposition(4, "U9", None, DEPT, "2026-03-05", "confirmed"),
        disposition(5, "U1", None, DEPT, "2026-03-01", "confirmed"),
        disposition(6, "U1", Some("A"), DEPT, "2026-03-01", "confirmed"),
        disposition(7, "U1", None, DEPT, "2026-03-06", "pending"),
        disposition(8, "U1", None, DEPT, "2026-03-06", "pending"),
    ];
    let (counts, mut rejected) = advance(&mut b, &d, date("2026-03-20"), &policy()).unwrap();
    rejected.sort_by_key(|r| r.row);
    let got: Vec<(u64, &str)> = rejected.iter().map(|r| (r.row, r.column.as_str())).collect();
    assert_eq!(got, vec![(1, "case_id"), (2, "uscc"), (3, "department"), (4, "uscc"), (5, "department"), (6, "handled_on"), (8, "handled_on")]);
    let reason = |row: u64| rejected.iter().find(|r| r.row == row).unwrap().reason.clone();
    assert!(reason(1).contains("unknown case 'NOPE'"));
    assert!(reason(2).contains("is about subject U1, not U2"));
    assert!(reason(3).contains("no case of department '市场监督管理局'") && reason(3).contains("B (应急管理局"), "{}", reason(3));
    assert!(reason(4).contains("no case was ever opened"));
    assert!(reason(6).contains("before case 'A' was opened on 2026-03-02"));
    assert!(reason(8).contains("same disposition as row 7"));
    assert_eq!((counts.applied, counts.rejected), (1, 7));
}

#[test]
fn departments_come_from_routes_then_plan_departments_by_longest_prefix() {
    let dept = |name: &str, industries: &[&str], regions: &[&str]| Department {
        name: name.into(),
        label_en: None,
        capacity: 1,
        industries: industries.iter().map(|s| s.to_string()).collect(),
        regions: regions.iter().map(|s| s.to_string()).collect(),
        key_sectors: vec![],
        ratios: GradeRatios { a: 0.1, b: 0.1, c: 0.1, d: 1.0 },
    };
    let plan = vec![dept("市场监督管理局", &["F", "C"], &[]), dept("卫生健康委员会", &["F5251", "Q"], &[]), dept("应急管理局", &["C"], &["3301"])];
    let mut p = policy();
    assert_eq!(p.department_for(&plan, "F5251", "330102"), "卫生健康委员会", "longer industry prefix wins");
    assert_eq!(p.department_for(&plan, "F5211", "330102"), "市场监督管理局");
    assert_eq!(p.department_for(&plan, "C2710", "330102"), "应急管理局", "same industry prefix, longer region prefix wins");
    assert_eq!(p.department_for(&plan, "C2710", "110101"), "市场监督管理局");
    assert_eq!(p.department_for(&plan, "A0111", "110101"), "市场监督管理局", "nobody covers A: the default");
    p.default_department = "综合执法局".into();
    assert_eq!(p.department_for(&plan, "A0111", "110101"), "综合执法局");
    p.routes = vec![CaseRoute { department: "药品监督管理局".into(), industries: vec!["F5251".into()], regions: vec![] }];
    assert_eq!(p.department_for(&plan, "F5251", "330102"), "药品监督管理局", "a route beats the plan");
}

fn warning<'a>(uscc: &'a str, level: &'a str, score: f64) -> WarningForCase<'a> {
    WarningForCase { uscc, level, score, industry: "F5211", region: "330102" }
}

/// A book with one case of U1 closed `not_confirmed` on 2026-03-09 (score 0.50 at opening).
fn checked_clean() -> CaseBook {
    let mut b = book(vec![new_case("A", "U1", DEPT, "2026-03-02", "red", 0.5, "2026-03-09")]);
    advance(&mut b, &[disposition(1, "U1", Some("A"), DEPT, "2026-03-09", "not_confirmed")], date("2026-03-10"), &policy()).unwrap();
    assert_eq!(b.cases[0].state, CaseState::ClosedNotConfirmed);
    b
}

#[test]
fn a_subject_checked_clean_is_not_reopened_in_the_quiet_period_but_still_listed() {
    let mut b = checked_clean();
    let opened = open(&mut b, &[warning("U1", "red", 0.55), warning("U2", "yellow", 0.2)], &HashMap::new(), date("2026-04-01"), &policy(), &[]).unwrap();
    assert_eq!(b.cases.len(), 1, "no new case");
    assert_eq!(opened.counts.suppressed, 1);
    assert_eq!((opened.per_warning[0].case, opened.per_warning[0].suppressed), (Some(0), true));
    assert_eq!(opened.per_warning[1].case, None);
    // An adverse record known before the disposition does not reopen it.
    let earlier = HashMap::from([("U1".to_string(), Adverse { known_on: date("2026-03-05"), what: "complaint" })]);
    let opened = open(&mut b, &[warning("U1", "red", 0.55)], &earlier, date("2026-04-01"), &policy(), &[]).unwrap();
    assert_eq!((opened.counts.suppressed, opened.counts.opened), (1, 0));
    // 180 days after the disposition it is still quiet; the day after, a warning opens a case.
    let p = policy();
    let last_quiet = date("2026-03-09") + p.suppress_not_confirmed_days;
    assert_eq!(open(&mut b, &[warning("U1", "red", 0.55)], &HashMap::new(), last_quiet, &p, &[]).unwrap().counts.suppressed, 1);
    let opened = open(&mut b, &[warning("U1", "red", 0.55)], &HashMap::new(), last_quiet + 1, &p, &[]).unwrap();
    assert_eq!((opened.counts.opened, opened.counts.suppressed), (1, 0));
    assert_eq!(b.cases.len(), 2);
}

#[test]
fn a_score_rise_or_a_new_adverse_record_reopens_a_quiet_subject() {
    // Score 0.60 over 0.50 at opening: a rise of 0.10 = reopen_score_rise.
    let mut b = checked_clean();
    let opened = open(&mut b, &[warning("U1", "red", 0.60)], &HashMap::new(), date("2026-04-01"), &policy(), &[]).unwrap();
    assert_eq!((opened.counts.opened, opened.counts.reopened_score_rise), (1, 1));
    let new = &b.cases[1];
    assert_eq!((new.state, new.opened_on, new.level.as_str()), (CaseState::Open, date("2026-04-01"), "red"));
    assert!(b.events.last().unwrap().detail.contains("reopened: score 0.600 rose 0.100"), "{}", b.events.last().unwrap().detail);
    // A penalty known after the disposition.
    let mut b = checked_clean();
    let later = HashMap::from([("U1".to_string(), Adverse { known_on: date("2026-03-20"), what: "penalty" })]);
    let opened = open(&mut b, &[warning("U1", "orange", 0.52)], &later, date("2026-04-01"), &policy(), &[]).unwrap();
    assert_eq!((opened.counts.opened, opened.counts.reopened_new_event), (1, 1));
    assert!(b.events.last().unwrap().detail.contains("a penalty known on 2026-03-20"));
}

#[test]
fn a_confirmed_case_does_not_hold_the_next_warning_back_and_an_open_case_counts_warnings_once_a_day() {
    let mut b = book(vec![new_case("A", "U1", DEPT, "2026-03-02", "red", 0.5, "2026-03-09"), new_case("B", "U2", DEPT, "2026-03-02", "red", 0.5, "2026-03-09")]);
    advance(&mut b, &[disposition(1, "U1", Some("A"), DEPT, "2026-03-05", "confirmed")], date("2026-03-06"), &policy()).unwrap();
    let ws = [warning("U1", "red", 0.5), warning("U2", "orange", 0.5), warning("U3", "yellow", 0.9)];
    let opened = open(&mut b, &ws, &HashMap::new(), date("2026-03-06"), &policy(), &[]).unwrap();
    assert_eq!((opened.counts.opened, opened.counts.already_open), (1, 1));
    assert_eq!(b.cases[1].times_warned, 2);
    // A second run on the same day does not count the warning again; a later one does.
    let mut again = b.clone();
    let _ = open(&mut again, &ws[1..2], &HashMap::new(), date("2026-03-06"), &policy(), &[]).unwrap();
    assert_eq!(again.cases[1].times_warned, 2);
    let _ = open(&mut again, &ws[1..2], &HashMap::new(), date("2026-03-07"), &policy(), &[]).unwrap();
    assert_eq!(again.cases[1].times_warned, 3);
    // The new case of U1: due 5 working days after Fri 03-06 = Fri 03-13, department by routing.
    let new = b.cases.iter().find(|c| c.uscc == "U1" && c.state == CaseState::Open).unwrap();
    assert_eq!(new.due_on, date("2026-03-13"));
    assert_eq!(new.case_id, riskwarn::cases::case_id("U1", date("2026-03-06")));
    assert!(new.case_id.starts_with("RW-20260306-"));
    // Yellow opens no case.
    assert!(!b.cases.iter().any(|c| c.uscc == "U3"));
}

#[test]
fn a_policy_with_a_bad_cases_section_is_refused() {
    let base = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/riskwarn.toml")).unwrap();
    for (from, to, needle) in [
        ("open_levels = [\"red\", \"orange\"]", "open_levels = [\"red\", \"purple\"]", "'purple' is not a warning level"),
        ("due_days = { red = 5, orange = 15 }", "due_days = { red = 5 }", "no entry for 'orange'"),
        ("reopen_score_rise = 0.10", "reopen_score_rise = 2.0", "outside [0, 1]"),
        ("holidays = []", "holidays = [\"2026-02-30\"]", "'2026-02-30' is not a date"),
    ] {
        assert!(base.contains(from), "{from}");
        let e = riskwarn::policy::Policy::parse(&base.replace(from, to)).unwrap_err().to_string();
        assert!(e.contains(needle), "{e}");
    }
    let p = riskwarn::policy::Policy::parse(&base).unwrap();
    assert_eq!(p.cases.day_count, DayCount::Working);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Over any sequence of nightly runs (warnings at random levels, dispositions arriving late,
    /// repeated or naming the wrong case), no case and no event is ever lost, every applied
    /// disposition is applied once, and each row is accounted for.
    #[test]
    fn no_case_or_event_is_ever_lost_over_a_sequence_of_runs(
        nights in proptest::collection::vec(
            (proptest::collection::vec((0usize..6, 0usize..4, 0.0f64..1.0), 0..6),
             proptest::collection::vec((0usize..6, 0usize..4, 0i32..20, any::<bool>()), 0..5)),
            1..7)
    ) {
        let subjects: Vec<String> = (0..6).map(|i| format!("U{i}")).collect();
        let levels = ["red", "orange", "yellow", "blue"];
        let results = ["confirmed", "not_confirmed", "unreachable", "pending"];
        let p = policy();
        let mut b = CaseBook::default();
        let mut table: Vec<Disposition> = Vec::new();
        let mut day = date("2026-03-02");
        for (warnings, new_rows) in nights {
            day += 7;
            for (s, r, back, by_id) in new_rows {
                let uscc = &subjects[s];
                let id = if by_id { b.cases.iter().rev().find(|c| &c.uscc == uscc).map(|c| c.case_id.clone()) } else { None };
                table.push(Disposition { row: table.len() as u64 + 1, ..disposition(0, uscc, id.as_deref(), DEPT, "2026-01-01", results[r]) });
                table.last_mut().unwrap().handled_on = day - back;
            }
            let before = b.clone();
            let (counts, rejected) = advance(&mut b, &table, day, &p).unwrap();
            prop_assert_eq!(counts.applied + counts.already_applied + counts.not_yet_known + counts.rejected, table.len() as u64);
            prop_assert_eq!(rejected.len() as u64, counts.rejected);
            let mut seen = std::collections::HashSet::new();
            for (s, l, score) in warnings {
                if seen.insert(s) {
                    let w = [warning(&subjects[s], levels[l], score)];
                    open(&mut b, &w, &HashMap::new(), day, &p, &[]).unwrap();
                }
            }
            // Nothing lost: every earlier case is still there with its id and opening, every
            // earlier event is still the same prefix of the trail.
            prop_assert!(b.cases.len() >= before.cases.len());
            for (old, new) in before.cases.iter().zip(&b.cases) {
                prop_assert_eq!((&old.case_id, old.opened_on, &old.uscc), (&new.case_id, new.opened_on, &new.uscc));
                prop_assert!(!(old.state.is_open() == false && new.state.is_open()), "a closed case reopened");
            }
            prop_assert_eq!(&b.events[..before.events.len()], &before.events[..]);
            // Each disposition key is applied at most once; at most one open case per subject.
            let keys: Vec<&str> = b.events.iter().filter_map(|e| e.disposition_key.as_deref()).collect();
            let unique: std::collections::HashSet<&&str> = keys.iter().collect();
            prop_assert_eq!(keys.len(), unique.len());
            for s in &subjects {
                prop_assert!(b.cases.iter().filter(|c| &c.uscc == s && c.state.is_open()).count() <= 1);
            }
            // A rerun of the same night changes nothing.
            let mut rerun = b.clone();
            let (again, _) = advance(&mut rerun, &table, day, &p).unwrap();
            prop_assert_eq!(again.applied, 0);
            prop_assert_eq!(&rerun, &b);
            // The book survives its own frames.
            // The book survives its own frames; the trail read back is carried as it was written.
            let back = CaseBook::from_frames(&b.cases_frame().unwrap(), &b.events_frame().unwrap()).unwrap();
            prop_assert_eq!(&back.cases, &b.cases);
            prop_assert_eq!(back.event_count(), b.event_count());
            prop_assert_eq!(back.events_frame().unwrap(), b.events_frame().unwrap());
            prop_assert_eq!(back.applied_disposition_keys().unwrap(), b.applied_disposition_keys().unwrap());
        }
    }
}

fn copy_sample(to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn run_json(data: &std::path::Path, out: &std::path::Path, as_of: &str) -> serde_json::Value {
    riskwarn().args(["run", "--quiet", "--json", "--as-of", as_of, "--data"]).arg(data).arg("--out").arg(out).run().status(0).json()
}

fn column(df: &polars::prelude::DataFrame, name: &str) -> Vec<String> {
    df.column(name).unwrap().cast(&polars::prelude::DataType::String).unwrap().str().unwrap().iter().map(|v| v.unwrap_or("").to_string()).collect()
}

#[test]
fn the_sample_runs_night_after_night_without_losing_a_case_and_reruns_byte_for_byte() {
    let out = tempdir();
    let data = std::path::Path::new("data/sample");
    // 2026-06-01: the generator's earlier run (2026-05-15) is imported, dispositions until then applied.
    let first = run_json(data, out.path(), "2026-06-01");
    let first_dir = out.path().join(first["run_id"].as_str().unwrap());
    let (cases1, events1) = (read(&first_dir.join("cases.parquet")), read(&first_dir.join("case_events.parquet")));
    assert_eq!(first["cases"]["imported"], 697);
    let later = first["cases"]["dispositions"]["not_yet_known"].as_u64().unwrap();
    assert!(later > 0, "some follow-ups happen after 2026-06-01");
    let second = run_json(data, out.path(), "2026-07-01");
    assert_eq!(second["previous_run"], first["run_id"]);
    let second_dir = out.path().join(second["run_id"].as_str().unwrap());
    let (cases2, events2) = (read(&second_dir.join("cases.parquet")), read(&second_dir.join("case_events.parquet")));
    // Every case of the first night is in the second, the first night's trail is kept whole, and
    // what the first night applied is not applied again.
    let ids2: std::collections::HashSet<String> = column(&cases2, "case_id").into_iter().collect();
    assert!(column(&cases1, "case_id").iter().all(|id| ids2.contains(id)));
    let key = |e: &polars::prelude::DataFrame| -> Vec<String> {
        let cols: Vec<Vec<String>> = ["case_id", "on", "event", "to", "recorded_as_of"].iter().map(|c| column(e, c)).collect();
        (0..e.height()).map(|i| cols.iter().map(|c| c[i].as_str()).collect::<Vec<_>>().join("|")).collect()
    };
    let (k1, k2) = (key(&events1), key(&events2));
    assert_eq!(&k2[..k1.len()], &k1[..]);
    let d1 = &first["cases"]["dispositions"];
    let d2 = &second["cases"]["dispositions"];
    assert_eq!(d2["already_applied"].as_u64().unwrap(), d1["applied"].as_u64().unwrap());
    assert_eq!(d2["applied"].as_u64().unwrap(), later);
    assert_eq!(second["cases"]["imported"], 0, "imported once; the book carries them");
    // Every state shows on the sample.
    let states: std::collections::HashSet<String> = column(&cases2, "state").into_iter().collect();
    for s in CaseState::ALL {
        assert!(states.contains(s.as_str()), "no case is {}: {states:?}", s.as_str());
    }
    // A rerun of the second night writes the same bytes.
    let again = tempdir();
    let out_copy = again.path().join("out");
    std::fs::create_dir_all(&out_copy).unwrap();
    let _ = run_json(data, &out_copy, "2026-06-01");
    let rerun = run_json(data, &out_copy, "2026-07-01");
    assert_eq!(rerun["run_id"], second["run_id"]);
    let rerun_dir = out_copy.join(rerun["run_id"].as_str().unwrap());
    for f in ["cases.parquet", "case_events.parquet", "warnings.parquet", "warnings.xlsx", "warnings.csv"] {
        assert_eq!(std::fs::read(second_dir.join(f)).unwrap(), std::fs::read(rerun_dir.join(f)).unwrap(), "{f} differs on a rerun");
    }
    // The warning list shows each warning's case; red and orange ones all have one.
    let w = read(&second_dir.join("warnings.parquet"));
    let (levels, ids, states) = (column(&w, "risk_level"), column(&w, "case_id"), column(&w, "case_state"));
    for i in 0..w.height() {
        if levels[i] == "red" || levels[i] == "orange" {
            assert!(!ids[i].is_empty() && !states[i].is_empty(), "row {i}");
        }
    }
    let csv = std::fs::read_to_string(second_dir.join("warnings.csv")).unwrap();
    assert!(csv.lines().next().unwrap().contains("案件编号") && csv.contains("已逾期升级督办"));
    let public = std::fs::read_to_string(second_dir.join("warnings_public.csv")).unwrap();
    assert!(!public.lines().next().unwrap().contains("案件") && !public.contains("RW-2026"), "cases are internal");
    let report = std::fs::read_to_string(second_dir.join("report.html")).unwrap();
    assert!(report.contains("预警跟踪与反馈处理") && report.contains("逾期案件"));
    assert!(first["previous_plan"].is_null(), "the first night has no plan before it");
    // The second night follows the first night's plan through June: per department, selected
    // units with any inspection in [06-01, 07-01), counted here from the files themselves.
    let plan = read(&first_dir.join("plan.parquet"));
    let inspections = read(&data.join("inspections.parquet"));
    let (on, codes) = (column(&inspections, "inspected_on"), column(&inspections, "uscc"));
    let visited: std::collections::HashSet<&str> =
        (0..inspections.height()).filter(|&i| on[i].as_str() >= "2026-06-01" && on[i].as_str() < "2026-07-01").map(|i| codes[i].as_str()).collect();
    let (plan_codes, plan_depts, selected) = (column(&plan, "uscc"), column(&plan, "department"), column(&plan, "selected"));
    let mut expected: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
    for i in (0..plan.height()).filter(|&i| selected[i] == "true") {
        let e = expected.entry(plan_depts[i].clone()).or_default();
        e.0 += 1;
        e.1 += visited.contains(plan_codes[i].as_str()) as u64;
    }
    let followed = &second["previous_plan"];
    assert_eq!((followed["run_id"].as_str(), followed["from"].as_str(), followed["to"].as_str()), (first["run_id"].as_str(), Some("2026-06-01"), Some("2026-07-01")));
    let got: std::collections::BTreeMap<String, (u64, u64)> = followed["completion"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["department"].as_str().unwrap().to_string(), (d["selected"].as_u64().unwrap(), d["inspected"].as_u64().unwrap())))
        .collect();
    assert_eq!(got, expected);
    assert!(expected.values().any(|(_, inspected)| *inspected > 0), "some selected unit was inspected in June: {expected:?}");
    assert!(report.contains("上期抽查计划执行情况"));
}

#[test]
fn a_disposition_of_no_case_goes_to_rejected_parquet_and_the_counts_still_reconcile() {
    use polars::prelude::*;
    let dir = tempdir();
    let data = dir.path().join("data");
    copy_sample(&data);
    let mut d = read(&data.join("dispositions.parquet"));
    let n = d.height();
    let first_uscc = column(&d, "uscc")[0].clone();
    let mut bad = d.head(Some(2));
    bad.with_column(Column::new("case_id".into(), [Some("RW-20990101-000000000000"), None])).unwrap();
    bad.with_column(Column::new("department".into(), ["市场监督管理局", "没有这个部门"])).unwrap();
    bad.with_column(Column::new("uscc".into(), [first_uscc.as_str(), first_uscc.as_str()])).unwrap();
    d.vstack_mut(&bad).unwrap();
    write(&mut d, &data.join("dispositions.parquet"));
    let out = dir.path().join("out");
    let m = run_json(&data, &out, "2026-07-01");
    let t = m["tables"].as_array().unwrap().iter().find(|t| t["table"] == "dispositions").unwrap();
    assert_eq!((t["read"].as_u64(), t["used"].as_u64(), t["rejected"].as_u64()), (Some(n as u64 + 2), Some(n as u64), Some(2)));
    assert_eq!(m["cases"]["dispositions"]["rejected"], 2);
    let rejected = read(&out.join("latest/rejected.parquet"));
    let rows: Vec<(String, String, String, String)> = {
        let (tables, files, rows, reasons) = (column(&rejected, "table"), column(&rejected, "file"), column(&rejected, "row"), column(&rejected, "reason"));
        (0..rejected.height()).filter(|&i| tables[i] == "dispositions").map(|i| (files[i].clone(), rows[i].clone(), column(&rejected, "column")[i].clone(), reasons[i].clone())).collect()
    };
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[0].0.as_str(), rows[0].1.clone(), rows[0].2.as_str()), ("dispositions.parquet", (n + 1).to_string(), "case_id"));
    assert!(rows[0].3.contains("unknown case 'RW-20990101-000000000000'"));
    assert_eq!((rows[1].1.clone(), rows[1].2.as_str()), ((n + 2).to_string(), "department"));
    assert!(rows[1].3.contains("no case of department '没有这个部门'"), "{}", rows[1].3);
}

/// `n` trail events of varied content (some without a state before or a disposition key).
fn events(from: usize, n: usize) -> Vec<riskwarn::cases::CaseEvent> {
    (from..from + n)
        .map(|i| riskwarn::cases::CaseEvent {
            case_id: format!("RW-20260101-{:012x}", i / 3).into(),
            on: 20_000 + (i / 1000) as i32,
            event: ["opened", "disposition", "overdue"][i % 3].into(),
            from: (i % 3 != 0).then_some(CaseState::Open),
            to: CaseState::ALL[i % 6],
            by: if i % 3 == 1 { format!("H{:04}", i % 977).into() } else { "riskwarn".into() },
            detail: format!("level red, score 0.{:03}, due 2026-01-{:02}", i % 1000, 1 + i % 28).into(),
            disposition_key: (i % 3 == 1).then(|| format!("{:016x}", (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)).into()),
            recorded_as_of: 20_000 + (i / 1000) as i32 + 1,
        })
        .collect()
}

#[test]
fn a_growing_trail_copies_its_full_row_groups_and_writes_the_bytes_a_full_write_gives() {
    use riskwarn::cases::PLAIN_EVENT_COLUMNS;
    use riskwarn::io::{read_output_encoded, write_parquet_growing, OutputKind, GROWING_ROW_GROUP};
    let dir = tempdir();
    let path = |name: &str| dir.path().join(name);
    let (earlier, later) = (2 * GROWING_ROW_GROUP + 5_000, GROWING_ROW_GROUP + 7);
    let no_cases = CaseBook::default().cases_frame().unwrap();
    // Night one writes its trail whole; night two reads it back and adds its own events.
    let night_one = CaseBook { events: events(0, earlier), ..Default::default() };
    assert_eq!(write_parquet_growing(&night_one.events_frame().unwrap(), &path("one.parquet"), PLAIN_EVENT_COLUMNS, None).unwrap(), 0);
    let (trail, file) = read_output_encoded(&path("one.parquet"), OutputKind::CaseEvents).unwrap();
    let mut night_two = CaseBook::from_files(&no_cases, &trail, file).unwrap();
    assert!(night_two.earlier_file.is_some(), "the trail read back is the file's rows, so it is carried");
    night_two.events = events(earlier, later);
    let copied = write_parquet_growing(&night_two.events_frame().unwrap(), &path("two.parquet"), PLAIN_EVENT_COLUMNS, night_two.earlier_file.as_ref()).unwrap();
    assert_eq!(copied, 2 * GROWING_ROW_GROUP, "the two full row groups of night one are copied");
    // The same trail written whole in one go: the same bytes.
    let whole = CaseBook { events: events(0, earlier + later), ..Default::default() };
    write_parquet_growing(&whole.events_frame().unwrap(), &path("whole.parquet"), PLAIN_EVENT_COLUMNS, None).unwrap();
    assert!(std::fs::read(path("two.parquet")).unwrap() == std::fs::read(path("whole.parquet")).unwrap(), "a grown trail differs from the same trail written whole");
    assert_eq!(read(&path("two.parquet")), whole.events_frame().unwrap());
    // A trail the check had to mend (a missing `detail` read back as empty) is not copied from:
    // the copy would carry the null the book no longer has.
    let mut frame = night_one.events_frame().unwrap();
    let detail: polars::prelude::StringChunked = (0..frame.height()).map(|i| (i != 3).then_some("x")).collect();
    frame.with_column(polars::prelude::IntoColumn::into_column(detail.with_name("detail".into()))).unwrap();
    write_parquet_growing(&frame, &path("mended.parquet"), PLAIN_EVENT_COLUMNS, None).unwrap();
    let (trail, file) = read_output_encoded(&path("mended.parquet"), OutputKind::CaseEvents).unwrap();
    let book = CaseBook::from_files(&no_cases, &trail, file).unwrap();
    assert!(book.earlier_file.is_none());
    assert_eq!(book.earlier_events.unwrap().column("detail").unwrap().null_count(), 0);
}
