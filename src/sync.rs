//! The one place the crate takes its atomics, locks and cells from.
//!
//! Under `--cfg loom` these are loom's model-checked versions; otherwise std's. Nothing else in
//! the crate names `std::sync` or `std::cell::UnsafeCell` directly, so the loom models exercise
//! exactly the code that ships.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
/// Owned handles (`acquire_owned`, `lock_owned`, streams, sinks) take the user's `std` `Arc`,
/// under loom too.
pub(crate) use std::sync::Arc;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The internal lock of every primitive: never poisoned, never held while user code runs
/// (wakers are woken, and dropped, after it is released), and only for a few dozen
/// instructions at a time.
///
/// A spin lock whose unlock is a plain `Release` store. `parking_lot`'s lock, used before,
/// unlocks with a compare-exchange (it must see whether a thread sleeps on the lock), and
/// every primitive takes this lock once per operation: on a queue that was two of the four
/// locked read-modify-write instructions per item (bench/NOTES.md). Waiting for it: a short
/// spin with exponential backoff, then yielding the thread to the scheduler until the lock is
/// free. A thread never sleeps here, so a holder that was preempted (more runnable threads than
/// cores, say threads blocked in `.block()` next to a runtime's workers) is not waited for
/// with a spinning core: the waiters give their time slices to it. Measured with 8 threads on
/// 2 cores in bench/NOTES.md.
///
/// Under loom, loom's mutex, which models the same exclusion (loom cannot run a spin lock: it
/// takes an endless spin for a path to explore).
pub(crate) struct Mutex<T> {
    #[cfg(not(loom))]
    locked: AtomicBool,
    #[cfg(not(loom))]
    value: std::cell::UnsafeCell<T>,
    #[cfg(loom)]
    inner: loom::sync::Mutex<T>,
}

#[cfg(not(loom))]
// SAFETY: one thread at a time reaches the value (a guard exists only after `locked` went
// false → true, and only its drop sets it back), so sharing the lock only moves the value
// between threads: `T: Send` is what that needs, as for `std::sync::Mutex`.
unsafe impl<T: Send> Send for Mutex<T> {}
#[cfg(not(loom))]
// SAFETY: as above.
unsafe impl<T: Send> Sync for Mutex<T> {}

impl<T> std::fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mutex").finish_non_exhaustive()
    }
}

/// A held internal lock; unlocks when dropped.
#[cfg(not(loom))]
pub(crate) struct MutexGuard<'a, T> {
    lock: &'a Mutex<T>,
    /// Not `Send` (a lock is released by the thread that took it, as with `std`'s guard).
    _not_send: std::marker::PhantomData<*const ()>,
}
#[cfg(loom)]
pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

/// Spins of the backoff before a waiter yields its thread: 1, 2, 4, … 64 spin-loop hints.
#[cfg(not(loom))]
const SPIN_ROUNDS: u32 = 7;

impl<T> Mutex<T> {
    #[cfg(not(loom))]
    pub(crate) const fn new(value: T) -> Self {
        Mutex {
            locked: AtomicBool::new(false),
            value: std::cell::UnsafeCell::new(value),
        }
    }

    #[cfg(loom)]
    pub(crate) fn new(value: T) -> Self {
        Mutex {
            inner: loom::sync::Mutex::new(value),
        }
    }

    /// Locks. Never poisoned: a panic under this lock can only come from user code the crate
    /// calls with it held (an item's `Ord`), and the state stays consistent across it.
    #[cfg(not(loom))]
    #[inline]
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        if !self.try_acquire() {
            self.lock_contended();
        }
        MutexGuard {
            lock: self,
            _not_send: std::marker::PhantomData,
        }
    }

    #[cfg(loom)]
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        match self.inner.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// One attempt: `Acquire`, so the last holder's writes (made before its `Release` unlock)
    /// are seen.
    #[cfg(not(loom))]
    #[inline(always)]
    fn try_acquire(&self) -> bool {
        self.locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// The lock was held: wait until it looks free (reading only, so waiters do not take the
    /// cache line from the holder), then try again; spin briefly, then yield the thread.
    #[cfg(not(loom))]
    #[cold]
    #[inline(never)]
    fn lock_contended(&self) {
        let mut round = 0;
        loop {
            while self.locked.load(Ordering::Relaxed) {
                if round < SPIN_ROUNDS {
                    for _ in 0..1u32 << round {
                        std::hint::spin_loop();
                    }
                    round += 1;
                } else {
                    std::thread::yield_now();
                }
            }
            if self.try_acquire() {
                return;
            }
        }
    }
}

