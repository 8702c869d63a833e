//! The producer: sends its share of the workload to the broker, and, unless
//! the model is fire-and-forget, re-sends each message until it is acked.
//!
//! Where a message comes from depends on the model ([`Source`]): straight
//! from memory (M1–M6), or from a business transaction in the producer's own
//! database, followed by a publish, as two writes (M9, a dual write) or
//! through an outbox that a relay publishes (M10).

use sim_core::{ActorId, Choices, Ctx, SimDuration, Step, Store, TimerId};

use super::{Msg, Node, Timer, crash_point};
use crate::history::Obs;
use crate::protocols::{Model, m9_dual_write, m10_outbox};
use crate::vocab::{MsgKey, SendOutcome};

/// Where the producer's messages come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// From memory: the send itself is the operation (M1–M6).
    Memory,
    /// M9: commit the business row, then publish; the publish is tracked in
    /// memory only.
    DualWrite,
    /// M9-rev: publish, then commit the business row once the broker acked.
    DualWriteReverse,
    /// M10: the business row and an outbox row in one transaction; a relay
    /// publishes pending outbox rows and marks them sent once acked.
    Outbox,
    /// M6: an idempotent producer (session and sequence numbers, at most
    /// `max_in_flight` unacked); it remembers durably which messages still
    /// await their ack, and re-sends them in a new session after a restart.
    Idempotent,
}

/// A business row in the producer's database (M9, M10).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Row {
    /// Not written yet.
    #[default]
    Absent,
    /// M9: committed; whether it was published is not recorded.
    Committed,
    /// M9-rev: the operation began (its event is being published); its
    /// business row is not committed. Left so by a crash, it was rolled back.
    Started,
    /// M10: committed with an outbox row the relay has not marked sent.
    Pending,
    /// M10: committed, and the relay marked its outbox row sent.
    Sent,
}

/// The producer's durable state: its business rows, by sequence number
/// (empty for a [`Source::Memory`] producer).
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct ProducerDb {
    /// One row per message.
    pub rows: Vec<Row>,
    /// Sessions started so far (M6: each start or epoch bump is a new one).
    pub sessions: u32,
}

impl Clone for ProducerDb {
    fn clone(&self) -> Self {
        ProducerDb {
            rows: self.rows.clone(),
            sessions: self.sessions,
        }
    }

    /// Reuses the buffer: an exploring search copies every state once per
    /// successor.
    fn clone_from(&mut self, source: &Self) {
        let ProducerDb { rows, sessions } = source;
        self.rows.clone_from(rows);
        self.sessions = *sessions;
    }
}

impl ProducerDb {
    /// The business rows in a few words, for reports: which messages'
    /// rows are committed, and (M10) whose outbox rows are pending or sent,
    /// by the producer's own numbering (`#3`).
    pub fn describe(&self) -> String {
        if self.rows.is_empty() {
            return "no business rows (messages come from memory)".to_string();
        }
        let with = |row: Row| -> Vec<String> {
            self.rows
                .iter()
                .enumerate()
                .filter(|(_, r)| **r == row)
                .map(|(i, _)| format!("#{}", i + 1))
                .collect()
        };
        let parts: Vec<String> = [
            ("rows committed", Row::Committed),
            ("outbox pending", Row::Pending),
            ("outbox sent", Row::Sent),
            ("rows begun, not committed", Row::Started),
        ]
        .into_iter()
        .map(|(what, row)| (what, with(row)))
        .filter(|(_, rows)| !rows.is_empty())
        .map(|(what, rows)| format!("{what}: {}", super::consumer::listed(&rows)))
        .collect();
        if parts.is_empty() {
            "no business rows yet".to_string()
        } else {
            parts.join(" · ")
        }
    }
}

