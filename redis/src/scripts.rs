//! The Lua scripts of the ticket engine, each prefixed with the shared helpers in
//! `scripts/lib.lua`, run with `EVALSHA` (loaded again automatically after a server restart).

use redis::Script;

const LIB: &str = include_str!("scripts/lib.lua");
/// The completion kinds' hooks (Event, AsyncResult, Barrier), after the shared helpers.
const COMPLETION: &str = include_str!("scripts/completion.lua");

/// Every script, compiled once per [`Client`](crate::Client).
pub(crate) struct Scripts {
    /// Take now, queue, or (try) refuse.
    pub(crate) acquire: Script,
    /// Settle expiries and report the state of waiting tickets.
    pub(crate) status: Script,
    /// Take a ticket out of the line, passing on what was granted to it.
    pub(crate) withdraw: Script,
    /// Compare-and-delete a holder by id.
    pub(crate) release: Script,
    /// Extend live holders' leases.
    pub(crate) renew: Script,
    /// Add capacity without a guard.
    pub(crate) add: Script,
    /// Open (create or validate) and count.
    pub(crate) stats: Script,
    /// The acquire of the completion kinds: an event's or result's wait, a barrier's arrival.
    pub(crate) arrive: Script,
    /// Event set / clear / is_set.
    pub(crate) event: Script,
    /// AsyncResult set once / get.
    pub(crate) result: Script,
    /// The queues' scripts (`None` in the queues' own engine set).
    pub(crate) queue: Option<Box<QueueScripts>>,
}

const QUEUE_LIB: &str = include_str!("scripts/queue_lib.lua");

fn with_queue_lib(body: &str) -> Script {
    Script::new(&format!("{QUEUE_LIB}\n{body}"))
}

/// The scripts of a queue: the engine's set run over the queue helpers
/// (`scripts/queue_lib.lua`; status, withdraw and renew are the engine's own bodies), and the
/// queue's own.
pub(crate) struct QueueScripts {
    /// What the engine runs for a queue's tickets and deliveries.
    pub(crate) engine: Scripts,
    /// The item of a delivery.
    pub(crate) fetch: Script,
    /// Close the queue.
    pub(crate) close: Script,
    /// Read the dead letters.
    pub(crate) dead: Script,
}

fn with_lib(body: &str) -> Script {
    Script::new(&format!("{LIB}\n{COMPLETION}\n{body}"))
}

impl Scripts {
    pub(crate) fn new() -> Self {
        Scripts {
            acquire: with_lib(include_str!("scripts/acquire.lua")),
            status: with_lib(include_str!("scripts/status.lua")),
            withdraw: with_lib(include_str!("scripts/withdraw.lua")),
            release: with_lib(include_str!("scripts/release.lua")),
            renew: with_lib(include_str!("scripts/renew.lua")),
            add: with_lib(include_str!("scripts/add.lua")),
            stats: with_lib(include_str!("scripts/stats.lua")),
            arrive: with_lib(include_str!("scripts/arrive.lua")),
            event: with_lib(include_str!("scripts/event.lua")),
            result: with_lib(include_str!("scripts/result.lua")),
            queue: Some(Box::new(QueueScripts {
                engine: Scripts {
                    acquire: with_queue_lib(include_str!("scripts/queue_acquire.lua")),
                    status: with_queue_lib(include_str!("scripts/status.lua")),
                    withdraw: with_queue_lib(include_str!("scripts/withdraw.lua")),
                    release: with_queue_lib(include_str!("scripts/queue_release.lua")),
                    renew: with_queue_lib(include_str!("scripts/renew.lua")),
                    add: with_queue_lib(include_str!("scripts/queue_stats.lua")),
                    stats: with_queue_lib(include_str!("scripts/queue_stats.lua")),
                    // The completion kinds' scripts never run over a queue: the queue's own
                    // acquire stands in for them, so a stray call fails as a protocol error.
                    arrive: with_queue_lib(include_str!("scripts/queue_acquire.lua")),
                    event: with_queue_lib(include_str!("scripts/queue_stats.lua")),
                    result: with_queue_lib(include_str!("scripts/queue_stats.lua")),
                    queue: None,
                },
                fetch: with_queue_lib(include_str!("scripts/queue_fetch.lua")),
                close: with_queue_lib(include_str!("scripts/queue_close.lua")),
                dead: with_queue_lib(include_str!("scripts/queue_dead.lua")),
            })),
        }
    }

    /// The engine scripts for a primitive of `kind`: a queue's run over the queue helpers.
    pub(crate) fn of(&self, kind: &str) -> &Scripts {
        match &self.queue {
            Some(queue) if kind.ends_with("queue") => &queue.engine,
            _ => self,
        }
    }

    /// All scripts, for loading them at connect.
    pub(crate) fn all(&self) -> [&Script; 10] {
        [
            &self.acquire,
            &self.status,
            &self.withdraw,
            &self.release,
            &self.renew,
            &self.add,
            &self.stats,
            &self.arrive,
            &self.event,
            &self.result,
        ]
    }
}
