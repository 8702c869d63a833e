//! The folder an unsharded sweep leaves: `runs/<scenario>/sweep-<UTC>/`
//! with `seeds.csv` (a header line, then one row per seed the summary
//! counts, in seed order whatever `--jobs`; each row names every check the
//! seed violated once, as `by_check` counts it), `summary.json` (the
//! `sweep_end` data: the totals, the exit code and whether Ctrl-C cut the
//! sweep short), `index.html` and `failures/<seed>/`, a full run folder for
//! the smallest examples of each unexpected cluster (or, for a run whose
//! report would not fit the memory budget, a `NOT-DRAWN.txt` saying so).
//! The regression seeds replayed before the sweep have their own line on
//! stdout and are in none of these files. The folder is built under a
//! temporary name and renamed when complete.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use models::check::CheckId;
use models::scenario::Scenario;
use models::shrink::Shrunk;
use models::sweep::{SeedResult, Summary};

use crate::sweep_cmd::End;

/// Which failures a sweep folder keeps, and what they shrink to.
pub struct Failures<'a> {
    /// Run folders per unexpected cluster.
    pub keep: usize,
    /// The shrunk smallest examples: (check, cause, seed, result).
    pub shrunk: &'a [(CheckId, String, u64, Shrunk)],
    /// The seed set, as a range or list that repeats the sweep.
    pub seeds: &'a str,
}

/// A sweep folder being written.
pub struct SweepFolder {
    dir: PathBuf,
    tmp: PathBuf,
    seeds: Mutex<Rows>,
}

/// `seeds.csv` being written, and the first write that failed.
struct Rows {
    file: std::io::BufWriter<std::fs::File>,
    failed: Option<std::io::Error>,
}

impl SweepFolder {
    /// Start `out/<scenario>/sweep-<UTC>/`.
    ///
    /// # Errors
    /// A readable message if it cannot be created.
    pub fn create(out: &str, scenario: &Scenario) -> Result<SweepFolder, String> {
        let dir = Path::new(out)
            .join(scenario.name())
            .join(format!("sweep-{}", crate::runfolder::utc_stamp()));
        let dir = crate::runfolder::unused(dir);
        let tmp = dir.with_extension("partial");
        std::fs::create_dir_all(tmp.join("failures"))
            .map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
        let csv = tmp.join("seeds.csv");
        let file = std::fs::File::create(&csv)
            .map_err(|e| format!("cannot create {}: {e}", csv.display()))?;
        let mut seeds = std::io::BufWriter::new(file);
        writeln!(seeds, "seed,verdict,violations,events,digest").map_err(|e| e.to_string())?;
        Ok(SweepFolder {
            dir,
            tmp,
            seeds: Mutex::new(Rows {
                file: seeds,
                failed: None,
            }),
        })
    }

    /// One seed's row of `seeds.csv`: each violated check once, however
    /// many causes it had.
    pub fn row(r: &SeedResult) -> String {
        let mut violations: Vec<&str> = r.found.iter().map(|f| f.check.code()).collect();
        violations.dedup();
        format!(
            "{},{},{},{},{}",
            r.seed,
            r.verdict.word(),
            violations.join(" "),
            r.events,
            r.digest
        )
    }

    /// Append a [`SweepFolder::row`] to `seeds.csv`; the caller gives the
    /// rows in seed order.
    pub fn write_row(&self, row: &str) {
        let mut seeds = self
            .seeds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A failed write is kept for `finish`, which then fails: a row lost
        // on a full disk must not leave a file that counts fewer seeds than
        // the summary.
        if let Err(e) = writeln!(seeds.file, "{row}") {
            seeds.failed.get_or_insert(e);
        }
    }

    /// Write the summary and up to `keep` failure folders per unexpected
    /// cluster, then put the folder in place; returns its path.
    ///
    /// # Errors
    /// A readable message if a file cannot be written.
    pub fn finish(
        self,
        scenario: &Scenario,
        file: &str,
        summary: &Summary,
        failures: &Failures<'_>,
        end: End,
    ) -> Result<PathBuf, String> {
        let (keep, shrunk) = (failures.keep, failures.shrunk);
        let mut seeds = self
            .seeds
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let flushed = match seeds.failed.take() {
            Some(e) => Err(e),
            None => seeds.file.flush(),
        };
        flushed
            .map_err(|e| format!("cannot write {}: {e}", self.tmp.join("seeds.csv").display()))?;
        let data = crate::sweep_cmd::sweep_end_data(summary, end);
        let text = serde_json::to_string_pretty(&data).map_err(|e| e.to_string())?;
        std::fs::write(self.tmp.join("summary.json"), text)
            .map_err(|e| format!("cannot write summary.json: {e}"))?;
        let mut kept: Vec<u64> = summary
            .clusters
            .values()
            .filter(|c| !c.expected)
            .flat_map(|c| c.examples.iter().take(keep).map(|(_, seed)| *seed))
            .collect();
        kept.sort_unstable();
        kept.dedup();
        for &seed in &kept {
            let dir = self.tmp.join("failures").join(seed.to_string());
            match crate::runfolder::record(scenario, seed) {
                Ok(recording) => crate::runfolder::write_at(&dir, scenario, &recording, file)?,
                Err(too_large) => not_drawn(&dir, file, seed, &too_large)?,
            }
            if let Some((.., s)) = shrunk.iter().find(|(_, _, at, _)| *at == seed) {
                let text = models::shrink::min_file(s, file, seed, reports::VERSION);
                let min = dir.join(crate::shrink_cmd::MIN);
                std::fs::create_dir_all(dir.join("min"))
                    .and_then(|()| std::fs::write(&min, text))
                    .map_err(|e| format!("cannot write {}: {e}", min.display()))?;
            }
        }
        let shrunk_lines: Vec<(u64, String)> = shrunk
            .iter()
            .map(|(.., seed, s)| (*seed, crate::shrink_cmd::one_line(s)))
            .collect();
        let hash = format!("{:016x}", scenario.hash());
        let page = reports::sweep_page::render(&reports::sweep_page::SweepPage {
            scenario: scenario.name(),
            file,
            seeds: failures.seeds,
            hash: &hash,
            summary,
            kept: &kept,
            shrunk: &shrunk_lines,
            interrupted: end.interrupted,
        });
        std::fs::write(self.tmp.join("index.html"), page)
            .map_err(|e| format!("cannot write index.html: {e}"))?;
        std::fs::rename(&self.tmp, &self.dir)
            .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        Ok(self.dir)
    }
}

/// The note left in place of a failure's report that was too large to draw.
pub const NOT_DRAWN: &str = "NOT-DRAWN.txt";

/// In place of a failure's run folder whose report would not fit the
/// memory budget: a note saying so, with the command that replays it.
fn not_drawn(
    dir: &Path,
    file: &str,
    seed: u64,
    too_large: &models::scenario::memory::TooLarge,
) -> Result<(), String> {
    let note = dir.join(NOT_DRAWN);
    let command = reports::command();
    let text = format!(
        "No report for seed {seed}: {too_large}.\nReplay it with: {command} run {file} --seed {seed}\n"
    );
    let line = format!("note: seed {seed} has no failure report: {too_large}");
    errln!("{}", reports::text::wrap(&line, "      "));
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&note, text))
        .map_err(|e| format!("cannot write {}: {e}", note.display()))
}
