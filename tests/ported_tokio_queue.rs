//! Ported from tokio's own tests: the cases of its channels' `recv_many`, `closed`, `close`
//! and capacity behaviour, adapted to the queue's `get_many`, `closed()`, `close()`,
//! `capacity()` / `remaining()` and `bounded(0)`.
//!
//! Originals (each test below names the one it ports):
//!
//! * tokio `tokio/tests/sync_mpsc.rs`: `async_send_recv_many_with_buffer`,
//!   `send_recv_many_unbounded`, `send_recv_many_bounded_capacity`,
//!   `send_recv_many_unbounded_capacity`,
//!   `recv_many_with_non_empty_buffer_bounded_rx_closed_and_idle`,
//!   `recv_many_with_non_empty_buffer_unbounded_rx_closed_and_idle`,
//!   `recv_close_gets_none_idle`, `recv_close_gets_none_reserved`,
//!   `ready_close_cancel_bounded`, `permit_available_not_acquired_close`,
//!   `dropping_rx_closes_channel`, `dropping_rx_closes_channel_for_try`,
//!   `try_recv_after_receiver_close`, `test_tx_capacity`, `buffer_gteq_one`,
//!   `test_rx_is_closed_when_calling_close_with_sender`,
//!   `test_rx_is_closed_when_there_are_messages_and_close_is_called`,
//!   `test_rx_len_when_close_is_called`.
//! * tokio `tokio/tests/sync_oneshot.rs` (its `Sender::closed`): `close_rx`, `async_rx_closed`,
//!   `explicit_close_poll`, `sender_changes_task`, `drops_tasks`.
//!
//! Idioms translated: a channel is a queue shared by an `Arc`; "all senders dropped" and
//! `rx.close()` both become `close()`; `recv_many` returning 0 on a closed, drained channel
//! becomes `Err(GetError::Closed)`; `recv` returning `None` becomes `Err(GetError::Closed)`;
//! tokio-test's mock task becomes a hand-polled future with a counting waker.
//!
//! PINNED marks a case whose behaviour deliberately differs here, with the reason; the test
//! then checks the documented behaviour of this crate.

mod common;

use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use common::Polled;
use toro_sync::{GetError, PutError, Queue};

// ---- tokio/tests/sync_mpsc.rs: recv_many ----------------------------------------------------

/// sync_mpsc.rs `async_send_recv_many_with_buffer`: `limit == 0` returns at once; a producer
/// task's items arrive through `get_many(limit 3)` calls, in order; then `Closed`.
#[tokio::test]
async fn async_send_recv_many_with_buffer() {
    let q = Arc::new(Queue::bounded(2));
    let mut buffer = Vec::<i32>::with_capacity(3);
    assert_eq!(q.get_many(&mut buffer, 0).await, Ok(0));

    let handle = tokio::spawn({
        let q = q.clone();
        async move {
            for item in [1, 2, 7, 0] {
                q.put(item).await.unwrap();
            }
            q.close(); // tokio: the sender is dropped
        }
    });
    let limit = 3;
    let mut recv_count = 0;
    while recv_count < 4 {
        recv_count += q.get_many(&mut buffer, limit).await.unwrap();
        assert_eq!(buffer.len(), recv_count);
    }
    assert_eq!(buffer, [1, 2, 7, 0]);
    assert_eq!(q.get_many(&mut buffer, limit).await, Err(GetError::Closed));
    handle.await.unwrap();
}

