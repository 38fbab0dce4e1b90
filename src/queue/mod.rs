//! Queues: one [`GenericQueue`] over its [`Order`], and the aliases [`Queue`], [`LifoQueue`],
//! [`PriorityQueue`] and [`JoinableQueue`].
//!
//! Files: `order` (the three orders and their stores), `state` (the state and its transitions,
//! under the lock), `ops` (each wait on the waiter core, and its named future), `batch` (the
//! batched put, a sequence of puts, and its error), `permit` (a reserved slot), `stream`
//! (`Stream` and `Sink` over `get` and `reserve`).

mod batch;
mod ops;
mod order;
mod permit;
mod state;
mod stream;

use std::collections::VecDeque;
use std::fmt;

use crate::error::{GetError, PutError, TaskDoneError};
use crate::sync::{Arc, Mutex, MutexGuard};
use crate::wait::Waiter;
use crate::waiters::WakeList;
use batch::PutMany;
use ops::{ClosedOp, GetManyOp, GetOp, JoinOp, PutOp, ReserveOp};
use order::store::HasStore;
use state::QueueState;

pub use batch::{PutManyError, QueuePutMany};
pub use ops::{
    QueueClosed, QueueGet, QueueGetMany, QueueJoin, QueuePut, QueueReserve, QueueReserveOwned,
};
pub use order::{Fifo, Lifo, Order, Priority};
pub use permit::{OwnedPutPermit, PutPermit};
pub use stream::{OwnedQueueSink, OwnedQueueStream, QueueSink, QueueStream};

/// The store of order `O` for items `T`.
type StoreOf<T, O> = <O as HasStore<T>>::Store;

/// A queue with `task_done`/`join` and `close`, serving its items in the order `O`: [`Fifo`]
/// ([`Queue`]), [`Lifo`] ([`LifoQueue`]) or [`Priority`] ([`PriorityQueue`]). One type, so one
/// set of methods and docs: the aliases are what you name.
///
/// Bounded ([`bounded`](Self::bounded)) or not ([`unbounded`](Self::unbounded)); every
/// queue joins ([`JoinableQueue`] is [`Queue`]), closes ([`close`](Self::close)), and is a
/// [`Stream`](futures_core::Stream) ([`stream`](Self::stream)) and a
/// [`Sink`](futures_sink::Sink) ([`sink`](Self::sink)). Share it with an `Arc`.
///
/// # Fairness
///
/// Getters are served strictly in the order they started waiting, and so are putters; an
/// item put while getters wait goes straight to the oldest one, and a slot freed while putters
/// wait goes straight to the oldest putter. A `try_put`/`try_get` never overtakes a waiting
/// put/get. A get on a full queue with waiting putters first moves the oldest putter's item
/// in, then takes by the queue's order (toro's rule). The batched
/// [`get_many`](Self::get_many) waits in the getters' line and [`put_many`](Self::put_many)
/// puts each item as a `put` would, so neither overtakes a waiting getter or putter.
///
/// # Cancel safety
///
/// An item handed to a getter that is dropped or times out before taking it goes to the
/// next waiting getter, else back into the queue where the next get takes it (for a
/// priority queue, at its original place). A put that times out or is dropped never
/// delivers its item later; a timed-out put returns it in [`PutError::Timeout`]. For a
/// put inside `select!` that never loses the item, use [`reserve`](Self::reserve). A
/// `get_many` is cancel safe as `get` is; a `put_many` that times out or finds the queue
/// closed returns every item it did not put in a [`PutManyError`]. [`closed`](Self::closed)
/// and [`join`](Self::join) take nothing.
///
/// # Memory use
///
/// The items are kept in one buffer that grows as needed (a bounded queue does not reserve
/// its capacity up front). When a get empties a queue whose buffer a burst grew past 4 KiB,
/// the rest goes back to the allocator; a steady load that fits in 4 KiB never reallocates.
///
/// # Memory ordering
///
/// Everything a task did before putting an item happens-before what the task that gets
/// it does after its `get` returns; likewise `task_done` before `join` returning.
///
/// # Examples
///
/// The same puts, taken in each order:
///
/// ```
/// use toro_sync::{LifoQueue, PriorityQueue, Queue};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let fifo = Queue::bounded(3);
/// let lifo = LifoQueue::bounded(3);
/// let lowest_first = PriorityQueue::bounded(3);
/// for item in [2, 3, 1] {
///     fifo.put(item).await.unwrap();
///     lifo.put(item).await.unwrap();
///     lowest_first.put(item).await.unwrap();
/// }
/// let drain = |get: &dyn Fn() -> Option<i32>| std::iter::from_fn(get).collect::<Vec<_>>();
/// assert_eq!(drain(&|| fifo.try_get().ok()), [2, 3, 1]);
/// assert_eq!(drain(&|| lifo.try_get().ok()), [1, 3, 2]);
/// assert_eq!(drain(&|| lowest_first.try_get().ok()), [1, 2, 3]);
/// # }
/// ```
///
/// `task_done` and `join`, as toro's `JoinableQueue`:
///
/// ```
/// use std::sync::Arc;
/// use toro_sync::JoinableQueue;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let queue = Arc::new(JoinableQueue::unbounded());
/// let worker = tokio::spawn({
///     let queue = queue.clone();
///     async move {
///         while let Ok(job) = queue.get().await {
///             let _: u32 = job; // work on it
///             queue.task_done().unwrap();
///         }
///     }
/// });
/// for job in 0..10 {
///     queue.put(job).await.unwrap();
/// }
/// queue.join().await; // every job is done
/// queue.close();
/// worker.await.unwrap();
/// # }
/// ```
pub struct GenericQueue<T, O: Order<T> = Fifo> {
    capacity: Option<usize>,
    state: Mutex<QueueState<T, StoreOf<T, O>>>,
}

