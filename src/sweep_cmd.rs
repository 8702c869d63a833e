//! `eosim sweep`: many seeds of one scenario in parallel, with progress on
//! stderr and the totals, per-check counts and failure clusters on stdout.
//! Seeds finish in any order, but their results are written in seed order
//! (JSON lines, `seeds.csv`), so that everything a sweep writes is the same
//! whatever `--jobs` is.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use models::check::CheckId;
use models::scenario::Scenario;
use models::shrink::Shrunk;
use models::sweep::{self, Reorder, SeedResult, SeedSpec, Summary};
use sim_core::Buffers;

use crate::shard::{ShardArg, resolve_shard, write_shard};
use crate::sweepfolder::{Failures, SweepFolder};
use crate::{Format, diagnostics, regressions, shrink_cmd};

/// How progress is shown on stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Progress {
    /// A bar on a terminal, plain lines otherwise.
    Auto,
    /// A bar.
    Bar,
    /// A status line every five seconds.
    Lines,
    /// Nothing.
    None,
}

/// What `eosim sweep` was asked.
pub struct SweepArgs {
    pub file: String,
    pub seeds: SeedSpec,
    pub shard: Option<ShardArg>,
    pub out: String,
    pub jobs: Option<usize>,
    pub stop_on_first: bool,
    pub format: Format,
    pub progress: Progress,
    /// Failure folders kept per unexpected cluster.
    pub keep: usize,
}

