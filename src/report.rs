//! report.html: one self-contained page for supervisors and analysts (SPEC §2) — counts by
//! level, grade and region, the score distribution, the model's validation (lift, calibration),
//! stability, the top of the list with reasons, and the plan per department. Inline SVG only.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use polars::prelude::*;

use crate::error::Result;
use crate::model::{Model, Stability};
use crate::plan::Plan;
use crate::validate::TableCounts;

pub struct ReportInput<'a> {
    pub run_id: &'a str,
    pub as_of: &'a str,
    pub model: &'a Model,
    pub warnings: &'a DataFrame,
    pub plan: &'a Plan,
    pub stability: &'a [Stability],
    pub tables: &'a [TableCounts],
    pub notices: &'a [String],
    pub cases: &'a crate::cases::Feedback,
    /// The previous run's plan followed through up to this run.
    pub previous_plan: Option<&'a crate::run::PreviousPlan>,
    pub zh: bool,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = String::from("<table><tr>");
    for h in head {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s += "</tr>";
    for r in rows {
        s += "<tr>";
        for c in r {
            let _ = write!(s, "<td>{}</td>", esc(c));
        }
        s += "</tr>";
    }
    s + "</table>"
}

/// A bar chart of (label, value) as inline SVG.
fn bars(data: &[(String, f64)], color: &str) -> String {
    let (w, h, pad) = (640.0, 200.0, 30.0);
    let max = data.iter().map(|d| d.1).fold(0.0, f64::max).max(1e-12);
    let bw = (w - 2.0 * pad) / data.len().max(1) as f64;
    let mut s = format!("<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' role='img'>");
    for (i, (label, v)) in data.iter().enumerate() {
        let bh = (h - 2.0 * pad) * v / max;
        let x = pad + i as f64 * bw;
        let _ = write!(
            s,
            "<rect x='{x:.1}' y='{:.1}' width='{:.1}' height='{bh:.1}' fill='{color}'><title>{}: {v}</title></rect>\
             <text x='{:.1}' y='{:.1}' font-size='9' text-anchor='middle'>{}</text>",
            h - pad - bh,
            bw * 0.9,
            esc(label),
            x + bw * 0.45,
            h - pad + 12.0,
            esc(label)
        );
    }
    s + "</svg>"
}

/// Line chart: several named series over shared x labels; optional diagonal (calibration).
fn lines(x_max: f64, y_max: f64, series: &[(String, Vec<(f64, f64)>)], diagonal: bool) -> String {
    let (w, h, pad) = (420.0, 260.0, 35.0);
    let colors = ["#c0392b", "#2471a3", "#7d7d7d", "#27ae60", "#8e44ad"];
    let px = |x: f64| pad + (w - 2.0 * pad) * x / x_max.max(1e-12);
    let py = |y: f64| h - pad - (h - 2.0 * pad) * y / y_max.max(1e-12);
    let mut s = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' role='img'><rect x='{pad}' y='{pad}' width='{}' height='{}' fill='none' stroke='#ccc'/>",
        w - 2.0 * pad,
        h - 2.0 * pad
    );
    if diagonal {
        let m = x_max.min(y_max);
        let _ = write!(s, "<line x1='{}' y1='{}' x2='{}' y2='{}' stroke='#bbb' stroke-dasharray='4'/>", px(0.0), py(0.0), px(m), py(m));
    }
    for (k, (name, pts)) in series.iter().enumerate() {
        let c = colors[k % colors.len()];
        let path: Vec<String> = pts.iter().map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y))).collect();
        let _ = write!(s, "<polyline fill='none' stroke='{c}' stroke-width='2' points='{}'/>", path.join(" "));
        for (x, y) in pts {
            let _ = write!(s, "<circle cx='{:.1}' cy='{:.1}' r='3' fill='{c}'><title>{}: {x:.3}, {y:.3}</title></circle>", px(*x), py(*y), esc(name));
        }
        let _ = write!(s, "<text x='{}' y='{}' font-size='10' fill='{c}'>{}</text>", pad + 5.0, pad + 12.0 + 12.0 * k as f64, esc(name));
    }
    let _ = write!(s, "<text x='{}' y='{}' font-size='9'>{x_max:.2}</text><text x='2' y='{}' font-size='9'>{y_max:.2}</text>", w - pad - 10.0, h - 8.0, pad);
    s + "</svg>"
}

