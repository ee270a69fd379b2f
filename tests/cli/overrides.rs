//! The feedback tables of issue 13: `dispositions` and `overrides` are quarantined like every
//! table, and an approved grade override replaces the grade of score and hard rules — first in
//! the reasons, the earlier grade kept in `grade_before_override`, counted in the manifest.

use std::collections::HashMap;
use std::path::Path;

use polars::prelude::*;
use riskwarn::overrides::{apply, reason_label, OverrideCounts};
use riskwarn::policy::Grade;
use riskwarn::validate::{validate, ValidateOptions};

use crate::support::*;

/// (row, column, reason) of the rejected rows of one table, by row.
fn rejections(v: &riskwarn::validate::Validated, table: &str) -> Vec<(u64, String, String)> {
    let df = v.rejected.clone().lazy().filter(col("table").eq(lit(table))).sort(["row"], Default::default()).collect().unwrap();
    let rows = df.column("row").unwrap().u64().unwrap();
    let cols = df.column("column").unwrap().str().unwrap();
    let reasons = df.column("reason").unwrap().str().unwrap();
    (0..df.height()).map(|i| (rows.get(i).unwrap(), cols.get(i).unwrap().to_string(), reasons.get(i).unwrap().to_string())).collect()
}

fn assert_rejections(v: &riskwarn::validate::Validated, table: &str, expect: &[(u64, &str, &str)]) {
    let got = rejections(v, table);
    assert_eq!(got.len(), expect.len(), "{got:#?}");
    for ((row, column, reason), (er, ec, needle)) in got.iter().zip(expect) {
        assert_eq!((*row, column.as_str()), (*er, *ec), "{reason}");
        assert!(reason.contains(needle), "row {row}: {reason:?} lacks {needle:?}");
    }
}

fn counts_of(v: &riskwarn::validate::Validated, table: &str) -> (u64, u64, u64) {
    let c = v.counts.iter().find(|c| c.table == table).unwrap_or_else(|| panic!("no counts for {table}"));
    (c.read, c.used, c.rejected)
}

fn overrides_frame(rows: &[(&str, &str, &str, &str, Option<&str>, Option<&str>)]) -> DataFrame {
    DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
        Column::new("grade".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
        Column::new("reason".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
        Column::new("approved_by".into(), rows.iter().map(|r| r.3).collect::<Vec<_>>()),
        dates("valid_from", &rows.iter().map(|r| r.4).collect::<Vec<_>>()),
        dates("valid_to", &rows.iter().map(|r| r.5).collect::<Vec<_>>()),
    ])
    .unwrap()
}

#[test]
fn bad_dispositions_rows_are_quarantined_with_their_reason() {
    let dir = tempdir();
    let codes: Vec<String> = (0..2).map(code).collect();
    write(&mut subjects_frame(&codes), &dir.path().join("subjects.parquet"));
    let a = codes[0].as_str();
    let unknown = code(99);
    let n = 9;
    let mut dispositions = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), [a, a, unknown.as_str(), a, a, a, a, a, a]),
        Column::new("case_id".into(), [Some("C-2026-001"), None, None, None, None, None, None, Some("  "), None]),
        Column::new("department".into(), ["市场监督管理局", "市场监督管理局", "市场监督管理局", "市场监督管理局", "市场监督管理局", "市场监督管理局", "市场监督管理局", "市场监督管理局", ""]),
        dates(
            "handled_on",
            &[Some("2026-05-10"), Some("2026-05-11"), Some("2026-05-10"), Some("2026-05-10"), Some("2026-05-10"), Some("2026-07-01"), Some("1949-09-30"), Some("2026-05-10"), Some("2026-05-10")],
        ),
        Column::new("action".into(), ["verify", "case", "verify", "inspect", "order", "refer", "interview", "verify", "verify"]),
        Column::new("result".into(), ["confirmed", "pending", "confirmed", "confirmed", "true", "unreachable", "not_confirmed", "confirmed", "confirmed"]),
        Column::new("handler_id".into(), [Some("H01"), None, None, None, None, None, None, None, None]),
        Column::new("note".into(), vec![Some("内部备注"); n]),
    ])
    .unwrap();
    write(&mut dispositions, &dir.path().join("dispositions.parquet"));
    let v = validate(riskwarn::io::load_dir(dir.path(), riskwarn::messages::Messages::EN).unwrap(), &ValidateOptions { reference_date: date("2026-06-30") }).unwrap();
    assert_rejections(&v, "dispositions", &[
        (3, "uscc", "no subject"),
        (4, "action", "unknown value 'inspect'"),
        (5, "result", "unknown value 'true'"),
        (6, "handled_on", "in the future"),
        (7, "handled_on", "before 1949-10-01"),
        (8, "case_id", "empty"),
        (9, "department", "empty"),
    ]);
    assert_eq!(counts_of(&v, "dispositions"), (9, 2, 7), "read = used + rejected");
    let used = v.table("dispositions").unwrap();
    assert_eq!(used.column("case_id").unwrap().null_count(), 1, "a null case_id is allowed (the subject's open case)");
}

