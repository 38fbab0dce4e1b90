#![cfg(loom)]
//! `Barrier`: an arrival racing a waiter's deadline; two concurrent arrivals; a released
//! waiter's lock-free pick-up racing the trip, the next generation and a drop.

mod support;

use std::task::Poll;

use loom::cell::UnsafeCell;
use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;
use support::{Probe, leak};
use toro_sync::future::Waitable;
use toro_sync::{Barrier, Timeout};

/// W1 has arrived and waits; its deadline fires as W2 arrives. Either the barrier tripped (W2
/// is the leader, W1 released as a follower even though its deadline fired: the trip won) or
/// W1 withdrew first (its count removed): then W2 waits alone and `arrived() == 1`. Never
/// "W1 timed out and W2 released", never two leaders.
#[test]
fn arrival_vs_expire() {
    loom::model(|| {
        let barrier = leak(Barrier::new(2));
        let p1 = Probe::new();
        let mut w1 = barrier.wait();
        p1.pending(&mut w1);
        assert_eq!(barrier.arrived(), 1);

        let timer = thread::spawn(move || w1.expire());
        let arrival = thread::spawn(move || {
            let p2 = Probe::new();
            let mut w2 = barrier.wait();
            let first = p2.poll(&mut w2);
            (first, w2, p2)
        });
        let w1_out = timer.join().unwrap();
        let (w2_first, w2, p2) = arrival.join().unwrap();

        match (w1_out, w2_first) {
            (Ok(r1), Poll::Ready(r2)) => {
                assert!(!r1.is_leader());
                assert!(r2.is_leader());
                assert_eq!(barrier.arrived(), 0);
                assert_eq!(barrier.waiters(), 0);
            }
            (Err(Timeout), Poll::Pending) => {
                assert_eq!(
                    barrier.arrived(),
                    1,
                    "the timed-out arrival was not withdrawn"
                );
                assert_eq!(barrier.waiters(), 1);
                assert_eq!(p2.wakes(), 0);
            }
            (w1_out, w2_first) => panic!("inconsistent barrier: W1 {w1_out:?}, W2 {w2_first:?}"),
        }
        drop(w2);
        assert_eq!(barrier.arrived(), 0);
        assert_eq!(barrier.waiters(), 0);
    });
}

/// Two concurrent arrivals (through `block_on`) trip the barrier once, with exactly one leader,
/// and leave it ready for the next generation.
#[test]
fn two_arrivals_one_leader() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let other = {
            let barrier = barrier.clone();
            thread::spawn(move || block_on(barrier.wait()).is_leader())
        };
        let mine = block_on(barrier.wait()).is_leader();
        let theirs = other.join().unwrap();
        assert!(mine ^ theirs, "leaders: mine {mine}, theirs {theirs}");
        assert_eq!(barrier.arrived(), 0);
        assert_eq!(barrier.waiters(), 0);
    });
}

/// A registered waiter W picks its release up (through `block_on`, lock-free or under the
/// lock) while the tripping arrival runs on another thread. Each side wrote a plain cell
/// before its `wait` and reads the other's after: loom reports a data race unless the trip
/// orders the writes before the reads both ways (the Release count / Acquire pick-up one way,
/// the lock the other).
#[test]
fn lock_free_pickup_sees_writes_before_the_trip() {
    loom::model(|| {
        let barrier = leak(Barrier::new(2));
        let mine = leak(UnsafeCell::new(0usize));
        let theirs = leak(UnsafeCell::new(0usize));
        // SAFETY: no other thread exists yet.
        mine.with_mut(|p| unsafe { *p = 1 });
        let probe = Probe::new();
        let mut w = barrier.wait();
        probe.pending(&mut w);

        let tripper = thread::spawn(move || {
            // SAFETY: only this thread touches `theirs` before the trip; W reads it after.
            theirs.with_mut(|p| unsafe { *p = 2 });
            let r = block_on(barrier.wait());
            // SAFETY: W wrote `mine` before arriving; the trip orders it before this read.
            (r.is_leader(), mine.with(|p| unsafe { *p }))
        });
        let r = block_on(&mut w);
        // SAFETY: the tripper wrote `theirs` before tripping; the pick-up orders it before.
        let seen = theirs.with(|p| unsafe { *p });
        let (leader, seen_by_tripper) = tripper.join().unwrap();

        assert!(!r.is_leader());
        assert!(leader);
        assert_eq!(seen, 2);
        assert_eq!(seen_by_tripper, 1);
        assert!(probe.wakes() <= 1);
        assert_eq!(barrier.arrived(), 0);
        assert_eq!(barrier.waiters(), 0);
    });
}

