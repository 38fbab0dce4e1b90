//! Model-based test of `Condition`, with `wait_with` on a `Mutex<()>`: random sequences of
//! operations run against the real condition and mutex, their futures polled by hand with
//! counting wakers, and against a plain sequential model written from the contract in the crate
//! docs of `Condition` and `Mutex`:
//!
//! * a FIFO of registered condition waiters; `notify(n)` grants the `n` oldest, `notify_all`
//!   all of them and also every `wait()` future created before it and not yet polled; nothing
//!   is stored for later waiters;
//! * a waiter granted by `notify(n)` that is dropped passes the notification on; one whose
//!   deadline fires keeps it (a plain `wait`) or passes it on (`wait_with`, whose deadline
//!   bounds the re-locking too); a timed-out waiter never counts against `n`; a `wait_with`
//!   notified by `notify(n)` that is dropped or times out while re-locking passes the
//!   notification on too (and the lock, if it had been handed to it);
//! * `wait_with` registers, then releases the mutex; once notified it re-locks through the
//!   mutex's FIFO (a lock handed straight to the oldest locker).
//!
//! After every operation: its outcome, every waker's wake-up count (a future is woken exactly
//! when the model grants it: a notification, or the mutex), `notify`'s count, both
//! `waiters()` and `Mutex::is_locked()` must match the model.
//!
//! 1000 cases of up to 60 operations per test (`PROPTEST_CASES` overrides the count).

mod model_kit;

use std::collections::VecDeque;
use std::task::Poll;

use model_kit::{MAX_OPS, Wakers, config, expire, pick, pick_where, poll, try_once};
use proptest::prelude::*;
use toro_sync::future::{ConditionWait, ConditionWaitWith, MutexLock};
use toro_sync::{Condition, Mutex, MutexGuard, Timeout};

#[derive(Clone, Debug)]
enum Op {
    /// Create a `wait()` future.
    Wait,
    /// Create a `wait_with(guard)` future with the i-th guard the test holds.
    WaitWith(usize),
    /// Create a `lock()` future.
    Lock,
    TryLock,
    DropGuard(usize),
    Poll(usize),
    PollNewWaker(usize),
    TryOnce(usize),
    Drop(usize),
    Expire(usize),
    Notify(usize),
    NotifyAll,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Wait),
        3 => (0usize..4).prop_map(Op::WaitWith),
        2 => Just(Op::Lock),
        2 => Just(Op::TryLock),
        2 => (0usize..4).prop_map(Op::DropGuard),
        6 => (0usize..64).prop_map(Op::Poll),
        1 => (0usize..64).prop_map(Op::PollNewWaker),
        1 => (0usize..64).prop_map(Op::TryOnce),
        2 => (0usize..64).prop_map(Op::Drop),
        2 => (0usize..64).prop_map(Op::Expire),
        3 => (0usize..=3).prop_map(Op::Notify),
        1 => Just(Op::NotifyAll),
    ]
}

/// What an operation on a future observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Out {
    Pending,
    /// A plain `wait()` completed.
    Notified,
    /// A `lock()` or `wait_with` completed with the guard.
    Guard,
    Timeout,
}

