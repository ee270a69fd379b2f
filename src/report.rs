//! report.html: one self-contained page for supervisors and analysts (SPEC §2), in the policy's
//! language: levels and grades overall, by region and by industry (names from the code tables),
//! the score distribution, the model's validation (lift, calibration, random-inspection
//! outcomes), stability, rank movements since the previous run, the top of the list, follow-up,
//! the plan per department, data quality and fairness. Inline SVG charts with axes and a
//! one-line reading each; no script, no network; prints on A4. Every data string is escaped and
//! marked `translate="no"` (names, reasons, ids are data, not the report's language).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use polars::prelude::*;

use crate::error::Result;
use crate::messages::Messages;
use crate::model::{Model, Stability};
use crate::plan::Plan;
use crate::score::FairnessRow;
use crate::validate::TableCounts;

pub struct ReportInput<'a> {
    pub run_id: &'a str,
    pub as_of: &'a str,
    pub model: &'a Model,
    /// The ranked list (its `reason_text` made for the rows shown).
    pub list: &'a crate::list::List,
    pub plan: &'a Plan,
    pub stability: &'a [Stability],
    pub tables: &'a [TableCounts],
    /// rejected.parquet's rows (table, column … per rejected input row).
    pub rejected: &'a DataFrame,
    pub notices: &'a [String],
    pub cases: &'a crate::cases::Feedback,
    /// The previous run's plan followed through up to this run.
    pub previous_plan: Option<&'a crate::run::PreviousPlan>,
    /// The run the ranks are compared with, if any.
    pub previous_run: Option<&'a str>,
    pub fairness: &'a [FairnessRow],
    /// Department names as shown in the report's language (the policy's `label_en` in English).
    pub departments: Departments<'a>,
    pub messages: Messages,
}

/// The policy's departments, to show each by its name in the report's language.
#[derive(Clone, Copy)]
pub struct Departments<'a> {
    pub policy: &'a [crate::policy::Department],
    pub messages: Messages,
}

impl Departments<'_> {
    /// A department's cell: its English label in an English report, else its name (data).
    fn label(&self, name: &str) -> Option<&str> {
        self.policy.iter().find(|d| d.name == name).and_then(|d| d.label_en.as_deref()).filter(|_| !self.messages.zh())
    }
    fn cell(&self, name: &str) -> Cell {
        self.label(name).map_or_else(|| data(name), txt)
    }
    /// The same as inline HTML.
    fn html(&self, name: &str) -> String {
        self.label(name).map_or_else(|| format!("<span translate='no'>{}</span>", esc(name)), esc)
    }
}

/// The report's sections, in page order: each is an `<section id=…>` (the browser test checks
/// that every one is there).
pub const SECTIONS: [&str; 13] =
    ["levels", "regions", "industries", "scores", "validation", "stability", "movements", "top", "follow-up", "plan", "quality", "fairness", "notices"];

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A table cell: text of the report's language, or data (names, ids, reasons) shown as it is.
pub(crate) enum Cell {
    Text(String),
    Data(String),
    Num(String),
    /// A subject: its name over its uscc.
    Subject(String, String),
    /// A label that does not wrap (a warning level).
    Tag(String),
}

fn txt(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}
fn data(s: impl Into<String>) -> Cell {
    Cell::Data(s.into())
}
fn num(v: impl std::fmt::Display) -> Cell {
    Cell::Num(v.to_string())
}

pub(crate) fn table(head: &[&str], rows: &[Vec<Cell>]) -> String {
    table_of("", head, rows)
}

/// A table of many columns of counts, set smaller so that province-scale numbers fit the page.
fn wide_table(head: &[&str], rows: &[Vec<Cell>]) -> String {
    table_of(" class='wide'", head, rows)
}

fn table_of(class: &str, head: &[&str], rows: &[Vec<Cell>]) -> String {
    let mut s = format!("<table{class}><thead><tr>");
    for h in head {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s += "</tr></thead><tbody>";
    for r in rows {
        s += "<tr>";
        for c in r {
            let _ = match c {
                Cell::Text(t) => write!(s, "<td>{}</td>", esc(t)),
                Cell::Data(t) => write!(s, "<td translate='no'>{}</td>", esc(t)),
                Cell::Num(t) => write!(s, "<td class='n'>{}</td>", esc(t)),
                Cell::Subject(name, uscc) => write!(s, "<td translate='no'>{}<br><span class='id'>{}</span></td>", esc(name), esc(uscc)),
                Cell::Tag(t) => write!(s, "<td class='t'>{}</td>", esc(t)),
            };
        }
        s += "</tr>";
    }
    s + "</tbody></table>"
}

fn reading(s: &str) -> String {
    format!("<p class='reading'>{}</p>", esc(s))
}

/// A round axis maximum and its tick step for values up to `max`.
fn nice(max: f64) -> (f64, f64) {
    let max = if max > 0.0 && max < 1e300 { max } else { 1.0 };
    let mag = 10f64.powf(max.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag / 2.0).find(|st| max / st <= 5.0).unwrap_or(mag);
    ((max / step).ceil() * step, step)
}

fn tick_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e12 { format!("{}", v as i64) } else { format!("{v:.4}").trim_end_matches('0').to_string() }
}

/// Axes with ticks and titles around a plot area; returns the SVG start and the scale maps.
struct Frame {
    w: f64,
    h: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    x_max: f64,
    y_max: f64,
}

