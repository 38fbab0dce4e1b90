//! [`Mutex<T>`]: an async mutual-exclusion lock that owns its data, handed over in FIFO order.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

mod mapped;

use crate::error::Timeout;
use crate::permits::{AcquireOp, PermitHandle, Permits};
use crate::sync::{Arc, UnsafeCell};
use crate::wait::{Waiter, wait_future};

pub use mapped::{MappedMutexGuard, OwnedMappedMutexGuard};

/// An async mutex protecting a `T`: toro's `Lock`, with the data inside as in `std`.
///
/// [`lock`](Self::lock) waits for the lock and resolves to a [`MutexGuard`]; dropping the guard
/// unlocks. Nothing is poisoned: a guard dropped while unwinding from a panic unlocks normally.
/// `toro_sync::Lock` is `Mutex<()>`, for a lock that guards no data.
///
/// # Fairness
///
/// Strict FIFO. On unlock the lock goes straight to the oldest waiter, which holds it from
/// that moment (even before it runs); [`try_lock`](Self::try_lock) and new `lock` calls cannot
/// barge past it. A waiter dropped after the hand-off passes the lock to the next one.
///
/// # Memory ordering
///
/// Everything done while holding the lock happens-before what the next holder does after its
/// `lock` completes.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use toro_sync::Mutex;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let count = Arc::new(Mutex::new(0));
/// let tasks: Vec<_> = (0..4)
///     .map(|_| {
///         let count = count.clone();
///         tokio::spawn(async move { *count.lock().await += 1 })
///     })
///     .collect();
/// for task in tasks {
///     task.await.unwrap();
/// }
/// assert_eq!(*count.lock().await, 4);
/// # }
/// ```
pub struct Mutex<T: ?Sized> {
    permits: Permits,
    data: UnsafeCell<T>,
}

/// toro's `Lock`: a [`Mutex`] that guards no data.
///
/// ```
/// use toro_sync::Lock;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let lock = Lock::default();
/// let guard = lock.lock().await;
/// assert!(lock.is_locked());
/// drop(guard);
/// assert!(!lock.is_locked());
/// # }
/// ```
pub type Lock = Mutex<()>;

// SAFETY: the mutex hands out access to `T` to one holder at a time (a guard exists only while
// its single permit is held), so sharing the mutex across threads only ever moves `T` between
// threads, which `T: Send` allows.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    pub fn new(value: T) -> Self {
        Mutex {
            permits: Permits::new(1),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex, returning its data.
    #[inline]
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future (or its deadline passing) loses only its place in line;
    /// if the lock had already been handed to it, it passes to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use toro_sync::{Mutex, Timeout};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// let mutex = Mutex::new(vec![1]);
    /// let mut guard = mutex.lock().await;
    /// guard.push(2);
    /// // While it is held, a bounded wait times out:
    /// assert_eq!(mutex.lock().deadline(Duration::from_millis(5)).await.err(), Some(Timeout));
    /// drop(guard);
    /// assert_eq!(*mutex.lock().await, [1, 2]);
    /// # }
    /// ```
    #[inline]
    pub fn lock(&self) -> MutexLock<'_, T> {
        MutexLock(Waiter::new(AcquireOp { handle: self, n: 1 }, 0))
    }

    /// Waits for the lock, holding the mutex through an `Arc`: the guard is `'static`.
    ///
    /// # Cancel safety
    ///
    /// As [`lock`](Self::lock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use toro_sync::Mutex;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let mutex = Arc::new(Mutex::new(1));
    /// let mut guard = mutex.clone().lock_owned().await;
    /// tokio::spawn(async move { *guard += 1 }).await.unwrap();
    /// assert_eq!(*mutex.lock().await, 2);
    /// # }
    /// ```
    #[inline]
    pub fn lock_owned(self: Arc<Self>) -> MutexLockOwned<T> {
        MutexLockOwned(Waiter::new(AcquireOp { handle: self, n: 1 }, 0))
    }

    /// Takes the lock if it is free and nobody waits for it.
    #[inline]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.try_permit(1)
    }

    /// Takes the lock through an `Arc` if it is free and nobody waits for it.
    #[inline]
    pub fn try_lock_owned(self: Arc<Self>) -> Option<OwnedMutexGuard<T>> {
        self.try_permit(1)
    }

    /// Whether the lock is held, or promised to a waiter (toro's `locked()`).
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.permits.is_locked()
    }

    /// The data, through exclusive access to the mutex (no locking needed).
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Waiting `lock` futures registered and not yet granted.
    pub fn waiters(&self) -> usize {
        self.permits.waiters()
    }

    #[inline]
    pub(crate) fn unlock(&self) {
        self.permits.release(1);
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Mutex");
        match self.try_lock() {
            Some(guard) => s.field("data", &&*guard),
            None => s.field("data", &format_args!("<locked>")),
        };
        s.field("waiters", &self.waiters()).finish()
    }
}

