//! Trace events and the run digest.
//!
//! The digest is a stable in-crate hash derived from FNV-1a (see [`Fnv64`];
//! never `DefaultHasher`, which changes between Rust releases) over every
//! trace event, whether or not the trace is recorded: recording can be
//! switched off for speed, the digest cannot. A harness extends it over
//! what the run's actors observed ([`Digest::covering`]).

use std::fmt::{self, Write as _};
use std::hash::{Hash, Hasher};

use crate::actor::ActorId;
use crate::fault::SignalKind;
use crate::time::SimTime;

/// A stable 64-bit hasher derived from FNV-1a, but not FNV-1a: it starts
/// from FNV-1a's 64-bit offset basis and, per 64-bit word rather than per
/// byte, xors the word in and multiplies by FNV-1a's 64-bit prime, then
/// rotates left by 23 bits so that high bits feed back into the low ones.
/// Its values therefore differ from FNV-1a's for the same input; the name
/// only records where it comes from.
///
/// Bytes are packed into little-endian words, a short last word marked
/// with its length. Integers of every width, `usize` and `isize` included,
/// are hashed as 64-bit words, so the result is the same on every platform
/// and release (unlike `DefaultHasher`).
#[derive(Clone, Copy, Debug)]
pub struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv64 {
    #[inline]
    fn mix(&mut self, word: u64) {
        self.0 = (self.0 ^ word)
            .wrapping_mul(0x0100_0000_01b3)
            .rotate_left(23);
    }
}

