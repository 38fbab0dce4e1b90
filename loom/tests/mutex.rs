#![cfg(loom)]
//! `Mutex`: hand-off versus drop of the granted waiter versus barging, and memory ordering
//! through the lock.

mod support;

use std::sync::Arc;

use loom::future::block_on;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::thread;
use support::Probe;
use toro_sync::Mutex;

/// Counts holders inside the critical section; asserts there is never more than one.
struct Holders(AtomicUsize);

impl Holders {
    fn enter(&self) {
        assert_eq!(
            self.0.fetch_add(1, SeqCst),
            0,
            "two holders of the mutex at once"
        );
    }

    fn exit(&self) {
        self.0.fetch_sub(1, SeqCst);
    }
}

/// #7: G holds the lock; B then C wait. G unlocks (hand-off to B) while B is dropped (before or
/// after the hand-off) and D tries `try_lock` from another thread; C waits through `block_on`.
/// Never two holders (a counter and loom's tracking of the data cell); B's drop passes the lock
/// on to C; D never barges past C (if D gets the lock, C has already had it and let go); the
/// lock is free at the end with nobody registered.
#[test]
fn hand_off_vs_drop_of_granted_vs_try_lock() {
    loom::model(|| {
        let mutex = Arc::new(Mutex::new(0usize));
        let holders = Arc::new(Holders(AtomicUsize::new(0)));
        let c_done = Arc::new(AtomicBool::new(false));

        let mut g = mutex.clone().try_lock_owned().expect("free");
        holders.enter();
        let (pb, pc) = (Probe::new(), Probe::new());
        let mut b = mutex.clone().lock_owned();
        let mut c = mutex.clone().lock_owned();
        pb.pending(&mut b);
        pc.pending(&mut c);
        assert_eq!(mutex.waiters(), 2);

        let unlocker = {
            let holders = holders.clone();
            thread::spawn(move || {
                *g += 1;
                holders.exit();
                drop(g);
            })
        };
        let dropper = thread::spawn(move || drop(b));
        let barger = {
            let (mutex, holders, c_done) = (mutex.clone(), holders.clone(), c_done.clone());
            thread::spawn(move || match mutex.try_lock_owned() {
                Some(mut d) => {
                    assert!(c_done.load(SeqCst), "try_lock barged past the waiting C");
                    holders.enter();
                    *d += 1;
                    holders.exit();
                    true
                }
                None => false,
            })
        };
        let mut gc = block_on(&mut c);
        holders.enter();
        *gc += 1;
        holders.exit();
        c_done.store(true, SeqCst);
        drop(gc);

        unlocker.join().unwrap();
        dropper.join().unwrap();
        let d_got_it = barger.join().unwrap();

        assert!(!mutex.is_locked());
        assert_eq!(mutex.waiters(), 0);
        let data = mutex.try_lock().expect("the lock is free at the end");
        assert_eq!(*data, 2 + usize::from(d_got_it));
    });
}

/// #8: two threads, one locked increment each, through `block_on(lock())`: loom checks the data
/// cell is never accessed concurrently and that each increment happens-before the next holder's
/// read.
#[test]
fn two_threads_locked_increment() {
    loom::model(|| {
        let mutex = loom::sync::Arc::new(Mutex::new(0usize));
        let other = {
            let mutex = mutex.clone();
            thread::spawn(move || {
                let mut guard = block_on(mutex.lock());
                *guard += 1;
            })
        };
        {
            let mut guard = block_on(mutex.lock());
            *guard += 1;
        }
        other.join().unwrap();
        assert_eq!(*mutex.try_lock().expect("free"), 2);
        assert_eq!(mutex.waiters(), 0);
    });
}
