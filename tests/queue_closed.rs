//! `closed()` (waiting for `close`), `capacity()` against `remaining()`, and `bounded(0)`.
//!
//! Every test in the `for_each_order!` block runs over `Queue`, `LifoQueue` and
//! `PriorityQueue`; deadlines run on tokio's paused clock (no sleeping).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::queue_kit::{Kind, for_each_order};
use common::{Polled, WakeLog};
use toro_sync::future::{QueueClosed, QueueGetMany, QueuePutMany};
use toro_sync::{PutError, Queue, Timeout};

for_each_order! {
    /// At once on a closed queue, without registering.
    #[tokio::test]
    async fn closed_is_ready_at_once_when_closed() {
        let q: Q<u32> = Q::unbounded();
        q.close();
        q.closed().await;
        assert_eq!(q.closed().deadline(Duration::ZERO).await, Ok(()));
        assert!(Polled::new(q.closed()).poll().is_ready());
        assert_eq!(q.waiters(), 0);
    }

    /// Waits, counted in `waiters()`, until `close`, which wakes every waiter oldest first.
    #[tokio::test]
    async fn closed_waits_for_close_and_wakes_all() {
        let q: Q<u32> = Q::bounded(1);
        let log = WakeLog::default();
        let mut c1 = Polled::with_waker(q.closed(), log.waker(1));
        let mut c2 = Polled::with_waker(q.closed(), log.waker(2));
        let mut c3 = Polled::with_waker(q.closed(), log.waker(3));
        assert!(c1.is_pending() && c2.is_pending() && c3.is_pending());
        assert!(c1.is_pending(), "polled again: still one registration");
        assert_eq!(q.waiters(), 3);
        drop(c2);
        assert_eq!(q.waiters(), 2);
        q.close();
        assert_eq!(log.take(), [1, 3]);
        assert_eq!(q.waiters(), 0);
        assert!(c1.poll().is_ready() && c3.poll().is_ready());
        q.close();
        assert!(log.take().is_empty(), "closing twice wakes nobody");
    }

    /// Nothing but `close` completes it: puts, gets, `task_done`, draining, a full queue.
    #[tokio::test]
    async fn only_close_completes_closed() {
        let q: Q<u32> = Q::bounded(1);
        let mut c = Polled::new(q.closed());
        assert!(c.is_pending());
        q.put(1).await.unwrap();
        let mut p = Polled::new(q.put(2));
        assert!(p.is_pending());
        let first = q.get().await.unwrap();
        assert_eq!(p.ready(), Ok(()));
        let second = q.get().await.unwrap();
        assert_eq!(first + second, 3);
        q.task_done().unwrap();
        q.task_done().unwrap();
        q.join().await;
        assert_eq!(c.wakes(), 0);
        assert!(c.is_pending());
        q.close();
        assert_eq!(c.wakes(), 1);
        assert!(c.poll().is_ready());
    }

    /// A deadline: `Err(Timeout)` and withdrawn; `close` before it wins.
    #[tokio::test(start_paused = true)]
    async fn closed_deadline() {
        let q: Q<u32> = Q::unbounded();
        assert_eq!(q.closed().deadline(Duration::from_secs(1)).await, Err(Timeout));
        assert_eq!(q.waiters(), 0);
        let mut c = Polled::new(q.closed().deadline(Duration::from_secs(1)));
        assert!(c.is_pending());
        tokio::time::advance(Duration::from_millis(500)).await;
        q.close();
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(c.ready(), Ok(()));
        assert_eq!(q.waiters(), 0);
    }

    /// The producer pattern: `select!` between `closed()` and a `reserve()` (both cancel safe,
    /// so the loser loses nothing); every item made is got exactly once.
    #[tokio::test(start_paused = true)]
    async fn producer_stops_when_consumer_closes() {
        let q: Arc<Q<u32>> = Arc::new(Q::bounded(2));
        let producer = tokio::spawn({
            let q = q.clone();
            async move {
                let mut n = 0;
                loop {
                    tokio::select! {
                        biased;
                        () = q.closed() => return n,
                        permit = q.reserve() => match permit {
                            Ok(permit) => match permit.put(n) {
                                Ok(()) => n += 1,
                                Err(PutError::Closed(item)) => {
                                    assert_eq!(item, n);
                                    return n;
                                }
                                Err(other) => panic!("{other:?}"),
                            },
                            Err(PutError::Closed(())) => return n,
                            Err(other) => panic!("{other:?}"),
                        },
                    }
                }
            }
        });
        let mut got = Vec::new();
        while got.len() < 5 {
            q.get_many(&mut got, 5).await.unwrap();
        }
        q.close();
        let made = producer.await.unwrap();
        while q.get_many(&mut got, 5).await.is_ok() {}
        got.sort();
        assert_eq!(got, (0..made).collect::<Vec<_>>(), "every item made was got once");
        assert_eq!(q.waiters(), 0);
    }

    /// `capacity()` is the bound and never moves; `remaining()` the free slots now, counting
    /// reservations (tokio's `max_capacity()` and `capacity()`).
    #[tokio::test]
    async fn capacity_is_the_bound_remaining_the_free_slots() {
        let q: Q<u32> = Q::bounded(3);
        assert_eq!((q.capacity(), q.remaining()), (Some(3), Some(3)));
        q.put(1).await.unwrap();
        assert_eq!((q.capacity(), q.remaining()), (Some(3), Some(2)));
        let permit = q.reserve().await.unwrap();
        assert_eq!((q.capacity(), q.remaining()), (Some(3), Some(1)));
        drop(permit);
        assert_eq!(q.remaining(), Some(2));
        q.try_put_many([2, 3]).unwrap();
        assert_eq!((q.capacity(), q.remaining()), (Some(3), Some(0)));
        assert!(q.is_full());
        q.try_get().unwrap();
        assert_eq!(q.remaining(), Some(1));
        let u: Q<u32> = Q::unbounded();
        u.try_put_many(0..100).unwrap();
        assert_eq!((u.capacity(), u.remaining()), (None, None));
    }

    /// An item given back by a dropped getter may hold the queue above its bound for a
    /// moment: `remaining()` is then 0, never an underflow.
    #[test]
    fn remaining_is_zero_above_capacity() {
        let q: Q<u32> = Q::bounded(1);
        let mut g = Polled::new(q.get());
        assert!(g.is_pending());
        q.try_put(1).unwrap(); // handed to g
        assert_eq!(q.remaining(), Some(1));
        q.try_put(2).unwrap();
        drop(g);
        assert_eq!(q.len(), 2);
        assert_eq!(q.remaining(), Some(0));
    }
}

