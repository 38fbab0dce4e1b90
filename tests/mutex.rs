//! Mutex<T> and Lock: FIFO hand-off, no barging, cancel safety, no poisoning.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Polled, WakeLog};
use toro_sync::{Lock, Mutex, MutexGuard, OwnedMutexGuard, Timeout};

#[test]
fn lock_unlock_and_data() {
    let m = Mutex::new(vec![1]);
    {
        let mut g = Polled::new(m.lock()).ready();
        g.push(2);
        assert!(m.is_locked());
        assert!(m.try_lock().is_none());
    }
    assert!(!m.is_locked());
    assert_eq!(*m.try_lock().unwrap(), [1, 2]);
    assert_eq!(m.into_inner(), [1, 2]);
}

#[test]
fn fifo_hand_off_in_registration_order() {
    let m = Mutex::new(Vec::new());
    let held = m.try_lock().unwrap();
    let log = WakeLog::default();
    let mut waiters: Vec<_> = (0..4)
        .map(|i| Polled::with_waker(m.lock(), log.waker(i)))
        .collect();
    for w in &mut waiters {
        assert!(w.is_pending());
    }
    drop(held);
    for (i, w) in waiters.iter_mut().enumerate() {
        assert_eq!(log.take(), vec![i]);
        let mut g = w.ready();
        g.push(i);
    }
    assert_eq!(*m.try_lock().unwrap(), [0, 1, 2, 3]);
}

#[test]
fn newcomer_cannot_barge_past_the_granted_waiter() {
    let m = Lock::default();
    let held = m.try_lock().unwrap();
    let mut b = Polled::new(m.lock());
    let mut c = Polled::new(m.lock());
    assert!(b.is_pending() && c.is_pending());
    drop(held);
    // B owns the lock now; D can neither try_lock nor overtake C.
    assert!(m.try_lock().is_none());
    let mut d = Polled::new(m.lock());
    assert!(d.is_pending());
    drop(b); // granted, never polled: the lock passes to C
    assert_eq!(c.wakes(), 1);
    assert_eq!(d.wakes(), 0);
    drop(c.ready());
    assert_eq!(d.wakes(), 1);
    drop(d.ready());
    assert!(!m.is_locked());
    assert_eq!(m.waiters(), 0);
}

#[test]
fn guard_dropped_while_unwinding_unlocks_and_nothing_is_poisoned() {
    let m = Arc::new(Mutex::new(0));
    let m2 = m.clone();
    let r = std::thread::spawn(move || {
        let mut g = m2.lock().block();
        *g += 1;
        panic!("boom");
    })
    .join();
    assert!(r.is_err());
    assert!(!m.is_locked());
    assert_eq!(*m.lock().block(), 1);
}

#[test]
fn owned_guard_is_static_and_unlocks() {
    let m = Arc::new(Mutex::new(String::from("a")));
    let mut g: OwnedMutexGuard<String> = m.clone().lock_owned().block();
    g.push('b');
    assert!(Arc::ptr_eq(OwnedMutexGuard::mutex(&g), &m));
    let t = std::thread::spawn(move || {
        g.push('c');
        drop(g);
    });
    t.join().unwrap();
    assert_eq!(*m.try_lock().unwrap(), "abc");
    assert!(m.clone().try_lock_owned().is_some());
}

#[test]
fn get_mut_and_debug() {
    let mut m = Mutex::new(5);
    *m.get_mut() += 1;
    assert_eq!(format!("{m:?}"), "Mutex { data: 6, waiters: 0 }");
    let g = m.try_lock().unwrap();
    assert_eq!(format!("{g:?}"), "6");
    assert!(format!("{m:?}").contains("<locked>"));
    assert!(std::ptr::eq(MutexGuard::mutex(&g), &m));
}

#[test]
fn unsized_data() {
    let m: &Mutex<[i32]> = &Mutex::new([1, 2, 3]);
    let mut g = m.lock().block();
    g[0] = 9;
    assert_eq!(&*g, &[9, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn lock_with_deadline() {
    let m = Mutex::new(());
    let g = m.lock().await;
    assert_eq!(
        m.lock().deadline(Duration::from_secs(1)).await.err(),
        Some(Timeout)
    );
    assert_eq!(m.waiters(), 0);
    drop(g);
    assert!(m.lock().deadline(Duration::from_secs(1)).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contended_increments_are_exclusive() {
    let m = Arc::new(Mutex::new(0u64));
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let m = m.clone();
            tokio::spawn(async move {
                for i in 0..500 {
                    let mut g = m.lock().await;
                    let v = *g;
                    if i % 7 == 0 {
                        tokio::task::yield_now().await;
                    }
                    *g = v + 1;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*m.lock().await, 32 * 500);
    assert_eq!(m.waiters(), 0);
}
