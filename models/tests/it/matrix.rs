//! The fault matrix agrees with the catalogue: no model breaks a check it
//! claims under a fault class it claims to survive, and the breakers the
//! catalogue names show up in their columns.

use models::check::CheckId;
use models::matrix::{FaultClass, Matrix};
use models::protocols::{Model, registry};

/// A built-in model by its scenario name.
fn model(name: &str) -> Model {
    registry().get(name).expect("a built-in model")
}

const SEEDS: u64 = 200;

fn cell(matrix: &Matrix, model: Model, fault: FaultClass) -> &models::matrix::Cell {
    matrix
        .rows
        .iter()
        .flatten()
        .find(|c| c.model == model && c.fault == fault)
        .unwrap()
}

#[test]
fn the_matrix_agrees_with_every_models_claims() {
    let matrix = Matrix::compute(SEEDS);
    let contradictions: Vec<String> = matrix
        .contradictions()
        .iter()
        .map(|c| {
            format!(
                "{} claims to survive {} but broke {:?} (seeds per check: {:?})",
                c.model.info().code,
                c.fault,
                c.claims_broken(),
                c.broken
            )
        })
        .collect();
    assert!(contradictions.is_empty(), "{contradictions:#?}");
    for c in matrix.rows.iter().flatten() {
        let seeds = if c.applies() { SEEDS } else { 0 };
        assert_eq!(c.seeds, seeds, "{:?} × {}", c.model, c.fault);
        assert_eq!(c.inconclusive, 0, "{:?} × {}", c.model, c.fault);
    }
    // The columns really inject their fault: the catalogue's breakers show.
    let breaks = |m, f, check| cell(&matrix, m, f).broken.contains_key(&check);
    assert!(breaks(model("M1"), FaultClass::Loss, CheckId::C1));
    assert!(breaks(model("M1"), FaultClass::Crash, CheckId::C1));
    assert!(breaks(model("M2"), FaultClass::Loss, CheckId::C3));
    assert!(breaks(model("M2"), FaultClass::Duplicate, CheckId::C3));
    assert!(breaks(model("M2"), FaultClass::Crash, CheckId::C3));
    assert!(breaks(model("M0Naive"), FaultClass::Crash, CheckId::C3));
    assert!(breaks(model("M2Set"), FaultClass::Loss, CheckId::C3));
    assert!(breaks(
        model("M12LeaseOnly"),
        FaultClass::Pause,
        CheckId::C13
    ));
    assert!(!breaks(model("M12"), FaultClass::Pause, CheckId::C13));
    assert!(breaks(model("M2Set"), FaultClass::Reorder, CheckId::C1));
    assert!(breaks(model("M7Pre890"), FaultClass::Reorder, CheckId::C9));
    assert!(breaks(model("M7Pre890"), FaultClass::Reorder, CheckId::C1));
    assert!(breaks(
        model("M7ReadUncommitted"),
        FaultClass::Loss,
        CheckId::C7
    ));
    assert!(breaks(
        model("M7ReadUncommitted"),
        FaultClass::Crash,
        CheckId::C3
    ));
    // F-rebalance: the old owner still holds a record when the new owner
    // gets it. At-least-once duplicates; M3's two consumers both pass the
    // check; M4's inbox, in the group's one database, absorbs it.
    assert!(breaks(model("M2"), FaultClass::Rebalance, CheckId::C3));
    assert!(breaks(model("M3"), FaultClass::Rebalance, CheckId::C3));
    assert!(!breaks(model("M4"), FaultClass::Rebalance, CheckId::C3));
    // M7's zombie task is fenced: its transaction commits nothing; with a
    // transactional id per process, nothing fences it.
    assert!(!breaks(model("M7"), FaultClass::Rebalance, CheckId::C3));
    assert!(breaks(
        model("M7Unfenced"),
        FaultClass::Rebalance,
        CheckId::C3
    ));
    // An external call is in neither M4's nor M7's transaction.
    assert!(breaks(model("M4External"), FaultClass::Crash, CheckId::C3));
    assert!(breaks(model("M7External"), FaultClass::Crash, CheckId::C3));
    assert!(breaks(model("M7External"), FaultClass::Loss, CheckId::C3));
    assert!(!cell(&matrix, model("M8"), FaultClass::Rebalance).applies());
    for f in FaultClass::ALL
        .into_iter()
        .filter(|f| f.applies_to(model("M0Naive")))
    {
        assert!(breaks(model("M0Naive"), f, CheckId::C15), "{f}");
    }
}
