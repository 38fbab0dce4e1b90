//! [`Condition`]: wait until notified.

use std::fmt;
use std::task::{Context, Poll};

use crate::error::Timeout;
use crate::mutex::{Mutex, MutexGuard, MutexLock};
use crate::sync::{AtomicUsize, Mutex as StateLock, MutexGuard as StateGuard, Ordering};
use crate::wait::{Op, Waitable, Waiter, wait_future};
use crate::waiters::{WaitList, WakeList};

/// A condition variable for tasks: toro's `Condition`.
///
/// [`wait`](Self::wait) waits for a notification; [`notify`](Self::notify)`(n)` wakes up to
/// `n` waiters, [`notify_all`](Self::notify_all) all of them. Like toro's, it needs no lock;
/// [`wait_with`](Self::wait_with) pairs it with a [`Mutex`] the way `std::sync::Condvar` does.
///
/// * A wait registers on its first poll; `notify(n)` reaches only registered waiters.
///   `notify_all` also completes `wait()` futures created before the call and not yet polled.
/// * A Condition stores no notification: a `notify` with nobody waiting is lost.
/// * No spurious wake-ups: `wait` completes only on a notification.
/// * A waiter notified by `notify(n)` that is dropped, or whose deadline passes, before it
///   takes the notification passes it to the next waiter. A timed-out waiter never counts
///   against `n`.
///
/// # Fairness
///
/// FIFO: `notify(n)` wakes the `n` oldest waiters.
///
/// # Memory ordering
///
/// Everything a task did before `notify`/`notify_all` happens-before what the waiters it
/// released do after their `wait` completes.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use toro_sync::Condition;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let cond = Arc::new(Condition::new());
/// let waiter = tokio::spawn({
///     let cond = cond.clone();
///     async move { cond.wait().await }
/// });
/// while cond.waiters() == 0 {
///     tokio::task::yield_now().await;
/// }
/// assert_eq!(cond.notify_one(), true);
/// waiter.await.unwrap();
/// # }
/// ```
pub struct Condition {
    /// Counts `notify_all` calls; a wait created before one completes on first poll.
    broadcasts: AtomicUsize,
    waiters: StateLock<WaitList<(), Notified>>,
}

/// How a waiter was notified: a `notify(n)` grant passes on if dropped; a `notify_all` grant
/// does not (everyone registered then got one).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notified {
    One,
    All,
}

impl Condition {
    /// A condition with no waiters.
    pub fn new() -> Self {
        Condition {
            broadcasts: AtomicUsize::new(0),
            waiters: StateLock::new(WaitList::new()),
        }
    }