fn count_by(frame: &DataFrame, column: &str) -> Result<BTreeMap<String, u64>> {
    let mut m = BTreeMap::new();
    for v in frame.column(column)?.str()?.iter() {
        *m.entry(v.unwrap_or("").to_string()).or_default() += 1;
    }
    Ok(m)
}

pub fn html(r: &ReportInput) -> Result<String> {
    let t = |zh: &'static str, en: &'static str| if r.zh { zh } else { en };
    let w = r.warnings;
    let n = w.height();
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>{} {}</h1><p>run <code>{}</code> · {} {} · model <code>{}</code> · {} {}</p>",
        t("风险预警报告", "Risk early-warning report"),
        esc(r.as_of),
        esc(r.run_id),
        n,
        t("户主体参与评分", "subjects scored"),
        esc(&r.model.model_id),
        t("标签期限", "horizon"),
        r.model.horizon_days
    );

    // Levels and grades.
    let levels = count_by(w, "risk_level")?;
    let grades = count_by(w, "credit_grade")?;
    let share = |c: u64| format!("{:.2}%", 100.0 * c as f64 / n.max(1) as f64);
    let level_rows: Vec<Vec<String>> = crate::grade::LEVELS
        .iter()
        .map(|l| {
            let c = *levels.get(*l).unwrap_or(&0);
            vec![l.to_string(), c.to_string(), share(c)]
        })
        .collect();
    let grade_rows: Vec<Vec<String>> = ["A", "B", "C", "D"]
        .iter()
        .map(|g| {
            let c = *grades.get(*g).unwrap_or(&0);
            vec![g.to_string(), c.to_string(), share(c)]
        })
        .collect();
    let _ = write!(
        body,
        "<h2>{}</h2><div class='row'><div>{}</div><div>{}</div></div>",
        t("预警等级与信用风险分类", "Warning levels and credit grades"),
        table(&[t("预警等级", "level"), t("户数", "subjects"), t("占比", "share")], &level_rows),
        table(&[t("分类", "grade"), t("户数", "subjects"), t("占比", "share")], &grade_rows)
    );

    // Regions × level.
    let regions = w.column("region")?.str()?;
    let lv = w.column("risk_level")?.str()?;
    let mut by_region: BTreeMap<String, [u64; 5]> = BTreeMap::new();
    for (reg, l) in regions.iter().zip(lv.iter()) {
        let e = by_region.entry(reg.unwrap_or("").to_string()).or_default();
        e[4] += 1;
        if let Some(i) = crate::grade::LEVELS.iter().position(|x| Some(*x) == l) {
            e[i] += 1;
        }
    }
    let region_rows: Vec<Vec<String>> =
        by_region.iter().map(|(k, v)| std::iter::once(k.clone()).chain(v.iter().map(|c| c.to_string())).collect()).collect();
    let _ = write!(
        body,
        "<h2>{}</h2>{}",
        t("分区划统计", "By region"),
        table(&[t("区划", "region"), "red", "orange", "yellow", "blue", t("合计", "total")], &region_rows)
    );

    // Score distribution.
    let scores = w.column("score")?.f64()?;
    let mut hist = [0u64; 20];
    for s in scores.iter().flatten() {
        hist[((s * 20.0) as usize).min(19)] += 1;
    }
    let hist: Vec<(String, f64)> = hist.iter().enumerate().map(|(i, c)| (format!("{:.2}", i as f64 / 20.0), *c as f64)).collect();
    let _ = write!(body, "<h2>{}</h2>{}", t("风险分值分布", "Score distribution"), bars(&hist, "#2471a3"));

    // Validation.
    let _ = write!(
        body,
        "<h2>{}</h2><p>{} {} · {} {} · {}</p>",
        t("模型验证(时间外回测)", "Model validation (out-of-time backtest)"),
        t("测试日期", "test date"),
        esc(&r.model.test_as_of),
        t("校准", "calibration"),
        esc(&r.model.calibration_method),
        esc(&r.model.train_as_of.join(", "))
    );
    for p in &r.model.backtest.test {
        let rows: Vec<Vec<String>> = p
            .rankings
            .iter()
            .map(|m| {
                let f = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "—".into());
                vec![m.ranking.clone(), f(m.auc), f(m.ks), f(m.lift_top_1), f(m.lift_top_5), f(m.lift_top_10), f(m.positives_in_first_half)]
            })
            .collect();
        let lift: Vec<(String, Vec<(f64, f64)>)> = p
            .rankings
            .iter()
            .map(|m| {
                let pts = [(1.0, m.lift_top_1), (5.0, m.lift_top_5), (10.0, m.lift_top_10)];
                (m.ranking.clone(), pts.iter().filter_map(|(x, y)| y.map(|y| (*x, y))).collect())
            })
            .collect();
        let y_max = lift.iter().flat_map(|s| s.1.iter().map(|p| p.1)).fold(1.0, f64::max);
        let cal: Vec<(f64, f64)> = p.calibration.iter().map(|b| (b.mean_predicted, b.observed_rate)).collect();
        let c_max = cal.iter().flat_map(|(a, b)| [*a, *b]).fold(0.05, f64::max);
        let _ = write!(
            body,
            "<h3>{} ({} rows, {} positives)</h3>{}<div class='row'><div><p>{}</p>{}</div><div><p>{}</p>{}</div></div>",
            esc(&p.population),
            p.rows,
            p.positives,
            table(&["ranking", "AUC", "KS", "lift@1%", "lift@5%", "lift@10%", "first half"], &rows),
            t("提升度(前1/5/10%)", "Lift at the top 1/5/10%"),
            lines(10.0, y_max, &lift, false),
            t("校准(十分位)", "Calibration (deciles)"),
            lines(c_max, c_max, &[("model".to_string(), cal)], true)
        );
    }

    // Stability.
    if !r.stability.is_empty() {
        let rows: Vec<Vec<String>> = r
            .stability
            .iter()
            .map(|s| vec![s.name.clone(), format!("{:.4}", s.psi), if s.alert { "⚠ > 0.25".into() } else { String::new() }])
            .collect();
        let _ = write!(body, "<h2>{}</h2>{}", t("稳定性(PSI,对比训练分布)", "Stability (PSI against training)"), table(&["", "PSI", ""], &rows));
    }

    // Top of the list.
    let top = w.head(Some(50));
    let get = |c: &str| -> Result<Vec<String>> {
        Ok(top.column(c)?.cast(&DataType::String)?.str()?.iter().map(|v| v.unwrap_or("").to_string()).collect())
    };
    let cols = ["rank", "uscc", "name", "region", "industry", "score", "risk_level", "credit_grade", "reason_text"];
    let data: Vec<Vec<String>> = cols.iter().map(|c| get(c)).collect::<Result<_>>()?;
    let rows: Vec<Vec<String>> = (0..top.height())
        .map(|i| {
            data.iter()
                .enumerate()
                .map(|(k, c)| if cols[k] == "score" { c[i].parse::<f64>().map(|v| format!("{v:.4}")).unwrap_or_default() } else { c[i].clone() })
                .collect()
        })
        .collect();
    let _ = write!(body, "<h2>{}</h2>{}", t("预警名单前50名", "Top 50 of the warning list"), table(&cols, &rows));

    body += &feedback_html(r.cases, r.zh);
    if let Some(p) = r.previous_plan {
        body += &previous_plan_html(p, r.zh);
    }

    // Plan.
    let rows: Vec<Vec<String>> = r
        .plan
        .departments
        .iter()
        .map(|d| {
            let g = |k: usize| format!("{}/{}", d.by_grade[k].selected, d.by_grade[k].eligible);
            vec![d.department.clone(), d.capacity.to_string(), d.eligible.to_string(), d.suppressed.to_string(), d.certainty.to_string(), format!("{:.2}", d.sum_probability), d.selected.to_string(), g(0), g(1), g(2), g(3)]
        })
        .collect();
    let _ = write!(
        body,
        "<h2>{}</h2>{}<p>{} {} · {} {} ({} {})</p>",
        t("双随机抽查计划", "Random inspection plan (双随机)"),
        table(&["department", "capacity", "eligible", "suppressed", "certainty", "Σπ", "selected", "A", "B", "C", "D"], &rows),
        t("抽查户次", "selections"),
        r.plan.selections,
        t("实际上门", "visits"),
        r.plan.visits,
        t("联合抽查节省", "saved by joint visits"),
        r.plan.selections - r.plan.visits
    );

    // Inputs and notices.
    let rows: Vec<Vec<String>> = r.tables.iter().map(|c| vec![c.table.clone(), c.read.to_string(), c.used.to_string(), c.rejected.to_string()]).collect();
    let _ = write!(body, "<h2>{}</h2>{}", t("输入数据", "Inputs"), table(&["table", "read", "used", "rejected"], &rows));
    if !r.notices.is_empty() {
        let _ = write!(body, "<h2>{}</h2><ul>", t("提示", "Notices"));
        for n in r.notices {
            let _ = write!(body, "<li>{}</li>", esc(n));
        }
        body += "</ul>";
    }
    Ok(format!(
        "<!DOCTYPE html><html lang='{}'><head><meta charset='utf-8'><title>riskwarn {}</title><style>\
         body{{font-family:sans-serif;margin:2em;max-width:1200px}}table{{border-collapse:collapse;margin:.5em 0}}\
         td,th{{border:1px solid #ccc;padding:2px 6px;font-size:12px}}th{{background:#eee}}.row{{display:flex;gap:2em;flex-wrap:wrap}}\
         </style></head><body>{body}</body></html>\n",
        if r.zh { "zh" } else { "en" },
        esc(r.run_id)
    ))
}

