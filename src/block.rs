//! Blocking, written once: `.block()` completes any wait on the calling thread by parking it.
//!
//! The waker unparks the thread; a deadline becomes a park timeout on `std`'s monotonic clock,
//! after which the wait is withdrawn exactly as an async deadline withdraws it.

use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Instant;

use crate::wait::Waitable;

struct Unparker(Thread);

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

thread_local! {
    // One waker per thread, made on its first blocking wait: later waits allocate nothing.
    static WAKER: Waker = Waker::from(Arc::new(Unparker(thread::current())));
}

/// Waits for `wait` on this thread, without a deadline.
pub(crate) fn block_on<F: Waitable>(mut wait: F) -> F::Output {
    WAKER.with(|waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(output) = wait.poll_wait(Some(&mut cx)) {
                return output;
            }
            thread::park();
        }
    })
}

/// Waits for `wait` on this thread until `at` (`None`: no deadline).
pub(crate) fn block_until<F: Waitable>(mut wait: F, at: Option<Instant>) -> F::Timed {
    let Some(at) = at else {
        return F::ok(block_on(wait));
    };
    if Instant::now() >= at {
        return match wait.poll_wait(None) {
            Poll::Ready(output) => F::ok(output),
            Poll::Pending => wait.expire(),
        };
    }
    WAKER.with(|waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(output) = wait.poll_wait(Some(&mut cx)) {
                return F::ok(output);
            }
            let now = Instant::now();
            if now >= at {
                return wait.expire();
            }
            thread::park_timeout(at - now);
        }
    })
}
