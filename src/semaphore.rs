//! [`Semaphore`]: a counter of permits, handed to waiters in strict FIFO order.

use std::fmt;

use crate::error::Timeout;
use crate::permits::{
    AcquireOp, MAX_PERMITS, PermitHandle, Permits, SemaphoreWaitUnlocked, WaitUnlockedOp,
    check_request, permit_types,
};
use crate::sync::Arc;
use crate::wait::{Waiter, wait_future};

/// A counting semaphore: toro's `Semaphore`.
///
/// Permits are taken with [`acquire`](Self::acquire) / [`acquire_many`](Self::acquire_many) and
/// returned when the permit is dropped; [`release`](Self::release) adds a permit outright (so
/// the count may exceed the initial one — use [`BoundedSemaphore`](crate::BoundedSemaphore) to
/// forbid that).
///
/// # Fairness
///
/// Strict FIFO. A freed permit goes straight to the oldest waiting request; a request for `n`
/// permits at the head is served whole before anyone behind it, so a large request makes later
/// small ones wait (head-of-line blocking, as tokio's semaphore). [`try_acquire`](Self::try_acquire)
/// never takes a permit while a request is queued.
///
/// # No `close`
///
/// Unlike tokio's, this semaphore cannot be closed: [`acquire`](Self::acquire) resolves to a
/// permit, never to an error, so a closed semaphore would have nothing to answer a waiter
/// with. To stop acquirers, race the acquire against a shutdown signal (an
/// [`Event`](crate::Event)), bound it with a deadline, or hand work out through a
/// [`Queue`](crate::Queue), which closes.
///
/// # Memory ordering
///
/// Everything a task did before returning permits (drop, [`release`](Self::release))
/// happens-before what the task that acquires them does after its acquire completes.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use toro_sync::Semaphore;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let sem = Arc::new(Semaphore::new(2));
/// let a = sem.acquire().await;
/// let b = sem.acquire().await;
/// assert!(sem.try_acquire().is_none());
/// drop(a);
/// let c = sem.try_acquire().expect("a permit came back");
/// # drop((b, c)); }
/// ```
pub struct Semaphore {
    permits: Permits,
}

impl Semaphore {
    /// The largest number of permits a semaphore can hold: `usize::MAX >> 3`.
    pub const MAX_PERMITS: usize = MAX_PERMITS;

    /// A semaphore with `permits` permits.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    #[track_caller]
    pub fn new(permits: usize) -> Self {
        Semaphore {
            permits: Permits::new(permits),
        }
    }