/// Run the sweep; returns the exit code.
pub fn sweep(args: &SweepArgs) -> u8 {
    // Installed first, before anything is printed or any file created, so
    // that a Ctrl-C either comes before the sweep has written anything (the
    // signal ends the process, nothing is left behind) or is caught (exit
    // 130, and a finished folder that says it was interrupted).
    if let Err(e) = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::Relaxed)) {
        errln!("warning: Ctrl-C will not stop the sweep cleanly: {e}");
    }
    let scenario = match Scenario::load(&args.file) {
        Ok(s) => s,
        Err(e) => {
            diagnostics::report(&e, args.format);
            return diagnostics::exit_code(&e);
        }
    };
    let shard = match resolve_shard(args) {
        Ok(shard) => shard,
        Err(msg) => {
            errln!("error: {msg}");
            return 2;
        }
    };
    let random_start = random_start(&args.seeds);
    // An unsharded sweep replays the regression seeds first.
    let regressions = if shard.is_none() {
        regressions::read(&args.file)
    } else {
        Vec::new()
    };
    let seeds = Seeds {
        spec: args.seeds.clone(),
        start: random_start,
        shard,
        first: regressions,
    };
    let (pool, jobs) = match crate::worker_pool(args.jobs) {
        Ok(found) => found,
        Err(code) => return code,
    };
    if args.format == Format::Human {
        crate::outln(header(&scenario, &args.seeds, random_start, jobs));
        if let Some(sh) = shard {
            crate::outln(format!(
                "  shard    {}/{}: {} of those seeds",
                sh.index,
                sh.count,
                seeds.count()
            ));
        }
    }
    let started = Instant::now();
    let watch = Watch::new(seeds.count(), args.progress);
    // An unsharded sweep leaves a folder; a shard leaves its result file.
    let folder = match shard {
        Some(_) => None,
        None => match SweepFolder::create(&args.out, &scenario) {
            Ok(folder) => Some(folder),
            Err(msg) => {
                errln!("error: {msg}");
                return 2;
            }
        },
    };
    // Regression seeds get their own summary: the sweep's own summary covers
    // exactly the requested seeds, so it equals the merge of its shards.
    let (regressed, summary) = pool.install(|| {
        let first = SeedOrder::listed(seeds.first.clone());
        let regressed =
            (!seeds.first.is_empty()).then(|| run_all(&scenario, &first, args, &watch, None));
        (
            regressed,
            run_all(&scenario, &seeds.rest(), args, &watch, folder.as_ref()),
        )
    });
    watch.finish();
    let interrupted = INTERRUPTED.load(Ordering::Relaxed);
    let stopped = interrupted || watch.stop.load(Ordering::Relaxed);
    // The requested seeds, which the summary counts (the regression seeds
    // have their own line).
    let requested = seeds.count() - seeds.first.len() as u64;
    if interrupted {
        errln!(
            "interrupted: {} of {requested} seeds finished; summarising those",
            summary.runs,
        );
    }
    // Known before anything is written, so every output says the same code.
    let code = crate::worst(
        summary.exit_code(),
        regressed.as_ref().map_or(0, Summary::exit_code),
    );
    let end = End {
        exit_code: if interrupted { INTERRUPTED_EXIT } else { code },
        interrupted,
    };
    // A shard file stands for its whole share of the seeds: none if cut short.
    let write = shard.filter(|_| !stopped);
    if let Some(Err(msg)) = write.map(|sh| write_shard(&scenario, args, sh, &summary)) {
        errln!("error: {msg}");
        return 2;
    }
    if let (Some(r), Format::Human) = (&regressed, args.format) {
        let line = format!(
            "regressions  {} seeds from {} · {} PASS · {} FAIL · {} INCONCLUSIVE",
            r.runs,
            regressions::path(&args.file).display(),
            r.pass,
            r.fail,
            r.inconclusive
        );
        crate::outln(reports::text::wrap(&line, "             "));
    }
    match args.format {
        Format::Human => {
            crate::out(report(&args.file, &summary, Some(started.elapsed())));
            if interrupted {
                let line = format!(
                    "  stopped    interrupted by Ctrl-C after {} of {requested} seeds: \
                     the counts above are of those · exit {INTERRUPTED_EXIT}",
                    summary.runs
                );
                crate::outln(reports::text::wrap(&line, "             "));
            }
        }
        Format::Json => crate::outln(sweep_end(&summary, end)),
    }
    let shrunk = match shard {
        Some(_) => Vec::new(),
        None => keep_failures(&scenario, &args.file, &summary, args.format),
    };
    if let Some(folder) = folder {
        let seeds_text = match args.seeds {
            SeedSpec::Random { count } => {
                format!("{random_start}..{}", random_start.saturating_add(count))
            }
            ref spec => crate::shard::seed_spec_text(spec),
        };
        let failures = Failures {
            keep: args.keep,
            shrunk: &shrunk,
            seeds: &seeds_text,
        };
        match folder.finish(&scenario, &args.file, &summary, &failures, end) {
            Ok(dir) if args.format == Format::Human => {
                crate::outln(format!("  folder     {}", dir.display()));
            }
            Ok(_) => {}
            Err(msg) => {
                // The folder stays `.partial`: unfinished, and the exit code
                // says a file could not be written.
                errln!("error: {msg}");
                if !interrupted {
                    return crate::worst(code, 2);
                }
            }
        }
    }
    end.exit_code
}

/// Shrink the smallest example of each unexpected cluster, say what it
/// shrinks to, and save it as a regression seed (a whole sweep, or the
/// merge of its shards); returns the shrunk examples.
pub(crate) fn keep_failures(
    scenario: &Scenario,
    file: &str,
    summary: &Summary,
    format: Format,
) -> Vec<(CheckId, String, u64, Shrunk)> {
    let shrunk = shrink_cmd::shrink_clusters(scenario, summary, CLUSTER_SHRINK_ATTEMPTS);
    if format == Format::Human {
        for (check, _, seed, s) in &shrunk {
            let line = format!(
                "  shrunk     {} seed {seed} → {}",
                check.code(),
                shrink_cmd::one_line(s)
            );
            crate::outln(reports::text::wrap(&line, "             "));
        }
    }
    save_regressions(file, summary, &shrunk, format);
    shrunk
}

/// How many candidate runs a sweep spends shrinking each unexpected
/// cluster's smallest example.
const CLUSTER_SHRINK_ATTEMPTS: u32 = 2_000;

