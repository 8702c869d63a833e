//! The fault matrix: every protocol model against every fault class the
//! engine can inject, each cell computed from runs, never written by hand.
//!
//! A cell is one generated scenario (the model, a small workload, and one
//! fault knob turned on) run over a range of seeds; it lists the checks that
//! broke on at least one seed. Reading a row shows what a protocol survives;
//! reading a column shows which protocols a fault breaks. A model's catalogue
//! entry says which fault classes it survives ([`ModelInfo::survives`]): in
//! those columns its claimed checks must never break, and
//! [`Cell::claims_broken`] lists any that did.
//!
//! [`ModelInfo::survives`]: crate::protocols::ModelInfo::survives

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use crate::check::CheckId;
use crate::protocols::{Model, registry};
use crate::run::{self, Judgement, Verdict};
use crate::scenario::Scenario;
use crate::scenario::spec::{
    CrashKnobSpec, Expect, FaultEvent, FaultsSpec, FlushSpec, LinkSpec, NetworkSpec, OrderingSpec,
    PauseKnobSpec, RatioSpec, ScenarioSpec, WorkloadSpec,
};
pub use crate::vocab::FaultClass;

impl FaultClass {
    /// Whether the class can be injected into `model` at all: a rebalance
    /// needs consumers that form a group (not M0's worker, M8's job or
    /// M12's lease holders); a storage fault, a broker that flushes after
    /// its ack (not M7's coordinator or M12's lease storage). Other cells
    /// are `n/a`.
    pub fn applies_to(self, model: Model) -> bool {
        match self {
            FaultClass::Rebalance => model.has_consumer_group(),
            FaultClass::Storage => model.txn_rules().is_none() && !model.uses_lease(),
            _ => true,
        }
    }

    /// The generated scenario of this class for `model`: 15 messages from
    /// one producer to one consumer over FIFO links with delays of 1 to
    /// 10 ms, faults until 2 s, this knob on.
    pub fn spec(self, model: Model) -> ScenarioSpec {
        let mut spec = ScenarioSpec {
            name: format!("matrix-{}-{}", model.info().code, self.name()),
            seed: 0,
            model,
            workload: WorkloadSpec {
                messages: 15,
                ..WorkloadSpec::default()
            },
            producer: Default::default(),
            broker: Default::default(),
            consumer: Default::default(),
            recovery: None,
            network: NetworkSpec {
                default: LinkSpec {
                    ordering: OrderingSpec::Fifo,
                    ..LinkSpec::default()
                },
                links: Vec::new(),
            },
            faults: FaultsSpec {
                until_ms: 2_000,
                ..FaultsSpec::default()
            },
            limits: Default::default(),
            expect: Expect::Pass,
            explore: None,
        };
        self.turn_on(&mut spec);
        spec
    }

    fn turn_on(self, spec: &mut ScenarioSpec) {
        let link = &mut spec.network.default;
        match self {
            FaultClass::Loss => link.loss = RatioSpec(1, 5),
            FaultClass::Duplicate => link.duplicate = RatioSpec(1, 5),
            FaultClass::Reorder => {
                link.ordering = OrderingSpec::Reordering;
                (link.delay_us_min, link.delay_us_max) = (1_000, 20_000);
            }
            FaultClass::Crash => spec.faults.crash.push(CrashKnobSpec {
                actor: None,
                at_point: None,
                ratio: RatioSpec(1, 10),
            }),
            FaultClass::Partition => spec.faults.schedule.push(FaultEvent::Partition {
                between: vec!["broker".into()],
                and: vec!["producer-1".into(), "consumer-1".into()],
                from_ms: 5,
                to_ms: 120,
                one_way: false,
            }),
            FaultClass::Pause => spec.faults.pause.push(PauseKnobSpec {
                actor: None,
                ratio: RatioSpec(1, 2),
                for_ms: 300,
            }),
            FaultClass::Clock => spec.faults.clock_jump_ms_max = Some(600_000),
            FaultClass::Rebalance => {
                spec.faults.rebalance = Some(RatioSpec(1, 1));
                spec.consumer.processing_ms = 10;
            }
            FaultClass::Storage => {
                spec.broker.flush = FlushSpec::Periodic { every_ms: 50 };
                spec.faults.crash.push(CrashKnobSpec {
                    actor: Some("broker".into()),
                    at_point: None,
                    ratio: RatioSpec(1, 10),
                });
            }
        }
    }

