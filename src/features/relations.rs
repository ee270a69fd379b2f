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
use super::kernel::dates_or;
use super::FeatureOptions;
use crate::error::Result;
use crate::validate::SID;
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

/// A text as the relation step compares it: two stable 64-bit hashes (xxHash64 with two
/// seeds), so that millions of ids and codes are held as 16 bytes each, not as strings. Two
/// texts are taken as the same id only if both hashes agree (by chance about n² / 2^129 for n
/// texts: nil at any scale).
type Key = [u64; 2];

fn key(text: &str) -> Key {
    let b = text.as_bytes();
    [twox_hash::XxHash64::oneshot(0, b), twox_hash::XxHash64::oneshot(0x9e37_79b9_7f4a_7c15, b)]
}

/// What the relation step keeps of the buckets as they are pushed one at a time, numbered
/// one after the other: per used subject the key of its code, per link valid at T the key of
/// its `related` text, and per scored subject its neighbour values.
pub struct Graph {
    t: i32,
    /// (key of the code, number) per used subject.
    subjects: Vec<(Key, u32)>,
    /// (key of `related`, number of the subject) per link valid at T.
    links: Vec<(Key, u32)>,
    /// Per scored subject: its number and the values its neighbours sum.
    nodes: Vec<u32>,
    listed: Vec<bool>,
    violations: Vec<f64>,
    penalties: Vec<f64>,
    /// Scored subjects per part.
    heights: Vec<usize>,
    total: u32,
    with_table: bool,
}

impl Graph {
    pub fn new(t: i32) -> Graph {
        Graph {
            t,
            subjects: Vec::new(),
            links: Vec::new(),
            nodes: Vec::new(),
            listed: Vec::new(),
            violations: Vec::new(),
            penalties: Vec::new(),
            heights: Vec::new(),
            total: 0,
            with_table: false,
        }
    }

    /// Adds a part: its subjects are numbered after those of the parts before it (without a
    /// relations table, only its number of scored subjects is kept).
    pub fn push(&mut self, part: &RelationPart, present: &[&str], opts: &FeatureOptions) -> Result<()> {
        if !present.contains(&"relations") {
            self.heights.push(part.features.height());
            return Ok(());
        }
        let offset = self.total;
        self.add_links(part.relations, part.subjects, offset)?;
        let inputs = Inputs::new(present, opts);
        let f = part.features;
        let column = |name: &str| -> Result<Vec<f64>> { Ok(f.column(name)?.f64()?.iter().map(|v| v.unwrap_or(0.0)).collect()) };
        self.nodes.extend(f.column(SID)?.u32()?.iter().map(|s| s.expect("scored subjects have a sid") + offset));
        let listed: Vec<Vec<f64>> = inputs.listed.iter().map(|c| column(c)).collect::<Result<_>>()?;
        self.listed.extend((0..f.height()).map(|i| listed.iter().any(|p| p[i] > 0.0)));
        match &inputs.violations {
            Some(c) => self.violations.extend(column(c)?),
            None => self.violations.extend(std::iter::repeat_n(0.0, f.height())),
        }
        match &inputs.penalties {
            Some(c) => self.penalties.extend(column(c)?),
            None => self.penalties.extend(std::iter::repeat_n(0.0, f.height())),
        }
        self.heights.push(f.height());
        Ok(())
    }

    /// The used subjects' codes and the links valid at T of a part numbered from `offset`:
    /// links with `valid_from < T`, `valid_to` null or ≥ T, recorded before T.
    fn add_links(&mut self, relations: Option<&DataFrame>, subjects: &StringChunked, offset: u32) -> Result<()> {
        self.subjects.extend(subjects.iter().enumerate().filter_map(|(i, c)| c.map(|c| (key(c), offset + i as u32))));
        self.total += subjects.len() as u32;
        let Some(relations) = relations else { return Ok(()) };
        self.with_table = true;
        let t = self.t;
        let from = dates_or(relations, "valid_from", i32::MAX)?;
        let to = dates_or(relations, "valid_to", i32::MAX)?;
        let recorded = dates_or(relations, "recorded_on", i32::MIN)?;
        let sid = relations.column(SID)?.u32()?;
        for (i, (text, sid)) in relations.column("related")?.str()?.iter().zip(sid.iter()).enumerate() {
            // A used row always has its subject (validation).
            if let Some(sid) = sid.filter(|_| from[i] < t && to[i] >= t && recorded[i] < t) {
                self.links.push((key(text.unwrap_or("")), offset + sid));
            }
        }
        Ok(())
    }

