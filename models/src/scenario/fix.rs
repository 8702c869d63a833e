//! The catalogue's remedy applied to a scenario: the same workload, network,
//! faults and seed under the model that avoids the scenario's model's
//! failures ([`ModelInfo::fixed_by`]), so that `eosim diff --fix` can run
//! both and show them side by side.
//!
//! Crash points are named per model, so a crash the schedule places at a
//! point the fixed model does not have is moved to the fixed model's point
//! on the same side of the effect (the last one before it, or the first one
//! after it) and the move is said; a crash that has no such point is left
//! out, and that is said too. Nothing else changes, except the name (with
//! `-fixed-` and the model) and the expectation, `Pass`: nobody wrote down
//! what the fixed scenario should violate, so its verdict names every
//! violation, and `eosim diff --fix` judges the remedy by the checks it
//! claims.

use crate::protocols::{Model, ModelInfo, registry};

use super::spec::{Expect, FaultEvent};
use super::{Scenario, ScenarioError};

/// A scenario with its model's remedy.
#[derive(Debug)]
pub struct Fixed {
    /// The scenario under the remedy's model.
    pub scenario: Scenario,
    /// What had to change besides the model, one sentence each (a crash
    /// moved to another point, or left out).
    pub notes: Vec<String>,
}

/// Why a scenario cannot be fixed by a model.
#[derive(Debug)]
pub enum FixError {
    /// The model's remedy is a setting, not another model.
    NoModel {
        /// The model's printed code.
        code: &'static str,
        /// The catalogue's remedy, in words.
        remedy: &'static str,
    },
    /// The fixed scenario does not validate.
    Invalid(ScenarioError),
}

impl std::fmt::Display for FixError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FixError::NoModel { code, remedy } => write!(
                f,
                "{code} has no remedy in the catalogue that is another model; its remedy is: \
                 {remedy}"
            ),
            FixError::Invalid(e) => write!(f, "the fixed scenario is not valid: {e}"),
        }
    }
}

/// `scenario` under its model's remedy.
///
/// # Errors
/// [`FixError::NoModel`] if the model has no remedy model, or
/// [`FixError::Invalid`] if the result does not validate.
pub fn fixed(scenario: &Scenario) -> Result<Fixed, FixError> {
    let from = scenario.model();
    let info = from.info();
    let remedy = info
        .fixed_by
        .and_then(|name| registry().get(name))
        .ok_or(FixError::NoModel {
            code: info.code,
            remedy: info.remedy,
        })?;
    let mut spec = scenario.spec().clone();
    let mut notes = Vec::new();
    spec.name = format!(
        "{}-fixed-{}",
        spec.name,
        remedy.info().code.to_ascii_lowercase()
    );
    spec.model = remedy;
    spec.expect = Expect::Pass;
    spec.faults.schedule = std::mem::take(&mut spec.faults.schedule)
        .into_iter()
        .filter_map(|event| moved(event, info, remedy, &mut notes))
        .collect();
    for knob in &mut spec.faults.crash {
        if let Some(point) = &knob.at_point
            && let Some(to) = nearest_point(point, info, remedy.info())
            && to != point
        {
            notes.push(format!(
                "{} has no crash point {point}: the crash knob uses {to}, {}",
                remedy.info().code,
                side_words(point)
            ));
            knob.at_point = Some(to.to_string());
        }
    }
    let scenario = Scenario::from_spec(scenario.file(), spec).map_err(FixError::Invalid)?;
    Ok(Fixed { scenario, notes })
}

/// A scheduled fault as the fixed model can take it: a crash at a point it
/// lacks moves to its nearest point, or is left out.
fn moved(
    event: FaultEvent,
    from: &ModelInfo,
    to: Model,
    notes: &mut Vec<String>,
) -> Option<FaultEvent> {
    let FaultEvent::Crash {
        actor,
        at_point,
        nth,
    } = event
    else {
        return Some(event);
    };
    let code = to.info().code;
    match nearest_point(&at_point, from, to.info()) {
        Some(point) if point == at_point => Some(FaultEvent::Crash {
            actor,
            at_point,
            nth,
        }),
        Some(point) => {
            notes.push(format!(
                "{code} has no crash point {at_point}: {actor} crashes at {point} instead, {}",
                side_words(&at_point)
            ));
            Some(FaultEvent::Crash {
                actor,
                at_point: point.to_string(),
                nth,
            })
        }
        None => {
            notes.push(format!(
                "{code} has no crash point like {at_point}: {actor}'s crash is left out"
            ));
            None
        }
    }
}

