//! [`Waiting`]: the named future every waiting method returns.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::time::Instant;
use toro_sync::Deadline;

use crate::Error;

type Running<T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send>>;
type Start<T> = Box<dyn FnOnce(Option<Instant>) -> Running<T> + Send>;

/// A wait on a Redis primitive, resolving to `Result<T, Error>`; the futures of this crate
/// ([`LockFuture`](crate::LockFuture), [`AcquireFuture`](crate::AcquireFuture),
/// [`EventWaitFuture`](crate::EventWaitFuture), [`GetFuture`](crate::GetFuture),
/// [`BarrierWaitFuture`](crate::BarrierWaitFuture), …) are this type. Nothing is sent until it
/// is first polled.
///
/// [`deadline(d)`](Self::deadline) bounds it: past the deadline it resolves to
/// [`Error::Timeout`] (a grant that raced the deadline and won is returned instead, never
/// lost). `Duration::ZERO`, or an instant already passed, means *try once*: one script, nothing
/// registered.
///
/// # Cancel safety
///
/// Dropping it at any point loses only its place in line: its ticket is withdrawn in the
/// background on the same connection (after the request that created it), and whatever was
/// already granted to it is released and passes to the next waiter.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Waiting<T> {
    start: Option<Start<T>>,
    deadline: Option<Instant>,
    running: Option<Running<T>>,
}

impl<T: 'static> Waiting<T> {
    pub(crate) fn new<F, Fut>(start: F) -> Self
    where
        F: FnOnce(Option<Instant>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, Error>> + Send + 'static,
    {
        Waiting {
            start: Some(Box::new(move |deadline| Box::pin(start(deadline)))),
            deadline: None,
            running: None,
        }
    }

    /// Gives up at `d`: a [`Duration`](std::time::Duration) from now or an
    /// [`Instant`](std::time::Instant), read on tokio's clock as toro-sync does. Set it before
    /// the first poll; a future already polled keeps the deadline it started with.
    pub fn deadline(mut self, d: impl Into<Deadline>) -> Self {
        if self.running.is_none() {
            self.deadline = d.into().resolve().map(Instant::from_std);
        }
        self
    }
}

impl<T> Future for Waiting<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Some(start) = this.start.take() {
            this.running = Some(start(this.deadline));
        }
        match this.running.as_mut() {
            Some(running) => running.as_mut().poll(cx),
            None => Poll::Ready(Err(Error::protocol("wait polled after completion"))),
        }
    }
}

impl<T> fmt::Debug for Waiting<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waiting")
            .field("started", &self.running.is_some())
            .field("deadline", &self.deadline)
            .finish()
    }
}
