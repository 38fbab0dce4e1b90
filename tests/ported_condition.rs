//! Ported behaviour suites: `Condition`.
//!
//! Originals (every case is mapped in tests/PORTED.md):
//!
//! * toro 1.0.1 `test/test_condition.py`, `TestCondition` (9): test_str, test_notify,
//!   test_notify_1, test_notify_n, test_notify_all, test_wait_timeout,
//!   test_wait_timeout_preempted, test_notify_n_with_timeout, test_notify_all_with_timeout.
//! * tornado `tornado/test/locks_test.py`, `ConditionTest` (11): test_repr, test_notify,
//!   test_notify_1, test_notify_n, test_notify_all, test_wait_timeout,
//!   test_wait_timeout_preempted, test_notify_n_with_timeout, test_notify_all_with_timeout,
//!   test_nested_notify, test_garbage_collection.
//! * CPython `Lib/test/test_asyncio/test_locks.py`, `ConditionTests` (20): test_wait,
//!   test_wait_cancel, test_wait_cancel_contested, test_wait_cancel_after_notify,
//!   test_wait_unacquired, test_wait_for, test_wait_for_unacquired, test_notify,
//!   test_notify_all, test_notify_unacquired, test_notify_all_unacquired, test_repr,
//!   test_context_manager, test_explicit_lock, test_ambiguous_loops, test_timeout_in_block,
//!   test_cancelled_error_wakeup, test_cancelled_error_re_aquire, test_cancelled_wakeup,
//!   test_cancelled_wakeup_relock.
//!
//! How the Python idioms map here:
//! * toro resolves waiter callbacks inside `notify` ([SYNC]); here a notified waiter is *woken
//!   inside the call, in FIFO order*, which a recording waker (`WakeLog`) observes.
//! * tornado's `wait(timeout)` resolves `False` on timeout; here `.deadline(d)` gives
//!   `Err(Timeout)`.
//! * asyncio's Condition owns a lock; here `Condition::wait_with(guard)` pairs it with a
//!   `Mutex` the way `std::sync::Condvar` does, and a task "holding the lock" is a future whose
//!   output is the guard. Dropping a future is asyncio's `task.cancel()`.
//! * All timing runs on tokio's paused clock; "≈0.1 s" becomes an exact virtual elapsed time.

mod common;

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::time::Duration;

use common::{Polled, WakeLog};
use tokio::time::Instant;
use toro_sync::{Condition, Mutex, MutexGuard, Timeout};

const MS: Duration = Duration::from_millis(1);

/// Asserts the virtual time since `start` is `expected` (to the timer's 1 ms resolution).
#[track_caller]
fn assert_elapsed(start: Instant, expected: Duration) {
    let elapsed = start.elapsed();
    assert!(
        elapsed >= expected && elapsed < expected + 2 * MS,
        "elapsed {elapsed:?}, expected about {expected:?}"
    );
}

