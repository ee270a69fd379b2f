//! Related parties (关联关系): a population-wide step after the per-subject features, like the
//! peer groups. As of T, the links valid at T make two graphs: *direct* (the related party is a
//! subject: a branch's head office, a corporate shareholder) and *through a person* (subjects
//! sharing a legal representative, a shareholder or an address id). Each subject gets, per
//! graph, its related scored subjects and their listings, violations and penalties of the
//! recent window — read off those subjects' own features, so nothing is computed twice. An id
//! shared by more than `relation_person_cap` subjects (nominee directors, registered agents) is
//! left out: it would relate hundreds of strangers.

use polars::prelude::*;

use super::spec::{windowed_name, Feature, Label, RELATIONS};
use super::kernel::{dates_or, flat};
use super::FeatureOptions;
use crate::error::Result;
use crate::validate::{RELATED_SID, SID};
use rayon::prelude::*;

/// The two graphs: links to a subject, and links through a shared person or address id.
const GRAPHS: [(&str, &str, &str); 2] = [("direct", "直接关联", "directly related"), ("person", "共同关联人", "sharing a person")];

/// The neighbour columns a relation feature sums, when their tables are present.
struct Inputs {
    listed: Vec<String>,
    violations: Option<String>,
    penalties: Option<String>,
}

impl Inputs {
    fn new(present: &[&str], opts: &FeatureOptions) -> Self {
        Inputs {
            listed: if present.contains(&"credit_lists") { vec!["list_serious_now".into(), "list_abnormal_now".into()] } else { Vec::new() },
            violations: present.contains(&"inspections").then(|| windowed_name("insp_violation", opts.recent_days)),
            penalties: present.contains(&"penalties").then(|| windowed_name("pen_n", opts.recent_days)),
        }
    }
}

fn names(graph: &str, opts: &FeatureOptions) -> [String; 4] {
    let recent = opts.recent_days;
    [
        format!("rel_{graph}_n"),
        format!("rel_{graph}_listed_n"),
        windowed_name(&format!("rel_{graph}_violation"), recent),
        windowed_name(&format!("rel_{graph}_penalty"), recent),
    ]
}

pub fn catalogue(present: &[&str], opts: &FeatureOptions) -> Vec<Feature> {
    if !present.contains(&"relations") {
        return Vec::new();
    }
    let inputs = Inputs::new(present, opts);
    let recent = opts.recent_days;
    let mut out = Vec::new();
    for (graph, zh, en) in GRAPHS {
        let [n, listed, violations, penalties] = names(graph, opts);
        let how = match graph {
            "direct" => "linked to it directly (one is the other's `related`)",
            _ => "sharing a person or address id with it (at most `relation_person_cap` subjects per id)",
        };
        out.push(Feature::new(n, &RELATIONS, format!("scored subjects {how} at T"), Label::new(format!("{zh}主体数"), format!("subjects {en}"))));
        let summed = [
            (!inputs.listed.is_empty(), listed, "of those, subjects on the serious-violation or abnormal-operations list at T".to_string(),
             Label::new(format!("{zh}主体列入名录数"), format!("listed subjects {en}"))),
            (inputs.violations.is_some(), violations, format!("violations found by inspections of those subjects in the {recent} days before T"),
             Label::windowed(recent, &format!("{zh}主体检查违法次数"), &format!("violations of subjects {en}"))),
            (inputs.penalties.is_some(), penalties, format!("penalties of those subjects in the {recent} days before T"),
             Label::windowed(recent, &format!("{zh}主体行政处罚次数"), &format!("penalties of subjects {en}"))),
        ];
        for (present, name, doc, label) in summed {
            if present {
                let mut f = Feature::new(name, &RELATIONS, doc, label);
                f.increasing();
                out.push(f);
            }
        }
    }
    out
}

/// The two graphs as of T, each a sorted list of distinct (a, b) sid pairs holding both
/// directions of every link, and how many ids were left out for linking more than `cap` subjects.
pub struct Edges {
    pub direct: Vec<(u32, u32)>,
    pub person: Vec<(u32, u32)>,
    pub capped: usize,
}

