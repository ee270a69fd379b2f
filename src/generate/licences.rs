//! The licences of one subject (行政许可): the permits its industry needs, issued after it was
//! established, renewed on expiry — or not: a subject whose hidden risk is high lets a licence
//! lapse more often and keeps trading (无证经营), and a riskier retailer more often holds the
//! tobacco and alcohol permits. A penalty that revoked a licence revokes a current one on its
//! day. Drawn from a stream of its own, so every other table is the same with or without it.

use crate::rng::{sigmoid, Rng};

use super::dirt::{Dirt, Kind};
use super::tables::Licences;
use super::GenerateOptions;

/// A permit kind: its `licence_type`, issuer, validity in years (None: no expiry), and how much
/// more likely a riskier subject of a needing industry is to hold it (logit per unit of risk).
struct Permit {
    licence_type: &'static str,
    issuer: &'static str,
    years: Option<i32>,
    risk_tilt: f64,
}

const SAMR: &str = "市场监督管理局";
const PERMITS: &[Permit] = &[
    Permit { licence_type: "食品经营许可", issuer: SAMR, years: Some(5), risk_tilt: 0.0 },
    Permit { licence_type: "食品生产许可", issuer: SAMR, years: Some(5), risk_tilt: 0.0 },
    Permit { licence_type: "药品经营许可", issuer: SAMR, years: Some(5), risk_tilt: 0.0 },
    Permit { licence_type: "药品生产许可", issuer: SAMR, years: Some(5), risk_tilt: 0.0 },
    Permit { licence_type: "特种设备使用登记", issuer: SAMR, years: None, risk_tilt: 0.3 },
    Permit { licence_type: "烟草专卖零售许可", issuer: "烟草专卖局", years: Some(5), risk_tilt: 0.8 },
    Permit { licence_type: "酒类经营许可", issuer: "商务局", years: Some(3), risk_tilt: 0.8 },
    Permit { licence_type: "公共场所卫生许可", issuer: "卫生健康委员会", years: Some(4), risk_tilt: 0.0 },
    Permit { licence_type: "道路运输经营许可", issuer: "交通运输局", years: Some(4), risk_tilt: 0.0 },
    Permit { licence_type: "排污许可", issuer: "生态环境局", years: Some(5), risk_tilt: 0.0 },
    // Types no default policy declares: they still count as licences.
    Permit { licence_type: "医疗器械经营备案", issuer: SAMR, years: None, risk_tilt: 0.0 },
    Permit { licence_type: "建筑业企业资质", issuer: "住房和城乡建设局", years: Some(5), risk_tilt: 0.0 },
];

/// (industry code, [(permit index, share of the industry's subjects that need it)]).
const NEEDS: &[(&str, &[(usize, f64)])] = &[
    ("A0311", &[(9, 0.3)]),
    ("B0610", &[(4, 0.7), (9, 0.9)]),
    ("C1351", &[(1, 0.95), (4, 0.3), (9, 0.6)]),
    ("C1431", &[(1, 0.95)]),
    ("C1512", &[(1, 0.95), (6, 0.5)]),
    ("C2710", &[(3, 0.97), (9, 0.8)]),
    ("C2929", &[(4, 0.4), (9, 0.4)]),
    ("C3311", &[(4, 0.6)]),
    ("D4411", &[(4, 0.6), (9, 0.7)]),
    ("E4710", &[(4, 0.5), (11, 0.8)]),
    ("F5121", &[(0, 0.9)]),
    ("F5211", &[(0, 0.7), (5, 0.35), (6, 0.3)]),
    ("F5221", &[(0, 0.9), (5, 0.25), (6, 0.3)]),
    ("F5251", &[(2, 0.97), (0, 0.3), (10, 0.5)]),
    ("G5431", &[(4, 0.4), (8, 0.9)]),
    ("H6110", &[(0, 0.8), (4, 0.5), (7, 0.9)]),
    ("H6210", &[(0, 0.95), (6, 0.2)]),
    ("H6220", &[(0, 0.95)]),
    ("H6291", &[(0, 0.9), (5, 0.05)]),
    ("K7010", &[(4, 0.5)]),
    ("O8051", &[(7, 0.9)]),
    ("O8111", &[(8, 0.6)]),
    ("Q8423", &[(2, 0.3)]),
    ("R9051", &[(7, 0.7)]),
];