/// Yields until `done()` holds, letting spawned tasks run (current-thread runtime).
async fn yield_until(mut done: impl FnMut() -> bool) {
    for _ in 0..10_000 {
        if done() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("the condition was never reached");
}

// ---------------------------------------------------------------------------------------------
// toro TestCondition.test_str, tornado ConditionTest.test_repr, asyncio ConditionTests.test_repr
// ---------------------------------------------------------------------------------------------

/// PINNED (differs): str/repr become `Debug`. toro and tornado print "waiters" only while
/// someone waits; our `Debug` always shows the count. asyncio's repr shows its lock's state: a
/// Condition has no lock here, the `Mutex` used with `wait_with` shows it instead.
#[test]
fn str_and_repr_become_debug() {
    let c = Condition::new();
    assert_eq!(format!("{c:?}"), "Condition { waiters: 0 }");
    let mut w1 = Polled::new(c.wait());
    assert!(w1.is_pending());
    assert_eq!(format!("{c:?}"), "Condition { waiters: 1 }");
    let mut w2 = Polled::new(c.wait());
    assert!(w2.is_pending());
    assert_eq!(format!("{c:?}"), "Condition { waiters: 2 }");
    assert_eq!(c.notify_all(), 2);
    assert_eq!(format!("{c:?}"), "Condition { waiters: 0 }");
    assert!(w1.poll().is_ready() && w2.poll().is_ready());

    let m = Mutex::new(());
    assert!(!format!("{m:?}").contains("<locked>"));
    let g = m.try_lock().unwrap();
    assert!(format!("{m:?}").contains("<locked>"));
    drop(g);
}

// ---------------------------------------------------------------------------------------------
// toro TestCondition.test_notify, tornado ConditionTest.test_notify
// ---------------------------------------------------------------------------------------------

/// A wait is resolved by a notify from another task after 0.1 s (toro) / 10 ms (tornado).
#[tokio::test(start_paused = true)]
async fn notify_later_resolves_wait() {
    for delay in [100 * MS, 10 * MS] {
        let c = Arc::new(Condition::new());
        let start = Instant::now();
        let notifier = tokio::spawn({
            let c = c.clone();
            async move {
                tokio::time::sleep(delay).await;
                c.notify_one()
            }
        });
        c.wait().await;
        assert_elapsed(start, delay);
        assert!(notifier.await.unwrap(), "the notify found the waiter");
    }
}

// ---------------------------------------------------------------------------------------------
// toro TestCondition.test_notify_1 [SYNC], tornado ConditionTest.test_notify_1
// ---------------------------------------------------------------------------------------------

/// History 'wait1', 'notify1', 'wait2', 'notify2': each `notify(1)` wakes exactly the next
/// waiter. PINNED for toro's [SYNC]: toro ran the waiter's callback inside `notify`; here the
/// waiter is woken inside the call, in FIFO order, seen by a recording waker.
#[test]
fn notify_1_wakes_exactly_the_next_waiter_within_the_call() {
    let c = Condition::new();
    let log = WakeLog::default();
    let mut w1 = Polled::with_waker(c.wait(), log.waker(1));
    let mut w2 = Polled::with_waker(c.wait(), log.waker(2));
    assert!(w1.is_pending() && w2.is_pending());
    assert_eq!(c.notify(1), 1);
    assert_eq!(log.take(), [1], "wait1 woken before notify(1) returned");
    assert!(w1.poll().is_ready());
    assert!(w2.is_pending());
    assert_eq!(c.notify(1), 1);
    assert_eq!(
        log.take(),
        [2],
        "wait2 woken before the second notify(1) returned"
    );
    assert!(w2.poll().is_ready());
}

// ---------------------------------------------------------------------------------------------
// toro TestCondition.test_notify_n, tornado ConditionTest.test_notify_n
// ---------------------------------------------------------------------------------------------

/// Six waiters: notify(3), notify(1), notify(2) wake 0-2, then 3, then 4-5, oldest first.
#[test]
fn notify_n_wakes_in_registration_order() {
    let c = Condition::new();
    let log = WakeLog::default();
    let mut ws: Vec<_> = (0..6)
        .map(|i| Polled::with_waker(c.wait(), log.waker(i)))
        .collect();
    for w in &mut ws {
        assert!(w.is_pending());
    }
    assert_eq!(c.notify(3), 3);
    assert_eq!(log.take(), [0, 1, 2]);
    assert_eq!(c.notify(1), 1);
    assert_eq!(log.take(), [3]);
    assert_eq!(c.notify(2), 2);
    assert_eq!(log.take(), [4, 5]);
    for w in &mut ws {
        assert!(w.poll().is_ready());
    }
    assert_eq!(c.waiters(), 0);
}

// ---------------------------------------------------------------------------------------------
// toro TestCondition.test_notify_all [SYNC], tornado ConditionTest.test_notify_all
// ---------------------------------------------------------------------------------------------

/// All 4 waiters are released, in order, before `notify_all` returns. PINNED for toro's
/// [SYNC]: woken within the call (recording waker) instead of callbacks run within it.
#[test]
fn notify_all_wakes_everyone_in_order_within_the_call() {
    let c = Condition::new();
    let log = WakeLog::default();
    let mut ws: Vec<_> = (0..4)
        .map(|i| Polled::with_waker(c.wait(), log.waker(i)))
        .collect();
    for w in &mut ws {
        assert!(w.is_pending());
    }
    assert_eq!(c.notify_all(), 4);
    assert_eq!(
        log.take(),
        [0, 1, 2, 3],
        "all woken, FIFO, before notify_all returned"
    );
    for w in &mut ws {
        assert!(w.poll().is_ready());
    }
}

// ---------------------------------------------------------------------------------------------
// toro TestCondition.test_wait_timeout; tornado ConditionTest.test_wait_timeout
// ---------------------------------------------------------------------------------------------

/// A wait with a 0.1 s deadline fails with Timeout after 0.1 s (toro raises `toro.Timeout`).
#[tokio::test(start_paused = true)]
async fn toro_wait_timeout() {
    let c = Condition::new();
    let start = Instant::now();
    assert_eq!(c.wait().deadline(100 * MS).await, Err(Timeout));
    assert_elapsed(start, 100 * MS);
    assert_eq!(c.waiters(), 0);
}

/// PINNED (differs from tornado): tornado's `wait(timeout)` resolves `False` (never raises);
/// here the deadline gives `Err(Timeout)`. A notify at 20 ms comes too late and finds nobody.
#[tokio::test(start_paused = true)]
async fn tornado_wait_timeout_is_err_timeout_not_false() {
    let c = Arc::new(Condition::new());
    let start = Instant::now();
    let late = tokio::spawn({
        let c = c.clone();
        async move {
            tokio::time::sleep(20 * MS).await;
            c.notify(1)
        }
    });
    assert_eq!(c.wait().deadline(10 * MS).await, Err(Timeout));
    assert_elapsed(start, 10 * MS);
    tokio::time::sleep(20 * MS).await;
    assert_eq!(
        late.await.unwrap(),
        0,
        "the notify at 20 ms had nobody to wake"
    );
}

// ---------------------------------------------------------------------------------------------
// toro TestCondition.test_wait_timeout_preempted, tornado ConditionTest.test_wait_timeout_preempted
// ---------------------------------------------------------------------------------------------

/// A notify at 0.1 s beats a 0.2 s deadline (toro); 10 ms beats 20 ms (tornado). The wait
/// resolves normally at the notify, not at the deadline.
#[tokio::test(start_paused = true)]
async fn wait_timeout_preempted_by_notify() {
    for (notify_at, deadline) in [(100 * MS, 200 * MS), (10 * MS, 20 * MS)] {
        let c = Arc::new(Condition::new());
        let start = Instant::now();
        let notifier = tokio::spawn({
            let c = c.clone();
            async move {
                tokio::time::sleep(notify_at).await;
                c.notify(1)
            }
        });
        assert_eq!(c.wait().deadline(deadline).await, Ok(()));
        assert_elapsed(start, notify_at);
        assert_eq!(notifier.await.unwrap(), 1);
    }
}

// ---------------------------------------------------------------------------------------------
// toro TestCondition.test_notify_n_with_timeout, tornado ConditionTest.test_notify_n_with_timeout
// ---------------------------------------------------------------------------------------------

/// Waiters 0, 1 (with a deadline), 2, 3. After 1 times out, `notify(2)` wakes 0 and 2 (the
/// expired one does not count against n) and `notify(1)` wakes 3. tornado records the expired
/// one as a `False` result: PINNED to `Err(Timeout)` here.
#[tokio::test(start_paused = true)]
async fn notify_n_does_not_count_a_timed_out_waiter() {
    let c = Condition::new();
    let log = WakeLog::default();
    let mut w0 = Polled::with_waker(c.wait(), log.waker(0));
    let mut w1 = Polled::new(c.wait().deadline(10 * MS));
    let mut w2 = Polled::with_waker(c.wait(), log.waker(2));
    let mut w3 = Polled::with_waker(c.wait(), log.waker(3));
    assert!(w0.is_pending() && w1.is_pending() && w2.is_pending() && w3.is_pending());
    tokio::time::sleep(20 * MS).await;
    assert_eq!(w1.wakes(), 1, "its deadline fired");
    assert_eq!(w1.ready(), Err(Timeout), "history: ['timeout']");
    assert_eq!(c.waiters(), 3);
    assert_eq!(c.notify(2), 2);
    assert_eq!(log.take(), [0, 2], "history: ['timeout', 0, 2]");
    assert_eq!(c.notify(1), 1);
    assert_eq!(log.take(), [3], "history: ['timeout', 0, 2, 3]");
    assert!(w0.poll().is_ready() && w2.poll().is_ready() && w3.poll().is_ready());
}

// ---------------------------------------------------------------------------------------------
// toro TestCondition.test_notify_all_with_timeout, tornado ConditionTest.test_notify_all_with_timeout
// ---------------------------------------------------------------------------------------------

/// After one of three waiters times out, `notify_all` wakes the other two (tornado: `False`
/// for the expired one, PINNED to `Err(Timeout)`).
#[tokio::test(start_paused = true)]
async fn notify_all_after_one_waiter_timed_out() {
    let c = Condition::new();
    let log = WakeLog::default();
    let mut w0 = Polled::with_waker(c.wait(), log.waker(0));
    let mut w1 = Polled::new(c.wait().deadline(10 * MS));
    let mut w2 = Polled::with_waker(c.wait(), log.waker(2));
    assert!(w0.is_pending() && w1.is_pending() && w2.is_pending());
    tokio::time::sleep(20 * MS).await;
    assert_eq!(w1.ready(), Err(Timeout));
    assert_eq!(c.notify_all(), 2);
    assert_eq!(log.take(), [0, 2]);
    assert!(w0.poll().is_ready() && w2.poll().is_ready());
}

// ---------------------------------------------------------------------------------------------
// tornado ConditionTest.test_nested_notify
// ---------------------------------------------------------------------------------------------

/// A waker that calls `notify(1)` when woken: tornado's done-callback that re-enters notify.
struct NotifyOnWake(Arc<Condition>);

impl Wake for NotifyOnWake {
    fn wake(self: Arc<Self>) {
        self.0.notify(1);
    }
}

/// Three waiters; waiter #2's wake-up re-enters `notify()`. `notify(2)` plus the nested notify
/// release all three: no notification is lost on re-entry (wakers run after the internal lock
/// is released, so the nested call does not deadlock either).
#[test]
fn nested_notify_from_a_waker_loses_nothing() {
    let c = Arc::new(Condition::new());
    let mut f0 = Polled::new(c.wait());
    let nested = Waker::from(Arc::new(NotifyOnWake(c.clone())));
    let mut f1 = Polled::with_waker(c.wait(), nested);
    let mut f2 = Polled::new(c.wait());
    assert!(f0.is_pending() && f1.is_pending() && f2.is_pending());
    assert_eq!(c.notify(2), 2);
    assert_eq!(f2.wakes(), 1, "the nested notify reached the third waiter");
    assert!(f0.poll().is_ready() && f1.poll().is_ready() && f2.poll().is_ready());
    assert_eq!(c.waiters(), 0);
}

// ---------------------------------------------------------------------------------------------
// tornado ConditionTest.test_garbage_collection
// ---------------------------------------------------------------------------------------------

/// 101 timed-out waiters plus 1 live one: once they time out only the live one is left, and it
/// is still notified. (tornado prunes lazily after >100 timeouts; here each timed-out waiter is
/// removed when it times out, which satisfies the same assertions.)
#[tokio::test(start_paused = true)]
async fn timed_out_waiters_are_collected() {
    let c = Arc::new(Condition::new());
    let timed: Vec<_> = (0..101)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.wait().deadline(10 * MS).await })
        })
        .collect();
    yield_until(|| c.waiters() == 101).await;
    let mut live = Polled::new(c.wait());
    assert!(live.is_pending());
    assert_eq!(c.waiters(), 102);
    tokio::time::sleep(20 * MS).await;
    assert_eq!(c.waiters(), 1);
    assert!(live.is_pending(), "the final waiter is still active");
    assert_eq!(c.notify(1), 1);
    assert!(live.poll().is_ready());
    for t in timed {
        assert_eq!(t.await.unwrap(), Err(Timeout));
    }
}

