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
