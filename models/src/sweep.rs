//! Many seeds of one scenario: seed specifications, one result per seed, a
//! [`Reorder`] buffer that gives results back in seed order, and a summary
//! that does not depend on the order results arrive in, so that a parallel
//! sweep, a sequential one and merged shards agree.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use sim_core::{Buffers, Digest};

use crate::check::CheckId;
use crate::roles::Node;
use crate::run::{self, Judgement, Verdict};
use crate::scenario::Scenario;
use crate::shrink;

/// Which seeds to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeedSpec {
    /// `A..B`, end exclusive.
    Range(u64, u64),
    /// `1,5,9`.
    List(Vec<u64>),
    /// `random:K`: K consecutive seeds from a start chosen by the caller.
    Random {
        /// How many seeds.
        count: u64,
    },
}

impl SeedSpec {
    /// Parse `A..B`, `1,5,9` or `random:K`.
    ///
    /// # Errors
    /// A message saying what was expected.
    pub fn parse(s: &str) -> Result<SeedSpec, String> {
        let s = s.trim();
        let bad = || {
            format!(
                "`{s}` is not a seed set: expected A..B with A < B, a list like 1,5,9, or random:K"
            )
        };
        if let Some(count) = s.strip_prefix("random:") {
            let count = count.parse().map_err(|_| bad())?;
            return if count == 0 {
                Err(bad())
            } else {
                Ok(SeedSpec::Random { count })
            };
        }
        if let Some((a, b)) = s.split_once("..") {
            let (a, b): (u64, u64) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
            return if a < b {
                Ok(SeedSpec::Range(a, b))
            } else {
                Err(bad())
            };
        }
        let list: Result<Vec<u64>, _> = s.split(',').map(|x| x.trim().parse()).collect();
        let mut list = list.map_err(|_| bad())?;
        let mut seen = std::collections::BTreeSet::new();
        list.retain(|seed| seen.insert(*seed));
        Ok(SeedSpec::List(list))
    }

    /// The seeds, given the start of a random set.
    pub fn seeds(&self, random_start: u64) -> Vec<u64> {
        match self {
            SeedSpec::Range(a, b) => (*a..*b).collect(),
            SeedSpec::List(v) => v.clone(),
            SeedSpec::Random { count } => (0..*count)
                .map(|i| random_start.saturating_add(i))
                .collect(),
        }
    }
}

/// One violation of one seed, as a sweep keeps it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Found {
    /// The check.
    pub check: CheckId,
    /// Its cause in a few words: for an expected violation, the checker's
    /// phrase; for an unexpected one, the kinds of faults left once the run
    /// is shrunk (see [`shrink::fault_kinds`]).
    pub cause: String,
    /// Whether the scenario expects it.
    pub expected: bool,
}

/// The outcome of one seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedResult {
    /// The seed.
    pub seed: u64,
    /// Its verdict.
    pub verdict: Verdict,
    /// The run's digest.
    pub digest: Digest,
    /// Trace events in the run (its size, for picking small examples).
    pub events: u64,
    /// Distinct violations, expected or not.
    pub found: Vec<Found>,
    /// Checks the scenario expects to break that did not.
    pub missing: Vec<CheckId>,
    /// Checks the model claims that were not evaluated, each with why.
    pub unchecked: Vec<(CheckId, String)>,
}

