//! Integration tests of the delivery domain: the bundled scenarios, golden
//! traces, determinism and seed sweeps per protocol.

// Tests unwrap freely: a failure should stop the test with its message.
#![allow(clippy::unwrap_used)]

mod causes;
mod explore;
mod fault_free;
mod golden;
mod layers;
mod matrix;
mod rebalance;
mod recovery;
mod scenarios;
mod shrink;
mod steps;
mod sweep;
mod verdicts;

use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Every bundled scenario file, sorted, relative to the root.
pub fn bundled() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "ron") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&root().join("scenarios"), &mut files);
    files.sort();
    files
        .iter()
        .map(|p| {
            p.strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}