#[test]
fn bad_overrides_rows_are_quarantined_with_their_reason() {
    let dir = tempdir();
    let codes: Vec<String> = (0..2).map(code).collect();
    write(&mut subjects_frame(&codes), &dir.path().join("subjects.parquet"));
    let (a, b) = (codes[0].as_str(), codes[1].as_str());
    let unknown = code(99);
    let mut overrides = overrides_frame(&[
        (a, "B", "信用修复完成", "张科长", Some("2026-01-10"), None),
        // An end date after the reference date is allowed: it is when the override expires.
        (b, "A", "异议成立", "张科长", Some("2026-02-01"), Some("2027-01-31")),
        (unknown.as_str(), "B", "异议成立", "张科长", Some("2026-01-10"), None),
        (a, "E", "异议成立", "张科长", Some("2026-03-01"), None),
        (a, "B", "异议成立", "张科长", Some("2026-03-02"), Some("2026-03-01")),
        (a, "B", "异议成立", "张科长", Some("2026-07-01"), None),
        (a, "B", "异议成立", "张科长", Some("1949-01-01"), None),
        (a, "B", " ", "张科长", Some("2026-03-03"), None),
        (a, "B", "异议成立", "", Some("2026-03-04"), None),
        (a, "C", "异议成立", "张科长", None, None),
        (a, "C", "重复的核准", "李科长", Some("2026-01-10"), None),
        (b, "B", "异议成立", "张科长", Some("2026-03-05"), Some("1949-09-30")),
    ]);
    write(&mut overrides, &dir.path().join("overrides.parquet"));
    let v = validate(riskwarn::io::load_dir(dir.path(), riskwarn::messages::Messages::EN).unwrap(), &ValidateOptions { reference_date: date("2026-06-30") }).unwrap();
    assert_rejections(&v, "overrides", &[
        (3, "uscc", "no subject"),
        (4, "grade", "unknown value 'E'"),
        (5, "valid_to", "is before valid_from"),
        (6, "valid_from", "in the future"),
        (7, "valid_from", "before 1949-10-01"),
        (8, "reason", "empty"),
        (9, "approved_by", "empty"),
        (10, "valid_from", "missing value"),
        (11, "uscc", "duplicate (uscc, valid_from)"),
        (12, "valid_to", "before 1949-10-01"),
    ]);
    assert_eq!(counts_of(&v, "overrides"), (12, 2, 10), "read = used + rejected");
}

#[test]
fn the_override_in_force_is_the_latest_approved_before_t_and_not_expired() {
    let t = date("2026-05-01");
    let frame = overrides_frame(&[
        ("s1", "B", "in force", "x", Some("2026-03-01"), None),
        ("s2", "A", "expired the day before T", "x", Some("2025-01-01"), Some("2026-04-30")),
        ("s2", "C", "still holds on its last day", "x", Some("2025-02-01"), Some("2026-05-01")),
        ("s3", "A", "approved on T, not yet known", "x", Some("2026-05-01"), None),
        ("s4", "C", "older", "x", Some("2025-06-01"), None),
        ("s4", "B", "newer", "x", Some("2026-02-01"), Some("2027-06-30")),
        ("s4", "D", "oldest", "x", Some("2025-01-01"), None),
        ("gone", "A", "subject not scored", "x", Some("2026-01-01"), None),
    ]);
    let scored = ["s1", "s2", "s3", "s4", "s5"];
    let applied = apply(&frame, scored, t).unwrap();
    let got: Vec<Option<(Grade, &str)>> = (0..scored.len()).map(|i| applied.of(i).map(|o| (o.grade, o.reason.as_str()))).collect();
    assert_eq!(got, vec![
        Some((Grade::B, "in force")),
        Some((Grade::C, "still holds on its last day")),
        None,
        Some((Grade::B, "newer")),
        None,
    ]);
    assert_eq!(applied.counts, OverrideCounts { applied: 3, superseded: 2, expired: 1, not_yet_valid: 1, subject_not_scored: 1 });
    let first = applied.of(0).unwrap();
    assert_eq!(reason_label(first, riskwarn::messages::Messages::ZH), "异议申诉核准(→B): in force");
    assert_eq!(reason_label(first, riskwarn::messages::Messages::EN), "appeal approved (grade B): in force");
    // A day later the override ending on 2026-05-01 has expired; the one approved on T is in force.
    let later = apply(&frame, scored, t + 1).unwrap();
    assert_eq!(later.of(1), None);
    assert_eq!(later.of(2).map(|o| o.grade), Some(Grade::A));
}