/// A first-in, first-out queue: toro's `Queue` (and `JoinableQueue`: every queue joins). See
/// [`GenericQueue`] for its methods.
pub type Queue<T> = GenericQueue<T, Fifo>;

/// A last-in, first-out queue: toro's `LifoQueue` (with `task_done`/`join`, as tornado's). See
/// [`GenericQueue`] for its methods.
pub type LifoQueue<T> = GenericQueue<T, Lifo>;

/// A queue that returns its lowest item first, and equal items first-in first-out: toro's
/// `PriorityQueue` (with `task_done`/`join`, as tornado's). Use [`Reverse`](std::cmp::Reverse)
/// for highest first. See [`GenericQueue`] for its methods.
pub type PriorityQueue<T> = GenericQueue<T, Priority>;

/// toro's `JoinableQueue`: every queue here has `task_done` and `join`.
pub type JoinableQueue<T> = Queue<T>;

/// The state of the queue behind a handle.
type HandleState<H> = QueueState<
    <H as QueueHandle>::Item,
    StoreOf<<H as QueueHandle>::Item, <H as QueueHandle>::Order>,
>;

/// A reference or `Arc` through which a future, stream or sink reaches its queue.
pub(crate) trait QueueHandle: Clone {
    type Item;
    type Order: Order<Self::Item>;
    /// A reserved slot held through this handle.
    type Permit: permit::Fill<Item = Self::Item>;
    fn queue(&self) -> &GenericQueue<Self::Item, Self::Order>;
    fn into_permit(self) -> Self::Permit;
    #[inline]
    fn state(&self) -> MutexGuard<'_, HandleState<Self>> {
        self.queue().lock()
    }
}

impl<'a, T, O: Order<T>> QueueHandle for &'a GenericQueue<T, O> {
    type Item = T;
    type Order = O;
    type Permit = PutPermit<'a, T, O>;
    #[inline]
    fn queue(&self) -> &GenericQueue<T, O> {
        self
    }
    #[inline]
    fn into_permit(self) -> Self::Permit {
        PutPermit::new(self)
    }
}

