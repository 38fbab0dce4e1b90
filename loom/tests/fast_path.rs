#![cfg(loom)]
//! The permit fast path (src/permits.rs): a lock-free acquire or return racing a waiter being
//! queued under the lock. A lost wake-up shows up as a loom deadlock; a lost or duplicated
//! permit as a failed count.

use std::future::Future;
use std::task::{Context, Waker};

use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;
use toro_sync::{Mutex, Semaphore};

#[test]
fn lock_free_release_vs_queued_acquirer() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let s = sem.clone();
        let releaser = thread::spawn(move || s.release());
        // May register before or after the release; either way it completes.
        block_on(sem.acquire()).forget();
        releaser.join().unwrap();
        assert_eq!(sem.available(), 0);
        assert_eq!(sem.waiters(), 0);
    });
}

#[test]
fn mutex_fast_and_slow_paths_exclude_each_other() {
    loom::model(|| {
        let m = Arc::new(Mutex::new(0u32));
        let m2 = m.clone();
        let t = thread::spawn(move || {
            let mut g = block_on(m2.lock());
            *g += 1;
        });
        {
            let mut g = block_on(m.lock());
            *g += 1;
        }
        t.join().unwrap();
        assert_eq!(*m.try_lock().unwrap(), 2);
        assert!(!m.is_locked());
    });
}

#[test]
fn try_acquire_never_barges_past_a_queued_waiter() {
    loom::model(|| {
        let sem = std::sync::Arc::new(Semaphore::new(1));
        let held = sem.clone().try_acquire_owned().unwrap();
        let mut waiting = Box::pin(sem.acquire());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(waiting.as_mut().poll(&mut cx).is_pending());
        let releaser = thread::spawn(move || drop(held));
        let s = sem.clone();
        let trier = thread::spawn(move || s.try_acquire().map(|p| p.forget()).is_some());
        assert!(!trier.join().unwrap(), "the queued waiter comes first");
        block_on(waiting).forget();
        releaser.join().unwrap();
        assert_eq!(sem.available(), 0);
        assert_eq!(sem.waiters(), 0);
    });
}

/// While `SLOW` is clear, lock holders must change the count atomically: here a `try_acquire`
/// takes its slow path (nothing free at first) while two lock-free returns race it, one of
/// them between its reading and its writing of the count. A lock holder that wrote back a
/// count it read earlier would lose that permit.
#[test]
fn locked_update_does_not_lose_a_racing_lock_free_return() {
    loom::model(|| {
        let sem = std::sync::Arc::new(Semaphore::new(2));
        let first = sem.clone().try_acquire_owned().unwrap();
        let second = sem.clone().try_acquire_owned().unwrap();
        let r1 = thread::spawn(move || drop(first));
        let r2 = thread::spawn(move || drop(second));
        let took = sem.try_acquire().map(|p| p.forget()).is_some();
        r1.join().unwrap();
        r2.join().unwrap();
        assert_eq!(sem.available(), if took { 1 } else { 2 });
        assert_eq!(sem.waiters(), 0);
    });
}