/// The sample data with an `overrides` table and a `dispositions` table (one good row, one for an
/// unknown subject, both with internal notes) added, in a new directory.
fn sample_with(overrides: &mut DataFrame, dir: &Path) {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample");
    for e in std::fs::read_dir(&sample).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    write(overrides, &dir.join("overrides.parquet"));
    let known = overrides.column("uscc").unwrap().str().unwrap().get(0).unwrap().to_string();
    let mut dispositions = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), [known, code(999_999)]),
        Column::new("case_id".into(), [None::<&str>, None]),
        Column::new("department".into(), ["市场监督管理局"; 2]),
        dates("handled_on", &[Some("2026-04-20"), Some("2026-04-20")]),
        Column::new("action".into(), ["verify"; 2]),
        Column::new("result".into(), ["not_confirmed"; 2]),
        Column::new("handler_id".into(), [Some("H07"), None]),
        Column::new("note".into(), [Some("内部备注：当事人情绪激动"), Some("内部备注")]),
    ])
    .unwrap();
    write(&mut dispositions, &dir.join("dispositions.parquet"));
}

fn run_on(data: &Path, out: &Path) -> (serde_json::Value, std::path::PathBuf) {
    let m = riskwarn()
        .args(["run", "--quiet", "--json", "--as-of", "2026-05-01", "--data"])
        .arg(data)
        .arg("--out")
        .arg(out)
        .run()
        .status(0)
        .json();
    let dir = out.join(m["run_id"].as_str().unwrap());
    (m, dir)
}

/// uscc → (credit_grade, grade_before_override, reason_text).
fn grades_of(w: &DataFrame) -> HashMap<String, (String, Option<String>, String)> {
    let u = w.column("uscc").unwrap().str().unwrap();
    let g = w.column("credit_grade").unwrap().str().unwrap();
    let b = w.column("grade_before_override").unwrap().str().unwrap();
    let r = w.column("reason_text").unwrap().str().unwrap();
    (0..w.height())
        .map(|i| (u.get(i).unwrap().to_string(), (g.get(i).unwrap().to_string(), b.get(i).map(String::from), r.get(i).unwrap().to_string())))
        .collect()
}

fn probability_sum(plan: &DataFrame, uscc: &str) -> f64 {
    let u = plan.column("uscc").unwrap().str().unwrap();
    let p = plan.column("inclusion_probability").unwrap().f64().unwrap();
    (0..plan.height()).filter(|&i| u.get(i) == Some(uscc)).map(|i| p.get(i).unwrap()).sum()
}

