//! `eosim explore <scenario>`: every execution of a small scenario within
//! stated bounds, checked, with the shortest counterexample written as a
//! seedless scenario and a run folder.

use std::io::IsTerminal as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use models::explore::{self, Bounds, Cut, Explored, Found, Order, Progress};
use models::numbers::{bytes, thousands};
use models::scenario::Scenario;
use models::scenario::spec::{ExploreSpec, LinkOverride, RatioSpec};
use serde_json::json;
use sim_core::{FaultBudget, Timing};

use crate::{Format, diagnostics, sweep_cmd};

/// What `eosim explore` was asked.
pub struct ExploreArgs {
    /// The scenario file.
    pub file: String,
    /// Faults per execution and messages per producer, as the flags gave
    /// them (unset: the scenario's `explore` section's, else defaults).
    pub asked: ExploreSpec,
    /// Events per execution.
    pub depth: Option<u32>,
    /// Distinct states.
    pub states: u64,
    /// Any order, as a checker without a clock.
    pub untimed: bool,
    /// Copies of one datagram waiting at once, at most.
    pub copies: Option<u32>,
    /// Depth-first.
    pub dfs: bool,
    /// Threads expanding states, breadth-first.
    pub threads: usize,
    /// Output format.
    pub format: Format,
    /// Progress on stderr.
    pub progress: sweep_cmd::Progress,
    /// Where counterexamples go (`None`: nowhere).
    pub out: Option<String>,
}

/// Set by Ctrl-C: the search stops and says what it covered.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Explore and print; returns the exit code.
pub fn explore(args: &ExploreArgs) -> u8 {
    if let Err(e) = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::Relaxed)) {
        errln!("warning: Ctrl-C will not stop the search cleanly: {e}");
    }
    let (scenario, widened, faults) = match load(args) {
        Ok(found) => found,
        Err(code) => return code,
    };
    let bounds = Bounds {
        faults,
        depth: args.depth,
        states: args.states,
        memory: models::scenario::memory::budget(),
        timing: Timing::untimed_if(args.untimed),
        order: Order::depth_first_if(args.dfs),
        copies: args.copies,
        threads: args.threads,
    };
    if args.format == Format::Human {
        crate::out(header(&scenario, &args.file, &bounds, &widened));
    }
    let started = Instant::now();
    let mut watch = Watch::new(args.progress, args.format);
    let explored = explore::explore(&scenario, bounds, &mut |p| watch.tick(p, bounds.memory));
    let peak = explore::peak_resident_bytes();
    watch.finish();
    let cost = Cost {
        took: started.elapsed(),
        peak,
    };
    let mut code = explored.exit_code(&scenario);
    let mut written = Vec::new();
    for found in &explored.found {
        match write_counterexample(&scenario, args, &bounds, found) {
            Ok(dir) => written.push(dir),
            Err(msg) => {
                errln!("error: {msg}");
                written.push(None);
                code = code.max(2);
            }
        }
    }
    if explored.cut == Some(Cut::Interrupted) {
        code = 130;
    }
    match args.format {
        Format::Human => {
            let written = (&written[..], args.out.is_some());
            crate::out(render(&scenario, &explored, written, &cost));
        }
        Format::Json => {
            let ended = (&written[..], &cost, code);
            for line in json_lines(&scenario, &args.file, &explored, ended) {
                crate::outln(line);
            }
        }
    }
    code
}

/// The scenario to explore, with the faults its schedule names made
/// possible anywhere (and a line for each), and the faults per execution:
/// the flags', else the scenario's `explore` section's, else defaults.
fn load(args: &ExploreArgs) -> Result<(Scenario, Vec<String>, FaultBudget), u8> {
    let scenario = Scenario::load(&args.file).map_err(|e| {
        diagnostics::report(&e, args.format);
        diagnostics::exit_code(&e)
    })?;
    let asked = args.asked.or(scenario.spec().explore.unwrap_or_default());
    let scenario = match asked.messages {
        Some(messages) => explore::with_messages(&scenario, messages),
        None => Ok(scenario),
    };
    let (scenario, widened) = scenario.and_then(|s| explore::widened(&s)).map_err(|e| {
        diagnostics::report(&e, args.format);
        diagnostics::exit_code(&e)
    })?;
    Ok((scenario, widened, asked.faults()))
}