/// The graph's edges as of T: links with `valid_from < T`, `valid_to` null or ≥ T, recorded
/// before T. Sorting (not hashing into maps) keeps the result the same for any thread count.
pub fn edges(relations: &DataFrame, t: i32, cap: usize) -> Result<Edges> {
    let from = dates_or(relations, "valid_from", i32::MAX)?;
    let to = dates_or(relations, "valid_to", i32::MAX)?;
    let recorded = dates_or(relations, "recorded_on", i32::MIN)?;
    let sid: Vec<u32> = flat(relations.column(SID)?.u32()?, u32::MAX);
    let other: Vec<Option<u32>> = relations.column(RELATED_SID)?.u32()?.iter().collect();
    let related = relations.column("related")?.str()?;
    let valid = |i: usize| from[i] < t && to[i] >= t && recorded[i] < t;
    let mut direct: Vec<(u32, u32)> = Vec::new();
    // (hash of the id, sid, row) of links through a person or address id.
    let mut members: Vec<(u64, u32, u32)> = Vec::new();
    for (i, text) in related.iter().enumerate() {
        if !valid(i) {
            continue;
        }
        match other[i] {
            Some(o) if o != sid[i] => direct.extend([(sid[i], o), (o, sid[i])]),
            Some(_) => {}
            None => members.push((crate::digest::stable_hash(text.unwrap_or("")), sid[i], i as u32)),
        }
    }
    direct.par_sort_unstable();
    direct.dedup();
    members.par_sort_unstable();
    // Equal hashes are one id unless their texts differ (then split by text).
    let text = |row: u32| related.get(row as usize).unwrap_or("");
    let mut person: Vec<(u32, u32)> = Vec::new();
    let mut capped = 0;
    let mut start = 0;
    while start < members.len() {
        let mut end = start + 1;
        while end < members.len() && members[end].0 == members[start].0 {
            end += 1;
        }
        let mut group: Vec<(&str, u32)> = members[start..end].iter().map(|m| (text(m.2), m.1)).collect();
        group.sort_unstable();
        group.dedup();
        for same in group.chunk_by(|x, y| x.0 == y.0) {
            if same.len() > cap {
                capped += 1;
                continue;
            }
            for x in same {
                person.extend(same.iter().filter(|y| y.1 != x.1).map(|y| (x.1, y.1)));
            }
        }
        start = end;
    }
    person.par_sort_unstable();
    person.dedup();
    Ok(Edges { direct, person, capped })
}

impl Inputs {
    /// The neighbour columns, in order.
    fn columns(&self) -> Vec<String> {
        self.listed.iter().cloned().chain(self.violations.clone()).chain(self.penalties.clone()).collect()
    }
}

/// The columns of the per-subject features the relation step reads.
pub fn input_columns(present: &[&str], opts: &FeatureOptions) -> Vec<String> {
    std::iter::once(SID.to_string()).chain(Inputs::new(present, opts).columns()).collect()
}

/// The columns of a `relations` table the edges are made of, besides the ids.
fn link_columns(relations: &DataFrame) -> Vec<&'static str> {
    ["related", "valid_from", "valid_to"].into_iter().chain(relations.schema().contains("recorded_on").then_some("recorded_on")).collect()
}

/// The columns of a bucket's `relations` table the relation step reads.
pub fn table_columns(relations: &DataFrame) -> Result<DataFrame> {
    Ok(relations.select([SID, RELATED_SID].into_iter().chain(link_columns(relations)))?)
}

/// One bucket's share of the relation step at one as-of date.
pub struct RelationPart<'a> {
    /// Its scored subjects' own features (at least [`input_columns`]), with their bucket-local `sid`.
    pub features: &'a DataFrame,
    /// Its used `relations` rows (at least [`table_columns`]; None without that table).
    pub relations: Option<&'a DataFrame>,
    /// Its used subjects' codes in `sid` order.
    pub subjects: &'a StringChunked,
}