/// Keep the smallest example of each unexpected failure for next time, with
/// what it shrinks to.
fn save_regressions(
    file: &str,
    summary: &Summary,
    shrunk: &[(CheckId, String, u64, Shrunk)],
    format: Format,
) {
    let entries: Vec<(u64, String)> = summary
        .clusters
        .iter()
        .filter(|(_, c)| !c.expected)
        .map(|((check, cause), c)| {
            let seed = c.smallest().1;
            let mut comment = format!("violates {} ({cause})", check.heading());
            let found = shrunk
                .iter()
                .find(|(c, because, at, _)| c == check && because == cause && *at == seed);
            if let Some((.., s)) = found {
                comment.push_str(&format!("; shrinks to: {}", shrink_cmd::one_line(s)));
            }
            (seed, comment)
        })
        .collect();
    match regressions::append(file, &entries) {
        Ok(0) => {}
        Ok(n) if format == Format::Human => {
            let to = regressions::path(file);
            let line = format!(
                "  saved      +{n} seeds → {} (replayed first next time)",
                to.display()
            );
            crate::outln(reports::text::wrap(&line, "             "));
        }
        Ok(_) => {}
        Err(msg) => errln!("error: {msg}"),
    }
}

/// Where a `random:K` set starts: drawn from the clock once, printed and
/// recorded, so the sweep can be repeated with `A..B`.
fn random_start(spec: &SeedSpec) -> u64 {
    let SeedSpec::Random { count } = spec else {
        return 0;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let nanos = u64::try_from(now.as_nanos() % u128::from(u64::MAX)).unwrap_or_default();
    // The set start..start+count must not run past the last seed.
    (nanos.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 16).min(u64::MAX - count)
}

/// The exit code of an interrupted sweep (128 + SIGINT, as shells report).
const INTERRUPTED_EXIT: u8 = 130;

/// The seeds of a sweep, never all in memory: a range stays a range, so a
/// sweep of a million seeds needs no more memory than one of ten thousand.
struct Seeds {
    spec: SeedSpec,
    start: u64,
    shard: Option<crate::shard::Shard>,
    /// Run first, in a pass of their own (the regression seeds).
    first: Vec<u64>,
}

impl Seeds {
    /// The requested seeds (the regression seeds run before, in a pass of
    /// their own), in order. A shard steps through its range rather than
    /// filtering all of it.
    fn rest(&self) -> SeedOrder {
        let (range, list) = match &self.spec {
            SeedSpec::Range(a, b) => (*a..*b, Vec::new()),
            SeedSpec::Random { count } => {
                (self.start..self.start.saturating_add(*count), Vec::new())
            }
            SeedSpec::List(v) => (0..0, v.clone()),
        };
        let (step, first) = match self.shard {
            Some(sh) => (sh.count, first_of_shard(range.start, sh)),
            None => (1, range.start),
        };
        // A step of 0 (a shard count of 0, refused before) takes no seeds.
        let steps = if first < range.end {
            (range.end - first - 1)
                .checked_div(step)
                .map_or(0, |n| n + 1)
        } else {
            0
        };
        let list = list
            .into_iter()
            .filter(|s| self.shard.is_none_or(|sh| in_shard(*s, sh)))
            .collect();
        SeedOrder {
            first,
            step,
            steps,
            list,
        }
    }

    /// How many seeds in all.
    fn count(&self) -> u64 {
        let in_range = |a: u64, b: u64| match self.shard {
            None => b - a,
            Some(sh) => below(b, sh) - below(a, sh),
        };
        let all = match &self.spec {
            SeedSpec::Range(a, b) => in_range(*a, *b),
            SeedSpec::Random { count } => in_range(self.start, self.start.saturating_add(*count)),
            SeedSpec::List(v) => v
                .iter()
                .filter(|s| self.shard.is_none_or(|sh| in_shard(**s, sh)))
                .count() as u64,
        };
        all + self.first.len() as u64
    }
}

/// Seeds in the order a sweep reports them, by position: `steps` seeds from
/// `first` on, `step` apart (a range, or a shard's share of it), then the
/// `list` (listed seeds, in the order given). Only a list is held in memory.
struct SeedOrder {
    first: u64,
    step: u64,
    steps: u64,
    list: Vec<u64>,
}

impl SeedOrder {
    /// Just `list`, in its order.
    fn listed(list: Vec<u64>) -> SeedOrder {
        SeedOrder {
            first: 0,
            step: 1,
            steps: 0,
            list,
        }
    }

    /// The seed at `position`, if there are that many.
    fn get(&self, position: u64) -> Option<u64> {
        if position < self.steps {
            return Some(self.first + position * self.step);
        }
        let at = usize::try_from(position - self.steps).ok()?;
        self.list.get(at).copied()
    }

    /// Every seed, in order.
    #[cfg(test)]
    fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        (0..).map_while(|position| self.get(position))
    }
}

