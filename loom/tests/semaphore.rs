#![cfg(loom)]
//! The waiter core through `Semaphore`: registration, hand-off, drop and expiry racing
//! (a granted waiter dropped before it runs, the head of an `acquire_many` line leaving).

mod support;

use std::sync::Arc;

use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;
use support::{Probe, try_once};
use toro_sync::future::Waitable;
use toro_sync::{Semaphore, Timeout};

/// #1: waiters A then B; a release races A's drop. Whether A is dropped while queued
/// (withdrawn) or after the permit was handed to it (forwarded), B ends with the permit; B
/// re-polls through `block_on` meanwhile (a waker replacement racing the grant), so a permit or
/// a wake-up lost anywhere is a loom deadlock.
#[test]
fn release_vs_drop_of_head_forwards_to_next() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let (pa, pb) = (Probe::new(), Probe::new());
        let mut a = sem.clone().acquire_owned();
        let mut b = sem.clone().acquire_owned();
        pa.pending(&mut a);
        pb.pending(&mut b);
        assert_eq!(sem.waiters(), 2);

        let releaser = {
            let sem = sem.clone();
            thread::spawn(move || sem.release())
        };
        let dropper = thread::spawn(move || drop(a));
        let permit = block_on(&mut b);
        releaser.join().unwrap();
        dropper.join().unwrap();

        assert_eq!(permit.num_permits(), 1);
        assert_eq!(sem.available(), 0);
        assert_eq!(sem.waiters(), 0);
        assert!(pa.wakes() <= 1, "A woken more than once");
        assert!(pb.wakes() <= 1, "B's first waker woken more than once");
        drop(permit);
        assert_eq!(sem.available(), 1);
    });
}

/// #1 without a second waiter: the permit a dropped waiter had (or would have had) goes back to
/// the semaphore, never lost.
#[test]
fn release_vs_drop_of_only_waiter_returns_permit() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let pa = Probe::new();
        let mut a = sem.clone().acquire_owned();
        pa.pending(&mut a);

        let releaser = {
            let sem = sem.clone();
            thread::spawn(move || sem.release())
        };
        let dropper = thread::spawn(move || drop(a));
        releaser.join().unwrap();
        dropper.join().unwrap();

        assert_eq!(sem.available(), 1);
        assert_eq!(sem.waiters(), 0);
        assert!(!sem.is_locked());
        let p = sem.try_acquire().expect("the permit is back");
        drop(p);
    });
}

/// #1 (deadline variant), #16 shape: A's deadline fires as a release hands A the permit.
/// Exactly one outcome: `Ok(permit)` (B still waits, served when A's permit drops) or
/// `Err(Timeout)` (B was handed the permit). Never both, never neither.
#[test]
fn release_vs_expire_of_head_exactly_one_outcome() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let (pa, pb) = (Probe::new(), Probe::new());
        let mut a = sem.clone().acquire_owned();
        let mut b = sem.clone().acquire_owned();
        pa.pending(&mut a);
        pb.pending(&mut b);

        let releaser = {
            let sem = sem.clone();
            thread::spawn(move || sem.release())
        };
        let timer = thread::spawn(move || a.expire());
        releaser.join().unwrap();
        let outcome = timer.join().unwrap();

        let b_permit = match outcome {
            Ok(a_permit) => {
                assert_eq!(a_permit.num_permits(), 1);
                assert!(
                    pb.poll(&mut b).is_pending(),
                    "A and B both got the one permit"
                );
                assert_eq!(pb.wakes(), 0);
                assert_eq!(sem.available(), 0);
                assert_eq!(sem.waiters(), 1);
                drop(a_permit);
                assert_eq!(pb.wakes(), 1);
                pb.ready(&mut b)
            }
            Err(Timeout) => {
                assert_eq!(pb.wakes(), 1, "A timed out but B was not woken");
                pb.ready(&mut b)
            }
        };
        assert_eq!(b_permit.num_permits(), 1);
        assert_eq!(sem.available(), 0);
        assert_eq!(sem.waiters(), 0);
        drop(b_permit);
        assert_eq!(sem.available(), 1);
    });
}