// ---------------------------------------------------------------------------------------------
// asyncio ConditionTests.test_wait
// ---------------------------------------------------------------------------------------------

/// c1..c3 lock, wait, and on wake keep the lock (their output is the guard); the main code
/// notifies while holding the lock, so nothing runs until it releases, and each release (drop
/// of the last holder's guard) lets exactly the next notified waiter re-lock.
#[test]
fn asyncio_wait() {
    let m = Mutex::new(());
    let c = Condition::new();
    let result = RefCell::new(Vec::new());
    let (mr, cr, rr) = (&m, &c, &result);
    let task = move |i: i32| async move {
        let g = mr.lock().await;
        let g = cr.wait_with(g).await;
        rr.borrow_mut().push(i);
        g
    };
    let mut t1 = Polled::new(task(1));
    let mut t2 = Polled::new(task(2));
    let mut t3 = Polled::new(task(3));
    assert!(t1.is_pending() && t2.is_pending() && t3.is_pending());
    assert!(result.borrow().is_empty());
    assert!(!m.is_locked());

    let g = m.try_lock().unwrap();
    assert_eq!(c.notify(1), 1);
    assert!(t1.is_pending() && t2.is_pending() && t3.is_pending());
    assert!(result.borrow().is_empty());
    assert!(m.is_locked());

    drop(g); // cond.release()
    let g1 = t1.ready();
    assert!(t2.is_pending() && t3.is_pending());
    assert_eq!(*result.borrow(), [1]);
    assert!(m.is_locked());

    assert_eq!(c.notify(2), 2);
    assert!(t2.is_pending() && t3.is_pending());
    assert_eq!(*result.borrow(), [1]);
    assert!(m.is_locked());

    drop(g1);
    let g2 = t2.ready();
    assert!(t3.is_pending());
    assert_eq!(*result.borrow(), [1, 2]);
    assert!(m.is_locked());

    drop(g2);
    let g3 = t3.ready();
    assert_eq!(*result.borrow(), [1, 2, 3]);
    assert!(m.is_locked());
    drop(g3);
    assert!(!m.is_locked());
}

