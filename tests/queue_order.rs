//! Queue order: FIFO, LIFO (newest first), priority (lowest first, FIFO among equal items), the
//! full-queue-with-blocked-putter rule (tornado's `test_order`), the error surface, capacity
//! edges, and `.block()` from plain threads. Every test runs over `Queue`, `LifoQueue` and
//! `PriorityQueue` where it applies.

mod common;

use std::cmp::Ordering;
use std::time::Duration;

use common::Polled;
use common::queue_kit::{Kind, for_each_order, pick};
use toro_sync::{GetError, PutError};

/// An item whose order looks only at `prio`: two keys with the same `prio` and different `id`s
/// compare equal, so a priority queue must keep them first-in first-out.
#[derive(Clone, Copy, Debug)]
struct Key {
    prio: u32,
    id: u32,
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.prio == other.prio
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        self.prio.cmp(&other.prio)
    }
}

fn k(prio: u32, id: u32) -> Key {
    Key { prio, id }
}

/// Reference model: which of `held` (in arrival order) a get takes.
fn model_take(kind: Kind, held: &mut Vec<Key>) -> Option<Key> {
    if held.is_empty() {
        return None;
    }
    let idx = match kind {
        Kind::Fifo => 0,
        Kind::Lifo => held.len() - 1,
        // Lowest prio; the earliest arrival among equals (`min_by_key` keeps the first).
        Kind::Priority => {
            let (idx, _) = held
                .iter()
                .enumerate()
                .min_by_key(|(_, key)| key.prio)
                .unwrap();
            idx
        }
    };
    Some(held.remove(idx))
}

/// The ids in the order the model drains `items`.
fn model_drain(kind: Kind, items: &[Key]) -> Vec<u32> {
    let mut held = items.to_vec();
    std::iter::from_fn(|| model_take(kind, &mut held))
        .map(|key| key.id)
        .collect()
}

/// A tiny deterministic RNG for the op sequences.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

#[test]
fn model_sanity() {
    let items = [k(2, 0), k(1, 1), k(2, 2), k(0, 3)];
    assert_eq!(model_drain(Kind::Fifo, &items), [0, 1, 2, 3]);
    assert_eq!(model_drain(Kind::Lifo, &items), [3, 2, 1, 0]);
    assert_eq!(model_drain(Kind::Priority, &items), [3, 1, 0, 2]);
}

