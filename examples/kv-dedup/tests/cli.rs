//! `kv-eosim`, the command line built with `eosim::main_with`, as a user
//! runs it on the crate's own scenarios: run, sweep, explore, shrink and
//! replay.

// Tests unwrap freely: a failure should stop the test with its message.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn kv_eosim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kv-eosim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("EOSIM_SEED")
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A folder for one test's files, unique to this test process.
fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("kv-eosim-{name}-{}", std::process::id()))
}

#[test]
fn the_scenarios_run_as_they_say_and_the_catalogue_lists_the_protocol() {
    let out = kv_eosim(&["run", "scenarios", "--no-report"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("2 as expected"), "{}", stdout(&out));
    let listed = stdout(&kv_eosim(&["list-models", "--model", "KvDedup"]));
    assert!(listed.contains("KV-setnx · "), "{listed}");
    assert!(listed.contains("after-claim-before-effect"), "{listed}");
}

#[test]
fn a_sweep_of_the_atomic_variant_passes_every_seed() {
    let out_dir = scratch("sweep");
    let out = kv_eosim(&[
        "sweep",
        "scenarios/kv-dedup-atomic-holds.ron",
        "--seeds",
        "0..60",
        "--progress",
        "none",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("60 PASS"), "{}", stdout(&out));
    let _ = std::fs::remove_dir_all(out_dir);
}

#[test]
fn a_loss_shrinks_replays_and_prints_commands_that_name_this_binary() {
    let out_dir = scratch("shrink");
    let out = kv_eosim(&[
        "shrink",
        "scenarios/kv-dedup-crash-loses.ron",
        "--check",
        "DeliveredTakesEffect",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("kv-eosim run "), "{text}");
    let min = find(&out_dir, "scenario.ron", "min").expect("a min/scenario.ron");
    let min_text = std::fs::read_to_string(&min).unwrap();
    assert!(min_text.contains("after-claim-before-effect"), "{min_text}");
    assert!(min_text.contains("DeliveredTakesEffect"), "{min_text}");
    let rerun = kv_eosim(&["run", min.to_str().unwrap(), "--no-report"]);
    assert_eq!(rerun.status.code(), Some(0), "{}", stdout(&rerun));

    let folder = min.parent().unwrap().parent().unwrap();
    let replay = kv_eosim(&["replay", folder.to_str().unwrap()]);
    assert_eq!(replay.status.code(), Some(0), "{}", stdout(&replay));
    assert!(stdout(&replay).contains("REPLAY OK"), "{}", stdout(&replay));
    let repro = std::fs::read_to_string(folder.join("repro.txt")).unwrap();
    assert!(repro.starts_with("kv-eosim run "), "{repro}");
    let _ = std::fs::remove_dir_all(out_dir);
}

/// The first file named `name` under a folder named `parent` below `dir`.
fn find(dir: &Path, name: &str, parent: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()? {
        let path = entry.ok()?.path();
        if path.is_dir() {
            if let Some(found) = find(&path, name, parent) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == name)
            && path
                .parent()
                .and_then(Path::file_name)
                .is_some_and(|p| p == parent)
        {
            return Some(path);
        }
    }
    None
}

#[test]
fn explore_finds_the_protocols_own_property_broken_and_its_counterexample_runs() {
    let out_dir = scratch("explore");
    let out = kv_eosim(&[
        "explore",
        "scenarios/kv-dedup-crash-loses.ron",
        "--messages",
        "2",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // A property has no number: its name is said once.
    assert!(
        text.contains("EXPECTED DeliveredTakesEffect in 15 events"),
        "{text}"
    );
    assert!(
        !text.contains("DeliveredTakesEffect DeliveredTakesEffect"),
        "{text}"
    );
    let folder = std::fs::read_dir(out_dir.join("kv-dedup-crash-loses"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.to_string_lossy()
                .ends_with("-explore-DeliveredTakesEffect")
        })
        .expect("a run folder for the property's counterexample");
    let min = folder.join("min").join("scenario.ron");
    let min_text = std::fs::read_to_string(&min).unwrap();
    assert!(
        min_text.starts_with("// Found by `kv-eosim explore "),
        "{min_text}"
    );
    assert!(
        min_text.contains("breaks DeliveredTakesEffect, in 15 events"),
        "{min_text}"
    );
    let rerun = kv_eosim(&["run", min.to_str().unwrap(), "--no-report"]);
    let rerun_text = stdout(&rerun);
    assert_eq!(rerun.status.code(), Some(0), "{rerun_text}");
    assert!(
        rerun_text.contains("EXPECTED  DeliveredTakesEffect"),
        "{rerun_text}"
    );
    let _ = std::fs::remove_dir_all(out_dir);
}

#[test]
fn its_version_completions_and_man_page_name_this_binary() {
    assert!(stdout(&kv_eosim(&["--version"])).starts_with("kv-eosim "));
    let script = stdout(&kv_eosim(&["completions", "bash"]));
    assert!(script.contains("-o default kv-eosim"), "{script}");
    let page = stdout(&kv_eosim(&["man"]));
    assert!(
        page.contains(".TH kv-eosim 1"),
        "{}",
        &page[..page.len().min(400)]
    );
}
