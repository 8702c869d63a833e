//! M12's lease and fencing token, split between the broker (the lease
//! service, and the storage that applies effects) and the two consumers
//! that compete for partition 0. See [`crate::protocols::m12_lease`].
//!
//! The broker grants the lease to one consumer with a token; the holder
//! renews it with each offset commit; when a lease check finds it
//! unrenewed for the lease duration, the lease moves to the other consumer
//! with the next token and the uncommitted records are delivered to it.
//! Consumers send their effects to the broker as writes carrying the token
//! of the delivery they came from and the record's offset; the storage
//! applies the effect and commits the offset together (the offset is stored
//! with the output), and with fencing refuses a token below the highest it
//! has seen: a refused write commits nothing, so the record goes to the
//! current holder. (Committing the offset apart from the write would let a
//! refused zombie commit a record that never took effect: a loss.)

use std::collections::BTreeMap;

use sim_core::{ActorId, Choices, Ctx, SimDuration, SimTime, Step, Store};

use super::broker::{Broker, BrokerDb, BrokerVol};
use super::consumer::{Consumer, ConsumerVol, PendingWrite};
use super::{Msg, Node, Timer, crash_point};
use crate::history::Obs;
use crate::protocols::m12_lease::{BEFORE_WRITE, PROCESSING_TIME};
use crate::vocab::MsgKey;

/// The lease, as the broker runs it.
#[derive(Clone, Copy, Debug, Hash)]
pub struct LeaseCfg {
    /// The two consumers that compete for partition 0.
    pub holders: [ActorId; 2],
    /// How long a lease lasts without renewal.
    pub duration: SimDuration,
    /// Refuse writes whose token is below the highest seen.
    pub fencing: bool,
}

/// The lease and the storage, durable at the broker.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LeaseDb {
    /// Which of the two consumers holds the lease.
    pub holder: usize,
    /// The holder's token (the first grant is token 1).
    pub token: u64,
    /// The highest token a write has carried.
    pub highest: u64,
    /// Effects applied to the storage, per message.
    pub sink: BTreeMap<MsgKey, u32>,
}

impl LeaseDb {
    /// The lease and the storage in a few words, once either has been used
    /// (a broker without a lease keeps the first grant and never a write).
    pub fn describe(&self) -> Option<String> {
        if self.token <= 1 && self.highest == 0 && self.sink.is_empty() {
            return None;
        }
        let applied: Vec<String> = self
            .sink
            .iter()
            .map(|(key, n)| {
                if *n > 1 {
                    format!("{key}×{n}")
                } else {
                    key.to_string()
                }
            })
            .collect();
        Some(format!(
            "lease: consumer-{} holds token {} · storage: highest token written {}, \
             effects: {}",
            self.holder + 1,
            self.token,
            self.highest,
            super::consumer::listed(&applied)
        ))
    }
}

/// When the holder last renewed its lease.
#[derive(Clone, Debug, Default, Hash)]
pub struct LeaseVol {
    renewed: SimTime,
}

impl Broker {
    /// The consumer that holds the lease, and its token (the partition's
    /// assigned consumer and no token without a lease).
    pub(super) fn lease_target(&self, db: &BrokerDb, partition: u32) -> (ActorId, Option<u64>) {
        match self.lease {
            Some(l) => (l.holders[db.lease.holder], Some(db.lease.token)),
            None => (db.owners[partition as usize], None),
        }
    }

    /// Start checking the lease (at a start or restart of the broker).
    pub(super) fn lease_start<C: Choices>(&self, v: &mut BrokerVol, ctx: &mut Ctx<'_, Node, C>) {
        if let Some(l) = self.lease {
            v.lease.renewed = ctx.clock();
            ctx.set_poll_timer(l.duration, Timer::LeaseCheck);
        }
    }

    /// An offset commit from the holder renews its lease.
    pub(super) fn renew(&self, db: &BrokerDb, v: &mut BrokerVol, now: SimTime, src: ActorId) {
        if self
            .lease
            .is_some_and(|l| l.holders[db.lease.holder] == src)
        {
            v.lease.renewed = now;
        }
    }

    /// Move an unrenewed lease to the other consumer, with the next token,
    /// and deliver it every uncommitted record.
    pub(super) fn lease_check<C: Choices>(
        &self,
        db: &mut Store<'_, BrokerDb>,
        v: &mut BrokerVol,
        ctx: &mut Ctx<'_, Node, C>,
    ) {
        let Some(l) = self.lease else { return };
        ctx.set_poll_timer(l.duration, Timer::LeaseCheck);
        if ctx.clock().since(v.lease.renewed) < l.duration {
            return;
        }
        let from = l.holders[db.get().lease.holder];
        db.transaction(|d| {
            d.lease.holder = 1 - d.lease.holder;
            d.lease.token += 1;
        });
        let (to, token) = (l.holders[db.get().lease.holder], db.get().lease.token);
        ctx.observe(Obs::LeaseMoved { from, to, token });
        v.lease.renewed = ctx.clock();
        self.redeliver_all(db.get(), v, ctx);
    }

    /// A consumer's write: unless fencing refuses its token, apply its
    /// effect, commit its offset and renew the writer's lease, in one
    /// handler with no crash point between.
    pub(super) fn on_write<C: Choices>(
        &self,
        db: &mut Store<'_, BrokerDb>,
        v: &mut BrokerVol,
        ctx: &mut Ctx<'_, Node, C>,
        writer: ActorId,
        (key, token, partition, offset): (MsgKey, u64, u32, u64),
    ) {
        let fencing = self.lease.is_some_and(|l| l.fencing);
        let highest = db.get().lease.highest;
        let accepted = !fencing || token >= highest;
        ctx.observe(Obs::TokenWrite {
            key,
            writer,
            token,
            highest,
            accepted,
        });
        if accepted {
            let count = db.transaction(|d| {
                d.lease.highest = d.lease.highest.max(token);
                let n = d.lease.sink.entry(key).or_default();
                *n += 1;
                *n
            });
            ctx.observe(Obs::Effect { key, count });
            self.renew(db.get(), v, ctx.clock(), writer);
            self.on_offset_commit(db, v, ctx, writer, (partition, offset, 0));
        }
    }
}

impl Consumer {
    /// A record delivered under the lease: remember the write, and send it
    /// after the work of computing it ([`PROCESSING_TIME`]). Records that
    /// arrive meanwhile are computed alongside, their writes queued in
    /// arrival order (each timer sends the oldest), so none takes another's
    /// place. A pause (F-pause) in between delays the writes with the token
    /// they were delivered under: if the lease passed on meanwhile, zombie
    /// writes.
    pub(super) fn on_leased<C: Choices>(
        &self,
        v: &mut ConsumerVol,
        ctx: &mut Ctx<'_, Node, C>,
        write: PendingWrite,
    ) {
        v.writes.push_back(write);
        ctx.set_timer(PROCESSING_TIME, Timer::Work);
    }

    /// Send the oldest remembered write (which carries the offset commit).
    ///
    /// # Errors
    /// `Crashed` at `before-write` (the writes in memory are lost; the
    /// lease passes on and the records are delivered again).
    pub(super) fn write<C: Choices>(
        &self,
        v: &mut ConsumerVol,
        ctx: &mut Ctx<'_, Node, C>,
    ) -> Step {
        let Some(w) = v.writes.pop_front() else {
            return Ok(());
        };
        crash_point(ctx, w.key, BEFORE_WRITE)?;
        let write = Msg::Write {
            key: w.key,
            token: w.token,
            partition: self.partition,
            offset: w.offset,
        };
        ctx.send(self.broker, write);
        Ok(())
    }
}