/// `.block()` on a plain thread, woken by `close` on another.
#[test]
fn closed_blocks_a_thread_until_close() {
    let q = Arc::new(Queue::<u8>::unbounded());
    let waiter = std::thread::spawn({
        let q = q.clone();
        move || {
            q.closed().block();
            q.is_closed()
        }
    });
    while q.waiters() == 0 {
        std::thread::yield_now();
    }
    q.close();
    assert!(waiter.join().unwrap());
    assert_eq!(
        Queue::<u8>::unbounded()
            .closed()
            .deadline(Duration::from_millis(1))
            .block(),
        Err(Timeout)
    );
}

/// `bounded(0)` panics with a message naming the fix, at the caller's line (`#[track_caller]`).
#[test]
fn bounded_zero_panics_at_the_callers_line() {
    let seen = Arc::new(std::sync::Mutex::new(None));
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new({
        let seen = seen.clone();
        move |info| {
            let message = info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()));
            let location = info.location().map(|l| (l.file().to_string(), l.line()));
            *seen.lock().unwrap() = Some((message, location));
        }
    }));
    let line = line!() + 1;
    let result = std::panic::catch_unwind(|| Queue::<u8>::bounded(0));
    std::panic::set_hook(previous);
    assert!(result.is_err());
    let (message, location) = seen.lock().unwrap().take().expect("a panic");
    let message = message.expect("a message");
    assert!(message.contains("maxsize >= 1"), "{message}");
    assert!(message.contains("unbounded()"), "{message}");
    assert_eq!(location, Some((file!().to_string(), line)));
}

/// The new futures are `Send` (and `QueueClosed` `Sync`) when the items are `Send`.
#[test]
fn new_futures_are_send() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync>() {}
    send::<QueueGetMany<'static, 'static, u8>>();
    send::<QueuePutMany<'static, u8>>();
    send_sync::<QueueClosed<'static, u8>>();
    send_sync::<QueuePutMany<'static, u8>>();
    send_sync::<toro_sync::PutManyError<u8>>();
}
