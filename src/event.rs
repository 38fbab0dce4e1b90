//! [`Event`]: a flag tasks can wait on.

use std::fmt;

use crate::error::Timeout;
use crate::sync::{AtomicUsize, Mutex, MutexGuard, Ordering};
use crate::wait::{Op, Waiter, wait_future};
use crate::waiters::{WaitList, WakeList};

/// A flag that tasks wait on until it is set: toro's `Event`.
///
/// [`set`](Self::set) releases every waiter and lets later waits complete at once until
/// [`clear`](Self::clear). `set(); clear();` still releases every waiter that was waiting
/// before the `set` — and every `wait()` future created before it, even if first polled after
/// the `clear`.
///
/// # Fairness
///
/// `set` releases all waiters at once; they are woken oldest first.
///
/// # Memory ordering
///
/// Everything a task did before `set` happens-before what a waiter released by that `set` (or
/// that sees the event set) does after its `wait` completes.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use toro_sync::Event;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let ready = Arc::new(Event::new());
/// let waiter = tokio::spawn({
///     let ready = ready.clone();
///     async move { ready.wait().await; "released" }
/// });
/// ready.set();
/// assert_eq!(waiter.await.unwrap(), "released");
/// assert!(ready.is_set());
/// # }
/// ```
pub struct Event {
    /// `sets * 2 | SET`: how many times the event went from clear to set, and whether it is
    /// set now. Changed only under the lock (but for `set` on a set event, which rewrites it
    /// unchanged); read without it by `is_set`, by a wait's first try and by a registered
    /// waiter checking whether a `set` released it.
    word: AtomicUsize,
    waiters: Mutex<WaitList<(), ()>>,
}

/// The flag bit of [`Event`]'s word; the count of sets is kept above it.
const SET: usize = 1;
/// One set, in the word.
const ONE_SET: usize = 2;

impl Event {
    /// A clear event.
    pub fn new() -> Self {
        Event {
            word: AtomicUsize::new(0),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    /// Sets the flag and releases every waiter.
    #[inline]
    #[doc(alias = "notify_waiters")]
    pub fn set(&self) {
        let w = self.word.load(Ordering::Relaxed);
        // Already set: nobody is registered (a `set` releases them all, and nobody registers
        // while the flag is up), so counting this set is all there is to do — it completes the
        // waits created before it that are not polled yet, even if a `clear` comes first.
        if w & SET != 0
            && self
                .word
                .compare_exchange(w, w + ONE_SET, Ordering::Release, Ordering::Relaxed)
                .is_ok()
        {
            return;
        }
        self.set_slow();
    }

    #[inline(never)]
    fn set_slow(&self) {
        let mut wakes = WakeList::new();
        let mut waiters = self.waiters.lock();
        // The word changes only under the lock, but `set`'s lock-free path rewrites it too, so
        // every change is a read-modify-write: one atomic history, which loom also checks
        // faithfully (its model lets a plain store slip inside another thread's
        // read-modify-write).
        if self.word.load(Ordering::Relaxed) & SET == 0 {
            // One more set; a registered waiter sees the count move (lock-free pick-up) and
            // its slot is freed here, with the grant.
            self.word.fetch_add(ONE_SET | SET, Ordering::Release);
            waiters.grant_all_freeing(&mut wakes);
        } else {
            self.word.fetch_add(ONE_SET, Ordering::Release);
        }
        drop(waiters);
        wakes.wake();
    }

    /// Clears the flag: later waits wait for the next [`set`](Self::set).
    #[inline]
    pub fn clear(&self) {
        if self.word.load(Ordering::Relaxed) & SET == 0 {
            return;
        }
        let _waiters = self.waiters.lock();
        self.word.fetch_and(!SET, Ordering::Release);
    }

    /// Whether the flag is set.
    #[inline]
    pub fn is_set(&self) -> bool {
        self.word.load(Ordering::Acquire) & SET != 0
    }

    /// Waits until the flag is set. Completes at once if it is set now, or if [`set`](Self::set)
    /// was called since this future was created.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it takes nothing; other waiters are unaffected.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use toro_sync::{Event, Timeout};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// let event = Event::new();
    /// assert_eq!(event.wait().deadline(Duration::from_secs(1)).await, Err(Timeout));
    /// let early = event.wait(); // created before the set
    /// event.set();
    /// event.clear();
    /// early.await; // still released by that set
    /// # }
    /// ```
    #[inline]
    pub fn wait(&self) -> EventWait<'_> {
        let seen = self.word.load(Ordering::Acquire);
        EventWait(Waiter::new(WaitOp { event: self, seen }, ()))
    }

    /// Waiting futures registered and not yet released.
    pub fn waiters(&self) -> usize {
        self.waiters.lock().len()
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .field("waiters", &self.waiters())
            .finish()
    }
}

pub(crate) struct WaitOp<'a> {
    event: &'a Event,
    /// The event's word when the wait was created.
    seen: usize,
}

impl WaitOp<'_> {
    /// Whether the wait may complete: the event is set now, or was set since the wait was
    /// created.
    #[inline]
    fn released(&self) -> bool {
        let now = self.event.word.load(Ordering::Acquire);
        now & SET != 0 || now / ONE_SET != self.seen / ONE_SET
    }
}

impl Op for WaitOp<'_> {
    type State = WaitList<(), ()>;
    type Req = ();
    type Grant = ();
    type Output = ();
    type Timed = Result<(), Timeout>;
    type Data = ();

    const WAIT_LIKELY: bool = true;

    #[inline]
    fn try_fast(&self, _: &mut ()) -> Option<()> {
        self.released().then_some(())
    }

    fn lock(&self) -> MutexGuard<'_, WaitList<(), ()>> {
        self.event.waiters.lock()
    }

    fn list(state: &mut WaitList<(), ()>) -> &mut WaitList<(), ()> {
        state
    }

    fn try_now(&self, _: &mut (), _: &mut WaitList<(), ()>, _: &mut WakeList) -> Option<()> {
        // Under the lock every `set` writes the word under: sees every earlier one.
        self.released().then_some(())
    }

    /// Registered only while the event was clear and unset since creation (checked under the
    /// lock), so a later count is exactly a `set` that released this waiter and freed its slot.
    #[inline]
    fn granted_lock_free(&self, _: &()) -> Option<()> {
        let now = self.event.word.load(Ordering::Acquire);
        (now / ONE_SET != self.seen / ONE_SET).then_some(())
    }

    fn register(&self, _: &mut (), _: &mut WaitList<(), ()>) {}

    fn finish(&self, _: &mut (), _: ()) {}

    fn ok(_: ()) -> Self::Timed {
        Ok(())
    }

    fn timed_out(&self, _: &mut (), _: Option<()>) -> Self::Timed {
        Err(Timeout)
    }
}

wait_future! {
    /// The future of [`Event::wait`].
    EventWait ['a] ['a] = Waiter<WaitOp<'a>> => (), Result<(), Timeout>;
}
