//! [`RwLock`]: a fair, write-preferring readers-writer lock across processes.
//!
//! Built on the ticket engine with no script of its own: capacity `max_readers`, a read takes
//! 1, a write takes all `max_readers` (so it is granted only when nobody holds anything). The
//! FIFO line does the rest: a writer waiting at the head stops every later reader.

use std::fmt;
use std::time::Duration;

use crate::engine::{Holding, Prim};
use crate::wait::Waiting;
use crate::{Client, Error};

/// The future of [`RwLock::read`].
pub type ReadFuture = Waiting<RwLockReadGuard>;

/// The future of [`RwLock::write`].
pub type WriteFuture = Waiting<RwLockWriteGuard>;

/// toro's `RWLock` across processes ([`Client::rw_lock`]): a writer excludes everyone; up to
/// `max_readers` readers share it.
///
/// # Fairness
///
/// Strict FIFO across processes, as [`Mutex`](crate::Mutex): a waiting writer stops new
/// readers (no writer starvation), and readers queued behind a writer wait for it. Every grant
/// is a lease with a fencing token, as for the Mutex.
///
/// # Examples
///
/// ```no_run
/// # async fn demo(client: toro_sync_redis::Client) -> Result<(), toro_sync_redis::Error> {
/// let config = client.rw_lock("config", 64).await?;
/// let read = config.read().await?;
/// // ... read the shared configuration ...
/// read.release().await?;
/// let write = config.write().await?;
/// // ... rewrite it, passing write.fencing_token() to the store ...
/// write.release().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RwLock {
    pub(crate) prim: Prim,
}

impl RwLock {
    pub(crate) fn new(client: &Client, name: &str, max_readers: u64) -> Self {
        let prim = Prim::new(client, name, "rwlock", max_readers);
        RwLock {
            prim: if max_readers == 0 {
                prim.invalid(Error::protocol("max_readers must be at least 1"))
            } else {
                prim
            },
        }
    }

    /// This handle with another lease time for what it takes from now on (at least 10 ms).
    pub fn with_lease(&self, lease: Duration) -> Self {
        RwLock {
            prim: self.prim.with_lease(lease),
        }
    }

    /// The lock's name.
    pub fn name(&self) -> &str {
        &self.prim.spec.name
    }

    /// How many readers may share it.
    pub fn max_readers(&self) -> u64 {
        self.prim.spec.param
    }

    /// Waits for read access.
    ///
    /// # Errors
    ///
    /// As [`Mutex::lock`](crate::Mutex::lock).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future withdraws its ticket; access granted to it meanwhile passes on.
    pub fn read(&self) -> ReadFuture {
        let prim = self.prim.clone();
        Waiting::new(move |deadline| async move {
            let hold = prim.acquire(1, deadline).await?;
            Ok(RwLockReadGuard { hold })
        })
    }

    /// Waits for write access (everyone else out).
    ///
    /// # Errors
    ///
    /// As [`Mutex::lock`](crate::Mutex::lock).
    ///
    /// # Cancel safety
    ///
    /// As [`read`](Self::read).
    pub fn write(&self) -> WriteFuture {
        let prim = self.prim.clone();
        let n = self.max_readers();
        Waiting::new(move |deadline| async move {
            let hold = prim.acquire(n, deadline).await?;
            Ok(RwLockWriteGuard { hold })
        })
    }

    /// Read access if free of writers and nobody waits: one script, nothing registered.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read), except that no access is `Ok(None)`.
    pub async fn try_read(&self) -> Result<Option<RwLockReadGuard>, Error> {
        none_on_timeout(self.read().deadline(Duration::ZERO).await)
    }

    /// Write access if nobody holds or waits: one script, nothing registered.
    ///
    /// # Errors
    ///
    /// As [`try_read`](Self::try_read).
    pub async fn try_write(&self) -> Result<Option<RwLockWriteGuard>, Error> {
        none_on_timeout(self.write().deadline(Duration::ZERO).await)
    }

    /// How many requests wait in line (in all processes).
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`], [`Error::Mismatch`], [`Error::Protocol`].
    pub async fn waiters(&self) -> Result<u64, Error> {
        Ok(self.prim.stats().await?[2])
    }
}

fn none_on_timeout<T>(r: Result<T, Error>) -> Result<Option<T>, Error> {
    match r {
        Ok(guard) => Ok(Some(guard)),
        Err(Error::Timeout) => Ok(None),
        Err(err) => Err(err),
    }
}

impl fmt::Debug for RwLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLock")
            .field("name", &self.name())
            .field("max_readers", &self.max_readers())
            .finish()
    }
}

macro_rules! rw_guard {
    ($name:ident, $what:literal) => {
        #[doc = concat!($what, " access, held under a lease. Dropping it releases in the background; [`release`](Self::release) releases and reports.")]
        #[must_use = "dropping the guard releases the lock"]
        pub struct $name {
            hold: Holding,
        }

        impl $name {
            /// The fencing token of this grant (strictly increasing per lock).
            pub fn fencing_token(&self) -> u64 {
                self.hold.token()
            }

            /// Whether the lease is lost (see
            /// [`MutexGuard::is_lost`](crate::MutexGuard::is_lost)).
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

            /// Releases now and hands the lock on.
            ///
            /// # Errors
            ///
            /// As [`MutexGuard::release`](crate::MutexGuard::release).
            ///
            /// # Cancel safety
            ///
            /// Dropping the future after it started still releases.
            pub async fn release(self) -> Result<(), Error> {
                self.hold.release(false).await
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("fencing_token", &self.fencing_token())
                    .field("lost", &self.is_lost())
                    .finish()
            }
        }
    };
}

rw_guard!(RwLockReadGuard, "Read");
rw_guard!(RwLockWriteGuard, "Write");
