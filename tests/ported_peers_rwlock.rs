//! Ports of the peers' own test cases for the `RwLock` features toro-sync took from them.
//!
//! Sources:
//! * async-lock (smol-rs/async-lock) `tests/rwlock.rs`: `upgrade`, `not_upgrade`,
//!   `upgradable_with_concurrent_writer`, `_covariance_test`, `try_write`, `into_inner`,
//!   `get_mut`.
//! * tokio `tokio/tests/sync_rwlock.rs`: `read_shared`, `write_shared_pending`,
//!   `read_exclusive_pending`, `write_read_shared_pending`, `write_read_shared_drop_pending`,
//!   `write_order`, `try_read_try_write`; and the `RwLockWriteGuard::downgrade` and
//!   `RwLockReadGuard::map` examples of tokio's docs.
//!
//! Idioms translated: tokio_test's `spawn(..).poll()` is a hand-polled future (`Polled`);
//! `futures_lite::future::or` is `tokio::select!` with `biased;`; `try_*` returns `Option`.

mod common;

use std::sync::Arc;

use common::Polled;
use futures::FutureExt;
use toro_sync::{RwLock, RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard};

// --- async-lock ------------------------------------------------------------------------------

/// async-lock `upgrade`.
#[tokio::test]
async fn async_lock_upgrade() {
    let lock: RwLock<i32> = RwLock::new(0);
    let read_guard = lock.read().await;
    let read_guard2 = lock.read().await;
    // Should be able to obtain an upgradable lock.
    let upgradable_guard = lock.upgradable_read().await;
    // Should be able to obtain a read lock when an upgradable lock is active.
    let read_guard3 = lock.read().await;
    assert_eq!(0, *read_guard3);
    drop(read_guard);
    drop(read_guard2);
    drop(read_guard3);
    // Writers should not pass.
    assert!(lock.try_write().is_none());
    let mut write_guard = RwLockUpgradableReadGuard::try_upgrade(upgradable_guard)
        .expect("should be able to upgrade: there are no more readers");
    *write_guard += 1;
    drop(write_guard);
    let read_guard = lock.read().await;
    assert_eq!(1, *read_guard)
}

/// async-lock `not_upgrade`.
#[tokio::test]
async fn async_lock_not_upgrade() {
    let mutex: RwLock<i32> = RwLock::new(0);
    let read_guard = mutex.read().await;
    let read_guard2 = mutex.read().await;
    let upgradable_guard = mutex.upgradable_read().await;
    let read_guard3 = mutex.read().await;
    assert_eq!(0, *read_guard3);
    drop(read_guard);
    drop(read_guard2);
    drop(read_guard3);
    // Drop the upgradable lock.
    drop(upgradable_guard);
    assert_eq!(0, *(mutex.read().await));
    // Should be able to acquire a write lock because there are no more readers.
    let mut write_guard = mutex.write().await;
    *write_guard += 1;
    drop(write_guard);
    let read_guard = mutex.read().await;
    assert_eq!(1, *read_guard)
}

/// async-lock `upgradable_with_concurrent_writer`: the upgrade wins over a write queued
/// while the upgradable read was held.
#[tokio::test]
async fn async_lock_upgradable_with_concurrent_writer() {
    let lock: Arc<RwLock<i32>> = Arc::new(RwLock::new(0));
    let lock2 = lock.clone();
    let upgradable_guard = lock.upgradable_read().await;
    tokio::select! {
        biased;
        _ = async move {
            let mut write_guard = lock2.write().await;
            *write_guard = 1;
        } => panic!("the writer cannot pass the upgradable read"),
        _ = async move {
            let mut write_guard = RwLockUpgradableReadGuard::upgrade(upgradable_guard).await;
            assert_eq!(*write_guard, 0);
            *write_guard = 2;
        } => {}
    }
    assert_eq!(2, *(lock.write().await));
    let read_guard = lock.read().await;
    assert_eq!(2, *read_guard);
}

/// async-lock `_covariance_test` (a compile-time test).
fn _async_lock_covariance_test<'g>(guard: RwLockReadGuard<'g, &'static ()>) {
    let _: RwLockReadGuard<'g, &'g ()> = guard;
}

/// async-lock `try_write`.
#[tokio::test]
async fn async_lock_try_write() {
    let lock = RwLock::new(0isize);
    let read_guard = lock.read().await;
    assert!(lock.try_write().is_none());
    drop(read_guard);
}

