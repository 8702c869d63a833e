//! The W2 model explored: the peer's shortest counterexamples, atomic
//! holding, and the same search twice giving the same result.

use benches::w2::{Network, Variant, W2};
use models::explore::{self, Bounds, Explored};
use sim_core::Timing;

fn explored(variant: Variant, network: Network, timing: Timing) -> (W2, Explored) {
    let model = W2::new(variant, 1, network);
    let bounds = model.bounds(Bounds {
        timing,
        copies: Some(2),
        ..Bounds::default()
    });
    let e = explore::explore(&model, bounds, &mut |_| None);
    (model, e)
}

fn shortest(e: &Explored) -> usize {
    assert_eq!(e.found.len(), 1, "{:?}", e.found);
    e.found[0].events()
}

#[test]
fn untimed_naive_breaks_with_the_peers_shortest_counterexamples() {
    // The peer's confirmed shortest (RESULTS.md, table B): 12 actions on
    // the non-duplicating network (a sweep returns a live consumer's row),
    // 6 on the duplicating one (the network delivers `Effect` twice).
    let (_, nondup) = explored(Variant::Naive, Network::NonDuplicating, Timing::Untimed);
    assert_eq!(shortest(&nondup), 12);
    let (_, dup) = explored(Variant::Naive, Network::Duplicating, Timing::Untimed);
    assert_eq!(shortest(&dup), 6);
}

#[test]
fn timed_naive_breaks_only_through_the_crash_window_or_a_duplicate() {
    // With a 100 ms sweep and links of at most 10 ms, a sweep cannot
    // return the row of a consumer whose `Done` is in flight (untimed's
    // 12-event race): the shortest way on a non-duplicating network takes
    // a crash and a restart, so it is longer.
    let (_, nondup) = explored(Variant::Naive, Network::NonDuplicating, Timing::Timed);
    assert!(shortest(&nondup) > 12, "{:?}", nondup.found);
    let (_, dup) = explored(Variant::Naive, Network::Duplicating, Timing::Timed);
    assert_eq!(shortest(&dup), 6);
}

#[test]
fn atomic_holds_on_every_execution_and_applies_every_message() {
    for network in [Network::NonDuplicating, Network::Duplicating] {
        let (model, e) = explored(Variant::Atomic, network, Timing::Timed);
        assert!(e.found.is_empty(), "{network:?}: {:?}", e.found);
        assert_eq!(e.cut, None, "{network:?}: the search must finish");
        assert!(
            model.all_applied(),
            "{network:?}: some execution applies it"
        );
        assert!(e.progress.states > 1_000, "{network:?}: {:?}", e.progress);
    }
}

#[test]
fn two_threads_find_what_one_does() {
    let model = W2::new(Variant::Naive, 2, Network::NonDuplicating);
    let one = Bounds {
        copies: Some(2),
        ..Bounds::default()
    };
    let a = explore::explore(&model, one, &mut |_| None);
    let b = explore::explore(&model, Bounds { threads: 2, ..one }, &mut |_| None);
    assert!(!a.found.is_empty());
    assert_eq!(a.progress, b.progress);
    assert_eq!(a.found, b.found);
}

#[test]
fn the_same_search_twice_is_the_same() {
    let (_, a) = explored(Variant::Naive, Network::NonDuplicating, Timing::Untimed);
    let (_, b) = explored(Variant::Naive, Network::NonDuplicating, Timing::Untimed);
    assert_eq!(a.progress, b.progress);
    assert_eq!(a.found, b.found);
}
