//! The permit counter shared by `Semaphore`, `BoundedSemaphore`, `Mutex` and `RwLock`: a count
//! of free permits plus one FIFO of requests for `n` permits on the waiter core.
//!
//! Requests are granted whole and strictly in order: the head request takes its `n` permits as
//! soon as that many are free, and nobody behind it is served first. A mutex is one permit; a
//! read lock one of `max_readers`; a write lock all of them, in one request.

use crate::error::{ReleaseError, Timeout};
use crate::sync::{Mutex, MutexGuard};
use crate::wait::Op;
use crate::waiters::{WaitList, WakeList};

/// The largest permit count a semaphore can hold (as tokio: `usize::MAX >> 3`).
pub const MAX_PERMITS: usize = usize::MAX >> 3;

pub(crate) struct Permits {
    state: Mutex<PermitState>,
}

pub(crate) struct PermitState {
    /// Free permits.
    available: usize,
    /// Permits granted and not yet returned or forgotten (held, or promised to a granted
    /// waiter that has not taken them yet).
    out: usize,
    acquirers: WaitList<usize, usize>,
    /// `wait_unlocked` callers.
    idle: WaitList<(), ()>,
}

impl PermitState {
    /// Hands free permits to queued requests, oldest first, then releases `wait_unlocked`
    /// callers if permits remain and nobody is queued.
    fn grant(&mut self, wakes: &mut WakeList) {
        while let Some(&need) = self.acquirers.front() {
            if need > self.available {
                break;
            }
            self.available -= need;
            self.out += need;
            self.acquirers.grant_front(need, wakes);
        }
        if self.available > 0 && self.acquirers.is_empty() {
            self.idle.grant_all(|| (), wakes);
        }
    }

    fn try_take(&mut self, n: usize) -> bool {
        if self.acquirers.is_empty() && self.available >= n {
            self.available -= n;
            self.out += n;
            true
        } else {
            false
        }
    }

    fn put_back(&mut self, n: usize, wakes: &mut WakeList) {
        self.out -= n;
        self.available += n;
        self.grant(wakes);
    }
}

