//! **Step programs: a delivery protocol written in the scenario file.**
//!
//! - *Mechanism.* Whatever the steps say. A scenario gives, instead of a
//!   catalogue model, the steps of the consumer's record handler and of the
//!   recovery worker (`model: Steps(consumer: [...], recovery: [...],
//!   claims: ExactlyOnce)`), and this unit runs them: each step outside an
//!   `Atomic` is one durable write (or a read, or a call), and a crash
//!   point sits after every step that can change something, named from the
//!   steps around it (`after-effect-before-set-status-processed`). A step
//!   that found nothing to change this time (an `InsertRow` that found the
//!   row, a condition that did not hold) passes no point: a crash after it
//!   is a crash before it. Nothing is ever a crash point inside an
//!   `Atomic`.
//! - *Claimed guarantee.* What the program's `claims` say; every checker
//!   and the law probe judge it as they judge a built-in model.
//! - *Expected violations.* Those its steps allow: the law probe crashes
//!   the handler at each of its points and retries.
//! - *Anchor.* The seeds' handler (`seeds/`): save the message, claim it,
//!   apply, mark it processed, commit the offset, with a recovery worker
//!   returning stuck rows.
//!
//! Module map: `lang.rs` is the language as files write it (serde data);
//! this file compiles a [`Program`] into a [`Protocol`] unit and runs it;
//! `lint.rs` finds what is wrong with a program before it runs, each
//! problem at the step it is about.
//!
//! Determinism: a program's run is a function of the program, the record
//! and the consumer's state; units are interned, so the same program text
//! in one process is always the same unit.

mod lang;
pub mod lint;

use std::fmt::{self, Write as _};
use std::sync::Mutex;

use sim_core::{SimTime, Step, Store};

pub use lang::{Claims, HandlerStep, Producer, Program, SeenSet, Status, Then};

use super::{
    AT_LEAST_ONCE_CLAIMS, ConsumerRole, EXACTLY_ONCE_CLAIMS, Gate, Horizon, Knob, ModelInfo,
    Protocol, Record, Wiring, apply_effect, m5_dedup_window,
};
use crate::history::Obs;
use crate::roles::{ConsumerDb, RowStatus};
use crate::vocab::{CheckId, FaultClass, IdSet, MsgKey};

/// The name scenario files give a step program's model (`model: Steps(...)`).
pub const NAME: &str = "Steps";

/// What an at-most-once handler claims: no duplicate effect, consistent
/// offsets, no phantom, liveness (as M1).
const AT_MOST_ONCE_CLAIMS: &[CheckId] = &[CheckId::C3, CheckId::C5, CheckId::C6, CheckId::C16];

