//! Model-based test of `Semaphore` and `BoundedSemaphore`: random sequences of operations run
//! against the real semaphore, its futures polled by hand with counting wakers, and against a
//! plain sequential model written from the contract in the crate docs of `Semaphore`: a counter
//! of free permits, a FIFO of acquire requests (granted whole, strictly in order, never barged
//! past), and the `wait_unlocked` waiters (released once permits are free and no acquirer
//! queues).
//!
//! After every operation: the outcome of the operation, every waker's wake-up count (a future
//! is woken exactly when the model grants it, and only its current waker), `available()`,
//! `waiters()` and `is_locked()` must match the model.
//!
//! 1000 cases of up to 60 operations per test (`PROPTEST_CASES` overrides the count).

mod model_kit;

use std::collections::VecDeque;
use std::task::Poll;

use model_kit::{MAX_OPS, Wakers, config, expire, pick, pick_where, poll, try_once};
use proptest::prelude::*;
use toro_sync::future::{
    BoundedSemaphoreAcquire, SemaphoreAcquire, SemaphoreWaitUnlocked, Waitable,
};
use toro_sync::{BoundedSemaphore, BoundedSemaphorePermit, Semaphore, SemaphorePermit, Timeout};

// ---------------------------------------------------------------------------------------------
// The two semaphores behind one interface.

trait Permit {
    fn count(&self) -> usize;
    fn forget(self);
}

impl Permit for SemaphorePermit<'_> {
    fn count(&self) -> usize {
        SemaphorePermit::num_permits(self)
    }
    fn forget(self) {
        SemaphorePermit::forget(self)
    }
}

impl Permit for BoundedSemaphorePermit<'_> {
    fn count(&self) -> usize {
        BoundedSemaphorePermit::num_permits(self)
    }
    fn forget(self) {
        BoundedSemaphorePermit::forget(self)
    }
}

trait Sem: Sized {
    type Permit<'a>: Permit
    where
        Self: 'a;
    type Acquire<'a>: Waitable<Output = Self::Permit<'a>, Timed = Result<Self::Permit<'a>, Timeout>>
    where
        Self: 'a;
    const BOUNDED: bool;
    fn make(permits: usize) -> Self;
    fn acquire_many(&self, n: usize) -> Self::Acquire<'_>;
    fn wait_unlocked(&self) -> SemaphoreWaitUnlocked<'_>;
    fn try_acquire_many(&self, n: usize) -> Option<Self::Permit<'_>>;
    /// `release()`; whether it was accepted.
    fn release(&self) -> bool;
    /// `add_permits(n)`; false if this semaphore has no such method.
    fn add_permits(&self, n: usize) -> bool;
    fn available(&self) -> usize;
    fn waiters(&self) -> usize;
    fn is_locked(&self) -> bool;
}

impl Sem for Semaphore {
    type Permit<'a> = SemaphorePermit<'a>;
    type Acquire<'a> = SemaphoreAcquire<'a>;
    const BOUNDED: bool = false;
    fn make(permits: usize) -> Self {
        Semaphore::new(permits)
    }
    fn acquire_many(&self, n: usize) -> SemaphoreAcquire<'_> {
        Semaphore::acquire_many(self, n)
    }
    fn wait_unlocked(&self) -> SemaphoreWaitUnlocked<'_> {
        Semaphore::wait_unlocked(self)
    }
    fn try_acquire_many(&self, n: usize) -> Option<SemaphorePermit<'_>> {
        Semaphore::try_acquire_many(self, n)
    }
    fn release(&self) -> bool {
        Semaphore::release(self);
        true
    }
    fn add_permits(&self, n: usize) -> bool {
        Semaphore::add_permits(self, n);
        true
    }
    fn available(&self) -> usize {
        Semaphore::available(self)
    }
    fn waiters(&self) -> usize {
        Semaphore::waiters(self)
    }
    fn is_locked(&self) -> bool {
        Semaphore::is_locked(self)
    }
}