/// The flat, localised table supervisors open (warnings.csv, .xlsx, the public variant): list
/// columns dropped (reason_text carries them), headers and codes in the report language.
pub fn supervisor_table(warnings: &DataFrame, zh: bool) -> Result<DataFrame> {
    const COLUMNS: [(&str, &str); 19] = [
        ("rank", "排名"),
        ("uscc", "统一社会信用代码"),
        ("name", "主体名称"),
        ("region", "行政区划"),
        ("industry", "行业代码"),
        ("subject_type", "主体类型"),
        ("score", "风险分值"),
        ("risk_level", "预警等级"),
        ("credit_grade", "信用风险分类"),
        ("grade_before_override", "申诉前信用风险分类"),
        ("reason_text", "预警理由"),
        ("model_id", "模型编号"),
        ("as_of", "评估日期"),
        ("previous_rank", "上次排名"),
        ("change", "排名变化"),
        ("case_id", "案件编号"),
        ("case_state", "案件状态"),
        ("case_last_handled_on", "最近处置日期"),
        ("case_last_result", "最近处置结果"),
    ];
    let present: Vec<(&str, &str)> = COLUMNS.iter().copied().filter(|(c, _)| warnings.column(c).is_ok()).collect();
    let mut exprs: Vec<Expr> = Vec::new();
    let case_states: Vec<(&str, &str)> = crate::cases::CaseState::ALL.iter().map(|s| (s.as_str(), s.label_zh())).collect();
    for (c, zh_name) in present {
        let mut e = col(c);
        if zh {
            let map: &[(&str, &str)] = match c {
                "risk_level" => &[("red", "红色预警"), ("orange", "橙色预警"), ("yellow", "黄色预警"), ("blue", "蓝色预警")],
                "change" => &[("new", "新进入"), ("up", "上升"), ("down", "下降"), ("same", "不变"), ("first_run", "首次运行")],
                "case_state" => &case_states,
                "case_last_result" => &[("confirmed", "属实"), ("not_confirmed", "不属实"), ("unreachable", "无法核查"), ("pending", "处理中")],
                "subject_type" => &[
                    ("enterprise", "企业"),
                    ("individual", "个体工商户"),
                    ("cooperative", "农民专业合作社"),
                    ("branch", "分支机构"),
                    ("other", "其他"),
                ],
                _ => &[],
            };
            if !map.is_empty() {
                let from = Series::new("".into(), map.iter().map(|m| m.0).collect::<Vec<_>>());
                let to = Series::new("".into(), map.iter().map(|m| m.1).collect::<Vec<_>>());
                e = e.replace(lit(from), lit(to));
            }
            e = e.alias(zh_name);
        }
        exprs.push(e);
    }
    Ok(warnings.clone().lazy().select(exprs).collect()?)
}

