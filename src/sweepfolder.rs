//! The folder an unsharded sweep leaves: `runs/<scenario>/sweep-<UTC>/`
//! with `seeds.csv` (one line per seed, in seed order whatever `--jobs`),
//! `summary.json` (the `sweep_end` data) and `failures/<seed>/`, a full run
//! folder for the smallest examples of each unexpected cluster. It is built
//! under a temporary name and renamed when complete.

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
    seeds: Mutex<std::io::BufWriter<std::fs::File>>,
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
            seeds: Mutex::new(seeds),
        })
    }

    /// One seed's row of `seeds.csv`.
    pub fn row(r: &SeedResult) -> String {
        let violations: Vec<String> = r.found.iter().map(|f| f.check.code().to_string()).collect();
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
        // A failed write shows up when the file is flushed in `finish`.
        let _ = writeln!(seeds, "{row}");
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
        seeds
            .flush()
            .map_err(|e| format!("cannot write seeds.csv: {e}"))?;
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
            let recording = crate::runfolder::record(scenario, seed);
            let dir = self.tmp.join("failures").join(seed.to_string());
            crate::runfolder::write_at(&dir, scenario, &recording, file)?;
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
