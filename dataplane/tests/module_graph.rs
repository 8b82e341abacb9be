//! Imports between the top-level modules of every crate of the workspace
//! flow one way. A circle (a imports b, b imports a, maybe through others)
//! means neither can be understood, tested or changed alone; this test
//! names the circle when one comes back.
//!
//! It reads the source as text: `crate::name` paths (also inside
//! `use crate::{...}` groups) and `super::` paths that climb out of a
//! top-level module, comments left out. Unit tests (`#[cfg(test)] mod ...`
//! at the end of a file, `tests.rs`, `tests/`) are left out: test code may
//! reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The source roots of the workspace's crates, relative to the workspace.
const CRATES: &[&str] = &[
    "dataplane/src",
    "dataplane/runtime/src",
    "dataplane/wire/src",
    "cp-sync/src",
    "control-plane/src",
    "benchmarks/src",
    "test-support/src",
];

type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn no_circle_among_top_level_modules() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut circles = Vec::new();
    for root in CRATES {
        let src = workspace.join(root);
        let graph = module_graph(&src);
        assert!(
            !graph.is_empty(),
            "no modules found under {}",
            src.display()
        );
        if let Some(circle) = find_circle(&graph) {
            circles.push(format!("{root}: {}", circle.join(" -> ")));
        }
    }
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

#[test]
fn a_circle_is_found_and_named() {
    let mut graph = Graph::new();
    let edge = |graph: &mut Graph, a: &str, b: &str| {
        graph.entry(a.into()).or_default().insert(b.into());
        graph.entry(b.into()).or_default();
    };
    edge(&mut graph, "proxy", "policy");
    edge(&mut graph, "policy", "routing");
    edge(&mut graph, "routing", "topology");
    assert_eq!(find_circle(&graph), None);
    edge(&mut graph, "routing", "proxy");
    let circle = find_circle(&graph).expect("a circle");
    assert_eq!(circle.first(), circle.last());
    assert_eq!(circle.len(), 4, "{circle:?}");
    let text = "use crate::{metrics::Meter, proxy};\nuse super::super::shard::X;\n";
    let names: Vec<_> = referenced_modules(text, 2).collect();
    assert_eq!(names, ["metrics", "proxy", "shard"]);
}

/// Top-level module -> the top-level modules its files name.
fn module_graph(src: &Path) -> Graph {
    let modules = top_level_modules(src);
    let mut graph: Graph = modules
        .iter()
        .map(|m| (m.clone(), BTreeSet::new()))
        .collect();
    for module in &modules {
        for (file, depth) in module_files(src, module) {
            let text = fs::read_to_string(&file).unwrap_or_default();
            let code = without_comments(without_unit_tests(&text));
            for name in referenced_modules(&code, depth) {
                if name != *module && modules.contains(&name) {
                    graph.entry(module.clone()).or_default().insert(name);
                }
            }
        }
    }
    graph
}

/// The modules `lib.rs` declares.
fn top_level_modules(src: &Path) -> BTreeSet<String> {
    let lib = fs::read_to_string(src.join("lib.rs")).unwrap_or_default();
    (lib.lines())
        .filter_map(|line| {
            let line = line.trim();
            let rest = line.strip_prefix("pub ").unwrap_or(line);
            let rest = rest.strip_prefix("pub(crate) ").unwrap_or(rest);
            let name = rest.strip_prefix("mod ")?.strip_suffix(';')?;
            Some(name.trim().to_string())
        })
        .collect()
}

/// Every file of a top-level module, with how deep its module sits
/// (1 for `name.rs` or `name/mod.rs`, 2 for `name/x.rs`, ...).
fn module_files(src: &Path, module: &str) -> Vec<(PathBuf, usize)> {
    let mut files = Vec::new();
    let single = src.join(format!("{module}.rs"));
    if single.is_file() {
        files.push((single, 1));
    }
    let dir = src.join(module);
    if dir.is_dir() {
        collect_files(&dir, 1, &mut files);
    }
    files
}

fn collect_files(dir: &Path, depth: usize, out: &mut Vec<(PathBuf, usize)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if is_unit_test(&path) {
            continue;
        }
        if path.is_dir() {
            collect_files(&path, depth + 1, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let is_mod = path.file_name().is_some_and(|n| n == "mod.rs");
            out.push((path, if is_mod { depth } else { depth + 1 }));
        }
    }
}

/// `tests.rs` and `tests/` inside `src` hold unit tests.
fn is_unit_test(path: &Path) -> bool {
    path.file_stem().is_some_and(|stem| stem == "tests")
}

fn without_unit_tests(text: &str) -> &str {
    let cut = (text.match_indices("#[cfg(test)]"))
        .find(|(at, marker)| {
            let after = text[at + marker.len()..].trim_start();
            after.starts_with("mod ") || after.starts_with("pub(crate) mod ")
        })
        .map_or(text.len(), |(at, _)| at);
    &text[..cut]
}

/// The code without `//` comments (doc links name modules too, but a
/// link is not an import).
fn without_comments(code: &str) -> String {
    (code.lines())
        .map(|line| line.split_once("//").map_or(line, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Names of the top-level modules a file's paths start with: `crate::x`,
/// `crate::{x, y::z}`, or `super::` climbing `depth` levels to the root.
fn referenced_modules(code: &str, depth: usize) -> impl Iterator<Item = String> + '_ {
    let climb = "super::".repeat(depth);
    let from_crate = code.match_indices("crate::").map(|(at, m)| at + m.len());
    let from_super = (code.match_indices(climb.as_str()))
        .filter(move |(at, _)| !code[..*at].ends_with("super::"))
        .map(|(at, m)| at + m.len())
        .collect::<Vec<_>>();
    from_crate
        .chain(from_super)
        .flat_map(move |start| names_at(&code[start..]))
}

/// The first path segment at the start of `rest`, or each group member's.
fn names_at(rest: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let Some(group) = rest.strip_prefix('{') else {
        return vec![ident(rest)];
    };
    let mut names = Vec::new();
    let mut nesting = 0;
    let mut start_of_item = true;
    for (at, c) in group.char_indices() {
        match c {
            '{' => nesting += 1,
            '}' if nesting == 0 => break,
            '}' => nesting -= 1,
            ',' if nesting == 0 => start_of_item = true,
            c if start_of_item && !c.is_whitespace() => {
                names.push(ident(&group[at..]));
                start_of_item = false;
            }
            _ => {}
        }
    }
    names
}

/// A circle as the list of modules along it, first and last the same.
fn find_circle(graph: &Graph) -> Option<Vec<String>> {
    let mut done = BTreeSet::new();
    for start in graph.keys() {
        let mut path = Vec::new();
        if let Some(circle) = visit(graph, start, &mut path, &mut done) {
            return Some(circle);
        }
    }
    None
}

fn visit(
    graph: &Graph,
    node: &str,
    path: &mut Vec<String>,
    done: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    if let Some(at) = path.iter().position(|n| n == node) {
        let mut circle = path[at..].to_vec();
        circle.push(node.to_string());
        return Some(circle);
    }
    if done.contains(node) {
        return None;
    }
    path.push(node.to_string());
    for next in graph.get(node).into_iter().flatten() {
        if let Some(circle) = visit(graph, next, path, done) {
            return Some(circle);
        }
    }
    path.pop();
    done.insert(node.to_string());
    None
}
