//! Declared indicators of one subject (申报指标, long form): tax arrears in episodes whose onset
//! rises with hidden risk, social-insurance arrears (months) and utility arrears that do too,
//! staff numbers that follow size only, and electricity use that is pure noise — so a backtest
//! can tell an informative indicator from one that is not. Drawn from a stream of its own.

use crate::rng::{sigmoid, Rng};

use super::dirt::{Dirt, Kind};
use super::tables::Indicators;
use super::GenerateOptions;

pub const TAX_ARREARS: &str = "tax_arrears";
pub const SOCIAL_ARREARS: &str = "social_insurance_arrears";
pub const UTILITY_ARREARS: &str = "utility_arrears";
pub const EMPLOYEES: &str = "employees";
pub const ELECTRICITY: &str = "electricity";

/// What the indicators need to know of one subject.
pub struct Observed<'a> {
    pub uscc: &'a str,
    /// Enterprises, cooperatives and branches have staff (and pay social insurance).
    pub employer: bool,
    pub capital: Option<f64>,
    /// First and last day the subject trades within the simulated years.
    pub from: i32,
    pub until: i32,
    /// The hidden risk logit on a day, minus the average subject's.
    pub excess: &'a dyn Fn(i32) -> f64,
}

struct Sink<'a> {
    opts: &'a GenerateOptions,
    rng: &'a mut Rng,
    dirt: &'a mut Dirt,
    out: &'a mut Indicators,
    uscc: &'a str,
}

impl Sink<'_> {
    fn push(&mut self, indicator: &'static str, day: i32, value: Option<f64>, lag_days: f64) {
        let recorded = day + self.rng.exponential(lag_days) as i32;
        if recorded > self.opts.end {
            return;
        }
        // Now and then a department records an observation without its figure.
        let value = value.filter(|_| !self.rng.chance(0.02)).map(|v| (v * 100.0).round() / 100.0);
        let k = self.dirt.draw("indicators", Kind::EVENT_KINDS_NO_ENUM);
        self.out.uscc.append_value(self.dirt.uscc(k, self.uscc, self.opts));
        self.out.indicator.append_value(indicator);
        self.out.observed_on.append_value(self.dirt.date(k, day, self.opts));
        self.out.value.append_option(value);
        self.out.recorded_on.append_value(recorded);
    }
}

pub fn simulate(opts: &GenerateOptions, rng: &mut Rng, dirt: &mut Dirt, out: &mut Indicators, s: &Observed) {
    if s.from >= s.until {
        return;
    }
    let mut sink = Sink { opts, rng, dirt, out, uscc: s.uscc };
    // Tax arrears: each quarter-end, an episode may start (more often for a riskier subject); it is
    // reported every quarter while it lasts and once more, at 0, when it is cleared.
    let mut day = s.from + 90;
    while day < s.until {
        let onset = sigmoid(-4.4 + 1.6 * (s.excess)(day));
        if sink.rng.chance(onset) {
            let quarters = 1 + sink.rng.int(0, 3) as i32;
            let owed = (0.2 + 0.4 * (s.excess)(day).max(0.0)) * (1.0 + sink.rng.exponential(1.5));
            for q in 0..quarters {
                let d = day + 91 * q;
                if d >= s.until {
                    break;
                }
                sink.push(TAX_ARREARS, d, Some(owed * (1.0 + 0.1 * q as f64)), 20.0);
            }
            let cleared = day + 91 * quarters;
            if cleared < s.until {
                sink.push(TAX_ARREARS, cleared, Some(0.0), 20.0);
            }
            day += 91 * (quarters + 1);
        } else {
            day += 91;
        }
    }
    // Yearly figures.
    let mut day = s.from + sink.rng.int(30, 365) as i32;
    while day < s.until {
        let excess = (s.excess)(day);
        if s.employer {
            let months = sink.rng.poisson(0.1 * (1.4 * excess).exp()).min(24);
            sink.push(SOCIAL_ARREARS, day, Some(months as f64), 30.0);
            let base = s.capital.map_or(1.0, |c| 0.45 * (c + 1.0).ln());
            let staff = (base + 0.6 * sink.rng.normal()).exp().round().max(1.0);
            sink.push(EMPLOYEES, day, Some(staff), 30.0);
        }
        if sink.rng.chance(sigmoid(-3.6 + 1.3 * excess)) {
            let overdue = sink.rng.uniform(30.0, 180.0).round();
            let on = day + sink.rng.int(0, 200) as i32;
            if on < s.until {
                sink.push(UTILITY_ARREARS, on, Some(overdue), 15.0);
            }
        }
        if sink.rng.chance(0.7) {
            let use_ = (sink.rng.normal()).exp();
            sink.push(ELECTRICITY, day, Some(use_), 40.0);
        }
        day += 365;
    }
}