impl Frame {
    fn px(&self, x: f64) -> f64 {
        self.left + (self.w - self.left - self.right) * x / self.x_max
    }
    fn py(&self, y: f64) -> f64 {
        self.h - self.bottom - (self.h - self.top - self.bottom) * y / self.y_max
    }
    /// The SVG opening, the frame, y ticks (and x ticks when `x_ticks`), the axis titles.
    fn open(&self, x_title: &str, y_title: &str, x_step: Option<f64>, y_step: f64) -> String {
        let mut s = format!(
            "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {w} {h}' width='{w}' height='{h}' role='img' font-size='10'>\
             <line x1='{l}' y1='{b}' x2='{r}' y2='{b}' stroke='#333'/><line x1='{l}' y1='{t}' x2='{l}' y2='{b}' stroke='#333'/>",
            w = self.w,
            h = self.h,
            l = self.left,
            r = self.w - self.right,
            t = self.top,
            b = self.h - self.bottom
        );
        // Ticks as k × step (a sum of steps drifts: 0.0375 would print as 0.037).
        let ticks = |max: f64, step: f64| (0..=((max / step + 1e-9).floor() as usize).min(50)).map(move |k| k as f64 * step);
        for y in ticks(self.y_max, y_step) {
            let _ = write!(
                s,
                "<line x1='{}' y1='{py:.1}' x2='{}' y2='{py:.1}' stroke='#e5e5e5'/><text x='{}' y='{:.1}' text-anchor='end'>{}</text>",
                self.left,
                self.w - self.right,
                self.left - 4.0,
                self.py(y) + 3.0,
                tick_text(y),
                py = self.py(y)
            );
        }
        if let Some(step) = x_step {
            for x in ticks(self.x_max, step) {
                let _ = write!(s, "<text x='{:.1}' y='{}' text-anchor='middle'>{}</text>", self.px(x), self.h - self.bottom + 12.0, tick_text(x));
            }
        }
        let _ = write!(
            s,
            "<text x='{:.1}' y='{}' text-anchor='middle' font-weight='bold'>{}</text>\
             <text transform='translate(13 {:.1}) rotate(-90)' text-anchor='middle' font-weight='bold'>{}</text>",
            (self.left + self.w - self.right) / 2.0,
            self.h - 4.0,
            esc(x_title),
            (self.top + self.h - self.bottom) / 2.0,
            esc(y_title)
        );
        s
    }
}

/// A bar chart of (label, value) with axes and titles.
fn bars(data: &[(String, f64)], color: &str, x_title: &str, y_title: &str) -> String {
    let (y_max, y_step) = nice(data.iter().map(|d| d.1).fold(0.0, f64::max));
    let f = Frame { w: 680.0, h: 230.0, left: 58.0, right: 10.0, top: 10.0, bottom: 42.0, x_max: data.len().max(1) as f64, y_max };
    let mut s = f.open(x_title, y_title, None, y_step);
    let bw = f.px(1.0) - f.px(0.0);
    let every = data.len().div_ceil(20).max(1);
    for (i, (label, v)) in data.iter().enumerate() {
        let (x, y) = (f.px(i as f64), f.py(*v));
        let _ = write!(
            s,
            "<rect x='{:.1}' y='{y:.1}' width='{:.1}' height='{:.1}' fill='{color}'><title>{}: {}</title></rect>",
            x + bw * 0.05,
            bw * 0.9,
            f.py(0.0) - y,
            esc(label),
            tick_text(*v)
        );
        if i % every == 0 {
            let _ = write!(s, "<text x='{:.1}' y='{:.1}' text-anchor='middle' font-size='9'>{}</text>", x + bw / 2.0, f.h - f.bottom + 12.0, esc(label));
        }
    }
    s + "</svg>"
}

/// Line chart of named series, with a legend; `diagonal` draws y = x (calibration).
fn lines(x: (f64, &str), y: (f64, &str), series: &[(String, Vec<(f64, f64)>)], diagonal: bool) -> String {
    let colors = ["#c0392b", "#2471a3", "#7d7d7d", "#27ae60", "#8e44ad"];
    let (x_max, x_step) = nice(x.0);
    let (y_max, y_step) = nice(y.0);
    let f = Frame { w: 340.0, h: 250.0, left: 52.0, right: 10.0, top: 10.0, bottom: 40.0, x_max, y_max };
    let mut s = f.open(x.1, y.1, Some(x_step), y_step);
    if diagonal {
        let m = x_max.min(y_max);
        let _ = write!(s, "<line x1='{:.1}' y1='{:.1}' x2='{:.1}' y2='{:.1}' stroke='#999' stroke-dasharray='4'/>", f.px(0.0), f.py(0.0), f.px(m), f.py(m));
    }
    for (k, (name, pts)) in series.iter().enumerate() {
        let c = colors[k % colors.len()];
        let path: Vec<String> = pts.iter().map(|(x, y)| format!("{:.1},{:.1}", f.px(*x), f.py(*y))).collect();
        let _ = write!(s, "<polyline fill='none' stroke='{c}' stroke-width='2' points='{}'/>", path.join(" "));
        for (x, y) in pts {
            let _ = write!(s, "<circle cx='{:.1}' cy='{:.1}' r='2.5' fill='{c}'><title>{}: {x:.3}, {y:.3}</title></circle>", f.px(*x), f.py(*y), esc(name));
        }
    }
    s += "</svg><ul class='legend'>";
    for (k, (name, _)) in series.iter().enumerate() {
        let _ = write!(s, "<li><span style='background:{}'></span>{}</li>", colors[k % colors.len()], esc(name));
    }
    s + "</ul>"
}

fn pct(part: u64, whole: u64) -> String {
    format!("{:.1}%", 100.0 * part as f64 / whole.max(1) as f64)
}

/// Subjects per level and per grade of each region or industry (`column`) of the list, by code
/// (a null code counts as empty).
fn levels_and_grades<'a>(list: &'a crate::list::List, column: &str) -> BTreeMap<&'a str, [u64; 9]> {
    let mut out: BTreeMap<&str, [u64; 9]> = BTreeMap::new();
    for (code, counts) in list.levels_and_grades(column) {
        let e = out.entry(code.unwrap_or("")).or_default();
        e.iter_mut().zip(counts).for_each(|(a, b)| *a += b);
    }
    out
}

fn level_grade_head(m: Messages, first: [&str; 2]) -> Vec<&str> {
    let mut head = first.to_vec();
    head.extend(crate::grade::LEVELS.iter().map(|l| m.code("level", l)));
    head.extend(["A", "B", "C", "D"]);
    head.push(m.tr("report.total"));
    head
}