/// How many of the seeds of `spec` belong to shard `sh`.
pub(crate) fn seed_count(spec: &SeedSpec, sh: crate::shard::Shard) -> u64 {
    Seeds {
        spec: spec.clone(),
        start: 0,
        shard: Some(sh),
        first: Vec::new(),
    }
    .count()
}

// Shard arithmetic is total: a shard count of 0 (which `--shard` and
// `merge` refuse before) owns no seed, and nothing overflows however large
// the index and count, so that a hostile shard file cannot panic it.

/// Whether `seed` belongs to shard `sh`.
fn in_shard(seed: u64, sh: crate::shard::Shard) -> bool {
    seed.checked_rem(sh.count) == Some(sh.index)
}

/// The first seed at or above `a` that belongs to shard `sh` (`u64::MAX`
/// if none can).
fn first_of_shard(a: u64, sh: crate::shard::Shard) -> u64 {
    let Some(r) = a.checked_rem(sh.count) else {
        return u64::MAX;
    };
    let offset = if sh.index >= r {
        sh.index - r
    } else {
        sh.count - (r - sh.index)
    };
    a.saturating_add(offset)
}

/// How many seeds below `x` belong to shard `sh`.
fn below(x: u64, sh: crate::shard::Shard) -> u64 {
    if x > sh.index {
        (x - sh.index - 1)
            .checked_div(sh.count)
            .map_or(0, |n| n + 1)
    } else {
        0
    }
}

/// Set by Ctrl-C: no new seed starts, and what finished is summarised.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether Ctrl-C was pressed during a sweep: the shrinking after it stops
/// early too (its result then says the search was cut short).
pub(crate) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// How many finished results a sweep may hold per worker while an earlier
/// seed is still running: a seed this far ahead of the earliest unfinished
/// one waits to start. This bounds the memory of putting results in seed
/// order, however many seeds the sweep runs, and leaves room for a slow seed
/// (one shrunk for its cluster runs dozens of times).
const HELD_PER_JOB: u64 = 256;

/// A seed's output, rendered by the worker that ran it so that little is
/// done in seed order: its JSON line and its `seeds.csv` row (neither for a
/// seed skipped after a stop).
#[derive(Default)]
struct Lines {
    json: Option<String>,
    csv: Option<String>,
}

