//! Ported behaviour suites: `AsyncResult` (and toro's `Timeout` error).
//!
//! Originals (every case is mapped in tests/PORTED.md):
//!
//! * toro 1.0.1 `test/test_async_result.py`, `TestAsyncResult` (6): test_str, test_get_nowait,
//!   test_raises_after_timeout, test_set, test_get_callback, test_get_timeout.
//! * toro 1.0.1 `test/test_timeout.py`, `TestTimeout` (1): test_str — toro's errors live with
//!   AsyncResult's in the top-level module, so `Timeout`'s port is here.
//!
//! tornado and asyncio have no AsyncResult (tornado said: use a plain Future). toro's
//! `get_nowait()` → `NotReady` is `try_get()` → `Err(NotReady)`; its second `set` raising
//! `AlreadySet` is `set()` → `Err(AlreadySet(value))`, which hands the value back.
//! Timing runs on tokio's paused clock.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Polled, WakeLog};
use tokio::time::Instant;
use toro_sync::{AlreadySet, AsyncResult, NotReady, Timeout};

const MS: Duration = Duration::from_millis(1);

#[track_caller]
fn assert_elapsed(start: Instant, expected: Duration) {
    let elapsed = start.elapsed();
    assert!(
        elapsed >= expected && elapsed < expected + 2 * MS,
        "elapsed {elapsed:?}, expected about {expected:?}"
    );
}

/// toro TestAsyncResult.test_str. PINNED (differs): str becomes `Debug`. toro prints
/// `<AsyncResult unset>`, `<AsyncResult value=…>` and 'waiters' only while someone waits; our
/// `Debug` always has the value (or `<unset>`) and the waiter count.
#[test]
fn toro_str_becomes_debug() {
    let r = AsyncResult::new();
    assert_eq!(
        format!("{r:?}"),
        "AsyncResult { value: <unset>, waiters: 0 }"
    );
    let mut get = Polled::new(r.get());
    assert!(get.is_pending());
    assert_eq!(
        format!("{r:?}"),
        "AsyncResult { value: <unset>, waiters: 1 }"
    );
    r.set("fizzle").unwrap();
    let shown = format!("{r:?}");
    assert!(shown.contains("fizzle"), "{shown}");
    assert!(shown.contains("waiters: 0"), "{shown}");
    assert_eq!(*get.ready(), "fizzle");
}

/// toro TestAsyncResult.test_get_nowait: `NotReady` while unset.
#[test]
fn toro_get_nowait() {
    let r = AsyncResult::<i32>::new();
    assert_eq!(r.try_get(), Err(NotReady));
    assert!(!r.is_ready());
}

/// toro TestAsyncResult.test_raises_after_timeout: `get(deadline=0.1s)` fails with Timeout
/// after 0.1 s.
#[tokio::test(start_paused = true)]
async fn toro_raises_after_timeout() {
    let r = AsyncResult::<i32>::new();
    let start = Instant::now();
    assert_eq!(r.get().deadline(100 * MS).await, Err(Timeout));
    assert_elapsed(start, 100 * MS);
    assert_eq!(r.waiters(), 0);
}

/// toro TestAsyncResult.test_set: a set 0.1 s later resolves a pending get with the value;
/// `ready()`; repeated `get()` and `get_nowait()` return it; a second `set` is `AlreadySet`.
#[tokio::test(start_paused = true)]
async fn toro_set() {
    let r = Arc::new(AsyncResult::new());
    let start = Instant::now();
    let setter = tokio::spawn({
        let r = r.clone();
        async move {
            tokio::time::sleep(100 * MS).await;
            r.set("foo").unwrap();
        }
    });
    assert_eq!(*r.get().await, "foo");
    assert_elapsed(start, 100 * MS);
    setter.await.unwrap();
    assert!(r.is_ready());
    assert_eq!(*r.get().await, "foo");
    assert_eq!(r.try_get(), Ok(&"foo"));
    let err = r.set("bar").unwrap_err();
    assert!(
        matches!(err, AlreadySet("bar")),
        "the rejected value comes back"
    );
    assert_eq!(r.try_get(), Ok(&"foo"), "the first value stays");
}

/// toro TestAsyncResult.test_get_callback [SYNC]. PINNED: toro runs both gets' callbacks inside
/// `set()`, in registration order; here both waiters are woken inside `set()`, in registration
/// order (recording waker).
#[test]
fn toro_get_callback_woken_within_set_in_order() {
    let r = AsyncResult::new();
    let log = WakeLog::default();
    let mut g1 = Polled::with_waker(r.get(), log.waker(1));
    let mut g2 = Polled::with_waker(r.get(), log.waker(2));
    assert!(g1.is_pending() && g2.is_pending());
    r.set(7).unwrap();
    assert_eq!(
        log.take(),
        [1, 2],
        "both woken, in order, before set returned"
    );
    assert_eq!((*g1.ready(), *g2.ready()), (7, 7));
}

/// toro TestAsyncResult.test_get_timeout: after a timed-out get the result is still unset; a
/// later `set` works, and a later timed get returns the value.
#[tokio::test(start_paused = true)]
async fn toro_get_timeout() {
    let r = AsyncResult::new();
    assert_eq!(r.get().deadline(10 * MS).await, Err(Timeout));
    assert_eq!(r.try_get(), Err(NotReady));
    assert_eq!(r.waiters(), 0, "the timed-out get left nothing behind");
    r.set(1).unwrap();
    assert_eq!(r.get().deadline(10 * MS).await, Ok(&1));
}

/// toro TestTimeout.test_str. PINNED (differs): `str(Timeout())` works; here `Timeout` has
/// `Display` and `Debug` and is a `std::error::Error`.
#[test]
fn toro_timeout_str_becomes_display_and_debug() {
    assert_eq!(Timeout.to_string(), "deadline passed");
    assert_eq!(format!("{Timeout:?}"), "Timeout");
    let as_error: &dyn std::error::Error = &Timeout;
    assert!(!as_error.to_string().is_empty());
    assert!(!NotReady.to_string().is_empty());
    assert_eq!(format!("{:?}", AlreadySet("secret")), "AlreadySet(..)");
}
