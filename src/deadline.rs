//! Deadlines, written once for every wait: [`Deadline`], the [`WithDeadline`] wrapper, and the
//! timers that fire them.
//!
//! A deadline is resolved to an absolute instant when `.deadline()` is called. On first poll,
//! an instant already reached means *try once*: the wait completes if it can without waiting,
//! else it times out at once and leaves nothing registered. Otherwise the wait registers and a
//! timer is armed — tokio's inside a tokio runtime (so its paused clock applies), async-io's
//! elsewhere. On expiry the waiter is withdrawn under the primitive's lock, so a hand-off and
//! the deadline racing each other resolve to exactly one outcome: a grant that arrived first is
//! kept; otherwise nothing was taken.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::wait::PinnedWaitable;

/// When a wait gives up: a [`Duration`] from the moment `.deadline()` is called, or an
/// [`Instant`].
///
/// Built with `From`, so every `.deadline(d)` takes a `Duration` or an `Instant` directly.
/// Inside a tokio runtime both are read on tokio's clock (a `Duration` is added to
/// `tokio::time::Instant::now()`, and an `Instant` is compared as
/// `tokio::time::Instant::from_std` does), so tokio's paused clock drives them in tests.
/// `Duration::ZERO`, or an instant already past, means *try once*.
///
/// ```
/// use std::time::{Duration, Instant};
/// use toro_sync::Deadline;
///
/// let relative: Deadline = Duration::from_millis(10).into();
/// let absolute: Deadline = (Instant::now() + Duration::from_secs(1)).into();
/// assert_ne!(relative, absolute);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Deadline(Repr);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Repr {
    After(Duration),
    At(Instant),
}

impl Deadline {
    /// A deadline `duration` after the moment it is applied with `.deadline()`.
    pub const fn after(duration: Duration) -> Self {
        Deadline(Repr::After(duration))
    }

    /// A deadline at `instant`.
    pub const fn at(instant: Instant) -> Self {
        Deadline(Repr::At(instant))
    }

    /// The absolute instant this deadline stands for, read now: an `at` instant as it is, an
    /// `after` duration added to the current time on the clock of the timer that will fire it
    /// (tokio's inside a tokio runtime, so its paused clock applies; the system's monotonic clock
    /// elsewhere). `None` if so far in the future that it cannot be represented (the wait is then
    /// unbounded).
    ///
    /// Every `.deadline(d)` of this crate calls it once, when `.deadline(d)` is called. It is
    /// public so that crates building waits of their own on top of toro-sync (such as a tier
    /// that waits on a server) resolve a [`Deadline`] exactly as toro-sync does.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use toro_sync::Deadline;
    ///
    /// let at = Deadline::from(Duration::from_secs(1)).resolve().unwrap();
    /// assert!(at > Instant::now());
    /// assert_eq!(Deadline::from(Duration::MAX).resolve(), None);
    /// ```
    pub fn resolve(self) -> Option<Instant> {
        match self.0 {
            Repr::At(instant) => Some(instant),
            Repr::After(duration) => clock::now().checked_add(duration),
        }
    }
}

impl From<Duration> for Deadline {
    fn from(duration: Duration) -> Self {
        Deadline::after(duration)
    }
}

impl From<Instant> for Deadline {
    fn from(instant: Instant) -> Self {
        Deadline::at(instant)
    }
}

#[cfg(all(feature = "tokio", not(loom)))]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
impl From<tokio::time::Instant> for Deadline {
    fn from(instant: tokio::time::Instant) -> Self {
        Deadline::at(instant.into_std())
    }
}

pin_project_lite::pin_project! {
    /// A wait bounded by a [`Deadline`]; made by `.deadline(d)` on any waiting future of the
    /// crate, with `d` a [`Duration`] from now or an [`Instant`].
    ///
    /// Resolves to `Result<T, Timeout>` where the wait resolves to `T` — except the queue
    /// operations, whose `Result` gains its `Timeout` variant instead. On expiry the wait is
    /// withdrawn: a grant that arrived first is kept (the wait succeeds), otherwise nothing was
    /// taken. A deadline already passed (or `Duration::ZERO`) tries once without waiting and
    /// leaves nothing registered. Dropping it is the same as dropping the wait. `.block()`
    /// waits on the calling thread with the deadline as a park timeout.
    ///
    /// Deadlines fire on tokio's timer inside a tokio runtime (so `tokio::time::pause`
    /// applies) and on async-io's timer on any other executor.
    ///
    /// # Panics
    ///
    /// Awaiting it with a deadline still ahead panics inside a tokio runtime built without its
    /// time driver, and outside tokio when the `async-io` feature is off (`.block()` needs
    /// neither).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use toro_sync::{Semaphore, Timeout};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// let sem = Semaphore::new(1);
    /// let held = sem.acquire().await;
    /// // Waits a second (of tokio's paused clock here), then gives up.
    /// assert_eq!(sem.acquire().deadline(Duration::from_secs(1)).await.err(), Some(Timeout));
    /// // Zero: try once.
    /// assert!(sem.acquire().deadline(Duration::ZERO).await.is_err());
    /// drop(held);
    /// assert!(sem.acquire().deadline(Duration::ZERO).await.is_ok());
    /// # }
    /// ```
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct WithDeadline<F> {
        #[pin]
        inner: F,
        at: Option<Instant>,
        // Unarmed until the first poll has tried once; armed from then on.
        #[pin]
        timer: clock::Timer,
    }
}