#[cfg(not(loom))]
impl<T> std::ops::Deref for MutexGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the lock (see `Mutex::lock`), so no other reference to the
        // value exists until it is dropped, and the reference cannot outlive it.
        unsafe { &*self.lock.value.get() }
    }
}

#[cfg(not(loom))]
impl<T> std::ops::DerefMut for MutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only reference through the guard.
        unsafe { &mut *self.lock.value.get() }
    }
}

#[cfg(not(loom))]
impl<T> Drop for MutexGuard<'_, T> {
    /// Unlocks: a plain store, `Release` so that the next holder (its `Acquire`
    /// compare-exchange) sees every write made under the lock. Nobody sleeps on the lock, so
    /// there is nobody to wake and nothing to read back.
    #[inline]
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
    }
}

/// An `UnsafeCell` with loom's closure-based access API, so loom can check every access.
#[derive(Debug)]
pub(crate) struct UnsafeCell<T: ?Sized> {
    #[cfg(not(loom))]
    inner: std::cell::UnsafeCell<T>,
    #[cfg(loom)]
    inner: loom::cell::UnsafeCell<T>,
}

impl<T> UnsafeCell<T> {
    #[cfg(not(loom))]
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell {
            inner: std::cell::UnsafeCell::new(value),
        }
    }

    #[cfg(loom)]
    pub(crate) fn new(value: T) -> Self {
        UnsafeCell {
            inner: loom::cell::UnsafeCell::new(value),
        }
    }

    pub(crate) fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> UnsafeCell<T> {
    /// Runs `f` with a shared pointer to the value.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        #[cfg(not(loom))]
        {
            f(self.inner.get())
        }
        #[cfg(loom)]
        {
            self.inner.with(f)
        }
    }

    /// Runs `f` with an exclusive pointer to the value.
    #[inline]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        #[cfg(not(loom))]
        {
            f(self.inner.get())
        }
        #[cfg(loom)]
        {
            self.inner.with_mut(f)
        }
    }

    pub(crate) fn get_mut(&mut self) -> &mut T {
        #[cfg(not(loom))]
        {
            self.inner.get_mut()
        }
        #[cfg(loom)]
        {
            // SAFETY: `&mut self` proves no other access to the cell exists.
            self.inner.with_mut(|p| unsafe { &mut *p })
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Mutual exclusion with more threads than cores: each adds 1 to a plain counter in two
    /// steps (read, then write) under the lock; an overlap between holders loses an update.
    #[test]
    fn lock_excludes_between_oversubscribed_threads() {
        const THREADS: u64 = 8;
        const EACH: u64 = 20_000;
        let m = Arc::new(Mutex::new(0u64));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for _ in 0..EACH {
                        let mut guard = m.lock();
                        let seen = std::hint::black_box(*guard);
                        *guard = seen + 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*m.lock(), THREADS * EACH);
    }

    /// A guard dropped while unwinding unlocks: the lock is free afterwards, the value intact.
    #[test]
    fn a_panic_under_the_lock_releases_it() {
        let m = Mutex::new(7u32);
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _guard = m.lock();
            panic!("a panic under the internal lock (expected by this test)");
        }));
        assert!(unwound.is_err());
        assert!(
            !m.locked.load(Ordering::Relaxed),
            "still locked after the unwind"
        );
        assert_eq!(*m.lock(), 7);
    }
}