/// A producer's program.
#[derive(Clone, Debug)]
pub struct Producer {
    /// The protocol model (it says which partition a message goes to).
    pub model: Model,
    /// This producer's index (0-based).
    pub index: u32,
    /// The broker.
    pub broker: ActorId,
    /// How many messages it sends.
    pub messages: u32,
    /// Time between two new messages (0: all at once at the start).
    pub interval: SimDuration,
    /// `Some(timeout)`: re-send until acked. `None`: fire-and-forget
    /// (`acks=0`: a send counts as acked once it leaves).
    pub retry: Option<SimDuration>,
    /// The longest wait before a retry: waits double from `retry` up to
    /// it (exponential backoff with a cap); `None`: every wait is `retry`.
    pub backoff_max: Option<SimDuration>,
    /// Re-send with a fresh id each time (an app-level resend), defeating
    /// dedup by id.
    pub new_id_on_retry: bool,
    /// Number of distinct keys over all producers, to make fresh ids unique.
    pub id_space: u64,
    /// Dedup ids cycle through this many values (reused keys), if set.
    pub key_space: Option<u64>,
    /// Where messages come from.
    pub source: Source,
    /// M6: most messages unacked at once (`max.in.flight.requests`).
    pub max_in_flight: u32,
    /// Partitions, for M6's per-partition sequence numbers.
    pub partitions: u32,
}

/// What a producer keeps in memory.
#[derive(Debug, Default, Hash)]
pub struct ProducerVol {
    pub(super) next: u32,
    pub(super) attempts: Vec<u32>,
    acked: Vec<bool>,
    pub(super) acked_total: u32,
    pub(super) timers: Vec<Option<TimerId>>,
    /// M6's session state.
    pub(super) idem: super::idempotent::IdemVol,
}

impl Clone for ProducerVol {
    fn clone(&self) -> Self {
        let mut copy = ProducerVol::default();
        copy.clone_from(self);
        copy
    }

    /// Field by field, reusing the buffers, as for [`ProducerDb`].
    fn clone_from(&mut self, source: &Self) {
        // Every field named: a field added later must be copied here too.
        let ProducerVol {
            next,
            attempts,
            acked,
            acked_total,
            timers,
            idem,
        } = source;
        self.next = *next;
        self.attempts.clone_from(attempts);
        self.acked.clone_from(acked);
        self.acked_total = *acked_total;
        self.timers.clone_from(timers);
        self.idem.clone_from(idem);
    }
}

impl ProducerVol {
    /// How many of its messages are acked.
    pub fn acked_count(&self) -> u32 {
        self.acked_total
    }
}

impl ProducerVol {
    /// The volatile state in a few words, for reports (messages by their
    /// 1-based number within this producer).
    pub fn describe(&self) -> String {
        let next = self.next as usize;
        let waiting: Vec<String> = (0..next.min(self.acked.len()))
            .filter(|i| !self.acked[*i])
            .map(|i| match self.attempts[i] {
                0 | 1 => format!("#{}", i + 1),
                n => format!("#{} (attempt {n})", i + 1),
            })
            .collect();
        format!(
            "sent {next} · acked {} · awaiting ack: {}",
            self.acked_total,
            super::consumer::listed(&waiting)
        )
    }
}

impl Producer {
    pub(super) fn init_durable(&self) -> ProducerDb {
        let rows = match self.source {
            Source::Memory => Vec::new(),
            Source::DualWrite | Source::DualWriteReverse | Source::Outbox | Source::Idempotent => {
                vec![Row::Absent; self.messages as usize]
            }
        };
        ProducerDb { rows, sessions: 0 }
    }

    /// Start, or restart from the business rows: a database-backed producer
    /// resumes at the first message without a row, and its relay re-publishes
    /// every outbox row not marked sent.
    pub(super) fn start<C: Choices>(
        &self,
        db: &ProducerDb,
        ctx: &mut Ctx<'_, Node, C>,
    ) -> ProducerVol {
        let n = self.messages as usize;
        let mut v = ProducerVol {
            next: 0,
            attempts: vec![0; n],
            acked: vec![false; n],
            acked_total: 0,
            timers: vec![None; n],
            idem: super::idempotent::IdemVol::default(),
        };
        if self.source != Source::Memory {
            v.next = to_u32(db.rows.iter().position(|r| *r == Row::Absent).unwrap_or(n));
            // M6 re-sends in a new session, which begins in a handler.
            let relay = self.source == Source::Outbox;
            let rows = db.rows.iter().enumerate();
            for (seq, _) in rows.filter(|(_, r)| relay && **r == Row::Pending) {
                self.republish(&mut v, ctx, to_u32(seq));
            }
            // Business operations run in a handler, where they may crash.
            if v.next < self.messages || self.source == Source::Idempotent {
                ctx.set_timer(SimDuration::from_us(0), Timer::SendNext);
            }
        } else if self.interval.as_us() == 0 {
            (0..self.messages).for_each(|seq| self.publish(&mut v, ctx, seq));
            v.next = self.messages;
        } else {
            self.publish(&mut v, ctx, 0);
            v.next = 1;
            self.schedule_next(&v, ctx);
        }
        v
    }

