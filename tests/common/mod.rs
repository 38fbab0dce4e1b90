//! Hand-polling kit shared by the integration tests: counting and recording wakers, and
//! helpers to poll a future once without a runtime.
#![allow(dead_code)]

pub mod queue_kit;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// A waker that counts its wake-ups.
pub struct CountingWaker {
    wakes: AtomicUsize,
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
    }
}

/// A counting waker and a handle to read its count.
pub fn counting_waker() -> (Waker, Arc<CountingWaker>) {
    let counter = Arc::new(CountingWaker {
        wakes: AtomicUsize::new(0),
    });
    (Waker::from(counter.clone()), counter)
}

impl CountingWaker {
    pub fn count(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }
}

/// A log shared by recording wakers: each appends its id when woken.
#[derive(Clone, Default)]
pub struct WakeLog(Arc<Mutex<Vec<usize>>>);

struct Recording {
    id: usize,
    log: WakeLog,
}

impl Wake for Recording {
    fn wake(self: Arc<Self>) {
        self.log.0.lock().unwrap().push(self.id);
    }
}

impl WakeLog {
    pub fn waker(&self, id: usize) -> Waker {
        Waker::from(Arc::new(Recording {
            id,
            log: self.clone(),
        }))
    }

    /// The ids woken so far, in order; clears the log.
    pub fn take(&self) -> Vec<usize> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// A future under test, polled by hand with a waker of its own.
pub struct Polled<F> {
    pub fut: Pin<Box<F>>,
    waker: Waker,
    pub counter: Arc<CountingWaker>,
}

impl<F: Future> Polled<F> {
    pub fn new(fut: F) -> Self {
        let (waker, counter) = counting_waker();
        Polled {
            fut: Box::pin(fut),
            waker,
            counter,
        }
    }

    /// Same, but polled with `waker` (e.g. a recording one); `counter` then stays at 0.
    pub fn with_waker(fut: F, waker: Waker) -> Self {
        let (_, counter) = counting_waker();
        Polled {
            fut: Box::pin(fut),
            waker,
            counter,
        }
    }

    pub fn poll(&mut self) -> Poll<F::Output> {
        let waker = self.waker.clone();
        self.fut.as_mut().poll(&mut Context::from_waker(&waker))
    }

    /// Polls with another waker, which is kept for later polls.
    pub fn poll_with(&mut self, waker: Waker) -> Poll<F::Output> {
        self.waker = waker;
        self.poll()
    }

    pub fn wakes(&self) -> usize {
        self.counter.count()
    }

    pub fn is_pending(&mut self) -> bool {
        self.poll().is_pending()
    }

    #[track_caller]
    pub fn ready(&mut self) -> F::Output {
        match self.poll() {
            Poll::Ready(out) => out,
            Poll::Pending => panic!("expected the future to be ready"),
        }
    }
}

/// Polls a fresh future once.
pub fn poll_once<F: Future>(fut: F) -> (Poll<F::Output>, Polled<F>) {
    let mut polled = Polled::new(fut);
    (polled.poll(), polled)
}
