//! The producer: sends its share of the workload to the broker, and, unless
//! the model is fire-and-forget, re-sends each message until it is acked.

use sim_core::{ActorId, Choices, Ctx, SimDuration, Step, TimerId};

use super::{Msg, Node, Timer};
use crate::history::Obs;
use crate::vocab::{MsgKey, SendOutcome};

/// A producer's program.
#[derive(Clone, Debug)]
pub struct Producer {
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
    /// Re-send with a fresh id each time (an app-level resend), defeating
    /// dedup by id.
    pub new_id_on_retry: bool,
    /// Number of distinct keys over all producers, to make fresh ids unique.
    pub id_space: u64,
}

/// What a producer keeps in memory.
#[derive(Debug, Default)]
pub struct ProducerVol {
    next: u32,
    attempts: Vec<u32>,
    acked: Vec<bool>,
    acked_total: u32,
    timers: Vec<Option<TimerId>>,
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
    pub(super) fn start<C: Choices>(&self, ctx: &mut Ctx<'_, Node, C>) -> ProducerVol {
        let n = self.messages as usize;
        let mut v = ProducerVol {
            next: 0,
            attempts: vec![0; n],
            acked: vec![false; n],
            acked_total: 0,
            timers: vec![None; n],
        };
        if self.interval.as_us() == 0 {
            (0..self.messages).for_each(|seq| self.send(&mut v, ctx, seq));
            v.next = self.messages;
        } else {
            self.send_next(&mut v, ctx);
        }
        v
    }

    fn send_next<C: Choices>(&self, v: &mut ProducerVol, ctx: &mut Ctx<'_, Node, C>) {
        self.send(v, ctx, v.next);
        v.next += 1;
        if v.next < self.messages {
            ctx.set_timer(self.interval, Timer::SendNext);
        }
    }

    fn key(&self, seq: u32) -> MsgKey {
        MsgKey {
            producer: self.index,
            seq,
        }
    }

    fn send<C: Choices>(&self, v: &mut ProducerVol, ctx: &mut Ctx<'_, Node, C>, seq: u32) {
        let key = self.key(seq);
        let i = seq as usize;
        v.attempts[i] += 1;
        let attempt = v.attempts[i];
        let plain_id = key.index(self.messages) as u64;
        let dedup_id = if self.new_id_on_retry {
            u64::from(attempt - 1) * self.id_space + plain_id
        } else {
            plain_id
        };
        ctx.observe(Obs::SendAttempt { key, attempt });
        ctx.send(self.broker, Msg::Produce { key, dedup_id });
        match self.retry {
            Some(timeout) => v.timers[i] = Some(ctx.set_timer(timeout, Timer::Retry(seq))),
            None => ctx.observe(Obs::SendOutcome {
                key,
                outcome: SendOutcome::Acked,
            }),
        }
    }

    pub(super) fn on_msg<C: Choices>(
        &self,
        v: &mut ProducerVol,
        ctx: &mut Ctx<'_, Node, C>,
        msg: Msg,
    ) -> Step {
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
        ctx.observe(Obs::SendOutcome {
            key,
            outcome: SendOutcome::Acked,
        });
        Ok(())
    }

    pub(super) fn on_timer<C: Choices>(
        &self,
        v: &mut ProducerVol,
        ctx: &mut Ctx<'_, Node, C>,
        timer: Timer,
    ) -> Step {
        match timer {
            Timer::SendNext => self.send_next(v, ctx),
            Timer::Retry(seq) if !v.acked[seq as usize] => self.send(v, ctx, seq),
            _ => {}
        }
        Ok(())
    }
}
