//! Hand-off and cancel safety, polled by hand: an item handed to a getter that leaves without
//! it goes to the next getter or back to the front of the queue; a putter admitted by a get
//! stays admitted; a put that times out or is dropped never delivers; every item is dropped
//! exactly once; deadlines (`Duration::ZERO` = try once) on tokio's paused clock; and
//! `waiters() == 0` after everything. Every test runs over `Queue`, `LifoQueue` and
//! `PriorityQueue`.

mod common;

use std::cmp::Ordering;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use common::queue_kit::{Kind, for_each_order, pick};
use common::{Polled, WakeLog};
use tokio::time::advance;
use toro_sync::{GetError, PutError};

/// A queued item that counts its drops; ordered by `prio` only (equal prios are FIFO in a
/// priority queue).
#[derive(Debug)]
struct Item {
    prio: u32,
    id: u32,
    drops: Arc<AtomicUsize>,
}

impl Drop for Item {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        self.prio == other.prio
    }
}

impl Eq for Item {}

impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Item {
    fn cmp(&self, other: &Self) -> Ordering {
        self.prio.cmp(&other.prio)
    }
}

/// Makes items sharing one drop counter.
#[derive(Default)]
struct Factory {
    drops: Arc<AtomicUsize>,
}

impl Factory {
    fn item(&self, prio: u32, id: u32) -> Item {
        Item {
            prio,
            id,
            drops: self.drops.clone(),
        }
    }

    fn drops(&self) -> usize {
        self.drops.load(SeqCst)
    }
}

fn id<E: std::fmt::Debug>(got: Result<Item, E>) -> u32 {
    got.expect("expected an item").id
}

