//! [`Event`]: toro's `Event` across processes.

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

use crate::engine::Prim;
use crate::wait::Waiting;
use crate::{Client, Error};

/// The future of [`Event::wait`].
pub type EventWaitFuture = Waiting<()>;

/// A flag shared by every process that opens the same name ([`Client::event`]); waiters
/// wake when it is set.
///
/// [`set`](Self::set) completes every waiter in line, in any process, in one script (one
/// wake-up hint per client), and records the line's position: `set(); clear()` still
/// releases every waiter that was waiting before the `set`, wherever it is. A wait that starts
/// while the event is set completes at once.
///
/// Waiting tickets carry a liveness lease like any other (renewed by the client's keeper), so
/// a waiter whose process died leaves the line by itself.
///
/// ```no_run
/// # async fn demo(client: toro_sync_redis::Client) -> Result<(), toro_sync_redis::Error> {
/// use std::time::Duration;
///
/// let ready = client.event("index-ready");
/// // in the workers:
/// ready.wait().deadline(Duration::from_secs(60)).await?;
/// // in the indexer, once done:
/// ready.set().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Event {
    pub(crate) prim: Prim,
}

impl Event {
    pub(crate) fn new(client: &Client, name: &str) -> Self {
        Event {
            prim: Prim::new(client, name, "event", 0),
        }
    }

    /// This handle with another liveness lease for its waiting tickets (at least 10 ms).
    pub fn with_lease(&self, lease: Duration) -> Self {
        Event {
            prim: self.prim.with_lease(lease),
        }
    }

    /// The event's name.
    pub fn name(&self) -> &str {
        &self.prim.spec.name
    }

    async fn op(&self, op: &str) -> Result<bool, Error> {
        let until = Some(Instant::now() + self.prim.spec.lease);
        let r = self
            .prim
            .inner
            .link
            .eval(
                &self.prim.inner.scripts.event,
                &self.prim.spec,
                &[op.to_string()],
                until,
                false,
            )
            .await?;
        match r.get(1) {
            Some(&flag) => Ok(flag == 1),
            None => Err(Error::protocol("short event reply")),
        }
    }

    /// Sets the flag and wakes every waiter, in any process. Waiters that were in line before
    /// this call are released even if [`clear`](Self::clear) follows at once.
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`] if Redis could not be reached within the lease (retried until
    /// then); [`Error::Mismatch`] if the name is another kind of primitive;
    /// [`Error::Protocol`].
    pub async fn set(&self) -> Result<(), Error> {
        self.op("set").await.map(drop)
    }

    /// Clears the flag: later waits wait again.
    ///
    /// # Errors
    ///
    /// As [`set`](Self::set).
    pub async fn clear(&self) -> Result<(), Error> {
        self.op("clear").await.map(drop)
    }

    /// Whether the flag is set.
    ///
    /// # Errors
    ///
    /// As [`set`](Self::set).
    pub async fn is_set(&self) -> Result<bool, Error> {
        self.op("is_set").await
    }

    /// Waits until the event is set (at once if it is).
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] past the deadline (with `Duration::ZERO`: not set now; nothing is
    /// registered); otherwise as [`Mutex::lock`](crate::Mutex::lock).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future withdraws its ticket. See [`Waiting`].
    pub fn wait(&self) -> EventWaitFuture {
        let prim = self.prim.clone();
        Waiting::new(move |deadline| async move {
            prim.wait_ticket(1, deadline).await?.complete();
            Ok(())
        })
    }

    /// How many waits are in line (in all processes).
    ///
    /// # Errors
    ///
    /// As [`set`](Self::set).
    pub async fn waiters(&self) -> Result<u64, Error> {
        Ok(self.prim.stats().await?[2])
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event").field("name", &self.name()).finish()
    }
}
