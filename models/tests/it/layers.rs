//! The structure, read off the code's imports: `models` is layered without
//! circles, vocabulary → history → roles and protocols → checkers →
//! scenarios → the harness, and nothing outside the protocol registry
//! names a built-in model.

use std::path::Path;

use super::root;

/// Each top-level module of `models/src` and its layer; a module may
/// import only from its own layer or below.
const LAYERS: [(&str, u8); 14] = [
    ("vocab", 0),
    ("numbers", 0),
    ("history", 1),
    ("roles", 2),
    ("protocols", 2),
    ("check", 3),
    ("scenario", 4),
    ("run", 5),
    ("record", 5),
    ("sweep", 5),
    ("shrink", 5),
    ("matrix", 5),
    ("explore", 5),
    ("lib", 5),
];

fn layer(module: &str) -> u8 {
    LAYERS
        .iter()
        .find(|(m, _)| *m == module)
        .unwrap_or_else(|| panic!("module `{module}` has no layer in LAYERS"))
        .1
}

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The top-level module a file under `models/src` belongs to.
fn module_of(rel: &str) -> &str {
    rel.split(['/', '.']).next().unwrap()
}

/// The top-level modules a source text names as `crate::<module>`.
fn imported(text: &str) -> Vec<String> {
    text.match_indices("crate::")
        .map(|(i, m)| &text[i + m.len()..])
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
        })
        .map(String::from_iter)
        .collect()
}

#[test]
fn no_module_of_models_imports_from_a_layer_above_it() {
    let mut upward = Vec::new();
    for (rel, text) in sources(&root().join("models/src")) {
        let from = module_of(&rel);
        assert!(
            !text.contains("crate::{"),
            "{rel}: name the module in each import, so layers can be read off it"
        );
        for to in imported(&text) {
            if !to.is_empty() && to != from && layer(&to) > layer(from) {
                upward.push(format!("{rel}: {from} imports {to}"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports against the layers:\n{}",
        upward.join("\n")
    );
}

/// The code of a file before its unit tests.
fn code(text: &str) -> &str {
    text.split("#[cfg(test)]").next().unwrap()
}

#[test]
fn outside_the_protocol_files_no_code_names_a_built_in_model() {
    // The units are the `pub static`s of the protocol files; only those
    // files and the registry beside them may name one. Everything else asks
    // a `Model` handle for its wiring, knobs and hints.
    let protocols = sources(&root().join("models/src/protocols"));
    let units: Vec<String> = protocols
        .iter()
        .flat_map(|(_, text)| text.lines())
        .filter_map(|l| l.strip_prefix("pub static "))
        .map(|l| l.split(':').next().unwrap().to_string())
        .collect();
    assert!(
        units.len() >= 25,
        "every built-in model is a unit: {units:?}"
    );
    let names: Vec<String> = protocols
        .iter()
        .flat_map(|(_, text)| text.lines())
        .filter_map(|l| l.trim().strip_prefix("name: \""))
        .map(|l| l.split('"').next().unwrap().to_string())
        .collect();
    let mut found = Vec::new();
    for dir in ["models/src", "reports/src", "src"] {
        for (rel, text) in sources(&root().join(dir)) {
            if dir == "models/src" && rel.starts_with("protocols/") {
                continue;
            }
            for line in code(&text).lines() {
                let static_named = units.iter().any(|u| {
                    line.match_indices(&format!("::{u}")).any(|(i, m)| {
                        let next = line[i + m.len()..].chars().next();
                        !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
                    })
                });
                let looked_up = names.iter().any(|n| line.contains(&format!("(\"{n}\")")));
                if static_named || looked_up {
                    found.push(format!("{dir}/{rel}: {}", line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "built-in models named outside the registry:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_engine_speaks_no_delivery_word() {
    // sim-core is a general engine: what a model's faults mean (an
    // eviction, a rebalance) reaches it only as a signal the model defines.
    let words = [
        "expire",
        "expiry",
        "rebalance",
        "group",
        "dedup",
        "consumer",
        "broker",
        "producer",
        "lease",
        "inbox",
        "offset_commit",
    ];
    let mut found = Vec::new();
    for (rel, text) in sources(&root().join("sim-core/src")) {
        for line in text.lines() {
            // `Vec::dedup` is Rust's word, not the domain's.
            let code = line
                .split("//")
                .next()
                .unwrap()
                .to_lowercase()
                .replace(".dedup()", "");
            found.extend(
                words
                    .iter()
                    .filter(|w| code.contains(*w))
                    .map(|w| format!("sim-core/src/{rel}: `{w}` in {}", line.trim())),
            );
        }
    }
    assert!(
        found.is_empty(),
        "delivery words in the engine:\n{}",
        found.join("\n")
    );
}
