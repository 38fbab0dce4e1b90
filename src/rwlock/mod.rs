//! [`RwLock<T>`]: many readers or one writer, FIFO and write-preferring.

mod guard;
mod upgradable;

use std::fmt;
use std::ptr::NonNull;

use crate::error::Timeout;
use crate::permits::{AcquireOp, MAX_PERMITS, PermitHandle, Permits};
use crate::sync::{Arc, AtomicBool, Ordering, UnsafeCell};
use crate::wait::{Waiter, wait_future};
use upgradable::Upgradable;

pub use guard::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLockReadGuard, RwLockWriteGuard};
pub use upgradable::{RwLockUpgradableRead, RwLockUpgradableReadGuard, RwLockUpgrade};

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
    core: RwCore,
    data: UnsafeCell<T>,
}

/// What the guards need of the lock, apart from the data (so that a read guard does not name
/// `T` through the lock, and is covariant in it).
pub(crate) struct RwCore {
    max_readers: usize,
    /// Whether a write guard exists (for `Debug`).
    writer: AtomicBool,
    permits: Permits,
}

impl RwCore {
    #[inline]
    fn release_read(&self) {
        self.permits.release(1);
    }

    #[inline]
    fn release_write(&self) {
        self.writer.store(false, Ordering::Release);
        self.permits.release(self.max_readers);
    }

    /// A writer becomes a reader: it keeps one read slot and frees the rest, so queued reads
    /// come in (up to the first queued write) and no write can, while the slot is held.
    #[inline]
    fn downgrade(&self) {
        self.writer.store(false, Ordering::Release);
        if self.max_readers > 1 {
            self.permits.release(self.max_readers - 1);
        }
    }
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
            core: RwCore {
                max_readers,
                writer: AtomicBool::new(false),
                permits: Permits::new(max_readers),
            },
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
                handle: Access(self),
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
                handle: Access(self),
                n: self.core.max_readers,
            },
            0,
        ))
    }

    /// [`read`](Self::read) through an `Arc`: the guard is `'static`, for spawned tasks.
    ///
    /// # Cancel safety
    ///
    /// As [`read`](Self::read).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use toro_sync::RwLock;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let lock = Arc::new(RwLock::new(1));
    /// let guard = lock.clone().read_owned().await;
    /// let task = tokio::spawn(async move { *guard + 1 });
    /// assert_eq!(task.await.unwrap(), 2);
    /// # }
    /// ```
    #[inline]
    pub fn read_owned(self: Arc<Self>) -> RwLockReadOwned<T> {
        RwLockReadOwned(Waiter::new(
            AcquireOp {
                handle: Access(self),
                n: 1,
            },
            0,
        ))
    }

    /// [`write`](Self::write) through an `Arc`: the guard is `'static`, for spawned tasks.
    ///
    /// # Cancel safety
    ///
    /// As [`write`](Self::write).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use toro_sync::RwLock;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let lock = Arc::new(RwLock::new(Vec::new()));
    /// let mut guard = lock.clone().write_owned().await;
    /// tokio::spawn(async move { guard.push(1) }).await.unwrap();
    /// assert_eq!(*lock.read().await, [1]);
    /// # }
    /// ```
    #[inline]
    pub fn write_owned(self: Arc<Self>) -> RwLockWriteOwned<T> {
        let n = self.core.max_readers;
        RwLockWriteOwned(Waiter::new(
            AcquireOp {
                handle: Access(self),
                n,
            },
            0,
        ))
    }

    /// [`try_read`](Self::try_read) through an `Arc`.
    #[inline]
    pub fn try_read_owned(self: Arc<Self>) -> Option<OwnedRwLockReadGuard<T>> {
        OwnedReader::<T>::try_permit(Access(self), 1)
    }

    /// [`try_write`](Self::try_write) through an `Arc`.
    #[inline]
    pub fn try_write_owned(self: Arc<Self>) -> Option<OwnedRwLockWriteGuard<T>> {
        let n = self.core.max_readers;
        OwnedWriter::<T>::try_permit(Access(self), n)
    }

    /// Waits for an upgradable read: shared access, beside plain readers, that can later
    /// [`upgrade`](RwLockUpgradableReadGuard::upgrade) to write access without letting go. One
    /// upgradable read at a time: a second waits for the first to end. Requested in FIFO order
    /// with every read and write (a write queued before it goes first; reads queued after it
    /// wait for it).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses only its place in line; a slot already handed
    /// to it goes back.
    ///
    /// # Examples
    ///
    /// ```
    /// use toro_sync::{RwLock, RwLockUpgradableReadGuard};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let lock = RwLock::new(Vec::new());
    /// let upgradable = lock.upgradable_read().await;
    /// assert!(lock.try_read().is_some(), "plain readers share it");
    /// assert!(lock.try_write().is_none(), "writers wait");
    /// if upgradable.is_empty() {
    ///     let mut write = RwLockUpgradableReadGuard::upgrade(upgradable).await;
    ///     write.push(1);
    /// }
    /// assert_eq!(*lock.read().await, [1]);
    /// # }
    /// ```
    #[inline]
    pub fn upgradable_read(&self) -> RwLockUpgradableRead<'_, T> {
        RwLockUpgradableRead(Waiter::new(
            AcquireOp {
                handle: Upgradable(self),
                n: 1,
            },
            0,
        ))
    }

    /// Takes an upgradable read if a slot is free, no upgradable read is held and no request
    /// is queued.
    #[inline]
    pub fn try_upgradable_read(&self) -> Option<RwLockUpgradableReadGuard<'_, T>> {
        let handle = Upgradable(self);
        handle
            .permits()
            .try_locked(|permits, lists| permits.take_upgradable_or_slow(lists))
            // SAFETY: `take_upgradable_or_slow` just took the slot and the flag, handed over.
            .then(|| unsafe { handle.into_permit(1) })
    }

    /// Takes read access if a slot is free and no request is queued.
    #[inline]
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        Reader::<T>::try_permit(Access(self), 1)
    }

    /// Takes write access if the lock is free and no request is queued.
    #[inline]
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        let n = self.core.max_readers;
        Writer::<T>::try_permit(Access(self), n)
    }

    /// The most readers admitted at once.
    #[inline]
    pub fn max_readers(&self) -> usize {
        self.core.max_readers
    }

    /// The data, through exclusive access to the lock (no locking needed).
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Waiting `read` and `write` futures registered and not yet granted.
    pub fn waiters(&self) -> usize {
        self.core.permits.waiters()
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
        let (available, waiters) = self.core.permits.snapshot();
        let writer = self.core.writer.load(Ordering::Acquire);
        let mut s = f.debug_struct("RwLock");
        match self.try_read() {
            Some(guard) => s.field("data", &&*guard),
            None => s.field("data", &format_args!("<locked>")),
        };
        let readers = if writer {
            0
        } else {
            self.core.max_readers - available
        };
        s.field("readers", &readers)
            .field("writer", &writer)
            .field("max_readers", &self.core.max_readers)
            .field("waiters", &waiters)
            .finish()
    }
}