impl Sem for BoundedSemaphore {
    type Permit<'a> = BoundedSemaphorePermit<'a>;
    type Acquire<'a> = BoundedSemaphoreAcquire<'a>;
    const BOUNDED: bool = true;
    fn make(permits: usize) -> Self {
        BoundedSemaphore::new(permits)
    }
    fn acquire_many(&self, n: usize) -> BoundedSemaphoreAcquire<'_> {
        BoundedSemaphore::acquire_many(self, n)
    }
    fn wait_unlocked(&self) -> SemaphoreWaitUnlocked<'_> {
        BoundedSemaphore::wait_unlocked(self)
    }
    fn try_acquire_many(&self, n: usize) -> Option<BoundedSemaphorePermit<'_>> {
        BoundedSemaphore::try_acquire_many(self, n)
    }
    fn release(&self) -> bool {
        BoundedSemaphore::release(self).is_ok()
    }
    fn add_permits(&self, _: usize) -> bool {
        false
    }
    fn available(&self) -> usize {
        BoundedSemaphore::available(self)
    }
    fn waiters(&self) -> usize {
        BoundedSemaphore::waiters(self)
    }
    fn is_locked(&self) -> bool {
        BoundedSemaphore::is_locked(self)
    }
}

// ---------------------------------------------------------------------------------------------
// Operations.

#[derive(Clone, Debug)]
enum Op {
    /// Create an `acquire_many(n)` future (not polled yet).
    Acquire(usize),
    /// Create a `wait_unlocked()` future.
    WaitUnlocked,
    /// Poll the i-th live future with its current waker.
    Poll(usize),
    /// Poll the i-th live future with a fresh waker (waker replacement).
    PollNewWaker(usize),
    /// First poll of the i-th unpolled future with a deadline already passed.
    TryOnce(usize),
    /// Drop the i-th live future.
    Drop(usize),
    /// The deadline of the i-th registered future fires.
    Expire(usize),
    Release,
    AddPermits(usize),
    TryAcquire(usize),
    DropPermit(usize),
    ForgetPermit(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..=4).prop_map(Op::Acquire),
        1 => Just(Op::WaitUnlocked),
        5 => (0usize..64).prop_map(Op::Poll),
        1 => (0usize..64).prop_map(Op::PollNewWaker),
        1 => (0usize..64).prop_map(Op::TryOnce),
        2 => (0usize..64).prop_map(Op::Drop),
        2 => (0usize..64).prop_map(Op::Expire),
        3 => Just(Op::Release),
        1 => (0usize..=3).prop_map(Op::AddPermits),
        1 => (1usize..=4).prop_map(Op::TryAcquire),
        3 => (0usize..64).prop_map(Op::DropPermit),
        1 => (0usize..64).prop_map(Op::ForgetPermit),
    ]
}

/// What an operation on a future observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Out {
    Pending,
    /// A permit for this many.
    Permit(usize),
    /// `wait_unlocked` completed.
    Unlocked,
    Timeout,
}

// ---------------------------------------------------------------------------------------------
// The model, from the contract in the crate docs of `Semaphore` and `BoundedSemaphore`.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Acquire(usize),
    Idle,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum St {
    /// Created, never polled: not registered.
    Created,
    /// Registered (first polled) and waiting.
    Pending,
    /// Granted (permits taken for it, or released from `wait_unlocked`), not yet polled.
    Granted,
}

#[derive(Debug)]
struct MFut {
    id: usize,
    kind: Kind,
    st: St,
    waker: usize,
}

#[derive(Debug)]
struct Model {
    free: usize,
    /// For a BoundedSemaphore: the bound, and the permits free, held by live permit objects,
    /// or promised to granted requests (a forgotten permit no longer counts).
    bound: Option<usize>,
    circulating: usize,
    acquirers: VecDeque<usize>,
    idle: VecDeque<usize>,
    futs: Vec<MFut>,
    held: Vec<usize>,
    next_id: usize,
}

impl Model {
    fn fut(&mut self, id: usize) -> &mut MFut {
        self.futs.iter_mut().find(|f| f.id == id).unwrap()
    }

