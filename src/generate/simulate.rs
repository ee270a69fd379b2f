//! Simulation of one chunk of subjects: a hidden, time-varying risk propensity per subject, and
//! the supervision records that arise from it. Independent events (random inspections,
//! complaints, product checks, judgments) follow Poisson processes whose rates rise with risk
//! (random inspections excepted); targeted inspections, penalties and list entries follow
//! earlier signals, as they do in practice.

use super::dirt::{Dirt, Kind};
use crate::rng::{sigmoid, Rng};
use super::tables::ChunkTables;
use super::world::*;
use super::GenerateOptions;
use crate::dates;
use crate::uscc;

/// Risk logit of an average subject (propensity ≈ 7%).
const R0: f64 = -2.6;
const YOUNG_DAYS: i32 = 730;
const YOUNG_BONUS: f64 = 0.4;
const ORG_SPACE: u64 = 852_891_037_441; // 31^8
const ORG_MULT: u64 = 502_748_117; // coprime with 31: a bijection on [0, 31^8)

/// The USCC of subject `index` (unique for every index below 31^8).
pub fn subject_uscc(index: u64, kind: u8, region: &str) -> String {
    let mut x = (index.wrapping_mul(ORG_MULT).wrapping_add(12_345_678)) % ORG_SPACE;
    let mut org = [b'0'; 9];
    org[0] = uscc::CHARSET[(index % 10) as usize + 21]; // a letter, as many real codes have
    for slot in org[1..].iter_mut().rev() {
        *slot = uscc::CHARSET[(x % 31) as usize];
        x /= 31;
    }
    uscc::compose(b'9', kind, region, &org)
}

/// Inspectors per (department, region) cell for a run of `n` subjects.
pub fn inspectors_per_cell(n: usize) -> usize {
    (n / (DEPARTMENTS.len() * REGIONS.len() * 400)).max(3)
}

pub fn inspector_id(dept: usize, region: usize, k: usize) -> String {
    format!("INS{dept:02}{region}{k:05}")
}

struct Subject {
    uscc: String,
    industry: &'static Industry,
    base: f64,
    established: i32,
    change_on: Option<i32>,
    change_delta: f64,
    terminated: Option<i32>,
}

impl Subject {
    fn logit(&self, day: i32) -> f64 {
        let mut r = self.base;
        if day < self.established + YOUNG_DAYS {
            r += YOUNG_BONUS;
        }
        if self.change_on.is_some_and(|c| day >= c) {
            r += self.change_delta;
        }
        r
    }
    fn p(&self, day: i32) -> f64 {
        sigmoid(self.logit(day))
    }
}

/// Follow-up work that an earlier record triggers.
enum Pending {
    Inspection { day: i32, mode: &'static str, department: &'static str, depth: u8 },
    Penalty { day: i32, department: &'static str, after_violation: bool, depth: u8 },
    Listing { day: i32, list: &'static str },
}

pub struct Chunk<'a> {
    pub opts: &'a GenerateOptions,
    pub first_index: u64,
    pub len: usize,
    pub index: u64,
}

struct Sim<'a> {
    opts: &'a GenerateOptions,
    rng: Rng,
    dirt: Dirt,
    out: ChunkTables,
    start: i32,
    /// Subjects active at the earlier simulated run's date (its warning candidates).
    candidates: Vec<super::feedback::Candidate>,
    /// The licences' own streams (draws and dirt), so the other tables do not depend on them.
    licence_rng: Rng,
    licence_dirt: Dirt,
    indicator_rng: Rng,
    indicator_dirt: Dirt,
    /// Days on which the current subject's penalties revoked a licence.
    revocations: Vec<i32>,
    /// The chunk's subjects, for their relations.
    members: Vec<super::relations::Member>,
}

/// Stream ids of the licences and the indicators (far from the chunks' 2c, 2c + 1 and the
/// feedback's u64::MAX − 1 − c).
const LICENCE_STREAM: u64 = 1 << 62;
const INDICATOR_STREAM: u64 = 1 << 61;
const RELATION_STREAM: u64 = 1 << 60;

