//! Queues as `Stream`s and `Sink`s, and the slot permits behind the sinks.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_sink::Sink;

use super::ops::{GetOp, ReserveOp};
use super::{QueueHandle, QueueKind};
use crate::Queue;
use crate::error::PutError;
use crate::sync::Arc;
use crate::wait::Waiter;

/// Fills or gives up a reserved slot.
pub(crate) trait Fill {
    type Item;
    fn fill(self, item: Self::Item) -> Result<(), PutError<Self::Item>>;
}

macro_rules! put_permit {
    ($(#[$meta:meta])* $name:ident [$($lt:lifetime)?] = $handle:ty) => {
        $(#[$meta])*
        #[must_use = "the reserved slot is given up when the permit is dropped"]
        pub struct $name<$($lt,)? Q: QueueKind> {
            queue: $handle,
            live: bool,
        }

        impl<$($lt,)? Q: QueueKind> $name<$($lt,)? Q> {
            #[inline]
            pub(crate) fn new(queue: $handle) -> Self {
                $name { queue, live: true }
            }

            /// Puts `item` into the reserved slot, at once (to the oldest waiting getter, if
            /// any). This never waits.
            ///
            /// # Errors
            ///
            /// [`PutError::Closed`] with the item if the queue was closed since the slot was
            /// reserved.
            #[inline]
            pub fn put(mut self, item: Q::Item) -> Result<(), PutError<Q::Item>> {
                self.live = false;
                self.queue.core().with_state(|state, wakes| state.put_reserved(item, wakes))
            }
        }

        impl<$($lt,)? Q: QueueKind> Fill for $name<$($lt,)? Q> {
            type Item = Q::Item;
            fn fill(self, item: Q::Item) -> Result<(), PutError<Q::Item>> {
                self.put(item)
            }
        }

        impl<$($lt,)? Q: QueueKind> Drop for $name<$($lt,)? Q> {
            #[inline]
            fn drop(&mut self) {
                if self.live {
                    self.queue.core().with_state(|state, wakes| state.unreserve(wakes));
                }
            }
        }

        impl<$($lt,)? Q: QueueKind> fmt::Debug for $name<$($lt,)? Q> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}

put_permit! {
    /// A slot reserved in a queue by `reserve()`: [`put`](Self::put) fills it without waiting;
    /// dropping it gives the slot up (to the next waiting put).
    PutPermit ['a] = &'a Q
}

put_permit! {
    /// A slot reserved in a queue held through an `Arc`, by `reserve_owned()`.
    OwnedPutPermit [] = Arc<Q>
}

/// The stream machinery shared by [`QueueStream`] and [`OwnedQueueStream`].
struct StreamInner<H: QueueHandle> {
    handle: H,
    get: Option<Waiter<GetOp<H>>>,
}

impl<H: QueueHandle> StreamInner<H> {
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<<H::Q as QueueKind>::Item>> {
        let handle = &self.handle;
        let get = self
            .get
            .get_or_insert_with(|| Waiter::new(GetOp(handle.clone()), ()));
        let got = std::task::ready!(get.poll_wait(Some(cx)));
        self.get = None;
        // Only `Closed` can end a get that has no deadline.
        Poll::Ready(got.ok())
    }
}

/// A queue as a [`Stream`]: each item is a `get`; it ends when the queue is closed and drained.
/// Made by `stream()`. Many streams may share one queue. A stream waiting for an item counts
/// in `waiters()` and is cancel safe like `get`: dropping it loses no item.
#[must_use = "streams do nothing unless polled"]
pub struct QueueStream<'a, T, Q: QueueKind<Item = T> = Queue<T>> {
    inner: StreamInner<&'a Q>,
}

impl<'a, T, Q: QueueKind<Item = T>> QueueStream<'a, T, Q> {
    #[inline]
    pub(crate) fn new(queue: &'a Q) -> Self {
        QueueStream {
            inner: StreamInner {
                handle: queue,
                get: None,
            },
        }
    }
}

impl<T, Q: QueueKind<Item = T>> Stream for QueueStream<'_, T, Q> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().inner.poll_next(cx)
    }
}

/// A queue held through an `Arc` as a [`Stream`]; made by `into_stream()`. As [`QueueStream`].
#[must_use = "streams do nothing unless polled"]
pub struct OwnedQueueStream<T, Q: QueueKind<Item = T> = Queue<T>> {
    inner: StreamInner<Arc<Q>>,
}

impl<T, Q: QueueKind<Item = T>> OwnedQueueStream<T, Q> {
    #[inline]
    pub(crate) fn new(queue: Arc<Q>) -> Self {
        OwnedQueueStream {
            inner: StreamInner {
                handle: queue,
                get: None,
            },
        }
    }
}

impl<T, Q: QueueKind<Item = T>> Stream for OwnedQueueStream<T, Q> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().inner.poll_next(cx)
    }
}

