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
/// (none if there is no file). Lines that are not a seed, a file that is
/// not UTF-8 (its other lines still count) and a file that cannot be read
/// are reported on stderr.
pub fn read(scenario_file: &str) -> Vec<u64> {
    let file = path(scenario_file);
    let bytes = match std::fs::read(&file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            errln!(
                "warning: cannot read {}: {e}; its seeds are not replayed",
                file.display()
            );
            return Vec::new();
        }
    };
    if let Err(e) = std::str::from_utf8(&bytes) {
        errln!(
            "warning: {} is not UTF-8 (invalid byte at offset {}); the seeds on its other \
             lines are replayed",
            file.display(),
            e.valid_up_to()
        );
    }
    seeds_in(&String::from_utf8_lossy(&bytes), &file)
}

/// The seeds in the text of a regressions file, once each, in order.
fn seeds_in(text: &str, file: &std::path::Path) -> Vec<u64> {
    let mut seeds = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let seed = line.split('#').next().unwrap_or("").trim();
        if seed.is_empty() {
            continue;
        }
        match seed.parse() {
            Ok(s) if !seeds.contains(&s) => seeds.push(s),
            Ok(_) => {}
            Err(_) => errln!(
                "warning: {}:{}: `{seed}` is not a seed; skipped",
                file.display(),
                i + 1
            ),
        }
    }
    seeds
}

/// Append the seeds not yet in the file, each with its comment; returns
/// how many were added. The file is locked while it is read and appended
/// to, so two sweeps saving at once both keep their seeds.
///
/// # Errors
/// A readable message if the file cannot be opened, locked or written.
pub fn append(scenario_file: &str, entries: &[(u64, String)]) -> Result<usize, String> {
    use std::io::{Read as _, Write as _};
    if entries.is_empty() {
        return Ok(0);
    }
    let file = path(scenario_file);
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", file.display());
    let mut handle = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(&file)
        .map_err(fail)?;
    handle.lock().map_err(fail)?;
    let mut text = String::new();
    handle.read_to_string(&mut text).map_err(fail)?;
    let mut known = seeds_in(&text, &file);
    let mut added = String::new();
    if !text.is_empty() && !text.ends_with('\n') {
        added.push('\n');
    }
    let mut count = 0;
    for (seed, comment) in entries {
        if !known.contains(seed) {
            known.push(*seed);
            added.push_str(&format!("{seed}  # {comment}\n"));
            count += 1;
        }
    }
    if count > 0 {
        handle.write_all(added.as_bytes()).map_err(fail)?;
    }
    Ok(count)
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

    #[test]
    fn a_file_that_is_not_utf8_keeps_its_readable_seeds() {
        let dir = std::env::temp_dir().join(format!("eosim-regr-utf8-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let scenario = dir.join("z.ron").to_string_lossy().into_owned();
        std::fs::write(path(&scenario), b"3  # C3\n\xff\n5  # caf\xe9\n").unwrap();
        assert_eq!(read(&scenario), [3, 5]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sweeps_saving_at_once_keep_every_seed() {
        let dir = std::env::temp_dir().join(format!("eosim-regr-race-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let scenario = dir.join("y.ron").to_string_lossy().into_owned();
        // Every writer saves the same eight seeds: with the lock, each seed
        // is written once, by whichever writer comes first.
        let entries: Vec<(u64, String)> = (0..8).map(|s| (s, "C3".to_string())).collect();
        let writers: Vec<_> = (0..8)
            .map(|_| {
                let (scenario, entries) = (scenario.clone(), entries.clone());
                std::thread::spawn(move || append(&scenario, &entries).unwrap())
            })
            .collect();
        let added: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
        assert_eq!(added, 8);
        let text = std::fs::read_to_string(path(&scenario)).unwrap();
        assert_eq!(text.lines().count(), 8, "{text}");
        assert_eq!(append(&scenario, &[]).unwrap(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
