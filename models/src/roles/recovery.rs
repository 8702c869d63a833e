//! The seeds' recovery worker: every interval it has each consumer's
//! messages stuck in `processing` returned to `unprocessed` (compensation).
//!
//! By default it asks each consumer to compensate, and the consumer's
//! database does it in one transaction: the worker holds nothing and cannot
//! fail halfway. Row by row, the worker asks each consumer for its stuck
//! rows (`ListStuck`), and compensates each row it is told of (`Stuck`) by
//! its own request (`Compensate`), as a script over a database connection
//! in autocommit mode does; it can die between two rows, leaving the rows
//! it compensated compensated and the rest stuck until its restart's next
//! scan.

use sim_core::{ActorId, Choices, Ctx, SimDuration, Step};

use super::{Msg, Node, Timer, crash_point};

/// Crash point of a worker that compensates row by row: it found the row
/// stuck and died before compensating it.
pub const BEFORE_COMPENSATING_A_ROW: &str = "before-compensating-a-row";

/// The recovery worker's program.
#[derive(Clone, Debug, Hash)]
pub struct Recovery {
    /// The consumers it watches.
    pub consumers: Vec<ActorId>,
    /// Time between two scans.
    pub interval: SimDuration,
    /// Compensate each stuck row by its own request, not every stuck row
    /// of a consumer in one transaction.
    pub row_by_row: bool,
}

impl Recovery {
    pub(super) fn start<C: Choices>(&self, ctx: &mut Ctx<'_, Node, C>) {
        ctx.set_poll_timer(self.interval, Timer::Poll);
    }

    pub(super) fn on_timer<C: Choices>(&self, ctx: &mut Ctx<'_, Node, C>, timer: Timer) -> Step {
        if timer == Timer::Poll {
            let ask = if self.row_by_row {
                Msg::ListStuck
            } else {
                Msg::RecoverStuck
            };
            for c in &self.consumers {
                ctx.send(*c, ask);
            }
            ctx.set_poll_timer(self.interval, Timer::Poll);
        }
        Ok(())
    }

    /// A consumer told of a stuck row: compensate it, by its own request.
    pub(super) fn on_msg<C: Choices>(
        &self,
        ctx: &mut Ctx<'_, Node, C>,
        src: ActorId,
        msg: Msg,
    ) -> Step {
        if let Msg::Stuck { key } = msg {
            crash_point(ctx, key, BEFORE_COMPENSATING_A_ROW)?;
            ctx.send(src, Msg::Compensate { key });
        }
        Ok(())
    }
}