/// sync_mpsc.rs `send_recv_many_unbounded`: `limit == 0` takes nothing even with items
/// waiting; `limit == 1` takes one at a time; a reused buffer keeps its capacity.
#[tokio::test]
async fn send_recv_many_unbounded() {
    let q = Queue::unbounded();
    let mut buffer: Vec<i32> = Vec::new();
    assert_eq!(q.get_many(&mut buffer, 0).await, Ok(0));
    assert_eq!(buffer.len(), 0);
    for item in [7, 13, 100, 1002] {
        q.try_put(item).unwrap();
    }
    assert_eq!(q.get_many(&mut buffer, 0).await, Ok(0));
    assert_eq!(buffer.len(), 0);
    let mut count = 0;
    while count < 4 {
        count += q.get_many(&mut buffer, 1).await.unwrap();
    }
    assert_eq!(count, 4);
    assert_eq!(buffer, [7, 13, 100, 1002]);
    let final_capacity = buffer.capacity();
    assert!(final_capacity > 0);

    buffer.clear();
    for item in [5, 6, 7, 2] {
        q.try_put(item).unwrap();
    }
    // Re-use the existing capacity.
    assert_eq!(q.get_many(&mut buffer, 32).await, Ok(4));
    assert_eq!(final_capacity, buffer.capacity());
    assert_eq!(buffer, [5, 6, 7, 2]);

    q.close();
    assert_eq!(q.get_many(&mut buffer, 4).await, Err(GetError::Closed));
    assert_eq!(q.get().await, Err(GetError::Closed));
}

/// sync_mpsc.rs `send_recv_many_bounded_capacity` and `send_recv_many_unbounded_capacity`
/// (one body, both queues): `limit` items fill a buffer allocated for them without growing
/// it; the next call takes the one left; an item put by a task that then closes is still
/// taken before `Closed`.
async fn recv_many_capacity(q: Arc<Queue<String>>) {
    let mut buffer: Vec<String> = Vec::with_capacity(9);
    let limit = buffer.capacity();
    let mut expected: Vec<String> = (0..limit).map(|x| format!("{x}")).collect();
    for x in expected.clone() {
        q.put(x).await.unwrap();
    }
    q.put("one more".to_string()).await.unwrap();

    assert_eq!(q.get_many(&mut buffer, limit).await, Ok(limit));
    assert_eq!(expected, buffer);
    assert_eq!(limit, buffer.capacity());

    assert_eq!(q.get_many(&mut buffer, limit).await, Ok(1));
    assert!(buffer.capacity() > limit);
    expected.push("one more".to_string());
    assert_eq!(expected, buffer);

    tokio::spawn({
        let q = q.clone();
        async move {
            q.put("final".to_string()).await.unwrap();
            q.close();
        }
    });
    // The queue closes after the put: the item comes first.
    assert_eq!(q.get_many(&mut buffer, limit).await, Ok(1));
    expected.push("final".to_string());
    assert_eq!(expected, buffer);
    assert_eq!(q.get_many(&mut buffer, limit).await, Err(GetError::Closed));
    assert_eq!(expected, buffer);
}

/// sync_mpsc.rs `send_recv_many_bounded_capacity`.
#[tokio::test]
async fn send_recv_many_bounded_capacity() {
    recv_many_capacity(Arc::new(Queue::bounded(100))).await;
}

/// sync_mpsc.rs `send_recv_many_unbounded_capacity`.
#[tokio::test]
async fn send_recv_many_unbounded_capacity() {
    recv_many_capacity(Arc::new(Queue::unbounded())).await;
}

/// sync_mpsc.rs `recv_many_with_non_empty_buffer_bounded_rx_closed_and_idle`: on a closed,
/// empty queue the buffer keeps what it held.
#[tokio::test]
async fn recv_many_with_non_empty_buffer_bounded_rx_closed_and_idle() {
    let q = Queue::<i32>::bounded(1);
    let mut buffer = vec![1];
    q.close();
    assert_eq!(q.get_many(&mut buffer, 1).await, Err(GetError::Closed));
    assert_eq!(buffer, [1]);
}

/// sync_mpsc.rs `recv_many_with_non_empty_buffer_unbounded_rx_closed_and_idle`.
#[tokio::test]
async fn recv_many_with_non_empty_buffer_unbounded_rx_closed_and_idle() {
    let q = Queue::<i32>::unbounded();
    let mut buffer = vec![1];
    q.close();
    assert_eq!(q.get_many(&mut buffer, 1).await, Err(GetError::Closed));
    assert_eq!(buffer, [1]);
}