for_each_order! {
    /// Drains the queue with try_get, returning the ids.
    fn drain(q: &Q<Item>) -> Vec<u32> {
        std::iter::from_fn(|| q.try_get().ok()).map(|item| item.id).collect()
    }

    // ---- getters ------------------------------------------------------------------------

    /// G1 and G2 wait; put(x) hands x to G1; G1 is dropped before it is polled: G2 gets x.
    #[test]
    fn handed_item_passes_to_next_getter() {
        let f = Factory::default();
        let q: Q<Item> = Q::unbounded();
        let log = WakeLog::default();
        let mut g1 = Polled::with_waker(q.get(), log.waker(1));
        let mut g2 = Polled::with_waker(q.get(), log.waker(2));
        assert!(g1.is_pending());
        assert!(g2.is_pending());
        assert_eq!(q.waiters(), 2);

        q.try_put(f.item(0, 10)).unwrap();
        assert_eq!(log.take(), [1]);
        assert_eq!(q.waiters(), 1, "a granted getter no longer counts");
        assert!(q.is_empty());
        drop(g1);
        assert_eq!(log.take(), [2]);
        assert_eq!(q.waiters(), 0);
        assert!(q.is_empty());
        assert_eq!(id(g2.ready()), 10);
        assert_eq!(f.drops(), 1);
        assert_eq!(q.unfinished_tasks(), 1, "the hand-off is counted once");
    }

    /// Same on a bounded queue, with a chain of three dropped getters.
    #[test]
    fn handed_item_passes_along_a_chain_of_dropped_getters() {
        let f = Factory::default();
        let q: Q<Item> = Q::bounded(2);
        let mut getters: Vec<_> = (0..4).map(|_| Polled::new(q.get())).collect();
        for g in &mut getters {
            assert!(g.is_pending());
        }
        q.try_put(f.item(0, 1)).unwrap();
        q.try_put(f.item(0, 2)).unwrap();
        assert_eq!(q.waiters(), 2);
        // Drop the two granted ones: their items go to the two still waiting, in order.
        let mut rest = getters.split_off(2);
        drop(getters);
        assert_eq!(q.waiters(), 0);
        assert_eq!(rest[0].wakes(), 1);
        assert_eq!(rest[1].wakes(), 1);
        assert_eq!(id(rest[0].ready()), 1);
        assert_eq!(id(rest[1].ready()), 2);
        assert!(q.is_empty());
        assert_eq!(f.drops(), 2);
    }

    /// With no other getter, an item a dropped getter held goes back where the next get takes
    /// it first, even when more items were put meanwhile (priority: at its original place).
    #[test]
    fn handed_item_returns_to_front_of_queue() {
        let f = Factory::default();
        let q: Q<Item> = Q::unbounded();
        let mut g1 = Polled::new(q.get());
        assert!(g1.is_pending());
        q.try_put(f.item(1, 1)).unwrap(); // handed to g1
        q.try_put(f.item(1, 2)).unwrap();
        q.try_put(f.item(0, 3)).unwrap();
        assert_eq!(q.len(), 2);
        drop(g1);
        assert_eq!(q.len(), 3);
        assert_eq!(q.waiters(), 0);
        assert_eq!(f.drops(), 0, "nothing dropped with the getter");
        // Priority: 3 has the lowest prio; 1 and 2 are equal, and 1 came first.
        assert_eq!(drain(&q), pick(KIND, vec![1, 2, 3], vec![1, 3, 2], vec![3, 1, 2]));
        assert_eq!(f.drops(), 3);
        assert_eq!(q.unfinished_tasks(), 3);
    }

    /// The next *awaited* get (not only try_get) takes the returned item first.
    #[tokio::test]
    async fn returned_item_is_taken_by_next_get() {
        let f = Factory::default();
        let q: Q<Item> = Q::unbounded();
        let mut g1 = Polled::new(q.get());
        assert!(g1.is_pending());
        q.put(f.item(0, 1)).await.unwrap();
        q.put(f.item(0, 2)).await.unwrap();
        drop(g1);
        assert_eq!(id(q.get().await), 1);
        assert_eq!(id(q.get().await), 2);
    }

    /// A restored item may take a bounded queue over capacity for a moment; puts wait until
    /// it is below again.
    #[test]
    fn returned_item_may_overfill_bounded_queue() {
        let f = Factory::default();
        let q: Q<Item> = Q::bounded(1);
        let mut g1 = Polled::new(q.get());
        assert!(g1.is_pending());
        q.try_put(f.item(0, 1)).unwrap(); // handed to g1: the queue is empty
        q.try_put(f.item(0, 2)).unwrap();
        assert!(q.is_full());
        drop(g1);
        assert_eq!(q.len(), 2, "over capacity for a moment");
        assert!(q.is_full());
        let back = q.try_put(f.item(0, 3)).unwrap_err();
        assert!(matches!(back, PutError::Full(_)));
        let mut p3 = Polled::new(q.put(back.into_inner()));
        assert!(p3.is_pending());
        assert_eq!(q.waiters(), 1);

        assert_eq!(id(q.try_get()), 1);
        // Back at capacity, not below: the putter still waits.
        assert_eq!(q.len(), 1);
        assert!(p3.is_pending());
        assert_eq!(p3.wakes(), 0);
        // The next get admits it first (toro's rule), then takes by order.
        let second = id(q.try_get());
        assert_eq!(p3.wakes(), 1);
        assert_eq!(p3.ready(), Ok(()));
        let third = id(q.try_get());
        assert_eq!([second, third], pick(KIND, [2, 3], [3, 2], [2, 3]));
        assert_eq!(q.waiters(), 0);
        assert!(q.is_empty());
        assert_eq!(f.drops(), 3);
    }

    /// A getter whose deadline passes after the hand-off returns the item: the grant wins.
    #[tokio::test(start_paused = true)]
    async fn getter_expiring_after_handoff_keeps_item() {
        let f = Factory::default();
        let q: Q<Item> = Q::unbounded();
        let mut g1 = Polled::new(q.get().deadline(Duration::from_millis(10)));
        let mut g2 = Polled::new(q.get());
        assert!(g1.is_pending());
        assert!(g2.is_pending());
        q.try_put(f.item(0, 5)).unwrap();
        advance(Duration::from_millis(20)).await;
        assert_eq!(id(g1.ready()), 5);
        assert!(g2.is_pending());
        assert_eq!(q.waiters(), 1);
        drop(g2);
        assert_eq!(q.waiters(), 0);
        assert!(q.is_empty());
        assert_eq!(f.drops(), 1);
    }

    /// A getter that times out with nothing handed to it is withdrawn; the next put goes to
    /// the getter behind it.
    #[tokio::test(start_paused = true)]
    async fn timed_out_getter_is_withdrawn() {
        let f = Factory::default();
        let q: Q<Item> = Q::unbounded();
        let mut g1 = Polled::new(q.get().deadline(Duration::from_millis(10)));
        let mut g2 = Polled::new(q.get());
        assert!(g1.is_pending());
        assert!(g2.is_pending());
        advance(Duration::from_millis(9)).await;
        assert!(g1.is_pending());
        advance(Duration::from_millis(1)).await;
        assert_eq!(g1.wakes(), 1, "the timer woke the getter");
        assert_eq!(g1.ready().map(|item| item.id), Err(GetError::Timeout));
        assert_eq!(q.waiters(), 1);
        q.try_put(f.item(0, 6)).unwrap();
        assert_eq!(id(g2.ready()), 6);
        assert_eq!(q.waiters(), 0);
    }

    /// A getter dropped while still waiting leaves nothing behind and takes nothing.
    #[test]
    fn dropped_waiting_getter_takes_nothing() {
        let f = Factory::default();
        let q: Q<Item> = Q::unbounded();
        let mut g1 = Polled::new(q.get());
        assert!(g1.is_pending());
        assert_eq!(q.waiters(), 1);
        drop(g1);
        assert_eq!(q.waiters(), 0);
        q.try_put(f.item(0, 1)).unwrap();
        assert_eq!(q.len(), 1);
        assert_eq!(id(q.try_get()), 1);
    }

    /// A get future never polled registers nothing and takes nothing.
    #[test]
    fn unpolled_get_takes_nothing() {
        let f = Factory::default();
        let q: Q<Item> = Q::unbounded();
        let unpolled = q.get();
        q.try_put(f.item(0, 1)).unwrap();
        assert_eq!(q.waiters(), 0);
        drop(unpolled);
        assert_eq!(q.len(), 1);
    }

    /// Waker replacement: only the latest waker is woken.
    #[test]
    fn getter_waker_replaced() {
        let f = Factory::default();
        let q: Q<Item> = Q::unbounded();
        let log = WakeLog::default();
        let mut g = Polled::with_waker(q.get(), log.waker(1));
        assert!(g.is_pending());
        for _ in 0..100 {
            assert!(g.poll_with(log.waker(2)).is_pending());
        }
        assert_eq!(q.waiters(), 1, "re-polling does not add entries");
        q.try_put(f.item(0, 1)).unwrap();
        assert_eq!(log.take(), [2]);
        assert_eq!(id(g.ready()), 1);
    }

    // ---- putters ------------------------------------------------------------------------

    /// Full bounded(1): a get admits P1's item; dropping P1 afterwards does not remove it.
    #[test]
    fn admitted_putter_dropped_keeps_its_item_in() {
        let f = Factory::default();
        let q: Q<Item> = Q::bounded(1);
        q.try_put(f.item(0, 0)).unwrap();
        let mut p1 = Polled::new(q.put(f.item(1, 1)));
        let mut p2 = Polled::new(q.put(f.item(2, 2)));
        assert!(p1.is_pending());
        assert!(p2.is_pending());
        assert_eq!(q.waiters(), 2);

        // The get moves P1's item in first; LIFO then takes that very item.
        assert_eq!(id(q.try_get()), pick(KIND, 0, 1, 0));
        assert_eq!(p1.wakes(), 1);
        assert_eq!(p2.wakes(), 0);
        assert_eq!(q.waiters(), 1);
        drop(p1);
        assert_eq!(q.len(), 1, "P1's item (FIFO, priority) stays in the queue");
        assert_eq!(f.drops(), 1, "only the item taken was dropped");
        assert!(p2.is_pending());

        assert_eq!(id(q.try_get()), pick(KIND, 1, 2, 1));
        assert_eq!(p2.ready(), Ok(()));
        assert_eq!(id(q.try_get()), pick(KIND, 2, 0, 2));
        assert_eq!(q.waiters(), 0);
        assert_eq!(f.drops(), 3);
        assert_eq!(q.unfinished_tasks(), 3);
    }

    /// A put that times out never delivers later, and returns its item.
    #[tokio::test(start_paused = true)]
    async fn timed_out_putter_never_delivers() {
        let f = Factory::default();
        let q: Q<Item> = Q::bounded(1);
        q.try_put(f.item(0, 0)).unwrap();
        let mut p = Polled::new(q.put(f.item(0, 1)).deadline(Duration::from_millis(10)));
        assert!(p.is_pending());
        assert_eq!(q.waiters(), 1);
        advance(Duration::from_millis(10)).await;
        match p.ready() {
            Err(PutError::Timeout(item)) => assert_eq!(item.id, 1),
            other => panic!("expected Timeout, got {other:?}"),
        }
        assert_eq!(f.drops(), 1, "the returned item was dropped by the test, once");
        assert_eq!(q.waiters(), 0);
        assert_eq!(id(q.try_get()), 0);
        assert_eq!(q.try_get().map(|item| item.id), Err(GetError::Empty));
        assert_eq!(q.unfinished_tasks(), 1);
        assert_eq!(f.drops(), 2);
    }

    /// A put whose deadline passes after a get admitted it succeeds: the grant wins.
    #[tokio::test(start_paused = true)]
    async fn putter_expiring_after_admission_succeeds() {
        let f = Factory::default();
        let q: Q<Item> = Q::bounded(1);
        q.try_put(f.item(0, 0)).unwrap();
        let mut p = Polled::new(q.put(f.item(1, 1)).deadline(Duration::from_millis(10)));
        assert!(p.is_pending());
        assert_eq!(id(q.try_get()), pick(KIND, 0, 1, 0));
        advance(Duration::from_millis(50)).await;
        assert_eq!(p.ready().map_err(|e| e.into_inner().id), Ok(()));
        assert_eq!(q.len(), 1);
        assert_eq!(q.waiters(), 0);
    }

    /// A dropped waiting putter drops its item exactly once, and the item is never delivered.
    #[test]
    fn dropped_putter_drops_item_once() {
        let f = Factory::default();
        let q: Q<Item> = Q::bounded(1);
        q.try_put(f.item(0, 0)).unwrap();
        let mut p = Polled::new(q.put(f.item(0, 1)));
        assert!(p.is_pending());
        assert_eq!(f.drops(), 0);
        drop(p);
        assert_eq!(f.drops(), 1);
        assert_eq!(q.waiters(), 0);
        assert_eq!(id(q.try_get()), 0);
        assert_eq!(q.try_get().map(|item| item.id), Err(GetError::Empty));
        assert_eq!(f.drops(), 2);
    }

    /// An unpolled put future drops its item when dropped, once, and delivers nothing.
    #[test]
    fn unpolled_put_drops_item_once() {
        let f = Factory::default();
        let q: Q<Item> = Q::unbounded();
        drop(q.put(f.item(0, 0)));
        assert_eq!(f.drops(), 1);
        assert!(q.is_empty());
        assert_eq!(q.unfinished_tasks(), 0);
    }

    /// Dropping a queue drops what it holds exactly once; waiting putters were dropped before.
    #[test]
    fn dropping_queue_drops_items_once() {
        let f = Factory::default();
        {
            let q: Q<Item> = Q::bounded(3);
            for i in 0..3 {
                q.try_put(f.item(i, i)).unwrap();
            }
            let mut putters: Vec<_> = (3..6).map(|i| Polled::new(q.put(f.item(i, i)))).collect();
            for p in &mut putters {
                assert!(p.is_pending());
            }
            // Dropping a get frees a slot; P3 is admitted; then everything goes.
            let mut g = Polled::new(q.get());
            let first = g.ready();
            assert!(first.is_ok());
            drop(first);
            assert_eq!(f.drops(), 1);
            drop(putters);
            assert_eq!(f.drops(), 3, "two waiting putters dropped their items");
            assert_eq!(q.len(), 3);
        }
        assert_eq!(f.drops(), 6);
    }

    /// Waker replacement for a putter.
    #[test]
    fn putter_waker_replaced() {
        let f = Factory::default();
        let q: Q<Item> = Q::bounded(1);
        q.try_put(f.item(0, 0)).unwrap();
        let log = WakeLog::default();
        let mut p = Polled::with_waker(q.put(f.item(0, 1)), log.waker(1));
        assert!(p.is_pending());
        assert!(p.poll_with(log.waker(2)).is_pending());
        assert_eq!(q.waiters(), 1);
        q.try_get().unwrap();
        assert_eq!(log.take(), [2]);
        assert_eq!(p.ready(), Ok(()));
    }

    // ---- deadlines ------------------------------------------------------------------------

    /// `Duration::ZERO` is try once: success when possible, else the timeout at once, with
    /// nothing registered.
    #[tokio::test(start_paused = true)]
    async fn zero_deadline_is_try_once() {
        let f = Factory::default();
        let q: Q<Item> = Q::bounded(1);
        let start = tokio::time::Instant::now();

        let (first, _) = common::poll_once(q.get().deadline(Duration::ZERO));
        assert!(matches!(first, std::task::Poll::Ready(Err(GetError::Timeout))));
        assert_eq!(q.waiters(), 0);

        let (first, _) = common::poll_once(q.put(f.item(0, 1)).deadline(Duration::ZERO));
        assert!(matches!(first, std::task::Poll::Ready(Ok(()))));
        assert_eq!(q.len(), 1);

        let (first, _) = common::poll_once(q.put(f.item(0, 2)).deadline(Duration::ZERO));
        match first {
            std::task::Poll::Ready(Err(PutError::Timeout(item))) => assert_eq!(item.id, 2),
            other => panic!("expected an immediate Timeout, got {other:?}"),
        }
        assert_eq!(q.waiters(), 0);
        assert_eq!(q.len(), 1);

        let (first, _) = common::poll_once(q.join().deadline(Duration::ZERO));
        assert_eq!(first, std::task::Poll::Ready(Err(toro_sync::Timeout)));
        assert_eq!(q.waiters(), 0);

        let (first, _) = common::poll_once(q.reserve().deadline(Duration::ZERO));
        assert!(matches!(first, std::task::Poll::Ready(Err(PutError::Timeout(())))));
        assert_eq!(q.waiters(), 0);

        let (first, _) = common::poll_once(q.get().deadline(Duration::ZERO));
        match first {
            std::task::Poll::Ready(Ok(item)) => assert_eq!(item.id, 1),
            other => panic!("expected the item at once, got {other:?}"),
        }
        q.task_done().unwrap();
        let (first, _) = common::poll_once(q.join().deadline(Duration::ZERO));
        assert_eq!(first, std::task::Poll::Ready(Ok(())));

        // A zero-deadline put hands off to a waiting getter.
        let mut g = Polled::new(q.get());
        assert!(g.is_pending());
        let (first, _) = common::poll_once(q.put(f.item(0, 3)).deadline(Duration::ZERO));
        assert!(matches!(first, std::task::Poll::Ready(Ok(()))));
        assert_eq!(id(g.ready()), 3);
        assert_eq!(q.waiters(), 0);
        assert_eq!(f.drops(), 3);
        assert_eq!(tokio::time::Instant::now(), start, "time never moved");
    }

    /// An instant already reached is try once, too.
    #[tokio::test(start_paused = true)]
    async fn reached_instant_is_try_once() {
        let f = Factory::default();
        let q: Q<Item> = Q::bounded(1);
        let now = tokio::time::Instant::now();
        let (first, _) = common::poll_once(q.get().deadline(now));
        assert!(matches!(first, std::task::Poll::Ready(Err(GetError::Timeout))));
        q.try_put(f.item(0, 1)).unwrap();
        let (first, _) = common::poll_once(q.put(f.item(0, 2)).deadline(now));
        assert!(matches!(first, std::task::Poll::Ready(Err(PutError::Timeout(_)))));
        let (first, _) = common::poll_once(q.get().deadline(now));
        assert!(matches!(first, std::task::Poll::Ready(Ok(_))));
        assert_eq!(q.waiters(), 0);
    }

    /// A zero deadline never barges past a waiting getter or putter.
    #[test]
    fn zero_deadline_does_not_barge() {
        let f = Factory::default();
        let q: Q<Item> = Q::bounded(1);
        q.try_put(f.item(0, 0)).unwrap();
        let mut p1 = Polled::new(q.put(f.item(0, 1)));
        assert!(p1.is_pending());
        // Room appears only through a get, which admits P1 first.
        assert_eq!(id(q.try_get()), pick(KIND, 0, 1, 0));
        assert_eq!(p1.ready(), Ok(()));
        let late = q.put(f.item(0, 2)).deadline(Duration::ZERO).block();
        assert!(matches!(late, Err(PutError::Timeout(_))));
        assert_eq!(q.len(), 1);
    }

    /// Timed waits measured on the paused clock: they fire exactly at their deadline.
    #[tokio::test(start_paused = true)]
    async fn timed_waits_fire_at_deadline() {
        let f = Factory::default();
        let q: Q<Item> = Q::bounded(1);
        let start = tokio::time::Instant::now();
        assert!(matches!(q.get().deadline(Duration::from_millis(250)).await, Err(GetError::Timeout)));
        assert_eq!(start.elapsed(), Duration::from_millis(250));
        q.try_put(f.item(0, 0)).unwrap();
        let start = tokio::time::Instant::now();
        let at = start + Duration::from_secs(3);
        assert!(matches!(q.put(f.item(0, 1)).deadline(at).await, Err(PutError::Timeout(_))));
        assert_eq!(start.elapsed(), Duration::from_secs(3));
        assert_eq!(q.waiters(), 0);
    }

    /// Many timed-out waits leave nothing registered.
    #[tokio::test(start_paused = true)]
    async fn many_timeouts_leave_no_waiters() {
        let f = Factory::default();
        let q: Q<Item> = Q::bounded(1);
        for i in 0..500 {
            let d = Duration::from_micros(i % 3 * 700);
            assert!(matches!(q.get().deadline(d).await, Err(GetError::Timeout)));
        }
        q.try_put(f.item(0, 0)).unwrap();
        for i in 0..500 {
            let d = Duration::from_micros(i % 3 * 700);
            assert!(matches!(q.put(f.item(0, 1)).deadline(d).await, Err(PutError::Timeout(_))));
            assert!(q.join().deadline(d).await.is_err());
        }
        assert_eq!(q.waiters(), 0);
        assert_eq!(f.drops(), 500);
        assert_eq!(q.len(), 1);
    }

    /// A mixed hand-polled scenario: every item is accounted for, and dropped exactly once.
    #[tokio::test(start_paused = true)]
    async fn mixed_scenario_conserves_items() {
        let f = Factory::default();
        let q: Q<Item> = Q::bounded(2);
        let mut g_timed = Polled::new(q.get().deadline(Duration::from_millis(5)));
        let mut g_drop = Polled::new(q.get());
        let mut g_keep = Polled::new(q.get());
        assert!(g_timed.is_pending() && g_drop.is_pending() && g_keep.is_pending());
        assert_eq!(q.waiters(), 3);
        advance(Duration::from_millis(5)).await;
        assert!(matches!(g_timed.ready(), Err(GetError::Timeout)));
        q.try_put(f.item(3, 1)).unwrap(); // to g_drop
        q.try_put(f.item(2, 2)).unwrap(); // to g_keep
        q.try_put(f.item(1, 3)).unwrap(); // stored
        q.try_put(f.item(0, 4)).unwrap(); // stored: full
        let mut p = Polled::new(q.put(f.item(0, 5)).deadline(Duration::from_millis(5)));
        assert!(p.is_pending());
        drop(g_drop); // item 1 back: over capacity
        assert_eq!(q.len(), 3);
        assert_eq!(id(g_keep.ready()), 2);
        advance(Duration::from_millis(5)).await;
        let back = match p.ready() {
            Err(PutError::Timeout(item)) => item,
            other => panic!("expected Timeout, got {other:?}"),
        };
        assert_eq!(back.id, 5);
        drop(back);
        let rest = drain(&q);
        assert_eq!(rest, pick(KIND, vec![1, 3, 4], vec![1, 4, 3], vec![4, 3, 1]));
        assert_eq!(q.waiters(), 0);
        assert_eq!(f.drops(), 5);
        assert_eq!(q.unfinished_tasks(), 4);
    }
}
