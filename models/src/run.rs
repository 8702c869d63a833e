//! Running a scenario at a seed and judging the result against what the
//! author expected.

use sim_core::{Buffers, Choices, EndReason, Realized, RunEnd, Seeded, Sim, SimTime, TraceEvent};

use crate::check::{self, CheckId, CheckInput, CheckResult, Status, Violation};
use crate::history::Ledger;
use crate::protocols::Model;
use crate::roles::Node;
use crate::scenario::Scenario;

/// How one check came out, judged against the scenario's `expect`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Judgement {
    /// It held and was not expected to break.
    Pass(String),
    /// It broke and was not expected to: a claimed guarantee failed.
    Fail(Vec<Violation>),
    /// It broke, as the scenario expects.
    Expected(Vec<Violation>),
    /// The scenario expects it to break, but it did not (or could not be
    /// judged).
    Missing(String),
    /// It does not apply to this run.
    Skip(String),
    /// It applies but was not evaluated (the law probe is off, a handler
    /// cannot be probed).
    Unchecked(String),
}

impl Judgement {
    /// The judgement as a word: `PASS`, `FAIL`, `EXPECTED`, `MISSING`, `SKIP`,
    /// `UNCHECKED`.
    pub fn word(&self) -> &'static str {
        match self {
            Judgement::Pass(_) => "PASS",
            Judgement::Fail(_) => "FAIL",
            Judgement::Expected(_) => "EXPECTED",
            Judgement::Missing(_) => "MISSING",
            Judgement::Skip(_) => "SKIP",
            Judgement::Unchecked(_) => "UNCHECKED",
        }
    }
}

/// A check and its judgement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judged {
    /// The check.
    pub check: CheckId,
    /// The judgement.
    pub judgement: Judgement,
}

/// The verdict of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every check as expected.
    Pass,
    /// An unexpected violation.
    Fail,
    /// An expected violation did not occur, or a bound cut the run short.
    Inconclusive,
}

impl Verdict {
    /// The process exit code (0 pass, 1 unexpected violation, 3 inconclusive).
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Pass => 0,
            Verdict::Fail => 1,
            Verdict::Inconclusive => 3,
        }
    }

    /// Lowercase word for JSON.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// Everything a finished run reports.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The seed.
    pub seed: u64,
    /// How the engine run ended.
    pub end: RunEnd,
    /// When faults stopped.
    pub healed_at: SimTime,
    /// The per-message ledger.
    pub ledger: Ledger,
    /// Each check, judged.
    pub checks: Vec<Judged>,
    /// The verdict.
    pub verdict: Verdict,
    /// The checks the model claims that were not evaluated, each with why:
    /// a pass with these is not a plain pass.
    pub unchecked: Vec<(CheckId, String)>,
    /// Actor names, by id.
    pub names: Vec<String>,
    /// The trace, if recorded.
    pub trace: Vec<TraceEvent>,
}

impl RunReport {
    /// Messages the workload sent.
    pub fn messages(&self) -> usize {
        self.ledger.messages.len()
    }

    /// Events of the run: deliveries, drops, timers, crashes and restarts
    /// (sends are not counted; the same number whatever was recorded).
    pub fn events(&self) -> u64 {
        let s = self.end.stats;
        s.delivered + s.dropped + s.timers + s.crashes + s.restarts
    }

    /// Retries over all messages (re-sends after a producer's restart are
    /// not retries).
    pub fn retries(&self) -> u64 {
        self.ledger
            .messages
            .values()
            .map(|m| u64::from(m.retries()))
            .sum()
    }

    /// Whether `check` was violated, expected or not.
    pub fn violates(&self, check: CheckId) -> bool {
        self.checks.iter().any(|j| {
            j.check == check && matches!(j.judgement, Judgement::Fail(_) | Judgement::Expected(_))
        })
    }

    /// Every violation, expected or not, in check order.
    pub fn violations(&self) -> impl Iterator<Item = (&Violation, bool)> {
        self.checks.iter().flat_map(|j| match &j.judgement {
            Judgement::Fail(v) => v.iter().map(|v| (v, false)).collect::<Vec<_>>(),
            Judgement::Expected(v) => v.iter().map(|v| (v, true)).collect(),
            _ => Vec::new(),
        })
    }
}

/// Run `scenario` at `seed`; record the trace if asked.
pub fn run(scenario: &Scenario, seed: u64, record_trace: bool) -> RunReport {
    let mut sim = scenario.sim(Seeded::new(seed));
    if record_trace {
        sim.record_trace();
    }
    finish_keeping(scenario, seed, sim, Stories::Told).0
}

/// Run `scenario` at `seed` for its checks alone: the trace is not
/// recorded, and its violations carry their checks, summaries and causes,
/// not their stories (a shrinker's candidates are read for which checks
/// they break).
pub fn run_for_checks(scenario: &Scenario, seed: u64) -> RunReport {
    let sim = scenario.sim(Seeded::new(seed));
    finish_keeping(scenario, seed, sim, Stories::Left).0
}

/// Run `scenario` at `seed` and keep every fault that happened, named so that
/// it can be scheduled (for shrinking); the trace is not recorded, and, as
/// with [`run_for_checks`], the violations tell no story.
pub fn run_keeping_faults(scenario: &Scenario, seed: u64) -> (RunReport, Vec<Realized>) {
    let mut sim = scenario.sim(Seeded::new(seed));
    sim.record_faults();
    let (report, sim) = finish_keeping(scenario, seed, sim, Stories::Left);
    let realized = sim.realized().unwrap_or_default().to_vec();
    (report, realized)
}

