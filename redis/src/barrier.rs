//! [`Barrier`]: toro's `Barrier` across processes, reusable, with leased arrivals.

use std::fmt;
use std::time::Duration;

use crate::engine::Prim;
use crate::wait::Waiting;
use crate::{Client, Error};

/// The future of [`Barrier::wait`].
pub type BarrierWaitFuture = Waiting<BarrierWaitResult>;

/// A meeting point for `parties` arrivals, in any processes ([`Client::barrier`]).
///
/// Each [`wait`](Self::wait) is an arrival: a ticket in a line kept in Redis. When the
/// `parties`-th live arrival comes, the script it runs trips the barrier: all of them complete
/// together, exactly one of them (the tripping arrival) gets
/// [`is_leader`](BarrierWaitResult::is_leader), and the barrier is ready for the next
/// generation at once.
///
/// Arrivals are leased like any waiting ticket (renewed by the client's keeper while the
/// future waits): an arrival whose process dies before the trip leaves after its lease and is
/// no longer counted, so it cannot make the others trip one party short, nor hang them once
/// a live party takes its place. An arrival withdrawn before the trip (its future dropped, or
/// its deadline passed) is removed; after the trip, dropping changes nothing.
///
/// ```no_run
/// # async fn demo(client: toro_sync_redis::Client) -> Result<(), toro_sync_redis::Error> {
/// let phase = client.barrier("phase", 4);
/// let arrived = phase.wait().await?;
/// if arrived.is_leader() {
///     // exactly one of the four runs this, once per generation
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Barrier {
    pub(crate) prim: Prim,
}

impl Barrier {
    pub(crate) fn new(client: &Client, name: &str, parties: u64) -> Self {
        let prim = Prim::new(client, name, "barrier", parties);
        Barrier {
            prim: if parties == 0 {
                prim.invalid(Error::protocol("a barrier needs at least 1 party"))
            } else {
                prim
            },
        }
    }

    /// This handle with another liveness lease for its arrivals (at least 10 ms): how long a
    /// dead party stays counted.
    pub fn with_lease(&self, lease: Duration) -> Self {
        Barrier {
            prim: self.prim.with_lease(lease),
        }
    }

    /// The barrier's name.
    pub fn name(&self) -> &str {
        &self.prim.spec.name
    }

    /// How many arrivals trip it.
    pub fn parties(&self) -> u64 {
        self.prim.spec.param
    }

    /// Arrives and waits for the other parties.
    ///
    /// With `Duration::ZERO` as deadline it tries once: it trips the barrier if it is the
    /// last party missing, else it is [`Error::Timeout`] with nothing registered.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] past the deadline (the arrival is withdrawn); otherwise as
    /// [`Mutex::lock`](crate::Mutex::lock).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before the trip withdraws the arrival; after it, nothing changes.
    pub fn wait(&self) -> BarrierWaitFuture {
        let prim = self.prim.clone();
        Waiting::new(move |deadline| async move {
            let token = prim.wait_ticket(1, deadline).await?.complete();
            Ok(BarrierWaitResult {
                generation: token / 2,
                leader: token % 2 == 1,
            })
        })
    }

    /// How many live arrivals wait for the next trip (in all processes), after dropping those
    /// whose lease ran out.
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`], [`Error::Mismatch`], [`Error::Protocol`].
    pub async fn arrived(&self) -> Result<u64, Error> {
        Ok(self.prim.stats().await?[2])
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("name", &self.name())
            .field("parties", &self.parties())
            .finish()
    }
}

/// What [`Barrier::wait`] resolves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarrierWaitResult {
    generation: u64,
    leader: bool,
}

impl BarrierWaitResult {
    /// `true` for exactly one arrival of each trip: the one that tripped it.
    pub fn is_leader(&self) -> bool {
        self.leader
    }

    /// Which trip this was: 1 for the barrier's first, then 2, 3, … (the same for every
    /// party of one trip).
    pub fn generation(&self) -> u64 {
        self.generation
    }
}
