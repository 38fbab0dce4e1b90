//! [`Condition`]: wait until notified.

use std::collections::VecDeque;
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
    /// The ticket after the last one granted: every queued wait with a lower ticket was
    /// notified (waits are notified in ticket order). Written under the lock (Release), read
    /// by a waiter without it (Acquire).
    granted: AtomicUsize,
    /// Waits notified by `notify(n)` that have not taken their notification yet (a copy of
    /// `Waiters::ones_left`, for a waiter that reads it without the lock).
    ones_left: AtomicUsize,
    waiters: StateLock<Waiters>,
}

/// How a waiter was notified: a `notify(n)` grant passes on if dropped; a `notify_all` grant
/// does not (everyone registered then got one).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Notified {
    One,
    All,
}

/// A Condition's state under its lock.
///
/// A notified wait's slot is freed as it is notified, and the wait learns of it without the
/// lock from `granted`. What it must also learn is how it was notified (a `notify(n)`
/// notification passes on if it is dropped; a `notify_all` one does not): the tickets
/// `notify(n)` granted are kept as runs, and while no run is left a granted wait knows it was
/// `notify_all` without the lock.
pub(crate) struct Waiters {
    list: WaitList<usize, Notified>,
    next_ticket: usize,
    /// Runs of tickets granted by `notify(n)` and not all taken yet, oldest first.
    ones: VecDeque<Run>,
    /// Notifications in `ones` not taken yet.
    ones_left: usize,
    /// Whether the newest run may grow: no `notify_all` since it began. (Tickets between two
    /// grants of one run that were not granted were withdrawn: nobody asks about them.)
    run_open: bool,
}

/// Tickets `start..end` (wrapping), of which `left` were granted by `notify(n)` and not taken.
#[derive(Clone, Copy)]
struct Run {
    start: usize,
    end: usize,
    left: usize,
}

/// Whether `ticket` lies before `bound`, tickets compared by wrapping difference (live tickets
/// are never half the number space apart).
#[inline]
fn before(ticket: usize, bound: usize) -> bool {
    (bound.wrapping_sub(ticket) as isize) > 0
}

impl Waiters {
    /// Notifies the oldest queued wait as `notify(n)` does, freeing its slot; returns its
    /// ticket.
    fn notify_one(&mut self, wakes: &mut WakeList) -> Option<usize> {
        let ticket = self.list.grant_front_freeing(wakes)?;
        match self.ones.back_mut() {
            Some(run) if self.run_open => run.end = ticket.wrapping_add(1),
            _ => self.ones.push_back(Run {
                start: ticket,
                end: ticket.wrapping_add(1),
                left: 0,
            }),
        }
        self.ones.back_mut().expect("just pushed").left += 1;
        self.ones_left += 1;
        self.run_open = true;
        Some(ticket)
    }

    /// How the granted wait `ticket` was notified; a `notify(n)` notification is taken off
    /// its run.
    fn take(&mut self, ticket: usize) -> Notified {
        let Some(front) = self.ones.front() else {
            return Notified::All;
        };
        // Runs are in ticket order: find the first that ends after `ticket`.
        let base = front.start;
        let key = ticket.wrapping_sub(base);
        let i = self
            .ones
            .partition_point(|run| run.end.wrapping_sub(base) <= key);
        match self.ones.get_mut(i) {
            Some(run) if !before(ticket, run.start) => {
                run.left -= 1;
                self.ones_left -= 1;
                if run.left == 0 && !(self.run_open && i + 1 == self.ones.len()) {
                    self.ones.remove(i);
                }
                if self.ones_left == 0 {
                    self.ones.clear();
                    self.run_open = false;
                    self.ones.shrink_to(4);
                }
                Notified::One
            }
            _ => Notified::All,
        }
    }
}

