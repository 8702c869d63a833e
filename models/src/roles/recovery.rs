//! The seeds' recovery worker: every interval it asks each consumer to return
//! messages stuck in `processing` to `unprocessed` (compensation).

use sim_core::{ActorId, Choices, Ctx, SimDuration, Step};

use super::{Msg, Node, Timer};

/// The recovery worker's program.
#[derive(Clone, Debug, Hash)]
pub struct Recovery {
    /// The consumers it watches.
    pub consumers: Vec<ActorId>,
    /// Time between two scans.
    pub interval: SimDuration,
}

impl Recovery {
    pub(super) fn start<C: Choices>(&self, ctx: &mut Ctx<'_, Node, C>) {
        ctx.set_poll_timer(self.interval, Timer::Poll);
    }

    pub(super) fn on_timer<C: Choices>(&self, ctx: &mut Ctx<'_, Node, C>, timer: Timer) -> Step {
        if timer == Timer::Poll {
            for c in &self.consumers {
                ctx.send(*c, Msg::RecoverStuck);
            }
            ctx.set_poll_timer(self.interval, Timer::Poll);
        }
        Ok(())
    }
}