/// #2: head wants 2, the next wants 1, 1 is free. The head is dropped as a release arrives:
/// either the head was granted 2 and forwards them, or it left the line and the request behind
/// it now fits. The second is served with no further release; the count is conserved.
#[test]
fn acquire_many_head_dropped_vs_release_serves_next() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let (ph, ps) = (Probe::new(), Probe::new());
        let mut head = sem.clone().acquire_many_owned(2);
        let mut second = sem.clone().acquire_many_owned(1);
        ph.pending(&mut head);
        ps.pending(&mut second);
        assert_eq!(sem.available(), 1);

        let releaser = {
            let sem = sem.clone();
            thread::spawn(move || sem.release())
        };
        let dropper = thread::spawn(move || drop(head));
        let permit = block_on(&mut second);
        releaser.join().unwrap();
        dropper.join().unwrap();

        assert_eq!(permit.num_permits(), 1);
        assert_eq!(sem.available(), 1);
        assert_eq!(sem.waiters(), 0);
        drop(permit);
        assert_eq!(sem.available(), 2);
    });
}

/// #2 with no release at all: head wants 2, the next wants 1, 1 is free. The head's deadline
/// fires (it can never be served: `Timeout`) while another thread tries `try_acquire` (which
/// must not barge past the queued request). Leaving the head must by itself serve the request
/// behind it (through `block_on`: a queue left stuck behind a departed head is a deadlock).
#[test]
fn acquire_many_head_leaving_serves_next_without_release() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let (ph, ps) = (Probe::new(), Probe::new());
        let mut head = sem.clone().acquire_many_owned(2);
        let mut second = sem.clone().acquire_many_owned(1);
        ph.pending(&mut head);
        ps.pending(&mut second);

        let timer = thread::spawn(move || head.expire().is_err());
        let barger = {
            let sem = sem.clone();
            thread::spawn(move || sem.try_acquire().map(|p| p.forget()).is_none())
        };
        let permit = block_on(&mut second);
        assert!(timer.join().unwrap(), "the head got 2 permits out of 1");
        assert!(
            barger.join().unwrap(),
            "try_acquire barged past a queued request"
        );

        assert_eq!(permit.num_permits(), 1);
        assert_eq!(sem.available(), 0);
        assert_eq!(sem.waiters(), 0);
        drop(permit);
        assert_eq!(sem.available(), 1);
    });
}

/// #2, deadline variant: the head's deadline fires as the release arrives. If the grant won,
/// the timer thread gets the 2 permits and drops them; either way the second is served and
/// nothing is lost.
#[test]
fn acquire_many_head_expired_vs_release_serves_next() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let (ph, ps) = (Probe::new(), Probe::new());
        let mut head = sem.clone().acquire_many_owned(2);
        let mut second = sem.clone().acquire_many_owned(1);
        ph.pending(&mut head);
        ps.pending(&mut second);

        let releaser = {
            let sem = sem.clone();
            thread::spawn(move || sem.release())
        };
        let timer = thread::spawn(move || match head.expire() {
            Ok(permit) => {
                assert_eq!(permit.num_permits(), 2);
                true
            }
            Err(Timeout) => false,
        });
        let permit = block_on(&mut second);
        releaser.join().unwrap();
        let _head_won = timer.join().unwrap();

        assert_eq!(permit.num_permits(), 1);
        assert_eq!(sem.available(), 1);
        assert_eq!(sem.waiters(), 0);
        drop(permit);
        assert_eq!(sem.available(), 2);
    });
}

/// `wait_unlocked` (toro's `Semaphore.wait`): acquirer A and an idle waiter U wait on an empty
/// semaphore; a release races A's drop. Queued acquirers take precedence, but once nobody is
/// queued and a permit is free U completes (through `block_on`: a missed release is a
/// deadlock), taking nothing.
#[test]
fn wait_unlocked_vs_release_and_drop_of_acquirer() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let pa = Probe::new();
        let mut a = sem.clone().acquire_owned();
        pa.pending(&mut a);
        let pu = Probe::new();
        let mut u = sem.wait_unlocked();
        pu.pending(&mut u);
        assert_eq!(sem.waiters(), 2);

        let releaser = {
            let sem = sem.clone();
            thread::spawn(move || sem.release())
        };
        let dropper = thread::spawn(move || drop(a));
        block_on(&mut u);
        releaser.join().unwrap();
        dropper.join().unwrap();

        assert_eq!(sem.available(), 1);
        assert_eq!(sem.waiters(), 0);
        assert!(!sem.is_locked());
    });
}

