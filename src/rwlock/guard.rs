//! The guards of an [`RwLock`]: borrowed and owned, read and write, with `map`, `try_map` and
//! `downgrade`.
//!
//! Every guard holds a pointer to the data it gives access to (the whole `T`, or the part a
//! `map` chose) and what releasing needs: the lock's core (borrowed guards, which therefore do
//! not name the lock's `T`, so a read guard is covariant in its target as `&T` is) or an `Arc`
//! of the lock (owned guards). Each is made by an `unsafe fn new` whose contract is the slots
//! it holds; that is what every `Deref` relies on.

use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

use super::{RwCore, RwLock};
use crate::sync::Arc;

/// Shared read access to an [`RwLock`]'s data (or the part of it a [`map`](Self::map) chose);
/// dropping it releases the read slot.
///
/// Covariant in `T`, as `&T` is.
#[must_use = "the read lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    core: &'a RwCore,
    data: NonNull<T>,
    _data: PhantomData<&'a T>,
}

// SAFETY: a read guard only gives `&T`, like `&T`, which is Send and Sync for `T: Sync`.
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// # Safety
    ///
    /// The caller holds one read slot of `core`'s lock and hands it over; `data` points into
    /// that lock's data.
    #[inline]
    pub(super) unsafe fn new(core: &'a RwCore, data: NonNull<T>) -> Self {
        RwLockReadGuard {
            core,
            data,
            _data: PhantomData,
        }
    }

    /// A guard of a part of the data, holding the same read slot (tokio's and parking_lot's
    /// `map`). An associated function, so that it does not shadow a method of `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use toro_sync::{RwLock, RwLockReadGuard};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let lock = RwLock::new((1, "one"));
    /// let name = RwLockReadGuard::map(lock.read().await, |pair| &pair.1);
    /// assert_eq!(*name, "one");
    /// # }
    /// ```
    #[inline]
    pub fn map<U: ?Sized>(this: Self, f: impl FnOnce(&T) -> &U) -> RwLockReadGuard<'a, U> {
        let data = NonNull::from(f(&*this));
        let this = ManuallyDrop::new(this);
        // SAFETY: the slot passes from `this` (not dropped) to the new guard; `data` points
        // into the same lock's data, borrowed from `this`.
        unsafe { RwLockReadGuard::new(this.core, data) }
    }

    /// As [`map`](Self::map), or the guard back if `f` returns `None`.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    #[inline]
    pub fn try_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&T) -> Option<&U>,
    ) -> Result<RwLockReadGuard<'a, U>, Self> {
        let Some(data) = f(&*this).map(NonNull::from) else {
            return Err(this);
        };
        let this = ManuallyDrop::new(this);
        // SAFETY: as in `map`.
        Ok(unsafe { RwLockReadGuard::new(this.core, data) })
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds a read slot (the contract of `new`), so no writer (which
        // needs every slot) exists until it is dropped; other holders only read.
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.core.release_read();
    }
}

/// Exclusive write access to an [`RwLock`]'s data (or the part of it a [`map`](Self::map)
/// chose); dropping it releases the lock.
#[must_use = "the write lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    core: &'a RwCore,
    data: NonNull<T>,
    _data: PhantomData<&'a mut T>,
}

