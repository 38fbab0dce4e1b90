#![cfg(loom)]
//! `BoundedSemaphore` over-release race: `release()` calls racing a permit's drop and a queued
//! waiter, never past the bound.

mod support;

use std::sync::Arc;

use loom::future::block_on;
use loom::thread;
use support::Probe;
use toro_sync::BoundedSemaphore;

/// Bound 2: one permit held by a live permit object, one forgotten (out of circulation), and a
/// waiter W queued. Two threads release while one of them also drops the live permit, and W
/// re-polls through `block_on`. available + held + promised starts at 1, so exactly one
/// `release()` may succeed whatever the order; W gets exactly one permit (by hand-off, the
/// counter does not also rise for it); the bound is never exceeded, and a permit's drop never
/// pushes past it.
#[test]
fn two_releasers_and_pending_waiter_stay_within_bound() {
    loom::model(|| {
        let sem = Arc::new(BoundedSemaphore::new(2));
        let held = sem.clone().try_acquire_owned().expect("free");
        sem.clone().try_acquire_owned().expect("free").forget();
        assert_eq!(sem.available(), 0);
        let pw = Probe::new();
        let mut w = sem.clone().acquire_owned();
        pw.pending(&mut w);

        let t1 = {
            let sem = sem.clone();
            thread::spawn(move || {
                let ok = sem.release().is_ok();
                assert!(sem.available() <= 2);
                ok
            })
        };
        let t2 = {
            let sem = sem.clone();
            thread::spawn(move || {
                drop(held);
                let ok = sem.release().is_ok();
                assert!(sem.available() <= 2);
                ok
            })
        };
        let permit = block_on(&mut w);
        let oks = [t1.join().unwrap(), t2.join().unwrap()];

        assert_eq!(
            oks.iter().filter(|&&ok| ok).count(),
            1,
            "releases that succeeded: {oks:?}"
        );
        assert_eq!(permit.num_permits(), 1);
        // W holds one; one is free; the bound is reached.
        assert_eq!(sem.available(), 1);
        assert_eq!(sem.waiters(), 0);
        assert!(sem.release().is_err());
        drop(permit);
        assert_eq!(sem.available(), 2);
        assert!(sem.release().is_err());
    });
}

/// toro's `acquire()` … `release()`: a held permit is forgotten on one thread while another
/// calls `release()`, with a waiter W queued on `BoundedSemaphore(1)`. `release()` succeeds
/// only if the forget came first (before it, the one permit is still held: the bound is
/// reached). If it failed, the permit is out of circulation and a later `release()` succeeds.
/// Either way W ends with exactly one permit and the bound holds.
#[test]
fn forget_vs_release_with_waiter() {
    loom::model(|| {
        let sem = Arc::new(BoundedSemaphore::new(1));
        let held = sem.clone().try_acquire_owned().expect("free");
        let pw = Probe::new();
        let mut w = sem.clone().acquire_owned();
        pw.pending(&mut w);

        let forgetter = thread::spawn(move || held.forget());
        let releaser = {
            let sem = sem.clone();
            thread::spawn(move || sem.release().is_ok())
        };
        forgetter.join().unwrap();
        let released = releaser.join().unwrap();

        if released {
            assert_eq!(pw.wakes(), 1, "the released permit did not reach W");
        } else {
            assert!(pw.poll(&mut w).is_pending());
            assert_eq!(sem.available(), 0);
            assert!(
                sem.release().is_ok(),
                "the forgotten permit cannot be released"
            );
        }
        let permit = pw.ready(&mut w);
        assert_eq!(permit.num_permits(), 1);
        assert_eq!(sem.available(), 0);
        assert_eq!(sem.waiters(), 0);
        assert!(sem.release().is_err(), "released past the bound");
        drop(permit);
        assert_eq!(sem.available(), 1);
        assert!(sem.release().is_err(), "released past the bound");
    });
}
