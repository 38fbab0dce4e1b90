//! [`RwLock<T>`]: many readers or one writer, FIFO and write-preferring.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use crate::error::Timeout;
use crate::permits::{AcquireOp, MAX_PERMITS, PermitHandle, Permits};
use crate::sync::{AtomicBool, Ordering, UnsafeCell};
use crate::wait::{Waiter, wait_future};

/// An async reader-writer lock protecting a `T`: toro's `RWLock`.
///
/// Up to `max_readers` [`read`](Self::read) guards at once, or one [`write`](Self::write)
/// guard. Built on a FIFO of permit requests: a read takes one of `max_readers` slots, a write
/// takes all of them as one request, granted atomically or not at all.
///
/// # Fairness
///
/// FIFO and write-preferring. Requests are served strictly in arrival order: a read that
/// arrives after a queued write waits for it (so writers are never starved), and consecutive
/// queued reads are granted together. A write that times out or is dropped holds nothing, and
/// the reads queued behind it are served at once.
///
/// Because of write preference, a task that holds a read guard and asks for a second one
/// deadlocks if a write was queued in between (the write waits for the first read, the second
/// read waits for the write). Do not take a read lock recursively; if you must, bound the inner
/// one with [`.deadline()`](crate::future::RwLockRead::deadline) to get `Err(Timeout)`
/// instead of a hang.
///
/// `max_readers == 1` makes it a mutex.
///
/// # Memory ordering
///
/// Everything a writer did before releasing happens-before what later readers and writers do
/// after acquiring; everything readers did before releasing happens-before what the next
/// writer does.
///
/// # Examples
///
/// ```
/// use toro_sync::RwLock;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let lock = RwLock::new(5);
/// {
///     let r1 = lock.read().await;
///     let r2 = lock.read().await;
///     assert_eq!(*r1 + *r2, 10);
/// }
/// *lock.write().await += 1;
/// assert_eq!(*lock.read().await, 6);
/// # }
/// ```
pub struct RwLock<T: ?Sized> {
    max_readers: usize,
    /// Whether a write guard exists (for `Debug`).
    writer: AtomicBool,
    permits: Permits,
    data: UnsafeCell<T>,
}

// SAFETY: readers on several threads get `&T` at once (needs `T: Sync`) and a writer gets
// `&mut T` on whichever thread holds the write guard (needs `T: Send`); the permits make those
// the only accesses.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    /// The largest `max_readers`: `usize::MAX >> 3`, readers "unlimited" in practice.
    pub const MAX_READERS: usize = MAX_PERMITS;

    /// An unlocked lock holding `value`, with readers unlimited (up to
    /// [`RwLock::MAX_READERS`]).
    pub fn new(value: T) -> Self {
        Self::with_max_readers(value, Self::MAX_READERS)
    }

    /// An unlocked lock holding `value` that admits at most `max_readers` readers at once
    /// (toro's `RWLock(max_readers)`).
    ///
    /// Any positive count is accepted: a count above [`RwLock::MAX_READERS`] means "as many as
    /// you like" and is clamped to it ([`max_readers`](Self::max_readers) then reports
    /// `MAX_READERS`), so `with_max_readers(value, usize::MAX)` is [`new`](Self::new).
    ///
    /// # Panics
    ///
    /// If `max_readers` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use toro_sync::RwLock;
    ///
    /// assert_eq!(RwLock::with_max_readers((), 4).max_readers(), 4);
    /// assert_eq!(RwLock::with_max_readers((), usize::MAX).max_readers(), RwLock::<()>::MAX_READERS);
    /// ```
    #[track_caller]
    pub fn with_max_readers(value: T, max_readers: usize) -> Self {
        assert!(max_readers > 0, "an RwLock needs max_readers >= 1");
        let max_readers = max_readers.min(MAX_PERMITS);
        RwLock {
            max_readers,
            writer: AtomicBool::new(false),
            permits: Permits::new(max_readers),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock, returning its data.
    #[inline]
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared read access.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses only its place in line; a read slot already
    /// handed to it goes back.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use toro_sync::{RwLock, Timeout};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// let lock = RwLock::new("data");
    /// let writer = lock.write().await;
    /// assert_eq!(lock.read().deadline(Duration::from_secs(1)).await.err(), Some(Timeout));
    /// drop(writer);
    /// assert_eq!(*lock.read().await, "data");
    /// # }
    /// ```
    #[inline]
    pub fn read(&self) -> RwLockRead<'_, T> {
        RwLockRead(Waiter::new(
            AcquireOp {
                handle: Reader(self),
                n: 1,
            },
            0,
        ))
    }

    /// Waits for exclusive write access: all read slots, as one request.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a write dropped or timed out while queued holds no slot, and the reads
    /// queued behind it are served at once; access already handed to it goes back.
    ///
    /// # Examples
    ///
    /// ```
    /// use toro_sync::RwLock;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let lock = RwLock::with_max_readers(Vec::new(), 4);
    /// lock.write().await.push(1);
    /// assert_eq!(lock.read().await.len(), 1);
    /// # }
    /// ```
    #[inline]
    pub fn write(&self) -> RwLockWrite<'_, T> {
        RwLockWrite(Waiter::new(
            AcquireOp {
                handle: Writer(self),
                n: self.max_readers,
            },
            0,
        ))
    }

    /// Takes read access if a slot is free and no request is queued.
    #[inline]
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        Reader(self).try_permit(1)
    }

    /// Takes write access if the lock is free and no request is queued.
    #[inline]
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        let n = self.max_readers;
        Writer(self).try_permit(n)
    }

    /// The most readers admitted at once.
    #[inline]
    pub fn max_readers(&self) -> usize {
        self.max_readers
    }

    /// The data, through exclusive access to the lock (no locking needed).
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Waiting `read` and `write` futures registered and not yet granted.
    pub fn waiters(&self) -> usize {
        self.permits.waiters()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (available, waiters) = self.permits.snapshot();
        let writer = self.writer.load(Ordering::Acquire);
        let mut s = f.debug_struct("RwLock");
        match self.try_read() {
            Some(guard) => s.field("data", &&*guard),
            None => s.field("data", &format_args!("<locked>")),
        };
        let readers = if writer {
            0
        } else {
            self.max_readers - available
        };
        s.field("readers", &readers)
            .field("writer", &writer)
            .field("max_readers", &self.max_readers)
            .field("waiters", &waiters)
            .finish()
    }
}