// ---------------------------------------------------------------------------------------------
// asyncio ConditionTests.test_wait_cancel
// ---------------------------------------------------------------------------------------------

/// PINNED (differs from asyncio): a cancelled asyncio `wait()` re-acquires the lock before
/// raising, so the condition is locked afterwards. Dropping a `wait_with` future never re-locks:
/// it leaves the line and the mutex stays free.
#[test]
fn asyncio_wait_cancel_does_not_relock() {
    let m = Mutex::new(());
    let c = Condition::new();
    let mut w = Polled::new(c.wait_with(m.try_lock().unwrap()));
    assert!(w.is_pending());
    assert_eq!(c.waiters(), 1);
    assert!(!m.is_locked(), "released once the wait registered");
    drop(w);
    assert_eq!(c.waiters(), 0, "no waiter left behind");
    assert!(!m.is_locked());
}

// ---------------------------------------------------------------------------------------------
// asyncio ConditionTests.test_wait_cancel_contested
// ---------------------------------------------------------------------------------------------

/// PINNED (differs from asyncio): there the waiter, notified while the lock is contested and
/// then cancelled, still ends up holding the lock. Here cancelling is dropping: the dropped
/// waiter holds nothing, and the lock is free once the contender releases it.
#[test]
fn asyncio_wait_cancel_contested() {
    let m = Mutex::new(());
    let c = Condition::new();
    let mut w = Polled::new(c.wait_with(m.try_lock().unwrap()));
    assert!(w.is_pending());
    assert!(!m.is_locked());
    let contender = m.try_lock().unwrap();
    assert_eq!(c.notify(1), 1);
    drop(w);
    drop(contender);
    assert!(!m.is_locked());
    assert_eq!(c.waiters(), 0);
    assert_eq!(m.waiters(), 0);
}

