//! Synchronization primitives and queues for async Rust, after Python's
//! [toro](https://github.com/ajdavis/toro).
//!
//! toro gave Tornado coroutines what threads get from the standard library: `Condition`,
//! `Event`, `Semaphore`, `BoundedSemaphore`, `Lock`, `RWLock`, `AsyncResult` and queues, each
//! wait with a deadline. toro-sync gives the same to async Rust, on any executor.
//!
//! # A tour
//!
//! | toro | toro-sync | tokio::sync / async-lock |
//! |---|---|---|
//! | `yield x.wait(deadline=...)`, `Timeout` | `x.wait().deadline(d).await` → `Err(Timeout)` | `tokio::time::timeout(d, x)` |
//! | (none) | `.block()` on every wait, from a plain thread | `blocking_lock`, `blocking_recv` |
//! | `yield lock.acquire()` + `release()` / `with (yield lock.acquire())` | `let g = lock.lock().await;` (drop releases) | the same |
//! | `Lock` | [`Lock`] = [`Mutex<()>`](Mutex); [`Mutex<T>`](Mutex) guards data: [`lock_owned`](Mutex::lock_owned), [`MutexGuard::map`] / [`try_map`](MutexGuard::try_map) | `Mutex::lock_owned`, `MutexGuard::map`, `MappedMutexGuard` |
//! | `Condition`: `wait()`, `notify(n)`, `notify_all()` | [`Condition`]: [`wait`](Condition::wait), [`notify`](Condition::notify), [`notify_all`](Condition::notify_all), and [`wait_with`](Condition::wait_with) a [`MutexGuard`] | `Notify::notify_one` / `notify_waiters`; std's `Condvar` |
//! | `Event`: `set()`, `clear()`, `is_set()`, `wait()` | [`Event`]: the same names | (event-listener's `Event` is a notifier; no flag) |
//! | `Semaphore(n)`, `acquire()`, `release()` | [`Semaphore::new`], [`acquire`](Semaphore::acquire) (drop releases), [`release`](Semaphore::release) adds one, [`add_permits`](Semaphore::add_permits) adds n | `acquire`, `add_permits` |
//! | `Semaphore.counter`, `locked()`, `wait()` | [`available()`](Semaphore::available), [`is_locked()`](Semaphore::is_locked), [`wait_unlocked()`](Semaphore::wait_unlocked) | `available_permits()` |
//! | (none) | [`forget_permits`](Semaphore::forget_permits), permits' [`forget`](SemaphorePermit::forget), [`num_permits`](SemaphorePermit::num_permits), [`split`](SemaphorePermit::split), [`merge`](SemaphorePermit::merge); `acquire_many`, `acquire_owned` | the same names; tokio's `close()` has no equivalent (see [`Semaphore`]: an acquire never fails) |
//! | `BoundedSemaphore` (`ValueError` on over-release) | [`BoundedSemaphore`] ([`release`](BoundedSemaphore::release) → `Err(ReleaseError)`) | (none) |
//! | `RWLock(max_readers)`, `acquire_read/write` | [`RwLock::with_max_readers`], [`read()`](RwLock::read) / [`write()`](RwLock::write), [`read_owned`](RwLock::read_owned) / [`write_owned`](RwLock::write_owned) | `RwLock::with_max_readers`, `read_owned`, `write_owned` |
//! | (none) | [`RwLockWriteGuard::downgrade`], `map` / `try_map` on every guard | tokio's and async-lock's `downgrade`, tokio's mapped guards |
//! | (none) | [`upgradable_read`](RwLock::upgradable_read) → [`RwLockUpgradableReadGuard`]: [`upgrade`](RwLockUpgradableReadGuard::upgrade), [`try_upgrade`](RwLockUpgradableReadGuard::try_upgrade), [`downgrade`](RwLockUpgradableReadGuard::downgrade) | async-lock's `upgradable_read` |
//! | `AsyncResult`: `set`, `get`, `get_nowait` → `NotReady` | [`AsyncResult`]: [`set`](AsyncResult::set), [`get`](AsyncResult::get), [`try_get()`](AsyncResult::try_get) → `Err(NotReady)`, [`take`](AsyncResult::take), [`into_inner`](AsyncResult::into_inner) | `OnceCell::set`, `get`, `take`, `into_inner` |
//! | (the caching pattern of toro's docs) | [`get_or_init`](AsyncResult::get_or_init), [`get_or_try_init`](AsyncResult::get_or_try_init): one initializer at a time, the next caller in FIFO order runs its own if one fails or is cancelled | `OnceCell::get_or_init`, `get_or_try_init` |
//! | (asyncio's `Barrier`) | [`Barrier`] | `Barrier`, `BarrierWaitResult::is_leader` |
//! | `Queue(maxsize=0)` / `Queue(n)` | [`Queue::unbounded()`](Queue::unbounded) / [`Queue::bounded(n)`](Queue::bounded) | `mpsc::unbounded_channel()` / `mpsc::channel(n)` |
//! | `LifoQueue`, `PriorityQueue` | [`LifoQueue`], [`PriorityQueue`] (lowest first, FIFO among equals): one [`GenericQueue`] over its order | (none) |
//! | `put_nowait` / `get_nowait` → `Full` / `Empty` | [`try_put`](Queue::try_put) / [`try_get`](Queue::try_get) → [`PutError::Full`] / [`GetError::Empty`] | `try_send` / `try_recv` |
//! | `JoinableQueue.task_done()` / `join()` | [`task_done()`](Queue::task_done) / [`join()`](Queue::join) on every queue ([`JoinableQueue`] = [`Queue`]) | (none) |
//! | (asyncio 3.13's `shutdown()`) | [`close()`](Queue::close), and [`closed()`](Queue::closed) waits for it | `Receiver::close`, `Sender::closed()` |
//! | (none) | [`get_many`](Queue::get_many) / [`try_get_many`](Queue::try_get_many); [`put_many`](Queue::put_many) / [`try_put_many`](Queue::try_put_many) | `recv_many` |
//! | `maxsize` | [`capacity()`](Queue::capacity); free slots now: [`remaining()`](Queue::remaining) | `max_capacity()`; free slots: `capacity()` |
//! | (`async for item in q`) | [`stream()`](Queue::stream) (a `futures_core::Stream`), and [`sink()`](Queue::sink); [`reserve()`](Queue::reserve) a slot | `ReceiverStream`; `Sender::reserve` |
//!
//! # Waiting
//!
//! Every method that can wait returns a named future (in [`future`]). Awaiting it waits as
//! long as it takes. Every one of them also has:
//!
//! * `.deadline(d)`, with `d` a [`Duration`](std::time::Duration) from now or an
//!   [`Instant`](std::time::Instant): the output becomes `Result<T, Timeout>`. A deadline
//!   already passed (or `Duration::ZERO`) means *try once*. Deadlines fire on tokio's timer
//!   inside a tokio runtime (so `tokio::time::pause` applies) and on async-io's timer on any
//!   other executor. See [`Deadline`].
//! * `.block()`: completes the wait on the calling thread by parking it, with no runtime; for
//!   plain threads and `tokio::task::spawn_blocking`, never inside async code. On a thread
//!   that runs a tokio runtime's tasks (a worker, or inside `block_on`) it panics with a
//!   message saying so, even when the wait could complete at once — parking that thread could
//!   deadlock the tasks that would wake it (tokio's `blocking_lock` does the same). Other
//!   executors cannot be detected: there, the rule is yours to keep.
//!
//! ```
//! use std::time::Duration;
//! use toro_sync::{Semaphore, Timeout};
//!
//! let sem = Semaphore::new(1);
//! let held = sem.acquire().block(); // from a plain thread
//! assert_eq!(sem.acquire().deadline(Duration::from_millis(1)).block().err(), Some(Timeout));
//! drop(held);
//! ```
//!
//! [`AsyncResult::get_or_init`] and [`get_or_try_init`](AsyncResult::get_or_try_init) also run
//! an initializer, user code: their deadline bounds it too (on expiry the initializer's future
//! is dropped), and `.block()` polls it on the calling thread.
//!
//! Futures are named after their type and method ([`Semaphore::acquire`] returns
//! [`SemaphoreAcquire`](future::SemaphoreAcquire), [`Queue::get`](GenericQueue::get)
//! [`QueueGet`](future::QueueGet)); a method that takes `self: Arc<Self>` and returns a
//! `'static` guard or permit ends in `_owned`, its future and result in `Owned`
//! ([`Mutex::lock_owned`] → [`OwnedMutexGuard`]); `into_stream` and `into_sink` turn an
//! `Arc`'d queue into another type, as `into_iter` does, hence `into_`.
//!
//! # Errors
//!
//! One error type per operation, the same in every mode: a queue `get` returns
//! `Result<T, GetError>` whether it waits, has a deadline or tries once, and a lock or a
//! semaphore with a deadline returns `Result<_, Timeout>`. A `get().await` can then only fail
//! with [`GetError::Closed`], and a `try_get()` never with `Timeout`; a match on those arms is
//! the price of one type that `?` and one `match` serve in all three modes, of a deadline
//! that can be added to a wait without changing the code around it, and of the output type the
//! contract promises (a deadline leaves a queue operation's output type as it was).
//!
//! # Guarantees
//!
//! Each type documents these; the tests check them.
//!
//! 1. **FIFO hand-off.** Waiters are served in the order of their first poll. A freed
//!    resource (a permit, the lock, read/write access, a queue item or slot, a notification) is
//!    handed straight to the oldest live waiter; a newcomer cannot barge past a queued waiter.
//! 2. **Cancel safety.** Dropping a waiting future, or its deadline passing, loses only its
//!    place in line: what was already handed to it passes on — an item goes back to the front
//!    of the queue. A `put` that times out returns its item in the error. A deadline and a
//!    hand-off racing each other resolve to exactly one outcome.
//! 3. **No leaks.** A dropped or timed-out waiter is unregistered at once; `waiters()` counts
//!    only live ones. A parked waiter costs no heap allocation once a primitive has seen that
//!    many waiters at a time; when a burst of waiters has left, the primitive gives back all
//!    but 4 KiB of the room it grew for them (a queue does the same with its items' buffer
//!    once a burst of items has been taken).
//! 4. **No lost and no spurious wake-ups.** Wakers are called after the internal lock is
//!    released; [`Condition::wait`] never returns without a notification.
//! 5. **Memory ordering.** Everything before a release/set/notify/put happens-before what
//!    follows the matching acquire/wait/get.
//! 6. **Registration.** A wait registers on its first poll. [`Event::set`] and
//!    [`Condition::notify_all`] also complete wait futures created before the call but not yet
//!    polled.
//! 7. **Panics.** A guard dropped while unwinding releases normally; nothing is poisoned. A
//!    panicking waker does not strand the other waiters.
//!
//! A future that is alive but never polled again keeps its place, and whatever was handed to
//! it, until it is dropped; `mem::forget` of a future leaks what it holds, never more.
//!
//! # Features
//!
//! * `tokio` (default): deadlines use tokio's timer inside a tokio runtime, and
//!   [`Deadline`] converts from `tokio::time::Instant`.
//! * `async-io` (default): deadlines use async-io's timer outside tokio.
//!
//! With neither, everything works except a deadline that must fire in async code (it panics
//! with a message saying so); `.block()` with a deadline still works.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(unreachable_pub)]

