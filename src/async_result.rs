//! [`AsyncResult<T>`]: a value set once, that tasks wait for.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use crate::error::{AlreadySet, NotReady, Timeout};
use crate::sync::{AtomicBool, Mutex, MutexGuard, Ordering, UnsafeCell};
use crate::wait::{Op, PinnedWaitable, Waiter, wait_future};
use crate::waiters::{WaitList, WakeList};

/// A value that is set once and can be waited for: toro's `AsyncResult`.
///
/// [`set`](Self::set) stores the value and releases every waiter; [`get`](Self::get) resolves
/// to a shared reference to it. A second `set` fails with [`AlreadySet`], handing its value
/// back. Only [`take`](Self::take), through `&mut self`, resets it.
///
/// It is also an async once-cell (tokio's and async-lock's `OnceCell`):
/// [`get_or_init`](Self::get_or_init) and [`get_or_try_init`](Self::get_or_try_init) run an
/// async initializer if no value is set, one caller at a time, the others waiting in line.
///
/// # Fairness
///
/// `set` releases every waiter at once; they are woken oldest first. Callers of
/// `get_or_init`/`get_or_try_init` that find an initializer running wait in FIFO order; if it
/// fails or is cancelled, the right to initialize is handed to the oldest of them.
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
    waiters: Mutex<Lists>,
}

/// The waiters of an [`AsyncResult`], under its lock.
pub(crate) struct Lists {
    /// `get` callers.
    gets: WaitList<(), ()>,
    /// `get_or_init`/`get_or_try_init` callers waiting for the value or for their turn to
    /// initialize.
    inits: WaitList<(), InitGrant>,
    /// Whether the token to initialize is taken: held by a running initializer, or handed to
    /// a queued caller that has not picked it up yet. While it is not taken, `inits` is empty
    /// (a released token goes straight to the oldest queued caller), so a newcomer never
    /// barges past a queued one.
    initializing: bool,
}