// ---- tokio/tests/sync_mpsc.rs: close ----------------------------------------------------------

/// sync_mpsc.rs `recv_close_gets_none_idle`: after `close`, a get fails and a put is
/// refused (its item back).
#[tokio::test]
async fn recv_close_gets_none_idle() {
    let q = Queue::<i32>::bounded(10);
    q.close();
    assert_eq!(q.get().await, Err(GetError::Closed));
    assert_eq!(q.put(1).await, Err(PutError::Closed(1)));
    let err = q.put_many([1, 2]).await.unwrap_err();
    assert_eq!((err.put, err.rest), (0, PutError::Closed(vec![1, 2])));
}

/// sync_mpsc.rs `recv_close_gets_none_reserved`: a waiting reservation is woken by `close`
/// and fails. PINNED: tokio lets a permit reserved before `close` still send, and its `recv`
/// waits for it; here a permit's `put` after `close` is refused with the item (documented on
/// `PutPermit::put`), so a get on the closed, empty queue fails at once.
#[tokio::test]
async fn recv_close_gets_none_reserved() {
    let q = Queue::<i32>::bounded(1);
    let permit1 = q.reserve().await.unwrap();
    let mut permit2 = Polled::new(q.reserve());
    assert!(permit2.is_pending());

    q.close();
    assert_eq!(permit2.wakes(), 1);
    assert!(matches!(permit2.ready(), Err(PutError::Closed(()))));

    let mut recv = Polled::new(q.get());
    assert_eq!(
        recv.ready(),
        Err(GetError::Closed),
        "PINNED: no wait for the permit"
    );
    assert_eq!(permit1.put(123), Err(PutError::Closed(123)));
    assert_eq!(q.get().await, Err(GetError::Closed));
}

/// sync_mpsc.rs `ready_close_cancel_bounded`: a permit held across `close`, then dropped.
/// PINNED (as above): the get fails at once instead of waiting for the permit's drop.
#[tokio::test]
async fn ready_close_cancel_bounded() {
    let q = Queue::<()>::bounded(100);
    let permit = q.reserve().await.unwrap();
    q.close();
    let mut recv = Polled::new(q.get());
    assert_eq!(recv.ready(), Err(GetError::Closed));
    drop(permit);
    assert_eq!(q.get().await, Err(GetError::Closed));
    assert_eq!(q.waiters(), 0);
}

/// sync_mpsc.rs `permit_available_not_acquired_close`: a waiting reservation is woken
/// (tokio: by the first permit's drop; here already by `close`, with `Closed`), and the get
/// then sees a closed queue.
#[tokio::test]
async fn permit_available_not_acquired_close() {
    let q = Queue::<()>::bounded(1);
    let permit1 = q.reserve().await.unwrap();
    let mut permit2 = Polled::new(q.reserve());
    assert!(permit2.is_pending());
    q.close();
    drop(permit1);
    assert_eq!(permit2.wakes(), 1);
    drop(permit2);
    assert_eq!(q.get().await, Err(GetError::Closed));
    assert_eq!(q.waiters(), 0);
}

/// sync_mpsc.rs `dropping_rx_closes_channel`: after `close`, reservations fail (one and a
/// batch's worth) and no item is kept alive by the refusals. PINNED: tokio drops the queued
/// message with the receiver; here `close` keeps queued items for the gets to drain, so the
/// message is released when it is got.
#[tokio::test]
async fn dropping_rx_closes_channel() {
    let q = Queue::bounded(100);
    let msg = Arc::new(());
    q.try_put(msg.clone()).unwrap();
    q.close();
    assert!(matches!(q.reserve().await, Err(PutError::Closed(()))));
    let err = q.put_many(vec![msg.clone(); 10]).await.unwrap_err();
    assert_eq!(err.into_rest().len(), 10);
    assert_eq!(
        Arc::strong_count(&msg),
        2,
        "PINNED: the queued one is still there"
    );
    drop(q.get().await.unwrap());
    assert_eq!(Arc::strong_count(&msg), 1);
}