/// A step program compiled into a protocol unit.
#[derive(Debug)]
pub struct StepProtocol {
    program: Program,
    info: ModelInfo,
    /// Whether the offset is committed before the other steps.
    commit_first: bool,
    /// The steps [`Protocol::process`] runs, each with its 1-based number
    /// in `consumer` and the crash point passed after it, if any.
    body: Vec<(usize, Option<&'static str>)>,
    /// The crash point passed before the first step of `body` (after a
    /// first `CommitOffset`).
    entry_point: Option<&'static str>,
    /// Each crash point with the number of the step it follows and where
    /// it sits, in words.
    places: Vec<(&'static str, usize, String)>,
}

static INTERNED: Mutex<Vec<&'static StepProtocol>> = Mutex::new(Vec::new());

/// The unit for `program`: the same unit for the same program, for the
/// life of the process (units are leaked: a process reads few programs).
pub fn unit_for(program: Program) -> &'static StepProtocol {
    let mut interned = INTERNED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(unit) = interned.iter().find(|u| u.program == program) {
        return unit;
    }
    let unit: &'static StepProtocol = Box::leak(Box::new(StepProtocol::compile(program)));
    interned.push(unit);
    unit
}

impl StepProtocol {
    fn compile(program: Program) -> StepProtocol {
        let steps = &program.consumer;
        let commit_first = matches!(steps.first(), Some(HandlerStep::CommitOffset));
        let mut names: Vec<String> = Vec::new();
        let mut places = Vec::new();
        let mut point_after = |i: usize| -> Option<&'static str> {
            let next = steps.get(i + 1)?;
            if !changes_state(&steps[i]) {
                return None;
            }
            let base = format!("after-{}-before-{}", slug(&steps[i]), slug(next));
            let mut name = base.clone();
            let mut n = 1;
            while names.contains(&name) {
                n += 1;
                name = format!("{base}-{n}");
            }
            names.push(name.clone());
            let name: &'static str = Box::leak(name.into_boxed_str());
            let place = format!(
                "after step {} ({}), before step {} ({})",
                i + 1,
                steps[i],
                i + 2,
                next
            );
            places.push((name, i + 1, place));
            Some(name)
        };
        let mut entry_point = None;
        let mut body = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            let point = point_after(i);
            if matches!(step, HandlerStep::CommitOffset) {
                if i == 0 {
                    entry_point = point;
                }
                continue;
            }
            body.push((i + 1, point));
        }
        let points: &'static [&'static str] = Box::leak(names_of(&places).into_boxed_slice());
        let info = info_for(&program, commit_first, points);
        StepProtocol {
            program,
            info,
            commit_first,
            body,
            entry_point,
            places,
        }
    }

    /// The checks `claims` stand for, in order.
    pub fn claimed(claims: &Claims) -> Vec<CheckId> {
        let mut checks = match claims {
            Claims::ExactlyOnce => EXACTLY_ONCE_CLAIMS.to_vec(),
            Claims::AtLeastOnce => AT_LEAST_ONCE_CLAIMS.to_vec(),
            Claims::AtMostOnce => AT_MOST_ONCE_CLAIMS.to_vec(),
            Claims::Checks(checks) => checks.clone(),
        };
        checks.sort();
        checks.dedup();
        checks
    }

    /// The program it runs.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// Where crash point `point` sits, in words (`after step 3 (Effect),
    /// before step 4 (SetStatus(Processed))`), if it is one of this
    /// program's.
    pub fn place_of(&self, point: &str) -> Option<&str> {
        self.places
            .iter()
            .find(|(p, ..)| *p == point)
            .map(|(.., place)| place.as_str())
    }

    /// The number of the step that crash point `point` follows, if it is
    /// one of this program's.
    pub fn step_before(&self, point: &str) -> Option<usize> {
        self.places
            .iter()
            .find(|(p, ..)| *p == point)
            .map(|(_, step, _)| *step)
    }

    fn step(&self, number: usize) -> &HandlerStep {
        &self.program.consumer[number - 1]
    }

    /// Run the handler's steps for `rec`.
    fn run(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        memory: &mut IdSet,
        rec: Record,
        mut checked: Option<bool>,
        gate: &mut dyn Gate,
    ) -> Step {
        if let Some(point) = self.entry_point {
            gate.crash_point(rec.key, point)?;
        }
        for &(number, point) in &self.body {
            let flow = run_step(self.step(number), db, memory, (rec, checked.take()), gate);
            if let Flow::Ended(end) = flow {
                end.finish(gate);
                return Ok(());
            }
            if let Some(point) = point.filter(|_| flow != Flow::Unchanged) {
                gate.crash_point(rec.key, point)?;
            }
            if let Flow::EndedInside(end) = flow {
                end.finish(gate);
                return Ok(());
            }
        }
        Ok(())
    }
}

/// How a step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    /// Go on with the next step.
    Next,
    /// Go on: the step could have written but found nothing to change (an
    /// `InsertRow` that found the row), so a crash after it is a crash
    /// before it, and its crash point is not passed.
    Unchanged,
    /// A condition said `Skip` or `Retry`: the handler is done.
    Ended(End),
    /// A condition inside an `Atomic` said `Skip` or `Retry`: the
    /// transaction ended there (it committed), its crash point is passed,
    /// and the handler is done.
    EndedInside(End),
}