/// What a queued `get_or_init` caller is handed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InitGrant {
    /// The value is set.
    Value,
    /// Its turn to run its initializer.
    Token,
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
            waiters: Mutex::new(Lists {
                gets: WaitList::new(),
                inits: WaitList::new(),
                initializing: false,
            }),
        }
    }

    /// Sets the value and releases every waiter.
    ///
    /// While a [`get_or_init`](Self::get_or_init) initializer runs, `set` still succeeds: it
    /// releases every waiter, `get_or_init` callers included, with this value; the running
    /// initializer's result is dropped when it completes.
    ///
    /// # Errors
    ///
    /// [`AlreadySet`] with `value` if a value was set before.
    pub fn set(&self, value: T) -> Result<(), AlreadySet<T>> {
        let mut wakes = WakeList::new();
        let mut lists = self.waiters.lock();
        let stored = self.store(&mut lists, value, &mut wakes);
        drop(lists);
        wakes.wake();
        stored.map_err(AlreadySet)
    }

    /// Under the lock: stores `value` and releases every waiter, or hands `value` back if a
    /// value was set before.
    fn store(&self, lists: &mut Lists, value: T, wakes: &mut WakeList) -> Result<(), T> {
        if self.ready.load(Ordering::Relaxed) {
            return Err(value);
        }
        // SAFETY: `ready` is false and only changes under this lock, which we hold, so no
        // reader dereferences the cell and no other setter writes it.
        self.value.with_mut(|p| unsafe { *p = Some(value) });
        self.ready.store(true, Ordering::Release);
        lists.gets.grant_all(|| (), wakes);
        lists.inits.grant_all(|| InitGrant::Value, wakes);
        Ok(())
    }

    /// Under the lock: the token to initialize passes to the oldest queued caller, or is free.
    fn pass_token(lists: &mut Lists, wakes: &mut WakeList) {
        if lists.inits.grant_front(InitGrant::Token, wakes).is_none() {
            lists.initializing = false;
        }
    }

    /// Returns the value if set; otherwise runs the initializer `f` and stores its value. One
    /// initializer runs at a time: callers that find one running wait in FIFO order, like
    /// [`get`](Self::get) waiters, and get the value it stores. If the running initializer is
    /// cancelled (its call's future dropped, panicking included), the oldest waiting caller
    /// runs *its own* initializer; the others keep waiting. `f` is called only by the caller
    /// whose turn it is, so each initializer that runs is the one its caller passed.
    ///
    /// A [`set`](Self::set) while an initializer runs completes every waiting caller with the
    /// value set; the initializer runs on to completion and its value is then dropped, the
    /// call returning the value set.
    ///
    /// # Deadline
    ///
    /// `.deadline(d)` bounds the whole call, the initializer included, and the output becomes
    /// `Result<&T, Timeout>`. When it passes, a waiting call leaves the line (a turn handed to
    /// it meanwhile passes on), and a running initializer's future is dropped (its turn passes
    /// on, nothing is stored); the result is `Err(Timeout)`, or the value if one was set by
    /// then. A deadline already passed returns the value if set and `Err(Timeout)` otherwise,
    /// without running the initializer. An executor's timeout around the call, such as
    /// `tokio::time::timeout`, is fine too: it drops the call, which is cancel safe.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe. Dropped while waiting, it only loses its place in line, and a turn to
    /// initialize already handed to it passes to the next caller in line. Dropped while its
    /// initializer runs, the initializer's future is dropped first, then the turn passes on; no
    /// value is stored. Either way no waiter is stranded.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use toro_sync::{AsyncResult, Timeout};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// let config = AsyncResult::new();
    /// let (a, b) = tokio::join!(
    ///     config.get_or_init(|| async { "loaded once" }),
    ///     config.get_or_init(|| async { unreachable!("the first initializer succeeded") }),
    /// );
    /// assert_eq!((*a, *b), ("loaded once", "loaded once"));
    ///
    /// // Bounded by a deadline: the cancelled initializer leaves the result unset.
    /// let slow = AsyncResult::<u8>::new();
    /// let timed = slow.get_or_init(std::future::pending).deadline(Duration::from_secs(1));
    /// assert_eq!(timed.await, Err(Timeout));
    /// assert!(!slow.is_ready());
    /// // tokio's timeout around the call works the same.
    /// let timed = tokio::time::timeout(Duration::from_secs(1), slow.get_or_init(|| async { 1 }));
    /// assert_eq!(timed.await.ok(), Some(&1));
    /// # }
    /// ```
    #[inline]
    pub fn get_or_init<F, Fut>(&self, f: F) -> AsyncResultGetOrInit<'_, T, F, Fut>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        AsyncResultGetOrInit {
            init: None,
            core: InitCore::new(self, f),
        }
    }

    /// Returns the value if set; otherwise runs the fallible initializer `f` and stores its
    /// value if it succeeds. As [`get_or_init`](Self::get_or_init), and: if the initializer
    /// fails, its error is returned, nothing is stored, and the oldest waiting caller runs its
    /// own initializer; if a value was [`set`](Self::set) while it ran, its outcome (value or
    /// error) is dropped and the value set is returned.
    ///
    /// # Errors
    ///
    /// The error of this caller's own initializer, if it ran and failed.
    ///
    /// # Deadline
    ///
    /// As [`get_or_init`](Self::get_or_init) (its *Deadline* section); the output becomes
    /// `Result<Result<&T, E>, Timeout>`.
    ///
    /// # Cancel safety
    ///
    /// As [`get_or_init`](Self::get_or_init): cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use toro_sync::AsyncResult;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let conn = AsyncResult::new();
    /// let failed = conn.get_or_try_init(|| async { Err("refused") }).await;
    /// assert_eq!(failed, Err("refused"));
    /// assert!(!conn.is_ready()); // nothing stored: the next caller tries again
    /// let ok = conn.get_or_try_init(|| async { Ok::<_, &str>(7) }).await;
    /// assert_eq!(ok, Ok(&7));
    /// # }
    /// ```
    #[inline]
    pub fn get_or_try_init<F, Fut, E>(&self, f: F) -> AsyncResultGetOrTryInit<'_, T, F, Fut>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        AsyncResultGetOrTryInit {
            init: None,
            core: InitCore::new(self, f),
        }
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

    /// Takes the value out, if one was set, and resets the result to unset: a later
    /// [`set`](Self::set) or [`get_or_init`](Self::get_or_init) stores a new value. `&mut self`
    /// proves nobody waits. The waiter lists keep their capacity.
    ///
    /// # Examples
    ///
    /// ```
    /// use toro_sync::AsyncResult;
    ///
    /// let mut result = AsyncResult::new();
    /// result.set(1).unwrap();
    /// assert_eq!(result.take(), Some(1));
    /// assert!(!result.is_ready());
    /// assert_eq!(result.take(), None);
    /// result.set(2).unwrap();
    /// assert_eq!(result.try_get(), Ok(&2));
    /// ```
    #[inline]
    pub fn take(&mut self) -> Option<T> {
        let value = self.value.get_mut().take();
        self.ready = AtomicBool::new(false);
        value
    }

    /// Waiting futures registered and not yet released: `get` callers, and `get_or_init` /
    /// `get_or_try_init` callers waiting for the value or their turn (not the one whose turn it
    /// is, running its initializer or about to).
    pub fn waiters(&self) -> usize {
        let lists = self.waiters.lock();
        lists.gets.len() + lists.inits.len()
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
    type State = Lists;
    type Req = ();
    type Grant = ();
    type Output = &'a T;
    type Timed = Result<&'a T, Timeout>;
    type Data = ();

    fn lock(&self) -> MutexGuard<'_, Lists> {
        self.result.waiters.lock()
    }

    fn list(lists: &mut Lists) -> &mut WaitList<(), ()> {
        &mut lists.gets
    }

    fn try_now(&self, _: &mut (), _: &mut Lists, _: &mut WakeList) -> Option<&'a T> {
        self.result.try_get().ok()
    }

    fn register(&self, _: &mut (), _: &mut Lists) {}

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