/// Run one seed of `scenario` on reused `buffers`.
pub fn run_seed(scenario: &Scenario, seed: u64, buffers: &mut Buffers<Node>) -> SeedResult {
    let report = run::run_reusing(scenario, seed, buffers);
    let mut found: Vec<Found> = report
        .checks
        .iter()
        .flat_map(|j| match &j.judgement {
            Judgement::Fail(v) | Judgement::Expected(v) => {
                let expected = matches!(j.judgement, Judgement::Expected(_));
                v.iter()
                    .map(|v| Found {
                        check: v.check,
                        cause: v.cause.to_string(),
                        expected,
                    })
                    .collect()
            }
            _ => Vec::new(),
        })
        .collect();
    let mut shrunk: Vec<(CheckId, String)> = Vec::new();
    for f in found.iter_mut().filter(|f| !f.expected) {
        let kinds = match shrunk.iter().find(|(c, _)| *c == f.check) {
            Some((_, kinds)) => kinds.clone(),
            None => {
                let kinds = shrunk_fault_kinds(scenario, seed, f.check);
                shrunk.push((f.check, kinds.clone()));
                kinds
            }
        };
        f.cause = kinds;
    }
    found.sort_unstable();
    found.dedup();
    let missing = report
        .checks
        .iter()
        .filter(|j| matches!(j.judgement, Judgement::Missing(_)))
        .map(|j| j.check)
        .collect();
    SeedResult {
        seed,
        verdict: report.verdict,
        digest: report.end.digest,
        events: report.events(),
        found,
        missing,
        unchecked: report.unchecked,
    }
}

/// How many candidate runs a sweep spends shrinking one failing seed: a
/// count, not a time, so that every machine and every shard clusters alike.
pub const SHRINK_ATTEMPTS: u32 = 64;

/// The kinds of faults the run of `seed` still needs once shrunk, for the
/// cluster of an unexpected violation of `check`.
fn shrunk_fault_kinds(scenario: &Scenario, seed: u64, check: CheckId) -> String {
    let mut attempts = 0;
    let mut keep_going = || {
        attempts += 1;
        attempts <= SHRINK_ATTEMPTS
    };
    match shrink::shrink(scenario, seed, Some(check), &mut keep_going) {
        Ok(shrunk) => shrink::fault_kinds(&shrunk.spec),
        Err(e) => format!("not shrunk: {e}"),
    }
}

/// The seeds that showed one (check, cause).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cluster {
    /// How many seeds.
    pub seeds: u64,
    /// Whether the scenario expects this check to break.
    pub expected: bool,
    /// The smallest examples, fewest events first (ties: lowest seed), at
    /// most [`EXAMPLES_MAX`]: `(events, seed)`.
    pub examples: Vec<(u64, u64)>,
}

/// The cause given to seeds where an expected violation did not happen.
pub const MISSING: &str = "expected, did not happen";

/// How many smallest examples a cluster keeps.
pub const EXAMPLES_MAX: usize = 8;

impl Cluster {
    /// The smallest example: `(events, seed)`.
    pub fn smallest(&self) -> (u64, u64) {
        self.examples.first().copied().unwrap_or_default()
    }
}

/// Add `more` to the sorted `examples` and keep the [`EXAMPLES_MAX`]
/// smallest, so that any order of additions gives the same list.
fn keep_smallest(examples: &mut Vec<(u64, u64)>, more: impl IntoIterator<Item = (u64, u64)>) {
    examples.extend(more);
    examples.sort_unstable();
    examples.dedup();
    examples.truncate(EXAMPLES_MAX);
}

/// Totals of a sweep, independent of the order seeds finish in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Seeds run.
    pub runs: u64,
    /// Seeds whose verdict was pass / fail / inconclusive.
    pub pass: u64,
    /// Unexpected violations.
    pub fail: u64,
    /// Expected violation missing, or a bound hit.
    pub inconclusive: u64,
    /// Seeds that violated each check.
    pub by_check: BTreeMap<CheckId, u64>,
    /// Seeds by (check, cause).
    pub clusters: BTreeMap<(CheckId, String), Cluster>,
    /// Seeds where an expected violation did not happen, by check.
    pub missing: BTreeMap<CheckId, Cluster>,
    /// Seeds where a check the model claims was not evaluated, by check
    /// and why.
    pub unchecked: BTreeMap<(CheckId, String), u64>,
    /// Wrapping sum of every seed's digest: equal sweeps have equal sums.
    pub digest_sum: u64,
}