// SAFETY: a write guard gives `&mut T` (moving `T`'s access to another thread: `T: Send`) and,
// shared, `&T` (`T: Sync`), as tokio's.
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockWriteGuard<'_, T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockWriteGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// # Safety
    ///
    /// The caller holds every read slot of `core`'s lock and hands them over; `data` points
    /// into that lock's data.
    #[inline]
    pub(super) unsafe fn new(core: &'a RwCore, data: NonNull<T>) -> Self {
        RwLockWriteGuard {
            core,
            data,
            _data: PhantomData,
        }
    }

    /// A guard of a part of the data, holding the same write access.
    ///
    /// # Examples
    ///
    /// ```
    /// use toro_sync::{RwLock, RwLockWriteGuard};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let lock = RwLock::new((1, String::new()));
    /// let mut name = RwLockWriteGuard::map(lock.write().await, |pair| &mut pair.1);
    /// name.push_str("one");
    /// drop(name);
    /// assert_eq!(lock.read().await.1, "one");
    /// # }
    /// ```
    #[inline]
    pub fn map<U: ?Sized>(
        mut this: Self,
        f: impl FnOnce(&mut T) -> &mut U,
    ) -> RwLockWriteGuard<'a, U> {
        let data = NonNull::from(f(&mut *this));
        let this = ManuallyDrop::new(this);
        // SAFETY: the slots pass from `this` (not dropped) to the new guard; `data` points
        // into the same lock's data, borrowed from `this`.
        unsafe { RwLockWriteGuard::new(this.core, data) }
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
    ) -> Result<RwLockWriteGuard<'a, U>, Self> {
        let Some(data) = f(&mut *this).map(NonNull::from) else {
            return Err(this);
        };
        let this = ManuallyDrop::new(this);
        // SAFETY: as in `map`.
        Ok(unsafe { RwLockWriteGuard::new(this.core, data) })
    }

    /// The guard's core and data pointer, without releasing anything: the caller takes over
    /// every slot.
    #[inline]
    pub(super) fn into_parts(this: Self) -> (&'a RwCore, NonNull<T>) {
        let this = ManuallyDrop::new(this);
        (this.core, this.data)
    }

    /// Turns write access into read access, atomically: the guard keeps one read slot and
    /// frees the others, so the reads queued behind it come in (up to the first queued write),
    /// and no write can get in between.
    ///
    /// # Examples
    ///
    /// ```
    /// use toro_sync::{RwLock, RwLockWriteGuard};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let lock = RwLock::new(0);
    /// let mut write = lock.write().await;
    /// *write = 1;
    /// let read = RwLockWriteGuard::downgrade(write);
    /// assert!(lock.try_write().is_none());
    /// assert_eq!(*lock.try_read().unwrap(), 1);
    /// assert_eq!(*read, 1);
    /// # }
    /// ```
    #[inline]
    pub fn downgrade(this: Self) -> RwLockReadGuard<'a, T> {
        let this = ManuallyDrop::new(this);
        this.core.downgrade();
        // SAFETY: `downgrade` freed every slot but one, which passes to the read guard.
        unsafe { RwLockReadGuard::new(this.core, this.data) }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds every read slot (the contract of `new`), so it is the only
        // accessor.
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds every read slot, and `&mut self` is unique.
        unsafe { self.data.as_mut() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.core.release_write();
    }
}

/// Shared read access to an [`RwLock`] held through an `Arc` (made by
/// [`read_owned`](RwLock::read_owned)); `'static`. `U` is the part of the data a
/// [`map`](Self::map) chose (the whole `T` otherwise).
#[must_use = "the read lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockReadGuard<T: ?Sized, U: ?Sized = T> {
    lock: Arc<RwLock<T>>,
    data: NonNull<U>,
    _data: PhantomData<U>,
}

// SAFETY: the guard keeps the lock alive (`Arc<RwLock<T>>`: Send and Sync for `T: Send + Sync`)
// and gives `&U` (`U: Sync`).
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Sync> Send for OwnedRwLockReadGuard<T, U> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Sync> Sync for OwnedRwLockReadGuard<T, U> {}

impl<T: ?Sized, U: ?Sized> OwnedRwLockReadGuard<T, U> {
    /// # Safety
    ///
    /// The caller holds one read slot of `lock` and hands it over; `data` points into
    /// `lock`'s data.
    #[inline]
    pub(super) unsafe fn new(lock: Arc<RwLock<T>>, data: NonNull<U>) -> Self {
        OwnedRwLockReadGuard {
            lock,
            data,
            _data: PhantomData,
        }
    }

    /// The lock this guard reads.
    #[inline]
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }

    /// A guard of a part of the data, holding the same read slot.
    #[inline]
    pub fn map<V: ?Sized>(this: Self, f: impl FnOnce(&U) -> &V) -> OwnedRwLockReadGuard<T, V> {
        let data = NonNull::from(f(&*this));
        let this = ManuallyDrop::new(this);
        // SAFETY: the `Arc` is moved out of a guard that is never dropped, so it is read once.
        let lock = unsafe { std::ptr::read(&this.lock) };
        // SAFETY: the slot passes from `this` to the new guard; `data` points into the lock's
        // data.
        unsafe { OwnedRwLockReadGuard::new(lock, data) }
    }

    /// As [`map`](Self::map), or the guard back if `f` returns `None`.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    #[inline]
    pub fn try_map<V: ?Sized>(
        this: Self,
        f: impl FnOnce(&U) -> Option<&V>,
    ) -> Result<OwnedRwLockReadGuard<T, V>, Self> {
        let Some(data) = f(&*this).map(NonNull::from) else {
            return Err(this);
        };
        let this = ManuallyDrop::new(this);
        // SAFETY: as in `map`.
        let lock = unsafe { std::ptr::read(&this.lock) };
        // SAFETY: as in `map`.
        Ok(unsafe { OwnedRwLockReadGuard::new(lock, data) })
    }
}

impl<T: ?Sized, U: ?Sized> Deref for OwnedRwLockReadGuard<T, U> {
    type Target = U;