fn rate(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "—".into())
}

/// The feedback figures as table rows: group, cases, opened this run, open, overdue, escalated,
/// closed, confirmed, not confirmed, unreachable, closed late, median days, field rate, expected.
fn feedback_rows(f: &crate::cases::Feedback) -> Vec<Vec<String>> {
    f.rows
        .iter()
        .map(|r| {
            vec![
                if r.by == "all" { "all".into() } else { format!("{} {}", r.by, r.group) },
                r.cases.to_string(),
                r.opened_this_run.to_string(),
                r.open.to_string(),
                r.overdue.to_string(),
                r.escalated.to_string(),
                r.closed.to_string(),
                r.confirmed.to_string(),
                r.not_confirmed.to_string(),
                r.unreachable.to_string(),
                r.closed_late.to_string(),
                r.median_days_to_handle.map(|d| format!("{d:.1}")).unwrap_or_else(|| "—".into()),
                rate(r.confirmation_rate),
                rate(r.expected_rate),
            ]
        })
        .collect()
}

/// Overdue cases listed per department in the report (cases.parquet holds them all).
fn rate_text(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{v:.3}"))
}

/// The previous run's plan: completion per department and the non-response-adjusted rates.
fn previous_plan_html(p: &crate::run::PreviousPlan, zh: bool) -> String {
    let t = |a: &'static str, b: &'static str| if zh { a } else { b };
    let completion: Vec<Vec<String>> = p
        .completion
        .iter()
        .map(|d| vec![d.department.clone(), d.selected.to_string(), d.inspected.to_string(), format!("{:.3}", d.completion_rate), d.responded.to_string(), format!("{:.3}", d.response_rate)])
        .collect();
    let grades: Vec<Vec<String>> = p
        .by_grade
        .iter()
        .map(|r| {
            let rate = match (r.rate, r.standard_error) {
                (Some(v), Some(se)) => format!("{v:.3} ± {se:.3}"),
                _ => "—".into(),
            };
            vec![r.department.clone(), r.class.clone(), r.selected.to_string(), r.responded.to_string(), rate_text(r.response_rate), r.violations.to_string(), rate]
        })
        .collect();
    format!(
        "<h2>{}</h2><p>{} {} ({} {} {} {}). {}</p>{}{}",
        t("上期抽查计划执行情况", "Follow-through of the previous plan"),
        t("上期运行", "Previous run"),
        esc(&p.run_id),
        t("检查窗口", "inspections from"),
        esc(&p.from),
        t("至(不含)", "up to, not including,"),
        esc(&p.to),
        t(
            "完成率 = 抽中单位中窗口内有任何检查记录的比例;违法率只用双随机(random)检查结果,按部门 × 等级的实际应答率调整权重(未检查视为无应答),± 为相应的标准误。",
            "Completion = share of selected units inspected in the window by any mode; violation rates use random-mode outcomes only, weighted by 1/(π·r) with r the response rate of the department × grade (selected but not inspected is non-response), ± the standard error that reflects it."
        ),
        table(&[t("部门", "department"), t("抽中", "selected"), t("已检查", "inspected"), t("完成率", "completion"), t("双随机结果", "random outcomes"), t("应答率", "response rate")], &completion),
        table(&[t("部门", "department"), t("等级", "grade"), t("抽中", "selected"), t("双随机结果", "random outcomes"), t("应答率", "response rate"), t("违法", "violations"), t("违法率(调整后)", "violation rate (adjusted)")], &grades),
    )
}