/// Run `order`'s seeds on every thread of the current pool and write each
/// one's output (JSON line, `seeds.csv` row) in seed order: a worker takes
/// the next seed, runs it, and writes whatever outputs that makes
/// contiguous. The summary does not depend on order, so each worker keeps
/// its own and they are merged at the end.
fn run_all(
    scenario: &Scenario,
    order: &SeedOrder,
    args: &SweepArgs,
    watch: &Watch,
    folder: Option<&SweepFolder>,
) -> Summary {
    let window = HELD_PER_JOB * rayon::current_num_threads() as u64;
    let taken = AtomicU64::new(0);
    let waiting = Mutex::new(Reorder::default());
    let advanced = Condvar::new();
    let panicked = Mutex::new(None);
    let summaries = rayon::broadcast(|_| {
        let mut buffers = Buffers::default();
        let mut summary = Summary::default();
        // Every seed taken is handed back, run or skipped, so the earliest
        // one taken always comes back and no worker waits for ever.
        while !stopped(watch) {
            let position = taken.fetch_add(1, Ordering::Relaxed);
            let Some(seed) = order.get(position) else {
                break;
            };
            let room = advanced.wait_while(lock_any(&waiting), |w| position >= w.next() + window);
            drop(room.unwrap_or_else(std::sync::PoisonError::into_inner));
            let mut lines = Lines::default();
            if !stopped(watch) {
                // A panicking seed (a protocol's bug) still hands its
                // position back, or the other workers would wait for it for
                // ever; the sweep then stops and the panic goes on.
                let run = || sweep::run_seed(scenario, seed, &mut buffers);
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
                    Ok(r) => {
                        watch.finished(&r, args.stop_on_first);
                        lines.json = (args.format == Format::Json).then(|| seed_result(&r));
                        lines.csv = folder.map(|_| SweepFolder::row(&r));
                        summary.add(&r);
                    }
                    Err(payload) => {
                        watch.stop.store(true, Ordering::Relaxed);
                        lock_any(&panicked).get_or_insert(payload);
                    }
                }
            }
            let mut w = lock_any(&waiting);
            w.insert(position, lines);
            while let Some(next) = w.pop() {
                write_lines(next, folder);
            }
            drop(w);
            advanced.notify_all();
        }
        summary
    });
    if let Some(payload) = lock_any(&panicked).take() {
        std::panic::resume_unwind(payload);
    }
    debug_assert_eq!(lock_any(&waiting).waiting(), 0, "every output written");
    summaries
        .into_iter()
        .fold(Summary::default(), Summary::merge)
}

/// Whether the sweep stops: Ctrl-C, or `--stop-on-first` after a failure.
fn stopped(watch: &Watch) -> bool {
    watch.stop.load(Ordering::Relaxed) || INTERRUPTED.load(Ordering::Relaxed)
}

/// Lock `m`, whatever a panicking holder left in it.
fn lock_any<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Write one seed's output: its JSON line on stdout, its row in the
/// folder's `seeds.csv`.
fn write_lines(lines: Lines, folder: Option<&SweepFolder>) {
    if let Some(json) = lines.json {
        crate::outln(json);
    }
    if let (Some(folder), Some(row)) = (folder, lines.csv) {
        folder.write_row(&row);
    }
}

/// Progress on stderr: an indicatif bar, or a status line every five
/// seconds (indicatif hides its bar when stderr is not a terminal).
struct Watch {
    /// Set by `--stop-on-first` after an unexpected violation; shared by
    /// the regression pass and the main one.
    stop: AtomicBool,
    done: AtomicU64,
    failed: AtomicU64,
    total: u64,
    bar: Option<ProgressBar>,
    lines: bool,
    last_line: std::sync::Mutex<Instant>,
}

