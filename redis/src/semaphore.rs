//! [`Semaphore`]: a fair counting semaphore across processes; its permits are leases.

use std::fmt;
use std::time::Duration;

use crate::engine::{Holding, Prim};
use crate::wait::Waiting;
use crate::{Client, Error};

/// The future of [`Semaphore::acquire`], [`Semaphore::acquire_many`] and their
/// [`BoundedSemaphore`](crate::BoundedSemaphore) counterparts.
pub type AcquireFuture = Waiting<SemaphorePermit>;

/// A counting semaphore shared by every process that opens the same name
/// ([`Client::semaphore`]): toro's `Semaphore` across processes.
///
/// At most the semaphore's permit count is held at any instant. Each permit taken is a lease
/// renewed while its [`SemaphorePermit`] lives, so a crashed holder's permits come back after
/// the lease. [`release`](Self::release) adds a permit without a guard (the count may then
/// exceed the initial one, as in toro; a [`BoundedSemaphore`](crate::BoundedSemaphore) forbids
/// that), which makes a `Semaphore` of 0 permits a signal between processes.
///
/// # Fairness
///
/// Strict FIFO across processes, as [`Mutex`](crate::Mutex). A request for `n` permits at the
/// head of the line is served whole before anyone behind it, so it makes later small requests
/// wait; it never holds part of its permits while waiting. A try never takes a permit while
/// someone is waiting.
///
/// # Examples
///
/// ```no_run
/// # async fn demo(client: toro_sync_redis::Client) -> Result<(), toro_sync_redis::Error> {
/// let fetches = client.semaphore("fetch-slots", 8).await?;
/// let permit = fetches.acquire().await?;
/// // ... at most 8 of these, across every worker process ...
/// permit.release().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Semaphore {
    pub(crate) prim: Prim,
}

impl Semaphore {
    pub(crate) fn new(client: &Client, name: &str, permits: u64) -> Self {
        Semaphore {
            prim: Prim::new(client, name, "semaphore", permits),
        }
    }

    /// This handle with another lease time for the permits it takes from now on (at least
    /// 10 ms).
    pub fn with_lease(&self, lease: Duration) -> Self {
        Semaphore {
            prim: self.prim.with_lease(lease),
        }
    }

    /// The semaphore's name.
    pub fn name(&self) -> &str {
        &self.prim.spec.name
    }

    /// The permit count it was created with.
    pub fn initial_permits(&self) -> u64 {
        self.prim.spec.param
    }

    /// Waits for one permit.
    ///
    /// # Errors
    ///
    /// As [`Mutex::lock`](crate::Mutex::lock).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future withdraws its ticket; permits granted to it meanwhile pass on. See
    /// [`Waiting`].
    pub fn acquire(&self) -> AcquireFuture {
        self.acquire_many(1)
    }

    /// Waits for `n` permits at once: atomic (nothing is held until all `n` are granted) and
    /// FIFO (a large request at the head makes later ones wait).
    ///
    /// # Errors
    ///
    /// As [`acquire`](Self::acquire).
    ///
    /// # Cancel safety
    ///
    /// As [`acquire`](Self::acquire).
    pub fn acquire_many(&self, n: u64) -> AcquireFuture {
        acquire(self.prim.clone(), n)
    }

    /// Takes a permit if one is free and nobody waits: one script, nothing registered.
    ///
    /// # Errors
    ///
    /// As [`acquire`](Self::acquire), except that no free permit is `Ok(None)`.
    pub async fn try_acquire(&self) -> Result<Option<SemaphorePermit>, Error> {
        self.try_acquire_many(1).await
    }

    /// Takes `n` permits if they are free and nobody waits.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    pub async fn try_acquire_many(&self, n: u64) -> Result<Option<SemaphorePermit>, Error> {
        try_acquire(&self.prim, n).await
    }

    /// Adds one permit, handing it to the oldest waiter if it fits.
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`], [`Error::Mismatch`], [`Error::Protocol`].
    pub async fn release(&self) -> Result<(), Error> {
        self.prim.add(1).await
    }

    /// Free permits now (all permits minus those held under live leases); 0 when more are held
    /// than exist (after [`forget`](SemaphorePermit::forget) and the like).
    ///
    /// # Errors
    ///
    /// As [`release`](Self::release).
    pub async fn available(&self) -> Result<u64, Error> {
        let [cap, used, ..] = self.prim.stats().await?;
        Ok(cap.saturating_sub(used))
    }

    /// How many requests wait in line (in all processes).
    ///
    /// # Errors
    ///
    /// As [`release`](Self::release).
    pub async fn waiters(&self) -> Result<u64, Error> {
        Ok(self.prim.stats().await?[2])
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("name", &self.name())
            .field("initial_permits", &self.initial_permits())
            .finish()
    }
}

pub(crate) fn acquire(prim: Prim, n: u64) -> AcquireFuture {
    Waiting::new(move |deadline| async move {
        let hold = prim.acquire(n, deadline).await?;
        Ok(SemaphorePermit { hold })
    })
}

pub(crate) async fn try_acquire(prim: &Prim, n: u64) -> Result<Option<SemaphorePermit>, Error> {
    match acquire(prim.clone(), n).deadline(Duration::ZERO).await {
        Ok(permit) => Ok(Some(permit)),
        Err(Error::Timeout) => Ok(None),
        Err(err) => Err(err),
    }
}

/// Permits held under a lease. Dropping it returns them in the background;
/// [`release`](Self::release) returns them and reports.
#[must_use = "dropping the permit returns it"]
pub struct SemaphorePermit {
    hold: Holding,
}

impl SemaphorePermit {
    /// How many permits this holds.
    pub fn permits(&self) -> u64 {
        self.hold.n()
    }

    /// The fencing token of this grant (strictly increasing per semaphore).
    pub fn fencing_token(&self) -> u64 {
        self.hold.token()
    }

    /// Whether the lease is lost (see [`MutexGuard::is_lost`](crate::MutexGuard::is_lost)).
    pub fn is_lost(&self) -> bool {
        self.hold.is_lost()
    }

    /// Completes when the lease is lost.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only observes.
    pub async fn lost(&self) {
        self.hold.lost().await
    }

    /// Returns the permits now.
    ///
    /// # Errors
    ///
    /// [`Error::LeaseLost`] if the lease had already ended; [`Error::Unavailable`] if Redis
    /// could not be reached within the lease (the release goes on in the background).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future after it started still returns the permits.
    pub async fn release(self) -> Result<(), Error> {
        self.hold.release(false).await
    }

    /// Gives the permits up without returning them: the semaphore has that many fewer from now
    /// on (toro-sync's `forget`). A [`BoundedSemaphore`](crate::BoundedSemaphore) can get them
    /// back with `release()`.
    ///
    /// # Errors
    ///
    /// As [`release`](Self::release).
    pub async fn forget(self) -> Result<(), Error> {
        self.hold.release(true).await
    }
}

impl fmt::Debug for SemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits())
            .field("fencing_token", &self.fencing_token())
            .field("lost", &self.is_lost())
            .finish()
    }
}