impl Summary {
    /// Count one seed.
    pub fn add(&mut self, r: &SeedResult) {
        self.runs += 1;
        match r.verdict {
            Verdict::Pass => self.pass += 1,
            Verdict::Fail => self.fail += 1,
            Verdict::Inconclusive => self.inconclusive += 1,
        }
        self.digest_sum = self.digest_sum.wrapping_add(r.digest.0);
        let mut checks: Vec<CheckId> = r.found.iter().map(|f| f.check).collect();
        checks.dedup();
        for c in checks {
            *self.by_check.entry(c).or_default() += 1;
        }
        for (c, why) in &r.unchecked {
            *self.unchecked.entry((*c, why.clone())).or_default() += 1;
        }
        for c in &r.missing {
            let example = (r.events, r.seed);
            self.missing
                .entry(*c)
                .and_modify(|m| {
                    m.seeds += 1;
                    keep_smallest(&mut m.examples, [example]);
                })
                .or_insert(Cluster {
                    seeds: 1,
                    expected: true,
                    examples: vec![example],
                });
        }
        for f in &r.found {
            let example = (r.events, r.seed);
            let cluster = Cluster {
                seeds: 1,
                expected: f.expected,
                examples: vec![example],
            };
            self.clusters
                .entry((f.check, f.cause.clone()))
                .and_modify(|c| {
                    c.seeds += 1;
                    keep_smallest(&mut c.examples, [example]);
                })
                .or_insert(cluster);
        }
    }

    /// Join two summaries (of disjoint seed sets).
    pub fn merge(mut self, other: Summary) -> Summary {
        self.runs += other.runs;
        self.pass += other.pass;
        self.fail += other.fail;
        self.inconclusive += other.inconclusive;
        self.digest_sum = self.digest_sum.wrapping_add(other.digest_sum);
        for (c, n) in other.by_check {
            *self.by_check.entry(c).or_default() += n;
        }
        for (c, n) in other.unchecked {
            *self.unchecked.entry(c).or_default() += n;
        }
        for (key, c) in other.missing {
            self.missing
                .entry(key)
                .and_modify(|mine| {
                    mine.seeds += c.seeds;
                    keep_smallest(&mut mine.examples, c.examples.iter().copied());
                })
                .or_insert(c);
        }
        for (key, c) in other.clusters {
            self.clusters
                .entry(key)
                .and_modify(|mine| {
                    mine.seeds += c.seeds;
                    keep_smallest(&mut mine.examples, c.examples.iter().copied());
                })
                .or_insert(c);
        }
        self
    }

    /// [`Summary::merge`] for counts read from elsewhere (a shard file):
    /// every sum is checked, never wrapped.
    ///
    /// # Errors
    /// The field whose sum does not fit in 64 bits, and its two counts.
    pub fn checked_merge(mut self, other: Summary) -> Result<Summary, String> {
        fn add(to: &mut u64, more: u64, field: &dyn Fn() -> String) -> Result<(), String> {
            *to = to
                .checked_add(more)
                .ok_or_else(|| format!("{}: {to} + {more} overflows a 64-bit count", field()))?;
            Ok(())
        }
        add(&mut self.runs, other.runs, &|| "runs".into())?;
        add(&mut self.pass, other.pass, &|| "pass".into())?;
        add(&mut self.fail, other.fail, &|| "fail".into())?;
        add(&mut self.inconclusive, other.inconclusive, &|| {
            "inconclusive".into()
        })?;
        self.digest_sum = self.digest_sum.wrapping_add(other.digest_sum);
        for (c, n) in other.by_check {
            let field = || format!("by_check {}", c.code());
            add(self.by_check.entry(c).or_default(), n, &field)?;
        }
        for ((c, why), n) in other.unchecked {
            let field = || format!("unchecked {} ({why})", c.code());
            add(
                self.unchecked.entry((c, why.clone())).or_default(),
                n,
                &field,
            )?;
        }
        for (c, more) in other.missing {
            let field = || format!("missing {}", c.code());
            match self.missing.get_mut(&c) {
                Some(mine) => {
                    add(&mut mine.seeds, more.seeds, &field)?;
                    keep_smallest(&mut mine.examples, more.examples);
                }
                None => {
                    self.missing.insert(c, more);
                }
            }
        }
        for ((c, cause), more) in other.clusters {
            let field = || format!("clusters {} ({cause})", c.code());
            match self.clusters.get_mut(&(c, cause.clone())) {
                Some(mine) => {
                    add(&mut mine.seeds, more.seeds, &field)?;
                    keep_smallest(&mut mine.examples, more.examples);
                }
                None => {
                    self.clusters.insert((c, cause), more);
                }
            }
        }
        Ok(self)
    }