    /// The two graphs: a link whose `related` is the code of a subject (of any part) links the
    /// two directly; the others link the subjects sharing that person or address id. Sorting
    /// (not hashing into maps) keeps the result the same for any thread count.
    pub fn edges(&mut self, cap: usize) -> Edges {
        self.subjects.par_sort_unstable();
        self.links.par_sort_unstable();
        let mut direct: Vec<(u32, u32)> = Vec::new();
        let mut person: Vec<(u32, u32)> = Vec::new();
        let mut capped = 0;
        let mut subjects = self.subjects.iter().peekable();
        for same in self.links.chunk_by(|a, b| a.0 == b.0) {
            let k = same[0].0;
            while subjects.next_if(|s| s.0 < k).is_some() {}
            match subjects.peek() {
                Some(&&(code, o)) if code == k => direct.extend(same.iter().filter(|l| l.1 != o).flat_map(|l| [(l.1, o), (o, l.1)])),
                _ => {
                    let mut members: Vec<u32> = same.iter().map(|l| l.1).collect();
                    members.dedup();
                    if members.len() > cap {
                        capped += 1;
                        continue;
                    }
                    for &x in &members {
                        person.extend(members.iter().filter(|&&y| y != x).map(|&y| (x, y)));
                    }
                }
            }
        }
        direct.par_sort_unstable();
        direct.dedup();
        person.par_sort_unstable();
        person.dedup();
        Edges { direct, person, capped }
    }

    /// The relation features of every part's scored subjects — one frame per part, row for row
    /// with its features (no columns without a relations table) — and the ids capped.
    pub fn features(mut self, present: &[&str], opts: &FeatureOptions) -> Result<(Vec<DataFrame>, usize)> {
        if !self.with_table {
            return Ok((self.heights.iter().map(|n| DataFrame::empty_with_height(*n)).collect(), 0));
        }
        let edges = self.edges(opts.relation_person_cap);
        // The keys are done with once the graphs exist.
        self.subjects = Vec::new();
        self.links = Vec::new();
        let columns = add_from_edges(&self, &edges, &Inputs::new(present, opts), opts)?;
        let mut out = Vec::with_capacity(self.heights.len());
        let mut row = 0;
        for &h in &self.heights {
            out.push(columns.slice(row, h));
            row += h as i64;
        }
        Ok((out, edges.capped))
    }
}

/// Ids of one bucket's (or the whole data's) `relations` left out as of T for linking more
/// than `cap` subjects (`subjects`: its used subjects' codes in `sid` order).
pub fn capped_ids(relations: &DataFrame, subjects: &StringChunked, t: i32, cap: usize) -> Result<usize> {
    let mut graph = Graph::new(t);
    graph.add_links(Some(relations), subjects, 0)?;
    Ok(graph.edges(cap).capped)
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
    Ok(relations.select([SID].into_iter().chain(link_columns(relations)))?)
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
/// its `features` — and the ids capped. A related subject may sit in any part: the parts'
/// subjects are numbered one after the other, and `related` is looked up among all of them.
pub fn population(parts: &[RelationPart], t: i32, present: &[&str], opts: &FeatureOptions) -> Result<(Vec<DataFrame>, usize)> {
    let mut graph = Graph::new(t);
    for p in parts {
        graph.push(p, present, opts)?;
    }
    graph.features(present, opts)
}

/// The relation columns of the graph's scored subjects (its nodes, in the order pushed).
fn add_from_edges(g: &Graph, edges: &Edges, inputs: &Inputs, opts: &FeatureOptions) -> Result<DataFrame> {
    // Row of each scored subject; a subject that is not scored is no neighbour.
    let mut row = vec![u32::MAX; g.total as usize];
    for (i, &s) in g.nodes.iter().enumerate() {
        row[s as usize] = i as u32;
    }
    let n = g.nodes.len();
    let zeros = vec![0.0; n];
    let listed: Vec<f64> = g.listed.iter().map(|l| *l as u8 as f64).collect();
    let (violations, penalties) = (&g.violations, &g.penalties);
    let mut out = DataFrame::empty_with_height(n);
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