/// A backtest ranking's name (as the model file has it) in the report's language; the past
/// violations baseline names its feature by the registry's label.
pub(crate) fn ranking_label(name: &str, options: &crate::features::FeatureOptions, m: Messages) -> String {
    let known = [("model", "ranking.model"), ("oracle", "ranking.oracle"), ("ceiling", "ranking.ceiling"), ("random order", "ranking.random")];
    if let Some(rest) = name.strip_prefix("past violations") {
        let feature = rest.trim().trim_start_matches('(').trim_end_matches(')');
        let registry = crate::features::Registry::all(options);
        let label = registry.get(feature).map_or(feature, |f| f.label(m.zh()));
        return m.fill("ranking.past_violations", &[("feature", &label)]);
    }
    match known.iter().find(|(k, _)| name == *k || name.starts_with(&format!("{k} ("))) {
        Some((_, key)) => m.tr(key).to_string(),
        None => name.to_string(),
    }
}

pub(crate) fn population_label(name: &str, m: Messages) -> String {
    match name {
        "all labelled" => m.tr("population.all").to_string(),
        "random inspections" => m.tr("population.random").to_string(),
        other => match other.strip_prefix("labelled by ") {
            Some(source) => m.fill("population.source", &[("source", &source)]),
            None => other.to_string(),
        },
    }
}

fn section(id: &str, title: &str, body: &str) -> String {
    format!("<section id='{id}'><h2>{}</h2>{body}</section>", esc(title))
}

pub fn html(r: &ReportInput) -> Result<String> {
    let m = r.messages;
    let list = r.list;
    let n = list.len() as u64;
    let mut body = format!(
        "<header><h1>{}</h1><p>{}</p></header>",
        esc(&m.fill("report.title", &[("as_of", &r.as_of)])),
        esc(&m.fill(
            "report.subtitle",
            &[("run_id", &r.run_id), ("scored", &n), ("model", &r.model.model_id), ("horizon", &r.model.horizon_days)]
        ))
    );

    // By region (below), and summed over the regions, overall.
    let by_region = levels_and_grades(list, "region");
    let mut counts = [0u64; 9];
    for c in by_region.values() {
        counts.iter_mut().zip(c).for_each(|(a, b)| *a += b);
    }
    let level_rows: Vec<Vec<Cell>> =
        crate::grade::LEVELS.iter().enumerate().map(|(i, l)| vec![txt(m.code("level", l)), num(counts[i]), num(pct(counts[i], n))]).collect();
    let grade_rows: Vec<Vec<Cell>> = ["A", "B", "C", "D"].iter().enumerate().map(|(i, g)| vec![txt(*g), num(counts[4 + i]), num(pct(counts[4 + i], n))]).collect();
    body += &section(
        "levels",
        m.tr("report.levels"),
        &format!(
            "<div class='row'><div>{}</div><div>{}</div></div>{}",
            table(&[m.tr("report.level"), m.tr("report.subjects"), m.tr("report.share")], &level_rows),
            table(&[m.tr("report.grade"), m.tr("report.subjects"), m.tr("report.share")], &grade_rows),
            reading(&m.fill("report.levels_reading", &[("flagged", &(counts[0] + counts[1] + counts[2])), ("share", &pct(counts[0] + counts[1] + counts[2], n)), ("d", &counts[7])]))
        ),
    );

    // By region and by industry, with names.
    let name_or = |name: Option<String>| name.map(data).unwrap_or_else(|| txt(m.tr("report.unknown_code")));
    let rows: Vec<Vec<Cell>> = by_region
        .iter()
        .map(|(code, c)| {
            let mut row = vec![data(*code), name_or(crate::codes::region_full_name(code, m.language))];
            row.extend(c.iter().map(|v| num(*v)));
            row
        })
        .collect();
    body += &section("regions", m.tr("report.by_region"), &wide_table(&level_grade_head(m, [m.tr("report.region_code"), m.tr("report.region")]), &rows));
    let by_industry = levels_and_grades(list, "industry");
    let mut ordered: Vec<(&&str, &[u64; 9])> = by_industry.iter().collect();
    ordered.sort_by(|a, b| b.1[8].cmp(&a.1[8]).then(a.0.cmp(b.0)));
    const INDUSTRY_ROWS: usize = 30;
    let mut rows: Vec<Vec<Cell>> = ordered
        .iter()
        .take(INDUSTRY_ROWS)
        .map(|(code, c)| {
            let mut row = vec![data(**code), name_or(crate::codes::industry_name(code, m.language).map(str::to_string))];
            row.extend(c.iter().map(|v| num(*v)));
            row
        })
        .collect();
    if ordered.len() > INDUSTRY_ROWS {
        let mut rest = [0u64; 9];
        for (_, c) in &ordered[INDUSTRY_ROWS..] {
            rest.iter_mut().zip(c.iter()).for_each(|(a, b)| *a += b);
        }
        let mut row = vec![txt(""), txt(m.fill("report.other_industries", &[("n", &(ordered.len() - INDUSTRY_ROWS))]))];
        row.extend(rest.iter().map(|v| num(*v)));
        rows.push(row);
    }
    body += &section(
        "industries",
        m.tr("report.by_industry"),
        &format!("{}{}", wide_table(&level_grade_head(m, [m.tr("report.industry_code"), m.tr("report.industry")]), &rows), reading(m.tr("report.by_industry_reading"))),
    );

    // Score distribution.
    let scores = list.score();
    let mut hist = [0u64; 20];
    for s in scores {
        hist[((s * 20.0) as usize).min(19)] += 1;
    }
    let hist: Vec<(String, f64)> = hist.iter().enumerate().map(|(i, c)| (format!("{:.2}", i as f64 / 20.0), *c as f64)).collect();
    // The list is in rank order, score descending: its quantiles are read from the end.
    let quantile = |q: f64| {
        let k = ((scores.len() as f64 - 1.0) * q).round().max(0.0) as usize;
        scores.len().checked_sub(1 + k).map_or(0.0, |i| scores[i])
    };
    body += &section(
        "scores",
        m.tr("report.scores"),
        &format!(
            "{}{}",
            bars(&hist, "#2471a3", m.tr("report.axis_score"), m.tr("report.axis_subjects")),
            reading(&m.fill("report.scores_reading", &[("median", &format!("{:.3}", quantile(0.5))), ("p90", &format!("{:.3}", quantile(0.9)))]))
        ),
    );

    body += &section("validation", m.tr("report.validation"), &validation_html(r.model, m));
    body += &section("stability", m.tr("report.stability"), &stability_html(r.stability, r.model, m));
    body += &section("movements", m.tr("report.movements"), &movements_html(list, r.previous_run, m)?);
    body += &section("top", m.tr("report.top"), &top_html(list, m)?);
    let mut follow = feedback_html(r.cases, r.departments, m);
    if let Some(p) = r.previous_plan {
        follow += &previous_plan_html(p, r.departments, m);
    }
    body += &section("follow-up", m.tr("report.follow_up"), &follow);
    body += &section("plan", m.tr("report.plan"), &plan_html(r.plan, r.departments, m));
    body += &section("quality", m.tr("report.quality"), &quality_html(r.tables, r.rejected, m)?);
    body += &section("fairness", m.tr("report.fairness"), &fairness_html(r.fairness, m));
    let notices = if r.notices.is_empty() {
        format!("<p>{}</p>", esc(m.tr("report.no_notices")))
    } else {
        format!("<ul>{}</ul>", r.notices.iter().map(|n| format!("<li>{}</li>", esc(n))).collect::<String>())
    };
    body += &section("notices", m.tr("report.notices"), &notices);
    Ok(format!(
        "<!DOCTYPE html><html lang='{}'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width'>\
         <title>{}</title><style>{STYLE}</style></head><body>{body}</body></html>\n",
        if m.zh() { "zh-CN" } else { "en" },
        esc(&m.fill("report.title", &[("as_of", &r.as_of)]))
    ))
}

