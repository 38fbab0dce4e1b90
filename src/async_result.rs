//! [`AsyncResult<T>`]: a value set once, that tasks wait for.

use std::fmt;

use crate::error::{AlreadySet, NotReady, Timeout};
use crate::sync::{AtomicBool, Mutex, MutexGuard, Ordering, UnsafeCell};
use crate::wait::{Op, Waiter, wait_future};
use crate::waiters::{WaitList, WakeList};

/// A value that is set once and can be waited for: toro's `AsyncResult`.
///
/// [`set`](Self::set) stores the value and releases every waiter; [`get`](Self::get) resolves
/// to a shared reference to it. A second `set` fails with [`AlreadySet`], handing its value
/// back. There is no reset.
///
/// # Fairness
///
/// `set` releases every waiter at once; they are woken oldest first.
///
/// # Memory ordering
///
/// Everything the setter did before `set` happens-before what a task does after its `get`
/// (or a successful `try_get`) returns the value.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use toro_sync::AsyncResult;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let result = Arc::new(AsyncResult::new());
/// let reader = tokio::spawn({
///     let result = result.clone();
///     async move { *result.get().await * 2 }
/// });
/// result.set(21).unwrap();
/// assert_eq!(reader.await.unwrap(), 42);
/// assert_eq!(result.set(0).unwrap_err().0, 0); // set once
/// # }
/// ```
pub struct AsyncResult<T> {
    /// Set (with `Release`) after the value is written; never cleared.
    ready: AtomicBool,
    /// Written once, under the waiter lock, while `ready` is false; read only after `ready`
    /// is seen true.
    value: UnsafeCell<Option<T>>,
    waiters: Mutex<WaitList<(), ()>>,
}

// SAFETY: tasks on several threads read `&T` at once (needs `T: Sync`), and the value is moved
// in by the setter's thread and out by `into_inner`/drop on another (needs `T: Send`).
unsafe impl<T: Send + Sync> Sync for AsyncResult<T> {}

impl<T> AsyncResult<T> {
    /// An unset result.
    pub fn new() -> Self {
        AsyncResult {
            ready: AtomicBool::new(false),
            value: UnsafeCell::new(None),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    /// Sets the value and releases every waiter.
    ///
    /// # Errors
    ///
    /// [`AlreadySet`] with `value` if a value was set before.
    pub fn set(&self, value: T) -> Result<(), AlreadySet<T>> {
        let mut wakes = WakeList::new();
        let mut waiters = self.waiters.lock();
        if self.ready.load(Ordering::Relaxed) {
            drop(waiters);
            return Err(AlreadySet(value));
        }
        // SAFETY: `ready` is false and only changes under this lock, which we hold, so no
        // reader dereferences the cell and no other setter writes it.
        self.value.with_mut(|p| unsafe { *p = Some(value) });
        self.ready.store(true, Ordering::Release);
        waiters.grant_all(|| (), &mut wakes);
        drop(waiters);
        wakes.wake();
        Ok(())
    }

    /// Waits for the value.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it takes nothing, and a `get` that timed out does not disturb a later
    /// `set`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use toro_sync::{AsyncResult, Timeout};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// let result = AsyncResult::new();
    /// assert_eq!(result.get().deadline(Duration::from_secs(1)).await.err(), Some(Timeout));
    /// result.set("done").unwrap();
    /// assert_eq!(*result.get().await, "done");
    /// # }
    /// ```
    #[inline]
    pub fn get(&self) -> AsyncResultGet<'_, T> {
        AsyncResultGet(Waiter::new(GetOp { result: self }, ()))
    }

    /// The value, if set.
    ///
    /// # Errors
    ///
    /// [`NotReady`] if no value has been set yet.
    #[inline]
    pub fn try_get(&self) -> Result<&T, NotReady> {
        if self.ready.load(Ordering::Acquire) {
            Ok(self.value_ref())
        } else {
            Err(NotReady)
        }
    }

    /// Whether a value has been set.
    #[inline]
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Consumes the result, returning the value if one was set.
    #[inline]
    pub fn into_inner(self) -> Option<T> {
        self.value.into_inner()
    }

    /// Waiting `get` futures registered and not yet released.
    pub fn waiters(&self) -> usize {
        self.waiters.lock().len()
    }

    /// The value; only after `ready` was seen true (with `Acquire`).
    fn value_ref(&self) -> &T {
        // SAFETY: `ready` was observed true with `Acquire`, which synchronizes with the
        // `Release` store made after the only write; the cell is never written again while
        // `&self` lives.
        let value = self.value.with(|p| unsafe { (*p).as_ref() });
        value.expect("a ready AsyncResult holds a value")
    }
}

impl<T> Default for AsyncResult<T> {
    fn default() -> Self {
        AsyncResult::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for AsyncResult<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("AsyncResult");
        match self.try_get() {
            Ok(value) => s.field("value", value),
            Err(NotReady) => s.field("value", &format_args!("<unset>")),
        };
        s.field("waiters", &self.waiters()).finish()
    }
}

pub(crate) struct GetOp<'a, T> {
    result: &'a AsyncResult<T>,
}

impl<'a, T> Op for GetOp<'a, T> {
    type State = WaitList<(), ()>;
    type Req = ();
    type Grant = ();
    type Output = &'a T;
    type Timed = Result<&'a T, Timeout>;
    type Data = ();

    fn lock(&self) -> MutexGuard<'_, Self::State> {
        self.result.waiters.lock()
    }

    fn list(state: &mut Self::State) -> &mut Self::State {
        state
    }

    fn try_now(&self, _: &mut (), _: &mut Self::State, _: &mut WakeList) -> Option<&'a T> {
        self.result.try_get().ok()
    }

    fn register(&self, _: &mut (), _: &mut Self::State) {}

    fn finish(&self, _: &mut (), _: ()) -> &'a T {
        self.result.value_ref_after_grant()
    }

    fn ok(value: &'a T) -> Self::Timed {
        Ok(value)
    }

    fn timed_out(&self, _: &mut (), _: Option<()>) -> Self::Timed {
        Err(Timeout)
    }
}

impl<T> AsyncResult<T> {
    /// The value for a granted waiter: the grant was made under the lock after `ready` was
    /// stored, and taken under the same lock, so the `Acquire` load sees it.
    fn value_ref_after_grant(&self) -> &T {
        self.try_get()
            .expect("granted only after the value was set")
    }
}

wait_future! {
    /// The future of [`AsyncResult::get`].
    AsyncResultGet ['a, T] ['a, T] = Waiter<GetOp<'a, T>> => &'a T, Result<&'a T, Timeout>;
}