// ---------------------------------------------------------------------------------------------
// asyncio ConditionTests.test_wait_cancel_after_notify (bpo-32841)
// ---------------------------------------------------------------------------------------------

/// Notified, the waiter starts re-locking (the lock is held), and is cancelled there: it leaves
/// the mutex's line, and after the release nothing holds the lock.
#[test]
fn asyncio_wait_cancel_after_notify() {
    let m = Mutex::new(());
    let c = Condition::new();
    let waited = Cell::new(false);
    let mut w = Polled::new(async {
        let g = m.lock().await;
        waited.set(true);
        let _g = c.wait_with(g).await;
    });
    assert!(w.is_pending(), "start waiting");
    let g = m.try_lock().unwrap();
    assert_eq!(c.notify(1), 1);
    assert!(w.is_pending(), "notified: now re-locking behind the holder");
    assert_eq!(m.waiters(), 1);
    drop(w);
    assert_eq!(m.waiters(), 0);
    drop(g);
    assert!(!m.is_locked());
    assert!(waited.get());
}

// ---------------------------------------------------------------------------------------------
// asyncio ConditionTests.test_wait_unacquired, test_notify_unacquired, test_notify_all_unacquired,
// test_wait_for_unacquired
// ---------------------------------------------------------------------------------------------

/// PINNED (differs from asyncio): asyncio raises RuntimeError when wait/notify/notify_all are
/// called without the lock. This Condition is toro's, which needs no lock (toro#7, declined):
/// all three work lock-free; and `wait_with` takes a guard by type, so "without the lock" is
/// unrepresentable there. A predicate already true (`wait_for`) returns without waiting.
#[test]
fn lockless_wait_and_notify_are_allowed() {
    let c = Condition::new();
    assert_eq!(c.notify(1), 0);
    assert_eq!(c.notify_all(), 0);
    let mut w = Polled::new(c.wait());
    assert!(w.is_pending());
    assert_eq!(c.notify(1), 1);
    assert!(w.poll().is_ready());

    // asyncio `wait_for(lambda: [1, 2, 3])` with the predicate true at once.
    let m = Mutex::new(vec![1, 2, 3]);
    let mut t = Polled::new(async {
        let mut g = m.lock().await;
        while g.is_empty() {
            g = c.wait_with(g).await;
        }
        g.clone()
    });
    assert_eq!(t.ready(), [1, 2, 3]);
    assert_eq!(c.waiters(), 0, "it never registered");
}