// ---------------------------------------------------------------------------------------------
// The model.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Wait,
    Lock,
    WaitWith,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Notice {
    /// From `notify(n)`: passed on if dropped unused.
    One,
    /// From `notify_all`: everyone registered got one; nothing to pass on.
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum St {
    /// Never polled (a `wait_with` still holds its guard).
    Created,
    /// Registered on the condition.
    CondPending,
    CondGranted(Notice),
    /// Registered on the mutex: a `lock()` (`None`), or a notified `wait_with` re-locking
    /// (how it was notified).
    LockPending(Option<Notice>),
    LockGranted(Option<Notice>),
}

#[derive(Debug)]
struct MFut {
    id: usize,
    kind: Kind,
    st: St,
    waker: usize,
    /// `notify_all` calls made before this future was created.
    broadcasts: usize,
}

#[derive(Debug, Default)]
struct Model {
    broadcasts: usize,
    cond: VecDeque<usize>,
    locked: bool,
    lockers: VecDeque<usize>,
    /// Guards the test holds.
    held: usize,
    futs: Vec<MFut>,
    next_id: usize,
}

impl Model {
    fn fut(&mut self, id: usize) -> &mut MFut {
        self.futs.iter_mut().find(|f| f.id == id).unwrap()
    }

    fn grant(&mut self, id: usize, st: St, wakers: &mut Wakers) {
        let f = self.fut(id);
        f.st = st;
        wakers.expect_wake(f.waker);
    }

    /// The mutex is released: straight to the oldest locker, else free.
    fn unlock(&mut self, wakers: &mut Wakers) {
        assert!(self.locked, "model: unlocked a free mutex");
        match self.lockers.pop_front() {
            Some(id) => {
                let St::LockPending(notice) = self.fut(id).st else {
                    unreachable!("model: a locker not pending")
                };
                self.grant(id, St::LockGranted(notice), wakers)
            }
            None => self.locked = false,
        }
    }

    fn try_lock(&mut self) -> bool {
        let free = !self.locked;
        self.locked = true;
        free
    }

    fn notify(&mut self, n: usize, wakers: &mut Wakers) -> usize {
        let mut woken = 0;
        while woken < n {
            let Some(id) = self.cond.pop_front() else {
                break;
            };
            self.grant(id, St::CondGranted(Notice::One), wakers);
            woken += 1;
        }
        woken
    }

    fn notify_all(&mut self, wakers: &mut Wakers) -> usize {
        self.broadcasts += 1;
        let mut woken = 0;
        while let Some(id) = self.cond.pop_front() {
            self.grant(id, St::CondGranted(Notice::All), wakers);
            woken += 1;
        }
        woken
    }

    /// Registers future `k` on the mutex, or takes the mutex at once.
    fn lock_now_or_queue(&mut self, k: usize, notice: Option<Notice>) -> Out {
        if self.try_lock() {
            Out::Guard
        } else {
            self.futs[k].st = St::LockPending(notice);
            self.lockers.push_back(self.futs[k].id);
            Out::Pending
        }
    }

    fn poll(&mut self, k: usize, wakers: &mut Wakers) -> Out {
        let (kind, st) = (self.futs[k].kind, self.futs[k].st);
        let notified_since = self.broadcasts != self.futs[k].broadcasts;
        match (kind, st) {
            (Kind::Wait, St::Created) if notified_since => Out::Notified,
            (Kind::WaitWith, St::Created) if notified_since => Out::Guard,
            (Kind::Wait | Kind::WaitWith, St::Created) => {
                self.futs[k].st = St::CondPending;
                self.cond.push_back(self.futs[k].id);
                if kind == Kind::WaitWith {
                    // Registered: only now is the guard released.
                    self.unlock(wakers);
                }
                Out::Pending
            }
            (Kind::Lock, St::Created) => self.lock_now_or_queue(k, None),
            (_, St::CondPending | St::LockPending(_)) => Out::Pending,
            (Kind::Wait, St::CondGranted(_)) => Out::Notified,
            (Kind::WaitWith, St::CondGranted(notice)) => self.lock_now_or_queue(k, Some(notice)),
            (_, St::LockGranted(_)) => Out::Guard,
            (kind, st) => unreachable!("model: {kind:?} in {st:?}"),
        }
    }

    /// First poll with a deadline already passed.
    fn try_once(&mut self, k: usize, wakers: &mut Wakers) -> Out {
        let notified_since = self.broadcasts != self.futs[k].broadcasts;
        let kind = self.futs[k].kind;
        match kind {
            Kind::Wait if notified_since => Out::Notified,
            Kind::WaitWith if notified_since => Out::Guard,
            Kind::Lock if self.try_lock() => Out::Guard,
            Kind::WaitWith => {
                self.unlock(wakers);
                Out::Timeout
            }
            Kind::Wait | Kind::Lock => Out::Timeout,
        }
    }

    /// Future `k` leaves: dropped (`expiry == false`) or its deadline fired.
    fn leave(&mut self, k: usize, expiry: bool, wakers: &mut Wakers) -> Out {
        let (id, kind, st) = (self.futs[k].id, self.futs[k].kind, self.futs[k].st);
        match st {
            St::Created => {
                if kind == Kind::WaitWith {
                    self.unlock(wakers);
                }
                Out::Timeout
            }
            St::CondPending => {
                self.cond.retain(|&x| x != id);
                Out::Timeout
            }
            // A `wait_with` leaving while it re-locks passes a `notify(n)` notification on.
            St::LockPending(notice) => {
                self.lockers.retain(|&x| x != id);
                if notice == Some(Notice::One) {
                    self.notify(1, wakers);
                }
                Out::Timeout
            }
            // A plain wait keeps a notification that won the race with its deadline.
            St::CondGranted(_) if expiry && kind == Kind::Wait => Out::Notified,
            St::CondGranted(notice) => {
                if notice == Notice::One {
                    self.notify(1, wakers);
                }
                Out::Timeout
            }
            St::LockGranted(_) if expiry => Out::Guard,
            // Dropped with the lock handed to it: the lock passes on, and so does a
            // `notify(n)` notification (a `wait_with` that never returned).
            St::LockGranted(notice) => {
                if notice == Some(Notice::One) {
                    self.notify(1, wakers);
                }
                self.unlock(wakers);
                Out::Timeout
            }
        }
    }

    /// Who holds the mutex: the test's guards, unpolled `wait_with`s, granted lockers.
    fn owners(&self) -> usize {
        self.held
            + self
                .futs
                .iter()
                .filter(|f| {
                    (f.kind == Kind::WaitWith && f.st == St::Created)
                        || matches!(f.st, St::LockGranted(_))
                })
                .count()
    }
}

// ---------------------------------------------------------------------------------------------
// The real condition and mutex.

enum SFut<'a> {
    Wait(ConditionWait<'a>),
    Lock(MutexLock<'a, ()>),
    WaitWith(ConditionWaitWith<'a, ()>),
}

fn guard_out<'a>(
    r: Result<MutexGuard<'a, ()>, Timeout>,
    held: &mut Vec<MutexGuard<'a, ()>>,
) -> Out {
    match r {
        Ok(guard) => {
            held.push(guard);
            Out::Guard
        }
        Err(Timeout) => Out::Timeout,
    }
}

fn poll_guard<'a>(p: Poll<MutexGuard<'a, ()>>, held: &mut Vec<MutexGuard<'a, ()>>) -> Out {
    match p {
        Poll::Ready(guard) => guard_out(Ok(guard), held),
        Poll::Pending => Out::Pending,
    }
}

fn wait_out(r: Result<(), Timeout>) -> Out {
    match r {
        Ok(()) => Out::Notified,
        Err(Timeout) => Out::Timeout,
    }
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let cond = Condition::new();
    let mutex = Mutex::new(());
    let mut wakers = Wakers::default();
    let mut futs: Vec<SFut<'_>> = Vec::new();
    let mut held: Vec<MutexGuard<'_, ()>> = Vec::new();
    let mut model = Model::default();

    for (step, op) in ops.iter().enumerate() {
        macro_rules! ctx {
            () => {
                format!("step {step}: {op:?}\nmodel: {model:?}")
            };
        }
        let mut new = |kind: Kind, model: &mut Model| {
            let waker = wakers.fresh();
            model.futs.push(MFut {
                id: model.next_id,
                kind,
                st: St::Created,
                waker,
                broadcasts: model.broadcasts,
            });
            model.next_id += 1;
        };
        match *op {
            Op::Wait => {
                new(Kind::Wait, &mut model);
                futs.push(SFut::Wait(cond.wait()));
            }
            Op::WaitWith(i) => {
                let Some(k) = pick(i, held.len()) else {
                    continue;
                };
                new(Kind::WaitWith, &mut model);
                model.held -= 1;
                futs.push(SFut::WaitWith(cond.wait_with(held.remove(k))));
            }
            Op::Lock => {
                new(Kind::Lock, &mut model);
                futs.push(SFut::Lock(mutex.lock()));
            }
            Op::TryLock => {
                let real = mutex.try_lock().map(|g| held.push(g)).is_some();
                let expected = model.try_lock();
                if expected {
                    model.held += 1;
                }
                prop_assert_eq!(real, expected, "try_lock {}", ctx!());
            }
            Op::DropGuard(i) => {
                let Some(k) = pick(i, held.len()) else {
                    continue;
                };
                drop(held.remove(k));
                model.held -= 1;
                model.unlock(&mut wakers);
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
                    SFut::Wait(f) => match poll(f, &wakers, w) {
                        Poll::Ready(()) => Out::Notified,
                        Poll::Pending => Out::Pending,
                    },
                    SFut::Lock(f) => poll_guard(poll(f, &wakers, w), &mut held),
                    SFut::WaitWith(f) => poll_guard(poll(f, &wakers, w), &mut held),
                };
                let expected = model.poll(k, &mut wakers);
                prop_assert_eq!(real, expected, "{}", ctx!());
                if expected != Out::Pending {
                    if expected == Out::Guard {
                        model.held += 1;
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
                    SFut::Wait(f) => wait_out(try_once(f)),
                    SFut::Lock(f) => guard_out(try_once(f), &mut held),
                    SFut::WaitWith(f) => guard_out(try_once(f), &mut held),
                };
                let expected = model.try_once(k, &mut wakers);
                prop_assert_eq!(real, expected, "{}", ctx!());
                if expected == Out::Guard {
                    model.held += 1;
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
                    SFut::Wait(f) => wait_out(expire(f)),
                    SFut::Lock(f) => guard_out(expire(f), &mut held),
                    SFut::WaitWith(f) => guard_out(expire(f), &mut held),
                };
                let expected = model.leave(k, true, &mut wakers);
                prop_assert_eq!(real, expected, "{}", ctx!());
                if expected == Out::Guard {
                    model.held += 1;
                }
                model.futs.remove(k);
                futs.remove(k);
            }
            Op::Notify(n) => {
                let real = cond.notify(n);
                let expected = model.notify(n, &mut wakers);
                prop_assert_eq!(real, expected, "notify({}) {}", n, ctx!());
            }
            Op::NotifyAll => {
                let real = cond.notify_all();
                let expected = model.notify_all(&mut wakers);
                prop_assert_eq!(real, expected, "notify_all() {}", ctx!());
            }
        }
        wakers
            .check()
            .map_err(|e| TestCaseError::fail(format!("{e}\n{}", ctx!())))?;
        prop_assert_eq!(held.len(), model.held, "guards held {}", ctx!());
        prop_assert_eq!(
            model.owners(),
            usize::from(model.locked),
            "model: one owner while locked {}",
            ctx!()
        );
        prop_assert_eq!(
            cond.waiters(),
            model.cond.len(),
            "cond waiters() {}",
            ctx!()
        );
        prop_assert_eq!(
            mutex.waiters(),
            model.lockers.len(),
            "mutex waiters() {}",
            ctx!()
        );
        prop_assert_eq!(mutex.is_locked(), model.locked, "is_locked() {}", ctx!());
    }

    // Dropping everything leaves nothing registered and the mutex free.
    drop(futs);
    drop(held);
    prop_assert_eq!(cond.waiters(), 0);
    prop_assert_eq!(mutex.waiters(), 0);
    prop_assert!(!mutex.is_locked());
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn condition_matches_model(ops in prop::collection::vec(op(), 1..=MAX_OPS)) {
        run(&ops)?;
    }
}
