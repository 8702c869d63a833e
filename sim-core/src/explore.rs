//! The `Explorer` choice source: model checking is "enumerate the tape".
//!
//! An exploration visits the states of a run one event at a time. From a
//! state, the next event is dispatched once per *script*: the list of
//! choices the event's decisions take, in the order they are asked. The
//! first script is empty (every decision takes its default); after a step,
//! [`Explorer::next_script`] gives the next one, as an odometer over the
//! arities the step asked for, until every combination was tried. So a
//! search sees every successor of a state, and nothing but the engine's own
//! decisions decides what a successor is.
//!
//! Faults are bounded: once a path has used its crashes, drops or
//! duplicates, those decisions take their default without branching.
//! Decisions about the timing of random pauses, clock jumps and signals are
//! not enumerated (they take their default: none); scheduled ones happen as
//! scheduled.

use crate::choice::{Choices, Ratio, Site, Stream};

/// How many faults of each kind one path may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FaultBudget {
    /// Crash points that fire.
    pub crashes: u32,
    /// Datagrams lost.
    pub drops: u32,
    /// Datagrams duplicated.
    pub duplicates: u32,
}

/// The faults a path used so far; part of its state (what is left of the
/// budget decides what may still happen).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FaultsUsed {
    /// Crash points that fired.
    pub crashes: u32,
    /// Datagrams lost.
    pub drops: u32,
    /// Datagrams duplicated.
    pub duplicates: u32,
}

impl FaultsUsed {
    fn slot(&mut self, site: Site) -> Option<&mut u32> {
        match site {
            Site::Crash => Some(&mut self.crashes),
            Site::Drop => Some(&mut self.drops),
            Site::Duplicate => Some(&mut self.duplicates),
            _ => None,
        }
    }
}

impl FaultBudget {
    fn limit(self, site: Site) -> Option<u32> {
        match site {
            Site::Crash => Some(self.crashes),
            Site::Drop => Some(self.drops),
            Site::Duplicate => Some(self.duplicates),
            // Random pauses, clock jumps and signals are not enumerated.
            Site::Pause | Site::Clock | Site::Signal => Some(0),
            Site::Delay | Site::Actor | Site::Order => None,
        }
    }
}

/// A choice source that plays a script for one step and notes what the
/// step asked, so that a search can enumerate every script.
#[derive(Debug)]
pub struct Explorer {
    budget: FaultBudget,
    used: FaultsUsed,
    script: Vec<u32>,
    asked: Vec<u32>,
}

impl Clone for Explorer {
    fn clone(&self) -> Self {
        Explorer {
            budget: self.budget,
            used: self.used,
            script: self.script.clone(),
            asked: self.asked.clone(),
        }
    }

    /// Reuses the buffers: a search copies a state once per successor.
    fn clone_from(&mut self, source: &Self) {
        // Every field named: a field added later must be copied here too.
        let Explorer {
            budget,
            used,
            script,
            asked,
        } = source;
        self.budget = *budget;
        self.used = *used;
        self.script.clone_from(script);
        self.asked.clone_from(asked);
    }
}

impl Explorer {
    /// A source with `budget`, nothing used, and an empty script.
    pub fn new(budget: FaultBudget) -> Explorer {
        Explorer {
            budget,
            used: FaultsUsed::default(),
            script: Vec::new(),
            asked: Vec::new(),
        }
    }

    /// The faults used so far.
    pub fn used(&self) -> FaultsUsed {
        self.used
    }

    /// The budget.
    pub fn budget(&self) -> FaultBudget {
        self.budget
    }

    /// Play `script` in the next step (decisions beyond it take their
    /// default).
    pub fn begin(&mut self, script: &[u32]) {
        self.script.clear();
        self.script.extend_from_slice(script);
        self.asked.clear();
    }

    /// The choices the last step took, one per branching decision, with
    /// the defaults beyond the script filled in.
    pub fn taken(&self) -> Vec<u32> {
        self.taken_iter().collect()
    }

