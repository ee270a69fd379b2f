//! The one message table: every user-facing string — report, CSV and XLSX headers, reason
//! texts, notices, end-of-run summaries — in both report languages, from `messages.toml`
//! (embedded at build time). The policy's `language` picks one; [`Messages`] looks keys up
//! and fills their `{name}` placeholders.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::OnceLock;

use crate::policy::Language;

const TABLE: &str = include_str!("messages.toml");

/// One entry of the table: its text in each language.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub zh: String,
    pub en: String,
}

fn parse() -> Result<Vec<Entry>, String> {
    let value: toml::Table = TABLE.parse().map_err(|e| format!("messages.toml: {e}"))?;
    let mut out = Vec::new();
    for (area, names) in &value {
        let names = names.as_table().ok_or_else(|| format!("messages.toml: `{area}` is not a table"))?;
        for (name, texts) in names {
            let key = format!("{area}.{name}");
            let texts = texts.as_table().ok_or_else(|| format!("messages.toml: `{key}` is not a table"))?;
            let text = |lang: &str| texts.get(lang).and_then(|v| v.as_str()).unwrap_or("").to_string();
            if let Some(other) = texts.keys().find(|k| *k != "zh" && *k != "en") {
                return Err(format!("messages.toml: `{key}` has `{other}`, which is no language"));
            }
            out.push(Entry { key, zh: text("zh"), en: text("en") });
        }
    }
    Ok(out)
}

/// Every entry of the table, in file order within areas (the test of completeness reads it).
pub fn entries() -> Result<Vec<Entry>, String> {
    parse()
}

fn index() -> &'static HashMap<String, (String, String)> {
    static INDEX: OnceLock<HashMap<String, (String, String)>> = OnceLock::new();
    INDEX.get_or_init(|| {
        // The table is compiled in and checked by the tests; a broken one is a build defect.
        parse().expect("the embedded message table parses").into_iter().map(|e| (e.key, (e.zh, e.en))).collect()
    })
}

/// The message table in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Messages {
    pub language: Language,
}

impl Messages {
    pub const EN: Messages = Messages { language: Language::En };
    pub const ZH: Messages = Messages { language: Language::Zh };

    pub fn new(language: Language) -> Messages {
        Messages { language }
    }

    pub fn zh(self) -> bool {
        self.language == Language::Zh
    }

    /// The text of `key`. A key the table lacks (which the tests rule out for every key the
    /// code names) shows as the key itself rather than stopping a run.
    pub fn tr(self, key: &str) -> &'static str {
        match index().get(key) {
            Some((zh, en)) => if self.zh() { zh } else { en },
            None => {
                debug_assert!(false, "message key `{key}` is not in messages.toml");
                Box::leak(key.to_string().into_boxed_str())
            }
        }
    }

    /// The text of `key` with each `{name}` replaced by its value.
    /// One pass over the text: a value that itself holds `{…}` is not filled again.
    pub fn fill(self, key: &str, args: &[(&str, &dyn Display)]) -> String {
        let text = self.tr(key);
        let mut out = String::with_capacity(text.len() + 16 * args.len());
        let mut rest = text;
        while let Some(i) = rest.find('{') {
            out += &rest[..i];
            let after = &rest[i + 1..];
            match after.find('}').map(|j| (&after[..j], j)).and_then(|(name, j)| args.iter().find(|(n, _)| *n == name).map(|(_, v)| (v, j))) {
                Some((value, j)) => {
                    out += &value.to_string();
                    rest = &after[j + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out + rest
    }

    /// Every (code, label) of an area of codes (`level`, `case_state` …), in table order.
    pub fn codes(self, area: &str) -> Vec<(&'static str, &'static str)> {
        let prefix = format!("{area}.");
        let mut out: Vec<(&'static str, &'static str)> = index()
            .iter()
            .filter_map(|(k, (zh, en))| k.strip_prefix(&prefix).map(|code| (code, if self.zh() { zh.as_str() } else { en.as_str() })))
            .collect();
        out.sort_unstable();
        out
    }

    /// A code's label (`level.red`, `case_state.open` …): the entry `area.code`, or the code
    /// itself where the table has none (a value the contract does not list).
    pub fn code<'a>(self, area: &str, code: &'a str) -> &'a str {
        match index().get(&format!("{area}.{code}")) {
            Some((zh, en)) => if self.zh() { zh } else { en },
            None => code,
        }
    }
}