mod async_result;
mod barrier;
mod block;
mod bounded_semaphore;
mod condition;
mod deadline;
pub mod error;
mod event;
mod mutex;
mod permits;
mod queue;
mod rwlock;
mod semaphore;
mod sync;
mod wait;
mod waiters;

pub use async_result::AsyncResult;
pub use barrier::{Barrier, BarrierWaitResult};
pub use bounded_semaphore::BoundedSemaphore;
pub use condition::Condition;
pub use deadline::Deadline;
pub use error::{AlreadySet, GetError, NotReady, PutError, ReleaseError, TaskDoneError, Timeout};
pub use event::Event;
pub use mutex::{
    Lock, MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard,
};
pub use queue::{
    Fifo, GenericQueue, JoinableQueue, Lifo, LifoQueue, Order, Priority, PriorityQueue,
    PutManyError, Queue,
};
pub use rwlock::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockReadGuard,
    RwLockUpgradableReadGuard, RwLockWriteGuard,
};
pub use semaphore::Semaphore;

/// Permit types of the semaphores, and a queue's reserved slot.
pub use bounded_semaphore::{BoundedSemaphorePermit, OwnedBoundedSemaphorePermit};
pub use queue::{OwnedPutPermit, PutPermit};
pub use semaphore::{OwnedSemaphorePermit, SemaphorePermit};

