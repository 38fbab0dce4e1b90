//! [`BoundedSemaphore`]: a [`Semaphore`](crate::Semaphore) whose `release()` may not go past
//! its bound.

use std::fmt;
use std::time::Duration;

use crate::engine::Prim;
use crate::semaphore::{AcquireFuture, SemaphorePermit, acquire, try_acquire};
use crate::{Client, Error};

/// toro's `BoundedSemaphore` across processes ([`Client::bounded_semaphore`]): the same as a
/// [`Semaphore`](crate::Semaphore), but [`release`](Self::release) fails with
/// [`Error::OverRelease`] when it would take the permit count above the bound, and a request
/// for more permits than the bound is refused at once.
///
/// ```no_run
/// # async fn demo(client: toro_sync_redis::Client) -> Result<(), toro_sync_redis::Error> {
/// let pool = client.bounded_semaphore("db-connections", 4).await?;
/// assert!(matches!(pool.release().await, Err(toro_sync_redis::Error::OverRelease { bound: 4 })));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct BoundedSemaphore {
    pub(crate) prim: Prim,
}

impl BoundedSemaphore {
    pub(crate) fn new(client: &Client, name: &str, bound: u64) -> Self {
        BoundedSemaphore {
            prim: Prim::new(client, name, "bsem", bound),
        }
    }

    /// This handle with another lease time for the permits it takes from now on.
    pub fn with_lease(&self, lease: Duration) -> Self {
        BoundedSemaphore {
            prim: self.prim.with_lease(lease),
        }
    }

    /// The semaphore's name.
    pub fn name(&self) -> &str {
        &self.prim.spec.name
    }

    /// The bound (and initial permit count).
    pub fn bound(&self) -> u64 {
        self.prim.spec.param
    }

    /// Waits for one permit. As [`Semaphore::acquire`](crate::Semaphore::acquire).
    ///
    /// # Errors
    ///
    /// As [`Semaphore::acquire`](crate::Semaphore::acquire).
    ///
    /// # Cancel safety
    ///
    /// As [`Semaphore::acquire`](crate::Semaphore::acquire).
    pub fn acquire(&self) -> AcquireFuture {
        self.acquire_many(1)
    }

    /// Waits for `n` permits at once, atomic and FIFO.
    ///
    /// # Errors
    ///
    /// As [`Semaphore::acquire_many`](crate::Semaphore::acquire_many), and
    /// [`Error::Protocol`] at once if `n` exceeds the bound (it could never be served).
    ///
    /// # Cancel safety
    ///
    /// As [`Semaphore::acquire`](crate::Semaphore::acquire).
    pub fn acquire_many(&self, n: u64) -> AcquireFuture {
        if n > self.bound() {
            let bound = self.bound();
            return crate::wait::Waiting::new(move |_| async move {
                Err(Error::protocol(format!(
                    "{n} permits exceed the bound {bound}"
                )))
            });
        }
        acquire(self.prim.clone(), n)
    }

    /// Takes a permit if one is free and nobody waits.
    ///
    /// # Errors
    ///
    /// As [`Semaphore::try_acquire`](crate::Semaphore::try_acquire).
    pub async fn try_acquire(&self) -> Result<Option<SemaphorePermit>, Error> {
        try_acquire(&self.prim, 1).await
    }

    /// Takes `n` permits if they are free and nobody waits.
    ///
    /// # Errors
    ///
    /// As [`Semaphore::try_acquire`](crate::Semaphore::try_acquire).
    pub async fn try_acquire_many(&self, n: u64) -> Result<Option<SemaphorePermit>, Error> {
        try_acquire(&self.prim, n).await
    }

    /// Adds one permit, unless that would take the count above the bound.
    ///
    /// # Errors
    ///
    /// [`Error::OverRelease`] (nothing changes); otherwise as
    /// [`Semaphore::release`](crate::Semaphore::release).
    pub async fn release(&self) -> Result<(), Error> {
        self.prim.add(1).await
    }

    /// Free permits now.
    ///
    /// # Errors
    ///
    /// As [`Semaphore::available`](crate::Semaphore::available).
    pub async fn available(&self) -> Result<u64, Error> {
        let [cap, used, ..] = self.prim.stats().await?;
        Ok(cap.saturating_sub(used))
    }

    /// How many requests wait in line.
    ///
    /// # Errors
    ///
    /// As [`Semaphore::waiters`](crate::Semaphore::waiters).
    pub async fn waiters(&self) -> Result<u64, Error> {
        Ok(self.prim.stats().await?[2])
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("name", &self.name())
            .field("bound", &self.bound())
            .finish()
    }
}
