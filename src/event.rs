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
    /// Counts `set` calls; a wait created before one completes even if cleared since.
    sets: AtomicUsize,
    state: Mutex<EventState>,
}

pub(crate) struct EventState {
    set: bool,
    waiters: WaitList<(), ()>,
}

impl Event {
    /// A clear event.
    pub fn new() -> Self {
        Event {
            sets: AtomicUsize::new(0),
            state: Mutex::new(EventState {
                set: false,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Sets the flag and releases every waiter.
    #[inline]
    #[doc(alias = "notify_waiters")]
    pub fn set(&self) {
        let mut wakes = WakeList::new();
        let mut state = self.state.lock();
        state.set = true;
        self.sets.fetch_add(1, Ordering::Relaxed);
        state.waiters.grant_all(|| (), &mut wakes);
        drop(state);
        wakes.wake();
    }

    /// Clears the flag: later waits wait for the next [`set`](Self::set).
    #[inline]
    pub fn clear(&self) {
        self.state.lock().set = false;
    }

    /// Whether the flag is set.
    #[inline]
    pub fn is_set(&self) -> bool {
        self.state.lock().set
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
        let sets = self.sets.load(Ordering::Relaxed);
        EventWait(Waiter::new(WaitOp { event: self, sets }, ()))
    }

    /// Waiting futures registered and not yet released.
    pub fn waiters(&self) -> usize {
        self.state.lock().waiters.len()
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Event")
            .field("set", &state.set)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

pub(crate) struct WaitOp<'a> {
    event: &'a Event,
    sets: usize,
}

impl Op for WaitOp<'_> {
    type State = EventState;
    type Req = ();
    type Grant = ();
    type Output = ();
    type Timed = Result<(), Timeout>;
    type Data = ();

    fn lock(&self) -> MutexGuard<'_, EventState> {
        self.event.state.lock()
    }

    fn list(state: &mut EventState) -> &mut WaitList<(), ()> {
        &mut state.waiters
    }

    fn try_now(&self, _: &mut (), state: &mut EventState, _: &mut WakeList) -> Option<()> {
        // Read under the lock that `set` increments it under: sees every earlier `set`.
        let set_since = self.event.sets.load(Ordering::Relaxed) != self.sets;
        (state.set || set_since).then_some(())
    }

    fn register(&self, _: &mut (), _: &mut EventState) {}

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
