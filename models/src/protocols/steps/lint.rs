//! What is wrong with a step program before it runs, each problem at the
//! step it is about.
//!
//! Besides the shape rules (one `CommitOffset`, first or last; nothing in
//! an `Atomic` that a database transaction cannot hold), it decides by
//! abstract interpretation what each step can see: the statuses a message's
//! row can have and whether its id can be in each seen-set, over every
//! handling of the message (a first delivery finds no row; later ones find
//! what earlier handlings, crashes and the recovery worker left). A
//! condition that can never hold tests a status or an id that nothing sets
//! before it; an effect that no path reaches is behind a condition that
//! always skips. Claims that the steps' shape contradicts whatever the run
//! does are caught too.

use std::collections::BTreeSet;

use super::{HandlerStep, Producer, Program, SeenSet, Status, Then, recovered};
use crate::vocab::CheckId;

/// One problem, at a value path inside the program (`consumer[2]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where, below the model (`consumer[3][0][1]` is the second step of
    /// the `Atomic` at step 4).
    pub path: String,
    /// The diagnostic's code.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// A few words under the step.
    pub label: String,
    /// How to fix it.
    pub help: Option<String>,
}

/// Every problem of `program`, in no particular order.
pub fn check(program: &Program) -> Vec<Problem> {
    let mut out = Vec::new();
    name(program, &mut out);
    shape(program, &mut out);
    recovery(program, &mut out);
    if out.is_empty() {
        reach(program, &mut out);
        claims(program, &mut out);
    }
    out
}

fn problem(path: String, code: &'static str, message: String, label: &str) -> Problem {
    Problem {
        path,
        code,
        message,
        label: label.to_string(),
        help: None,
    }
}

fn with_help(mut p: Problem, help: &str) -> Problem {
    p.help = Some(help.to_string());
    p
}

/// The longest name: it fits the model column of `eosim matrix`.
pub const NAME_CHARS_MAX: usize = 14;

/// A name is letters, digits and `-`, short, and not a catalogue model's.
fn name(program: &Program, out: &mut Vec<Problem>) {
    let Some(name) = &program.name else {
        return;
    };
    let well_formed = !name.is_empty()
        && name.len() <= NAME_CHARS_MAX
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let taken = crate::protocols::registry().find(name);
    if !well_formed {
        out.push(problem(
            "name".into(),
            "steps::bad-name",
            format!(
                "a step program's name is 1 to {NAME_CHARS_MAX} letters, digits or `-`; \
                 `{name}` is not"
            ),
            "reports and the matrix print it",
        ));
    } else if let Some(model) = taken {
        out.push(problem(
            "name".into(),
            "steps::bad-name",
            format!(
                "`{name}` is the catalogue's {}: reports could not tell them apart",
                model.info().code
            ),
            "taken",
        ));
    }
}

