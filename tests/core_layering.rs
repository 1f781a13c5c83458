//! The core's modules form a hierarchy: no module depends, directly or through others,
//! on a module that depends on it. A loop means a rule has no single home (issue 19);
//! this test reads the sources and names the loop if one comes back.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

/// Every `crate::core::<module>` a core source file mentions, keyed by file module.
fn core_dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/core");
    let mut graph = BTreeMap::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if name == "mod" || path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let source = fs::read_to_string(&path).unwrap();
        let mut uses = BTreeSet::new();
        for (at, _) in source.match_indices("crate::core::") {
            let rest = &source[at + "crate::core::".len()..];
            let module: String = rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
            // `crate::core::UnixSeconds` and other items of mod.rs are not modules.
            let is_module = rest[module.len()..].starts_with("::") || rest[module.len()..].starts_with('{');
            if !module.is_empty() && is_module && module != name {
                uses.insert(module);
            }
        }
        // `use crate::core::{a::X, b::Y}` groups name modules after the brace.
        for (at, _) in source.match_indices("crate::core::{") {
            let group = &source[at + "crate::core::{".len()..];
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                let module = item.trim().split("::").next().unwrap_or("");
                if item.contains("::") && module != name {
                    uses.insert(module.to_owned());
                }
            }
        }
        graph.insert(name, uses);
    }
    graph
}

/// A path from `from` back to `from`, if there is one.
fn find_loop(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
    let mut stack = vec![vec![from.to_owned()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().unwrap();
        for next in graph.get(last).into_iter().flatten() {
            if next == from {
                let mut found = path.clone();
                found.push(next.clone());
                return Some(found);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push(longer);
            }
        }
    }
    None
}

#[test]
fn no_core_module_depends_on_itself_through_others() {
    let graph = core_dependencies();
    assert!(graph.len() > 15, "read the core's modules: {:?}", graph.keys());
    assert!(graph["config"].contains("policy"), "the reader must see `use crate::core::policy::...`");
    let loops: Vec<String> = graph.keys().filter_map(|m| find_loop(&graph, m)).map(|l| l.join(" -> ")).collect();
    assert!(loops.is_empty(), "import loops in src/core:\n{}", loops.join("\n"));
}

#[test]
fn vars_is_a_leaf() {
    assert!(core_dependencies()["vars"].is_empty(), "core/vars.rs must import nothing from the core");
}
