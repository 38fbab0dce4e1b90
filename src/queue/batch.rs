//! The batched put: [`PutManyError`], and the wait behind [`put_many`](GenericQueue::put_many).
//!
//! A batched put is not one waiter but a sequence of them: the items that fit go in under one
//! lock (`QueueState::put_many`), and the first that does not waits as a plain put on the
//! waiter core (one registration at a time, in the putters' FIFO line); once it is in, the next
//! batch goes in under one lock, and so on. Every item is therefore put exactly as a single
//! `put` would put it, in order, and every item not put comes back.

use std::collections::VecDeque;
use std::fmt;
use std::task::{Context, Poll};

use super::ops::PutOp;
use super::order::{Fifo, Order};
use super::{GenericQueue, QueueHandle};
use crate::error::PutError;
use crate::wait::{Waitable, Waiter, sealed, wait_future};

/// A batched put ([`put_many`](GenericQueue::put_many),
/// [`try_put_many`](GenericQueue::try_put_many)) that stopped before its last item: how many
/// items went in, and every item that did not, in their order. Nothing is lost.
///
/// The items put are the first [`put`](Self::put) of the batch; [`rest`](Self::rest) says why
/// the batch stopped ([`PutError::Full`] from `try_put_many`, [`PutError::Timeout`] from a
/// deadline, [`PutError::Closed`]) and carries the items not put.
///
/// ```
/// use toro_sync::{PutError, Queue};
///
/// let queue = Queue::bounded(2);
/// let err = queue.try_put_many(["a", "b", "c", "d"]).unwrap_err();
/// assert_eq!(err.put, 2);
/// assert!(matches!(err.rest, PutError::Full(_)));
/// assert_eq!(err.into_rest(), ["c", "d"]);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PutManyError<T> {
    /// How many items were put: the first `put` of the batch, in order.
    pub put: usize,
    /// Why the batch stopped, with every item not put, in their order.
    pub rest: PutError<Vec<T>>,
}

impl<T> PutManyError<T> {
    /// The items that were not put, in their order.
    pub fn into_rest(self) -> Vec<T> {
        self.rest.into_inner()
    }

    fn rest_len(&self) -> usize {
        match &self.rest {
            PutError::Full(rest) | PutError::Timeout(rest) | PutError::Closed(rest) => rest.len(),
        }
    }

    fn new(put: usize, rest: VecDeque<T>, why: Why<T>) -> Self {
        PutManyError {
            put,
            rest: why(Vec::from(rest)),
        }
    }
}

impl<T> fmt::Debug for PutManyError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PutManyError")
            .field("put", &self.put)
            .field("rest", &self.rest)
            .field("not_put", &self.rest_len())
            .finish()
    }
}

impl<T> fmt::Display for PutManyError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} after {} item(s) of a batch were put ({} not put)",
            self.rest,
            self.put,
            self.rest_len()
        )
    }
}

impl<T> std::error::Error for PutManyError<T> {}

type Item<H> = <H as QueueHandle>::Item;

/// The `PutError` variant a batch stopped with, wrapping the items not put.
type Why<T> = fn(Vec<T>) -> PutError<Vec<T>>;

/// The wait behind `put_many`: batches under one lock, and a single put for an item that must
/// wait.
pub(crate) struct PutMany<H: QueueHandle> {
    queue: H,
    /// The items not yet put (nor waiting in `waiting`), in order.
    items: VecDeque<Item<H>>,
    /// How many went in so far.
    put: usize,
    /// The put of the one item that had to wait, if any.
    waiting: Option<Waiter<PutOp<H>>>,
    done: bool,
}

impl<H: QueueHandle> PutMany<H> {
    pub(crate) fn new(queue: H, items: VecDeque<Item<H>>) -> Self {
        PutMany {
            queue,
            items,
            put: 0,
            waiting: None,
            done: false,
        }
    }

    fn fail(&mut self, why: Why<Item<H>>) -> PutManyError<Item<H>> {
        self.done = true;
        PutManyError::new(self.put, std::mem::take(&mut self.items), why)
    }
}

// Never pinned structurally: the items are only moved, never pinned, so the wait may move
// between polls whatever the items are (as `Waiter`).
impl<H: QueueHandle> Unpin for PutMany<H> {}

impl<H: QueueHandle> sealed::Sealed for PutMany<H> {}

impl<H: QueueHandle> Waitable for PutMany<H> {
    type Output = Result<usize, PutManyError<Item<H>>>;
    type Timed = Result<usize, PutManyError<Item<H>>>;

    fn poll_wait(&mut self, mut cx: Option<&mut Context<'_>>) -> Poll<Self::Output> {
        assert!(
            !self.done,
            "a toro-sync wait future was polled after it completed"
        );
        loop {
            if let Some(waiting) = &mut self.waiting {
                let out = std::task::ready!(waiting.poll_wait(cx.as_deref_mut()));
                self.waiting = None;
                match out {
                    Ok(()) => self.put += 1,
                    // Without a deadline, a put can only fail by the queue closing.
                    Err(err) => {
                        self.items.push_front(err.into_inner());
                        return Poll::Ready(Err(self.fail(PutError::Closed)));
                    }
                }
            }
            // The items that fit now, under one lock.
            let items = &mut self.items;
            let batch = self
                .queue
                .queue()
                .with(|state, wakes| state.put_many(items, wakes));
            match batch {
                Ok(put) => self.put += put,
                Err(_closed) => return Poll::Ready(Err(self.fail(PutError::Closed))),
            }
            let Some(next) = self.items.pop_front() else {
                self.done = true;
                return Poll::Ready(Ok(self.put));
            };
            self.waiting = Some(Waiter::new(PutOp(self.queue.clone()), Some(next)));
        }
    }

    fn expire(&mut self) -> Self::Timed {
        if let Some(mut waiting) = self.waiting.take() {
            // A hand-off that won the race against the deadline counts.
            match waiting.expire() {
                Ok(()) => self.put += 1,
                Err(PutError::Closed(item)) => {
                    self.items.push_front(item);
                    return Err(self.fail(PutError::Closed));
                }
                Err(err) => self.items.push_front(err.into_inner()),
            }
        }
        if self.items.is_empty() {
            self.done = true;
            return Ok(self.put);
        }
        Err(self.fail(PutError::Timeout))
    }

    fn ok(output: Self::Output) -> Self::Timed {
        output
    }
}

wait_future! {
    /// The future of [`put_many`](GenericQueue::put_many): resolves to how many items were put
    /// (all of them), or gives back every item not put in a [`PutManyError`].
    QueuePutMany ['a, T, O: Order<T> = Fifo] ['a, T, O: Order<T>] ['a, T, O]
        = PutMany<&'a GenericQueue<T, O>>
        => Result<usize, PutManyError<T>>, Result<usize, PutManyError<T>>;
}
