#![cfg(loom)]
//! `Barrier(2)`: an arrival racing a waiter's deadline; two concurrent arrivals.

mod support;

use std::task::Poll;

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
