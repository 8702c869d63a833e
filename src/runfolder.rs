//! Run folders: what a failing run leaves behind so that it can be replayed,
//! proved the same run, and understood. `runs/<scenario>/<UTC time>-s<seed>/`
//! holds the resolved `scenario.ron`, `repro.txt`, `verdict.json`, the event
//! trace `events.txt`, and the teaching report of [`reports::bundle`]:
//! `index.html`, `README.md`, `events.jsonl`, `explain.txt`, `stats.json`
//! and `diagrams/`. The folder is written under a temporary name and renamed
//! when complete, so a reader never finds half of one; `runs/latest` then
//! points at it.

use std::path::{Path, PathBuf};

use models::record::Recording;
use models::run::RunReport;
use models::scenario::Scenario;
use models::scenario::memory::TooLarge;
use reports::svg::Theme;

/// The files of a run folder.
pub const SCENARIO: &str = "scenario.ron";
/// The reproduce line and key.
pub const REPRO: &str = "repro.txt";
/// The machine summary.
pub const VERDICT: &str = "verdict.json";
/// One line per event.
pub const EVENTS: &str = "events.txt";

/// Event files (`events.txt`, `events.jsonl`) larger than this are written
/// gzip-compressed, as `events.txt.gz` and `events.jsonl.gz`: a run of
/// 10,000 messages keeps its folder in tens of megabytes, not hundreds,
/// while every lesson's files stay plain text for an editor or `grep`.
pub const COMPRESS_OVER: usize = 16 << 20;

/// The files a long run may write compressed.
const COMPRESSIBLE: [&str; 2] = [EVENTS, reports::bundle::EVENTS_JSONL];

/// The name of `name` compressed.
pub fn gz(name: &str) -> String {
    format!("{name}.gz")
}

/// Record `scenario` at `seed` for its run folder: every actor state of a
/// short run, else those of the window the report's pictures show.
///
/// # Errors
/// [`TooLarge`] if its report would not fit the memory budget.
pub fn record(scenario: &Scenario, seed: u64) -> Result<Recording, TooLarge> {
    record_window(scenario, seed, None)
}

/// Like [`record`], with the states of the events in `span` (simulated
/// microseconds) when given: what `eosim report --window` draws.
///
/// # Errors
/// [`TooLarge`] if its report would not fit the memory budget.
pub fn record_window(
    scenario: &Scenario,
    seed: u64,
    span: Option<(u64, u64)>,
) -> Result<Recording, TooLarge> {
    models::record::record_for_report(scenario, seed, reports::bundle::FULL_STATES_MAX, |bare| {
        reports::bundle::shown_window_in(bare, span)
    })
}

/// Write the run folder of the recorded run `rec` under
/// `out/<scenario>/<UTC time>-s<seed>` and point `out/latest` at it;
/// returns its path.
///
/// # Errors
/// A readable message if a file cannot be written.
pub fn write(
    out: &str,
    scenario: &Scenario,
    rec: &Recording,
    file: &str,
) -> Result<PathBuf, String> {
    let name = format!("{}-s{}", utc_stamp(), rec.report.seed);
    let dir = unused(Path::new(out).join(scenario.name()).join(name));
    write_at(&dir, scenario, rec, file)?;
    link_latest(Path::new(out), &dir);
    Ok(dir)
}

/// Point `out/latest` at `dir` (relative, so the folder can be moved);
/// a failure only warns: the run folder itself is complete.
fn link_latest(out: &Path, dir: &Path) {
    let Ok(target) = dir.strip_prefix(out) else {
        return;
    };
    let latest = out.join("latest");
    let tmp = out.join(".latest.partial");
    let _ = std::fs::remove_file(&tmp);
    #[cfg(unix)]
    let linked =
        std::os::unix::fs::symlink(target, &tmp).and_then(|()| std::fs::rename(&tmp, &latest));
    #[cfg(not(unix))]
    let linked: std::io::Result<()> = Ok(());
    if let Err(e) = linked {
        errln!(
            "warning: cannot point {} at {}: {e}",
            latest.display(),
            dir.display()
        );
    }
}

/// `dir`, or `dir-2`, `dir-3`, … if it (or its partial form) is taken: two
/// runs in the same second never share a folder.
pub fn unused(dir: PathBuf) -> PathBuf {
    let taken = |d: &Path| d.exists() || d.with_extension("partial").exists();
    if !taken(&dir) {
        return dir;
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (2..)
        .map(|i| dir.with_file_name(format!("{name}-{i}")))
        .find(|d| !taken(d))
        .expect("some suffix is free")
}

/// The current UTC time as `20261122T210305Z`, for folder names.
pub fn utc_stamp() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .replace(['-', ':'], "")
}