/// W1 waits in generation 0. Another thread trips it (W2, the leader) and at once arrives in
/// generation 1 (W3, registered, likely in the slot W1's grant freed). W1 is polled meanwhile:
/// it completes as a follower of generation 0 whatever the interleaving, without touching the
/// slot it no longer owns (a stale key would panic), and W3 stays queued for generation 1
/// until W4 trips it.
#[test]
fn released_waiter_vs_next_generation() {
    loom::model(|| {
        let barrier = leak(Barrier::new(2));
        let p1 = Probe::new();
        let mut w1 = barrier.wait();
        p1.pending(&mut w1);

        let other = thread::spawn(move || {
            let leader = block_on(barrier.wait()).is_leader();
            let p3 = Probe::new();
            let mut w3 = barrier.wait();
            p3.pending(&mut w3);
            (leader, w3, p3)
        });
        let first = p1.poll(&mut w1);
        let (leader, mut w3, p3) = other.join().unwrap();
        assert!(leader);
        let r1 = match first {
            Poll::Ready(r1) => r1,
            Poll::Pending => {
                assert_eq!(p1.wakes(), 1);
                p1.ready(&mut w1)
            }
        };
        assert!(!r1.is_leader());
        assert_eq!(barrier.arrived(), 1);
        assert_eq!(barrier.waiters(), 1);
        assert_eq!(p3.wakes(), 0);

        let p4 = Probe::new();
        let mut w4 = barrier.wait();
        assert!(p4.ready(&mut w4).is_leader());
        assert_eq!(p3.wakes(), 1);
        assert!(!p3.ready(&mut w3).is_leader());
        assert_eq!(barrier.arrived(), 0);
        assert_eq!(barrier.waiters(), 0);
    });
}

/// `Barrier(3)` with W1 and W2 waiting: W1 is dropped on one thread while W3 arrives on
/// another. Either the drop came first (W1 withdrawn: W3 waits, two arrivals count) or the
/// trip did (W3 the leader, W2 released and woken once, and dropping the released W1 changes
/// nothing). Never a trip with a withdrawn arrival, never a count left behind.
#[test]
fn drop_vs_trip() {
    loom::model(|| {
        let barrier = leak(Barrier::new(3));
        let (p1, p2) = (Probe::new(), Probe::new());
        let (mut w1, mut w2) = (barrier.wait(), barrier.wait());
        p1.pending(&mut w1);
        p2.pending(&mut w2);

        let dropper = thread::spawn(move || drop(w1));
        let arrival = thread::spawn(move || {
            let p3 = Probe::new();
            let mut w3 = barrier.wait();
            let first = p3.poll(&mut w3);
            (first, w3, p3)
        });
        dropper.join().unwrap();
        let (first, w3, p3) = arrival.join().unwrap();

        match first {
            Poll::Ready(r3) => {
                assert!(r3.is_leader());
                assert_eq!(p2.wakes(), 1);
                assert!(!p2.ready(&mut w2).is_leader());
                assert_eq!(barrier.arrived(), 0);
                assert_eq!(barrier.waiters(), 0);
            }
            Poll::Pending => {
                assert_eq!(
                    barrier.arrived(),
                    2,
                    "the dropped arrival was not withdrawn"
                );
                assert_eq!(barrier.waiters(), 2);
                assert_eq!(p2.wakes() + p3.wakes(), 0);
                drop(w2);
            }
        }
        drop(w3);
        assert_eq!(barrier.arrived(), 0);
        assert_eq!(barrier.waiters(), 0);
    });
}