/// What is explored, under which bounds.
fn header(scenario: &Scenario, file: &str, bounds: &Bounds, widened: &[String]) -> String {
    let w = &scenario.spec().workload;
    let messages = w.producers * w.messages;
    let what = format!(
        "exploring {file}: {}, {} from {} producer{}",
        scenario.model().info().code,
        counted(u64::from(messages), "message"),
        w.producers,
        if w.producers == 1 { "" } else { "s" },
    );
    let mut out = reports::text::wrap(&what, "  ");
    out.push('\n');
    let source = if scenario.spec().explore.is_some() {
        " (flags, else the file's `explore` section)"
    } else {
        ""
    };
    out.push_str(&reports::text::wrap(
        &format!("  bounds   {}{source}", bounds_line(bounds)),
        "           ",
    ));
    out.push('\n');
    let order = match bounds.timing {
        Timing::Timed => "orders the links' delays and the timers allow",
        Timing::Untimed => {
            "any order (untimed: counterexamples may need timing the scenario forbids)"
        }
    };
    out.push_str(&reports::text::wrap(
        &format!("  orders   {order}"),
        "           ",
    ));
    out.push('\n');
    for fault in widened {
        out.push_str(&reports::text::wrap(
            &format!("  faults   {fault} (scheduled once in the file)"),
            "           ",
        ));
        out.push('\n');
    }
    let (crashes, drops, duplicates) = certain_faults(scenario);
    let certain: Vec<&str> = [
        (crashes, "crashes"),
        (drops, "drops"),
        (duplicates, "duplicates"),
    ]
    .into_iter()
    .filter_map(|(is, kind)| is.then_some(kind))
    .collect();
    if !certain.is_empty() {
        out.push_str(&reports::text::wrap(
            &format!(
                "  note     certain {} (a ratio of 1) are not choices: they happen on \
                 every execution, besides the bounds",
                and_list(&certain)
            ),
            "           ",
        ));
        out.push('\n');
    }
    let skipped = not_explored(scenario);
    if !skipped.is_empty() {
        out.push_str(&reports::text::wrap(
            &format!(
                "  note     {} not explored: every verdict below leaves them out \
                 (scheduled ones happen as scheduled)",
                and_list(&skipped)
            ),
            "           ",
        ));
        out.push('\n');
    }
    out
}

/// The random faults the scenario has that a search does not explore.
fn not_explored(scenario: &Scenario) -> Vec<&'static str> {
    let f = &scenario.spec().faults;
    [
        (!f.pause.is_empty(), "random pauses"),
        (f.clock_jump_ms_max.is_some(), "random clock jumps"),
        (f.expire.is_some(), "random expiries"),
        (f.rebalance.is_some(), "random rebalances"),
    ]
    .into_iter()
    .filter_map(|(has, what)| has.then_some(what))
    .collect()
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The bounds in one line.
fn bounds_line(bounds: &Bounds) -> String {
    let f = bounds.faults;
    let depth = bounds
        .depth
        .map_or_else(|| "the scenario's limits".to_string(), |d| d.to_string());
    let order = match (bounds.order, bounds.threads) {
        (Order::BreadthFirst, 0 | 1) => "breadth-first".to_string(),
        (Order::BreadthFirst, n) => format!("breadth-first on {n} threads"),
        (Order::DepthFirst, _) => "depth-first".to_string(),
    };
    format!(
        "crashes ≤ {}, drops ≤ {}, duplicates ≤ {}{}, depth ≤ {depth}, states ≤ {}, memory ≤ {}, {order}",
        f.crashes,
        f.drops,
        f.duplicates,
        copies(bounds),
        thousands(bounds.states),
        bytes(bounds.memory),
    )
}