/// Screen and A4 print: the page is at most the A4 text width (180 mm ≈ 680 px), tables wrap.
const STYLE: &str = "body{font-family:'Noto Sans CJK SC','Noto Sans SC','Microsoft YaHei',sans-serif;margin:1.5em auto;max-width:680px;padding:0 8px;color:#222}\
h1{font-size:20px}h2{font-size:16px;border-bottom:1px solid #ccc;margin-top:1.6em}h3{font-size:14px}h4{font-size:13px}\
table{border-collapse:collapse;margin:.5em 0;max-width:100%}td,th{border:1px solid #ccc;padding:2px 5px;font-size:11px;overflow-wrap:anywhere;vertical-align:top}\
th{background:#eee}td.n{text-align:right;white-space:nowrap}table.wide td,table.wide th{font-size:9.5px;padding:1px 3px}td.t{white-space:nowrap}.id{font-size:9px;color:#555;font-family:monospace}.row{display:flex;gap:1.5em;flex-wrap:wrap}.reading{font-style:italic;color:#444;font-size:12px}\
svg{max-width:100%;height:auto}.legend{list-style:none;padding:0;margin:0 0 .5em;font-size:11px;max-width:340px}\
.legend li{display:inline-block;margin-right:1em}.legend span{display:inline-block;width:10px;height:10px;margin-right:4px}section{break-inside:auto}\
@page{size:A4;margin:15mm}@media print{body{margin:0;max-width:none;padding:0 4px}h2{break-after:avoid}tr,svg{break-inside:avoid}}";

fn metric(v: Option<f64>) -> Cell {
    num(v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "—".into()))
}

fn validation_html(model: &Model, m: Messages) -> String {
    let calibration = if model.calibration_method.starts_with("platt") { m.tr("report.platt") } else { model.calibration_method.as_str() };
    let mut s = format!(
        "<p>{}</p>",
        esc(&m.fill(
            "report.validation_intro",
            &[("test", &model.test_as_of), ("calibration", &calibration), ("train", &model.train_as_of.join(", ")), ("horizon", &model.horizon_days)]
        ))
    );
    for p in &model.backtest.test {
        let rows: Vec<Vec<Cell>> = p
            .rankings
            .iter()
            .map(|k| vec![txt(ranking_label(&k.ranking, &model.feature_options, m)), metric(k.auc), metric(k.ks), metric(k.lift_top_1), metric(k.lift_top_5), metric(k.lift_top_10), metric(k.positives_in_first_half)])
            .collect();
        let lift: Vec<(String, Vec<(f64, f64)>)> = p
            .rankings
            .iter()
            .map(|k| {
                let pts = [(1.0, k.lift_top_1), (5.0, k.lift_top_5), (10.0, k.lift_top_10)];
                (ranking_label(&k.ranking, &model.feature_options, m), pts.iter().filter_map(|(x, y)| y.map(|y| (*x, y))).collect())
            })
            .collect();
        let y_max = lift.iter().flat_map(|s| s.1.iter().map(|p| p.1)).fold(1.0, f64::max);
        let cal: Vec<(f64, f64)> = p.calibration.iter().map(|b| (b.mean_predicted, b.observed_rate)).collect();
        let c_max = cal.iter().flat_map(|(a, b)| [*a, *b]).fold(0.05, f64::max);
        let model_row = p.rankings.iter().find(|k| k.ranking == "model");
        let covered = model_row.and_then(|k| k.lift_top_10).map(|l| format!("{:.1}", 10.0 * l)).unwrap_or_else(|| "—".into());
        let _ = write!(
            s,
            "<h3>{}</h3>{}{}<div class='row'><div>{}</div><div>{}</div></div>{}",
            esc(&m.fill("report.population", &[("name", &population_label(&p.population, m)), ("rows", &p.rows), ("positives", &p.positives)])),
            table(&[m.tr("report.ranking"), "AUC", "KS", m.tr("report.lift_1"), m.tr("report.lift_5"), m.tr("report.lift_10"), m.tr("report.first_half")], &rows),
            reading(&m.fill("report.lift_reading", &[("share", &covered)])),
            lines((10.0, m.tr("report.axis_top_share")), (y_max, m.tr("report.axis_lift")), &lift, false),
            lines((c_max, m.tr("report.axis_predicted")), (c_max, m.tr("report.axis_observed")), &[(m.tr("ranking.model").to_string(), cal)], true),
            reading(m.tr("report.calibration_reading")),
        );
    }
    s
}

