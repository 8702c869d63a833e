//! Validation of a parsed [`ScenarioSpec`]: every name resolves, every ratio
//! is at most 1, every range is ordered, the model's parameters make sense.
//! All problems are collected, each located in the file.

use super::error::{Diagnostic, ScenarioError, nearest};
use super::locate::Locations;
use super::memory::{self, Estimate};
use super::spec::{Expect, LinkOverride, RatioSpec, ScenarioSpec};
use super::topology::Actors;
use crate::numbers;
use crate::protocols::{ConsumerRole, Knob, registry};
use crate::vocab::CheckId;

mod faults;

/// The most messages a scenario may send with the law probe on: the probe
/// clones the consumer's durable state (linear in the messages) per record.
const PROBED_MESSAGES_MAX: u64 = 20_000;

/// Thirty days in milliseconds: the longest horizon a scenario may give
/// (a run, a retry's wait, a window or a retention).
const THIRTY_DAYS_MS: u64 = 30 * 24 * 3_600_000;

/// The longest scenario name: it names run folders, beside a time stamp
/// and a seed, within the 255 bytes a file name may have.
const NAME_CHARS_MAX: usize = 100;

/// Collects diagnostics, each located by its value path.
pub(super) struct Validator<'a> {
    text: &'a str,
    locations: Locations,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> Validator<'a> {
    pub(super) fn new(text: &'a str) -> Validator<'a> {
        Validator {
            text,
            locations: Locations::scan(text),
            diagnostics: Vec::new(),
        }
    }

    fn report(
        &mut self,
        path: &str,
        code: &'static str,
        message: String,
        label: &str,
        help: Option<String>,
    ) {
        let span = self.locations.find(path).unwrap_or((0, 0));
        let diagnostic = Diagnostic::at(self.text, span, code, message, label, help);
        self.diagnostics.push(diagnostic);
    }

    pub(super) fn finish(mut self, file: &str) -> Result<(), ScenarioError> {
        if self.diagnostics.is_empty() {
            return Ok(());
        }
        self.diagnostics.sort_by_key(|d| d.offset);
        Err(ScenarioError::Invalid {
            file: file.to_string(),
            source: self.text.to_string(),
            diagnostics: self.diagnostics,
        })
    }

    /// Check the whole spec.
    pub(super) fn check(&mut self, spec: &ScenarioSpec, actors: &Actors) {
        self.check_name(&spec.name);
        self.check_steps(spec);
        self.check_workload(spec);
        self.check_timeouts(spec);
        self.check_network(spec, actors);
        self.check_faults(spec, actors);
        self.check_limits(spec);
        self.check_explore(spec);
        self.check_memory(spec);
        self.check_drain(spec);
        self.check_expect(spec);
    }

    /// A step program's problems, each at its step.
    fn check_steps(&mut self, spec: &ScenarioSpec) {
        let Some(unit) = spec.model.steps() else {
            return;
        };
        for p in crate::protocols::steps::lint::check(unit.program()) {
            let path = format!("model.{}", p.path);
            self.report(&path, p.code, p.message, &p.label, p.help);
        }
    }

    fn check_name(&mut self, name: &str) {
        let ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            let msg =
                format!("scenario name `{name}` must be non-empty letters, digits, `-` or `_`");
            self.report(
                "name",
                "scenario::bad-name",
                msg,
                "used in folder names",
                None,
            );
        } else if name.len() > NAME_CHARS_MAX {
            let msg = format!(
                "the scenario name is {} characters long; at most {NAME_CHARS_MAX} fit in folder \
                 names",
                name.len()
            );
            let help = Some("shorten the name; the file's comments can say more".into());
            self.report("name", "scenario::bad-name", msg, "too long", help);
        }
    }

    fn check_workload(&mut self, spec: &ScenarioSpec) {
        let w = &spec.workload;
        self.in_range("workload.producers", u64::from(w.producers), 1, 64);
        self.in_range("workload.partitions", u64::from(w.partitions), 1, 16);
        self.in_range("workload.messages", u64::from(w.messages), 1, 1_000_000);
        self.in_range("workload.interval_us", w.interval_us, 0, 3_600_000_000);
        let total = u64::from(w.producers) * u64::from(w.messages);
        if spec.consumer.law_probe && spec.model.probed() && total > PROBED_MESSAGES_MAX {
            let msg = format!(
                "the law probe clones the consumer's state before each of {total} records; \
                 above {PROBED_MESSAGES_MAX} messages that is too slow"
            );
            let help = Some("set `consumer: (law_probe: false)` (C14 and C15 then go unchecked, and the run says so), or send fewer messages".into());
            self.report(
                "workload.messages",
                "scenario::too-large",
                msg,
                "too many to probe",
                help,
            );
        }
        if u64::from(w.producers) * u64::from(w.messages) > 2_000_000 {
            let msg = "producers × messages is above 2,000,000".to_string();
            self.report(
                "workload",
                "scenario::too-large",
                msg,
                "workload too large",
                None,
            );
        }
    }

    fn check_timeouts(&mut self, spec: &ScenarioSpec) {
        self.in_range(
            "producer.retry_ms",
            spec.producer.retry_ms,
            1,
            THIRTY_DAYS_MS,
        );
        if let Some(max) = spec.producer.backoff_max_ms {
            self.in_range(
                "producer.backoff_max_ms",
                max,
                spec.producer.retry_ms,
                THIRTY_DAYS_MS,
            );
        }
        if let Some(n) = spec.producer.key_space {
            self.in_range("producer.key_space", u64::from(n), 1, 2_000_000);
        }
        if let Some(n) = spec.producer.max_in_flight {
            self.in_range("producer.max_in_flight", u64::from(n), 1, 1_000);
            self.only_for(spec, Knob::MaxInFlight);
        }
        if let Some(l) = spec.broker.lease_ms {
            self.in_range("broker.lease_ms", l, 1, 3_600_000);
            self.only_for(spec, Knob::LeaseMs);
        }
        if let Some(w) = spec.broker.dedup_window_ms {
            self.in_range("broker.dedup_window_ms", w, 1, THIRTY_DAYS_MS);
            if spec.broker.dedup_appends || spec.model.wiring().dedup_appends {
                let msg = "the queue already appends each id once and forever \
                           (`dedup_appends`, or the model's idempotent producer): a deduplication \
                           window at the queue would change nothing"
                    .to_string();
                let help = Some("set one of the two".into());
                self.report(
                    "broker.dedup_window_ms",
                    "scenario::conflicting-knobs",
                    msg,
                    "and dedup_appends",
                    help,
                );
            }
        }
        self.check_flush(spec);
        self.check_database(spec);
        if spec.model.uses_lease() && spec.workload.partitions != 1 {
            let msg = format!(
                "{} leases one partition to one of two consumers; `workload.partitions` must be 1",
                spec.model.info().code
            );
            self.report(
                "workload.partitions",
                "scenario::not-for-model",
                msg,
                "one partition",
                None,
            );
        }
        let ms = spec.consumer.processing_ms;
        self.in_range("consumer.processing_ms", ms, 0, 60_000);
        if let Some(w) = spec.consumer.dedup_window_ms {
            self.in_range("consumer.dedup_window_ms", w, 1, THIRTY_DAYS_MS);
            self.only_for(spec, Knob::DedupWindowMs { default_ms: w });
        }
        self.in_range(
            "broker.redeliver_ms",
            spec.broker.redeliver_ms,
            1,
            3_600_000,
        );
        match &spec.recovery {
            Some(r) if spec.model.uses_recovery() => {
                self.in_range("recovery.interval_ms", r.interval_ms, 1, 3_600_000);
                if !r.enabled && !r.compensate.is_one_transaction() {
                    self.report(
                        "recovery.compensate",
                        "scenario::no-effect",
                        "`compensate` changes nothing when the recovery worker is off \
                         (`enabled: false`)"
                            .into(),
                        "no worker to compensate",
                        Some("leave `compensate` out, or `enabled` true".into()),
                    );
                }
            }
            Some(_) => {
                let msg = format!(
                    "{} has no recovery worker; only the M0 models do",
                    spec.model.info().code
                );
                let help =
                    Some("remove the `recovery` section, or use model M0Naive or M0Atomic".into());
                self.report(
                    "recovery",
                    "scenario::not-for-model",
                    msg,
                    "not used by this model",
                    help,
                );
            }
            None => {}
        }
    }

    /// A knob that only `models` read is an error with any other model.
    fn only_for(&mut self, spec: &ScenarioSpec, knob: Knob) {
        if spec.model.reads(knob) {
            return;
        }
        let path = knob.path();
        let readers = registry().models().iter().filter(|m| m.reads(knob));
        let codes: Vec<String> = readers.map(|m| m.name().to_string()).collect();
        let msg = format!(
            "`{path}` is read only by {}; {} ignores it",
            codes.join(" and "),
            spec.model.info().code
        );
        let help = Some(format!(
            "remove `{path}`, or use model {}",
            codes.join(" or ")
        ));
        self.report(
            path,
            "scenario::not-for-model",
            msg,
            "not used by this model",
            help,
        );
    }

    /// Everything a run waits for must fit in the drain after the heal, or a
    /// healthy run would be judged stuck.
    fn check_drain(&mut self, spec: &ScenarioSpec) {
        let drain = spec.limits.drain_ms_max;
        let mut waits = vec![(
            "faults.restart_after_ms",
            spec.faults.restart_after_ms,
            "a crashed actor's restart",
        )];
        if let Some(r) = spec
            .recovery
            .as_ref()
            .filter(|_| spec.model.uses_recovery())
        {
            waits.push((
                "recovery.interval_ms",
                r.interval_ms,
                "the recovery worker's interval",
            ));
        }
        for (path, wait, what) in waits {
            if wait >= drain {
                let msg =
                    format!("{what} ({wait} ms) does not fit in limits.drain_ms_max ({drain} ms)");
                let help = Some("raise limits.drain_ms_max, or shorten the wait".into());
                self.report(
                    path,
                    "scenario::longer-than-drain",
                    msg,
                    "longer than the drain",
                    help,
                );
            }
        }
    }

    /// A flush policy other than `OnAppend` is modelled for the plain and
    /// idempotent logs, with a fixed assignment of partitions.
    fn check_flush(&mut self, spec: &ScenarioSpec) {
        use super::spec::FlushSpec;
        if spec.broker.flush.is_on_append() {
            if !spec.broker.checksums {
                self.report(
                    "broker.checksums",
                    "scenario::no-effect",
                    "`checksums: false` is modelled for a broker that flushes after the ack: \
                     its torn writes happen during that flush"
                        .into(),
                    "no flush to tear",
                    Some(
                        "set `flush: AfterAck` or `flush: Periodic(every_ms: …)`, or leave \
                         `checksums` out"
                            .into(),
                    ),
                );
            }
            if spec.broker.read_unflushed {
                self.report(
                    "broker.read_unflushed",
                    "scenario::no-effect",
                    "`read_unflushed` changes nothing when each append is flushed before its \
                     ack (`flush: OnAppend`, the default)"
                        .into(),
                    "no unflushed record to read",
                    Some(
                        "set `flush: AfterAck` or `flush: Periodic(every_ms: …)`, or leave \
                         `read_unflushed` out"
                            .into(),
                    ),
                );
            }
            return;
        }
        if let FlushSpec::Periodic { every_ms } = spec.broker.flush {
            self.in_range("broker.flush.every_ms", every_ms, 1, THIRTY_DAYS_MS);
        }
        let why = if spec.model.txn_rules().is_some() {
            Some("M7's transaction coordinator flushes every write")
        } else if spec.model.uses_lease() {
            Some("M12's lease storage flushes every write")
        } else if spec.faults.rebalances() {
            Some("a broker that rebalances its group flushes every write")
        } else {
            None
        };
        if let Some(why) = why {
            let msg = format!("`broker.flush` other than `OnAppend` is not modelled here: {why}");
            let help = Some(
                "leave `flush` out, or use a model without transactions, leases or rebalances"
                    .into(),
            );
            self.report(
                "broker.flush",
                "scenario::not-for-model",
                msg,
                "not modelled here",
                help,
            );
        }
    }

    /// A remote database is modelled for a consumer that handles each
    /// record in one database transaction before its offset commit (its
    /// crash points all come after its writes), alone on its partition.
    fn check_database(&mut self, spec: &ScenarioSpec) {
        use super::spec::DatabaseSpec;
        let DatabaseSpec::Remote { timeout_ms } = spec.consumer.database else {
            return;
        };
        self.in_range(
            "consumer.database.timeout_ms",
            timeout_ms,
            1,
            THIRTY_DAYS_MS,
        );
        let info = spec.model.info();
        let points = info.consumer_crash_points;
        let why = if spec.model.wiring().consumer != ConsumerRole::PerRecord
            || spec.model.uses_recovery()
        {
            Some(format!(
                "{}'s consumer does not handle each record on its own",
                info.code
            ))
        } else if points.iter().any(|p| !p.ends_with("-before-offset-commit")) {
            Some(format!(
                "{}'s handler crashes between its writes ({}), so it is not one request",
                info.code,
                points.join(", ")
            ))
        } else if spec.workload.partitions != 1
            || spec.faults.rebalances()
            || spec.consumer.processing_ms > 0
        {
            Some("it is modelled for one consumer on one partition that handles each record as it arrives".into())
        } else {
            None
        };
        if let Some(why) = why {
            let msg = format!("`consumer.database: Remote` is not modelled here: {why}");
            let help = Some(
                "a remote database takes each record's handling as one request: use a model \
                 whose consumer crash points all come just before the offset commit (eosim \
                 list-models)"
                    .into(),
            );
            self.report(
                "consumer.database",
                "scenario::not-for-model",
                msg,
                "not modelled here",
                help,
            );
        }
    }

    fn in_range(&mut self, path: &str, value: u64, min: u64, max: u64) {
        if value < min || value > max {
            let msg = format!("`{path}` is {value}, expected {min} to {max}");
            self.report(path, "scenario::out-of-range", msg, "out of range", None);
        }
    }

    fn check_ratio(&mut self, path: &str, r: RatioSpec) {
        if r.1 == 0 {
            let help = Some("write `Ratio(0, 1)` for never".into());
            self.report(
                path,
                "scenario::bad-ratio",
                "ratio has denominator 0".into(),
                "denominator 0",
                help,
            );
        } else if r.0 > r.1 {
            let msg = format!("ratio {}/{} is above 1", r.0, r.1);
            let help = Some(format!(
                "a probability is at most 1: the first number must not exceed the second, \
                 e.g. `Ratio(1, {})`",
                r.1
            ));
            self.report(path, "scenario::bad-ratio", msg, "ratio > 1", help);
        }
    }

    fn check_delays(&mut self, path: &str, min: u64, max: u64) {
        if min > max {
            let msg = format!("delay_us_min {min} is greater than delay_us_max {max}");
            self.report(
                &format!("{path}.delay_us_min"),
                "scenario::min-above-max",
                msg,
                "min > max",
                None,
            );
        }
        if max > 3_600_000_000 {
            let msg = format!("delay_us_max {max} is above one hour");
            self.report(
                &format!("{path}.delay_us_max"),
                "scenario::out-of-range",
                msg,
                "too long",
                None,
            );
        }
    }

    fn check_network(&mut self, spec: &ScenarioSpec, actors: &Actors) {
        let d = &spec.network.default;
        self.check_ratio("network.default.loss", d.loss);
        self.check_ratio("network.default.duplicate", d.duplicate);
        self.check_delays("network.default", d.delay_us_min, d.delay_us_max);
        self.in_range(
            "network.default.delay_us_step",
            d.delay_us_step,
            1,
            3_600_000_000,
        );
        for (i, link) in spec.network.links.iter().enumerate() {
            self.check_link(&format!("network.links[{i}]"), link, spec, actors);
        }
    }

    fn check_link(
        &mut self,
        path: &str,
        link: &LinkOverride,
        spec: &ScenarioSpec,
        actors: &Actors,
    ) {
        let from = self.actor(&format!("{path}.from"), &link.from, actors);
        let to = self.actor(&format!("{path}.to"), &link.to, actors);
        if let (Some(a), Some(b)) = (from, to) {
            self.linked(&format!("{path}.to"), a, b, actors);
        }
        for (field, ratio) in [("loss", link.loss), ("duplicate", link.duplicate)] {
            if let Some(r) = ratio {
                self.check_ratio(&format!("{path}.{field}"), r);
            }
        }
        let d = &spec.network.default;
        let min = link.delay_us_min.unwrap_or(d.delay_us_min);
        let max = link.delay_us_max.unwrap_or(d.delay_us_max);
        self.check_delays(path, min, max);
        if let Some(step) = link.delay_us_step {
            self.in_range(&format!("{path}.delay_us_step"), step, 1, 3_600_000_000);
        }
    }

    /// Resolve an actor name, reporting an unknown one with a suggestion.
    fn actor(&mut self, path: &str, name: &str, actors: &Actors) -> Option<usize> {
        let found = actors.index_of(name);
        if found.is_none() {
            let known = actors.names().join(", ");
            let msg = format!("unknown actor `{name}`; this scenario has {known}");
            let absent = match name {
                "recovery" => Some(
                    "`recovery` is an actor only in models with a recovery worker (M0, step \
                     programs with `recovery` steps), unless `recovery: (enabled: false)`",
                ),
                "database" => Some(
                    "`database` is an actor only with `consumer: (database: Remote(timeout_ms: \
                     …))`",
                ),
                _ => None,
            };
            let help = absent.map(String::from).or_else(|| {
                nearest(name, actors.names().iter().map(String::as_str)).map(|n| {
                    let command = crate::vocab::command();
                    format!("did you mean `{n}`? (list actors: {command} check <file>)")
                })
            });
            self.report(path, "scenario::unknown-actor", msg, "unknown actor", help);
        }
        found
    }

    fn linked(&mut self, path: &str, a: usize, b: usize, actors: &Actors) {
        if !actors.has_link(a, b) {
            let names = actors.names();
            let msg = format!("there is no link {} -> {}", names[a], names[b]);
            let help = Some("links join producers and consumers to the broker, and the recovery worker to consumers".into());
            self.report(path, "scenario::no-such-link", msg, "no such link", help);
        }
    }

    fn check_explore(&mut self, spec: &ScenarioSpec) {
        let Some(e) = &spec.explore else {
            return;
        };
        let bounds = [
            ("explore.crashes", e.crashes),
            ("explore.drops", e.drops),
            ("explore.duplicates", e.duplicates),
        ];
        for (path, bound) in bounds {
            if let Some(n) = bound {
                self.in_range(path, u64::from(n), 0, 16);
            }
        }
        if let Some(m) = e.messages {
            self.in_range("explore.messages", u64::from(m), 1, 1_000);
        }
    }

    fn check_limits(&mut self, spec: &ScenarioSpec) {
        let l = &spec.limits;
        self.in_range("limits.time_ms_max", l.time_ms_max, 1, THIRTY_DAYS_MS);
        self.in_range("limits.events_max", l.events_max, 1, 1_000_000_000);
        self.in_range("limits.drain_ms_max", l.drain_ms_max, 1, THIRTY_DAYS_MS);
        self.in_range(
            "faults.restart_after_ms",
            spec.faults.restart_after_ms,
            0,
            3_600_000,
        );
    }

    /// The scenario's memory estimate fits the process's budget; if not,
    /// the error sits on the larger part, events or messages.
    fn check_memory(&mut self, spec: &ScenarioSpec) {
        let estimate = Estimate::of(spec);
        let budget = memory::budget();
        if estimate.bytes() <= budget {
            return;
        }
        let total = u64::from(spec.workload.producers) * u64::from(spec.workload.messages);
        let msg = format!(
            "this scenario may need about {} of memory ({} messages, up to {} events \
             kept until checked), above the {} budget",
            numbers::bytes(estimate.bytes()),
            numbers::thousands(total),
            numbers::thousands(spec.limits.events_max),
            numbers::bytes(budget)
        );
        let raise = "or raise the budget with --memory-budget (or EOSIM_MEMORY_BUDGET) \
                     if the machine has the memory";
        if estimate.events >= estimate.messages {
            let lower = match estimate.events_max_within(budget) {
                Some(n) => format!(
                    "lower limits.events_max to {} or less, ",
                    numbers::thousands(n)
                ),
                None => "send fewer messages, ".into(),
            };
            let help = Some(format!("{lower}{raise}"));
            self.report(
                "limits.events_max",
                "scenario::too-large",
                msg,
                "too many events to keep",
                help,
            );
        } else {
            let help = Some(format!("send fewer messages, {raise}"));
            self.report(
                "workload.messages",
                "scenario::too-large",
                msg,
                "too many messages to keep",
                help,
            );
        }
    }

    fn check_expect(&mut self, spec: &ScenarioSpec) {
        let Expect::Violates(checks) = &spec.expect else {
            return;
        };
        if checks.is_empty() {
            let help = Some("write `expect: Pass` when no violation is expected".into());
            self.report(
                "expect",
                "scenario::empty",
                "`Violates([])` lists no check".into(),
                "empty list",
                help,
            );
        }
        for (i, c) in checks.iter().enumerate() {
            let path = format!("expect[0][{i}]");
            if checks[..i].contains(c) {
                self.report(
                    &path,
                    "scenario::duplicate",
                    format!("{c} is listed twice"),
                    "listed twice",
                    None,
                );
            } else if let CheckId::Property(name) = c
                && !spec
                    .model
                    .unit()
                    .properties()
                    .iter()
                    .any(|p| p.name == *name)
            {
                let msg = format!(
                    "{name} can never be violated here: it is a property of another protocol, \
                     not of {}",
                    spec.model.info().code
                );
                self.report(&path, "scenario::never-checked", msg, "never checked", None);
            } else if c.is_law() && !spec.model.probed() {
                let unprobed = spec.model.unit().unprobed();
                let handlers: Vec<&str> = unprobed.iter().map(|u| u.handler).collect();
                let msg = format!(
                    "{c} can never be violated here: the law probe cannot replay the handlers \
                     of {} ({})",
                    spec.model.info().code,
                    handlers.join(", ")
                );
                self.report(&path, "scenario::never-checked", msg, "never checked", None);
            } else if c.is_law() && !spec.consumer.law_probe {
                let msg = format!("{c} can never be violated here: `consumer.law_probe` is false");
                self.report(&path, "scenario::never-checked", msg, "never checked", None);
            }
        }
    }
}