/// The copies bound, as a clause of the bounds line, if there is one.
fn copies(bounds: &Bounds) -> String {
    bounds
        .copies
        .map_or_else(String::new, |c| format!(", copies of a datagram ≤ {c}"))
}

/// A fault kind's bound, and, when no execution reached it, the most
/// any had: a bound the scenario gives no chance to use claims nothing.
/// `most`: `None` when the scenario makes this kind of fault certain
/// (they happen besides the bound, uncounted).
fn fault_bound(kind: &str, bound: u32, most: Option<u32>) -> String {
    match most {
        None => format!("{kind} ≤ {bound} besides the certain ones"),
        Some(m) if m >= bound => format!("{kind} ≤ {bound}"),
        Some(0) => format!("{kind} ≤ {bound} (no execution had one)"),
        Some(m) => format!("{kind} ≤ {bound} (no execution had more than {m})"),
    }
}

/// Whether the scenario makes crashes, drops and duplicates certain
/// somewhere (a ratio of 1): such a fault is not a choice, so it happens
/// on every execution, whatever the bounds, and they do not count it.
fn certain_faults(scenario: &Scenario) -> (bool, bool, bool) {
    let spec = scenario.spec();
    let always = |r: &RatioSpec| r.1 > 0 && r.0 >= r.1;
    let network = &spec.network;
    let on_a_link = |default: &RatioSpec, link: fn(&LinkOverride) -> Option<&RatioSpec>| {
        always(default) || network.links.iter().filter_map(link).any(always)
    };
    (
        spec.faults.crash.iter().any(|k| always(&k.ratio)),
        on_a_link(&network.default.loss, |l| l.loss.as_ref()),
        on_a_link(&network.default.duplicate, |l| l.duplicate.as_ref()),
    )
}

/// The copies bound, and how many successors it left out: the verdict
/// holds only for the states within it.
fn copies_covered(e: &Explored) -> String {
    match e.progress.outside {
        0 => copies(&e.bounds),
        n => format!(
            "{} ({} past it left out)",
            copies(&e.bounds),
            counted(n, "successor")
        ),
    }
}

fn counted(n: u64, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{} {word}s", thousands(n))
    }
}

/// Write a counterexample's seedless scenario and run folder; the folder,
/// or `None` when the command writes none.
fn write_counterexample(
    scenario: &Scenario,
    args: &ExploreArgs,
    bounds: &Bounds,
    found: &Found,
) -> Result<Option<String>, String> {
    let Some(out) = &args.out else {
        return Ok(None);
    };
    if bounds.timing == Timing::Untimed {
        return Ok(None);
    }
    let min = explore::counterexample(scenario, bounds, found)?;
    let recording = crate::runfolder::record(&min, 0).map_err(|e| e.to_string())?;
    let min_file = format!("{}-explored.ron", scenario.name());
    let name = format!("{}-explore-{}", crate::runfolder::utc_stamp(), found.check);
    let dir = crate::runfolder::unused(Path::new(out).join(scenario.name()).join(name));
    crate::runfolder::write_at(&dir, &min, &recording, &min_file)?;
    let text = min_file_text(&args.file, bounds, found, &min);
    let path = dir.join(crate::shrink_cmd::MIN);
    std::fs::create_dir_all(path.parent().expect("min/ has a parent"))
        .and_then(|()| std::fs::write(&path, text))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(Some(dir.display().to_string()))
}

fn min_file_text(source: &str, bounds: &Bounds, found: &Found, min: &Scenario) -> String {
    // Only breadth-first finds a shortest one.
    let (flag, which) = match bounds.order {
        Order::BreadthFirst => ("", "a shortest execution"),
        Order::DepthFirst => (" --dfs", "an execution (depth-first: maybe not a shortest)"),
    };
    format!(
        "// Found by `{} explore {source}{flag}`:\n\
         // {which} that breaks {}, in {} events.\n\
         // Every stochastic knob is off: any seed gives this very run.\n{}",
        reports::command(),
        found.check.heading(),
        found.events(),
        models::shrink::compact_ron(min.spec()),
    )
}