impl Permits {
    pub(crate) fn new(permits: usize) -> Self {
        assert!(
            permits <= MAX_PERMITS,
            "a semaphore holds at most MAX_PERMITS ({MAX_PERMITS}) permits, got {permits}"
        );
        Permits {
            state: Mutex::new(PermitState {
                available: permits,
                out: 0,
                acquirers: WaitList::new(),
                idle: WaitList::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, PermitState> {
        self.state.lock()
    }

    /// Takes `n` permits if free and nobody is queued.
    pub(crate) fn try_acquire(&self, n: usize) -> bool {
        self.lock().try_take(n)
    }

    /// A permit object holding `n` is dropped.
    pub(crate) fn release_held(&self, n: usize) {
        let mut wakes = WakeList::new();
        let mut state = self.lock();
        state.put_back(n, &mut wakes);
        drop(state);
        drop(wakes);
    }

    /// A permit object holding `n` is forgotten: the permits leave circulation.
    pub(crate) fn forget_held(&self, n: usize) {
        self.lock().out -= n;
    }

    /// Adds `n` new permits.
    pub(crate) fn add(&self, n: usize) {
        let mut wakes = WakeList::new();
        let mut state = self.lock();
        let total = state.available.checked_add(n).filter(|&t| t <= MAX_PERMITS);
        let Some(total) = total else {
            drop(state);
            panic!("a semaphore holds at most MAX_PERMITS ({MAX_PERMITS}) permits");
        };
        state.available = total;
        state.grant(&mut wakes);
        drop(state);
        drop(wakes);
    }

    /// Adds one permit unless free plus outstanding permits would exceed `bound`.
    pub(crate) fn add_bounded(&self, bound: usize) -> Result<(), ReleaseError> {
        let mut wakes = WakeList::new();
        let mut state = self.lock();
        if state.available + state.out >= bound {
            return Err(ReleaseError);
        }
        state.available += 1;
        state.grant(&mut wakes);
        drop(state);
        drop(wakes);
        Ok(())
    }

    pub(crate) fn available(&self) -> usize {
        self.lock().available
    }

    /// Whether a one-permit request made now would wait.
    pub(crate) fn is_locked(&self) -> bool {
        let state = self.lock();
        state.available == 0 || !state.acquirers.is_empty()
    }

    pub(crate) fn waiters(&self) -> usize {
        let state = self.lock();
        state.acquirers.len() + state.idle.len()
    }

    /// Free permits, permits out (held or promised), and waiters, read together.
    pub(crate) fn snapshot(&self) -> (usize, usize, usize) {
        let state = self.lock();
        let waiters = state.acquirers.len() + state.idle.len();
        (state.available, state.out, waiters)
    }

    pub(crate) fn fmt_fields(&self, f: &mut std::fmt::DebugStruct<'_, '_>) {
        let (available, held, waiters) = self.snapshot();
        f.field("available", &available)
            .field("held", &held)
            .field("waiters", &waiters);
    }
}

/// How a handle on a permit-based primitive reaches its [`Permits`] and wraps granted permits.
pub(crate) trait PermitHandle: Clone {
    type Permit;
    fn permits(&self) -> &Permits;
    fn into_permit(self, n: usize) -> Self::Permit;
}

/// Acquiring `n` permits through handle `H`.
pub(crate) struct AcquireOp<H> {
    pub(crate) handle: H,
    pub(crate) n: usize,
}

impl<H: PermitHandle> Op for AcquireOp<H> {
    type State = PermitState;
    type Req = usize;
    type Grant = usize;
    type Output = H::Permit;
    type Timed = Result<H::Permit, Timeout>;
    type Data = ();

    fn lock(&self) -> MutexGuard<'_, PermitState> {
        self.handle.permits().lock()
    }

    fn list(state: &mut PermitState) -> &mut WaitList<usize, usize> {
        &mut state.acquirers
    }

    fn try_now(&self, _: &mut (), state: &mut PermitState, _: &mut WakeList) -> Option<H::Permit> {
        state
            .try_take(self.n)
            .then(|| self.handle.clone().into_permit(self.n))
    }

    fn register(&self, _: &mut (), _: &mut PermitState) -> usize {
        self.n
    }

    fn withdrawn(state: &mut PermitState, _: &mut usize, wakes: &mut WakeList) {
        // If it was the head, the requests behind it may now fit.
        state.grant(wakes);
    }

    fn forward(state: &mut PermitState, n: usize, wakes: &mut WakeList) -> Option<usize> {
        state.put_back(n, wakes);
        None
    }

    fn finish(&self, n: usize) -> H::Permit {
        self.handle.clone().into_permit(n)
    }

    fn ok(permit: H::Permit) -> Self::Timed {
        Ok(permit)
    }

    fn timed_out(&self, _: &mut (), _: Option<usize>) -> Self::Timed {
        Err(Timeout)
    }
}

/// Waiting until a one-permit request would not wait, without taking anything.
pub(crate) struct WaitUnlockedOp<'a> {
    pub(crate) permits: &'a Permits,
}

impl Op for WaitUnlockedOp<'_> {
    type State = PermitState;
    type Req = ();
    type Grant = ();
    type Output = ();
    type Timed = Result<(), Timeout>;
    type Data = ();

    fn lock(&self) -> MutexGuard<'_, PermitState> {
        self.permits.lock()
    }

    fn list(state: &mut PermitState) -> &mut WaitList<(), ()> {
        &mut state.idle
    }

    fn try_now(&self, _: &mut (), state: &mut PermitState, _: &mut WakeList) -> Option<()> {
        (state.available > 0 && state.acquirers.is_empty()).then_some(())
    }

    fn register(&self, _: &mut (), _: &mut PermitState) {}

    fn finish(&self, _: ()) {}

    fn ok(_: ()) -> Self::Timed {
        Ok(())
    }

    fn timed_out(&self, _: &mut (), _: Option<()>) -> Self::Timed {
        Err(Timeout)
    }
}
