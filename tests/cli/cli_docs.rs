//! docs/cli.md against the binary: every command section's example invocation is run on the
//! sample (in the order of the doc, sharing one `$OUT` directory), and its `--json` output is
//! compared with the JSON the doc shows: same keys recursively, same value types, the same values
//! except at the paths the doc's table "What the test does not compare" lists as varying (and
//! only the first element of the arrays it lists as shortened); every field of the output has a
//! one-line meaning in the section's field list, and the list names no field the output lacks.
//! With `RISKWARN_UPDATE_DOCS=1` the JSON examples are rewritten from the actual output first
//! (the field lists and the table stay hand-written).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::support::*;

const DOC: &str = "docs/cli.md";
/// The placeholder the doc writes for the examples' output directory.
const OUT: &str = "$OUT";

/// One `## riskwarn <command>` section's example.
#[derive(Debug)]
struct Example {
    command: String,
    /// Each invocation's arguments after `riskwarn` (the last one prints the JSON).
    invocations: Vec<Vec<String>>,
    /// Line range (exclusive of the fences) of the JSON block in the doc.
    json_lines: (usize, usize),
    expected: Value,
    /// The JSON paths the section's field list documents (`- `.path` — meaning`).
    fields: BTreeSet<String>,
}

/// The paths of one command whose values the test does not compare.
#[derive(Debug, Default)]
struct Exceptions {
    varies: BTreeSet<String>,
    shortened: BTreeSet<String>,
}

fn fence_end(lines: &[&str], from: usize) -> usize {
    (from..lines.len()).find(|&i| lines[i].trim_end() == "```").unwrap_or_else(|| panic!("{DOC}: the block opened before line {from} is not closed"))
}

/// The command sections' examples, and per command the table's exceptions.
fn parse(doc: &str) -> (Vec<Example>, BTreeMap<String, Exceptions>) {
    let lines: Vec<&str> = doc.lines().collect();
    let mut examples = Vec::new();
    let mut exceptions: BTreeMap<String, Exceptions> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut fields: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(h) = line.strip_prefix("## ") {
            current = h.strip_prefix("`riskwarn ").map(|c| c.split(['`', ' ']).next().unwrap().to_string());
        } else if line.trim_end() == "```sh example" {
            let command = current.clone().unwrap_or_else(|| panic!("{DOC}:{}: an example outside a command section", i + 1));
            let end = fence_end(&lines, i + 1);
            let text = lines[i + 1..end].join("\n").replace("\\\n", " ");
            let invocations: Vec<Vec<String>> = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    let mut words = l.split_whitespace().map(String::from);
                    assert_eq!(words.next().as_deref(), Some("riskwarn"), "{DOC}: example line '{l}' does not start with riskwarn");
                    words.collect()
                })
                .collect();
            let open = (end + 1..lines.len()).find(|&j| !lines[j].trim().is_empty()).filter(|&j| lines[j].trim_end() == "```json");
            let open = open.unwrap_or_else(|| panic!("{DOC}:{}: the `{command}` example is not followed by a ```json block", end + 1));
            let json_end = fence_end(&lines, open + 1);
            let json = lines[open + 1..json_end].join("\n");
            let expected: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{DOC}: the `{command}` example's JSON does not parse: {e}"));
            assert!(!examples.iter().any(|e: &Example| e.command == command), "{DOC}: two examples for `{command}`");
            examples.push(Example { command, invocations, json_lines: (open + 1, json_end), expected, fields: BTreeSet::new() });
            i = json_end;
        } else if let (Some(command), Some(rest)) = (&current, line.strip_prefix("- `.")) {
            let path = format!(".{}", rest.split('`').next().unwrap());
            assert!(fields.entry(command.clone()).or_default().insert(path.clone()), "{DOC}: `{command}` documents {path} twice");
        } else if let Some(row) = line.strip_prefix("| `") {
            // | `command` | `.path` | varies or shortened | why |
            let cells: Vec<&str> = row.split('|').map(|c| c.trim().trim_matches('`')).collect();
            if cells.len() >= 3 && cells[1].starts_with('.') {
                let e = exceptions.entry(cells[0].to_string()).or_default();
                let set = match cells[2] {
                    "varies" => &mut e.varies,
                    "shortened" => &mut e.shortened,
                    other => panic!("{DOC}: exception kind '{other}' is neither varies nor shortened"),
                };
                assert!(set.insert(cells[1].to_string()), "{DOC}: exception {} {} listed twice", cells[0], cells[1]);
            }
        }
        i += 1;
    }
    for e in &mut examples {
        e.fields = fields.remove(&e.command).unwrap_or_default();
    }
    for c in exceptions.keys() {
        assert!(examples.iter().any(|e| &e.command == c), "{DOC}: the exceptions name `{c}`, which has no example");
    }
    (examples, exceptions)
}