impl<T, O: Order<T>> QueueHandle for Arc<GenericQueue<T, O>> {
    type Item = T;
    type Order = O;
    type Permit = OwnedPutPermit<T, O>;
    #[inline]
    fn queue(&self) -> &GenericQueue<T, O> {
        self
    }
    #[inline]
    fn into_permit(self) -> Self::Permit {
        OwnedPutPermit::new(self)
    }
}

impl<T, O: Order<T>> GenericQueue<T, O> {
    fn with_capacity(capacity: Option<usize>) -> Self {
        GenericQueue {
            capacity,
            state: Mutex::new(QueueState::new(capacity)),
        }
    }

    #[inline]
    fn lock(&self) -> MutexGuard<'_, QueueState<T, StoreOf<T, O>>> {
        self.state.lock()
    }

    /// Runs `f` under the lock, waking what it collected after releasing it.
    #[inline]
    pub(crate) fn with<R>(
        &self,
        f: impl FnOnce(&mut QueueState<T, StoreOf<T, O>>, &mut WakeList) -> R,
    ) -> R {
        let mut wakes = WakeList::new();
        let mut state = self.lock();
        let out = f(&mut state, &mut wakes);
        drop(state);
        wakes.wake();
        out
    }

    /// A queue holding at most `maxsize` items: puts wait while it is full.
    ///
    /// # Panics
    ///
    /// If `maxsize` is 0, at the caller's line. toro's `Queue(0)` means *unbounded* (that is
    /// [`unbounded`](Self::unbounded)), while some Rust channels read a bound of 0 as a
    /// rendezvous (a put waits for a get): either reading would surprise the other half of the
    /// users, so 0 is refused, as tokio's `mpsc::channel(0)` refuses it. There is no rendezvous
    /// queue: a put completes once its item is in the queue or handed to a waiting getter.
    #[track_caller]
    pub fn bounded(maxsize: usize) -> Self {
        assert!(
            maxsize > 0,
            "toro-sync: a bounded queue needs maxsize >= 1 (toro's Queue(0) is unbounded: use \
             unbounded())"
        );
        Self::with_capacity(Some(maxsize))
    }

    /// A queue without a size limit: puts never wait.
    pub fn unbounded() -> Self {
        Self::with_capacity(None)
    }

    /// The bound: the most items the queue holds (toro's `maxsize`), or `None` if unbounded.
    /// It never changes.
    ///
    /// Not tokio's meaning: tokio's `Sender::capacity()` is the number of free slots now, and
    /// its `max_capacity()` the bound. This `capacity()` is the bound, tokio's
    /// `max_capacity()`; the free slots now are [`remaining`](Self::remaining).
    ///
    /// ```
    /// use toro_sync::Queue;
    ///
    /// let queue = Queue::bounded(3);
    /// queue.try_put(1).unwrap();
    /// assert_eq!(queue.capacity(), Some(3)); // the bound (tokio: `max_capacity()`)
    /// assert_eq!(queue.remaining(), Some(2)); // free slots now (tokio: `capacity()`)
    /// assert_eq!(Queue::<u8>::unbounded().capacity(), None);
    /// ```
    #[inline]
    #[doc(alias = "max_capacity")]
    #[doc(alias = "maxsize")]
    pub fn capacity(&self) -> Option<usize> {
        self.capacity
    }

    /// The free slots now: the [`capacity`](Self::capacity) less the items in the queue and the
    /// slots reserved by [`reserve`](Self::reserve) permits and sinks; `None` if unbounded.
    /// What tokio's `Sender::capacity()` returns (it counts reservations the same way).
    ///
    /// A snapshot: other tasks may fill or free slots at once. Puts wait while it is 0 (unless
    /// getters are waiting, which take the items straight away). It is 0 too while an item given
    /// back by a dropped getter keeps the queue above its capacity for a moment.
    #[inline]
    #[doc(alias = "free_slots")]
    pub fn remaining(&self) -> Option<usize> {
        self.capacity?;
        Some(self.lock().free_slots())
    }

    /// Items in the queue now.
    #[inline]
    pub fn len(&self) -> usize {
        self.lock().len()
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
        self.lock().is_full()
    }

    /// Puts `item`, waiting for room. With waiting getters the item goes straight to
    /// the oldest one.
    ///
    /// # Errors
    ///
    /// [`PutError::Closed`] if the queue is or becomes closed (even for an empty batch); with
    /// a deadline,
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
    /// use toro_sync::{Queue, PutError};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// let queue = Queue::bounded(1);
    /// queue.put("a").await.unwrap();
    /// let late = queue.put("b").deadline(Duration::from_secs(1)).await;
    /// assert_eq!(late.unwrap_err().into_inner(), "b");
    /// # }
    /// ```
    #[inline]
    #[doc(alias = "send")]
    pub fn put(&self, item: T) -> QueuePut<'_, T, O> {
        QueuePut(Waiter::new(PutOp(self), Some(item)))
    }

    /// Puts `item` if there is room now and no put is waiting.
    ///
    /// # Errors
    ///
    /// [`PutError::Full`] or [`PutError::Closed`], with the item.
    #[inline]
    #[doc(alias = "try_send")]
    #[doc(alias = "put_nowait")]
    pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        self.with(|state, wakes| state.put(item, wakes))
    }

    /// Puts every item of `items`, in order, waiting for room as needed; resolves to how many
    /// were put (all of them). The same as a [`put`](Self::put) of each item in turn, except
    /// that the items that fit go in together, under one lock.
    ///
    /// The items are taken from `items` when this is called (so `items` must be finite): a
    /// `Vec` or `VecDeque` is taken over as it is, without copying or allocating; other
    /// iterators are collected into one allocation.
    ///
    /// An item that must wait queues behind the putters already waiting, as a `put` does, and
    /// the rest of the batch follows it once it is in: a batch does not hold the putters'
    /// line, so other puts may go in between its items (each still in its turn). With getters
    /// waiting, the items go straight to them, oldest getter first.
    ///
    /// # Errors
    ///
    /// A [`PutManyError`] holding every item not put, in order, and how many were put before:
    /// [`PutError::Closed`] if the queue is or becomes closed (even for an empty batch); with
    /// a deadline,
    /// [`PutError::Timeout`] (a hand-off that won the race against the deadline counts as put:
    /// if that was the last item, the result is `Ok`).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe, as [`put`](Self::put): dropping the future drops the items not put yet
    /// (those put stay put). To get them back, use a deadline, which returns them in the error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use toro_sync::{PutError, Queue};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// let queue = Queue::bounded(2);
    /// assert_eq!(queue.put_many([1, 2]).await, Ok(2));
    /// // Full: a deadline gives back what could not be put.
    /// let err = queue.put_many(3..6).deadline(Duration::from_secs(1)).await.unwrap_err();
    /// assert_eq!(err.put, 0);
    /// assert!(matches!(err.rest, PutError::Timeout(ref rest) if rest == &[3, 4, 5]));
    ///
    /// // A consumer makes room as the producer waits.
    /// let (put, ()) = tokio::join!(queue.put_many([3, 4, 5]), async {
    ///     let mut got = Vec::new();
    ///     while got.len() < 5 {
    ///         queue.get_many(&mut got, 5).await.unwrap();
    ///     }
    ///     assert_eq!(got, [1, 2, 3, 4, 5]);
    /// });
    /// assert_eq!(put, Ok(3));
    /// # }
    /// ```
    #[inline]
    #[doc(alias = "send_many")]
    #[doc(alias = "send_all")]
    pub fn put_many(&self, items: impl IntoIterator<Item = T>) -> QueuePutMany<'_, T, O> {
        QueuePutMany(PutMany::new(self, items.into_iter().collect()))
    }

    /// Puts the items of `items`, in order, while each can be put now (as
    /// [`try_put`](Self::try_put) would put it), all under one lock; returns how many were put
    /// (all of them).
    ///
    /// # Errors
    ///
    /// A [`PutManyError`] holding every item not put, in order, and how many were put before
    /// it stopped: [`PutError::Full`] if an item found no room (or found putters waiting,
    /// whom it does not overtake), [`PutError::Closed`] if the queue is closed (nothing put;
    /// a closed queue refuses even an empty batch, as tokio's `reserve_many(0)` does).
    ///
    /// # Examples
    ///
    /// ```
    /// use toro_sync::{PutError, Queue};
    ///
    /// let queue = Queue::bounded(3);
    /// assert_eq!(queue.try_put_many(vec!["a", "b"]), Ok(2));
    /// let err = queue.try_put_many(vec!["c", "d"]).unwrap_err();
    /// assert_eq!((err.put, err.into_rest()), (1, vec!["d"]));
    /// queue.close();
    /// let err = queue.try_put_many(vec!["e"]).unwrap_err();
    /// assert!(matches!(err.rest, PutError::Closed(_)));
    /// ```
    #[doc(alias = "try_send_many")]
    pub fn try_put_many(
        &self,
        items: impl IntoIterator<Item = T>,
    ) -> Result<usize, PutManyError<T>> {
        let mut items: VecDeque<T> = items.into_iter().collect();
        let put = self.with(|state, wakes| state.put_many(&mut items, wakes));
        let rest = Vec::from(items);
        match put {
            Ok(put) if rest.is_empty() => Ok(put),
            Ok(put) => Err(PutManyError {
                put,
                rest: PutError::Full(rest),
            }),
            Err(_closed) => Err(PutManyError {
                put: 0,
                rest: PutError::Closed(rest),
            }),
        }
    }

    /// Waits for room and reserves a slot: the permit's
    /// [`put`](PutPermit::put) then fills it without waiting.
    /// Reservations queue FIFO with blocked puts.
    ///
    /// # Errors
    ///
    /// [`PutError::Closed`] if the queue is or becomes closed (even for an empty batch); with
    /// a deadline,
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
    /// use toro_sync::Queue;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let queue = Queue::bounded(1);
    /// let permit = queue.reserve().await.unwrap();
    /// assert!(queue.is_full());
    /// permit.put(7).unwrap();
    /// assert_eq!(queue.get().await, Ok(7));
    /// # }
    /// ```
    #[inline]
    pub fn reserve(&self) -> QueueReserve<'_, T, O> {
        QueueReserve(Waiter::new(ReserveOp(self), ()))
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
    /// use toro_sync::Queue;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let queue = Arc::new(Queue::bounded(1));
    /// let permit = queue.clone().reserve_owned().await.unwrap();
    /// tokio::spawn(async move { permit.put(1).unwrap() }).await.unwrap();
    /// assert_eq!(queue.len(), 1);
    /// # }
    /// ```
    #[inline]
    pub fn reserve_owned(self: Arc<Self>) -> QueueReserveOwned<T, O> {
        QueueReserveOwned(Waiter::new(ReserveOp(self), ()))
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
    /// use toro_sync::{Queue, GetError};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// let queue = Queue::<u8>::unbounded();
    /// assert_eq!(queue.get().deadline(Duration::from_secs(1)).await, Err(GetError::Timeout));
    /// queue.put(1).await.unwrap();
    /// assert_eq!(queue.get().await, Ok(1));
    /// # }
    /// ```
    #[inline]
    #[doc(alias = "recv")]
    pub fn get(&self) -> QueueGet<'_, T, O> {
        QueueGet(Waiter::new(GetOp(self), ()))
    }

    /// Takes an item if there is one now.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`], or [`GetError::Closed`] if closed and drained.
    #[inline]
    #[doc(alias = "try_recv")]
    #[doc(alias = "get_nowait")]
    pub fn try_get(&self) -> Result<T, GetError> {
        self.with(|state, wakes| state.try_take(wakes))
    }

    /// Waits for an item, then takes up to `limit` items in the queue's order, appending them
    /// to `buf`; resolves to how many it took (at least 1). tokio's `recv_many`.
    ///
    /// It waits in the getters' line as [`get`](Self::get) does: the first item is handed to it
    /// as to any getter, and it then takes more under the same lock only while no other getter
    /// waits, so it never takes an item an older getter is owed. Under that lock it takes the
    /// items that many successive [`try_get`](Self::try_get)s would return (a full queue's
    /// waiting putters move their items in as slots free). `limit == 0` resolves to `Ok(0)` at
    /// once. With `buf` allocated for `limit` items up front, it never allocates.
    ///
    /// # Errors
    ///
    /// [`GetError::Closed`] once the queue is closed and drained; with a deadline,
    /// [`GetError::Timeout`]. Nothing is appended to `buf` then.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: items are appended to `buf` only as the future completes, so a dropped or
    /// timed-out `get_many` took nothing; an item already handed to it goes to the next getter
    /// or back into the queue, first in line, as for `get`.
    ///
    /// # Examples
    ///
    /// ```
    /// use toro_sync::{GetError, Queue};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let queue = Queue::unbounded();
    /// queue.try_put_many(1..=5).unwrap();
    /// queue.close();
    /// let mut buf = Vec::with_capacity(4);
    /// assert_eq!(queue.get_many(&mut buf, 4).await, Ok(4));
    /// assert_eq!(queue.get_many(&mut buf, 4).await, Ok(1));
    /// assert_eq!(buf, [1, 2, 3, 4, 5]);
    /// assert_eq!(queue.get_many(&mut buf, 4).await, Err(GetError::Closed));
    /// # }
    /// ```
    #[inline]
    #[doc(alias = "recv_many")]
    pub fn get_many<'a, 'b>(
        &'a self,
        buf: &'b mut Vec<T>,
        limit: usize,
    ) -> QueueGetMany<'a, 'b, T, O> {
        QueueGetMany(Waiter::new(GetManyOp::new(self, buf, limit), ()))
    }

    /// Takes up to `limit` items that are there now, in the queue's order, appending them to
    /// `buf` (under one lock, the items that many successive [`try_get`](Self::try_get)s
    /// would return); returns how many (at least 1). `limit == 0` returns `Ok(0)`.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`], or [`GetError::Closed`] if closed and drained; nothing is appended.
    ///
    /// ```
    /// use toro_sync::{GetError, PriorityQueue};
    ///
    /// let queue = PriorityQueue::unbounded();
    /// queue.try_put_many([3, 1, 2]).unwrap();
    /// let mut buf = Vec::new();
    /// assert_eq!(queue.try_get_many(&mut buf, 10), Ok(3));
    /// assert_eq!(buf, [1, 2, 3]);
    /// assert_eq!(queue.try_get_many(&mut buf, 10), Err(GetError::Empty));
    /// ```
    #[doc(alias = "try_recv_many")]
    pub fn try_get_many(&self, buf: &mut Vec<T>, limit: usize) -> Result<usize, GetError> {
        if limit == 0 {
            return Ok(0);
        }
        self.with(|state, wakes| state.take_many(buf, limit, wakes))
            .unwrap_or(Err(GetError::Empty))
    }

    /// Marks one item that entered the queue as processed (for [`join`](Self::join)).
    ///
    /// # Errors
    ///
    /// [`TaskDoneError`] if called more times than items were put; the count stays 0.
    #[inline]
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        self.with(|state, wakes| state.task_done(wakes))
    }

    /// Items that entered the queue (put, or handed to a getter) and were not yet
    /// marked [`task_done`](Self::task_done). A put that timed out does not count.
    pub fn unfinished_tasks(&self) -> usize {
        self.lock().unfinished()
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
    /// use toro_sync::Queue;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let queue = Queue::unbounded();
    /// queue.join().await; // nothing unfinished
    /// queue.put("job").await.unwrap();
    /// let job = queue.get().await.unwrap();
    /// let (_, ()) = tokio::join!(async { let _ = job; queue.task_done().unwrap() }, queue.join());
    /// # }
    /// ```
    #[inline]
    pub fn join(&self) -> QueueJoin<'_, T, O> {
        QueueJoin(Waiter::new(JoinOp(self), ()))
    }

    /// Closes the queue: later and waiting puts fail with [`PutError::Closed`] (with
    /// their items); gets take what is left, then fail with [`GetError::Closed`].
    /// `join` still waits for the `task_done` of every item. Closing twice does nothing.
    #[inline]
    #[doc(alias = "shutdown")]
    pub fn close(&self) {
        self.with(|state, wakes| state.close(wakes));
    }

    /// Whether [`close`](Self::close) was called.
    #[inline]
    pub fn is_closed(&self) -> bool {
        self.lock().is_closed()
    }

    /// Waits until the queue is closed; at once if it already is. tokio's `Sender::closed`:
    /// a producer stops when the consumers go away (they [`close`](Self::close) the queue).
    ///
    /// In a `select!` beside a put, race it against [`reserve`](Self::reserve), which is cancel
    /// safe too, rather than against [`put`](Self::put): a `put` that loses the race may
    /// already have delivered its item.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it takes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use toro_sync::Queue;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let queue = Arc::new(Queue::bounded(1));
    /// let producer = tokio::spawn({
    ///     let queue = queue.clone();
    ///     async move {
    ///         let mut made = 0;
    ///         loop {
    ///             tokio::select! {
    ///                 () = queue.closed() => return made,
    ///                 permit = queue.reserve() => match permit.map(|p| p.put(made)) {
    ///                     Ok(Ok(())) => made += 1,
    ///                     _ => return made, // closed meanwhile
    ///                 },
    ///             }
    ///         }
    ///     }
    /// });
    /// assert_eq!(queue.get().await, Ok(0));
    /// queue.close(); // the consumer is done
    /// let made = producer.await.unwrap();
    /// assert_eq!(made, 1 + queue.len()); // one got, the rest still queued: none lost
    /// # }
    /// ```
    #[inline]
    pub fn closed(&self) -> QueueClosed<'_, T, O> {
        QueueClosed(Waiter::new(ClosedOp(self), ()))
    }

    /// The queue as a [`Stream`](futures_core::Stream) of its items, ending when it is
    /// closed and drained.
    #[inline]
    pub fn stream(&self) -> QueueStream<'_, T, O> {
        QueueStream::new(self)
    }

    /// The queue, held through an `Arc`, as a `'static` [`Stream`](futures_core::Stream).
    #[inline]
    pub fn into_stream(self: Arc<Self>) -> OwnedQueueStream<T, O> {
        OwnedQueueStream::new(self)
    }

    /// The queue as a [`Sink`](futures_sink::Sink) of items (see
    /// [`QueueSink`](QueueSink)).
    #[inline]
    pub fn sink(&self) -> QueueSink<'_, T, O> {
        QueueSink::new(self)
    }

    /// The queue, held through an `Arc`, as a `'static` [`Sink`](futures_sink::Sink).
    #[inline]
    pub fn into_sink(self: Arc<Self>) -> OwnedQueueSink<T, O> {
        OwnedQueueSink::new(self)
    }

    /// Waiting futures registered and not yet served: getters (`get`, `get_many`, streams),
    /// putters (`put`, the one waiting item of a `put_many`, sinks, reservations), joiners
    /// (`join`) and `closed()` waits.
    pub fn waiters(&self) -> usize {
        self.lock().waiters()
    }
}

impl<T, O: Order<T>> Default for GenericQueue<T, O> {
    /// An unbounded queue.
    fn default() -> Self {
        Self::unbounded()
    }
}

impl<T, O: Order<T>> fmt::Debug for GenericQueue<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct(<O as HasStore<T>>::QUEUE_NAME);
        s.field("capacity", &self.capacity);
        self.lock().fmt_fields(&mut s);
        s.finish()
    }
}
