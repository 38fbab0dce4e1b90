//! Kit shared by the model-based tests (`tests/model_*.rs`): the proptest configuration,
//! counting wakers with the wake-up counts a model expects of them, and hand-polling through
//! the crate's `Waitable` hooks (a normal poll, a try-once poll, a deadline's expiry).
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use proptest::test_runner::{Config, TestCaseError};
use toro_sync::future::Waitable;

/// The most operations in one generated case.
pub const MAX_OPS: usize = 60;

/// 1000 cases unless `PROPTEST_CASES` says otherwise; no regression files are written (a
/// minimized failure becomes a unit test by hand).
pub fn config() -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 1000;
    }
    config.failure_persistence = None;
    config
}

struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Every waker handed out in one case, with the wake-ups the model expects of each.
///
/// A future's waker is replaced by polling it with a fresh one; the model charges a grant to
/// the future's current waker, so an old waker must never be woken again, and neither must
/// the waker of a dropped future.
#[derive(Default)]
pub struct Wakers {
    counts: Vec<Arc<Count>>,
    wakers: Vec<Waker>,
    expected: Vec<usize>,
}

impl Wakers {
    /// A fresh waker; returns its number.
    pub fn fresh(&mut self) -> usize {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        self.wakers.push(Waker::from(count.clone()));
        self.counts.push(count);
        self.expected.push(0);
        self.counts.len() - 1
    }

    pub fn waker(&self, w: usize) -> &Waker {
        &self.wakers[w]
    }

    /// The model granted the future whose current waker is `w`: it must be woken once.
    pub fn expect_wake(&mut self, w: usize) {
        self.expected[w] += 1;
    }

    pub fn woken(&self, w: usize) -> usize {
        self.counts[w].0.load(Ordering::SeqCst)
    }

    /// Every waker was woken exactly as often as the model says.
    pub fn check(&self) -> Result<(), TestCaseError> {
        for (w, &expected) in self.expected.iter().enumerate() {
            let woken = self.woken(w);
            if woken != expected {
                return Err(TestCaseError::fail(format!(
                    "waker {w} was woken {woken} times, the model says {expected}"
                )));
            }
        }
        Ok(())
    }
}

/// A normal poll with waker `w`.
pub fn poll<F: Waitable>(fut: &mut F, wakers: &Wakers, w: usize) -> Poll<F::Output> {
    let mut cx = Context::from_waker(wakers.waker(w));
    fut.poll_wait(Some(&mut cx))
}

/// What a deadline already passed does on the first poll: try once without registering,
/// else time out at once.
pub fn try_once<F: Waitable>(fut: &mut F) -> F::Timed {
    match fut.poll_wait(None) {
        Poll::Ready(output) => F::ok(output),
        Poll::Pending => fut.expire(),
    }
}

/// What a deadline does when its timer fires.
pub fn expire<F: Waitable>(fut: &mut F) -> F::Timed {
    fut.expire()
}

/// The `i`-th of `len` things, `i` taken modulo `len`; `None` if there are none.
pub fn pick(i: usize, len: usize) -> Option<usize> {
    (len > 0).then(|| i % len)
}

/// The `i`-th (modulo) of the positions in `0..len` for which `keep` holds.
pub fn pick_where(i: usize, len: usize, keep: impl Fn(usize) -> bool) -> Option<usize> {
    let eligible: Vec<usize> = (0..len).filter(|&k| keep(k)).collect();
    pick(i, eligible.len()).map(|k| eligible[k])
}