/// Permit return versus registration (the boundary of any lock-free path): a permit held on
/// one thread is dropped while another thread's `acquire` finds none free and queues itself.
/// The returned permit must reach the queued waiter (through `block_on`: a missed return is a
/// deadlock) or be found by its registration re-check.
#[test]
fn permit_return_vs_waiter_registration() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let held = sem.clone().try_acquire_owned().expect("free");
        let returner = thread::spawn(move || drop(held));
        let permit = block_on(sem.acquire());
        returner.join().unwrap();
        assert_eq!(sem.available(), 0);
        assert_eq!(sem.waiters(), 0);
        drop(permit);
        assert_eq!(sem.available(), 1);
        assert!(!sem.is_locked());
    });
}

/// The last waiter leaving (dropped while queued) races a permit return and a new waiter
/// registering: whatever the order in which "somebody waits" is cleared and set again, the new
/// waiter (through `block_on`) gets the returned permit, and the count is conserved.
#[test]
fn last_waiter_leaving_vs_return_vs_new_waiter() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let held = sem.clone().try_acquire_owned().expect("free");
        let p1 = Probe::new();
        let mut w1 = sem.clone().acquire_owned();
        p1.pending(&mut w1);

        let leaver = thread::spawn(move || drop(w1));
        let returner = thread::spawn(move || drop(held));
        let permit = block_on(sem.acquire());
        leaver.join().unwrap();
        returner.join().unwrap();

        assert_eq!(permit.num_permits(), 1);
        assert_eq!(sem.available(), 0);
        assert_eq!(sem.waiters(), 0);
        drop(permit);
        assert_eq!(sem.available(), 1);
        assert!(sem.try_acquire().is_some());
    });
}

/// Two threads contend for `Semaphore(1)` through `block_on(acquire())` while a third tries
/// `try_acquire`: never two holders, nothing lost (a lost permit is a deadlock), all free at
/// the end.
#[test]
fn two_acquirers_and_try_acquire_exclusion() {
    loom::model(|| {
        let sem = loom::sync::Arc::new(Semaphore::new(1));
        let inside = loom::sync::Arc::new(AtomicUsize::new(0));
        let enter = |inside: &AtomicUsize| {
            assert_eq!(
                inside.fetch_add(1, SeqCst),
                0,
                "two holders of Semaphore(1)"
            );
        };
        let other = {
            let (sem, inside) = (sem.clone(), inside.clone());
            thread::spawn(move || {
                let permit = block_on(sem.acquire());
                enter(&inside);
                inside.fetch_sub(1, SeqCst);
                drop(permit);
            })
        };
        let trier = {
            let (sem, inside) = (sem.clone(), inside.clone());
            thread::spawn(move || {
                if let Some(permit) = sem.try_acquire() {
                    enter(&inside);
                    inside.fetch_sub(1, SeqCst);
                    drop(permit);
                }
            })
        };
        let permit = block_on(sem.acquire());
        enter(&inside);
        inside.fetch_sub(1, SeqCst);
        drop(permit);
        other.join().unwrap();
        trier.join().unwrap();

        assert_eq!(sem.available(), 1);
        assert_eq!(sem.waiters(), 0);
        assert!(!sem.is_locked());
    });
}

/// `acquire_many(2)` on `Semaphore(2)` whose permits are held by two permits returned from two
/// threads: the request is served whole once both are back (never with one), and the count is
/// conserved.
#[test]
fn acquire_many_vs_two_returns() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(2));
        let a = sem.clone().try_acquire_owned().expect("free");
        let b = sem.clone().try_acquire_owned().expect("free");
        let ta = thread::spawn(move || drop(a));
        let tb = thread::spawn(move || drop(b));
        let both = block_on(sem.acquire_many(2));
        assert_eq!(both.num_permits(), 2);
        assert_eq!(sem.available(), 0);
        ta.join().unwrap();
        tb.join().unwrap();
        assert_eq!(sem.waiters(), 0);
        drop(both);
        assert_eq!(sem.available(), 2);
    });
}

