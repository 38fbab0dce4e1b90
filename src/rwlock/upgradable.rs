//! Upgradable reads of an [`RwLock`]: one at a time, beside plain readers, that can become a
//! write without letting go.
//!
//! An upgradable read is a read slot plus the permit core's "upgradable held" flag, requested in
//! FIFO order with every other request (so a write queued before it goes first). Its upgrade
//! asks for every other slot *ahead* of the queue: a write queued meanwhile needs the
//! upgrader's own slot, so it could never go first, and the readers inside drain.

use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;

use super::{RwCore, RwLock, RwLockReadGuard, RwLockWriteGuard};
use crate::permits::{AcquireOp, PermitHandle, PermitLists, Permits};
use crate::wait::{Op, Waiter, wait_future};
use crate::waiters::{WaitList, WakeList};

/// Shared read access to an [`RwLock`] that can become write access without letting go: made
/// by [`upgradable_read`](RwLock::upgradable_read). At most one exists at a time per lock;
/// plain readers share the lock with it, writers wait.
///
/// [`upgrade`](Self::upgrade) waits for the other readers to leave and becomes a
/// [`RwLockWriteGuard`]; [`downgrade`](Self::downgrade) becomes a plain read guard; dropping
/// it releases its read slot.
#[must_use = "the upgradable read is released as soon as the guard is dropped"]
pub struct RwLockUpgradableReadGuard<'a, T: ?Sized> {
    core: &'a RwCore,
    data: NonNull<T>,
    // It may become a write guard: as `&mut T`.
    _data: PhantomData<&'a mut T>,
}

// SAFETY: it gives `&T` now (`T: Sync`) and may give `&mut T` after an upgrade on whichever
// thread holds it (`T: Send`), as a write guard.
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockUpgradableReadGuard<'_, T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockUpgradableReadGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockUpgradableReadGuard<'a, T> {
    /// # Safety
    ///
    /// The caller holds one read slot of `core`'s lock with its upgradable flag, and hands
    /// them over; `data` points to that lock's data.
    #[inline]
    unsafe fn new(core: &'a RwCore, data: NonNull<T>) -> Self {
        RwLockUpgradableReadGuard {
            core,
            data,
            _data: PhantomData,
        }
    }

    /// The slots an upgrade adds to this guard's one.
    #[inline]
    fn missing(&self) -> usize {
        self.core.max_readers - 1
    }

    /// Becomes a write guard: the caller now holds every slot (this guard's, and the ones
    /// just taken), and the flag was cleared with them.
    #[inline]
    fn into_write(self) -> RwLockWriteGuard<'a, T> {
        let this = ManuallyDrop::new(self);
        this.core.writer.store(true, crate::sync::Ordering::Release);
        // SAFETY: every slot is held (the caller's contract), handed to the write guard;
        // `data` points to the lock's data, which that makes exclusively ours.
        unsafe { RwLockWriteGuard::new(this.core, this.data) }
    }

    /// Waits for the other readers to leave and becomes a write guard, without letting go:
    /// no write gets in between. The upgrade goes ahead of every queued request (a queued
    /// write needs this guard's slot anyway); meanwhile nobody else is admitted.
    ///
    /// With `.deadline(d)` it resolves to `Result<RwLockWriteGuard, RwLockUpgradableReadGuard>`:
    /// on timeout the upgradable read comes back, unchanged.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future releases the upgradable read (it owns the guard), and anything
    /// handed to it passes on. Use a deadline to keep the guard.
    ///
    /// # Examples
    ///
    /// ```
    /// use toro_sync::{RwLock, RwLockUpgradableReadGuard};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let lock = RwLock::new(0);
    /// let reader = lock.read().await;
    /// let upgradable = lock.upgradable_read().await;
    /// if *upgradable == 0 {
    ///     let (mut write, ()) = tokio::join!(RwLockUpgradableReadGuard::upgrade(upgradable), async {
    ///         drop(reader)
    ///     });
    ///     *write = 1;
    /// }
    /// assert_eq!(*lock.read().await, 1);
    /// # }
    /// ```
    #[inline]
    pub fn upgrade(this: Self) -> RwLockUpgrade<'a, T> {
        RwLockUpgrade(Waiter::new(
            UpgradeOp {
                core: this.core,
                _data: PhantomData,
            },
            Some(this),
        ))
    }

    /// Becomes a write guard if no other reader is inside.
    ///
    /// # Errors
    ///
    /// The guard back, when other readers are inside.
    #[inline]
    pub fn try_upgrade(this: Self) -> Result<RwLockWriteGuard<'a, T>, Self> {
        let n = this.missing();
        if this
            .core
            .permits
            .try_locked(|permits, lists| permits.take_upgrade_or_slow(lists, n))
        {
            Ok(this.into_write())
        } else {
            Err(this)
        }
    }

    /// Becomes a plain read guard, keeping its slot: another upgradable read may now be
    /// granted.
    #[inline]
    pub fn downgrade(this: Self) -> RwLockReadGuard<'a, T> {
        let this = ManuallyDrop::new(this);
        this.core.permits.set_upgradable(false, 0);
        // SAFETY: the slot stays held, as a plain read, handed to the read guard.
        unsafe { RwLockReadGuard::new(this.core, this.data) }
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns write access into an upgradable read, atomically: the guard keeps one slot and
    /// the upgradable flag, and frees the others (queued reads come in; writes wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use toro_sync::{RwLock, RwLockUpgradableReadGuard, RwLockWriteGuard};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let lock = RwLock::new(1);
    /// let upgradable = RwLockWriteGuard::downgrade_to_upgradable(lock.write().await);
    /// assert_eq!(*lock.try_read().unwrap(), 1);
    /// assert!(lock.try_upgradable_read().is_none());
    /// let write = RwLockUpgradableReadGuard::try_upgrade(upgradable).ok().unwrap();
    /// assert_eq!(*write, 1);
    /// # }
    /// ```
    #[inline]
    pub fn downgrade_to_upgradable(this: Self) -> RwLockUpgradableReadGuard<'a, T> {
        let (core, data) = RwLockWriteGuard::into_parts(this);
        core.writer.store(false, crate::sync::Ordering::Release);
        core.permits.set_upgradable(true, core.max_readers - 1);
        // SAFETY: one slot stays held, with the upgradable flag, handed to the new guard.
        unsafe { RwLockUpgradableReadGuard::new(core, data) }
    }
}