    /// The exit code: 1 on any unexpected violation, else 3 if any seed was
    /// inconclusive, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.fail > 0 {
            1
        } else if self.inconclusive > 0 {
            3
        } else {
            0
        }
    }
}

/// A [`Summary`] as plain data, for shard result files and `sweep_end`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryRecord {
    /// Seeds run.
    pub runs: u64,
    /// Seeds that passed.
    pub pass: u64,
    /// Seeds with an unexpected violation.
    pub fail: u64,
    /// Seeds that were inconclusive.
    pub inconclusive: u64,
    /// Seeds that violated each check.
    pub by_check: BTreeMap<CheckId, u64>,
    /// One row per (check, cause).
    pub clusters: Vec<ClusterRecord>,
    /// One row per check expected to break that did not, in some seeds.
    pub missing: Vec<ClusterRecord>,
    /// One row per claimed check left unchecked, with why, in some seeds
    /// (required: a shard file without it was written by a version whose
    /// digests differ, and must not be merged).
    pub unchecked: Vec<UncheckedRecord>,
    /// Wrapping sum of the seeds' digests, as 16 hex digits.
    pub digest_sum: String,
}

/// Seeds where a claimed check was not evaluated, for one reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UncheckedRecord {
    /// The check.
    pub check: CheckId,
    /// Why it was not evaluated.
    pub why: String,
    /// How many seeds.
    pub seeds: u64,
}

/// One cluster as plain data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterRecord {
    /// The check.
    pub check: CheckId,
    /// The cause.
    pub cause: String,
    /// How many seeds.
    pub seeds: u64,
    /// Whether the scenario expects the check to break.
    pub expected: bool,
    /// The smallest example's seed.
    pub smallest_seed: u64,
    /// The smallest example's events.
    pub smallest_events: u64,
    /// The smallest examples, `(events, seed)`, fewest events first.
    pub examples: Vec<(u64, u64)>,
}

impl Summary {
    /// The summary as plain data.
    pub fn to_record(&self) -> SummaryRecord {
        let row = |check: CheckId, cause: &str, c: &Cluster| ClusterRecord {
            check,
            cause: cause.to_string(),
            seeds: c.seeds,
            expected: c.expected,
            smallest_seed: c.smallest().1,
            smallest_events: c.smallest().0,
            examples: c.examples.clone(),
        };
        let clusters = self
            .clusters
            .iter()
            .map(|((check, cause), c)| row(*check, cause, c))
            .collect();
        let missing = self
            .missing
            .iter()
            .map(|(check, c)| row(*check, MISSING, c))
            .collect();
        SummaryRecord {
            runs: self.runs,
            pass: self.pass,
            fail: self.fail,
            inconclusive: self.inconclusive,
            by_check: self.by_check.clone(),
            clusters,
            missing,
            unchecked: self
                .unchecked
                .iter()
                .map(|((check, why), seeds)| UncheckedRecord {
                    check: *check,
                    why: why.clone(),
                    seeds: *seeds,
                })
                .collect(),
            digest_sum: format!("{:016x}", self.digest_sum),
        }
    }

