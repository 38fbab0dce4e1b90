//! The public queue types: one macro stamps the same API, docs included, onto each order.

macro_rules! define_queue {
    (
        $(#[$meta:meta])*
        $name:ident [$($bound:tt)*] = $order:ident;
        example_order: $order_example:literal;
    ) => {
        $(#[$meta])*
        ///
        /// # Fairness
        ///
        /// Getters are served strictly in the order they started waiting, and so are putters;
        /// an item put while getters wait goes straight to the oldest one, and a slot freed
        /// while putters wait goes straight to the oldest putter. A `try_put`/`try_get` never
        /// overtakes a waiting put/get.
        ///
        /// # Cancel safety
        ///
        /// An item handed to a getter that is dropped or times out before taking it goes to the
        /// next waiting getter, else back into the queue where the next get takes it (for a
        /// priority queue, at its original place). A put that times out or is dropped never
        /// delivers its item later; a timed-out put returns it in [`PutError::Timeout`]. For a
        /// put inside `select!` that never loses the item, use [`reserve`](Self::reserve).
        ///
        /// # Memory ordering
        ///
        /// Everything a task did before putting an item happens-before what the task that gets
        /// it does after its `get` returns; likewise `task_done` before `join` returning.
        ///
        /// # Examples
        ///
        #[doc = concat!("```\nuse toro_sync::", stringify!($name), ";\n\n")]
        /// # #[tokio::main(flavor = "current_thread")] async fn main() {
        #[doc = concat!("let queue = ", stringify!($name), "::bounded(3);")]
        /// for item in [2, 3, 1] {
        ///     queue.put(item).await.unwrap();
        /// }
        /// let mut order = Vec::new();
        /// while let Ok(item) = queue.try_get() {
        ///     order.push(item);
        ///     queue.task_done().unwrap();
        /// }
        #[doc = concat!("assert_eq!(order, ", $order_example, ");")]
        /// queue.join().await; // every item is done
        /// # }
        /// ```
        pub struct $name<T: $($bound)*> {
            core: $crate::queue::QueueCore<T, $crate::queue::order::$order<T>>,
        }

        impl<T: $($bound)*> $crate::wait::sealed::Sealed for $name<T> {}

        impl<T: $($bound)*> $crate::queue::QueueKind for $name<T> {
            type Item = T;
            type Order = $crate::queue::order::$order<T>;

            fn core(&self) -> &$crate::queue::QueueCore<T, Self::Order> {
                &self.core
            }
        }

        impl<T: $($bound)*> $name<T> {
            /// A queue holding at most `maxsize` items: puts wait while it is full.
            ///
            /// # Panics
            ///
            /// If `maxsize` is 0 (toro's `Queue(0)` is unbounded: use
            #[doc = concat!("[`unbounded`](", stringify!($name), "::unbounded)).")]
            pub fn bounded(maxsize: usize) -> Self {
                assert!(maxsize > 0, "a bounded queue needs maxsize >= 1; use unbounded()");
                $name {
                    core: $crate::queue::QueueCore::new(Some(maxsize)),
                }
            }

            /// A queue without a size limit: puts never wait.
            pub fn unbounded() -> Self {
                $name {
                    core: $crate::queue::QueueCore::new(None),
                }
            }

            /// The most items the queue holds, or `None` if unbounded.
            #[inline]
            pub fn capacity(&self) -> Option<usize> {
                self.core.capacity()
            }

            /// Items in the queue now.
            #[inline]
            pub fn len(&self) -> usize {
                self.core.len()
            }

            /// Whether the queue holds no item.
            #[inline]
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// Whether a put now would wait (no room, counting slots reserved by sinks and
            /// permits). Never true for an unbounded queue.
            #[inline]
            pub fn is_full(&self) -> bool {
                self.core.is_full()
            }

            /// Puts `item`, waiting for room. With waiting getters the item goes straight to
            /// the oldest one.
            ///
            /// # Errors
            ///
            /// [`PutError::Closed`] if the queue is or becomes closed; with a deadline,
            /// [`PutError::Timeout`]. Both give the item back.
            ///
            /// # Cancel safety
            ///
            /// Not cancel safe in the sense that dropping the future drops the item (it is
            /// never delivered later). To keep it, use a deadline (the item comes back in
            /// `PutError::Timeout`) or [`reserve`](Self::reserve).
            ///
            /// # Examples
            ///
            /// ```
            /// use std::time::Duration;
            #[doc = concat!("use toro_sync::{", stringify!($name), ", PutError};")]
            ///
            /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
            #[doc = concat!("let queue = ", stringify!($name), "::bounded(1);")]
            /// queue.put("a").await.unwrap();
            /// let late = queue.put("b").deadline(Duration::from_secs(1)).await;
            /// assert_eq!(late.unwrap_err().into_inner(), "b");
            /// # }
            /// ```
            #[inline]
            pub fn put(&self, item: T) -> $crate::queue::ops::QueuePut<'_, Self> {
                $crate::queue::ops::QueuePut($crate::wait::Waiter::new(
                    $crate::queue::ops::PutOp(self),
                    Some(item),
                ))
            }

            /// Puts `item` if there is room now and no put is waiting.
            ///
            /// # Errors
            ///
            /// [`PutError::Full`] or [`PutError::Closed`], with the item.
            #[inline]
            pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
                self.core.try_put(item)
            }

            /// Waits for room and reserves a slot: the permit's
            #[doc = "[`put`](crate::queue::PutPermit::put) then fills it without waiting."]
            /// Reservations queue FIFO with blocked puts.
            ///
            /// # Errors
            ///
            /// [`PutError::Closed`] if the queue is or becomes closed; with a deadline,
            /// [`PutError::Timeout`].
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: the item is not involved until the permit is used, so a `reserve`
            /// in `select!` loses nothing. A slot already reserved for a dropped future goes to
            /// the next waiting put.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use toro_sync::", stringify!($name), ";")]
            ///
            /// # #[tokio::main(flavor = "current_thread")] async fn main() {
            #[doc = concat!("let queue = ", stringify!($name), "::bounded(1);")]
            /// let permit = queue.reserve().await.unwrap();
            /// assert!(queue.is_full());
            /// permit.put(7).unwrap();
            /// assert_eq!(queue.get().await, Ok(7));
            /// # }
            /// ```
            #[inline]
            pub fn reserve(&self) -> $crate::queue::ops::QueueReserve<'_, Self> {
                $crate::queue::ops::QueueReserve($crate::wait::Waiter::new(
                    $crate::queue::ops::ReserveOp(self),
                    (),
                ))
            }

            /// [`reserve`](Self::reserve) through an `Arc`: the permit is `'static`.
            ///
            /// # Errors
            ///
            /// As [`reserve`](Self::reserve).
            ///
            /// # Cancel safety
            ///
            /// As [`reserve`](Self::reserve).
            ///
            /// # Examples
            ///
            /// ```
            /// use std::sync::Arc;
            #[doc = concat!("use toro_sync::", stringify!($name), ";")]
            ///
            /// # #[tokio::main(flavor = "current_thread")] async fn main() {
            #[doc = concat!("let queue = Arc::new(", stringify!($name), "::bounded(1));")]
            /// let permit = queue.clone().reserve_owned().await.unwrap();
            /// tokio::spawn(async move { permit.put(1).unwrap() }).await.unwrap();
            /// assert_eq!(queue.len(), 1);
            /// # }
            /// ```
            #[inline]
            pub fn reserve_owned(
                self: $crate::sync::Arc<Self>,
            ) -> $crate::queue::ops::QueueReserveOwned<Self> {
                $crate::queue::ops::QueueReserveOwned($crate::wait::Waiter::new(
                    $crate::queue::ops::ReserveOp(self),
                    (),
                ))
            }

            /// Waits for an item and takes it.
            ///
            /// # Errors
            ///
            /// [`GetError::Closed`] once the queue is closed and drained; with a deadline,
            /// [`GetError::Timeout`].
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: a get that is dropped, or whose deadline passes, never consumes an
            /// item it does not return; an item already handed to it goes to the next getter
            /// or back into the queue, first in line.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::time::Duration;
            #[doc = concat!("use toro_sync::{", stringify!($name), ", GetError};")]
            ///
            /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
            #[doc = concat!("let queue = ", stringify!($name), "::<u8>::unbounded();")]
            /// assert_eq!(queue.get().deadline(Duration::from_secs(1)).await, Err(GetError::Timeout));
            /// queue.put(1).await.unwrap();
            /// assert_eq!(queue.get().await, Ok(1));
            /// # }
            /// ```
            #[inline]
            pub fn get(&self) -> $crate::queue::ops::QueueGet<'_, Self> {
                $crate::queue::ops::QueueGet($crate::wait::Waiter::new(
                    $crate::queue::ops::GetOp(self),
                    (),
                ))
            }

            /// Takes an item if there is one now.
            ///
            /// # Errors
            ///
            /// [`GetError::Empty`], or [`GetError::Closed`] if closed and drained.
            #[inline]
            pub fn try_get(&self) -> Result<T, GetError> {
                self.core.try_get()
            }

            /// Marks one item that entered the queue as processed (for [`join`](Self::join)).
            ///
            /// # Errors
            ///
            /// [`TaskDoneError`] if called more times than items were put; the count stays 0.
            #[inline]
            pub fn task_done(&self) -> Result<(), TaskDoneError> {
                self.core.task_done()
            }

            /// Items that entered the queue (put, or handed to a getter) and were not yet
            /// marked [`task_done`](Self::task_done). A put that timed out does not count.
            pub fn unfinished_tasks(&self) -> usize {
                self.core.unfinished_tasks()
            }

            /// Waits until every item that entered the queue has been marked
            /// [`task_done`](Self::task_done); at once if none is unfinished.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: it takes nothing.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use toro_sync::", stringify!($name), ";")]
            ///
            /// # #[tokio::main(flavor = "current_thread")] async fn main() {
            #[doc = concat!("let queue = ", stringify!($name), "::unbounded();")]
            /// queue.join().await; // nothing unfinished
            /// queue.put("job").await.unwrap();
            /// let job = queue.get().await.unwrap();
            /// let (_, ()) = tokio::join!(async { let _ = job; queue.task_done().unwrap() }, queue.join());
            /// # }
            /// ```
            #[inline]
            pub fn join(&self) -> $crate::queue::ops::QueueJoin<'_, Self> {
                $crate::queue::ops::QueueJoin($crate::wait::Waiter::new(
                    $crate::queue::ops::JoinOp(self),
                    (),
                ))
            }

            /// Closes the queue: later and waiting puts fail with [`PutError::Closed`] (with
            /// their items); gets take what is left, then fail with [`GetError::Closed`].
            /// `join` still waits for the `task_done` of every item. Closing twice does nothing.
            #[inline]
            pub fn close(&self) {
                self.core.close();
            }

            /// Whether [`close`](Self::close) was called.
            #[inline]
            pub fn is_closed(&self) -> bool {
                self.core.is_closed()
            }

            /// The queue as a [`Stream`](futures_core::Stream) of its items, ending when it is
            /// closed and drained.
            #[inline]
            pub fn stream(&self) -> $crate::queue::stream::QueueStream<'_, T, Self> {
                $crate::queue::stream::QueueStream::new(self)
            }

            /// The queue, held through an `Arc`, as a `'static` [`Stream`](futures_core::Stream).
            #[inline]
            pub fn into_stream(
                self: $crate::sync::Arc<Self>,
            ) -> $crate::queue::stream::OwnedQueueStream<T, Self> {
                $crate::queue::stream::OwnedQueueStream::new(self)
            }

            /// The queue as a [`Sink`](futures_sink::Sink) of items (see
            /// [`QueueSink`](crate::queue::QueueSink)).
            #[inline]
            pub fn sink(&self) -> $crate::queue::stream::QueueSink<'_, T, Self> {
                $crate::queue::stream::QueueSink::new(self)
            }

            /// The queue, held through an `Arc`, as a `'static` [`Sink`](futures_sink::Sink).
            #[inline]
            pub fn into_sink(
                self: $crate::sync::Arc<Self>,
            ) -> $crate::queue::stream::OwnedQueueSink<T, Self> {
                $crate::queue::stream::OwnedQueueSink::new(self)
            }

            /// Waiting futures registered and not yet served: getters (and streams), putters
            /// (and sinks or reservations), joiners.
            pub fn waiters(&self) -> usize {
                self.core.waiters()
            }
        }

        impl<T: $($bound)*> Default for $name<T> {
            /// An unbounded queue.
            fn default() -> Self {
                Self::unbounded()
            }
        }

        impl<T: $($bound)*> ::core::fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                let mut s = f.debug_struct(stringify!($name));
                self.core.fmt_fields(&mut s);
                s.finish()
            }
        }
    };
}

use crate::error::{GetError, PutError, TaskDoneError};

define_queue! {
    /// A first-in, first-out queue: toro's `Queue` and `JoinableQueue` (every queue here
    /// joins).
    Queue [Sized] = Fifo;
    example_order: "[2, 3, 1]";
}

define_queue! {
    /// A last-in, first-out queue: toro's `LifoQueue` (with `task_done`/`join`, as tornado's).
    LifoQueue [Sized] = Lifo;
    example_order: "[1, 3, 2]";
}

define_queue! {
    /// A queue that returns its lowest item first, and equal items first-in first-out: toro's
    /// `PriorityQueue` (with `task_done`/`join`, as tornado's). Use
    /// [`Reverse`](std::cmp::Reverse) for highest first.
    PriorityQueue [Ord] = Priority;
    example_order: "[1, 2, 3]";
}

/// toro's `JoinableQueue`: every queue here has `task_done` and `join`.
pub type JoinableQueue<T> = Queue<T>;
