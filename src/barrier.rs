//! [`Barrier`]: tasks wait until `n` of them have arrived, generation after generation.

use std::fmt;

use crate::error::Timeout;
use crate::sync::{Mutex, MutexGuard};
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
    state: Mutex<BarrierState>,
}

pub(crate) struct BarrierState {
    /// Arrivals waiting in this generation.
    arrived: usize,
    generation: u64,
    waiters: WaitList<(), ()>,
}

impl Barrier {
    /// A barrier that trips when `n` tasks have called [`wait`](Self::wait); `n == 0` acts as 1.
    pub fn new(n: usize) -> Self {
        Barrier {
            n: n.max(1),
            state: Mutex::new(BarrierState {
                arrived: 0,
                generation: 0,
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
        BarrierWait(Waiter::new(WaitOp { barrier: self }, ()))
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
            .field("generation", &state.generation)
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
    type Data = ();

    fn lock(&self) -> MutexGuard<'_, BarrierState> {
        self.barrier.state.lock()
    }

    fn list(state: &mut BarrierState) -> &mut WaitList<(), ()> {
        &mut state.waiters
    }

    fn try_now(
        &self,
        _: &mut (),
        state: &mut BarrierState,
        wakes: &mut WakeList,
    ) -> Option<BarrierWaitResult> {
        if state.arrived + 1 < self.barrier.n {
            return None;
        }
        state.arrived = 0;
        state.generation = state.generation.wrapping_add(1);
        state.waiters.grant_all(|| (), wakes);
        Some(BarrierWaitResult { leader: true })
    }

    fn register(&self, _: &mut (), state: &mut BarrierState) {
        state.arrived += 1;
    }

    fn withdrawn(&self, state: &mut BarrierState, _: &mut (), _: &mut WakeList) {
        state.arrived -= 1;
    }

    fn finish(&self, _: &mut (), _: ()) -> BarrierWaitResult {
        BarrierWaitResult { leader: false }
    }

    fn ok(result: BarrierWaitResult) -> Self::Timed {
        Ok(result)
    }

    fn timed_out(&self, _: &mut (), _: Option<()>) -> Self::Timed {
        Err(Timeout)
    }
}

wait_future! {
    /// The future of [`Barrier::wait`].
    BarrierWait ['a] ['a] = Waiter<WaitOp<'a>>
        => BarrierWaitResult, Result<BarrierWaitResult, Timeout>;
}