/// The end-of-run summary's line about the previous plan (`riskwarn run`).
pub fn previous_plan_summary(p: &crate::run::PreviousPlan) -> String {
    let (selected, inspected): (usize, usize) = p.completion.iter().fold((0, 0), |(s, i), d| (s + d.selected, i + d.inspected));
    let share = if selected > 0 { inspected as f64 / selected as f64 } else { 0.0 };
    format!("previous plan ({}, {} to {}): {inspected} of {selected} selected units inspected (completion {share:.3}) in {} departments\n", p.run_id, p.from, p.to, p.completion.len())
}


/// The report's follow-up section: feedback figures and the overdue list per department.
fn feedback_html(f: &crate::cases::Feedback, zh: bool) -> String {
    let t = |a: &'static str, b: &'static str| if zh { a } else { b };
    let head = [
        t("分组", "group"),
        t("案件", "cases"),
        t("本次新开", "opened now"),
        t("未办结", "open"),
        t("逾期", "overdue"),
        t("升级", "escalated"),
        t("已办结", "closed"),
        t("属实", "confirmed"),
        t("不属实", "not confirmed"),
        t("无法核查", "unreachable"),
        t("超期办结", "closed late"),
        t("办理天数中位数", "median days to handle"),
        t("现场属实率", "field confirmation rate"),
        t("模型预期率", "model's expected rate"),
    ];
    let d = &f.dispositions;
    let o = &f.opening;
    let mut s = format!(
        "<h2>{}</h2><p>{}: {} {} · {} {} · {} {} · {} {}. {}: {} {} · {} {} · {} {} · {} {}.</p>{}",
        t("预警跟踪与反馈处理", "Follow-up of warnings"),
        t("本次处置记录", "dispositions this run"),
        d.applied,
        t("条已应用", "applied"),
        d.already_applied,
        t("条此前已应用", "applied before"),
        d.not_yet_known,
        t("条晚于评估日", "after the as-of date"),
        d.rejected,
        t("条被拒绝(见 rejected.parquet)", "rejected (rejected.parquet)"),
        t("开案", "opening"),
        o.opened,
        t("件新开", "opened"),
        o.suppressed,
        t("户近期核查不属实未重开(已核查)", "held back by a recent not-confirmed check (已核查)"),
        o.reopened_score_rise,
        t("件因分值上升重开", "reopened: score rose"),
        o.reopened_new_event,
        t("件因新情况重开", "reopened: new adverse record"),
        table(&head, &feedback_rows(f)),
    );
    s += &format!(
        "<p>{}</p>",
        t(
            "现场属实率 = 属实 / (属实 + 不属实);模型预期率 = 同一批案件开案时校准分值的均值。二者相差较大时,分值在现场的含义需要复核。",
            "Field confirmation rate = confirmed / (confirmed + not confirmed); the model's expected rate is the mean calibrated score at opening of the same cases. A large gap says the scores do not mean in the field what they mean in the backtest."
        )
    );
    if !f.overdue.is_empty() {
        s += &format!("<h3>{}</h3>", t("逾期案件(按部门)", "Overdue cases by department"));
        for d in &f.overdue {
            let rows: Vec<Vec<String>> = d
                .longest
                .iter()
                .map(|c| vec![c.case_id.clone(), c.uscc.clone(), c.level.clone(), c.opened_on.clone(), c.due_on.clone(), c.days_overdue.to_string(), c.escalated_to.clone().unwrap_or_default()])
                .collect();
            let more = if d.cases > d.longest.len() as u64 { format!(" ({} {}, cases.parquet)", d.cases, t("件,完整名单见", "in all")) } else { String::new() };
            s += &format!(
                "<h4>{} — {} {}{}</h4>{}",
                esc(&d.department),
                d.cases,
                t("件", "cases"),
                esc(&more),
                table(&["case_id", "uscc", t("开案等级", "level"), t("开案日期", "opened"), t("办理期限", "due"), t("逾期天数", "days overdue"), t("升级至", "escalated to")], &rows)
            );
        }
    }
    s
}

/// The end-of-run summary's lines about cases (`riskwarn run`).
pub fn feedback_summary(f: &crate::cases::Feedback) -> String {
    let Some(all) = f.rows.first() else { return String::new() };
    let mut s = format!(
        "cases: {} in the book ({} opened now, {} imported), {} open of which {} overdue, {} escalated, {} closed; field confirmation rate {} vs expected {}\n",
        all.cases,
        f.opening.opened,
        f.imported,
        all.open,
        all.overdue,
        all.escalated,
        all.closed,
        rate(all.confirmation_rate),
        rate(all.expected_rate)
    );
    s += &format!(
        "dispositions: {} applied ({} pending), {} applied before, {} after the as-of date, {} rejected; {} warnings held back by a recent not-confirmed check, {} reopened\n",
        f.dispositions.applied,
        f.dispositions.pending,
        f.dispositions.already_applied,
        f.dispositions.not_yet_known,
        f.dispositions.rejected,
        f.opening.suppressed,
        f.opening.reopened_score_rise + f.opening.reopened_new_event
    );
    for r in f.rows.iter().filter(|r| r.by == "department" && r.overdue > 0) {
        s += &format!("  overdue at {}: {}\n", r.group, r.overdue);
    }
    s
}
