//! Blocking, written once: `.block()` completes any wait on the calling thread by parking it.
//!
//! The waker unparks the thread; a deadline becomes a park timeout on `std`'s monotonic clock,
//! after which the wait is withdrawn exactly as an async deadline withdraws it.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Instant;

use crate::wait::PinnedWaitable;

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

/// Panics if this thread runs async tasks, where parking it could deadlock them: inside a
/// tokio runtime's worker or `block_on` (a `spawn_blocking` thread, or a plain thread, is
/// fine). A runtime entered on this thread refuses a second entry; that refusal is the test.
#[cfg(all(feature = "tokio", not(loom)))]
#[track_caller]
fn assert_not_async_context() {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return;
    };
    // When the runtime is entered here, tokio's own refusal is printed first; ours follows.
    let entered =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle.block_on(async {})))
            .is_err();
    if entered {
        panic!(
            "toro-sync: `.block()` was called on a thread that runs async tasks (inside a tokio \
             runtime); parking it could deadlock them. Use `.await` there, or call `.block()` \
             from a plain thread or `tokio::task::spawn_blocking`"
        );
    }
}

#[cfg(not(all(feature = "tokio", not(loom))))]
#[track_caller]
fn assert_not_async_context() {}

/// Waits for `wait` on this thread, without a deadline.
#[track_caller]
pub(crate) fn block_on<F: PinnedWaitable>(wait: F) -> F::Output {
    assert_not_async_context();
    park_on(std::pin::pin!(wait))
}

fn park_on<F: PinnedWaitable>(mut wait: Pin<&mut F>) -> F::Output {
    WAKER.with(|waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(output) = wait.as_mut().poll_wait_pinned(Some(&mut cx)) {
                return output;
            }
            thread::park();
        }
    })
}

/// Waits for `wait` on this thread until `at` (`None`: no deadline).
#[track_caller]
pub(crate) fn block_until<F: PinnedWaitable>(wait: F, at: Option<Instant>) -> F::Timed {
    assert_not_async_context();
    let mut wait = std::pin::pin!(wait);
    let Some(at) = at else {
        return F::ok_pinned(park_on(wait));
    };
    if Instant::now() >= at {
        return match wait.as_mut().poll_wait_pinned(None) {
            Poll::Ready(output) => F::ok_pinned(output),
            Poll::Pending => wait.expire_pinned(),
        };
    }
    WAKER.with(|waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(output) = wait.as_mut().poll_wait_pinned(Some(&mut cx)) {
                return F::ok_pinned(output);
            }
            let now = Instant::now();
            if now >= at {
                return wait.as_mut().expire_pinned();
            }
            thread::park_timeout(at - now);
        }
    })
}
