//! Ported behaviour suites: `Queue`, `LifoQueue`, `PriorityQueue` and `JoinableQueue`
//! (`type JoinableQueue<T> = Queue<T>`; every queue joins).
//!
//! Originals (every case is mapped in tests/PORTED.md):
//!
//! * toro 1.0.1 `test/test_queue.py` (28): `QueueTest1` / `LifoQueueTest1` /
//!   `PriorityQueueTest1` test_simple_queue; `TestJoinableQueue1` test_queue_task_done,
//!   test_queue_join; `TestQueue2` test_repr, test_send_first, test_send_last, test_max_size,
//!   test_multiple_waiters, test_senders_that_die; `TestJoinEmpty2.test_issue_45`; `TestQueue3`
//!   test_str, test_maxsize, test_full, test_callback_checking, test_io_loop,
//!   test_float_maxsize, test_get_nowait_unblocks_putter, test_put_nowait_unblocks_getter;
//!   `TestQueueTimeouts3` test_get_timeout, test_put_timeout; `TestJoinableQueue3` test_str,
//!   test_queue_join, test_queue_join_callback, test_queue_join_timeout, test_io_loop,
//!   test_queue_join_clear.
//! * tornado `tornado/test/queues_test.py` (42): `QueueBasicTest` test_repr_and_str,
//!   test_order, test_maxsize; `QueueGetTest` test_blocking_get, test_nonblocking_get,
//!   test_nonblocking_get_exception, test_get_with_putters, test_blocking_get_wait,
//!   test_get_timeout, test_get_zero_timeout, test_get_timeout_preempted,
//!   test_get_clears_timed_out_putters, test_get_clears_timed_out_getters, test_async_for;
//!   `QueuePutTest` test_blocking_put, test_nonblocking_put_exception, test_put_with_getters,
//!   test_nonblocking_put_with_getters, test_blocking_put_wait, test_put_timeout,
//!   test_put_timeout_preempted, test_put_clears_timed_out_putters,
//!   test_put_clears_timed_out_getters, test_float_maxsize; `QueueJoinTest` (run for Queue,
//!   PriorityQueue and LifoQueue) test_task_done_underflow, test_task_done,
//!   test_task_done_delay, test_join_empty_queue, test_join_timeout;
//!   `PriorityQueueJoinTest.test_order`; `LifoQueueJoinTest.test_order`;
//!   `ProducerConsumerTest.test_producer_consumer`.
//! * CPython `Lib/test/test_asyncio/test_queues.py` (59): `QueueBasicTests` test_repr,
//!   test_str, test_generic_alias, test_empty, test_full, test_order, test_maxsize;
//!   `QueueGetTests` test_blocking_get, test_get_with_putters, test_blocking_get_wait,
//!   test_nonblocking_get, test_nonblocking_get_exception, test_get_cancelled_race,
//!   test_get_with_waiting_putters, test_why_are_getters_waiting,
//!   test_cancelled_getters_not_being_held_in_self_getters; `QueuePutTests` test_blocking_put,
//!   test_blocking_put_wait, test_nonblocking_put, test_get_cancel_drop_one_pending_reader,
//!   test_get_cancel_drop_many_pending_readers, test_put_cancel_drop,
//!   test_nonblocking_put_exception, test_float_maxsize, test_put_cancelled,
//!   test_put_cancelled_race, test_put_with_waiting_getters, test_why_are_putters_waiting,
//!   test_cancelled_puts_not_being_held_in_self_putters,
//!   test_cancelled_put_silence_value_error_exception; `LifoQueueTests.test_order`;
//!   `PriorityQueueTests.test_order`; `_QueueJoinTestMixin` (×3 classes) test_task_done_underflow,
//!   test_task_done, test_join_empty_queue, test_format; `_QueueShutdownTestMixin` (×3 classes)
//!   test_format, test_shutdown_empty, test_shutdown_nonempty, test_shutdown_immediate,
//!   test_shutdown_immediate_with_unfinished.
//!
//! How the Python idioms map here:
//! * `Queue(maxsize=0)` / `Queue(n)` are `unbounded()` / `bounded(n)`; `put_nowait` /
//!   `get_nowait` are `try_put` / `try_get` (`Full` / `Empty` → `PutError::Full(item)` /
//!   `GetError::Empty`); a timed-out put returns its item in `PutError::Timeout(item)`;
//!   `qsize()`/`empty()`/`full()`/`maxsize` are `len()`/`is_empty()`/`is_full()`/`capacity()`.
//! * asyncio's `shutdown()` is `close()`: puts fail with `PutError::Closed(item)`, gets drain
//!   what is left then fail with `GetError::Closed`. There is no `immediate=True` mode.
//! * A Python `put()`/`get()` call starts at once; a Rust future starts on its first poll, so a
//!   Python call followed by "it has not finished" is `Polled::is_pending` here. Dropping a
//!   future is asyncio's `cancel()`.
//! * Timed-out waiters leave at once (toro and tornado purge them lazily; tests that assert the
//!   lazy counts are pinned). tornado's `timeout=0` (6.6) is `Duration::ZERO` or an `Instant`
//!   already reached: try once.
//! * [SYNC] callbacks become "woken within the call" (recording waker); str/repr become `Debug`.
//!   Timing runs on tokio's paused clock.

mod common;

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::{Polled, WakeLog};
use futures::StreamExt;
use tokio::time::Instant;
use toro_sync::{
    AsyncResult, Event, GetError, JoinableQueue, LifoQueue, PriorityQueue, PutError, Queue,
    TaskDoneError, Timeout,
};

const MS: Duration = Duration::from_millis(1);

#[track_caller]
fn assert_elapsed(start: Instant, expected: Duration) {
    let elapsed = start.elapsed();
    assert!(
        elapsed >= expected && elapsed < expected + 2 * MS,
        "elapsed {elapsed:?}, expected about {expected:?}"
    );
}

async fn yield_until(mut done: impl FnMut() -> bool) {
    for _ in 0..10_000 {
        if done() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("the condition was never reached");
}

/// Lets spawned tasks run until they block.
async fn settle() {
    for _ in 0..64 {
        tokio::task::yield_now().await;
    }
}

async fn join_all<T>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    tokio::time::timeout(Duration::from_secs(60), futures::future::join_all(tasks))
        .await
        .expect("the tasks deadlocked")
        .into_iter()
        .map(|r| r.unwrap())
        .collect()
}

// =============================================================================================
// toro test_queue.py
// =============================================================================================

/// toro QueueTest1 / LifoQueueTest1 / PriorityQueueTest1 .test_simple_queue: maxsize 5; 111,
/// 333, 222 come out in the queue's order; fill to 5: full, `put_nowait` is Full, a put with a
/// 10 ms deadline times out, qsize stays 5; drain: empty, `get_nowait` is Empty, a timed get
/// times out. Done twice on the same instance.
macro_rules! toro_simple_queue {
    ($name:ident, $Q:ident, $order:expr) => {
        #[tokio::test(start_paused = true)]
        async fn $name() {
            const QUEUE_SIZE: usize = 5;
            let q = $Q::<i32>::bounded(QUEUE_SIZE);
            for _ in 0..2 {
                assert!(q.is_empty());
                for item in [111, 333, 222] {
                    q.try_put(item).unwrap();
                }
                let actual: Vec<_> = (0..3).map(|_| q.try_get().unwrap()).collect();
                assert_eq!(actual, $order, "didn't seem to queue the correct data");
                for i in 0..QUEUE_SIZE as i32 - 1 {
                    q.try_put(i).unwrap();
                    assert!(!q.is_empty());
                }
                assert!(!q.is_full());
                q.try_put(444).unwrap();
                assert!(q.is_full());
                assert_eq!(q.try_put(555), Err(PutError::Full(555)));
                let start = Instant::now();
                assert_eq!(
                    q.put(555).deadline(10 * MS).await,
                    Err(PutError::Timeout(555))
                );
                assert_elapsed(start, 10 * MS);
                assert_eq!(q.len(), QUEUE_SIZE);
                for _ in 0..QUEUE_SIZE {
                    q.try_get().unwrap();
                }
                assert!(q.is_empty());
                assert_eq!(q.try_get(), Err(GetError::Empty));
                assert_eq!(q.get().deadline(10 * MS).await, Err(GetError::Timeout));
            }
        }
    };
}

toro_simple_queue!(toro_queue_simple_queue, Queue, [111, 333, 222]);
toro_simple_queue!(toro_lifo_queue_simple_queue, LifoQueue, [222, 333, 111]);
toro_simple_queue!(
    toro_priority_queue_simple_queue,
    PriorityQueue,
    [111, 222, 333]
);

