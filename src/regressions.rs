//! Regression seeds: `<scenario>.regressions` beside a scenario file holds
//! one seed per line with a comment on what it showed. A sweep appends the
//! smallest example of each unexpected failure; `run` and `sweep` replay
//! the file's seeds first. Commit these files.

use std::path::PathBuf;

/// The regressions file of a scenario file (`x.ron` → `x.regressions`).
pub fn path(scenario_file: &str) -> PathBuf {
    PathBuf::from(scenario_file).with_extension("regressions")
}

/// The seeds in the regressions file of `scenario_file`, in file order
/// (none if there is no file). Lines that are not a seed are reported on
/// stderr and skipped.
pub fn read(scenario_file: &str) -> Vec<u64> {
    let file = path(scenario_file);
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Vec::new();
    };
    let mut seeds = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let seed = line.split('#').next().unwrap_or("").trim();
        if seed.is_empty() {
            continue;
        }
        match seed.parse() {
            Ok(s) if !seeds.contains(&s) => seeds.push(s),
            Ok(_) => {}
            Err(_) => eprintln!(
                "warning: {}:{}: `{seed}` is not a seed; skipped",
                file.display(),
                i + 1
            ),
        }
    }
    seeds
}

/// Append the seeds not yet in the file, each with its comment; returns
/// how many were added. The file is rewritten through a temporary file.
///
/// # Errors
/// A readable message if the file cannot be written.
pub fn append(scenario_file: &str, entries: &[(u64, String)]) -> Result<usize, String> {
    let mut known = read(scenario_file);
    let mut new: Vec<&(u64, String)> = Vec::new();
    for entry in entries {
        if !known.contains(&entry.0) {
            known.push(entry.0);
            new.push(entry);
        }
    }
    if new.is_empty() {
        return Ok(0);
    }
    let file = path(scenario_file);
    let mut text = std::fs::read_to_string(&file).unwrap_or_default();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    for (seed, comment) in &new {
        text.push_str(&format!("{seed}  # {comment}\n"));
    }
    let tmp = file.with_extension("regressions.tmp");
    std::fs::write(&tmp, text).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &file).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    Ok(new.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_appended_once_and_read_back_in_order() {
        let dir = std::env::temp_dir().join(format!("eosim-regressions-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let scenario = dir.join("x.ron").to_string_lossy().into_owned();
        assert!(read(&scenario).is_empty());
        assert_eq!(
            append(&scenario, &[(7, "C3".into()), (3, "C1".into())]).unwrap(),
            2
        );
        assert_eq!(
            append(
                &scenario,
                &[(3, "again".into()), (9, "C8".into()), (9, "C3".into())]
            )
            .unwrap(),
            1
        );
        assert_eq!(read(&scenario), [7, 3, 9]);
        let text = std::fs::read_to_string(path(&scenario)).unwrap();
        assert!(text.starts_with("7  # C3\n"), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