impl Hasher for Fnv64 {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.mix(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.mix(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.mix(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.mix(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.mix(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }

    fn write_i64(&mut self, n: i64) {
        self.mix(n.cast_unsigned());
    }

    fn write_isize(&mut self, n: isize) {
        self.mix((n as i64).cast_unsigned());
    }
}

/// The digest of a run: equal digests mean the same run, event for event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest(pub u64);

impl Digest {
    /// This digest, extended over `more` with the same stable hash: what a
    /// run's actors observed, so that runs whose events agree but whose
    /// outcomes differ never share a digest.
    #[must_use]
    pub fn covering<T: Hash + ?Sized>(self, more: &T) -> Digest {
        let mut h = Fnv64(self.0);
        more.hash(&mut h);
        Digest(h.finish())
    }
}

impl fmt::Display for Digest {
    /// Sixteen lowercase hex digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TraceKind {
    /// A datagram left its sender and will arrive.
    Send,
    /// A datagram was lost to random loss.
    Lost,
    /// A datagram was lost by the explicit schedule.
    LostScheduled,
    /// A datagram was cut by a partition.
    Cut,
    /// The network delivers a second copy of a datagram.
    Duplicate,
    /// A datagram reached its receiver's handler.
    Deliver,
    /// A datagram reached a crashed receiver and vanished.
    DeliverToDown,
    /// A timer fired.
    Timer,
    /// An actor crashed at a named point.
    Crash(&'static str),
    /// A crashed actor restarted from durable state.
    Restart,
    /// An actor was paused (F-pause).
    Pause,
    /// A paused actor resumed, with its memory.
    Resume,
    /// A signal a model defines took effect at the actor it is about.
    Signal(&'static SignalKind),
}

/// Whether `code` is one the engine hashes for its own events.
pub(crate) const fn engine_code(code: u8) -> bool {
    matches!(code, 1..=10 | 12 | 13)
}

impl TraceKind {
    fn code(self) -> u8 {
        match self {
            TraceKind::Send => 1,
            TraceKind::Lost => 2,
            TraceKind::LostScheduled => 3,
            TraceKind::Cut => 4,
            TraceKind::Duplicate => 5,
            TraceKind::Deliver => 6,
            TraceKind::DeliverToDown => 7,
            TraceKind::Timer => 8,
            TraceKind::Crash(_) => 9,
            TraceKind::Restart => 10,
            TraceKind::Pause => 12,
            TraceKind::Resume => 13,
            TraceKind::Signal(kind) => kind.code,
        }
    }

    /// A short lowercase name for text traces.
    pub fn name(self) -> &'static str {
        match self {
            TraceKind::Send => "send",
            TraceKind::Lost => "lost",
            TraceKind::LostScheduled => "lost(scheduled)",
            TraceKind::Cut => "cut(partition)",
            TraceKind::Duplicate => "duplicate",
            TraceKind::Deliver => "deliver",
            TraceKind::DeliverToDown => "deliver-to-crashed",
            TraceKind::Timer => "timer",
            TraceKind::Crash(_) => "crash",
            TraceKind::Restart => "restart",
            TraceKind::Pause => "pause",
            TraceKind::Resume => "resume",
            TraceKind::Signal(kind) => kind.name,
        }
    }
}

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEvent {
    /// Position in the trace, from 0.
    pub id: u64,
    /// When it happened.
    pub time: SimTime,
    /// The actor it happened at (the sender, for network events).
    pub actor: ActorId,
    /// The other end, for network events.
    pub peer: Option<ActorId>,
    /// What happened.
    pub kind: TraceKind,
    /// The event during whose handling this one was caused, if any.
    pub cause: Option<u64>,
    /// The message or timer, as `Debug` text.
    pub label: String,
}

impl TraceEvent {
    /// One canonical line for text traces and golden files: time, actor,
    /// kind, the other end, the payload.
    pub fn line(&self, names: &[String]) -> String {
        let name = |a: ActorId| names.get(a.index()).map_or("?", String::as_str);
        let kind = match self.kind {
            TraceKind::Crash(point) => format!("crash@{point}"),
            k => k.name().to_string(),
        };
        let peer = match (self.kind, self.peer) {
            (TraceKind::Deliver | TraceKind::DeliverToDown, Some(p)) => format!("← {}", name(p)),
            (_, Some(p)) => format!("→ {}", name(p)),
            (_, None) => String::new(),
        };
        let label = if self.label == "()" {
            ""
        } else {
            self.label.as_str()
        };
        format!(
            "{:>12} {:<12} {kind:<18} {peer:<14} {label}",
            self.time.to_string(),
            name(self.actor)
        )
        .trim_end()
        .to_string()
    }
}

/// The digest, and the recorded events if recording is on.
#[derive(Debug)]
pub(crate) struct Trace {
    hasher: Fnv64,
    next_id: u64,
    recording: bool,
    events: Vec<TraceEvent>,
    /// How many events a recording keeps; past that it gives up (see
    /// [`Trace::given_up`]).
    keep_at_most: u64,
    /// Whether a recording passed `keep_at_most` and was dropped.
    given_up: bool,
    /// Where a recorded event's label is written before it is copied out
    /// at its exact length: `format!` of a lone `{:?}` starts from an
    /// empty string and grows it several times per label.
    label: String,
}

impl Clone for Trace {
    fn clone(&self) -> Trace {
        Trace {
            hasher: self.hasher,
            next_id: self.next_id,
            recording: self.recording,
            events: self.events.clone(),
            keep_at_most: self.keep_at_most,
            given_up: self.given_up,
            label: String::new(),
        }
    }

    /// In place, keeping this trace's buffers: an exploring search copies
    /// a state, trace included, once per successor. The label buffer is
    /// scratch, not copied.
    fn clone_from(&mut self, source: &Trace) {
        self.hasher = source.hasher;
        self.next_id = source.next_id;
        self.recording = source.recording;
        self.events.clone_from(&source.events);
        self.keep_at_most = source.keep_at_most;
        self.given_up = source.given_up;
    }
}

impl Trace {
    pub(crate) fn new(recording: bool) -> Trace {
        Trace::keeping_at_most(recording, u64::MAX)
    }

    /// A trace that, if `recording`, keeps at most `events` events: one
    /// more drops the recording and records nothing further. The digest
    /// covers every event either way.
    pub(crate) fn keeping_at_most(recording: bool, events: u64) -> Trace {
        Trace {
            hasher: Fnv64::default(),
            next_id: 0,
            recording,
            events: Vec::new(),
            keep_at_most: events,
            given_up: false,
            label: String::new(),
        }
    }

    /// Note an event: fold it into the digest and, if recording, keep it.
    /// Returns the event's id.
    #[inline]
    pub(crate) fn note<P: Hash + fmt::Debug>(
        &mut self,
        time: SimTime,
        actor: ActorId,
        peer: Option<ActorId>,
        kind: TraceKind,
        cause: Option<u64>,
        payload: &P,
    ) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let h = &mut self.hasher;
        h.write_u8(kind.code());
        h.write_u64(time.0);
        h.write_u32(actor.0);
        h.write_u32(peer.map_or(u32::MAX, |p| p.0));
        match kind {
            TraceKind::Crash(point) => h.write(point.as_bytes()),
            // A delivery carries the payload its send already hashed: the
            // send's id identifies it, for a fraction of the cost.
            TraceKind::Deliver | TraceKind::DeliverToDown => h.write_u64(cause.unwrap_or(u64::MAX)),
            _ => payload.hash(h),
        }
        if self.recording {
            self.keep(
                TraceEvent {
                    id,
                    time,
                    actor,
                    peer,
                    kind,
                    cause,
                    label: String::new(),
                },
                payload,
            );
        }
        id
    }

    /// Keep `event` with `payload` as its label, unless that passes the
    /// bound (then give up). Out of line: the hot path records nothing.
    #[inline(never)]
    fn keep<P: fmt::Debug>(&mut self, mut event: TraceEvent, payload: &P) {
        if self.next_id > self.keep_at_most {
            self.give_up();
            return;
        }
        event.label = match self.sent_label(&event) {
            Some(sent) => sent.to_owned(),
            None => {
                self.label.clear();
                write!(self.label, "{payload:?}").expect("writing to a String does not fail");
                self.label.as_str().to_owned()
            }
        };
        self.events.push(event);
    }

    /// For a delivery, the label its send was kept with: the datagram
    /// delivered is the one sent, unchanged on its way, so its `Debug`
    /// text is the same, and copying it costs far less than writing it.
    fn sent_label(&self, event: &TraceEvent) -> Option<&str> {
        if !matches!(event.kind, TraceKind::Deliver | TraceKind::DeliverToDown) {
            return None;
        }
        let send = event.cause?;
        let sent = self.events.get(usize::try_from(send).ok()?)?;
        let is_the_send = sent.id == send
            && matches!(sent.kind, TraceKind::Send | TraceKind::Duplicate)
            && (sent.actor, sent.peer) == (event.peer?, Some(event.actor));
        is_the_send.then_some(sent.label.as_str())
    }

    /// Stop recording and free what was recorded.
    #[cold]
    fn give_up(&mut self) {
        self.recording = false;
        self.given_up = true;
        self.events = Vec::new();
    }

    /// Whether the recording passed its bound and was dropped.
    pub(crate) fn given_up(&self) -> bool {
        self.given_up
    }

    pub(crate) fn digest(&self) -> Digest {
        Digest(self.hasher.finish())
    }

    pub(crate) fn events(&self) -> &[TraceEvent] {
        &self.events
    }

    pub(crate) fn len(&self) -> u64 {
        self.next_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_pinned_so_digests_never_drift() {
        let mut h = Fnv64::default();
        h.write(b"exactly-once");
        h.write_u32(7);
        h.write_usize(3);
        assert_eq!(h.finish(), 0x2541_20dd_2cba_4086);
    }

    #[test]
    fn integer_widths_and_byte_tails_all_count() {
        let hash = |f: &dyn Fn(&mut Fnv64)| {
            let mut h = Fnv64::default();
            f(&mut h);
            h.finish()
        };
        assert_ne!(hash(&|h| h.write(b"ab")), hash(&|h| h.write(b"ab\0")));
        assert_ne!(hash(&|h| h.write_u8(1)), hash(&|h| h.write_u8(2)));
        assert_eq!(hash(&|h| h.write_u32(5)), hash(&|h| h.write_u64(5)));
    }

    #[test]
    fn the_digest_does_not_depend_on_recording() {
        let mut on = Trace::new(true);
        let mut off = Trace::new(false);
        for t in [&mut on, &mut off] {
            t.note(
                SimTime(5),
                ActorId(1),
                Some(ActorId(2)),
                TraceKind::Send,
                None,
                &"m",
            );
            t.note(
                SimTime(9),
                ActorId(2),
                None,
                TraceKind::Crash("p"),
                Some(0),
                &(),
            );
        }
        assert_eq!(on.digest(), off.digest());
        assert_eq!(on.events().len(), 2);
        assert!(off.events().is_empty());
    }

    #[test]
    fn a_delivery_is_labelled_as_its_send_and_anything_else_by_its_payload() {
        let mut t = Trace::new(true);
        let (a, b) = (ActorId(0), ActorId(1));
        let sent = t.note(SimTime(1), a, Some(b), TraceKind::Send, None, &(7u8, "m"));
        t.note(
            SimTime(2),
            b,
            Some(a),
            TraceKind::Deliver,
            Some(sent),
            &(7u8, "m"),
        );
        // A delivery whose cause is not a send between the same two actors
        // is written from its own payload.
        t.note(SimTime(3), a, Some(b), TraceKind::Deliver, Some(sent), &8u8);
        t.note(SimTime(4), b, Some(a), TraceKind::Deliver, None, &9u8);
        let labels: Vec<&str> = t.events().iter().map(|e| e.label.as_str()).collect();
        assert_eq!(labels, ["(7, \"m\")", "(7, \"m\")", "8", "9"]);
    }

    #[test]
    fn a_bounded_recording_keeps_up_to_its_bound_then_gives_up() {
        let note = |t: &mut Trace, i: u64| {
            t.note(SimTime(i), ActorId(0), None, TraceKind::Timer, None, &i);
        };
        let mut bounded = Trace::keeping_at_most(true, 3);
        let mut off = Trace::new(false);
        for i in 0..3 {
            note(&mut bounded, i);
            note(&mut off, i);
        }
        assert_eq!(bounded.events().len(), 3);
        assert!(!bounded.given_up());
        note(&mut bounded, 3);
        note(&mut off, 3);
        assert!(bounded.given_up());
        assert!(bounded.events().is_empty(), "what was kept is freed");
        note(&mut bounded, 4);
        note(&mut off, 4);
        assert!(bounded.events().is_empty(), "and nothing more is kept");
        assert_eq!((bounded.digest(), bounded.len()), (off.digest(), off.len()));
    }

    #[test]
    fn the_digest_changes_when_any_field_changes() {
        let digest = |time, point| {
            let mut t = Trace::new(false);
            t.note(
                SimTime(time),
                ActorId(0),
                None,
                TraceKind::Crash(point),
                None,
                &1u8,
            );
            t.digest()
        };
        assert_ne!(digest(1, "x"), digest(2, "x"));
        assert_ne!(digest(1, "x"), digest(1, "y"));
    }

    #[test]
    fn a_digest_covering_different_outcomes_differs() {
        let d = Digest(7);
        assert_eq!(d.covering(&[1u32, 2]), d.covering(&[1u32, 2]));
        assert_ne!(d.covering(&[1u32, 2]), d.covering(&[1u32, 3]));
        assert_ne!(d.covering(&[1u32, 2]), d);
    }
}