#[test]
fn an_override_in_force_replaces_the_grade_and_leads_the_reasons() {
    let base_out = tempdir();
    let base_data = base_out.path().join("data");
    sample_without(&["overrides.parquet"], &base_data);
    let (base_m, base_dir) = run_on(&base_data, &base_out.path().join("out"));
    let base_w = read(&base_dir.join("warnings.parquet"));
    assert_eq!(base_w.column("grade_before_override").unwrap().null_count(), base_w.height(), "no overrides table, no override");
    let base = grades_of(&base_w);
    // Hand-picked subjects: the top of the list (D), the bottom (A), and three more.
    let uscc = base_w.column("uscc").unwrap().str().unwrap();
    let n = base_w.height();
    // The bottom: the lowest-ranked subject graded by its score alone (a hard rule can lift one).
    let last_a = (0..n).rev().find(|&i| base[uscc.get(i).unwrap()].0 == "A").unwrap();
    assert!(last_a > n - 100, "the bottom of the list is A but for a few hard rules");
    let (top, bottom, expired, future, twice) =
        (uscc.get(0).unwrap(), uscc.get(last_a).unwrap(), uscc.get(10).unwrap(), uscc.get(20).unwrap(), uscc.get(30).unwrap());
    assert_eq!(base[top].0, "D");
    assert_eq!(base[bottom].0, "A");
    let subjects = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample/subjects.parquet"));
    let revoked = subjects
        .lazy()
        .filter(col("status").eq(lit("revoked")))
        .select([col("uscc")])
        .collect()
        .unwrap()
        .column("uscc")
        .unwrap()
        .str()
        .unwrap()
        .get(0)
        .unwrap()
        .to_string();
    let mut overrides = overrides_frame(&[
        (top, "B", "异议成立，原处罚决定已撤销", "王处长", Some("2026-03-01"), None),
        (bottom, "D", "复核发现提供虚假材料", "王处长", Some("2026-04-01"), Some("2026-05-01")),
        (expired, "A", "已到期", "王处长", Some("2025-01-01"), Some("2026-04-30")),
        (future, "A", "尚未生效", "王处长", Some("2026-05-01"), None),
        (twice, "C", "较早的核准", "王处长", Some("2025-06-01"), None),
        (twice, "A", "较新的核准", "王处长", Some("2026-02-01"), Some("2027-06-30")),
        (revoked.as_str(), "A", "已注销主体", "王处长", Some("2026-01-01"), None),
    ]);
    let data = tempdir();
    sample_with(&mut overrides, data.path());
    let out = tempdir();
    let (m, dir) = run_on(data.path(), out.path());
    let w = read(&dir.join("warnings.parquet"));
    let got = grades_of(&w);
    let sep = "；";
    for (code, grade, label) in [(top, "B", "异议申诉核准(→B): 异议成立，原处罚决定已撤销"), (bottom, "D", "异议申诉核准(→D): 复核发现提供虚假材料"), (twice, "A", "异议申诉核准(→A): 较新的核准")] {
        let (g, before, text) = &got[code];
        assert_eq!(g, grade, "{code}");
        assert_eq!(before.as_deref(), Some(base[code].0.as_str()), "the grade from score and hard rules stays visible");
        assert_eq!(text, &format!("{label}{sep}{}", base[code].2), "the override leads the reasons");
    }
    for code in [expired, future] {
        assert_eq!(got[code], base[code], "an expired or not yet valid override changes nothing");
    }
    let changed: Vec<&String> = got.keys().filter(|k| got[*k] != base[*k]).collect();
    assert_eq!(changed.len(), 3, "only the overridden subjects change: {changed:?}");
    assert_eq!(got.len(), base.len());

    assert_eq!(
        m["overrides"],
        serde_json::json!({"applied": 3, "superseded": 1, "expired": 1, "not_yet_valid": 1, "subject_not_scored": 1})
    );
    let table = m["tables"].as_array().unwrap().iter().find(|t| t["table"] == "overrides").unwrap().clone();
    assert_eq!((table["read"].as_u64(), table["used"].as_u64(), table["rejected"].as_u64()), (Some(7), Some(7), Some(0)));
    let grade_count = |m: &serde_json::Value, g: &str| m["grades"].as_array().unwrap().iter().find(|v| v[0] == g).unwrap()[1].as_i64().unwrap();
    let moved = |g: &str| [(top, "B"), (bottom, "D"), (twice, "A")].iter().map(|(c, to)| (*to == g) as i64 - (base[*c].0 == g) as i64).sum::<i64>();
    for g in ["A", "B", "C", "D"] {
        assert_eq!(grade_count(&m, g), grade_count(&base_m, g) + moved(g), "manifest grade {g} counts final grades");
    }

    // The plan follows the final grade: the bottom subject, now D, is covered far more.
    let (base_plan, plan) = (read(&base_dir.join("plan.parquet")), read(&dir.join("plan.parquet")));
    assert!(probability_sum(&plan, bottom) > probability_sum(&base_plan, bottom), "the plan uses the overridden grade");

    // Supervisor files carry the earlier grade; the public file carries the decision, not who approved it.
    let csv = std::fs::read_to_string(dir.join("warnings.csv")).unwrap();
    assert!(csv.lines().next().unwrap().contains("信用风险分类,申诉前信用风险分类,预警理由"));
    let top_line = csv.lines().find(|l| l.contains(top)).unwrap();
    assert!(top_line.contains(&format!(",B,{},", base[top].0)), "{top_line}");
    let public = std::fs::read_to_string(dir.join("warnings_public.csv")).unwrap();
    assert!(!public.lines().next().unwrap().contains("申诉前"), "the grade before a credit repair is not published");
    assert!(public.lines().find(|l| l.contains(top)).unwrap().contains("异议申诉核准(→B): 异议成立"));
    // Neither who approved an override nor a disposition's internal note reaches any output.
    for f in ["warnings.csv", "warnings_public.csv", "report.html", "manifest.json"] {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        assert!(!text.contains("王处长") && !text.contains("内部备注"), "approved_by or a note reached {f}");
    }
    for f in ["warnings.parquet", "plan.parquet"] {
        let frame = read(&dir.join(f));
        for c in frame.columns().iter().filter(|c| c.dtype() == &DataType::String) {
            assert!(c.str().unwrap().iter().flatten().all(|v| !v.contains("王处长") && !v.contains("内部备注")), "{f}: {}", c.name());
        }
    }
    let dispositions = m["tables"].as_array().unwrap().iter().find(|t| t["table"] == "dispositions").unwrap().clone();
    // One row fails validation; the other passes it but follows up no case (this directory has
    // none), so the case step rejects it too: read = used + rejected still holds.
    assert_eq!((dispositions["read"].as_u64(), dispositions["used"].as_u64(), dispositions["rejected"].as_u64()), (Some(2), Some(0), Some(2)), "validated and counted");
}