/// The process's resident memory per stored state, once the states are
/// many enough that the program's own memory does not decide it.
fn per_state(e: &Explored, peak: Option<u64>) -> Option<u64> {
    (e.progress.states >= PER_STATE_FROM)
        .then(|| peak?.checked_div(e.progress.states))
        .flatten()
}

/// States from which memory per state is worth showing.
const PER_STATE_FROM: u64 = 100_000;

fn secs(took: Duration) -> String {
    format!("{:.1} s", took.as_secs_f64())
}

/// What a search cost: wall time, and the most memory the process held
/// (where the system says; read once the search is done, when what it
/// stored may already be freed).
struct Cost {
    took: Duration,
    peak: Option<u64>,
}

/// What was covered, in one sentence's worth of numbers.
fn covered(scenario: &Scenario, e: &Explored, cost: &Cost) -> String {
    let p = &e.progress;
    let f = e.bounds.faults;
    let skipped = not_explored(scenario);
    let skipped = if skipped.is_empty() {
        String::new()
    } else {
        format!(", {} not explored", and_list(&skipped))
    };
    // Only a complete search, with no successor left out by the copies
    // bound, shows that a kind of fault no path used could not happen;
    // a fault certain to happen is never counted, so never shown unused.
    let (certain, clear) = (certain_faults(scenario), e.complete() && p.outside == 0);
    let most = |certain: bool, bound: u32, most: u32| {
        if certain {
            None
        } else {
            Some(if clear { most } else { bound })
        }
    };
    let m = p.most_faults;
    format!(
        "{} states, {} transitions, depth {}, {}, {}, {}{}{skipped}, {}{}",
        thousands(p.states),
        thousands(p.transitions),
        p.depth,
        fault_bound("crashes", f.crashes, most(certain.0, f.crashes, m.crashes)),
        fault_bound("drops", f.drops, most(certain.1, f.drops, m.drops)),
        fault_bound(
            "duplicates",
            f.duplicates,
            most(certain.2, f.duplicates, m.duplicates)
        ),
        copies_covered(e),
        secs(cost.took),
        per_state(e, cost.peak).map_or_else(String::new, |b| format!(", {} per state", bytes(b))),
    )
}

fn out_path(out: &mut String, label: &str, path: &str) {
    out.push_str(&format!("    {label} {path}\n"));
}

/// The human report; `written`: each counterexample's run folder, and
/// whether they were asked for (not with `--no-report`).
fn render(
    scenario: &Scenario,
    e: &Explored,
    (written, asked): (&[Option<String>], bool),
    cost: &Cost,
) -> String {
    let mut out = String::new();
    let line = |out: &mut String, text: String, indent: &str| {
        out.push_str(&reports::text::wrap(&text, indent));
        out.push('\n');
    };
    for (found, dir) in e.found.iter().zip(written) {
        let word = if found.expected { "EXPECTED" } else { "FAIL" };
        line(
            &mut out,
            format!(
                "{word} {} in {} events: {}",
                found.check.heading(),
                found.events(),
                found.summary
            ),
            "  ",
        );
        if asked && dir.is_none() && e.bounds.timing == Timing::Untimed {
            line(
                &mut out,
                "    not written: an untimed execution may need timing the \
                 scenario forbids (explore without --untimed to write \
                 counterexamples)"
                    .to_string(),
                "      ",
            );
        }
        if let Some(dir) = dir {
            // Paths are not wrapped: they must stay whole to be copied.
            let min = Path::new(dir).join(crate::shrink_cmd::MIN);
            let command = reports::command();
            out_path(&mut out, "scenario", &min.display().to_string());
            out_path(&mut out, "report  ", &format!("{dir}/index.html"));
            out_path(
                &mut out,
                "run it  ",
                &format!("{command} run {}", min.display()),
            );
        }
    }
    for check in e.missing(scenario) {
        line(
            &mut out,
            format!(
                "MISSING {}: expected to break, but no execution within the bounds \
                 breaks it",
                check.heading()
            ),
            "  ",
        );
    }
    for (check, tally) in &e.checks {
        if let Some(why) = &tally.not_judged
            && scenario.model().info().claims.contains(check)
        {
            line(
                &mut out,
                format!("NOT JUDGED {} on some executions: {why}", check.heading()),
                "  ",
            );
        }
    }
    if e.ends.bounded > 0 {
        line(
            &mut out,
            format!(
                "note: {} executions hit the scenario's time or event limit; liveness was not \
                 judged on them",
                thousands(e.ends.bounded)
            ),
            "      ",
        );
    }
    line(&mut out, verdict_line(scenario, e, cost), "  ");
    out
}