    /// Waits for one permit.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future (or its deadline passing) loses only its place in line.
    /// A permit already handed to it goes to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use toro_sync::{Semaphore, Timeout};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// let sem = Semaphore::new(1);
    /// let permit = sem.acquire().await;
    /// let late = sem.acquire().deadline(Duration::from_secs(1)).await;
    /// assert_eq!(late.err(), Some(Timeout));
    /// drop(permit);
    /// # }
    /// ```
    #[inline]
    pub fn acquire(&self) -> SemaphoreAcquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits, taken all at once, in FIFO order with other requests.
    /// `acquire_many(0)` completes at once.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a request dropped while queued holds nothing, and the requests behind it
    /// are served if they now fit; permits already handed to it go back.
    ///
    /// # Panics
    ///
    /// If `n` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// use toro_sync::Semaphore;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let sem = Semaphore::new(5);
    /// let three = sem.acquire_many(3).await;
    /// assert_eq!(three.num_permits(), 3);
    /// assert_eq!(sem.available(), 2);
    /// # }
    /// ```
    #[inline]
    #[track_caller]
    pub fn acquire_many(&self, n: usize) -> SemaphoreAcquire<'_> {
        check_request(n);
        SemaphoreAcquire(Waiter::new(AcquireOp { handle: self, n }, 0))
    }

    /// Waits for one permit, holding the semaphore through an `Arc`: the permit is `'static`.
    ///
    /// # Cancel safety
    ///
    /// As [`acquire`](Self::acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use toro_sync::Semaphore;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let sem = Arc::new(Semaphore::new(1));
    /// let permit = sem.clone().acquire_owned().await;
    /// tokio::spawn(async move { drop(permit) }).await.unwrap();
    /// assert_eq!(sem.available(), 1);
    /// # }
    /// ```
    #[inline]
    pub fn acquire_owned(self: Arc<Self>) -> SemaphoreAcquireOwned {
        self.acquire_many_owned(1)
    }

    /// Waits for `n` permits, holding the semaphore through an `Arc`.
    ///
    /// # Cancel safety
    ///
    /// As [`acquire_many`](Self::acquire_many).
    ///
    /// # Panics
    ///
    /// If `n` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use toro_sync::Semaphore;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let sem = Arc::new(Semaphore::new(4));
    /// let permit = sem.clone().acquire_many_owned(4).await;
    /// assert!(sem.is_locked());
    /// drop(permit);
    /// # }
    /// ```
    #[inline]
    #[track_caller]
    pub fn acquire_many_owned(self: Arc<Self>, n: usize) -> SemaphoreAcquireOwned {
        check_request(n);
        SemaphoreAcquireOwned(Waiter::new(AcquireOp { handle: self, n }, 0))
    }

    /// Takes a permit if one is free and no request is queued.
    #[inline]
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if free and no request is queued.
    ///
    /// # Panics
    ///
    /// If `n` exceeds [`Semaphore::MAX_PERMITS`].
    #[inline]
    #[track_caller]
    pub fn try_acquire_many(&self, n: usize) -> Option<SemaphorePermit<'_>> {
        check_request(n);
        self.try_permit(n)
    }

    /// Takes a permit through an `Arc` if one is free and no request is queued.
    #[inline]
    pub fn try_acquire_owned(self: Arc<Self>) -> Option<OwnedSemaphorePermit> {
        self.try_permit(1)
    }

    /// Adds one permit, handing it to the oldest waiter if any. The count may exceed the
    /// initial one.
    ///
    /// # Panics
    ///
    /// If the free permits would exceed [`Semaphore::MAX_PERMITS`].
    #[inline]
    pub fn release(&self) {
        self.permits.release(1);
    }

    /// Adds `n` permits at once: the batch form of [`release`](Self::release), the same as `n`
    /// calls of it. The permits go to the oldest waiting requests first, FIFO, as many as they
    /// serve whole; the rest stay free.
    ///
    /// # Panics
    ///
    /// If the free permits would exceed [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// use toro_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(0);
    /// sem.add_permits(3);
    /// assert_eq!(sem.available(), 3);
    /// ```
    #[inline]
    pub fn add_permits(&self, n: usize) {
        self.permits.release(n);
    }

    /// Removes up to `n` free permits for good and returns how many it removed (tokio's
    /// `forget_permits`). Permits held by permit objects, or already promised to a queued
    /// request, are not touched: to retire those, [`forget`](SemaphorePermit::forget) the
    /// permit. Queued requests are not served by it; they wait for permits returned later.
    ///
    /// # Examples
    ///
    /// ```
    /// use toro_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(10);
    /// let held = sem.try_acquire_many(4).unwrap();
    /// assert_eq!(sem.forget_permits(8), 6); // only the 6 free ones
    /// assert_eq!(sem.available(), 0);
    /// drop(held); // held permits come back as usual
    /// assert_eq!(sem.available(), 4);
    /// ```
    #[inline]
    pub fn forget_permits(&self, n: usize) -> usize {
        self.permits.forget_available(n)
    }

    /// Permits neither held nor promised to a queued request (toro's `counter`).
    #[inline]
    #[doc(alias = "available_permits")]
    pub fn available(&self) -> usize {
        self.permits.available()
    }

    /// Whether an [`acquire`](Self::acquire) now would wait: no permit free, or requests
    /// queued (toro's `locked()`).
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.permits.is_locked()
    }

    /// Waits until an [`acquire`](Self::acquire) would not wait, without taking a permit
    /// (toro's `Semaphore.wait()`). Queued acquirers take precedence: this completes once they
    /// have been served and a permit is still free.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it takes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use toro_sync::Semaphore;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let sem = Semaphore::new(1);
    /// let permit = sem.acquire().await;
    /// let (_, ()) = tokio::join!(async { drop(permit) }, sem.wait_unlocked());
    /// assert_eq!(sem.available(), 1);
    /// # }
    /// ```
    #[inline]
    pub fn wait_unlocked(&self) -> SemaphoreWaitUnlocked<'_> {
        SemaphoreWaitUnlocked(Waiter::new(
            WaitUnlockedOp {
                permits: &self.permits,
            },
            (),
        ))
    }

    /// Waiting futures registered and not yet granted: acquirers and `wait_unlocked` callers.
    pub fn waiters(&self) -> usize {
        self.permits.waiters()
    }
}

impl Semaphore {
    /// Permits leaving circulation: nothing to track for an unbounded semaphore.
    fn forgotten(&self, _n: usize) {}
}

impl Default for Semaphore {
    /// A semaphore with one permit, as toro's `Semaphore()`.
    fn default() -> Self {
        Semaphore::new(1)
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (available, waiters) = self.permits.snapshot();
        f.debug_struct("Semaphore")
            .field("available", &available)
            .field("waiters", &waiters)
            .finish()
    }
}

wait_future! {
    /// The future of [`Semaphore::acquire`] and [`Semaphore::acquire_many`].
    SemaphoreAcquire ['a] ['a] = Waiter<AcquireOp<&'a Semaphore>>
        => SemaphorePermit<'a>, Result<SemaphorePermit<'a>, Timeout>;
}

wait_future! {
    /// The future of [`Semaphore::acquire_owned`] and [`Semaphore::acquire_many_owned`].
    SemaphoreAcquireOwned [] [] = Waiter<AcquireOp<Arc<Semaphore>>>
        => OwnedSemaphorePermit, Result<OwnedSemaphorePermit, Timeout>;
}

permit_types! {
    Semaphore;
    /// Permits from a [`Semaphore`], returned when dropped.
    SemaphorePermit;
    /// Permits from a [`Semaphore`] held through an `Arc`, returned when dropped.
    OwnedSemaphorePermit;
}