/// Run `scenario` at `seed` on the buffers of an earlier run, and keep them
/// for the next (see [`Buffers`]); the trace is not recorded. For a sweep:
/// its violations carry their checks, summaries and causes, not their
/// stories (a sweep reads the checks and causes only).
pub fn run_reusing(scenario: &Scenario, seed: u64, buffers: &mut Buffers<Node>) -> RunReport {
    let sim = scenario.sim_reusing(Seeded::new(seed), std::mem::take(buffers));
    let (report, sim) = finish_keeping(scenario, seed, sim, Stories::Left);
    *buffers = sim.into_buffers();
    report
}

/// Whether a run's violations tell their stories: the lines a report
/// shows under each. The checks, summaries and causes are the same either
/// way.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stories {
    Told,
    Left,
}

/// Run to the end, check, and judge; hand the engine back.
fn finish_keeping(
    scenario: &Scenario,
    seed: u64,
    mut sim: Sim<Node, Seeded>,
    stories: Stories,
) -> (RunReport, Sim<Node, Seeded>) {
    let end = sim.run();
    let report = report_telling(scenario, seed, end, &sim, stories);
    (report, sim)
}

/// Check and judge a finished run.
pub(crate) fn report_of<C: Choices>(
    scenario: &Scenario,
    seed: u64,
    end: RunEnd,
    sim: &Sim<Node, C>,
) -> RunReport {
    report_telling(scenario, seed, end, sim, Stories::Told)
}

/// [`report_of`], its violations' stories told or left out.
fn report_telling<C: Choices>(
    scenario: &Scenario,
    seed: u64,
    end: RunEnd,
    sim: &Sim<Node, C>,
    stories: Stories,
) -> RunReport {
    // Two runs with the same events can observe different outcomes (a
    // refused write, a probe's verdict): the digest covers both.
    let mut end = end;
    end.digest = end.digest.covering(sim.history());
    let everything = |_| true;
    let (ledger, checks) =
        judged_those(scenario, &end, sim, (everything, stories == Stories::Told));
    let verdict = verdict(&checks, end.reason);
    let unchecked = unchecked_claims(&checks, scenario.model());
    RunReport {
        unchecked,
        seed,
        end,
        healed_at: scenario.plan().faults_until,
        checks,
        verdict,
        names: sim.names().to_vec(),
        trace: sim.trace().to_vec(),
        ledger,
    }
}

/// The ledger of a run that ended with `end`, and the checks `wanted`
/// picks on it, judged against the scenario's `expect`; their violations
/// with their `stories` or without.
pub(crate) fn judged_those<C: Choices>(
    scenario: &Scenario,
    end: &RunEnd,
    sim: &Sim<Node, C>,
    (wanted, stories): (impl Fn(CheckId) -> bool, bool),
) -> (Ledger, Vec<Judged>) {
    let w = &scenario.spec().workload;
    let messages = w.producers as usize * w.messages as usize;
    let ledger = Ledger::build_expecting(sim.history(), messages);
    let input = CheckInput {
        model: scenario.model(),
        ledger: &ledger,
        end,
        healed_at: scenario.plan().faults_until,
        names: sim.names(),
        probe: scenario.spec().consumer.law_probe,
        ordered_delivery: scenario.ordered_delivery(),
        stories,
    };
    let results = check::run_those(&input, wanted);
    let checks = judge(results, scenario.expected());
    (ledger, checks)
}

/// Judge each check result against the expected violations.
pub fn judge(results: Vec<CheckResult>, expected: &[CheckId]) -> Vec<Judged> {
    results
        .into_iter()
        .map(|r| {
            let wanted = expected.contains(&r.check);
            let judgement = match (r.status, wanted) {
                (Status::Violated(v), true) => Judgement::Expected(v),
                (Status::Violated(v), false) => Judgement::Fail(v),
                (Status::Held(why), false) => Judgement::Pass(why),
                (Status::Skipped(why), false) => Judgement::Skip(why),
                (Status::Unchecked(why), false) => Judgement::Unchecked(why),
                (Status::Held(why) | Status::Skipped(why) | Status::Unchecked(why), true) => {
                    Judgement::Missing(format!("expected a violation, but: {why}"))
                }
            };
            Judged {
                check: r.check,
                judgement,
            }
        })
        .collect()
}

/// The checks `model` claims that were not evaluated, or only in part (a
/// law that held on the handlers the probe replays, while others it
/// cannot), each with why.
fn unchecked_claims(checks: &[Judged], model: Model) -> Vec<(CheckId, String)> {
    let claims = model.info().claims;
    let unprobed = model.unit().unprobed();
    let partly = |check: CheckId| {
        let u = unprobed.first().filter(|_| check.is_law())?;
        Some(format!(
            "checked only where probed: the law probe cannot replay {}: {}",
            u.handler, u.why
        ))
    };
    checks
        .iter()
        .filter(|j| claims.contains(&j.check))
        .filter_map(|j| match &j.judgement {
            Judgement::Unchecked(why) => Some((j.check, why.clone())),
            Judgement::Pass(_) => partly(j.check).map(|why| (j.check, why)),
            _ => None,
        })
        .collect()
}

fn verdict(checks: &[Judged], reason: EndReason) -> Verdict {
    if checks
        .iter()
        .any(|j| matches!(j.judgement, Judgement::Fail(_)))
    {
        Verdict::Fail
    } else if reason.is_bound()
        || checks
            .iter()
            .any(|j| matches!(j.judgement, Judgement::Missing(_)))
    {
        Verdict::Inconclusive
    } else {
        Verdict::Pass
    }
}