pub fn simulate(chunk: &Chunk) -> (ChunkTables, Dirt) {
    let opts = chunk.opts;
    let mut sim = Sim {
        opts,
        rng: Rng::new(opts.seed, chunk.index * 2),
        dirt: Dirt::new(opts, chunk.index),
        out: ChunkTables::default(),
        start: opts.end - (opts.years as f64 * 365.25) as i32,
        candidates: Vec::new(),
        licence_rng: Rng::new(opts.seed, LICENCE_STREAM + 2 * chunk.index),
        licence_dirt: Dirt::from_stream(opts, LICENCE_STREAM + 2 * chunk.index + 1),
        indicator_rng: Rng::new(opts.seed, INDICATOR_STREAM + 2 * chunk.index),
        indicator_dirt: Dirt::from_stream(opts, INDICATOR_STREAM + 2 * chunk.index + 1),
        revocations: Vec::new(),
        members: Vec::new(),
    };
    for i in 0..chunk.len as u64 {
        sim.subject(chunk.first_index + i);
    }
    let mut relation_rng = Rng::new(opts.seed, RELATION_STREAM + 2 * chunk.index);
    let mut relation_dirt = Dirt::from_stream(opts, RELATION_STREAM + 2 * chunk.index + 1);
    super::relations::simulate(opts, chunk.index, &mut relation_rng, &mut relation_dirt, &mut sim.out.relations, &sim.members);
    sim.dirt.absorb(relation_dirt);
    for extra in [&mut sim.licence_dirt, &mut sim.indicator_dirt] {
        let d = std::mem::replace(extra, Dirt::from_stream(opts, 0));
        sim.dirt.absorb(d);
    }
    sim.out.feedback = super::feedback::simulate(opts, chunk.index, &sim.candidates);
    (sim.out, sim.dirt)
}

fn person_name(rng: &mut Rng) -> String {
    let mut s = String::from(*rng.pick(SURNAMES));
    s.push_str(*rng.pick(GIVEN));
    if rng.chance(0.6) {
        s.push_str(*rng.pick(GIVEN));
    }
    s
}

fn trade_name(rng: &mut Rng) -> String {
    let mut s = String::from(*rng.pick(TRADE_NAMES));
    s.push_str(*rng.pick(TRADE_NAMES));
    s
}

