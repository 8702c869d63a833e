//! M6's idempotent producer: sessions (Kafka's PID and epoch), batch
//! sequence numbers per partition, at most `max_in_flight` unacked
//! messages, and a new session (an epoch bump) when the broker answers
//! `OutOfOrderSequence`. See [`crate::protocols::m6_idempotent_producer`].

use sim_core::{Choices, Ctx, Step, Store};

use super::producer::{ProducerDb, ProducerVol, Row};
use super::{Msg, Node, Producer, Timer, crash_point};
use crate::history::Obs;
use crate::protocols::m6_idempotent_producer::AFTER_SEND_BEFORE_ACK;
use crate::vocab::SendOutcome;

/// What an M6 producer keeps in memory about its session.
#[derive(Debug, Default, Hash)]
pub struct IdemVol {
    /// The current session, once one has begun.
    session: Option<u32>,
    /// Each message's batch sequence number in this session, by message.
    batch: Vec<Option<u64>>,
    /// The next batch sequence number, by partition.
    next_seq: Vec<u64>,
    /// No message below this one awaits its ack (a lower bound, advanced
    /// lazily).
    oldest_pending: u32,
    /// A new message waits for room in flight.
    deferred: bool,
}

impl Clone for IdemVol {
    fn clone(&self) -> Self {
        let mut copy = IdemVol::default();
        copy.clone_from(self);
        copy
    }

    /// Field by field, reusing the buffers (see [`super::ProducerVol`]).
    fn clone_from(&mut self, source: &Self) {
        // Every field named: a field added later must be copied here too.
        let IdemVol {
            session,
            batch,
            next_seq,
            oldest_pending,
            deferred,
        } = source;
        self.session = *session;
        self.batch.clone_from(batch);
        self.next_seq.clone_from(next_seq);
        self.oldest_pending = *oldest_pending;
        self.deferred = *deferred;
    }
}

impl Producer {
    /// Begin a new session (at a start, or after `OutOfOrderSequence`): a
    /// new durable session number, sequences from 0, and every message still
    /// awaiting its ack re-sent in order.
    fn begin_session<C: Choices>(
        &self,
        db: &mut Store<'_, ProducerDb>,
        v: &mut ProducerVol,
        ctx: &mut Ctx<'_, Node, C>,
    ) {
        let session = db.transaction(|d| {
            d.sessions += 1;
            d.sessions
        });
        v.idem = IdemVol {
            session: Some(session),
            batch: vec![None; self.messages as usize],
            next_seq: vec![0; self.partitions as usize],
            oldest_pending: 0,
            deferred: v.idem.deferred,
        };
        let pending: Vec<u32> = (0..self.messages)
            .filter(|s| db.get().rows[*s as usize] == Row::Pending)
            .collect();
        for seq in pending {
            if let Some(t) = v.timers[seq as usize].take() {
                ctx.cancel_timer(t);
            }
            self.idem_publish(v, ctx, seq);
        }
    }

    /// Send new messages while there is room in flight.
    pub(super) fn idem_send_next<C: Choices>(
        &self,
        db: &mut Store<'_, ProducerDb>,
        v: &mut ProducerVol,
        ctx: &mut Ctx<'_, Node, C>,
    ) -> Step {
        if v.idem.session.is_none() {
            self.begin_session(db, v, ctx);
        }
        while v.next < self.messages {
            if self.window_full(db.get(), v) {
                v.idem.deferred = true;
                return Ok(());
            }
            let seq = v.next;
            v.next += 1;
            db.transaction(|d| d.rows[seq as usize] = Row::Pending);
            self.idem_publish(v, ctx, seq);
            if self.interval.as_us() != 0 {
                break;
            }
        }
        self.schedule_next(v, ctx);
        Ok(())
    }

    /// Whether `max_in_flight` messages from the oldest one awaiting its ack
    /// are out already. Counting from the oldest unacked message, not the
    /// number unacked, keeps every unacked batch among the last five the
    /// broker remembers even when acks come back out of order (as TCP keeps
    /// them in order for Kafka).
    fn window_full(&self, db: &ProducerDb, v: &mut ProducerVol) -> bool {
        let oldest = &mut v.idem.oldest_pending;
        while *oldest < v.next && db.rows[*oldest as usize] != Row::Pending {
            *oldest += 1;
        }
        v.next - *oldest >= self.max_in_flight
    }

    /// Send message `seq` with its batch sequence number (assigned at its
    /// first send in the session), and arm its retry timer.
    fn idem_publish<C: Choices>(&self, v: &mut ProducerVol, ctx: &mut Ctx<'_, Node, C>, seq: u32) {
        let key = self.key(seq);
        let i = seq as usize;
        let IdemVol {
            session,
            batch,
            next_seq,
            ..
        } = &mut v.idem;
        let partition = self.model.partition_of(key, self.partitions) as usize;
        let batch = *batch[i].get_or_insert_with(|| {
            next_seq[partition] += 1;
            next_seq[partition] - 1
        });
        let session = session.expect("a session begins before any send");
        v.attempts[i] += 1;
        let attempt = v.attempts[i];
        ctx.observe(Obs::SendAttempt { key, attempt });
        let msg = Msg::ProduceIdempotent {
            key,
            dedup_id: self.plain_id(key),
            session,
            seq: batch,
        };
        ctx.send(self.broker, msg);
        if let Some(timeout) = self.retry_wait(attempt) {
            v.timers[i] = Some(ctx.set_timer(timeout, Timer::Retry(seq)));
        }
    }

    /// No ack yet: the producer may crash while it waits, else it re-sends.
    pub(super) fn idem_retry<C: Choices>(
        &self,
        db: &mut Store<'_, ProducerDb>,
        v: &mut ProducerVol,
        ctx: &mut Ctx<'_, Node, C>,
        seq: u32,
    ) -> Step {
        if db.get().rows[seq as usize] != Row::Pending {
            return Ok(());
        }
        crash_point(ctx, self.key(seq), AFTER_SEND_BEFORE_ACK)?;
        self.idem_publish(v, ctx, seq);
        Ok(())
    }

    /// An ack of the current session marks the message sent and makes room
    /// in flight (an older session's ack does not: the message was re-sent
    /// in this one, and its batch here must be appended for the ones after
    /// it to be);
    /// `OutOfOrderSequence` for a message still awaiting its ack starts a
    /// new session.
    pub(super) fn idem_on_msg<C: Choices>(
        &self,
        db: &mut Store<'_, ProducerDb>,
        v: &mut ProducerVol,
        ctx: &mut Ctx<'_, Node, C>,
        msg: Msg,
    ) -> Step {
        match msg {
            Msg::SessionAck { key, session }
                if v.idem.session == Some(session)
                    && db.get().rows[key.seq as usize] == Row::Pending =>
            {
                let i = key.seq as usize;
                db.transaction(|d| d.rows[i] = Row::Sent);
                if let Some(t) = v.timers[i].take() {
                    ctx.cancel_timer(t);
                }
                v.acked_total += 1;
                ctx.observe(Obs::SendOutcome {
                    key,
                    outcome: SendOutcome::Acked,
                });
                if std::mem::take(&mut v.idem.deferred) {
                    return self.idem_send_next(db, v, ctx);
                }
            }
            Msg::OutOfOrderSequence { key, session }
                if v.idem.session == Some(session)
                    && db.get().rows[key.seq as usize] == Row::Pending =>
            {
                self.begin_session(db, v, ctx);
            }
            _ => {}
        }
        Ok(())
    }
}