    pub(super) fn schedule_next<C: Choices>(&self, v: &ProducerVol, ctx: &mut Ctx<'_, Node, C>) {
        if v.next < self.messages {
            ctx.set_timer(self.interval, Timer::SendNext);
        }
    }

    /// The next business operation (or, with no interval, all of them).
    fn send_next<C: Choices>(
        &self,
        db: &mut Store<'_, ProducerDb>,
        v: &mut ProducerVol,
        ctx: &mut Ctx<'_, Node, C>,
    ) -> Step {
        if self.source == Source::Idempotent {
            return self.idem_send_next(db, v, ctx);
        }
        loop {
            let seq = v.next;
            v.next += 1;
            match self.source {
                Source::Memory => self.publish(v, ctx, seq),
                Source::Idempotent => unreachable!("M6 sends through idem_send_next"),
                Source::DualWrite => self.dual_write(db, v, ctx, seq)?,
                Source::DualWriteReverse => self.publish_first(db, v, ctx, seq),
                Source::Outbox => self.outbox_write(db, v, ctx, seq),
            }
            if self.interval.as_us() != 0 || v.next >= self.messages {
                break;
            }
        }
        self.schedule_next(v, ctx);
        Ok(())
    }

    pub(super) fn key(&self, seq: u32) -> MsgKey {
        MsgKey {
            producer: self.index,
            seq,
        }
    }

    /// The business operation succeeded: the client sees its success.
    fn committed<C: Choices>(&self, ctx: &mut Ctx<'_, Node, C>, key: MsgKey) {
        ctx.observe(Obs::SendAttempt { key, attempt: 1 });
        ctx.observe(Obs::SendOutcome {
            key,
            outcome: SendOutcome::Acked,
        });
    }

    /// M9: commit the row, then publish.
    fn dual_write<C: Choices>(
        &self,
        db: &mut Store<'_, ProducerDb>,
        v: &mut ProducerVol,
        ctx: &mut Ctx<'_, Node, C>,
        seq: u32,
    ) -> Step {
        db.transaction(|d| d.rows[seq as usize] = Row::Committed);
        let key = self.key(seq);
        self.committed(ctx, key);
        crash_point(ctx, key, m9_dual_write::AFTER_DB_COMMIT_BEFORE_PUBLISH)?;
        self.publish(v, ctx, seq);
        Ok(())
    }

    /// M9-rev: note that the operation began, then publish; the row is
    /// committed when the broker acks.
    fn publish_first<C: Choices>(
        &self,
        db: &mut Store<'_, ProducerDb>,
        v: &mut ProducerVol,
        ctx: &mut Ctx<'_, Node, C>,
        seq: u32,
    ) {
        db.transaction(|d| d.rows[seq as usize] = Row::Started);
        let key = self.key(seq);
        ctx.observe(Obs::SendAttempt { key, attempt: 1 });
        self.publish(v, ctx, seq);
    }

    /// M9-rev: the event is published; commit the business row. A crash
    /// first rolls the operation back: it failed, yet its event is out.
    fn commit_after_publish<C: Choices>(
        &self,
        db: &mut Store<'_, ProducerDb>,
        ctx: &mut Ctx<'_, Node, C>,
        key: MsgKey,
    ) -> Step {
        let step = crash_point(ctx, key, m9_dual_write::AFTER_PUBLISH_BEFORE_DB_COMMIT);
        let outcome = if step.is_err() {
            SendOutcome::Failed
        } else {
            db.transaction(|d| d.rows[key.seq as usize] = Row::Committed);
            SendOutcome::Acked
        };
        ctx.observe(Obs::SendOutcome { key, outcome });
        step
    }

    /// M10: the row and its outbox entry in one transaction; the relay
    /// publishes it at once.
    fn outbox_write<C: Choices>(
        &self,
        db: &mut Store<'_, ProducerDb>,
        v: &mut ProducerVol,
        ctx: &mut Ctx<'_, Node, C>,
        seq: u32,
    ) {
        db.transaction(|d| d.rows[seq as usize] = Row::Pending);
        self.committed(ctx, self.key(seq));
        self.publish(v, ctx, seq);
    }