/// How a condition ends a handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// Go to the offset commit.
    Skip,
    /// Leave the record uncommitted.
    Retry,
}

impl End {
    fn of(then: &Then) -> Option<End> {
        match then {
            Then::Skip => Some(End::Skip),
            Then::Retry => Some(End::Retry),
            Then::SetStatus(_) => None,
        }
    }

    fn finish(self, gate: &mut dyn Gate) {
        if self == End::Retry {
            gate.retry_later();
        }
    }
}

/// Run one top-level step; `checked` is what a seen-set check made when
/// work on the record began found, for the first step.
fn run_step(
    step: &HandlerStep,
    db: &mut Store<'_, ConsumerDb>,
    memory: &mut IdSet,
    (rec, checked): (Record, Option<bool>),
    gate: &mut dyn Gate,
) -> Flow {
    let key = rec.key;
    // Only a window reads the clock (the law probe retries a handler that
    // reads it later, too).
    let now = if uses_window(std::slice::from_ref(step)) {
        gate.now()
    } else {
        SimTime::ZERO
    };
    match step {
        HandlerStep::Effect | HandlerStep::ExternalCall => {
            apply_effect(db, key, gate);
            Flow::Next
        }
        HandlerStep::IfSeen { set, then } => {
            let seen = checked.unwrap_or_else(|| seen(db.get(), memory, (rec.dedup_id, now), *set));
            if seen {
                return top_level_then(then, db, key);
            }
            Flow::Unchanged
        }
        HandlerStep::IfStatus { .. } => {
            if let Some(then) = condition_holds(step, db.get().status(key)) {
                return top_level_then(then, db, key);
            }
            Flow::Unchanged
        }
        HandlerStep::InsertRow => {
            if db.get().status(key) != RowStatus::Absent {
                return Flow::Unchanged;
            }
            db.transaction(|d| d.set_status(key, RowStatus::Unprocessed));
            Flow::Next
        }
        HandlerStep::MarkSeen(SeenSet::Memory) => {
            memory.insert(rec.dedup_id);
            Flow::Next
        }
        HandlerStep::Atomic(inner) => {
            let mut done = Done::default();
            let ended = db.transaction(|d| {
                inner
                    .iter()
                    .find_map(|s| run_in_transaction(s, d, memory, (rec, now), &mut done))
            });
            done.report(key, gate);
            ended.map_or(Flow::Next, Flow::EndedInside)
        }
        other => {
            let mut done = Done::default();
            db.transaction(|d| run_in_transaction(other, d, memory, (rec, now), &mut done));
            done.report(key, gate);
            Flow::Next
        }
    }
}

/// What a transaction did that the history should hear of, once it
/// committed.
#[derive(Default)]
struct Done {
    /// A copy recorded in the window after its earlier entry expired.
    late_copy: Option<Obs>,
    /// The effect's count, if the transaction applied it.
    effect: Option<u32>,
}

impl Done {
    fn report(self, key: MsgKey, gate: &mut dyn Gate) {
        if let Some(obs) = self.late_copy {
            gate.observe(obs);
        }
        if let Some(count) = self.effect {
            gate.effect(key, count);
        }
    }
}

/// A top-level condition held: end the handler, or write its status in a
/// transaction of its own.
fn top_level_then(then: &Then, db: &mut Store<'_, ConsumerDb>, key: MsgKey) -> Flow {
    match (End::of(then), then) {
        (Some(end), _) => Flow::Ended(end),
        (None, Then::SetStatus(s)) => {
            db.transaction(|d| d.set_status(key, s.row()));
            Flow::Next
        }
        (None, _) => Flow::Next,
    }
}