impl<F: PinnedWaitable> WithDeadline<F> {
    pub(crate) fn new(inner: F, deadline: Deadline) -> Self {
        WithDeadline {
            inner,
            at: deadline.resolve(),
            timer: clock::Timer::Unarmed,
        }
    }

    /// Completes the wait on the calling thread, parking it until the wait completes or the
    /// deadline passes. Needs no runtime. Not for use inside async code: it blocks the
    /// executor's thread.
    ///
    /// # Panics
    ///
    /// When called on a thread that runs async tasks (see [Waiting](crate#waiting)).
    #[track_caller]
    pub fn block(self) -> F::Timed {
        crate::block::block_until(self.inner, self.at)
    }
}

impl<F: PinnedWaitable> Future for WithDeadline<F> {
    type Output = F::Timed;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Timed> {
        let this = self.project();
        let mut inner = this.inner;
        let Some(at) = *this.at else {
            return inner.poll_wait_pinned(Some(cx)).map(F::ok_pinned);
        };
        if this.timer.is_unarmed() {
            // Try once without registering: no clock is read when the wait need not wait.
            if let Poll::Ready(output) = inner.as_mut().poll_wait_pinned(None) {
                return Poll::Ready(F::ok_pinned(output));
            }
            if clock::reached(at) {
                return Poll::Ready(inner.expire_pinned());
            }
        }
        if let Poll::Ready(output) = inner.as_mut().poll_wait_pinned(Some(cx)) {
            return Poll::Ready(F::ok_pinned(output));
        }
        if this.timer.poll_expired(at, cx) {
            return Poll::Ready(inner.expire_pinned());
        }
        Poll::Pending
    }
}

impl<F> std::fmt::Debug for WithDeadline<F>
where
    F: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithDeadline")
            .field("inner", &self.inner)
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

/// The clocks and timers behind deadlines.
mod clock {
    use std::pin::Pin;
    use std::task::Context;
    use std::time::Instant;

    /// Whether code is running inside a tokio runtime (whose clock and timer then apply).
    #[cfg(all(feature = "tokio", not(loom)))]
    fn in_tokio() -> bool {
        tokio::runtime::Handle::try_current().is_ok()
    }

    /// Now, on the clock of the timer that would fire a deadline set here. tokio's clock is
    /// `std`'s except under a paused test clock inside a tokio runtime, and tokio's own
    /// `now()` makes that distinction cheaply.
    pub(super) fn now() -> Instant {
        #[cfg(all(feature = "tokio", not(loom)))]
        {
            tokio::time::Instant::now().into_std()
        }
        #[cfg(not(all(feature = "tokio", not(loom))))]
        {
            Instant::now()
        }
    }

    /// Whether `at` has been reached on that clock.
    pub(super) fn reached(at: Instant) -> bool {
        now() >= at
    }

    #[cfg(all(feature = "tokio", not(loom)))]
    type TokioSleep = tokio::time::Sleep;
    #[cfg(not(all(feature = "tokio", not(loom))))]
    type TokioSleep = std::future::Pending<()>;

    #[cfg(all(feature = "async-io", not(loom)))]
    type OtherTimer = async_io::Timer;
    #[cfg(not(all(feature = "async-io", not(loom))))]
    type OtherTimer = std::future::Pending<()>;

    pin_project_lite::pin_project! {
        /// A timer armed on the first pending poll of a deadline wait: one slot, whichever
        /// timer fires it.
        #[project = TimerProj]
        pub(super) enum Timer {
            Unarmed,
            Tokio { #[pin] sleep: TokioSleep },
            Other { timer: OtherTimer },
        }
    }

    impl Timer {
        pub(super) fn is_unarmed(&self) -> bool {
            matches!(self, Timer::Unarmed)
        }

        /// Arms the timer for `at` if needed, and polls it.
        pub(super) fn poll_expired(
            mut self: Pin<&mut Self>,
            at: Instant,
            cx: &mut Context<'_>,
        ) -> bool {
            if self.is_unarmed() {
                self.set(arm(at));
            }
            match self.project() {
                TimerProj::Tokio { sleep } => sleep.poll(cx).is_ready(),
                TimerProj::Other { timer } => Pin::new(timer).poll(cx).is_ready(),
                TimerProj::Unarmed => unreachable!("a deadline timer is armed before it is polled"),
            }
        }
    }

    use std::future::Future;

    #[allow(unused_variables)]
    fn arm(at: Instant) -> Timer {
        #[cfg(all(feature = "tokio", not(loom)))]
        if in_tokio() {
            let at = tokio::time::Instant::from_std(at);
            return Timer::Tokio {
                sleep: tokio::time::sleep_until(at),
            };
        }
        #[cfg(all(feature = "async-io", not(loom)))]
        {
            return Timer::Other {
                timer: async_io::Timer::at(at),
            };
        }
        #[allow(unreachable_code)]
        {
            panic!(
                "toro-sync: a wait with a deadline was polled outside a tokio runtime, and the \
                 `async-io` feature (the timer for other executors) is disabled; enable it, \
                 poll inside tokio, or use `.block()`"
            )
        }
    }
}
