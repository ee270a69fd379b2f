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
use super::FeatureOptions;
use crate::error::Result;
use crate::validate::SID;

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
        if !inputs.listed.is_empty() {
            let mut f = Feature::new(
                listed,
                &RELATIONS,
                format!("of those, subjects on the serious-violation or abnormal-operations list at T"),
                Label::new(format!("{zh}主体列入名录数"), format!("listed subjects {en}")),
            );
            f.increasing();
            out.push(f);
        }
        if inputs.violations.is_some() {
            let mut f = Feature::new(
                violations,
                &RELATIONS,
                format!("violations found by inspections of those subjects in the {recent} days before T"),
                Label::windowed(recent, &format!("{zh}主体检查违法次数"), &format!("violations of subjects {en}")),
            );
            f.increasing();
            out.push(f);
        }
        if inputs.penalties.is_some() {
            let mut f = Feature::new(
                penalties,
                &RELATIONS,
                format!("penalties of those subjects in the {recent} days before T"),
                Label::windowed(recent, &format!("{zh}主体行政处罚次数"), &format!("penalties of subjects {en}")),
            );
            f.increasing();
            out.push(f);
        }
    }
    out
}

/// The links valid at T: (sid, related) of rows with `valid_from < T`, `valid_to` null or ≥ T,
/// recorded before T.
fn valid_links(relations: &DataFrame, t: i32) -> Result<LazyFrame> {
    let t_date = lit(t).cast(DataType::Date);
    let mut valid = col("valid_from").lt(t_date.clone()).and(col("valid_to").is_null().or(col("valid_to").gt_eq(t_date.clone())));
    if relations.schema().contains("recorded_on") {
        valid = valid.and(col("recorded_on").is_null().or(col("recorded_on").lt(t_date)));
    }
    Ok(relations.clone().lazy().filter(valid).select([col(SID), col("related")]))
}

/// The two edge lists as of T (each pair in both directions, once) and how many ids were left
/// out for linking more than `cap` subjects.
pub fn edges(relations: &DataFrame, subjects: &DataFrame, t: i32, cap: usize) -> Result<(DataFrame, DataFrame, usize)> {
    let links = valid_links(relations, t)?;
    let codes = subjects.clone().lazy().select([col("uscc").alias("related"), col(SID).alias("other")]);
    let to_subject = JoinArgs::new(JoinType::Left);
    let classified = links.join(codes, [col("related")], [col("related")], to_subject).collect()?;
    let both_ways = |pairs: LazyFrame| {
        let back = pairs.clone().select([col("b").alias("a"), col("a").alias("b")]);
        concat([pairs, back], UnionArgs::default())
            .map(|u| u.filter(col("a").neq(col("b"))).unique_stable(None, UniqueKeepStrategy::First).sort(["a", "b"], Default::default()))
    };
    let direct = both_ways(
        classified.clone().lazy().filter(col("other").is_not_null()).select([col(SID).alias("a"), col("other").alias("b")]),
    )?
    .collect()?;
    let members = classified
        .lazy()
        .filter(col("other").is_null())
        .select([col("related"), col(SID)])
        .unique_stable(None, UniqueKeepStrategy::First);
    let sizes = members.clone().group_by([col("related")]).agg([len().alias("size")]).collect()?;
    let capped = sizes.column("size")?.cast(&DataType::UInt64)?.u64()?.iter().filter(|n| n.is_some_and(|n| n as usize > cap)).count();
    let kept = members.join(
        sizes.lazy().filter(col("size").cast(DataType::UInt64).lt_eq(lit(cap as u64))),
        [col("related")],
        [col("related")],
        JoinArgs::new(JoinType::Inner),
    );
    let pairs = kept
        .clone()
        .select([col("related"), col(SID).alias("a")])
        .join(kept.select([col("related"), col(SID).alias("b")]), [col("related")], [col("related")], JoinArgs::new(JoinType::Inner))
        .select([col("a"), col("b")]);
    let person = both_ways(pairs)?.collect()?;
    Ok((direct, person, capped))
}

/// Adds the relation features to one as-of date's per-subject frame (which holds every scored
/// subject's own features).
pub fn add(df: DataFrame, relations: &DataFrame, subjects: &DataFrame, t: i32, present: &[&str], opts: &FeatureOptions) -> Result<DataFrame> {
    let (direct, person, _) = edges(relations, subjects, t, opts.relation_person_cap)?;
    let inputs = Inputs::new(present, opts);
    let listed = inputs
        .listed
        .iter()
        .map(|c| col(c.as_str()).gt(lit(0.0)))
        .reduce(|a, b| a.or(b))
        .map(|e| e.cast(DataType::Float64));
    let mut metrics = vec![col(SID).alias("b")];
    metrics.extend(listed.map(|e| e.alias("__listed")));
    metrics.extend(inputs.violations.as_deref().map(|c| col(c).alias("__violations")));
    metrics.extend(inputs.penalties.as_deref().map(|c| col(c).alias("__penalties")));
    let neighbours = df.clone().lazy().select(metrics);
    let mut lf = df.lazy();
    for ((graph, _, _), edges) in GRAPHS.iter().zip([direct, person]) {
        let [n, listed, violations, penalties] = names(graph, opts);
        let mut aggs = vec![len().cast(DataType::Float64).alias(n.as_str())];
        let mut outputs = vec![n.clone()];
        for (present, input, name) in [
            (!inputs.listed.is_empty(), "__listed", listed),
            (inputs.violations.is_some(), "__violations", violations),
            (inputs.penalties.is_some(), "__penalties", penalties),
        ] {
            if present {
                aggs.push(col(input).sum().alias(name.as_str()));
                outputs.push(name);
            }
        }
        // Only scored neighbours count: the inner join drops the others.
        let per_subject = edges
            .lazy()
            .join(neighbours.clone(), [col("b")], [col("b")], JoinArgs::new(JoinType::Inner))
            .group_by([col("a")])
            .agg(aggs)
            .select(std::iter::once(col("a").alias(SID)).chain(outputs.iter().map(|o| col(o.as_str()))).collect::<Vec<_>>());
        let keep_order = JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Left) };
        lf = lf
            .join(per_subject, [col(SID)], [col(SID)], keep_order)
            .with_columns(outputs.iter().map(|o| col(o.as_str()).fill_null(lit(0.0))).collect::<Vec<_>>());
    }
    Ok(lf.collect()?)
}