/// Read access through the permit core.
pub(crate) struct Reader<'a, T: ?Sized>(&'a RwLock<T>);
/// Write access through the permit core.
pub(crate) struct Writer<'a, T: ?Sized>(&'a RwLock<T>);

impl<T: ?Sized> Clone for Reader<'_, T> {
    fn clone(&self) -> Self {
        Reader(self.0)
    }
}

impl<T: ?Sized> Clone for Writer<'_, T> {
    fn clone(&self) -> Self {
        Writer(self.0)
    }
}

impl<'a, T: ?Sized> PermitHandle for Reader<'a, T> {
    type Permit = RwLockReadGuard<'a, T>;

    #[inline]
    fn permits(&self) -> &Permits {
        &self.0.permits
    }

    #[inline]
    unsafe fn into_permit(self, _: usize) -> RwLockReadGuard<'a, T> {
        RwLockReadGuard {
            lock: self.0,
            _data: PhantomData,
        }
    }
}

impl<'a, T: ?Sized> PermitHandle for Writer<'a, T> {
    type Permit = RwLockWriteGuard<'a, T>;

    #[inline]
    fn permits(&self) -> &Permits {
        &self.0.permits
    }

    #[inline]
    unsafe fn into_permit(self, _: usize) -> RwLockWriteGuard<'a, T> {
        self.0.writer.store(true, Ordering::Release);
        RwLockWriteGuard {
            lock: self.0,
            _data: PhantomData,
        }
    }
}

wait_future! {
    /// The future of [`RwLock::read`].
    RwLockRead ['a, T: ?Sized] ['a, T] = Waiter<AcquireOp<Reader<'a, T>>>
        => RwLockReadGuard<'a, T>, Result<RwLockReadGuard<'a, T>, Timeout>;
}

wait_future! {
    /// The future of [`RwLock::write`].
    RwLockWrite ['a, T: ?Sized] ['a, T] = Waiter<AcquireOp<Writer<'a, T>>>
        => RwLockWriteGuard<'a, T>, Result<RwLockWriteGuard<'a, T>, Timeout>;
}

/// Shared read access to an [`RwLock`]'s data; dropping it releases the read slot.
#[must_use = "the read lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    _data: PhantomData<&'a T>,
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds a read slot (the contract of its one constructor,
        // `PermitHandle::into_permit`), so no writer (which needs every slot) exists
        // until it is dropped; other holders only read.
        self.lock.data.with(|p| unsafe { &*p })
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.lock.permits.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Exclusive write access to an [`RwLock`]'s data; dropping it releases the lock.
#[must_use = "the write lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    _data: PhantomData<&'a mut T>,
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds every read slot (the contract of its one constructor,
        // `PermitHandle::into_permit`), so it is the only accessor.
        self.lock.data.with(|p| unsafe { &*p })
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds every read slot, and `&mut self` is unique.
        self.lock.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.lock.writer.store(false, Ordering::Release);
        self.lock.permits.release(self.lock.max_readers);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