fn stability_html(stability: &[Stability], model: &Model, m: Messages) -> String {
    if stability.is_empty() {
        return format!("<p>{}</p>", esc(m.tr("report.no_stability")));
    }
    let registry = crate::features::Registry::all(&model.feature_options);
    let rows: Vec<Vec<Cell>> = stability
        .iter()
        .map(|s| {
            let label = if s.name == "score" { m.tr("column.score") } else { registry.get(&s.name).map_or("", |f| f.label(m.zh())) };
            vec![txt(label), data(s.name.clone()), num(format!("{:.4}", s.psi)), txt(if s.alert { m.tr("report.psi_alert") } else { "" })]
        })
        .collect();
    let alerts = stability.iter().filter(|s| s.alert).count();
    format!(
        "{}{}",
        table(&[m.tr("report.feature"), m.tr("report.name"), "PSI", ""], &rows),
        reading(&m.fill("report.stability_reading", &[("alerts", &alerts), ("n", &stability.len())]))
    )
}

fn column_text(frame: &DataFrame, column: &str) -> Result<Vec<String>> {
    Ok(frame.column(column)?.cast(&DataType::String)?.str()?.iter().map(|v| v.unwrap_or("").to_string()).collect())
}

fn movements_html(list: &crate::list::List, previous_run: Option<&str>, m: Messages) -> Result<String> {
    let n = list.len();
    let Some(previous) = previous_run.filter(|_| n == 0 || list.change_of(0) != "first_run") else {
        return Ok(format!("<p>{}</p>", esc(m.tr("report.first_run"))));
    };
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for i in 0..n {
        *counts.entry(list.change_of(i)).or_default() += 1;
    }
    let rows: Vec<Vec<Cell>> = ["new", "up", "down", "same"].iter().map(|c| vec![txt(m.code("change", c)), num(*counts.get(c).unwrap_or(&0))]).collect();
    let mut s = format!(
        "<p>{}</p>{}",
        esc(&m.fill("report.movements_intro", &[("previous", &previous)])),
        table(&[m.tr("column.change"), m.tr("report.subjects")], &rows)
    );
    // The largest movers: rank change in places, with their reasons.
    let rank = |i: usize| i as u32 + 1;
    let moved: Vec<(i64, usize)> = (0..n).filter_map(|i| Some((list.previous_rank(i)? as i64 - rank(i) as i64, i))).filter(|(d, _)| *d != 0).collect();
    let uscc = list.uscc();
    for (key, up) in [("report.largest_up", true), ("report.largest_down", false)] {
        let mut side: Vec<(i64, usize)> = moved.iter().copied().filter(|(d, _)| (*d > 0) == up).collect();
        side.sort_by(|a, b| b.0.abs().cmp(&a.0.abs()).then(uscc.get(a.1).cmp(&uscc.get(b.1))));
        side.truncate(10);
        if side.is_empty() {
            continue;
        }
        let rows: Vec<Vec<Cell>> = side
            .iter()
            .map(|&(d, i)| {
                let row = list.rows_with_text(i, 1, None)?;
                let text = |c: &str| -> Result<String> { Ok(row.column(c)?.str()?.get(0).unwrap_or("").to_string()) };
                Ok(vec![
                    num(rank(i)),
                    num(list.previous_rank(i).unwrap_or(0)),
                    num(format!("{d:+}")),
                    Cell::Subject(text("name")?, text("uscc")?),
                    Cell::Tag(m.code("level", crate::grade::LEVELS[list.levels()[i] as usize]).into()),
                    data(text(crate::score::TEXT_COLUMN)?),
                ])
            })
            .collect::<Result<_>>()?;
        let _ = write!(
            s,
            "<h3>{}</h3>{}",
            esc(m.tr(key)),
            table(
                &[m.tr("column.rank"), m.tr("column.previous_rank"), m.tr("report.places"), m.tr("report.subject"), m.tr("column.risk_level"), m.tr("column.reason_text")],
                &rows
            )
        );
    }
    Ok(s)
}

fn top_html(list: &crate::list::List, m: Messages) -> Result<String> {
    let top = list.rows_with_text(0, list.len().min(50), None)?;
    let cols = ["rank", "uscc", "name", "region", "industry", "score", "risk_level", "credit_grade", "reason_text"];
    let v: Vec<Vec<String>> = cols.iter().map(|c| column_text(&top, c)).collect::<Result<_>>()?;
    let named = |name: Option<&str>, code: &str| data(name.unwrap_or(code));
    let rows: Vec<Vec<Cell>> = (0..top.height())
        .map(|i| {
            vec![
                num(&v[0][i]),
                Cell::Subject(v[2][i].clone(), v[1][i].clone()),
                named(crate::codes::region_name(&v[3][i], m.language), &v[3][i]),
                named(crate::codes::industry_name(&v[4][i], m.language), &v[4][i]),
                num(v[5][i].parse::<f64>().map(|v| format!("{v:.3}")).unwrap_or_default()),
                Cell::Tag(m.code("level", &v[6][i]).into()),
                txt(v[7][i].clone()),
                data(v[8][i].clone()),
            ]
        })
        .collect();
    let head = [m.tr("column.rank"), m.tr("report.subject"), m.tr("report.region"), m.tr("report.industry"), m.tr("column.score"), m.tr("column.risk_level"), m.tr("report.grade_short"), m.tr("column.reason_text")];
    Ok(table(&head, &rows))
}