/// sync_mpsc.rs `dropping_rx_closes_channel_for_try`: the try variants refuse with `Closed`
/// and give the item back.
#[test]
fn dropping_rx_closes_channel_for_try() {
    let q = Arc::new(Queue::bounded(100));
    let msg = Arc::new(());
    q.try_put(msg.clone()).unwrap();
    q.close();
    assert!(matches!(q.try_put(msg.clone()), Err(PutError::Closed(_))));
    assert!(matches!(
        q.try_put_many([msg.clone()]).map_err(|e| e.rest),
        Err(PutError::Closed(_))
    ));
    let mut reserve = Polled::new(q.reserve());
    assert!(matches!(reserve.ready(), Err(PutError::Closed(()))));
    let mut owned = Polled::new(q.clone().reserve_owned());
    assert!(matches!(owned.ready(), Err(PutError::Closed(()))));
    assert_eq!(Arc::strong_count(&msg), 2, "only the queued one is kept");
}

/// sync_mpsc.rs `try_recv_after_receiver_close`: `Empty` before `close`, `Closed` after.
#[test]
fn try_recv_after_receiver_close() {
    let q = Queue::<()>::bounded(5);
    let mut buf = Vec::new();
    assert_eq!(q.try_get(), Err(GetError::Empty));
    assert_eq!(q.try_get_many(&mut buf, 5), Err(GetError::Empty));
    q.close();
    assert_eq!(q.try_get(), Err(GetError::Closed));
    assert_eq!(q.try_get_many(&mut buf, 5), Err(GetError::Closed));
}

/// sync_mpsc.rs `test_rx_is_closed_when_calling_close_with_sender` and
/// `test_rx_is_closed_when_there_are_messages_and_close_is_called`: closed once `close` is
/// called, items or not, and `closed()` completes.
#[tokio::test]
async fn test_rx_is_closed_when_close_is_called() {
    let q = Queue::<()>::bounded(10);
    assert!(!q.is_closed());
    q.close();
    assert!(q.is_closed());
    q.closed().await;

    let q = Queue::bounded(10);
    for i in 0..10 {
        q.put(i).await.unwrap();
    }
    q.close();
    assert!(q.is_closed());
    q.closed().await;
}

/// sync_mpsc.rs `test_rx_len_when_close_is_called`: `close` leaves the items in.
#[tokio::test]
async fn test_rx_len_when_close_is_called() {
    let q = Queue::bounded(100);
    q.put(()).await.unwrap();
    q.close();
    assert_eq!(q.len(), 1);
}

/// sync_mpsc.rs `test_tx_capacity`: tokio's `capacity()` (free slots, down by a reservation
/// and by a send) is `remaining()` here; its `max_capacity()` (the bound) is `capacity()`.
#[tokio::test]
async fn test_tx_capacity() {
    let q = Queue::<()>::bounded(10);
    assert_eq!(q.remaining(), Some(10));
    assert_eq!(q.capacity(), Some(10));
    let _permit = q.reserve().await.unwrap();
    assert_eq!(q.remaining(), Some(9));
    assert_eq!(q.capacity(), Some(10));
    q.put(()).await.unwrap();
    assert_eq!(q.remaining(), Some(8));
    assert_eq!(q.capacity(), Some(10));
}

/// sync_mpsc.rs `buffer_gteq_one`: a bound of 0 panics.
#[test]
#[should_panic(expected = "maxsize >= 1")]
fn buffer_gteq_one() {
    let _ = Queue::<i32>::bounded(0);
}

// ---- tokio/tests/sync_oneshot.rs: Sender::closed -----------------------------------------------