impl<'a, T: ?Sized> PermitHandle for &'a Mutex<T> {
    type Permit = MutexGuard<'a, T>;

    #[inline]
    fn permits(&self) -> &Permits {
        &self.permits
    }

    #[inline]
    unsafe fn into_permit(self, _: usize) -> MutexGuard<'a, T> {
        MutexGuard {
            mutex: self,
            _data: PhantomData,
        }
    }
}

impl<T: ?Sized> PermitHandle for Arc<Mutex<T>> {
    type Permit = OwnedMutexGuard<T>;

    #[inline]
    fn permits(&self) -> &Permits {
        &self.permits
    }

    #[inline]
    unsafe fn into_permit(self, _: usize) -> OwnedMutexGuard<T> {
        OwnedMutexGuard {
            mutex: self,
            _data: PhantomData,
        }
    }
}

wait_future! {
    /// The future of [`Mutex::lock`].
    MutexLock ['a, T: ?Sized] ['a, T] = Waiter<AcquireOp<&'a Mutex<T>>>
        => MutexGuard<'a, T>, Result<MutexGuard<'a, T>, Timeout>;
}

wait_future! {
    /// The future of [`Mutex::lock_owned`].
    MutexLockOwned [T: ?Sized] [T] = Waiter<AcquireOp<Arc<Mutex<T>>>>
        => OwnedMutexGuard<T>, Result<OwnedMutexGuard<T>, Timeout>;
}

/// Exclusive access to a [`Mutex`]'s data; dropping it unlocks.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    // Send and Sync as `&mut T`: Sync only for `T: Sync`.
    _data: PhantomData<&'a mut T>,
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard locks.
    #[inline]
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.mutex
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit (its one constructor,
        // `PermitHandle::into_permit`, is an `unsafe fn` whose contract says so), so no other
        // access to the data exists until it is dropped.
        self.mutex.data.with(|p| unsafe { &*p })
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only reference through the guard.
        self.mutex.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Exclusive access to a [`Mutex`] held through an `Arc`; dropping it unlocks.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedMutexGuard<T: ?Sized> {
    mutex: Arc<Mutex<T>>,
    // Sync only for `T: Sync`: a shared guard hands out `&T`.
    _data: PhantomData<T>,
}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    #[inline]
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.mutex
    }

    /// The mutex, still locked: the permit passes to whoever holds the result (a mapped
    /// guard), which must unlock it.
    fn into_mutex(this: Self) -> Arc<Mutex<T>> {
        let this = std::mem::ManuallyDrop::new(this);
        // SAFETY: the `Arc` is moved out of a guard that is never dropped, so it is read once.
        unsafe { std::ptr::read(&this.mutex) }
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit (see `MutexGuard::deref`).
        self.mutex.data.with(|p| unsafe { &*p })
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the mutex's only permit and `&mut self` is unique.
        self.mutex.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    #[inline]
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