/// How a wait or a `try_*` reaches the lock: by reference or through an `Arc`, for a read
/// (one slot) or a write (every slot). The permit core makes the guard.
pub(crate) struct Access<H, const WRITE: bool>(H);

impl<H: Clone, const WRITE: bool> Clone for Access<H, WRITE> {
    fn clone(&self) -> Self {
        Access(self.0.clone())
    }
}

type Reader<'a, T> = Access<&'a RwLock<T>, false>;
type Writer<'a, T> = Access<&'a RwLock<T>, true>;
type OwnedReader<T> = Access<Arc<RwLock<T>>, false>;
type OwnedWriter<T> = Access<Arc<RwLock<T>>, true>;

impl<T: ?Sized> RwLock<T> {
    /// A pointer to the data, for a guard (read access, registered with loom as such).
    #[inline]
    fn data_for_read(&self) -> NonNull<T> {
        self.data
            .with(|p| NonNull::new(p.cast_mut()).expect("the data of a lock is never null"))
    }

    /// A pointer to the data, for a write guard.
    #[inline]
    fn data_for_write(&self) -> NonNull<T> {
        self.core.writer.store(true, Ordering::Release);
        self.data
            .with_mut(|p| NonNull::new(p).expect("the data of a lock is never null"))
    }
}

impl<'a, T: ?Sized> PermitHandle for Reader<'a, T> {
    type Permit = RwLockReadGuard<'a, T>;

    #[inline]
    fn permits(&self) -> &Permits {
        &self.0.core.permits
    }

    #[inline]
    unsafe fn into_permit(self, _: usize) -> RwLockReadGuard<'a, T> {
        // SAFETY: the caller handed over one read slot (this function's contract).
        unsafe { RwLockReadGuard::new(&self.0.core, self.0.data_for_read()) }
    }
}

impl<'a, T: ?Sized> PermitHandle for Writer<'a, T> {
    type Permit = RwLockWriteGuard<'a, T>;

    #[inline]
    fn permits(&self) -> &Permits {
        &self.0.core.permits
    }

    #[inline]
    unsafe fn into_permit(self, _: usize) -> RwLockWriteGuard<'a, T> {
        // SAFETY: the caller handed over every read slot (this function's contract).
        unsafe { RwLockWriteGuard::new(&self.0.core, self.0.data_for_write()) }
    }
}

impl<T: ?Sized> PermitHandle for OwnedReader<T> {
    type Permit = OwnedRwLockReadGuard<T>;

    #[inline]
    fn permits(&self) -> &Permits {
        &self.0.core.permits
    }

    #[inline]
    unsafe fn into_permit(self, _: usize) -> OwnedRwLockReadGuard<T> {
        let data = self.0.data_for_read();
        // SAFETY: the caller handed over one read slot (this function's contract).
        unsafe { OwnedRwLockReadGuard::new(self.0, data) }
    }
}

impl<T: ?Sized> PermitHandle for OwnedWriter<T> {
    type Permit = OwnedRwLockWriteGuard<T>;

    #[inline]
    fn permits(&self) -> &Permits {
        &self.0.core.permits
    }

    #[inline]
    unsafe fn into_permit(self, _: usize) -> OwnedRwLockWriteGuard<T> {
        let data = self.0.data_for_write();
        // SAFETY: the caller handed over every read slot (this function's contract).
        unsafe { OwnedRwLockWriteGuard::new(self.0, data) }
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

wait_future! {
    /// The future of [`RwLock::read_owned`].
    RwLockReadOwned [T: ?Sized] [T] = Waiter<AcquireOp<OwnedReader<T>>>
        => OwnedRwLockReadGuard<T>, Result<OwnedRwLockReadGuard<T>, Timeout>;
}

wait_future! {
    /// The future of [`RwLock::write_owned`].
    RwLockWriteOwned [T: ?Sized] [T] = Waiter<AcquireOp<OwnedWriter<T>>>
        => OwnedRwLockWriteGuard<T>, Result<OwnedRwLockWriteGuard<T>, Timeout>;
}
