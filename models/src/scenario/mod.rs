//! Scenario files: RON in, a validated, runnable [`Scenario`] out.
//!
//! - `spec.rs`: the file format ([`ScenarioSpec`]), plain serde data.
//! - `validate.rs`: semantic checks, every problem collected and located.
//! - `locate.rs`: value paths to byte spans (ron keeps no spans).
//! - `error.rs`: [`ScenarioError`] and [`Diagnostic`], "did you mean".
//! - `topology.rs`: the actors, links and fault plan a spec implies.
//! - `memory.rs`: the memory a scenario may take and the budget it must fit.
//! - `fix.rs`: the scenario under its model's remedy (`eosim diff --fix`).

mod error;
pub mod fix;
mod locate;
pub mod memory;
pub mod spec;
mod topology;
mod validate;

use std::hash::Hasher;

use ron::extensions::Extensions;
use sim_core::{Buffers, Choices, FaultPlan, Limits, Sim, Topology};

pub use error::{Diagnostic, ScenarioError, nearest};
pub use spec::{Expect, ScenarioSpec};
pub use topology::Actors;

use crate::check::CheckId;
use crate::protocols::Model;
use crate::roles::Node;

/// A validated scenario, ready to run at any seed.
#[derive(Clone, Debug)]
pub struct Scenario {
    file: String,
    /// The comment lines at the top of the file, without `//`.
    comment: String,
    spec: ScenarioSpec,
    hash: u64,
    actors: Actors,
    nodes: Vec<Node>,
    topology: Topology,
    plan: FaultPlan,
    limits: Limits,
}

impl Scenario {
    /// Read and validate the scenario file at `path`.
    ///
    /// # Errors
    /// [`ScenarioError`] if the file cannot be read or is not valid.
    pub fn load(path: &str) -> Result<Scenario, ScenarioError> {
        let text = read_bounded(path).map_err(|(readable, reason)| {
            let file = path.to_string();
            if readable {
                ScenarioError::NotText { file, reason }
            } else {
                ScenarioError::Unreadable { file, reason }
            }
        })?;
        Scenario::parse(path, &text)
    }