/// What the licences need to know of one subject.
pub struct Holder<'a> {
    pub uscc: &'a str,
    pub industry: &'static str,
    pub established: i32,
    pub terminated: Option<i32>,
    /// The hidden risk logit on a day, minus the average subject's.
    pub excess: &'a dyn Fn(i32) -> f64,
    /// Days on which a penalty revoked a licence.
    pub revocations: &'a [i32],
}

struct Row {
    permit: usize,
    issued: i32,
    expires: Option<i32>,
    revoked: Option<i32>,
}

/// Appends the subject's licences that were in force at some point of the simulated years.
pub fn simulate(opts: &GenerateOptions, start: i32, rng: &mut Rng, dirt: &mut Dirt, out: &mut Licences, h: &Holder) {
    let Some((_, needs)) = NEEDS.iter().find(|(code, _)| *code == h.industry) else { return };
    let end_of_life = h.terminated.unwrap_or(i32::MAX).min(opts.end + 1);
    let mut rows: Vec<Row> = Vec::new();
    let risk0 = (h.excess)(h.established);
    for &(p, share) in needs.iter() {
        let permit = &PERMITS[p];
        let logit = (share / (1.0 - share)).ln() + permit.risk_tilt * (risk0 - 0.3);
        if !rng.chance(sigmoid(logit)) {
            continue;
        }
        let mut issued = h.established + rng.int(0, 120) as i32;
        while issued < end_of_life {
            let expires = permit.years.map(|y| issued + y * 365 + rng.int(-3, 3) as i32);
            rows.push(Row { permit: p, issued, expires, revoked: None });
            let Some(exp) = expires else { break };
            // Renewed (on time or after a gap), or left to lapse for good.
            let renew = sigmoid(2.6 - 1.6 * (h.excess)(exp));
            if !rng.chance(renew) {
                break;
            }
            issued = if rng.chance(0.85) { exp - rng.int(0, 45) as i32 } else { exp + rng.int(1, 120) as i32 };
        }
    }
    // A licence-revoking penalty revokes a licence current on its day (the one issued first).
    for &day in h.revocations {
        if let Some(r) = rows
            .iter_mut()
            .filter(|r| r.issued < day && r.expires.is_none_or(|e| e >= day) && r.revoked.is_none())
            .min_by_key(|r| (r.issued, r.permit))
        {
            r.revoked = Some(day);
        }
    }
    for r in rows {
        // Licences that ended before the simulated years are not in the extract, nor future ones.
        let ended = r.revoked.or(r.expires).unwrap_or(i32::MAX);
        if ended < start || r.issued > opts.end {
            continue;
        }
        let recorded = r.issued + if rng.chance(0.5) { 0 } else { 1 + rng.exponential(10.0) as i32 };
        if recorded > opts.end {
            continue;
        }
        let permit = &PERMITS[r.permit];
        let k = dirt.draw("licences", Kind::EVENT_KINDS_NO_ENUM);
        out.uscc.append_value(dirt.uscc(k, h.uscc, opts));
        out.licence_type.append_value(permit.licence_type);
        out.issued_on.append_value(dirt.date(k, r.issued, opts));
        out.expires_on.append_option(r.expires);
        out.revoked_on.append_option(r.revoked.filter(|d| *d <= opts.end));
        out.issuer.append_option((!rng.chance(0.02)).then_some(permit.issuer));
        out.recorded_on.append_value(recorded);
    }
}