fn plan_html(plan: &Plan, departments: Departments, m: Messages) -> String {
    if plan.departments.is_empty() {
        return format!("<p>{}</p>", esc(m.tr("report.no_plan")));
    }
    let rows: Vec<Vec<Cell>> = plan
        .departments
        .iter()
        .map(|d| {
            let g = |k: usize| num(format!("{}/{}", d.by_grade[k].selected, d.by_grade[k].eligible));
            let gain = if d.random_plan_violations > 0.0 { format!("{:.2}×", d.expected_violations / d.random_plan_violations) } else { "—".into() };
            vec![
                departments.cell(&d.department),
                num(d.capacity),
                num(d.eligible),
                num(d.suppressed),
                num(d.selected),
                num(pct(d.certainty as u64, d.selected as u64)),
                num(format!("{:.1}", d.expected_violations)),
                num(format!("{:.1}", d.random_plan_violations)),
                num(gain),
                g(0),
                g(1),
                g(2),
                g(3),
            ]
        })
        .collect();
    let (found, random): (f64, f64) = plan.departments.iter().fold((0.0, 0.0), |(a, b), d| (a + d.expected_violations, b + d.random_plan_violations));
    format!(
        "{}{}{}",
        wide_table(
            &[
                m.tr("report.department"),
                m.tr("report.capacity"),
                m.tr("report.eligible"),
                m.tr("report.suppressed"),
                m.tr("report.selected"),
                m.tr("report.certainty_share"),
                m.tr("report.expected_found"),
                m.tr("report.random_found"),
                m.tr("report.gain"),
                "A",
                "B",
                "C",
                "D"
            ],
            &rows
        ),
        reading(&m.fill(
            "report.plan_reading",
            &[
                ("selections", &plan.selections),
                ("visits", &plan.visits),
                ("saved", &(plan.selections - plan.visits)),
                ("found", &format!("{found:.1}")),
                ("random", &format!("{random:.1}"))
            ]
        )),
        format_args!("<p>{}</p>", esc(m.tr("report.plan_note")))
    )
}

fn quality_html(tables: &[TableCounts], rejected: &DataFrame, m: Messages) -> Result<String> {
    let rows: Vec<Vec<Cell>> = tables.iter().map(|c| vec![txt(m.code("table", &c.table)), num(c.read), num(c.used), num(c.rejected), num(pct(c.rejected, c.read))]).collect();
    let total: (u64, u64) = tables.iter().fold((0, 0), |(r, j), c| (r + c.read, j + c.rejected));
    let mut s = format!(
        "{}{}",
        table(&[m.tr("report.table"), m.tr("report.read"), m.tr("report.used"), m.tr("report.rejected"), m.tr("report.rejected_share")], &rows),
        reading(&m.fill("report.quality_reading", &[("read", &total.0), ("rejected", &total.1), ("share", &pct(total.1, total.0))]))
    );
    let top = crate::validate::top_rejections(rejected, 10)?;
    if !top.is_empty() {
        let rows: Vec<Vec<Cell>> = top.iter().map(|r| vec![txt(m.code("table", &r.table)), data(r.column.clone()), txt(m.code("check", r.check)), num(r.rows)]).collect();
        let _ = write!(
            s,
            "<h3>{}</h3>{}",
            esc(m.tr("report.reject_reasons")),
            table(&[m.tr("report.table"), m.tr("report.column"), m.tr("report.check"), m.tr("report.rows")], &rows)
        );
    }
    Ok(s)
}

fn fairness_html(rows: &[FairnessRow], m: Messages) -> String {
    let mut s = format!("<p>{}</p>", esc(m.tr("report.fairness_intro")));
    for by in ["ownership", "subject_type"] {
        let group: Vec<&FairnessRow> = rows.iter().filter(|r| r.by == by).collect();
        if group.is_empty() {
            continue;
        }
        let body: Vec<Vec<Cell>> = group
            .iter()
            .map(|r| {
                let label = if r.group.is_empty() { txt(m.tr("report.not_given")) } else if by == "subject_type" { txt(m.code("subject_type", &r.group)) } else { txt(m.code("ownership", &r.group)) };
                let flagged = r.levels[0] + r.levels[1] + r.levels[2];
                vec![label, num(r.subjects), num(pct(r.levels[0], r.subjects)), num(pct(flagged, r.subjects)), num(pct(r.grades[2] + r.grades[3], r.subjects)), num(pct(r.grades[3], r.subjects))]
            })
            .collect();
        let _ = write!(
            s,
            "<h3>{}</h3>{}",
            esc(m.tr(if by == "ownership" { "report.fairness_by_ownership" } else { "report.fairness_by_subject_type" })),
            table(&[m.tr("report.group"), m.tr("report.subjects"), m.tr("report.red_rate"), m.tr("report.flagged_rate"), m.tr("report.cd_rate"), m.tr("report.d_rate")], &body)
        );
    }
    s
}

/// The list's region and industry codes the code tables (GB/T 2260, GB/T 4754) do not know:
/// how many distinct codes, how many subjects carry one, and the first few (in code order).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct UnknownCodes {
    pub regions: usize,
    pub industries: usize,
    pub subjects: u64,
    pub examples: Vec<String>,
}

impl UnknownCodes {
    /// One notice when there are any.
    pub fn notice(&self, m: Messages) -> Option<String> {
        (self.regions + self.industries > 0).then(|| {
            m.fill("notice.unknown_codes", &[("regions", &self.regions), ("industries", &self.industries), ("examples", &self.examples.join(", "))])
        })
    }
}

/// The list's distinct region and industry codes, each with its name in the report's language
/// (`None`: the code tables do not know it). Made once per run: the three supervisor files and
/// the manifest's [`UnknownCodes`] read it.
pub struct CodeNames {
    regions: Vec<(String, Option<String>)>,
    industries: Vec<(String, Option<String>)>,
}