/// `point` itself if the fixed model has it; else its point on the same
/// side of the effect, in the same role.
fn nearest_point<'a>(point: &'a str, from: &ModelInfo, to: &ModelInfo) -> Option<&'a str> {
    let all = |i: &ModelInfo| {
        i.consumer_crash_points
            .iter()
            .chain(i.producer_crash_points)
            .any(|p| *p == point)
    };
    if all(to) {
        return Some(point);
    }
    let producer = from.producer_crash_points.contains(&point);
    let candidates = if producer {
        to.producer_crash_points
    } else {
        to.consumer_crash_points
    };
    let before = before_effect(point);
    let mut same_side = candidates.iter().filter(|p| before_effect(p) == before);
    let found = if before {
        same_side.next_back()
    } else {
        same_side.next()
    };
    found.copied()
}

/// Whether a crash point lies before its handler's effect (by its name:
/// `…-before-effect`, `before-write`, `…-before-call`).
fn before_effect(point: &str) -> bool {
    point.ends_with("before-effect") || point == "before-write" || point.ends_with("before-call")
}

/// Which point was chosen, in words.
fn side_words(point: &str) -> &'static str {
    if before_effect(point) {
        "its last point before the effect"
    } else {
        "its first point after the effect"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lesson(file: &str) -> Scenario {
        Scenario::load(&format!(
            "{}/../scenarios/{file}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("a bundled lesson loads")
    }

    #[test]
    fn a_crash_point_the_remedy_lacks_moves_to_the_same_side_of_the_effect() {
        let fixed = fixed(&lesson("13-m3-crash-before-record-duplicates.ron")).expect("M3 → M4");
        let spec = fixed.scenario.spec();
        assert_eq!(fixed.scenario.model().info().code, "M4");
        assert!(spec.name.ends_with("-fixed-m4"), "{}", spec.name);
        let points: Vec<&str> = spec
            .faults
            .schedule
            .iter()
            .filter_map(|e| match e {
                FaultEvent::Crash { at_point, .. } => Some(at_point.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(points, ["after-effect-before-offset-commit"]);
        assert_eq!(fixed.notes.len(), 1, "{:?}", fixed.notes);
        assert!(
            fixed.notes[0].contains("after-effect-before-record")
                && fixed.notes[0].contains("first point after the effect"),
            "{:?}",
            fixed.notes
        );
        assert_eq!(spec.expect, Expect::Pass);
    }

    #[test]
    fn a_model_whose_remedy_is_a_setting_has_no_fix() {
        let error = fixed(&lesson("17-m4-new-id-defeats-inbox.ron")).expect_err("M4 has no fix");
        assert!(error.to_string().contains("its remedy is"), "{error}");
    }

    #[test]
    fn points_are_placed_by_their_side_of_the_effect() {
        assert!(before_effect("after-claim-before-effect"));
        assert!(before_effect("before-write"));
        assert!(!before_effect("after-effect-before-record"));
        assert!(!before_effect("after-call-before-inbox"));
        let naive = crate::protocols::registry()
            .get("M0Naive")
            .expect("M0Naive");
        let atomic = crate::protocols::registry()
            .get("M0Atomic")
            .expect("M0Atomic");
        assert_eq!(
            nearest_point(
                "after-effect-before-status-update",
                naive.info(),
                atomic.info()
            ),
            Some("after-status-update-before-offset-commit")
        );
        assert_eq!(
            nearest_point("after-claim-before-effect", naive.info(), atomic.info()),
            Some("after-claim-before-effect")
        );
    }
}