/// toro TestJoinableQueue1.test_queue_task_done: `task_done` on a fresh queue fails
/// (ValueError → `Err(TaskDoneError)`).
#[test]
fn toro_queue_task_done_underflow() {
    let q = JoinableQueue::<i32>::unbounded();
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

/// toro TestJoinableQueue1.test_queue_join: two workers sum 100 items; `join()` resolves only
/// after every `task_done`; `None` sentinels stop the workers; joining twice works; the whole
/// thing runs twice; then an extra `task_done` fails.
#[tokio::test(start_paused = true)]
async fn toro_queue_join_with_workers() {
    let q = Arc::new(JoinableQueue::<Option<u64>>::unbounded());
    for _ in 0..2 {
        let cum = Arc::new(AtomicU64::new(0));
        let workers = (0..2)
            .map(|_| {
                let (q, cum) = (q.clone(), cum.clone());
                tokio::spawn(async move {
                    loop {
                        let x = q.get().await.unwrap();
                        let Some(x) = x else {
                            q.task_done().unwrap();
                            break;
                        };
                        cum.fetch_add(x, Ordering::SeqCst);
                        q.task_done().unwrap();
                    }
                })
            })
            .collect();
        for i in 0..100 {
            q.put(Some(i)).await.unwrap();
        }
        q.join().await;
        assert_eq!(cum.load(Ordering::SeqCst), (0..100).sum::<u64>());
        for _ in 0..2 {
            q.put(None).await.unwrap();
        }
        q.join().await; // joining twice works
        join_all(workers).await;
    }
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

/// toro TestQueue2.test_repr, TestQueue3.test_str. PINNED (differs): str/repr become `Debug`.
/// toro prints 'maxsize=11', 'getters[7]', 'putters[4]' and 'queue=deque([...])' only when
/// non-empty; our `Debug` always has `capacity`, `getters`, `putters` and `len` (the items are
/// not printed, so `T: Debug` is not needed).
#[test]
fn toro_str_becomes_debug() {
    let shown = format!("{:?}", Queue::<i32>::unbounded());
    assert!(shown.starts_with("Queue {"), "{shown}");
    assert!(format!("{:?}", Queue::<i32>::bounded(11)).contains("capacity: Some(11)"));

    let q = Queue::<&str>::unbounded();
    let mut getters: Vec<_> = (0..7).map(|_| Polled::new(q.get())).collect();
    for g in &mut getters {
        assert!(g.is_pending());
    }
    assert!(format!("{q:?}").contains("getters: 7"));

    let q = Queue::bounded(1);
    let mut puts: Vec<_> = (0..5).map(|_| Polled::new(q.put("foo"))).collect();
    assert!(puts[0].poll().is_ready());
    for p in &mut puts[1..] {
        assert!(p.is_pending());
    }
    assert!(format!("{q:?}").contains("putters: 4"));

    let q = Queue::bounded(1);
    assert!(format!("{q:?}").contains("len: 0"));
    q.try_put("foo").unwrap();
    assert!(format!("{q:?}").contains("len: 1"));
    assert!(!format!("{q:?}").contains("foo"), "items are not printed");
}

/// toro TestQueue2.test_send_first: put, then get returns the item.
#[tokio::test(start_paused = true)]
async fn toro_send_first() {
    let q = Queue::unbounded();
    q.put("hi").await.unwrap();
    assert_eq!(q.get().await, Ok("hi"));
}

/// toro TestQueue2.test_send_last: a task blocked in `get` receives a later put and answers
/// through the same queue.
#[tokio::test(start_paused = true)]
async fn toro_send_last() {
    let q = Arc::new(Queue::unbounded());
    let f = tokio::spawn({
        let q = q.clone();
        async move {
            let val = q.get().await.unwrap();
            q.put("ok").await.unwrap();
            val
        }
    });
    yield_until(|| q.waiters() == 1).await; // f blocks on get() until the put
    q.put("hi2").await.unwrap();
    assert_eq!(q.get().await, Ok("ok"));
    assert_eq!(f.await.unwrap(), "hi2");
}

/// toro TestQueue2.test_max_size: `Queue(2)`: a putter of a, b, c blocks on c; `get` returns
/// 'a' and unblocks c; then b, c.
#[tokio::test(start_paused = true)]
async fn toro_max_size() {
    let q = Arc::new(Queue::bounded(2));
    let results = Arc::new(StdMutex::new(Vec::new()));
    let putter = tokio::spawn({
        let (q, results) = (q.clone(), results.clone());
        async move {
            for item in ["a", "b", "c"] {
                q.put(item).await.unwrap();
                results.lock().unwrap().push(item);
            }
        }
    });
    tokio::time::sleep(10 * MS).await;
    assert_eq!(*results.lock().unwrap(), ["a", "b"]);
    assert_eq!(q.get().await, Ok("a"));
    tokio::time::sleep(10 * MS).await;
    assert_eq!(*results.lock().unwrap(), ["a", "b", "c"]);
    assert_eq!(q.get().await, Ok("b"));
    assert_eq!(q.get().await, Ok("c"));
    putter.await.unwrap();
}

/// toro TestQueue2.test_multiple_waiters: 4 blocked getters; each put satisfies exactly one
/// (1, 2, then 4 distinct results).
#[tokio::test(start_paused = true)]
async fn toro_multiple_waiters() {
    let q = Arc::new(Queue::unbounded());
    let evts: Vec<_> = (0..4).map(|_| Arc::new(AsyncResult::new())).collect();
    for evt in &evts {
        let (q, evt) = (q.clone(), evt.clone());
        tokio::spawn(async move { evt.set(q.get().await.unwrap()).unwrap() });
    }
    yield_until(|| q.waiters() == 4).await;
    let pending_results = || {
        evts.iter()
            .filter_map(|e| e.try_get().ok().copied())
            .collect::<HashSet<_>>()
            .len()
    };
    q.put("1").await.unwrap();
    settle().await;
    assert_eq!(pending_results(), 1);
    q.put("2").await.unwrap();
    settle().await;
    assert_eq!(pending_results(), 2);
    q.put("3").await.unwrap();
    q.put("4").await.unwrap();
    settle().await;
    assert_eq!(pending_results(), 4);
}

/// toro TestQueue2.test_senders_that_die: the put future completes once its item is taken.
#[tokio::test(start_paused = true)]
async fn toro_senders_that_die() {
    let q = Arc::new(Queue::unbounded());
    let sender = tokio::spawn({
        let q = q.clone();
        async move { q.put("sent").await }
    });
    assert_eq!(q.get().await, Ok("sent"));
    assert_eq!(sender.await.unwrap(), Ok(()));
}

/// toro TestJoinEmpty2.test_issue_45 (also tornado/asyncio test_join_empty_queue): `join()` on
/// a fresh queue completes at once.
#[test]
fn toro_issue_45_join_on_a_fresh_queue() {
    let q = JoinableQueue::<i32>::unbounded();
    assert!(Polled::new(q.join()).poll().is_ready());
}

/// toro TestQueue3.test_maxsize. PINNED (differs): `Queue(None)` is a TypeError and
/// `Queue(-1)` a ValueError; neither is representable here (`bounded(usize)`). toro's
/// `Queue(0)` (unbounded) is `unbounded()`, and `bounded(0)` panics.
#[test]
fn toro_maxsize_zero_is_unbounded_and_bounded_zero_panics() {
    assert!(std::panic::catch_unwind(|| Queue::<i32>::bounded(0)).is_err());
    assert_eq!(Queue::<i32>::unbounded().capacity(), None);
    assert_eq!(Queue::<i32>::default().capacity(), None);
}

/// toro TestQueue3.test_full: the default (unbounded) queue is never full; `Queue(1)` is full
/// after one put.
#[test]
fn toro_full() {
    let q = Queue::unbounded();
    assert!(!q.is_full());
    assert_eq!(q.capacity(), None);
    for i in 0..1000 {
        q.try_put(i).unwrap();
    }
    assert!(!q.is_full());
    let q = Queue::bounded(1);
    assert_eq!(q.capacity(), Some(1));
    assert!(!q.is_full());
    q.try_put("foo").unwrap();
    assert!(q.is_full());
}

/// toro TestQueue3.test_float_maxsize, tornado QueuePutTest.test_float_maxsize, asyncio
/// QueuePutTests.test_float_maxsize. PINNED (differs): a float maxsize (1.3 holds 2 items) is
/// not representable; the capacity is a `usize`, so the port is `bounded(2)`: two items make it
/// full, a third `try_put` is Full and a put waits (here: times out); gets free room.
#[tokio::test(start_paused = true)]
async fn float_maxsize_becomes_an_integer_capacity() {
    let q = Queue::bounded(2);
    assert!(q.is_empty() && !q.is_full());
    q.try_put(0).unwrap();
    q.try_put(1).unwrap();
    assert!(!q.is_empty() && q.is_full());
    assert_eq!(q.try_put(2), Err(PutError::Full(2)));
    assert_eq!(q.put(2).deadline(10 * MS).await, Err(PutError::Timeout(2)));
    assert_eq!(q.try_get(), Ok(0));
    assert!(!q.is_empty() && !q.is_full());
    q.put(2).await.unwrap();
    let mut put = Polled::new(q.put(3));
    assert!(put.is_pending());
    assert_eq!(q.get().await, Ok(1));
    assert_eq!(put.ready(), Ok(()));
    assert!(q.is_full());
}

/// toro TestQueue3.test_get_nowait_unblocks_putter: full `Queue(1)` with a blocked put(2):
/// `get_nowait` returns 1 and the put completes.
#[test]
fn toro_get_nowait_unblocks_putter() {
    let q = Queue::bounded(1);
    q.try_put(1).unwrap();
    let mut put = Polled::new(q.put(2));
    assert!(put.is_pending());
    assert_eq!(q.try_get(), Ok(1));
    assert_eq!(put.wakes(), 1);
    assert_eq!(put.ready(), Ok(()));
    assert_eq!(q.try_get(), Ok(2));
}

/// toro TestQueue3.test_put_nowait_unblocks_getter: a blocked get (1 s deadline) receives a
/// `put_nowait` item.
#[tokio::test(start_paused = true)]
async fn toro_put_nowait_unblocks_getter() {
    let q = Queue::unbounded();
    let mut get = Polled::new(q.get().deadline(Duration::from_secs(1)));
    assert!(get.is_pending());
    q.try_put("x").unwrap();
    assert_eq!(get.wakes(), 1);
    assert_eq!(get.ready(), Ok("x"));
}

/// toro TestQueueTimeouts3.test_get_timeout: a timed get fails with Timeout after ≈0.1 s; then
/// put/get work normally; a second timed get times out again.
#[tokio::test(start_paused = true)]
async fn toro_get_timeout() {
    let q = Queue::unbounded();
    let start = Instant::now();
    assert_eq!(q.get().deadline(100 * MS).await, Err(GetError::Timeout));
    assert_elapsed(start, 100 * MS);
    q.try_put(1).unwrap();
    assert_eq!(q.get().deadline(100 * MS).await, Ok(1));
    let start = Instant::now();
    assert_eq!(q.get().deadline(100 * MS).await, Err(GetError::Timeout));
    assert_elapsed(start, 100 * MS);
}

/// toro TestQueueTimeouts3.test_put_timeout: full `Queue(1)`: a timed put(2) fails with Timeout
/// (here handing 2 back); get returns 1 (2 was never inserted); later puts work; another times
/// out.
#[tokio::test(start_paused = true)]
async fn toro_put_timeout() {
    let q = Queue::bounded(1);
    q.try_put(1).unwrap();
    let start = Instant::now();
    assert_eq!(q.put(2).deadline(100 * MS).await, Err(PutError::Timeout(2)));
    assert_elapsed(start, 100 * MS);
    assert_eq!(q.get().await, Ok(1));
    assert_eq!(q.put(1).deadline(100 * MS).await, Ok(()));
    let start = Instant::now();
    assert_eq!(q.put(2).deadline(100 * MS).await, Err(PutError::Timeout(2)));
    assert_elapsed(start, 100 * MS);
    assert_eq!(q.try_get(), Ok(1));
    assert_eq!(q.try_get(), Err(GetError::Empty));
}

/// toro TestJoinableQueue3.test_str. PINNED (differs): toro adds 'tasks=N' only while N > 0;
/// our `Debug` always shows `unfinished_tasks`. (A JoinableQueue *is* a Queue here.)
#[test]
fn toro_joinable_str_becomes_debug() {
    let q = JoinableQueue::unbounded();
    let shown = format!("{q:?}");
    assert!(shown.starts_with("Queue {"), "{shown}");
    assert!(shown.contains("unfinished_tasks: 0"), "{shown}");
    q.try_put("foo").unwrap();
    assert!(format!("{q:?}").contains("unfinished_tasks: 1"));
}

/// toro TestJoinableQueue3.test_queue_join: two puts give 2 unfinished tasks, then 1, then 0;
/// the join completes.
#[tokio::test(start_paused = true)]
async fn toro_queue_join() {
    let q = JoinableQueue::unbounded();
    q.put("foo").await.unwrap();
    q.put("bar").await.unwrap();
    assert_eq!(q.unfinished_tasks(), 2);
    let mut join = Polled::new(q.join());
    assert!(join.is_pending());
    q.task_done().unwrap();
    assert_eq!(q.unfinished_tasks(), 1);
    assert!(join.is_pending());
    q.task_done().unwrap();
    assert_eq!(q.unfinished_tasks(), 0);
    assert!(join.poll().is_ready());
}

/// toro TestJoinableQueue3.test_queue_join_callback [SYNC]. PINNED: history ['task_done1',
/// 'join', 'task_done2'] — the join is woken inside the `task_done` that reaches 0 (recording
/// waker), not by the first.
#[test]
fn toro_queue_join_callback_woken_within_task_done() {
    let q = JoinableQueue::unbounded();
    q.try_put("foo").unwrap();
    q.try_put("foo").unwrap();
    let log = WakeLog::default();
    let mut join = Polled::with_waker(q.join(), log.waker(1));
    assert!(join.is_pending());
    q.task_done().unwrap();
    assert!(log.take().is_empty(), "task_done1: join not woken");
    q.task_done().unwrap();
    assert_eq!(log.take(), [1], "join woken inside task_done2");
    assert!(join.poll().is_ready());
}

/// toro TestJoinableQueue3.test_queue_join_timeout: with 1 unfinished, a join with a deadline
/// fails with Timeout after ≈0.1 s; the count stays 1.
#[tokio::test(start_paused = true)]
async fn toro_queue_join_timeout() {
    let q = JoinableQueue::unbounded();
    q.try_put(1).unwrap();
    let start = Instant::now();
    assert_eq!(q.join().deadline(100 * MS).await, Err(Timeout));
    assert_elapsed(start, 100 * MS);
    assert_eq!(q.unfinished_tasks(), 1);
    assert_eq!(q.waiters(), 0);
}

/// toro TestJoinableQueue3.test_queue_join_clear: join is immediate at 0 (repeatably); a new
/// put makes join block again (times out); `task_done` frees it.
#[tokio::test(start_paused = true)]
async fn toro_queue_join_clear() {
    let q = JoinableQueue::unbounded();
    q.try_put("foo").unwrap();
    q.task_done().unwrap();
    assert!(Polled::new(q.join()).poll().is_ready());
    assert!(Polled::new(q.join()).poll().is_ready());
    q.try_put("bar").unwrap();
    assert_eq!(q.join().deadline(100 * MS).await, Err(Timeout));
    q.task_done().unwrap();
    assert!(Polled::new(q.join()).poll().is_ready());
}

// =============================================================================================
// tornado queues_test.py
// =============================================================================================

/// tornado QueueBasicTest.test_repr_and_str. PINNED (differs): repr (with the id) and str become
/// one `Debug`: `Queue(maxsize=1)` with a waiting getter shows 'getters[1]' and no putters or
/// tasks; after two puts and a blocked third, no getters, 'putters[1]', 'tasks=2'.
#[test]
fn tornado_repr_and_str_become_debug() {
    let q = Queue::bounded(1);
    let mut get = Polled::new(q.get());
    assert!(get.is_pending());
    let shown = format!("{q:?}");
    assert!(shown.starts_with("Queue {"), "{shown}");
    for field in [
        "capacity: Some(1)",
        "getters: 1",
        "putters: 0",
        "unfinished_tasks: 0",
    ] {
        assert!(shown.contains(field), "{shown}");
    }
    assert!(
        Polled::new(q.put(())).poll().is_ready(),
        "handed to the getter"
    );
    assert!(Polled::new(q.put(())).poll().is_ready());
    let mut blocked = Polled::new(q.put(()));
    assert!(
        blocked.is_pending(),
        "now the queue is full: this putter blocks"
    );
    let shown = format!("{q:?}");
    for field in ["getters: 0", "putters: 1", "unfinished_tasks: 2"] {
        assert!(shown.contains(field), "{shown}");
    }
    assert_eq!(get.ready(), Ok(()));
}

/// tornado QueueBasicTest.test_order, asyncio QueueBasicTests.test_order: FIFO 1, 3, 2.
#[test]
fn fifo_order() {
    let q = Queue::unbounded();
    for i in [1, 3, 2] {
        q.try_put(i).unwrap();
    }
    let items: Vec<_> = (0..3).map(|_| q.try_get().unwrap()).collect();
    assert_eq!(items, [1, 3, 2]);
}

/// tornado QueueBasicTest.test_maxsize. PINNED (differs) for its first part: `maxsize=None`
/// (TypeError) and `-1` (ValueError) are not representable; `bounded(0)` panics instead. The
/// rest is ported: `Queue(2)`: two puts done at once, the third pends until a get; the
/// empty/full flags follow.
#[test]
fn tornado_maxsize() {
    assert!(std::panic::catch_unwind(|| Queue::<i32>::bounded(0)).is_err());
    let q = Queue::bounded(2);
    assert!(q.is_empty());
    assert!(!q.is_full());
    assert_eq!(q.capacity(), Some(2));
    assert!(Polled::new(q.put(0)).poll().is_ready());
    assert!(Polled::new(q.put(1)).poll().is_ready());
    assert!(!q.is_empty());
    assert!(q.is_full());
    let mut put2 = Polled::new(q.put(2));
    assert!(put2.is_pending());
    assert_eq!(Polled::new(q.get()).ready(), Ok(0)); // make room
    assert_eq!(put2.ready(), Ok(()));
    assert!(!q.is_empty());
    assert!(q.is_full());
}

/// tornado QueueGetTest.test_blocking_get, asyncio QueueGetTests.test_blocking_get.
#[tokio::test(start_paused = true)]
async fn blocking_get() {
    let q = Queue::unbounded();
    q.try_put(0).unwrap();
    assert_eq!(q.get().await, Ok(0));
}

/// tornado QueueGetTest.test_nonblocking_get, asyncio QueueGetTests.test_nonblocking_get and
/// QueuePutTests.test_nonblocking_put.
#[test]
fn nonblocking_put_and_get() {
    let q = Queue::unbounded();
    q.try_put(0).unwrap();
    assert_eq!(q.try_get(), Ok(0));
}

/// tornado QueueGetTest.test_nonblocking_get_exception, asyncio
/// QueueGetTests.test_nonblocking_get_exception: QueueEmpty → `GetError::Empty`.
#[test]
fn nonblocking_get_exception() {
    let q = Queue::<i32>::unbounded();
    assert_eq!(q.try_get(), Err(GetError::Empty));
}

/// tornado QueueGetTest.test_get_with_putters, asyncio QueueGetTests.test_get_with_putters:
/// full `Queue(1)` plus a pending put: a get returns the old item and the put completes. (asyncio
/// pokes a bare future into `_putters`; this port uses a real blocked put.)
#[test]
fn get_with_putters() {
    let q = Queue::bounded(1);
    q.try_put(0).unwrap();
    let mut put = Polled::new(q.put(1));
    assert!(put.is_pending());
    assert_eq!(Polled::new(q.get()).ready(), Ok(0));
    assert_eq!(put.ready(), Ok(()));
    assert_eq!(q.try_get(), Ok(1));
}

/// tornado QueueGetTest.test_blocking_get_wait: gets with 1 s timeouts are satisfied by puts
/// 10 ms and 20 ms later.
#[tokio::test(start_paused = true)]
async fn tornado_blocking_get_wait() {
    let q = Arc::new(Queue::unbounded());
    q.try_put(0).unwrap();
    let putter = tokio::spawn({
        let q = q.clone();
        async move {
            tokio::time::sleep(10 * MS).await;
            q.try_put(1).unwrap();
            tokio::time::sleep(10 * MS).await;
            q.try_put(2).unwrap();
        }
    });
    let start = Instant::now();
    assert_eq!(q.get().deadline(Duration::from_secs(1)).await, Ok(0));
    assert_eq!(q.get().deadline(Duration::from_secs(1)).await, Ok(1));
    assert_elapsed(start, 10 * MS);
    putter.await.unwrap();
}

/// tornado QueueGetTest.test_get_timeout: a timed-out getter does not consume; the next live
/// getter receives the item.
#[tokio::test(start_paused = true)]
async fn tornado_get_timeout() {
    let q = Queue::unbounded();
    let mut get_timeout = Polled::new(q.get().deadline(10 * MS));
    let mut get = Polled::new(q.get());
    assert!(get_timeout.is_pending() && get.is_pending());
    tokio::time::sleep(10 * MS).await;
    assert_eq!(get_timeout.ready(), Err(GetError::Timeout));
    q.try_put(0).unwrap();
    assert_eq!(get.ready(), Ok(0));
}

/// tornado QueueGetTest.test_get_zero_timeout (tornado 6.6): `timeout=timedelta(0)` and
/// `timeout=0` (an absolute time already passed) time out at once. Here `Duration::ZERO` and an
/// `Instant` already reached mean *try once*: Timeout at once with nothing registered — and, as
/// in tornado, an item already there is returned.
#[tokio::test(start_paused = true)]
async fn tornado_get_zero_timeout() {
    let q = Queue::unbounded();
    let start = Instant::now();
    assert_eq!(
        q.get().deadline(Duration::ZERO).await,
        Err(GetError::Timeout)
    );
    let already = Instant::now().into_std();
    assert_eq!(q.get().deadline(already).await, Err(GetError::Timeout));
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(q.waiters(), 0);
    q.try_put(1).unwrap();
    assert_eq!(q.get().deadline(Duration::ZERO).await, Ok(1));
}

/// tornado QueueGetTest.test_get_timeout_preempted: a put before the deadline: the timed get
/// succeeds.
#[tokio::test(start_paused = true)]
async fn tornado_get_timeout_preempted() {
    let q = Queue::unbounded();
    let mut get = Polled::new(q.get().deadline(10 * MS));
    assert!(get.is_pending());
    q.try_put(0).unwrap();
    tokio::time::sleep(20 * MS).await;
    assert_eq!(get.ready(), Ok(0));
}

/// tornado QueueGetTest.test_get_clears_timed_out_putters. PINNED (differs): tornado keeps the
/// 9 expired putters in `_putters` until the next get purges them (10 entries after the
/// timeouts); here each timed-out putter leaves at its timeout, so only the live one is left.
/// As in tornado, their items are never enqueued (here they come back in the errors), and after
/// the get one putter (11) is still waiting.
#[tokio::test(start_paused = true)]
async fn tornado_get_clears_timed_out_putters() {
    let q = Arc::new(Queue::bounded(1));
    let putters: Vec<_> = (0..10)
        .map(|i| {
            let q = q.clone();
            tokio::spawn(async move { q.put(i).deadline(10 * MS).await })
        })
        .collect();
    yield_until(|| q.waiters() == 9).await; // the first putter succeeds, the rest block
    let mut put = Polled::new(q.put(10));
    assert!(put.is_pending());
    assert_eq!(q.waiters(), 10);
    tokio::time::sleep(20 * MS).await;
    assert_eq!(q.waiters(), 1, "tornado: still 10 until the next get");
    assert!(put.is_pending(), "the final waiter is still active");
    let mut put11 = Polled::new(q.put(11));
    assert!(put11.is_pending());
    assert_eq!(q.get().await, Ok(0));
    assert_eq!(q.waiters(), 1);
    assert_eq!(put.ready(), Ok(()));
    let results = join_all(putters).await;
    assert_eq!(results[0], Ok(()));
    for (i, r) in results.into_iter().enumerate().skip(1) {
        assert_eq!(r, Err(PutError::Timeout(i as i32)));
    }
    assert_eq!(q.try_get(), Ok(10));
    assert_eq!(put11.ready(), Ok(()));
}

/// tornado QueueGetTest.test_get_clears_timed_out_getters. PINNED (differs): tornado keeps the
/// 10 expired getters (11 entries) until the next get purges them; here they leave at their
/// timeout. After one more get, 2 getters wait (as in tornado).
#[tokio::test(start_paused = true)]
async fn tornado_get_clears_timed_out_getters() {
    let q = Arc::new(Queue::<i32>::unbounded());
    let getters: Vec<_> = (0..10)
        .map(|_| {
            let q = q.clone();
            tokio::spawn(async move { q.get().deadline(10 * MS).await })
        })
        .collect();
    yield_until(|| q.waiters() == 10).await;
    let mut get = Polled::new(q.get());
    assert!(get.is_pending());
    assert_eq!(q.waiters(), 11);
    tokio::time::sleep(20 * MS).await;
    assert_eq!(q.waiters(), 1, "tornado: still 11 until the next get");
    assert!(get.is_pending(), "the final waiter is still active");
    let mut get2 = Polled::new(q.get());
    assert!(get2.is_pending());
    assert_eq!(q.waiters(), 2);
    for r in join_all(getters).await {
        assert_eq!(r, Err(GetError::Timeout));
    }
    q.try_put(5).unwrap();
    assert_eq!(get.ready(), Ok(5));
}

/// tornado QueueGetTest.test_async_for: `async for` yields 0..4 — here the queue's `Stream`.
#[tokio::test(start_paused = true)]
async fn tornado_async_for() {
    let q = Queue::unbounded();
    for i in 0..5 {
        q.try_put(i).unwrap();
    }
    let mut results = Vec::new();
    let mut items = q.stream();
    while let Some(i) = items.next().await {
        results.push(i);
        if i == 4 {
            break;
        }
    }
    assert_eq!(results, [0, 1, 2, 3, 4]);
}

/// tornado QueuePutTest.test_blocking_put, asyncio QueuePutTests.test_blocking_put: no
/// maxsize, a put does not block.
#[tokio::test(start_paused = true)]
async fn blocking_put() {
    let q = Queue::unbounded();
    q.put(0).await.unwrap();
    assert_eq!(q.try_get(), Ok(0));
}

/// tornado QueuePutTest.test_nonblocking_put_exception, asyncio
/// QueuePutTests.test_nonblocking_put_exception: QueueFull → `PutError::Full(item)`.
#[test]
fn nonblocking_put_exception() {
    let q = Queue::bounded(1);
    q.try_put(0).unwrap();
    assert_eq!(q.try_put(1), Err(PutError::Full(1)));
}

/// tornado QueuePutTest.test_put_with_getters: two waiting getters are served in order.
#[test]
fn tornado_put_with_getters() {
    let q = Queue::unbounded();
    let mut get0 = Polled::new(q.get());
    let mut get1 = Polled::new(q.get());
    assert!(get0.is_pending() && get1.is_pending());
    assert_eq!(Polled::new(q.put(0)).ready(), Ok(()));
    assert_eq!(get0.ready(), Ok(0));
    assert_eq!(Polled::new(q.put(1)).ready(), Ok(()));
    assert_eq!(get1.ready(), Ok(1));
}

/// tornado QueuePutTest.test_nonblocking_put_with_getters: `put_nowait` serves the waiting
/// getters in order. (tornado notes the getter is released on a later loop turn; here the item
/// is handed over inside `try_put` and the getter woken there — the results are the same.)
#[test]
fn tornado_nonblocking_put_with_getters() {
    let q = Queue::unbounded();
    let mut get0 = Polled::new(q.get());
    let mut get1 = Polled::new(q.get());
    assert!(get0.is_pending() && get1.is_pending());
    q.try_put(0).unwrap();
    assert_eq!((get0.wakes(), get1.wakes()), (1, 0));
    assert_eq!(get0.ready(), Ok(0));
    q.try_put(1).unwrap();
    assert_eq!(get1.ready(), Ok(1));
}

/// tornado QueuePutTest.test_blocking_put_wait: two puts blocked on a full `Queue(1)` complete
/// as gets happen (at 10 ms and 20 ms).
#[tokio::test(start_paused = true)]
async fn tornado_blocking_put_wait() {
    let q = Arc::new(Queue::bounded(1));
    q.try_put(0).unwrap();
    let getter = tokio::spawn({
        let q = q.clone();
        async move {
            tokio::time::sleep(10 * MS).await;
            q.get().await.unwrap();
            tokio::time::sleep(10 * MS).await;
            q.get().await.unwrap();
        }
    });
    let mut put0 = Polled::new(q.put(0));
    let mut put1 = Polled::new(q.put(1));
    assert!(put0.is_pending() && put1.is_pending());
    tokio::time::sleep(15 * MS).await;
    assert_eq!(put0.ready(), Ok(()));
    assert!(put1.is_pending());
    tokio::time::sleep(10 * MS).await;
    assert_eq!(put1.ready(), Ok(()));
    getter.await.unwrap();
}

/// tornado QueuePutTest.test_put_timeout: a timed-out put's item is never added; the next
/// blocked putter's item follows.
#[tokio::test(start_paused = true)]
async fn tornado_put_timeout() {
    let q = Queue::bounded(1);
    q.try_put(0).unwrap(); // now it's full
    let mut put_timeout = Polled::new(q.put(1).deadline(10 * MS));
    let mut put = Polled::new(q.put(2));
    assert!(put_timeout.is_pending() && put.is_pending());
    tokio::time::sleep(10 * MS).await;
    assert_eq!(put_timeout.ready(), Err(PutError::Timeout(1)));
    assert_eq!(q.try_get(), Ok(0));
    assert_eq!(q.get().await, Ok(2), "1 was never put in the queue");
    assert_eq!(put.ready(), Ok(()));
}

/// tornado QueuePutTest.test_put_timeout_preempted: a get before the deadline lets the timed
/// put succeed.
#[tokio::test(start_paused = true)]
async fn tornado_put_timeout_preempted() {
    let q = Queue::bounded(1);
    q.try_put(0).unwrap();
    let mut put = Polled::new(q.put(1).deadline(10 * MS));
    assert!(put.is_pending());
    assert_eq!(q.try_get(), Ok(0));
    tokio::time::sleep(20 * MS).await;
    assert_eq!(put.ready(), Ok(()));
    assert_eq!(q.try_get(), Ok(1));
}

/// tornado QueuePutTest.test_put_clears_timed_out_putters. PINNED (differs): tornado has 10
/// entries in `_putters` after the timeouts and purges them on the next put (2 left); here the
/// timed-out putters leave at their timeout (1 left), and after the next put 2 wait, as there.
#[tokio::test(start_paused = true)]
async fn tornado_put_clears_timed_out_putters() {
    let q = Arc::new(Queue::bounded(1));
    let putters: Vec<_> = (0..10)
        .map(|i| {
            let q = q.clone();
            tokio::spawn(async move { q.put(i).deadline(10 * MS).await })
        })
        .collect();
    yield_until(|| q.waiters() == 9).await;
    let mut put = Polled::new(q.put(10));
    assert!(put.is_pending());
    assert_eq!(q.waiters(), 10);
    tokio::time::sleep(20 * MS).await;
    assert_eq!(q.waiters(), 1, "tornado: still 10 until the next put");
    assert!(put.is_pending(), "the final waiter is still active");
    let mut put11 = Polled::new(q.put(11));
    assert!(put11.is_pending());
    assert_eq!(q.waiters(), 2);
    let results = join_all(putters).await;
    for (i, r) in results.into_iter().enumerate().skip(1) {
        assert_eq!(r, Err(PutError::Timeout(i as i32)));
    }
    assert_eq!(q.try_get(), Ok(0));
    assert_eq!(put.ready(), Ok(()));
}

/// tornado QueuePutTest.test_put_clears_timed_out_getters. PINNED (differs): tornado has 12
/// getters after the timeouts and purges them on the next put (1 left); here the 10 timed-out
/// getters leave at their timeout (2 left), and after the put 1 waits, as there.
#[tokio::test(start_paused = true)]
async fn tornado_put_clears_timed_out_getters() {
    let q = Arc::new(Queue::unbounded());
    let getters: Vec<_> = (0..10)
        .map(|_| {
            let q = q.clone();
            tokio::spawn(async move { q.get().deadline(10 * MS).await })
        })
        .collect();
    yield_until(|| q.waiters() == 10).await;
    let mut get = Polled::new(q.get());
    let mut get2 = Polled::new(q.get());
    assert!(get.is_pending() && get2.is_pending());
    assert_eq!(q.waiters(), 12);
    tokio::time::sleep(20 * MS).await;
    assert_eq!(q.waiters(), 2, "tornado: still 12 until the next put");
    assert!(get.is_pending(), "the final waiters are still active");
    q.put(0).await.unwrap();
    assert_eq!(q.waiters(), 1);
    assert_eq!(get.ready(), Ok(0));
    for r in join_all(getters).await {
        assert_eq!(r, Err(GetError::Timeout));
    }
    assert!(get2.is_pending());
}

/// tornado PriorityQueueJoinTest.test_order: `PriorityQueue(2)` holding (1,a), (0,b) with
/// blocked puts (3,c), (2,d): gets return (0,b), (1,a), (2,d), (3,c) — each blocked putter's
/// item is inserted before the pop.
#[test]
fn tornado_priority_queue_order() {
    let q = PriorityQueue::bounded(2);
    q.try_put((1, 'a')).unwrap();
    q.try_put((0, 'b')).unwrap();
    let mut put_c = Polled::new(q.put((3, 'c')));
    let mut put_d = Polled::new(q.put((2, 'd')));
    assert!(put_c.is_pending() && put_d.is_pending());
    let got: Vec<_> = (0..4).map(|_| q.try_get().unwrap()).collect();
    assert_eq!(got, [(0, 'b'), (1, 'a'), (2, 'd'), (3, 'c')]);
    assert_eq!(put_c.ready(), Ok(()));
    assert_eq!(put_d.ready(), Ok(()));
}

/// tornado LifoQueueJoinTest.test_order: `LifoQueue(2)` holding 1, 0 with blocked puts 3 then
/// 2: gets return 3, 2, 0, 1 (each blocked putter's item is inserted, then popped first).
#[test]
fn tornado_lifo_queue_order() {
    let q = LifoQueue::bounded(2);
    q.try_put(1).unwrap();
    q.try_put(0).unwrap();
    let mut put3 = Polled::new(q.put(3));
    let mut put2 = Polled::new(q.put(2));
    assert!(put3.is_pending() && put2.is_pending());
    let got: Vec<_> = (0..4).map(|_| q.try_get().unwrap()).collect();
    assert_eq!(got, [3, 2, 0, 1]);
    assert_eq!(put3.ready(), Ok(()));
    assert_eq!(put2.ready(), Ok(()));
}

/// tornado ProducerConsumerTest.test_producer_consumer: `Queue(3)`, a consumer that does
/// `task_done` right after each get, a producer of 10 items; after the producer finishes,
/// `join()`; the history is 0..9.
#[tokio::test(start_paused = true)]
async fn tornado_producer_consumer() {
    let q = Arc::new(Queue::bounded(3));
    let history = Arc::new(StdMutex::new(Vec::new()));
    let consumer = tokio::spawn({
        let (q, history) = (q.clone(), history.clone());
        async move {
            loop {
                let item = q.get().await.unwrap();
                history.lock().unwrap().push(item);
                q.task_done().unwrap();
            }
        }
    });
    for item in 0..10 {
        q.put(item).await.unwrap();
    }
    tokio::time::timeout(Duration::from_secs(60), q.join())
        .await
        .expect("join never completed");
    assert_eq!(*history.lock().unwrap(), (0..10).collect::<Vec<_>>());
    consumer.abort();
}

// =============================================================================================
// asyncio test_queues.py
// =============================================================================================

/// asyncio QueueBasicTests.test_repr, test_str. PINNED (differs): repr/str show
/// '_getters[1]', '_putters[1]' and '_queue=[1]'; our `Debug` shows the counts and `len` (not
/// the items).
#[test]
fn asyncio_repr_and_str_become_debug() {
    let q = Queue::unbounded();
    assert!(format!("{q:?}").starts_with("Queue {"));
    let mut getter = Polled::new(q.get());
    assert!(getter.is_pending());
    assert!(format!("{q:?}").contains("getters: 1"));
    q.try_put(0).unwrap();
    assert_eq!(getter.ready(), Ok(0));

    let q = Queue::bounded(1);
    q.try_put(1).unwrap();
    let mut putter = Polled::new(q.put(2));
    assert!(putter.is_pending());
    assert!(format!("{q:?}").contains("putters: 1"));
    assert_eq!(q.try_get(), Ok(1));
    assert_eq!(putter.ready(), Ok(()));

    let q = Queue::unbounded();
    q.try_put(1).unwrap();
    assert!(format!("{q:?}").contains("len: 1"));
}

/// asyncio QueueBasicTests.test_empty.
#[tokio::test(start_paused = true)]
async fn asyncio_empty() {
    let q = Queue::unbounded();
    assert!(q.is_empty());
    q.put(1).await.unwrap();
    assert!(!q.is_empty());
    assert_eq!(q.get().await, Ok(1));
    assert!(q.is_empty());
}

/// asyncio QueueBasicTests.test_full.
#[tokio::test(start_paused = true)]
async fn asyncio_full() {
    let q = Queue::<i32>::unbounded();
    assert!(!q.is_full());
    let q = Queue::bounded(1);
    q.put(1).await.unwrap();
    assert!(q.is_full());
}

/// asyncio QueueBasicTests.test_maxsize: a putter of 0, 1, 2 on `Queue(2)` blocks after two;
/// a get lets it put the last one.
#[tokio::test(start_paused = true)]
async fn asyncio_maxsize() {
    let q = Arc::new(Queue::bounded(2));
    assert_eq!(q.capacity(), Some(2));
    let have_been_put = Arc::new(StdMutex::new(Vec::new()));
    let t = tokio::spawn({
        let (q, have_been_put) = (q.clone(), have_been_put.clone());
        async move {
            for i in 0..3 {
                q.put(i).await.unwrap();
                have_been_put.lock().unwrap().push(i);
            }
            true
        }
    });
    settle().await;
    assert_eq!(*have_been_put.lock().unwrap(), [0, 1]);
    assert_eq!(q.get().await, Ok(0));
    settle().await;
    assert_eq!(*have_been_put.lock().unwrap(), [0, 1, 2]);
    assert_eq!(q.get().await, Ok(1));
    assert_eq!(q.get().await, Ok(2));
    assert!(t.await.unwrap());
}

/// asyncio QueueGetTests.test_blocking_get_wait: a started getter task is still waiting; a put
/// 10 ms later completes it.
#[tokio::test(start_paused = true)]
async fn asyncio_blocking_get_wait() {
    let q = Arc::new(Queue::unbounded());
    let started = Arc::new(Event::new());
    let finished = Arc::new(AtomicBool::new(false));
    let queue_get = tokio::spawn({
        let (q, started, finished) = (q.clone(), started.clone(), finished.clone());
        async move {
            started.set();
            let res = q.get().await;
            finished.store(true, Ordering::SeqCst);
            res
        }
    });
    started.wait().await;
    assert!(!finished.load(Ordering::SeqCst));
    let start = Instant::now();
    tokio::spawn({
        let q = q.clone();
        async move {
            tokio::time::sleep(10 * MS).await;
            q.try_put(1).unwrap();
        }
    });
    assert_eq!(queue_get.await.unwrap(), Ok(1));
    assert!(finished.load(Ordering::SeqCst));
    assert_elapsed(start, 10 * MS);
}

/// asyncio QueueGetTests.test_get_cancelled_race: t1 and t2 wait; t1 is cancelled; a put goes
/// to t2.
#[test]
fn asyncio_get_cancelled_race() {
    let q = Queue::unbounded();
    let mut t1 = Polled::new(q.get());
    let mut t2 = Polled::new(q.get());
    assert!(t1.is_pending() && t2.is_pending());
    drop(t1);
    assert_eq!(Polled::new(q.put('a')).ready(), Ok(()));
    assert_eq!(t2.ready(), Ok('a'));
}

/// asyncio QueueGetTests.test_get_with_waiting_putters: `Queue(1)` with two putter tasks: gets
/// return 'a' then 'b'.
#[tokio::test(start_paused = true)]
async fn asyncio_get_with_waiting_putters() {
    let q = Arc::new(Queue::bounded(1));
    for item in ['a', 'b'] {
        let q = q.clone();
        tokio::spawn(async move { q.put(item).await.unwrap() });
    }
    assert_eq!(q.get().await, Ok('a'));
    assert_eq!(q.get().await, Ok('b'));
}

/// asyncio QueueGetTests.test_why_are_getters_waiting (python/asyncio#268): a producer and a
/// consumer of 5 items through `Queue(1)` both finish.
#[tokio::test(start_paused = true)]
async fn asyncio_why_are_getters_waiting() {
    let q = Arc::new(Queue::bounded(1));
    let consumer = tokio::spawn({
        let q = q.clone();
        async move {
            for _ in 0..5 {
                q.get().await.unwrap();
            }
        }
    });
    let producer = tokio::spawn({
        let q = q.clone();
        async move {
            for i in 0..5 {
                q.put(i).await.unwrap();
            }
        }
    });
    join_all(vec![producer, consumer]).await;
    assert!(q.is_empty());
    assert_eq!(q.waiters(), 0);
}

/// asyncio QueueGetTests.test_cancelled_getters_not_being_held_in_self_getters:
/// `wait_for(queue.get(), 0.1)` times out and leaves no getter behind.
#[tokio::test(start_paused = true)]
async fn asyncio_cancelled_getters_not_being_held() {
    let q = Queue::<i32>::bounded(5);
    assert_eq!(q.get().deadline(100 * MS).await, Err(GetError::Timeout));
    assert_eq!(q.waiters(), 0);
}

/// asyncio QueuePutTests.test_blocking_put_wait: a task puts 1 then 2 into `Queue(1)`; it is
/// blocked until a get 10 ms later, then finishes.
#[tokio::test(start_paused = true)]
async fn asyncio_blocking_put_wait() {
    let q = Arc::new(Queue::bounded(1));
    let started = Arc::new(Event::new());
    let finished = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let getter = tokio::spawn({
        let q = q.clone();
        async move {
            tokio::time::sleep(10 * MS).await;
            q.try_get()
        }
    });
    let queue_put = tokio::spawn({
        let (q, started, finished) = (q.clone(), started.clone(), finished.clone());
        async move {
            started.set();
            q.put(1).await.unwrap();
            q.put(2).await.unwrap();
            finished.store(true, Ordering::SeqCst);
        }
    });
    started.wait().await;
    assert!(!finished.load(Ordering::SeqCst));
    queue_put.await.unwrap();
    assert!(finished.load(Ordering::SeqCst));
    assert_eq!(getter.await.unwrap(), Ok(1));
    assert_elapsed(start, 10 * MS);
    assert_eq!(q.try_get(), Ok(2));
}

/// asyncio QueuePutTests.test_get_cancel_drop_one_pending_reader (bpo-23812): a reader handed
/// item 1 is cancelled before it takes it: 1 stays in the queue, the next get returns 1, not 2.
#[test]
fn asyncio_get_cancel_drop_one_pending_reader() {
    let q = Queue::unbounded();
    let mut reader = Polled::new(q.get());
    assert!(reader.is_pending());
    q.try_put(1).unwrap();
    q.try_put(2).unwrap();
    drop(reader);
    assert_eq!(Polled::new(q.get()).ready(), Ok(1), "1 was not dropped");
    assert_eq!(q.try_get(), Ok(2));
}

/// asyncio QueuePutTests.test_get_cancel_drop_many_pending_readers: three readers, two items,
/// the first reader cancelled after its hand-off: the other two get {1, 2} (here exactly:
/// reader2 got 2, and the cancelled reader's 1 passed on to reader3).
#[test]
fn asyncio_get_cancel_drop_many_pending_readers() {
    let q = Queue::unbounded();
    let mut r1 = Polled::new(q.get());
    let mut r2 = Polled::new(q.get());
    let mut r3 = Polled::new(q.get());
    assert!(r1.is_pending() && r2.is_pending() && r3.is_pending());
    q.try_put(1).unwrap();
    q.try_put(2).unwrap();
    drop(r1);
    let got3 = r3.ready().unwrap();
    let got2 = r2.ready().unwrap();
    assert_eq!(HashSet::from([got2, got3]), HashSet::from([1, 2]));
    assert_eq!((got2, got3), (2, 1));
    assert!(q.is_empty());
}

/// asyncio QueuePutTests.test_put_cancel_drop: a put blocked on full `Queue(1)`; a get takes 1
/// and lets the put's 2 in; the put is cancelled afterwards: 2 is in the queue exactly once.
#[test]
fn asyncio_put_cancel_drop() {
    let q = Queue::bounded(1);
    q.try_put(1).unwrap();
    let mut writer = Polled::new(q.put(2));
    assert!(writer.is_pending());
    assert_eq!(q.try_get(), Ok(1));
    drop(writer);
    assert_eq!(q.try_get(), Ok(2));
    assert_eq!(q.len(), 0);
}

/// asyncio QueuePutTests.test_put_cancelled (despite the name): a put task completes once its
/// item is taken.
#[tokio::test(start_paused = true)]
async fn asyncio_put_cancelled() {
    let q = Arc::new(Queue::unbounded());
    let t = tokio::spawn({
        let q = q.clone();
        async move { q.put(1).await.is_ok() }
    });
    assert_eq!(q.get().await, Ok(1));
    assert!(t.await.unwrap());
}

/// asyncio QueuePutTests.test_put_cancelled_race: `Queue(1)`: put 'a' completes, put 'b' and
/// put 'X' block; 'X' is cancelled; gets return 'a' then 'b' ('X' never enters).
#[test]
fn asyncio_put_cancelled_race() {
    let q = Queue::bounded(1);
    let mut put_a = Polled::new(q.put('a'));
    let mut put_b = Polled::new(q.put('b'));
    let mut put_c = Polled::new(q.put('X'));
    assert_eq!(put_a.ready(), Ok(()));
    assert!(put_b.is_pending() && put_c.is_pending());
    drop(put_c);
    assert_eq!(q.try_get(), Ok('a'));
    assert_eq!(q.try_get(), Ok('b'));
    assert_eq!(put_b.ready(), Ok(()));
    assert_eq!(q.try_get(), Err(GetError::Empty));
}

/// asyncio QueuePutTests.test_put_with_waiting_getters.
#[test]
fn asyncio_put_with_waiting_getters() {
    let q = Queue::unbounded();
    let mut t = Polled::new(q.get());
    assert!(t.is_pending());
    assert_eq!(Polled::new(q.put('a')).ready(), Ok(()));
    assert_eq!(t.ready(), Ok('a'));
}

/// asyncio QueuePutTests.test_why_are_putters_waiting (python/asyncio#265): four putters on
/// `Queue(2)` and a getter that takes what is there after one turn: everyone finishes.
#[tokio::test(start_paused = true)]
async fn asyncio_why_are_putters_waiting() {
    let q = Arc::new(Queue::bounded(2));
    let mut tasks = vec![tokio::spawn({
        let q = q.clone();
        async move {
            tokio::task::yield_now().await;
            let num = q.len();
            for _ in 0..num {
                q.try_get().unwrap();
            }
        }
    })];
    for item in 0..4 {
        let q = q.clone();
        tasks.push(tokio::spawn(async move { q.put(item).await.unwrap() }));
    }
    join_all(tasks).await;
    assert_eq!(q.len(), 2);
    assert_eq!(q.waiters(), 0);
}

/// asyncio QueuePutTests.test_cancelled_puts_not_being_held_in_self_putters.
#[test]
fn asyncio_cancelled_puts_not_being_held() {
    let q = Queue::bounded(1);
    q.try_put(1).unwrap();
    let mut put_task = Polled::new(q.put(1));
    assert!(put_task.is_pending());
    assert_eq!(q.waiters(), 1);
    drop(put_task);
    assert_eq!(q.waiters(), 0);
}

/// asyncio QueuePutTests.test_cancelled_put_silence_value_error_exception: a blocked put is
/// served by a get (its item entered) and then cancelled: nothing fails, nothing is lost.
#[test]
fn asyncio_cancelled_put_after_being_served() {
    let q = Queue::bounded(1);
    q.try_put(1).unwrap();
    let mut put_task = Polled::new(q.put(2));
    assert!(put_task.is_pending());
    assert_eq!(q.try_get(), Ok(1));
    let dropped = std::panic::catch_unwind(AssertUnwindSafe(|| drop(put_task)));
    assert!(dropped.is_ok());
    assert_eq!(q.len(), 1);
    assert_eq!(q.waiters(), 0);
    assert_eq!(q.try_get(), Ok(2));
}

/// asyncio LifoQueueTests.test_order: 1, 3, 2 come out 2, 3, 1.
#[tokio::test(start_paused = true)]
async fn asyncio_lifo_order() {
    let q = LifoQueue::unbounded();
    for i in [1, 3, 2] {
        q.put(i).await.unwrap();
    }
    let mut items = Vec::new();
    for _ in 0..3 {
        items.push(q.get().await.unwrap());
    }
    assert_eq!(items, [2, 3, 1]);
}

/// asyncio PriorityQueueTests.test_order: 1, 3, 2 come out 1, 2, 3.
#[tokio::test(start_paused = true)]
async fn asyncio_priority_order() {
    let q = PriorityQueue::unbounded();
    for i in [1, 3, 2] {
        q.put(i).await.unwrap();
    }
    let mut items = Vec::new();
    for _ in 0..3 {
        items.push(q.get().await.unwrap());
    }
    assert_eq!(items, [1, 2, 3]);
}

// =============================================================================================
// Per queue kind: tornado QueueJoinTest (×3), asyncio _QueueJoinTestMixin and
// _QueueShutdownTestMixin (×3). Every queue joins here (toro's Lifo/Priority did not).
// =============================================================================================

macro_rules! per_kind {
    ($module:ident, $Q:ident) => {
        mod $module {
            use super::*;

            /// tornado QueueJoinTest.test_task_done_underflow, asyncio
            /// test_task_done_underflow: ValueError → `Err(TaskDoneError)`.
            #[test]
            fn task_done_underflow() {
                let q = $Q::<i32>::unbounded();
                assert_eq!(q.task_done(), Err(TaskDoneError));
            }

            /// tornado QueueJoinTest.test_task_done, asyncio test_task_done: 100 items, two
            /// workers share them (pausing a pseudo-random 0..9 ms after each, as tornado's
            /// `random() * 0.01`); `join()` completes once all are done.
            #[tokio::test(start_paused = true)]
            async fn task_done_with_two_workers() {
                let q = Arc::new($Q::<u64>::unbounded());
                for i in 0..100 {
                    q.try_put(i).unwrap();
                }
                let accumulator = Arc::new(AtomicU64::new(0));
                let workers: Vec<_> = (0..2u64)
                    .map(|w| {
                        let (q, accumulator) = (q.clone(), accumulator.clone());
                        tokio::spawn(async move {
                            loop {
                                let item = q.get().await.unwrap();
                                accumulator.fetch_add(item, Ordering::SeqCst);
                                q.task_done().unwrap();
                                tokio::time::sleep(MS * ((item * 7 + w * 3) % 10) as u32).await;
                            }
                        })
                    })
                    .collect();
                tokio::time::timeout(Duration::from_secs(60), q.join())
                    .await
                    .expect("join never completed");
                assert_eq!(accumulator.load(Ordering::SeqCst), (0..100).sum::<u64>());
                assert_eq!(q.unfinished_tasks(), 0);
                for w in workers {
                    w.abort();
                }
            }

            /// tornado QueueJoinTest.test_task_done_delay: it is `task_done`, not `get`, that
            /// unblocks `join`, and the join is done right after that call.
            #[test]
            fn task_done_delay() {
                let q = $Q::<i32>::unbounded();
                q.try_put(0).unwrap();
                let mut join = Polled::new(q.join());
                assert!(join.is_pending());
                assert_eq!(Polled::new(q.get()).ready(), Ok(0));
                assert!(join.is_pending(), "a get does not unblock join");
                q.task_done().unwrap();
                assert_eq!(join.wakes(), 1);
                assert!(join.poll().is_ready());
            }

            /// tornado QueueJoinTest.test_join_empty_queue, asyncio test_join_empty_queue: two
            /// joins on an empty queue complete at once.
            #[test]
            fn join_empty_queue() {
                let q = $Q::<i32>::unbounded();
                assert!(Polled::new(q.join()).poll().is_ready());
                assert!(Polled::new(q.join()).poll().is_ready());
            }

            /// tornado QueueJoinTest.test_join_timeout.
            #[tokio::test(start_paused = true)]
            async fn join_timeout() {
                let q = $Q::unbounded();
                q.try_put(0).unwrap();
                let start = Instant::now();
                assert_eq!(q.join().deadline(10 * MS).await, Err(Timeout));
                assert_elapsed(start, 10 * MS);
            }

            /// asyncio _QueueJoinTestMixin.test_format and _QueueShutdownTestMixin.test_format.
            /// PINNED (differs): `_format()` gives 'maxsize=0', 'maxsize=0 tasks=2',
            /// 'maxsize=0 shutdown'; our `Debug` has `capacity: None`, `unfinished_tasks` and
            /// `closed`.
            #[test]
            fn format_becomes_debug() {
                let q = $Q::unbounded();
                let shown = format!("{q:?}");
                assert!(shown.starts_with(concat!(stringify!($Q), " {")), "{shown}");
                for field in ["capacity: None", "unfinished_tasks: 0", "closed: false"] {
                    assert!(shown.contains(field), "{shown}");
                }
                q.try_put(1).unwrap();
                q.try_put(2).unwrap();
                assert!(format!("{q:?}").contains("unfinished_tasks: 2"));
                q.close();
                assert!(format!("{q:?}").contains("closed: true"));
            }

            /// asyncio _QueueShutdownTestMixin.test_shutdown_empty: a waiting get fails with
            /// ShutDown (`GetError::Closed`); join completes; later puts and gets fail.
            #[test]
            fn shutdown_empty() {
                let q = $Q::<&str>::unbounded();
                let mut get_task = Polled::new(q.get());
                assert!(get_task.is_pending());
                q.close();
                assert_eq!(q.len(), 0);
                assert!(Polled::new(q.join()).poll().is_ready());
                assert_eq!(get_task.ready(), Err(GetError::Closed));
                assert_eq!(
                    Polled::new(q.put("data")).ready(),
                    Err(PutError::Closed("data"))
                );
                assert_eq!(q.try_put("data"), Err(PutError::Closed("data")));
                assert_eq!(Polled::new(q.get()).ready(), Err(GetError::Closed));
                assert_eq!(q.try_get(), Err(GetError::Closed));
            }

            /// asyncio _QueueShutdownTestMixin.test_shutdown_nonempty: full `Queue(1)` with a
            /// join and a blocked put; shutdown fails the put (here giving its item back); the
            /// remaining item can still be got; join waits for its `task_done`; then puts and
            /// gets fail and an extra `task_done` fails.
            #[test]
            fn shutdown_nonempty() {
                let q = $Q::bounded(1);
                q.try_put("data").unwrap();
                let mut join_task = Polled::new(q.join());
                let mut put_task = Polled::new(q.put("data2"));
                assert!(join_task.is_pending() && put_task.is_pending());
                q.close();
                assert_eq!(q.len(), 1);
                assert_eq!(put_task.ready(), Err(PutError::Closed("data2")));
                assert_eq!(Polled::new(q.get()).ready(), Ok("data"));
                assert!(join_task.is_pending());
                assert_eq!(
                    Polled::new(q.put("data")).ready(),
                    Err(PutError::Closed("data"))
                );
                assert_eq!(q.try_put("data"), Err(PutError::Closed("data")));
                assert_eq!(Polled::new(q.get()).ready(), Err(GetError::Closed));
                assert_eq!(q.try_get(), Err(GetError::Closed));
                q.task_done().unwrap();
                assert!(join_task.poll().is_ready());
                assert_eq!(q.task_done(), Err(TaskDoneError));
            }

            /// asyncio _QueueShutdownTestMixin.test_shutdown_immediate. PINNED (differs):
            /// `shutdown(immediate=True)` empties the queue and counts the dropped items as
            /// done, releasing `join`. `close()` has no immediate mode: the item stays and join
            /// waits; the immediate shutdown is spelled out by draining with `task_done`.
            #[test]
            fn shutdown_immediate() {
                let q = $Q::unbounded();
                q.try_put("data").unwrap();
                let mut join_task = Polled::new(q.join());
                assert!(join_task.is_pending());
                q.close();
                assert_eq!(q.len(), 1, "asyncio immediate: 0");
                assert!(join_task.is_pending(), "asyncio immediate: join released");
                while q.try_get().is_ok() {
                    q.task_done().unwrap();
                }
                assert_eq!(q.len(), 0);
                assert!(join_task.poll().is_ready());
                assert_eq!(
                    Polled::new(q.put("data")).ready(),
                    Err(PutError::Closed("data"))
                );
                assert_eq!(q.try_put("data"), Err(PutError::Closed("data")));
                assert_eq!(Polled::new(q.get()).ready(), Err(GetError::Closed));
                assert_eq!(q.try_get(), Err(GetError::Closed));
                assert_eq!(q.task_done(), Err(TaskDoneError));
            }

            /// asyncio _QueueShutdownTestMixin.test_shutdown_immediate_with_unfinished. PINNED
            /// (differs): two items, one got (not done); immediate shutdown drops the other and
            /// leaves 1 unfinished. Here `close()` keeps the other; draining it (with its
            /// `task_done`) leaves the same 1 unfinished; join waits for it.
            #[test]
            fn shutdown_immediate_with_unfinished() {
                let q = $Q::unbounded();
                q.try_put("data").unwrap();
                q.try_put("data").unwrap();
                let mut join_task = Polled::new(q.join());
                assert!(join_task.is_pending());
                assert_eq!(Polled::new(q.get()).ready(), Ok("data"));
                q.close();
                assert_eq!(q.len(), 1, "asyncio immediate: 0");
                assert_eq!(q.try_get(), Ok("data"));
                q.task_done().unwrap();
                assert_eq!(q.unfinished_tasks(), 1);
                assert!(join_task.is_pending());
                assert_eq!(
                    Polled::new(q.put("data")).ready(),
                    Err(PutError::Closed("data"))
                );
                assert_eq!(q.try_put("data"), Err(PutError::Closed("data")));
                assert_eq!(Polled::new(q.get()).ready(), Err(GetError::Closed));
                assert_eq!(q.try_get(), Err(GetError::Closed));
                q.task_done().unwrap();
                assert_eq!(q.task_done(), Err(TaskDoneError));
                assert!(join_task.poll().is_ready());
            }
        }
    };
}

per_kind!(per_kind_fifo, Queue);
per_kind!(per_kind_lifo, LifoQueue);
per_kind!(per_kind_priority, PriorityQueue);
