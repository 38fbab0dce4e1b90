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
/// (wakers are woken, and dropped, after it is released). `parking_lot`'s: its short adaptive
/// spin suits these few-instruction critical sections; measured against `std`'s on two cores,
/// queue throughput between threads more than doubled (BENCHMARKS.md).
#[derive(Debug)]
pub(crate) struct Mutex<T> {
    #[cfg(not(loom))]
    inner: parking_lot::Mutex<T>,
    #[cfg(loom)]
    inner: loom::sync::Mutex<T>,
}

#[cfg(not(loom))]
pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;
#[cfg(loom)]
pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

impl<T> Mutex<T> {
    #[cfg(not(loom))]
    pub(crate) const fn new(value: T) -> Self {
        Mutex {
            inner: parking_lot::Mutex::new(value),
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
    #[inline]
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        #[cfg(not(loom))]
        {
            self.inner.lock()
        }
        #[cfg(loom)]
        match self.inner.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
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
