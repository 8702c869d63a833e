//! The `eosim` binary as a user runs it: exit codes, error messages that name
//! the line, folder runs, JSON Lines and repeatable digests.

// Tests unwrap freely: a failure should stop the test with its message.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, ExitStatus, Output};

fn eosim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eosim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("EOSIM_SEED")
        .env_remove("EOSIM_MEMORY_BUDGET")
        .env_remove("NO_GRAPHICS")
        .output()
        .expect("the binary runs")
}

/// Whether this process ignores SIGINT, as Linux reports it (a child
/// inherits that). `false` where there is no `/proc`.
#[cfg(unix)]
fn sigint_ignored() -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (2 - 1)) != 0)
}

/// Press Ctrl-C on `child` (send it SIGINT).
#[cfg(unix)]
fn ctrl_c(child: &std::process::Child) {
    let pid = child.id().to_string();
    let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(sent.success(), "kill -INT {pid}");
}

/// Start `eosim sweep` with `args` from the repository, stdout piped, in
/// the background.
#[cfg(unix)]
fn spawn_sweep(args: &[&str], stderr: std::process::Stdio) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_eosim"))
        .arg("sweep")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("EOSIM_MEMORY_BUDGET")
        .stdout(std::process::Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap()
}

/// Start a sweep of W1 over a million seeds, one job at a time (a sweep
/// that runs until interrupted), writing under `dir`, with `more` options.
#[cfg(unix)]
fn spawn_endless_sweep(
    dir: &Path,
    more: &[&str],
    stderr: std::process::Stdio,
) -> std::process::Child {
    let dir = dir.to_string_lossy().into_owned();
    let mut args = vec!["scenarios/bench/w1.ron", "--seeds", "0..1000000"];
    args.extend(["--jobs", "1", "--progress", "none", "--out", &dir]);
    args.extend(more);
    spawn_sweep(&args, stderr)
}

/// A folder for one test's files, unique to this test process.
fn scratch(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("eosim-{name}-{}", std::process::id()))
}

/// A scratch folder holding a copy of the repository's `source` named
/// `name`: the folder, and the copy's path.
fn scratch_copy(test: &str, source: &str, name: &str) -> (std::path::PathBuf, String) {
    let dir = scratch(test);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(name).to_string_lossy().into_owned();
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join(source), &file).unwrap();
    (dir, file)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every file in `tests/malformed` starts with `// error: LINE: text` lines:
/// `eosim check` must exit 4 and, for each, point at `file:LINE:` and say
/// `text`.
#[test]
fn every_malformed_scenario_exits_4_and_names_its_line() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malformed");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 12, "at least twelve malformed files");
    for path in files {
        let rel = format!(
            "tests/malformed/{}",
            path.file_name().unwrap().to_string_lossy()
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let out = eosim(&["check", &rel]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(4), "{rel}: exit code\n{err}");
        assert!(!err.contains("panicked"), "{rel} panicked:\n{err}");
        let wanted: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("// error: "))
            .collect();
        assert!(!wanted.is_empty(), "{rel} says which error it expects");
        for w in wanted {
            let (line, message) = w.split_once(": ").unwrap();
            assert!(
                err.contains(&format!("{rel}:{line}:")),
                "{rel}: no location at line {line}\n{err}"
            );
            assert!(err.contains(message), "{rel}: no `{message}`\n{err}");
        }
    }
}

