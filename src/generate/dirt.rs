//! `--dirty RATE`: injects every kind of bad row that SPEC §1 says must be quarantined, from its
//! own random stream so that the clean rows are identical with and without it, and counts them.

use std::collections::BTreeMap;

use crate::rng::Rng;
use super::simulate::subject_uscc;
use super::GenerateOptions;
use crate::dates;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    InvalidUscc,
    UnknownSubject,
    UnknownEnum,
    FutureDate,
    AncientDate,
    NegativeAmount,
    DuplicateSubject,
    EmptyValue,
    BadCode,
}

impl Kind {
    pub const EVENT_KINDS: &[Kind] = &[
        Kind::InvalidUscc,
        Kind::UnknownSubject,
        Kind::UnknownEnum,
        Kind::FutureDate,
        Kind::AncientDate,
        Kind::NegativeAmount,
    ];
    pub const EVENT_KINDS_NO_AMOUNT: &[Kind] =
        &[Kind::InvalidUscc, Kind::UnknownSubject, Kind::UnknownEnum, Kind::FutureDate, Kind::AncientDate];
    pub const EVENT_KINDS_NO_ENUM: &[Kind] =
        &[Kind::InvalidUscc, Kind::UnknownSubject, Kind::FutureDate, Kind::AncientDate];
    pub const REPORT_KINDS: &[Kind] = &[Kind::InvalidUscc, Kind::UnknownSubject, Kind::FutureDate, Kind::AncientDate];
    const BAD_SUBJECT_KINDS: &[Kind] = &[
        Kind::InvalidUscc,
        Kind::EmptyValue,
        Kind::UnknownEnum,
        Kind::BadCode,
        Kind::FutureDate,
        Kind::AncientDate,
        Kind::NegativeAmount,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::InvalidUscc => "invalid_uscc",
            Kind::UnknownSubject => "unknown_subject",
            Kind::UnknownEnum => "unknown_enum",
            Kind::FutureDate => "future_date",
            Kind::AncientDate => "date_before_1949",
            Kind::NegativeAmount => "negative_amount",
            Kind::DuplicateSubject => "duplicate_subject",
            Kind::EmptyValue => "empty_value",
            Kind::BadCode => "bad_code",
        }
    }
}

pub struct Dirt {
    rng: Rng,
    rate: f64,
    /// Rows injected, by (table, kind).
    pub injected: BTreeMap<(&'static str, &'static str), u64>,
    subjects: u64,
}

impl Dirt {
    pub fn new(opts: &GenerateOptions, chunk: u64) -> Self {
        Self::from_stream(opts, chunk * 2 + 1)
    }

    /// Dirt from a stream of its own (a table added later must not shift the others' draws).
    pub fn from_stream(opts: &GenerateOptions, stream: u64) -> Self {
        Dirt {
            rng: Rng::new(opts.seed, stream),
            rate: opts.dirty,
            injected: BTreeMap::new(),
            subjects: opts.subjects as u64,
        }
    }

    /// Adds the counts of `other` (the same chunk's dirt from another stream).
    pub fn absorb(&mut self, other: Dirt) {
        for (key, n) in other.injected {
            *self.injected.entry(key).or_default() += n;
        }
    }

    fn count(&mut self, table: &'static str, kind: Kind) {
        *self.injected.entry((table, kind.name())).or_default() += 1;
    }

    /// Whether to append a duplicate of the current subject row.
    pub fn draw_subject(&mut self, kind: Kind) -> bool {
        let hit = self.rate > 0.0 && self.rng.chance(self.rate);
        if hit {
            self.count("subjects", kind);
        }
        hit
    }

    /// Which rule an appended bad subject row breaks, if one is appended.
    pub fn draw_bad_subject(&mut self) -> Option<Kind> {
        if self.rate <= 0.0 || !self.rng.chance(self.rate) {
            return None;
        }
        let kind = *self.rng.pick(Kind::BAD_SUBJECT_KINDS);
        self.count("subjects", kind);
        Some(kind)
    }

    /// Which corruption (if any) the next row of `table` gets, counted against that table.
    pub fn draw(&mut self, table: &'static str, kinds: &'static [Kind]) -> Option<Kind> {
        if self.rate <= 0.0 || !self.rng.chance(self.rate) {
            return None;
        }
        let kind = *self.rng.pick(kinds);
        self.count(table, kind);
        Some(kind)
    }

    pub fn uscc(&mut self, kind: Option<Kind>, real: &str, _opts: &GenerateOptions) -> String {
        match kind {
            Some(Kind::InvalidUscc) => Self::break_check_char(real),
            Some(Kind::UnknownSubject) => {
                // Valid codes of subjects that do not exist: indices past the registry's range.
                let i = 2 * self.subjects + self.rng.u64() % (self.subjects.max(1));
                subject_uscc(i, b'1', &real[2..8])
            }
            _ => real.to_string(),
        }
    }

    pub fn date(&mut self, kind: Option<Kind>, day: i32, opts: &GenerateOptions) -> i32 {
        match kind {
            Some(Kind::FutureDate) => opts.end + 3650 + self.rng.int(0, 365) as i32,
            Some(Kind::AncientDate) => dates::days_from_civil(1930, 1, 1) + self.rng.int(0, 3000) as i32,
            _ => day,
        }
    }

    /// The same code with a wrong check character.
    pub fn break_check_char(code: &str) -> String {
        let mut b = code.as_bytes().to_vec();
        let last = b[17];
        b[17] = if last == b'0' { b'1' } else { b'0' };
        String::from_utf8(b).expect("ascii")
    }
}