    fn grant(&mut self, id: usize, wakers: &mut Wakers) {
        let f = self.fut(id);
        f.st = St::Granted;
        wakers.expect_wake(f.waker);
    }

    /// Hands free permits to the head of the line while it fits; then, if nobody queues to
    /// acquire and permits are free, releases every `wait_unlocked`.
    fn settle(&mut self, wakers: &mut Wakers) {
        while let Some(&id) = self.acquirers.front() {
            let Kind::Acquire(n) = self.fut(id).kind else {
                unreachable!()
            };
            if n > self.free {
                break;
            }
            self.free -= n;
            self.acquirers.pop_front();
            self.grant(id, wakers);
        }
        if self.acquirers.is_empty() && self.free > 0 {
            while let Some(id) = self.idle.pop_front() {
                self.grant(id, wakers);
            }
        }
    }

    /// Completes at once if possible (never barging), else `None`.
    fn try_now(&mut self, kind: Kind) -> Option<Out> {
        match kind {
            Kind::Acquire(0) => Some(Out::Permit(0)),
            Kind::Acquire(n) if self.acquirers.is_empty() && self.free >= n => {
                self.free -= n;
                Some(Out::Permit(n))
            }
            Kind::Idle if self.acquirers.is_empty() && self.free > 0 => Some(Out::Unlocked),
            _ => None,
        }
    }

    fn poll(&mut self, k: usize) -> Out {
        let (id, kind, st) = (self.futs[k].id, self.futs[k].kind, self.futs[k].st);
        match st {
            St::Created => match self.try_now(kind) {
                Some(out) => out,
                None => {
                    self.futs[k].st = St::Pending;
                    match kind {
                        Kind::Acquire(_) => self.acquirers.push_back(id),
                        Kind::Idle => self.idle.push_back(id),
                    }
                    Out::Pending
                }
            },
            St::Pending => Out::Pending,
            St::Granted => granted(kind),
        }
    }

    fn try_once(&mut self, k: usize) -> Out {
        self.try_now(self.futs[k].kind).unwrap_or(Out::Timeout)
    }

    /// Takes a registered future out of its line; a granted one's permits pass on.
    fn leave(&mut self, k: usize, keep_grant: bool, wakers: &mut Wakers) -> Out {
        let (id, kind, st) = (self.futs[k].id, self.futs[k].kind, self.futs[k].st);
        match st {
            St::Created => Out::Timeout,
            St::Pending => {
                self.acquirers.retain(|&x| x != id);
                self.idle.retain(|&x| x != id);
                self.settle(wakers);
                Out::Timeout
            }
            St::Granted if keep_grant => granted(kind),
            St::Granted => {
                if let Kind::Acquire(n) = kind {
                    self.free += n;
                    self.settle(wakers);
                }
                Out::Timeout
            }
        }
    }

    fn release(&mut self, wakers: &mut Wakers) -> bool {
        if let Some(bound) = self.bound {
            if self.circulating >= bound {
                return false;
            }
            self.circulating += 1;
        }
        self.free += 1;
        self.settle(wakers);
        true
    }
}

fn granted(kind: Kind) -> Out {
    match kind {
        Kind::Acquire(n) => Out::Permit(n),
        Kind::Idle => Out::Unlocked,
    }
}

// ---------------------------------------------------------------------------------------------
// The real semaphore.

enum SFut<'a, S: Sem + 'a> {
    Acquire(S::Acquire<'a>),
    Idle(SemaphoreWaitUnlocked<'a>),
}

fn polled<'a, S: Sem>(p: Poll<S::Permit<'a>>, held: &mut Vec<S::Permit<'a>>) -> Out {
    match p {
        Poll::Ready(permit) => {
            let n = permit.count();
            held.push(permit);
            Out::Permit(n)
        }
        Poll::Pending => Out::Pending,
    }
}

fn timed<'a, S: Sem>(r: Result<S::Permit<'a>, Timeout>, held: &mut Vec<S::Permit<'a>>) -> Out {
    match r {
        Ok(permit) => polled::<S>(Poll::Ready(permit), held),
        Err(Timeout) => Out::Timeout,
    }
}