impl Watch {
    fn new(total: u64, progress: Progress) -> Watch {
        let terminal = std::io::stderr().is_terminal();
        let bar = matches!(progress, Progress::Bar) || (progress == Progress::Auto && terminal);
        let bar = bar.then(|| {
            let bar = ProgressBar::new(total);
            let style = ProgressStyle::with_template(
                "[{elapsed}] {bar:30} {pos}/{len} seeds {per_sec} ETA {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        let lines = progress == Progress::Lines || (progress == Progress::Auto && !terminal);
        Watch {
            stop: AtomicBool::new(false),
            done: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            total,
            bar,
            lines,
            last_line: std::sync::Mutex::new(Instant::now()),
        }
    }

    /// Count a finished seed, and stop the sweep at a failure if asked.
    fn finished(&self, r: &SeedResult, stop_on_first: bool) {
        let failed = r.verdict == models::run::Verdict::Fail;
        if failed && stop_on_first {
            self.stop.store(true, Ordering::Relaxed);
        }
        self.tick(failed);
    }

    fn tick(&self, failed: bool) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let fails = self.failed.fetch_add(u64::from(failed), Ordering::Relaxed) + u64::from(failed);
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if failed {
                bar.set_message(format!("FAIL {fails}"));
            }
        } else if self.lines {
            let mut last = self
                .last_line
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.elapsed() >= Duration::from_secs(5) {
                *last = Instant::now();
                errln!("sweep: {done}/{} seeds · FAIL {fails}", self.total);
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn header(scenario: &Scenario, spec: &SeedSpec, start: u64, jobs: usize) -> String {
    let set = match spec {
        SeedSpec::Range(a, b) => format!("seeds {a}..{b}"),
        SeedSpec::List(v) => format!("{} listed seeds", v.len()),
        SeedSpec::Random { count } => {
            let end = start.wrapping_add(*count);
            format!("{count} random seeds\n  repeat   --seeds {start}..{end}")
        }
    };
    let hash = format!("{:012x}", scenario.hash() >> 16);
    let jobs = if jobs == 1 {
        "1 job".to_string()
    } else {
        format!("{jobs} jobs")
    };
    let line = format!(
        "sweeping {} (hash {hash}) · {jobs} · {set}",
        scenario.name()
    );
    reports::text::wrap(&line, "  ")
}

pub(crate) fn report(file: &str, s: &Summary, took: Option<Duration>) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let percent = |n: u64| {
        if s.runs == 0 {
            0.0
        } else {
            100.0 * n as f64 / s.runs as f64
        }
    };
    let _ = writeln!(
        out,
        "{} seeds{} · {} PASS · {} FAIL ({:.2}%) · {} INCONCLUSIVE",
        s.runs,
        took.map(|t| format!(" in {}", duration(t)))
            .unwrap_or_default(),
        s.pass,
        s.fail,
        percent(s.fail),
        s.inconclusive
    );
    if !s.by_check.is_empty() {
        let by: Vec<String> = s
            .by_check
            .iter()
            .map(|(c, n)| format!("{} {n}", c.heading()))
            .collect();
        let mut by = by;
        by[0] = format!("  by check   {}", by[0]);
        let _ = writeln!(
            out,
            "{}",
            reports::text::join_wrapped(&by, " · ", "             ")
        );
    }
    let mut label = "  by cause";
    for ((check, cause), c) in &s.clusters {
        let tag = if c.expected { "expected" } else { "UNEXPECTED" };
        cluster_lines(
            &mut out,
            label,
            &format!("{} {cause}", check.code()),
            &format!("{} seeds, {tag}", c.seeds),
            c,
            file,
        );
        label = "";
    }
    let mut label = "  unchecked";
    for ((check, why), seeds) in &s.unchecked {
        let line = format!("{label:<13}{} on {seeds} seeds: {why}", check.heading());
        let _ = writeln!(out, "{}", reports::text::wrap(&line, "               "));
        label = "";
    }
    let mut label = "  missing";
    for (check, c) in &s.missing {
        let what = format!("{} expected, did not happen", check.code());
        let how_many = format!("{} seeds", c.seeds);
        cluster_lines(&mut out, label, &what, &how_many, c, file);
        label = "";
    }
    out
}

/// A cluster: what, its smallest example and the command that replays it.
fn cluster_lines(
    out: &mut String,
    label: &str,
    what: &str,
    how_many: &str,
    c: &sweep::Cluster,
    file: &str,
) {
    use std::fmt::Write as _;
    let (events, seed) = c.smallest();
    let first = format!("{label:<13}{what}");
    let _ = writeln!(out, "{}", reports::text::wrap(&first, "               "));
    let _ = writeln!(
        out,
        "               {how_many} · smallest: seed {seed} ({events} events)"
    );
    let _ = writeln!(out, "               {}", reports::repro_command(file, seed));
}

/// Seconds with one decimal, or milliseconds under a second.
fn duration(d: Duration) -> String {
    if d.as_secs() == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

fn seed_result(r: &SeedResult) -> String {
    let found: Vec<serde_json::Value> = r
        .found
        .iter()
        .map(|f| serde_json::json!({ "check": f.check.code(), "cause": f.cause, "expected": f.expected }))
        .collect();
    let unchecked: Vec<&str> = r.unchecked.iter().map(|(c, _)| c.code()).collect();
    let data = serde_json::json!({
        "seed": r.seed,
        "unchecked": unchecked,
        "verdict": r.verdict.word(),
        "digest": r.digest.to_string(),
        "events": r.events,
        "violations": found,
    });
    reports::jsonl::envelope("seed_result", &data)
}

/// How a sweep ended, beyond its summary: the code the process exits with
/// and whether Ctrl-C cut it short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct End {
    /// The process's exit code (130 after Ctrl-C).
    pub exit_code: u8,
    /// Whether Ctrl-C stopped the sweep: the summary then counts only the
    /// seeds that finished.
    pub interrupted: bool,
}

impl End {
    /// A sweep (or merge) that ran all its seeds: its summary's code.
    pub(crate) fn complete(s: &Summary) -> End {
        End {
            exit_code: s.exit_code(),
            interrupted: false,
        }
    }
}

/// The `sweep_end` data: the summary, the exit code the process ends with
/// and whether it was interrupted.
pub(crate) fn sweep_end_data(s: &Summary, end: End) -> serde_json::Value {
    let mut data = serde_json::to_value(s.to_record()).unwrap_or_default();
    if let Some(map) = data.as_object_mut() {
        map.insert("exit_code".into(), end.exit_code.into());
        map.insert("interrupted".into(), end.interrupted.into());
    }
    data
}

pub(crate) fn sweep_end(s: &Summary, end: End) -> String {
    reports::jsonl::envelope("sweep_end", &sweep_end_data(s, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shard::Shard;

    fn seeds(spec: SeedSpec, shard: Option<Shard>) -> Seeds {
        Seeds {
            spec,
            start: 0,
            shard,
            first: Vec::new(),
        }
    }

    /// A shard's stepped seeds are exactly the filtered ones, and `count`
    /// agrees, whatever the range and the shard.
    #[test]
    fn shards_step_through_exactly_their_share() {
        for (a, b) in [(0, 1), (0, 10), (3, 4), (5, 97), (7, 8), (100, 100_003)] {
            for count in 1..=5 {
                for index in 0..count {
                    let sh = Shard { index, count };
                    let s = seeds(SeedSpec::Range(a, b), Some(sh));
                    let stepped: Vec<u64> = s.rest().iter().collect();
                    let filtered: Vec<u64> = (a..b).filter(|x| x % count == index).collect();
                    assert_eq!(stepped, filtered, "{a}..{b} shard {index}/{count}");
                    assert_eq!(
                        s.count(),
                        filtered.len() as u64,
                        "{a}..{b} shard {index}/{count}"
                    );
                }
            }
        }
    }

    /// Shard arithmetic never panics, whatever a shard file claims: a
    /// count of 0 owns no seed, a huge index or count does not overflow.
    #[test]
    fn shard_arithmetic_is_total() {
        for (index, count) in [(0, 0), (5, 0), (u64::MAX - 1, u64::MAX), (u64::MAX, 2)] {
            let sh = Shard { index, count };
            for spec in [
                SeedSpec::Range(0, 10),
                SeedSpec::Range(u64::MAX - 3, u64::MAX),
                SeedSpec::List(vec![0, 7, u64::MAX]),
            ] {
                let s = seeds(spec.clone(), Some(sh));
                let stepped: Vec<u64> = s.rest().iter().take(5).collect();
                assert!(stepped.iter().all(|x| in_shard(*x, sh)), "{spec:?} {sh:?}");
                let _ = seed_count(&spec, sh);
            }
        }
        assert_eq!(
            seed_count(&SeedSpec::Range(0, 10), Shard { index: 0, count: 0 }),
            0
        );
    }

    #[test]
    fn the_shards_of_a_list_partition_it() {
        let list = SeedSpec::List(vec![9, 2, 7, 4, 1]);
        let mut all: Vec<u64> = (0..3)
            .flat_map(|index| {
                seeds(list.clone(), Some(Shard { index, count: 3 }))
                    .rest()
                    .iter()
                    .collect::<Vec<_>>()
            })
            .collect();
        all.sort_unstable();
        assert_eq!(all, [1, 2, 4, 7, 9]);
    }
}
