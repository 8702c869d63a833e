//! M8's streaming job on the consumer: an open sink transaction in memory,
//! a checkpoint timer, the durable staged transaction and the offsets of
//! completed checkpoints. See [`crate::protocols::m8_checkpoint`].

use sim_core::{Choices, Ctx, SimDuration, SimTime, Step, Store};

use super::consumer::{Consumer, ConsumerDb, ConsumerVol};
use super::{Msg, Node, Timer, crash_point};
use crate::history::Obs;
use crate::protocols::ConsumerRole;
use crate::protocols::m8_checkpoint::{
    AFTER_EFFECT_BEFORE_CHECKPOINT, AFTER_PRECOMMIT_BEFORE_COMMIT, AFTER_RECORD_BEFORE_CHECKPOINT,
    CHECKPOINT_INTERVAL, SINK_TIMEOUT_MS,
};
use crate::vocab::{IdSet, MsgKey};

/// A sink transaction pre-committed at a checkpoint that completed. (The
/// job is one actor, so pre-commit and completion are one durable step:
/// there is no staged transaction of an incomplete checkpoint to abort.)
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Staged {
    /// Its records: (message, offset).
    pub records: Vec<(MsgKey, u64)>,
    /// When it was pre-committed (the sink aborts it after its timeout).
    pub at: SimTime,
}

/// What the job keeps durably: the offsets its completed checkpoints cover
/// and the staged transaction, if one is pending.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CheckpointDb {
    /// Offsets covered by completed checkpoints (the source position).
    pub done: IdSet,
    /// The pre-committed transaction awaiting its commit.
    pub staged: Option<Staged>,
}

/// The open sink transaction, lost on a crash.
#[derive(Clone, Debug, Default, Hash)]
pub struct CheckpointVol {
    open: Vec<(MsgKey, u64)>,
    in_open: IdSet,
    timer: bool,
}

impl Consumer {
    /// Whether the job's sink commits in two phases (M8), or applies
    /// effects at once (M8's at-least-once mode).
    fn two_phase_sink(&self) -> bool {
        self.model.wiring().consumer == ConsumerRole::Streaming { two_phase: true }
    }

    /// A record: skip it if a checkpoint or the open transaction already has
    /// it; else add it to the open transaction (at-least-once mode applies
    /// its effect at once).
    pub(super) fn on_streamed<C: Choices>(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        v: &mut ConsumerVol,
        ctx: &mut Ctx<'_, Node, C>,
        key: MsgKey,
        offset: u64,
    ) -> Step {
        if db.get().checkpoint.done.contains(offset) {
            // A checkpoint covers it but its offset commit was lost: commit
            // it again, or the broker redelivers it forever.
            self.commit_offset(ctx, offset);
            return Ok(());
        }
        if v.stream.in_open.contains(offset) {
            return Ok(());
        }
        v.stream.in_open.insert(offset);
        v.stream.open.push((key, offset));
        if !v.stream.timer {
            v.stream.timer = true;
            ctx.set_timer(CHECKPOINT_INTERVAL, Timer::Checkpoint);
        }
        if !self.two_phase_sink() {
            let count = db.transaction(|d| d.add_effect(key));
            ctx.observe(Obs::Effect { key, count });
            return crash_point(ctx, key, AFTER_EFFECT_BEFORE_CHECKPOINT);
        }
        crash_point(ctx, key, AFTER_RECORD_BEFORE_CHECKPOINT)
    }

    /// The barrier: pre-commit the open transaction, complete the checkpoint
    /// (store and commit its offsets), then commit the sink.
    pub(super) fn checkpoint<C: Choices>(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        v: &mut ConsumerVol,
        ctx: &mut Ctx<'_, Node, C>,
    ) -> Step {
        v.stream.timer = false;
        let records = std::mem::take(&mut v.stream.open);
        v.stream.in_open = IdSet::default();
        let Some(&(last, _)) = records.last() else {
            return Ok(());
        };
        let two_phase = self.two_phase_sink();
        let now = ctx.clock();
        db.transaction(|d| {
            for (_, o) in &records {
                d.checkpoint.done.insert(*o);
            }
            if two_phase {
                d.checkpoint.staged = Some(Staged {
                    records: records.clone(),
                    at: now,
                });
            }
        });
        for (_, offset) in &records {
            self.commit_offset(ctx, *offset);
        }
        if two_phase {
            crash_point(ctx, last, AFTER_PRECOMMIT_BEFORE_COMMIT)?;
            self.commit_staged(db, ctx);
        }
        Ok(())
    }

    fn commit_offset<C: Choices>(&self, ctx: &mut Ctx<'_, Node, C>, offset: u64) {
        let commit = Msg::OffsetCommit {
            partition: self.partition,
            offset,
            request: 0,
        };
        ctx.send(self.broker, commit);
    }

    /// Commit the staged transaction: its effects apply.
    fn commit_staged<C: Choices>(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        ctx: &mut Ctx<'_, Node, C>,
    ) {
        let applied: Vec<(MsgKey, u32)> = db.transaction(|d| {
            let staged = d.checkpoint.staged.take().map(|s| s.records);
            staged
                .unwrap_or_default()
                .into_iter()
                .map(|(key, _)| (key, d.add_effect(key)))
                .collect()
        });
        for (key, count) in applied {
            ctx.observe(Obs::Effect { key, count });
        }
    }

    /// After a restart: commit the staged transaction, unless the sink's
    /// timeout has aborted it by now.
    pub(super) fn restore<C: Choices>(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        ctx: &mut Ctx<'_, Node, C>,
    ) {
        let Some(staged) = db.get().checkpoint.staged.as_ref() else {
            return;
        };
        let expired = ctx.clock().since(staged.at).as_us() > SINK_TIMEOUT_MS * 1_000;
        if expired {
            // The sink aborted it; the checkpoint already stored its
            // offsets, so its records are never replayed: they are lost.
            let staged_at = staged.at;
            let aborted = db.transaction(|d| d.checkpoint.staged.take());
            for (key, _) in aborted.map(|s| s.records).unwrap_or_default() {
                ctx.observe(Obs::SinkAborted {
                    key,
                    staged_at,
                    timeout: SimDuration::from_ms(SINK_TIMEOUT_MS),
                });
            }
        } else {
            self.commit_staged(db, ctx);
        }
    }
}