// ---------------------------------------------------------------------------------------------
// asyncio ConditionTests.test_wait_for
// ---------------------------------------------------------------------------------------------

/// `wait_for(predicate)` is the `while !predicate { guard = wait_with(guard).await }` loop: a
/// notify with the predicate false leaves it waiting; with the predicate true it returns.
#[test]
fn asyncio_wait_for_predicate_loop() {
    let m = Mutex::new(());
    let c = Condition::new();
    let presult = Cell::new(false);
    let result = RefCell::new(Vec::new());
    let mut t = Polled::new(async {
        let mut g = m.lock().await;
        while !presult.get() {
            g = c.wait_with(g).await;
        }
        result.borrow_mut().push(1);
        drop(g);
        true
    });
    assert!(t.is_pending());
    assert!(result.borrow().is_empty());

    let g = m.try_lock().unwrap();
    assert_eq!(c.notify(1), 1);
    drop(g);
    assert!(t.is_pending(), "woken, predicate false: waits again");
    assert!(result.borrow().is_empty());

    presult.set(true);
    let g = m.try_lock().unwrap();
    assert_eq!(c.notify(1), 1);
    drop(g);
    assert!(t.ready());
    assert_eq!(*result.borrow(), [1]);
    assert!(!m.is_locked());
}

// ---------------------------------------------------------------------------------------------
// asyncio ConditionTests.test_notify, test_notify_all
// ---------------------------------------------------------------------------------------------

/// asyncio's `c1..c3`: lock, wait, record, release.
async fn recording_waiter(
    m: &Mutex<()>,
    c: &Condition,
    result: &RefCell<Vec<i32>>,
    i: i32,
) -> bool {
    let g = m.lock().await;
    let g = c.wait_with(g).await;
    result.borrow_mut().push(i);
    drop(g);
    true
}

/// notify(1) releases one; then notify(1) and notify(2048) (more than are waiting) release the
/// other two.
#[test]
fn asyncio_notify() {
    let m = Mutex::new(());
    let c = Condition::new();
    let result = RefCell::new(Vec::new());
    let mut ts: Vec<_> = (1..=3)
        .map(|i| Polled::new(recording_waiter(&m, &c, &result, i)))
        .collect();
    for t in &mut ts {
        assert!(t.is_pending());
    }
    assert!(result.borrow().is_empty());

    let g = m.try_lock().unwrap();
    assert_eq!(c.notify(1), 1);
    drop(g);
    for t in &mut ts {
        let _ = t.poll();
    }
    assert_eq!(*result.borrow(), [1]);

    let g = m.try_lock().unwrap();
    assert_eq!(c.notify(1), 1);
    assert_eq!(c.notify(2048), 1, "only one waiter was left");
    drop(g);
    assert!(ts[1].ready() && ts[2].ready());
    assert_eq!(*result.borrow(), [1, 2, 3]);
}