#[test]
fn error_debug_hides_payload_and_into_inner_returns_it() {
    struct Secret(&'static str);
    let err = PutError::Full(Secret("s3cr3t"));
    assert_eq!(format!("{err:?}"), "Full(..)");
    assert_eq!(err.to_string(), "queue is full");
    assert_eq!(err.into_inner().0, "s3cr3t");
    assert_eq!(
        format!("{:?}", PutError::Timeout(Secret("x"))),
        "Timeout(..)"
    );
    assert_eq!(format!("{:?}", PutError::Closed(Secret("x"))), "Closed(..)");
    assert_eq!(PutError::Closed(5).into_inner(), 5);
    assert_eq!(PutError::Timeout(6).into_inner(), 6);
    assert_ne!(GetError::Empty.to_string(), GetError::Closed.to_string());
    let boxed: Box<dyn std::error::Error> = Box::new(PutError::Full(1u8));
    assert!(!boxed.to_string().is_empty());
}

#[test]
fn joinable_queue_is_a_fifo_queue() {
    let q: toro_sync::JoinableQueue<u8> = toro_sync::Queue::unbounded();
    q.try_put(1).unwrap();
    q.try_put(2).unwrap();
    assert_eq!(q.try_get(), Ok(1));
    assert_eq!(q.try_get(), Ok(2));
}

for_each_order! {
    use std::sync::Arc;

    /// toro's `test_simple_queue`, run twice on one instance.
    #[tokio::test(start_paused = true)]
    async fn simple_queue() {
        let q = Q::bounded(5);
        for _round in 0..2 {
            q.try_put(k(111, 0)).unwrap();
            q.try_put(k(333, 1)).unwrap();
            q.try_put(k(222, 2)).unwrap();
            let got: Vec<u32> = (0..3).map(|_| q.try_get().unwrap().prio).collect();
            assert_eq!(got, pick(KIND, [111, 333, 222], [222, 333, 111], [111, 222, 333]));

            for i in 0..5 {
                assert!(!q.is_full());
                q.put(k(i, i)).await.unwrap();
            }
            assert!(q.is_full());
            assert_eq!(q.len(), 5);
            match q.try_put(k(9, 99)) {
                Err(PutError::Full(item)) => assert_eq!(item.id, 99),
                other => panic!("expected Full, got {other:?}"),
            }
            let start = tokio::time::Instant::now();
            match q.put(k(9, 98)).deadline(Duration::from_millis(10)).await {
                Err(PutError::Timeout(item)) => assert_eq!(item.id, 98),
                other => panic!("expected Timeout, got {other:?}"),
            }
            assert_eq!(start.elapsed(), Duration::from_millis(10));
            assert_eq!(q.len(), 5);
            assert_eq!(q.waiters(), 0);

            for _ in 0..5 {
                q.get().await.unwrap();
            }
            assert!(q.is_empty());
            assert_eq!(q.try_get().map(|key| key.id), Err(GetError::Empty));
            let start = tokio::time::Instant::now();
            assert_eq!(
                q.get().deadline(Duration::from_millis(10)).await.map(|k| k.id),
                Err(GetError::Timeout)
            );
            assert_eq!(start.elapsed(), Duration::from_millis(10));
            assert_eq!(q.waiters(), 0);
        }
    }

    #[test]
    fn order_with_equal_keys() {
        let items = [k(2, 0), k(1, 1), k(2, 2), k(1, 3), k(0, 4), k(1, 5), k(0, 6)];
        let q = Q::unbounded();
        for item in items {
            q.try_put(item).unwrap();
        }
        assert_eq!(q.len(), items.len());
        let got: Vec<u32> = std::iter::from_fn(|| q.try_get().ok()).map(|key| key.id).collect();
        assert_eq!(got, model_drain(KIND, &items));
        assert_eq!(
            got,
            pick(
                KIND,
                vec![0, 1, 2, 3, 4, 5, 6],
                vec![6, 5, 4, 3, 2, 1, 0],
                vec![4, 6, 1, 3, 5, 0, 2],
            )
        );
    }

    /// Interleaved try_put/try_get against the reference model, unbounded and bounded.
    #[test]
    fn interleaved_ops_match_model() {
        for (seed, capacity) in [(1u64, None), (7, Some(3)), (99, Some(1)), (12345, Some(8))] {
            let q = match capacity {
                Some(n) => Q::bounded(n),
                None => Q::unbounded(),
            };
            let mut model: Vec<Key> = Vec::new();
            let mut rng = XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            for id in 0..5000u32 {
                if rng.next() % 10 < 6 {
                    let key = k((rng.next() % 4) as u32, id);
                    let full = capacity.is_some_and(|n| model.len() >= n);
                    assert_eq!(q.is_full(), full);
                    match q.try_put(key) {
                        Ok(()) => {
                            assert!(!full, "put into a full queue");
                            model.push(key);
                        }
                        Err(PutError::Full(back)) => {
                            assert!(full, "Full while the model has room");
                            assert_eq!(back.id, id);
                        }
                        Err(other) => panic!("unexpected {other:?}"),
                    }
                } else {
                    let expected = model_take(KIND, &mut model).map(|key| key.id);
                    assert_eq!(q.try_get().map(|key| key.id).ok(), expected);
                }
                assert_eq!(q.len(), model.len());
            }
        }
    }

    /// tornado's `test_order` (LIFO and priority) and `test_max_size` (FIFO): a get on a full
    /// queue with waiting putters first moves the oldest putter's item in, then takes by the
    /// queue's order.
    #[test]
    fn get_on_full_queue_admits_putter_first() {
        let q = Q::bounded(2);
        q.try_put(k(1, 0)).unwrap(); // a
        q.try_put(k(0, 1)).unwrap(); // b
        assert!(q.is_full());
        let mut p_c = Polled::new(q.put(k(3, 2)));
        let mut p_d = Polled::new(q.put(k(2, 3)));
        assert!(p_c.is_pending());
        assert!(p_d.is_pending());
        assert_eq!(q.waiters(), 2);

        let mut got = vec![q.try_get().unwrap().id];
        // c went in with that get; d still waits.
        assert_eq!(p_c.wakes(), 1);
        assert_eq!(p_c.ready(), Ok(()));
        assert!(p_d.is_pending());
        assert_eq!(q.len(), 2);
        got.push(q.try_get().unwrap().id);
        assert_eq!(p_d.ready(), Ok(()));
        got.push(q.try_get().unwrap().id);
        got.push(q.try_get().unwrap().id);
        assert_eq!(got, pick(KIND, vec![0, 1, 2, 3], vec![2, 3, 1, 0], vec![1, 0, 3, 2]));
        assert!(q.is_empty());
        assert_eq!(q.waiters(), 0);
        assert_eq!(q.unfinished_tasks(), 4);
    }

    /// toro's probe: LifoQueue(2) holding [1, 2] with a blocked put(3): `get_nowait()` returns
    /// 3. Here through an awaited get, for every order.
    #[tokio::test]
    async fn awaited_get_with_blocked_putter() {
        let q = Q::bounded(2);
        q.put(k(1, 1)).await.unwrap();
        q.put(k(2, 2)).await.unwrap();
        let mut putter = Polled::new(q.put(k(0, 3)));
        assert!(putter.is_pending());
        let first = q.get().await.unwrap().id;
        assert_eq!(first, pick(KIND, 1, 3, 3));
        assert_eq!(putter.ready(), Ok(()));
        let rest: Vec<u32> = std::iter::from_fn(|| q.try_get().ok()).map(|key| key.id).collect();
        assert_eq!(rest, pick(KIND, vec![2, 3], vec![2, 1], vec![1, 2]));
    }

    /// Blocked putters are admitted strictly in the order they started waiting.
    #[test]
    fn putters_admitted_fifo() {
        let q = Q::bounded(1);
        q.try_put(k(5, 0)).unwrap();
        let mut putters: Vec<_> = (1..=3).map(|i| Polled::new(q.put(k(5 - i, i)))).collect();
        for p in &mut putters {
            assert!(p.is_pending());
        }
        assert_eq!(q.waiters(), 3);
        let mut got = Vec::new();
        for admitted in 0..3 {
            got.push(q.try_get().unwrap().id);
            for (i, p) in putters.iter_mut().enumerate() {
                assert_eq!(p.wakes(), usize::from(i <= admitted), "putter {i} after get {admitted}");
            }
            assert_eq!(putters[admitted].ready(), Ok(()));
        }
        got.push(q.try_get().unwrap().id);
        // FIFO: the stored item, then each putter's. LIFO: each get takes the putter's item it
        // just moved in. Priority: prio 4, 3, 2 arrive lower than the stored 5.
        assert_eq!(got, pick(KIND, vec![0, 1, 2, 3], vec![1, 2, 3, 0], vec![1, 2, 3, 0]));
        assert_eq!(q.waiters(), 0);
    }

    /// Getters are served in the order they started waiting, whatever the queue order.
    #[test]
    fn getters_served_fifo() {
        let q = Q::unbounded();
        let log = common::WakeLog::default();
        let mut getters: Vec<_> =
            (0..4).map(|i| Polled::with_waker(q.get(), log.waker(i))).collect();
        for g in &mut getters {
            assert!(g.is_pending());
        }
        assert_eq!(q.waiters(), 4);
        // Lower priorities later: a priority queue still hands to the oldest getter.
        for i in 0..4u32 {
            q.try_put(k(10 - i, i)).unwrap();
        }
        assert_eq!(log.take(), [0, 1, 2, 3]);
        assert_eq!(q.waiters(), 0);
        assert!(q.is_empty());
        let got: Vec<u32> = getters.iter_mut().map(|g| g.ready().unwrap().id).collect();
        assert_eq!(got, [0, 1, 2, 3]);
    }

    /// An item handed to a waiting getter is its own: a newcomer's try_get finds nothing.
    #[test]
    fn try_get_does_not_barge_past_granted_getter() {
        let q = Q::unbounded();
        let mut g = Polled::new(q.get());
        assert!(g.is_pending());
        q.try_put(k(1, 7)).unwrap();
        assert_eq!(q.try_get().map(|key| key.id), Err(GetError::Empty));
        assert_eq!(g.ready().unwrap().id, 7);
    }

    #[test]
    fn try_put_full_returns_item() {
        let q = Q::bounded(1);
        assert_eq!(q.capacity(), Some(1));
        q.try_put(k(0, 0)).unwrap();
        assert!(q.is_full());
        match q.try_put(k(1, 42)) {
            Err(PutError::Full(item)) => assert_eq!(item.id, 42),
            other => panic!("expected Full, got {other:?}"),
        }
        assert_eq!(q.len(), 1);
        assert_eq!(q.unfinished_tasks(), 1);
        assert_eq!(q.try_get().unwrap().id, 0);
        assert_eq!(q.try_get().map(|key| key.id), Err(GetError::Empty));
    }

    #[test]
    fn try_put_full_returns_owned_item() {
        let q: Q<String> = Q::bounded(1);
        q.try_put("first".to_string()).unwrap();
        let err = q.try_put("second".to_string()).unwrap_err();
        assert!(matches!(err, PutError::Full(_)));
        assert_eq!(err.into_inner(), "second");
    }

    #[test]
    fn try_get_empty() {
        let q: Q<u32> = Q::unbounded();
        assert_eq!(q.try_get(), Err(GetError::Empty));
        assert!(q.is_empty());
        assert_eq!(q.waiters(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn put_deadline_returns_item() {
        let q: Q<String> = Q::bounded(1);
        q.put("in".to_string()).await.unwrap();
        let err = q.put("late".to_string()).deadline(Duration::from_secs(1)).await.unwrap_err();
        assert!(matches!(err, PutError::Timeout(_)), "{err:?}");
        assert_eq!(err.into_inner(), "late");
        assert_eq!(q.len(), 1);
        assert_eq!(q.unfinished_tasks(), 1);
        assert_eq!(q.waiters(), 0);
        assert_eq!(q.try_get().unwrap(), "in");
        assert_eq!(q.try_get(), Err(GetError::Empty));
    }

    #[tokio::test(start_paused = true)]
    async fn get_deadline_times_out() {
        let q: Q<u32> = Q::unbounded();
        assert_eq!(q.get().deadline(Duration::from_millis(5)).await, Err(GetError::Timeout));
        assert_eq!(q.waiters(), 0);
        // The queue still works afterwards (toro's test_get_timeout).
        q.put(3).await.unwrap();
        assert_eq!(q.get().deadline(Duration::from_millis(5)).await, Ok(3));
        assert_eq!(q.get().deadline(Duration::from_millis(5)).await, Err(GetError::Timeout));
    }

    #[test]
    #[should_panic(expected = "maxsize")]
    fn bounded_zero_panics() {
        let _q: Q<u32> = Q::bounded(0);
    }

    #[test]
    fn unbounded_is_never_full() {
        let q = Q::unbounded();
        assert_eq!(q.capacity(), None);
        for i in 0..20_000u32 {
            assert!(!q.is_full());
            q.try_put(k(i % 13, i)).unwrap();
        }
        assert!(!q.is_full());
        assert_eq!(q.len(), 20_000);
        let default: Q<Key> = Q::default();
        assert_eq!(default.capacity(), None);
    }

    #[test]
    fn huge_capacity() {
        let q = Q::bounded(usize::MAX);
        assert_eq!(q.capacity(), Some(usize::MAX));
        for i in 0..1000u32 {
            q.try_put(k(i, i)).unwrap();
        }
        assert!(!q.is_full());
        assert_eq!(q.len(), 1000);
    }

    #[test]
    fn zero_sized_items() {
        let q: Q<()> = Q::bounded(1000);
        for _ in 0..1000 {
            q.try_put(()).unwrap();
        }
        assert!(q.is_full());
        assert!(matches!(q.try_put(()), Err(PutError::Full(()))));
        for _ in 0..1000 {
            assert_eq!(q.try_get(), Ok(()));
        }
        assert_eq!(q.try_get(), Err(GetError::Empty));
    }

    #[test]
    fn bounded_one_alternates() {
        let q = Q::bounded(1);
        for i in 0..100u32 {
            q.try_put(k(i, i)).unwrap();
            assert!(q.is_full());
            assert!(q.try_put(k(0, 1000)).is_err());
            assert_eq!(q.try_get().unwrap().id, i);
        }
    }

    #[test]
    fn debug_shows_counts() {
        let q = Q::bounded(3);
        q.try_put(k(0, 0)).unwrap();
        let text = format!("{q:?}");
        assert!(text.contains("len: 1"), "{text}");
        assert!(text.contains("capacity: Some(3)"), "{text}");
    }

    #[test]
    fn queues_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>(_: &T) {}
        fn assert_send<T: Send>(_: &T) {}
        let q: Q<Key> = Q::bounded(1);
        assert_send_sync(&q);
        assert_send(&q.put(k(0, 0)));
        assert_send(&q.get());
        assert_send(&q.join());
        assert_send(&q.get().deadline(Duration::from_millis(1)));
    }

    /// `.block()` from plain threads: a producer thread and a consumer thread, no runtime.
    #[test]
    fn block_producer_and_consumer_threads() {
        const N: u32 = 2000;
        let q = Arc::new(Q::bounded(4));
        let producer = std::thread::spawn({
            let q = q.clone();
            move || {
                for i in 0..N {
                    q.put(k(i % 7, i)).deadline(Duration::from_secs(30)).block().unwrap();
                }
                q.close();
            }
        });
        let consumer = std::thread::spawn({
            let q = q.clone();
            move || {
                let mut got = Vec::new();
                loop {
                    match q.get().deadline(Duration::from_secs(30)).block() {
                        Ok(key) => {
                            got.push(key.id);
                            q.task_done().unwrap();
                        }
                        Err(GetError::Closed) => return got,
                        Err(other) => panic!("unexpected {other:?}"),
                    }
                }
            }
        });
        producer.join().unwrap();
        let got = consumer.join().unwrap();
        if KIND == Kind::Fifo {
            assert_eq!(got, (0..N).collect::<Vec<_>>());
        }
        let mut sorted = got;
        sorted.sort_unstable();
        assert_eq!(sorted, (0..N).collect::<Vec<_>>());
        assert_eq!(q.unfinished_tasks(), 0);
        q.join().deadline(Duration::from_secs(30)).block().unwrap();
        assert_eq!(q.waiters(), 0);
    }

    /// `.deadline(d).block()`: a park timeout, giving the same errors as an async deadline.
    #[test]
    fn block_with_deadline() {
        let q: Arc<Q<Key>> = Arc::new(Q::bounded(1));
        assert_eq!(
            q.get().deadline(Duration::from_millis(20)).block().map(|key| key.id),
            Err(GetError::Timeout)
        );
        assert_eq!(q.waiters(), 0);
        q.put(k(0, 0)).deadline(Duration::ZERO).block().unwrap();
        match q.put(k(0, 1)).deadline(Duration::from_millis(20)).block() {
            Err(PutError::Timeout(item)) => assert_eq!(item.id, 1),
            other => panic!("expected Timeout, got {other:?}"),
        }
        assert_eq!(q.waiters(), 0);
        assert_eq!(q.join().deadline(Duration::from_millis(5)).block(), Err(toro_sync::Timeout));
        assert_eq!(q.get().deadline(Duration::ZERO).block().unwrap().id, 0);

        // A long deadline completes as soon as another thread puts.
        let producer = std::thread::spawn({
            let q = q.clone();
            move || {
                for i in 10..20 {
                    q.put(k(i, i)).deadline(Duration::from_secs(60)).block().unwrap();
                }
            }
        });
        let got: Vec<u32> = (0..10)
            .map(|_| q.get().deadline(Duration::from_secs(60)).block().unwrap().id)
            .collect();
        producer.join().unwrap();
        assert_eq!(q.waiters(), 0);
        if KIND == Kind::Fifo {
            assert_eq!(got, (10..20).collect::<Vec<_>>());
        }
        let mut sorted = got;
        sorted.sort_unstable();
        assert_eq!(sorted, (10..20).collect::<Vec<_>>());
    }

    /// A blocked `get().block()` is a waiter like any other and is woken by an async put.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn block_thread_served_by_async_put() {
        let q: Arc<Q<Key>> = Arc::new(Q::unbounded());
        let consumer = std::thread::spawn({
            let q = q.clone();
            move || q.get().deadline(Duration::from_secs(30)).block().map(|key| key.id)
        });
        while q.waiters() == 0 {
            tokio::task::yield_now().await;
        }
        q.put(k(1, 77)).await.unwrap();
        assert_eq!(consumer.join().unwrap(), Ok(77));
        assert_eq!(q.waiters(), 0);
    }
}
