//! Queues as `Stream`s (each item a `get`) and `Sink`s (each item a `reserve`, then a put into
//! the reserved slot).

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_sink::Sink;

use super::ops::{GetOp, ReserveOp};
use super::order::{Fifo, Order};
use super::permit::Fill;
use super::{GenericQueue, QueueHandle};
use crate::error::PutError;
use crate::sync::Arc;
use crate::wait::Waiter;

/// The stream machinery shared by [`QueueStream`] and [`OwnedQueueStream`].
struct StreamInner<H: QueueHandle> {
    handle: H,
    get: Option<Waiter<GetOp<H>>>,
}

impl<H: QueueHandle> StreamInner<H> {
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<H::Item>> {
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
pub struct QueueStream<'a, T, O: Order<T> = Fifo> {
    inner: StreamInner<&'a GenericQueue<T, O>>,
}

impl<'a, T, O: Order<T>> QueueStream<'a, T, O> {
    #[inline]
    pub(crate) fn new(queue: &'a GenericQueue<T, O>) -> Self {
        QueueStream {
            inner: StreamInner {
                handle: queue,
                get: None,
            },
        }
    }
}

impl<T, O: Order<T>> Stream for QueueStream<'_, T, O> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().inner.poll_next(cx)
    }
}

/// A queue held through an `Arc` as a [`Stream`]; made by `into_stream()`. As [`QueueStream`].
#[must_use = "streams do nothing unless polled"]
pub struct OwnedQueueStream<T, O: Order<T> = Fifo> {
    inner: StreamInner<Arc<GenericQueue<T, O>>>,
}

impl<T, O: Order<T>> OwnedQueueStream<T, O> {
    #[inline]
    pub(crate) fn new(queue: Arc<GenericQueue<T, O>>) -> Self {
        OwnedQueueStream {
            inner: StreamInner {
                handle: queue,
                get: None,
            },
        }
    }
}

impl<T, O: Order<T>> Stream for OwnedQueueStream<T, O> {
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

type ItemOf<H> = <H as QueueHandle>::Item;

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
            None => self.handle.queue().try_put(item),
        }
    }
}

macro_rules! sink_impl {
    ($name:ident [$($lt:lifetime)?]) => {
        impl<$($lt,)? T, O: Order<T>> Sink<T> for $name<$($lt,)? T, O> {
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

        impl<$($lt,)? T, O: Order<T>> fmt::Debug for $name<$($lt,)? T, O> {
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
pub struct QueueSink<'a, T, O: Order<T> = Fifo> {
    inner: SinkInner<&'a GenericQueue<T, O>>,
}

impl<'a, T, O: Order<T>> QueueSink<'a, T, O> {
    #[inline]
    pub(crate) fn new(queue: &'a GenericQueue<T, O>) -> Self {
        QueueSink {
            inner: SinkInner::new(queue),
        }
    }
}

sink_impl!(QueueSink['a]);

/// A queue held through an `Arc` as a [`Sink`]; made by `into_sink()`. As [`QueueSink`].
#[must_use = "sinks do nothing unless used"]
pub struct OwnedQueueSink<T, O: Order<T> = Fifo> {
    inner: SinkInner<Arc<GenericQueue<T, O>>>,
}

impl<T, O: Order<T>> OwnedQueueSink<T, O> {
    #[inline]
    pub(crate) fn new(queue: Arc<GenericQueue<T, O>>) -> Self {
        OwnedQueueSink {
            inner: SinkInner::new(queue),
        }
    }
}

sink_impl!(OwnedQueueSink[]);

impl<T, O: Order<T>> fmt::Debug for QueueStream<'_, T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueStream").finish_non_exhaustive()
    }
}

impl<T, O: Order<T>> fmt::Debug for OwnedQueueStream<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedQueueStream").finish_non_exhaustive()
    }
}