/// Write the run folder of `rec` at `dir`, through a temporary name.
///
/// # Errors
/// A readable message if a file cannot be written.
pub fn write_at(
    dir: &Path,
    scenario: &Scenario,
    rec: &Recording,
    file: &str,
) -> Result<(), String> {
    let report = &rec.report;
    let tmp = dir.with_extension("partial");
    let write = |name: &str, text: String| write_file(&tmp, name, &text);
    std::fs::create_dir_all(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
    write(SCENARIO, scenario.commented_ron())?;
    write(REPRO, repro(scenario, report, file))?;
    let verdict = reports::jsonl::verdict(scenario, report, file);
    write(
        VERDICT,
        serde_json::to_string_pretty(&verdict).map_err(|e| e.to_string())?,
    )?;
    write(EVENTS, events(report))?;
    write_report(&tmp, scenario, rec, file, Theme::Color)?;
    std::fs::rename(&tmp, dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

/// Write the teaching report of `rec` (every file of [`reports::bundle`])
/// into `dir`.
///
/// # Errors
/// A readable message if a file cannot be written.
pub fn write_report(
    dir: &Path,
    scenario: &Scenario,
    rec: &Recording,
    file: &str,
    theme: Theme,
) -> Result<(), String> {
    let files = reports::bundle::files(scenario, rec, file, theme).map_err(|e| e.to_string())?;
    write_files(dir, files)
}

/// Write rendered report files into `dir`.
///
/// # Errors
/// A readable message if a file cannot be written.
pub fn write_files(dir: &Path, files: Vec<(&'static str, String)>) -> Result<(), String> {
    for (name, text) in files {
        write_file(dir, name, &text)?;
    }
    Ok(())
}

/// Write `dir/name`, creating its parent folder, through a temporary file
/// renamed into place: re-rendering a folder never leaves half a file. An
/// event file over [`COMPRESS_OVER`] is written as `name.gz` instead, and
/// whichever form is not written is removed.
fn write_file(dir: &Path, name: &str, text: &str) -> Result<(), String> {
    write_compressed_over(dir, name, text, COMPRESS_OVER)
}

/// [`write_file`] with the size over which an event file is compressed.
fn write_compressed_over(dir: &Path, name: &str, text: &str, over: usize) -> Result<(), String> {
    if !COMPRESSIBLE.contains(&name) {
        return write_bytes(dir, name, text.as_bytes());
    }
    let (kept, removed) = if text.len() > over {
        let packed = compress(text).map_err(|e| format!("cannot compress {name}: {e}"))?;
        (write_bytes(dir, &gz(name), &packed), dir.join(name))
    } else {
        (write_bytes(dir, name, text.as_bytes()), dir.join(gz(name)))
    };
    kept?;
    match std::fs::remove_file(&removed) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("cannot remove {}: {e}", removed.display()))
        }
        _ => Ok(()),
    }
}

/// `text`, gzip-compressed at level 4 (the files are repetitive: they
/// shrink about tenfold; the default level 6 takes twice as long for 20%
/// less).
fn compress(text: &str) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(text.len() / 8),
        flate2::Compression::new(4),
    );
    encoder.write_all(text.as_bytes())?;
    encoder.finish()
}

/// At most `max` bytes of the file `name` in `dir`, decompressed if the
/// folder holds it as `name.gz` (a long run's event files); `None` if the
/// folder has neither form.
///
/// # Errors
/// A readable message if the file cannot be read or is not gzip.
pub fn read_stored(dir: &Path, name: &str, max: u64) -> Result<Option<Vec<u8>>, String> {
    use std::io::Read as _;
    let packed = dir.join(gz(name));
    if !packed.is_file() {
        return read_capped(&dir.join(name), max);
    }
    let file = std::fs::File::open(&packed)
        .map_err(|e| format!("cannot read {}: {e}", packed.display()))?;
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(file)
        .take(max)
        .read_to_end(&mut text)
        .map_err(|e| format!("cannot read {}: {e}", packed.display()))?;
    Ok(Some(text))
}

/// At most `max` bytes of the regular file `path`; `None` if it does not
/// exist. A FIFO or device is refused before it is opened, so nothing waits
/// on a writer or reads forever.
///
/// # Errors
/// A readable message if it is not a regular file or cannot be read.
pub fn read_capped(path: &Path, max: u64) -> Result<Option<Vec<u8>>, String> {
    use std::io::Read as _;
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    if !meta.is_file() {
        return Err(format!(
            "cannot read {}: not a regular file",
            path.display()
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(max).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(Some(bytes))
}

/// Write the bytes of `dir/name` through a temporary file.
fn write_bytes(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), String> {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file}.partial"));
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The reproduce line and key of `report`, as `repro.txt` holds them.
pub(crate) fn repro(scenario: &Scenario, report: &RunReport, file: &str) -> String {
    format!(
        "{}\nreplay {} replay <this folder>\nseed {}\nhash {:016x}\nversion {}\ndigest {}\n",
        reports::repro_command(file, report.seed),
        reports::command(),
        report.seed,
        scenario.hash(),
        reports::VERSION,
        report.end.digest
    )
}

/// The trace, one canonical line per event.
pub fn events(report: &RunReport) -> String {
    let mut text = String::new();
    for e in &report.trace {
        text.push_str(&e.line(&report.names));
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_event_file_is_written_compressed_and_read_back_whole() {
        let dir = std::env::temp_dir().join(format!("eosim-gz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let text = "t=1ms broker send → consumer-1 Deliver { offset: 7 }\n".repeat(100);
        write_compressed_over(&dir, EVENTS, &text, 1000).expect("written");
        assert!(dir.join(gz(EVENTS)).is_file() && !dir.join(EVENTS).exists());
        let packed = std::fs::metadata(dir.join(gz(EVENTS))).expect("gz").len();
        assert!(packed < text.len() as u64 / 10, "{packed} bytes");
        let read = read_stored(&dir, EVENTS, u64::MAX).expect("readable");
        assert_eq!(read.as_deref(), Some(text.as_bytes()));
        let capped = read_stored(&dir, EVENTS, 10).expect("readable");
        assert_eq!(capped.map(|b| b.len()), Some(10), "the cap holds");

        write_compressed_over(&dir, EVENTS, "short\n", 1000).expect("written");
        assert!(!dir.join(gz(EVENTS)).exists(), "the other form is removed");
        let read = read_stored(&dir, EVENTS, u64::MAX).expect("readable");
        assert_eq!(read.as_deref(), Some(&b"short\n"[..]));

        write_compressed_over(&dir, SCENARIO, &text, 1000).expect("written");
        assert!(
            dir.join(SCENARIO).is_file(),
            "only event files are compressed"
        );
        std::fs::remove_dir_all(&dir).expect("cleaned up");
    }
}
