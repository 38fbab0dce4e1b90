//! Ported peers' test cases for the semaphore additions: `forget_permits`, permit `forget`,
//! `merge`, `num_permits`, and `add_permits` as the batch `release`.
//!
//! Sources, each test naming its original:
//!
//! * tokio, `tokio/tests/sync_semaphore.rs`: `add_permits`, `forget`, `merge`,
//!   `merge_unrelated_permits`, `add_max_amount_permits`, `add_more_than_max_amount_permits1`.
//! * tokio, `tokio/tests/sync_semaphore_owned.rs`: `forget`, `merge`,
//!   `merge_unrelated_permits` (the owned permit versions).
//! * tokio, `tokio/src/sync/tests/semaphore_batch.rs` (the batch semaphore's unit tests):
//!   `forget_permits_basic`, `update_permits_many_times`.
//!
//! Idioms: tokio's `available_permits()` → `available()`; `try_acquire*` returning `Result` →
//! `Option`; `acquire().await.unwrap()` (closable) → `acquire().await`; tokio's
//! `task::spawn(..).poll()` mock → polling by hand with a no-op waker. tokio has no test of
//! `split` at these sources; `split` is covered in `tests/semaphore.rs`.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use toro_sync::{BoundedSemaphore, Semaphore};

// ---- tokio: tokio/tests/sync_semaphore.rs ----

/// tokio `add_permits`.
#[tokio::test]
async fn tokio_add_permits() {
    let sem = Arc::new(Semaphore::new(0));
    let sem_clone = sem.clone();
    let j = tokio::spawn(async move {
        let _p2 = sem_clone.acquire().await;
    });
    sem.add_permits(1);
    j.await.unwrap();
}

/// tokio `forget`.
#[test]
fn tokio_forget() {
    let sem = Arc::new(Semaphore::new(1));
    {
        let p = sem.try_acquire().unwrap();
        assert_eq!(sem.available(), 0);
        p.forget();
        assert_eq!(sem.available(), 0);
    }
    assert_eq!(sem.available(), 0);
    assert!(sem.try_acquire().is_none());
}

/// tokio `merge`.
#[test]
fn tokio_merge() {
    let sem = Arc::new(Semaphore::new(3));
    {
        let mut p1 = sem.try_acquire().unwrap();
        assert_eq!(sem.available(), 2);
        let p2 = sem.try_acquire_many(2).unwrap();
        assert_eq!(sem.available(), 0);
        p1.merge(p2);
        assert_eq!(p1.num_permits(), 3);
        assert_eq!(sem.available(), 0);
    }
    assert_eq!(sem.available(), 3);
}

/// tokio `merge_unrelated_permits`.
#[test]
#[should_panic]
fn tokio_merge_unrelated_permits() {
    let sem1 = Arc::new(Semaphore::new(3));
    let sem2 = Arc::new(Semaphore::new(3));
    let mut p1 = sem1.try_acquire().unwrap();
    let p2 = sem2.try_acquire().unwrap();
    p1.merge(p2);
}

/// tokio `add_max_amount_permits`.
#[test]
fn tokio_add_max_amount_permits() {
    let s = Semaphore::new(0);
    s.add_permits(Semaphore::MAX_PERMITS);
    assert_eq!(s.available(), Semaphore::MAX_PERMITS);
}

/// tokio `add_more_than_max_amount_permits1`.
#[test]
#[should_panic]
fn tokio_add_more_than_max_amount_permits1() {
    let s = Semaphore::new(1);
    s.add_permits(Semaphore::MAX_PERMITS);
}

// ---- tokio: tokio/tests/sync_semaphore_owned.rs ----

/// tokio (owned) `forget`.
#[test]
fn tokio_owned_forget() {
    let sem = Arc::new(Semaphore::new(1));
    {
        let p = sem.clone().try_acquire_owned().unwrap();
        assert_eq!(sem.available(), 0);
        p.forget();
        assert_eq!(sem.available(), 0);
    }
    assert_eq!(sem.available(), 0);
    assert!(sem.try_acquire_owned().is_none());
}

/// tokio (owned) `merge`; `try_acquire_many_owned(2)` → `acquire_many_owned(2)`, complete at
/// once.
#[test]
fn tokio_owned_merge() {
    let sem = Arc::new(Semaphore::new(3));
    {
        let mut p1 = sem.clone().try_acquire_owned().unwrap();
        assert_eq!(sem.available(), 2);
        let p2 = sem
            .clone()
            .acquire_many_owned(2)
            .deadline(std::time::Duration::ZERO)
            .block()
            .unwrap();
        assert_eq!(sem.available(), 0);
        p1.merge(p2);
        assert_eq!(sem.available(), 0);
    }
    assert_eq!(sem.available(), 3);
}

/// tokio (owned) `merge_unrelated_permits`.
#[test]
#[should_panic]
fn tokio_owned_merge_unrelated_permits() {
    let sem1 = Arc::new(Semaphore::new(3));
    let sem2 = Arc::new(Semaphore::new(3));
    let mut p1 = sem1.try_acquire_owned().unwrap();
    let p2 = sem2.try_acquire_owned().unwrap();
    p1.merge(p2)
}

/// tokio (owned) `merge_unrelated_permits`, applied to `BoundedSemaphore`.
#[test]
#[should_panic]
fn tokio_owned_merge_unrelated_permits_bounded() {
    let sem1 = Arc::new(BoundedSemaphore::new(3));
    let sem2 = Arc::new(BoundedSemaphore::new(3));
    let mut p1 = sem1.try_acquire_owned().unwrap();
    let p2 = sem2.try_acquire_owned().unwrap();
    p1.merge(p2)
}

// ---- tokio: tokio/src/sync/tests/semaphore_batch.rs ----

/// tokio `forget_permits_basic`.
#[test]
fn tokio_forget_permits_basic() {
    let s = Semaphore::new(10);
    assert_eq!(s.forget_permits(4), 4);
    assert_eq!(s.available(), 6);
    assert_eq!(s.forget_permits(10), 6);
    assert_eq!(s.available(), 0);
}

/// tokio `forget_permits_basic`, applied to `BoundedSemaphore`.
#[test]
fn tokio_forget_permits_basic_bounded() {
    let s = BoundedSemaphore::new(10);
    assert_eq!(s.forget_permits(4), 4);
    assert_eq!(s.available(), 6);
    assert_eq!(s.forget_permits(10), 6);
    assert_eq!(s.available(), 0);
}

/// tokio `update_permits_many_times`: a request for 7 with 5 free waits; 5 more serve it,
/// leaving 3, which `forget_permits` removes.
#[test]
fn tokio_update_permits_many_times() {
    let s = Semaphore::new(5);
    let mut acquire = pin!(s.acquire_many(7));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(acquire.as_mut().poll(&mut cx).is_pending());
    s.add_permits(5);
    let Poll::Ready(permit) = acquire.as_mut().poll(&mut cx) else {
        panic!("the request for 7 was served")
    };
    assert_eq!(permit.num_permits(), 7);
    assert_eq!(s.available(), 3);
    assert_eq!(s.forget_permits(3), 3);
    assert_eq!(s.available(), 0);
}
