//! Queues as `futures` Streams and Sinks: items flow, streams end when the queue is closed
//! and drained, sinks apply back-pressure through slot reservations, `poll_close` leaves the
//! queue open, and a waiting stream or sink counts in `waiters()` and is cancel safe.

mod common;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use common::Polled;
use common::queue_kit::{Kind, for_each_order, pick, watchdog};
use futures::{Sink, SinkExt, Stream, StreamExt};
use toro_sync::PutError;

/// Polls a stream once with a counting waker.
struct Poller {
    waker: std::task::Waker,
    counter: Arc<common::CountingWaker>,
}

impl Poller {
    fn new() -> Self {
        let (waker, counter) = common::counting_waker();
        Poller { waker, counter }
    }

    fn next<S: Stream + Unpin>(&self, stream: &mut S) -> Poll<Option<S::Item>> {
        Pin::new(stream).poll_next(&mut Context::from_waker(&self.waker))
    }

    fn ready<T, S: Sink<T> + Unpin>(&self, sink: &mut S) -> Poll<Result<(), S::Error>> {
        Pin::new(sink).poll_ready(&mut Context::from_waker(&self.waker))
    }

    fn wakes(&self) -> usize {
        self.counter.count()
    }
}

for_each_order! {
    // ---- Stream -------------------------------------------------------------------------

    /// A stream yields the queue's items in its order and ends once closed and drained.
    #[tokio::test]
    async fn stream_yields_then_ends_when_closed_and_drained() {
        let q: Q<u32> = Q::unbounded();
        for n in [2, 3, 1] {
            q.put(n).await.unwrap();
        }
        q.close();
        let got: Vec<u32> = q.stream().collect().await;
        assert_eq!(got, pick(KIND, [2, 3, 1], [1, 3, 2], [1, 2, 3]));
        assert_eq!(q.waiters(), 0);
        // An ended stream stays ended.
        let mut s = q.stream();
        assert_eq!(s.next().await, None);
        assert_eq!(s.next().await, None);
    }

    /// An open empty queue keeps the stream waiting (it does not end).
    #[test]
    fn stream_waits_while_open() {
        let q: Q<u32> = Q::unbounded();
        let p = Poller::new();
        let mut s = q.stream();
        assert!(p.next(&mut s).is_pending());
        assert_eq!(q.waiters(), 1, "a waiting stream counts in waiters()");
        assert!(p.next(&mut s).is_pending());
        assert_eq!(q.waiters(), 1, "re-polling does not add a waiter");
        q.try_put(4).unwrap();
        assert_eq!(p.wakes(), 1);
        assert_eq!(p.next(&mut s), Poll::Ready(Some(4)));
        assert_eq!(q.waiters(), 0);
        assert!(p.next(&mut s).is_pending());
        q.close();
        assert_eq!(p.wakes(), 2);
        assert_eq!(p.next(&mut s), Poll::Ready(None));
        assert_eq!(q.waiters(), 0);
    }

    /// Two streams share a queue: each item goes to one of them, oldest waiter first.
    #[test]
    fn two_streams_share_a_queue() {
        let q: Q<u32> = Q::unbounded();
        let (p1, p2) = (Poller::new(), Poller::new());
        let mut s1 = q.stream();
        let mut s2 = q.stream();
        assert!(p1.next(&mut s1).is_pending());
        assert!(p2.next(&mut s2).is_pending());
        assert_eq!(q.waiters(), 2);
        q.try_put(10).unwrap();
        assert_eq!((p1.wakes(), p2.wakes()), (1, 0));
        q.try_put(20).unwrap();
        assert_eq!((p1.wakes(), p2.wakes()), (1, 1));
        assert_eq!(p2.next(&mut s2), Poll::Ready(Some(20)));
        assert_eq!(p1.next(&mut s1), Poll::Ready(Some(10)));
        q.try_put(30).unwrap();
        q.close();
        let mut rest = vec![];
        for (p, s) in [(&p1, &mut s1), (&p2, &mut s2)] {
            while let Poll::Ready(Some(n)) = p.next(s) {
                rest.push(n);
            }
        }
        assert_eq!(rest, [30]);
        assert_eq!(p1.next(&mut s1), Poll::Ready(None));
        assert_eq!(p2.next(&mut s2), Poll::Ready(None));
        assert_eq!(q.waiters(), 0);
    }

    /// Dropping a stream whose pending get was handed an item gives the item back.
    #[test]
    fn dropped_stream_gives_item_back() {
        let q: Q<u32> = Q::unbounded();
        let p = Poller::new();
        let mut s1 = q.stream();
        let mut s2 = q.stream();
        assert!(p.next(&mut s1).is_pending());
        q.try_put(1).unwrap(); // to s1
        q.try_put(2).unwrap();
        drop(s1);
        assert_eq!(q.len(), 2);
        assert_eq!(q.waiters(), 0);
        let first = p.next(&mut s2);
        assert_eq!(first, Poll::Ready(Some(1)), "the returned item is taken first");
        // A waiting stream dropped with nothing handed to it just unregisters.
        assert_eq!(p.next(&mut s2), Poll::Ready(Some(2)));
        assert!(p.next(&mut s2).is_pending());
        assert_eq!(q.waiters(), 1);
        drop(s2);
        assert_eq!(q.waiters(), 0);
        assert_eq!(q.unfinished_tasks(), 2);
    }

    /// A dropped `next()` future does not drop the stream's place: the stream keeps its get.
    #[test]
    fn dropped_next_future_keeps_streams_place() {
        let q: Q<u32> = Q::unbounded();
        let mut s = q.stream();
        {
            let mut next = Polled::new(s.next());
            assert!(next.is_pending());
        }
        q.try_put(5).unwrap();
        let mut next = Polled::new(s.next());
        assert_eq!(next.ready(), Some(5));
    }

    /// into_stream on an Arc: a 'static stream in a spawned task.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn into_stream_in_spawned_task() {
        let q: Arc<Q<u32>> = Arc::new(Q::bounded(3));
        let consumer = tokio::spawn(q.clone().into_stream().collect::<Vec<u32>>());
        let producer = tokio::spawn({
            let q = q.clone();
            async move {
                for n in 0..200 {
                    q.put(n).await.unwrap();
                }
                q.close();
            }
        });
        watchdog(producer).await.unwrap();
        let got = watchdog(consumer).await.unwrap();
        if KIND == Kind::Fifo {
            assert_eq!(got, (0..200).collect::<Vec<_>>());
        }
        let mut sorted = got;
        sorted.sort_unstable();
        assert_eq!(sorted, (0..200).collect::<Vec<_>>());
        assert_eq!(q.waiters(), 0);
    }

    // ---- Sink ---------------------------------------------------------------------------

    /// send on a bounded queue waits for room (back-pressure); the wait counts in waiters().
    #[test]
    fn sink_send_back_pressure() {
        let q: Q<u32> = Q::bounded(1);
        let mut sink = q.sink();
        futures::executor::block_on(sink.send(1)).unwrap();
        assert_eq!(q.len(), 1);
        {
            let mut send = Polled::new(sink.send(2));
            assert!(send.is_pending());
            assert_eq!(q.waiters(), 1, "a waiting sink counts in waiters()");
            assert_eq!(q.try_get(), Ok(1));
            assert_eq!(send.wakes(), 1);
            assert_eq!(send.ready(), Ok(()));
        }
        assert_eq!(q.len(), 1);
        assert_eq!(q.waiters(), 0);
        assert_eq!(q.try_get(), Ok(2));
        assert_eq!(q.unfinished_tasks(), 2);
    }

    /// feed + flush, and a sink/stream pipeline through `forward`.
    #[tokio::test]
    async fn sink_feed_flush_and_forward() {
        let q: Q<u32> = Q::unbounded();
        let mut sink = q.sink();
        sink.feed(1).await.unwrap();
        sink.feed(2).await.unwrap();
        sink.flush().await.unwrap();
        assert_eq!(q.len(), 2);
        futures::stream::iter(3..10).map(Ok).forward(q.sink()).await.unwrap();
        assert_eq!(q.len(), 9);
        assert!(!q.is_closed(), "forward closes the sink, not the queue");
        q.close();
        let mut got: Vec<u32> = q.stream().collect().await;
        got.sort_unstable();
        assert_eq!(got, (1..10).collect::<Vec<_>>());
    }

    /// On a closed queue poll_ready succeeds and start_send rejects with Closed(item).
    #[tokio::test]
    async fn sink_on_closed_queue_rejects_item() {
        let q: Q<String> = Q::bounded(1);
        q.close();
        let mut sink = q.sink();
        let p = Poller::new();
        assert!(matches!(p.ready(&mut sink), Poll::Ready(Ok(()))));
        match Pin::new(&mut sink).start_send("x".to_string()) {
            Err(PutError::Closed(item)) => assert_eq!(item, "x"),
            other => panic!("expected Closed, got {other:?}"),
        }
        match sink.send("y".to_string()).await {
            Err(PutError::Closed(item)) => assert_eq!(item, "y"),
            other => panic!("expected Closed, got {other:?}"),
        }
        assert_eq!(q.len(), 0);
        assert_eq!(q.waiters(), 0);
    }

    /// A sink waiting for room when the queue closes fails with Closed(item).
    #[test]
    fn waiting_sink_fails_on_close() {
        let q: Q<u32> = Q::bounded(1);
        q.try_put(0).unwrap();
        let mut sink = q.sink();
        let mut send = Polled::new(sink.send(1));
        assert!(send.is_pending());
        assert_eq!(q.waiters(), 1);
        q.close();
        assert_eq!(send.wakes(), 1);
        assert!(matches!(send.ready(), Err(PutError::Closed(1))));
        assert_eq!(q.waiters(), 0);
        assert_eq!(q.len(), 1);
    }

    /// poll_close does not close the queue.
    #[tokio::test]
    async fn sink_close_leaves_queue_open() {
        let q: Q<u32> = Q::unbounded();
        let mut sink = q.sink();
        sink.send(1).await.unwrap();
        sink.close().await.unwrap();
        assert!(!q.is_closed());
        q.try_put(2).unwrap();
        assert_eq!(q.len(), 2);
    }

    /// A sink holding a reserved slot gives it up when dropped.
    #[test]
    fn dropped_sink_releases_reserved_slot() {
        let q: Q<u32> = Q::bounded(1);
        let p = Poller::new();
        let mut sink = q.sink();
        assert!(matches!(p.ready(&mut sink), Poll::Ready(Ok(()))));
        assert!(q.is_full(), "poll_ready reserved the slot");
        assert!(q.is_empty());
        let mut putter = Polled::new(q.put(9));
        assert!(putter.is_pending());
        drop(sink);
        assert_eq!(putter.ready(), Ok(()));
        assert_eq!(q.try_get(), Ok(9));
        assert!(!q.is_full());
        assert_eq!(q.waiters(), 0);
    }

    /// A sink waiting for a slot keeps its place when its send future is dropped, and gives
    /// the place (or a slot granted meanwhile) up when the sink is dropped.
    #[test]
    fn waiting_sink_is_cancel_safe() {
        let q: Q<u32> = Q::bounded(1);
        q.try_put(0).unwrap();
        let mut sink = q.sink();
        {
            let mut send = Polled::new(sink.send(1));
            assert!(send.is_pending());
        }
        assert_eq!(q.waiters(), 1, "the sink still waits for its slot");
        let mut putter = Polled::new(q.put(2));
        assert!(putter.is_pending());
        // The get grants the sink's reservation (it queued first), not the putter.
        assert_eq!(q.try_get(), Ok(0));
        assert!(putter.is_pending());
        assert!(q.is_full());
        assert!(q.is_empty());
        drop(sink);
        assert_eq!(putter.ready(), Ok(()));
        assert_eq!(q.try_get(), Ok(2));
        assert_eq!(q.waiters(), 0);
        assert!(!q.is_full());
    }

    /// start_send without poll_ready puts only if there is room now.
    #[test]
    fn start_send_without_poll_ready() {
        let q: Q<u32> = Q::bounded(1);
        let mut sink = q.sink();
        Pin::new(&mut sink).start_send(1).unwrap();
        assert!(matches!(Pin::new(&mut sink).start_send(2), Err(PutError::Full(2))));
        assert_eq!(q.len(), 1);
    }

    /// into_sink on an Arc: a 'static sink in a spawned task, with back-pressure.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn into_sink_in_spawned_task() {
        let q: Arc<Q<u32>> = Arc::new(Q::bounded(2));
        let producer = tokio::spawn({
            let mut sink = q.clone().into_sink();
            let q = q.clone();
            async move {
                let mut items = futures::stream::iter(0..300).map(Ok);
                sink.send_all(&mut items).await.unwrap();
                q.close();
            }
        });
        let mut s = q.clone().into_stream();
        let mut got = watchdog(async {
            let mut got = Vec::new();
            while let Some(n) = s.next().await {
                assert!(q.len() <= 2);
                got.push(n);
            }
            got
        })
        .await;
        watchdog(producer).await.unwrap();
        if KIND == Kind::Fifo {
            assert_eq!(got, (0..300).collect::<Vec<_>>());
        }
        got.sort_unstable();
        assert_eq!(got, (0..300).collect::<Vec<_>>());
        assert_eq!(q.waiters(), 0);
    }

    #[test]
    fn streams_and_sinks_are_send() {
        fn assert_send<T: Send>(_: &T) {}
        fn assert_static<T: 'static>(_: &T) {}
        let q: Arc<Q<u32>> = Arc::new(Q::unbounded());
        assert_send(&q.stream());
        assert_send(&q.sink());
        let owned_stream = q.clone().into_stream();
        let owned_sink = q.clone().into_sink();
        assert_send(&owned_stream);
        assert_static(&owned_stream);
        assert_static(&owned_sink);
        assert!(format!("{owned_sink:?}").contains("slot_reserved: false"));
    }
}
