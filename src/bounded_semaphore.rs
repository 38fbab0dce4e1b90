//! [`BoundedSemaphore`]: a semaphore whose permits can never exceed the initial count.

use std::fmt;

use crate::error::{ReleaseError, Timeout};
use crate::permits::{
    AcquireOp, PermitHandle, Permits, SemaphoreWaitUnlocked, WaitUnlockedOp, check_request,
    permit_types,
};
use crate::sync::{Arc, AtomicUsize, Ordering};
use crate::wait::{Waiter, wait_future};

/// A semaphore that refuses to be released past its initial count: toro's `BoundedSemaphore`.
///
/// It has the methods of [`Semaphore`](crate::Semaphore), with its own permit types, except
/// that [`release`](Self::release) fails with [`ReleaseError`] when the free permits plus the
/// permits held by live permit objects (or promised to a queued request) would exceed the
/// initial count. A permit's drop never fails and never exceeds the bound. A
/// [`forget`](BoundedSemaphorePermit::forget)-ed permit no longer counts as held, so
/// [`release`](Self::release) may return it: toro's `acquire()` … `release()` is
/// `acquire().await.forget()` … `release()`. Free permits removed with
/// [`forget_permits`](Self::forget_permits) leave circulation the same way. Splitting and
/// merging permits ([`split`](BoundedSemaphorePermit::split),
/// [`merge`](BoundedSemaphorePermit::merge)) moves held permits between permit objects and
/// changes nothing in these counts.
///
/// # Fairness
///
/// Strict FIFO, as [`Semaphore`](crate::Semaphore): permits go to the oldest waiting request,
/// whole; a large request at the head makes later small ones wait.
///
/// # Memory ordering
///
/// Everything a task did before returning permits happens-before what the task that acquires
/// them does after its acquire completes.
///
/// # Examples
///
/// ```
/// use toro_sync::BoundedSemaphore;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let sem = BoundedSemaphore::new(1);
/// assert!(sem.release().is_err()); // already at its bound
/// sem.acquire().await.forget(); // toro's `yield sem.acquire()`
/// assert!(sem.release().is_ok()); // toro's `sem.release()`
/// assert_eq!(sem.available(), 1);
/// # }
/// ```
pub struct BoundedSemaphore {
    permits: Permits,
    bound: usize,
    /// Permits in circulation: free, held by live permit objects, or promised to a waiter.
    /// Changed only by `release` (+1) and `forget` (−n); acquiring and dropping move permits
    /// within it.
    circulating: AtomicUsize,
}

impl BoundedSemaphore {
    /// A bounded semaphore with `permits` permits, which is also its bound.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`](crate::Semaphore::MAX_PERMITS).
    #[track_caller]
    pub fn new(permits: usize) -> Self {
        BoundedSemaphore {
            permits: Permits::new(permits),
            bound: permits,
            circulating: AtomicUsize::new(permits),
        }
    }

    /// The initial count, which permits can never exceed.
    #[inline]
    pub fn bound(&self) -> usize {
        self.bound
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
    /// use toro_sync::BoundedSemaphore;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let sem = BoundedSemaphore::new(2);
    /// let permit = sem.acquire().await;
    /// assert_eq!(sem.available(), 1);
    /// drop(permit);
    /// assert_eq!(sem.available(), 2);
    /// # }
    /// ```
    #[inline]
    pub fn acquire(&self) -> BoundedSemaphoreAcquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits, taken all at once, FIFO with other requests.
    ///
    /// # Cancel safety
    ///
    /// As [`acquire`](Self::acquire); a queued request dropped holds nothing.
    ///
    /// # Panics
    ///
    /// If `n` exceeds the bound: such a request could never be served.
    ///
    /// # Examples
    ///
    /// ```
    /// use toro_sync::BoundedSemaphore;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let sem = BoundedSemaphore::new(3);
    /// let all = sem.acquire_many(3).await;
    /// assert!(sem.is_locked());
    /// drop(all);
    /// # }
    /// ```
    #[inline]
    #[track_caller]
    pub fn acquire_many(&self, n: usize) -> BoundedSemaphoreAcquire<'_> {
        self.check_bound(n);
        BoundedSemaphoreAcquire(Waiter::new(AcquireOp { handle: self, n }, 0))
    }

    /// Waits for one permit through an `Arc`: the permit is `'static`.
    ///
    /// # Cancel safety
    ///
    /// As [`acquire`](Self::acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use toro_sync::BoundedSemaphore;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let sem = Arc::new(BoundedSemaphore::new(1));
    /// let permit = sem.clone().acquire_owned().await;
    /// assert_eq!(sem.available(), 0);
    /// drop(permit);
    /// # }
    /// ```
    #[inline]
    pub fn acquire_owned(self: Arc<Self>) -> BoundedSemaphoreAcquireOwned {
        self.acquire_many_owned(1)
    }

    /// Waits for `n` permits through an `Arc`.
    ///
    /// # Cancel safety
    ///
    /// As [`acquire_many`](Self::acquire_many).
    ///
    /// # Panics
    ///
    /// If `n` exceeds the bound.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use toro_sync::BoundedSemaphore;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let sem = Arc::new(BoundedSemaphore::new(2));
    /// let permit = sem.clone().acquire_many_owned(2).await;
    /// assert_eq!(permit.num_permits(), 2);
    /// # }
    /// ```
    #[inline]
    #[track_caller]
    pub fn acquire_many_owned(self: Arc<Self>, n: usize) -> BoundedSemaphoreAcquireOwned {
        self.check_bound(n);
        BoundedSemaphoreAcquireOwned(Waiter::new(AcquireOp { handle: self, n }, 0))
    }