#[test]
fn asyncio_notify_all() {
    let m = Mutex::new(());
    let c = Condition::new();
    let result = RefCell::new(Vec::new());
    let mut t1 = Polled::new(recording_waiter(&m, &c, &result, 1));
    let mut t2 = Polled::new(recording_waiter(&m, &c, &result, 2));
    assert!(t1.is_pending() && t2.is_pending());
    let g = m.try_lock().unwrap();
    assert_eq!(c.notify_all(), 2);
    drop(g);
    assert!(t1.ready() && t2.ready());
    assert_eq!(*result.borrow(), [1, 2]);
}

// ---------------------------------------------------------------------------------------------
// asyncio ConditionTests.test_explicit_lock
// ---------------------------------------------------------------------------------------------

/// PINNED (differs from asyncio): there is no `Condition(lock)`; one Condition pairs with
/// whichever mutex's guard is passed to `wait_with`, and each mutex's state follows its guard.
#[test]
fn asyncio_explicit_lock_is_the_guard_passed_in() {
    let c = Condition::new();
    let m1 = Mutex::new(1);
    let m2 = Mutex::new(2);
    let mut w1 = Polled::new(c.wait_with(m1.try_lock().unwrap()));
    let mut w2 = Polled::new(c.wait_with(m2.try_lock().unwrap()));
    assert!(w1.is_pending() && w2.is_pending());
    assert!(!m1.is_locked() && !m2.is_locked());
    assert_eq!(c.notify_all(), 2);
    let g1 = w1.ready();
    let g2 = w2.ready();
    assert!(std::ptr::eq(MutexGuard::mutex(&g1), &m1));
    assert!(std::ptr::eq(MutexGuard::mutex(&g2), &m2));
    assert_eq!((*g1, *g2), (1, 2));
    assert!(m1.is_locked() && m2.is_locked());
    drop(g1);
    assert!(!m1.is_locked() && m2.is_locked());
    drop(g2);
    assert!(!m2.is_locked());
}

// ---------------------------------------------------------------------------------------------
// asyncio ConditionTests.test_timeout_in_block
// ---------------------------------------------------------------------------------------------

/// PINNED (differs from asyncio): `wait_for(cond.wait(), 0.5)` inside `async with cond` raises
/// TimeoutError with the lock re-acquired. Here the deadline bounds the whole `wait_with`
/// (re-locking included) and on timeout the lock is *not* held.
#[tokio::test(start_paused = true)]
async fn asyncio_timeout_in_block() {
    let m = Mutex::new(());
    let c = Condition::new();
    let g = m.lock().await;
    let start = Instant::now();
    let r = c.wait_with(g).deadline(500 * MS).await;
    assert!(matches!(r, Err(Timeout)));
    assert_elapsed(start, 500 * MS);
    assert!(!m.is_locked());
    assert_eq!(c.waiters(), 0);
}

// ---------------------------------------------------------------------------------------------
// asyncio ConditionTests.test_cancelled_wakeup, test_cancelled_wakeup_relock (gh-112202)
// ---------------------------------------------------------------------------------------------

/// asyncio's consumer: `async with cond: while True: await wait_for(state != 0); if state < 0:
/// return; state -= 1`.
async fn consumer(m: &Mutex<i32>, c: &Condition) {
    let mut g = m.lock().await;
    loop {
        while *g == 0 {
            g = c.wait_with(g).await;
        }
        if *g < 0 {
            return;
        }
        *g -= 1;
    }
}

