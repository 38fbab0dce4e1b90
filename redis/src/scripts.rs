//! The Lua scripts of the ticket engine, each prefixed with the shared helpers in
//! `scripts/lib.lua`, run with `EVALSHA` (loaded again automatically after a server restart).

use redis::Script;

const LIB: &str = include_str!("scripts/lib.lua");

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
}

fn with_lib(body: &str) -> Script {
    Script::new(&format!("{LIB}\n{body}"))
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
        }
    }

    /// All scripts, for loading them at connect.
    pub(crate) fn all(&self) -> [&Script; 7] {
        [
            &self.acquire,
            &self.status,
            &self.withdraw,
            &self.release,
            &self.renew,
            &self.add,
            &self.stats,
        ]
    }
}