/// A queue as a `Stream` or a `Sink`.
pub use queue::{OwnedQueueSink, OwnedQueueStream, QueueSink, QueueStream};

/// The named futures every waiting method returns, [`WithDeadline`](future::WithDeadline), and
/// the [`Waitable`](future::Waitable) interface they share ([`PinnedWaitable`](future::PinnedWaitable)
/// for the ones that run user code and must be pinned).
///
/// Each future is named after its type and method (`Semaphore::acquire` →
/// [`SemaphoreAcquire`](future::SemaphoreAcquire)), with `Owned` for the `*_owned` methods
/// that take an `Arc<Self>` and return a `'static` result. Each has `.deadline(d)` and
/// `.block()` as inherent methods (see [Waiting](crate#waiting)).
///
/// The module is `future`, not `futures`, so that `use toro_sync::*;` never clashes with the
/// `futures` crate.
pub mod future {
    pub use crate::async_result::{AsyncResultGet, AsyncResultGetOrInit, AsyncResultGetOrTryInit};
    pub use crate::barrier::BarrierWait;
    pub use crate::bounded_semaphore::{BoundedSemaphoreAcquire, BoundedSemaphoreAcquireOwned};
    pub use crate::condition::{ConditionWait, ConditionWaitWith};
    pub use crate::deadline::WithDeadline;
    pub use crate::event::EventWait;
    pub use crate::mutex::{MutexLock, MutexLockOwned};
    pub use crate::permits::SemaphoreWaitUnlocked;
    pub use crate::queue::{
        QueueClosed, QueueGet, QueueGetMany, QueueJoin, QueuePut, QueuePutMany, QueueReserve,
        QueueReserveOwned,
    };
    pub use crate::rwlock::{
        RwLockRead, RwLockReadOwned, RwLockUpgradableRead, RwLockUpgrade, RwLockWrite,
        RwLockWriteOwned,
    };
    pub use crate::semaphore::{SemaphoreAcquire, SemaphoreAcquireOwned};
    pub use crate::wait::{PinnedWaitable, Waitable};
}

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