/// A `get_or_init` caller's wait for the value or for its turn to initialize.
pub(crate) struct InitOp<'a, T> {
    result: &'a AsyncResult<T>,
}

impl<T> Op for InitOp<'_, T> {
    type State = Lists;
    type Req = ();
    type Grant = InitGrant;
    type Output = InitGrant;
    /// Never bounded by a deadline (the composite future has none).
    type Timed = Option<InitGrant>;
    type Data = ();

    fn lock(&self) -> MutexGuard<'_, Lists> {
        self.result.waiters.lock()
    }

    fn list(lists: &mut Lists) -> &mut WaitList<(), InitGrant> {
        &mut lists.inits
    }

    fn try_now(&self, _: &mut (), lists: &mut Lists, _: &mut WakeList) -> Option<InitGrant> {
        if self.result.ready.load(Ordering::Relaxed) {
            Some(InitGrant::Value)
        } else if !lists.initializing {
            // Nobody initializes, so nobody is queued either: the turn is this caller's.
            lists.initializing = true;
            Some(InitGrant::Token)
        } else {
            None
        }
    }

    fn register(&self, _: &mut (), _: &mut Lists) {}

    fn forward(
        &self,
        lists: &mut Lists,
        grant: InitGrant,
        wakes: &mut WakeList,
    ) -> Option<InitGrant> {
        // A turn handed to a caller that left passes on; the value needs no passing.
        if grant == InitGrant::Token {
            AsyncResult::<T>::pass_token(lists, wakes);
        }
        None
    }

    fn finish(&self, _: &mut (), grant: InitGrant) -> InitGrant {
        grant
    }

    fn ok(grant: InitGrant) -> Option<InitGrant> {
        Some(grant)
    }

    fn timed_out(&self, _: &mut (), _: Option<()>) -> Option<InitGrant> {
        None
    }
}

/// The part of a `get_or_init` call that does not need pinning: its wait, its initializer
/// (until its turn comes), and its turn while its initializer runs.
struct InitCore<'a, T, F> {
    result: &'a AsyncResult<T>,
    f: Option<F>,
    wait: Waiter<InitOp<'a, T>>,
    /// This call's initializer runs: its drop passes the turn on.
    holds_token: bool,
}

/// What a `get_or_init` call does next.
enum Turn<'a, T> {
    Value(&'a T),
    Initialize,
}

impl<'a, T, F> InitCore<'a, T, F> {
    fn new(result: &'a AsyncResult<T>, f: F) -> Self {
        InitCore {
            result,
            f: Some(f),
            wait: Waiter::new(InitOp { result }, ()),
            holds_token: false,
        }
    }