/// Run one step on the database inside a transaction, noting in `done`
/// what the history should hear of; returns how a condition ended the
/// handler, if one did.
fn run_in_transaction(
    step: &HandlerStep,
    d: &mut ConsumerDb,
    memory: &mut IdSet,
    (rec, now): (Record, SimTime),
    done: &mut Done,
) -> Option<End> {
    let key = rec.key;
    let then = |then: &Then, d: &mut ConsumerDb| {
        if let Then::SetStatus(s) = then {
            d.set_status(key, s.row());
        }
        End::of(then)
    };
    match step {
        HandlerStep::InsertRow => {
            if d.status(key) == RowStatus::Absent {
                d.set_status(key, RowStatus::Unprocessed);
            }
        }
        HandlerStep::IfStatus { .. } => {
            if let Some(t) = condition_holds(step, d.status(key)) {
                return then(t, d);
            }
        }
        HandlerStep::IfSeen { set, then: t } => {
            if seen(d, memory, (rec.dedup_id, now), *set) {
                return then(t, d);
            }
        }
        HandlerStep::SetStatus(s) => d.set_status(key, s.row()),
        HandlerStep::MarkSeen(SeenSet::Durable) => {
            d.inbox.insert(rec.dedup_id);
        }
        HandlerStep::MarkSeen(SeenSet::Memory) => {
            memory.insert(rec.dedup_id);
        }
        HandlerStep::MarkSeen(SeenSet::Window) => {
            let window = d.dedup_window;
            if let Some((first, _)) = d.window_entry(rec.dedup_id)
                && now.since(first) >= window
            {
                let age = now.since(first);
                done.late_copy = Some(Obs::LateCopy { key, age, window });
            }
            d.record_window_entry(rec.dedup_id, now, key);
        }
        HandlerStep::Effect | HandlerStep::ExternalCall => done.effect = Some(d.add_effect(key)),
        // Rejected before a run (see `lint`): an offset commit goes to the
        // broker, and one transaction holds no other.
        HandlerStep::CommitOffset | HandlerStep::Atomic(_) => {}
    }
    None
}

/// What an `IfStatus` step does for a row of `status`: its `then` when its
/// condition holds.
fn condition_holds(step: &HandlerStep, status: RowStatus) -> Option<&Then> {
    let HandlerStep::IfStatus { is, is_not, then } = step else {
        return None;
    };
    let hit = is.is_some_and(|s| s.row() == status) || is_not.is_some_and(|s| s.row() != status);
    hit.then_some(then)
}

/// Whether id `id` is in `set` at time `now`.
fn seen(db: &ConsumerDb, memory: &IdSet, (id, now): (u64, SimTime), set: SeenSet) -> bool {
    match set {
        SeenSet::Durable => db.inbox.contains(id),
        SeenSet::Memory => memory.contains(id),
        SeenSet::Window => db
            .window_entry(id)
            .is_some_and(|(t, _)| now.since(t) < db.dedup_window),
    }
}

/// Whether any step of `steps` (or inside their `Atomic`s) uses the
/// window seen-set.
fn uses_window(steps: &[HandlerStep]) -> bool {
    steps.iter().any(|s| match s {
        HandlerStep::IfSeen {
            set: SeenSet::Window,
            ..
        }
        | HandlerStep::MarkSeen(SeenSet::Window) => true,
        HandlerStep::Atomic(inner) => uses_window(inner),
        _ => false,
    })
}

/// Whether a step can change state (so a crash after it differs from one
/// before it): every step but a read that only ends the handler.
fn changes_state(step: &HandlerStep) -> bool {
    match step {
        HandlerStep::IfStatus { then, .. } | HandlerStep::IfSeen { then, .. } => {
            matches!(then, Then::SetStatus(_))
        }
        _ => true,
    }
}

