//! Pure logic with no I/O: records and their rules, phone and mail checks, and the plan.

pub mod command;
pub mod file;
pub mod fold;
pub mod mail;
pub mod number;
pub mod phone;
pub mod plan;
pub mod policy;
pub mod problem;
pub mod record;
pub mod report;
pub mod revert;
pub mod signal;
pub mod spreadsheet;
pub mod status;
pub mod text;

/// No import cycle inside `core` (issue 30): each module's `super::`, `crate::core::` and
/// `super::super::` paths, read from the source, make a graph without a cycle.
#[cfg(test)]
mod no_cycles {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    /// The core modules a file's text names, its own module left out.
    fn named(text: &str, own: &str, nested: bool, modules: &BTreeSet<String>) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            // `super::` in a file of a folder (plan/churn.rs) is the folder's module itself.
            let prefixes: &[&str] = if nested {
                &["crate::core::", "super::super::"]
            } else {
                &["crate::core::", "super::"]
            };
            for prefix in prefixes {
                for (at, _) in line.match_indices(prefix) {
                    let rest = &line[at + prefix.len()..];
                    let names = match rest.strip_prefix('{') {
                        Some(group) => group.split('}').next().unwrap_or(""),
                        None => rest,
                    };
                    for item in names.split(',') {
                        let name: String = item
                            .trim()
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        if modules.contains(&name) && name != own {
                            out.insert(name);
                        }
                    }
                }
            }
        }
        out
    }

    fn graph() -> BTreeMap<String, BTreeSet<String>> {
        let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/core");
        let modules: BTreeSet<String> = include_str!("mod.rs")
            .lines()
            .filter_map(|l| l.strip_prefix("pub mod ")?.strip_suffix(';'))
            .map(str::to_string)
            .collect();
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for module in &modules {
            let file = core.join(format!("{module}.rs"));
            let mut files = vec![(file.clone(), false)];
            if !file.exists() {
                let folder = core.join(module);
                for entry in std::fs::read_dir(&folder).unwrap() {
                    let path = entry.unwrap().path();
                    let nested = path.file_name().is_some_and(|n| n != "mod.rs");
                    files.push((path, nested));
                }
                files.remove(0);
            }
            for (path, nested) in files {
                let text = std::fs::read_to_string(&path).unwrap();
                let uses = named(&text, module, nested, &modules);
                graph.entry(module.clone()).or_default().extend(uses);
            }
        }
        graph
    }

    /// A cycle through `from`, as the modules along it, if there is one.
    fn cycle(
        graph: &BTreeMap<String, BTreeSet<String>>,
        from: &str,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        for next in graph.get(from).into_iter().flatten() {
            if path.first() == Some(next) {
                let mut found = path.clone();
                found.push(next.clone());
                return Some(found);
            }
            if path.contains(next) {
                continue;
            }
            path.push(next.clone());
            if let Some(found) = cycle(graph, next, path) {
                return Some(found);
            }
            path.pop();
        }
        None
    }

    #[test]
    fn core_has_no_import_cycle() {
        let graph = graph();
        assert!(graph["plan"].contains("record"), "the scan reads paths");
        for module in graph.keys() {
            let found = cycle(&graph, module, &mut vec![module.clone()]);
            assert_eq!(found, None, "an import cycle in core");
        }
    }
}
