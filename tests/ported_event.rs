//! Ported behaviour suites: `Event`.
//!
//! Originals (every case is mapped in tests/PORTED.md):
//!
//! * toro 1.0.1 `test/test_event.py`, `TestEvent` (5): test_str, test_event_1, test_event_100,
//!   test_event_timeout, test_event_nowait.
//! * tornado `tornado/test/locks_test.py`, `EventTest` (5): test_repr, test_event,
//!   test_event_timeout, test_event_set_multiple, test_event_wait_clear.
//! * CPython `Lib/test/test_asyncio/test_locks.py`, `EventTests` (6): test_repr, test_wait,
//!   test_wait_on_set, test_wait_cancel, test_clear, test_clear_with_waiters.
//!
//! Python calls `e.wait()` and the returned future is live at once; a Rust future does nothing
//! until polled, so "the Python call" is a first poll here (`Polled::is_pending`). Dropping a
//! future is asyncio's `cancel()`. Timing runs on tokio's paused clock.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Polled, WakeLog};
use tokio::time::Instant;
use toro_sync::{Event, Timeout};

const MS: Duration = Duration::from_millis(1);

#[track_caller]
fn assert_elapsed(start: Instant, expected: Duration) {
    let elapsed = start.elapsed();
    assert!(
        elapsed >= expected && elapsed < expected + 2 * MS,
        "elapsed {elapsed:?}, expected about {expected:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// toro TestEvent.test_str, tornado EventTest.test_repr, asyncio EventTests.test_repr
// ---------------------------------------------------------------------------------------------

/// PINNED (differs): str/repr become `Debug`. toro/tornado print 'clear'/'set', asyncio
/// '[unset]'/'[set]' and 'waiters:1'; our `Debug` shows `set: bool` and the waiter count.
#[test]
fn str_and_repr_become_debug() {
    let e = Event::new();
    assert_eq!(format!("{e:?}"), "Event { set: false, waiters: 0 }");
    let mut w = Polled::new(e.wait());
    assert!(w.is_pending());
    assert_eq!(format!("{e:?}"), "Event { set: false, waiters: 1 }");
    e.set();
    assert_eq!(format!("{e:?}"), "Event { set: true, waiters: 0 }");
    assert!(w.poll().is_ready());
    e.clear();
    assert_eq!(format!("{e:?}"), "Event { set: false, waiters: 0 }");
}

// ---------------------------------------------------------------------------------------------
// toro TestEvent.test_event_1, test_event_100
// ---------------------------------------------------------------------------------------------

/// `n` waiters, then `set()` immediately followed by `clear()`: every waiter still completes.
fn set_then_clear_releases_every_waiter(n: usize) {
    let e = Event::new();
    let mut ws: Vec<_> = (0..n).map(|_| Polled::new(e.wait())).collect();
    for w in &mut ws {
        assert!(w.is_pending());
    }
    e.set();
    e.clear();
    assert!(!e.is_set());
    for w in &mut ws {
        assert_eq!(w.wakes(), 1);
        assert!(w.poll().is_ready());
    }
    assert_eq!(e.waiters(), 0);
}

#[test]
fn toro_event_1() {
    set_then_clear_releases_every_waiter(1);
}

#[test]
fn toro_event_100() {
    set_then_clear_releases_every_waiter(100);
}

// ---------------------------------------------------------------------------------------------
// toro TestEvent.test_event_timeout, tornado EventTest.test_event_timeout
// ---------------------------------------------------------------------------------------------

/// A wait with a deadline (0.1 s toro, 10 ms tornado) fails with Timeout; afterwards a `set`
/// one step later resolves a wait with a 1 s deadline, with `()` (toro: result None).
#[tokio::test(start_paused = true)]
async fn event_timeout_then_set_resolves_a_later_wait() {
    for step in [100 * MS, 10 * MS] {
        let e = Arc::new(Event::new());
        let start = Instant::now();
        assert_eq!(e.wait().deadline(step).await, Err(Timeout));
        assert_elapsed(start, step);
        assert_eq!(e.waiters(), 0);
        let setter = tokio::spawn({
            let e = e.clone();
            async move {
                tokio::time::sleep(step).await;
                e.set();
            }
        });
        assert_eq!(e.wait().deadline(Duration::from_secs(1)).await, Ok(()));
        assert_elapsed(start, 2 * step);
        setter.await.unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// toro TestEvent.test_event_nowait
// ---------------------------------------------------------------------------------------------

/// After `set()`, `is_set()` is true and `wait()` completes at once; with the flag set even an
/// already-passed deadline is satisfied (toro: the deadline is ignored).
#[tokio::test(start_paused = true)]
async fn toro_event_nowait() {
    let e = Event::new();
    e.set();
    assert!(e.is_set());
    assert!(Polled::new(e.wait()).poll().is_ready());
    assert_eq!(e.wait().deadline(Duration::ZERO).await, Ok(()));
}

// ---------------------------------------------------------------------------------------------
// tornado EventTest.test_event
// ---------------------------------------------------------------------------------------------

/// A wait before `set` resolves on `set`; a wait after `set` is done at once; after `clear` a
/// new wait pends. (Each Python `e.wait()` call is a first poll here.)
#[test]
fn tornado_event() {
    let e = Event::new();
    let mut f0 = Polled::new(e.wait());
    assert!(f0.is_pending());
    e.set();
    let mut f1 = Polled::new(e.wait());
    assert!(
        f1.poll().is_ready(),
        "a wait on a set event is done at once"
    );
    e.clear();
    let mut f2 = Polled::new(e.wait());
    assert!(f2.is_pending());
    assert!(f0.poll().is_ready());

    // Our documented laziness, on top: a future *created* after the set but first polled after
    // the clear waits for the next set (it registers on its first poll).
    e.set();
    let lazy = e.wait();
    e.clear();
    let mut lazy = Polled::new(lazy);
    assert!(lazy.is_pending());
    assert!(f2.poll().is_ready(), "f2 was released by that set");
}

// ---------------------------------------------------------------------------------------------
// tornado EventTest.test_event_set_multiple
// ---------------------------------------------------------------------------------------------

#[test]
fn tornado_event_set_multiple() {
    let e = Event::new();
    e.set();
    e.set();
    assert!(e.is_set());
    assert!(Polled::new(e.wait()).poll().is_ready());
}

// ---------------------------------------------------------------------------------------------
// tornado EventTest.test_event_wait_clear
// ---------------------------------------------------------------------------------------------

/// wait, clear (a no-op), wait, set: both waits resolve.
#[test]
fn tornado_event_wait_clear() {
    let e = Event::new();
    let mut f0 = Polled::new(e.wait());
    assert!(f0.is_pending());
    e.clear();
    let mut f1 = Polled::new(e.wait());
    assert!(f1.is_pending());
    e.set();
    assert!(f0.poll().is_ready());
    assert!(f1.poll().is_ready());
}

// ---------------------------------------------------------------------------------------------
// asyncio EventTests.test_wait
// ---------------------------------------------------------------------------------------------

/// t1 and t2 wait; t3 is created before `set` but first runs after it. All three complete.
/// asyncio's result order [3, 1, 2] is its task scheduling (t3 was already scheduled); the
/// primitive itself wakes registered waiters oldest first, which the recording waker shows,
/// and t3 completes on its first poll.
#[test]
fn asyncio_wait() {
    let e = Event::new();
    assert!(!e.is_set());
    let log = WakeLog::default();
    let mut t1 = Polled::with_waker(e.wait(), log.waker(1));
    let mut t2 = Polled::with_waker(e.wait(), log.waker(2));
    assert!(t1.is_pending() && t2.is_pending());
    let t3 = e.wait();
    e.set();
    assert_eq!(log.take(), [1, 2]);
    assert!(Polled::new(t3).poll().is_ready());
    assert!(t1.poll().is_ready() && t2.poll().is_ready());
}

// ---------------------------------------------------------------------------------------------
// asyncio EventTests.test_wait_on_set
// ---------------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn asyncio_wait_on_set() {
    let e = Event::new();
    e.set();
    let start = Instant::now();
    e.wait().await;
    assert_eq!(start.elapsed(), Duration::ZERO);
}

// ---------------------------------------------------------------------------------------------
// asyncio EventTests.test_wait_cancel
// ---------------------------------------------------------------------------------------------

/// A cancelled (dropped) wait leaves no waiter behind.
#[test]
fn asyncio_wait_cancel() {
    let e = Event::new();
    let mut w = Polled::new(e.wait());
    assert!(w.is_pending());
    assert_eq!(e.waiters(), 1);
    drop(w);
    assert_eq!(e.waiters(), 0);
}

// ---------------------------------------------------------------------------------------------
// asyncio EventTests.test_clear
// ---------------------------------------------------------------------------------------------

#[test]
fn asyncio_clear() {
    let e = Event::new();
    assert!(!e.is_set());
    e.set();
    assert!(e.is_set());
    e.clear();
    assert!(!e.is_set());
}

// ---------------------------------------------------------------------------------------------
// asyncio EventTests.test_clear_with_waiters
// ---------------------------------------------------------------------------------------------

/// set, clear, set, set with one waiter: it completes once. PINNED (differs from asyncio):
/// asyncio keeps the woken waiter's entry until the task runs (`len(_waiters) == 1` after the
/// sets); here `set` releases it from the list at once, so `waiters()` is 0 straight away.
#[test]
fn asyncio_clear_with_waiters() {
    let e = Event::new();
    let mut t = Polled::new(e.wait());
    assert!(t.is_pending());
    e.set();
    e.clear();
    assert!(!e.is_set());
    e.set();
    e.set();
    assert_eq!(e.waiters(), 0, "asyncio: 1 until the task runs");
    assert_eq!(t.wakes(), 1, "woken once, by the first set");
    assert!(t.poll().is_ready());
    assert_eq!(e.waiters(), 0);
}
