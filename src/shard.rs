//! Sharded sweeps: `--shard i/n` (or `env`, from Kubernetes or Slurm
//! variables) runs the seeds `≡ i (mod n)` and writes a result file;
//! `eosim merge` joins the files into the summary the unsharded sweep
//! prints.

use models::scenario::Scenario;
use models::sweep::{self, SeedSpec, Summary};

use crate::Format;
use crate::sweep_cmd::{End, SweepArgs, report, sweep_end};

/// This process's part of a sharded sweep: the seeds `≡ index (mod count)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub(crate) index: u64,
    pub(crate) count: u64,
}

/// `--shard i/n`, or `--shard env` (the index from the batch system).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardArg {
    /// Given on the command line.
    Fixed(Shard),
    /// From `JOB_COMPLETION_INDEX` and `EOSIM_SHARD_COUNT` (Kubernetes
    /// Indexed Jobs) or `SLURM_ARRAY_TASK_ID` and `SLURM_ARRAY_TASK_COUNT`.
    Env,
}

impl ShardArg {
    /// Parse `i/n` or `env`.
    ///
    /// # Errors
    /// A message saying what was expected.
    pub fn parse(s: &str) -> Result<ShardArg, String> {
        if s == "env" {
            return Ok(ShardArg::Env);
        }
        let bad = || format!("`{s}` is not a shard: expected i/n with i < n, or env");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u64, u64) =
            (i.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
        if index < count {
            Ok(ShardArg::Fixed(Shard { index, count }))
        } else {
            Err(bad())
        }
    }
}

pub(crate) fn resolve_shard(args: &SweepArgs) -> Result<Option<Shard>, String> {
    let Some(arg) = args.shard else {
        return Ok(None);
    };
    if matches!(args.seeds, SeedSpec::Random { .. }) {
        return Err(
            "a sharded sweep needs the same seeds in every shard: give --seeds A..B or a list"
                .into(),
        );
    }
    match arg {
        ShardArg::Fixed(shard) => Ok(Some(shard)),
        ShardArg::Env => shard_from_env().map(Some),
    }
}

fn shard_from_env() -> Result<Shard, String> {
    let var = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let found = match (var("JOB_COMPLETION_INDEX"), var("EOSIM_SHARD_COUNT")) {
        (Some(index), Some(count)) => Some((index, count)),
        _ => match (var("SLURM_ARRAY_TASK_ID"), var("SLURM_ARRAY_TASK_COUNT")) {
            (Some(id), Some(count)) => {
                Some((id - var("SLURM_ARRAY_TASK_MIN").unwrap_or(0).min(id), count))
            }
            _ => None,
        },
    };
    match found {
        Some((index, count)) if index < count => Ok(Shard { index, count }),
        Some((index, count)) => Err(format!(
            "shard index {index} is not below the shard count {count}"
        )),
        None => Err(
            "--shard env needs JOB_COMPLETION_INDEX and EOSIM_SHARD_COUNT (Kubernetes) or \
                     SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (Slurm)"
                .into(),
        ),
    }
}

/// What a shard leaves for `eosim merge`.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct ShardFile {
    schema: u32,
    scenario: String,
    file: String,
    hash: String,
    seeds: String,
    shard_index: u64,
    shard_count: u64,
    summary: sweep::SummaryRecord,
}

/// Write the shard's result to `<out>/<scenario>/shard-<i>-of-<n>.json`,
/// through a temporary file so that a reader never sees half of it.
pub(crate) fn write_shard(
    scenario: &Scenario,
    args: &SweepArgs,
    sh: Shard,
    summary: &Summary,
) -> Result<(), String> {
    let record = ShardFile {
        schema: 1,
        scenario: scenario.name().to_string(),
        file: args.file.clone(),
        hash: format!("{:016x}", scenario.hash()),
        seeds: seed_spec_text(&args.seeds),
        shard_index: sh.index,
        shard_count: sh.count,
        summary: summary.to_record(),
    };
    let dir = std::path::Path::new(&args.out).join(scenario.name());
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(format!("shard-{}-of-{}.json", sh.index, sh.count));
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(&record).map_err(|e| e.to_string())?;
    std::fs::write(&tmp, text).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    errln!(
        "shard {}/{} written to {}",
        sh.index,
        sh.count,
        path.display()
    );
    Ok(())
}

pub(crate) fn seed_spec_text(spec: &SeedSpec) -> String {
    match spec {
        SeedSpec::Range(a, b) => format!("{a}..{b}"),
        SeedSpec::List(v) => v.iter().map(u64::to_string).collect::<Vec<_>>().join(","),
        SeedSpec::Random { count } => format!("random:{count}"),
    }
}

/// `eosim merge`: join shard result files into the summary the unsharded
/// sweep prints; returns the exit code.
pub fn merge(files: &[String], format: Format) -> u8 {
    match read_shards(files) {
        Ok((first, summary)) => {
            match format {
                Format::Human => {
                    let hash = first.hash.get(..12).unwrap_or(&first.hash);
                    crate::outln(format!(
                        "merged {} shards of {} (hash {hash}) · seeds {}",
                        first.shard_count, first.scenario, first.seeds
                    ));
                    crate::out(report(&first.file, &summary, None));
                }
                Format::Json => crate::outln(sweep_end(&summary, End::complete(&summary))),
            }
            keep_merged_failures(&first, &summary, format);
            summary.exit_code()
        }
        Err(msg) => {
            errln!("error: {msg}");
            2
        }
    }
}