    /// Waits for a notification.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses only its place in line. A notification from
    /// `notify(n)` already handed to it passes to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use toro_sync::{Condition, Timeout};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// let cond = Condition::new();
    /// let waiting = cond.wait(); // created before notify_all: released by it
    /// cond.notify_all();
    /// waiting.await;
    /// // Nothing is stored for later waiters:
    /// assert_eq!(cond.wait().deadline(Duration::from_secs(1)).await, Err(Timeout));
    /// # }
    /// ```
    #[inline]
    pub fn wait(&self) -> ConditionWait<'_> {
        let broadcasts = self.broadcasts.load(Ordering::Relaxed);
        ConditionWait(Waiter::new(
            WaitOp {
                cond: self,
                broadcasts,
            },
            None,
        ))
    }

    /// Atomically releases `guard`'s mutex and waits for a notification, then locks the mutex
    /// again (through its FIFO) and returns the new guard: `std::sync::Condvar::wait` for
    /// tasks. The wait registers before the mutex is released, so a notification sent by a
    /// task that takes the mutex next is not missed.
    ///
    /// With a deadline the whole operation is bounded, re-locking included; on timeout the
    /// lock is not held and the result is `Err(Timeout)`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropped before the notification, it gives up its place (and the guard, if
    /// not yet released); dropped after, the notification passes to the next waiter, or the
    /// lock, if already handed to it, to the next locker.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use toro_sync::{Condition, Mutex};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let pair = Arc::new((Mutex::new(false), Condition::new()));
    /// let setter = pair.clone();
    /// tokio::spawn(async move {
    ///     let (flag, cond) = &*setter;
    ///     *flag.lock().await = true;
    ///     cond.notify_all();
    /// });
    /// let (flag, cond) = &*pair;
    /// let mut ready = flag.lock().await;
    /// while !*ready {
    ///     ready = cond.wait_with(ready).await;
    /// }
    /// # }
    /// ```
    #[inline]
    pub fn wait_with<'a, T: ?Sized>(
        &'a self,
        guard: MutexGuard<'a, T>,
    ) -> ConditionWaitWith<'a, T> {
        ConditionWaitWith(WaitWith {
            cond: self,
            mutex: MutexGuard::mutex(&guard),
            phase: Phase::Notify {
                notified: self.wait(),
                guard: Some(guard),
            },
        })
    }

    /// Wakes up to `n` registered waiters, oldest first; returns how many.
    pub fn notify(&self, n: usize) -> usize {
        let mut wakes = WakeList::new();
        let mut waiters = self.waiters.lock();
        let mut woken = 0;
        while woken < n && waiters.grant_front(Notified::One, &mut wakes).is_some() {
            woken += 1;
        }
        drop(waiters);
        wakes.wake();
        woken
    }

    /// Wakes the oldest registered waiter; returns whether there was one.
    #[inline]
    pub fn notify_one(&self) -> bool {
        self.notify(1) == 1
    }

    /// Wakes every registered waiter, and every `wait()` future created before this call and
    /// not yet polled; returns how many registered waiters it woke.
    #[inline]
    #[doc(alias = "notify_waiters")]
    #[doc(alias = "broadcast")]
    pub fn notify_all(&self) -> usize {
        let mut wakes = WakeList::new();
        let mut waiters = self.waiters.lock();
        self.broadcasts.fetch_add(1, Ordering::Relaxed);
        let woken = waiters.grant_all(|| Notified::All, &mut wakes);
        drop(waiters);
        wakes.wake();
        woken
    }

    /// Waiting futures registered and not yet notified.
    pub fn waiters(&self) -> usize {
        self.waiters.lock().len()
    }
}

impl Default for Condition {
    fn default() -> Self {
        Condition::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("waiters", &self.waiters())
            .finish()
    }
}

pub(crate) struct WaitOp<'a> {
    cond: &'a Condition,
    broadcasts: usize,
}

impl Op for WaitOp<'_> {
    type State = WaitList<(), Notified>;
    type Req = ();
    type Grant = Notified;
    type Output = ();
    type Timed = Result<(), Timeout>;
    /// How the wait was notified, once it was (read by `wait_with`).
    type Data = Option<Notified>;

    fn lock(&self) -> StateGuard<'_, Self::State> {
        self.cond.waiters.lock()
    }

    fn list(state: &mut Self::State) -> &mut Self::State {
        state
    }

    fn try_now(&self, _: &mut Self::Data, _: &mut Self::State, _: &mut WakeList) -> Option<()> {
        // Read under the lock that `notify_all` increments it under.
        (self.cond.broadcasts.load(Ordering::Relaxed) != self.broadcasts).then_some(())
    }

    fn register(&self, _: &mut Self::Data, _: &mut Self::State) {}

    fn forward(
        &self,
        state: &mut Self::State,
        grant: Notified,
        wakes: &mut WakeList,
    ) -> Option<Notified> {
        if let Notified::One = grant {
            state.grant_front(Notified::One, wakes);
        }
        None
    }

    fn finish(&self, kind: &mut Self::Data, grant: Notified) {
        *kind = Some(grant);
    }

    fn ok(_: ()) -> Self::Timed {
        Ok(())
    }

    fn timed_out(&self, _: &mut Self::Data, _: Option<()>) -> Self::Timed {
        Err(Timeout)
    }
}