impl CodeNames {
    pub fn of(list: &crate::list::List, m: Messages) -> CodeNames {
        let named = |codes: &crate::columns::Coder, lookup: &dyn Fn(&str) -> Option<String>| -> Vec<(String, Option<String>)> {
            let mut out: Vec<(String, Option<String>)> = codes.values.iter().map(|c| (c.clone(), lookup(c))).collect();
            out.sort();
            out
        };
        CodeNames {
            // Regions with their prefecture and province (城区 is a district of many cities).
            regions: named(list.regions().1, &|c| crate::codes::region_full_name(c, m.language)),
            industries: named(list.industries().1, &|c| crate::codes::industry_name(c, m.language).map(str::to_string)),
        }
    }

    /// `column` (`region` or `industry`) of `warnings` mapped to its names; unknown codes stay
    /// as they are.
    fn names_of(&self, warnings: &DataFrame, column: &str, name: &str) -> Result<Column> {
        let known: HashMap<&str, &str> = if column == "region" { &self.regions } else { &self.industries }
            .iter()
            .filter_map(|(c, n)| Some((c.as_str(), n.as_deref()?)))
            .collect();
        Ok(crate::columns::relabeled(name, warnings.column(column)?.str()?, |c| known.get(c).copied())?.into_column())
    }

    /// What the code tables do not know; subjects are counted only when there are such codes.
    pub fn unknown(&self, list: &crate::list::List) -> UnknownCodes {
        fn unknown(codes: &[(String, Option<String>)]) -> std::collections::HashSet<&str> {
            codes.iter().filter(|(_, n)| n.is_none()).map(|(c, _)| c.as_str()).collect()
        }
        let (regions, industries) = (unknown(&self.regions), unknown(&self.industries));
        let mut out = UnknownCodes { regions: regions.len(), industries: industries.len(), ..Default::default() };
        if regions.is_empty() && industries.is_empty() {
            return out;
        }
        let unknown_codes = |(codes, coder): (&[u32], &crate::columns::Coder), unknown: &std::collections::HashSet<&str>| -> Vec<bool> {
            let of_code: Vec<bool> = coder.values.iter().map(|v| unknown.contains(v.as_str())).collect();
            // A null counts as the empty code, as in the files.
            codes.iter().map(|&c| of_code.get(c as usize).copied().unwrap_or_else(|| unknown.contains(""))).collect()
        };
        let (r, i) = (unknown_codes(list.regions(), &regions), unknown_codes(list.industries(), &industries));
        out.subjects = r.iter().zip(&i).filter(|(r, i)| **r || **i).count() as u64;
        let all: std::collections::BTreeSet<&str> = regions.union(&industries).copied().collect();
        out.examples = all.iter().take(5).map(|c| c.to_string()).collect();
        out
    }
}

/// The warning list's columns in the supervisor files (the names of regions and industries are
/// added beside their codes).
pub const SUPERVISOR_COLUMNS: [&str; 19] = [
    "rank", "uscc", "name", "region", "industry", "subject_type", "score", "risk_level", "credit_grade", "grade_before_override",
    "reason_text", "model_id", "as_of", "previous_rank", "change", "case_id", "case_state", "case_last_handled_on", "case_last_result",
];

/// The flat, localised table supervisors open (warnings.csv, .xlsx, the public variant): list
/// columns dropped (reason_text carries them), headers and codes in the report language.
pub fn supervisor_table(warnings: &DataFrame, names: &CodeNames, m: Messages) -> Result<DataFrame> {
    // Columns whose values are codes shown by their label, and the table area of the labels.
    const CODED: [(&str, &str); 5] = [
        ("risk_level", "level"),
        ("change", "change"),
        ("case_state", "case_state"),
        ("case_last_result", "result"),
        ("subject_type", "subject_type"),
    ];
    let mut columns: Vec<Column> = Vec::new();
    for c in SUPERVISOR_COLUMNS.iter().copied().filter(|c| warnings.column(c).is_ok()) {
        let name = m.code("column", c);
        let column = warnings.column(c)?;
        columns.push(match CODED.iter().find(|(k, _)| *k == c) {
            Some((_, area)) => {
                let labels: HashMap<&str, &str> = m.codes(area).into_iter().collect();
                crate::columns::relabeled(name, column.str()?, |code| labels.get(code).copied())?.into_column()
            }
            None => column.clone().with_name(name.into()),
        });
        // The name beside the code; a code the tables do not know shows as itself.
        if c == "region" || c == "industry" {
            columns.push(names.names_of(warnings, c, m.code("column", &format!("{c}_name")))?);
        }
    }
    Ok(DataFrame::new(warnings.height(), columns)?)
}

fn rate(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "—".into())
}

/// The feedback figures as table rows: group, cases, opened this run, open, overdue, escalated,
/// closed, confirmed, not confirmed, unreachable, closed late, median days, field rate, expected.
fn feedback_rows(f: &crate::cases::Feedback, departments: Departments, m: Messages) -> Vec<Vec<Cell>> {
    f.rows
        .iter()
        .map(|r| {
            let group = match r.by.as_str() {
                "all" => txt(m.tr("followup.all")),
                "department" => departments.cell(&r.group),
                "level" => txt(m.code("level", &r.group)),
                by => data(format!("{by} {}", r.group)),
            };
            vec![
                group,
                num(r.cases),
                num(r.opened_this_run),
                num(r.open),
                num(r.overdue),
                num(r.escalated),
                num(r.closed),
                num(r.confirmed),
                num(r.not_confirmed),
                num(r.unreachable),
                num(r.closed_late),
                num(r.median_days_to_handle.map(|d| format!("{d:.1}")).unwrap_or_else(|| "—".into())),
                num(rate(r.confirmation_rate)),
                num(rate(r.expected_rate)),
            ]
        })
        .collect()
}