/// A step's part of a crash point's name: short enough that a point's
/// name fits a story's line (`after-set-status-processing-before-atomic`;
/// where an `Atomic` sits and what it holds, `eosim check` and the stories
/// say).
fn slug(step: &HandlerStep) -> String {
    match step {
        HandlerStep::InsertRow => "insert-row".into(),
        HandlerStep::IfStatus { is, is_not, .. } => match (is, is_not) {
            (Some(s), _) => format!("if-{}", s.word()),
            (None, Some(s)) => format!("if-not-{}", s.word()),
            (None, None) => "if-status".into(),
        },
        HandlerStep::IfSeen { .. } => "if-seen".into(),
        HandlerStep::SetStatus(s) => format!("set-status-{}", s.word()),
        HandlerStep::MarkSeen(_) => "mark-seen".into(),
        HandlerStep::Effect => "effect".into(),
        HandlerStep::ExternalCall => "external-call".into(),
        // As the catalogue names the offset commit in its crash points.
        HandlerStep::CommitOffset => "offset-commit".into(),
        HandlerStep::Atomic(_) => "atomic".into(),
    }
}

fn names_of(places: &[(&'static str, usize, String)]) -> Vec<&'static str> {
    places.iter().map(|(p, ..)| *p).collect()
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// The catalogue entry of a program.
fn info_for(program: &Program, commit_first: bool, points: &'static [&'static str]) -> ModelInfo {
    let guarantee = match &program.claims {
        Claims::ExactlyOnce => "exactly-once",
        Claims::AtLeastOnce => "at-least-once",
        Claims::AtMostOnce => "at-most-once",
        Claims::Checks(_) => "the listed checks",
    };
    let claims: &'static [CheckId] =
        Box::leak(StepProtocol::claimed(&program.claims).into_boxed_slice());
    let order = if commit_first {
        "commits the offset, then processes"
    } else {
        "processes, then commits the offset"
    };
    let code = program.name.clone().map_or("steps", leak);
    ModelInfo {
        code,
        title: leak(format!("a step program that {order}")),
        guarantee,
        mechanism: leak(mechanism(program)),
        claims,
        survives: &FaultClass::ABOVE_THE_LOG,
        breakers: "whatever its steps allow: the law probe crashes the handler at each of its \
                   points and retries",
        anchor: "the scenario's step program",
        consumer_crash_points: points,
        ..ModelInfo::new(NAME, "a step program")
    }
}

/// The program in one line: its consumer steps, then its recovery's.
fn mechanism(program: &Program) -> String {
    let join = |steps: &[HandlerStep]| {
        steps
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" → ")
    };
    let mut text = format!("consumer: {}", join(&program.consumer));
    if !program.recovery.is_empty() {
        let _ = write!(text, "; recovery, on each row: {}", join(&program.recovery));
    }
    text
}

impl fmt::Display for HandlerStep {
    /// As a scenario file writes it, on one line (`SetStatus(Processed)`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandlerStep::InsertRow => f.write_str("InsertRow"),
            HandlerStep::IfStatus { is, is_not, then } => {
                f.write_str("IfStatus(")?;
                if let Some(s) = is {
                    write!(f, "is: {s:?}, ")?;
                }
                if let Some(s) = is_not {
                    write!(f, "is_not: {s:?}, ")?;
                }
                write!(f, "then: {then})")
            }
            HandlerStep::IfSeen { set, then } => write!(f, "IfSeen(set: {set:?}, then: {then})"),
            HandlerStep::SetStatus(s) => write!(f, "SetStatus({s:?})"),
            HandlerStep::MarkSeen(set) => write!(f, "MarkSeen({set:?})"),
            HandlerStep::Effect => f.write_str("Effect"),
            HandlerStep::ExternalCall => f.write_str("ExternalCall"),
            HandlerStep::CommitOffset => f.write_str("CommitOffset"),
            HandlerStep::Atomic(inner) => {
                let parts: Vec<String> = inner.iter().map(ToString::to_string).collect();
                write!(f, "Atomic([{}])", parts.join(", "))
            }
        }
    }
}

impl fmt::Display for Then {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Then::Skip => f.write_str("Skip"),
            Then::Retry => f.write_str("Retry"),
            Then::SetStatus(s) => write!(f, "SetStatus({s:?})"),
        }
    }
}