/// async-lock `into_inner` and `get_mut`.
#[test]
fn async_lock_into_inner_and_get_mut() {
    let lock = RwLock::new(10);
    assert_eq!(lock.into_inner(), 10);
    let mut lock = RwLock::new(10);
    *lock.get_mut() = 20;
    assert_eq!(lock.into_inner(), 20);
}

// --- tokio -----------------------------------------------------------------------------------

/// tokio `read_shared`.
#[test]
fn tokio_read_shared() {
    let rwlock = RwLock::new(100);
    let mut t1 = Polled::new(rwlock.read());
    let _g1 = t1.ready();
    let mut t2 = Polled::new(rwlock.read());
    let _g2 = t2.ready();
}

/// tokio `write_shared_pending`.
#[test]
fn tokio_write_shared_pending() {
    let rwlock = RwLock::new(100);
    let mut t1 = Polled::new(rwlock.read());
    let _g1 = t1.ready();
    let mut t2 = Polled::new(rwlock.write());
    assert!(t2.is_pending());
}

/// tokio `read_exclusive_pending`.
#[test]
fn tokio_read_exclusive_pending() {
    let rwlock = RwLock::new(100);
    let mut t1 = Polled::new(rwlock.write());
    let _g1 = t1.ready();
    let mut t2 = Polled::new(rwlock.read());
    assert!(t2.is_pending());
}

/// tokio `write_read_shared_pending`.
#[test]
fn tokio_write_read_shared_pending() {
    let rwlock = RwLock::new(100);
    let mut t1 = Polled::new(rwlock.read());
    let _g1 = t1.ready();
    let mut t2 = Polled::new(rwlock.read());
    let _g2 = t2.ready();
    let mut t3 = Polled::new(rwlock.write());
    assert!(t3.is_pending());
    let mut t4 = Polled::new(rwlock.read());
    assert!(t4.is_pending());
}

/// tokio `write_read_shared_drop_pending`.
#[test]
fn tokio_write_read_shared_drop_pending() {
    let rwlock = RwLock::new(100);
    let mut t1 = Polled::new(rwlock.read());
    let _g1 = t1.ready();
    let mut t2 = Polled::new(rwlock.write());
    assert!(t2.is_pending());
    let mut t3 = Polled::new(rwlock.read());
    assert!(t3.is_pending());
    drop(t2);
    assert_eq!(t3.wakes(), 1);
    let _g3 = t3.ready();
}

/// tokio `write_order`: locks are acquired in the order their futures are first polled.
#[tokio::test]
async fn tokio_write_order() {
    let rwlock = RwLock::<Vec<u32>>::new(vec![]);
    let fut2 = rwlock.write().map(|mut guard| guard.push(2));
    let fut1 = rwlock.write().map(|mut guard| guard.push(1));
    fut1.await;
    fut2.await;
    let g = rwlock.read().await;
    assert_eq!(*g, vec![1, 2]);
}

/// tokio `try_read_try_write`.
#[test]
fn tokio_try_read_try_write() {
    let lock: RwLock<usize> = RwLock::new(15);
    {
        let rg1 = lock.try_read().unwrap();
        assert_eq!(*rg1, 15);
        assert!(lock.try_write().is_none());
        let rg2 = lock.try_read().unwrap();
        assert_eq!(*rg2, 15)
    }
    {
        let mut wg = lock.try_write().unwrap();
        *wg = 1515;
        assert!(lock.try_read().is_none())
    }
    assert_eq!(*lock.try_read().unwrap(), 1515);
}

/// tokio's `RwLockWriteGuard::downgrade` example: after the downgrade, readers share the lock
/// and the value written is seen.
#[tokio::test]
async fn tokio_downgrade_example() {
    let lock = Arc::new(RwLock::new(1));
    let mut n = lock.write().await;
    let cloned_lock = lock.clone();
    let handle = tokio::spawn(async move {
        *cloned_lock.write().await = 2;
    });
    *n = 2;
    let n = RwLockWriteGuard::downgrade(n);
    // Let the spawned writer run: it queues, and cannot get in while the downgraded guard reads.
    for _ in 0..4 {
        tokio::task::yield_now().await;
    }
    assert_eq!(lock.waiters(), 1);
    assert_eq!(*n, 2, "downgrade is atomic");
    drop(n);
    handle.await.unwrap();
    assert_eq!(*lock.read().await, 2, "RwLock never got the second write");
}

/// tokio's `RwLockReadGuard::map` example.
#[tokio::test]
async fn tokio_read_guard_map_example() {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct Foo(u32);
    let lock = RwLock::new(Foo(1));
    let guard = lock.read().await;
    let guard = RwLockReadGuard::map(guard, |f| &f.0);
    assert_eq!(1, *guard);
}
