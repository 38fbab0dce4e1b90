//! Upgradable reads, upgrades, downgrades, owned and mapped guards of `RwLock`, and mapped
//! `Mutex` guards: the contract in the crate docs of `RwLock`, `RwLockUpgradableReadGuard`,
//! `RwLockWriteGuard`, `MutexGuard` and their owned forms.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::Polled;
use toro_sync::{
    Mutex, MutexGuard, OwnedMutexGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock,
    RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard,
};

// ---------------------------------------------------------------------------------------------
// Upgradable reads

#[test]
fn upgradable_shares_with_readers_and_keeps_writers_out() {
    let lock = RwLock::new(0);
    let r1 = lock.try_read().unwrap();
    let up = lock
        .try_upgradable_read()
        .expect("an upgradable read beside a reader");
    let r2 = lock
        .try_read()
        .expect("a reader beside the upgradable read");
    assert!(lock.try_write().is_none());
    assert!(
        lock.try_upgradable_read().is_none(),
        "one upgradable read at a time"
    );
    assert_eq!(*r1 + *up + *r2, 0);
    drop((r1, r2, up));
    assert!(lock.try_write().is_some());
    assert_eq!(lock.waiters(), 0);
}

#[test]
fn second_upgradable_waits_in_fifo_and_later_reads_wait_behind_it() {
    let lock = RwLock::new(());
    let first = lock.try_upgradable_read().unwrap();
    let mut second = Polled::new(lock.upgradable_read());
    assert!(second.is_pending());
    // FIFO: a read that arrives after the queued upgradable request waits behind it.
    let mut late_read = Polled::new(lock.read());
    assert!(late_read.is_pending());
    assert!(lock.try_read().is_none(), "no barging past the queue");
    assert_eq!(lock.waiters(), 2);
    drop(first);
    let second = second.ready();
    let _read = late_read.ready();
    assert!(lock.try_upgradable_read().is_none());
    drop(second);
    assert!(lock.try_upgradable_read().is_some());
}

#[test]
fn a_write_queued_before_an_upgradable_request_goes_first() {
    let lock = RwLock::new(0);
    let reader = lock.try_read().unwrap();
    let mut write = Polled::new(lock.write());
    assert!(write.is_pending());
    let mut up = Polled::new(lock.upgradable_read());
    assert!(up.is_pending(), "behind the queued write");
    drop(reader);
    let mut w = write.ready();
    *w = 1;
    assert!(up.is_pending());
    drop(w);
    assert_eq!(*up.ready(), 1);
}

#[test]
fn upgrade_waits_for_the_readers_and_admits_nobody_meanwhile() {
    let lock = RwLock::new(0);
    let up = lock.try_upgradable_read().unwrap();
    let reader = lock.try_read().unwrap();
    let mut upgrade = Polled::new(RwLockUpgradableReadGuard::upgrade(up));
    assert!(upgrade.is_pending());
    assert_eq!(lock.waiters(), 1);
    // While the upgrade waits, no new reader gets in (it would only delay the upgrade).
    assert!(lock.try_read().is_none());
    let mut late_read = Polled::new(lock.read());
    assert!(late_read.is_pending());
    drop(reader);
    assert_eq!(upgrade.wakes(), 1);
    let mut w = upgrade.ready();
    *w = 7;
    assert!(late_read.is_pending());
    drop(w);
    assert_eq!(*late_read.ready(), 7);
    assert_eq!(lock.waiters(), 0);
}

#[test]
fn upgrade_goes_ahead_of_a_write_queued_meanwhile() {
    let lock = RwLock::new(0);
    let up = lock.try_upgradable_read().unwrap();
    let mut write = Polled::new(lock.write());
    assert!(write.is_pending(), "the upgradable read holds a slot");
    let mut upgrade = Polled::new(RwLockUpgradableReadGuard::upgrade(up));
    let mut w = upgrade.ready();
    *w = 2;
    assert!(write.is_pending());
    drop(w);
    let mut w = write.ready();
    assert_eq!(*w, 2);
    *w = 3;
}

#[test]
fn try_upgrade_fails_while_readers_are_inside() {
    let lock = RwLock::new(0);
    let up = lock.try_upgradable_read().unwrap();
    let reader = lock.try_read().unwrap();
    let up = RwLockUpgradableReadGuard::try_upgrade(up).expect_err("a reader is inside");
    drop(reader);
    let mut w = RwLockUpgradableReadGuard::try_upgrade(up).ok().unwrap();
    *w += 1;
    drop(w);
    assert_eq!(*lock.try_read().unwrap(), 1);
    assert_eq!(lock.waiters(), 0);
}