    /// A summary from plain data.
    ///
    /// # Errors
    /// If the digest sum is not hexadecimal.
    pub fn from_record(r: SummaryRecord) -> Result<Summary, String> {
        let digest_sum = u64::from_str_radix(&r.digest_sum, 16)
            .map_err(|_| format!("digest_sum `{}` is not hexadecimal", r.digest_sum))?;
        let cluster = |c: ClusterRecord| {
            let mut examples = Vec::new();
            keep_smallest(&mut examples, c.examples);
            Cluster {
                seeds: c.seeds,
                expected: c.expected,
                examples,
            }
        };
        // A row listed twice would lose a count (the second replaces the
        // first): refused, as rows of the clusters, missing and unchecked.
        let mut keys = std::collections::BTreeSet::new();
        for c in &r.clusters {
            if !keys.insert((c.check, c.cause.clone())) {
                return Err(format!(
                    "cluster {} `{}` is listed twice",
                    c.check.code(),
                    c.cause
                ));
            }
        }
        let mut keys = std::collections::BTreeSet::new();
        if let Some(c) = r.missing.iter().find(|c| !keys.insert(c.check)) {
            return Err(format!("missing {} is listed twice", c.check.code()));
        }
        let mut keys = std::collections::BTreeSet::new();
        if let Some(u) = r
            .unchecked
            .iter()
            .find(|u| !keys.insert((u.check, u.why.clone())))
        {
            return Err(format!(
                "unchecked {} `{}` is listed twice",
                u.check.code(),
                u.why
            ));
        }
        let missing = r
            .missing
            .into_iter()
            .map(|c| (c.check, cluster(c)))
            .collect();
        let clusters = r
            .clusters
            .into_iter()
            .map(|c| ((c.check, c.cause.clone()), cluster(c)))
            .collect();
        Ok(Summary {
            runs: r.runs,
            pass: r.pass,
            fail: r.fail,
            inconclusive: r.inconclusive,
            by_check: r.by_check,
            clusters,
            missing,
            unchecked: r
                .unchecked
                .into_iter()
                .map(|u| ((u.check, u.why), u.seeds))
                .collect(),
            digest_sum,
        })
    }
}

/// Results that finish in any order, given back in the order their work
/// was handed out, so that a parallel sweep writes its seeds' results in
/// seed order whatever the number of threads. Only results that finished
/// ahead of an earlier, slower one wait here; the caller bounds how far
/// ahead of [`Reorder::next`] it lets work start, and so the memory held.
#[derive(Clone, Debug)]
pub struct Reorder<T> {
    next: u64,
    waiting: BTreeMap<u64, T>,
}

impl<T> Default for Reorder<T> {
    /// Nothing given back yet: position 0 comes first.
    fn default() -> Self {
        Reorder {
            next: 0,
            waiting: BTreeMap::new(),
        }
    }
}

impl<T> Reorder<T> {
    /// The position given back next.
    pub fn next(&self) -> u64 {
        self.next
    }

    /// How many results wait for an earlier one.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Add the result of the work at `position`.
    ///
    /// # Panics
    /// If `position` was added before.
    pub fn insert(&mut self, position: u64, item: T) {
        assert!(position >= self.next, "position {position} was given back");
        let old = self.waiting.insert(position, item);
        assert!(old.is_none(), "position {position} is added once");
    }

