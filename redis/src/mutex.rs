//! [`Mutex`]: a fair lock across processes, with leases and fencing tokens.

use std::fmt;
use std::time::Duration;

use crate::engine::{Holding, Prim};
use crate::wait::Waiting;
use crate::{Client, Error};

/// The future of [`Mutex::lock`].
pub type LockFuture = Waiting<MutexGuard>;

/// A mutual-exclusion lock shared by every process that opens the same name
/// ([`Client::mutex`]).
///
/// # Fairness
///
/// Strict FIFO across processes: every waiter holds its own ticket in one line kept in Redis,
/// and the releasing script hands the lock to the oldest live ticket itself, so no newcomer
/// barges. A waiter whose process died leaves the line after its lease.
///
/// # Leases and fencing
///
/// The lock is held under a lease (the client's, 30 s by default, or
/// [`with_lease`](Self::with_lease)) renewed in the background every third of it while the
/// guard lives. A holder that stops renewing (crashed, paused, cut off) loses the lock when the
/// lease ends; its guard then reports [`is_lost`](MutexGuard::is_lost). Each grant carries a
/// [`fencing_token`](MutexGuard::fencing_token) larger than every earlier one of this lock: a
/// storage that remembers the largest token it saw and refuses smaller ones is safe even
/// against a holder that paused past its lease.
///
/// Not reentrant.
///
/// # Examples
///
/// ```no_run
/// # async fn demo(client: toro_sync_redis::Client) -> Result<(), toro_sync_redis::Error> {
/// use std::time::Duration;
///
/// let mutex = client.mutex("nightly-report").await?;
/// let guard = mutex.lock().deadline(Duration::from_secs(5)).await?;
/// let token = guard.fencing_token(); // pass it to the storage with every write
/// # let _ = token;
/// guard.release().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Mutex {
    pub(crate) prim: Prim,
}

impl Mutex {
    pub(crate) fn new(client: &Client, name: &str) -> Self {
        Mutex {
            prim: Prim::new(client, name, "mutex", 1),
        }
    }

    /// This handle with another lease time for the locks it takes from now on (at least
    /// 10 ms).
    pub fn with_lease(&self, lease: Duration) -> Self {
        Mutex {
            prim: self.prim.with_lease(lease),
        }
    }

    /// The lock's name.
    pub fn name(&self) -> &str {
        &self.prim.spec.name
    }

    /// Waits for the lock, in FIFO order with every other waiter in any process.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] past the deadline; [`Error::Unavailable`] only if retrying could not
    /// reach Redis before the deadline (without one, it retries until it can);
    /// [`Error::Mismatch`] / [`Error::Protocol`] if the name was taken over by something else.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future withdraws its ticket; a lock granted to it meanwhile passes to the
    /// next waiter. See [`Waiting`].
    pub fn lock(&self) -> LockFuture {
        let prim = self.prim.clone();
        Waiting::new(move |deadline| async move {
            let hold = prim.acquire(1, deadline).await?;
            Ok(MutexGuard { hold })
        })
    }

    /// Takes the lock if it is free and nobody is waiting: one script, nothing registered.
    ///
    /// # Errors
    ///
    /// As [`lock`](Self::lock), except that a taken lock is `Ok(None)`.
    pub async fn try_lock(&self) -> Result<Option<MutexGuard>, Error> {
        match self.lock().deadline(Duration::ZERO).await {
            Ok(guard) => Ok(Some(guard)),
            Err(Error::Timeout) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// How many tickets wait in line (in all processes), after dropping dead ones.
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`], [`Error::Mismatch`], [`Error::Protocol`].
    pub async fn waiters(&self) -> Result<u64, Error> {
        Ok(self.prim.stats().await?[2])
    }

    /// Whether someone holds the lock under a live lease.
    ///
    /// # Errors
    ///
    /// As [`waiters`](Self::waiters).
    pub async fn is_locked(&self) -> Result<bool, Error> {
        Ok(self.prim.stats().await?[1] > 0)
    }
}

impl fmt::Debug for Mutex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex").field("name", &self.name()).finish()
    }
}

/// The lock, held under a lease. Dropping it releases in the background;
/// [`release`](Self::release) releases and reports.
#[must_use = "dropping the guard releases the lock"]
pub struct MutexGuard {
    hold: Holding,
}

impl MutexGuard {
    /// The fencing token of this grant: larger than every token granted before by this lock,
    /// in any process, across Redis restarts and failovers (it is the larger of the last token
    /// + 1 and Redis's clock in microseconds).
    pub fn fencing_token(&self) -> u64 {
        self.hold.token()
    }

    /// Whether the lease is lost: not renewed in time, or Redis no longer has this holder.
    /// Once true it stays true; someone else may hold the lock.
    pub fn is_lost(&self) -> bool {
        self.hold.is_lost()
    }

    /// Completes when the lease is lost (see [`is_lost`](Self::is_lost)); never, while it is
    /// renewed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only observes.
    pub async fn lost(&self) {
        self.hold.lost().await
    }

    /// Releases the lock now (compare-and-delete by this holder's id) and hands it to the next
    /// waiter.
    ///
    /// # Errors
    ///
    /// [`Error::LeaseLost`] if the lease had already ended (nothing was released: it was no
    /// longer ours); [`Error::Unavailable`] if Redis could not be reached within the lease
    /// (the release goes on in the background).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future after it started still releases (in the background if need be).
    pub async fn release(self) -> Result<(), Error> {
        self.hold.release(false).await
    }
}

impl fmt::Debug for MutexGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MutexGuard")
            .field("fencing_token", &self.fencing_token())
            .field("lost", &self.is_lost())
            .finish()
    }
}