#[tokio::test(start_paused = true)]
async fn upgrade_timeout_gives_the_upgradable_read_back() {
    let lock = RwLock::new(0);
    let up = lock.upgradable_read().await;
    let reader = lock.read().await;
    let start = tokio::time::Instant::now();
    let up = RwLockUpgradableReadGuard::upgrade(up)
        .deadline(Duration::from_secs(1))
        .await
        .expect_err("the reader stayed");
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    // Still an upgradable read: others can read, nobody else can take an upgradable read.
    assert!(lock.try_read().is_some());
    assert!(lock.try_upgradable_read().is_none());
    drop(reader);
    let w = RwLockUpgradableReadGuard::upgrade(up)
        .deadline(Duration::ZERO)
        .await
        .expect("nobody else inside: at once");
    drop(w);
    assert_eq!(lock.waiters(), 0);
}

#[test]
fn dropping_a_waiting_upgrade_releases_the_upgradable_read() {
    let lock = RwLock::new(());
    let up = lock.try_upgradable_read().unwrap();
    let reader = lock.try_read().unwrap();
    let mut upgrade = Polled::new(RwLockUpgradableReadGuard::upgrade(up));
    assert!(upgrade.is_pending());
    let mut queued_read = Polled::new(lock.read());
    assert!(queued_read.is_pending());
    drop(upgrade);
    // The reads it held back are served, and the upgradable slot is free again.
    let _r = queued_read.ready();
    assert!(lock.try_upgradable_read().is_some());
    drop(reader);
    assert_eq!(lock.waiters(), 0);
}

#[test]
fn a_granted_upgrade_dropped_before_it_is_taken_passes_everything_on() {
    let lock = RwLock::new(());
    let up = lock.try_upgradable_read().unwrap();
    let reader = lock.try_read().unwrap();
    let mut upgrade = Polled::new(RwLockUpgradableReadGuard::upgrade(up));
    assert!(upgrade.is_pending());
    let mut write = Polled::new(lock.write());
    assert!(write.is_pending());
    drop(reader); // grants the upgrade, which is never polled again
    drop(upgrade);
    let _w = write.ready();
    assert_eq!(lock.waiters(), 0);
}

#[test]
fn a_granted_upgradable_request_dropped_before_it_is_taken_passes_on() {
    let lock = RwLock::new(());
    let first = lock.try_upgradable_read().unwrap();
    let mut second = Polled::new(lock.upgradable_read());
    assert!(second.is_pending());
    let mut third = Polled::new(lock.upgradable_read());
    assert!(third.is_pending());
    drop(first); // grants the second
    drop(second); // never took it: the flag passes on to the third
    let _third = third.ready();
    assert!(lock.try_upgradable_read().is_none());
}

#[test]
fn downgrades_keep_the_slot() {
    let lock = RwLock::new(1);
    let up = lock.try_upgradable_read().unwrap();
    let read = RwLockUpgradableReadGuard::downgrade(up);
    let up2 = lock.try_upgradable_read().expect("the flag was released");
    assert!(lock.try_write().is_none());
    drop((read, up2));

    let up = RwLockWriteGuard::downgrade_to_upgradable(lock.try_write().unwrap());
    assert!(lock.try_read().is_some());
    assert!(lock.try_upgradable_read().is_none());
    let w = RwLockUpgradableReadGuard::try_upgrade(up).ok().unwrap();
    let r = RwLockWriteGuard::downgrade(w);
    assert!(lock.try_write().is_none());
    drop(r);
    assert!(lock.try_write().is_some());
}