/// One `CommitOffset`, first or last; one effect; `Atomic` holds only
/// database steps; `IfStatus` names one status.
fn shape(program: &Program, out: &mut Vec<Problem>) {
    let steps = &program.consumer;
    if steps.is_empty() {
        out.push(problem(
            "consumer".into(),
            "steps::empty",
            "the consumer has no steps".into(),
            "empty",
        ));
        return;
    }
    let commits: Vec<usize> = (0..steps.len())
        .filter(|i| steps[*i] == HandlerStep::CommitOffset)
        .collect();
    let nested_commit = steps.iter().any(|s| match s {
        HandlerStep::Atomic(inner) => inner.contains(&HandlerStep::CommitOffset),
        _ => false,
    });
    match commits.as_slice() {
        [] if nested_commit => {}
        [] => out.push(with_help(
            problem(
                "consumer".into(),
                "steps::no-offset-commit",
                "the handler never commits its offset: every record would be redelivered forever"
                    .into(),
                "no CommitOffset",
            ),
            "add CommitOffset last (process, then commit) or first (commit, then process)",
        )),
        [i] if *i != 0 && *i != steps.len() - 1 => out.push(with_help(
            problem(
                format!("consumer[{i}]"),
                "steps::offset-commit-in-the-middle",
                format!(
                    "CommitOffset is step {} of {}: it must be the first step (commit, then \
                     process) or the last (process, then commit)",
                    i + 1,
                    steps.len()
                ),
                "move it first or last",
            ),
            "a consumer that commits halfway keeps no position for the steps after it",
        )),
        [_] => {}
        [_, again, ..] => out.push(problem(
            format!("consumer[{again}]"),
            "steps::offset-commit-twice",
            "the handler commits its offset twice".into(),
            "a second CommitOffset",
        )),
    }
    let effects = effect_paths(steps);
    match effects.as_slice() {
        [] => out.push(with_help(
            problem(
                "consumer".into(),
                "steps::no-effect",
                "no step applies the effect: the handler does nothing with a record".into(),
                "no Effect",
            ),
            "add Effect (a write in the consumer's database) or ExternalCall (a call to \
             another service)",
        )),
        [_] => {}
        [_, again, ..] => out.push(problem(
            again.clone(),
            "steps::effect-twice",
            "the handler applies the effect twice for one record".into(),
            "a second effect",
        )),
    }
    for (i, step) in steps.iter().enumerate() {
        step_shape(step, &format!("consumer[{i}]"), false, out);
    }
    if steps.first() == Some(&HandlerStep::CommitOffset) {
        for path in retry_paths(steps) {
            out.push(with_help(
                problem(
                    path,
                    "steps::retry-after-commit",
                    "Retry leaves a record uncommitted, but this handler commits its offset \
                     first: the record cannot come again"
                        .into(),
                    "already committed",
                ),
                "use Skip, or move CommitOffset last",
            ));
        }
    }
}

/// Paths of the conditions that say `Retry`.
fn retry_paths(steps: &[HandlerStep]) -> Vec<String> {
    let retries = |s: &HandlerStep| match s {
        HandlerStep::IfStatus { then, .. } | HandlerStep::IfSeen { then, .. } => {
            *then == Then::Retry
        }
        _ => false,
    };
    let mut out = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        if retries(step) {
            out.push(format!("consumer[{i}]"));
        }
        if let HandlerStep::Atomic(inner) = step {
            out.extend(
                inner
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| retries(s))
                    .map(|(j, _)| format!("consumer[{i}][0][{j}]")),
            );
        }
    }
    out
}