/// The relation features of every part's scored subjects — one frame per part, row for row with
/// its `features` — and the ids capped. A related subject may sit in any bucket: the parts'
/// subjects are numbered one after the other, and `related` is looked up among all of them
/// (with one part, its own sids are those numbers and validation has already looked it up).
pub fn population(parts: &[RelationPart], t: i32, present: &[&str], opts: &FeatureOptions) -> Result<(Vec<DataFrame>, usize)> {
    let inputs = Inputs::new(present, opts);
    let mut offsets = Vec::with_capacity(parts.len());
    let mut total = 0u32;
    for p in parts {
        offsets.push(total);
        total += p.subjects.len() as u32;
    }
    let global_ids: Option<PlHashMap<&str, u32>> = (parts.len() > 1).then(|| {
        let mut map = PlHashMap::with_capacity(total as usize);
        for (p, &o) in parts.iter().zip(&offsets) {
            for (i, code) in p.subjects.iter().enumerate() {
                if let Some(code) = code {
                    map.insert(code, o + i as u32);
                }
            }
        }
        map
    });
    let shifted = |df: &DataFrame, name: &str, offset: u32| -> Result<Column> {
        Ok((df.column(name)?.as_materialized_series().u32()? + offset).into_column())
    };
    let mut features: Option<DataFrame> = None;
    let mut relations: Option<DataFrame> = None;
    let needed = inputs.columns();
    for (p, &o) in parts.iter().zip(&offsets) {
        let mut f = p.features.select(&needed)?;
        f.with_column(shifted(p.features, SID, o)?)?;
        crate::bucket::stack(&mut features, f)?;
        let Some(table) = p.relations else { continue };
        let mut r = table.select(link_columns(table))?;
        r.with_column(shifted(table, SID, o)?)?;
        let related = match &global_ids {
            None => table.column(RELATED_SID)?.clone(),
            Some(map) => {
                let codes = r.column("related")?.str()?;
                Column::new(RELATED_SID.into(), codes.iter().map(|c| c.and_then(|c| map.get(c).copied())).collect::<Vec<Option<u32>>>())
            }
        };
        r.with_column(related)?;
        crate::bucket::stack(&mut relations, r)?;
    }
    let Some(relations) = relations else {
        return Ok((parts.iter().map(|p| DataFrame::empty_with_height(p.features.height())).collect(), 0));
    };
    let features = features.unwrap_or_default();
    let edges = edges(&relations, t, opts.relation_person_cap)?;
    let columns = add_from_edges(&features, &edges, total as usize, &inputs, opts)?;
    let mut out = Vec::with_capacity(parts.len());
    let mut row = 0;
    for p in parts {
        out.push(columns.slice(row, p.features.height()));
        row += p.features.height() as i64;
    }
    Ok((out, edges.capped))
}

/// The relation columns of the subjects of `df` (its `sid` numbering the graphs' nodes, of
/// which there are `n_subjects`).
fn add_from_edges(df: &DataFrame, edges: &Edges, n_subjects: usize, inputs: &Inputs, opts: &FeatureOptions) -> Result<DataFrame> {
    // Row of each scored subject in `df`; a subject that is not scored is no neighbour.
    let mut row = vec![u32::MAX; n_subjects];
    for (i, s) in df.column(SID)?.u32()?.iter().enumerate() {
        row[s.expect("scored subjects have a sid") as usize] = i as u32;
    }
    let column = |name: &str| -> Result<Vec<f64>> { Ok(df.column(name)?.f64()?.iter().map(|v| v.unwrap_or(0.0)).collect()) };
    let zeros = vec![0.0; df.height()];
    let listed: Vec<f64> = if inputs.listed.is_empty() {
        zeros.clone()
    } else {
        let parts: Vec<Vec<f64>> = inputs.listed.iter().map(|c| column(c)).collect::<Result<_>>()?;
        (0..df.height()).map(|i| parts.iter().any(|p| p[i] > 0.0) as u8 as f64).collect()
    };
    let violations = match &inputs.violations {
        Some(c) => column(c)?,
        None => zeros.clone(),
    };
    let penalties = match &inputs.penalties {
        Some(c) => column(c)?,
        None => zeros.clone(),
    };
    let mut out = DataFrame::empty_with_height(df.height());
    for ((graph, _, _), pairs) in GRAPHS.iter().zip([&edges.direct, &edges.person]) {
        let [n, listed_name, violations_name, penalties_name] = names(graph, opts);
        let mut sums = [zeros.clone(), zeros.clone(), zeros.clone(), zeros.clone()];
        for &(a, b) in pairs.iter() {
            let (ra, rb) = (row[a as usize], row[b as usize]);
            if ra == u32::MAX || rb == u32::MAX {
                continue;
            }
            let (ra, rb) = (ra as usize, rb as usize);
            sums[0][ra] += 1.0;
            sums[1][ra] += listed[rb];
            sums[2][ra] += violations[rb];
            sums[3][ra] += penalties[rb];
        }
        let [s_n, s_listed, s_violations, s_penalties] = sums;
        // The sums move into polars without a copy.
        let column = |name: String, values: Vec<f64>| Float64Chunked::from_vec(name.into(), values).into_column();
        out.with_column(column(n, s_n))?;
        if !inputs.listed.is_empty() {
            out.with_column(column(listed_name, s_listed))?;
        }
        if inputs.violations.is_some() {
            out.with_column(column(violations_name, s_violations))?;
        }
        if inputs.penalties.is_some() {
            out.with_column(column(penalties_name, s_penalties))?;
        }
    }
    Ok(out)
}