/// The sink machinery shared by [`QueueSink`] and [`OwnedQueueSink`].
struct SinkInner<H: QueueHandle> {
    handle: H,
    reserving: Option<Waiter<ReserveOp<H>>>,
    permit: Option<H::Permit>,
    closed: bool,
}

type ItemOf<H> = <<H as QueueHandle>::Q as QueueKind>::Item;

impl<H: QueueHandle> SinkInner<H>
where
    H::Permit: Fill<Item = ItemOf<H>>,
{
    fn new(handle: H) -> Self {
        SinkInner {
            handle,
            reserving: None,
            permit: None,
            closed: false,
        }
    }

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), PutError<ItemOf<H>>>> {
        if self.permit.is_some() || self.closed {
            return Poll::Ready(Ok(()));
        }
        let handle = &self.handle;
        let reserving = self
            .reserving
            .get_or_insert_with(|| Waiter::new(ReserveOp(handle.clone()), ()));
        let reserved = std::task::ready!(reserving.poll_wait(Some(cx)));
        self.reserving = None;
        match reserved {
            Ok(permit) => self.permit = Some(permit),
            // On a closed queue `poll_ready` succeeds; `start_send` then rejects the item.
            Err(_) => self.closed = true,
        }
        Poll::Ready(Ok(()))
    }

    fn start_send(&mut self, item: ItemOf<H>) -> Result<(), PutError<ItemOf<H>>> {
        match self.permit.take() {
            Some(permit) => permit.fill(item),
            None if self.closed => Err(PutError::Closed(item)),
            // `start_send` without a successful `poll_ready`: put only if there is room now.
            None => self.handle.queue().core().try_put(item),
        }
    }
}

macro_rules! sink_impl {
    ($name:ident [$($lt:lifetime)?]) => {
        impl<$($lt,)? T, Q: QueueKind<Item = T>> Sink<T> for $name<$($lt,)? T, Q> {
            type Error = PutError<T>;

            fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
                self.get_mut().inner.poll_ready(cx)
            }

            fn start_send(self: Pin<&mut Self>, item: T) -> Result<(), Self::Error> {
                self.get_mut().inner.start_send(item)
            }

            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
                Poll::Ready(Ok(()))
            }

            /// Does not close the queue.
            fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
                Poll::Ready(Ok(()))
            }
        }

        impl<$($lt,)? T, Q: QueueKind<Item = T>> fmt::Debug for $name<$($lt,)? T, Q> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("slot_reserved", &self.inner.permit.is_some())
                    .finish_non_exhaustive()
            }
        }
    };
}

/// A queue as a [`Sink`]; made by `sink()`. `poll_ready` reserves a slot, queued FIFO with
/// blocked puts (on a closed queue it returns `Ok`); `start_send` puts the item into that slot
/// at once (a closed queue rejects it with [`PutError::Closed`]); `poll_close` does not close
/// the queue. A sink waiting for a slot counts in `waiters()`; dropping it gives the slot up.
#[must_use = "sinks do nothing unless used"]
pub struct QueueSink<'a, T, Q: QueueKind<Item = T> = Queue<T>> {
    inner: SinkInner<&'a Q>,
}

impl<'a, T, Q: QueueKind<Item = T>> QueueSink<'a, T, Q> {
    #[inline]
    pub(crate) fn new(queue: &'a Q) -> Self {
        QueueSink {
            inner: SinkInner::new(queue),
        }
    }
}

sink_impl!(QueueSink['a]);

/// A queue held through an `Arc` as a [`Sink`]; made by `into_sink()`. As [`QueueSink`].
#[must_use = "sinks do nothing unless used"]
pub struct OwnedQueueSink<T, Q: QueueKind<Item = T> = Queue<T>> {
    inner: SinkInner<Arc<Q>>,
}

impl<T, Q: QueueKind<Item = T>> OwnedQueueSink<T, Q> {
    #[inline]
    pub(crate) fn new(queue: Arc<Q>) -> Self {
        OwnedQueueSink {
            inner: SinkInner::new(queue),
        }
    }
}

sink_impl!(OwnedQueueSink[]);

impl<T, Q: QueueKind<Item = T>> fmt::Debug for QueueStream<'_, T, Q> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueStream").finish_non_exhaustive()
    }
}

impl<T, Q: QueueKind<Item = T>> fmt::Debug for OwnedQueueStream<T, Q> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedQueueStream").finish_non_exhaustive()
    }
}