    /// The result at [`Reorder::next`], if it has arrived.
    pub fn pop(&mut self) -> Option<T> {
        let item = self.waiting.remove(&self.next)?;
        self.next += 1;
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_position_order_as_soon_as_they_are_contiguous() {
        let mut r = Reorder::default();
        r.insert(2, "c");
        r.insert(1, "b");
        assert_eq!(r.pop(), None, "0 is still running");
        assert_eq!(r.waiting(), 2);
        r.insert(0, "a");
        assert_eq!(
            [r.pop(), r.pop(), r.pop(), r.pop()],
            [Some("a"), Some("b"), Some("c"), None]
        );
        assert_eq!((r.next(), r.waiting()), (3, 0));
        r.insert(3, "d");
        assert_eq!(r.pop(), Some("d"));
    }

    #[test]
    fn seed_specs_parse_ranges_lists_and_random_counts() {
        assert_eq!(SeedSpec::parse("0..3").unwrap().seeds(0), [0, 1, 2]);
        assert_eq!(SeedSpec::parse("1, 5,9").unwrap().seeds(0), [1, 5, 9]);
        assert_eq!(SeedSpec::parse("random:2").unwrap().seeds(40), [40, 41]);
        for bad in ["", "5..5", "a..b", "random:0", "random:x", "1,,2"] {
            assert!(SeedSpec::parse(bad).is_err(), "{bad}");
        }
    }

    /// Merging hostile counts (a shard file's) never wraps: a sum past
    /// u64::MAX is refused, naming the field.
    #[test]
    fn a_checked_merge_refuses_a_sum_that_overflows_and_names_the_field() {
        let big = |f: &dyn Fn(&mut Summary)| {
            let mut s = Summary::default();
            f(&mut s);
            s
        };
        let one = big(&|s| {
            s.runs = 1;
            s.pass = 1;
            s.by_check.insert(CheckId::C3, 1);
            s.unchecked.insert((CheckId::C5, "why".into()), 1);
        });
        let cases: [(&str, Summary); 5] = [
            ("runs", big(&|s| s.runs = u64::MAX)),
            ("pass", big(&|s| s.pass = u64::MAX)),
            (
                "by_check C3",
                big(&|s| {
                    s.by_check.insert(CheckId::C3, u64::MAX);
                }),
            ),
            (
                "unchecked C5",
                big(&|s| {
                    s.unchecked.insert((CheckId::C5, "why".into()), u64::MAX);
                }),
            ),
            (
                "by_check C3",
                big(&|s| {
                    s.by_check.insert(CheckId::C3, u64::MAX);
                    s.by_check.insert(CheckId::C4, 1);
                }),
            ),
        ];
        for (field, hostile) in cases {
            let err = one.clone().checked_merge(hostile).unwrap_err();
            assert!(err.contains(field), "{field}: {err}");
            assert!(err.contains("overflow"), "{field}: {err}");
        }
        let mut cluster = Summary::default();
        let c = Cluster {
            seeds: u64::MAX,
            expected: true,
            examples: vec![(1, 1)],
        };
        cluster
            .clusters
            .insert((CheckId::C3, "x".into()), c.clone());
        let twice = cluster.clone().checked_merge(cluster.clone()).unwrap_err();
        assert!(twice.contains("clusters C3"), "{twice}");
        let mut missing = Summary::default();
        missing.missing.insert(CheckId::C3, c);
        let twice = missing.clone().checked_merge(missing).unwrap_err();
        assert!(twice.contains("missing C3"), "{twice}");
        let fine = one.clone().checked_merge(one.clone()).unwrap();
        assert_eq!(fine, one.clone().merge(one));
    }

    /// A record listing one missing check or one unchecked reason twice
    /// would lose a count; it is refused.
    #[test]
    fn a_record_with_a_row_listed_twice_is_refused() {
        let mut s = Summary::default();
        s.unchecked.insert((CheckId::C5, "why".into()), 1);
        s.missing.insert(
            CheckId::C3,
            Cluster {
                seeds: 1,
                expected: true,
                examples: vec![(1, 1)],
            },
        );
        let r = s.to_record();
        let mut twice = r.clone();
        twice.unchecked.push(twice.unchecked[0].clone());
        assert!(Summary::from_record(twice).unwrap_err().contains("twice"));
        let mut twice = r;
        twice.missing.push(twice.missing[0].clone());
        assert!(Summary::from_record(twice).unwrap_err().contains("twice"));
    }

    #[test]
    fn merged_summaries_equal_one_summary_of_all_seeds() {
        let text = r#"Scenario(name: "s", model: M2, workload: (messages: 8),
            network: (default: (loss: Ratio(1, 4))), expect: Violates([C3]))"#;
        let s = Scenario::parse("s.ron", text).unwrap();
        let mut buffers = Buffers::default();
        let results: Vec<SeedResult> = (0..30)
            .map(|seed| run_seed(&s, seed, &mut buffers))
            .collect();
        let mut whole = Summary::default();
        results.iter().for_each(|r| whole.add(r));
        let (mut odd, mut even) = (Summary::default(), Summary::default());
        for r in results.iter().rev() {
            if r.seed % 2 == 1 {
                odd.add(r);
            } else {
                even.add(r);
            }
        }
        assert_eq!(odd.merge(even), whole);
        assert_eq!(Summary::from_record(whole.to_record()).unwrap(), whole);
        assert_eq!(whole.runs, 30);
        assert!(
            whole.by_check.get(&CheckId::C3).is_some_and(|n| *n > 0),
            "lossy M2 duplicates"
        );
        assert_eq!(whole.pass + whole.inconclusive + whole.fail, 30);
    }
}