    /// The generated scenario, validated.
    ///
    /// # Panics
    /// If the generated spec is invalid (a bug in this module: every
    /// generated spec is validated by the tests).
    pub fn scenario(self, model: Model) -> Scenario {
        let spec = self.spec(model);
        let file = format!("<matrix {} × {}>", model.info().code, self.name());
        Scenario::from_spec(&file, spec).expect("generated matrix scenarios are valid")
    }
}

impl fmt::Display for FaultClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One cell of the matrix: a model under one fault class over some seeds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    /// The row.
    pub model: Model,
    /// The column.
    pub fault: FaultClass,
    /// Seeds run.
    pub seeds: u64,
    /// Each check that broke, with the number of seeds it broke on.
    pub broken: BTreeMap<CheckId, u64>,
    /// Seeds cut short by a time or event bound.
    pub inconclusive: u64,
}

impl Cell {
    /// Run `model` under `fault` at every seed of `seeds` (none where the
    /// class does not apply).
    pub fn run(model: Model, fault: FaultClass, seeds: Range<u64>) -> Cell {
        let mut cell = Cell::empty(model, fault);
        if !cell.applies() {
            return cell;
        }
        let scenario = fault.scenario(model);
        for seed in seeds {
            cell.add(&scenario, seed);
        }
        cell
    }

    /// A cell with no seeds yet.
    pub fn empty(model: Model, fault: FaultClass) -> Cell {
        Cell {
            model,
            fault,
            seeds: 0,
            broken: BTreeMap::new(),
            inconclusive: 0,
        }
    }

    /// Run one more seed of the cell's `scenario` and count what broke.
    pub fn add(&mut self, scenario: &Scenario, seed: u64) {
        let report = run::run(scenario, seed, false);
        self.seeds += 1;
        self.inconclusive += u64::from(report.verdict == Verdict::Inconclusive);
        let claims = self.model.info().claims;
        for j in &report.checks {
            // A model that does not claim the laws breaks them whatever the
            // fault: listed in every cell, they would say nothing about it.
            if j.check.is_law() && !claims.contains(&j.check) {
                continue;
            }
            // The generated scenarios expect `Pass`, so every violation is
            // judged a failure.
            if matches!(j.judgement, Judgement::Fail(_) | Judgement::Expected(_)) {
                *self.broken.entry(j.check).or_default() += 1;
            }
        }
    }

    /// Whether the fault class can be injected into the model
    /// ([`FaultClass::applies_to`]).
    pub fn applies(&self) -> bool {
        self.fault.applies_to(self.model)
    }

    /// Whether the model claims to survive this cell's fault class.
    pub fn survived_by_claim(&self) -> bool {
        self.applies() && self.model.info().survives.contains(&self.fault)
    }

    /// Claimed checks that broke although the model claims to survive this
    /// fault class: each is a catalogue entry the simulator contradicts.
    pub fn claims_broken(&self) -> Vec<CheckId> {
        if !self.survived_by_claim() {
            return Vec::new();
        }
        let claims = self.model.info().claims;
        self.broken
            .keys()
            .copied()
            .filter(|c| claims.contains(c))
            .collect()
    }
}

/// The whole matrix: a row per model of the installed registry (the
/// catalogue in teaching order, then any added), a cell per class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matrix {
    /// Seeds per cell.
    pub seeds: u64,
    /// Rows, each with one cell per [`FaultClass::ALL`] entry.
    pub rows: Vec<Vec<Cell>>,
}

impl Matrix {
    /// Every (model, fault class) pair, in row and column order: the units of
    /// work a caller may run in parallel and hand to [`Matrix::assemble`].
    pub fn pairs() -> Vec<(Model, FaultClass)> {
        Matrix::pairs_for(registry().models())
    }