    /// Waits for the value or for this call's turn; with the turn, `f` is taken by the caller.
    fn poll_turn(&mut self, cx: &mut Context<'_>) -> Poll<Turn<'a, T>> {
        Poll::Ready(match ready!(self.wait.poll_wait(Some(cx))) {
            InitGrant::Value => Turn::Value(self.result.value_ref_after_grant()),
            InitGrant::Token => {
                self.holds_token = true;
                Turn::Initialize
            }
        })
    }

    /// The initializer succeeded: stores its value (or drops it, if a value was set meanwhile),
    /// ends the turn, and returns the stored value.
    fn complete(&mut self, value: T) -> &'a T {
        self.holds_token = false;
        let mut wakes = WakeList::new();
        let mut lists = self.result.waiters.lock();
        let unused = self.result.store(&mut lists, value, &mut wakes).err();
        // Stored or not, every queued caller was released with the value: the turn is free.
        AsyncResult::<T>::pass_token(&mut lists, &mut wakes);
        drop(lists);
        wakes.wake();
        drop(unused);
        self.result.value_ref_after_grant()
    }

    /// Ends the turn without a value: it passes to the oldest queued caller.
    fn release(&mut self) {
        if std::mem::take(&mut self.holds_token) {
            let mut wakes = WakeList::new();
            let mut lists = self.result.waiters.lock();
            AsyncResult::<T>::pass_token(&mut lists, &mut wakes);
            drop(lists);
            wakes.wake();
        }
    }
}

impl<T, F> Drop for InitCore<'_, T, F> {
    fn drop(&mut self) {
        self.release();
    }
}

/// Drives a `get_or_init` call: waits for the value or the turn, then runs the initializer.
/// With `cx == None` (a deadline's try-once, only before the first poll) it only looks for the
/// value: an initializer is never started without a waker to run it on.
fn poll_init<'a, T, F, Fut, E>(
    mut init: Pin<&mut Option<Fut>>,
    core: &mut InitCore<'a, T, F>,
    cx: Option<&mut Context<'_>>,
    into_result: impl FnOnce(Fut::Output) -> Result<T, E>,
) -> Poll<Result<&'a T, E>>
where
    F: FnOnce() -> Fut,
    Fut: Future,
{
    let Some(cx) = cx else {
        return match core.result.try_get() {
            Ok(value) => Poll::Ready(Ok(value)),
            Err(NotReady) => Poll::Pending,
        };
    };
    if init.is_none() {
        match ready!(core.poll_turn(cx)) {
            Turn::Value(value) => return Poll::Ready(Ok(value)),
            Turn::Initialize => {
                let f = core.f.take().expect("an initializer runs once");
                // If `f` panics, the core's drop passes the turn on.
                init.set(Some(f()));
            }
        }
    }
    let Some(running) = init.as_mut().as_pin_mut() else {
        unreachable!("the initializer was just started")
    };
    let output = ready!(running.poll(cx));
    init.set(None);
    Poll::Ready(match into_result(output) {
        Ok(value) => Ok(core.complete(value)),
        Err(error) => {
            core.release();
            match core.result.try_get() {
                // A value was set while the initializer ran: it is the result.
                Ok(value) => Ok(value),
                Err(NotReady) => Err(error),
            }
        }
    })
}

/// A `get_or_init` call's deadline passed: a running initializer is dropped and its turn
/// passes on; a waiting call leaves the line (a turn that reached it meanwhile passes on). The
/// value, if set by then, is the result.
fn expire_init<'a, T, F, Fut>(
    mut init: Pin<&mut Option<Fut>>,
    core: &mut InitCore<'a, T, F>,
) -> Result<&'a T, Timeout> {
    if init.is_some() {
        init.set(None);
        core.release();
    } else if core.wait.expire() == Some(InitGrant::Token) {
        core.holds_token = true;
        core.release();
    }
    core.result.try_get().map_err(|NotReady| Timeout)
}

/// The error of an initializer that cannot fail.
enum Never {}