/// The previous run's plan: completion per department and the non-response-adjusted rates.
fn previous_plan_html(p: &crate::run::PreviousPlan, departments: Departments, m: Messages) -> String {
    let completion: Vec<Vec<Cell>> = p
        .completion
        .iter()
        .map(|d| vec![departments.cell(&d.department), num(d.selected), num(d.inspected), num(format!("{:.3}", d.completion_rate)), num(d.responded), num(format!("{:.3}", d.response_rate))])
        .collect();
    let grades: Vec<Vec<Cell>> = p
        .by_grade
        .iter()
        .map(|r| {
            let rate = match (r.rate, r.standard_error) {
                (Some(v), Some(se)) => format!("{v:.3} ± {se:.3}"),
                _ => "—".into(),
            };
            vec![departments.cell(&r.department), txt(r.class.clone()), num(r.selected), num(r.responded), num(self::rate(r.response_rate)), num(r.violations), num(rate)]
        })
        .collect();
    let (dept, selected, random, response) = (m.tr("report.department"), m.tr("report.selected"), m.tr("followup.random_outcomes"), m.tr("followup.response_rate"));
    format!(
        "<h3>{}</h3><p>{}</p>{}{}",
        esc(m.tr("followup.previous_plan")),
        esc(&m.fill("followup.previous_plan_intro", &[("run_id", &p.run_id), ("from", &p.from), ("to", &p.to)])),
        table(&[dept, selected, m.tr("followup.inspected"), m.tr("followup.completion"), random, response], &completion),
        table(&[dept, m.tr("report.grade"), selected, random, response, m.tr("followup.violations"), m.tr("followup.adjusted_rate")], &grades),
    )
}

/// The end-of-run summary's line about the previous plan (`riskwarn run`).
pub fn previous_plan_summary(p: &crate::run::PreviousPlan, m: Messages) -> String {
    let (selected, inspected): (usize, usize) = p.completion.iter().fold((0, 0), |(s, i), d| (s + d.selected, i + d.inspected));
    let share = format!("{:.3}", if selected > 0 { inspected as f64 / selected as f64 } else { 0.0 });
    m.fill(
        "summary.previous_plan",
        &[("run_id", &p.run_id), ("from", &p.from), ("to", &p.to), ("inspected", &inspected), ("selected", &selected), ("share", &share), ("departments", &p.completion.len())],
    ) + "\n"
}


/// The report's follow-up section: feedback figures and the overdue list per department.
fn feedback_html(f: &crate::cases::Feedback, departments: Departments, m: Messages) -> String {
    if f.rows.is_empty() {
        return format!("<p>{}</p>", esc(m.tr("followup.no_cases")));
    }
    let head = [
        "group", "cases", "opened_now", "open", "overdue", "escalated", "closed", "confirmed", "not_confirmed", "unreachable", "closed_late",
        "median_days", "field_rate", "expected_rate",
    ]
    .map(|k| m.code("followup_head", k));
    let d = &f.dispositions;
    let o = &f.opening;
    let mut s = format!(
        "<p>{}</p>{}{}",
        esc(&m.fill(
            "followup.intro",
            &[
                ("applied", &d.applied),
                ("before", &d.already_applied),
                ("later", &d.not_yet_known),
                ("rejected", &d.rejected),
                ("opened", &o.opened),
                ("held", &o.suppressed),
                ("rise", &o.reopened_score_rise),
                ("event", &o.reopened_new_event)
            ]
        )),
        wide_table(&head, &feedback_rows(f, departments, m)),
        reading(m.tr("followup.rates_note")),
    );
    if !f.overdue.is_empty() {
        s += &format!("<h3>{}</h3>", esc(m.tr("followup.overdue_by_department")));
        for d in &f.overdue {
            let rows: Vec<Vec<Cell>> = d
                .longest
                .iter()
                .map(|c| vec![data(c.case_id.clone()), data(c.uscc.clone()), Cell::Tag(m.code("level", &c.level).into()), num(&c.opened_on), num(&c.due_on), num(c.days_overdue), data(c.escalated_to.clone().unwrap_or_default())])
                .collect();
            let more = if d.cases > d.longest.len() as u64 { m.fill("followup.more", &[("n", &d.cases)]) } else { String::new() };
            s += &format!(
                "<h4>{} — {}{}</h4>{}",
                departments.html(&d.department),
                esc(&m.fill("followup.cases", &[("n", &d.cases)])),
                esc(&more),
                table(
                    &[m.tr("column.case_id"), m.tr("column.uscc"), m.tr("followup.level"), m.tr("followup.opened"), m.tr("followup.due"), m.tr("followup.days_overdue"), m.tr("followup.escalated_to")],
                    &rows
                )
            );
        }
    }
    s
}

/// The end-of-run summary's lines about cases (`riskwarn run`).
pub fn feedback_summary(f: &crate::cases::Feedback, m: Messages) -> String {
    let Some(all) = f.rows.first() else { return String::new() };
    let (rate, expected) = (self::rate(all.confirmation_rate), self::rate(all.expected_rate));
    let mut s = m.fill(
        "summary.cases",
        &[
            ("cases", &all.cases),
            ("opened", &f.opening.opened),
            ("imported", &f.imported),
            ("open", &all.open),
            ("overdue", &all.overdue),
            ("escalated", &all.escalated),
            ("closed", &all.closed),
            ("rate", &rate),
            ("expected", &expected),
        ],
    ) + "\n";
    let d = &f.dispositions;
    let reopened = f.opening.reopened_score_rise + f.opening.reopened_new_event;
    s += &m.fill(
        "summary.dispositions",
        &[
            ("applied", &d.applied),
            ("pending", &d.pending),
            ("before", &d.already_applied),
            ("later", &d.not_yet_known),
            ("rejected", &d.rejected),
            ("held", &f.opening.suppressed),
            ("reopened", &reopened),
        ],
    );
    s += "\n";
    for r in f.rows.iter().filter(|r| r.by == "department" && r.overdue > 0) {
        s += &(m.fill("summary.overdue_at", &[("department", &r.group), ("n", &r.overdue)]) + "\n");
    }
    s
}
