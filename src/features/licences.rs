//! Administrative licences (行政许可): which declared permits a subject holds at T, how many,
//! whether one has lapsed without renewal (无证经营 risk) and revocations. The revocation joins
//! the penalty-based one in `merged`, so a hard rule sees one fact.


use super::spec::{windowed_name, Kind, Label, Measure, TableFeatures, LICENCES};
use super::FeatureOptions;

/// Declared types take one predicate bit each.
pub const MAX_DECLARED: usize = 32;

/// The lapsed-licence feature: zero for a subject that is not `active` (a suspended business needs no licence).
pub const LAPSED: &str = "lic_lapsed_n";

pub fn held_name(stem: &str) -> String {
    format!("lic_{stem}_now")
}

pub fn revoked_name(days: i32) -> String {
    windowed_name("lic_revoked", days)
}

pub fn declare(opts: &FeatureOptions) -> TableFeatures {
    let mut t = TableFeatures::new("licences", &LICENCES);
    for l in &opts.licences {
        let bit = t.equals(&l.name, "licence_type", l.licence_type.as_str());
        t.add(
            held_name(&l.name),
            format!("1 if a `{}` licence is current at T (issued before T, not expired or revoked before T), else 0", l.licence_type),
            Label::new(format!("持有有效{}", l.zh), format!("holds a current {}", l.en)),
            Measure::HeldNow { bits: bit },
        )
        .kind(Kind::Flag);
    }
    t.add(
        "lic_current_n",
        "licences current at T, of any type",
        Label::new("有效许可证件数", "current licences"),
        Measure::HeldCount,
    );
    t.add(
        LAPSED,
        "licence types of which an `active` subject held a licence before T but holds none current at T \
         (expired without renewal, or revoked): 无证经营 risk; 0 for a suspended subject",
        Label::new("许可过期或被吊销未重新取得", "licences lapsed without renewal"),
        Measure::LapsedTypes,
    )
    .increasing();
    let recent = opts.recent_days;
    t.add(
        revoked_name(recent),
        format!("licences revoked (`revoked_on`) in the {recent} days before T"),
        Label::windowed(recent, "许可被吊销次数", "licences revoked"),
        Measure::RevokedWithin(recent),
    )
    .increasing();
    t
}