impl Protocol for StepProtocol {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn wiring(&self) -> Wiring {
        let fire_and_forget = self.program.producer == Producer::FireAndForget;
        Wiring {
            consumer: if self.commit_first {
                ConsumerRole::CommitFirst
            } else {
                ConsumerRole::PerRecord
            },
            producer_retries: !fire_and_forget,
            dedup_appends: fire_and_forget,
            recovery: !self.program.recovery.is_empty(),
            ..Wiring::PER_RECORD
        }
    }

    fn process(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        memory: &mut IdSet,
        rec: Record,
        checked: Option<bool>,
        gate: &mut dyn Gate,
    ) -> Step {
        self.run(db, memory, rec, checked, gate)
    }

    /// A first step that looks the record up in a seen-set looks when work
    /// on the record begins.
    fn check_on_start(&self, db: &ConsumerDb, memory: &IdSet, rec: Record) -> Option<bool> {
        let &(first, _) = self.body.first()?;
        match self.step(first) {
            // A window check reads the clock: it is made when it runs.
            HandlerStep::IfSeen { set, .. } if *set != SeenSet::Window => {
                Some(seen(db, memory, (rec.dedup_id, SimTime::ZERO), *set))
            }
            _ => None,
        }
    }

    /// `consumer.dedup_window_ms`, when a step uses the window seen-set.
    fn knobs(&self) -> &'static [Knob] {
        if uses_window(&self.program.consumer) {
            &[Knob::DedupWindowMs {
                default_ms: m5_dedup_window::DEFAULT_WINDOW_MS,
            }]
        } else {
            &[]
        }
    }

    /// The window, when a step uses the window seen-set.
    fn horizons(&self, db: &ConsumerDb) -> Vec<Horizon> {
        if uses_window(&self.program.consumer) {
            vec![Horizon {
                name: "dedup window",
                lasts: db.dedup_window,
            }]
        } else {
            Vec::new()
        }
    }

    /// The recovery steps, on every row (or `only`'s), in one transaction.
    fn compensate(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        only: Option<MsgKey>,
        gate: &mut dyn Gate,
    ) {
        let mut rows: Vec<MsgKey> = [
            RowStatus::Unprocessed,
            RowStatus::Processing,
            RowStatus::Processed,
        ]
        .into_iter()
        .flat_map(|s| db.get().keys_with_among(s, only))
        .collect();
        rows.sort_unstable();
        let recovery = &self.program.recovery;
        let changed: Vec<(MsgKey, RowStatus)> = rows
            .into_iter()
            .filter_map(|key| {
                let before = db.get().status(key);
                let after = recovered(before, recovery);
                (after != before).then_some((key, after))
            })
            .collect();
        db.transaction(|d| {
            for (key, status) in &changed {
                d.set_status(*key, *status);
            }
        });
        for (key, _) in changed {
            gate.observe(Obs::Compensate { key });
        }
    }

    /// Every row left `unprocessed` is handled again at once.
    fn resume(&self, db: &mut Store<'_, ConsumerDb>, gate: &mut dyn Gate) -> Step {
        let mut memory = IdSet::default();
        for key in db.get().keys_with(RowStatus::Unprocessed) {
            let rec = Record {
                key,
                dedup_id: db.get().plain_id(key),
            };
            self.run(db, &mut memory, rec, None, gate)?;
        }
        Ok(())
    }
}

/// A row's status after the recovery steps: each `SetStatus` sets it, each
/// `IfStatus` whose condition holds does its `then` (`Skip` ends the pass
/// over the row).
pub(crate) fn recovered(status: RowStatus, steps: &[HandlerStep]) -> RowStatus {
    let mut status = status;
    for step in steps {
        match step {
            HandlerStep::SetStatus(s) => status = s.row(),
            HandlerStep::IfStatus { .. } => match condition_holds(step, status) {
                Some(Then::SetStatus(s)) => status = s.row(),
                Some(Then::Skip | Then::Retry) => break,
                None => {}
            },
            _ => {}
        }
    }
    status
}