    /// The message's own dedup id: its index, cycled through `key_space`
    /// when keys are reused.
    pub(super) fn plain_id(&self, key: MsgKey) -> u64 {
        let id = key.index(self.messages) as u64;
        self.key_space.map_or(id, |k| id % k)
    }

    /// M10: the restarted relay publishes a row its crash left unsent. The
    /// business operation's send happened before the crash: this one is a
    /// send of its own (the first of the new incarnation, so `publish` does
    /// not observe it).
    fn republish<C: Choices>(&self, v: &mut ProducerVol, ctx: &mut Ctx<'_, Node, C>, seq: u32) {
        let key = self.key(seq);
        ctx.observe(Obs::SendAttempt { key, attempt: 1 });
        self.publish(v, ctx, seq);
    }

    /// How long to wait for an ack to attempt number `attempt` (from 1)
    /// before re-sending: `retry`, doubled per attempt up to
    /// `backoff_max` when there is one; `None` for fire-and-forget.
    pub(super) fn retry_wait(&self, attempt: u32) -> Option<SimDuration> {
        let base = self.retry?;
        let Some(max) = self.backoff_max else {
            return Some(base);
        };
        let doublings = attempt.saturating_sub(1).min(63);
        let wait = base.0.saturating_mul(1u64 << doublings);
        Some(SimDuration(wait.min(max.0.max(base.0))))
    }

    /// Send message `seq` to the broker (again), and arm its retry timer.
    fn publish<C: Choices>(&self, v: &mut ProducerVol, ctx: &mut Ctx<'_, Node, C>, seq: u32) {
        let key = self.key(seq);
        let i = seq as usize;
        v.attempts[i] += 1;
        let attempt = v.attempts[i];
        let plain_id = self.plain_id(key);
        let dedup_id = if self.new_id_on_retry {
            u64::from(attempt - 1) * self.id_space + plain_id
        } else {
            plain_id
        };
        // A database-backed producer's message was attempted by its business
        // operation; its publishes are the relay's retries.
        if self.source == Source::Memory || attempt > 1 {
            ctx.observe(Obs::SendAttempt { key, attempt });
        }
        ctx.send(self.broker, Msg::Produce { key, dedup_id });
        match self.retry_wait(attempt) {
            Some(timeout) => v.timers[i] = Some(ctx.set_timer(timeout, Timer::Retry(seq))),
            None => ctx.observe(Obs::SendOutcome {
                key,
                outcome: SendOutcome::Acked,
            }),
        }
    }

    pub(super) fn on_msg<C: Choices>(
        &self,
        mut db: Store<'_, ProducerDb>,
        v: &mut ProducerVol,
        ctx: &mut Ctx<'_, Node, C>,
        msg: Msg,
    ) -> Step {
        if self.source == Source::Idempotent {
            return self.idem_on_msg(&mut db, v, ctx, msg);
        }
        let Msg::ProduceAck { key } = msg else {
            return Ok(());
        };
        let i = key.seq as usize;
        if self.retry.is_none() || v.acked[i] {
            return Ok(());
        }
        v.acked[i] = true;
        v.acked_total += 1;
        if let Some(t) = v.timers[i].take() {
            ctx.cancel_timer(t);
        }
        if self.source == Source::Memory {
            ctx.observe(Obs::SendOutcome {
                key,
                outcome: SendOutcome::Acked,
            });
        }
        if self.source == Source::DualWriteReverse && db.get().rows[i] == Row::Started {
            self.commit_after_publish(&mut db, ctx, key)?;
        }
        if self.source == Source::Outbox && db.get().rows[i] == Row::Pending {
            crash_point(ctx, key, m10_outbox::AFTER_PUBLISH_BEFORE_MARK_SENT)?;
            db.transaction(|d| d.rows[i] = Row::Sent);
        }
        Ok(())
    }

    pub(super) fn on_timer<C: Choices>(
        &self,
        mut db: Store<'_, ProducerDb>,
        v: &mut ProducerVol,
        ctx: &mut Ctx<'_, Node, C>,
        timer: Timer,
    ) -> Step {
        match timer {
            Timer::Retry(seq) if self.source == Source::Idempotent => {
                self.idem_retry(&mut db, v, ctx, seq)?;
            }
            Timer::SendNext => self.send_next(&mut db, v, ctx)?,
            Timer::Retry(seq) if !v.acked[seq as usize] => self.publish(v, ctx, seq),
            _ => {}
        }
        Ok(())
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).expect("validated workload size")
}