    /// Every (model, fault class) pair of `models` (the catalogue and step
    /// programs, say), in row and column order.
    pub fn pairs_for(models: &[Model]) -> Vec<(Model, FaultClass)> {
        models
            .iter()
            .flat_map(|m| FaultClass::ALL.iter().map(move |f| (*m, *f)))
            .collect()
    }

    /// Compute the matrix one cell after another.
    pub fn compute(seeds: u64) -> Matrix {
        let cells = Matrix::pairs()
            .into_iter()
            .map(|(m, f)| Cell::run(m, f, 0..seeds))
            .collect();
        Matrix::assemble(seeds, cells)
    }

    /// Put cells computed in [`Matrix::pairs`] order into rows.
    ///
    /// # Panics
    /// If `cells` is not one cell per pair, in order.
    pub fn assemble(seeds: u64, cells: Vec<Cell>) -> Matrix {
        Matrix::assemble_for(registry().models(), seeds, cells)
    }

    /// Put cells computed in [`Matrix::pairs_for`] order into rows, one per
    /// model of `models`.
    ///
    /// # Panics
    /// If `cells` is not one cell per pair, in order.
    pub fn assemble_for(models: &[Model], seeds: u64, cells: Vec<Cell>) -> Matrix {
        let pairs = Matrix::pairs_for(models);
        assert_eq!(cells.len(), pairs.len(), "one cell per (model, fault) pair");
        for (cell, (m, f)) in cells.iter().zip(&pairs) {
            assert_eq!((cell.model, cell.fault), (*m, *f), "cells in pair order");
        }
        let mut cells = cells.into_iter();
        let rows = models
            .iter()
            .map(|_| cells.by_ref().take(FaultClass::ALL.len()).collect())
            .collect();
        Matrix { seeds, rows }
    }

    /// Every cell whose claimed checks broke under a survived fault class.
    pub fn contradictions(&self) -> Vec<&Cell> {
        self.rows
            .iter()
            .flatten()
            .filter(|c| !c.claims_broken().is_empty())
            .collect()
    }
}

/// A scenario for `model` with every class in `faults` turned on, as the
/// matrix generates them one at a time (what `eosim new` writes). Links stay
/// FIFO unless `faults` has [`FaultClass::Reorder`].
pub fn combined_spec(name: &str, model: Model, faults: &[FaultClass]) -> ScenarioSpec {
    let mut spec = FaultClass::Loss.spec(model);
    spec.name = name.to_string();
    spec.network.default.loss = RatioSpec(0, 1);
    for fault in faults {
        fault.turn_on(&mut spec);
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_generated_scenario_is_valid_and_names_its_cell() {
        for (model, fault) in Matrix::pairs() {
            if !fault.applies_to(model) {
                continue;
            }
            let s = fault.scenario(model);
            assert!(s.name().ends_with(fault.name()), "{}", s.name());
            assert_eq!(s.model(), model);
        }
    }

    #[test]
    fn fault_classes_are_found_by_their_printed_names() {
        for f in FaultClass::ALL {
            assert_eq!(FaultClass::from_name(f.name()), Some(f));
        }
        assert_eq!(FaultClass::from_name("drop"), None);
    }

    #[test]
    fn a_claimed_check_broken_under_a_survived_fault_is_a_contradiction() {
        let mut cell = Cell::empty(
            crate::protocols::registry().get("M2").unwrap(),
            FaultClass::Crash,
        );
        cell.broken.insert(CheckId::C3, 4);
        assert!(cell.claims_broken().is_empty(), "M2 does not claim C3");
        cell.broken.insert(CheckId::C1, 1);
        assert_eq!(cell.claims_broken(), [CheckId::C1]);
        let naive = Cell {
            model: crate::protocols::registry().get("M0Naive").unwrap(),
            ..cell
        };
        assert!(
            naive.claims_broken().is_empty(),
            "M0-naive claims to survive nothing"
        );
    }
}
