//! Hand-polling kit shared by the loom models.
//!
//! * [`Probe`]: a waker that counts its wakes in a loom atomic, and polls a waiting future with
//!   it (a normal poll: registers on the first one).
//! * [`try_once`]: the poll a passed deadline makes before the first poll (never registers).
//! * [`leak`]: a `&'static` primitive, so that futures borrowing it can move into loom threads
//!   (loom has no scoped threads). Each execution leaks one small value.
//!
//! Waiting: models wait through `loom::future::block_on`, so a lost wake-up (a waiter never
//! woken) is reported by loom as `deadlock; threads = [...]`. Loom then panics a second time
//! while unwinding (its `block_on` drops a loom `Arc` outside the execution), so the test
//! binary aborts with SIGABRT and the rest of that file's tests do not run: look for the
//! `deadlock` line above the abort. Run with `--no-fail-fast` to see the other files.
#![allow(dead_code)]

use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use toro_sync::future::Waitable;

struct Counter {
    wakes: AtomicUsize,
}

impl Wake for Counter {
    fn wake(self: StdArc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
    }

    fn wake_by_ref(self: &StdArc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
    }
}

/// A counting waker, and polls with it.
pub struct Probe {
    counter: StdArc<Counter>,
    waker: Waker,
}

impl Probe {
    pub fn new() -> Self {
        let counter = StdArc::new(Counter {
            wakes: AtomicUsize::new(0),
        });
        let waker = Waker::from(counter.clone());
        Probe { counter, waker }
    }

    /// How many times this waker was woken.
    pub fn wakes(&self) -> usize {
        self.counter.wakes.load(SeqCst)
    }

    /// Polls `fut` once with this waker.
    pub fn poll<W: Waitable>(&self, fut: &mut W) -> Poll<W::Output> {
        let mut cx = Context::from_waker(&self.waker);
        fut.poll_wait(Some(&mut cx))
    }

    /// Polls `fut` once and asserts it is pending (registered, if this is its first poll).
    pub fn pending<W: Waitable>(&self, fut: &mut W) {
        assert!(
            self.poll(fut).is_pending(),
            "expected the wait to be pending"
        );
    }

    /// Polls `fut` once and returns its output, asserting it is ready.
    pub fn ready<W: Waitable>(&self, fut: &mut W) -> W::Output {
        match self.poll(fut) {
            Poll::Ready(out) => out,
            Poll::Pending => panic!("expected the wait to be ready"),
        }
    }
}

/// A try-once poll (what a deadline already passed does): never registers.
pub fn try_once<W: Waitable>(fut: &mut W) -> Poll<W::Output> {
    fut.poll_wait(None)
}

/// A `&'static` handle on `value`, for futures that borrow a primitive and move across loom
/// threads.
pub fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}
