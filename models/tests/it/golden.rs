//! Golden event traces: two runs pinned event by event. `UPDATE_GOLDEN=1`
//! rewrites the files; review their diff like code.

use models::run;
use models::scenario::Scenario;

use crate::root;

fn golden(file: &str, seed: u64) {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let s = Scenario::parse(file, &text).unwrap();
    let report = run::run(&s, seed, true);
    let st = report.end.stats;
    let mut out = format!(
        "# {file} seed {seed}\n# digest {} · end {:?} at {} · delivered {} · dropped {} · timers {} · crashes {}\n",
        report.end.digest,
        report.end.reason,
        report.end.time,
        st.delivered,
        st.dropped,
        st.timers,
        st.crashes
    );
    for e in &report.trace {
        out.push_str(&e.line(&report.names));
        out.push('\n');
    }
    let name = std::path::Path::new(file)
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let path = root().join(format!("models/tests/golden/{name}.seed{seed}.trace"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &out).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing; run with UPDATE_GOLDEN=1", path.display()));
    if expected != out {
        let first = expected.lines().zip(out.lines()).position(|(a, b)| a != b);
        panic!(
            "{file} seed {seed} differs from its golden trace at line {first:?}; rerun with UPDATE_GOLDEN=1 if intended"
        );
    }
}

#[test]
fn golden_trace_of_m2_crash_after_effect() {
    golden("scenarios/06-m2-crash-after-effect.ron", 0);
}

#[test]
fn golden_trace_of_m0_naive_crash_duplicates() {
    golden("scenarios/09-m0-naive-crash-duplicates.ron", 0);
}
