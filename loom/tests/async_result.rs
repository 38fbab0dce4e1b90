#![cfg(loom)]
//! `AsyncResult`: set-once race between setters, and `set` versus a getter's deadline;
//! `get_or_init`'s turn hand-off: a cancelled initializer versus a waiting caller, two callers
//! racing for the turn, `set` versus a running initializer, a hand-off versus a deadline.

mod support;

use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use support::{Probe, leak, try_once};

use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use toro_sync::future::{PinnedWaitable, Waitable};
use toro_sync::{AlreadySet, AsyncResult, NotReady, Timeout};

/// #23: two setters and a getter (through `block_on`, created concurrently with the sets):
/// exactly one `set` succeeds, the other gets its own value back, and the getter sees the
/// winning value (loom checks the value cell's accesses).
#[test]
fn two_setters_one_getter() {
    loom::model(|| {
        let result = Arc::new(AsyncResult::<usize>::new());
        let setters: Vec<_> = [1usize, 2]
            .into_iter()
            .map(|value| {
                let result = result.clone();
                thread::spawn(move || match result.set(value) {
                    Ok(()) => Ok(value),
                    Err(AlreadySet(back)) => {
                        assert_eq!(back, value, "AlreadySet returned another value");
                        Err(back)
                    }
                })
            })
            .collect();
        let got = *block_on(result.get());
        let outcomes: Vec<_> = setters.into_iter().map(|t| t.join().unwrap()).collect();

        let winners: Vec<usize> = outcomes.iter().filter_map(|o| o.ok()).collect();
        assert_eq!(winners.len(), 1, "set outcomes: {outcomes:?}");
        assert_eq!(got, winners[0], "the getter saw a losing value");
        assert_eq!(result.try_get(), Ok(&winners[0]));
        assert_eq!(result.waiters(), 0);
    });
}

/// #24: a registered getter's deadline fires as the value is set. It returns the value or
/// `Timeout`; either way a later get completes at once with the value and nothing stays
/// registered.
#[test]
fn set_vs_get_expire() {
    loom::model(|| {
        let result = leak(AsyncResult::<usize>::new());
        let pg = Probe::new();
        let mut g = result.get();
        pg.pending(&mut g);
        assert_eq!(result.try_get(), Err(NotReady));

        let setter = thread::spawn(move || result.set(7).is_ok());
        let timer = thread::spawn(move || match g.expire() {
            Ok(value) => Some(*value),
            Err(Timeout) => None,
        });
        assert!(setter.join().unwrap());
        let got = timer.join().unwrap();

        assert!(matches!(got, None | Some(7)), "the getter saw {got:?}");
        assert_eq!(result.waiters(), 0);
        assert_eq!(result.try_get(), Ok(&7));
        let mut later = result.get();
        assert_eq!(try_once(&mut later), std::task::Poll::Ready(&7));
    });
}

/// Polls a pinned wait once with a no-op waker (for futures whose wake-ups the model does not
/// need: they are dropped or expired by another thread, or polled again by this one).
fn poll_noop<W: PinnedWaitable>(wait: Pin<&mut W>) -> Poll<W::Output> {
    wait.poll_wait_pinned(Some(&mut Context::from_waker(Waker::noop())))
}

/// The running initializer's call is dropped on one thread while another caller arrives (and
/// may queue) on another: that caller runs its own initializer, exactly one value is stored,
/// and nobody is left waiting (a lost hand-off shows as a loom deadlock in `block_on`).
#[test]
fn cancelled_initializer_hands_the_turn_to_a_waiting_caller() {
    loom::model(|| {
        let result = leak(AsyncResult::<usize>::new());
        let mut a = Box::pin(result.get_or_init(std::future::pending::<usize>));
        assert!(poll_noop(a.as_mut()).is_pending(), "a holds the turn");
        let canceller = thread::spawn(move || drop(a));
        let calls = leak(AtomicUsize::new(0));
        let b = thread::spawn(move || {
            *block_on(result.get_or_init(|| {
                calls.fetch_add(1, SeqCst);
                async { 2 }
            }))
        });
        canceller.join().unwrap();
        assert_eq!(b.join().unwrap(), 2);
        assert_eq!(calls.load(SeqCst), 1);
        assert_eq!(result.try_get(), Ok(&2));
        assert_eq!(result.waiters(), 0);
    });
}

/// Two callers race for the turn: exactly one initializer runs and both get its value.
#[test]
fn two_callers_race_for_the_turn() {
    loom::model(|| {
        let result = leak(AsyncResult::<usize>::new());
        let calls = leak(AtomicUsize::new(0));
        let callers: Vec<_> = [1usize, 2]
            .into_iter()
            .map(|value| {
                thread::spawn(move || {
                    *block_on(result.get_or_init(move || {
                        calls.fetch_add(1, SeqCst);
                        async move { value }
                    }))
                })
            })
            .collect();
        let got: Vec<usize> = callers.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(calls.load(SeqCst), 1, "exactly one initializer ran");
        assert_eq!(got[0], got[1]);
        assert_eq!(result.try_get(), Ok(&got[0]));
        assert_eq!(result.waiters(), 0);
    });
}

/// `set` races a caller that queues behind a running initializer: the caller gets the value
/// set; the initializer's call, dropped afterwards, stores nothing.
#[test]
fn set_completes_a_caller_queued_behind_a_running_initializer() {
    loom::model(|| {
        let result = leak(AsyncResult::<usize>::new());
        let mut a = Box::pin(result.get_or_init(std::future::pending::<usize>));
        assert!(poll_noop(a.as_mut()).is_pending());
        let setter = thread::spawn(move || result.set(7).is_ok());
        let b = thread::spawn(move || {
            *block_on(result.get_or_init(|| async { unreachable!("a holds the turn") }))
        });
        assert!(setter.join().unwrap());
        assert_eq!(b.join().unwrap(), 7);
        drop(a);
        assert_eq!(result.try_get(), Ok(&7));
        assert_eq!(result.waiters(), 0);
    });
}

/// A queued caller's deadline fires as the turn is handed to it (the initializer's call
/// dropped on another thread): whichever wins, the turn is not lost — a later caller takes it
/// at once and runs its initializer.
#[test]
fn turn_hand_off_vs_deadline() {
    loom::model(|| {
        let result = leak(AsyncResult::<usize>::new());
        let mut a = Box::pin(result.get_or_init(std::future::pending::<usize>));
        assert!(poll_noop(a.as_mut()).is_pending());
        let mut b = Box::pin(result.get_or_init(|| async { unreachable!("b times out") }));
        assert!(poll_noop(b.as_mut()).is_pending(), "b queues");
        let canceller = thread::spawn(move || drop(a));
        let timer = thread::spawn(move || b.as_mut().expire_pinned().is_ok());
        canceller.join().unwrap();
        assert!(!timer.join().unwrap(), "b ends with Timeout");
        assert_eq!(result.waiters(), 0);
        let mut c = Box::pin(result.get_or_init(|| async { 3 }));
        assert_eq!(poll_noop(c.as_mut()), Poll::Ready(&3), "the turn was free");
    });
}