/// Shrink and save the regression seeds of a merged sweep, as the
/// unsharded sweep does, if the scenario file the shards ran is here and
/// unchanged; otherwise say why not.
fn keep_merged_failures(first: &ShardFile, summary: &Summary, format: Format) {
    if summary.clusters.values().all(|c| c.expected) {
        return;
    }
    let scenario = match Scenario::load(&first.file) {
        Ok(s) if format!("{:016x}", s.hash()) == first.hash => s,
        Ok(_) => {
            errln!(
                "note: {} has changed since the shards ran: regression seeds not saved",
                first.file
            );
            return;
        }
        Err(_) => {
            errln!(
                "note: {} is not here: regression seeds not saved",
                first.file
            );
            return;
        }
    };
    crate::sweep_cmd::keep_failures(&scenario, &first.file, summary, format);
}

/// One shard file on its own: the format, and counts that add up to the
/// seeds of its share.
fn check_shard(f: &str, s: &ShardFile) -> Result<(), String> {
    if s.schema != 1 {
        return Err(format!(
            "{f}: schema {} is not one this eosim reads (1)",
            s.schema
        ));
    }
    if s.hash.len() != 16 || !s.hash.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("{f}: `{}` is not a scenario hash", s.hash));
    }
    let spec = SeedSpec::parse(&s.seeds).map_err(|e| format!("{f}: {e}"))?;
    // Checked before its share is counted, which divides by the count.
    if s.shard_index >= s.shard_count {
        return Err(format!(
            "{f}: shard_index {} is not below shard_count {}: expected i/n with i < n",
            s.shard_index, s.shard_count
        ));
    }
    let shard = Shard {
        index: s.shard_index,
        count: s.shard_count,
    };
    let expected = crate::sweep_cmd::seed_count(&spec, shard);
    let r = &s.summary;
    let parts = r
        .pass
        .checked_add(r.fail)
        .and_then(|n| n.checked_add(r.inconclusive));
    if r.runs != expected || parts != Some(r.runs) {
        return Err(format!(
            "{f}: ran {} seeds ({} pass, {} fail, {} inconclusive), but its share is {expected}: \
             not a complete shard",
            r.runs, r.pass, r.fail, r.inconclusive
        ));
    }
    // Every per-check count is a number of this shard's seeds: bounded by
    // its runs, so that merged sums cannot wrap.
    let counts = r.by_check.iter().map(|(c, n)| (c.code(), *n));
    let clusters = r
        .clusters
        .iter()
        .chain(&r.missing)
        .map(|c| (c.check.code(), c.seeds));
    let unchecked = r.unchecked.iter().map(|u| (u.check.code(), u.seeds));
    if let Some((check, n)) = counts
        .chain(clusters)
        .chain(unchecked)
        .find(|(_, n)| *n > r.runs)
    {
        return Err(format!(
            "{f}: counts {n} seeds for {check}, more seeds than it ran ({})",
            r.runs
        ));
    }
    Ok(())
}

/// Read every shard file and check that they are the complete set of one
/// sweep.
pub(crate) fn read_shards(files: &[String]) -> Result<(ShardFile, Summary), String> {
    let mut shards = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| format!("cannot read {f}: {e}"))?;
        let shard: ShardFile =
            serde_json::from_str(&text).map_err(|e| format!("{f} is not a shard result: {e}"))?;
        shards.push((f, shard));
    }
    let Some((_, first)) = shards.first() else {
        return Err("no shard files given".into());
    };
    // Missing shards are reported by index; more shards than files cannot
    // be complete, and that is checked before anything is sized by it.
    let count = usize::try_from(first.shard_count)
        .ok()
        .filter(|n| *n >= files.len() && *n <= 1 << 20);
    let Some(count) = count else {
        return Err(format!(
            "{} files cannot be {} shards",
            files.len(),
            first.shard_count
        ));
    };
    let mut seen = vec![false; count];
    let mut summary = Summary::default();
    for (f, s) in &shards {
        check_shard(f, s)?;
        if (s.hash.as_str(), s.seeds.as_str(), s.shard_count)
            != (first.hash.as_str(), first.seeds.as_str(), first.shard_count)
        {
            return Err(format!(
                "{f} is from another sweep (scenario hash, seeds or shard count differ)"
            ));
        }
        let slot = seen.get_mut(usize::try_from(s.shard_index).unwrap_or(usize::MAX));
        match slot {
            Some(seen) if !*seen => *seen = true,
            _ => {
                return Err(format!(
                    "{f}: shard {} given twice or out of range",
                    s.shard_index
                ));
            }
        }
        let more = Summary::from_record(s.summary.clone()).map_err(|e| format!("{f}: {e}"))?;
        summary = summary
            .checked_merge(more)
            .map_err(|e| format!("{f}: summary.{e}"))?;
    }
    let missing: Vec<String> = (0..seen.len())
        .filter(|i| !seen[*i])
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "shards missing: {} of {}",
            missing.join(", "),
            first.shard_count
        ));
    }
    let first = shards.swap_remove(0).1;
    Ok((first, summary))
}