    /// Parse and validate scenario text; `file` names it in errors. Model
    /// and property names are looked up in the process's installed
    /// [`crate::protocols::registry`]: install one with
    /// [`crate::protocols::Registry::install`] before the first scenario
    /// is read, or the built-in catalogue is installed for good.
    ///
    /// # Errors
    /// [`ScenarioError::Invalid`] with every problem found.
    pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let options = ron::Options::default().with_default_extension(Extensions::IMPLICIT_SOME);
        let spec: ScenarioSpec = options
            .from_str(text)
            .map_err(|e| parse_error(file, text, &e))?;
        let mut scenario = Scenario::validated(file, text, spec)?;
        scenario.comment = leading_comment(text);
        Ok(scenario)
    }

    /// Validate a spec built or changed in code; errors point into its
    /// pretty-printed RON.
    ///
    /// # Errors
    /// [`ScenarioError::Invalid`] with every problem found.
    pub fn from_spec(file: &str, spec: ScenarioSpec) -> Result<Scenario, ScenarioError> {
        let text = Scenario::ron_of(&spec);
        Scenario::validated(file, &text, spec)
    }

    fn validated(file: &str, text: &str, spec: ScenarioSpec) -> Result<Scenario, ScenarioError> {
        let actors = Actors::new(&spec);
        let mut validator = validate::Validator::new(text);
        validator.check(&spec, &actors);
        validator.finish(file)?;
        Ok(Scenario::build(file, spec, actors))
    }

    /// Pretty RON in the file format: `Scenario(` outside, plain tuples of
    /// fields inside (as people write them).
    fn ron_of(spec: &ScenarioSpec) -> String {
        let pretty = ron::ser::PrettyConfig::new();
        let body = ron::ser::to_string_pretty(spec, pretty).expect("a spec always serialises");
        format!("Scenario{body}\n")
    }

    fn build(file: &str, spec: ScenarioSpec, actors: Actors) -> Scenario {
        let resolved = ron::ser::to_string(&spec).expect("a spec always serialises");
        let mut h = sim_core::trace::Fnv64::default();
        h.write(resolved.as_bytes());
        Scenario {
            file: file.to_string(),
            comment: String::new(),
            hash: h.finish(),
            nodes: actors.nodes(&spec),
            topology: actors.topology(&spec),
            plan: actors.plan(&spec),
            limits: topology::limits(&spec),
            actors,
            spec,
        }
    }

    /// A fresh run of the scenario drawing from `choices`.
    pub fn sim<C: Choices>(&self, choices: C) -> Sim<Node, C> {
        self.sim_reusing(choices, Buffers::default())
    }

    /// A fresh run drawing from `choices`, on the buffers of an earlier run
    /// (see [`Buffers`]).
    pub fn sim_reusing<C: Choices>(&self, choices: C, buffers: Buffers<Node>) -> Sim<Node, C> {
        let mut sim = Sim::new(
            self.actors.names().to_vec(),
            self.nodes.clone(),
            self.topology.clone(),
            self.plan.clone(),
            self.limits,
            choices,
        );
        sim.reuse(buffers);
        if self.spec.faults.rebalances() {
            // The group's consumers are processes of one service, with one
            // database.
            sim.share_durable(&self.actors.consumers());
        }
        // About eight observations per message, and as many queued events.
        let w = &self.spec.workload;
        sim.reserve(w.producers as usize * w.messages as usize * 8);
        sim
    }

    /// The file it was loaded from.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The scenario's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The spec with every default filled in.
    pub fn spec(&self) -> &ScenarioSpec {
        &self.spec
    }

    /// The resolved spec as pretty RON.
    pub fn resolved_ron(&self) -> String {
        Scenario::ron_of(&self.spec)
    }

    /// The comment at the top of the file (a lesson's story and what to
    /// look for), its lines without `//`; empty if there is none.
    pub fn comment(&self) -> &str {
        &self.comment
    }

    /// The resolved spec under the file's top comment: what a run folder
    /// keeps, so that a report drawn again from it tells the same lesson.
    /// Its hash is the scenario's (comments are not part of a spec).
    pub fn commented_ron(&self) -> String {
        let mut text: String = self
            .comment
            .lines()
            .map(|l| format!("// {l}").trim_end().to_string() + "\n")
            .collect();
        text.push_str(&self.resolved_ron());
        text
    }

    /// Hash of the resolved spec (part of the reproduce key).
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// The protocol model.
    pub fn model(&self) -> Model {
        self.spec.model
    }

    /// The seed in the file.
    pub fn seed(&self) -> u64 {
        self.spec.seed
    }

    /// The actors.
    pub fn actors(&self) -> &Actors {
        &self.actors
    }

    /// The fault plan.
    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    /// The run bounds.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Whether every broker → consumer link is FIFO, so that consumers
    /// receive records in the order the broker sends them.
    pub fn ordered_delivery(&self) -> bool {
        let net = &self.spec.network;
        let names = self.actors.names();
        names
            .iter()
            .filter(|n| n.starts_with("consumer-"))
            .all(|consumer| {
                let link = net
                    .links
                    .iter()
                    .rev()
                    .find(|l| l.from == "broker" && l.to == *consumer);
                link.and_then(|l| l.ordering)
                    .unwrap_or(net.default.ordering)
                    == spec::OrderingSpec::Fifo
            })
    }

    /// The checks the author expects to be violated (empty for `Pass`).
    pub fn expected(&self) -> &[CheckId] {
        match &self.spec.expect {
            Expect::Pass => &[],
            Expect::Violates(v) => v,
        }
    }
}

/// The most bytes a scenario file may hold: the largest bundled one is
/// about 2 KB.
pub const SCENARIO_BYTES_MAX: u64 = 1 << 20;