impl<T: ?Sized> Deref for RwLockUpgradableReadGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds a read slot (the contract of `new`), so no writer exists.
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized> Drop for RwLockUpgradableReadGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.core.permits.set_upgradable(false, 1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockUpgradableReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// An upgradable read of a borrowed lock, through the permit core.
pub(crate) struct Upgradable<'a, T: ?Sized>(pub(crate) &'a RwLock<T>);

impl<T: ?Sized> Clone for Upgradable<'_, T> {
    fn clone(&self) -> Self {
        Upgradable(self.0)
    }
}

impl<'a, T: ?Sized> PermitHandle for Upgradable<'a, T> {
    type Permit = RwLockUpgradableReadGuard<'a, T>;

    #[inline]
    fn permits(&self) -> &Permits {
        &self.0.core.permits
    }

    #[inline]
    unsafe fn into_permit(self, _: usize) -> RwLockUpgradableReadGuard<'a, T> {
        // SAFETY: the caller handed over one slot with the upgradable flag (this function's
        // contract; only an upgradable `AcquireOp` and `try_upgradable_read` take them).
        unsafe { RwLockUpgradableReadGuard::new(&self.0.core, self.0.data_for_read()) }
    }
}

/// The upgrade of an upgradable read: every other slot, ahead of the queue.
pub(crate) struct UpgradeOp<'a, T: ?Sized> {
    core: &'a RwCore,
    _data: PhantomData<&'a mut T>,
}

impl<'a, T: ?Sized> Op for UpgradeOp<'a, T> {
    type State = PermitLists;
    type Req = usize;
    type Grant = usize;
    type Output = RwLockWriteGuard<'a, T>;
    type Timed = Result<RwLockWriteGuard<'a, T>, RwLockUpgradableReadGuard<'a, T>>;
    /// The upgradable guard, until it becomes the write guard (or comes back on timeout).
    type Data = Option<RwLockUpgradableReadGuard<'a, T>>;

    fn lock(&self) -> crate::sync::MutexGuard<'_, PermitLists> {
        self.core.permits.lock()
    }

    fn list(lists: &mut PermitLists) -> &mut WaitList<usize, usize> {
        lists.upgrade_list()
    }

    fn try_now(
        &self,
        guard: &mut Self::Data,
        lists: &mut PermitLists,
        _: &mut WakeList,
    ) -> Option<Self::Output> {
        let n = self.core.max_readers - 1;
        if !self.core.permits.take_upgrade_or_slow(lists, n) {
            return None;
        }
        Some(take(guard).into_write())
    }

    fn register(&self, _: &mut Self::Data, _: &mut PermitLists) -> usize {
        self.core.max_readers - 1
    }

    fn withdrawn(&self, lists: &mut PermitLists, _: &mut usize, wakes: &mut WakeList) {
        // While it waited nobody else was served: serve them now.
        self.core.permits.grant(lists, wakes);
    }

    fn forward(&self, lists: &mut PermitLists, n: usize, wakes: &mut WakeList) -> Option<usize> {
        // The upgradable guard itself is dropped with the future, after this.
        self.core.permits.put_back_locked(lists, n, wakes);
        None
    }

    fn taken(&self, lists: &mut PermitLists, _: &usize, _: &mut WakeList) {
        lists.upgraded();
    }

    fn finish(&self, guard: &mut Self::Data, _: usize) -> Self::Output {
        take(guard).into_write()
    }

    fn ok(output: Self::Output) -> Self::Timed {
        Ok(output)
    }

    fn timed_out(&self, guard: &mut Self::Data, _: Option<usize>) -> Self::Timed {
        Err(take(guard))
    }
}

fn take<G>(guard: &mut Option<G>) -> G {
    guard
        .take()
        .expect("an upgrade holds its guard until it completes")
}

wait_future! {
    /// The future of [`RwLock::upgradable_read`].
    RwLockUpgradableRead ['a, T: ?Sized] ['a, T] = Waiter<AcquireOp<Upgradable<'a, T>, true>>
        => RwLockUpgradableReadGuard<'a, T>,
        Result<RwLockUpgradableReadGuard<'a, T>, crate::error::Timeout>;
}

wait_future! {
    /// The future of [`RwLockUpgradableReadGuard::upgrade`].
    RwLockUpgrade ['a, T: ?Sized] ['a, T] = Waiter<UpgradeOp<'a, T>>
        => RwLockWriteGuard<'a, T>,
        Result<RwLockWriteGuard<'a, T>, RwLockUpgradableReadGuard<'a, T>>;
}