impl Condition {
    /// A condition with no waiters.
    pub fn new() -> Self {
        Condition {
            broadcasts: AtomicUsize::new(0),
            granted: AtomicUsize::new(0),
            ones_left: AtomicUsize::new(0),
            waiters: StateLock::new(Waiters {
                list: WaitList::new(),
                next_ticket: 0,
                ones: VecDeque::new(),
                ones_left: 0,
                run_open: false,
            }),
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
        ConditionWait(Waiter::new(WaitOp { cond: self }, WaitData(broadcasts)))
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
        let woken = self.notify_locked(&mut waiters, n, &mut wakes);
        drop(waiters);
        wakes.wake();
        woken
    }

    /// `notify(n)` under the lock.
    fn notify_locked(&self, waiters: &mut Waiters, n: usize, wakes: &mut WakeList) -> usize {
        let mut woken = 0;
        let mut last = None;
        while woken < n {
            let Some(ticket) = waiters.notify_one(wakes) else {
                break;
            };
            last = Some(ticket);
            woken += 1;
        }
        if let Some(ticket) = last {
            // The count first: a waiter that sees its grant sees itself counted.
            self.ones_left.store(waiters.ones_left, Ordering::Relaxed);
            self.granted
                .store(ticket.wrapping_add(1), Ordering::Release);
        }
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
        let woken = waiters.list.grant_all_freeing(&mut wakes);
        waiters.run_open = false;
        if woken > 0 {
            self.granted.store(waiters.next_ticket, Ordering::Release);
        }
        drop(waiters);
        wakes.wake();
        woken
    }

    /// Waiting futures registered and not yet notified.
    pub fn waiters(&self) -> usize {
        self.waiters.lock().list.len()
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
}

impl WaitOp<'_> {
    /// Whether the registered wait numbered `ticket` was notified.
    #[inline]
    fn granted(&self, ticket: usize) -> bool {
        before(ticket, self.cond.granted.load(Ordering::Acquire))
    }
}

/// A wait's own record, one word: the count of `notify_all` calls when it was created, until
/// it queues; its ticket while it is queued; once it completed, whether a `notify(n)`
/// notification completed it (read by `wait_with`, only then).
pub(crate) struct WaitData(usize);

/// In a completed wait's record: a `notify(n)` notification completed it.
const BY_ONE: usize = usize::MAX;
/// In a completed wait's record: anything else (a `notify_all`, before or after it queued).
const BY_ALL: usize = usize::MAX - 1;

impl WaitData {
    /// Whether the completed wait was completed by a `notify(n)` notification.
    pub(crate) fn by_one(&self) -> bool {
        self.0 == BY_ONE
    }
}

impl Op for WaitOp<'_> {
    type State = Waiters;
    type Req = usize;
    type Grant = Notified;
    type Output = ();
    type Timed = Result<(), Timeout>;
    type Data = WaitData;

    /// A wait completes at once only after a `notify_all` since it was created.
    const WAIT_LIKELY: bool = true;

    fn lock(&self) -> StateGuard<'_, Waiters> {
        self.cond.waiters.lock()
    }

    fn list(state: &mut Waiters) -> &mut WaitList<usize, Notified> {
        &mut state.list
    }

    fn try_now(&self, data: &mut WaitData, _: &mut Waiters, _: &mut WakeList) -> Option<()> {
        // Read under the lock that `notify_all` increments it under.
        if self.cond.broadcasts.load(Ordering::Relaxed) == data.0 {
            return None;
        }
        data.0 = BY_ALL;
        Some(())
    }

    fn register(&self, data: &mut WaitData, state: &mut Waiters) -> usize {
        data.0 = state.next_ticket;
        state.next_ticket = state.next_ticket.wrapping_add(1);
        data.0
    }

    /// Notified, and no `notify(n)` notification is waiting to be taken: so this one came
    /// from `notify_all`. Otherwise the lock tells.
    #[inline]
    fn granted_lock_free(&self, data: &WaitData) -> Option<Notified> {
        (self.granted(data.0) && self.cond.ones_left.load(Ordering::Relaxed) == 0)
            .then_some(Notified::All)
    }

    fn granted_locked(&self, data: &WaitData, state: &mut Waiters) -> Option<Notified> {
        if !self.granted(data.0) {
            return None;
        }
        let notified = state.take(data.0);
        if notified == Notified::One {
            self.cond
                .ones_left
                .store(state.ones_left, Ordering::Relaxed);
        }
        Some(notified)
    }

    fn forward(
        &self,
        state: &mut Waiters,
        grant: Notified,
        wakes: &mut WakeList,
    ) -> Option<Notified> {
        if let Notified::One = grant {
            self.cond.notify_locked(state, 1, wakes);
        }
        None
    }

    fn finish(&self, data: &mut WaitData, grant: Notified) {
        data.0 = match grant {
            Notified::One => BY_ONE,
            Notified::All => BY_ALL,
        };
    }

    fn ok(_: ()) -> Self::Timed {
        Ok(())
    }

    fn timed_out(&self, _: &mut WaitData, _: Option<usize>) -> Self::Timed {
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
                        let forward = notified.0.data().by_one();
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