#[test]
fn with_one_reader_an_upgradable_read_is_exclusive_and_upgrades_at_once() {
    let lock = RwLock::with_max_readers(0, 1);
    let up = lock.try_upgradable_read().unwrap();
    assert!(lock.try_read().is_none());
    let mut upgrade = Polled::new(RwLockUpgradableReadGuard::upgrade(up));
    *upgrade.ready() += 1;
    assert_eq!(*lock.try_read().unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgradable_readers_writers_and_readers_never_overlap() {
    use std::sync::atomic::{AtomicIsize, Ordering::SeqCst};
    let lock = Arc::new(RwLock::with_max_readers(0u64, 4));
    let inside = Arc::new(AtomicIsize::new(0)); // readers +1, writers -1000
    let mut tasks = Vec::new();
    for t in 0..8u64 {
        let (lock, inside) = (lock.clone(), inside.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..200u64 {
                match (t + i) % 3 {
                    0 => {
                        let r = lock.read().await;
                        assert!(inside.fetch_add(1, SeqCst) >= 0);
                        tokio::task::yield_now().await;
                        inside.fetch_sub(1, SeqCst);
                        drop(r);
                    }
                    1 => {
                        let up = lock.upgradable_read().await;
                        assert!(inside.fetch_add(1, SeqCst) >= 0);
                        let before = *up;
                        inside.fetch_sub(1, SeqCst);
                        let mut w = RwLockUpgradableReadGuard::upgrade(up).await;
                        assert_eq!(inside.fetch_sub(1000, SeqCst), 0);
                        assert_eq!(*w, before, "no write got in during the upgrade");
                        *w += 1;
                        inside.fetch_add(1000, SeqCst);
                    }
                    _ => {
                        let mut w = lock.write().await;
                        assert_eq!(inside.fetch_sub(1000, SeqCst), 0);
                        *w += 1;
                        inside.fetch_add(1000, SeqCst);
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let writes = (0..8u64)
        .flat_map(|t| (0..200u64).map(move |i| (t + i) % 3))
        .filter(|k| *k != 0)
        .count() as u64;
    assert_eq!(*lock.read().await, writes);
    assert_eq!(lock.waiters(), 0);
}

// ---------------------------------------------------------------------------------------------
// Write guard downgrade, owned guards, map

#[test]
fn downgrade_lets_queued_readers_in_but_not_a_writer() {
    let lock = RwLock::new(0);
    let mut w = lock.try_write().unwrap();
    *w = 5;
    let mut r1 = Polled::new(lock.read());
    let mut r2 = Polled::new(lock.read());
    let mut writer = Polled::new(lock.write());
    let mut r3 = Polled::new(lock.read());
    assert!(r1.is_pending() && r2.is_pending() && writer.is_pending() && r3.is_pending());
    let read = RwLockWriteGuard::downgrade(w);
    assert_eq!((*r1.ready(), *r2.ready()), (5, 5));
    assert!(writer.is_pending(), "the downgraded guard still reads");
    assert!(r3.is_pending(), "behind the queued write (FIFO)");
    assert_eq!(*read, 5);
}

#[tokio::test]
async fn owned_guards_cross_tasks_and_downgrade() {
    let lock = Arc::new(RwLock::new(vec![1]));
    let mut w: OwnedRwLockWriteGuard<Vec<i32>> = lock.clone().write_owned().await;
    let w = tokio::spawn(async move {
        w.push(2);
        w
    })
    .await
    .unwrap();
    let r: OwnedRwLockReadGuard<Vec<i32>> = OwnedRwLockWriteGuard::downgrade(w);
    assert!(lock.clone().try_write_owned().is_none());
    let r2 = lock.clone().read_owned().await;
    assert_eq!((&*r, &*r2), (&vec![1, 2], &vec![1, 2]));
    assert!(Arc::ptr_eq(OwnedRwLockReadGuard::rwlock(&r), &lock));
    let second = OwnedRwLockReadGuard::map(r, |v| &v[1]);
    assert_eq!(*second, 2);
    drop((second, r2));
    let w = lock.clone().try_write_owned().unwrap();
    let mut last = OwnedRwLockWriteGuard::map(w, |v| v.last_mut().unwrap());
    *last = 3;
    assert!(OwnedRwLockWriteGuard::try_map(last, |_| None::<&mut i32>).is_err());
    assert_eq!(*lock.read().await, [1, 3]);
}

#[test]
fn read_and_write_guards_map() {
    let lock = RwLock::new((1, String::from("a")));
    let mut s = RwLockWriteGuard::map(lock.try_write().unwrap(), |p| &mut p.1);
    s.push('b');
    assert!(
        lock.try_read().is_none(),
        "a mapped write guard still holds the lock"
    );
    let s = RwLockWriteGuard::try_map(s, |s| s.get_mut(0..1))
        .ok()
        .unwrap();
    drop(s);
    let n = RwLockReadGuard::map(lock.try_read().unwrap(), |p| &p.0);
    let n = RwLockReadGuard::try_map(n, |_| None::<&u8>).expect_err("f returned None");
    assert_eq!(*n, 1);
    assert!(lock.try_write().is_none());
    drop(n);
    assert_eq!(lock.try_read().unwrap().1, "ab");
}

#[tokio::test]
async fn mutex_guards_map() {
    let mutex = Mutex::new((0, vec![0u8]));
    let mut v = MutexGuard::map(mutex.lock().await, |p| &mut p.1);
    v.push(1);
    let mut first = toro_sync::MappedMutexGuard::map(v, |v| &mut v[0]);
    *first = 9;
    assert!(mutex.is_locked());
    let first = toro_sync::MappedMutexGuard::try_map(first, |_| None::<&mut u8>).unwrap_err();
    drop(first);
    assert!(!mutex.is_locked());
    let g = MutexGuard::try_map(mutex.lock().await, |_| None::<&mut u8>).unwrap_err();
    assert_eq!(g.1, [9, 1]);
    drop(g);

    let mutex = Arc::new(mutex);
    let owned: OwnedMutexGuard<_> = mutex.clone().lock_owned().await;
    let mut n = OwnedMutexGuard::map(owned, |p| &mut p.0);
    *n = 4;
    let n = tokio::spawn(async move { n }).await.unwrap();
    assert!(Arc::ptr_eq(
        toro_sync::OwnedMappedMutexGuard::mutex(&n),
        &mutex
    ));
    drop(n);
    assert_eq!(mutex.lock().await.0, 4);
}

/// Read guards are covariant in their target, as `&T` (this compiles only if so).
fn _read_guards_are_covariant<'g>(
    guard: RwLockReadGuard<'g, &'static str>,
) -> RwLockReadGuard<'g, &'g str> {
    guard
}