/// Paths of the steps that apply the effect, in order (inside `Atomic`s
/// too, even where one does not belong: that has an error of its own).
fn effect_paths(steps: &[HandlerStep]) -> Vec<String> {
    fn walk(steps: &[HandlerStep], prefix: &str, out: &mut Vec<String>) {
        for (i, step) in steps.iter().enumerate() {
            match step {
                HandlerStep::Effect | HandlerStep::ExternalCall => {
                    out.push(format!("{prefix}[{i}]"));
                }
                HandlerStep::Atomic(inner) => walk(inner, &format!("{prefix}[{i}][0]"), out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(steps, "consumer", &mut out);
    out
}

fn step_shape(step: &HandlerStep, path: &str, in_atomic: bool, out: &mut Vec<Problem>) {
    match step {
        HandlerStep::IfStatus { is, is_not, .. } if is.is_some() == is_not.is_some() => {
            out.push(problem(
                path.into(),
                "steps::if-status",
                "IfStatus needs exactly one of `is` and `is_not`".into(),
                "which status?",
            ));
        }
        HandlerStep::Atomic(_) if in_atomic => {
            out.push(problem(
                path.into(),
                "steps::nested-atomic",
                "an Atomic inside an Atomic: the outer one is already one transaction".into(),
                "nested",
            ));
        }
        HandlerStep::Atomic(inner) => {
            if inner.is_empty() {
                out.push(problem(
                    path.into(),
                    "steps::empty-atomic",
                    "an Atomic with no steps".into(),
                    "empty",
                ));
            }
            for (j, s) in inner.iter().enumerate() {
                step_shape(s, &format!("{path}[0][{j}]"), true, out);
            }
        }
        HandlerStep::ExternalCall if in_atomic => out.push(with_help(
            problem(
                path.into(),
                "steps::external-in-atomic",
                "an external call cannot join the database transaction: the other service \
                 commits it on its own, and nothing rolls it back"
                    .into(),
                "not transactional",
            ),
            "use Effect for a write in the consumer's database, or take the ExternalCall out \
             of the Atomic (and watch a crash after it)",
        )),
        HandlerStep::CommitOffset if in_atomic => out.push(with_help(
            problem(
                path.into(),
                "steps::commit-in-atomic",
                "the offset commit goes to the broker: it cannot join the database transaction"
                    .into(),
                "not in the database",
            ),
            "put CommitOffset after the Atomic",
        )),
        HandlerStep::MarkSeen(SeenSet::Memory)
        | HandlerStep::IfSeen {
            set: SeenSet::Memory,
            ..
        } if in_atomic => out.push(problem(
            path.into(),
            "steps::memory-in-atomic",
            "the memory seen-set is not in the database: a transaction cannot hold it".into(),
            "volatile",
        )),
        _ => {}
    }
}

/// The recovery worker only reads and sets rows' statuses, and needs rows.
fn recovery(program: &Program, out: &mut Vec<Problem>) {
    for (i, step) in program.recovery.iter().enumerate() {
        let ok = match step {
            HandlerStep::SetStatus(_) => true,
            HandlerStep::IfStatus { then, .. } => {
                step_shape(step, &format!("recovery[{i}]"), false, out);
                *then != Then::Retry
            }
            _ => false,
        };
        if !ok {
            out.push(with_help(
                problem(
                    format!("recovery[{i}]"),
                    "steps::recovery-step",
                    format!("the recovery worker cannot run `{step}`"),
                    "not a recovery step",
                ),
                "the recovery worker reads and sets a row's status: IfStatus(is: Processing, \
                 then: SetStatus(Unprocessed))",
            ));
        }
    }
    let writes_table = program.consumer.iter().any(writes_rows);
    if !program.recovery.is_empty() && !writes_table {
        out.push(with_help(
            problem(
                "recovery".into(),
                "steps::recovery-without-rows",
                "the recovery worker has no rows to work on: no consumer step writes the \
                 message table"
                    .into(),
                "nothing to recover",
            ),
            "start the handler with InsertRow, or leave the recovery out",
        ));
    }
}

fn writes_rows(step: &HandlerStep) -> bool {
    match step {
        HandlerStep::InsertRow | HandlerStep::SetStatus(_) => true,
        HandlerStep::IfStatus { then, .. } => matches!(then, Then::SetStatus(_)),
        HandlerStep::Atomic(inner) => inner.iter().any(writes_rows),
        _ => false,
    }
}

/// What a step can see: the statuses the message's row can have, and
/// whether its id can be in each seen-set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Seen {
    status: BTreeSet<Status>,
    durable: BTreeSet<bool>,
    memory: BTreeSet<bool>,
    window: BTreeSet<bool>,
}

impl Seen {
    fn first_delivery() -> Seen {
        Seen {
            status: [Status::Absent].into(),
            durable: [false].into(),
            memory: [false].into(),
            window: [false].into(),
        }
    }

    fn join(&mut self, other: &Seen) {
        self.status.extend(&other.status);
        self.durable.extend(&other.durable);
        self.memory.extend(&other.memory);
        self.window.extend(&other.window);
    }

    fn set(&mut self, set: SeenSet) -> &mut BTreeSet<bool> {
        match set {
            SeenSet::Durable => &mut self.durable,
            SeenSet::Memory => &mut self.memory,
            SeenSet::Window => &mut self.window,
        }
    }
}

/// What the walk learnt about one step.
#[derive(Clone, Debug, Default)]
struct Fact {
    path: String,
    reached: bool,
    /// For a condition: whether it can hold, and whether it can fail.
    can_hold: bool,
    can_fail: bool,
}

/// One walk over the handler from what a handling can start with.
#[derive(Default)]
struct Walk {
    /// What a handling can leave behind (at each crash point, at a skip, at
    /// the end).
    left: Seen,
    facts: Vec<Fact>,
    /// The first condition that always skips, with its path.
    cut: Option<(String, String)>,
}

impl Walk {
    fn fact(&mut self, path: &str) -> &mut Fact {
        let i = match self.facts.iter().position(|f| f.path == path) {
            Some(i) => i,
            None => {
                self.facts.push(Fact {
                    path: path.to_string(),
                    ..Fact::default()
                });
                self.facts.len() - 1
            }
        };
        &mut self.facts[i]
    }

    /// Walk `steps` from `now` (`None`: no path gets here); returns what
    /// goes on after them.
    fn steps(
        &mut self,
        steps: &[HandlerStep],
        prefix: &str,
        mut now: Option<Seen>,
    ) -> Option<Seen> {
        let top = !prefix.contains('[');
        for (i, step) in steps.iter().enumerate() {
            let path = format!("{prefix}[{i}]");
            let Some(state) = now.take() else {
                self.fact(&path);
                continue;
            };
            self.fact(&path).reached = true;
            now = self.step(step, &path, state);
            if top && let Some(s) = &now {
                self.left.join(s);
            }
        }
        now
    }

    fn step(&mut self, step: &HandlerStep, path: &str, mut s: Seen) -> Option<Seen> {
        match step {
            HandlerStep::InsertRow => {
                if s.status.remove(&Status::Absent) {
                    s.status.insert(Status::Unprocessed);
                }
                Some(s)
            }
            HandlerStep::SetStatus(x) => {
                s.status = [*x].into();
                Some(s)
            }
            HandlerStep::MarkSeen(set) => {
                *s.set(*set) = [true].into();
                Some(s)
            }
            HandlerStep::IfStatus { is, is_not, then } => {
                let holds =
                    |x: &Status| is.is_some_and(|i| i == *x) || is_not.is_some_and(|n| n != *x);
                let (hit, miss): (BTreeSet<Status>, BTreeSet<Status>) =
                    s.status.iter().partition(|x| holds(x));
                let mut on_hit = s.clone();
                on_hit.status = hit;
                let mut on_miss = s;
                on_miss.status = miss;
                self.branch(path, step, on_hit, on_miss, then)
            }
            HandlerStep::IfSeen { set, then } => {
                let mut on_hit = s.clone();
                let mut on_miss = s;
                on_hit.set(*set).retain(|b| *b);
                on_miss.set(*set).retain(|b| !*b);
                let hit = if on_hit.set(*set).is_empty() {
                    Seen::default()
                } else {
                    on_hit
                };
                let miss = if on_miss.set(*set).is_empty() {
                    Seen::default()
                } else {
                    on_miss
                };
                self.branch(path, step, hit, miss, then)
            }
            HandlerStep::Atomic(inner) => self.steps(inner, &format!("{path}[0]"), Some(s)),
            HandlerStep::Effect | HandlerStep::ExternalCall | HandlerStep::CommitOffset => Some(s),
        }
    }

    /// A condition split what a step sees into `hit` and `miss` (empty
    /// status sets: no such case).
    fn branch(
        &mut self,
        path: &str,
        step: &HandlerStep,
        hit: Seen,
        miss: Seen,
        then: &Then,
    ) -> Option<Seen> {
        let (can_hold, can_fail) = (!hit.status.is_empty(), !miss.status.is_empty());
        let fact = self.fact(path);
        fact.can_hold |= can_hold;
        fact.can_fail |= can_fail;
        match then {
            Then::Skip | Then::Retry => {
                self.left.join(&hit);
                if !can_fail && self.cut.is_none() {
                    self.cut = Some((path.to_string(), step.to_string()));
                }
                can_fail.then_some(miss)
            }
            Then::SetStatus(x) => {
                let mut after = miss;
                if can_hold {
                    let mut set = hit;
                    set.status = [*x].into();
                    after.join(&set);
                }
                (!after.status.is_empty()).then_some(after)
            }
        }
    }
}

/// What any handling of a message can start with: a first delivery, and
/// whatever earlier handlings, crashes and the recovery worker left.
fn reachable_starts(program: &Program) -> Seen {
    let mut start = Seen::first_delivery();
    for _ in 0..16 {
        let mut walk = Walk::default();
        walk.left.join(&start);
        walk.steps(&program.consumer, "consumer", Some(start.clone()));
        let mut next = start.clone();
        next.join(&walk.left);
        let recovered_rows: Vec<Status> = walk
            .left
            .status
            .iter()
            .map(|s| status_of(recovered(s.row(), &program.recovery)))
            .collect();
        next.status.extend(recovered_rows);
        // A crash empties the memory seen-set.
        next.memory.insert(false);
        if next == start {
            break;
        }
        start = next;
    }
    start
}

fn status_of(row: crate::roles::RowStatus) -> Status {
    Status::ALL
        .into_iter()
        .find(|s| s.row() == row)
        .unwrap_or(Status::Absent)
}

/// Conditions that can never hold, and effects that no path reaches.
fn reach(program: &Program, out: &mut Vec<Problem>) {
    let mut walk = Walk::default();
    walk.steps(
        &program.consumer,
        "consumer",
        Some(reachable_starts(program)),
    );
    for fact in &walk.facts {
        let step = step_at(program, &fact.path);
        let is_condition = matches!(
            step,
            Some(HandlerStep::IfStatus { .. } | HandlerStep::IfSeen { .. })
        );
        if fact.reached && is_condition && !fact.can_hold {
            out.push(never_holds(fact, step));
        }
    }
    for path in effect_paths(&program.consumer) {
        let reached = walk.facts.iter().any(|f| f.path == path && f.reached);
        if !reached {
            let why = match &walk.cut {
                Some((_, step)) => format!("`{step}` always skips before it"),
                None => "every path ends before it".into(),
            };
            out.push(problem(
                path,
                "steps::unreachable-effect",
                format!("no path reaches the effect: {why}"),
                "never runs",
            ));
        }
    }
}

fn never_holds(fact: &Fact, step: Option<&HandlerStep>) -> Problem {
    let (message, help) = match step {
        Some(HandlerStep::IfSeen { set, .. }) => (
            format!(
                "this check can never find the id: nothing records it in the {} seen-set \
                 before this step",
                match set {
                    SeenSet::Durable => "durable",
                    SeenSet::Memory => "memory",
                    SeenSet::Window => "window",
                }
            ),
            format!("record it with MarkSeen({set:?}) after the effect, or with it in an Atomic"),
        ),
        Some(HandlerStep::IfStatus { is, is_not, .. }) => {
            let status = is.or(*is_not).map_or("that status", Status::word);
            (
                format!(
                    "this check can never hold: the row's status is used before any step sets \
                     it to `{status}`"
                ),
                "set the status in an earlier step (InsertRow, SetStatus), or drop the check"
                    .to_string(),
            )
        }
        _ => (String::from("this condition can never hold"), String::new()),
    };
    Problem {
        path: fact.path.clone(),
        code: "steps::never-holds",
        message,
        label: "never holds".into(),
        help: (!help.is_empty()).then_some(help),
    }
}

/// The step at `path` (`consumer[3][0][1]`).
fn step_at<'p>(program: &'p Program, path: &str) -> Option<&'p HandlerStep> {
    let rest = path.strip_prefix("consumer")?;
    let indices: Vec<usize> = rest
        .split(['[', ']'])
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    match indices.as_slice() {
        [i] => program.consumer.get(*i),
        [i, 0, j] => match program.consumer.get(*i)? {
            HandlerStep::Atomic(inner) => inner.get(*j),
            _ => None,
        },
        _ => None,
    }
}

/// Claims the steps' shape contradicts in every run with a crash: a
/// commit-first handler cannot promise no loss; a handler in which a
/// record whose handling completed reaches the effect again when it comes
/// back cannot promise no duplicate effect; one that retries such a record
/// cannot promise liveness.
fn claims(program: &Program, out: &mut Vec<Problem>) {
    let claims = super::StepProtocol::claimed(&program.claims);
    let steps = &program.consumer;
    let commit_first = steps.first() == Some(&HandlerStep::CommitOffset);
    let claims_no_loss = [CheckId::C1, CheckId::C8]
        .iter()
        .any(|c| claims.contains(c));
    if commit_first && claims_no_loss && steps.len() > 1 {
        out.push(with_help(
            problem(
                "claims".into(),
                "steps::claim-against-shape",
                "the claims include no loss (C1, C8), but the handler commits the offset before \
                 the effect: a crash between them loses the record, and nothing redelivers it"
                    .into(),
                "cannot hold",
            ),
            "claim AtMostOnce, or move CommitOffset last",
        ));
    }
    let redelivered = !commit_first || program.producer == Producer::RetryUntilAcked;
    let again = handled_again(program);
    if claims.contains(&CheckId::C3) && redelivered && again.applies {
        let how = if commit_first {
            "a lost acknowledgement makes the producer send it again"
        } else {
            "a crash before the offset commit makes the broker redeliver it"
        };
        out.push(with_help(
            problem(
                "claims".into(),
                "steps::claim-against-shape",
                format!(
                    "the claims include no duplicate effect (C3), but a record whose handling \
                     completed reaches the effect again when it comes back ({how}): no step \
                     before the effect skips what a completed handling left"
                ),
                "cannot hold",
            ),
            "check what a completed handling leaves first (IfSeen(set: Durable, then: Skip) \
             with MarkSeen, or IfStatus(is_not: Unprocessed, then: Skip) after InsertRow), \
             or claim AtLeastOnce",
        ));
    }
    if let (true, Some(path)) = (claims.contains(&CheckId::C16), again.retried_at) {
        out.push(with_help(
            problem(
                path,
                "steps::retry-forever",
                "a record whose handling completed is retried here every time it comes back: \
                 its offset is never committed, and it comes back forever (C16)"
                    .into(),
                "retries a handled record",
            ),
            "Skip what a completed handling left; Retry only what another attempt still holds",
        ));
    }
}

/// What a record whose handling completed meets when it comes again.
struct Again {
    /// Whether it reaches the effect.
    applies: bool,
    /// The first condition that retries it, if one can.
    retried_at: Option<String>,
}

/// Walk the handler from what a completed handling leaves (the state at
/// its end, on paths that went through every step).
fn handled_again(program: &Program) -> Again {
    let mut first = Walk::default();
    let done = first.steps(
        &program.consumer,
        "consumer",
        Some(reachable_starts(program)),
    );
    let Some(done) = done else {
        return Again {
            applies: false,
            retried_at: None,
        };
    };
    let mut walk = Walk::default();
    walk.steps(&program.consumer, "consumer", Some(done));
    let reached = |path: &str| walk.facts.iter().any(|f| f.path == path && f.reached);
    let retried_at = walk
        .facts
        .iter()
        .filter(|f| f.can_hold)
        .find(|f| {
            matches!(
                step_at(program, &f.path),
                Some(
                    HandlerStep::IfStatus {
                        then: Then::Retry,
                        ..
                    } | HandlerStep::IfSeen {
                        then: Then::Retry,
                        ..
                    }
                )
            )
        })
        .map(|f| f.path.clone());
    Again {
        applies: effect_paths(&program.consumer).iter().any(|p| reached(p)),
        retried_at,
    }
}