fn lognormal(rng: &mut Rng, mu: f64, sigma: f64) -> f64 {
    (mu + sigma * rng.normal()).exp()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl Sim<'_> {
    fn subject(&mut self, index: u64) {
        let rng = &mut self.rng;
        let end = self.opts.end;
        let kind_i = rng.weighted(&[0.55, 0.38, 0.025, 0.035, 0.01]);
        let subject_type = crate::contract::SUBJECT_TYPES[kind_i];
        let individual = subject_type == "individual";
        let weights: Vec<f64> = INDUSTRIES
            .iter()
            .map(|ind| {
                let small_business = matches!(&ind.code[..1], "F" | "H" | "O");
                match (individual, small_business) {
                    (true, true) => ind.weight * 3.0,
                    (true, false) if matches!(&ind.code[..1], "B" | "D" | "K" | "C") => ind.weight * 0.1,
                    _ => ind.weight,
                }
            })
            .collect();
        let industry = &INDUSTRIES[rng.weighted(&weights)];
        let region_i = rng.weighted(&REGIONS.iter().map(|r| r.weight).collect::<Vec<_>>());
        let region = &REGIONS[region_i];
        let type_char = [b'1', b'2', b'3', b'1', b'9'][kind_i];
        let code = subject_uscc(index, type_char, region.code);

        let age_days = rng.exponential(7.0 * 365.25).min((end - dates::days_from_civil(1985, 1, 1)) as f64);
        let established = end - 1 - age_days as i32;
        let capital = match subject_type {
            "enterprise" => Some(lognormal(rng, 4.5, 1.5)),
            "individual" => rng.chance(0.4).then(|| lognormal(rng, 1.5, 1.0)),
            "cooperative" => Some(lognormal(rng, 3.0, 1.0)),
            "branch" => None,
            _ => Some(lognormal(rng, 3.0, 1.5)),
        }
        .map(round2);
        let ownership = match subject_type {
            "individual" => Some("private"),
            "cooperative" => Some("collective"),
            _ => [Some("private"), Some("state"), Some("foreign"), Some("collective"), None]
                [rng.weighted(&[0.85, 0.06, 0.03, 0.03, 0.03])],
        };
        let size = capital.map_or(0.0, |c| (-0.12 * ((c + 1.0).ln() - 3.0)).clamp(-0.5, 0.5));
        let type_effect = match subject_type {
            "individual" => 0.1,
            "cooperative" => -0.1,
            _ => 0.0,
        };
        let base = R0 + industry.risk + region.risk + size + type_effect + 0.75 * rng.normal();
        let (change_on, change_delta) = if rng.chance(0.12) {
            (Some(rng.int(self.start as i64, end as i64 + 180) as i32), rng.uniform(0.8, 2.2))
        } else if rng.chance(0.045) {
            (Some(rng.int(self.start as i64, end as i64 + 180) as i32), -rng.uniform(0.5, 1.5))
        } else {
            (None, 0.0)
        };
        let revoke_p = (0.02 * (base - R0).exp()).min(0.15);
        let status_i = rng.weighted(&[1.0 - 0.09 - revoke_p - 0.03, 0.03, revoke_p, 0.09]);
        let status = crate::contract::STATUSES[status_i];
        let terminated = (status_i >= 2).then(|| {
            let lo = (established + 90).max(end - 3 * 365).min(end - 1);
            rng.int(lo as i64, end as i64 - 1) as i32
        });
        let name = match subject_type {
            "individual" => person_name(rng),
            "cooperative" => format!("{}{}{}专业合作社", region.name, trade_name(rng), industry.word),
            "branch" => format!("山西{}{}有限公司{}分公司", trade_name(rng), industry.word, region.name),
            "other" => format!("晋城市{}{}中心", trade_name(rng), industry.word),
            _ => format!("晋城市{}{}有限公司", trade_name(rng), industry.word),
        };

        let s = &mut self.out.subjects;
        s.uscc.append_value(&code);
        s.name.append_value(&name);
        s.subject_type.append_value(subject_type);
        s.industry.append_value(industry.code);
        s.region.append_value(region.code);
        s.established_on.append_value(established);
        s.registered_capital.append_option(capital);
        s.status.append_value(status);
        s.ownership.append_option(ownership);
        let subject = Subject { uscc: code, industry, base, established, change_on, change_delta, terminated };
        let t0 = super::feedback::earlier_run(self.opts);
        if established < t0 && terminated.is_none_or(|d| d > t0) {
            self.candidates.push(super::feedback::Candidate { uscc: subject.uscc.clone(), industry: industry.code, region: region.code, logit: subject.logit(t0) });
        }
        self.dirty_subject_rows(index, &subject, &name, subject_type, region.code, status, capital, ownership);

        let t = &mut self.out.truth;
        t.uscc.append_value(&subject.uscc);
        t.base_logit.append_value(base);
        t.young_until.append_value(established + YOUNG_DAYS);
        t.young_bonus.append_value(YOUNG_BONUS);
        t.change_on.append_option(change_on);
        t.change_delta.append_value(change_delta);
        t.terminated_on.append_option(terminated);

        if self.rng.chance(0.002) {
            let dept = DEPARTMENTS.iter().position(|d| *d == industry.departments[0]).unwrap_or(0);
            let k = self.rng.int(0, inspectors_per_cell(self.opts.subjects) as i64 - 1) as usize;
            self.out.conflicts.inspector_id.append_value(inspector_id(dept, region_i, k));
            self.out.conflicts.uscc.append_value(&subject.uscc);
        }
        self.revocations.clear();
        self.events(&subject);
        self.annual_reports(&subject);
        let holder = super::licences::Holder {
            uscc: &subject.uscc,
            industry: subject.industry.code,
            established: subject.established,
            terminated: subject.terminated,
            excess: &|day| subject.logit(day) - R0,
            revocations: &self.revocations,
        };
        super::licences::simulate(self.opts, self.start, &mut self.licence_rng, &mut self.licence_dirt, &mut self.out.licences, &holder);
        let observed = super::indicators::Observed {
            uscc: &subject.uscc,
            employer: matches!(subject_type, "enterprise" | "cooperative" | "branch"),
            capital,
            from: self.start.max(subject.established),
            until: subject.terminated.unwrap_or(i32::MAX).min(self.opts.end + 1),
            excess: &|day| subject.logit(day) - R0,
        };
        super::indicators::simulate(self.opts, &mut self.indicator_rng, &mut self.indicator_dirt, &mut self.out.indicators, &observed);
        self.members.push(super::relations::Member {
            uscc: subject.uscc.clone(),
            subject_type,
            base_logit: subject.base,
            established: subject.established,
            terminated: subject.terminated,
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn dirty_subject_rows(
        &mut self,
        index: u64,
        s: &Subject,
        name: &str,
        subject_type: &str,
        region: &str,
        status: &str,
        capital: Option<f64>,
        ownership: Option<&str>,
    ) {
        // A duplicate of this subject's row, and a new subject row that breaks one rule.
        // Neither touches this subject's own row, so its events stay valid.
        if self.dirt.draw_subject(Kind::DuplicateSubject) {
            let out = &mut self.out.subjects;
            out.uscc.append_value(&s.uscc);
            out.name.append_value(format!("{name}（重复登记）"));
            out.subject_type.append_value(subject_type);
            out.industry.append_value(s.industry.code);
            out.region.append_value(region);
            out.established_on.append_value(s.established);
            out.registered_capital.append_option(capital);
            out.status.append_value(status);
            out.ownership.append_option(ownership);
        }
        if let Some(kind) = self.dirt.draw_bad_subject() {
            let n = self.opts.subjects as u64;
            let code = subject_uscc(n + index, b'1', region);
            let out = &mut self.out.subjects;
            let end = self.opts.end;
            out.uscc.append_value(if kind == Kind::InvalidUscc { Dirt::break_check_char(&code) } else { code });
            out.name.append_value(if kind == Kind::EmptyValue { " " } else { "晋城市问题数据有限公司" });
            out.subject_type.append_value(if kind == Kind::UnknownEnum { "partnership" } else { "enterprise" });
            out.industry.append_value(if kind == Kind::BadCode { "Z9999" } else { s.industry.code });
            out.region.append_value(if kind == Kind::BadCode { "14052" } else { region });
            out.established_on.append_value(match kind {
                Kind::FutureDate => end + 3650,
                Kind::AncientDate => dates::days_from_civil(1900, 1, 1),
                _ => s.established,
            });
            out.registered_capital.append_value(if kind == Kind::NegativeAmount { -100.0 } else { 10.0 });
            out.status.append_value("active");
            out.ownership.append_value("private");
        }
    }

    /// Days from `day` until a record of it enters the system (0 = same day).
    fn record_lag(&mut self, mean: f64) -> i32 {
        if self.rng.chance(0.4) { 0 } else { 1 + self.rng.exponential(mean) as i32 }
    }

    fn events(&mut self, s: &Subject) {
        let end = self.opts.end;
        let w0 = self.start.max(s.established);
        let w1 = s.terminated.unwrap_or(end + 1).min(end + 1);
        if w0 >= w1 {
            return;
        }
        // Pieces of [w0, w1) on which the risk logit is constant.
        let mut cuts = vec![w0, w1];
        for c in [Some(s.established + YOUNG_DAYS), s.change_on].into_iter().flatten() {
            if c > w0 && c < w1 {
                cuts.push(c);
            }
        }
        cuts.sort_unstable();
        let section = &s.industry.code[..1];
        let mut pending = Vec::new();
        for w in cuts.windows(2) {
            let (a, b) = (w[0], w[1]);
            let years = (b - a) as f64 / 365.25;
            let excess = s.logit(a) - R0;
            let busy = if matches!(section, "F" | "H") { 1.3 } else { 1.0 };
            let rates = [
                0.16,                                                   // random inspections
                0.6 * (0.9 * excess).exp() * busy,                      // complaints
                if s.industry.products.is_empty() { 0.0 } else if section == "C" { 0.5 } else { 0.35 },
                0.10 * (0.6 * excess).exp(),                            // judgments
                0.03 * excess.exp(),                                    // penalties from other sources
                0.015 * (0.5 * excess).exp(),                           // abnormal operations (unreachable)
            ];
            for (kind, rate) in rates.iter().enumerate() {
                let n = self.rng.poisson(rate * years);
                for _ in 0..n {
                    let day = self.rng.int(a as i64, b as i64 - 1) as i32;
                    match kind {
                        0 => {
                            let mode = if self.rng.chance(0.12) { "joint" } else { "random" };
                            let department = *self.rng.pick(s.industry.departments);
                            pending.push(Pending::Inspection { day, mode, department, depth: 0 });
                        }
                        1 => self.complaint(s, day, &mut pending),
                        2 => self.product_check(s, day, &mut pending),
                        3 => self.judgment(s, day, &mut pending),
                        4 => pending.push(Pending::Penalty {
                            day,
                            department: s.industry.departments[0],
                            after_violation: false,
                            depth: 0,
                        }),
                        _ => pending.push(Pending::Listing { day, list: "abnormal_operations" }),
                    }
                }
            }
        }
        while let Some(p) = pending.pop() {
            match p {
                Pending::Inspection { day, .. } | Pending::Penalty { day, .. } | Pending::Listing { day, .. }
                    if day >= w1 => {}
                Pending::Inspection { day, mode, department, depth } => {
                    self.inspection(s, day, mode, department, depth, &mut pending)
                }
                Pending::Penalty { day, department, after_violation, depth } => {
                    self.penalty(s, day, department, after_violation, depth, &mut pending)
                }
                Pending::Listing { day, list } => self.listing(s, day, list, &mut pending),
            }
        }
    }

    fn inspection(&mut self, s: &Subject, day: i32, mode: &'static str, dept: &'static str, depth: u8, pending: &mut Vec<Pending>) {
        let p = s.p(day);
        let u = self.rng.f64();
        let outcome = if u < p {
            "violation"
        } else if u < p + (0.12 + 1.5 * p).min(0.45) {
            "issues"
        } else {
            "pass"
        };
        let issues = match outcome {
            "pass" => 0,
            "issues" => 1 + self.rng.poisson(1.0) as i32,
            _ => 1 + self.rng.poisson(2.0) as i32,
        };
        let issues = (!self.rng.chance(0.05)).then_some(issues);
        if outcome == "violation" && depth < 4 && self.rng.chance(0.75) {
            let d = day + self.rng.int(10, 90) as i32;
            pending.push(Pending::Penalty { day: d, department: dept, after_violation: true, depth: depth + 1 });
        }
        let recorded = day + self.record_lag(10.0);
        if recorded > self.opts.end {
            return; // not yet entered into the system on the extract date
        }
        let k = self.dirt.draw("inspections", Kind::EVENT_KINDS);
        let o = &mut self.out.inspections;
        o.uscc.append_value(self.dirt.uscc(k, &s.uscc, self.opts));
        o.inspected_on.append_value(self.dirt.date(k, day, self.opts));
        o.department.append_value(dept);
        o.mode.append_value(if k == Some(Kind::UnknownEnum) { "surprise" } else { mode });
        o.outcome.append_value(outcome);
        o.issues_found.append_option(if k == Some(Kind::NegativeAmount) { Some(-1) } else { issues });
        o.recorded_on.append_value(recorded);
    }

    fn penalty(&mut self, s: &Subject, day: i32, dept: &'static str, after_violation: bool, depth: u8, pending: &mut Vec<Pending>) {
        let p = s.p(day);
        let severity = if after_violation {
            ["minor", "general", "serious"][self.rng.weighted(&[0.38 - 0.3 * p, 0.5, 0.12 + 0.3 * p])]
        } else {
            ["minor", "general", "serious"][self.rng.weighted(&[0.5, 0.4, 0.1])]
        };
        let fine = match severity {
            "minor" => lognormal(&mut self.rng, 7.5, 0.6),
            "general" => lognormal(&mut self.rng, 9.8, 0.8),
            _ => lognormal(&mut self.rng, 11.5, 0.9),
        };
        let fine = (fine / 100.0).round() * 100.0;
        let revoked = severity == "serious" && self.rng.chance(0.1);
        if depth < 4 && self.rng.chance(0.25) {
            let d = day + self.rng.int(90, 200) as i32;
            pending.push(Pending::Inspection { day: d, mode: "targeted", department: dept, depth: depth + 1 });
        }
        if severity == "serious" && self.rng.chance(0.3) {
            pending.push(Pending::Listing { day: day + self.rng.int(20, 90) as i32, list: "serious_violation" });
        }
        let category = if s.industry.products.is_empty() {
            *self.rng.pick(&PENALTY_CATEGORIES[2..])
        } else {
            *self.rng.pick(PENALTY_CATEGORIES)
        };
        let recorded = day + self.record_lag(20.0);
        if recorded > self.opts.end {
            return;
        }
        let k = self.dirt.draw("penalties", Kind::EVENT_KINDS);
        let o = &mut self.out.penalties;
        o.uscc.append_value(self.dirt.uscc(k, &s.uscc, self.opts));
        o.decided_on.append_value(self.dirt.date(k, day, self.opts));
        o.department.append_value(dept);
        o.category.append_value(category);
        o.severity.append_value(if k == Some(Kind::UnknownEnum) { "grave" } else { severity });
        o.fine_cny.append_value(if k == Some(Kind::NegativeAmount) { -fine } else { fine });
        o.license_revoked.append_value(revoked);
        o.recorded_on.append_value(recorded);
        if revoked {
            self.revocations.push(day);
        }
    }

    fn complaint(&mut self, s: &Subject, day: i32, pending: &mut Vec<Pending>) {
        let p = s.p(day);
        let decided = day < self.opts.end - 60 || self.rng.chance(0.5);
        let substantiated = decided.then(|| self.rng.chance((0.15 + 2.0 * p).min(0.9)));
        let follow = if substantiated == Some(true) { 0.5 } else { 0.25 };
        if self.rng.chance(follow) {
            let d = day + self.rng.int(3, 25) as i32;
            pending.push(Pending::Inspection { day: d, mode: "complaint", department: s.industry.departments[0], depth: 1 });
        }
        let channel = ["12315", "12345", "other"][self.rng.weighted(&[0.6, 0.3, 0.1])];
        let category = *self.rng.pick(COMPLAINT_CATEGORIES);
        let recorded = day + if self.rng.chance(0.9) { 0 } else { 1 };
        if recorded > self.opts.end {
            return;
        }
        let k = self.dirt.draw("complaints", Kind::EVENT_KINDS_NO_AMOUNT);
        let o = &mut self.out.complaints;
        o.uscc.append_value(self.dirt.uscc(k, &s.uscc, self.opts));
        o.received_on.append_value(self.dirt.date(k, day, self.opts));
        o.channel.append_value(if k == Some(Kind::UnknownEnum) { "wechat" } else { channel });
        o.category.append_value(category);
        o.substantiated.append_option(substantiated);
        o.recorded_on.append_value(recorded);
    }

    fn product_check(&mut self, s: &Subject, day: i32, pending: &mut Vec<Pending>) {
        let p = s.p(day);
        let passed = !self.rng.chance(0.02 + 0.8 * p);
        if !passed {
            if self.rng.chance(0.6) {
                let d = day + self.rng.int(7, 40) as i32;
                pending.push(Pending::Inspection { day: d, mode: "targeted", department: s.industry.departments[0], depth: 1 });
            }
            if self.rng.chance(0.3) {
                let d = day + self.rng.int(20, 80) as i32;
                pending.push(Pending::Penalty { day: d, department: s.industry.departments[0], after_violation: false, depth: 1 });
            }
        }
        let product = *self.rng.pick(s.industry.products);
        let recorded = day + self.record_lag(15.0);
        if recorded > self.opts.end {
            return;
        }
        let k = self.dirt.draw("product_checks", Kind::EVENT_KINDS_NO_ENUM);
        let o = &mut self.out.product_checks;
        o.uscc.append_value(self.dirt.uscc(k, &s.uscc, self.opts));
        o.sampled_on.append_value(self.dirt.date(k, day, self.opts));
        o.product.append_value(product);
        o.passed.append_value(passed);
        o.recorded_on.append_value(recorded);
    }

    fn judgment(&mut self, s: &Subject, day: i32, pending: &mut Vec<Pending>) {
        let p = s.p(day);
        let case_type = ["civil", "enforcement", "administrative", "criminal"]
            [self.rng.weighted(&[0.7, 0.2, 0.06, 0.04 * (p / 0.07).min(3.0)])];
        let role = match case_type {
            "civil" => if self.rng.chance(0.6) { "defendant" } else { "plaintiff" },
            "enforcement" => if self.rng.chance(0.8) { "executed_party" } else { "plaintiff" },
            "administrative" => "plaintiff",
            _ => "defendant",
        };
        if role == "executed_party" && self.rng.chance(0.35) {
            pending.push(Pending::Listing { day: day + self.rng.int(10, 60) as i32, list: "dishonest_debtor" });
        }
        let amount = (!self.rng.chance(0.1)).then(|| round2(lognormal(&mut self.rng, 10.5, 1.4)));
        let recorded = day + self.record_lag(30.0);
        if recorded > self.opts.end {
            return;
        }
        let k = self.dirt.draw("judgments", Kind::EVENT_KINDS);
        let o = &mut self.out.judgments;
        o.uscc.append_value(self.dirt.uscc(k, &s.uscc, self.opts));
        o.judged_on.append_value(self.dirt.date(k, day, self.opts));
        o.case_type.append_value(if k == Some(Kind::UnknownEnum) { "arbitration" } else { case_type });
        o.role.append_value(role);
        o.amount_cny.append_option(if k == Some(Kind::NegativeAmount) { Some(-1000.0) } else { amount });
        o.recorded_on.append_value(recorded);
    }

    fn listing(&mut self, s: &Subject, day: i32, list: &'static str, pending: &mut Vec<Pending>) {
        let removed = match list {
            "serious_violation" => self.rng.chance(0.4).then(|| day + self.rng.int(365, 1100) as i32),
            "dishonest_debtor" => self.rng.chance(0.6).then(|| day + self.rng.int(60, 700) as i32),
            _ => self.rng.chance(0.6).then(|| day + self.rng.int(60, 400) as i32),
        };
        if list == "abnormal_operations" && self.rng.chance(0.15) {
            let d = day + self.rng.int(10, 60) as i32;
            pending.push(Pending::Inspection { day: d, mode: "targeted", department: s.industry.departments[0], depth: 1 });
        }
        self.push_listing(s, day, list, removed);
    }

    fn push_listing(&mut self, s: &Subject, day: i32, list: &'static str, removed: Option<i32>) {
        let end = self.opts.end;
        let recorded = day + self.record_lag(5.0);
        if recorded > end {
            return;
        }
        let removed = removed.filter(|r| *r <= end);
        let k = self.dirt.draw("credit_lists", Kind::EVENT_KINDS_NO_AMOUNT);
        let o = &mut self.out.credit_lists;
        o.uscc.append_value(self.dirt.uscc(k, &s.uscc, self.opts));
        o.list.append_value(if k == Some(Kind::UnknownEnum) { "blacklist" } else { list });
        o.listed_on.append_value(self.dirt.date(k, day, self.opts));
        o.removed_on.append_option(removed);
        o.recorded_on.append_value(recorded);
    }

    /// One row per due report year; late or missing filings put the subject on the
    /// abnormal-operations list until it files (信用修复).
    fn annual_reports(&mut self, s: &Subject) {
        let end = self.opts.end;
        let first_year = dates::year_of(self.start) - 1;
        let last_year = dates::year_of(end) - 1;
        for year in first_year.max(dates::year_of(s.established))..=last_year {
            let due = dates::days_from_civil(year + 1, 6, 30);
            if s.terminated.is_some_and(|t| t <= due) {
                break;
            }
            let jan1 = dates::days_from_civil(year + 1, 1, 1);
            let on_time = sigmoid(2.8 - 0.9 * (s.logit(due) - R0));
            let u = self.rng.f64();
            let filed = if u < on_time {
                Some(self.rng.int(jan1 as i64, due as i64) as i32)
            } else if u < on_time + (1.0 - on_time) * 0.5 {
                Some(self.rng.int(due as i64 + 1, dates::days_from_civil(year + 1, 12, 31) as i64) as i32)
            } else {
                None
            };
            let filed = filed.filter(|f| *f <= end);
            if filed.is_none_or(|f| f > due) {
                let listed = due + self.rng.int(10, 60) as i32;
                if listed <= end {
                    let removed = filed.map(|f| f.max(listed) + self.rng.int(1, 20) as i32);
                    self.push_listing(s, listed, "abnormal_operations", removed);
                }
            }
            let k = self.dirt.draw("annual_reports", Kind::REPORT_KINDS);
            let o = &mut self.out.annual_reports;
            o.uscc.append_value(self.dirt.uscc(k, &s.uscc, self.opts));
            o.year.append_value(if k == Some(Kind::AncientDate) { 1900 } else { year });
            o.filed_on.append_option(if k == Some(Kind::FutureDate) { Some(end + 3650) } else { filed });
        }
    }
}