fn child(path: &str, key: &str) -> String {
    if path == "." { format!(".{key}") } else { format!("{path}.{key}") }
}

fn element(path: &str) -> String {
    format!("{path}[]")
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn same_keys(d: &serde_json::Map<String, Value>, a: &serde_json::Map<String, Value>, path: &str, errors: &mut Vec<String>) {
    for k in a.keys().filter(|k| !d.contains_key(*k)) {
        errors.push(format!("{}: in the output, not in the doc's example", child(path, k)));
    }
    for k in d.keys().filter(|k| !a.contains_key(*k)) {
        errors.push(format!("{}: in the doc's example, not in the output", child(path, k)));
    }
}

/// The keys both objects have, with their values and paths, after reporting the keys only one has.
fn common_keys<'a>(d: &'a serde_json::Map<String, Value>, a: &'a serde_json::Map<String, Value>, path: &str, errors: &mut Vec<String>) -> Vec<(&'a Value, &'a Value, String)> {
    same_keys(d, a, path, errors);
    d.iter().filter_map(|(k, dv)| a.get(k).map(|av| (dv, av, child(path, k)))).collect()
}

/// Same keys recursively and the same value types; arrays by their first elements.
fn structure(doc: &Value, actual: &Value, path: &str, errors: &mut Vec<String>) {
    if kind(doc) != kind(actual) {
        errors.push(format!("{path}: the doc shows a {}, the output has a {}", kind(doc), kind(actual)));
        return;
    }
    match (doc, actual) {
        (Value::Object(d), Value::Object(a)) => {
            for (dv, av, p) in common_keys(d, a, path, errors) {
                structure(dv, av, &p, errors);
            }
        }
        (Value::Array(d), Value::Array(a)) => {
            if let (Some(d0), Some(a0)) = (d.first(), a.first()) {
                structure(d0, a0, &element(path), errors);
            } else if d.is_empty() != a.is_empty() {
                errors.push(format!("{path}: the doc shows {} elements, the output has {}", d.len(), a.len()));
            }
        }
        _ => {}
    }
}

/// Numbers agree to 1e-9 relative (the outputs are deterministic; this only absorbs printing).
fn same_number(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()),
        _ => a == b,
    }
}

/// Structure, and values everywhere but at the varying paths.
fn compare(doc: &Value, actual: &Value, path: &str, ex: &Exceptions, errors: &mut Vec<String>) {
    if ex.varies.contains(path) {
        return structure(doc, actual, path, errors);
    }
    if kind(doc) != kind(actual) {
        errors.push(format!("{path}: the doc shows {doc}, the output has {actual}"));
        return;
    }
    match (doc, actual) {
        (Value::Object(d), Value::Object(a)) => {
            for (dv, av, p) in common_keys(d, a, path, errors) {
                compare(dv, av, &p, ex, errors);
            }
        }
        (Value::Array(d), Value::Array(a)) => {
            if ex.shortened.contains(path) {
                if d.len() != a.len().min(1) {
                    errors.push(format!("{path}: a shortened array shows its first element only ({} shown, output has {})", d.len(), a.len()));
                }
            } else if d.len() != a.len() {
                errors.push(format!("{path}: the doc shows {} elements, the output has {}", d.len(), a.len()));
            }
            for (dv, av) in d.iter().zip(a) {
                compare(dv, av, &element(path), ex, errors);
            }
        }
        (Value::Number(d), Value::Number(a)) if !same_number(d, a) => errors.push(format!("{path}: the doc shows {d}, the output has {a}")),
        (Value::Number(_), Value::Number(_)) => {}
        (d, a) if d != a => errors.push(format!("{path}: the doc shows {d}, the output has {a}")),
        _ => {}
    }
}