/// The last line: what holds on every execution, or what cut the search.
fn verdict_line(scenario: &Scenario, e: &Explored, cost: &Cost) -> String {
    let covered = covered(scenario, e, cost);
    if e.failed() {
        return format!(
            "FAIL: a check the scenario does not expect breaks; the search stopped after \
             {covered}"
        );
    }
    if let Some(cut) = e.cut {
        return format!(
            "INCONCLUSIVE: the search was cut by {} after {covered}; nothing is claimed for \
             what it did not reach",
            cut.describe()
        );
    }
    let held: Vec<String> = scenario
        .model()
        .info()
        .claims
        .iter()
        .filter(|c| {
            e.checks
                .iter()
                .any(|(k, t)| k == *c && t.held > 0 && t.not_judged.is_none())
        })
        .map(ToString::to_string)
        .collect();
    if held.is_empty() {
        format!("explored every execution: {covered}")
    } else {
        format!("{} hold on every execution: {covered}", held.join(", "))
    }
}

/// The JSON lines: a counterexample per check broken, and the end, with
/// the exit code the command returns (`exit_code`: a counterexample that
/// could not be written, or an interrupt, changes it).
fn json_lines(
    scenario: &Scenario,
    file: &str,
    e: &Explored,
    (written, cost, exit_code): (&[Option<String>], &Cost, u8),
) -> Vec<String> {
    let mut lines = Vec::new();
    for (found, dir) in e.found.iter().zip(written) {
        lines.push(
            json!({
                "schema": 1,
                "type": "counterexample",
                "check": found.check.to_string(),
                "expected": found.expected,
                "events": found.events(),
                "summary": found.summary,
                "run_folder": dir,
            })
            .to_string(),
        );
    }
    let p = &e.progress;
    let f = e.bounds.faults;
    let mut checks: serde_json::Map<String, serde_json::Value> = e
        .checks
        .iter()
        .map(|(c, t)| {
            let broke = e.found.iter().any(|f| f.check == *c);
            // Held only on a search that covered every execution: else
            // only the executions reached are known not to break it.
            let status = if broke {
                "violated"
            } else if t.not_judged.is_some() {
                "not_judged"
            } else if e.complete() {
                "held"
            } else {
                "unbroken_so_far"
            };
            (
                c.to_string(),
                json!({"status": status, "why_not_judged": t.not_judged}),
            )
        })
        .collect();
    // A check broken on a state before any execution ended has no tally:
    // it is violated all the same.
    for found in &e.found {
        checks
            .entry(found.check.to_string())
            .or_insert_with(|| json!({"status": "violated", "why_not_judged": null}));
    }
    lines.push(
        json!({
            "schema": 1,
            "type": "explore_end",
            "file": file,
            "model": scenario.model().name(),
            "exit_code": exit_code,
            "complete": e.complete(),
            "cut": e.cut.map(Cut::describe),
            "states": p.states,
            "transitions": p.transitions,
            "outside_copies_bound": p.outside,
            "most_faults": {
                "crashes": p.most_faults.crashes,
                "drops": p.most_faults.drops,
                "duplicates": p.most_faults.duplicates,
            },
            "depth": p.depth,
            "resident_bytes": cost.peak,
            "bytes_per_state": per_state(e, cost.peak),
            "bounds": {
                "crashes": f.crashes, "drops": f.drops, "duplicates": f.duplicates,
                "depth": e.bounds.depth, "states": e.bounds.states, "memory": e.bounds.memory,
                "copies": e.bounds.copies,
                "timed": e.bounds.timing == Timing::Timed,
                "breadth_first": e.bounds.order == Order::BreadthFirst,
                "threads": e.bounds.threads,
                "not_explored": not_explored(scenario),
            },
            "ends": {"quiet": e.ends.quiet, "stuck": e.ends.stuck, "bounded": e.ends.bounded},
            "checks": checks,
            "missing": e.missing(scenario).map(|c| c.to_string()).collect::<Vec<_>>(),
            "wall_s": cost.took.as_secs_f64(),
        })
        .to_string(),
    );
    lines
}

