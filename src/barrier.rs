//! [`Barrier`]: tasks wait until `n` of them have arrived, generation after generation.

use std::fmt;

use crate::error::Timeout;
use crate::sync::{AtomicUsize, Mutex, MutexGuard, Ordering};
use crate::wait::{Op, Waiter, wait_future};
use crate::waiters::{WaitList, WakeList};

/// A barrier for `n` tasks (asyncio's `Barrier`, tokio's `Barrier`).
///
/// Each [`wait`](Self::wait) counts an arrival; the `n`-th arrival trips the barrier, which
/// releases the `n - 1` waiting tasks, and starts the next generation. Exactly one waiter per
/// trip — the arrival that tripped it — gets [`is_leader()`](BarrierWaitResult::is_leader).
/// `Barrier::new(0)` behaves as `Barrier::new(1)`: every `wait` trips it at once.
///
/// Unlike tokio's, waiting is cancel safe: a waiter dropped (or timed out) before the barrier
/// trips is withdrawn and its arrival no longer counts; once the barrier has tripped, dropping
/// a released waiter changes nothing.
///
/// # Fairness
///
/// A trip releases every waiter of the generation at once; they are woken in arrival order.
/// A released waiter completes without taking the barrier's lock again: it sees that the
/// generation it waited in has ended.
///
/// # Memory ordering
///
/// Everything each task did before its `wait` happens-before what every task of the same
/// generation does after its `wait` completes.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use toro_sync::Barrier;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let barrier = Arc::new(Barrier::new(3));
/// let tasks: Vec<_> = (0..3)
///     .map(|_| {
///         let barrier = barrier.clone();
///         tokio::spawn(async move { barrier.wait().await.is_leader() })
///     })
///     .collect();
/// let mut leaders = 0;
/// for task in tasks {
///     leaders += task.await.unwrap() as usize;
/// }
/// assert_eq!(leaders, 1);
/// # }
/// ```
pub struct Barrier {
    n: usize,
    /// Trips so far (wrapping): the current generation. Changed only under the lock, by the
    /// arrival that trips the barrier (with Release); read without it (with Acquire) by a
    /// registered waiter checking whether its generation has ended (a released waiter left
    /// unpolled for a full wrap of trips would miss it, as with `Event`'s count of sets).
    generation: AtomicUsize,
    state: Mutex<BarrierState>,
}

pub(crate) struct BarrierState {
    /// Arrivals waiting in this generation.
    arrived: usize,
    waiters: WaitList<(), ()>,
}

impl Barrier {
    /// A barrier that trips when `n` tasks have called [`wait`](Self::wait); `n == 0` acts as 1.
    pub fn new(n: usize) -> Self {
        Barrier {
            n: n.max(1),
            generation: AtomicUsize::new(0),
            state: Mutex::new(BarrierState {
                arrived: 0,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Arrives at the barrier and waits until it trips.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropped (or timed out) before the trip, the arrival is withdrawn, as if
    /// it had never come; after the trip, dropping changes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use toro_sync::{Barrier, Timeout};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// let barrier = Barrier::new(2);
    /// // Alone, it times out and its arrival is withdrawn:
    /// assert_eq!(barrier.wait().deadline(Duration::from_secs(1)).await.err(), Some(Timeout));
    /// assert_eq!(barrier.arrived(), 0);
    /// let (a, b) = tokio::join!(barrier.wait(), barrier.wait());
    /// assert!(a.is_leader() != b.is_leader());
    /// # }
    /// ```
    #[inline]
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait(Waiter::new(WaitOp { barrier: self }, 0))
    }

    /// Arrivals waiting in the current generation.
    #[inline]
    pub fn arrived(&self) -> usize {
        self.state.lock().arrived
    }

    /// Waiting futures registered and not yet released (equal to [`arrived`](Self::arrived)).
    pub fn waiters(&self) -> usize {
        self.state.lock().waiters.len()
    }

    /// How many arrivals trip the barrier.
    #[inline]
    pub fn parties(&self) -> usize {
        self.n
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Barrier")
            .field("parties", &self.n)
            .field("arrived", &state.arrived)
            .field("generation", &self.generation.load(Ordering::Relaxed))
            .finish()
    }
}

/// What [`Barrier::wait`] resolves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarrierWaitResult {
    leader: bool,
}

impl BarrierWaitResult {
    /// Whether this waiter tripped the barrier: true for exactly one waiter per generation.
    #[inline]
    pub fn is_leader(&self) -> bool {
        self.leader
    }
}

pub(crate) struct WaitOp<'a> {
    barrier: &'a Barrier,
}

impl Op for WaitOp<'_> {
    type State = BarrierState;
    type Req = ();
    type Grant = ();
    type Output = BarrierWaitResult;
    type Timed = Result<BarrierWaitResult, Timeout>;
    /// The generation this wait arrived in, recorded when it registers.
    type Data = usize;

    /// Every arrival but the one that trips the barrier waits.
    const WAIT_LIKELY: bool = true;

    fn lock(&self) -> MutexGuard<'_, BarrierState> {
        self.barrier.state.lock()
    }

    fn list(state: &mut BarrierState) -> &mut WaitList<(), ()> {
        &mut state.waiters
    }

    fn try_now(
        &self,
        _: &mut usize,
        state: &mut BarrierState,
        wakes: &mut WakeList,
    ) -> Option<BarrierWaitResult> {
        if state.arrived + 1 < self.barrier.n {
            return None;
        }
        state.arrived = 0;
        // The generation ends: every waiter registered in it sees the count move (lock-free
        // pick-up), and its slot is freed here, with the grant. Release: everything the
        // arrivals did before their `wait` (each under this lock, which the trip holds now)
        // happens-before what a waiter that reads the new count with Acquire does next.
        self.barrier.generation.fetch_add(1, Ordering::Release);
        state.waiters.grant_all_freeing(wakes);
        Some(BarrierWaitResult { leader: true })
    }

    fn register(&self, generation: &mut usize, state: &mut BarrierState) {
        state.arrived += 1;
        // The count changes only under this lock: Relaxed reads the current generation.
        *generation = self.barrier.generation.load(Ordering::Relaxed);
    }

    /// Registered in the generation recorded in `generation` (under the lock); the count moves
    /// only when a trip ends that generation, granting this waiter and freeing its slot.
    #[inline]
    fn granted_lock_free(&self, generation: &usize) -> Option<()> {
        (self.barrier.generation.load(Ordering::Acquire) != *generation).then_some(())
    }

    fn withdrawn(&self, state: &mut BarrierState, _: &mut (), _: &mut WakeList) {
        state.arrived -= 1;
    }

    fn finish(&self, _: &mut usize, _: ()) -> BarrierWaitResult {
        BarrierWaitResult { leader: false }
    }

    fn ok(result: BarrierWaitResult) -> Self::Timed {
        Ok(result)
    }

    fn timed_out(&self, _: &mut usize, _: Option<()>) -> Self::Timed {
        Err(Timeout)
    }
}

wait_future! {
    /// The future of [`Barrier::wait`].
    BarrierWait ['a] ['a] = Waiter<WaitOp<'a>>
        => BarrierWaitResult, Result<BarrierWaitResult, Timeout>;
}