wait_future! {
    /// The future of [`Condition::wait`].
    ConditionWait ['a] ['a] = Waiter<WaitOp<'a>> => (), Result<(), Timeout>;
}

/// [`Condition::wait_with`]: wait for a notification, then re-lock.
pub(crate) struct WaitWith<'a, T: ?Sized> {
    cond: &'a Condition,
    mutex: &'a Mutex<T>,
    phase: Phase<'a, T>,
}

enum Phase<'a, T: ?Sized> {
    /// Waiting for the notification; the guard is held until the wait is registered.
    Notify {
        notified: ConditionWait<'a>,
        guard: Option<MutexGuard<'a, T>>,
    },
    /// Notified: waiting for the mutex. `forward`: the notification came from `notify(n)`, so
    /// leaving now without the lock passes it to the next waiter.
    Relock {
        lock: MutexLock<'a, T>,
        forward: bool,
    },
    /// Completed, or expired.
    Done,
}

impl<T: ?Sized> WaitWith<'_, T> {
    /// Gives up in the re-lock phase: a `notify(n)` notification passes on (the lock, if it was
    /// already handed over, passes on as the lock future is dropped).
    fn abandon(&mut self) {
        if let Phase::Relock { forward, .. } = std::mem::replace(&mut self.phase, Phase::Done) {
            if forward {
                self.cond.notify(1);
            }
        }
    }
}

impl<T: ?Sized> Drop for WaitWith<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.abandon();
    }
}

impl<'a, T: ?Sized> crate::wait::sealed::Sealed for WaitWith<'a, T> {}

impl<'a, T: ?Sized> Waitable for WaitWith<'a, T> {
    type Output = MutexGuard<'a, T>;
    type Timed = Result<MutexGuard<'a, T>, Timeout>;

    fn poll_wait(&mut self, mut cx: Option<&mut Context<'_>>) -> Poll<Self::Output> {
        if let Phase::Notify { notified, guard } = &mut self.phase {
            match notified.poll_wait(cx.as_deref_mut()) {
                Poll::Pending => {
                    // Registered: only now release the mutex. (Trying once, it did not
                    // register, and the guard stays until `expire` drops it.)
                    if cx.is_some() {
                        *guard = None;
                    }
                    return Poll::Pending;
                }
                Poll::Ready(()) => match guard.take() {
                    // Notified before the mutex was even released (a `notify_all` since this
                    // future was made): the guard is still held.
                    Some(guard) => {
                        self.phase = Phase::Done;
                        return Poll::Ready(guard);
                    }
                    None => {
                        let forward = *notified.0.data() == Some(Notified::One);
                        let lock = self.mutex.lock();
                        self.phase = Phase::Relock { lock, forward };
                    }
                },
            }
        }
        let Phase::Relock { lock, .. } = &mut self.phase else {
            panic!("a toro-sync wait future was polled after it completed");
        };
        let guard = std::task::ready!(lock.poll_wait(cx));
        self.phase = Phase::Done;
        Poll::Ready(guard)
    }

    fn expire(&mut self) -> Self::Timed {
        match &mut self.phase {
            Phase::Relock { lock, .. } => match lock.expire() {
                Ok(guard) => {
                    self.phase = Phase::Done;
                    Ok(guard)
                }
                Err(Timeout) => {
                    self.abandon();
                    Err(Timeout)
                }
            },
            Phase::Done => panic!("a toro-sync wait future expired after it completed"),
            Phase::Notify { notified, guard } => {
                *guard = None;
                // A notification that won the race is passed on: the deadline bounds the
                // whole operation and the lock cannot be had in time.
                notified.0.cancel();
                Err(Timeout)
            }
        }
    }

    fn ok(guard: Self::Output) -> Self::Timed {
        Ok(guard)
    }
}

wait_future! {
    /// The future of [`Condition::wait_with`].
    ConditionWaitWith ['a, T: ?Sized] ['a, T] = WaitWith<'a, T>
        => MutexGuard<'a, T>, Result<MutexGuard<'a, T>, Timeout>;
}