/// Progress on stderr: a spinner on a terminal, a line every five seconds
/// otherwise, JSON lines with `--format json`.
struct Watch {
    bar: Option<ProgressBar>,
    lines: bool,
    json: bool,
    last: Instant,
}

impl Watch {
    fn new(progress: sweep_cmd::Progress, format: Format) -> Watch {
        use sweep_cmd::Progress as P;
        let terminal = std::io::stderr().is_terminal();
        let bar = matches!(progress, P::Bar) || (progress == P::Auto && terminal);
        let bar = bar.then(|| {
            let bar = ProgressBar::new_spinner();
            let style = ProgressStyle::with_template("[{elapsed}] {spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            bar.set_style(style);
            bar
        });
        let lines = progress == P::Lines || (progress == P::Auto && !terminal);
        Watch {
            bar,
            lines,
            // `--progress none` is silent in every format.
            json: format == Format::Json && progress != P::None,
            last: Instant::now(),
        }
    }

    /// Show `p`; a cut once Ctrl-C was pressed or the process holds more
    /// than `memory` bytes.
    fn tick(&mut self, p: &Progress, memory: u64) -> Option<Cut> {
        let text = format!(
            "{} states · {} transitions · depth {} · {} waiting",
            thousands(p.states),
            thousands(p.transitions),
            p.depth,
            thousands(p.frontier)
        );
        if let Some(bar) = &self.bar {
            bar.set_message(text);
            bar.tick();
        } else if (self.lines || self.json) && self.last.elapsed() >= Duration::from_secs(5) {
            self.last = Instant::now();
            if self.json {
                let line = json!({
                    "schema": 1, "type": "explore_progress", "states": p.states,
                    "transitions": p.transitions, "depth": p.depth, "frontier": p.frontier,
                });
                errln!("{line}");
            } else {
                errln!("explore: {text}");
            }
        }
        if INTERRUPTED.load(Ordering::Relaxed) {
            Some(Cut::Interrupted)
        } else if explore::resident_bytes().is_some_and(|b| b > memory) {
            Some(Cut::Memory)
        } else {
            None
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(network: &str, faults: &str) -> Scenario {
        let text = format!(
            "Scenario(name: \"t\", model: M2, workload: (messages: 1), \
             network: {network}, faults: {faults}, expect: Pass)"
        );
        Scenario::parse("t.ron", &text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn faults_with_a_ratio_of_one_are_certain_and_others_are_not() {
        let none = scenario("(default: (loss: Ratio(1, 10)))", "()");
        assert_eq!(certain_faults(&none), (false, false, false));
        let one_link = scenario(
            "(links: [(from: \"broker\", to: \"producer-1\", loss: Ratio(1, 1))])",
            "(crash: [(ratio: Ratio(1, 1))])",
        );
        assert_eq!(certain_faults(&one_link), (true, true, false));
    }

    #[test]
    fn a_certain_fault_is_never_shown_as_unused() {
        assert_eq!(
            fault_bound("drops", 2, None),
            "drops ≤ 2 besides the certain ones"
        );
        assert_eq!(
            fault_bound("drops", 2, Some(0)),
            "drops ≤ 2 (no execution had one)"
        );
        assert_eq!(fault_bound("drops", 2, Some(2)), "drops ≤ 2");
    }
}