    #[inline]
    fn deref(&self) -> &U {
        // SAFETY: the guard holds a read slot (the contract of `new`).
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized, U: ?Sized> Drop for OwnedRwLockReadGuard<T, U> {
    #[inline]
    fn drop(&mut self) {
        self.lock.core.release_read();
    }
}

/// Exclusive write access to an [`RwLock`] held through an `Arc` (made by
/// [`write_owned`](RwLock::write_owned)); `'static`. `U` is the part of the data a
/// [`map`](Self::map) chose (the whole `T` otherwise).
#[must_use = "the write lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockWriteGuard<T: ?Sized, U: ?Sized = T> {
    lock: Arc<RwLock<T>>,
    data: NonNull<U>,
    _data: PhantomData<U>,
}

// SAFETY: the guard keeps the lock alive (`T: Send + Sync`) and gives `&mut U` and `&U`
// (`U: Send + Sync`).
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Send for OwnedRwLockWriteGuard<T, U> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Sync for OwnedRwLockWriteGuard<T, U> {}

impl<T: ?Sized, U: ?Sized> OwnedRwLockWriteGuard<T, U> {
    /// # Safety
    ///
    /// The caller holds every read slot of `lock` and hands them over; `data` points into
    /// `lock`'s data.
    #[inline]
    pub(super) unsafe fn new(lock: Arc<RwLock<T>>, data: NonNull<U>) -> Self {
        OwnedRwLockWriteGuard {
            lock,
            data,
            _data: PhantomData,
        }
    }

    /// The lock this guard writes.
    #[inline]
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }

    /// A guard of a part of the data, holding the same write access.
    #[inline]
    pub fn map<V: ?Sized>(
        mut this: Self,
        f: impl FnOnce(&mut U) -> &mut V,
    ) -> OwnedRwLockWriteGuard<T, V> {
        let data = NonNull::from(f(&mut *this));
        let this = ManuallyDrop::new(this);
        // SAFETY: the `Arc` is moved out of a guard that is never dropped, so it is read once.
        let lock = unsafe { std::ptr::read(&this.lock) };
        // SAFETY: the slots pass from `this` to the new guard; `data` points into the data.
        unsafe { OwnedRwLockWriteGuard::new(lock, data) }
    }

    /// As [`map`](Self::map), or the guard back if `f` returns `None`.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    #[inline]
    pub fn try_map<V: ?Sized>(
        mut this: Self,
        f: impl FnOnce(&mut U) -> Option<&mut V>,
    ) -> Result<OwnedRwLockWriteGuard<T, V>, Self> {
        let Some(data) = f(&mut *this).map(NonNull::from) else {
            return Err(this);
        };
        let this = ManuallyDrop::new(this);
        // SAFETY: as in `map`.
        let lock = unsafe { std::ptr::read(&this.lock) };
        // SAFETY: as in `map`.
        Ok(unsafe { OwnedRwLockWriteGuard::new(lock, data) })
    }

    /// Turns write access into read access, atomically, as
    /// [`RwLockWriteGuard::downgrade`].
    #[inline]
    pub fn downgrade(this: Self) -> OwnedRwLockReadGuard<T, U> {
        let this = ManuallyDrop::new(this);
        this.lock.core.downgrade();
        // SAFETY: the `Arc` is moved out of a guard that is never dropped, so it is read once.
        let lock = unsafe { std::ptr::read(&this.lock) };
        // SAFETY: `downgrade` freed every slot but one, which passes to the read guard.
        unsafe { OwnedRwLockReadGuard::new(lock, this.data) }
    }
}

impl<T: ?Sized, U: ?Sized> Deref for OwnedRwLockWriteGuard<T, U> {
    type Target = U;

    #[inline]
    fn deref(&self) -> &U {
        // SAFETY: the guard holds every read slot (the contract of `new`).
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized, U: ?Sized> DerefMut for OwnedRwLockWriteGuard<T, U> {
    #[inline]
    fn deref_mut(&mut self) -> &mut U {
        // SAFETY: the guard holds every read slot, and `&mut self` is unique.
        unsafe { self.data.as_mut() }
    }
}

impl<T: ?Sized, U: ?Sized> Drop for OwnedRwLockWriteGuard<T, U> {
    #[inline]
    fn drop(&mut self) {
        self.lock.core.release_write();
    }
}

macro_rules! debug_display {
    ($($name:ident [$($gen:tt)*] [$($arg:tt)*] => $target:ident;)*) => {$(
        impl<$($gen)*> fmt::Debug for $name<$($arg)*>
        where
            $target: fmt::Debug,
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }

        impl<$($gen)*> fmt::Display for $name<$($arg)*>
        where
            $target: fmt::Display,
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&**self, f)
            }
        }
    )*};
}

debug_display! {
    RwLockReadGuard ['a, T: ?Sized] ['a, T] => T;
    RwLockWriteGuard ['a, T: ?Sized] ['a, T] => T;
    OwnedRwLockReadGuard [T: ?Sized, U: ?Sized] [T, U] => U;
    OwnedRwLockWriteGuard [T: ?Sized, U: ?Sized] [T, U] => U;
}
