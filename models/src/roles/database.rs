//! A consumer's database across the network (`consumer.database: Remote`):
//! its own actor, holding the consumer's durable state. The consumer sends
//! each record's handling as one request; the database runs the model's
//! handler on it as one transaction (the handler's own crash points, which
//! are the consumer's, do not fire inside it), observes its effects, and
//! replies. A reply lost or late leaves the consumer not knowing whether
//! the request was applied (Jepsen's indeterminate operation), so it sends
//! it again: a handler that is not idempotent by key applies it twice.

use sim_core::{ActorId, Choices, Ctx, Step, Store};

use super::{Consumer, ConsumerDb, ConsumerVol, Msg, Node, crash_point};
use crate::protocols::Record;

/// Crash point: the request is committed, its reply not sent.
pub const AFTER_COMMIT_BEFORE_REPLY: &str = "after-commit-before-reply";

/// The database's program: the handling of the consumer it serves.
#[derive(Clone, Debug)]
pub struct Database {
    /// The consumer whose records it handles (its model, tables and law
    /// probe).
    pub consumer: Consumer,
}

impl Database {
    pub(super) fn on_msg<C: Choices>(
        &self,
        mut db: Store<'_, ConsumerDb>,
        v: &mut ConsumerVol,
        ctx: &mut Ctx<'_, Node, C>,
        src: ActorId,
        msg: Msg,
    ) -> Step {
        let Msg::DbRequest {
            key,
            dedup_id,
            request,
        } = msg
        else {
            return Ok(());
        };
        self.consumer
            .execute(&mut db, v, ctx, Record { key, dedup_id })?;
        crash_point(ctx, key, AFTER_COMMIT_BEFORE_REPLY)?;
        ctx.send(src, Msg::DbReply { key, request });
        Ok(())
    }
}