/// Two consumers; one item produced and `notify(1)`; the notified consumer is cancelled before
/// it runs. The notification must not be lost: the other consumer takes the item.
#[test]
fn asyncio_cancelled_wakeup() {
    let m = Mutex::new(0);
    let c = Condition::new();
    let mut c0 = Polled::new(consumer(&m, &c));
    let mut c1 = Polled::new(consumer(&m, &c));
    assert!(c0.is_pending() && c1.is_pending());
    assert_eq!(c.waiters(), 2);

    let mut g = m.try_lock().unwrap();
    *g += 1;
    assert_eq!(c.notify(1), 1);
    drop(c0); // cancelled while awaiting its first wake-up
    drop(g); // the producer waits for state == 0, releasing the lock
    assert!(c1.is_pending());
    assert_eq!(
        *m.try_lock().unwrap(),
        0,
        "the item was consumed: no lost wake-up"
    );

    *m.try_lock().unwrap() = -1;
    c.notify_all();
    assert!(matches!(c1.poll(), std::task::Poll::Ready(())));
}

/// As above, but the notified consumer is cancelled while it re-acquires the lock (after the
/// wake-up). The crate docs' guarantee 2 (cancel safety): what was handed to a dropped waiter
/// (a notification) passes on.
#[test]
fn asyncio_cancelled_wakeup_relock() {
    let m = Mutex::new(0);
    let c = Condition::new();
    let mut c0 = Polled::new(consumer(&m, &c));
    let mut c1 = Polled::new(consumer(&m, &c));
    assert!(c0.is_pending() && c1.is_pending());

    let mut g = m.try_lock().unwrap();
    *g += 1;
    assert_eq!(c.notify(1), 1);
    assert!(c0.is_pending(), "woken; now waiting to re-acquire the lock");
    assert_eq!(m.waiters(), 1);
    drop(c0); // cancelled while awaiting the lock
    drop(g);
    assert!(c1.is_pending());
    assert_eq!(
        *m.try_lock().unwrap(),
        0,
        "the notification handed to the cancelled consumer was lost: nobody took the item"
    );

    *m.try_lock().unwrap() = -1;
    c.notify_all();
    assert!(matches!(c1.poll(), std::task::Poll::Ready(())));
}

// ---------------------------------------------------------------------------------------------
// Extras (no original case): the same hand-off rule when the deadline, not a drop, ends the
// re-locking phase; and toro's documented deadline forms.
// ---------------------------------------------------------------------------------------------

/// EXTRA (the crate docs' guarantee 2, "or its deadline passing"): a `wait_with` that was
/// notified but times out while re-locking must pass its notification to the next waiter.
#[tokio::test(start_paused = true)]
async fn extra_wait_with_timing_out_while_relocking_passes_the_notification_on() {
    let m = Arc::new(Mutex::new(()));
    let c = Condition::new();
    let g = m.lock().await;
    let mut a = Polled::new(c.wait_with(g).deadline(10 * MS));
    assert!(a.is_pending());
    let mut b = Polled::new(c.wait());
    assert!(b.is_pending());
    let holder = m.try_lock().unwrap();
    assert_eq!(c.notify(1), 1);
    assert!(a.is_pending(), "notified; re-locking behind the holder");
    tokio::time::sleep(20 * MS).await;
    assert!(a.ready().is_err(), "the deadline covers re-locking");
    drop(holder);
    assert_eq!(
        b.wakes(),
        1,
        "the notification passed on to the next waiter"
    );
    assert!(b.poll().is_ready());
}

/// EXTRA (toro docs, index page): `condition.wait(deadline=loop.time() + 1)` and
/// `wait(deadline=timedelta(seconds=1))`. An absolute deadline is an `Instant` (here read on
/// tokio's paused clock), a relative one a `Duration`; both raise the timeout after 1 s.
#[tokio::test(start_paused = true)]
async fn extra_toro_docs_absolute_and_relative_deadlines() {
    let c = Condition::new();
    let start = Instant::now();
    let absolute = (Instant::now() + Duration::from_secs(1)).into_std();
    assert_eq!(c.wait().deadline(absolute).await, Err(Timeout));
    assert_elapsed(start, Duration::from_secs(1));
    let start = Instant::now();
    assert_eq!(
        c.wait().deadline(Duration::from_secs(1)).await,
        Err(Timeout)
    );
    assert_elapsed(start, Duration::from_secs(1));
}