/// Declares the future of `get_or_init` or `get_or_try_init`: pinned (it holds the user's
/// initializer future), with `Future`, `.deadline()`, `.block()` and `Debug`.
macro_rules! init_future {
    (
        $(#[$meta:meta])*
        $name:ident [$($err:ident)?] $fut_out:ty => $out:ty, error $err_ty:ty;
        |$output:ident| $into_result:expr, |$result:ident| $from_result:expr
    ) => {
        pin_project_lite::pin_project! {
            $(#[$meta])*
            ///
            /// Await it, bound it with [`deadline`](Self::deadline), or complete it on a plain
            /// thread with [`block`](Self::block) (see [Waiting](crate#waiting)).
            #[must_use = "futures do nothing unless you `.await` or poll them"]
            pub struct $name<'a, T, F, Fut> {
                // Declared first, so dropped first: a cancelled initializer is gone before its
                // turn passes on.
                #[pin]
                init: Option<Fut>,
                core: InitCore<'a, T, F>,
            }
        }

        impl<'a, T, F, Fut, $($err)?> Future for $name<'a, T, F, Fut>
        where
            F: FnOnce() -> Fut,
            Fut: Future<Output = $fut_out>,
        {
            type Output = $out;

            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<$out> {
                self.poll_wait_pinned(Some(cx))
            }
        }

        impl<T, F, Fut> crate::wait::sealed::Sealed for $name<'_, T, F, Fut> {}

        impl<'a, T, F, Fut, $($err)?> PinnedWaitable for $name<'a, T, F, Fut>
        where
            F: FnOnce() -> Fut,
            Fut: Future<Output = $fut_out>,
        {
            type Output = $out;
            type Timed = Result<$out, Timeout>;

            fn poll_wait_pinned(
                self: Pin<&mut Self>,
                cx: Option<&mut Context<'_>>,
            ) -> Poll<$out> {
                let this = self.project();
                let $result = ready!(poll_init(this.init, this.core, cx, |$output| $into_result));
                Poll::Ready($from_result)
            }

            fn expire_pinned(self: Pin<&mut Self>) -> Result<$out, Timeout> {
                let this = self.project();
                expire_init(this.init, this.core).map(|value| {
                    let $result: Result<&'a T, $err_ty> = Ok(value);
                    $from_result
                })
            }

            fn ok_pinned(output: $out) -> Result<$out, Timeout> {
                Ok(output)
            }
        }

        impl<'a, T, F, Fut, $($err)?> $name<'a, T, F, Fut>
        where
            F: FnOnce() -> Fut,
            Fut: Future<Output = $fut_out>,
        {
            /// Bounds the whole call by a deadline, a `Duration` from now or an `Instant`, the
            /// initializer included: see [`AsyncResult::get_or_init`] and
            /// [`WithDeadline`](crate::future::WithDeadline).
            ///
            /// # Panics
            ///
            /// As [`WithDeadline`](crate::future::WithDeadline#panics).
            #[doc(alias = "timeout")]
            #[inline]
            pub fn deadline(
                self,
                deadline: impl Into<crate::Deadline>,
            ) -> crate::future::WithDeadline<Self> {
                crate::future::WithDeadline::new(self, deadline.into())
            }

            /// Completes the call on the calling thread, parking it (an initializer this call
            /// runs is polled there too): see [Waiting](crate#waiting).
            ///
            /// # Panics
            ///
            /// When called on a thread that runs async tasks (see [Waiting](crate#waiting)).
            #[track_caller]
            pub fn block(self) -> $out {
                crate::block::block_on(self)
            }
        }

        impl<T, F, Fut> fmt::Debug for $name<'_, T, F, Fut> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("initializing", &self.init.is_some())
                    .finish_non_exhaustive()
            }
        }
    };
}

init_future! {
    /// The future of [`AsyncResult::get_or_init`].
    AsyncResultGetOrInit [] T => &'a T, error Never;
    |output| Ok::<T, Never>(output),
    |result| match result {
        Ok(value) => value,
        Err(never) => match never {},
    }
}

init_future! {
    /// The future of [`AsyncResult::get_or_try_init`].
    AsyncResultGetOrTryInit [E] Result<T, E> => Result<&'a T, E>, error E;
    |output| output,
    |result| result
}