/// A try-once acquire (what a passed deadline does) that finds no permit leaves nothing queued;
/// it races a permit return and a `try_acquire`. The returned permit is never stranded: it is
/// taken by `try_acquire` or is free at the end, and a fresh `try_acquire` then succeeds.
#[test]
fn try_once_acquire_vs_return_vs_try_acquire() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let held = sem.clone().try_acquire_owned().expect("free");
        let once = {
            let sem = sem.clone();
            thread::spawn(move || {
                let mut fut = sem.acquire_owned();
                match try_once(&mut fut) {
                    std::task::Poll::Ready(permit) => {
                        drop(permit);
                        true
                    }
                    std::task::Poll::Pending => false,
                }
            })
        };
        let returner = thread::spawn(move || drop(held));
        let tried = sem.try_acquire().map(|p| p.forget()).is_some();
        let _once_got_it = once.join().unwrap();
        returner.join().unwrap();

        assert_eq!(sem.waiters(), 0);
        assert_eq!(
            sem.available(),
            usize::from(!tried),
            "a returned permit went missing"
        );
        if !tried {
            assert!(!sem.is_locked());
            assert!(sem.try_acquire().is_some());
        }
    });
}

/// `wait_unlocked` versus a permit return on another thread (the waiter must not miss a return
/// that slips between its check and its registration): it completes through `block_on`, takes
/// nothing, and leaves nobody registered.
#[test]
fn wait_unlocked_vs_permit_return() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let held = sem.clone().try_acquire_owned().expect("free");
        let returner = thread::spawn(move || drop(held));
        block_on(sem.wait_unlocked());
        returner.join().unwrap();
        assert_eq!(sem.available(), 1);
        assert_eq!(sem.waiters(), 0);
        let p = sem.try_acquire().expect("free, and nobody waits");
        drop(p);
    });
}

/// The `acquire_many` docs: `acquire_many(0)` completes at once — also while a request is
/// queued (it takes nothing, so it barges past nobody). Here A waits on an empty semaphore and
/// a release races a try-once `acquire_many(0)` (what a passed deadline does) on the main
/// thread; the zero request is `Ready` in every order and changes no count.
///
/// Fails on the current code: the zero request goes through the same "nobody queued" check as
/// any other (`take_or_slow`, formerly `try_take`), so while A is queued it is refused (a
/// try-once returns `Pending`, a normal acquire queues behind A).
#[test]
fn acquire_many_zero_succeeds_at_once_with_queued_request() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let pa = Probe::new();
        let mut a = sem.clone().acquire_owned();
        pa.pending(&mut a);

        let releaser = {
            let sem = sem.clone();
            thread::spawn(move || sem.release())
        };
        let mut zero = sem.acquire_many(0);
        let got = try_once(&mut zero);
        releaser.join().unwrap();

        match got {
            std::task::Poll::Ready(permit) => assert_eq!(permit.num_permits(), 0),
            std::task::Poll::Pending => {
                panic!("acquire_many(0) did not succeed at once (a request was queued)")
            }
        }
        drop(zero);
        let permit = pa.ready(&mut a);
        assert_eq!(sem.available(), 0);
        drop(permit);
        assert_eq!(sem.available(), 1);
        assert_eq!(sem.waiters(), 0);
    });
}

/// `forget_permits` on the lock-free path races a lock-free `try_acquire` for the one permit:
/// exactly one of them gets it.
#[test]
fn forget_permits_vs_try_acquire() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let forgetter = {
            let sem = sem.clone();
            thread::spawn(move || sem.forget_permits(1))
        };
        let took = sem.try_acquire().map(|p| {
            p.forget();
        });
        let forgot = forgetter.join().unwrap();
        assert_eq!(forgot + usize::from(took.is_some()), 1);
        assert_eq!(sem.available(), 0);
    });
}

/// `forget_permits` on the locked path (a request for 3 queued, 2 free) races a release that
/// may complete the request: every permit is forgotten, handed over or free, never two of
/// these, and the request is served iff 3 were free at once.
#[test]
fn forget_permits_vs_release_with_queued_request() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(2));
        let probe = Probe::new();
        let mut big = sem.clone().acquire_many_owned(3);
        probe.pending(&mut big);
        let forgetter = {
            let sem = sem.clone();
            thread::spawn(move || sem.forget_permits(2))
        };
        let releaser = {
            let sem = sem.clone();
            thread::spawn(move || sem.release())
        };
        let forgot = forgetter.join().unwrap();
        releaser.join().unwrap();
        match probe.poll(&mut big) {
            std::task::Poll::Ready(permit) => {
                assert_eq!(forgot, 0);
                assert_eq!(sem.available(), 0);
                permit.forget();
            }
            std::task::Poll::Pending => {
                assert_eq!(forgot, 2);
                assert_eq!(sem.available(), 1);
                assert_eq!(sem.waiters(), 1);
            }
        }
    });
}