    /// Takes a permit if one is free and no request is queued.
    #[inline]
    pub fn try_acquire(&self) -> Option<BoundedSemaphorePermit<'_>> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if free and no request is queued.
    ///
    /// # Panics
    ///
    /// If `n` exceeds the bound.
    #[inline]
    #[track_caller]
    pub fn try_acquire_many(&self, n: usize) -> Option<BoundedSemaphorePermit<'_>> {
        self.check_bound(n);
        self.try_permit(n)
    }

    /// Takes a permit through an `Arc` if one is free and no request is queued.
    #[inline]
    pub fn try_acquire_owned(self: Arc<Self>) -> Option<OwnedBoundedSemaphorePermit> {
        self.try_permit(1)
    }

    /// Adds one permit, handing it to the oldest waiter if any.
    ///
    /// # Errors
    ///
    /// [`ReleaseError`] if the free permits plus those held by live permit objects (or promised
    /// to a queued request) already reach the bound. Nothing changes then.
    #[inline]
    pub fn release(&self) -> Result<(), ReleaseError> {
        let bound = self.bound;
        let add = |c: usize| (c < bound).then_some(c + 1);
        self.circulating
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, add)
            .map_err(|_| ReleaseError)?;
        self.permits.release(1);
        Ok(())
    }

    /// Removes up to `n` free permits for good and returns how many it removed (tokio's
    /// `forget_permits`). Permits held by permit objects, or already promised to a queued
    /// request, are not touched.
    ///
    /// Removed permits leave circulation exactly as a [`forget`](BoundedSemaphorePermit::forget)-ed
    /// permit does: the bound stays what it was, and [`release`](Self::release) may bring them
    /// back, one by one, up to it. Until then the semaphore works with fewer permits.
    ///
    /// # Examples
    ///
    /// ```
    /// use toro_sync::BoundedSemaphore;
    ///
    /// let sem = BoundedSemaphore::new(3);
    /// assert_eq!(sem.forget_permits(2), 2);
    /// assert_eq!(sem.available(), 1);
    /// assert!(sem.release().is_ok()); // one of the two comes back
    /// assert!(sem.release().is_ok());
    /// assert!(sem.release().is_err()); // at the bound again
    /// assert_eq!(sem.available(), 3);
    /// ```
    #[inline]
    pub fn forget_permits(&self, n: usize) -> usize {
        let removed = self.permits.forget_available(n);
        if removed > 0 {
            self.forgotten(removed);
        }
        removed
    }

    /// Permits leaving circulation, so that `release` may bring them back.
    fn forgotten(&self, n: usize) {
        self.circulating.fetch_sub(n, Ordering::AcqRel);
    }

    /// Permits neither held nor promised to a queued request.
    #[inline]
    #[doc(alias = "available_permits")]
    pub fn available(&self) -> usize {
        self.permits.available()
    }

    /// Whether an [`acquire`](Self::acquire) now would wait.
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.permits.is_locked()
    }

    /// Waits until an [`acquire`](Self::acquire) would not wait, without taking a permit.
    /// Queued acquirers take precedence.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it takes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use toro_sync::BoundedSemaphore;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let sem = BoundedSemaphore::new(1);
    /// sem.wait_unlocked().await; // a permit is free: at once
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

    #[track_caller]
    fn check_bound(&self, n: usize) {
        check_request(n);
        assert!(
            n <= self.bound,
            "cannot request {n} permits from a BoundedSemaphore of {}",
            self.bound
        );
    }
}

impl Default for BoundedSemaphore {
    /// A bounded semaphore with one permit, as toro's `BoundedSemaphore()`.
    fn default() -> Self {
        BoundedSemaphore::new(1)
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (available, waiters) = self.permits.snapshot();
        let circulating = self.circulating.load(Ordering::Acquire);
        f.debug_struct("BoundedSemaphore")
            .field("bound", &self.bound)
            .field("available", &available)
            .field("held", &circulating.saturating_sub(available))
            .field("waiters", &waiters)
            .finish()
    }
}

wait_future! {
    /// The future of [`BoundedSemaphore::acquire`] and [`BoundedSemaphore::acquire_many`].
    BoundedSemaphoreAcquire ['a] ['a] = Waiter<AcquireOp<&'a BoundedSemaphore>>
        => BoundedSemaphorePermit<'a>, Result<BoundedSemaphorePermit<'a>, Timeout>;
}

wait_future! {
    /// The future of [`BoundedSemaphore::acquire_owned`] and
    /// [`BoundedSemaphore::acquire_many_owned`].
    BoundedSemaphoreAcquireOwned [] [] = Waiter<AcquireOp<Arc<BoundedSemaphore>>>
        => OwnedBoundedSemaphorePermit, Result<OwnedBoundedSemaphorePermit, Timeout>;
}

permit_types! {
    BoundedSemaphore;
    /// Permits from a [`BoundedSemaphore`], returned when dropped (never past the bound).
    BoundedSemaphorePermit;
    /// Permits from a [`BoundedSemaphore`] held through an `Arc`, returned when dropped.
    OwnedBoundedSemaphorePermit;
}
