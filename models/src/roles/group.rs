//! The consumer group (F-rebalance), and record processing that takes time.
//!
//! The broker, as the group coordinator, assigns each partition to one
//! consumer. A rebalance takes a consumer's partitions away (its session
//! timed out, as far as the coordinator knows) and assigns them to the
//! group's idle consumer, which is sent every uncommitted record of them.
//! The old owner is not told: it finishes the records it holds, and its
//! offset commits are still taken (offsets are committed record by record,
//! so a late commit of a record it processed is true). The consumers of a
//! group are processes of one service and share its database.
//!
//! When processing a record takes time (`consumer.processing_ms`), a
//! consumer works on one record at a time and queues the others in memory,
//! as a poll loop does. That is where a rebalance bites: while the old
//! owner still works on a record, the new owner starts on it too. M3 checks
//! its seen-set when work on a record begins and records the id when it is
//! done, so both owners can pass the check.

use sim_core::{ActorId, Choices, Ctx, Step, Store};

use super::broker::{Broker, BrokerDb, BrokerVol, to_u32};
use super::consumer::{Consumer, ConsumerDb, ConsumerVol};
use super::{Node, Timer};
use crate::history::Obs;
use crate::protocols::Record;

/// A record a consumer took from the broker: in hand, or queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Taken {
    /// Its partition.
    pub partition: u32,
    /// Its offset.
    pub offset: u64,
    /// The record.
    pub rec: Record,
    /// M3: whether the seen-set held its id when work on it began (`None`:
    /// not checked yet).
    pub seen: Option<bool>,
}

impl Broker {
    /// Move `member`'s partitions to the group's idle consumer and deliver
    /// it their uncommitted records (`v` is `None` while the broker is
    /// down: its restart delivers them); returns whether any moved.
    pub(super) fn rebalance<C: Choices>(
        &self,
        db: &mut Store<'_, BrokerDb>,
        v: Option<&mut BrokerVol>,
        ctx: &mut Ctx<'_, Node, C>,
        member: ActorId,
    ) -> bool {
        let moved: Vec<usize> = (0..db.get().owners.len())
            .filter(|p| db.get().owners[*p] == member)
            .collect();
        let to = self.idle_member(db.get(), member);
        let Some(to) = to.filter(|_| !moved.is_empty()) else {
            return false;
        };
        db.transaction(|d| {
            for &p in &moved {
                d.owners[p] = to;
            }
        });
        for &p in &moved {
            let partition = to_u32(p);
            ctx.observe(Obs::Rebalance {
                partition,
                from: member,
                to,
            });
        }
        if let Some(v) = v {
            for p in moved {
                self.redeliver_partition(db.get(), v, ctx, p);
            }
        }
        true
    }

    /// The first member other than `leaving` that owns no partition.
    fn idle_member(&self, db: &BrokerDb, leaving: ActorId) -> Option<ActorId> {
        self.group
            .iter()
            .copied()
            .find(|m| *m != leaving && !db.owners.contains(m))
    }
}

impl Consumer {
    /// Take a delivered record: work on it at once when idle, else queue
    /// it behind the one in hand.
    pub(super) fn take<C: Choices>(
        &self,
        db: &ConsumerDb,
        v: &mut ConsumerVol,
        ctx: &mut Ctx<'_, Node, C>,
        taken: Taken,
    ) {
        v.queue.push_back(taken);
        if v.queue.len() == 1 {
            self.begin(db, v, ctx);
        }
    }

    /// Begin work on the first queued record: M3 checks its seen-set now.
    fn begin<C: Choices>(&self, db: &ConsumerDb, v: &mut ConsumerVol, ctx: &mut Ctx<'_, Node, C>) {
        let Some(head) = v.queue.front_mut() else {
            return;
        };
        head.seen = self.model.unit().check_on_start(db, &v.seen, head.rec);
        ctx.set_timer(self.processing, Timer::Processed);
    }

    /// The work on the record in hand is done: process it as the model
    /// prescribes, then begin the next.
    ///
    /// # Errors
    /// `Crashed` at one of the model's crash points (the queue is lost; the
    /// broker delivers the records again).
    pub(super) fn finish<C: Choices>(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        v: &mut ConsumerVol,
        ctx: &mut Ctx<'_, Node, C>,
    ) -> Step {
        let Some(head) = v.queue.pop_front() else {
            return Ok(());
        };
        self.on_record(db, v, ctx, head)?;
        self.begin(db.get(), v, ctx);
        Ok(())
    }
}