    /// [`Explorer::taken`], without collecting it.
    pub fn taken_iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.asked.len()).map(|i| self.script.get(i).copied().unwrap_or(0))
    }

    /// The script after the one the last step played, or `None` when the
    /// step's every combination of choices was tried: the odometer over the
    /// arities it asked for, least significant last.
    pub fn next_script(&self) -> Option<Vec<u32>> {
        let mut script = Vec::new();
        self.next_script_into(&mut script).then_some(script)
    }

    /// [`Explorer::next_script`] written into `script` (its buffer reused);
    /// false, with `script` empty, when there is none.
    pub fn next_script_into(&self, script: &mut Vec<u32>) -> bool {
        script.clear();
        script.extend(self.taken_iter());
        while let Some(last) = script.pop() {
            let arity = self.asked[script.len()];
            if last + 1 < arity {
                script.push(last + 1);
                return true;
            }
        }
        false
    }

    /// The next decision with `arity` options: scripted, or the default.
    fn decide(&mut self, arity: u64) -> u64 {
        let arity = u32::try_from(arity).unwrap_or(u32::MAX);
        let value = self.script.get(self.asked.len()).copied().unwrap_or(0);
        self.asked.push(arity);
        u64::from(value.min(arity - 1))
    }

    fn within_budget(&self, site: Site) -> bool {
        let mut used = self.used;
        match (self.budget.limit(site), used.slot(site)) {
            (Some(limit), Some(n)) => *n < limit,
            (Some(limit), None) => limit > 0,
            (None, _) => true,
        }
    }

    fn spend(&mut self, site: Site) {
        if let Some(n) = self.used.slot(site) {
            *n += 1;
        }
    }
}

impl std::hash::Hash for Explorer {
    /// The budget and what is used of it: what decides a path's future
    /// (the script is the step's, not the state's).
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (self.budget, self.used).hash(h);
    }
}

impl Choices for Explorer {
    fn flip(&mut self, _: Stream, site: Site, p: Ratio) -> bool {
        if p.is_never() {
            return false;
        }
        // A certain outcome is not a choice: it happens whatever the budget.
        if p.is_always() {
            return true;
        }
        if !self.within_budget(site) {
            return false;
        }
        let hit = self.decide(2) == 1;
        if hit {
            self.spend(site);
        }
        hit
    }

    fn pick(&mut self, _: Stream, site: Site, n: u64) -> u64 {
        if n <= 1 || !self.within_budget(site) {
            return 0;
        }
        self.decide(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: FaultBudget = FaultBudget {
        crashes: 1,
        drops: 1,
        duplicates: 0,
    };

    /// Every script of a step that asks a drop (2 ways) then an order
    /// among 3 events.
    fn scripts_of_a_step() -> Vec<Vec<u32>> {
        let state = Explorer::new(BUDGET);
        let mut seen = Vec::new();
        let mut script = Some(Vec::new());
        while let Some(s) = script {
            // Each successor starts from the same state.
            let mut e = state.clone();
            e.begin(&s);
            e.flip(Stream::Faults, Site::Drop, Ratio::new(1, 10));
            e.pick(Stream::Faults, Site::Order, 3);
            seen.push(e.taken());
            script = e.next_script();
        }
        seen
    }

    #[test]
    fn the_odometer_visits_every_combination_once() {
        let all = scripts_of_a_step();
        assert_eq!(
            all,
            vec![
                vec![0, 0],
                vec![0, 1],
                vec![0, 2],
                vec![1, 0],
                vec![1, 1],
                vec![1, 2]
            ]
        );
    }

    #[test]
    fn a_spent_budget_stops_branching() {
        let mut e = Explorer::new(BUDGET);
        e.begin(&[1]);
        assert!(e.flip(Stream::Faults, Site::Drop, Ratio::new(1, 2)));
        e.begin(&[1]);
        assert!(!e.flip(Stream::Faults, Site::Drop, Ratio::new(1, 2)));
        assert!(e.taken().is_empty(), "no decision was asked");
        assert!(!e.flip(Stream::Faults, Site::Duplicate, Ratio::new(1, 2)));
        assert!(!e.flip(Stream::Faults, Site::Pause, Ratio::new(1, 2)));
        assert_eq!(e.used().drops, 1);
    }
}
