//! docs/configuration.md lists every variable and secret the worker reads, and nothing
//! else. The names the core reads are recorded by calling `Config::from_vars` with a
//! lookup that notes each name it is asked for; the few the edge reads itself are
//! listed below and found in `src/edge` by name. wrangler.toml's `[vars]` must be in the
//! table too, with the default the table gives.

use edge_sessions::core::config::Config;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const DOC: &str = include_str!("../docs/configuration.md");
const WRANGLER_TOML: &str = include_str!("../wrangler.toml");

/// Read in `src/edge`, outside `Config::from_vars`.
const EDGE_ONLY: [&str; 2] = ["ADMIN_KEY", "ADMIN_KEY_PREVIOUS"];

/// Values that switch on the sections read only when they are set (gatekeeper mode,
/// webhook delivery), each valid, so the whole section is read.
const SWITCHES: [(&str, &str); 3] = [
    ("ORIGIN_URL", "https://origin.example.com"),
    ("WEBHOOK_URL", "https://hooks.example.com/sessions"),
    ("WEBHOOK_SECRET", "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3"),
];

struct Row {
    kind: String,
    default: String,
}

/// The rows of the table under "## Variables and secrets", by variable name.
fn documented() -> BTreeMap<String, Row> {
    let start =
        DOC.find("\n## Variables and secrets").expect("docs/configuration.md has a 'Variables and secrets' section");
    let section = &DOC[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |end| end + 3)];
    let mut rows = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        assert!(
            cells.len() >= 6,
            "docs/configuration.md: a row needs variable, kind, default, allowed, meaning: {line}"
        );
        let name = cells[1].trim_matches('`').to_owned();
        assert!(
            !name.is_empty() && name.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_'),
            "docs/configuration.md: '{}' is not a variable name",
            cells[1]
        );
        let row = Row { kind: cells[2].to_owned(), default: cells[3].to_owned() };
        assert!(rows.insert(name.clone(), row).is_none(), "docs/configuration.md lists {name} twice");
    }
    assert!(!rows.is_empty(), "docs/configuration.md's table has no rows");
    rows
}

/// Every name `Config::from_vars` asks for, with nothing set and then with the
/// switches set. Each pass must succeed, or it may have stopped before reading the rest.
fn read_by_config() -> BTreeSet<String> {
    let asked = RefCell::new(BTreeSet::new());
    let unset = Config::from_vars(|name| {
        asked.borrow_mut().insert(name.to_owned());
        None
    });
    assert!(unset.is_ok(), "the configuration with nothing set is valid: {unset:?}");
    let switched = Config::from_vars(|name| {
        asked.borrow_mut().insert(name.to_owned());
        SWITCHES.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned())
    });
    assert!(switched.is_ok(), "the switch values are valid: {switched:?}");
    let switched = switched.unwrap();
    assert!(
        switched.gate.is_some() && switched.webhook.is_some(),
        "the switches turn on the gatekeeper and the webhook"
    );
    asked.into_inner()
}

fn edge_sources(dir: &Path, out: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            edge_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[test]
fn every_variable_read_is_documented_and_every_documented_one_is_read() {
    let documented = documented();
    let read = read_by_config();
    for name in &read {
        assert!(
            documented.contains_key(name),
            "Config::from_vars reads {name}, which docs/configuration.md does not list"
        );
    }
    let mut edge = String::new();
    edge_sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/edge"), &mut edge);
    for name in EDGE_ONLY {
        assert!(documented.contains_key(name), "docs/configuration.md does not list {name}, which src/edge reads");
        assert!(
            edge.contains(&format!("\"{name}\"")),
            "nothing in src/edge reads {name}: drop it from EDGE_ONLY and the doc"
        );
    }
    for name in documented.keys() {
        assert!(
            read.contains(name) || EDGE_ONLY.contains(&name.as_str()),
            "docs/configuration.md lists {name}, which nothing reads"
        );
    }
}

#[test]
fn rows_say_whether_they_are_secrets() {
    for (name, row) in documented() {
        assert!(
            row.kind == "var" || row.kind == "secret",
            "{name}: kind must be 'var' or 'secret', got '{}'",
            row.kind
        );
    }
}

/// `KEY = "value"` lines of `[vars]`, up to the next table.
fn wrangler_vars() -> Vec<(String, String)> {
    let mut vars = Vec::new();
    let mut inside = false;
    for line in WRANGLER_TOML.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = line == "[vars]";
            continue;
        }
        if !inside || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once('=').unwrap_or_else(|| panic!("wrangler.toml [vars]: cannot read '{line}'"));
        vars.push((key.trim().to_owned(), value.trim().trim_matches('"').to_owned()));
    }
    assert!(!vars.is_empty(), "wrangler.toml has a [vars] table");
    vars
}

#[test]
fn wrangler_toml_vars_are_documented_with_their_defaults() {
    let documented = documented();
    for (key, value) in wrangler_vars() {
        let row = documented
            .get(&key)
            .unwrap_or_else(|| panic!("wrangler.toml sets {key}, which docs/configuration.md does not list"));
        assert_eq!(row.kind, "var", "wrangler.toml's [vars] holds {key}, which the doc calls a {}", row.kind);
        let matches = if value.is_empty() {
            row.default.starts_with("empty")
        } else {
            row.default.contains(&format!("`{value}`"))
        };
        assert!(
            matches,
            "wrangler.toml sets {key} = {value:?}, but docs/configuration.md's default is '{}'",
            row.default
        );
    }
}