/// Every field path of a value: object keys recursively, array elements as `[]` (all elements'
/// keys), an object documented as `.path.*` as a map whose keys are all `*`.
fn field_paths(v: &Value, path: &str, documented: &BTreeSet<String>, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            let map = child(path, "*");
            for (k, x) in m {
                let p = if documented.contains(&map) { map.clone() } else { child(path, k) };
                out.insert(p.clone());
                field_paths(x, &p, documented, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                field_paths(x, &element(path), documented, out);
            }
        }
        _ => {}
    }
}

/// JSON with its keys in the order printed (serde_json's `Value` sorts them), for rewriting the doc.
enum Tree {
    Leaf(Value),
    List(Vec<Tree>),
    Map(Vec<(String, Tree)>),
}

impl<'de> serde::Deserialize<'de> for Tree {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Tree;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Tree, E> {
                Ok(Tree::Leaf(v.into()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Tree, E> {
                Ok(Tree::Leaf(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Tree, E> {
                Ok(Tree::Leaf(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Tree, E> {
                Ok(Tree::Leaf(v.into()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Tree, E> {
                Ok(Tree::Leaf(v.into()))
            }
            fn visit_unit<E>(self) -> Result<Tree, E> {
                Ok(Tree::Leaf(Value::Null))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Tree, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(Tree::List(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Tree, A::Error> {
                let mut v = Vec::new();
                while let Some(entry) = a.next_entry()? {
                    v.push(entry);
                }
                Ok(Tree::Map(v))
            }
        }
        d.deserialize_any(Visit)
    }
}

impl serde::Serialize for Tree {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Tree::Leaf(v) => v.serialize(s),
            Tree::List(v) => {
                let mut seq = s.serialize_seq(Some(v.len()))?;
                for x in v {
                    seq.serialize_element(x)?;
                }
                seq.end()
            }
            Tree::Map(v) => {
                let mut map = s.serialize_map(Some(v.len()))?;
                for (k, x) in v {
                    map.serialize_entry(k, x)?;
                }
                map.end()
            }
        }
    }
}

/// The actual output as the doc shows it: shortened arrays cut to their first element.
fn shorten(v: Tree, path: &str, ex: &Exceptions) -> Tree {
    match v {
        Tree::Map(m) => Tree::Map(m.into_iter().map(|(k, x)| (k.clone(), shorten(x, &child(path, &k), ex))).collect()),
        Tree::List(mut a) => {
            if ex.shortened.contains(path) {
                a.truncate(1);
            }
            Tree::List(a.into_iter().map(|x| shorten(x, &element(path), ex)).collect())
        }
        leaf => leaf,
    }
}

/// Runs an example's invocations; the last one's stdout, with the output directory written `$OUT`.
fn run_example(e: &Example, out: &std::path::Path) -> String {
    let dir = out.to_str().expect("temp dir is UTF-8");
    let mut stdout = String::new();
    for args in &e.invocations {
        let done = riskwarn().args(args.iter().map(|a| a.replace(OUT, dir))).run();
        assert_eq!(done.code(), 0, "`riskwarn {}` failed; stderr:\n{}", args.join(" "), done.stderr());
        stdout = done.stdout();
    }
    stdout.replace(dir, OUT)
}

#[test]
fn cli_doc_examples_are_what_the_commands_print() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(DOC);
    let doc = std::fs::read_to_string(&path).expect("docs/cli.md");
    let (examples, exceptions) = parse(&doc);
    let names: Vec<&str> = examples.iter().map(|e| e.command.as_str()).collect();
    for c in ["generate", "validate", "features", "train", "run", "score", "plan", "evaluate", "kernel"] {
        assert!(names.contains(&c), "{DOC} has no example for `riskwarn {c}`");
    }
    let none = Exceptions::default();
    let out = tempdir();
    let update = std::env::var_os("RISKWARN_UPDATE_DOCS").is_some();
    let mut lines: Vec<String> = doc.lines().map(String::from).collect();
    let mut errors = Vec::new();
    // Rewritten bottom-up so that the line numbers of earlier blocks stay valid.
    let mut rewrites = Vec::new();
    for e in &examples {
        let ex = exceptions.get(&e.command).unwrap_or(&none);
        let stdout = run_example(e, out.path());
        let actual: Value = serde_json::from_str(&stdout).unwrap_or_else(|err| panic!("`{}` does not print JSON ({err}):\n{stdout}", e.command));
        let mut errs = Vec::new();
        let expected = if update {
            let shown = serde_json::to_string_pretty(&shorten(serde_json::from_str(&stdout).unwrap(), ".", ex)).unwrap();
            let value = serde_json::from_str(&shown).unwrap();
            rewrites.push((e.json_lines, shown));
            value
        } else {
            e.expected.clone()
        };
        compare(&expected, &actual, ".", ex, &mut errs);
        let mut paths = BTreeSet::new();
        field_paths(&actual, ".", &e.fields, &mut paths);
        for p in paths.difference(&e.fields) {
            errs.push(format!("{p}: in the output, with no line in the field list"));
        }
        for p in e.fields.difference(&paths) {
            errs.push(format!("{p}: in the field list, not in the output"));
        }
        for p in ex.varies.iter().chain(&ex.shortened) {
            if !paths.contains(p) && p != "." {
                errs.push(format!("{p}: listed as an exception, not in the output"));
            }
        }
        errors.extend(errs.into_iter().map(|m| format!("riskwarn {}: {m}", e.command)));
    }
    if update {
        for ((from, to), json) in rewrites.into_iter().rev() {
            lines.splice(from..to, json.lines().map(String::from));
        }
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    }
    assert!(errors.is_empty(), "{DOC} disagrees with the commands (RISKWARN_UPDATE_DOCS=1 rewrites the JSON examples; field lists and exceptions are by hand):\n{}", errors.join("\n"));
}

#[test]
fn the_comparison_sees_added_removed_and_changed_fields() {
    let ex = Exceptions { varies: [".seconds".to_string()].into(), shortened: [".rows".to_string()].into() };
    let doc: Value = serde_json::from_str(r#"{"n": 3, "seconds": 1.5, "rows": [{"a": 1}], "pairs": [["x", 1]]}"#).unwrap();
    let check = |actual: &str| {
        let mut errors = Vec::new();
        compare(&doc, &serde_json::from_str(actual).unwrap(), ".", &ex, &mut errors);
        errors
    };
    assert_eq!(check(r#"{"n": 3, "seconds": 9.0, "rows": [{"a": 1}, {"a": 2}], "pairs": [["x", 1]]}"#), Vec::<String>::new());
    assert_eq!(check(r#"{"n": 3, "seconds": 9.0, "rows": [{"a": 1, "b": 2}], "pairs": [["x", 1]], "new": 0}"#).len(), 2);
    assert_eq!(check(r#"{"n": 3, "rows": [{"a": 1}], "pairs": [["x", 1]]}"#), vec![".seconds: in the doc's example, not in the output".to_string()]);
    assert_eq!(check(r#"{"n": 4, "seconds": "9", "rows": [{"a": 1}], "pairs": [["x", 2], ["y", 1]]}"#).len(), 4);
    let mut paths = BTreeSet::new();
    field_paths(&serde_json::from_str(r#"{"m": {"k1": {"v": 1}, "k2": {"v": 2}}, "l": [{"a": 1}, {"b": 2}]}"#).unwrap(), ".", &[".m.*".to_string()].into(), &mut paths);
    assert_eq!(paths.into_iter().collect::<Vec<_>>(), [".l", ".l[].a", ".l[].b", ".m", ".m.*", ".m.*.v"]);
}