/// Read a scenario file: a regular file (a FIFO or a device is refused
/// before it is opened for reading, so nothing waits on a writer or reads
/// forever) of at most [`SCENARIO_BYTES_MAX`] bytes, in UTF-8, a leading
/// byte-order mark dropped. An error says whether the file could be read
/// (then it is not scenario text) and why.
fn read_bounded(path: &str) -> Result<String, (bool, String)> {
    use std::io::Read as _;
    let unreadable = |e: std::io::Error| (false, e.to_string());
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if !meta.is_file() {
        return Err((false, "not a regular file".into()));
    }
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut bytes = Vec::new();
    file.take(SCENARIO_BYTES_MAX + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > SCENARIO_BYTES_MAX {
        let kib = SCENARIO_BYTES_MAX / 1024;
        return Err((
            true,
            format!("larger than {kib} KiB, too large for a scenario"),
        ));
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    String::from_utf8(text.to_vec()).map_err(|e| {
        let at = e.utf8_error().valid_up_to() + (bytes.len() - text.len());
        (true, format!("not UTF-8 text: invalid byte at offset {at}"))
    })
}

/// A ron syntax or type error, located, with a suggestion where ron names
/// the valid alternatives.
/// The `//` lines at the top of `text`, without the slashes and one space.
fn leading_comment(text: &str) -> String {
    text.lines()
        .map(str::trim_start)
        .take_while(|l| l.starts_with("//"))
        .map(|l| {
            let l = l.trim_start_matches('/');
            l.strip_prefix(' ').unwrap_or(l).to_string() + "\n"
        })
        .collect()
}

fn parse_error(file: &str, text: &str, e: &ron::error::SpannedError) -> ScenarioError {
    use ron::Error as E;
    let start = error::offset_of(text, e.span.start.line, e.span.start.col);
    let end = error::offset_of(text, e.span.end.line, e.span.end.col).max(start);
    let (code, label, help) = match &e.code {
        E::NoSuchStructField {
            expected, found, ..
        } => (
            "scenario::unknown-field",
            "unknown field",
            suggestion(found, expected),
        ),
        E::NoSuchEnumVariant {
            expected,
            found,
            outer,
        } if outer.as_deref() == Some("ModelId") => (
            "scenario::unknown-model",
            "unknown model",
            Some(match nearest(found, expected.iter().copied()) {
                Some(n) => format!(
                    "did you mean `{n}`? (list them: {} list-models)",
                    crate::vocab::command()
                ),
                None => format!(
                    "`{found}` is not a registered model; the models are {}",
                    quoted(expected)
                ),
            }),
        ),
        E::NoSuchEnumVariant {
            expected, outer, ..
        } if outer.as_deref() == Some("CheckId") => (
            "scenario::unknown-check",
            "unknown check",
            Some(format!("the checks are {}", quoted(expected))),
        ),
        E::NoSuchEnumVariant {
            expected, found, ..
        } => (
            "scenario::unknown-name",
            "unknown name",
            suggestion(found, expected),
        ),
        E::MissingStructField { field, .. } => (
            "scenario::missing-field",
            "missing field",
            Some(format!("add `{field}: …`")),
        ),
        E::ExpectedComma => (
            "scenario::syntax",
            "expected `,` before this",
            Some("separate fields and items with `,`".into()),
        ),
        _ => ("scenario::syntax", "here", None),
    };
    let message = in_file_words(&e.code.to_string());
    let diagnostic = Diagnostic::at(text, (start, end), code, message, label, help);
    ScenarioError::Invalid {
        file: file.to_string(),
        source: text.to_string(),
        diagnostics: vec![diagnostic],
    }
}

/// ron names the Rust types behind the file format; say what the file calls
/// them instead.
fn in_file_words(message: &str) -> String {
    const WORDS: [(&str, &str); 20] = [
        ("in enum `ModelId`", "for `model`"),
        ("in enum `CompensationSpec`", "for `recovery.compensate`"),
        ("in enum `DatabaseSpec`", "for `consumer.database`"),
        ("in enum `FlushSpec`", "for `broker.flush`"),
        ("in enum `CheckId`", "for a check"),
        ("in enum `OrderingSpec`", "for `ordering`"),
        ("in enum `FaultEvent`", "for a scheduled fault"),
        ("in enum `Expect`", "for `expect`"),
        ("`ScenarioSpec`", "`Scenario`"),
        ("`WorkloadSpec`", "`workload`"),
        ("`ProducerSpec`", "`producer`"),
        ("`BrokerSpec`", "`broker`"),
        ("`ConsumerSpec`", "`consumer`"),
        ("`RecoverySpec`", "`recovery`"),
        ("`NetworkSpec`", "`network`"),
        ("`LinkSpec`", "a link"),
        ("`LinkOverride`", "a link override"),
        ("`FaultsSpec`", "`faults`"),
        ("`CrashKnobSpec`", "a crash knob"),
        ("`LimitsSpec`", "`limits`"),
    ];
    WORDS
        .iter()
        .fold(message.to_string(), |m, (rust, file)| m.replace(rust, file))
}

fn suggestion(found: &str, expected: &[&str]) -> Option<String> {
    nearest(found, expected.iter().copied()).map_or_else(
        || (!expected.is_empty()).then(|| format!("expected one of {}", quoted(expected))),
        |n| Some(format!("did you mean `{n}`?")),
    )
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
