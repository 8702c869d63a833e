//! Validation of the fault plan: crash knobs and points, scheduled faults,
//! their actors and links, and the heal.

use super::Validator;
use crate::scenario::error::nearest;
use crate::scenario::spec::{CrashKnobSpec, FaultEvent, ScenarioSpec};
use crate::scenario::topology::Actors;

impl Validator<'_> {
    pub(super) fn check_faults(&mut self, spec: &ScenarioSpec, actors: &Actors) {
        for (i, knob) in spec.faults.crash.iter().enumerate() {
            self.check_knob(&format!("faults.crash[{i}]"), knob, actors);
        }
        for (i, knob) in spec.faults.pause.iter().enumerate() {
            let path = format!("faults.pause[{i}]");
            self.check_ratio(&format!("{path}.ratio"), knob.ratio);
            if let Some(name) = &knob.actor {
                self.actor(&format!("{path}.actor"), name, actors);
            }
            self.in_range(&format!("{path}.for_ms"), knob.for_ms, 1, 86_400_000);
        }
        if let Some(r) = spec.faults.expire {
            self.check_ratio("faults.expire", r);
        }
        if let Some(r) = spec.faults.rebalance {
            self.check_ratio("faults.rebalance", r);
        }
        if spec.faults.rebalances() && !spec.model.has_consumer_group() {
            self.no_group(spec);
        }
        if let Some(max) = spec.faults.clock_jump_ms_max {
            self.in_range("faults.clock_jump_ms_max", max, 1, 86_400_000);
        }
        for (i, event) in spec.faults.schedule.iter().enumerate() {
            self.check_event(
                &format!("faults.schedule[{i}]"),
                event,
                actors,
                spec.faults.until_ms,
            );
        }
        if spec.faults.until_ms > spec.limits.time_ms_max {
            let msg = format!(
                "faults.until_ms {} is after limits.time_ms_max {}",
                spec.faults.until_ms, spec.limits.time_ms_max
            );
            self.report(
                "faults.until_ms",
                "scenario::out-of-range",
                msg,
                "never heals",
                None,
            );
        }
    }

    fn check_knob(&mut self, path: &str, knob: &CrashKnobSpec, actors: &Actors) {
        self.check_ratio(&format!("{path}.ratio"), knob.ratio);
        let actor = match &knob.actor {
            Some(name) => match self.actor(&format!("{path}.actor"), name, actors) {
                Some(a) => Some(a),
                None => return,
            },
            None => None,
        };
        if let Some(point) = &knob.at_point {
            let points = actor.map_or_else(
                || actors.all_crash_points(),
                |a| actors.crash_points(a).to_vec(),
            );
            self.crash_point(
                &format!("{path}.at_point"),
                point,
                &points,
                actor.map(|a| (actors.names()[a].as_str(), actors.why_no_crash_points(a))),
            );
        } else if actor.is_some_and(|a| actors.crash_points(a).is_empty()) {
            let name = &actors.names()[actor.unwrap_or_default()];
            let msg = format!("`{name}` has no crash points in this scenario");
            let why = actor.and_then(|a| actors.why_no_crash_points(a));
            self.report(
                &format!("{path}.actor"),
                "scenario::no-crash-points",
                msg,
                "never crashes",
                why.map(|w| format!("it has none because {w}")),
            );
        }
    }

    fn crash_point(
        &mut self,
        path: &str,
        point: &str,
        valid: &[&'static str],
        actor: Option<(&str, Option<&'static str>)>,
    ) {
        if valid.contains(&point) {
            return;
        }
        let (actor, why_none) = actor.map_or((None, None), |(a, why)| (Some(a), why));
        let whose = actor.map_or_else(|| "this model".to_string(), |a| format!("`{a}`"));
        let msg = if valid.is_empty() {
            format!("unknown crash point `{point}`: {whose} has no crash points")
        } else {
            format!(
                "unknown crash point `{point}` for {whose}; valid: {}",
                valid.join(", ")
            )
        };
        let broker = actor == Some("broker") && !valid.is_empty();
        let help = broker
            .then(|| flush_point_help(point))
            .flatten()
            .or_else(|| {
                nearest(point, valid.iter().copied()).map(|n| format!("did you mean `{n}`?"))
            })
            .or_else(|| why_none.map(|w| format!("it has none because {w}")));
        self.report(
            path,
            "scenario::unknown-crash-point",
            msg,
            "unknown crash point",
            help,
        );
    }

    fn check_event(&mut self, path: &str, event: &FaultEvent, actors: &Actors, until_ms: u64) {
        match event {
            FaultEvent::Crash {
                actor,
                at_point,
                nth,
            } => {
                if let Some(a) = self.actor(&format!("{path}.actor"), actor, actors) {
                    let points = actors.crash_points(a).to_vec();
                    let whose = (actor.as_str(), actors.why_no_crash_points(a));
                    self.crash_point(&format!("{path}.at_point"), at_point, &points, Some(whose));
                }
                self.positive(&format!("{path}.nth"), u64::from(*nth));
            }
            FaultEvent::Drop { link, nth } | FaultEvent::Duplicate { link, nth } => {
                self.check_link_name(&format!("{path}.link"), link, actors);
                self.positive(&format!("{path}.nth"), *nth);
            }
            FaultEvent::Delay {
                link,
                nth,
                delay_us,
                ..
            } => {
                self.check_link_name(&format!("{path}.link"), link, actors);
                self.positive(&format!("{path}.nth"), *nth);
                // As a link's delay_us_max: at most one hour.
                self.in_range(&format!("{path}.delay_us"), *delay_us, 0, 3_600_000_000);
            }
            FaultEvent::ClockJump { actor, at_ms, .. } | FaultEvent::Expire { actor, at_ms } => {
                self.actor(&format!("{path}.actor"), actor, actors);
                self.before_heal(path, ("at_ms", *at_ms), until_ms);
            }
            FaultEvent::Rebalance { consumer, at_ms } => {
                let path_consumer = format!("{path}.consumer");
                if let Some(a) = self.actor(&path_consumer, consumer, actors) {
                    self.consumer(&path_consumer, a, actors);
                }
                self.before_heal(path, ("at_ms", *at_ms), until_ms);
            }
            FaultEvent::Pause {
                actor,
                from_ms,
                to_ms,
            } => {
                self.actor(&format!("{path}.actor"), actor, actors);
                self.before_heal(path, ("from_ms", *from_ms), until_ms);
                if to_ms <= from_ms {
                    let msg = format!("pause from_ms {from_ms} is not before to_ms {to_ms}");
                    self.report(
                        &format!("{path}.to_ms"),
                        "scenario::min-above-max",
                        msg,
                        "empty pause",
                        None,
                    );
                }
            }
            FaultEvent::Partition {
                between,
                and,
                from_ms,
                to_ms,
                ..
            } => {
                self.check_partition(path, between, and, actors);
                self.before_heal(path, ("from_ms", *from_ms), until_ms);
                if from_ms >= to_ms {
                    let msg = format!("partition from_ms {from_ms} is not before to_ms {to_ms}");
                    self.report(
                        &format!("{path}.to_ms"),
                        "scenario::min-above-max",
                        msg,
                        "empty partition",
                        None,
                    );
                }
            }
        }
    }

    /// A rebalance in a model whose consumers form no group.
    fn no_group(&mut self, spec: &ScenarioSpec) {
        let path = match spec
            .faults
            .schedule
            .iter()
            .position(|e| matches!(e, FaultEvent::Rebalance { .. }))
        {
            Some(i) if spec.faults.rebalance.is_none() => format!("faults.schedule[{i}]"),
            _ => "faults.rebalance".to_string(),
        };
        let code = spec.model.info().code;
        let (msg, help) = if spec.model.steps().is_some() {
            (
                format!(
                    "step program {code} has no consumer group to rebalance: with a recovery \
                     worker, one worker keeps its partition and the worker's rows"
                ),
                "leave out `recovery` to let a rebalance move partitions between consumers",
            )
        } else {
            (
                format!(
                    "model {code} has no consumer group to rebalance: M0's worker, M8's job and \
                     M12's lease holders keep their partitions"
                ),
                "rebalances apply to M1-M7 and M9-M11",
            )
        };
        let help = Some(help.into());
        self.report(&path, "scenario::no-group", msg, "no consumer group", help);
    }

    /// Actor `a`, named at `path`, is a consumer.
    fn consumer(&mut self, path: &str, a: usize, actors: &Actors) {
        if actors.is_consumer(a) {
            return;
        }
        let name = &actors.names()[a];
        let msg = format!("`{name}` is not a consumer: a rebalance moves a consumer's partitions");
        let help = Some("name a consumer, e.g. `\"consumer-1\"`".into());
        self.report(
            path,
            "scenario::not-a-consumer",
            msg,
            "not a consumer",
            help,
        );
    }

    /// A scheduled fault starts before the heal: its `field` (name, value)
    /// is before `faults.until_ms`.
    fn before_heal(&mut self, path: &str, (field, at): (&str, u64), until_ms: u64) {
        if at < until_ms {
            return;
        }
        let msg = format!(
            "{field} {at} is not before faults.until_ms {until_ms}: the fault would come after \
             the heal"
        );
        let help = Some("faults, scheduled ones too, happen only before faults.until_ms".into());
        self.report(
            &format!("{path}.{field}"),
            "scenario::after-heal",
            msg,
            "after the heal",
            help,
        );
    }

    fn positive(&mut self, path: &str, nth: u64) {
        if nth == 0 {
            let help = Some("counting starts at 1 (the first pass or datagram)".into());
            self.report(
                path,
                "scenario::out-of-range",
                "`nth` is 0".into(),
                "must be 1 or more",
                help,
            );
        }
    }

    fn check_link_name(&mut self, path: &str, link: &str, actors: &Actors) {
        let Some((a, b)) = link.split_once("->") else {
            let msg = format!("link `{link}` should be written `\"sender->receiver\"`");
            let help = Some("for example `\"broker->consumer-1\"`".into());
            self.report(path, "scenario::bad-link", msg, "not a link", help);
            return;
        };
        let (a, b) = (a.trim(), b.trim());
        let ia = self.actor(path, a, actors);
        let ib = self.actor(path, b, actors);
        if let (Some(ia), Some(ib)) = (ia, ib) {
            self.linked(path, ia, ib, actors);
        }
    }

    fn check_partition(&mut self, path: &str, between: &[String], and: &[String], actors: &Actors) {
        for (side, names) in [("between", between), ("and", and)] {
            if names.is_empty() {
                let msg = format!("partition side `{side}` is empty");
                self.report(
                    &format!("{path}.{side}"),
                    "scenario::empty",
                    msg,
                    "empty",
                    None,
                );
            }
            for (i, name) in names.iter().enumerate() {
                self.actor(&format!("{path}.{side}[{i}]"), name, actors);
                if side == "and" && between.contains(name) {
                    let msg = format!("`{name}` is on both sides of the partition");
                    self.report(
                        &format!("{path}.and[{i}]"),
                        "scenario::both-sides",
                        msg,
                        "on both sides",
                        None,
                    );
                }
            }
        }
    }
}

/// The broker's crash points belong to its flush policy (and, for the
/// torn write, to a log without checksums): naming one its settings do not
/// have gets the knob that would give it.
fn flush_point_help(point: &str) -> Option<String> {
    use crate::roles::{AFTER_ACK_BEFORE_FLUSH, AFTER_FLUSH_BEFORE_ACK, DURING_FLUSH};
    if point == AFTER_ACK_BEFORE_FLUSH {
        Some(format!(
            "the broker passes `{point}` only when its flush follows the ack: set `broker: \
             (flush: AfterAck)` or `Periodic(every_ms: …)`"
        ))
    } else if point == AFTER_FLUSH_BEFORE_ACK {
        Some(format!(
            "the broker passes `{point}` only when it flushes before the ack (`flush: \
             OnAppend`, the default)"
        ))
    } else if point == DURING_FLUSH {
        Some(format!(
            "the broker passes `{point}` only without checksums, with a flush after the ack: \
             set `broker: (flush: Periodic(every_ms: …), checksums: false)`"
        ))
    } else {
        None
    }
}