/// sync_oneshot.rs `close_rx`: a put on a closed queue fails; `closed()` is pending, woken by
/// `close`, then ready, and a later put still fails.
#[test]
fn close_rx() {
    let q = Queue::<i32>::unbounded();
    q.close();
    assert!(q.try_put(1).is_err());

    let q = Queue::<i32>::unbounded();
    let mut closed = Polled::new(q.closed());
    assert!(closed.is_pending());
    q.close();
    assert_eq!(closed.wakes(), 1);
    assert!(q.is_closed());
    assert!(closed.poll().is_ready());
    assert!(q.try_put(1).is_err());
}

/// sync_oneshot.rs `async_rx_closed`: `closed().await` returns once another task closes.
#[tokio::test]
async fn async_rx_closed() {
    let q = Arc::new(Queue::<()>::unbounded());
    tokio::spawn({
        let q = q.clone();
        async move { q.close() }
    });
    q.closed().await;
}

/// sync_oneshot.rs `explicit_close_poll`: an item put before `close` is still got; without
/// one, `closed()` is woken by `close`, puts fail and the get fails.
#[test]
fn explicit_close_poll() {
    let q = Queue::unbounded();
    q.try_put(1).unwrap();
    q.close();
    assert_eq!(Polled::new(q.get()).ready(), Ok(1));

    let q = Queue::<i32>::unbounded();
    let mut closed = Polled::new(q.closed());
    let mut get = Polled::new(q.get());
    assert!(closed.is_pending());
    assert!(get.is_pending());
    q.close();
    assert_eq!(closed.wakes(), 1);
    assert!(q.is_closed());
    assert!(closed.poll().is_ready());
    assert!(q.try_put(1).is_err());
    assert_eq!(get.ready(), Err(GetError::Closed));
}

/// A waker that counts wakes and whose clones can be counted.
#[derive(Default)]
struct Task {
    wakes: std::sync::atomic::AtomicUsize,
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        self.wakes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Task {
    fn is_woken(&self) -> bool {
        self.wakes.load(std::sync::atomic::Ordering::SeqCst) > 0
    }
}

fn poll<F: std::future::Future + Unpin>(fut: &mut F, task: &Arc<Task>) -> Poll<F::Output> {
    let waker = Waker::from(task.clone());
    std::pin::Pin::new(fut).poll(&mut Context::from_waker(&waker))
}

/// sync_oneshot.rs `sender_changes_task`: the same `closed()` polled by a second task keeps
/// only the second task's waker; `close` wakes that one.
#[test]
fn sender_changes_task() {
    let q = Queue::<i32>::unbounded();
    let (task1, task2) = (Arc::new(Task::default()), Arc::new(Task::default()));
    let mut closed = q.closed();
    assert!(poll(&mut closed, &task1).is_pending());
    assert_eq!(Arc::strong_count(&task1), 2);
    assert_eq!(Arc::strong_count(&task2), 1);
    assert!(poll(&mut closed, &task2).is_pending());
    assert_eq!(Arc::strong_count(&task1), 1);
    assert_eq!(Arc::strong_count(&task2), 2);
    q.close();
    assert!(!task1.is_woken());
    assert!(task2.is_woken());
    assert!(poll(&mut closed, &task2).is_ready());
}

/// sync_oneshot.rs `drops_tasks`: dropping the waiting futures releases their wakers (here a
/// `closed()` and a `get_many`).
#[test]
fn drops_tasks() {
    let q = Queue::<i32>::unbounded();
    let (closed_task, get_task) = (Arc::new(Task::default()), Arc::new(Task::default()));
    let mut buf = Vec::new();
    let mut closed = q.closed();
    let mut get = q.get_many(&mut buf, 4);
    assert!(poll(&mut closed, &closed_task).is_pending());
    assert!(poll(&mut get, &get_task).is_pending());
    assert_eq!(q.waiters(), 2);
    drop(closed);
    drop(get);
    assert_eq!(q.waiters(), 0);
    assert_eq!(Arc::strong_count(&closed_task), 1);
    assert_eq!(Arc::strong_count(&get_task), 1);
}