/// An error past column 65,535 used to panic inside the renderer: it is
/// shown as a bounded excerpt of its line, with its column named.
#[test]
fn an_error_far_along_a_very_long_line_is_shown_as_an_excerpt() {
    let dir = scratch("long-line");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("long.ron");
    let name = "x".repeat(70_000);
    std::fs::write(
        &file,
        format!("Scenario(name: \"{name}\", model: M4, expect: Pas)"),
    )
    .unwrap();
    let out = eosim(&["check", &file.to_string_lossy()]);
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{said}");
    assert!(said.contains("did you mean `Pass`?"), "{said}");
    assert!(said.contains("(column 70039)"), "{said}");
    assert!(
        said.len() < 2_000,
        "a bounded excerpt: {} bytes",
        said.len()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A run folder that cannot be written is an error, not a silent pass;
/// a huge `--jobs` is capped, not obeyed.
#[test]
fn an_unwritable_run_folder_fails_and_huge_jobs_are_capped() {
    let out = eosim(&[
        "run",
        "scenarios/16-m4-inbox-holds.ron",
        "--report",
        "--out",
        "/dev/null/runs",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("error: "), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("PASS"),
        "the verdict is still printed"
    );

    let dir = scratch("jobs");
    let sweep = eosim(&[
        "sweep",
        "scenarios/16-m4-inbox-holds.ron",
        "--seeds",
        "0..3",
        "--jobs",
        "100000",
        "--progress",
        "none",
        "--out",
        &dir.to_string_lossy(),
    ]);
    assert_eq!(sweep.status.code(), Some(0), "{}", stderr(&sweep));
    assert!(stderr(&sweep).contains("capped to"), "{}", stderr(&sweep));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A reader that goes away (`eosim sweep … | head -1`) neither hides the
/// sweep's exit code nor leaves its folder unfinished.
#[test]
fn a_closed_stdout_keeps_the_exit_code_and_finishes_the_folder() {
    let dir = scratch("closed-stdout");
    let _ = std::fs::remove_dir_all(&dir);
    let (dir, file) = scratch_copy(
        "closed-stdout",
        "tests/fixtures/m2-claims-too-much.ron",
        "m2.ron",
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_eosim"))
        .args([
            "sweep", &file, "--seeds", "0..30", "--jobs", "1", "--format", "json",
        ])
        .args(["--progress", "none", "--out", &dir.to_string_lossy()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "the sweep has unexpected failures");
    let folders: Vec<String> = std::fs::read_dir(dir.join("m2-claims-too-much"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        folders.iter().all(|f| !f.ends_with(".partial")),
        "{folders:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A stderr that cannot be written (full, or closed) drops the message;
/// the exit code still says what happened, and nothing panics.
#[test]
fn an_unwritable_stderr_keeps_the_exit_code() {
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    for (args, code) in [
        (&["check", "tests/malformed/09-unknown-check.ron"][..], 4),
        (&["run", "no-such-file.ron"][..], 2),
        (
            &["run", "scenarios/16-m4-inbox-holds.ron", "--no-report"][..],
            0,
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_eosim"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stderr(full())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}");
    }
}

/// Scenario input is bounded: a device or FIFO is refused before it is
/// read (exit 2), a file over 1 MiB or not UTF-8 is not a scenario (exit
/// 4, with the byte), and a byte-order mark is dropped.
#[test]
fn scenario_input_is_a_bounded_regular_utf8_file() {
    let dir = scratch("bounded-input");
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_string_lossy().into_owned()
    };
    let check = |file: &str| {
        let out = eosim(&["check", file]);
        (out.status.code(), stderr(&out))
    };
    let (code, said) = check("/dev/zero");
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("not a regular file"), "{said}");
    let big = write("big.ron", &vec![b' '; 2 << 20]);
    let (code, said) = check(&big);
    assert_eq!(code, Some(4), "{said}");
    assert!(said.contains("too large"), "{said}");
    let latin1 = write("latin1.ron", b"Scenario(name: \"caf\xe9\")");
    let (code, said) = check(&latin1);
    assert_eq!(code, Some(4), "{said}");
    assert!(said.contains("invalid byte at offset 19"), "{said}");
    let bom = write(
        "bom.ron",
        b"\xef\xbb\xbfScenario(name: \"bom\", model: M4, expect: Pass)",
    );
    let (code, said) = check(&bom);
    assert_eq!(code, Some(0), "{said}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn errors_can_be_read_without_graphics() {
    let out = Command::new(env!("CARGO_BIN_EXE_eosim"))
        .args(["check", "tests/malformed/03-unknown-actor.ron"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_GRAPHICS", "1")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(
        err.contains("label at line 7, columns 26 to 37: unknown actor"),
        "{err}"
    );
    assert!(err.contains("did you mean `consumer-1`?"), "{err}");
}

#[test]
fn the_bundled_suite_runs_as_expected_with_one_line_per_scenario() {
    let out = eosim(&["run", "scenarios"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    let lines: Vec<&str> = text.lines().collect();
    let count = lines.iter().filter(|l| l.starts_with("PASS    ")).count();
    assert!(count >= 13, "one line per scenario and a total:\n{text}");
    assert!(
        lines.iter().all(|l| l.chars().count() <= 80),
        "80 columns:\n{text}"
    );
    let total = lines
        .iter()
        .rev()
        .find(|l| l.contains(" scenarios · "))
        .unwrap();
    assert!(
        total.starts_with("PASS ") && total.ends_with("· 0 failed · 0 inconclusive · 0 invalid"),
        "{text}"
    );
    // M8's lesson passes on what was checked: its claimed laws cannot be
    // probed, and the line and the total say so.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("PASS*   m8-two-phase-sink-holds")),
        "{text}"
    );
    assert!(
        lines
            .last()
            .unwrap()
            .contains("with claimed checks unchecked"),
        "{text}"
    );
}

#[test]
fn a_failing_run_shows_the_message_the_crash_point_and_the_reproduce_command() {
    let out = eosim(&[
        "run",
        "tests/fixtures/m2-claims-too-much.ron",
        "--seed",
        "0",
        "--no-report",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL      C3  no-duplicate-effect"), "{text}");
    assert!(
        text.contains("crashed at after-effect-before-offset-commit"),
        "{text}"
    );
    assert!(
        text.contains("reproduce  eosim run tests/fixtures/m2-claims-too-much.ron --seed 0"),
        "{text}"
    );
}

/// A claimed check that was not evaluated is never a plain PASS: the law
/// probe off in a sweep of a known law-breaker, and a model whose handler
/// the probe cannot replay.
#[test]
fn a_claimed_check_left_unchecked_is_said_in_runs_sweeps_and_json() {
    let dir = scratch("unchecked");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("naive-unprobed.ron");
    let text = "Scenario(name: \"naive-unprobed\", model: M0Naive, workload: (messages: 5), \
                consumer: (law_probe: false), expect: Pass)";
    std::fs::write(&file, text).unwrap();
    let file = file.to_string_lossy().into_owned();
    let out = dir.to_string_lossy().into_owned();
    let sweep = eosim(&["sweep", &file, "--seeds", "0..5", "--out", &out]);
    let said = stdout(&sweep);
    assert_eq!(sweep.status.code(), Some(0), "{said}{}", stderr(&sweep));
    assert!(
        said.contains("unchecked  C14 idempotence-law on 5 seeds: the law probe is off"),
        "{said}"
    );
    let summary = std::fs::read_dir(dir.join("naive-unprobed"))
        .unwrap()
        .map(|e| e.unwrap().path().join("summary.json"))
        .find(|p| p.is_file())
        .unwrap();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(summary).unwrap()).unwrap();
    let codes: Vec<&str> = summary["unchecked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["check"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["C14", "C15"]);

    let run = eosim(&["run", "scenarios/38-m8-two-phase-sink-holds.ron"]);
    let said = stdout(&run);
    assert_eq!(run.status.code(), Some(0), "{said}");
    assert!(
        said.contains("PASS  on what was checked: claimed checks went unchecked"),
        "{said}"
    );
    assert!(said.contains("UNCHECKED C15 retry-law"), "{said}");
    let json = eosim(&[
        "run",
        "scenarios/38-m8-two-phase-sink-holds.ron",
        "--format",
        "json",
    ]);
    let end = stdout(&json)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["type"] == "run_end")
        .unwrap();
    assert_eq!(end["data"]["unchecked"][1]["check"], "C15");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_expected_violation_that_does_not_happen_is_inconclusive() {
    let out = eosim(&["run", "tests/fixtures/m4-expects-a-duplicate.ron"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("MISSING   C3"), "{text}");
}

#[test]
fn the_same_seed_prints_the_same_digest_and_json_lines_carry_schema_1() {
    let run = || {
        eosim(&[
            "run",
            "scenarios/16-m4-inbox-holds.ron",
            "--seed",
            "42",
            "--format",
            "json",
        ])
    };
    let (a, b) = (run(), run());
    assert_eq!(stdout(&a), stdout(&b));
    let lines: Vec<serde_json::Value> = stdout(&a)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines[0]["type"], "run_start");
    assert_eq!(lines[0]["data"]["schema"], 1);
    assert_eq!(lines[0]["data"]["seed"], 42);
    let end = lines.last().unwrap();
    assert_eq!(end["type"], "run_end");
    assert_eq!(end["data"]["verdict"], "pass");
    assert_eq!(end["data"]["digest"].as_str().unwrap().len(), 16);
    let other = eosim(&[
        "run",
        "scenarios/16-m4-inbox-holds.ron",
        "--seed",
        "43",
        "--format",
        "json",
    ]);
    assert_ne!(stdout(&a), stdout(&other), "another seed, another run");
}

#[test]
fn json_violations_name_the_check_and_whether_it_was_expected() {
    let out = eosim(&[
        "run",
        "scenarios/09-m0-naive-crash-duplicates.ron",
        "--format",
        "json",
    ]);
    let checks: Vec<(String, bool)> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "violation")
        .map(|v| {
            (
                v["data"]["check"].as_str().unwrap().to_string(),
                v["data"]["expected"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(checks.contains(&("C15".to_string(), true)), "{checks:?}");
    assert!(checks.contains(&("C3".to_string(), true)), "{checks:?}");
}

#[test]
fn json_violations_carry_their_causal_story() {
    let out = eosim(&[
        "run",
        "scenarios/05-m2-lost-ack-duplicates.ron",
        "--format",
        "json",
    ]);
    let violations: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "violation")
        .collect();
    let c3 = violations
        .iter()
        .find(|v| v["data"]["check"] == "C3")
        .expect("a C3 violation");
    let x = &c3["data"]["explanation"];
    let subject = c3["data"]["subject"].as_str().unwrap();
    assert_eq!(x["let"], format!("m = {subject}"), "{x}");
    let steps = x["steps"].as_array().unwrap();
    let texts: Vec<&str> = steps.iter().map(|s| s["text"].as_str().unwrap()).collect();
    assert!(
        texts.iter().any(|t| t.contains("LOST ProduceAck of m")),
        "{texts:?}"
    );
    assert!(
        texts.last().unwrap().ends_with("applied m effect #2"),
        "{texts:?}"
    );
    let events: Vec<u64> = steps.iter().map(|s| s["event"].as_u64().unwrap()).collect();
    assert!(events.windows(2).all(|w| w[0] < w[1]), "{events:?}");
    assert_eq!(steps[0]["n"], 1);
    assert!(x["conclusion"].as_str().unwrap().starts_with("However, "));
    assert!(x["hint"].as_str().unwrap().starts_with("hint: "));
}

#[test]
fn seeds_can_be_given_in_hex() {
    let dec = eosim(&[
        "run",
        "scenarios/16-m4-inbox-holds.ron",
        "--seed",
        "255",
        "--format",
        "json",
    ]);
    let hex = eosim(&[
        "run",
        "scenarios/16-m4-inbox-holds.ron",
        "--seed",
        "0xff",
        "--format",
        "json",
    ]);
    assert_eq!(stdout(&dec), stdout(&hex));
    assert_eq!(
        eosim(&["run", "scenarios", "--seed", "0xzz"]).status.code(),
        Some(2)
    );
}

#[test]
fn a_missing_file_is_a_clear_error_not_a_panic() {
    let out = eosim(&["run", "scenarios/no-such-file.ron"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read scenarios/no-such-file.ron"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_usage_error_exits_2() {
    assert_eq!(eosim(&["run"]).status.code(), Some(2));
    assert_eq!(eosim(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn check_prints_the_actors_and_crash_points() {
    let out = eosim(&["check", "scenarios/09-m0-naive-crash-duplicates.ron"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text.contains("actors   producer-1, broker, consumer-1, recovery"),
        "{text}"
    );
    assert!(text.contains("after-effect-before-status-update"), "{text}");
}

#[test]
fn a_sweep_gives_the_same_summary_on_one_thread_and_on_two() {
    let dir = scratch("same");
    let tmp = dir.to_string_lossy().into_owned();
    let sweep = |jobs: &str| {
        let out = eosim(&[
            "sweep",
            "scenarios/05-m2-lost-ack-duplicates.ron",
            "--out",
            &tmp,
            "--seeds",
            "0..60",
            "--jobs",
            jobs,
            "--format",
            "json",
            "--progress",
            "none",
        ]);
        let end: serde_json::Value =
            serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap();
        (out.status.code(), end)
    };
    let (code_one, one) = sweep("1");
    let (code_two, two) = sweep("2");
    assert_eq!(one, two);
    assert_eq!(code_one, code_two);
    assert_eq!(one["type"], "sweep_end");
    assert_eq!(one["data"]["runs"], 60);
    assert!(
        one["data"]["by_check"]["C3"].as_u64().unwrap() > 0,
        "lost acks duplicate: {one}"
    );
}

/// Every file under `dir`, as (path relative to `dir`, bytes), by path.
fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(at) = todo.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let name = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// Seeds finish in any order on two threads, but a sweep writes their
/// results in seed order (regression seeds first, in file order): its JSON
/// lines and every file of its folder, `seeds.csv` included, are the same
/// bytes on one thread and on two.
#[test]
fn a_sweep_writes_the_same_bytes_on_one_thread_and_on_two() {
    let (dir, file) = scratch_copy(
        "bytes",
        "scenarios/06-m2-crash-after-effect.ron",
        "lesson.ron",
    );
    std::fs::write(
        dir.join("lesson.regressions"),
        "91 # one\n7 # two\n40 # three\n",
    )
    .unwrap();
    let sweep = |jobs: &str| {
        let out = dir.join(format!("jobs-{jobs}"));
        let o = eosim(&[
            "sweep",
            &file,
            "--seeds",
            "0..80",
            "--jobs",
            jobs,
            "--format",
            "json",
            "--progress",
            "none",
            "--out",
            &out.to_string_lossy(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let runs = out.join("m2-crash-after-effect");
        let folders: Vec<_> = std::fs::read_dir(&runs).unwrap().collect();
        assert_eq!(folders.len(), 1, "one sweep folder");
        let folder = folders.into_iter().next().unwrap().unwrap().path();
        (stdout(&o), files_under(&folder))
    };
    let (json_one, files_one) = sweep("1");
    let (json_two, files_two) = sweep("2");
    let seeds: Vec<u64> = json_one
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "seed_result")
        .map(|v| v["data"]["seed"].as_u64().unwrap())
        .collect();
    let expected: Vec<u64> = [91, 7, 40].into_iter().chain(0..80).collect();
    assert_eq!(
        seeds, expected,
        "regression seeds, then the sweep's, in order"
    );
    assert_eq!(json_one, json_two, "JSON lines");
    let csv = files_one
        .iter()
        .find(|(name, _)| name == "seeds.csv")
        .unwrap();
    let csv_seeds: Vec<String> = String::from_utf8_lossy(&csv.1)
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    let in_order: Vec<String> = (0..80).map(|s| s.to_string()).collect();
    assert_eq!(csv_seeds, in_order, "seeds.csv in seed order");
    let names = |files: &[(String, Vec<u8>)]| -> Vec<String> {
        files.iter().map(|(name, _)| name.clone()).collect()
    };
    assert_eq!(names(&files_one), names(&files_two));
    for ((name, one), (_, two)) in files_one.iter().zip(&files_two) {
        assert!(one == two, "{name} differs between --jobs 1 and --jobs 2");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_sweep_exits_1_on_an_unexpected_violation_saves_a_regression_seed_and_run_replays_it() {
    let (dir, file) = scratch_copy(
        "sweep",
        "tests/fixtures/m2-claims-too-much.ron",
        "claims.ron",
    );
    let runs = dir.join("runs").to_string_lossy().into_owned();
    let out = eosim(&[
        "sweep",
        &file,
        "--seeds",
        "0..20",
        "--progress",
        "none",
        "--out",
        &runs,
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("20 FAIL"), "{text}");
    assert!(
        text.contains(
            "C3 crash consumer at after-effect-before-offset-commit\n               20 seeds, UNEXPECTED"
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!("eosim run {file} --seed ")),
        "{text}"
    );
    let saved = std::fs::read_to_string(dir.join("claims.regressions")).unwrap();
    assert!(
        saved.contains(
            "# violates C3 no-duplicate-effect (crash consumer at after-effect-before-offset-commit)"
        ),
        "{saved}"
    );
    assert!(
        saved.contains(
            "shrinks to: 11 events · crash consumer-1 at after-effect-before-offset-commit (pass #1)"
        ),
        "{saved}"
    );
    assert!(text.contains("shrunk     C3 seed "), "{text}");
    let folder = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("folder     "))
        .unwrap();
    let page = std::fs::read_to_string(Path::new(folder).join("index.html")).unwrap();
    assert!(page.contains(">UNEXPECTED<"), "{page}");
    assert!(
        page.contains("/index.html\">seed "),
        "links the kept failure: {page}"
    );
    assert!(page.contains("shrinks to: 11 events"), "{page}");
    let seed = saved.split_whitespace().next().unwrap();
    let again = eosim(&["run", &file, "--no-report"]);
    let first = stdout(&again).lines().next().unwrap().to_string();
    assert!(
        first.starts_with("regression FAIL") && first.contains(&format!(" s{seed} ")),
        "{first}"
    );
    assert_eq!(again.status.code(), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_determinism_runs_every_scenario_twice_and_finds_them_equal() {
    let out = eosim(&["run", "scenarios", "--check-determinism"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(!stderr(&out).contains("NON-DETERMINISM"));
}

/// A sweep run as three shards in separate processes (one by index, two
/// reading Kubernetes or Slurm variables) and merged equals the same sweep
/// in one process.
#[test]
fn three_shards_merged_equal_the_single_sweep() {
    let dir = scratch("shards");
    let out = dir.to_string_lossy().into_owned();
    let scenario = "scenarios/06-m2-crash-after-effect.ron";
    let base = [
        "sweep",
        scenario,
        "--seeds",
        "0..45",
        "--progress",
        "none",
        "--format",
        "json",
        "--out",
    ];
    let shard = |envs: &[(&str, &str)], extra: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_eosim"));
        cmd.args(base)
            .arg(&out)
            .args(extra)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    };
    shard(&[], &["--shard", "0/3"]);
    shard(
        &[("JOB_COMPLETION_INDEX", "1"), ("EOSIM_SHARD_COUNT", "3")],
        &["--shard", "env"],
    );
    shard(
        &[
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ],
        &["--shard", "env"],
    );
    let files: Vec<String> = (0..3)
        .map(|i| format!("{out}/m2-crash-after-effect/shard-{i}-of-3.json"))
        .collect();
    let mut merge_args = vec!["merge", "--format", "json"];
    merge_args.extend(files.iter().map(String::as_str));
    let merged = stdout(&eosim(&merge_args));
    let single = eosim(&[
        "sweep",
        scenario,
        "--seeds",
        "0..45",
        "--progress",
        "none",
        "--format",
        "json",
        "--out",
        &out,
    ]);
    let single_end = stdout(&single).lines().last().unwrap().to_string();
    assert_eq!(merged.trim(), single_end);
    let incomplete = eosim(&["merge", &files[0], &files[2]]);
    assert_eq!(incomplete.status.code(), Some(2));
    assert!(
        stderr(&incomplete).contains("shards missing: 1 of 3"),
        "{}",
        stderr(&incomplete)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A shard file with a shard count of 0, or a per-check count above its
/// seeds (which would wrap the merged sum), is refused with a clear error,
/// never a panic or a wrong total.
#[test]
fn hostile_shard_files_are_refused_not_merged() {
    let dir = scratch("hostile-shards");
    let out = dir.to_string_lossy().into_owned();
    let sweep = eosim(&[
        "sweep",
        "scenarios/05-m2-lost-ack-duplicates.ron",
        "--seeds",
        "0..4",
        "--shard",
        "0/1",
        "--progress",
        "none",
        "--out",
        &out,
    ]);
    assert_eq!(sweep.status.code(), Some(0), "{}", stderr(&sweep));
    let file = dir.join("m2-lost-ack-duplicates/shard-0-of-1.json");
    let good: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let hostile = |name: &str, change: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good.clone();
        change(&mut v);
        let path = dir.join(name);
        std::fs::write(&path, v.to_string()).unwrap();
        let merged = eosim(&["merge", &path.to_string_lossy()]);
        assert_eq!(merged.status.code(), Some(2), "{name}: {}", stderr(&merged));
        stderr(&merged)
    };
    let zero = hostile("zero.json", &|v| v["shard_count"] = 0.into());
    assert!(zero.contains("0 shards"), "{zero}");
    let huge = hostile("huge.json", &|v| {
        v["summary"]["by_check"]["C3"] = u64::MAX.into();
    });
    assert!(huge.contains("more seeds than it ran"), "{huge}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Hostile shard files beside a good one: a shard count of 0 or an index
/// past it is refused (exit 2) naming the file, never a division by zero;
/// a shard whose share of the seeds is empty (0 seeds) merges.
#[test]
fn a_zero_shard_count_beside_a_good_shard_is_refused_and_an_empty_share_merges() {
    let dir = scratch("zero-shards");
    let _ = std::fs::remove_dir_all(&dir);
    let out = dir.to_string_lossy().into_owned();
    for shard in ["0/2", "1/2"] {
        let sweep = eosim(&[
            "sweep",
            "scenarios/05-m2-lost-ack-duplicates.ron",
            "--seeds",
            "0..1",
            "--shard",
            shard,
            "--progress",
            "none",
            "--out",
            &out,
        ]);
        assert_eq!(sweep.status.code(), Some(0), "{}", stderr(&sweep));
    }
    let shard = |i: u32| {
        dir.join(format!("m2-lost-ack-duplicates/shard-{i}-of-2.json"))
            .to_string_lossy()
            .into_owned()
    };
    let empty: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(shard(1)).unwrap()).unwrap();
    assert_eq!(empty["summary"]["runs"], 0, "seed 0 is not shard 1's");
    let merged = eosim(&["merge", &shard(0), &shard(1)]);
    assert_eq!(merged.status.code(), Some(0), "{}", stderr(&merged));
    assert!(stdout(&merged).contains("1 seeds"), "{}", stdout(&merged));
    let json = eosim(&["merge", "--format", "json", &shard(1), &shard(0)]);
    let end: serde_json::Value = serde_json::from_str(stdout(&json).trim()).unwrap();
    assert_eq!(end["data"]["runs"], 1);
    assert_eq!(end["data"]["exit_code"], 0);
    assert_eq!(end["data"]["interrupted"], false);
    let full: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(shard(0)).unwrap()).unwrap();
    for (name, key, value) in [
        ("zero-count.json", "shard_count", 0_u64),
        ("index-past-count.json", "shard_index", 2),
        ("huge-index.json", "shard_index", u64::MAX),
        ("huge-count.json", "shard_count", u64::MAX),
    ] {
        let mut v = full.clone();
        v[key] = value.into();
        let path = dir.join(name);
        std::fs::write(&path, v.to_string()).unwrap();
        let path = path.to_string_lossy().into_owned();
        let merged = eosim(&["merge", &shard(1), &path]);
        assert_eq!(merged.status.code(), Some(2), "{name}: {}", stderr(&merged));
        assert!(
            stderr(&merged).contains(name),
            "{name}: {}",
            stderr(&merged)
        );
        assert!(!stderr(&merged).contains("panicked"), "{}", stderr(&merged));
    }
    // A seed list's share is counted differently, and divided by too (found
    // by the merge property in tests/properties.rs).
    let mut listed = full.clone();
    listed["seeds"] = "0,1,2,3".into();
    listed["shard_count"] = 0.into();
    let path = dir.join("list-count-zero.json");
    std::fs::write(&path, listed.to_string()).unwrap();
    let merged = eosim(&["merge", &shard(1), &path.to_string_lossy()]);
    assert_eq!(merged.status.code(), Some(2), "{}", stderr(&merged));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A failing run leaves a run folder that replays to the same digest; a
/// tampered folder is caught (exit 5), an unreadable one is an error (4).
#[test]
fn a_failing_run_folder_replays_and_tampering_is_detected() {
    let dir = scratch("runs");
    let out = dir.to_string_lossy().into_owned();
    let run = eosim(&[
        "run",
        "tests/fixtures/m2-claims-too-much.ron",
        "--seed",
        "4",
        "--out",
        &out,
    ]);
    assert_eq!(run.status.code(), Some(1));
    let text = stdout(&run);
    let folder = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("run folder "))
        .unwrap()
        .to_string();
    assert!(folder.ends_with("-s4"), "{folder}");
    for file in ["scenario.ron", "repro.txt", "verdict.json", "events.txt"] {
        assert!(
            Path::new(&folder).join(file).is_file(),
            "{file} in {folder}"
        );
    }
    let replay = eosim(&["replay", &folder]);
    assert_eq!(replay.status.code(), Some(0), "{}", stderr(&replay));
    assert!(stdout(&replay).contains("REPLAY OK"));

    let events = Path::new(&folder).join("events.txt");
    let original = std::fs::read_to_string(&events).unwrap();
    std::fs::write(&events, original.replacen("deliver ", "delivr  ", 1)).unwrap();
    let tampered = eosim(&["replay", &folder]);
    assert_eq!(tampered.status.code(), Some(5));
    assert!(
        stderr(&tampered).contains("first diverging event"),
        "{}",
        stderr(&tampered)
    );
    std::fs::write(&events, original).unwrap();

    let scenario = Path::new(&folder).join("scenario.ron");
    let text = std::fs::read_to_string(&scenario).unwrap();
    std::fs::write(&scenario, text.replace("messages: 5", "messages: 6")).unwrap();
    let changed = eosim(&["replay", &folder]);
    assert_eq!(changed.status.code(), Some(5));
    assert!(
        stderr(&changed).contains("scenario.ron was changed"),
        "{}",
        stderr(&changed)
    );

    assert_eq!(
        eosim(&["replay", &format!("{out}/no-such-run")])
            .status
            .code(),
        Some(2)
    );
    std::fs::remove_file(Path::new(&folder).join("verdict.json")).unwrap();
    assert_eq!(
        eosim(&["replay", &folder]).status.code(),
        Some(4),
        "a folder without its verdict"
    );
    let passing = eosim(&["run", "scenarios/16-m4-inbox-holds.ron", "--out", &out]);
    assert_eq!(passing.status.code(), Some(0));
    assert!(
        !dir.join("m4-inbox-holds").exists(),
        "a passing run leaves no folder"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Ctrl-C stops a sweep cleanly: what finished is summarised, the exit code
/// is 130, and no shard file is left behind for an unfinished share.
#[cfg(unix)]
#[test]
fn an_interrupted_sweep_summarises_what_finished() {
    use std::io::BufRead;
    let dir = scratch("interrupt");
    let mut child = Command::new(env!("CARGO_BIN_EXE_eosim"))
        .args([
            "sweep",
            "scenarios/bench/w1.ron",
            "--seeds",
            "0..1000000",
            "--jobs",
            "1",
            "--progress",
            "none",
        ])
        .args(["--shard", "0/1", "--out"])
        .arg(&dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut header = String::new();
    stdout.read_line(&mut header).unwrap();
    assert!(header.starts_with("sweeping w1"), "{header}");
    ctrl_c(&child);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    assert!(rest.contains(" PASS · 0 FAIL"), "{rest}");
    assert!(
        !dir.join("w1").exists(),
        "no shard file for an unfinished share"
    );
}

/// The one sweep folder under `dir/<scenario>`, finished (never `.partial`).
fn sweep_folder(dir: &Path, scenario: &str) -> std::path::PathBuf {
    let folders: Vec<std::path::PathBuf> = std::fs::read_dir(dir.join(scenario))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(folders.len(), 1, "{folders:?}");
    let folder = folders[0].clone();
    assert!(
        !folder.to_string_lossy().ends_with(".partial"),
        "{folder:?} is unfinished"
    );
    folder
}

/// Check that every count in a finished sweep folder agrees with the
/// others: `seeds.csv` (a header line, then one row per seed), the totals
/// and per-check counts of `summary.json`, and the totals of `index.html`.
/// Returns `summary.json`.
fn counts_agree(folder: &Path) -> serde_json::Value {
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("summary.json")).unwrap())
            .unwrap();
    let n = |key: &str| summary[key].as_u64().unwrap();
    let csv = std::fs::read_to_string(folder.join("seeds.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("seed,verdict,violations,events,digest"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.iter().all(|r| r.len() == 5), "{csv}");
    assert_eq!(rows.len() as u64, n("runs"), "seeds.csv data rows and runs");
    assert_eq!(n("pass") + n("fail") + n("inconclusive"), n("runs"));
    for verdict in ["pass", "fail", "inconclusive"] {
        let rows = rows.iter().filter(|r| r[1] == verdict).count() as u64;
        assert_eq!(rows, n(verdict), "{verdict} rows in seeds.csv");
    }
    let by_check = summary["by_check"].as_object().unwrap();
    let mut listed = std::collections::BTreeMap::<String, u64>::new();
    for r in &rows {
        for check in r[2].split_whitespace() {
            *listed.entry(check.to_string()).or_default() += 1;
        }
    }
    let by_check: std::collections::BTreeMap<String, u64> = by_check
        .iter()
        .map(|(c, v)| (c.clone(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(listed, by_check, "seeds.csv violations and by_check");
    let page = std::fs::read_to_string(folder.join("index.html")).unwrap();
    assert!(
        page.contains(&format!(
            "<b>{}</b> seeds: <b>{}</b> as expected, <b>{}</b>",
            n("runs"),
            n("pass"),
            n("fail")
        )),
        "{page}"
    );
    summary
}

/// Every count in a sweep folder agrees across its files: `seeds.csv` has
/// its header and one row per seed run, each check listed once per seed,
/// as `summary.json` and `index.html` count them.
#[test]
fn a_sweep_folders_counts_agree_in_every_file() {
    let dir = scratch("folder-counts");
    let _ = std::fs::remove_dir_all(&dir);
    let out = dir.to_string_lossy().into_owned();
    for (file, name) in [
        ("scenarios/10-m0-atomic-holds.ron", "m0-atomic-holds"),
        (
            "scenarios/03-m1-crash-after-offset-commit.ron",
            "m1-crash-after-offset-commit",
        ),
    ] {
        let sweep = eosim(&[
            "sweep",
            file,
            "--seeds",
            "0..12",
            "--progress",
            "none",
            "--out",
            &out,
        ]);
        let code = sweep.status.code().unwrap();
        let summary = counts_agree(&sweep_folder(&dir, name));
        assert_eq!(summary["runs"], 12);
        assert_eq!(summary["exit_code"], code, "{name}");
        assert_eq!(summary["interrupted"], false, "{name}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Wait for `child` at most about `seconds` (polled, so no clock is
/// read); kill it and fail if it takes longer.
fn wait_at_most(child: &mut std::process::Child, seconds: u64) -> ExitStatus {
    let poll = std::time::Duration::from_millis(20);
    for _ in 0..seconds * 50 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(poll);
    }
    let _ = child.kill();
    panic!("the sweep did not end within {seconds} s");
}

/// Ctrl-C on a sweep that has started its folder: exit 130, and the folder
/// says so: `summary.json` carries the exit code and `interrupted`, the
/// page says the sweep was interrupted, and every count agrees.
#[cfg(unix)]
#[test]
fn an_interrupted_sweeps_folder_says_so() {
    let dir = scratch("interrupt-folder");
    let _ = std::fs::remove_dir_all(&dir);
    let mut child = spawn_endless_sweep(&dir, &["--format", "json"], std::process::Stdio::piped());
    // Read the JSON lines as they come, so the pipe never fills; interrupt
    // once a seed has finished (its folder exists by then).
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut all = Vec::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let _ = tx.send(());
            all.push(line);
        }
        all
    });
    let first = rx.recv_timeout(std::time::Duration::from_secs(120));
    assert!(first.is_ok(), "no seed finished");
    ctrl_c(&child);
    let status = wait_at_most(&mut child, 120);
    let lines = reader.join().unwrap();
    assert_eq!(status.code(), Some(130), "{}", lines.join("\n"));
    let end: serde_json::Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    assert_eq!(end["type"], "sweep_end");
    assert_eq!(end["data"]["exit_code"], 130);
    assert_eq!(end["data"]["interrupted"], true);
    let folder = sweep_folder(&dir, "w1");
    let summary = counts_agree(&folder);
    assert_eq!(summary["exit_code"], 130);
    assert_eq!(summary["interrupted"], true);
    assert!(summary["runs"].as_u64().unwrap() >= 1);
    let page = std::fs::read_to_string(folder.join("index.html")).unwrap();
    assert!(page.contains("Interrupted"), "{page}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The human summary of an interrupted sweep says so on stdout too.
#[cfg(unix)]
#[test]
fn an_interrupted_sweeps_summary_says_so() {
    use std::io::BufRead;
    let dir = scratch("interrupt-human");
    let _ = std::fs::remove_dir_all(&dir);
    let mut child = spawn_endless_sweep(&dir, &[], std::process::Stdio::null());
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut header = String::new();
    stdout.read_line(&mut header).unwrap();
    assert!(header.starts_with("sweeping w1"), "{header}");
    ctrl_c(&child);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = wait_at_most(&mut child, 120);
    assert_eq!(status.code(), Some(130), "{rest}");
    assert!(rest.contains("interrupted"), "{rest}");
    assert!(rest.contains("exit 130"), "{rest}");
    let summary = counts_agree(&sweep_folder(&dir, "w1"));
    assert_eq!(summary["interrupted"], true);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A Ctrl-C at any moment of a sweep's start either stops the process
/// before it has written anything (killed by the signal, nothing left
/// behind), or is caught: exit 130 and a finished folder that says it was
/// interrupted. Never a `.partial` folder or another exit code.
#[cfg(unix)]
#[test]
fn an_early_ctrl_c_leaves_nothing_or_a_marked_folder() {
    use std::os::unix::process::ExitStatusExt as _;
    assert!(
        !sigint_ignored(),
        "SIGINT is ignored in this process, and so in the sweeps it starts: a Ctrl-C \
         before a sweep installs its handler would be lost and the sweep would run on. \
         Run the tests in the foreground (a non-interactive shell's `&` ignores SIGINT)."
    );
    for attempt in 0..6_u64 {
        let dir = scratch(&format!("early-interrupt-{attempt}"));
        let _ = std::fs::remove_dir_all(&dir);
        let mut child = Command::new(env!("CARGO_BIN_EXE_eosim"))
            .args(["sweep", "scenarios/bench/w1.ron", "--seeds", "0..1000000"])
            .args(["--jobs", "1", "--progress", "none", "--out"])
            .arg(&dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // From at once to a few milliseconds in: before, during and after
        // the sweep sets up.
        std::thread::sleep(std::time::Duration::from_millis(attempt * 3));
        ctrl_c(&child);
        let status = wait_at_most(&mut child, 120);
        match (status.code(), status.signal()) {
            (None, Some(2)) => assert!(!dir.join("w1").exists(), "killed, yet files left"),
            (Some(130), None) => {
                let summary = counts_agree(&sweep_folder(&dir, "w1"));
                assert_eq!(summary["interrupted"], true);
                assert_eq!(summary["exit_code"], 130);
            }
            other => panic!("attempt {attempt}: {other:?}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A failing run shrinks into its run folder by default; the minimal
/// scenario fails the same check on its own, at any seed; `eosim shrink`
/// does the same for a folder or a scenario and seed.
#[test]
fn a_failing_run_shrinks_to_a_seedless_scenario_that_fails_on_its_own() {
    let dir = scratch("shrink");
    let out = dir.to_string_lossy().into_owned();
    let fixture = "tests/fixtures/m2-claims-too-much.ron";
    let run = eosim(&["run", fixture, "--seed", "2", "--out", &out]);
    assert_eq!(run.status.code(), Some(1));
    let text = stdout(&run);
    assert!(text.contains("shrunk     "), "{text}");
    assert!(
        text.contains("the shrunk counterexample, step by step\nC3 no-duplicate-effect"),
        "{text}"
    );
    let min = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("min        "))
        .unwrap()
        .to_string();
    assert!(min.ends_with("min/scenario.ron"), "{min}");
    let run_dir = Path::new(&min).parent().unwrap().parent().unwrap();
    let mmd = std::fs::read_to_string(run_dir.join("diagrams/counterexample.mmd")).unwrap();
    assert!(mmd.starts_with("%% The shrunk counterexample"), "{mmd}");
    let header = std::fs::read_to_string(&min).unwrap();
    assert!(
        header.contains("It violates C3 no-duplicate-effect."),
        "{header}"
    );
    for seed in ["0", "99"] {
        let again = eosim(&["run", &min, "--seed", seed, "--no-report"]);
        assert_eq!(again.status.code(), Some(1), "{}", stdout(&again));
        assert!(
            stdout(&again).contains("FAIL      C3"),
            "{}",
            stdout(&again)
        );
    }
    let folder = Path::new(&min).parent().unwrap().parent().unwrap();
    std::fs::remove_dir_all(Path::new(&min).parent().unwrap()).unwrap();
    let shrink = eosim(&["shrink", &folder.to_string_lossy()]);
    assert_eq!(shrink.status.code(), Some(0), "{}", stderr(&shrink));
    assert!(stdout(&shrink).contains("SHRUNK"), "{}", stdout(&shrink));
    assert!(Path::new(&min).is_file(), "shrink rewrote {min}");

    let scenario = eosim(&[
        "shrink",
        "scenarios/05-m2-lost-ack-duplicates.ron",
        "--seed",
        "2",
        "--out",
        &out,
    ]);
    let said = stdout(&scenario);
    assert_eq!(scenario.status.code(), Some(0), "{}", stderr(&scenario));
    assert!(
        said.contains("faults   drop broker->producer-1 #1"),
        "{said}"
    );
    let nothing = eosim(&[
        "shrink",
        "scenarios/30-m7-transactions-hold.ron",
        "--out",
        &out,
    ]);
    assert_eq!(nothing.status.code(), Some(2));
    assert!(stderr(&nothing).contains("nothing to shrink"));
    assert!(
        !dir.join("m7-transactions-hold").exists(),
        "no folder for a passing run"
    );

    let with_seed = eosim(&["shrink", &folder.to_string_lossy(), "--seed", "3"]);
    assert_eq!(
        with_seed.status.code(),
        Some(2),
        "a folder has its own seed"
    );
    let expected = eosim(&[
        "run",
        "scenarios/06-m2-crash-after-effect.ron",
        "--report",
        "--out",
        &out,
    ]);
    assert_eq!(expected.status.code(), Some(0));
    assert!(
        !stdout(&expected).contains("shrunk") && stderr(&expected).is_empty(),
        "only unexpected violations are shrunk by run:\n{}{}",
        stdout(&expected),
        stderr(&expected)
    );
    let quiet = eosim(&["run", fixture, "--seed", "2", "--out", &out, "--no-shrink"]);
    assert!(!stdout(&quiet).contains("shrunk"), "{}", stdout(&quiet));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_scenario_replays_at_a_seed_against_a_digest() {
    let file = "scenarios/05-m2-lost-ack-duplicates.ron";
    let run = eosim(&["run", file, "--seed", "3", "--format", "json"]);
    let digest = stdout(&run)
        .lines()
        .find(|l| l.contains("\"run_end\""))
        .and_then(|l| l.split("\"digest\":\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let ok = eosim(&["replay", file, "--seed", "3", "--digest", &digest]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("matches the digest given"));
    let other = eosim(&["replay", file, "--seed", "4", "--digest", &digest]);
    assert_eq!(other.status.code(), Some(5));
    assert!(stderr(&other).contains("REPLAY DIFFERS"));
}

/// Unexpected failures are clustered by their shrunk faults in every shard
/// alike, and the merge saves the same regression seeds as the single sweep.
#[test]
fn sharded_unexpected_failures_merge_to_the_single_sweeps_clusters_and_regressions() {
    let (dir, file) = scratch_copy(
        "shard-fail",
        "tests/fixtures/m2-claims-too-much.ron",
        "claims.ron",
    );
    let out = dir.join("runs").to_string_lossy().into_owned();
    let sweep = |extra: &[&str]| {
        let mut args = vec![
            "sweep",
            &file,
            "--seeds",
            "0..30",
            "--progress",
            "none",
            "--format",
            "json",
            "--out",
            &out,
        ];
        args.extend(extra);
        eosim(&args)
    };
    let single = sweep(&[]);
    assert_eq!(single.status.code(), Some(1));
    let single_end = stdout(&single).lines().last().unwrap().to_string();
    assert!(
        single_end.contains("crash consumer at after-effect-before-offset-commit"),
        "{single_end}"
    );
    let regressions = dir.join("claims.regressions");
    let single_saved = std::fs::read_to_string(&regressions).unwrap();
    std::fs::remove_file(&regressions).unwrap();
    for i in 0..3 {
        sweep(&["--shard", &format!("{i}/3")]);
    }
    assert!(!regressions.exists(), "a shard saves no regression seeds");
    let files: Vec<String> = (0..3)
        .map(|i| format!("{out}/m2-claims-too-much/shard-{i}-of-3.json"))
        .collect();
    let mut merge_args = vec!["merge", "--format", "json"];
    merge_args.extend(files.iter().map(String::as_str));
    let merged = eosim(&merge_args);
    assert_eq!(merged.status.code(), Some(1));
    assert_eq!(stdout(&merged).trim(), single_end);
    assert_eq!(std::fs::read_to_string(&regressions).unwrap(), single_saved);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn list_models_prints_every_model_within_80_columns() {
    let out = eosim(&["list-models"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    for model in models::protocols::registry().models() {
        let info = model.info();
        assert!(
            text.contains(&format!("{} · ", info.code)),
            "{} listed:\n{text}",
            info.code
        );
    }
    for label in [
        "guarantee",
        "mechanism",
        "holds",
        "survives",
        "breakers",
        "anchor",
        "crash at",
    ] {
        assert!(
            text.contains(&format!("  {label:<10} ")),
            "{label}:\n{text}"
        );
    }
    assert!(
        text.contains("C3 no-duplicate-effect (duplicated)"),
        "{text}"
    );
}

#[test]
fn list_models_gives_one_model_as_json_and_suggests_a_near_name() {
    let out = eosim(&["models", "--model", "m0naive", "--format", "json"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(v["type"], "model");
    assert_eq!(v["data"]["code"], "M0-naive");
    assert_eq!(v["data"]["survives"], serde_json::json!([]));
    assert!(v["data"]["claims"].as_array().unwrap().len() > 3);
    let wrong = eosim(&["list-models", "--model", "M44"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        stderr(&wrong).contains("did you mean `M4`?"),
        "{}",
        stderr(&wrong)
    );
}

#[test]
fn the_matrix_prints_a_row_per_model_as_a_table_and_as_markdown() {
    let out = eosim(&["matrix", "--seeds", "5"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    let header = text.lines().find(|l| l.starts_with("model ")).unwrap();
    // A name too long for its cell is cut short; the legend names it whole.
    for f in models::matrix::FaultClass::ALL {
        let start: String = f.name().chars().take(5).collect();
        assert!(header.contains(&start), "{header}");
        assert!(
            text.contains(&format!("{}: ", f.name()))
                || text.contains(&format!("({}): ", f.name())),
            "{text}"
        );
    }
    assert!(text.contains("claims   every claimed check held"), "{text}");
    let md = stdout(&eosim(&["matrix", "--seeds", "5", "--format", "md"]));
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| M")).collect();
    assert_eq!(
        rows.len(),
        models::protocols::registry().models().len(),
        "{md}"
    );
    let m2 = rows.iter().find(|r| r.starts_with("| M2 |")).unwrap();
    let loss = m2.split('|').nth(2).unwrap();
    assert!(
        loss.contains("C3 (5)"),
        "M2 duplicates on every lossy seed:\n{md}"
    );
}

/// A scheduled crash whose point is never passed that often is said, not
/// silently dropped; a lesson whose crash fires says nothing of the kind.
#[test]
fn a_scheduled_crash_that_never_fires_is_said() {
    let dir = scratch("unfired-crash");
    std::fs::create_dir_all(&dir).unwrap();
    let lesson = "scenarios/50-steps-design-the-seeds-handler.ron";
    let text = std::fs::read_to_string(lesson).unwrap();
    let file = dir.join("unfired.ron");
    std::fs::write(&file, text.replace("nth: 3)", "nth: 100)")).unwrap();
    let out = eosim(&["run", file.to_str().unwrap(), "--no-report"]);
    let said = stdout(&out);
    assert!(said.contains("(pass #100) never fired"), "{said}");
    let fired = stdout(&eosim(&["run", lesson, "--no-report"]));
    assert!(!fired.contains("never fired"), "{fired}");
}

/// A step program gets a row of its own below the catalogue, judged
/// against what it claims under every fault class; a file naming a
/// catalogue model is refused.
#[test]
fn the_matrix_adds_a_row_per_step_program() {
    let naive = "scenarios/50-steps-design-the-seeds-handler.ron";
    let atomic = "scenarios/51-steps-one-atomic-makes-it-exactly-once.ron";
    let out = eosim(&["matrix", naive, atomic, "--seeds", "5", "--format", "md"]);
    let md = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the naive program is contradicted:\n{md}"
    );
    let row = |name: &str| {
        md.lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no row {name}:\n{md}"))
            .to_string()
    };
    let crash = |row: &str| row.split('|').nth(5).unwrap().to_string();
    assert!(crash(&row("seeds-naive")).contains("C3!"), "{md}");
    assert!(!crash(&row("seeds-atomic")).contains('!'), "{md}");
    let catalogue = eosim(&["matrix", "scenarios/09-m0-naive-crash-duplicates.ron"]);
    assert_eq!(catalogue.status.code(), Some(4));
    assert!(
        stderr(&catalogue).contains("already a row"),
        "{}",
        stderr(&catalogue)
    );
}

/// `run --report` leaves the teaching report and `runs/latest`; `eosim
/// report` re-renders it (checking the digest) and prints single artifacts;
/// `eosim diff` names the first diverging event.
#[test]
fn a_reported_run_renders_again_and_diffs_against_another_seed() {
    let dir = scratch("report");
    let out = dir.to_string_lossy().into_owned();
    let file = "scenarios/09-m0-naive-crash-duplicates.ron";
    let run = eosim(&["run", file, "--report", "--out", &out]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let text = stdout(&run);
    assert!(text.contains("why, step by step"), "{text}");
    assert!(text.contains("effect #2"), "{text}");
    assert!(
        text.lines()
            .filter(|l| !l.contains(&out))
            .all(|l| l.chars().count() <= 80),
        "80 columns, paths aside:\n{text}"
    );
    let latest = dir.join("latest");
    for f in [
        "index.html",
        "README.md",
        "events.jsonl",
        "explain.txt",
        "stats.json",
        "diagrams/ledger.svg",
        "diagrams/spacetime.svg",
        "diagrams/timeline.svg",
        "diagrams/counterexample.mmd",
        "diagrams/counterexample.svg",
        "diagrams/model.dot",
    ] {
        assert!(latest.join(f).is_file(), "{f} in runs/latest");
    }
    let first = latest.canonicalize().unwrap();
    let index = std::fs::read_to_string(first.join("index.html")).unwrap();
    std::fs::remove_file(first.join("index.html")).unwrap();
    let again = eosim(&["report", &first.to_string_lossy()]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let rendered = std::fs::read_to_string(first.join("index.html")).unwrap();
    assert_eq!(rendered, index, "re-rendering gives the same bytes");
    let mermaid = eosim(&["report", &first.to_string_lossy(), "--format", "mermaid"]);
    assert!(
        stdout(&mermaid).contains("autonumber"),
        "{}",
        stdout(&mermaid)
    );
    let dir_arg = first.to_string_lossy().into_owned();
    let windowed = eosim(&["report", &dir_arg, "--format", "svg", "--window", "0..5"]);
    let svg = stdout(&windowed);
    assert!(svg.contains("(t=0..") && svg.contains(" shown"), "{svg}");
    let bad = eosim(&["report", &dir_arg, "--window", "9..1"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    let mono = eosim(&[
        "report",
        &first.to_string_lossy(),
        "--format",
        "svg",
        "--theme",
        "mono",
    ]);
    assert!(stdout(&mono).starts_with("<svg") && !stdout(&mono).contains("#D55E00"));

    let other = eosim(&["run", file, "--seed", "1", "--report", "--out", &out]);
    assert_eq!(other.status.code(), Some(0));
    let second = latest.canonicalize().unwrap();
    assert_ne!(first, second, "latest points at the newest run");
    let same = eosim(&["diff", &first.to_string_lossy(), &first.to_string_lossy()]);
    assert_eq!(same.status.code(), Some(0));
    let page = format!("{out}/diff.html");
    let diff = eosim(&[
        "diff",
        &first.to_string_lossy(),
        &second.to_string_lossy(),
        "--html",
        &page,
    ]);
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    let said = stdout(&diff);
    assert!(
        said.starts_with("DIFFER  p1#") && said.contains(" end differently"),
        "the first message whose outcome differs: {said}"
    );
    assert!(
        said.contains("in both runs, aligned") && said.contains("\n  ≠ "),
        "aligned, differing rows marked: {said}"
    );
    let long =
        |l: &&str| l.chars().count() > 80 && !l.starts_with("  a = ") && !l.starts_with("  b = ");
    assert!(!said.lines().any(|l| long(&l)), "80 columns: {said}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(html.matches("<svg").count(), 2, "both pictures: {html}");

    let verdict = first.join("verdict.json");
    let json = std::fs::read_to_string(&verdict).unwrap();
    std::fs::write(&verdict, json.replace("\"digest\": \"", "\"digest\": \"0")).unwrap();
    let tampered = eosim(&["report", &first.to_string_lossy()]);
    assert_eq!(tampered.status.code(), Some(5), "{}", stderr(&tampered));
    assert_eq!(
        eosim(&["report", &format!("{out}/nothing")]).status.code(),
        Some(2)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `eosim new` writes a commented scenario that `check` accepts and `run`
/// passes at seed 0, and refuses to overwrite a file.
#[test]
fn new_writes_a_commented_scenario_that_checks_and_runs() {
    let dir = scratch("new");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mine.ron").to_string_lossy().into_owned();
    let args = ["new", &path, "--model", "M4", "--faults", "loss,dup,crash"];
    let made = eosim(&args);
    assert_eq!(made.status.code(), Some(0), "{}", stderr(&made));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("// mine: M4"), "{text}");
    assert!(text.contains("crash: [(ratio: Ratio(1, 10))]"), "{text}");
    assert_eq!(eosim(&["check", &path]).status.code(), Some(0));
    let run = eosim(&["run", &path, "--no-report"]);
    assert_eq!(run.status.code(), Some(0), "{}", stdout(&run));
    let again = eosim(&args);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    let typo = eosim(&[
        "new", &path, "--model", "M4", "--faults", "partiton", "--force",
    ]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(stderr(&typo).contains("did you mean `partition`?"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// With `--format json`, a shrunk failure adds a `shrunk` line naming the
/// minimal scenario and the sizes before and after.
#[test]
fn json_output_names_the_shrunk_scenario() {
    let dir = scratch("json-shrink");
    let out = dir.to_string_lossy().into_owned();
    let run = eosim(&[
        "run",
        "tests/fixtures/m2-claims-too-much.ron",
        "--format",
        "json",
        "--out",
        &out,
    ]);
    assert_eq!(run.status.code(), Some(1));
    let shrunk = stdout(&run)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["type"] == "shrunk")
        .expect("a shrunk line");
    let data = &shrunk["data"];
    assert_eq!(data["check"], "C3");
    assert!(Path::new(data["min"].as_str().unwrap()).is_file(), "{data}");
    assert!(data["after"]["events"].as_u64() < data["before"]["events"].as_u64());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The subcommands `eosim --help` lists (without `help`), so that a new
/// command is covered by the completion and man-page tests on its own.
fn subcommands() -> Vec<String> {
    let help = stdout(&eosim(&["--help"]));
    let names: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|n| n != "help")
        .collect();
    assert!(names.len() >= 12, "{help}");
    names
}

/// `program args` with `input` on stdin: `None` when the program is not
/// installed, else its exit status and stderr.
fn pipe_to(program: &str, args: &[&str], input: &str) -> Option<(bool, String)> {
    use std::io::Write as _;
    let mut child = Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    Some((out.status.success(), stderr(&out)))
}

#[test]
fn completions_for_every_shell_name_the_subcommands_and_their_flags() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = eosim(&["completions", shell]);
        let script = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        for name in subcommands() {
            assert!(script.contains(&name), "{shell}: no `{name}`");
        }
        // fish names long flags without their dashes (`-l seeds`).
        let flag = if shell == "fish" {
            "-l seeds"
        } else {
            "--seeds"
        };
        assert!(script.contains(flag), "{shell}: no `{flag}`");
        assert!(script.contains("eosim"), "{shell}");
    }
    let bash = stdout(&eosim(&["completions", "bash"]));
    if let Some((ok, err)) = pipe_to("bash", &["-n"], &bash) {
        assert!(ok && err.is_empty(), "bash -n rejects the script:\n{err}");
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = eosim(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("possible values"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    assert_eq!(eosim(&["completions"]).status.code(), Some(2));
}

#[test]
fn the_man_page_is_roff_and_names_every_subcommand() {
    let out = eosim(&["man"]);
    let page = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq") || page.starts_with(".TH"),
        "{page}"
    );
    assert!(page.lines().any(|l| l.starts_with(".TH eosim 1")), "{page}");
    assert!(
        page.contains(".SH NAME") && page.contains(".SH SYNOPSIS"),
        "{page}"
    );
    // roff escapes a hyphen as `\-`.
    let unescaped = page.replace("\\-", "-");
    for name in subcommands() {
        assert!(
            unescaped.contains(&format!("eosim-{name}(1)")),
            "no `{name}`:\n{page}"
        );
    }
    // groff (with preconv for the UTF-8 text, as `man` runs it) formats the
    // page without a warning, where groff is installed.
    if let Some((ok, err)) = pipe_to("groff", &["-k", "-man", "-Tutf8", "-z"], &page) {
        assert!(ok && err.is_empty(), "groff warns:\n{err}");
    }
}

#[test]
fn man_out_writes_a_page_per_subcommand() {
    let dir = scratch("man");
    let out = eosim(&["man", "--out", &dir.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let main = std::fs::read_to_string(dir.join("eosim.1")).unwrap();
    assert_eq!(
        main,
        stdout(&eosim(&["man"])),
        "eosim.1 is what `eosim man` prints"
    );
    for name in subcommands() {
        let page = std::fs::read_to_string(dir.join(format!("eosim-{name}.1"))).unwrap();
        let th = format!(".TH eosim-{name} 1");
        assert!(page.lines().any(|l| l.starts_with(&th)), "{name}:\n{page}");
        assert!(
            stdout(&out).contains(&format!("eosim-{name}.1")),
            "{}",
            stdout(&out)
        );
    }
    let sweep = std::fs::read_to_string(dir.join("eosim-sweep.1")).unwrap();
    assert!(sweep.contains("\\-\\-seeds"), "{sweep}");
    let run = std::fs::read_to_string(dir.join("eosim-run.1")).unwrap();
    assert!(
        run.contains("EOSIM_SEED"),
        "the environment is documented:\n{run}"
    );
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| n.ends_with(".1") && !n.starts_with('.')),
        "no temporary files are left: {names:?}"
    );
    assert!(!names.contains(&"eosim-help.1".to_string()), "{names:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_scenario_that_may_outgrow_the_memory_budget_is_refused_with_the_knob() {
    let too_many = "tests/malformed/32-too-many-events-to-keep.ron";
    let o = eosim(&["check", too_many]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("above the 8 GiB budget"), "{err}");
    assert!(err.contains("lower limits.events_max to"), "{err}");
    assert!(err.contains("--memory-budget"), "{err}");
    let o = eosim(&["--memory-budget", "1T", "check", too_many]);
    assert_eq!(o.status.code(), Some(0), "a larger budget admits it");

    let fits_by_default = "tests/large/m2-too-large-to-draw.ron";
    assert_eq!(eosim(&["check", fits_by_default]).status.code(), Some(0));
    let o = Command::new(env!("CARGO_BIN_EXE_eosim"))
        .args(["check", fits_by_default])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("EOSIM_MEMORY_BUDGET", "100M")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(4), "the environment sets the budget");
    assert!(
        stderr(&o).contains("too many events to keep"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_run_too_large_to_draw_keeps_its_verdict_and_says_why_there_is_no_report() {
    let dir = scratch("too-large-to-draw");
    let out = dir.to_string_lossy().into_owned();
    let scenario = "tests/large/m2-too-large-to-draw.ron";
    let o = eosim(&["--memory-budget", "200M", "run", scenario, "--out", &out]);
    assert_eq!(o.status.code(), Some(1), "the unexpected duplicates stand");
    assert!(
        stdout(&o).contains("C3  no-duplicate-effect"),
        "{}",
        stdout(&o)
    );
    let err = stderr(&o);
    assert!(err.contains("no run folder and no causal story"), "{err}");
    assert!(err.contains("above the 200 MiB memory budget"), "{err}");
    assert!(!stdout(&o).contains("why, step by step"), "no story told");
    assert!(!dir.exists(), "no run folder written");
}

#[test]
fn a_run_expected_to_break_that_is_too_large_to_tell_keeps_its_verdict() {
    // The same run, now expected to break: it is recorded as it runs, and
    // the recording is dropped once it passes the budget.
    let (dir, file) = scratch_copy(
        "too-large-to-tell",
        "tests/large/m2-too-large-to-draw.ron",
        "expected.ron",
    );
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("expect: Pass", "expect: Violates([C2, C3, C4, C8])");
    std::fs::write(&file, text).unwrap();
    let o = eosim(&["--memory-budget", "200M", "run", &file, "--no-report"]);
    // Expected violations, in a run cut by its events bound.
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert!(stdout(&o).contains("INCONCLUSIVE"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("EXPECTED  C3  no-duplicate-effect   4183×"),
        "{}",
        stdout(&o)
    );
    let err = stderr(&o);
    assert!(err.contains("no run folder and no causal story"), "{err}");
    assert!(err.contains("the run has 200,000 trace events"), "{err}");
    assert!(!stdout(&o).contains("why, step by step"), "no story told");
    let o = eosim(&["run", &file, "--no-report"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stdout(&o).contains("why, step by step"), "{}", stdout(&o));
    std::fs::remove_dir_all(dir).unwrap();
}

/// The run folder a `run` printed.
fn run_folder_of(run: &Output) -> String {
    stdout(run)
        .lines()
        .find_map(|l| l.trim().strip_prefix("run folder "))
        .unwrap_or_else(|| panic!("no run folder in:\n{}", stdout(run)))
        .to_string()
}

/// The text of `said` from the line starting with `label` (trimmed) up to
/// the next line that starts with a different label.
fn section(said: &str, label: &str) -> String {
    let mut lines = said
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(label));
    let Some(first) = lines.next() else {
        return String::new();
    };
    let rest = lines.take_while(|l| l.starts_with("                 "));
    std::iter::once(first)
        .chain(rest)
        .collect::<Vec<_>>()
        .join("\n")
}

/// `replay` vouches for every claim a run folder makes (issue 14): a change
/// to any field of `verdict.json`, to `repro.txt`, to a report file that
/// states results or to `min/scenario.ron` is a difference (exit 5) that
/// names the file and the field, expected and found; what it cannot vouch
/// for, it names.
#[test]
fn replay_vouches_for_every_claim_a_run_folder_makes() {
    let dir = scratch("vouch");
    let out = dir.to_string_lossy().into_owned();
    let fixture = "tests/fixtures/m2-claims-too-much.ron";
    let run = eosim(&["run", fixture, "--seed", "4", "--out", &out]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let folder = run_folder_of(&run);
    let path = |f: &str| Path::new(&folder).join(f);
    std::fs::write(path("notes.txt"), "my notes\n").unwrap();
    let clean = eosim(&["replay", &folder]);
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
    let said = stdout(&clean);
    assert!(said.contains("REPLAY OK"), "{said}");
    let vouched = section(&said, "vouched for");
    for f in [
        "scenario.ron",
        "verdict.json",
        "repro.txt",
        "events.txt",
        "events.jsonl",
        "explain.txt",
        "stats.json",
        "README.md",
        "min/scenario.ron",
    ] {
        assert!(vouched.contains(f), "{f} vouched for:\n{said}");
    }
    assert!(
        section(&said, "not vouched for").contains("notes.txt"),
        "{said}"
    );

    let verdict_text = std::fs::read_to_string(path("verdict.json")).unwrap();
    let verdict: serde_json::Value = serde_json::from_str(&verdict_text).unwrap();
    let failed = verdict["checks"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["result"] == "fail")
        .unwrap();
    let check = verdict["checks"][failed]["check"]
        .as_str()
        .unwrap()
        .to_string();
    type Tamper = Box<dyn Fn(&mut serde_json::Value)>;
    let tampers: Vec<(&str, Tamper)> = vec![
        ("verdict", Box::new(|v| v["verdict"] = "pass".into())),
        ("exit_code", Box::new(|v| v["exit_code"] = 0.into())),
        (
            &check,
            Box::new(move |v| v["checks"][failed]["result"] = "pass".into()),
        ),
        (
            "violations",
            Box::new(|v| v["violations"][0]["subject"] = "p1#99".into()),
        ),
        (
            "params",
            Box::new(|v| {
                let p = v["params"]
                    .as_str()
                    .unwrap()
                    .replace("messages: 5", "messages: 4");
                v["params"] = p.into();
            }),
        ),
        ("schema", Box::new(|v| v["schema"] = 2.into())),
        ("version", Box::new(|v| v["version"] = "0.0.9".into())),
    ];
    for (field, tamper) in &tampers {
        let mut v = verdict.clone();
        tamper(&mut v);
        assert_ne!(v, verdict, "{field} was tampered with");
        std::fs::write(
            path("verdict.json"),
            serde_json::to_string_pretty(&v).unwrap(),
        )
        .unwrap();
        let replay = eosim(&["replay", &folder]);
        let err = stderr(&replay);
        assert_eq!(replay.status.code(), Some(5), "{field}: {err}");
        assert!(
            err.contains("verdict.json") && err.contains(field),
            "{field} named: {err}"
        );
        assert!(err.contains("expected") && err.contains("found"), "{err}");
    }
    std::fs::write(path("verdict.json"), &verdict_text).unwrap();

    let tamper_file = |name: &str, from: &str, to: &str| {
        let original = std::fs::read_to_string(path(name)).unwrap();
        assert!(original.contains(from), "{from} in {name}");
        std::fs::write(path(name), original.replacen(from, to, 1)).unwrap();
        let replay = eosim(&["replay", &folder]);
        std::fs::write(path(name), original).unwrap();
        replay
    };
    for (name, from, to) in [
        ("repro.txt", "--seed 4", "--seed 5"),
        ("stats.json", "\"delivered\": ", "\"delivered\": 1"),
        ("explain.txt", "Then:", "Hence:"),
        ("events.jsonl", "\"kind\":\"send\"", "\"kind\":\"lost\""),
        ("min/scenario.ron", "It violates C3", "It violates C1"),
    ] {
        let replay = tamper_file(name, from, to);
        let err = stderr(&replay);
        assert_eq!(replay.status.code(), Some(5), "{name}: {err}");
        assert!(err.contains(name), "{name} named: {err}");
    }
    let picture = tamper_file("index.html", "<title>", "<title>PASS ");
    assert_eq!(picture.status.code(), Some(0), "{}", stderr(&picture));
    assert!(
        section(&stdout(&picture), "not vouched for").contains("index.html"),
        "{}",
        stdout(&picture)
    );
    let again = eosim(&["replay", &folder]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A run folder whose scenario is not UTF-8 is refused by `replay` as
/// `check` and `run` refuse the file: exit 4, with the byte's position.
#[test]
fn replay_of_a_folder_with_a_non_utf8_scenario_names_the_byte() {
    let dir = scratch("replay-latin1");
    let out = dir.to_string_lossy().into_owned();
    let fixture = "tests/fixtures/m2-claims-too-much.ron";
    let run = eosim(&["run", fixture, "--seed", "4", "--out", &out, "--no-shrink"]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let folder = run_folder_of(&run);
    let scenario = Path::new(&folder).join("scenario.ron");
    std::fs::write(&scenario, b"Scenario(name: \"caf\xe9\")").unwrap();
    let check = eosim(&["check", &scenario.to_string_lossy()]);
    assert_eq!(check.status.code(), Some(4), "{}", stderr(&check));
    let replay = eosim(&["replay", &folder]);
    let err = stderr(&replay);
    assert_eq!(replay.status.code(), Some(4), "{err}");
    assert!(err.contains("invalid byte at offset 19"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The number just before `unit` in `text`.
fn count_before(text: &str, unit: &str) -> u64 {
    let at = text
        .find(unit)
        .unwrap_or_else(|| panic!("no `{unit}` in:\n{text}"));
    let digits: String = text[..at]
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no count before `{unit}` in:\n{text}"))
}

/// Every event count shown agrees with the files (issue 14): `replay`'s
/// events are `stats.json`'s `events`, its trace events are the lines of
/// `events.txt` (which has no header) and `stats.json`'s `trace_events`;
/// `diff --fix` runs a lesson beside the catalogue's remedy for its model:
/// both run folders are left, the checks the first run broke hold in the
/// second, and the message that broke is shown aligned in both.
#[test]
fn diff_fix_shows_a_lesson_beside_its_remedy() {
    let dir = scratch("fix");
    let out = dir.to_string_lossy().into_owned();
    let page = format!("{out}/fix.html");
    let file = "scenarios/13-m3-crash-before-record-duplicates.ron";
    let fix = eosim(&["diff", "--fix", file, "--out", &out, "--html", &page]);
    assert_eq!(fix.status.code(), Some(0), "{}", stderr(&fix));
    let said = stdout(&fix);
    assert!(said.starts_with("FIX  M3 → M4 · seed 0"), "{said}");
    let words = said.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("consumer-1 crashes at after-effect-before-offset-commit instead"),
        "the moved crash is said: {said}"
    );
    assert!(
        said.contains("C3 no-duplicate-effect     a VIOLATED → b held      claimed by M4"),
        "{said}"
    );
    assert!(
        said.contains("DIFFER  p1#9: applied 2× in a, 1× in b"),
        "{said}"
    );
    let effect_two = said
        .lines()
        .find(|l| l.contains(" effect #2 "))
        .unwrap_or_default();
    assert!(
        effect_two.starts_with("  ≠ consumer-1") && effect_two.ends_with("—"),
        "the second effect is in a only: {said}"
    );
    let long =
        |l: &&str| l.chars().count() > 80 && !l.starts_with("  a = ") && !l.starts_with("  b = ");
    assert!(!said.lines().any(|l| long(&l)), "80 columns: {said}");
    for name in [
        "m3-crash-before-record-duplicates",
        "m3-crash-before-record-duplicates-fixed-m4",
    ] {
        let runs = std::fs::read_dir(dir.join(name)).unwrap().count();
        assert_eq!(runs, 1, "one run folder under {name}");
    }
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("<tr class=\"differs\">"), "{html}");

    let no_fix = eosim(&["diff", "--fix", "scenarios/17-m4-new-id-defeats-inbox.ron"]);
    assert_eq!(no_fix.status.code(), Some(2));
    assert!(
        stderr(&no_fix).contains("its remedy is"),
        "{}",
        stderr(&no_fix)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `diff` counts the lines of `events.jsonl`, and of them the trace events.
#[test]
fn replay_events_txt_and_diff_agree_on_event_counts() {
    let dir = scratch("counts");
    let out = dir.to_string_lossy().into_owned();
    let file = "scenarios/05-m2-lost-ack-duplicates.ron";
    let run = eosim(&["run", file, "--report", "--out", &out]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let folder = run_folder_of(&run);
    let lines = |name: &str| {
        std::fs::read_to_string(Path::new(&folder).join(name))
            .unwrap()
            .lines()
            .count() as u64
    };
    let stats: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(&folder).join("stats.json")).unwrap(),
    )
    .unwrap();
    let replay = eosim(&["replay", &folder]);
    assert_eq!(replay.status.code(), Some(0), "{}", stderr(&replay));
    let said = stdout(&replay);
    let events = count_before(&said, " events (");
    let trace = count_before(&said, " trace events");
    assert_eq!(trace, lines("events.txt"), "{said}");
    assert_eq!(stats["trace_events"].as_u64(), Some(trace), "{stats}");
    assert_eq!(stats["events"].as_u64(), Some(events), "{stats}");
    assert!(events < trace, "sends are trace events, not events: {said}");
    let by_file = eosim(&["replay", file]);
    let said_by_file = stdout(&by_file);
    assert_eq!(
        count_before(&said_by_file, " events ("),
        events,
        "{said_by_file}"
    );
    assert_eq!(
        count_before(&said_by_file, " trace events"),
        trace,
        "{said_by_file}"
    );
    let diff = eosim(&["diff", &folder, &folder]);
    assert_eq!(diff.status.code(), Some(0), "{}", stderr(&diff));
    let said = stdout(&diff);
    assert_eq!(
        count_before(&said, " steps"),
        lines("events.jsonl"),
        "{said}"
    );
    assert_eq!(count_before(&said, " trace events"), trace, "{said}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_hostile_name_gets_a_short_error_in_both_formats() {
    let dir = scratch("hostile-names");
    std::fs::create_dir_all(&dir).unwrap();
    let long = "a".repeat(200_000);
    let files = [
        format!(r#"Scenario(name: "{long}", model: M2, expect: Pass)"#),
        format!(r#"Scenario(name: "x", model: M{long}, expect: Pass)"#),
        format!(
            r#"Scenario(name: "x", model: M2, faults: (crash: [(actor: "{long}", ratio: Ratio(1, 2))]), expect: Pass)"#
        ),
        format!(r#"Scenario(name: "x", model: M2, expect: Violates([C{long}]))"#),
    ];
    for (i, text) in files.iter().enumerate() {
        let file = dir.join(format!("{i}.ron"));
        std::fs::write(&file, text).unwrap();
        for format in ["human", "json"] {
            let o = eosim(&["check", &file.to_string_lossy(), "--format", format]);
            assert_eq!(o.status.code(), Some(4), "{i} {format}");
            let said = o.stdout.len() + o.stderr.len();
            assert!(said < 4096, "{i} {format}: {said} bytes of error");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A Ctrl-C while a finished sweep shrinks its failures stops the
/// shrinking, which says it was cut short, instead of being ignored.
#[cfg(unix)]
#[test]
fn a_ctrl_c_during_a_sweeps_shrinking_cuts_it_short() {
    use std::io::BufRead;
    let dir = scratch("interrupt-shrinking");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("lost-acks.ron").to_string_lossy().into_owned();
    // Long enough to shrink for minutes, short enough to run in a second.
    let scenario = r#"Scenario(
        name: "lost-acks",
        model: M2,
        workload: (messages: 2000, interval_us: 10),
        consumer: (law_probe: false),
        network: (links: [(from: "broker", to: "producer-1", loss: Ratio(1, 3))]),
        expect: Pass,
    )"#;
    std::fs::write(&file, scenario).unwrap();
    let runs = dir.join("runs").to_string_lossy().into_owned();
    let mut child = spawn_sweep(
        &[
            &file,
            "--seeds",
            "0..1",
            "--jobs",
            "1",
            "--progress",
            "none",
            "--out",
            &runs,
        ],
        std::process::Stdio::null(),
    );
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("seeds in") {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "{seen}");
        seen.push_str(&line);
    }
    ctrl_c(&child);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    wait_at_most(&mut child, 300);
    assert!(rest.contains("search cut short"), "{seen}{rest}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `eosim explore` of lesson 09 with one message, quietly, and `extra`.
fn explore_lesson_09(extra: &[&str]) -> std::process::Output {
    let lesson = "scenarios/09-m0-naive-crash-duplicates.ron";
    let args = ["explore", lesson, "--messages", "1", "--progress", "none"];
    eosim(&[&args[..], extra].concat())
}

/// The `explore_end` line: the last of `--format json`'s output.
fn explore_end(out: &str) -> serde_json::Value {
    let last = out.lines().last().expect("an explore_end line");
    serde_json::from_str(last).expect("JSON")
}

#[test]
fn explore_writes_shortest_counterexamples_that_run_reproduces() {
    let out = scratch("explore-counterexample");
    let o = explore_lesson_09(&["--out", out.to_str().unwrap()]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}{}", stderr(&o));
    assert!(
        text.contains("EXPECTED C3 no-duplicate-effect in 11 events"),
        "{text}"
    );
    assert!(text.contains("hold on every execution"), "{text}");
    // The lesson's network loses and duplicates nothing: the verdict
    // does not let its drop and duplicate bounds pass for coverage.
    let verdict = text.replace("\n  ", " ");
    assert!(
        verdict.contains(
            "crashes ≤ 1, drops ≤ 2 (no execution had one), duplicates ≤ 1 (no execution had one)"
        ),
        "{text}"
    );
    let folder = std::fs::read_dir(out.join("m0-naive-crash-duplicates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("-explore-C3"))
        .expect("a run folder for C3");
    assert!(folder.join("index.html").is_file());
    let min = folder.join("min/scenario.ron");
    let run = eosim(&["run", min.to_str().unwrap(), "--no-report"]);
    let shown = stdout(&run);
    assert_eq!(run.status.code(), Some(0), "{shown}");
    assert!(shown.contains("EXPECTED  C3"), "{shown}");
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn explore_stopped_by_an_unexpected_violation_claims_nothing_past_it() {
    let file = "tests/fixtures/window-misses-a-late-retry.ron";
    let args = ["explore", file, "--progress", "none", "--no-report"];
    let human = eosim(&args);
    let text = stdout(&human);
    assert_eq!(human.status.code(), Some(1), "{text}{}", stderr(&human));
    assert!(text.contains("FAIL C3"), "{text}");
    // The search stopped at C3: C4, which this file expects, may break
    // on an execution it did not reach.
    assert!(!text.contains("MISSING"), "{text}");
    let json = eosim(&[&args[..], &["--format", "json"]].concat());
    let out = stdout(&json);
    let end = explore_end(&out);
    assert_eq!(end["complete"], false, "{out}");
    assert_eq!(end["missing"], serde_json::json!([]), "{out}");
    assert_eq!(end["checks"]["C3"]["status"], "violated", "{out}");
    assert_eq!(end["checks"]["C4"]["status"], "unbroken_so_far", "{out}");
    let held = end["checks"].as_object().unwrap().values();
    assert!(held.into_iter().all(|c| c["status"] != "held"), "{out}");
}

#[test]
fn explore_end_carries_the_exit_code_the_command_returns() {
    // A counterexample that cannot be written is an error (exit 2): the
    // JSON end says so too, not the search's own 0.
    let o = explore_lesson_09(&["--format", "json", "--out", "/dev/null/cannot-be-a-folder"]);
    assert_eq!(o.status.code(), Some(2));
    let text = stdout(&o);
    let end = explore_end(&text);
    assert_eq!(end["exit_code"], 2, "{text}");
}

#[test]
fn explore_names_the_random_faults_it_does_not_explore_in_every_verdict() {
    let file = "tests/fixtures/m6-random-expiry.ron";
    let args = ["explore", file, "--progress", "none", "--no-report"];
    let human = eosim(&args);
    let text = stdout(&human);
    assert!(
        text.contains("random expiries not explored: every verdict below leaves them out"),
        "{text}"
    );
    let verdict = text
        .lines()
        .skip_while(|l| !l.contains("hold on every"))
        .collect::<String>();
    assert!(verdict.contains("random expiries not"), "{text}");
    assert!(
        !text.contains("random pauses"),
        "only the faults it has: {text}"
    );
    let json = eosim(&[&args[..], &["--format", "json"]].concat());
    let out = stdout(&json);
    assert!(stderr(&json).is_empty(), "--progress none is silent");
    let end = explore_end(&out);
    assert_eq!(
        end["bounds"]["not_explored"],
        serde_json::json!(["random expiries"]),
        "{out}"
    );
}

#[test]
fn explore_json_lists_a_check_broken_before_any_execution_ended() {
    // The law probe breaks C14 and C15 on a state well before any
    // execution ends, and the search stops there (they are unexpected).
    let o = eosim(&[
        "explore",
        "tests/fixtures/m2-claims-too-much.ron",
        "--messages",
        "1",
        "--no-report",
        "--progress",
        "none",
        "--format",
        "json",
    ]);
    let out = stdout(&o);
    let end = explore_end(&out);
    assert_eq!(end["ends"]["quiet"], 0, "{out}");
    let found: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("\"counterexample\""))
        .collect();
    assert!(!found.is_empty(), "{out}");
    for line in found {
        let found: serde_json::Value = serde_json::from_str(line).unwrap();
        let check = found["check"].as_str().unwrap();
        assert_eq!(end["checks"][check]["status"], "violated", "{out}");
    }
}

#[test]
fn explore_refuses_a_copies_bound_that_leaves_out_every_send() {
    let o = eosim(&[
        "explore",
        "scenarios/09-m0-naive-crash-duplicates.ron",
        "--copies",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--copies"), "{}", stderr(&o));
}

#[test]
fn explore_cut_by_a_bound_is_inconclusive_and_says_what_it_covered() {
    let o = eosim(&[
        "explore",
        "scenarios/10-m0-atomic-holds.ron",
        "--messages",
        "1",
        "--states",
        "50",
        "--progress",
        "none",
        "--no-report",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let text = stdout(&o);
    let end = explore_end(&text);
    assert_eq!(end["type"], "explore_end");
    assert_eq!(end["complete"], false);
    assert_eq!(end["states"], 50);
    assert_eq!(end["cut"], "the state bound");
    assert_eq!(end["exit_code"], 3);
}

#[test]
fn explore_cut_early_claims_no_missing_violation_and_no_unused_fault() {
    // Twenty states reach neither lesson 09's duplicate effect nor its
    // crash: a cut search says neither that C3 breaks on no execution nor
    // that no execution could crash.
    let o = explore_lesson_09(&["--states", "20", "--no-report"]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(3), "{text}");
    assert!(text.contains("INCONCLUSIVE"), "{text}");
    assert!(!text.contains("MISSING"), "{text}");
    assert!(!text.contains("no execution had"), "{text}");
    let json = explore_lesson_09(&["--states", "20", "--no-report", "--format", "json"]);
    let out = stdout(&json);
    assert_eq!(explore_end(&out)["missing"], serde_json::json!([]), "{out}");
}

/// A long run's report drawn with `--window` records the states of the
/// window it draws: the inspector knows every actor at the window's first
/// step, and events inside it carry states (they were stale before: the
/// states of the default window, at the run's start).
#[test]
fn a_windowed_report_records_the_states_of_its_window() {
    let (dir, file) = scratch_copy(
        "window-states",
        "scenarios/09-m0-naive-crash-duplicates.ron",
        "long.ron",
    );
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("messages: 10", "messages: 1000")).unwrap();
    let out = dir.join("runs").to_string_lossy().into_owned();
    let run = eosim(&["run", &file, "--report", "--out", &out]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let folder = run_folder_of(&run);
    let page = eosim(&[
        "report", &folder, "--window", "400..420", "--format", "html",
    ]);
    assert_eq!(page.status.code(), Some(0), "{}", stderr(&page));
    let html = stdout(&page);
    let json = html
        .split("<script type=\"application/json\" id=\"run-data\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .unwrap()
        .replace("<\\/", "</");
    let data: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        data["first"].as_u64().unwrap() > 0,
        "a window inside the run"
    );
    let initial = data["initial"].as_object().unwrap();
    for actor in ["producer-1", "broker", "consumer-1", "recovery"] {
        assert!(
            initial.contains_key(actor),
            "{actor} known at the window's start"
        );
    }
    let with_states = data["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["state"].as_object().is_some_and(|s| !s.is_empty()))
        .count();
    assert!(with_states > 0, "states inside the window");
    std::fs::remove_dir_all(&dir).unwrap();
}
