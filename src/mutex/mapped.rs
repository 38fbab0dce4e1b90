//! Guards of a part of a [`Mutex`]'s data, made by `map` / `try_map` on a guard.
//!
//! A mapped guard holds a pointer to the part and what unlocking needs (the permits, or an
//! `Arc` of the mutex); it can no longer name the whole data, so it cannot be used to re-lock
//! with [`Condition::wait_with`](crate::Condition::wait_with).

use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

use super::{Mutex, MutexGuard, OwnedMutexGuard};
use crate::permits::Permits;
use crate::sync::Arc;

/// Exclusive access to a part of a [`Mutex`]'s data, made by [`MutexGuard::map`]; dropping it
/// unlocks.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MappedMutexGuard<'a, T: ?Sized> {
    permits: &'a Permits,
    data: NonNull<T>,
    _data: PhantomData<&'a mut T>,
}

// SAFETY: the guard gives `&mut T` (moving access to `T` between threads: `T: Send`) and,
// shared, `&T` (`T: Sync`), as `&mut T` is.
unsafe impl<T: ?Sized + Send> Send for MappedMutexGuard<'_, T> {}
// SAFETY: shared, the guard only gives `&T`.
unsafe impl<T: ?Sized + Sync> Sync for MappedMutexGuard<'_, T> {}

impl<'a, T: ?Sized> MappedMutexGuard<'a, T> {
    /// A guard of `data`, which points into the data of the mutex whose only permit is held
    /// (passed on from the guard it was mapped from) and returned to `permits` on drop.
    #[inline]
    fn new(permits: &'a Permits, data: NonNull<T>) -> Self {
        MappedMutexGuard {
            permits,
            data,
            _data: PhantomData,
        }
    }

    /// A guard of a part of this part, holding the same lock.
    #[inline]
    pub fn map<U: ?Sized>(
        mut this: Self,
        f: impl FnOnce(&mut T) -> &mut U,
    ) -> MappedMutexGuard<'a, U> {
        let data = NonNull::from(f(&mut *this));
        let this = ManuallyDrop::new(this);
        MappedMutexGuard::new(this.permits, data)
    }

    /// As [`map`](Self::map), or the guard back if `f` returns `None`.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    #[inline]
    pub fn try_map<U: ?Sized>(
        mut this: Self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<MappedMutexGuard<'a, U>, Self> {
        let Some(data) = f(&mut *this).map(NonNull::from) else {
            return Err(this);
        };
        let this = ManuallyDrop::new(this);
        Ok(MappedMutexGuard::new(this.permits, data))
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// A guard of a part of the data, holding the same lock (tokio's and parking_lot's
    /// `map`). An associated function, so that it does not shadow a method of `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use toro_sync::{Mutex, MutexGuard};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let mutex = Mutex::new((0, String::new()));
    /// let mut name = MutexGuard::map(mutex.lock().await, |pair| &mut pair.1);
    /// name.push_str("toro");
    /// assert!(mutex.is_locked());
    /// drop(name);
    /// assert_eq!(mutex.lock().await.1, "toro");
    /// # }
    /// ```
    #[inline]
    pub fn map<U: ?Sized>(
        mut this: Self,
        f: impl FnOnce(&mut T) -> &mut U,
    ) -> MappedMutexGuard<'a, U> {
        let data = NonNull::from(f(&mut *this));
        let this = ManuallyDrop::new(this);
        MappedMutexGuard::new(&this.mutex.permits, data)
    }

    /// As [`map`](Self::map), or the guard back if `f` returns `None`.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    #[inline]
    pub fn try_map<U: ?Sized>(
        mut this: Self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<MappedMutexGuard<'a, U>, Self> {
        let Some(data) = f(&mut *this).map(NonNull::from) else {
            return Err(this);
        };
        let this = ManuallyDrop::new(this);
        Ok(MappedMutexGuard::new(&this.mutex.permits, data))
    }
}

impl<T: ?Sized> Deref for MappedMutexGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit, passed on from the guard it was
        // mapped from, and `data` points into the data that permit protects.
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized> DerefMut for MappedMutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` is unique.
        unsafe { self.data.as_mut() }
    }
}

impl<T: ?Sized> Drop for MappedMutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.permits.release(1);
    }
}

/// Exclusive access to a part of a [`Mutex`]'s data held through an `Arc`, made by
/// [`OwnedMutexGuard::map`]; `'static`; dropping it unlocks.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedMappedMutexGuard<T: ?Sized, U: ?Sized> {
    mutex: Arc<Mutex<T>>,
    data: NonNull<U>,
    _data: PhantomData<U>,
}

// SAFETY: the guard keeps the mutex alive (`Arc<Mutex<T>>`: Send and Sync for `T: Send`) and
// gives `&mut U` (`U: Send`).
unsafe impl<T: ?Sized + Send, U: ?Sized + Send> Send for OwnedMappedMutexGuard<T, U> {}
// SAFETY: shared, the guard only gives `&U`.
unsafe impl<T: ?Sized + Send, U: ?Sized + Sync> Sync for OwnedMappedMutexGuard<T, U> {}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// A guard of a part of the data, holding the same lock; `'static`.
    #[inline]
    pub fn map<U: ?Sized>(
        mut this: Self,
        f: impl FnOnce(&mut T) -> &mut U,
    ) -> OwnedMappedMutexGuard<T, U> {
        let data = NonNull::from(f(&mut *this));
        OwnedMappedMutexGuard {
            mutex: OwnedMutexGuard::into_mutex(this),
            data,
            _data: PhantomData,
        }
    }

    /// As [`map`](Self::map), or the guard back if `f` returns `None`.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    #[inline]
    pub fn try_map<U: ?Sized>(
        mut this: Self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<OwnedMappedMutexGuard<T, U>, Self> {
        let Some(data) = f(&mut *this).map(NonNull::from) else {
            return Err(this);
        };
        Ok(OwnedMappedMutexGuard {
            mutex: OwnedMutexGuard::into_mutex(this),
            data,
            _data: PhantomData,
        })
    }
}

impl<T: ?Sized, U: ?Sized> OwnedMappedMutexGuard<T, U> {
    /// The mutex this guard locks.
    #[inline]
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.mutex
    }

    /// A guard of a part of this part, holding the same lock.
    #[inline]
    pub fn map<V: ?Sized>(
        mut this: Self,
        f: impl FnOnce(&mut U) -> &mut V,
    ) -> OwnedMappedMutexGuard<T, V> {
        let data = NonNull::from(f(&mut *this));
        let this = ManuallyDrop::new(this);
        // SAFETY: the `Arc` is moved out of a guard that is never dropped, so it is read once.
        let mutex = unsafe { std::ptr::read(&this.mutex) };
        OwnedMappedMutexGuard {
            mutex,
            data,
            _data: PhantomData,
        }
    }
}

impl<T: ?Sized, U: ?Sized> Deref for OwnedMappedMutexGuard<T, U> {
    type Target = U;

    #[inline]
    fn deref(&self) -> &U {
        // SAFETY: the guard holds the mutex's only permit, passed on from the guard it was
        // mapped from, and `data` points into the mutex's data.
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized, U: ?Sized> DerefMut for OwnedMappedMutexGuard<T, U> {
    #[inline]
    fn deref_mut(&mut self) -> &mut U {
        // SAFETY: as in `deref`; `&mut self` is unique.
        unsafe { self.data.as_mut() }
    }
}

impl<T: ?Sized, U: ?Sized> Drop for OwnedMappedMutexGuard<T, U> {
    #[inline]
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MappedMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Debug> fmt::Debug for OwnedMappedMutexGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