fn idle_timed(r: Result<(), Timeout>) -> Out {
    match r {
        Ok(()) => Out::Unlocked,
        Err(Timeout) => Out::Timeout,
    }
}

fn run<S: Sem>(initial: usize, ops: &[Op]) -> Result<(), TestCaseError> {
    let sem = S::make(initial);
    let mut wakers = Wakers::default();
    let mut futs: Vec<SFut<'_, S>> = Vec::new();
    let mut held: Vec<S::Permit<'_>> = Vec::new();
    let mut model = Model {
        free: initial,
        bound: S::BOUNDED.then_some(initial),
        circulating: initial,
        acquirers: VecDeque::new(),
        idle: VecDeque::new(),
        futs: Vec::new(),
        held: Vec::new(),
        next_id: 0,
    };
    let bound = if S::BOUNDED { initial } else { usize::MAX };

    for (step, op) in ops.iter().enumerate() {
        macro_rules! ctx {
            () => {
                format!("step {step}: {op:?}\nmodel: {model:?}")
            };
        }
        match *op {
            Op::Acquire(n) => {
                let n = if S::BOUNDED { n % (bound + 1) } else { n };
                let waker = wakers.fresh();
                model.futs.push(MFut {
                    id: model.next_id,
                    kind: Kind::Acquire(n),
                    st: St::Created,
                    waker,
                });
                model.next_id += 1;
                futs.push(SFut::Acquire(sem.acquire_many(n)));
            }
            Op::WaitUnlocked => {
                let waker = wakers.fresh();
                model.futs.push(MFut {
                    id: model.next_id,
                    kind: Kind::Idle,
                    st: St::Created,
                    waker,
                });
                model.next_id += 1;
                futs.push(SFut::Idle(sem.wait_unlocked()));
            }
            Op::Poll(i) | Op::PollNewWaker(i) => {
                let Some(k) = pick(i, futs.len()) else {
                    continue;
                };
                if let Op::PollNewWaker(_) = op {
                    model.futs[k].waker = wakers.fresh();
                }
                let w = model.futs[k].waker;
                let real = match &mut futs[k] {
                    SFut::Acquire(f) => polled::<S>(poll(f, &wakers, w), &mut held),
                    SFut::Idle(f) => match poll(f, &wakers, w) {
                        Poll::Ready(()) => Out::Unlocked,
                        Poll::Pending => Out::Pending,
                    },
                };
                let expected = model.poll(k);
                prop_assert_eq!(real, expected, "{}", ctx!());
                if expected != Out::Pending {
                    if let Out::Permit(n) = expected {
                        model.held.push(n);
                    }
                    model.futs.remove(k);
                    futs.remove(k);
                }
            }
            Op::TryOnce(i) => {
                let Some(k) = pick_where(i, futs.len(), |k| model.futs[k].st == St::Created) else {
                    continue;
                };
                let real = match &mut futs[k] {
                    SFut::Acquire(f) => timed::<S>(try_once(f), &mut held),
                    SFut::Idle(f) => idle_timed(try_once(f)),
                };
                let expected = model.try_once(k);
                prop_assert_eq!(real, expected, "{}", ctx!());
                if let Out::Permit(n) = expected {
                    model.held.push(n);
                }
                model.futs.remove(k);
                futs.remove(k);
            }
            Op::Drop(i) => {
                let Some(k) = pick(i, futs.len()) else {
                    continue;
                };
                drop(futs.remove(k));
                model.leave(k, false, &mut wakers);
                model.futs.remove(k);
            }
            Op::Expire(i) => {
                let Some(k) = pick_where(i, futs.len(), |k| model.futs[k].st != St::Created) else {
                    continue;
                };
                let real = match &mut futs[k] {
                    SFut::Acquire(f) => timed::<S>(expire(f), &mut held),
                    SFut::Idle(f) => idle_timed(expire(f)),
                };
                let expected = model.leave(k, true, &mut wakers);
                prop_assert_eq!(real, expected, "{}", ctx!());
                if let Out::Permit(n) = expected {
                    model.held.push(n);
                }
                model.futs.remove(k);
                futs.remove(k);
            }
            Op::Release => {
                let real = sem.release();
                let expected = model.release(&mut wakers);
                prop_assert_eq!(real, expected, "release() accepted? {}", ctx!());
            }
            Op::AddPermits(n) => {
                if sem.add_permits(n) {
                    model.free += n;
                    model.settle(&mut wakers);
                }
            }
            Op::TryAcquire(n) => {
                let n = if S::BOUNDED { 1 + (n - 1) % bound } else { n };
                let real = sem.try_acquire_many(n).map(|p| {
                    let count = p.count();
                    held.push(p);
                    count
                });
                let expected = match model.try_now(Kind::Acquire(n)) {
                    Some(Out::Permit(n)) => {
                        model.held.push(n);
                        Some(n)
                    }
                    _ => None,
                };
                prop_assert_eq!(real, expected, "{}", ctx!());
            }
            Op::DropPermit(i) => {
                let Some(k) = pick(i, held.len()) else {
                    continue;
                };
                drop(held.remove(k));
                model.free += model.held.remove(k);
                model.settle(&mut wakers);
            }
            Op::ForgetPermit(i) => {
                let Some(k) = pick(i, held.len()) else {
                    continue;
                };
                held.remove(k).forget();
                let n = model.held.remove(k);
                if S::BOUNDED {
                    model.circulating -= n;
                }
            }
        }
        wakers
            .check()
            .map_err(|e| TestCaseError::fail(format!("{e}\n{}", ctx!())))?;
        prop_assert_eq!(sem.available(), model.free, "available() {}", ctx!());
        prop_assert_eq!(
            sem.waiters(),
            model.acquirers.len() + model.idle.len(),
            "waiters() {}",
            ctx!()
        );
        prop_assert_eq!(
            sem.is_locked(),
            !model.acquirers.is_empty() || model.free == 0,
            "is_locked() {}",
            ctx!()
        );
    }

    // Dropping everything returns every permit not forgotten.
    drop(futs);
    drop(held);
    prop_assert_eq!(sem.waiters(), 0);
    if S::BOUNDED {
        prop_assert_eq!(sem.available(), model.circulating);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn semaphore_matches_model(
        initial in 0usize..=4,
        ops in prop::collection::vec(op(), 1..=MAX_OPS),
    ) {
        run::<Semaphore>(initial, &ops)?;
    }

    #[test]
    fn bounded_semaphore_matches_model(
        initial in 1usize..=4,
        ops in prop::collection::vec(op(), 1..=MAX_OPS),
    ) {
        run::<BoundedSemaphore>(initial, &ops)?;
    }
}

/// The `acquire_many` docs: "`acquire_many(0)` completes at once", also behind a queued request
/// (found by the model: it used to queue behind it, and to time out with a passed deadline).
#[test]
fn acquire_many_zero_completes_at_once_behind_a_queued_request() {
    let mut wakers = Wakers::default();
    let w = wakers.fresh();
    let sem = Semaphore::new(0);
    let mut head = sem.acquire();
    assert!(poll(&mut head, &wakers, w).is_pending());
    assert!(
        try_once(&mut sem.acquire_many(0)).is_ok(),
        "Semaphore: acquire_many(0) with a passed deadline timed out behind a queued acquire"
    );
    let mut zero = sem.acquire_many(0);
    assert!(
        poll(&mut zero, &wakers, w).is_ready(),
        "Semaphore: acquire_many(0) waits behind a queued acquire"
    );

    let bounded = BoundedSemaphore::new(1);
    let held = bounded.try_acquire().unwrap();
    let mut head = bounded.acquire();
    assert!(poll(&mut head, &wakers, w).is_pending());
    let mut zero = bounded.acquire_many(0);
    assert!(
        poll(&mut zero, &wakers, w).is_ready(),
        "BoundedSemaphore: acquire_many(0) waits behind a queued acquire"
    );
    drop(held);
}
