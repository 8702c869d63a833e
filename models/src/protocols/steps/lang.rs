//! The step language as scenario files write it: plain serde data.

use serde::{Deserialize, Serialize};

use crate::roles::RowStatus;
use crate::vocab::CheckId;

/// A handler written as steps: the consumer's record handler, the recovery
/// worker's pass over the message table, what the producer does, and what
/// the author claims.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Program {
    /// What reports and the matrix call it (letters, digits and `-`, at
    /// most 14 characters; default `steps`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The consumer's record handler, one step after another; exactly one
    /// `CommitOffset`, first (commit, then process) or last (process, then
    /// commit).
    pub consumer: Vec<HandlerStep>,
    /// The recovery worker's steps, run on every row of the message table
    /// each period (none: no recovery worker).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovery: Vec<HandlerStep>,
    /// What the producer does until its message is acknowledged.
    #[serde(default, skip_serializing_if = "Producer::is_default")]
    pub producer: Producer,
    /// What the handler promises; every run is checked against it.
    pub claims: Claims,
}

/// One step of a handler.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HandlerStep {
    /// Insert the message's row into the message table as `Unprocessed`,
    /// unless it is there (the seeds' "save the message").
    InsertRow,
    /// Read the row's status; when it `is` (or `is_not`) the given one, do
    /// `then`.
    IfStatus {
        /// The status that triggers `then`.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            serialize_with = "bare_status"
        )]
        is: Option<Status>,
        /// The status whose absence triggers `then`.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            serialize_with = "bare_status"
        )]
        is_not: Option<Status>,
        /// What to do.
        then: Then,
    },
    /// Look the record's id up in a seen-set; when it is there, do `then`.
    IfSeen {
        /// Which seen-set.
        set: SeenSet,
        /// What to do.
        then: Then,
    },
    /// Set the row's status.
    SetStatus(Status),
    /// Record the record's id in a seen-set.
    MarkSeen(SeenSet),
    /// Apply the effect in the consumer's database.
    Effect,
    /// Apply the effect by calling an external service: it cannot join a
    /// database transaction, and nothing rolls it back.
    ExternalCall,
    /// Commit the record's offset to the broker.
    CommitOffset,
    /// The steps inside, as one durable transaction: a crash comes before
    /// all of them or after all of them.
    Atomic(Vec<HandlerStep>),
}

/// A status given, written bare (`is: Processing`, not
/// `is: Some(Processing)`): scenario files are read with implicit `Some`.
/// Only called for `Some` (`None` is skipped).
#[allow(clippy::ref_option)]
fn bare_status<S: serde::Serializer>(status: &Option<Status>, s: S) -> Result<S::Ok, S::Error> {
    status.unwrap_or(Status::Absent).serialize(s)
}

/// What a condition does when it holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Then {
    /// Stop handling the record: go straight to the offset commit (or, when
    /// the offset is committed first, finish).
    Skip,
    /// Set the row's status and go on.
    SetStatus(Status),
    /// Stop handling the record and leave its offset uncommitted: the
    /// broker redelivers it after its redelivery timeout. Only where the
    /// offset is committed last.
    Retry,
}

/// A status of the seeds' message table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Status {
    /// No row for the message.
    Absent,
    /// Stored, not processed.
    Unprocessed,
    /// Claimed by a worker.
    Processing,
    /// Done.
    Processed,
}

impl Status {
    /// Every status, in the table's order.
    pub const ALL: [Status; 4] = [
        Status::Absent,
        Status::Unprocessed,
        Status::Processing,
        Status::Processed,
    ];

    /// The table's status.
    pub fn row(self) -> RowStatus {
        match self {
            Status::Absent => RowStatus::Absent,
            Status::Unprocessed => RowStatus::Unprocessed,
            Status::Processing => RowStatus::Processing,
            Status::Processed => RowStatus::Processed,
        }
    }

    /// Lowercase, as crash point names and stories write it.
    pub fn word(self) -> &'static str {
        match self {
            Status::Absent => "absent",
            Status::Unprocessed => "unprocessed",
            Status::Processing => "processing",
            Status::Processed => "processed",
        }
    }
}

/// Where a seen-set lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SeenSet {
    /// A table in the consumer's database: it survives a crash.
    Durable,
    /// The consumer's memory: a crash empties it.
    Memory,
    /// A table in the consumer's database whose entries count for
    /// `consumer.dedup_window_ms` (default five minutes, as SQS FIFO's
    /// deduplication interval): an id recorded longer ago is new again.
    Window,
}

/// What the producer does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Producer {
    /// Re-send each message until the broker acknowledges it.
    #[default]
    RetryUntilAcked,
    /// Send each message once, over a connection that delivers each request
    /// once (Kafka's `acks=0`).
    FireAndForget,
}

impl Producer {
    fn is_default(&self) -> bool {
        *self == Producer::default()
    }
}

/// What a step program promises.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Claims {
    /// No loss, no duplicate effect, no effect of a failed attempt, the
    /// law, liveness.
    ExactlyOnce,
    /// No loss and liveness; duplicates allowed.
    AtLeastOnce,
    /// No duplicate effect and liveness; losses allowed.
    AtMostOnce,
    /// Exactly these checks.
    Checks(Vec<CheckId>),
}
